"""Guarded verdicts: say that a method helped only when the numbers allow it.

Notebook: notebooks/05_ida_vs_mmd.ipynb prints these sentences under its results table.

A few runs of a small network on a few hundred utterances are noisy, and a
model that learned nothing scores near chance on *every* corpus, so a raw
"MMD led" can be noise. The rules, fixed before any result was seen:

1. **Learned**: a method's model learned only if its mean held-out *source*
   UAR is at least chance + 15 points (:data:`LEARNED_MARGIN`; chance = 1 / K
   for K classes). Otherwise no conclusion is drawn about it.
2. **Beyond the spread**: a difference of mean target UAR counts only if it
   exceeds the seed-to-seed spread, the larger sample standard deviation of
   the two methods, with at least two seeds each (:data:`MIN_SEEDS`).
3. A method **helps** when both rules hold and it is ahead of the baseline,
   **hurts** when both hold and it is behind; in every other case the verdict
   says that no conclusion can be drawn, and why.

Input: per-run records with ``method``, ``seed``, ``target_uar`` and the
held-out source UAR (``source_heldout_uar`` as in ``metrics.json``, or
``source_uar``), as a DataFrame, a list of dicts, or
:class:`didan_lite.experiment.RunResult` objects; UARs in [0, 1].

Examples::

    verdict = compare_methods(runs, "ida", baseline="source-only", n_classes=5)
    print(verdict.sentence)        # e.g. "No conclusion: ida's gain over source-only (+1.0 points) is inside ..."
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

LEARNED_MARGIN = 0.15
"""Held-out source UAR must reach chance + this (in UAR units) for a model to count as learned."""
MIN_SEEDS = 2
"""Fewest seeds per method for a spread, hence for any verdict."""


def as_table(runs) -> pd.DataFrame:
    """Per-run records -> DataFrame with columns method, seed, target_uar, source_uar (UAR in [0, 1])."""
    if isinstance(runs, pd.DataFrame):
        frame = runs.copy()
    else:
        runs = list(runs)
        frame = pd.DataFrame([r.summary() if hasattr(r, "summary") else dict(r) for r in runs])
    if "source_uar" not in frame and "source_heldout_uar" in frame:
        frame["source_uar"] = frame["source_heldout_uar"]
    missing = {"method", "target_uar", "source_uar"} - set(frame.columns)
    if missing:
        raise ValueError(f"run records lack {sorted(missing)}")
    return frame


@dataclass(frozen=True)
class Learned:
    """Whether one method's models learned: mean held-out source UAR against chance + margin."""

    method: str
    ok: bool
    source_uar: float
    threshold: float
    seeds: int

    @property
    def sentence(self) -> str:
        verb = "learned" if self.ok else "did not clearly learn"
        return (f"{self.method} {verb}: held-out source UAR {100 * self.source_uar:.1f} % "
                f"against the {100 * self.threshold:.1f} % required (chance + {100 * LEARNED_MARGIN:.0f} points).")


def learned(runs, n_classes: int, method: str | None = None) -> Learned | dict[str, Learned]:
    """Rule 1 for one method, or for every method (a dict) when ``method`` is None."""
    table = as_table(runs)
    threshold = 1.0 / n_classes + LEARNED_MARGIN
    if method is None:
        return {m: learned(table, n_classes, m) for m in dict.fromkeys(table["method"])}
    rows = table[table["method"] == method]
    if rows.empty:
        raise ValueError(f"no run of method {method!r}")
    mean = float(rows["source_uar"].mean())
    return Learned(method, mean >= threshold, mean, threshold, len(rows))


@dataclass(frozen=True)
class Verdict:
    """The guarded comparison of one method with a baseline (UARs in percentage points)."""

    method: str
    baseline: str
    outcome: Literal["helps", "hurts", "no conclusion"]
    gain: float
    """Mean target UAR of ``method`` minus the baseline's, in points."""
    spread: float
    """Larger sample sd over seeds of the two methods' target UAR, in points (nan with fewer than two seeds)."""
    method_mean: float
    baseline_mean: float
    sentence: str

    @property
    def helps(self) -> bool:
        return self.outcome == "helps"


def _stats(rows: pd.DataFrame) -> tuple[float, float, int]:
    values = 100 * rows["target_uar"].to_numpy(float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else float("nan"), len(values)


def compare_methods(runs, method: str, *, baseline: str = "source-only", n_classes: int) -> Verdict:
    """Rules 1-3 for ``method`` against ``baseline`` on one task."""
    table = as_table(runs)
    rows_m, rows_b = table[table["method"] == method], table[table["method"] == baseline]
    if rows_m.empty or rows_b.empty:
        raise ValueError(f"need runs of both {method!r} and {baseline!r}")
    (mean_m, sd_m, n_m), (mean_b, sd_b, n_b) = _stats(rows_m), _stats(rows_b)
    gain, spread = mean_m - mean_b, max(sd_m, sd_b) if min(n_m, n_b) >= MIN_SEEDS else float("nan")
    figures = f"{method} {mean_m:.1f} % vs {baseline} {mean_b:.1f} % target UAR, {gain:+.1f} points"
    failed = [check for check in (learned(table, n_classes, method), learned(table, n_classes, baseline)) if not check.ok]
    if failed:
        outcome, why = "no conclusion", " ".join(check.sentence for check in failed)
    elif min(n_m, n_b) < MIN_SEEDS:
        outcome, why = "no conclusion", f"it needs at least {MIN_SEEDS} seeds per method to measure the seed-to-seed spread."
    elif abs(gain) <= spread:
        outcome, why = "no conclusion", f"the difference is inside the seed-to-seed spread (sd up to {spread:.1f} points)."
    else:
        outcome = "helps" if gain > 0 else "hurts"
        why = f"the difference exceeds the seed-to-seed spread (sd up to {spread:.1f} points) and both models learned."
    head = {"helps": f"{method} helps over {baseline}", "hurts": f"{method} is worse than {baseline}",
            "no conclusion": f"No conclusion on {method} against {baseline}"}[outcome]
    return Verdict(method, baseline, outcome, gain, spread, mean_m, mean_b, f"{head} ({figures}): {why}")


def leader(runs, n_classes: int) -> str:
    """A guarded sentence on which method led: the best mean target UAR among the methods that learned,
    named only when it beats the runner-up beyond the spread."""
    table = as_table(runs)
    checks = learned(table, n_classes)
    learners = [m for m, check in checks.items() if check.ok]
    if not learners:
        return "No conclusion on a leader: no method's model learned (held-out source UAR below chance + 15 points)."
    means = {m: _stats(table[table["method"] == m])[0] for m in learners}
    ranked = sorted(learners, key=means.get, reverse=True)
    if len(ranked) == 1:
        return f"No conclusion on a leader: only {ranked[0]} learned, so there is nothing to rank it against."
    verdict = compare_methods(table, ranked[0], baseline=ranked[1], n_classes=n_classes)
    if verdict.helps:
        return f"{ranked[0]} led ({verdict.method_mean:.1f} % target UAR), ahead of {ranked[1]} beyond the seed-to-seed spread."
    why = verdict.sentence[0].lower() + verdict.sentence[1:]
    return f"No clear leader: {ranked[0]} had the best mean ({verdict.method_mean:.1f} %), but {why}"


def verdict_lines(runs, n_classes: int, baseline: str = "source-only", reference: str = "opensmile-svm") -> list[str]:
    """Every other method against ``baseline`` (when it ran), ``baseline`` against the ``reference`` row
    (when both ran), then the leader sentence."""
    table = as_table(runs)
    methods = list(dict.fromkeys(table["method"]))
    lines = []
    if baseline in methods:
        lines += [compare_methods(table, m, baseline=baseline, n_classes=n_classes).sentence
                  for m in methods if m not in (baseline, reference)]
        if reference in methods:
            lines.append(compare_methods(table, baseline, baseline=reference, n_classes=n_classes).sentence)
    return lines + [leader(table, n_classes)]


__all__ = ["LEARNED_MARGIN", "MIN_SEEDS", "Learned", "Verdict", "as_table", "compare_methods", "leader", "learned", "verdict_lines"]
