"""Group commit on a real database: shared transactions, isolated failures, durable results."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial

import pytest

from ocs.bootstrap import Services
from ocs.service.group_commit import GroupCommitter, OverloadedError, run_batch
from ocs.service.ports import UnitOfWork


def _write(uow: UnitOfWork, key: str) -> str:
    uow.settings.put(key, "written")
    if key.startswith("bad"):
        raise ValueError(f"refused {key}")
    return key


async def _submit_all(committer: GroupCommitter, keys: list[str]) -> list[object]:
    jobs = (committer.submit(partial(_write, key=k)) for k in keys)
    return await asyncio.gather(*jobs, return_exceptions=True)


def test_concurrent_requests_share_transactions_and_fail_alone(services: Services) -> None:
    committer = GroupCommitter(services.store)
    committer.start()
    keys = [f"k{i}" for i in range(200)] + ["bad-1"]
    try:
        results = asyncio.run(_submit_all(committer, keys))
    finally:
        committer.stop()
    assert results[:200] == keys[:200]
    assert isinstance(results[200], ValueError)
    assert committer.stats.items == 201
    assert committer.stats.batches < 201  # requests that waited shared a commit
    with services.store.transaction() as uow:
        assert uow.settings.get("k0") == "written"
        assert uow.settings.get("k199") == "written"
        assert uow.settings.get("bad-1") is None  # its savepoint rolled back


def test_a_failing_item_in_the_middle_of_a_batch_fails_alone(services: Services) -> None:
    committer = GroupCommitter(services.store)
    keys = ["a0", "a1", "bad-mid", "a2", "a3"]
    futures: list[object] = []

    async def submit_together() -> list[object]:
        # Queued before the writer starts, so all five share one batch.
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(committer.submit(partial(_write, key=k))) for k in keys]
        await asyncio.sleep(0)
        committer.start()
        return await asyncio.gather(*tasks, return_exceptions=True)

    try:
        futures = asyncio.run(submit_together())
    finally:
        committer.stop()
    assert futures[:2] == ["a0", "a1"]
    assert futures[3:] == ["a2", "a3"]
    assert isinstance(futures[2], ValueError)
    assert committer.stats.batches == 1
    with services.store.transaction() as uow:
        assert [uow.settings.get(k) for k in keys] == ["written"] * 2 + [None] + ["written"] * 2


def test_a_full_queue_refuses_at_once(services: Services) -> None:
    committer = GroupCommitter(services.store, queue_items_max=0)

    async def one() -> str:
        return await committer.submit(partial(_write, key="x"))

    with pytest.raises(OverloadedError):
        asyncio.run(one())


def _answer(uow: UnitOfWork, number: int) -> int:
    # Driver statements: on PostgreSQL they are pipelined, and a duplicate's error surfaces
    # only at a later read or as the pipeline ends, not in the job that wrote it.
    uow.charging.put_answer("s-1", number, datetime(2026, 12, 5, tzinfo=UTC), "{}")
    return number


def test_an_item_whose_error_surfaces_later_in_the_pipeline_still_fails_alone(
    services: Services,
) -> None:
    numbers = [0, 1, 1, 2]  # the second 1 breaks the key (session, request number)
    results = run_batch(services.store, [partial(_answer, number=n) for n in numbers])
    assert [value for value, _ in results] == [0, 1, None, 2]
    assert [error is None for _, error in results] == [True, True, False, True]
    with services.store.reading() as uow:
        assert [uow.charging.get_answer("s-1", n) for n in range(3)] == ["{}"] * 3
