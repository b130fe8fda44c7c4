"""The uploader's side of the protocol as a sans-I/O state machine.

Shaped like the ``websockets`` library's own protocol objects: the driver tells it that a
connection opened (``connect``) or broke (``disconnect``), feeds it every frame received
(``receive``), offers it events to send (``offer``, for the sessions ``wants`` names), and
drains ``frames_to_send()`` to write and ``take_acknowledged()`` to delete from its local
store. It never touches a socket, a clock or a file.

Rules it keeps (docs/protocol.md, "A conversation"):
- ``hello`` first, naming every session with unacknowledged events; nothing else is sent
  before ``welcome``.
- After ``welcome``, each session resumes at ``acked + 1``; after a break everything not
  acknowledged is sent again (the collector stores identical resends once).
- Several batches may be in flight; an ``ack`` moves a session's ``acked`` forward.
- ``conflict``, ``forbidden`` and a ``bad_frame`` about one of our batches park that session:
  it is not sent again by this client (the driver reports it), so a bug never becomes a hot
  loop. ``out_of_order`` and ``internal`` rewind the session to ``acked``; ``too_large``
  halves its batch size; ``rate_limited`` asks the driver to wait ``retry_after_ms``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from edittrace.protocol.errors import ErrorCode
from edittrace.protocol.frames import (
    DEFAULT_LIMITS,
    Ack,
    Batch,
    Error,
    Event,
    Frame,
    Hello,
    Welcome,
)

DEFAULT_BATCH_EVENTS = 500
DEFAULT_IN_FLIGHT = 4
INTERNAL_RETRY_MS = 2_000
"""How long to wait before resending after the collector failed to store a batch."""


@dataclass
class SessionProgress:
    """What this client knows about one session on the collector."""

    acked: int = 0
    """Highest seq the collector has confirmed, with no gap from 1."""
    sent: int = 0
    """Highest seq written on the current connection (``acked`` after a (re)connect)."""
    in_flight: list[int] = field(default_factory=list)
    """The last seq of each batch sent and not yet acknowledged, oldest first."""
    batch_events: int = DEFAULT_BATCH_EVENTS
    parked: str | None = None
    """Why this session is no longer sent (``conflict``, ``forbidden``...), or None."""


class UploadClient:
    """One uploader's protocol state, kept across connections."""

    def __init__(
        self,
        client_name: str,
        client_version: str,
        *,
        batch_events: int = DEFAULT_BATCH_EVENTS,
        max_in_flight: int = DEFAULT_IN_FLIGHT,
    ) -> None:
        self.client_name = client_name
        self.client_version = client_version
        self.batch_events = min(batch_events, DEFAULT_LIMITS.max_events_per_batch)
        self.max_in_flight = max_in_flight
        self.progress: dict[str, SessionProgress] = {}
        self.connected = False
        """True between ``welcome`` and the next ``disconnect``."""
        self.last_error: str | None = None
        """The latest error the collector reported, as a sentence for the contractor."""
        self.retry_after_ms: int | None = None
        """Set when the driver should pause sending this long; the driver clears it."""
        self._outgoing: list[Frame] = []
        self._acknowledged: dict[str, int] = {}
        self._open = False

    # --- the driver's events -----------------------------------------------------------------

    def connect(self, sessions: Iterable[str]) -> None:
        """A connection opened: queue ``hello`` naming ``sessions`` (those with anything held)."""
        self._outgoing = []
        self._open = True
        self.connected = False
        names = sorted(set(sessions))[: DEFAULT_LIMITS.max_sessions_per_hello]
        for name in names:
            self.progress.setdefault(name, self._new_progress())
        self._outgoing.append(
            Hello(
                sessions=tuple(names),
                client_name=self.client_name,
                client_version=self.client_version,
            )
        )

    def disconnect(self) -> None:
        """The connection broke: whatever was in flight is unconfirmed and will be resent."""
        self._open = False
        self.connected = False
        self._outgoing = []
        for progress in self.progress.values():
            progress.sent = progress.acked
            progress.in_flight.clear()

    def receive(self, frame: Frame) -> None:
        """Feed one frame from the collector."""
        match frame:
            case Welcome():
                self.connected = True
                self.last_error = self._parked_summary()
                for session, acked in frame.acked.items():
                    self._advance(session, acked)
                for progress in self.progress.values():
                    progress.sent = progress.acked
                    progress.in_flight.clear()
            case Ack():
                progress = self._advance(frame.session, frame.acked)
                while progress.in_flight and progress.in_flight[0] <= frame.acked:
                    progress.in_flight.pop(0)
            case Error():
                self._error(frame)
            case _:
                self.last_error = f"the collector sent an unexpected {type(frame).__name__} frame"

    def track(self, sessions: Iterable[str]) -> None:
        """Sessions that appeared after ``hello`` (the collector takes batches of any session)."""
        for session in sessions:
            self.progress.setdefault(session, self._new_progress())

    def offer(self, session: str, events: Sequence[Event]) -> None:
        """Events of ``session`` after ``wants()[session]``, in seq order; queued as one batch."""
        progress = self.progress.setdefault(session, self._new_progress())
        if not self.connected or progress.parked is not None:
            return
        fresh = [event for event in events if event.seq > progress.sent]
        fresh = fresh[: progress.batch_events]
        if not fresh or fresh[0].seq != progress.sent + 1:
            return  # nothing new, or not the continuation: wait for what wants() asks
        contiguous = [fresh[0]]
        for event in fresh[1:]:
            if event.seq != contiguous[-1].seq + 1:
                break
            contiguous.append(event)
        self._outgoing.append(Batch(session=session, events=tuple(contiguous)))
        progress.sent = contiguous[-1].seq
        progress.in_flight.append(progress.sent)

    # --- what the driver drains --------------------------------------------------------------

    def wants(self) -> dict[str, int]:
        """Sessions ready for another batch -> the seq after which to read events."""
        if not self.connected or self.retry_after_ms is not None:
            return {}
        return {
            session: progress.sent
            for session, progress in self.progress.items()
            if progress.parked is None and len(progress.in_flight) < self.max_in_flight
        }

    def limit(self, session: str) -> int:
        """How many events the next batch of ``session`` may hold."""
        progress = self.progress.get(session)
        return progress.batch_events if progress is not None else self.batch_events

    def frames_to_send(self) -> list[Frame]:
        frames, self._outgoing = self._outgoing, []
        return frames

    def take_acknowledged(self) -> dict[str, int]:
        """Session -> acked seq newly confirmed since the last call: safe to delete locally."""
        acknowledged, self._acknowledged = self._acknowledged, {}
        return acknowledged

    def idle(self) -> bool:
        """Nothing in flight on this connection."""
        return all(not progress.in_flight for progress in self.progress.values())

    def parked(self) -> dict[str, str]:
        return {s: p.parked for s, p in self.progress.items() if p.parked is not None}

    # --- internals ---------------------------------------------------------------------------

    def _new_progress(self) -> SessionProgress:
        return SessionProgress(batch_events=self.batch_events)

    def _advance(self, session: str, acked: int) -> SessionProgress:
        progress = self.progress.setdefault(session, self._new_progress())
        if acked > progress.acked:
            progress.acked = acked
            self._acknowledged[session] = acked
        progress.sent = max(progress.sent, progress.acked)
        return progress

    def _error(self, error: Error) -> None:
        session = error.details.get("session")
        progress = self.progress.get(session) if isinstance(session, str) else None
        where = f" (session {session})" if isinstance(session, str) else ""
        self.last_error = f"collector error {error.code.value}{where}: {error.message}"
        if progress is None:
            if error.code is ErrorCode.RATE_LIMITED:
                self.retry_after_ms = _retry_after(error, INTERNAL_RETRY_MS)
            return  # about the connection as a whole; the collector closes it if it must
        progress.in_flight.clear()
        progress.sent = progress.acked
        match error.code:
            case ErrorCode.CONFLICT | ErrorCode.FORBIDDEN | ErrorCode.BAD_FRAME:
                progress.parked = f"{error.code.value}: {error.message}"
            case ErrorCode.TOO_LARGE:
                if progress.batch_events == 1:
                    progress.parked = f"{error.code.value}: {error.message}"
                progress.batch_events = max(1, progress.batch_events // 2)
            case ErrorCode.RATE_LIMITED:
                self.retry_after_ms = _retry_after(error, INTERNAL_RETRY_MS)
            case ErrorCode.INTERNAL | ErrorCode.OUT_OF_ORDER:
                if error.code is ErrorCode.INTERNAL:
                    self.retry_after_ms = INTERNAL_RETRY_MS
            case _:
                self.retry_after_ms = INTERNAL_RETRY_MS

    def _parked_summary(self) -> str | None:
        parked = self.parked()
        if not parked:
            return None
        session, reason = next(iter(sorted(parked.items())))
        more = f" (and {len(parked) - 1} more sessions)" if len(parked) > 1 else ""
        return f"session {session} is not sent: {reason}{more}"


def _retry_after(error: Error, default: int) -> int:
    value = error.details.get("retry_after_ms")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return default
