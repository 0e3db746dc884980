"""Every message type our server sends, captured off a real socket, read by two other decoders.

python-diameter (PyPI) and Wireshark's tshark (Debian) must see the same header and AVP
tree as our own decoder, and tshark must flag nothing as malformed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ocs.diameter import dictionary as d
from ocs.diameter.codec import decode, encode
from ocs.diameter.constants import FLAG_ERROR, CommandCode
from ocs.diameter.message import Avp, Message
from ocs.diameter.peer import AllowedPeer
from ocs.diameter.server import DiameterServer
from tests.integration.diameter import tshark
from tests.integration.diameter.support import (
    Client,
    EchoCcaHandler,
    connected,
    run_in_fresh_loop,
    running_server,
)
from tests.unit.diameter.independent import assert_decodes_identically
from tests.unit.diameter.samples import (
    CLIENT_HOST,
    UNKNOWN_3GPP_MANDATORY,
    base_request,
    ccr_update,
    cer,
    raw_avp,
    with_raw_avp,
)

A = Avp.of


def _answer(request: Message) -> Message:
    answer = Message(request.command_code, 0, 0, request.hop_by_hop_id, request.end_to_end_id)
    answer.avps = [A(d.RESULT_CODE, 2001), A(d.ORIGIN_HOST, CLIENT_HOST), A(d.ORIGIN_REALM, "t")]
    return answer


async def _refusals(server: DiameterServer) -> list[bytes]:
    """CEAs for a missing AVP and for no common application (the 3010 one: see below)."""
    frames = []
    missing = cer()
    missing.avps = [a for a in missing.avps if a.code != d.VENDOR_ID.code]
    for request in (missing, cer(applications=(16777238,))):
        async with connected(server, open_=False) as client:
            await client.ask(request)
            frames += client.received
    return frames


async def _ask(client: Client, message: Message | bytes) -> None:
    """Send, and wait for the answer; a watchdog DWR arriving meanwhile gets its DWA."""
    await client.send(message)
    while (received := await client.receive()).is_request:
        await client.send(_answer(received))


async def _open_session(server: DiameterServer, handler: EchoCcaHandler) -> list[bytes]:
    async with connected(server) as client:
        await _ask(client, base_request(CommandCode.DEVICE_WATCHDOG, 2))
        await _ask(client, ccr_update(hop_by_hop=3))
        handler.fail = True
        await _ask(client, ccr_update(hop_by_hop=4))
        handler.fail = False
        unknown = ccr_update(hop_by_hop=5)
        unknown.avps.append(UNKNOWN_3GPP_MANDATORY)
        await _ask(client, unknown)
        await _ask(client, with_raw_avp(ccr_update(hop_by_hop=6), raw_avp(420, b"\x01")))
        await _ask(client, with_raw_avp(ccr_update(hop_by_hop=7), raw_avp(1, b"\xff")))
        missing = ccr_update(hop_by_hop=8)
        missing.avps = [a for a in missing.avps if a.code != d.CC_REQUEST_NUMBER.code]
        await _ask(client, missing)
        await _ask(client, Message(999, 0, 0x80, 9, 9, [A(d.ORIGIN_HOST, "x")]))
        wrong_bits = ccr_update(hop_by_hop=10)
        wrong_bits.flags |= FLAG_ERROR
        await _ask(client, wrong_bits)
        while not (received := await client.receive()).is_request:
            pass  # wait for the watchdog on the now idle connection
        await client.send(_answer(received))
        await _ask(client, base_request(CommandCode.DISCONNECT_PEER, 11, A(d.DISCONNECT_CAUSE, 0)))
        return client.received


async def _busy_and_shutdown(handler: EchoCcaHandler) -> list[bytes]:
    handler.release.clear()
    async with running_server(handler, max_in_flight_requests=1) as server:
        client = await Client.connect(server.port)
        await client.open()
        await client.send(ccr_update(hop_by_hop=20))
        await client.ask(ccr_update(hop_by_hop=21))  # 3004 while 20 is in the handler
        handler.release.set()
        await client.receive()
        stopping = asyncio.create_task(server.stop())
        await client.send(_answer(await client.receive()))  # DPR -> DPA
        await stopping
        await client.close()
        return client.received


async def _unknown_peer() -> list[bytes]:
    async with (
        running_server(allowed_peers=(AllowedPeer("nobody"),)) as server,
        connected(server, open_=False) as client,
    ):
        await client.ask(cer())
        return client.received


async def _bad_length() -> list[bytes]:
    async with running_server() as server, connected(server) as client:
        raw = bytearray(encode(base_request(CommandCode.DEVICE_WATCHDOG, 30)))
        raw[3] += 2
        await client.ask(bytes(raw))
        return client.received


@pytest.fixture(scope="module")
def captured() -> list[bytes]:
    async def session() -> list[bytes]:
        handler = EchoCcaHandler()
        async with running_server(handler, watchdog_interval_s=1.0, dpa_timeout_s=1.0) as server:
            frames = await _refusals(server)
            frames += await _open_session(server, handler)
        frames += await _busy_and_shutdown(EchoCcaHandler())
        frames += await _unknown_peer()
        frames += await _bad_length()
        return frames

    return run_in_fresh_loop(session)


def _kinds(frames: list[bytes]) -> set[tuple[int, bool, int | None]]:
    return {(m.command_code, m.is_request, m.result_code) for m in map(decode, frames)}


def test_the_capture_covers_every_message_type_we_send(captured: list[bytes]) -> None:
    assert _kinds(captured) >= {
        (257, False, 2001),
        (257, False, 3010),
        (257, False, 5010),
        (257, False, 5005),
        (280, False, 2001),
        (280, True, None),
        (282, False, 2001),
        (282, True, None),
        (272, False, 2001),
        (272, False, 3004),
        (272, False, 3008),
        (272, False, 5001),
        (272, False, 5004),
        (272, False, 5005),
        (272, False, 5012),
        (272, False, 5014),
        (999, False, 3001),
        (280, False, 5015),
    }


def test_python_diameter_decodes_every_frame_identically(captured: list[bytes]) -> None:
    for raw in captured:
        assert_decodes_identically(raw, decode(raw))


def test_tshark_decodes_every_frame_identically(captured: list[bytes], tmp_path: Path) -> None:
    protos = tshark.dissect(captured, tmp_path)
    for proto, raw in zip(protos, captured, strict=True):
        tshark.assert_same_message(proto, decode(raw), raw)
