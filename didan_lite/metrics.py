"""Metrics of cross-corpus SER: UAR, WAR, confusion matrices, proxy A-distance, class alignment.

Notebook: notebooks/02_cross_corpus_problem.ipynb explains UAR against WAR;
05_ida_vs_mmd.ipynb uses the proxy A-distance and the class alignment (the
latter reads target labels: evaluation only).

UAR (unweighted average recall, the field's main metric) is the mean of the
per-class recalls, so every emotion counts equally however rare; WAR
(weighted average recall) is plain accuracy.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix as _sk_confusion, recall_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def unweighted_average_recall(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Mean of per-class recalls over the classes present in ``y_true``, in [0, 1].

    .. math:: \\text{UAR} = \\frac{1}{|K|} \\sum_{k \\in K} \\frac{|\\{i: y_i = \\hat y_i = k\\}|}{|\\{i: y_i = k\\}|}

    Classes absent from ``y_true`` have no recall and are left out of the mean.
    """
    y_true = np.asarray(y_true)
    labels = np.unique(y_true)
    return float(recall_score(y_true, np.asarray(y_pred), labels=labels, average="macro", zero_division=0))


def weighted_average_recall(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Accuracy: recalls weighted by class frequency, in [0, 1]."""
    return float(accuracy_score(np.asarray(y_true), np.asarray(y_pred)))


def confusion(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int, normalise: bool = True) -> np.ndarray:
    """Confusion matrix (n_classes, n_classes), rows = true class; rows sum to 1 when ``normalise``."""
    matrix = _sk_confusion(np.asarray(y_true), np.asarray(y_pred), labels=np.arange(n_classes)).astype(float)
    if normalise:
        matrix /= np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    return matrix


def proxy_a_distance(features_source: np.ndarray, features_target: np.ndarray, seed: int = 0, folds: int = 5) -> float:
    """Proxy A-distance between two feature sets (Ben-David et al., 2007), in [0, 2].

    A linear classifier (standardised features, logistic regression) is trained
    to tell source from target; with its cross-validated error :math:`\\epsilon`,

    .. math:: d_A = 2 (1 - 2 \\epsilon)

    0 means the corpora are indistinguishable in this feature space (aligned),
    2 means perfectly separable. The two sets are subsampled to equal size so
    that chance is 50 %.

    Shape:
        features_source (N_s, D), features_target (N_t, D)
    """
    rng = np.random.default_rng(seed)
    n = min(len(features_source), len(features_target))
    source = features_source[rng.choice(len(features_source), n, replace=False)]
    target = features_target[rng.choice(len(features_target), n, replace=False)]
    x = np.concatenate([source, target])
    y = np.r_[np.zeros(n), np.ones(n)]
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    splits = StratifiedKFold(n_splits=min(folds, n), shuffle=True, random_state=seed)
    error = 1.0 - accuracy_score(y, cross_val_predict(classifier, x, y, cv=splits))
    return float(2.0 * (1.0 - 2.0 * min(error, 0.5)))


def class_alignment(
    source_features: np.ndarray,
    source_labels: Sequence[int],
    target_features: np.ndarray,
    target_labels: Sequence[int],
    k: int = 5,
) -> float:
    """Share of target samples whose ``k`` nearest source neighbours mostly carry the target sample's own emotion, in [0, 1].

    **Evaluation only: reads the target labels.** Compute it after training, to
    score a final model, never to choose anything.

    The proxy A-distance says whether the corpora overlap; this says whether the
    *classes* line up across them. A method can mix the corpora (low proxy
    A-distance) while putting target anger next to source sadness; then this
    figure stays low. It equals the target accuracy of a k-nearest-neighbour
    classifier fitted on the labelled source features (Euclidean distance in the
    given feature space; ties in the vote go to the lowest class index), so with
    balanced classes chance is about 1 / K.

    Shape:
        source_features (N_s, D), source_labels (N_s,), target_features (N_t, D), target_labels (N_t,)
    """
    source_labels, target_labels = np.asarray(source_labels), np.asarray(target_labels)
    if len(source_features) < k:
        raise ValueError(f"class_alignment needs at least k={k} source samples; got {len(source_features)}")
    vote = KNeighborsClassifier(n_neighbors=k).fit(np.asarray(source_features, dtype=float), source_labels)
    return float(np.mean(vote.predict(np.asarray(target_features, dtype=float)) == target_labels))


def mean_and_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def effective_rank(features: np.ndarray) -> float:
    """Participation ratio of the feature covariance's eigenvalues, in [1, D].

    .. math:: r = \\frac{(\\sum_k \\lambda_k)^2}{\\sum_k \\lambda_k^2}

    How many directions the features really use: a reconstruction loss such as
    IDA can be lowered by flattening the features onto a few directions
    (every target is then in the source span), so a falling effective rank
    is the sign of that shortcut. Shape: features (N, D).
    """
    centred = np.asarray(features, dtype=np.float64) - np.mean(features, axis=0)
    eigenvalues = np.linalg.svd(centred, compute_uv=False) ** 2
    total = eigenvalues.sum()
    return float(total**2 / np.sum(eigenvalues**2)) if total > 0 else 0.0
