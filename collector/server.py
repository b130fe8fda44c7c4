"""The collector's network side: websockets server, handshake auth, one task pair per connection.

Per connection a reader decodes frames and hands batches to the writer, and a sender sends
answers (acks, errors) strictly in the order the frames came in. Which errors close the
connection, and with which code, is documented in docs/collector.md ("Errors and close codes").
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import signal
import ssl
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgpack
import websockets
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from edittrace.collector import http
from edittrace.collector.limits import ServerLimits, TokenBucket
from edittrace.collector.storage import PendingBatch, Store, open_database
from edittrace.collector.tokens import Role, TokenCheck, verify_token
from edittrace.collector.writer import Outcome, Writer
from edittrace.protocol import (
    Ack,
    Batch,
    Error,
    ErrorCode,
    Frame,
    Hello,
    ProtocolError,
    Welcome,
    decode_frame,
    encode_frame,
)

log = logging.getLogger(__name__)

STREAM_PATH = "/v1/stream"
ROUTE_MODULES = ("edittrace.collector.viewer",)
"""Modules that register HTTP routes (``http.register_route``); imported at start if present."""


@dataclass
class _Reply:
    """One answer in the connection's ordered output: a frame now, or a batch's outcome later."""

    frame: Frame | None = None
    outcome: asyncio.Future[Outcome] | None = None
    session: str | None = None
    close: CloseCode | None = None
    reason: str = ""


class Collector:
    """A running collector: ``await start()``, then ``await stop()`` (commits everything)."""

    def __init__(
        self,
        db_path: Path,
        host: str = "127.0.0.1",
        port: int = 8700,
        limits: ServerLimits | None = None,
        ssl_context: ssl.SSLContext | None = None,
        fsync: bool = True,
    ) -> None:
        self.db_path = db_path
        self.host = host
        self.port = port
        self.limits = limits or ServerLimits()
        self.ssl_context = ssl_context
        self._store = Store(open_database(db_path, fsync=fsync))
        self._reads = open_database(db_path)  # event-loop thread only: tokens, welcome, HTTP
        self._writer = Writer(self._store, self.limits.chunk_events)
        # Weak: a request that passes auth but never becomes a websocket (no upgrade headers,
        # the peer leaves mid-handshake) never reaches _handle to pop its entry.
        self._identities: weakref.WeakKeyDictionary[ServerConnection, TokenCheck] = (
            weakref.WeakKeyDictionary()
        )
        self._replies: set[asyncio.Queue[_Reply | None]] = set()
        self._server: Server | None = None
        self._stopping = False

    @property
    def scheme(self) -> str:
        return "wss" if self.ssl_context else "ws"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{STREAM_PATH}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    async def start(self) -> None:
        for module in ROUTE_MODULES:
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
        self._writer.start()
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            compression=None,  # costs 20-35% throughput and 3x memory per connection
            max_size=self.limits.websocket_max_size,
            max_queue=4,
            close_timeout=3,  # a peer that does not answer the close must not hold a shutdown
            # Back-pressure (a slow disk) pauses reading a connection, pongs included: give
            # a live peer a minute before calling it dead.
            ping_interval=20,
            ping_timeout=60,
            ssl=self.ssl_context,
            logger=logging.getLogger("edittrace.collector.websockets"),
        )
        sockets = list(self._server.sockets)
        if sockets and self.port == 0:
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop taking batches, commit what is queued, send its acks, close every connection."""
        self._stopping = True
        await self._writer.stop()
        if self._replies:  # let the acks of the last commit go out
            joins = [replies.join() for replies in self._replies]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*joins), timeout=2)
        if self._server is not None:
            self._server.close(close_connections=True, code=CloseCode.GOING_AWAY)
            await self._server.wait_closed()
        self._store.close()
        self._reads.close()

    # --- handshake ---------------------------------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        if request.path.split("?", 1)[0] != STREAM_PATH:
            return await http.dispatch(request, self._reads, self.db_path)
        check = verify_token(self._reads, http.bearer_token(request.headers))
        if not check.ok:
            return http.unauthorized(check)
        if check.role is not Role.CONTRACTOR:
            return http.respond(403, "researcher tokens cannot stream events; use a contractor's\n")
        if self._stopping:
            return http.respond(503, "the collector is shutting down; reconnect later\n")
        self._identities[connection] = check
        return None

    # --- one connection ----------------------------------------------------------------------

    async def _handle(self, connection: ServerConnection) -> None:
        identity = self._identities.pop(connection, None)
        if identity is None or identity.name is None:  # cannot happen: auth ran first
            await connection.close(CloseCode.POLICY_VIOLATION, "not authenticated")
            return
        replies: asyncio.Queue[_Reply | None] = asyncio.Queue(self.limits.in_flight_batches)
        sender = asyncio.get_running_loop().create_task(self._send_replies(connection, replies))
        self._replies.add(replies)
        try:
            await self._read_frames(connection, identity.name, replies)
        except websockets.ConnectionClosed:
            pass
        finally:
            await replies.put(None)  # the sender always drains, so this never blocks for long
            await sender
            self._replies.discard(replies)

    async def _read_frames(
        self, connection: ServerConnection, contractor: str, replies: asyncio.Queue[_Reply | None]
    ) -> None:
        limits = self.limits
        try:
            first = await asyncio.wait_for(connection.recv(), limits.hello_timeout_s)
        except TimeoutError:
            message = "no hello received in time"
            await self._fatal(replies, ErrorCode.BAD_FRAME, message, CloseCode.POLICY_VIOLATION)
            return
        hello = await self._expect_hello(first, replies)
        if hello is None:
            return
        await self._welcome(contractor, hello, replies)
        bucket = TokenBucket(limits.events_per_second, limits.burst_events, time.monotonic())
        async for data in connection:
            if self._stopping:
                continue  # not stored, not acked: the client resends after reconnecting
            try:
                frame = decode_frame(data, limits.frames)
            except ProtocolError as error:
                if not await self._refuse(data, error, replies):
                    return
                continue
            if isinstance(frame, Hello):
                await self._welcome(contractor, frame, replies)
            elif isinstance(frame, Batch):
                wait_ms = bucket.take(len(frame.events), time.monotonic())
                if wait_ms:
                    await replies.put(_rate_limited(frame.session, wait_ms))
                    continue
                received = int(time.time() * 1000)
                pending = PendingBatch(
                    contractor, frame.session, frame.events, received, hello.client_name,
                    hello.client_version,
                )  # fmt: skip
                await replies.put(
                    _Reply(outcome=self._writer.submit(pending), session=frame.session)
                )
            else:
                kind = type(frame).__name__.lower()
                await replies.put(
                    _error(ErrorCode.BAD_FRAME, f"clients send hello and batch, not {kind}")
                )

    async def _expect_hello(
        self, message: str | bytes, replies: asyncio.Queue[_Reply | None]
    ) -> Hello | None:
        try:
            frame = decode_frame(message, self.limits.frames)
        except ProtocolError as error:
            close = (
                CloseCode.UNSUPPORTED_DATA if isinstance(message, str) else CloseCode.PROTOCOL_ERROR
            )
            await self._fatal(replies, error.code, error.message, close)
            return None
        if not isinstance(frame, Hello):
            await self._fatal(
                replies,
                ErrorCode.BAD_FRAME,
                "the first frame must be hello; see docs/protocol.md",
                CloseCode.POLICY_VIOLATION,
            )
            return None
        return frame

    async def _welcome(
        self, contractor: str, hello: Hello, replies: asyncio.Queue[_Reply | None]
    ) -> None:
        acked = self._store_reads().acked_for(contractor, hello.sessions)
        mine = {session: seq for session, seq in acked.items() if seq is not None}
        await replies.put(_Reply(frame=Welcome(acked=mine)))
        for session, seq in acked.items():
            if seq is None:
                await replies.put(
                    _error(
                        ErrorCode.FORBIDDEN,
                        f"session {session} belongs to another contractor; stop sending it",
                        session=session,
                    )
                )

    def _store_reads(self) -> Store:
        return Store(self._reads)

    async def _refuse(
        self, message: str | bytes, error: ProtocolError, replies: asyncio.Queue[_Reply | None]
    ) -> bool:
        """Answer a frame that failed to decode; False when the connection must close."""
        if isinstance(message, str):
            await self._fatal(replies, error.code, error.message, CloseCode.UNSUPPORTED_DATA)
            return False
        if len(message) > self.limits.frames.max_frame_bytes:
            await self._fatal(replies, error.code, error.message, CloseCode.MESSAGE_TOO_BIG)
            return False
        session = _batch_session(message)
        if session is None:  # not a batch we can name: garbage, or a broken frame of any kind
            await self._fatal(replies, error.code, error.message, CloseCode.PROTOCOL_ERROR)
            return False
        details = {"session": session} if session else {}
        await replies.put(_error(error.code, error.message, **details))
        return True

    async def _fatal(
        self,
        replies: asyncio.Queue[_Reply | None],
        code: ErrorCode,
        message: str,
        close: CloseCode,
    ) -> None:
        reply = _error(code, message)
        reply.close, reply.reason = close, f"{code}: {message}"[:120]
        await replies.put(reply)

    async def _send_replies(
        self, connection: ServerConnection, replies: asyncio.Queue[_Reply | None]
    ) -> None:
        """Send answers in order; once the connection is gone, keep draining (never block
        the reader) until the reader's ``None`` says it is done."""
        closed = False
        while (reply := await replies.get()) is not None:
            try:
                if not closed:
                    closed = await self._send_one(connection, reply)
            except websockets.ConnectionClosed:
                closed = True
            finally:
                replies.task_done()
        replies.task_done()

    async def _send_one(self, connection: ServerConnection, reply: _Reply) -> bool:
        """Send one answer; True when the connection is now closed."""
        frame = reply.frame
        if reply.outcome is not None:
            outcome = await reply.outcome
            session = reply.session or ""
            if isinstance(outcome, ProtocolError):
                frame = Error(outcome.code, outcome.message, {"session": session})
            else:
                frame = Ack(session=session, acked=outcome)
        if frame is not None:
            await connection.send(encode_frame(frame))
        if reply.close is not None:
            await connection.close(reply.close, reply.reason)
            return True
        return False


def _error(code: ErrorCode, message: str, **details: object) -> _Reply:
    return _Reply(frame=Error(code, message, details))


def _rate_limited(session: str, wait_ms: int) -> _Reply:
    return _error(
        ErrorCode.RATE_LIMITED,
        f"this connection sends faster than allowed; resend the batch after {wait_ms} ms",
        session=session,
        retry_after_ms=wait_ms,
    )


def _batch_session(message: bytes) -> str | None:
    """For a frame that failed to decode: '' or its session if it is a batch map, else None.

    Only a refused frame pays for this second parse. A batch that is a well-formed map keeps
    the connection open (other sessions go on); anything else is garbage and closes it.
    """
    try:
        body = msgpack.unpackb(message, raw=False, strict_map_key=False)
    except Exception:
        return None
    if not isinstance(body, dict) or body.get("t") != "batch":
        return None
    session = body.get("session")
    return session if isinstance(session, str) and len(session) <= 64 else ""


async def run_until_signalled(
    collector: Collector, on_started: Callable[[Collector], None] | None = None
) -> None:
    """Serve until SIGTERM or SIGINT, then stop cleanly (everything queued is committed)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await collector.start()
    if on_started is not None:
        on_started(collector)
    await stop.wait()
    log.info("stopping: committing what is queued")
    await collector.stop()
