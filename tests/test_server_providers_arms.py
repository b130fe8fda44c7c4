"""Blind comparison: one candidate per arm, arms recorded, order drawn per request."""

from __future__ import annotations

from edittrace.server.providers.arms import ArmsProvider, shown_order
from edittrace.server.providers.base import CompletionRequest, Provider
from edittrace.server.providers.builtin import BuiltinProvider
from edittrace.server.providers.ngram import NgramModel

REQUEST = CompletionRequest(
    uri="file:///w/x.py",
    language_id="python",
    prefix="total = comp",
    suffix="",
    line_prefix="total = comp",
    line_suffix="",
    trigger="automatic",
)


def provider_knowing(line: str) -> BuiltinProvider:
    provider = BuiltinProvider()
    provider.use_model(NgramModel.build([line + "\n"]))
    return provider


async def test_one_candidate_per_arm_in_the_configured_order() -> None:
    arms: list[tuple[str, Provider]] = [
        ("left", provider_knowing("total = compute_left(a)")),
        ("empty", provider_knowing("nothing = here")),
        ("right", provider_knowing("total = compute_right(b)")),
    ]
    candidates = await ArmsProvider(arms).complete(REQUEST)
    assert [(c.arm, c.text) for c in candidates] == [
        ("left", "ute_left(a)"),
        ("right", "ute_right(b)"),
    ]


def test_the_shown_order_is_a_permutation_drawn_afresh() -> None:
    orders = {tuple(shown_order(3)) for _ in range(200)}
    assert all(sorted(order) == [0, 1, 2] for order in orders)
    # 200 draws of 6 equally likely orders: all appear unless the draw is not random.
    assert len(orders) == 6
