"""The decoder on random and mutated input: it returns a message or raises DecodeError only."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocs.diameter.codec import DecodeError, decode, encode, frame_length
from ocs.diameter.message import Message
from tests.unit.diameter.samples import cca_for, ccr_update, cer

SEEDS = [encode(ccr_update()), encode(cca_for(ccr_update())), encode(cer())]
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode_or_fault(raw: bytes) -> Message | None:
    """Any exception but DecodeError fails the test; a decoded message must be stable."""
    try:
        message = decode(raw)
    except DecodeError as fault:
        result_code = fault.result_code
    else:
        assert decode(encode(message)) == message
        return message
    assert 3000 <= result_code < 6000
    return None


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "byte", "truncate", "insert", "length"]))
        position = draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "byte" and raw:
            raw[position] = draw(st.integers(0, 255))
        elif kind == "truncate":
            del raw[position:]
        elif kind == "insert":
            raw[position:position] = draw(st.binary(min_size=1, max_size=12))
        elif kind == "length" and len(raw) >= 4:
            raw[1:4] = len(raw).to_bytes(3, "big")  # keep the header consistent, go deeper
    return bytes(raw)


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes(raw: bytes) -> None:
    decode_or_fault(raw)


@FUZZ
@given(st.binary(min_size=20, max_size=20).map(lambda h: b"\x01" + h[1:]), st.binary(max_size=200))
def test_random_bodies_behind_a_version_1_header(header: bytes, body: bytes) -> None:
    raw = header[:1] + (20 + len(body)).to_bytes(3, "big") + header[4:] + body
    decode_or_fault(raw)


@FUZZ
@given(mutated())
def test_mutated_messages(raw: bytes) -> None:
    decode_or_fault(raw)


@FUZZ
@given(st.binary(min_size=20, max_size=20))
def test_frame_length_is_bounded_or_refused(header: bytes) -> None:
    try:
        length = frame_length(header, 65536)
    except DecodeError:
        return
    assert 20 <= length <= 65536
    assert length % 4 == 0


def test_seeds_are_valid_messages() -> None:
    assert all(decode_or_fault(seed) is not None for seed in SEEDS)
