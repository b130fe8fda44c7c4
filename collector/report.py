"""The metrics report: computed once, rendered as a table for people or CSV/JSON for programs."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edittrace.collector.aggregates import arm_win_rates, group_metrics, position_bias
from edittrace.collector.metrics import SuggestionTable

FORMATS = ("table", "csv", "json")


@dataclass
class Report:
    by: str
    groups: list[dict[str, Any]]
    arms: list[dict[str, Any]]
    checkpoints: list[int]
    notes: list[str] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "checkpoints": self.checkpoints,
            "groups": self.groups,
            "arms": self.arms,
            "positions": self.positions,
            "notes": self.notes,
        }


def build_report(table: SuggestionTable, by: str) -> Report:
    groups = group_metrics(table, by)
    notes: list[str] = []
    fallback = sum(group["shown_fallback"] for group in groups)
    if table.sessions_without_shown:
        notes.append(
            f"{len(table.sessions_without_shown)} session(s) reported no suggestion.shown events; "
            f"{fallback} candidate(s) were counted as shown by the fallback rule "
            "(first in shown_order, or on screen per suggestion.ended): see docs/metrics.md"
        )
    if not table.offers:
        notes.append("no suggestion.offered events in the selection")
    return Report(by, groups, arm_win_rates(table), table.checkpoints, notes, position_bias(table))


def render(report: Report, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
    if output_format == "csv":
        return to_csv(report.groups)
    if output_format == "table":
        return render_table(report)
    raise ValueError(f"unknown format {output_format!r}; choose one of {', '.join(FORMATS)}")


def to_csv(records: Sequence[dict[str, Any]]) -> str:
    """Records as CSV, one column per key; empty cells for missing figures."""
    if not records:
        return ""
    buffer = io.StringIO()
    columns = list(records[0])
    for record in records[1:]:
        columns.extend(key for key in record if key not in columns)
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({key: "" if value is None else value for key, value in record.items()})
    return buffer.getvalue()


# --- the table for people ---------------------------------------------------------------------

_PERCENT = ("rate", "persistence", "efficiency", "share")


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):  # bool is an int too
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if any(word in key for word in _PERCENT):
            return f"{value * 100:.1f}%"
        return f"{value:.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _rows_for_people(group: dict[str, Any], checkpoints: list[int]) -> list[tuple[str, str]]:
    """(label, cell) pairs, intervals folded into their rate."""

    def rate(key: str, label: str) -> tuple[str, str]:
        cell = _cell(key, group.get(key))
        low, high = group.get(f"{key}_low"), group.get(f"{key}_high")
        if low is not None and high is not None:
            cell += f" [{low * 100:.1f}–{high * 100:.1f}]"
        return label, cell

    rows = [
        ("opportunities (offers)", _cell("n", group["opportunities"])),
        ("candidates", _cell("n", group["candidates"])),
        ("shown", _cell("n", group["shown"])),
        ("  of which by fallback", _cell("n", group["shown_fallback"])),
        ("accepted", _cell("n", group["accepted"])),
        ("  of which partial", _cell("n", group["partial_accepted"])),
        rate("acceptance_rate", "acceptance rate [95% CI]"),
        ("char acceptance rate", _cell("rate", group["char_acceptance_rate"])),
        ("accepted chars", _cell("n", group["accepted_chars"])),
    ]
    for checkpoint in checkpoints:
        rows += [
            (
                f"persistence {checkpoint}s",
                _cell("persistence", group[f"persistence_{checkpoint}"]),
            ),
            (
                f"fuzzy persistence {checkpoint}s",
                _cell("persistence", group[f"fuzzy_persistence_{checkpoint}"]),
            ),
            (f"efficiency {checkpoint}s", _cell("efficiency", group[f"efficiency_{checkpoint}"])),
            (f"  measured at {checkpoint}s", _cell("n", group[f"measured_{checkpoint}"])),
        ]
    rows += [
        ("active hours", f"{group['active_hours']:.3g}"),
        ("accepted chars / active hour", _cell("speed", group["accepted_chars_per_active_hour"])),
        ("share of inserted chars", _cell("share", group["suggestion_char_share"])),
        ("rated candidates", _cell("n", group["rated"])),
        ("thumbs up share", _cell("share", group["thumbs_up_share"])),
        ("mean stars (n)", f"{_cell('mean', group['stars_mean'])} ({group['stars_n']})"),
    ]
    for key in group:
        if key.startswith("rubric_") and key.endswith("_mean"):
            name = key[len("rubric_") : -len("_mean")]
            count = group[f"rubric_{name}_n"]
            rows.append((f"mean {name} (n)", f"{_cell('mean', group[key])} ({count})"))
    return rows


def _grid(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_table(report: Report) -> str:
    """Metrics down, groups across: easy to read for a handful of groups."""
    parts: list[str] = []
    if report.groups:
        columns = [_rows_for_people(group, report.checkpoints) for group in report.groups]
        labels = [label for label, _ in columns[0]]
        body = [
            [label, *(column[index][1] for column in columns)] for index, label in enumerate(labels)
        ]
        header = [f"by {report.by}", *(str(group["group"]) for group in report.groups)]
        parts.append(_grid(header, body))
    if report.arms:
        body = [
            [
                str(arm["arm"]),
                str(arm["comparisons"]),
                str(arm["wins"]),
                str(arm["losses"]),
                str(arm["ties"]),
                str(arm["both_bad"]),
                _cell("rate", arm["win_rate"])
                + (
                    f" [{arm['win_rate_low'] * 100:.1f}–{arm['win_rate_high'] * 100:.1f}]"
                    if arm["win_rate_low"] is not None
                    else ""
                ),
            ]
            for arm in report.arms
        ]
        header = ["arm", "comparisons", "wins", "losses", "ties", "both bad", "win rate [95% CI]"]
        parts.append("Arm win rates (comparison.choice; ties count half)\n" + _grid(header, body))
    for position in report.positions:
        if position["decisions"]:
            low, high = position["first_share_low"], position["first_share_high"]
            parts.append(
                f"Position ({position['source']}): the first-placed candidate won "
                f"{position['first_chosen']} of {position['decisions']} "
                f"({position['first_share'] * 100:.1f}% "
                f"[{low * 100:.1f}–{high * 100:.1f}]; "
                f"{position['no_bias_share'] * 100:.1f}% if position did not matter)"
            )
    parts.extend(f"note: {note}" for note in report.notes)
    return "\n\n".join(parts) + "\n"
