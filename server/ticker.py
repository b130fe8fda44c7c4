"""Runs the recorder's timed work and moves its events to delivery, off the typing path.

Handlers only feed the recorder and ``poke()`` the ticker. A short moment later (so a burst
of keystrokes becomes one hand-over) and at every deadline the recorder names, the ticker
calls ``Recorder.tick``, drains ``events_to_send()`` and hands them to ``Delivery.submit``,
which queues them for the outbox thread: nothing here waits on the network or on disk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

COALESCE_MS = 300
"""Events reach the outbox this soon after the fact that made them (well within a second).
Each hand-over costs the outbox thread a transaction, so typing is handed over in bursts."""


def now_ms() -> int:
    """Unix time in ms: the clock of every event's ``ts``."""
    return time.time_ns() // 1_000_000


class Ticker:
    def __init__(
        self,
        run: Callable[[int], int | None],
        *,
        clock: Callable[[], int] = now_ms,
        coalesce_ms: int = COALESCE_MS,
    ) -> None:
        """``run(now_ms)`` does the work and returns the next deadline (Unix ms) or None."""
        self._run = run
        self._clock = clock
        self._coalesce_ms = coalesce_ms
        self._handle: asyncio.TimerHandle | None = None
        self._due_ms: int | None = None
        self._stopped = False

    def poke(self) -> None:
        """Something happened: run within ``coalesce_ms``."""
        self._schedule(self._clock() + self._coalesce_ms)

    def _schedule(self, due_ms: int) -> None:
        if self._stopped or (self._due_ms is not None and self._due_ms <= due_ms):
            return
        if self._handle is not None:
            self._handle.cancel()
        loop = asyncio.get_running_loop()
        self._due_ms = due_ms
        self._handle = loop.call_later(max(0, due_ms - self._clock()) / 1000, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._due_ms = None
        try:
            deadline = self._run(self._clock())
        except Exception:
            logger.exception("ticker: recorder tick failed")
            deadline = self._clock() + 1_000
        if deadline is not None:
            self._schedule(deadline)

    def run_now(self) -> None:
        """Do the work at once (at shutdown, so nothing stays in memory)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self._due_ms = None
        self._fire()

    def stop(self) -> None:
        self._stopped = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
