"""Choosing the alignment weight without target labels: deep embedded validation (DEV).

Notebook: notebooks/05_ida_vs_mmd.ipynb contrasts this choice with the target-label oracle.

A trade-off weight chosen by target UAR is an oracle: in a real adaptation
the target labels do not exist. ``compare(..., weight="auto")`` instead trains
every candidate weight (:data:`DEFAULT_CANDIDATES`) of an aligning method on
one selection seed and keeps the one of lowest DEV risk (You et al., "Towards
accurate model selection in deep unsupervised domain adaptation", ICML 2019),
then trains every seed with it. DEV estimates the *target* risk from labelled
held-out source data re-weighted towards the target:

.. math::
    w(x) = \\frac{N_s}{N_t} \\frac{p(\\text{target} \\mid f(x))}{p(\\text{source} \\mid f(x))}, \\qquad
    \\hat R = \\overline{w \\ell} + \\eta\\, \\overline{w} - \\eta, \\qquad
    \\eta = -\\frac{\\operatorname{cov}(w\\ell, w)}{\\operatorname{var}(w)}

where the domain classifier (logistic regression on standardised features of
the aligned layer) is trained on the *training* source features against the
target features, :math:`\\ell` is evaluated on the *held-out source speakers*
(never trained on), and :math:`\\eta` is the control variate that lowers the
variance of the importance-weighted mean. Our loss :math:`\\ell` is the
class-balanced 0-1 error (its plain mean is 1 - UAR, the field's metric), so
the model's regression scores need no calibration.

Written here rather than taken from ``skada.metrics.DeepEmbeddedValidation``
(skada 0.6.0) for two reasons: that scorer draws its own random validation
part from whatever source data it is given, so it cannot use the fixed
held-out *speakers* and would validate on utterances the model was trained
on; and with its default loss it multiplies an (N, 1) weight column by an
(N,) loss vector, which numpy broadcasts to an (N, N) matrix, so it returns
mean(w) * mean(loss) with a control variate taken from the wrong columns (on
a 2-D Gaussian shift: 0.287 where the paper's formula on the same split gives
0.270). The target's labels never enter: :func:`dev_risk` has no argument for them.

Ties (equal risks) go to the smaller weight, the one closer to source-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

DEFAULT_CANDIDATES: tuple[float, ...] = (0.1, 0.3, 1.0)
"""Log-spaced trade-off weights tried by ``weight="auto"`` (a priori: the task loss is O(0.1), the alignment terms O(0.1-1))."""
CRITERION = "deep embedded validation (You et al., 2019): importance-weighted class-balanced error on held-out source speakers, lower is better"

Run = TypeVar("Run")


def importance_weights(train_features: np.ndarray, target_features: np.ndarray, eval_features: np.ndarray, seed: int = 0) -> np.ndarray:
    """Density ratio p_target / p_source at ``eval_features``, from a source-vs-target logistic regression.

    Shape:
        train_features (N_s, D) source, target_features (N_t, D), eval_features (N_e, D) -> (N_e,)
    """
    x = np.concatenate([train_features, target_features]).astype(np.float64)
    domain = np.r_[np.zeros(len(train_features)), np.ones(len(target_features))]
    scaler = StandardScaler().fit(x)
    classifier = LogisticRegression(C=1.0, max_iter=2000, random_state=seed).fit(scaler.transform(x), domain)
    p_target = np.clip(classifier.predict_proba(scaler.transform(np.asarray(eval_features, np.float64)))[:, 1], 1e-6, 1 - 1e-6)
    return len(train_features) / len(target_features) * p_target / (1.0 - p_target)


def deep_embedded_validation(losses: np.ndarray, weights: np.ndarray) -> float:
    """DEV risk from per-sample validation losses and importance weights (module docstring formula).

    With constant weights the control variate vanishes and this is the plain mean loss
    (times the weight). Shape: losses (N,), weights (N,).
    """
    losses, weights = np.asarray(losses, float), np.asarray(weights, float)
    weighted = weights * losses
    var_w = np.var(weights, ddof=1) if len(weights) > 1 else 0.0
    eta = 0.0 if var_w <= 1e-12 else -np.cov(weighted, weights)[0, 1] / var_w
    return float(weighted.mean() + eta * weights.mean() - eta)


def balanced_errors(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-sample 0-1 error scaled by 1 / (K n_y), so that its sum is 1 - UAR over the K classes present.

    Multiplied by N here so that its *mean* is 1 - UAR. Shape: (N,) -> (N,).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes, counts = np.unique(y_true, return_counts=True)
    per_class = dict(zip(classes.tolist(), counts.tolist()))
    scale = np.array([len(y_true) / (len(classes) * per_class[y]) for y in y_true.tolist()])
    return (y_true != y_pred).astype(float) * scale


def dev_risk(
    train_features: np.ndarray,
    heldout_features: np.ndarray,
    heldout_labels: np.ndarray,
    heldout_pred: np.ndarray,
    target_features: np.ndarray,
    seed: int = 0,
) -> float:
    """DEV estimate of the target's class-balanced error (about 1 - target UAR) of one trained model.

    Shape:
        train_features (N_s, D): training source; heldout_* (N_h, D) / (N_h,): held-out source
        speakers, their labels and the model's predictions; target_features (N_t, D), unlabelled.
    """
    weights = importance_weights(train_features, target_features, heldout_features, seed=seed)
    return deep_embedded_validation(balanced_errors(heldout_labels, heldout_pred), weights)


@dataclass
class WeightChoice:
    """The unsupervised choice of one method's alignment weight on one task."""

    method: str
    candidates: list[float]
    scores: list[float]
    chosen: float
    selection_seed: int
    criterion: str = CRITERION

    @property
    def reason(self) -> str:
        """One sentence: why this weight."""
        listed = ", ".join(f"{w:g}: {s:.3f}" for w, s in zip(self.candidates, self.scores))
        return f"lowest DEV risk on seed {self.selection_seed} ({listed})"

    def summary(self) -> dict:
        """JSON-serialisable record for ``metrics.json``."""
        return {"method": self.method, "candidates": self.candidates, "scores": self.scores, "chosen": self.chosen,
                "selection_seed": self.selection_seed, "criterion": self.criterion, "reason": self.reason}


def select_weight(
    method: str,
    candidates: Sequence[float],
    train_and_score: Callable[[float], tuple[float, Run]],
    selection_seed: int,
) -> tuple[WeightChoice, dict[float, Run]]:
    """Train every candidate weight and keep the one of lowest score (ties: the smaller weight).

    Args:
        train_and_score: ``weight -> (risk, run)``; it must not read target labels.

    Returns:
        The choice and the run of every candidate (the chosen one is reused as that seed's result).
    """
    if not candidates:
        raise ValueError("select_weight needs at least one candidate weight")
    ordered = sorted(float(w) for w in candidates)
    runs, scores = {}, []
    for weight in ordered:
        score, runs[weight] = train_and_score(weight)
        scores.append(float(score))
    chosen = ordered[int(np.argmin(scores))]  # argmin returns the first minimum: the smaller weight
    return WeightChoice(method, ordered, scores, chosen, selection_seed), runs

