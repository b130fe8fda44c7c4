"""Hold-back masking through a real outbox file: what leaves the machine never holds a secret.

Each scenario produces the raw events an editor session would, appends them to an outbox
as time passes, releases every simulated second (as the server does) and collects what is
sent. The leak check is independent of the masker: no 4-character piece of the secret that
is not also in the surrounding, non-secret text may appear in any string of any released
event. A replay of the released changes (with the capture core's own document mirror) must
reproduce every released snapshot, text and sha256.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from edittrace.capture.documents import DocumentMirror
from edittrace.capture.masking import mask_char
from edittrace.capture.outbox import Outbox
from edittrace.protocol.frames import Event
from tests.secrets_corpus import Sample, positives

HOLD_BACK_MS = 10_000  # the default of outbox.holdBackSeconds
URI = "file:///work/app/settings.py"
CONTEXT = "import os\n\n\ndef main() -> None:\n    print('hello')\n\n"
SAMPLES = positives()


class Editor:
    """Raw events of one session, with LSP positions computed from its own copy of the text."""

    def __init__(
        self, start_ms: int = 1_700_000_000_000, seed: int = 7, encoding: str = "utf-16"
    ) -> None:
        self.encoding = encoding
        self.rng = random.Random(seed)
        self.now = start_ms
        self.events: list[Event] = []
        self.text = ""
        self.version = 0
        self.emit(
            "session.start",
            {"client": "test", "client_version": "1", "position_encoding": encoding},
        )

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        self.events.append(Event(len(self.events) + 1, kind, self.now, data))

    def position(self, offset: int) -> dict[str, int]:
        line = self.text.count("\n", 0, offset)
        start = self.text.rfind("\n", 0, offset) + 1
        head = self.text[start:offset]
        units = {
            "utf-8": len(head.encode("utf-8")),
            "utf-16": len(head.encode("utf-16-le")) // 2,
            "utf-32": len(head),
        }[self.encoding]
        return {"line": line, "character": units}

    def open(self, text: str) -> None:
        self.text, self.version = text, 1
        self.emit("doc.open", {"uri": URI, "language_id": "python", "version": 1, "text": text})

    def replace(self, start: int, end: int, new: str, after_ms: int = 0) -> None:
        self.now += after_ms
        rng = {"start": self.position(start), "end": self.position(end)}
        self.text = self.text[:start] + new + self.text[end:]
        self.version += 1
        change = {"range": rng, "text": new}
        self.emit("doc.change", {"uri": URI, "version": self.version, "changes": [change]})

    def type(self, text: str, at: int | None = None) -> None:
        """One doc.change per character, 60-250 ms apart, as a person types."""
        offset = len(self.text) if at is None else at
        for char in text:
            self.replace(offset, offset, char, after_ms=self.rng.randrange(60, 250))
            offset += 1

    def snapshot(self) -> None:
        self.now += 10
        digest = hashlib.sha256(self.text.encode()).hexdigest()
        data = {"uri": URI, "version": self.version, "text": self.text, "sha256": digest}
        self.emit("doc.snapshot", data)

    def idle(self, ms: int) -> None:
        self.now += ms


def deliver(tmp_path: Path, events: list[Event], *, reopen: bool = False) -> list[Event]:
    """Append as time passes, release every second, take what is sendable, acknowledge it."""
    session = str(uuid.uuid4())
    path = tmp_path / f"outbox-{session}.sqlite"
    outbox = Outbox(path, HOLD_BACK_MS)
    sent: list[Event] = []
    clock = events[0].ts
    appended = 0
    while len(sent) < len(events):
        clock += 1_000
        arrived = [e for e in events[appended:] if e.ts <= clock]
        outbox.append(session, arrived)
        appended += len(arrived)
        outbox.release(clock)
        batch = outbox.sendable(session, sent[-1].seq if sent else 0, 10_000)
        if batch:
            sent.extend(batch)
            outbox.acknowledge(session, batch[-1].seq)
        if reopen:
            outbox.close()
            outbox = Outbox(path, HOLD_BACK_MS)
    assert outbox.queued() == 0
    outbox.close()
    return sent


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def leaked_pieces(secret: str, context: str, released: list[Event]) -> list[str]:
    """4-character pieces of ``secret`` (not in the non-secret ``context``) that were sent."""
    sent = "\x00".join(s for event in released for s in strings(event.data))
    pieces = {secret[i : i + 4] for i in range(len(secret) - 3)}
    return sorted(p for p in pieces if "\n" not in p and p not in context and p in sent)


def replay(released: list[Event]) -> DocumentMirror | None:
    """Apply the released stream; assert each snapshot equals the replayed text."""
    mirror: DocumentMirror | None = None
    encoding = "utf-16"
    for event in released:
        data = event.data
        if event.type == "session.start":
            encoding = data["position_encoding"]
        if event.type == "doc.open":
            mirror = DocumentMirror(data["text"], version=data["version"], encoding=encoding)
        elif event.type == "doc.change" and mirror is not None:
            for change in data["changes"]:
                mirror.apply(change)
        elif event.type == "doc.snapshot":
            assert mirror is not None
            assert mirror.text() == data["text"], f"snapshot at seq {event.seq} differs"
            assert hashlib.sha256(mirror.text().encode()).hexdigest() == data["sha256"]
    return mirror


def all_masked(text: str) -> bool:
    return all(char == mask_char(char) or char in "\r\n" for char in text)


def sample_context(sample: Sample) -> str:
    return CONTEXT + sample.text[: sample.start] + sample.text[sample.end :]


@pytest.mark.parametrize("sample", SAMPLES, ids=[f"{s.format}-{s.language}" for s in SAMPLES])
def test_a_secret_typed_key_by_key_never_leaves(tmp_path: Path, sample: Sample) -> None:
    editor = Editor()
    editor.open(CONTEXT)
    editor.type(sample.text)
    editor.snapshot()
    released = deliver(tmp_path, editor.events)

    assert leaked_pieces(sample.secret, sample_context(sample), released) == []
    mirror = replay(released)
    assert mirror is not None
    start = len(CONTEXT) + sample.start
    assert all_masked(mirror.text()[start : start + len(sample.secret)])


@pytest.mark.parametrize("sample", SAMPLES[::3], ids=[s.format for s in SAMPLES[::3]])
def test_a_pasted_secret_never_leaves(tmp_path: Path, sample: Sample) -> None:
    editor = Editor()
    editor.open(CONTEXT)
    editor.replace(len(CONTEXT), len(CONTEXT), sample.text, after_ms=500)
    editor.snapshot()
    released = deliver(tmp_path, editor.events)
    assert leaked_pieces(sample.secret, sample_context(sample), released) == []
    replay(released)


def test_a_key_edited_mid_token_is_masked_in_every_version(tmp_path: Path) -> None:
    key = "ghp_" + "Q7w9ErT2yU4iO6pA8sD0fG1hJ3kL5zX7cV9b"
    editor = Editor()
    editor.open(CONTEXT)
    editor.type('TOKEN = "' + key + '"\n')
    middle = len(CONTEXT) + len('TOKEN = "') + 20
    editor.replace(middle, middle + 3, "", after_ms=400)  # a typo fixed mid-token
    editor.type("ZZZ", at=middle)
    editor.snapshot()
    released = deliver(tmp_path, editor.events)
    assert leaked_pieces(key, CONTEXT + 'TOKEN = ""\n', released) == []
    mirror = replay(released)
    assert mirror is not None and "ghp_" not in mirror.text()


def test_a_half_deleted_key_stays_masked(tmp_path: Path) -> None:
    key = "AKIA" + "Z7Q2W4E6R8T1Y3U5"
    editor = Editor()
    editor.open(CONTEXT)
    editor.type("aws_key = '" + key + "'\n")
    end = len(CONTEXT) + len("aws_key = '") + len(key)
    editor.replace(end - 10, end, "", after_ms=800)  # what remains is no longer a key shape
    editor.snapshot()
    released = deliver(tmp_path, editor.events)
    assert leaked_pieces(key, CONTEXT + "aws_key = ''\n", released) == []
    replay(released)


def test_a_key_typed_then_deleted_within_the_hold_back_never_leaves(tmp_path: Path) -> None:
    key = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    editor = Editor()
    editor.open(CONTEXT)
    editor.type("stripe.api_key = '" + key + "'")
    start = len(CONTEXT)
    editor.replace(start, len(editor.text), "", after_ms=1_500)
    replacement = "stripe.api_key = os.environ['STRIPE_KEY']\n"
    editor.type(replacement)
    editor.snapshot()
    released = deliver(tmp_path, editor.events)
    assert leaked_pieces(key, CONTEXT + replacement, released) == []
    replay(released)


def test_a_private_key_block_is_masked_whole_keeping_its_lines(tmp_path: Path) -> None:
    sample = next(s for s in SAMPLES if s.format == "private_key_rsa")
    editor = Editor()
    editor.open(CONTEXT)
    lines = sample.text.splitlines(keepends=True)
    editor.type(lines[0] + lines[1])  # header typed
    for line in lines[2:]:  # then the body pasted line by line
        editor.replace(len(editor.text), len(editor.text), line, after_ms=300)
    editor.snapshot()
    released = deliver(tmp_path, editor.events)
    assert leaked_pieces(sample.secret, sample_context(sample), released) == []
    mirror = replay(released)
    assert mirror is not None
    text = mirror.text()
    assert text.count("\n") == editor.text.count("\n")
    assert "BEGIN RSA" not in text and "END RSA" not in text


def test_snapshots_match_a_replay_of_the_released_stream(tmp_path: Path) -> None:
    editor = Editor()
    editor.open(CONTEXT + 'OLD = "AKIAOLDOLDOLDOLD1234"\n')  # a secret already in the file
    editor.snapshot()
    for sample in SAMPLES[:12]:
        editor.type(sample.text)
        editor.snapshot()
        editor.idle(45_000)  # beyond the hold-back: earlier text is released meanwhile
    editor.replace(0, 6, "import sys", after_ms=100)
    editor.snapshot()
    released = deliver(tmp_path, editor.events)
    snapshots = [e for e in released if e.type == "doc.snapshot"]
    assert len(snapshots) == 14
    replay(released)
    assert "AKIAOLD" not in snapshots[0].data["text"]


def test_a_restart_between_releases_changes_nothing(tmp_path: Path) -> None:
    editor = Editor()
    editor.open(CONTEXT)
    for sample in SAMPLES[:6]:
        editor.type(sample.text)
        editor.snapshot()
    straight = deliver(tmp_path, editor.events)
    restarted = deliver(tmp_path, editor.events, reopen=True)
    assert [e.data for e in restarted] == [e.data for e in straight]
    replay(restarted)


def test_suggestions_ratings_and_unknown_events_are_masked(tmp_path: Path) -> None:
    key = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9o"
    editor = Editor()
    editor.open(CONTEXT)
    editor.type('OPENAI_API_KEY = "' + key + '"\n')
    suggestion = str(uuid.uuid4())
    candidate = {
        "index": 0,
        "text": "client = OpenAI(api_key='" + key + "')",
        "range": {"start": {"line": 7, "character": 0}, "end": {"line": 7, "character": 0}},
        "provider": "builtin",
    }
    offered = {
        "suggestion": suggestion,
        "uri": URI,
        "version": editor.version,
        "position": {"line": 7, "character": 0},
        "trigger": "automatic",
        "latency_ms": 3.5,
        "candidates": [candidate],
        "prefix": key[10:] + '"\n',  # the context window cut the key: no prefix left to see
        "suffix": "",
    }
    editor.emit("suggestion.offered", offered)
    editor.emit(
        "suggestion.accepted",
        {"suggestion": suggestion, "candidate": 0, "source": "lsp", "uri": URI,
         "text": candidate["text"]},
    )  # fmt: skip
    editor.emit(
        "rating.submitted",
        {"suggestion": suggestion, "source": "lsp", "comment": "it leaked " + key[:30]},
    )
    editor.emit("x.clipboard", {"copied": ["harmless", key], "note": {"deep": key}})
    released = deliver(tmp_path, editor.events)
    assert leaked_pieces(key, CONTEXT, released) == []
    by_type = {e.type: e.data for e in released}
    assert by_type["suggestion.offered"]["suggestion"] == suggestion  # ids are left alone
    assert by_type["suggestion.offered"]["uri"] == URI
    assert by_type["x.clipboard"]["copied"][0] == "harmless"


def test_ordinary_code_is_released_unchanged(tmp_path: Path) -> None:
    editor = Editor()
    editor.open(CONTEXT)
    code = "def total(items: list[int]) -> int:\n    return sum(item * 2 for item in items)\n"
    editor.type(code)
    editor.snapshot()
    released = deliver(tmp_path, editor.events)
    assert [e.data for e in released] == [e.data for e in editor.events]


def offer(editor: Editor, prefix: str, candidate_text: str) -> None:
    position = editor.position(len(editor.text))
    candidate = {
        "index": 0,
        "text": candidate_text,
        "range": {"start": position, "end": position},
        "provider": "builtin",
    }
    data = {
        "suggestion": str(uuid.uuid4()),
        "uri": URI,
        "version": editor.version,
        "position": position,
        "trigger": "automatic",
        "latency_ms": 2.0,
        "candidates": [candidate],
        "prefix": prefix,
        "suffix": "",
    }
    editor.emit("suggestion.offered", data)


def test_a_half_typed_key_in_an_offers_prefix_is_masked_by_what_it_became(
    tmp_path: Path,
) -> None:
    key = "AKIA" + "J4K8L2M6N0P3Q7R1"
    editor = Editor()
    editor.open(CONTEXT)
    editor.type("aws_key = '" + key[:7])
    offer(editor, editor.text[-40:], "xyz")  # asked for a completion mid-key
    editor.type(key[7:] + "'\n")
    released = deliver(tmp_path, editor.events)
    prefix = next(e for e in released if e.type == "suggestion.offered").data["prefix"]
    assert prefix.endswith("aws_key = '*******")
    assert leaked_pieces(key, CONTEXT + "aws_key = ''\n", released) == []


def test_a_candidate_that_completes_a_key_is_masked(tmp_path: Path) -> None:
    editor = Editor()
    editor.open(CONTEXT)
    editor.type("client = Stripe('sk_live_")
    completion = "Xb7Qm2Zp9Lk4Wd8Rt5Yh3Jc6')"
    offer(editor, editor.text[-30:], completion)
    released = deliver(tmp_path, editor.events)
    data = next(e for e in released if e.type == "suggestion.offered").data
    assert data["candidates"][0]["text"] == "*" * (len(completion) - 2) + "')"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_offsets_hold_in_every_position_encoding(tmp_path: Path, encoding: str) -> None:
    editor = Editor(encoding=encoding)
    editor.open("# Grüße 😀 from Zürich\n")
    secret = "pässwörd😀Ünïcode€42"
    editor.type('greeting = "héllo 😀"; password = "' + secret + '"; after = "ok"\n')
    editor.replace(2, 7, "Hi", after_ms=200)  # an edit before the masked text, on its line
    editor.type("tail 😀 é\n")
    editor.snapshot()
    released = deliver(tmp_path, editor.events)
    mirror = replay(released)
    assert mirror is not None
    text = mirror.text()
    assert 'greeting = "héllo 😀"; password = "' in text and '"; after = "ok"' in text
    assert secret not in text and "pässw" not in text and text.endswith("tail 😀 é\n")


def test_applying_changes_from_line_hints_agrees_with_the_capture_mirror() -> None:
    from edittrace.capture.masking import LineHint, apply_change_near

    rng = random.Random(11)
    alphabet = ["a", "b", "é", "😀", "\n", "\r\n", "\r", " "]
    for encoding in ("utf-16", "utf-8", "utf-32"):
        text = "".join(rng.choice(alphabet) for _ in range(60))
        mirror = DocumentMirror(text, version=1, encoding=encoding)
        hint: LineHint = (0, 0)
        for _ in range(300):
            lines = mirror.line_count
            start = {"line": rng.randrange(lines + 1), "character": rng.randrange(6)}
            end = {"line": start["line"] + rng.randrange(2), "character": rng.randrange(6)}
            if (end["line"], end["character"]) < (start["line"], start["character"]):
                end = start
            new = "".join(rng.choice(alphabet) for _ in range(rng.randrange(4)))
            change = {"range": {"start": start, "end": end}, "text": new}
            text, _, _, hint = apply_change_near(text, change, encoding, hint)
            mirror.apply(change)
            assert text == mirror.text()
