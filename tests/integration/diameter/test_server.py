"""The Diameter server over real TCP on 127.0.0.1: peers, watchdog, disconnect, bad input."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable
from ipaddress import ip_address

import pytest

from ocs.diameter import dictionary as d
from ocs.diameter.codec import encode
from ocs.diameter.constants import (
    FLAG_ERROR,
    FLAG_RETRANSMIT,
    VENDOR_3GPP,
    ApplicationId,
    CommandCode,
    DisconnectCause,
    ResultCode,
)
from ocs.diameter.message import Avp, Message
from ocs.diameter.peer import AllowedPeer, PeerState
from ocs.diameter.server import DiameterServer
from tests.integration.diameter.support import (
    Client,
    EchoCcaHandler,
    connected,
    running_server,
)
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


def dwr(hop_by_hop: int = 50) -> Message:
    return base_request(CommandCode.DEVICE_WATCHDOG, hop_by_hop)


async def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def open_hosts(server: DiameterServer) -> list[str | None]:
    return [p.origin_host for p in server.open_peers()]


# ---------------------------------------------------------------- capabilities exchange


async def test_allowed_peer_gets_a_cea_with_our_capabilities() -> None:
    async with running_server() as server, connected(server, open_=False) as client:
        cea = await client.ask(cer(hop_by_hop=321))
        assert cea.result_code == ResultCode.SUCCESS
        assert (cea.command_code, cea.hop_by_hop_id, cea.end_to_end_id) == (257, 321, 321)
        assert not cea.is_request
        assert not cea.is_proxiable
        assert cea.str_value(d.ORIGIN_HOST) == "ocs.test.local"
        assert cea.int_value(d.AUTH_APPLICATION_ID) == ApplicationId.CREDIT_CONTROL
        assert cea.int_value(d.SUPPORTED_VENDOR_ID) == VENDOR_3GPP
        assert cea.int_value(d.ORIGIN_STATE_ID) == 1_700_000_000
        host_ip = cea.find(d.HOST_IP_ADDRESS)
        assert host_ip is not None
        assert host_ip.value == ip_address("127.0.0.1")
        assert open_hosts(server) == [CLIENT_HOST]


@pytest.mark.parametrize(
    ("allowed", "reason"),
    [
        (AllowedPeer("other.test.local"), "Origin-Host is not a configured peer"),
        (AllowedPeer(CLIENT_HOST, "elsewhere.net"), "Origin-Realm is not the configured"),
        (
            AllowedPeer(CLIENT_HOST, ip_addresses=frozenset({ip_address("10.9.9.9")})),
            "source address is not configured",
        ),
    ],
)
async def test_refused_peer_gets_3010_a_log_line_and_a_disconnect(
    allowed: AllowedPeer, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ocs.diameter")
    async with (
        running_server(allowed_peers=(allowed,)) as server,
        connected(server, open_=False) as client,
    ):
        cea = await client.ask(cer())
        assert cea.result_code == ResultCode.UNKNOWN_PEER
        assert cea.is_error
        assert await client.closed_by_server()
        assert open_hosts(server) == []
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1
    assert CLIENT_HOST in refusals[0]
    assert reason in refusals[0]


async def test_peer_from_an_allowed_address_is_accepted() -> None:
    allowed = AllowedPeer(CLIENT_HOST, "TEST.local", frozenset({ip_address("127.0.0.1")}))
    async with running_server(allowed_peers=(allowed,)) as server, connected(server) as client:
        assert (await client.ask(dwr())).result_code == ResultCode.SUCCESS


async def test_no_common_application_gets_5010_and_a_disconnect() -> None:
    async with running_server() as server, connected(server, open_=False) as client:
        cea = await client.ask(cer(applications=(16777238,)))  # Gx only
        assert cea.result_code == ResultCode.NO_COMMON_APPLICATION
        assert await client.closed_by_server()


@pytest.mark.parametrize(
    "offer",
    [
        [A(d.AUTH_APPLICATION_ID, ApplicationId.RELAY)],
        [A(d.VENDOR_SPECIFIC_APPLICATION_ID, [A(d.VENDOR_ID, 10415), A(d.AUTH_APPLICATION_ID, 4)])],
    ],
    ids=["relay", "vendor-specific"],
)
async def test_relay_and_vendor_specific_offers_include_credit_control(offer: list[Avp]) -> None:
    request = cer(applications=())
    request.avps += offer
    async with running_server() as server, connected(server, open_=False) as client:
        assert (await client.ask(request)).result_code == ResultCode.SUCCESS
        assert [p.applications for p in server.open_peers()] == [frozenset({4})]


async def test_cer_missing_a_required_avp_gets_5005_naming_it() -> None:
    request = cer()
    request.avps = [a for a in request.avps if a.code != d.HOST_IP_ADDRESS.code]
    async with running_server() as server, connected(server, open_=False) as client:
        cea = await client.ask(request)
        assert cea.result_code == ResultCode.MISSING_AVP
        failed = cea.find(d.FAILED_AVP)
        assert failed is not None
        assert [a.code for a in failed.children()] == [d.HOST_IP_ADDRESS.code]
        assert cea.find(d.PRODUCT_NAME) is not None  # still a full CEA
        assert await client.closed_by_server()


async def test_a_request_before_cer_ends_the_connection_unanswered() -> None:
    async with running_server() as server, connected(server, open_=False) as client:
        await client.send(dwr())
        assert await client.closed_by_server()
        assert client.received == []


async def test_a_silent_connection_is_closed_after_the_cer_timeout() -> None:
    async with (
        running_server(cer_timeout_s=0.2) as server,
        connected(server, open_=False) as client,
    ):
        assert await client.closed_by_server()


async def test_a_reconnecting_peer_replaces_its_stale_connection() -> None:
    async with (
        running_server() as server,
        connected(server) as first,
        connected(server) as second,
    ):
        assert await first.closed_by_server()
        assert (await second.ask(dwr())).result_code == ResultCode.SUCCESS
        assert len(server.open_peers()) == 1


async def test_connections_beyond_the_limit_are_closed() -> None:
    async with (
        running_server(max_connections=1) as server,
        connected(server) as first,
        connected(server, open_=False) as second,
    ):
        assert await second.closed_by_server()
        assert (await first.ask(dwr())).result_code == ResultCode.SUCCESS


# ---------------------------------------------------------------- watchdog and disconnect


async def test_dwr_gets_a_dwa() -> None:
    async with running_server() as server, connected(server) as client:
        dwa = await client.ask(dwr(hop_by_hop=77))
        assert (dwa.command_code, dwa.hop_by_hop_id, dwa.result_code) == (280, 77, 2001)
        assert dwa.int_value(d.ORIGIN_STATE_ID) == 1_700_000_000
        assert server.open_peers()[0].counters.watchdog_requests_received == 1


async def test_an_idle_peer_gets_a_dwr_and_stays_open_when_it_answers() -> None:
    async with running_server(watchdog_interval_s=1.0) as server, connected(server) as client:
        for _ in range(2):
            request = await client.receive()
            assert request.is_request
            assert request.command_code == CommandCode.DEVICE_WATCHDOG
            assert request.str_value(d.ORIGIN_HOST) == "ocs.test.local"
            answer = Message(280, 0, 0, request.hop_by_hop_id, request.end_to_end_id)
            answer.avps = [
                A(d.RESULT_CODE, 2001),
                A(d.ORIGIN_HOST, CLIENT_HOST),
                A(d.ORIGIN_REALM, "test.local"),
            ]
            await client.send(answer)
        await wait_until(lambda: server.open_peers()[0].counters.watchdog_answers_received == 2)
        assert server.open_peers()[0].state is PeerState.OPEN


async def test_a_peer_that_ignores_the_dwr_is_disconnected() -> None:
    async with running_server(watchdog_interval_s=0.2) as server, connected(server) as client:
        assert (await client.receive()).command_code == CommandCode.DEVICE_WATCHDOG
        assert await client.closed_by_server()
        assert server.open_peers() == []


async def test_dpr_gets_a_dpa_and_the_connection_ends() -> None:
    dpr = base_request(CommandCode.DISCONNECT_PEER, 88, A(d.DISCONNECT_CAUSE, 2))
    async with running_server(dpa_timeout_s=0.3) as server, connected(server) as client:
        dpa = await client.ask(dpr)
        assert (dpa.command_code, dpa.hop_by_hop_id, dpa.result_code) == (282, 88, 2001)
        assert await client.closed_by_server()  # we stayed: the server closes after a while
        assert server.open_peers() == []


async def test_stopping_the_server_sends_dpr_to_open_peers() -> None:
    server_cm = running_server()
    server = await server_cm.__aenter__()
    client = await Client.connect(server.port)
    await client.open()
    stopping = asyncio.create_task(server_cm.__aexit__(None, None, None))
    dpr = await client.receive()
    assert (dpr.command_code, dpr.is_request) == (CommandCode.DISCONNECT_PEER, True)
    assert dpr.int_value(d.DISCONNECT_CAUSE) == DisconnectCause.REBOOTING
    dpa = Message(282, 0, 0, dpr.hop_by_hop_id, dpr.end_to_end_id)
    dpa.avps = [A(d.RESULT_CODE, 2001), A(d.ORIGIN_HOST, CLIENT_HOST), A(d.ORIGIN_REALM, "t")]
    await client.send(dpa)
    await stopping
    assert await client.closed_by_server()
    await client.close()


# ---------------------------------------------------------------- application requests


async def test_ccr_goes_to_the_handler_with_the_t_flag_visible() -> None:
    handler = EchoCcaHandler()
    request = ccr_update(hop_by_hop=900)
    request.flags |= FLAG_RETRANSMIT
    async with running_server(handler) as server, connected(server) as client:
        cca = await client.ask(request)
    assert (cca.hop_by_hop_id, cca.end_to_end_id, cca.result_code) == (900, 1900, 2001)
    assert cca.session_id == request.session_id
    assert cca.int_value(d.CC_REQUEST_NUMBER) == 3
    assert [r.is_retransmit for r in handler.requests] == [True]
    assert handler.requests[0] == request


async def test_a_failing_handler_yields_5012_not_a_dead_connection() -> None:
    handler = EchoCcaHandler()
    handler.fail = True
    async with running_server(handler) as server, connected(server) as client:
        cca = await client.ask(ccr_update())
        assert cca.result_code == ResultCode.UNABLE_TO_COMPLY
        assert cca.int_value(d.CC_REQUEST_TYPE) == 2
        assert (await client.ask(dwr())).result_code == ResultCode.SUCCESS


async def test_requests_beyond_the_in_flight_bound_get_3004() -> None:
    handler = EchoCcaHandler()
    handler.release.clear()
    async with (
        running_server(handler, max_in_flight_requests=2) as server,
        connected(server) as client,
    ):
        for hop in (1, 2, 3):
            await client.send(ccr_update(hop_by_hop=hop))
        busy = await client.receive()
        assert (busy.hop_by_hop_id, busy.result_code) == (3, ResultCode.TOO_BUSY)
        assert busy.flags & FLAG_ERROR
        handler.release.set()
        answers = {(await client.receive()).hop_by_hop_id for _ in range(2)}
        assert answers == {1, 2}
        assert server.open_peers()[0].counters.busy_answers_sent == 1


async def test_many_concurrent_requests_are_all_answered() -> None:
    async with running_server() as server, connected(server) as client:
        for hop in range(1, 41):
            await client.send(ccr_update(hop_by_hop=hop, session_id=f"s;{hop}"))
        answers = [await client.receive() for _ in range(40)]
    assert sorted(a.hop_by_hop_id for a in answers) == list(range(1, 41))
    assert {a.result_code for a in answers} == {2001}
    assert all(a.session_id == f"s;{a.hop_by_hop_id}" for a in answers)


# ---------------------------------------------------------------- malformed input


def ccr_with_unknown_mandatory() -> Message:
    request = ccr_update(hop_by_hop=61)
    request.avps.append(UNKNOWN_3GPP_MANDATORY)
    return request


def ccr_without_request_number() -> Message:
    request = ccr_update(hop_by_hop=62)
    request.avps = [a for a in request.avps if a.code != d.CC_REQUEST_NUMBER.code]
    return request


def ccr_in_the_wrong_application() -> Message:
    request = ccr_update(hop_by_hop=63)
    request.application_id = 0
    return request


async def assert_error_answer(
    client: Client, raw: bytes, code: ResultCode, failed_code: int | None
) -> Message:
    answer = await client.ask(raw)
    assert answer.result_code == code
    assert bool(answer.flags & FLAG_ERROR) == code.is_protocol_error
    failed = answer.find(d.FAILED_AVP)
    if failed_code is None:
        assert failed is None
    else:
        assert failed is not None
        assert [a.code for a in failed.children()] == [failed_code]
    return answer


@pytest.mark.parametrize(
    ("name", "code", "failed_code"),
    [
        ("unknown mandatory AVP", ResultCode.AVP_UNSUPPORTED, 99_999),
        ("missing CC-Request-Number", ResultCode.MISSING_AVP, d.CC_REQUEST_NUMBER.code),
        ("short Unsigned32", ResultCode.INVALID_AVP_LENGTH, d.CC_TIME.code),
        ("invalid UTF-8", ResultCode.INVALID_AVP_VALUE, d.USER_NAME.code),
        ("unknown command", ResultCode.COMMAND_UNSUPPORTED, None),
        ("wrong application", ResultCode.APPLICATION_UNSUPPORTED, None),
        ("error bit in a request", ResultCode.INVALID_HDR_BITS, None),
    ],
)
async def test_malformed_requests_get_the_right_answer_and_the_connection_lives(
    name: str, code: ResultCode, failed_code: int | None
) -> None:
    raw = _malformed(name)
    async with running_server() as server, connected(server) as client:
        answer = await assert_error_answer(client, raw, code, failed_code)
        assert answer.hop_by_hop_id == int.from_bytes(raw[12:16], "big")
        if name != "unknown command":
            assert answer.session_id == "pgw1.test.local;1;42"
        assert (await client.ask(dwr())).result_code == ResultCode.SUCCESS
        assert server.open_peers()[0].counters.malformed_messages_received == 1


def _malformed(name: str) -> bytes:
    request = ccr_update(hop_by_hop=60)
    if name == "unknown mandatory AVP":
        return encode(ccr_with_unknown_mandatory())
    if name == "missing CC-Request-Number":
        return encode(ccr_without_request_number())
    if name == "short Unsigned32":
        return with_raw_avp(request, raw_avp(d.CC_TIME.code, b"\x00\x01"))
    if name == "invalid UTF-8":
        return with_raw_avp(request, raw_avp(d.USER_NAME.code, b"\xc3\x28"))
    if name == "unknown command":
        return encode(Message(999, 0, 0x80, 64, 64, [A(d.ORIGIN_HOST, "x")]))
    if name == "wrong application":
        return encode(ccr_in_the_wrong_application())
    request.flags |= FLAG_ERROR
    return encode(request)


async def test_a_message_length_not_a_multiple_of_4_gets_5015_and_a_disconnect() -> None:
    raw = bytearray(encode(dwr(hop_by_hop=70)))
    raw[1:4] = (len(raw) + 2).to_bytes(3, "big")
    async with running_server() as server, connected(server) as client:
        answer = await client.ask(bytes(raw))
        assert (answer.hop_by_hop_id, answer.result_code) == (70, 5015)
        assert await client.closed_by_server()


async def test_a_message_over_the_size_limit_gets_5015_and_a_disconnect() -> None:
    request = ccr_update(hop_by_hop=71)
    request.avps.append(Avp(99_998, bytes(2000)))
    async with (
        running_server(max_message_bytes=1024) as server,
        connected(server) as client,
    ):
        assert (await client.ask(request)).result_code == ResultCode.INVALID_MESSAGE_LENGTH
        assert await client.closed_by_server()


async def test_garbage_bytes_end_the_connection_and_the_server_carries_on() -> None:
    async with running_server() as server:
        async with connected(server) as client:
            await client.send(b"GET / HTTP/1.1\r\nHost: ocs\r\n\r\n")
            assert await client.closed_by_server()
            assert client.received[1:] == []  # only the CEA: garbage is not answered
        async with connected(server) as fresh:
            assert (await fresh.ask(dwr())).result_code == ResultCode.SUCCESS


async def test_a_peer_closing_mid_message_does_not_hurt_the_server() -> None:
    async with running_server() as server:
        async with connected(server) as client:
            await client.send(encode(ccr_update())[:100])
        await wait_until(lambda: server.open_peers() == [])
        async with connected(server) as fresh:
            assert (await fresh.ask(ccr_update())).result_code == ResultCode.SUCCESS


async def test_a_reset_connection_with_a_request_in_flight_does_not_hurt_the_server() -> None:
    handler = EchoCcaHandler()
    handler.release.clear()
    async with running_server(handler) as server:
        client = await Client.connect(server.port)
        await client.open()
        await client.send(ccr_update())
        await wait_until(lambda: len(handler.requests) == 1)
        sock = client.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        await client.close()  # linger 0: the kernel sends RST
        await wait_until(lambda: server.open_peers() == [])
        handler.release.set()
        async with connected(server) as fresh:
            assert (await fresh.ask(ccr_update())).result_code == ResultCode.SUCCESS


async def test_a_slow_peer_sending_byte_by_byte_is_answered() -> None:
    async with running_server() as server, connected(server) as client:
        for byte in encode(ccr_update(hop_by_hop=5)):
            await client.send(bytes([byte]))
            await asyncio.sleep(0.001)
        cca = await client.receive()
        assert (cca.hop_by_hop_id, cca.result_code) == (5, 2001)
