"""The real collector process on loopback, a real websockets client, the real SQLite file."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path

import msgpack
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from edittrace.protocol import (
    Ack,
    Batch,
    Error,
    ErrorCode,
    Event,
    Frame,
    Hello,
    Welcome,
    decode_frame,
    encode_frame,
)
from tests.support.collector import RunningCollector, bearer


def new_session() -> str:
    return str(uuid.uuid4())


def saves(first: int, last: int, uri: str = "file:///w/a.py") -> tuple[Event, ...]:
    return tuple(
        Event(seq=seq, type="doc.save", ts=1_700_000_000_000 + seq, data={"uri": uri})
        for seq in range(first, last + 1)
    )


async def receive(ws: ClientConnection) -> Frame:
    return decode_frame(await asyncio.wait_for(ws.recv(), 20))


async def open_stream(
    collector: RunningCollector, token: str, sessions: Sequence[str] = ()
) -> tuple[ClientConnection, Welcome]:
    ws = await connect(collector.url, additional_headers=bearer(token), open_timeout=20)
    hello = Hello(sessions=tuple(sessions), client_name="t", client_version="1")
    await ws.send(encode_frame(hello))
    welcome = await receive(ws)
    assert isinstance(welcome, Welcome)
    return ws, welcome


async def send_batch(ws: ClientConnection, session: str, events: Sequence[Event]) -> Frame:
    await ws.send(encode_frame(Batch(session=session, events=tuple(events))))
    return await receive(ws)


async def closed_with(ws: ClientConnection) -> int | None:
    """The close code the collector chose, once it has closed the connection."""
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 20)
    return closed.value.rcvd.code if closed.value.rcvd else None


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["missing", "unknown", "revoked"])
async def test_bad_token_gets_401_saying_which(collector: RunningCollector, case: str) -> None:
    token = collector.token("ann")
    if case == "revoked":
        collector.cli("token", "revoke", "ann")
    headers = {} if case == "missing" else bearer(token if case == "revoked" else token + "x")
    with pytest.raises(InvalidStatus) as refused:
        await connect(collector.url, additional_headers=headers, open_timeout=20)
    response = refused.value.response
    assert response.status_code == 401
    assert response.body.decode().strip() == f"{case} token"
    assert collector.query("SELECT count(*) FROM sessions") == [(0,)]


async def test_good_token_gets_welcome_and_researcher_token_cannot_stream(
    collector: RunningCollector,
) -> None:
    ws, welcome = await open_stream(collector, collector.token("ann"), [new_session()])
    assert welcome.protocol == 1
    await ws.close()
    with pytest.raises(InvalidStatus) as refused:
        await connect(collector.url, additional_headers=bearer(collector.token("rita", True)))
    assert refused.value.response.status_code == 403


async def test_other_paths_go_to_the_route_table(collector: RunningCollector) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(collector.url.replace("/v1/stream", "/v2/stream"))
    assert refused.value.response.status_code == 404


# --- storing -------------------------------------------------------------------------------


async def test_ack_comes_after_the_rows_are_committed(collector: RunningCollector) -> None:
    session = new_session()
    ws, welcome = await open_stream(collector, collector.token("ann"), [session])
    assert welcome.acked == {session: 0}
    assert await send_batch(ws, session, saves(1, 3)) == Ack(session=session, acked=3)
    # The ack has arrived: another reader of the file must see every row already.
    assert [(row["seq"], row["contractor"]) for row in collector.events(session)] == [
        (1, "ann"),
        (2, "ann"),
        (3, "ann"),
    ]
    assert collector.events(session)[0]["data"] == {"uri": "file:///w/a.py"}
    assert await send_batch(ws, session, saves(4, 4)) == Ack(session=session, acked=4)
    await ws.close()
    ws, welcome = await open_stream(collector, collector.token("bob"), [session])
    assert welcome.acked == {}  # ann's session is not bob's: no acked value for it
    error = await receive(ws)
    assert isinstance(error, Error) and error.code is ErrorCode.FORBIDDEN
    assert error.details["session"] == session
    await ws.close()


async def test_resend_after_lost_ack_is_stored_once_and_acked_again(
    collector: RunningCollector,
) -> None:
    token = collector.token("ann")
    session = new_session()
    ws, _ = await open_stream(collector, token, [session])
    await ws.send(encode_frame(Batch(session=session, events=saves(1, 5))))
    await ws.close()  # gone before reading the ack: the client cannot know it was stored
    ws, welcome = await open_stream(collector, token, [session])
    acked = welcome.acked[session]
    assert acked in (0, 5)
    # A careless client resends everything anyway, plus more.
    assert await send_batch(ws, session, saves(1, 7)) == Ack(session=session, acked=7)
    assert await send_batch(ws, session, saves(1, 7)) == Ack(session=session, acked=7)
    assert [row["seq"] for row in collector.events(session)] == [1, 2, 3, 4, 5, 6, 7]
    await ws.close()


async def test_conflict_and_gap_change_nothing_and_connection_goes_on(
    collector: RunningCollector,
) -> None:
    session = new_session()
    ws, _ = await open_stream(collector, collector.token("ann"), [session])
    await send_batch(ws, session, saves(1, 3))
    before = collector.events(session)
    conflict = await send_batch(ws, session, saves(3, 5, uri="file:///w/other.py"))
    assert isinstance(conflict, Error) and conflict.code is ErrorCode.CONFLICT
    assert conflict.details["session"] == session
    gap = await send_batch(ws, session, saves(6, 7))
    assert isinstance(gap, Error) and gap.code is ErrorCode.OUT_OF_ORDER
    assert collector.events(session) == before
    assert await send_batch(ws, session, saves(4, 4)) == Ack(session=session, acked=4)
    await ws.close()


async def test_kill_9_between_batches_then_resume_loses_nothing(
    collector: RunningCollector,
) -> None:
    token = collector.token("ann")
    session = new_session()
    ws, _ = await open_stream(collector, token, [session])
    assert await send_batch(ws, session, saves(1, 50)) == Ack(session=session, acked=50)
    collector.kill()
    with pytest.raises(ConnectionClosed):
        await send_batch(ws, session, saves(51, 60))
    collector.restart()
    ws, welcome = await open_stream(collector, token, [session])
    resume = welcome.acked[session] + 1
    assert resume == 51  # what was acked survived the crash, nothing beyond it was stored
    assert await send_batch(ws, session, saves(resume, 100)) == Ack(session=session, acked=100)
    assert [row["seq"] for row in collector.events(session)] == list(range(1, 101))
    await ws.close()


async def test_sigterm_commits_acks_and_exits_zero(collector: RunningCollector) -> None:
    session = new_session()
    ws, _ = await open_stream(collector, collector.token("ann"), [session])
    assert await send_batch(ws, session, saves(1, 10)) == Ack(session=session, acked=10)
    # In a thread: this client must keep running to answer the collector's close handshake.
    assert await asyncio.to_thread(collector.terminate) == 0
    assert len(collector.events(session)) == 10
    assert await closed_with(ws) == 1001


async def test_many_batches_in_flight_are_acked_in_order(collector: RunningCollector) -> None:
    session = new_session()
    ws, _ = await open_stream(collector, collector.token("ann"), [session])
    for first in range(1, 1001, 10):
        await ws.send(encode_frame(Batch(session=session, events=saves(first, first + 9))))
    acks = [await receive(ws) for _ in range(100)]
    assert acks == [Ack(session=session, acked=last) for last in range(10, 1001, 10)]
    assert collector.query("SELECT count(*), max(seq) FROM events") == [(1000, 1000)]
    await ws.close()


# --- bad input -----------------------------------------------------------------------------


async def test_malformed_frames_get_errors_and_others_keep_being_served(
    collector: RunningCollector,
) -> None:
    token = collector.token("ann")
    session = new_session()
    bystander, _ = await open_stream(collector, token, [session])

    garbage, _ = await open_stream(collector, token)
    await garbage.send(b"\xc1\x00 not msgpack")
    error = await receive(garbage)
    assert isinstance(error, Error) and error.code is ErrorCode.BAD_FRAME
    assert await closed_with(garbage) == 1002

    text, _ = await open_stream(collector, token)
    await text.send('{"t": "batch"}')
    error = await receive(text)
    assert isinstance(error, Error) and error.code is ErrorCode.BAD_FRAME
    assert await closed_with(text) == 1003

    before_hello = await connect(collector.url, additional_headers=bearer(token))
    await before_hello.send(encode_frame(Batch(session=session, events=saves(1, 1))))
    error = await receive(before_hello)
    assert isinstance(error, Error) and error.code is ErrorCode.BAD_FRAME
    assert await closed_with(before_hello) == 1008

    # Well-formed batches with bad content: an error each, the connection stays open.
    kept, _ = await open_stream(collector, token)
    wrong_keys = msgpack.packb({"t": "batch", "session": session, "evts": []})
    await kept.send(wrong_keys)
    error = await receive(kept)
    assert isinstance(error, Error) and error.code is ErrorCode.BAD_FRAME
    assert error.details["session"] == session
    bad_data = Event(seq=1, type="doc.save", ts=1, data={"uri": 42})
    error = await send_batch(kept, session, [bad_data])
    assert isinstance(error, Error) and error.code is ErrorCode.BAD_FRAME
    huge_string = Event(seq=1, type="doc.save", ts=1, data={"uri": "x" * (2 * 1024 * 1024 + 1)})
    error = await send_batch(kept, session, [huge_string])
    assert isinstance(error, Error) and error.code is ErrorCode.TOO_LARGE
    too_many = saves(1, 1001)
    error = await send_batch(kept, session, too_many)
    assert isinstance(error, Error) and error.code is ErrorCode.TOO_LARGE
    assert await send_batch(kept, session, saves(1, 2)) == Ack(session=session, acked=2)

    # Over the frame limit: error, then closed with 1009 (message too big).
    oversized, _ = await open_stream(collector, token)
    await oversized.send(b"\x80" + b"\x00" * (8 * 1024 * 1024 + 10))
    error = await receive(oversized)
    assert isinstance(error, Error) and error.code is ErrorCode.TOO_LARGE
    assert await closed_with(oversized) == 1009

    # None of it touched stored data or the first connection.
    assert [row["seq"] for row in collector.events()] == [1, 2]
    assert await send_batch(bystander, session, saves(3, 3)) == Ack(session=session, acked=3)
    await bystander.close()
    await kept.close()


async def test_unsupported_version_is_refused_and_closed(collector: RunningCollector) -> None:
    ws = await connect(collector.url, additional_headers=bearer(collector.token("ann")))
    await ws.send(msgpack.packb({"t": "hello", "protocol": 99, "sessions": [], "client": {}}))
    error = await receive(ws)
    assert isinstance(error, Error) and error.code is ErrorCode.UNSUPPORTED_VERSION
    assert await closed_with(ws) == 1002


# --- several contractors -------------------------------------------------------------------


async def test_two_contractors_at_once_and_forbidden_cross_session_write(
    collector: RunningCollector,
) -> None:
    ann_session, bob_session = new_session(), new_session()
    ann, _ = await open_stream(collector, collector.token("ann"), [ann_session])
    bob, _ = await open_stream(collector, collector.token("bob"), [bob_session])
    await ann.send(encode_frame(Batch(session=ann_session, events=saves(1, 20))))
    await bob.send(encode_frame(Batch(session=bob_session, events=saves(1, 30))))
    assert await receive(ann) == Ack(session=ann_session, acked=20)
    assert await receive(bob) == Ack(session=bob_session, acked=30)
    forbidden = await send_batch(bob, ann_session, saves(21, 25))
    assert isinstance(forbidden, Error) and forbidden.code is ErrorCode.FORBIDDEN
    assert forbidden.details["session"] == ann_session
    rows = collector.query("SELECT session, contractor, count(*), max(seq) FROM events GROUP BY 1")
    assert sorted(rows) == sorted([(ann_session, "ann", 20, 20), (bob_session, "bob", 30, 30)])
    assert await send_batch(bob, bob_session, saves(31, 31)) == Ack(session=bob_session, acked=31)
    await ann.close()
    await bob.close()


async def test_rate_limited_batch_is_refused_with_retry_after(tmp_path: Path) -> None:
    slow = RunningCollector(tmp_path / "c.sqlite", ["--rate", "0.001", "--burst", "10"])
    slow.start()
    try:
        session = new_session()
        ws, _ = await open_stream(slow, slow.token("ann"), [session])
        assert await send_batch(ws, session, saves(1, 10)) == Ack(session=session, acked=10)
        refused = await send_batch(ws, session, saves(11, 12))
        assert isinstance(refused, Error) and refused.code is ErrorCode.RATE_LIMITED
        assert refused.details["retry_after_ms"] > 1000
        assert [row["seq"] for row in slow.events(session)] == list(range(1, 11))
        await ws.close()
    finally:
        slow.kill()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made as docs/collector.md says."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_serves_wss_with_the_given_certificate(
    tmp_path: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    secure = RunningCollector(
        tmp_path / "c.sqlite", ["--certfile", str(cert), "--keyfile", str(key)]
    )
    secure.start()
    try:
        assert secure.url.startswith("wss://")
        session = new_session()
        trust = ssl.create_default_context(cafile=str(cert))
        async with connect(
            secure.url, additional_headers=bearer(secure.token("ann")), ssl=trust
        ) as ws:
            await ws.send(encode_frame(Hello((session,), "t", "1")))
            assert await receive(ws) == Welcome(acked={session: 0})
            assert await send_batch(ws, session, saves(1, 2)) == Ack(session=session, acked=2)
        with pytest.raises(ssl.SSLError):  # a client that does not trust the certificate
            await connect(secure.url, additional_headers=bearer("x"), open_timeout=20)
    finally:
        secure.kill()


def test_plain_http_get_of_the_stream_path_is_refused_cleanly(collector: RunningCollector) -> None:
    token = collector.token("ann")
    request = urllib.request.Request(
        collector.http_url + "/v1/stream", headers={"Authorization": f"Bearer {token}"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=20)
    assert refused.value.code == 426  # Upgrade Required: it is a websocket endpoint
    with urllib.request.urlopen(collector.http_url + "/v1/health", timeout=20) as health:
        assert health.read() == b"ok\n"


async def test_no_fsync_still_keeps_what_was_acked_across_kill_9(tmp_path: Path) -> None:
    fast = RunningCollector(tmp_path / "c.sqlite", ["--no-fsync"])
    fast.start()
    try:
        token, session = fast.token("ann"), new_session()
        ws, _ = await open_stream(fast, token, [session])
        assert await send_batch(ws, session, saves(1, 30)) == Ack(session=session, acked=30)
        fast.kill()
        fast.restart()
        ws, welcome = await open_stream(fast, token, [session])
        assert welcome.acked == {session: 30}
        assert [row["seq"] for row in fast.events(session)] == list(range(1, 31))
        await ws.close()
    finally:
        fast.kill()
