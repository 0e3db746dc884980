"""Charging domains as the operator sees them: where a wallet lives, moving it, counting."""

from __future__ import annotations

from typing import Protocol

from ocs.core.domains import DomainSummary, MoveOutcome, WalletMove
from ocs.core.errors import DomainError, ProblemKind, not_found
from ocs.core.security import Privilege, check_change_reason
from ocs.service.actor import Actor, edr_auditing_enabled, record_change
from ocs.service.ports import Clock, Store


class WalletMover(Protocol):
    def domain_of(self, wallet_id: int) -> str | None: ...

    def move(self, wallet_id: int, source: str, target: str) -> WalletMove: ...

    def finish_interrupted(self, wallet_id: int | None = None) -> list[WalletMove]: ...

    def summary(self, name: str) -> DomainSummary: ...

    def close(self) -> None: ...


class DomainService:
    def __init__(self, names: list[str], mover: WalletMover, store: Store, clock: Clock) -> None:
        self._names = names
        self.mover = mover
        self.store = store
        self.clock = clock

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

    def move_by_operator(
        self, actor: Actor, wallet_id: int, source: str, target: str
    ) -> WalletMove:
        """One wallet moved by hand (migrations move many): audited, refused if not moved."""
        actor.require(Privilege.ADMIN)
        if self.domain_of(wallet_id) is None:
            raise not_found("wallet", wallet_id)
        with self.store.transaction() as uow:  # the change reason, before anything moves
            check_change_reason(actor.change_reason, edr_auditing_enabled(uow))
        move = self.move_wallet(wallet_id, source, target)
        if move.outcome is not MoveOutcome.MOVED:
            raise DomainError(
                ProblemKind.CONFLICT,
                f"wallet {wallet_id} was not moved: {move.outcome.value} {move.detail}",
            )
        with self.store.transaction() as uow:
            record_change(uow, actor, self.clock.now(), "move", "wallet", wallet_id,
                          {"source": source, "target": target})  # fmt: skip
        return move

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
