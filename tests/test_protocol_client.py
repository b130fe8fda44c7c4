"""The sans-I/O upload client: what it sends, resends, and refuses to hammer."""

from __future__ import annotations

from edittrace.protocol.client import UploadClient
from edittrace.protocol.errors import ErrorCode
from edittrace.protocol.frames import (
    Ack,
    Batch,
    Error,
    Event,
    Frame,
    Hello,
    Welcome,
    decode_frame,
    encode_frame,
)

S1 = "0f8fad5b-d9cb-469f-a165-70867728950e"
S2 = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def events(first: int, last: int) -> list[Event]:
    data = {"uri": "file:///a.py"}
    return [Event(seq, "doc.close", 1000 + seq, data) for seq in range(first, last + 1)]


def wire(frames: list[Frame]) -> list[Frame]:
    """Frames as the collector would read them: through the real encoding."""
    return [decode_frame(encode_frame(frame)) for frame in frames]


def batches(frames: list[Frame]) -> list[tuple[str, int, int]]:
    return [(f.session, f.events[0].seq, f.events[-1].seq) for f in frames if isinstance(f, Batch)]


def connected(client: UploadClient, acked: dict[str, int], sessions: list[str]) -> list[Frame]:
    client.connect(sessions)
    hello = client.frames_to_send()
    client.receive(Welcome(acked=acked))
    return hello


def test_hello_comes_first_and_nothing_is_sent_before_welcome() -> None:
    client = UploadClient("edittrace-lsp", "0.1.0")
    client.connect([S2, S1])
    client.offer(S1, events(1, 5))
    frames = wire(client.frames_to_send())
    assert frames == [Hello(sessions=(S1, S2), client_name="edittrace-lsp", client_version="0.1.0")]
    assert client.wants() == {} and not client.connected


def test_welcome_acked_n_resumes_at_n_plus_one() -> None:
    client = UploadClient("c", "1")
    connected(client, {S1: 40}, [S1])
    assert client.connected
    assert client.wants() == {S1: 40}
    assert client.take_acknowledged() == {S1: 40}  # the local copy up to 40 can go
    client.offer(S1, events(35, 60))  # whatever the driver read, only 41.. is sent
    assert batches(wire(client.frames_to_send())) == [(S1, 41, 60)]


def test_a_lost_ack_means_a_resend_after_reconnect() -> None:
    client = UploadClient("c", "1")
    connected(client, {S1: 0}, [S1])
    client.offer(S1, events(1, 10))
    assert batches(client.frames_to_send()) == [(S1, 1, 10)]
    client.disconnect()  # the ack never came
    assert not client.connected
    connected(client, {S1: 0}, [S1])
    assert client.wants() == {S1: 0}
    client.offer(S1, events(1, 10))
    assert batches(client.frames_to_send()) == [(S1, 1, 10)]

    client.receive(Ack(session=S1, acked=10))
    assert client.take_acknowledged() == {S1: 10}
    assert client.take_acknowledged() == {}


def test_a_welcome_that_already_has_the_batch_skips_it() -> None:
    client = UploadClient("c", "1")
    connected(client, {S1: 0}, [S1])
    client.offer(S1, events(1, 10))
    client.frames_to_send()
    client.disconnect()  # stored, but the ack was lost with the connection
    connected(client, {S1: 10}, [S1])
    assert client.take_acknowledged() == {S1: 10}
    client.offer(S1, events(1, 10))
    assert client.frames_to_send() == []
    assert client.wants() == {S1: 10}


def test_batches_in_flight_are_bounded_and_acks_make_room() -> None:
    client = UploadClient("c", "1", batch_events=5, max_in_flight=2)
    connected(client, {}, [S1])
    client.offer(S1, events(1, 100))
    assert client.wants() == {S1: 5}
    client.offer(S1, events(6, 100))
    assert batches(client.frames_to_send()) == [(S1, 1, 5), (S1, 6, 10)]
    assert client.wants() == {}
    client.receive(Ack(session=S1, acked=5))
    assert client.wants() == {S1: 10}
    assert not client.idle()
    client.receive(Ack(session=S1, acked=10))
    assert client.idle()


def test_conflict_parks_the_session_reports_it_and_other_sessions_go_on() -> None:
    client = UploadClient("c", "1")
    connected(client, {}, [S1, S2])
    client.offer(S1, events(1, 3))
    client.offer(S2, events(1, 3))
    client.frames_to_send()
    client.receive(
        Error(ErrorCode.CONFLICT, "seq 2 differs from the stored event", {"session": S1})
    )
    assert client.last_error is not None and "conflict" in client.last_error
    assert S1 in client.parked()
    client.receive(Ack(session=S2, acked=3))
    assert client.wants() == {S2: 3}
    client.offer(S1, events(1, 3))  # the driver may offer again: nothing goes out
    assert client.frames_to_send() == []

    client.disconnect()  # still parked after a reconnect: no hot loop
    connected(client, {S1: 1, S2: 3}, [S1, S2])
    assert client.wants() == {S2: 3}
    assert client.last_error is not None and S1 in client.last_error


def test_forbidden_parks_the_session() -> None:
    client = UploadClient("c", "1")
    connected(client, {}, [S1])
    client.offer(S1, events(1, 3))
    client.frames_to_send()
    client.receive(Error(ErrorCode.FORBIDDEN, "belongs to another contractor", {"session": S1}))
    assert client.parked() == {S1: "forbidden: belongs to another contractor"}
    assert client.wants() == {}


def test_out_of_order_rewinds_to_the_acked_seq() -> None:
    client = UploadClient("c", "1", batch_events=5)
    connected(client, {S1: 0}, [S1])
    client.offer(S1, events(1, 5))
    client.offer(S1, events(6, 10))
    client.frames_to_send()
    client.receive(Ack(session=S1, acked=5))
    client.receive(Error(ErrorCode.OUT_OF_ORDER, "resend from 6", {"session": S1}))
    assert client.wants() == {S1: 5}
    client.offer(S1, events(6, 10))
    assert batches(client.frames_to_send()) == [(S1, 6, 10)]


def test_too_large_halves_the_batch_and_rate_limited_asks_for_a_pause() -> None:
    client = UploadClient("c", "1", batch_events=8)
    connected(client, {}, [S1])
    client.offer(S1, events(1, 20))
    client.frames_to_send()
    client.receive(Error(ErrorCode.TOO_LARGE, "frame too large", {"session": S1}))
    assert client.limit(S1) == 4
    client.offer(S1, events(1, 20))
    assert batches(client.frames_to_send()) == [(S1, 1, 4)]
    client.receive(
        Error(ErrorCode.RATE_LIMITED, "slow down", {"session": S1, "retry_after_ms": 750})
    )
    assert client.retry_after_ms == 750
    assert client.wants() == {}  # until the driver has waited and cleared it
    client.retry_after_ms = None
    assert client.wants() == {S1: 0}


def test_a_gap_in_what_is_offered_is_not_sent() -> None:
    client = UploadClient("c", "1")
    connected(client, {S1: 3}, [S1])
    client.offer(S1, events(6, 9))  # 4 and 5 missing: never send a gap
    assert client.frames_to_send() == []
    client.offer(S1, [*events(4, 5), *events(7, 8)])
    assert batches(client.frames_to_send()) == [(S1, 4, 5)]


def test_sessions_that_appear_later_are_sent_from_the_start() -> None:
    client = UploadClient("c", "1")
    connected(client, {S1: 2}, [S1])
    client.track([S2])
    assert client.wants() == {S1: 2, S2: 0}
