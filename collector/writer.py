"""The one writer: group commit of every waiting batch, acks only after the commit.

Connections put validated batches on a queue and await a future. The writer takes all
batches waiting (up to ``max_group_events``), stores them in ONE transaction on a worker
thread (so the event loop keeps reading sockets during the inserts and the fsync, and what
arrives meanwhile forms the next group), commits, then resolves each future with the
session's new acked seq or the batch's refusal. A refused batch never affects the others
(savepoints in ``Store.stage_group``).
"""

from __future__ import annotations

import asyncio
import logging
import time

from edittrace.collector.storage import PendingBatch, Store
from edittrace.protocol import ErrorCode, ProtocolError

log = logging.getLogger(__name__)

Outcome = int | ProtocolError
"""The session's new acked seq, or why the batch was refused (nothing of it stored)."""


class Writer:
    def __init__(self, store: Store, max_group_events: int = 20_000) -> None:
        self._store = store
        self._max_group_events = max_group_events
        self._queue: asyncio.Queue[tuple[PendingBatch, asyncio.Future[Outcome]] | None] = (
            asyncio.Queue()
        )
        self._task: asyncio.Task[None] | None = None
        self._accepting = True
        self.commits = 0
        self.batches = 0
        self.commit_ms: list[float] = []  # the last 10,000, for the summary logged at stop
        self.stage_ms: list[float] = []

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="writer")

    def submit(self, batch: PendingBatch) -> asyncio.Future[Outcome]:
        """Queue ``batch``; the future resolves after the commit that holds it."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        if not self._accepting:
            future.set_result(
                ProtocolError(ErrorCode.INTERNAL, "the collector is shutting down; resend later")
            )
            return future
        self._queue.put_nowait((batch, future))
        return future

    async def stop(self) -> None:
        """Commit everything already queued, resolve its futures, then end the writer."""
        self._accepting = False
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task
        log.info("writer: %s", self.summary())

    def _store_timed(self, batches: list[PendingBatch]) -> tuple[list[Outcome], float, float]:
        started = time.perf_counter()
        outcomes = self._store.stage_group(batches)
        staged = time.perf_counter()
        self._store.commit_group()
        return outcomes, (staged - started) * 1000, (time.perf_counter() - staged) * 1000

    def summary(self) -> str:
        """Commits so far, batches per commit, and recent stage/commit times."""
        if not self.commits:
            return "no commits"

        def quantiles(values: list[float]) -> str:
            ordered = sorted(values) or [0.0]
            p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
            return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ordered[-1]:.1f} ms"

        return (
            f"{self.commits} commits, {self.batches / self.commits:.1f} batches per commit; "
            f"staging {quantiles(self.stage_ms)}; commit {quantiles(self.commit_ms)}"
        )

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            group = [item]
            size = len(item[0].events)
            stopping = False
            while size < self._max_group_events and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                group.append(more)
                size += len(more[0].events)
            await self._commit(group)
            if stopping:
                return

    async def _commit(self, group: list[tuple[PendingBatch, asyncio.Future[Outcome]]]) -> None:
        batches = [batch for batch, _ in group]
        outcomes: list[Outcome]
        try:
            # All of it on a worker thread: when the disk stalls (a slow fsync, or writes
            # throttled while the machine flushes other files) the loop keeps reading
            # sockets, answering pings and queueing what forms the next group.
            outcomes, stage_ms, commit_ms = await asyncio.to_thread(self._store_timed, batches)
            self.stage_ms.append(stage_ms)
            self.commit_ms.append(commit_ms)
            del self.stage_ms[:-10_000], self.commit_ms[:-10_000]
        except Exception as exc:  # disk full, I/O error: nothing of the group is stored
            log.exception("group commit of %d batches failed", len(batches))
            refusal = ProtocolError(
                ErrorCode.INTERNAL, f"the collector could not store the batch ({exc}); resend later"
            )
            outcomes = [refusal] * len(batches)
        self.commits += 1
        self.batches += len(batches)
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)
