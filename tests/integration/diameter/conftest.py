"""Run `async def` tests in a fresh event loop each, with a deadline so none can hang."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from tests.integration.diameter.support import run_in_fresh_loop

TEST_DEADLINE_S = 60


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    async def run() -> None:
        async with asyncio.timeout(TEST_DEADLINE_S):
            await pyfuncitem.obj(**arguments)

    run_in_fresh_loop(run)
    return True
