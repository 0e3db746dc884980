"""Diameter codec benchmark: our table-driven codec against python-diameter (PyPI).

Decodes a realistic CCR-U with Multiple-Services-Credit-Control and builds + encodes the
CCA that answers it, with each library, and prints microseconds per operation (median of
repeated runs) and the ratio. Run: .venv/bin/python bench/diameter_codec.py [--runs 9]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from ipaddress import ip_address
from typing import Any

from diameter.message import Message as PdMessage
from diameter.message.commands.credit_control import (
    CreditControlAnswer,
    FinalUnitIndication,
    GrantedServiceUnit,
    MultipleServicesCreditControl,
)

from ocs.diameter import dictionary as d
from ocs.diameter.codec import decode, encode, request_flags
from ocs.diameter.constants import CommandCode, ResultCode
from ocs.diameter.message import Avp, Message, Origin, make_answer

A = Avp.of
ORIGIN = Origin("ocs.bench.local", "bench.local", 1)
TARGET_RUN_S = 0.25


def ccr_update() -> bytes:
    """A CCR-U as a PGW sends it: usage of rating group 10 and a new request for it."""
    used = [
        A(d.CC_TIME, 120),
        A(d.CC_TOTAL_OCTETS, 5_368_709_120),
        A(d.CC_INPUT_OCTETS, 1_073_741_824),
        A(d.CC_OUTPUT_OCTETS, 4_294_967_296),
        A(d.TGPP_REPORTING_REASON, 3),
    ]
    ps_information = [
        A(d.TGPP_CHARGING_ID, b"\x12\x34\xab\xcd"),
        A(d.PDP_ADDRESS, ip_address("10.45.0.7")),
        A(d.SGSN_ADDRESS, ip_address("192.0.2.5")),
        A(d.GGSN_ADDRESS, ip_address("192.0.2.1")),
        A(d.CALLED_STATION_ID, "internet"),
        A(d.TGPP_RAT_TYPE, b"\x06"),
    ]
    avps = [
        A(d.SESSION_ID, "pgw1.bench.local;1700000000;42"),
        A(d.ORIGIN_HOST, "pgw1.bench.local"),
        A(d.ORIGIN_REALM, "bench.local"),
        A(d.DESTINATION_REALM, "bench.local"),
        A(d.AUTH_APPLICATION_ID, 4),
        A(d.SERVICE_CONTEXT_ID, "32251@3gpp.org"),
        A(d.CC_REQUEST_TYPE, 2),
        A(d.CC_REQUEST_NUMBER, 3),
        A(d.EVENT_TIMESTAMP, datetime(2026, 3, 1, 12, 30, 15, tzinfo=UTC)),
        A(
            d.SUBSCRIPTION_ID,
            [A(d.SUBSCRIPTION_ID_TYPE, 0), A(d.SUBSCRIPTION_ID_DATA, "4915100001")],
        ),
        A(
            d.SUBSCRIPTION_ID,
            [A(d.SUBSCRIPTION_ID_TYPE, 1), A(d.SUBSCRIPTION_ID_DATA, "26201123456")],
        ),
        A(d.MULTIPLE_SERVICES_INDICATOR, 1),
        A(
            d.MULTIPLE_SERVICES_CREDIT_CONTROL,
            [
                A(d.REQUESTED_SERVICE_UNIT, []),
                A(d.USED_SERVICE_UNIT, used),
                A(d.RATING_GROUP, 10),
                A(d.SERVICE_IDENTIFIER, 1001),
            ],
        ),
        A(d.SERVICE_INFORMATION, [A(d.PS_INFORMATION, ps_information)]),
    ]
    command = d.COMMANDS[CommandCode.CREDIT_CONTROL]
    return encode(Message(command.code, 4, request_flags(command), 7, 1007, avps))


def our_cca(request: Message) -> bytes:
    answer = make_answer(request, ORIGIN, ResultCode.SUCCESS)
    for mscc in request.find_all(d.MULTIPLE_SERVICES_CREDIT_CONTROL):
        granted = [A(d.CC_TOTAL_OCTETS, 10_485_760), A(d.CC_TIME, 3600)]
        answer.avps.append(
            A(
                d.MULTIPLE_SERVICES_CREDIT_CONTROL,
                [
                    A(d.GRANTED_SERVICE_UNIT, granted),
                    A(d.RATING_GROUP, mscc.int_value(d.RATING_GROUP) or 0),
                    A(d.VALIDITY_TIME, 1800),
                    A(d.RESULT_CODE, ResultCode.SUCCESS),
                    A(d.VOLUME_QUOTA_THRESHOLD, 1_048_576),
                    A(d.TIME_QUOTA_THRESHOLD, 60),
                    A(d.QUOTA_HOLDING_TIME, 300),
                    A(d.FINAL_UNIT_INDICATION, [A(d.FINAL_UNIT_ACTION, 0)]),
                ],
            )
        )
    return encode(answer)


def their_cca(request: Any) -> bytes:
    answer: CreditControlAnswer = request.to_answer()
    answer.session_id = request.session_id
    answer.origin_host = ORIGIN.host.encode()
    answer.origin_realm = ORIGIN.realm.encode()
    answer.auth_application_id = 4
    answer.cc_request_type = request.cc_request_type
    answer.cc_request_number = request.cc_request_number
    answer.result_code = ResultCode.SUCCESS
    answer.multiple_services_credit_control = [
        MultipleServicesCreditControl(
            granted_service_unit=GrantedServiceUnit(cc_total_octets=10_485_760, cc_time=3600),
            rating_group=mscc.rating_group,
            validity_time=1800,
            result_code=ResultCode.SUCCESS,
            volume_quota_threshold=1_048_576,
            time_quota_threshold=60,
            quota_holding_time=300,
            final_unit_indication=FinalUnitIndication(final_unit_action=0),
        )
        for mscc in request.multiple_services_credit_control
    ]
    raw: bytes = answer.as_bytes()
    return raw


def _loops_for(operation: Callable[[], object]) -> int:
    """How many calls last about TARGET_RUN_S."""
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < TARGET_RUN_S / 10:
        operation()
        calls += 1
    return max(1, round(calls * TARGET_RUN_S / elapsed))


def _mean_us(operation: Callable[[], object], loops: int) -> float:
    start_ns = time.perf_counter_ns()
    for _ in range(loops):
        operation()
    return (time.perf_counter_ns() - start_ns) / loops / 1000


def compare_us(
    ours: Callable[[], object], theirs: Callable[[], object], runs: int
) -> tuple[float, float]:
    """Median time per call of each, runs interleaved so that load hits both alike."""
    our_loops, their_loops = _loops_for(ours), _loops_for(theirs)
    samples = [(_mean_us(ours, our_loops), _mean_us(theirs, their_loops)) for _ in range(runs)]
    return (
        statistics.median(s[0] for s in samples),
        statistics.median(s[1] for s in samples),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs

    raw_ccr = ccr_update()
    ours, theirs = decode(raw_ccr), PdMessage.from_bytes(raw_ccr)
    raw_cca = our_cca(ours)
    # Both libraries must agree before their speed means anything.
    assert decode(their_cca(theirs)).int_value(d.CC_REQUEST_NUMBER) == 3
    assert PdMessage.from_bytes(raw_cca).result_code == ResultCode.SUCCESS

    rows = [
        (
            "decode CCR-U",
            lambda: decode(raw_ccr),
            lambda: PdMessage.from_bytes(raw_ccr),
        ),
        (
            "build + encode CCA",
            lambda: our_cca(ours),
            lambda: their_cca(theirs),
        ),
        (
            "CCR decode + CCA build/encode",
            lambda: our_cca(decode(raw_ccr)),
            lambda: their_cca(PdMessage.from_bytes(raw_ccr)),
        ),
    ]
    print(
        f"Diameter codec, Python {platform.python_version()} on {platform.machine()}, "
        f"CCR-U {len(raw_ccr)} bytes, CCA {len(raw_cca)} bytes, median of {runs} runs"
    )
    print(f"{'operation':32} {'ours us':>9} {'python-diameter us':>19} {'ratio':>7}")
    for name, mine, other in rows:
        mine_us, other_us = compare_us(mine, other, runs)
        print(f"{name:32} {mine_us:9.1f} {other_us:19.1f} {other_us / mine_us:6.1f}x")


if __name__ == "__main__":
    main()
