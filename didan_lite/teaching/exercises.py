"""Checks for the notebooks' exercises: ``check_exercise_2_1(answer)`` style, with a helpful message.

Notebook: each notebook's "Exercises" section calls these; the answers are in
notebooks/instructor_key.ipynb, which nbval executes, so key and checks cannot drift,
and the code exercises' solutions in notebooks/instructor/ (generated from notebooks/source/).
Code exercises (1.3, 2.3, 3.3, 4.3, 5.1, 7.1) take the student's function and run it on test cases.

Every check returns a :class:`CheckResult`: true when the answer is right,
and shown in a notebook as one message that says why it is right, or gives a
hint (never the answer) when it is not. Expected values are computed from the
library or from the student's own results, not typed in, so they follow the
code and the data that ran.

Examples::

    >>> result = check_exercise_1_1(None)
    >>> bool(result), result.message.startswith("Exercise 1.1: no answer yet")
    (False, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``bool(result)`` is whether it was right; ``message`` says why or gives a hint."""

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return self.message


def _check(number: str, answer: Any, correct: bool, why: str, hint: str) -> CheckResult:
    if answer is None:
        return CheckResult(False, f"Exercise {number}: no answer yet. Replace None with your answer and run the cell again.")
    if correct:
        return CheckResult(True, f"Exercise {number}: correct. {why}")
    return CheckResult(False, f"Exercise {number}: not yet (you answered {answer!r}). Hint: {hint}")


def _close(answer: Any, expected: float, tolerance: float) -> bool:
    try:
        return abs(float(answer) - expected) <= tolerance
    except (TypeError, ValueError):
        return False


def _check_code(number: str, function: Any, cases: list[tuple], expected: Any, why: str, hint: str,
                tolerance: float = 1e-6) -> CheckResult:
    """Run the student's ``function`` on every case and compare with ``expected(*case)`` (arrays, to ``tolerance``)."""
    if function is None:
        return _check(number, None, False, "", "")
    for case in cases:
        try:
            mine = function(*(np.copy(value) if isinstance(value, np.ndarray) else value for value in case))
        except Exception as error:  # the student's code: report, never raise
            return _check(number, "a function that raised", False, "",
                          f"your function raised {type(error).__name__}: {error}. {hint}")
        if mine is None:
            return _check(number, None, False, "", "")
        right = np.asarray(expected(*case), dtype=np.float64)  # on the untouched case: the student's got copies
        try:
            mine = np.asarray(mine, dtype=np.float64)
        except (TypeError, ValueError):
            return _check(number, f"a {type(mine).__name__}", False, "", f"return one number or one array. {hint}")
        if mine.shape != right.shape or not np.allclose(mine, right, atol=tolerance, rtol=tolerance):
            shown = f"an array of shape {mine.shape}" if mine.ndim else f"{float(mine):.4g}"
            return _check(number, f"{shown} on one of the test cases", False, "", hint)
    return _check(number, "your function", True, why, "")


# Notebook 1: spectrogram features.
def check_exercise_1_1(answer: Any) -> CheckResult:
    """How many frames has the log-mel spectrogram of a 2.0 s utterance with the default ``FeatureConfig``?"""
    from didan_lite.features import FeatureConfig, spectrogram

    config = FeatureConfig()
    expected = spectrogram(np.zeros(2 * config.sample_rate, dtype=np.float32), config).shape[-1]
    return _check("1.1", answer, _close(answer, expected, 0),
                  f"{2 * config.sample_rate} samples with a hop of {config.hop_length}, frames centred: "
                  "1 + n_samples // hop (the extra frame is centred on the last sample).",
                  "frames are centred on samples 0, hop, 2 hop, ... up to the end of the signal; count them.")


def check_exercise_1_2(answer: Any) -> CheckResult:
    """How many Hz apart are the STFT bins with a 50 ms window (FFT size: next power of two), at 16 kHz?"""
    from didan_lite.features import FeatureConfig

    config = FeatureConfig(window_ms=50.0)
    expected = config.sample_rate / config.n_fft
    return _check("1.2", answer, _close(answer, expected, 0.01),
                  f"a 50 ms window is {config.win_length} samples, zero-padded to an FFT of {config.n_fft}: "
                  f"bins sample_rate / n_fft = {expected:g} Hz apart, half the spacing of the 25 ms window. The spacing only "
                  "samples the spectrum; the resolution doubled too, but because the window is twice as long (Hann main "
                  "lobe 4 sample_rate / window length), not because of the FFT size.",
                  "bins are sample_rate / n_fft apart, and n_fft is the power of two at or above the window length in samples.")


def check_exercise_1_3(hann: Any) -> CheckResult:
    """Your ``hann(n)`` window against the periodic Hann window the STFT uses (``scipy.signal.get_window``)."""
    from scipy.signal import get_window

    return _check_code("1.3", hann, [(8,), (400,), (401,)], lambda n: get_window("hann", n, fftbins=True),
                       "your window is the periodic Hann window (N = n in the formula): it starts at 0 and "
                       "stops one sample short of 0 again, so that frames repeated every hop tile smoothly; the STFT of "
                       "didan_lite.features uses it.",
                       "w[k] = 0.5 - 0.5 cos(2 pi k / N) for k = 0 .. n - 1; for the periodic window the STFT uses, N = n "
                       "(the symmetric window of numpy's np.hanning uses N = n - 1).")


# Notebook 2: the cross-corpus problem.
EXERCISE_2_1_COUNTS: dict[str, int] = {"anger": 40, "fear": 40, "happiness": 40, "neutral": 40, "sadness": 13}
"""Exercise 2.1's imbalanced target: sadness cut to a third."""


def check_exercise_2_1(uar: Any, war: Any) -> CheckResult:
    """UAR and WAR, in %, of a model that always answers "anger" on :data:`EXERCISE_2_1_COUNTS`."""
    from didan_lite.metrics import unweighted_average_recall, weighted_average_recall

    y_true = np.repeat(np.arange(len(EXERCISE_2_1_COUNTS)), list(EXERCISE_2_1_COUNTS.values()))
    y_pred = np.zeros_like(y_true)
    expected = 100 * unweighted_average_recall(y_true, y_pred), 100 * weighted_average_recall(y_true, y_pred)
    correct = _close(uar, expected[0], 0.1) and _close(war, expected[1], 0.1)
    return _check("2.1", None if uar is None or war is None else (uar, war), correct,
                  f"UAR {expected[0]:.1f} %: one recall of 1 and four of 0, averaged over five emotions, whatever the counts; "
                  f"WAR {expected[1]:.1f} %: the share of anger in the test set. UAR is at chance, WAR flatters the model.",
                  "UAR averages the per-emotion recalls (each 0 or 1 here); WAR is the fraction of utterances that are anger. "
                  "Give both in %.")


def check_exercise_2_2(answer: Any) -> CheckResult:
    """Proxy A-distance when a linear classifier tells the corpora apart with 85 % cross-validated accuracy."""
    error = 0.15
    expected = 2 * (1 - 2 * error)
    return _check("2.2", answer, _close(answer, expected, 0.005),
                  f"d_A = 2 (1 - 2 epsilon) with epsilon = {error}: {expected:.2f} of 2, clearly separable corpora.",
                  "use the cross-validated *error* epsilon = 1 - accuracy in d_A = 2 (1 - 2 epsilon).")


def check_exercise_2_3(uar: Any) -> CheckResult:
    """Your ``uar(y_true, y_pred)`` (a fraction) against :func:`didan_lite.metrics.unweighted_average_recall`."""
    from didan_lite.metrics import unweighted_average_recall

    generator = np.random.default_rng(23)
    cases = [(np.repeat(np.arange(5), [40, 40, 40, 40, 13]), np.zeros(173, dtype=int))]
    cases += [(generator.integers(0, k, n), generator.integers(0, k, n)) for k, n in ((5, 60), (6, 97), (2, 11))]
    return _check_code("2.3", uar, cases, unweighted_average_recall,
                       "your UAR matches the library's: the mean over the classes present of each class's recall, "
                       "whatever the class counts.",
                       "for every class present in y_true, the share of its utterances predicted as that class; then the "
                       "plain mean of those recalls (a fraction, not a percentage).")


# Notebook 3: MMD.
def check_exercise_3_1(linear_factor: Any, gaussian_factor: Any) -> CheckResult:
    """Factors by which ``LinearMMDLoss`` and ``MMDLoss`` change when all features are multiplied by 3."""
    from didan_lite.alignment import LinearMMDLoss, MMDLoss

    generator = torch.Generator().manual_seed(0)
    f_s, f_t = torch.randn(40, 8, generator=generator, dtype=torch.float64), torch.randn(50, 8, generator=generator, dtype=torch.float64) + 1
    expected = [float(loss(3 * f_s, 3 * f_t) / loss(f_s, f_t)) for loss in (LinearMMDLoss(), MMDLoss())]
    correct = _close(linear_factor, expected[0], 0.01) and _close(gaussian_factor, expected[1], 0.01)
    return _check("3.1", None if linear_factor is None or gaussian_factor is None else (linear_factor, gaussian_factor), correct,
                  f"linear MMD² is a squared distance of means, so it scales by 3² = {expected[0]:.0f}; the Gaussian MMD² "
                  f"takes its bandwidth from the batch (median heuristic), so it does not change (factor {expected[1]:.0f}). "
                  "A network can shrink its features to lower the first, not the second.",
                  "for each loss, ask whether it has a length scale of its own or takes it from the data.")


def check_exercise_3_2(answer: Any, n_permutations: int = 200) -> CheckResult:
    """The smallest p-value ``permutation_p_value`` can report with ``n_permutations`` shuffles."""
    expected = 1 / (1 + n_permutations)
    return _check("3.2", answer, _close(answer, expected, 5e-4),
                  f"(1 + 0) / (1 + {n_permutations}) = {expected:.4f}: the observed split counts as one of the "
                  "possible splits, so a permutation test never reports p = 0; more shuffles, finer p-values.",
                  "look at the formula in permutation_p_value when no shuffled MMD² reaches the observed one.")


def check_exercise_3_3(linear_mmd: Any) -> CheckResult:
    """Your ``linear_mmd(f_s, f_t)`` (NumPy arrays) against ``LinearMMDLoss`` on batches of unequal size."""
    from didan_lite.alignment import LinearMMDLoss

    generator = np.random.default_rng(33)
    cases = [(generator.standard_normal((n_s, d)), generator.standard_normal((n_t, d)) + shift)
             for n_s, n_t, d, shift in ((40, 50, 8, 1.0), (16, 9, 3, 0.0), (5, 7, 128, 0.3))]
    return _check_code("3.3", linear_mmd, cases,
                       lambda f_s, f_t: float(LinearMMDLoss()(torch.from_numpy(f_s), torch.from_numpy(f_t))),
                       "your linear MMD² is the squared distance between the two batch means, as LinearMMDLoss computes it; "
                       "unequal batch sizes need nothing special.",
                       "the mean of each batch over its rows, then the sum of the squared differences of the two means.")


# Notebook 4: IDA.
def check_exercise_4_1(answer: Any) -> CheckResult:
    """With a class missing from the target (toy clouds), which loss stays low: "mmd", "ida one way" or "ida both ways"?

    Each loss's rise over its value for aligned clouds is compared with its rise for a clearly shifted target.
    """
    from didan_lite.teaching.toy import make_toy_clouds, toy_losses

    aligned, missing, shifted = (toy_losses(make_toy_clouds(**move)) for move in ({}, {"missing_class": 0}, {"shift": 3.0}))
    names = {"MMD²": "mmd", "IDA one way": "ida one way", "IDA both ways": "ida both ways"}
    rises = {names[key]: (missing[key] - aligned[key]) / (shifted[key] - aligned[key]) for key in names}
    expected = min(rises, key=rises.get)
    given = " ".join(re.split(r"[\s_-]+", str(answer).strip().lower())) if answer is not None else None
    return _check("4.1", answer, given == expected,
                  f"{expected} rises by {rises[expected]:.0%} of what a shift of 3 adds: every target point still has source "
                  "points near it, so it is rebuilt as well as before; the missing class is the source's surplus, which only "
                  "MMD and IDA both ways (which also rebuilds the source from the target) see.",
                  "answer 'mmd', 'ida one way' or 'ida both ways'; in the toy figure with a class missing, ask for each loss "
                  "whether the points it rebuilds or compares still have partners on the other side.")


def check_exercise_4_2(answer: Any) -> CheckResult:
    """Factor by which ``IDALoss`` changes when all features are multiplied by 10."""
    from didan_lite.alignment import IDALoss

    generator = torch.Generator().manual_seed(0)
    f_s, f_t = torch.randn(16, 32, generator=generator, dtype=torch.float64), torch.randn(16, 32, generator=generator, dtype=torch.float64) + 0.5
    expected = float(IDALoss()(10 * f_s, 10 * f_t) / IDALoss()(f_s, f_t))
    return _check("4.2", answer, _close(answer, expected, 0.01),
                  f"factor {expected:.2f}: the cross-corpus residual is divided by a reference in the same units (how well "
                  "each batch rebuilds itself), so IDA cannot be lowered by shrinking the features (compare linear MMD, "
                  "exercise 3.1).",
                  "what happens to the residual, and to the reference it is divided by, when every feature is 10 times larger?")


def check_exercise_4_3(mine: Any, f_s: torch.Tensor, f_t: torch.Tensor) -> CheckResult:
    """Your inline simplex coefficients (B_t, B_s) against ``reconstruction_coefficients(f_s, f_t, "simplex")``."""
    from didan_lite.alignment import reconstruction_coefficients

    expected = reconstruction_coefficients(torch.as_tensor(f_s), torch.as_tensor(f_t), "simplex").double().numpy()
    if mine is None:
        return _check("4.3", None, False, "", "")
    mine = np.asarray(mine, dtype=np.float64)
    if mine.shape != expected.shape:
        return _check("4.3", f"an array of shape {mine.shape}", False, "",
                      f"W has one row per target and one column per source: shape {expected.shape}.")
    gap = float(np.abs(mine - expected).max())
    return _check("4.3", f"an array, largest difference {gap:.2g}", gap < 1e-5,
                  "your softmax over negative squared distances matches the library's simplex coefficients.",
                  "rows must sum to 1; centre both batches on the source mean, take the median of the pooled batch's "
                  "pairwise squared distances (pairs of distinct points), and divide the distances by 0.1 times it.")


# Notebook 5: IDA versus MMD.
EXERCISE_5_1_CASES: tuple[tuple[float, ...], ...] = ((3.0, 4.5, 5.0), (-1.0, -2.5, -3.0, -2.0), (6.0, -1.0), (1.0, -1.0, 2.0))
"""Paired differences (points) on which exercise 5.1 also runs your function: one helps, one hurts, two seeds, an
interval across 0."""


def check_exercise_5_1(verdict_of: Any, runs: Any = None, *, n_classes: int, baseline: str = "source-only") -> CheckResult:
    """Your paired verdict, ``verdict_of(differences) -> (verdict, ci_low, ci_high)``, against
    :func:`didan_lite.verdicts.paired_verdict`, the rule that prints notebook 5's verdicts.

    ``differences`` are target UAR (method) - target UAR (baseline) per paired seed, in points. The check runs your
    function on :data:`EXERCISE_5_1_CASES` and on the paired differences of every method of ``runs`` (per-run
    records as in :mod:`didan_lite.verdicts`); the "learned" rule is not part of the exercise, so both sides are
    given the differences only. The message then states the verdicts of ``runs`` by the library's rule, so the
    exercise and the printed verdicts cannot disagree.
    """
    from didan_lite.verdicts import as_table, pairs, paired_verdict

    if verdict_of is None:
        return _check("5.1", None, False, "", "")
    cases = [np.asarray(case, dtype=float) for case in EXERCISE_5_1_CASES]
    table = None if runs is None else as_table(runs)
    if table is not None:
        for method in dict.fromkeys(table["method"]):
            if method != baseline and (table["method"] == baseline).any():
                paired = pairs(table, method, baseline)
                cases.append(100 * (paired["target_uar_m"].to_numpy(float) - paired["target_uar_b"].to_numpy(float)))
    for differences in cases:
        records = pd.DataFrame({"method": ["m"] * len(differences) + ["b"] * len(differences),
                                "seed": [*range(len(differences))] * 2,
                                "target_uar": np.clip(np.r_[0.5 + differences / 100, np.full(len(differences), 0.5)], 0, 1)})
        expected = paired_verdict(records, "m", baseline="b", n_classes=n_classes)
        try:
            answer = verdict_of(differences.copy())
            if answer is None:  # the student version's function body is still "# YOUR CODE HERE"
                return _check("5.1", None, False, "", "")
            if not isinstance(answer, (tuple, list)) or len(answer) != 3:
                shown = f"{len(answer)} values" if isinstance(answer, (tuple, list)) else f"a {type(answer).__name__}"
                return _check("5.1", f"{shown} on differences {np.round(differences, 1).tolist()}", False, "",
                              "return three values: (verdict, low, high), e.g. ('helps', 1.2, 4.8).")
            word, low, high = answer
        except Exception as error:  # the student's code: report, never raise
            return _check("5.1", "a function that raised", False, "",
                          f"your function raised {type(error).__name__} on differences {np.round(differences, 1).tolist()}; "
                          "it must return (verdict, low, high).")
        interval_ok = (np.isnan(expected.ci_low) and (low is None or np.isnan(float(low)))) or (
            _close(low, expected.ci_low, 0.05) and _close(high, expected.ci_high, 0.05))
        if str(word) != expected.verdict or not interval_ok:
            return _check("5.1", f"({word!r}, {low}, {high}) for differences {np.round(differences, 1).tolist()}", False, "",
                          "the interval is mean ± t(0.975, n - 1) · sd / sqrt(n) (scipy.stats.t.ppf, sd with ddof=1); "
                          "the verdict is 'helps' or 'hurts' only with at least 3 pairs and an interval that excludes 0, "
                          "'no conclusion' otherwise.")
    shown = "" if table is None else " On this notebook's runs the rule says: " + "; ".join(
        paired_verdict(table, m, baseline=baseline, n_classes=n_classes).sentence()
        for m in dict.fromkeys(table["method"]) if m != baseline)
    return _check("5.1", "your function", True,
                  "your function gives the verdict and the 95 % interval of didan_lite.verdicts.paired_verdict on every case "
                  "(the printed verdicts of section 5 also apply the 'learned' rule)." + shown, "")


def check_exercise_5_2(answer: Any, means: pd.DataFrame, source_only_uar: float, method: str = "ida",
                       tolerance: float = 5.0) -> CheckResult:
    """The weight a valid protocol picks: the largest whose held-out *source* UAR stays within ``tolerance`` points of
    source-only; the string ``"none"`` when no candidate does (notebook 5's exercise text says so, the hint does not).

    ``means``: one row per (method, candidate weight), with columns ``method``,
    ``weight`` and ``held-out source UAR %`` (notebook 5, section 4).
    """
    rows = means[means["method"] == method]
    kept = rows[rows["held-out source UAR %"] >= source_only_uar - tolerance]
    expected = float(kept["weight"].max()) if len(kept) else None
    if expected is None:  # the exercise says what to answer then; the hint only says how to look
        return _check("5.2", answer, str(answer).lower() == "none", "no weight keeps the source task within the tolerance.",
                      f"compare every candidate weight's held-out source UAR with source-only's minus {tolerance:g} "
                      "points, and reread the exercise for the case where no weight qualifies.")
    return _check("5.2", answer, _close(answer, expected, 1e-9),
                  f"{method} at weight {expected:g} is the largest weight whose held-out source UAR stays within {tolerance:g} "
                  "points of source-only's; no target label was used to choose it.",
                  f"among {method}'s weights, keep those whose held-out source UAR is at least source-only's minus {tolerance:g}, "
                  "and take the largest.")


# Notebook 6: reproduction on a GPU.
def check_exercise_6_1(answer: Any, n_classes: int = 5) -> CheckResult:
    """Size in MB (10^6 bytes) of the weights of a default ``DIDAN`` (64 mel bands), stored as float32."""
    from didan_lite.model import DIDAN

    model = DIDAN(64, n_classes)
    expected = 4 * sum(parameter.numel() for parameter in model.parameters()) / 1e6
    return _check("6.1", answer, _close(answer, expected, 0.01),
                  f"{expected / 4 * 1e6:,.0f} parameters x 4 bytes = {expected:.2f} MB. A checkpoint on disk is larger: "
                  "it also keeps the optimiser's state (Adam keeps two numbers per weight) and the history.",
                  "count the parameters (sum of p.numel() over model.parameters()) and multiply by 4 bytes.")


# Notebook 7: a label shift.
EXERCISE_7_1_CASES: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = (
    ((0.9, 0.5, 0.4, 0.3, 0.2), (0.125, 0.125, 0.125, 0.5, 0.125)),  # a neutral-heavy target (neutral 4th)
    ((1.0, 0.0, 0.0), (1 / 3, 1 / 3, 1 / 3)),
    ((0.2, 0.8), (0.9, 0.1)),
)
"""Made-up (recalls, mix) on which exercise 7.1 runs your function before your own runs."""


def check_exercise_7_1(war_of: Any, runs: Any = None, mix: Any = None) -> CheckResult:
    """Your ``war_of(recalls, mix)``: the WAR (accuracy, a fraction) that per-emotion ``recalls`` give on a target whose
    emotion shares are ``mix``, i.e. the ``mix``-weighted mean of the recalls.

    Runs it on :data:`EXERCISE_7_1_CASES`, then, with ``runs`` (results of :func:`didan_lite.experiment.run_method`,
    whose ``target_confusion`` rows are recalls) and the target's ``mix``, on each run's recalls, where the expected
    value is the run's ``target_war``, measured from its predictions: the identity holds exactly, so the check follows
    the code that scored the runs.
    """
    if war_of is None:
        return _check("7.1", None, False, "", "")
    cases = [(np.asarray(r, dtype=float), np.asarray(m, dtype=float), float(np.dot(r, m))) for r, m in EXERCISE_7_1_CASES]
    runs = list(runs or [])
    if runs and mix is not None:
        cases += [(np.diag(run.target_confusion).astype(float), np.asarray(mix, dtype=float), float(run.target_war))
                  for run in runs]
    hint = ("WAR counts utterances, so each emotion's recall counts as often as that emotion occurs in the target: "
            "weight each recall by its share of the target (the shares sum to one); a plain mean would be UAR.")
    for recalls, shares, expected in cases:
        try:
            mine = war_of(recalls.copy(), shares.copy())
        except Exception as error:  # the student's code: report, never raise
            return _check("7.1", "a function that raised", False, "", f"your function raised {type(error).__name__}: {error}. {hint}")
        if mine is None:  # the student version's body is still "# YOUR CODE HERE"
            return _check("7.1", None, False, "", "")
        if not _close(mine, expected, 1e-6):
            return _check("7.1", f"{mine!r} for recalls {np.round(recalls, 2).tolist()}", False, "", hint)
    shown = "" if not runs else (" On your runs: " + "; ".join(
        f"{run.method} WAR {100 * run.target_war:.1f} % against UAR {100 * run.target_uar:.1f} %" for run in runs) + ".")
    return _check("7.1", "your function", True,
                  "WAR is the mix-weighted mean of the recalls and UAR their plain mean, so on a neutral-heavy target a "
                  "model that favours neutral gains WAR without gaining UAR." + shown, "")
