"""The one writer: group commit of every waiting batch, acks only after the commit.

Connections put validated batches on a queue and await a future. The writer takes all
batches waiting, stores them in ONE transaction, commits on a
worker thread (so the event loop keeps reading sockets during the fsync, and what arrives
meanwhile forms the next group), then resolves each future with the
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
    def __init__(self, store: Store, chunk_events: int = 5_000) -> None:
        self._store = store
        self._chunk_events = chunk_events
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
            stopping = False
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                group.append(more)
            await self._commit(group)
            if stopping:
                return

    async def _commit(self, group: list[tuple[PendingBatch, asyncio.Future[Outcome]]]) -> None:
        batches = [batch for batch, _ in group]
        outcomes: list[Outcome] = []
        try:
            # The inserts on the loop, the COMMIT (WAL write and fsync, one SQLite call that
            # releases the GIL throughout) on a thread. Inserting on a thread was far slower
            # under load: every SQLite call hands the GIL back and forth, and each time the
            # busy loop may keep it for a whole switch interval (5 ms) -- seconds per group.
            # Staging touches only SQLite's page cache, so it never waits for the disk. It
            # runs in chunks of ``chunk_events`` with the loop let in between, so a big
            # group (after a slow fsync) never holds the loop for long.
            started = time.perf_counter()
            self._store.begin_group()
            for chunk in _chunks(batches, self._chunk_events):
                if outcomes:
                    await asyncio.sleep(0)
                outcomes += self._store.stage_batches(chunk)
            staged = time.perf_counter()
            await asyncio.to_thread(self._store.commit_group)
            self.stage_ms.append((staged - started) * 1000)
            self.commit_ms.append((time.perf_counter() - staged) * 1000)
            del self.stage_ms[:-10_000], self.commit_ms[:-10_000]
        except Exception as exc:  # disk full, I/O error: nothing of the group is stored
            log.exception("group commit of %d batches failed", len(batches))
            refusal = ProtocolError(
                ErrorCode.INTERNAL, f"the collector could not store the batch ({exc}); resend later"
            )
            self._store.rollback_group()
            outcomes = [refusal] * len(batches)
        self.commits += 1
        self.batches += len(batches)
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)


def _chunks(batches: list[PendingBatch], max_events: int) -> list[list[PendingBatch]]:
    """Consecutive runs of ``batches`` holding about ``max_events`` events each."""
    chunks: list[list[PendingBatch]] = [[]]
    size = 0
    for batch in batches:
        if size >= max_events:
            chunks.append([])
            size = 0
        chunks[-1].append(batch)
        size += len(batch.events)
    return chunks
