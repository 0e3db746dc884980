"""Wireshark's `tshark` as an independent decoder: our frames in a pcap, its PDML compared."""

from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from ocs.diameter import dictionary as d
from ocs.diameter.message import Avp, Message

TSHARK = shutil.which("tshark")
DIAMETER_PORT = 3868
_PEER_PORT = 40000
_PI_ERROR = 0x00800000  # Wireshark's expert severity for malformed data
_AVP_HEADER_FIELDS = {
    "diameter.avp.code",
    "diameter.avp.flags",
    "diameter.avp.len",
    "diameter.avp.vendorId",
    "diameter.avp.pad",
}
_SIGNED = {d.AvpType.INTEGER32, d.AvpType.INTEGER64, d.AvpType.ENUMERATED}


def write_pcap(frames: list[bytes], path: Path) -> None:
    """One TCP segment per message, from port 3868, as a classic little-endian pcap."""
    records = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)]  # DLT_EN10MB
    sequence = 1
    for index, data in enumerate(frames):
        tcp = struct.pack(
            ">HHIIBBHHH", DIAMETER_PORT, _PEER_PORT, sequence, 1, 5 << 4, 0x18, 65535, 0, 0
        )
        sequence += len(data)
        ip = struct.pack(
            ">BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(tcp) + len(data),
            index,
            0,
            64,
            6,
            0,
            b"\x7f\x00\x00\x01",
            b"\x7f\x00\x00\x01",
        )
        packet = bytes(12) + b"\x08\x00" + ip + tcp + data
        records.append(struct.pack("<IIII", index, 0, len(packet), len(packet)) + packet)
    path.write_bytes(b"".join(records))


def dissect(frames: list[bytes], workdir: Path) -> list[ET.Element]:
    """tshark's Diameter tree for each frame, in order."""
    assert TSHARK is not None, "tshark is missing: scripts/test installs it"
    capture = workdir / "diameter.pcap"
    write_pcap(frames, capture)
    pdml = subprocess.run(
        [
            TSHARK,
            "-n",
            "-r",
            str(capture),
            "-d",
            f"tcp.port=={DIAMETER_PORT},diameter",
            "-T",
            "pdml",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout
    packets = ET.fromstring(pdml).findall("packet")
    assert len(packets) == len(frames)
    for packet in packets:
        assert packet.find(".//proto[@name='_ws.malformed']") is None
        severities = [
            int(f.get("show", "0"))
            for f in packet.iter("field")
            if f.get("name") == "_ws.expert.severity"
        ]
        assert all(severity < _PI_ERROR for severity in severities)
    protos = [p.find("proto[@name='diameter']") for p in packets]
    assert all(proto is not None for proto in protos)
    return [proto for proto in protos if proto is not None]


def _fields(element: ET.Element) -> dict[str, ET.Element]:
    return {child.get("name", ""): child for child in element.findall("field")}


def assert_same_message(proto: ET.Element, message: Message, raw: bytes) -> None:
    header = _fields(proto)
    assert int(header["diameter.length"].get("show", "")) == len(raw)
    assert int(header["diameter.flags"].get("show", ""), 16) == message.flags
    assert int(header["diameter.cmd.code"].get("show", "")) == message.command_code
    assert int(header["diameter.applicationId"].get("show", "")) == message.application_id
    assert int(header["diameter.hopbyhopid"].get("show", ""), 16) == message.hop_by_hop_id
    assert int(header["diameter.endtoendid"].get("show", ""), 16) == message.end_to_end_id
    _assert_same_avps(proto.findall("field[@name='diameter.avp']"), message.avps)


def _assert_same_avps(elements: list[ET.Element], avps: list[Avp]) -> None:
    assert len(elements) == len(avps), [e.get("showname") for e in elements]
    for element, avp in zip(elements, avps, strict=True):
        fields = _fields(element)
        assert int(fields["diameter.avp.code"].get("show", "")) == avp.code
        assert int(fields["diameter.avp.flags"].get("show", ""), 16) == avp.flags
        vendor = fields.get("diameter.avp.vendorId")
        assert (0 if vendor is None else int(vendor.get("show", ""))) == avp.vendor_id
        value = next((f for n, f in fields.items() if n not in _AVP_HEADER_FIELDS), None)
        if isinstance(avp.value, list):
            children = [] if value is None else value.findall("field[@name='diameter.avp']")
            _assert_same_avps(children, avp.value)
        else:
            assert value is not None, element.get("showname")
            _assert_same_leaf(value, avp)


def _assert_same_leaf(field: ET.Element, avp: Avp) -> None:
    show, raw_hex = field.get("show", ""), field.get("value", "")
    value = avp.value
    if isinstance(value, bytes):
        assert raw_hex == value.hex()
    elif isinstance(value, str):
        assert show == value
    elif isinstance(value, datetime):
        seconds = " ".join(show.split(".")[0].split())  # "Mar  1, 2026 12:30:15.000000000 UTC"
        assert datetime.strptime(seconds, "%b %d, %Y %H:%M:%S").replace(tzinfo=UTC) == value
    elif isinstance(value, int):
        definition = avp.definition
        signed = definition is not None and definition.type in _SIGNED
        assert int.from_bytes(bytes.fromhex(raw_hex), "big", signed=signed) == value
    else:
        shown = [
            f.get("show")
            for f in field.iter("field")
            if f.get("name", "").endswith(("IPv4", "IPv6"))
        ]
        assert shown == [str(value)]
