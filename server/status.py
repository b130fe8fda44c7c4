"""The ``edittrace/status`` notification: sent whenever recording, connection, queue or
last error changes. A queue that only grows or shrinks is reported at most twice a second,
so a burst of typing does not become a burst of notifications."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

STATUS_METHOD = "edittrace/status"
QUEUED_EVERY_S = 0.5


@dataclass(frozen=True)
class Status:
    recording: bool = False
    connected: bool = False
    queued: int = 0
    lastError: str | None = None  # the wire name


class StatusReporter:
    def __init__(self, send: Callable[[dict[str, Any]], None]) -> None:
        self._send = send
        self.current = Status()
        self._sent: Status | None = None
        self._last_sent = 0.0
        self._pending: asyncio.TimerHandle | None = None

    def update(self, **changes: Any) -> None:
        self.current = replace(self.current, **changes)
        sent = self._sent
        if sent == self.current:
            return
        only_queue = sent is not None and replace(sent, queued=self.current.queued) == self.current
        wait = self._last_sent + QUEUED_EVERY_S - time.monotonic()
        if only_queue and wait > 0:
            if self._pending is None:
                self._pending = asyncio.get_running_loop().call_later(wait, self._flush)
            return
        self._flush()

    def _flush(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if self._sent == self.current:
            return
        self._sent = self.current
        self._last_sent = time.monotonic()
        self._send(asdict(self.current))
