"""Secret masking: recall per format, false positives, and what releasing costs.

    python bench/secrets_recall.py

Prints, for every format of tests/secrets_corpus/:
- detection recall: the secret's characters all inside detected spans, in its context;
- typed recall: the context typed key by key (60-250 ms per key) into a document, through a
  real outbox with the default 10 s hold-back, released every simulated second; a sample
  counts as caught when no 4-character piece of the secret reaches any released string;
- pasted recall: the same, pasted in one change.
Then the false positives on tests/secrets_corpus/negatives/ (characters masked), and the
CPU the outbox thread spends releasing while someone types into a large file.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from pathlib import Path

from edittrace.capture.outbox import Outbox
from edittrace.capture.secrets import secret_spans
from tests.secrets_corpus import Sample, negatives, positives
from tests.test_capture_masking import CONTEXT, Editor, deliver, leaked_pieces, sample_context


def detected(sample: Sample) -> bool:
    spans = secret_spans(sample.text)
    return all(
        any(a <= i < b for a, b in spans)
        for i in range(sample.start, sample.end)
        if sample.text[i] not in "\r\n"
    )


def through_outbox(sample: Sample, directory: Path, *, paste: bool) -> bool:
    editor = Editor()
    editor.open(CONTEXT)
    if paste:
        editor.replace(len(CONTEXT), len(CONTEXT), sample.text, after_ms=300)
    else:
        editor.type(sample.text)
    released = deliver(directory, editor.events)
    return not leaked_pieces(sample.secret, sample_context(sample), released)


def recall_table(directory: Path) -> None:
    rows: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    for sample in positives():
        rows[sample.format].append(
            (
                detected(sample),
                through_outbox(sample, directory, paste=False),
                through_outbox(sample, directory, paste=True),
            )
        )
    print(f"{'format':<24} {'samples':>7} {'detected':>9} {'typed':>7} {'pasted':>7}")
    totals = [0, 0, 0, 0]
    for fmt, results in sorted(rows.items()):
        counts = [sum(r[i] for r in results) for i in range(3)]
        totals[0] += len(results)
        for i, count in enumerate(counts, start=1):
            totals[i] += count
        shares = "".join(f" {c / len(results):>8.0%}" for c in counts)
        print(f"{fmt:<24} {len(results):>7}{shares}")
    shares = "".join(f" {c / totals[0]:>8.0%}" for c in totals[1:])
    print(f"{'all':<24} {totals[0]:>7}{shares}")


def false_positives() -> None:
    total = masked = 0
    for name, text in negatives():
        hidden = sum(end - start for start, end in secret_spans(text))
        total += len(text)
        masked += hidden
        print(f"negative {name:<22} {len(text):>6} chars, {hidden:>4} masked")
    print(f"false positive rate: {masked / total:.3%} of {total} characters")
    # This repository's own source: ordinary code the corpus did not choose.
    root = Path(__file__).resolve().parent.parent
    total = masked = 0
    examples: list[str] = []
    for package in ("capture", "protocol", "server", "collector", "cli"):
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            spans = secret_spans(text)
            total += len(text)
            masked += sum(end - start for start, end in spans)
            examples.extend(f"{path.name}: {text[a:b][:40]!r}" for a, b in spans)
    print(f"this repository's source: {masked} of {total} characters masked ({masked / total:.3%})")
    for example in examples[:10]:
        print(f"  {example}")


def release_cost(directory: Path) -> None:
    """Typing 600 keys at the end of a ~100 kB file; releases every second, 10 s hold-back."""
    big = "\n".join(text for _, text in negatives()) * 10
    editor = Editor()
    editor.open(big)
    editor.type(("total = compute(items, limit=10)\n" * 20)[:600])
    session = "0f8fad5b-d9cb-469f-a165-70867728950e"
    outbox = Outbox(directory / "cost.sqlite", 10_000)
    clock, appended, spent = editor.events[0].ts, 0, 0.0
    while outbox.queued() or appended < len(editor.events):
        clock += 1_000
        arrived = [e for e in editor.events[appended:] if e.ts <= clock]
        outbox.append(session, arrived)
        appended += len(arrived)
        started = time.process_time()
        outbox.release(clock)
        spent += time.process_time() - started
        sendable = outbox.sendable(session, 0, 100_000)
        if sendable:
            outbox.acknowledge(session, sendable[-1].seq)
    typed_s = (editor.events[-1].ts - editor.events[0].ts) / 1000
    print(
        f"release cost: {spent * 1000:.0f} ms CPU for {typed_s:.0f} s of typing into a "
        f"{len(big) // 1000} kB file = {spent / typed_s:.1%} of one core"
    )
    outbox.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        recall_table(directory)
        false_positives()
        release_cost(directory)


if __name__ == "__main__":
    main()
