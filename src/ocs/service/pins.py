"""Checking a subscriber's PIN with a bound on guessing.

A PIN has 4 to 20 digits, so no hash cost protects it against whoever may try it many times:
what bounds guessing is the number of tries. After PIN_FAILURES_MAX consecutive wrong PINs the
PIN is blocked until an operator sets a new one (which also clears the count). The count is
written in its own transaction, because the request that carried the wrong PIN is refused and
rolls back everything else."""

from __future__ import annotations

from ocs.core.errors import DomainError, ProblemKind
from ocs.service.ports import PasswordHasher, Store, UnitOfWork

PIN_FAILURES_MAX = 3


class WrongPinError(Exception):
    """Raised inside a unit of work; the caller counts it with count_pin_failure once the
    unit of work has rolled back."""

    def __init__(self, subscriber_id: int) -> None:
        super().__init__(f"wrong PIN for subscriber {subscriber_id}")
        self.subscriber_id = subscriber_id


def check_pin(uow: UnitOfWork, hasher: PasswordHasher, subscriber_id: int, pin: str) -> None:
    """Accept the subscriber's PIN (clearing earlier failures), refuse a blocked PIN, or raise
    WrongPinError. The subscriber must have a PIN."""
    stored = uow.features.get_details(subscriber_id)
    if stored.pin_failures >= PIN_FAILURES_MAX:
        raise DomainError(
            ProblemKind.NOT_ALLOWED_IN_STATE,
            f"the PIN is blocked after {PIN_FAILURES_MAX} wrong attempts; "
            "an operator must set a new one",
            "pin",
        )
    if stored.pin_hash is None or not hasher.verify(stored.pin_hash, pin):
        raise WrongPinError(subscriber_id)
    if stored.pin_failures:
        uow.features.set_pin_failures(subscriber_id, 0)


def count_pin_failure(store: Store, subscriber_id: int) -> DomainError:
    """Record one more wrong PIN (its own transaction) and return the error to raise."""
    with store.transaction() as uow:
        failures = uow.features.get_details(subscriber_id).pin_failures + 1
        uow.features.set_pin_failures(subscriber_id, failures)
    left = PIN_FAILURES_MAX - failures
    outcome = f"{left} attempt(s) left" if left > 0 else "the PIN is now blocked"
    return DomainError(ProblemKind.INVALID_VALUE, f"the PIN is not correct; {outcome}", "pin")
