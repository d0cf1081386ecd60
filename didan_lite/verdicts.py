"""Verdicts from paired confidence intervals: say that a method helped only when the numbers allow it.

Notebook: notebooks/05_ida_vs_mmd.ipynb prints these sentences under its results table.

A few runs of a small network on a few hundred utterances are noisy (the
seed-to-seed sd of target UAR is 3-9 points on EmoDB <-> CASIA), and a model
that learned nothing scores near chance on *every* corpus. The rules, fixed
before any result was seen:

1. **Learned, per seed**: a run learned only if its held-out *source* UAR is at
   least chance + 15 points (:data:`LEARNED_MARGIN`; chance = 1 / K for K
   classes). A model refit on all source speakers has no held-out speakers of
   its own (its reported held-out UAR is the selection runs'), so its own check
   is its UAR on the source utterances it was trained on (``source_fit_uar``:
   source labels only): lenient, but a collapsed model sits at chance there
   too. A comparison in which any paired run of either method did not
   learn gets no "helps" or "hurts" (judged per seed, not on the mean, so a
   collapsed seed cannot hide behind good ones).
2. **Paired by seed**: for a seed, every method starts from the same initial
   weights and sees the same batches as the baseline, so the runs of one
   (task, seed) are compared with each other: per pair the difference
   ``d = UAR(method) - UAR(baseline)`` in points, then the mean of ``d`` with a
   Student-t confidence interval over the pairs (95 % by default),

   .. math:: \\bar d \\pm t_{0.975,\\,n-1} \\, s_d / \\sqrt{n}

   Several tasks in one table are pooled (every (task, seed) is a pair);
   filter the table by task for a per-task verdict.
3. A method **helps** when the interval lies above 0, **hurts** when it lies
   below 0, with at least :data:`MIN_PAIRS` pairs; in every other case the
   verdict is "no conclusion", and the sentence says why.

Input: per-run records with ``method``, ``seed``, ``target_uar`` and optionally
``task`` and the held-out source UAR (``source_heldout_uar`` as in
``metrics.json``, or ``source_uar``; without it rule 1 is not applied), as a
DataFrame, a list of dicts, or :class:`didan_lite.results.RunResult`
objects; UARs as fractions in [0, 1].

Examples::

    verdict = paired_verdict(runs, "ida", baseline="source-only", n_classes=5)
    print(verdict.sentence())
    # e.g. "ida vs source-only: no conclusion: +1.4 points over 2 paired seeds, 95 % interval [-3.1, +6.0];
    #       fewer than 3 paired seeds"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from didan_lite.errors import InputError

LEARNED_MARGIN = 0.15
"""Held-out source UAR must reach chance + this (in UAR units), in every run, for a model to count as learned."""
MIN_PAIRS = 3
"""Fewest paired seeds for a "helps" or "hurts" verdict (two give an interval too wide and too unreliable to read)."""
NOT_MEASURED = "no verdict: not measured"
"""The verdict when a paired run records no held-out source UAR (NaN/None): whether it learned is unknown, so
rule 1 cannot pass it."""
Outcome = Literal["helps", "hurts", "no conclusion", "no verdict: not measured"]


def check_verdict_arguments(n_classes, confidence: float = 0.95) -> None:
    """Refuse a class count that is not a whole number >= 2, or a confidence outside (0, 1) (``95`` is not 0.95).

    Raises:
        InputError: naming the argument and what to pass.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise InputError(f"n_classes={n_classes!r} is not a whole number >= 2; pass the number of emotions of the "
                         "task, e.g. n_classes=5.")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating)) or not 0 < confidence < 1:
        raise InputError(f"confidence={confidence!r} is not a fraction in (0, 1); pass e.g. confidence=0.95 for a "
                         "95 % interval.")


def as_table(runs) -> pd.DataFrame:
    """Per-run records -> DataFrame with columns method, seed, target_uar (and source_uar when the records have it).

    A ``metrics.json`` (its path, or the dict it holds) is read for its ``runs``.

    Raises:
        ValueError: a column is missing, or a UAR lies outside [0, 1] (percentages instead of fractions).
        InputError: ``runs`` is a string or a mapping that is not a ``metrics.json`` (one line saying what to pass).
    """
    if isinstance(runs, (str, os.PathLike)):
        path = Path(runs)
        try:
            runs = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"{path} cannot be read as a metrics.json ({type(error).__name__}); pass per-run records "
                             "(a DataFrame, a list of dicts) or the path of a comparison's metrics.json.") from None
    if isinstance(runs, dict):
        if not isinstance(runs.get("runs"), list):
            raise InputError("run records given as a dict without a 'runs' list; pass metrics.json's runs "
                             "(metrics['runs']), a DataFrame or a list of dicts.")
        runs = runs["runs"]
    if isinstance(runs, pd.DataFrame):
        frame = runs.copy()
    else:
        frame = pd.DataFrame([r.summary() if hasattr(r, "summary") else dict(r) for r in list(runs)])
    if "source_uar" not in frame and "source_heldout_uar" in frame:
        frame["source_uar"] = frame["source_heldout_uar"]
    missing = {"method", "seed", "target_uar"} - set(frame.columns)
    if missing:
        raise ValueError(f"run records lack {sorted(missing)}")
    for column in ("target_uar", "source_uar"):
        values = frame[column].to_numpy(float) if column in frame else np.zeros(0)
        if np.any((values < 0) | (values > 1)):
            raise ValueError(f"{column} must be a fraction in [0, 1]; got values up to {np.nanmax(values):g} "
                             "(divide percentages by 100)")
    return frame


@dataclass(frozen=True)
class Learned:
    """Whether one method's runs learned: each run's held-out source UAR against chance + margin."""

    method: str
    ok: bool
    """Every run learned."""
    source_uar: float
    """Mean held-out source UAR over the runs, in [0, 1] (nan when unknown)."""
    threshold: float
    seeds: int
    failed_seeds: tuple[str, ...] = ()
    """The runs that did not learn, e.g. ``("seed 33",)`` or ``("C-B seed 33",)``."""
    unmeasured_seeds: tuple[str, ...] = ()
    """The runs without a held-out source UAR (NaN/None): not judged, so ``ok`` is False."""

    @property
    def sentence(self) -> str:
        if self.unmeasured_seeds:
            return (f"{self.method}: no held-out source UAR recorded on {len(self.unmeasured_seeds)} of {self.seeds} "
                    f"seeds ({', '.join(self.unmeasured_seeds[:5])}{' ...' if len(self.unmeasured_seeds) > 5 else ''}), "
                    "so whether it learned is unknown.")
        if np.isnan(self.source_uar):
            return f"{self.method}: no held-out source UAR recorded, so whether it learned is unknown."
        rule = f"chance + {100 * LEARNED_MARGIN:.0f} points = {100 * self.threshold:.1f} %"
        if self.ok:
            return f"{self.method} learned on all {self.seeds} seeds (held-out source UAR at least {rule})."
        return (f"{self.method} did not learn on {len(self.failed_seeds)} of {self.seeds} seeds "
                f"({', '.join(self.failed_seeds)}: held-out source UAR below {rule}).")


def learned(runs, n_classes: int, method: str | None = None) -> Learned | dict[str, Learned]:
    """Rule 1 for one method, or for every method (a dict) when ``method`` is None.

    A run whose held-out source UAR is missing (NaN/None) never passes: it is listed in ``unmeasured_seeds``
    and ``ok`` is False. Records without the column at all are not judged (rule 1 is not applied).
    """
    check_verdict_arguments(n_classes)
    table = as_table(runs)
    threshold = 1.0 / n_classes + LEARNED_MARGIN
    if method is None:
        return {m: learned(table, n_classes, m) for m in dict.fromkeys(table["method"])}
    rows = table[table["method"] == method]
    if rows.empty:
        raise ValueError(f"no run of method {method!r}")
    if "source_uar" not in rows:
        return Learned(method, True, float("nan"), threshold, len(rows))
    labels = [f"{task} seed {seed}" for task, seed in zip(rows["task"], rows["seed"])] if "task" in rows else \
        [f"seed {seed}" for seed in rows["seed"]]
    own_check = rows["source_uar"]
    if "source_fit_uar" in rows and "source_heldout_from" in rows:  # a refit: its own fit, not the selection's
        measured_here = rows["source_heldout_from"].fillna("this run") == "this run"
        own_check = own_check.where(measured_here | rows["source_fit_uar"].isna(), rows["source_fit_uar"])
    own_check = pd.to_numeric(own_check, errors="coerce")
    heldout = pd.to_numeric(rows["source_uar"], errors="coerce")
    unmeasured = tuple(label for label, uar, figure in zip(labels, own_check, heldout) if np.isnan(uar) or np.isnan(figure))
    failed = tuple(label for label, uar in zip(labels, own_check) if uar < threshold)
    return Learned(method, not failed and not unmeasured, float(heldout.mean()), threshold, len(rows), failed, unmeasured)


@dataclass(frozen=True)
class PairedVerdict:
    """The paired comparison of one method with a baseline; differences in UAR percentage points."""

    method: str
    baseline: str
    n_pairs: int
    mean_difference: float
    """Mean over pairs of target UAR (method) - target UAR (baseline), in points (nan without pairs)."""
    ci_low: float
    ci_high: float
    """Bounds of the t-interval of the mean difference, in points (nan with fewer than two pairs)."""
    verdict: Outcome
    reason: str
    """Why this verdict, in words (the tail of :meth:`sentence`)."""
    confidence: float = 0.95
    method_mean: float = float("nan")
    baseline_mean: float = float("nan")
    """Mean target UAR over the paired runs, in %."""
    paired_sd: float = float("nan")
    """Standard deviation over seeds of the paired differences, in points (nan with fewer than two pairs):
    well below the methods' own seed sd when the pairing works."""

    @property
    def helps(self) -> bool:
        return self.verdict == "helps"

    def interval(self) -> str:
        """``[-3.1, +6.0]``, or ``[n/a]`` with fewer than two pairs."""
        return interval_text(self.ci_low, self.ci_high)

    def sentence(self) -> str:
        """One sentence with the numbers and the reason, e.g.
        ``ida vs source-only: no conclusion: +1.4 points over 2 paired seeds, 95 % interval [-3.1, +6.0]; ...``."""
        if self.n_pairs == 0:
            return f"{self.method} vs {self.baseline}: {self.verdict}: {self.reason}"
        seeds = "paired seed" if self.n_pairs == 1 else "paired seeds"
        return (f"{self.method} vs {self.baseline}: {self.verdict}: {self.mean_difference:+.1f} points over "
                f"{self.n_pairs} {seeds}, {100 * self.confidence:.0f} % interval {self.interval()}; {self.reason}")


def interval_text(low: float, high: float) -> str:
    """``[-3.1, +6.0]`` (points), ``[n/a]`` for nan bounds; a bound that one decimal would print as 0.0 gets two
    (``-0.04``), so that its side of 0 shows."""
    def points(value: float) -> str:
        return f"{value:+.1f}" if value == 0 or abs(value) >= 0.05 else f"{value:+.2f}"

    return "[n/a]" if np.isnan(low) or np.isnan(high) else f"[{points(low)}, {points(high)}]"


def pairs(runs, method: str, baseline: str) -> pd.DataFrame:
    """One row per (task, seed) that both methods ran: columns key(s), target_uar and source_uar of each side.

    Raises:
        ValueError: a method ran twice on one (task, seed), so pairs are ambiguous.
    """
    table = as_table(runs)
    keys = ["task", "seed"] if "task" in table else ["seed"]
    sides = []
    for name, suffix in ((method, "_m"), (baseline, "_b")):
        rows = table[table["method"] == name]
        if rows.duplicated(keys).any():
            raise ValueError(f"{name!r} has several runs for one {'/'.join(keys)}; pairs would be ambiguous")
        columns = [c for c in ("target_uar", "source_uar") if c in rows]
        sides.append(rows[keys + columns].rename(columns={c: c + suffix for c in columns}))
    return sides[0].merge(sides[1], on=keys, how="inner")


def interval_verdict(differences: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float, float, str, str]:
    """Rules 2-3 on paired differences in points, shape (n,): their mean, the t-interval (nan below two pairs),
    the verdict ("helps", "hurts" or "no conclusion") and its reason. Rule 1 (did each run learn) is the caller's.

    Raises:
        InputError: ``confidence`` not in (0, 1).
    """
    check_verdict_arguments(2, confidence)
    differences = np.asarray(differences, dtype=float)
    n = len(differences)
    mean = float(differences.mean()) if n else float("nan")
    low = high = float("nan")
    if n >= 2:
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * differences.std(ddof=1) / np.sqrt(n))
        low, high = mean - half, mean + half
    if n < MIN_PAIRS:
        return mean, low, high, "no conclusion", f"fewer than {MIN_PAIRS} paired seeds are too few for a verdict."
    if low > 0:
        return mean, low, high, "helps", "the interval lies above 0."
    if high < 0:
        return mean, low, high, "hurts", "the interval lies below 0."
    return mean, low, high, "no conclusion", "the interval includes 0."


def paired_verdict(runs, method: str, *, baseline: str = "source-only", n_classes: int,
                   confidence: float = 0.95) -> PairedVerdict:
    """Rules 1-3 for ``method`` against ``baseline``: mean paired difference, t-interval and verdict.

    A paired run without a recorded held-out source UAR gives the verdict :data:`NOT_MEASURED`, never a pass.

    Raises:
        ValueError: one of the two methods has no run, or the records lack a column (see :func:`as_table`).
        InputError: ``n_classes`` not a whole number >= 2, ``confidence`` not in (0, 1), a method name that is not
            a string, or ``runs`` not run records.
    """
    check_verdict_arguments(n_classes, confidence)
    for name, value in (("method", method), ("baseline", baseline)):
        if not isinstance(value, str):
            raise InputError(f"{name}={value!r} is not a method name; pass e.g. {name}='ida'.")
    table = as_table(runs)
    for name in (method, baseline):
        if not (table["method"] == name).any():
            raise ValueError(f"no run of method {name!r}")
    paired = pairs(table, method, baseline)
    n = len(paired)
    if n == 0:
        return PairedVerdict(method, baseline, 0, float("nan"), float("nan"), float("nan"), "no conclusion",
                             "no seed was run by both, so nothing can be paired.", confidence)
    differences = 100 * (paired["target_uar_m"].to_numpy(float) - paired["target_uar_b"].to_numpy(float))
    mean, low, high, verdict, reason = interval_verdict(differences, confidence)
    paired_runs = table.merge(paired[["task", "seed"] if "task" in paired else ["seed"]])
    failed = [check for check in (learned(paired_runs, n_classes, method), learned(paired_runs, n_classes, baseline))
              if not check.ok]
    if any(check.unmeasured_seeds for check in failed):
        verdict = NOT_MEASURED
        reason = " ".join(check.sentence for check in failed if check.unmeasured_seeds)
    elif failed:
        verdict, reason = "no conclusion", " ".join(check.sentence for check in failed)
    return PairedVerdict(method, baseline, n, mean, low, high, verdict, reason, confidence,
                         float(100 * paired["target_uar_m"].mean()), float(100 * paired["target_uar_b"].mean()),
                         float(differences.std(ddof=1)) if n >= 2 else float("nan"))


def paired_table(runs, n_classes: int, baseline: str = "source-only", confidence: float = 0.95) -> pd.DataFrame:
    """Per method: runs, mean and sd of target UAR (%), and the paired difference to ``baseline`` with its interval.

    Columns: method, runs, target_uar_mean, target_uar_sd, n_pairs, difference, ci_low, ci_high, paired_sd,
    verdict (the baseline's own row and methods without a baseline run have nan differences and an empty verdict).
    """
    table = as_table(runs)
    rows = []
    for method in dict.fromkeys(table["method"]):
        values = 100 * table.loc[table["method"] == method, "target_uar"].to_numpy(float)
        row = {"method": method, "runs": len(values), "target_uar_mean": float(values.mean()),
               "target_uar_sd": float(values.std(ddof=1)) if len(values) > 1 else float("nan"),
               "n_pairs": 0, "difference": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"),
               "paired_sd": float("nan"), "verdict": ""}
        if method != baseline and (table["method"] == baseline).any():
            v = paired_verdict(table, method, baseline=baseline, n_classes=n_classes, confidence=confidence)
            row.update(n_pairs=v.n_pairs, difference=v.mean_difference, ci_low=v.ci_low, ci_high=v.ci_high,
                       paired_sd=v.paired_sd, verdict=v.verdict)
        rows.append(row)
    return pd.DataFrame(rows)


def leader(runs, n_classes: int) -> str:
    """A guarded sentence on which method led: the best mean target UAR among the methods whose every run learned,
    named only when its paired interval against the runner-up lies above 0."""
    table = as_table(runs)
    learners = [m for m, check in learned(table, n_classes).items() if check.ok]
    if not learners:
        return "No conclusion on a leader: no method learned on every seed."
    means = {m: float(table.loc[table["method"] == m, "target_uar"].mean()) for m in learners}
    ranked = sorted(learners, key=means.get, reverse=True)
    if len(ranked) == 1:
        return f"No conclusion on a leader: only {ranked[0]} learned on every seed, so there is nothing to rank it against."
    verdict = paired_verdict(table, ranked[0], baseline=ranked[1], n_classes=n_classes)
    if verdict.helps:
        return f"{ranked[0]} led ({100 * means[ranked[0]]:.1f} % target UAR): {verdict.sentence()}"
    return f"No clear leader: {ranked[0]} had the best mean ({100 * means[ranked[0]]:.1f} %), but {verdict.sentence()}"


def verdict_lines(runs, n_classes: int, baseline: str = "source-only", reference: str = "opensmile-svm") -> list[str]:
    """Every other method against ``baseline`` (when it ran), ``baseline`` against the ``reference`` row
    (when both ran), then the leader sentence; each by the paired rule (pooled when the runs hold several tasks)."""
    table = as_table(runs)
    methods = list(dict.fromkeys(table["method"]))
    lines = []
    if baseline in methods:
        lines += [paired_verdict(table, m, baseline=baseline, n_classes=n_classes).sentence()
                  for m in methods if m not in (baseline, reference)]
        if reference in methods:
            lines.append(paired_verdict(table, baseline, baseline=reference, n_classes=n_classes).sentence())
    return lines + [leader(table, n_classes)]


__all__ = ["LEARNED_MARGIN", "MIN_PAIRS", "NOT_MEASURED", "Learned", "check_verdict_arguments", "PairedVerdict", "as_table", "interval_text", "interval_verdict", "learned", "leader", "paired_table",
           "paired_verdict", "pairs", "verdict_lines"]
