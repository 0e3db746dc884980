"""Charging domains as the operator sees them: where a wallet lives, moving it, counting."""

from __future__ import annotations

from typing import Protocol

from ocs.core.domains import DomainSummary, WalletMove
from ocs.core.errors import DomainError, ProblemKind


class WalletMover(Protocol):
    def domain_of(self, wallet_id: int) -> str | None: ...

    def move(self, wallet_id: int, source: str, target: str) -> WalletMove: ...

    def finish_interrupted(self, wallet_id: int | None = None) -> list[WalletMove]: ...

    def summary(self, name: str) -> DomainSummary: ...

    def close(self) -> None: ...


class DomainService:
    def __init__(self, names: list[str], mover: WalletMover) -> None:
        self._names = names
        self.mover = mover

    def names(self) -> list[str]:
        """Configured domains, the default first."""
        return list(self._names)

    def domain_of(self, wallet_id: int) -> str | None:
        return self.mover.domain_of(wallet_id)

    def move_wallet(self, wallet_id: int, source: str, target: str) -> WalletMove:
        """Move one wallet and everything it holds; atomic for the wallet, crash-safe."""
        self._known(source, "source")
        self._known(target, "target")
        if source == target:
            raise DomainError(
                ProblemKind.INVALID_VALUE, "the source and target domains must differ", "target"
            )
        return self.mover.move(wallet_id, source, target)

    def summary(self, domain: str) -> DomainSummary:
        self._known(domain, "domain")
        return self.mover.summary(domain)

    def finish_interrupted_moves(self) -> list[WalletMove]:
        return self.mover.finish_interrupted()

    def dispose(self) -> None:
        """Close the other domains' connections (the default one is the Services' engine)."""
        self.mover.close()

    def _known(self, name: str, field: str) -> None:
        if name not in self._names:
            raise DomainError(
                ProblemKind.INVALID_VALUE,
                f"{field} domain {name!r} is not configured (configured: {', '.join(self._names)})",
                field,
            )
