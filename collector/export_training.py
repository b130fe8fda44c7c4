"""Training data in TRL's dataset formats: preference pairs and unpaired KTO examples.

Both are JSON Lines in TRL's *standard* (not conversational) format, which
``datasets.load_dataset("json", data_files=...)`` reads as is: ``prompt`` is the code before
the cursor (the ``prefix`` the provider saw); the code after it (``suffix``) is kept in
``metadata`` so fill-in-the-middle training can rebuild its own prompt. The labelling
policies are described in docs/exports.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from edittrace.collector.event_reader import EventFilter, read_events
from edittrace.collector.exports import ExportResult, Progress, counted, write_jsonl
from edittrace.collector.metrics import CandidateRow, SuggestionTable, build_table


def _context(row: CandidateRow) -> dict[str, Any]:
    return {
        "session": row.session,
        "contractor": row.contractor,
        "suggestion": row.suggestion,
        "uri": row.uri,
        "language": row.language,
        "suffix": row.suffix or "",
        "offered_ts": row.offered_ts,
    }


def _side(prefix: str, row: CandidateRow) -> dict[str, Any]:
    return {
        f"{prefix}_candidate": row.candidate,
        f"{prefix}_model": row.model,
        f"{prefix}_arm": row.arm,
        f"{prefix}_provider": row.provider,
    }


def _pair(source: str, chosen: CandidateRow, rejected: CandidateRow) -> dict[str, Any]:
    return {
        "prompt": chosen.prefix or "",
        "chosen": chosen.text,
        "rejected": rejected.text,
        "metadata": {
            "source": source,
            **_context(chosen),
            **_side("chosen", chosen),
            **_side("rejected", rejected),
        },
    }


def preference_pairs(table: SuggestionTable) -> Iterator[dict[str, Any]]:
    """Pairs from comparison choices, then from accepted-versus-not-accepted candidates.

    - ``comparison``: ``choice = candidate``; the preferred candidate against every other
      candidate in the comparison's ``order``. Ties and ``both_bad`` give no pair.
    - ``accept_vs_reject``: an offer where one candidate was accepted whole (not partially)
      and another was shown but not accepted.
    Pairs whose two texts are identical are skipped (they teach nothing).
    """
    for comparison in table.comparisons:
        if comparison.choice != "candidate" or comparison.candidate is None:
            continue
        by_index = {
            row.candidate: row for row in table.rows_of(comparison.session, comparison.suggestion)
        }
        preferred = by_index.get(comparison.candidate)
        if preferred is None:
            continue
        for index in comparison.order or sorted(by_index):
            other = by_index.get(index)
            if other is None or index == preferred.candidate or other.text == preferred.text:
                continue
            yield _pair("comparison", preferred, other)
    for offer in table.offers:
        rows = table.rows_of(offer.session, offer.suggestion)
        for chosen in rows:
            if not chosen.accepted or chosen.partial:
                continue
            for rejected in rows:
                if rejected is chosen or rejected.accepted or not rejected.shown:
                    continue
                if rejected.text != chosen.text:
                    yield _pair("accept_vs_reject", chosen, rejected)


def kto_label(row: CandidateRow, checkpoint: int) -> tuple[bool, str] | None:
    """(label, reason) for one candidate, or ``None`` when it is left out.

    - true, ``accepted_unchanged``: accepted whole and unchanged at the checkpoint;
    - false, ``rejected``: shown and explicitly rejected (``outcome = rejected``);
    - false, ``accepted_then_rewritten``: accepted whole but not even mostly unchanged
      (Levenshtein distance >= 33%) at the checkpoint;
    - left out: not shown; ignored (shown, neither accepted nor rejected: a weak signal, as
      Copilot Arena also records nothing for it); partial accepts; accepted but only mostly
      unchanged; accepted without a measurement at the checkpoint.
    """
    if not row.shown:
        return None
    if row.accepted:
        point = row.persistence.get(checkpoint)
        if row.partial or point is None:
            return None
        if point.unchanged:
            return True, "accepted_unchanged"
        if not point.mostly_unchanged:
            return False, "accepted_then_rewritten"
        return None
    if row.outcome == "rejected":
        return False, "rejected"
    return None


def kto_examples(table: SuggestionTable, checkpoint: int = 30) -> Iterator[dict[str, Any]]:
    for row in table.rows:
        labelled = kto_label(row, checkpoint)
        if labelled is None:
            continue
        label, reason = labelled
        yield {
            "prompt": row.prefix or "",
            "completion": row.text,
            "label": label,
            "metadata": {
                "reason": reason,
                "checkpoint_s": checkpoint,
                **_context(row),
                "candidate": row.candidate,
                "model": row.model,
                "arm": row.arm,
                "provider": row.provider,
            },
        }


def export_preference(
    db: sqlite_utils.Database, selection: EventFilter, out: Path, progress: Progress
) -> ExportResult:
    table = build_table(counted(read_events(db, selection), progress))
    return ExportResult({"pairs": write_jsonl(out, preference_pairs(table))}, [out])


def export_kto(
    db: sqlite_utils.Database,
    selection: EventFilter,
    out: Path,
    progress: Progress,
    *,
    checkpoint: int = 30,
) -> ExportResult:
    table = build_table(counted(read_events(db, selection), progress))
    return ExportResult({"examples": write_jsonl(out, kto_examples(table, checkpoint))}, [out])
