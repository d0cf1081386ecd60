r"""Choosing the alignment weight without target labels: the one-standard-error rule, and DEV beside it.

Notebook: notebooks/05_ida_vs_mmd.ipynb contrasts this choice with the target-label oracle.

A trade-off weight chosen by target UAR is an oracle: in a real adaptation
the target labels do not exist. ``compare(..., weight="auto")`` instead trains
every candidate weight (:data:`DEFAULT_CANDIDATES`) of an aligning method on
one selection seed, scores each without target labels, then trains every seed
with the chosen weight. Two criteria (``ExperimentConfig.weight_criterion``):

- ``"source-1se"`` (default): **the most aligned weight that does not measurably
  cost the source task.** Each candidate's class-balanced error on the held-out
  *source speakers* (1 - UAR) is measured; the chosen weight is the largest
  whose error is within one standard error of the lowest, the
  one-standard-error rule of model selection (Breiman et al., 1984; Hastie,
  Tibshirani and Friedman, *Elements of Statistical Learning*, section 7.10),
  with the standard error :math:`\sqrt{e(1-e)/n}` of the lowest error :math:`e`
  over :math:`n` held-out utterances. Alignment is what the method is for, so
  among candidates the source data cannot tell apart the rule takes the
  strongest; it never takes one measurably worse on the selection seed. The
  error is estimated on speaker folds of the whole source
  (``ExperimentConfig.selection_folds``, :func:`didan_lite.experiment.cross_validate`):
  every source utterance is predicted once by a model that never saw its
  speaker and the errors are pooled, so :math:`n` is the size of the source corpus.
- ``"dev"``: deep embedded validation (You et al., "Towards accurate model
  selection in deep unsupervised domain adaptation", ICML 2019), the lowest
  estimated *target* risk from held-out source data re-weighted towards the
  target:

.. math::
    w(x) = \frac{N_s}{N_t} \frac{p(\text{target} \mid f(x))}{p(\text{source} \mid f(x))}, \qquad
    \hat R = \overline{w \ell} + \eta\, \overline{w} - \eta, \qquad
    \eta = -\frac{\operatorname{cov}(w\ell, w)}{\operatorname{var}(w)}

where the domain classifier (logistic regression on standardised features of
the aligned layer) is trained on the *training* source features against the
target features, :math:`\ell` is evaluated on the *held-out source speakers*
(never trained on), and :math:`\eta` is the control variate that lowers the
variance of the importance-weighted mean. Our loss :math:`\ell` is the
class-balanced 0-1 error (its plain mean is 1 - UAR, the field's metric), so
the model's regression scores need no calibration.

Neither criterion reads a target label: :func:`dev_risk` has no argument for them, and the held-out
source error is computed from source labels only. DEV's score is computed for every deep run
(``RunResult.dev_risk``) and reported.

With ``"dev"``, ties (equal risks) go to the smaller weight, the one closer to source-only.

Why the one-standard-error rule is the default, why the folds, and why DEV is written here rather than
taken from skada: docs/decisions/weight-selection.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

DEFAULT_CANDIDATES: tuple[float, ...] = (0.1, 0.3, 1.0)
"""Log-spaced trade-off weights tried by ``weight="auto"`` (a priori: the task loss is O(0.1), the alignment terms O(0.1-1))."""
CRITERIA: dict[str, str] = {
    "source-1se": "one-standard-error rule on held-out source speakers: the largest weight whose class-balanced "
                  "error (1 - UAR) is within one standard error of the lowest",
    "dev": "deep embedded validation (You et al., 2019): importance-weighted class-balanced error on held-out "
           "source speakers, lower is better",
}
"""Weight-selection criteria, name -> description (none reads a target label)."""
DEFAULT_CRITERION = "source-1se"

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
    rule: str = "dev"
    """Key of :data:`CRITERIA`; ``scores`` are DEV risks (``"dev"``) or held-out source errors (``"source-1se"``).
    Defaults to ``"dev"``, the only rule before ``"source-1se"``, for choices recorded without one."""
    threshold: float | None = None
    """``"source-1se"``: the largest error still admitted (the lowest plus one standard error)."""
    baseline_score: float | None = None
    """``"source-1se"``: the held-out source error of weight 0 (no alignment) on the same split, when scored."""

    @property
    def criterion(self) -> str:
        """The criterion, in words."""
        return CRITERIA[self.rule]

    @property
    def reason(self) -> str:
        """One sentence: why this weight."""
        listed = ", ".join(f"{w:g}: {s:.3f}" for w, s in zip(self.candidates, self.scores))
        if self.rule == "dev":
            return f"lowest DEV risk on seed {self.selection_seed} ({listed})"
        if self.baseline_score is not None:
            listed = f"0 (no alignment): {self.baseline_score:.3f}, {listed}"
        if self.chosen == 0.0:
            return (f"no alignment: every candidate's held-out source error is above {self.threshold:.3f} (the lowest "
                    f"plus one standard error) on seed {self.selection_seed} ({listed})")
        return (f"the largest weight whose held-out source error is at most {self.threshold:.3f} (the lowest plus one "
                f"standard error) on seed {self.selection_seed} ({listed})")

    def summary(self) -> dict:
        """JSON-serialisable record for ``metrics.json``."""
        return {"method": self.method, "candidates": self.candidates, "scores": self.scores, "chosen": self.chosen,
                "selection_seed": self.selection_seed, "rule": self.rule, "threshold": self.threshold,
                "baseline_score": self.baseline_score, "criterion": self.criterion, "reason": self.reason}


def select_weight(
    method: str,
    candidates: Sequence[float],
    train_and_score: Callable[[float], tuple[float, Run]],
    selection_seed: int,
    rule: str = DEFAULT_CRITERION,
    n_heldout: int | None = None,
    baseline_score: float | None = None,
) -> tuple[WeightChoice, dict[float, Run]]:
    """Train every candidate weight and choose one by ``rule``.

    Args:
        train_and_score: ``weight -> (score, run)``; it must not read target labels. The score is a DEV risk
            (``rule="dev"``: the lowest wins, ties to the smaller weight) or the held-out source class-balanced
            error (``rule="source-1se"``: the largest weight within one standard error of the lowest wins).
        n_heldout: number of held-out source utterances (``"source-1se"`` only: sets the standard error).
        baseline_score: ``"source-1se"`` only: the held-out source error without alignment (weight 0) on the
            same split. It joins the lowest score, and when no candidate is within one standard error of it
            the choice is 0: no weight is accepted that measurably costs the source task.

    Returns:
        The choice and the run of every candidate (the chosen one is reused as that seed's result).
    """
    if not candidates:
        raise ValueError("select_weight needs at least one candidate weight")
    if rule not in CRITERIA:
        raise ValueError(f"unknown weight-selection rule {rule!r}; choose one of {', '.join(CRITERIA)}")
    if rule == "source-1se" and (not n_heldout or n_heldout < 1):
        raise ValueError("the one-standard-error rule needs the number of held-out source utterances")
    ordered = sorted(float(w) for w in candidates)
    runs, scores = {}, []
    for weight in ordered:
        score, runs[weight] = train_and_score(weight)
        scores.append(float(score))
    if rule == "dev":
        chosen = ordered[int(np.argmin(scores))]  # argmin returns the first minimum: the smaller weight
        return WeightChoice(method, ordered, scores, chosen, selection_seed, rule), runs
    lowest = min(scores) if baseline_score is None else min(*scores, float(baseline_score))
    threshold = lowest + float(np.sqrt(lowest * (1.0 - lowest) / n_heldout))
    admitted = [weight for weight, score in zip(ordered, scores) if score <= threshold + 1e-12]
    chosen = max(admitted) if admitted else 0.0
    return WeightChoice(method, ordered, scores, chosen, selection_seed, rule, threshold, baseline_score), runs
