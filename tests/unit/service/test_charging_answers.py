"""Stored answers: a retransmission gets exactly the first decision back."""

import json
from dataclasses import asdict

from hypothesis import given
from hypothesis import strategies as st

from ocs.core.charging import (
    ChargingDecision,
    FinalUnitAction,
    Outcome,
    ServiceDecision,
    UnitAmounts,
)
from ocs.service.charging import decision_from_json, decision_to_json

small = st.none() | st.integers(min_value=0, max_value=2**40)
amounts = st.none() | st.builds(UnitAmounts, small, small, small, small, small, small)
services = st.builds(
    ServiceDecision,
    small,
    small,
    st.sampled_from(Outcome),
    amounts,
    small,
    st.none() | st.sampled_from(FinalUnitAction),
    small,
)
decisions = st.builds(
    ChargingDecision,
    st.sampled_from(Outcome),
    st.tuples(services) | st.tuples(services, services) | st.just(()),
    small,
    small,
    st.none() | st.text(max_size=40),
    st.none() | st.sampled_from(["EUR", "USD"]),
)


@given(decisions)
def test_a_stored_decision_reads_back_equal(decision: ChargingDecision) -> None:
    assert decision_from_json(decision_to_json(decision)) == decision


def test_the_encoding_names_every_field_of_the_decision() -> None:
    decision = ChargingDecision(
        Outcome.SUCCESS,
        (ServiceDecision(1, 2, Outcome.SUCCESS, UnitAmounts(total_octets=5), 600, None, 1),),
    )
    assert json.loads(decision_to_json(decision)) == json.loads(
        json.dumps(asdict(decision), default=str)
    )
