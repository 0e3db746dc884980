"""Argon2id for the PINs of subscriber batches: cheaper parameters than operator passwords.

A PIN has 4-20 digits, so an attacker holding the hashes tries at most 10**length values
whatever the cost per hash; the cost cannot make a short PIN safe, only the online attempt
limits can. It is therefore set for generating many PINs at once (about 1.7 ms a hash on this
machine, see docs/performance.md) while staying argon2id with its memory hardness. The hash
string carries its parameters, so Argon2Hasher (operator passwords) verifies these as well.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

PIN_TIME_COST = 1
PIN_MEMORY_KIB = 4096
PIN_PARALLELISM = 1


class Argon2PinHasher:
    def __init__(
        self,
        time_cost: int = PIN_TIME_COST,
        memory_kib: int = PIN_MEMORY_KIB,
        parallelism: int = PIN_PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        try:
            return self._hasher.verify(hashed, secret)
        except (VerificationError, InvalidHashError):
            return False
