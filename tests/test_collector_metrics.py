"""Metrics on hand-built sessions: every expected figure below was added up by hand.

The sessions are in tests/metrics_fixture.py. Hand sums (A = alice/python, B = bob/typescript):

- offers: s1, s2, s3 (A), s4, s5 (B) = 5 opportunities; 7 candidates.
- shown: A has shown events for s1c0, s2c0, s2c1, s3c0; B has none, so the fallback counts
  s4c1 (first in shown_order [1, 0]) and s5c0 (accepted) = 6 shown, 1 by fallback.
- accepted: s1c0 (17 chars), s3c0 (partial, 1 char "y"), s5c0 (2 chars) = 3, 20 chars.
- shown chars: 17 + 8 + 9 + 2 (A) + 6 + 2 (B) = 44.
- checkpoint 30: s1 unchanged, s3 changed (not mostly), s5 unchanged -> 2 unchanged, 2 mostly.
  checkpoint 120: s1 changed but mostly -> 0 unchanged, 1 mostly.
- active time A: before the pause 1000+1000+500+500+0+0+6000+100+100+800+0+1000 = 11000 ms;
  the gap over the pause counts 0; after it 1000+100+900+0+0+0+31000+1000+1000 and the last
  gap of 700 s capped at 300000 = 335000 ms; A = 346000 ms. B: 1000*5 = 5000 ms.
- inserted chars: A 6 + 17 + 3 + 1 + 1 = 28, B 4 + 2 = 6.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edittrace.collector.aggregates import arm_win_rates, group_metrics, position_bias
from edittrace.collector.event_reader import EventFilter, StoredEvent, read_events
from edittrace.collector.metrics import build_table
from edittrace.collector.report import build_report, render
from edittrace.collector.storage import open_database
from tests.metrics_fixture import (
    A0,
    B0,
    SESSION_A,
    SESSION_B,
    fill_database,
    fixture_events,
)
from tests.support.sessions import SessionBuilder, realistic_session

Z95 = 1.959963984540054


def by_group(by: str) -> dict[str, dict[str, object]]:
    return {row["group"]: row for row in group_metrics(build_table(fixture_events()), by)}


def test_one_row_per_candidate_with_its_story() -> None:
    table = build_table(fixture_events())
    rows = {(row.suggestion, row.candidate): row for row in table.rows}
    assert sorted(rows) == [
        ("s1", 0), ("s2", 0), ("s2", 1), ("s3", 0), ("s4", 0), ("s4", 1), ("s5", 0)
    ]  # fmt: skip
    s1 = rows[("s1", 0)]
    assert (s1.session, s1.contractor, s1.language, s1.model, s1.provider) == (
        SESSION_A, "alice", "python", "m1", "fake"
    )  # fmt: skip
    assert (s1.shown, s1.shown_basis, s1.outcome, s1.accepted, s1.accepted_chars) == (
        True, "event", "accepted", True, 17
    )  # fmt: skip
    assert s1.offered_ts == A0 + 3_000
    assert {
        x: (p.unchanged, p.mostly_unchanged, p.distance) for x, p in s1.persistence.items()
    } == {
        30: (True, True, 0),
        120: (False, True, 2),
    }
    # Two ratings: the first names no candidate (the offer has one), the second adds.
    assert (s1.thumbs, s1.stars, s1.rubric, s1.ratings) == ("up", 5, {"correctness": 4}, 2)
    s3 = rows[("s3", 0)]
    assert (s3.accepted, s3.partial, s3.accepted_chars, s3.model) == (True, True, 1, "m2")
    s2b = rows[("s2", 1)]
    assert (s2b.arm, s2b.outcome, s2b.accepted, s2b.thumbs) == ("b", "rejected", False, "down")
    # Session B reported no shown events: the first of shown_order and the accepted one count.
    assert (rows[("s4", 0)].shown, rows[("s4", 1)].shown) == (False, True)
    assert rows[("s4", 1)].shown_basis == "fallback"
    assert rows[("s5", 0)].shown_basis == "accept"
    assert rows[("s4", 0)].language == "typescript"
    assert table.sessions_without_shown == {SESSION_B}
    assert table.checkpoints == [30, 120]


def test_overall_figures_match_the_hand_sums() -> None:
    everything = by_group("all")["all"]
    expected = {
        "opportunities": 5,
        "candidates": 7,
        "shown": 6,
        "shown_fallback": 1,
        "accepted": 3,
        "partial_accepted": 1,
        "acceptance_rate": 3 / 6,
        "shown_chars": 44,
        "accepted_chars": 20,
        "char_acceptance_rate": 20 / 44,
        "measured_30": 3,
        "unchanged_30": 2,
        "mostly_unchanged_30": 2,
        "persistence_30": 2 / 3,
        "fuzzy_persistence_30": 2 / 3,
        "efficiency_30": 2 / 5,
        "measured_120": 1,
        "unchanged_120": 0,
        "mostly_unchanged_120": 1,
        "persistence_120": 0.0,
        "fuzzy_persistence_120": 1 / 3,
        "efficiency_120": 0.0,
        "active_hours": 351_000 / 3_600_000,
        "accepted_chars_per_active_hour": 20 / (351_000 / 3_600_000),
        "inserted_chars": 34,
        "suggestion_char_share": 20 / 34,
        "rated": 2,
        "thumbs_up": 1,
        "thumbs_down": 1,
        "thumbs_up_share": 0.5,
        "stars_n": 1,
        "stars_mean": 5.0,
        "rubric_correctness_n": 1,
        "rubric_correctness_mean": 4.0,
    }
    assert {key: everything[key] for key in expected} == pytest.approx(expected)
    # Wilson interval of 3/6 at 95%, from the formula by hand: centre (0.5 + z²/12)/(1 + z²/6).
    z2 = Z95 * Z95
    centre = (0.5 + z2 / 12) / (1 + z2 / 6)
    half = Z95 * (0.25 / 6 + z2 / 144) ** 0.5 / (1 + z2 / 6)
    assert everything["acceptance_rate_low"] == pytest.approx(centre - half)
    assert everything["acceptance_rate_high"] == pytest.approx(centre + half)
    assert everything["acceptance_rate_low"] == pytest.approx(0.1876, abs=1e-4)


def test_by_model_counts_an_offer_for_every_model_in_it() -> None:
    groups = by_group("model")
    assert sorted(groups) == ["m1", "m2"]
    m1, m2 = groups["m1"], groups["m2"]
    # m1 is in s1, s2, s4, s5; m2 in s2, s3.
    assert (m1["opportunities"], m1["shown"], m1["accepted"]) == (4, 4, 2)
    assert (m1["shown_chars"], m1["accepted_chars"]) == (33, 19)
    assert (m2["opportunities"], m2["shown"], m2["accepted"]) == (2, 2, 1)
    assert (m2["shown_chars"], m2["accepted_chars"]) == (11, 1)
    # m1 appears in both sessions, m2 only in A: activity of those sessions.
    assert m1["active_hours"] == pytest.approx(351_000 / 3_600_000)
    assert m2["active_hours"] == pytest.approx(346_000 / 3_600_000)
    assert m2["suggestion_char_share"] == pytest.approx(1 / 28)
    assert m2["persistence_30"] == 0.0
    assert m2["measured_120"] == 0


def test_by_contractor_and_language_split_activity_exactly() -> None:
    contractors = by_group("contractor")
    alice, bob = contractors["alice"], contractors["bob"]
    assert (alice["opportunities"], alice["shown"], alice["accepted"]) == (3, 4, 2)
    assert alice["accepted_chars_per_active_hour"] == pytest.approx(18 / (346_000 / 3_600_000))
    assert alice["suggestion_char_share"] == pytest.approx(18 / 28)
    assert (bob["opportunities"], bob["shown"], bob["shown_fallback"], bob["accepted"]) == (
        2, 2, 1, 1
    )  # fmt: skip
    assert bob["active_hours"] == pytest.approx(5_000 / 3_600_000)
    assert bob["rated"] == 0 and bob["thumbs_up_share"] is None and bob["stars_mean"] is None
    languages = by_group("language")
    assert sorted(languages) == ["python", "typescript"]
    assert languages["typescript"]["inserted_chars"] == 6
    assert languages["python"]["inserted_chars"] == 28


def test_by_arm_puts_unarmed_candidates_apart() -> None:
    arms = by_group("arm")
    assert sorted(arms) == ["(none)", "a", "b"]
    assert (arms["a"]["shown"], arms["a"]["accepted"], arms["a"]["acceptance_rate"]) == (1, 0, 0.0)
    assert arms["(none)"]["candidates"] == 5


def test_arm_win_rates_from_the_comparison() -> None:
    rates = {row["arm"]: row for row in arm_win_rates(build_table(fixture_events()))}
    assert (rates["b"]["wins"], rates["b"]["losses"], rates["b"]["win_rate"]) == (1, 0, 1.0)
    assert (rates["a"]["wins"], rates["a"]["losses"], rates["a"]["win_rate"]) == (0, 1, 0.0)
    # Wilson for 1 success in 1 trial: low = 1 / (1 + z²), high = 1.
    assert rates["b"]["win_rate_low"] == pytest.approx(1 / (1 + Z95 * Z95))
    assert rates["b"]["win_rate_high"] == 1.0


def test_ties_count_half_and_both_bad_is_left_out_of_the_rate() -> None:
    events = fixture_events()
    choice = next(event for event in events if event.type == "comparison.choice")
    template = choice.data
    extra = [
        type(choice)(**{**choice.__dict__, "seq": 100 + i, "data": {**template, **change}})
        for i, change in enumerate(
            [{"choice": "tie", "candidate": None}, {"choice": "both_bad", "candidate": None}]
        )
    ]
    rates = {row["arm"]: row for row in arm_win_rates(build_table([*events, *extra]))}
    b = rates["b"]
    assert (b["comparisons"], b["wins"], b["ties"], b["both_bad"]) == (3, 1, 1, 1)
    assert b["win_rate"] == pytest.approx((1 + 0.5) / 2)
    assert rates["a"]["win_rate"] == pytest.approx((0 + 0.5) / 2)


def test_the_database_gives_the_same_table_as_the_event_list(tmp_path: Path) -> None:
    path = tmp_path / "collector.sqlite"
    fill_database(path)
    db = open_database(path)
    from_db = group_metrics(build_table(read_events(db, EventFilter())), "contractor")
    assert from_db == group_metrics(build_table(fixture_events()), "contractor")
    only_bob = group_metrics(build_table(read_events(db, EventFilter(contractors=("bob",)))))
    assert only_bob[0]["opportunities"] == 2
    # Sessions are selected by their first event's time: B starts at B0.
    late = build_table(read_events(db, EventFilter(since_ms=B0)))
    assert {row.session for row in late.rows} == {SESSION_B}
    early = build_table(read_events(db, EventFilter(until_ms=B0)))
    assert {row.session for row in early.rows} == {SESSION_A}


def test_realistic_session_through_a_real_database(tmp_path: Path) -> None:
    """SessionBuilder's realistic session, counted by hand from its script:

    three offers; the first (one candidate) shown and accepted, then "Hello" edited to "Hi"
    before its 30 s checkpoint (distance 4 of 24: mostly unchanged, not unchanged) and rated
    up with 4 stars; the second has two arms, only candidate 0 shown, both rejected, and
    candidate 1 (arm b) preferred in the comparison; the third shown and ignored.
    """
    path = tmp_path / "realistic.sqlite"
    realistic_session(SESSION_A).store(path, contractor="carol")
    db = open_database(path)
    table = build_table(read_events(db, EventFilter()))
    (everything,) = group_metrics(table)
    accepted_text = 'return "Hello, " + name\n'
    expected = {
        "opportunities": 3,
        "candidates": 4,
        "shown": 3,
        "shown_fallback": 0,
        "accepted": 1,
        "acceptance_rate": 1 / 3,
        "accepted_chars": len(accepted_text),
        "measured_30": 1,
        "persistence_30": 0.0,
        "fuzzy_persistence_30": 1.0,
        "efficiency_30": 0.0,
        "thumbs_up_share": 1.0,
        "stars_mean": 4.0,
    }
    assert {key: everything[key] for key in expected} == pytest.approx(expected)
    s1 = table.rows[0]
    assert (s1.persistence[30].distance, s1.language, s1.contractor) == (4, "python", "carol")
    rates = {row["arm"]: row["win_rate"] for row in arm_win_rates(table)}
    assert rates == {"a": 0.0, "b": 1.0}


def test_every_report_column_is_defined_in_the_docs() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "metrics.md").read_text(encoding="utf-8")
    table = build_table(fixture_events())
    columns = set(group_metrics(table)[0]) | set(arm_win_rates(table)[0])
    for column in sorted(columns):
        generic = column.replace("_120", "_X").replace("_30", "_X").replace("correctness", "K")
        assert f"`{generic}`" in docs or f"`{column}`" in docs, (
            f"{column} is not in docs/metrics.md"
        )


def test_position_bias_counts_first_placed_wins() -> None:
    b = SessionBuilder(SESSION_B)
    b.open("file:///w/a.py", "")
    for accepted in (0, 0, 1):  # shown_order is [0, 1]: the first-placed one wins twice
        offer = b.offer("file:///w/a.py", ["one\n", "two\n"], arms=["a", "b"])
        b.show(offer, 0)
        b.show(offer, 1)
        b.accept(offer, accepted)
        b.compare(offer, "candidate", candidate=accepted, order=[1, 0])
    events = [StoredEvent(SESSION_B, e.seq, e.type, e.ts, "bob", e.data) for e in b.events]
    comparison, accept = position_bias(build_table(events))
    assert (accept["decisions"], accept["first_chosen"], accept["no_bias_share"]) == (3, 2, 0.5)
    assert accept["first_share"] == pytest.approx(2 / 3)
    # In the comparisons candidate 1 was placed first, and chosen once.
    assert (comparison["decisions"], comparison["first_chosen"]) == (3, 1)
    output = render(build_report(build_table(events), "arm"), "table")
    assert "Position (accept): the first-placed candidate won 2 of 3 (66.7%" in output
