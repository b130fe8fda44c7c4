"""Group figures over the per-candidate table: Ziegler et al. (2022) rates, ratings, arm wins.

Every figure is defined, with the events it counts, in docs/metrics.md. A figure that has
nothing to divide by is ``None`` (printed as ``-``), never 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from statistics import fmean
from typing import Any

from edittrace.collector.metrics import (
    Activity,
    CandidateRow,
    Context,
    Offer,
    SuggestionTable,
)
from edittrace.collector.stats import bootstrap_interval, ratio, wilson_interval

GROUPINGS = ("all", "model", "contractor", "language", "arm", "provider")
"""What ``edittrace report --by`` accepts."""

UNKNOWN = "(unknown)"
NO_ARM = "(none)"
MS_PER_HOUR = 3_600_000


def group_of(row: CandidateRow, by: str) -> str:
    """The group a candidate falls in under grouping ``by``."""
    if by == "all":
        return "all"
    if by == "model":
        return row.model or UNKNOWN
    if by == "contractor":
        return row.contractor
    if by == "language":
        return row.language or UNKNOWN
    if by == "arm":
        return row.arm or NO_ARM
    if by == "provider":
        return row.provider
    raise ValueError(f"unknown grouping {by!r}; choose one of {', '.join(GROUPINGS)}")


def _offer_groups(table: SuggestionTable, offer: Offer, by: str) -> set[str]:
    """An offer is an opportunity for every group one of its candidates is in."""
    if by == "all":
        return {"all"}
    if by == "contractor":
        return {offer.contractor}
    if by == "language":
        return {offer.language or UNKNOWN}
    rows = table.rows_of(offer.session, offer.suggestion)
    if not rows:
        # An offer with no candidates (the provider had nothing) still was an opportunity.
        return {NO_ARM if by == "arm" else UNKNOWN}
    return {group_of(row, by) for row in rows}


def _context_groups(table: SuggestionTable, by: str) -> dict[str, list[Context]]:
    """Which contexts' active time and typed characters a group is measured against.

    By contractor and language the attribution is exact; by model, arm or provider a
    session's whole activity counts for every group that had a candidate in it.
    """
    groups: dict[str, list[Context]] = defaultdict(list)
    if by in ("model", "arm", "provider"):
        session_groups: dict[str, set[str]] = defaultdict(set)
        for row in table.rows:
            session_groups[row.session].add(group_of(row, by))
        for context in table.activity:
            for group in session_groups.get(context[0], set()):
                groups[group].append(context)
        return groups
    for context in table.activity:
        if by == "all":
            groups["all"].append(context)
        elif by == "contractor":
            groups[table.contractors[context[0]]].append(context)
        elif by == "language":
            groups[table.context_language.get(context) or UNKNOWN].append(context)
    return groups


def group_metrics(table: SuggestionTable, by: str = "all") -> list[dict[str, Any]]:
    """One record of figures per group, groups sorted by name (``all`` first)."""
    rows_by_group: dict[str, list[CandidateRow]] = defaultdict(list)
    for row in table.rows:
        rows_by_group[group_of(row, by)].append(row)
    opportunities: dict[str, int] = defaultdict(int)
    for offer in table.offers:
        for group in _offer_groups(table, offer, by):
            opportunities[group] += 1
    contexts = _context_groups(table, by)
    names = sorted(set(rows_by_group) | set(opportunities))
    checkpoints = table.checkpoints
    rubric_keys = table.rubric_keys
    return [
        _figures(
            name,
            rows_by_group.get(name, []),
            opportunities.get(name, 0),
            [table.activity[context] for context in contexts.get(name, [])],
            checkpoints,
            rubric_keys,
        )
        for name in names
    ]


def _figures(
    name: str,
    rows: list[CandidateRow],
    opportunities: int,
    activity: list[Activity],
    checkpoints: Iterable[int],
    rubric_keys: Iterable[str],
) -> dict[str, Any]:
    shown = [row for row in rows if row.shown]
    accepted = [row for row in rows if row.accepted]
    shown_chars = sum(row.text_chars for row in shown)
    accepted_chars = sum(row.accepted_chars for row in accepted)
    interval = wilson_interval(len(accepted), len(shown))
    figures: dict[str, Any] = {
        "group": name,
        "opportunities": opportunities,
        "candidates": len(rows),
        "shown": len(shown),
        "shown_fallback": sum(1 for row in shown if row.shown_basis == "fallback"),
        "accepted": len(accepted),
        "partial_accepted": sum(1 for row in accepted if row.partial),
        "acceptance_rate": ratio(len(accepted), len(shown)),
        "acceptance_rate_low": None if interval is None else interval.low,
        "acceptance_rate_high": None if interval is None else interval.high,
        "shown_chars": shown_chars,
        "accepted_chars": accepted_chars,
        "char_acceptance_rate": ratio(accepted_chars, shown_chars),
    }
    for checkpoint in checkpoints:
        measured = [
            row.persistence[checkpoint] for row in accepted if checkpoint in row.persistence
        ]
        unchanged = sum(1 for point in measured if point.unchanged)
        mostly = sum(1 for point in measured if point.mostly_unchanged)
        figures[f"measured_{checkpoint}"] = len(measured)
        figures[f"unchanged_{checkpoint}"] = unchanged
        figures[f"mostly_unchanged_{checkpoint}"] = mostly
        figures[f"persistence_{checkpoint}"] = ratio(unchanged, len(accepted))
        figures[f"fuzzy_persistence_{checkpoint}"] = ratio(mostly, len(accepted))
        figures[f"efficiency_{checkpoint}"] = ratio(unchanged, opportunities)
    active_ms = sum(context.active_ms for context in activity)
    inserted = sum(context.inserted_chars for context in activity)
    figures["active_hours"] = active_ms / MS_PER_HOUR
    figures["accepted_chars_per_active_hour"] = ratio(accepted_chars * MS_PER_HOUR, active_ms)
    figures["inserted_chars"] = inserted
    figures["suggestion_char_share"] = ratio(accepted_chars, inserted)
    figures.update(_ratings(rows, rubric_keys))
    return figures


def _ratings(rows: list[CandidateRow], rubric_keys: Iterable[str]) -> dict[str, Any]:
    up = sum(1 for row in rows if row.thumbs == "up")
    down = sum(1 for row in rows if row.thumbs == "down")
    stars = [float(row.stars) for row in rows if row.stars is not None]
    stars_interval = bootstrap_interval(stars)
    figures: dict[str, Any] = {
        "rated": sum(1 for row in rows if row.ratings),
        "thumbs_up": up,
        "thumbs_down": down,
        "thumbs_up_share": ratio(up, up + down),
        "stars_n": len(stars),
        "stars_mean": fmean(stars) if stars else None,
        "stars_mean_low": None if stars_interval is None else stars_interval.low,
        "stars_mean_high": None if stars_interval is None else stars_interval.high,
    }
    for key in rubric_keys:
        scores = [float(row.rubric[key]) for row in rows if key in row.rubric]
        figures[f"rubric_{key}_n"] = len(scores)
        figures[f"rubric_{key}_mean"] = fmean(scores) if scores else None
    return figures


def arm_label(row: CandidateRow) -> str:
    """The side a candidate stands for in comparisons: its arm, else its model or provider."""
    return row.arm or row.model or row.provider


def arm_win_rates(table: SuggestionTable) -> list[dict[str, Any]]:
    """Per arm, from ``comparison.choice``: wins, losses, ties, both-bad and the win rate.

    win_rate = (wins + ties / 2) / (wins + losses + ties); ``both_bad`` choices are counted
    but left out of the rate (they say nothing about which arm is better).
    """
    tally: dict[str, dict[str, int]] = defaultdict(
        lambda: {"comparisons": 0, "wins": 0, "losses": 0, "ties": 0, "both_bad": 0}
    )
    for comparison in table.comparisons:
        rows = table.rows_of(comparison.session, comparison.suggestion)
        by_index = {row.candidate: row for row in rows}
        shown = [by_index[i] for i in comparison.order if i in by_index] or rows
        labels = {row.candidate: arm_label(row) for row in shown}
        if len(set(labels.values())) < 2:
            continue  # one arm against itself: no information about arms
        winner: str | None = None
        if comparison.choice == "candidate":
            if comparison.candidate not in labels:
                continue
            winner = labels[comparison.candidate]
        # Each arm takes part once per comparison, however many of its candidates were shown.
        for label in set(labels.values()):
            counts = tally[label]
            counts["comparisons"] += 1
            if comparison.choice == "tie":
                counts["ties"] += 1
            elif comparison.choice == "both_bad":
                counts["both_bad"] += 1
            elif label == winner:
                counts["wins"] += 1
            else:
                counts["losses"] += 1
    results: list[dict[str, Any]] = []
    for label in sorted(tally):
        counts = tally[label]
        decided = counts["wins"] + counts["losses"] + counts["ties"]
        score = counts["wins"] + counts["ties"] / 2
        interval = wilson_interval(score, decided)
        results.append(
            {
                "arm": label,
                **counts,
                "win_rate": ratio(score, decided),
                "win_rate_low": None if interval is None else interval.low,
                "win_rate_high": None if interval is None else interval.high,
            }
        )
    return results


def position_bias(table: SuggestionTable) -> list[dict[str, Any]]:
    """How often the candidate in the first position won, where two or more were on offer.

    Copilot Arena saw 82% of accepted completions be the top one, so a large share here
    means position, not quality, decides. Two sources:

    - ``comparison``: ``choice = candidate`` comparisons; first = ``order[0]``.
    - ``accept``: offers with two or more shown candidates and one accepted;
      first = the first shown candidate in the offer's ``shown_order``.

    ``no_bias_share`` is the share expected if position did not matter (mean of 1/k).
    """
    results: list[dict[str, Any]] = []
    outcomes: list[tuple[bool, int]] = []
    for comparison in table.comparisons:
        order = list(comparison.order)
        if comparison.choice == "candidate" and len(order) >= 2 and comparison.candidate in order:
            outcomes.append((comparison.candidate == order[0], len(order)))
    results.append(_position_figures("comparison", outcomes))
    outcomes = []
    for offer in table.offers:
        rows = table.rows_of(offer.session, offer.suggestion)
        shown = [row for row in rows if row.shown]
        accepted = [row for row in shown if row.accepted]
        if len(shown) < 2 or len(accepted) != 1:
            continue
        by_index = {row.candidate: row for row in shown}
        first = next((i for i in offer.shown_order if i in by_index), min(by_index))
        outcomes.append((accepted[0].candidate == first, len(shown)))
    results.append(_position_figures("accept", outcomes))
    return results


def _position_figures(source: str, outcomes: list[tuple[bool, int]]) -> dict[str, Any]:
    first = sum(1 for was_first, _ in outcomes if was_first)
    interval = wilson_interval(first, len(outcomes))
    return {
        "source": source,
        "decisions": len(outcomes),
        "first_chosen": first,
        "first_share": ratio(first, len(outcomes)),
        "first_share_low": None if interval is None else interval.low,
        "first_share_high": None if interval is None else interval.high,
        "no_bias_share": fmean(1 / size for _, size in outcomes) if outcomes else None,
    }
