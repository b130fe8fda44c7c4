"""What one connection may do: frame limits, in-flight batches, and a rate limit.

All of it is documented in docs/collector.md ("Limits"); the frame limits themselves are the
protocol's (``edittrace.protocol.Limits``, docs/protocol.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from edittrace.protocol import Limits


@dataclass(frozen=True)
class ServerLimits:
    """Per-connection limits of a running collector."""

    frames: Limits = field(default_factory=Limits)
    events_per_second: float = 5_000.0
    """Sustained rate of one connection, in events; ``0`` turns rate limiting off."""
    burst_events: int = 50_000
    """Events one connection may send at once after being idle (a backlog after a reconnect)."""
    in_flight_batches: int = 64
    """Batches of one connection awaiting their ack; beyond it the collector stops reading
    that connection until acks go out (TCP back-pressure, nothing is refused)."""
    hello_timeout_s: float = 30.0
    """A connection that sends no ``hello`` within this time is closed (1008)."""
    chunk_events: int = 5_000
    """A group commit holds every batch waiting; its inserts run on the event loop (about
    20 us per event) in chunks of this many events, with the loop let in between."""

    @property
    def websocket_max_size(self) -> int:
        """websockets' own message limit: twice the frame limit, so that a frame just over
        the limit still gets a ``too_large`` error frame before the close (1009); beyond
        this, websockets closes at once (1009) without reading the message."""
        return 2 * self.frames.max_frame_bytes


class TokenBucket:
    """A token bucket in events: ``rate`` per second, holding at most ``capacity``."""

    def __init__(self, rate: float, capacity: int, now_s: float) -> None:
        self.rate = rate
        self.capacity = float(capacity)
        self._level = float(capacity)
        self._last = now_s

    def take(self, amount: int, now_s: float) -> int:
        """Take ``amount`` and return 0, or take nothing and return the ms to wait first."""
        if self.rate <= 0:
            return 0
        self._level = min(self.capacity, self._level + (now_s - self._last) * self.rate)
        self._last = now_s
        if amount <= self._level:
            self._level -= amount
            return 0
        missing = min(float(amount), self.capacity) - self._level
        return max(1, math.ceil(missing / self.rate * 1000))
