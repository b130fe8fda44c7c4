"""The ticker: a burst of pokes is one hand-over; the recorder's deadlines are kept."""

from __future__ import annotations

import asyncio

from edittrace.server.ticker import Ticker, now_ms


async def test_a_burst_of_pokes_runs_once_and_deadlines_are_honoured() -> None:
    runs: list[int] = []
    done = asyncio.Event()
    deadlines = iter([now_ms() + 30, None])

    def run(now: int) -> int | None:
        runs.append(now)
        deadline = next(deadlines, None)
        if deadline is None:
            done.set()
        return deadline

    ticker = Ticker(run, coalesce_ms=20)
    for _ in range(100):
        ticker.poke()
    await asyncio.wait_for(done.wait(), 10)
    assert len(runs) == 2  # the burst, then the deadline it named
    ticker.stop()


async def test_run_now_does_the_work_at_once_and_stop_cancels() -> None:
    runs: list[int] = []

    def run(now: int) -> None:
        runs.append(now)

    ticker = Ticker(run, coalesce_ms=60_000)
    ticker.poke()
    ticker.run_now()
    assert len(runs) == 1
    ticker.stop()
    ticker.poke()
    await asyncio.sleep(0)
    assert len(runs) == 1


async def test_a_failing_run_is_retried_not_fatal() -> None:
    calls: list[int] = []
    retried = asyncio.Event()

    def run(now: int) -> int | None:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("boom")
        retried.set()
        return None

    ticker = Ticker(run, coalesce_ms=1)
    ticker.poke()
    await asyncio.wait_for(retried.wait(), 10)
    assert len(calls) == 2
    ticker.stop()
