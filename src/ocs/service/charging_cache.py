"""What the charging engine keeps in memory between requests: wallets with their balances,
buckets, holds and links, and the open sessions on them with their reservations.

A copy is trusted only while the wallet's revision in storage is the one the engine saw after
its own last write. Every write to a wallet or the rows charging reads with it gives the wallet
a new, never reused revision (database triggers, migration 0013), whoever writes: operators,
other processes, the expiry sweep. A request therefore reads one revision instead of the
wallet, its balances, buckets, holds, links, session and reservations. A copy touched by a
request that failed, or by a transaction that rolled back, can never match again, because
the revision it recorded is never handed out twice.

The engine process on SQLite reads not even that (ADR 0014): while no other connection has
committed since its last batch (SQLite's data version), every copy is current; once one has,
each copy is checked against its revision once (its `epoch`). There the engine's own writes
give no new revisions, so copies written by a batch that rolled back are dropped by the
engine itself (ChargingEngine.end_batch).

Only the group committer's thread uses the cache (through ChargingEngine.process).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from ocs.core.grant_usage import GrantUsage
from ocs.core.reservations import ChargingSession, Reservation
from ocs.core.wallets import WalletLink
from ocs.service.wallet_ledger import LoadedWallet

WALLETS_CACHED_MAX = 50_000


@dataclass(eq=False)
class CachedSession:
    session: ChargingSession
    reservations: list[Reservation]  # the open ones, oldest first
    holds: dict[int, dict[str, int]]  # reservation id -> units held per balance type
    # The highest request number answered by this process; None when the session was read
    # from storage (its earlier answers are only there).
    last_request_number: int | None

    def is_new(self, request_number: int) -> bool:
        """A request number above every answered one cannot be a retransmission."""
        return self.last_request_number is not None and request_number > self.last_request_number


# Mutable state holders compared by identity: "is this wallet already touched" must not
# compare every bucket of two copies.
@dataclass(eq=False)
class CachedWallet:
    revision: int
    w: LoadedWallet
    holds: dict[str, int]  # units held per balance type by open reservations
    links: list[WalletLink]
    grants: list[GrantUsage]  # offer grants whose buckets charging may consume
    open_sessions: int | None = None  # counted on first need
    sessions: dict[str, CachedSession] = field(default_factory=dict)
    # Subscribers whose EDRs this copy wrote: their subscriber_edr_wallets row is there.
    edr_subscribers: set[int] = field(default_factory=set)
    # The engine's epoch when the copy was last found current (ChargingEngine._epoch).
    epoch: int = -1


class WalletCache:
    def __init__(self, wallets_max: int = WALLETS_CACHED_MAX) -> None:
        self._wallets: OrderedDict[int, CachedWallet] = OrderedDict()
        self._session_wallets: dict[str, int] = {}
        self._wallets_max = wallets_max

    def __len__(self) -> int:
        return len(self._wallets)

    def wallet_of_session(self, session_id: str) -> int | None:
        return self._session_wallets.get(session_id)

    def get(self, wallet_id: int, revision: int) -> CachedWallet | None:
        """The cached wallet if it is still at this revision; a stale copy is dropped."""
        cached = self.peek(wallet_id)
        if cached is not None and cached.revision != revision:
            self.forget(wallet_id)
            return None
        return cached

    def peek(self, wallet_id: int) -> CachedWallet | None:
        """The cached wallet whatever its revision: the caller checks that against storage."""
        cached = self._wallets.get(wallet_id)
        if cached is not None:
            self._wallets.move_to_end(wallet_id)
        return cached

    def put(self, cached: CachedWallet) -> None:
        wallet_id = cached.w.wallet.id
        self.forget(wallet_id)
        self._wallets[wallet_id] = cached
        while len(self._wallets) > self._wallets_max:
            self.forget(next(iter(self._wallets)))

    def forget(self, wallet_id: int) -> None:
        cached = self._wallets.pop(wallet_id, None)
        if cached is not None:
            for session_id in cached.sessions:
                self._session_wallets.pop(session_id, None)

    def add_session(self, cached: CachedWallet, entry: CachedSession) -> None:
        session_id = entry.session.session_id
        cached.sessions[session_id] = entry
        self._session_wallets[session_id] = cached.w.wallet.id

    def drop_session(self, cached: CachedWallet, session_id: str) -> None:
        cached.sessions.pop(session_id, None)
        self._session_wallets.pop(session_id, None)

    def clear(self) -> None:
        self._wallets.clear()
        self._session_wallets.clear()
