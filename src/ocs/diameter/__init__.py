"""Diameter base protocol (RFC 6733): codec, dictionary, peers and server.

Knows nothing of charging: application requests go to an injected `RequestHandler`.
"""

from ocs.diameter.codec import DecodeError, EncodeError, decode, encode
from ocs.diameter.constants import ApplicationId, CommandCode, ResultCode
from ocs.diameter.message import Avp, Message, Origin, make_answer
from ocs.diameter.peer import AllowedPeer, PeerConfig, RequestHandler
from ocs.diameter.server import DiameterServer, ServerConfig

__all__ = [
    "AllowedPeer",
    "ApplicationId",
    "Avp",
    "CommandCode",
    "DecodeError",
    "DiameterServer",
    "EncodeError",
    "Message",
    "Origin",
    "PeerConfig",
    "RequestHandler",
    "ResultCode",
    "ServerConfig",
    "decode",
    "encode",
    "make_answer",
]
