"""PNG plots of a report: acceptance by group, and persistence curves over checkpoints.

matplotlib is imported here only, with the Agg backend, so ``edittrace report`` without
``--plots`` never pays for it and plotting works on a machine with no display.
"""

from __future__ import annotations

from pathlib import Path

from edittrace.collector.report import Report


def write_plots(report: Report, directory: Path) -> list[Path]:
    """Write ``acceptance.png`` and (if any checkpoint was measured) ``persistence.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    groups = report.groups
    names = [str(group["group"]) for group in groups]

    figure, axes = plt.subplots(figsize=(max(4.0, 1.2 * len(names) + 2), 4))
    positions = list(range(len(names)))
    width = 0.38
    rates = [group["acceptance_rate"] or 0.0 for group in groups]
    below = [
        (group["acceptance_rate"] or 0.0) - (group["acceptance_rate_low"] or 0.0)
        for group in groups
    ]
    above = [
        (group["acceptance_rate_high"] or 0.0) - (group["acceptance_rate"] or 0.0)
        for group in groups
    ]
    axes.bar(
        [p - width / 2 for p in positions],
        rates,
        width,
        yerr=[below, above],
        capsize=4,
        label="acceptance rate (accepted/shown, 95% CI)",
    )
    axes.bar(
        [p + width / 2 for p in positions],
        [group["char_acceptance_rate"] or 0.0 for group in groups],
        width,
        label="char acceptance (accepted chars/shown chars)",
    )
    axes.set_xticks(positions, names, rotation=20, ha="right")
    axes.set_ylim(0, 1)
    axes.set_ylabel("rate")
    axes.set_title(f"Acceptance by {report.by}")
    axes.legend(fontsize="small")
    figure.tight_layout()
    path = directory / "acceptance.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    written.append(path)

    if report.checkpoints:
        figure, axes = plt.subplots(figsize=(6, 4))
        for group, name in zip(groups, names, strict=True):
            # A group with nothing accepted has no persistence: NaN leaves a gap, not a zero.
            exact = [_number(group[f"persistence_{x}"]) for x in report.checkpoints]
            fuzzy = [_number(group[f"fuzzy_persistence_{x}"]) for x in report.checkpoints]
            (line,) = axes.plot(report.checkpoints, exact, marker="o", label=f"{name} unchanged")
            axes.plot(
                report.checkpoints,
                fuzzy,
                marker="s",
                linestyle="--",
                color=line.get_color(),
                label=f"{name} mostly unchanged",
            )
        axes.set_xlabel("seconds after acceptance")
        axes.set_ylabel("share of accepted suggestions")
        axes.set_ylim(0, 1)
        axes.set_xticks(report.checkpoints)
        axes.set_title(f"Persistence by {report.by}")
        axes.legend(fontsize="small")
        figure.tight_layout()
        path = directory / "persistence.png"
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def _number(value: float | None) -> float:
    return float("nan") if value is None else value
