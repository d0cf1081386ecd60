"""UAR, WAR, confusion matrices and the proxy A-distance."""

from __future__ import annotations

import numpy as np
import pytest

from didan_lite.metrics import class_alignment, confusion, effective_rank, mean_and_sd, proxy_a_distance, unweighted_average_recall, weighted_average_recall


def test_uar_weights_every_class_equally_unlike_war():
    # 8 of class 0 all right, 2 of class 1 all wrong
    y_true = [0] * 8 + [1] * 2
    y_pred = [0] * 10
    assert weighted_average_recall(y_true, y_pred) == pytest.approx(0.8)
    assert unweighted_average_recall(y_true, y_pred) == pytest.approx(0.5)  # (1 + 0) / 2


def test_confusion_rows_are_recalls():
    matrix = confusion([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], 3)
    assert matrix.tolist() == [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    assert unweighted_average_recall([0, 0, 1, 1, 2], [0, 1, 1, 1, 0]) == pytest.approx(np.mean(np.diag(matrix)))


def test_proxy_a_distance_tells_aligned_from_separated_features():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(200, 8))
    same = rng.normal(size=(150, 8))
    shifted = rng.normal(size=(150, 8)) + 3.0
    assert proxy_a_distance(source, same) < 0.3
    assert proxy_a_distance(source, shifted) > 1.8


def test_mean_and_sd():
    assert mean_and_sd([1.0, 3.0]) == (2.0, pytest.approx(np.sqrt(2)))
    assert mean_and_sd([5.0]) == (5.0, 0.0)


def test_effective_rank_counts_the_directions_used():
    rng = np.random.default_rng(0)
    assert effective_rank(rng.normal(size=(500, 10))) > 8.5
    flat = rng.normal(size=(500, 2)) @ rng.normal(size=(2, 10))
    assert 1.0 <= effective_rank(flat) <= 2.0 + 1e-9
    assert effective_rank(np.ones((5, 3))) == 0.0


def _clouds(rng, centres, n=60, dims=6):
    """Gaussian clouds around ``centres`` (one per class): features (K * n, dims), labels (K * n,)."""
    x = np.concatenate([rng.normal(size=(n, dims)) * 0.5 + c for c in centres])
    return x, np.repeat(np.arange(len(centres)), n)


def test_class_alignment_tells_aligned_classes_from_swapped_ones():
    rng = np.random.default_rng(0)
    centres = [np.eye(6)[k] * 4 for k in range(3)]
    x_s, y_s = _clouds(rng, centres)
    x_t, y_t = _clouds(rng, [c + 0.3 for c in centres])  # the corpora differ a little, the classes line up
    assert class_alignment(x_s, y_s, x_t, y_t) > 0.95
    # the same target features with classes 0 and 1 trading places: mixed corpora, crossed classes
    swapped = np.array([1, 0, 2])[y_t]
    assert class_alignment(x_s, y_s, x_t, swapped) == pytest.approx(np.mean(y_t == 2), abs=0.05)
    # one structureless target cloud: the source vote cannot follow the target's emotions
    x_noise = rng.normal(size=(180, 6))
    assert class_alignment(x_s, y_s, x_noise, y_t) < 0.6
    with pytest.raises(ValueError, match="k=5"):
        class_alignment(x_s[:3], y_s[:3], x_t, y_t)
