"""Delivery: the outbox on its own thread and the websockets uploader, for the language server.

- ``submit`` never blocks: it queues the append to the one outbox thread (a single-worker
  executor, so appends, releases and deletions happen in order and SQLite's fsyncs never
  stall an LSP handler).
- A release task wakes when the oldest held event is due and masks/releases it.
- The uploader task connects with ``Authorization: Bearer TOKEN``, says ``hello``, sends
  released events in batches and deletes only what the collector acknowledges. After any
  break it reconnects with exponential backoff and full jitter (capped), forever; a 401
  is reported in ``DeliveryStatus.last_error`` and retried slowly.
- ``configure(url, token)`` may be called at any time; with no URL, events are captured
  into the outbox and uploaded once a URL is configured.
- ``on_status`` is called (on the event loop's thread) whenever connected/queued/last_error
  changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from edittrace.capture.outbox import Outbox
from edittrace.protocol.client import UploadClient
from edittrace.protocol.errors import ProtocolError
from edittrace.protocol.frames import Event, decode_frame, encode_frame

log = logging.getLogger(__name__)

T = TypeVar("T")

CLIENT_NAME = "edittrace-lsp"
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
UNAUTHORIZED_RETRY_S = (30.0, 90.0)
"""A refused token is retried this slowly (uniformly in the range): it must change first."""
RELEASE_POLL_S = 5.0
"""Release also runs this often, so a clock step never strands held events."""
RELEASE_INTERVAL_S = 1.0
"""At least this long between releases (less with a hold-back under 10 s)."""
RELEASE_BATCH_SHARE = 0.5
"""Releases are also at least this share of the hold-back apart: each one replays the whole
held window to mask the due events, so with one release per hold-back/2 every event is
replayed about three times instead of hold-back/interval + 1 (eleven at the default 10 s)."""
RELEASE_BATCH_CAP_S = 60.0


@dataclass(frozen=True)
class DeliveryStatus:
    connected: bool
    queued: int
    last_error: str | None


def _now_ms() -> int:
    return int(time.time() * 1000)


def _client_version() -> str:
    try:
        from importlib.metadata import version

        return version("edittrace")
    except Exception:  # an uninstalled checkout still uploads
        return "0"


def backoff_delay(attempt: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (AWS architecture blog)."""
    return random.uniform(0.0, min(cap, base * 2 ** min(attempt, 30)))


class Delivery:
    """Owns the outbox thread and the uploader task of one language server."""

    def __init__(
        self,
        outbox_path: Path,
        hold_back_ms: int,
        on_status: Callable[[DeliveryStatus], None],
    ) -> None:
        self.outbox_path = Path(outbox_path)
        self.hold_back_ms = hold_back_ms
        self.on_status = on_status
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edittrace-outbox")
        self._outbox: Outbox | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._url: str | None = None
        self._token: str | None = None
        self._client = UploadClient(CLIENT_NAME, _client_version())
        self._status = DeliveryStatus(connected=False, queued=0, last_error=None)
        self._queued = 0
        self._connected = False
        self._last_error: str | None = None
        self._appended = asyncio.Event()
        self._released = asyncio.Event()
        self._reconfigured = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    # --- public API -------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queued = await self._call(self._open)
        self._emit()
        self._tasks = [
            asyncio.create_task(self._release_loop(), name="edittrace-release"),
            asyncio.create_task(self._upload_loop(), name="edittrace-upload"),
        ]

    async def stop(self) -> None:
        """Stop uploading; every event submitted so far is committed before this returns."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        # The single worker runs jobs in order: once this one ran, every append before it has.
        await self._call(self._close)
        self._executor.shutdown(wait=True)

    def submit(self, session: str, events: Sequence[Event]) -> None:
        """Queue ``events`` for the outbox thread; returns at once."""
        if not events:
            return
        batch = list(events)
        future = self._executor.submit(self._append, session, batch)
        future.add_done_callback(self._appended_done)

    def configure(self, url: str | None, token: str | None) -> None:
        """Where to upload (None: capture only). Takes effect at once, reconnecting if needed."""
        url = url or None
        if url == self._url and token == self._token:
            return
        self._url, self._token = url, token
        self._client = UploadClient(CLIENT_NAME, _client_version())  # parked sessions retry
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._reconfigured.set)

    @property
    def status(self) -> DeliveryStatus:
        return self._status

    # --- the outbox thread ------------------------------------------------------------------

    def _open(self) -> int:
        if self._outbox is None:  # a submit before start opened it already
            # time.sleep(0) hands the GIL to the LSP handlers during long releases, so a
            # keystroke never waits a whole switch interval behind masking.
            self._outbox = Outbox(self.outbox_path, self.hold_back_ms, pause=_yield_gil)
        return self._outbox.queued()

    def _close(self) -> None:
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

    def _append(self, session: str, events: list[Event]) -> int:
        if self._outbox is None:
            self._open()
        assert self._outbox is not None
        self._outbox.append(session, events)
        return self._outbox.queued()

    def _appended_done(self, future: Any) -> None:
        if future.cancelled():
            return
        error = future.exception()
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if error is not None:
            log.error("outbox append failed: %s", error)
            message = f"cannot write the outbox {self.outbox_path}: {error}"
            loop.call_soon_threadsafe(self._error, message)
            return
        queued = future.result()
        loop.call_soon_threadsafe(self._after_append, queued)

    def _after_append(self, queued: int) -> None:
        self._appended.set()
        self._set(queued=queued)

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args))

    # --- status -----------------------------------------------------------------------------

    def _set(self, *, queued: int | None = None, connected: bool | None = None) -> None:
        if queued is not None:
            self._queued = queued
        if connected is not None:
            self._connected = connected
        self._emit()

    def _error(self, message: str | None) -> None:
        self._last_error = message
        self._emit()

    def _emit(self) -> None:
        status = DeliveryStatus(self._connected, self._queued, self._last_error)
        if status != self._status:
            self._status = status
            try:
                self.on_status(status)
            except Exception:  # a broken listener must not stop delivery
                log.exception("on_status failed")

    # --- release ----------------------------------------------------------------------------

    async def _release_loop(self) -> None:
        # Releases are batched (at most one per interval): each one replays the held window.
        # An event so leaves between one hold-back and one and a half after it happened.
        interval_s = max(
            0.05,
            min(RELEASE_INTERVAL_S, self.hold_back_ms / 10_000),
            min(RELEASE_BATCH_CAP_S, self.hold_back_ms / 1000 * RELEASE_BATCH_SHARE),
        )
        while True:
            self._appended.clear()
            released, next_due = await self._call(self._release)
            if released:
                self._released.set()
            if next_due is None:  # nothing held: sleep until something is appended
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._appended.wait(), RELEASE_POLL_S)
                continue
            wait_s = (next_due - _now_ms()) / 1000
            await asyncio.sleep(min(max(wait_s, interval_s), RELEASE_POLL_S))

    def _release(self) -> tuple[int, int | None]:
        assert self._outbox is not None
        try:
            released = self._outbox.release(_now_ms())
        except Exception:
            log.exception("releasing events failed; they stay in the outbox")
            released = 0
        return released, self._outbox.next_release_ms()

    # --- upload -----------------------------------------------------------------------------

    async def _upload_loop(self) -> None:
        attempt = 0
        while True:
            self._reconfigured.clear()
            url, token = self._url, self._token
            if url is None:
                self._set(connected=False)
                await self._reconfigured.wait()
                continue
            delay: float
            try:
                welcomed = await self._converse(url, token)
                attempt = 0 if welcomed else attempt + 1
                delay = backoff_delay(attempt)
            except InvalidStatus as error:
                status = error.response.status_code
                body = (error.response.body or b"").decode("utf-8", "replace").strip()
                if status == 401:
                    self._error(
                        f"the collector refused the token (HTTP 401: {body or 'unauthorized'}); "
                        "check collector.token"
                    )
                    delay = random.uniform(*UNAUTHORIZED_RETRY_S)
                else:
                    self._error(f"the collector at {url} answered HTTP {status}: {body}")
                    delay = backoff_delay(attempt)
                attempt += 1
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ConnectionClosed) as error:
                self._error(f"cannot reach the collector at {url}: {error}")
                attempt += 1
                delay = backoff_delay(attempt)
            finally:
                self._client.disconnect()
                if not self._stopping:
                    self._set(connected=False)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reconfigured.wait(), delay)

    async def _converse(self, url: str, token: str | None) -> bool:
        """One connection, until it breaks. Returns whether the collector welcomed us."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = self._client
        welcomed = False
        async with connect(
            url,
            additional_headers=headers,
            compression=None,
            proxy=None,
            max_size=16 * 1024 * 1024,
            open_timeout=10,
        ) as socket:
            client.connect(await self._call(self._sessions))
            await self._flush(socket, client)
            sender = asyncio.create_task(self._send_loop(socket, client, url, token))
            try:
                async for message in socket:
                    try:
                        frame = decode_frame(message)
                    except ProtocolError as error:
                        self._error(f"the collector sent a bad frame: {error.message}")
                        break
                    client.receive(frame)
                    acknowledged = client.take_acknowledged()
                    if acknowledged:
                        queued = await self._call(self._acknowledge, acknowledged)
                        self._set(queued=queued)
                    if client.connected and not welcomed:
                        welcomed = True
                        self._last_error = client.last_error
                        self._set(connected=True)
                    elif client.last_error is not None and client.last_error != self._last_error:
                        self._error(client.last_error)
                    self._released.set()  # wake the sender: in-flight room or a rewind
                    if self._moved(url, token):
                        break
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender
        return welcomed

    def _moved(self, url: str, token: str | None) -> bool:
        """``configure`` changed where to upload since this connection was opened."""
        return (self._url, self._token) != (url, token)

    async def _send_loop(
        self, socket: ClientConnection, client: UploadClient, url: str, token: str | None
    ) -> None:
        while True:
            self._released.clear()
            if self._reconfigured.is_set():
                if self._moved(url, token):
                    await socket.close()
                    return
                self._reconfigured.clear()  # configured again with the same values
            if client.retry_after_ms is not None:
                pause, client.retry_after_ms = client.retry_after_ms, None
                await asyncio.sleep(pause / 1000)
            client.track(await self._call(self._sessions))
            for session, after in client.wants().items():
                events = await self._call(self._sendable, session, after, client.limit(session))
                if events:
                    client.offer(session, events)
            sent = await self._flush(socket, client)
            if not sent:
                waiters = [
                    asyncio.create_task(self._released.wait()),
                    asyncio.create_task(self._reconfigured.wait()),
                ]
                try:
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()

    async def _flush(self, socket: ClientConnection, client: UploadClient) -> int:
        frames = client.frames_to_send()
        for frame in frames:
            await socket.send(encode_frame(frame))
        return len(frames)

    def _sessions(self) -> list[str]:
        assert self._outbox is not None
        return self._outbox.sessions()

    def _sendable(self, session: str, after: int, limit: int) -> list[Event]:
        assert self._outbox is not None
        return self._outbox.sendable(session, after, limit)

    def _acknowledge(self, acknowledged: dict[str, int]) -> int:
        assert self._outbox is not None
        for session, acked in acknowledged.items():
            self._outbox.acknowledge(session, acked)
        return self._outbox.queued()


def _yield_gil() -> None:
    time.sleep(0)
