"""The notebooks' exercise checks: a right answer passes, a wrong one gets a hint (never the answer), None asks for one.

The right answers here are worked out independently of the checks (from the
definitions the notebooks teach), so a check that drifted from its notebook fails.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

import didan_lite
from didan_lite.teaching import exercises

TOY = np.random.default_rng(0)
F_S, F_T = torch.from_numpy(TOY.standard_normal((12, 4))), torch.from_numpy(TOY.standard_normal((9, 4)) + 0.5)


def _simplex_by_hand(f_s: np.ndarray, f_t: np.ndarray, strength: float = 0.1) -> np.ndarray:
    """The simplex coefficients as notebook 4's exercise describes them."""
    mean = f_s.mean(0)
    s, t = f_s - mean, f_t - mean
    pooled = np.r_[s, t]
    distances = ((pooled[:, None] - pooled[None]) ** 2).sum(-1)
    pairs = np.sort(distances[np.triu_indices(len(pooled), 1)])
    tau = strength * pairs[(len(pairs) - 1) // 2]
    logits = -distances[len(s):, :len(s)] / tau
    weights = np.exp(logits - logits.max(1, keepdims=True))
    return weights / weights.sum(1, keepdims=True)


RUNS = pd.DataFrame({"method": ["source-only"] * 3 + ["mmd"] * 3 + ["ida"] * 3, "seed": [0, 1, 2] * 3,
                     "target_uar": [0.30, 0.32, 0.28, 0.36, 0.37, 0.35, 0.31, 0.29, 0.33]})


def _verdict_by_hand(differences):
    """Exercise 5.1's rule as notebook 5 states it: a Student-t 95 % interval of the mean paired difference."""
    from scipy import stats

    n, mean = len(differences), float(np.mean(differences))
    if n < 2:
        return "no conclusion", float("nan"), float("nan")
    half = stats.t.ppf(0.975, n - 1) * np.std(differences, ddof=1) / math.sqrt(n)
    low, high = mean - half, mean + half
    word = "no conclusion" if n < 3 or low <= 0 <= high else ("helps" if low > 0 else "hurts")
    return word, low, high
SWEEP = pd.DataFrame({"method": ["ida"] * 3 + ["mmd"] * 3, "weight": [0.1, 0.3, 1.0] * 2,
                      "held-out source UAR %": [60.0, 56.0, 40.0, 61.0, 50.0, 45.0]})

# (check, right answer, a wrong answer, extra arguments)
CASES = [
    (exercises.check_exercise_1_1, (1 + 32000 // 160,), (200,), {}),
    (exercises.check_exercise_1_2, (16000 / 1024,), (16000 / 512,), {}),
    (exercises.check_exercise_1_3, (lambda n: 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n),), (np.hanning,), {}),
    (exercises.check_exercise_2_3, (lambda t, p: np.mean([np.mean(p[t == k] == k) for k in np.unique(t)]),),
     (lambda t, p: np.mean(t == p),), {}),
    (exercises.check_exercise_3_3, (lambda s, t: ((s.mean(0) - t.mean(0)) ** 2).sum(),),
     (lambda s, t: np.sqrt(((s.mean(0) - t.mean(0)) ** 2).sum()),), {}),
    (exercises.check_exercise_2_1, (20.0, 100 * 40 / 173), (100 * 40 / 173, 20.0), {}),
    (exercises.check_exercise_2_2, (1.4,), (0.7,), {}),
    (exercises.check_exercise_3_1, (9, 1), (3, 3), {}),
    (exercises.check_exercise_3_2, (1 / 201,), (0.0,), {}),
    (exercises.check_exercise_4_1, ("IDA one-way",), ("mmd",), {}),
    (exercises.check_exercise_4_2, (1.0,), (100.0,), {}),
    (exercises.check_exercise_4_3, (_simplex_by_hand(F_S.numpy(), F_T.numpy()),), (np.full((9, 12), 1 / 12),),
     {"f_s": F_S, "f_t": F_T}),
    (exercises.check_exercise_5_1, (_verdict_by_hand,), (lambda d: ("helps", 0.0, 1.0),), {"runs": RUNS, "n_classes": 5}),
    (exercises.check_exercise_5_2, (0.3,), (1.0,), {"means": SWEEP, "source_only_uar": 60.0}),
    (exercises.check_exercise_6_1, (None,), (0.0,), {}),  # right answer filled in below from the model
    (exercises.check_exercise_7_1, (lambda recalls, mix: sum(r * m for r, m in zip(recalls, mix)),),
     (lambda recalls, mix: float(np.mean(recalls)),), {}),
]


def _right(check, right):
    if check is exercises.check_exercise_6_1:
        model = didan_lite.DIDAN(64, 5)
        return (4 * sum(p.numel() for p in model.parameters()) / 1e6,)
    return right


@pytest.mark.parametrize("check, right, wrong, extra", CASES, ids=lambda value: getattr(value, "__name__", ""))
def test_right_answer_passes_and_wrong_answer_gets_a_hint(check, right, wrong, extra):
    number = check.__name__.removeprefix("check_exercise_").replace("_", ".")
    passed = check(*_right(check, right), **extra)
    assert passed and passed.message.startswith(f"Exercise {number}: correct."), passed.message
    failed = check(*wrong, **extra)
    assert not failed and f"Exercise {number}: not yet" in failed.message and "Hint:" in failed.message
    assert repr(failed) == failed.message, "a notebook shows the message, not a bare True/False"
    if check is not exercises.check_exercise_4_3:
        shown = re.findall(r"\d+(?:\.\d+)?", passed.message.split("correct.")[1])
        hint = failed.message.split("Hint:")[1]
        assert not [number for number in shown if len(number) > 2 and number in hint], "the hint must not give the answer away"


@pytest.mark.parametrize("check, right, wrong, extra", CASES, ids=lambda value: getattr(value, "__name__", ""))
def test_no_answer_yet_asks_for_one(check, right, wrong, extra):
    result = check(*[None] * len(wrong), **extra)
    assert not result and "no answer yet" in result.message


def test_every_check_is_exported_and_tested():
    defined = sorted(name for name in dir(exercises) if name.startswith("check_exercise_"))
    assert defined == sorted(check.__name__ for check, *_ in CASES)
    assert all(getattr(didan_lite, name) is getattr(exercises, name) for name in defined)



def test_exercise_5_1_agrees_with_the_printed_verdict_and_reports_a_failing_function():
    """The check's closing sentence is paired_verdict's own; a function that raises gets a hint, not a traceback."""
    result = exercises.check_exercise_5_1(_verdict_by_hand, RUNS, n_classes=5)
    assert didan_lite.paired_verdict(RUNS, "mmd", n_classes=5).sentence() in result.message
    broken = exercises.check_exercise_5_1(lambda d: 1 / 0, RUNS, n_classes=5)
    assert not broken and "ZeroDivisionError" in broken.message


def test_exercise_5_2_when_no_weight_qualifies_the_hint_does_not_give_the_answer():
    frame = pd.DataFrame({"method": ["ida", "ida"], "weight": [0.1, 1.0], "held-out source UAR %": [40.0, 30.0]})
    assert exercises.check_exercise_5_2("none", frame, source_only_uar=60.0)
    failed = exercises.check_exercise_5_2(0.1, frame, source_only_uar=60.0)
    assert not failed and "none" not in failed.message.split("Hint:")[1].lower()


def test_exercise_7_1_holds_the_function_to_each_run_s_measured_war():
    """On a run, the expected WAR is the one measured from its predictions, not the check's own formula."""
    from types import SimpleNamespace

    from didan_lite.metrics import confusion, weighted_average_recall

    y_true = np.repeat(np.arange(3), [10, 4, 6])
    y_pred = np.r_[np.zeros(5, int), np.ones(5, int), np.ones(3, int), np.zeros(1, int), np.full(6, 2)]  # recalls 0.5, 0.75, 1
    run = SimpleNamespace(method="m", target_confusion=confusion(y_true, y_pred, 3), target_uar=0.0,
                          target_war=weighted_average_recall(y_true, y_pred))
    mix = np.bincount(y_true) / len(y_true)
    assert exercises.check_exercise_7_1(lambda r, m: float(np.dot(r, m)), [run], mix)
    wrong_mix = np.full(3, 1 / 3)
    assert not exercises.check_exercise_7_1(lambda r, m: float(np.dot(r, m)), [run], wrong_mix)
    assert "raised" in exercises.check_exercise_7_1(lambda r, m: 1 / 0).message
