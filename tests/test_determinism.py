"""Same seed, same result: every deep method trains bit-identically twice, the classical row is deterministic."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from conftest import blob_domain

from didan_lite.alignment import ALIGNMENT_METHODS, make_alignment
from didan_lite.model import ModelConfig
from didan_lite.training import TrainConfig, train_didan




@pytest.mark.parametrize("method", ALIGNMENT_METHODS)
def test_same_seed_gives_bit_identical_training(method):
    """Case 12: same seed, device (CPU) and thread count: the same weights and losses, whatever ran before.

    The global generators are set differently before each run, as other work
    in a notebook or an earlier run of a comparison would leave them.
    """
    source, target = blob_domain(24, 0.0, 0), blob_domain(16, 1.0, 1)
    model = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2), dropout=0.3)
    config = TrainConfig(epochs=3, batch_size=8, warmup_epochs=1, progress=False, device="cpu", cpu_threads=1)

    def run(disturbance: int):
        torch.manual_seed(disturbance), np.random.seed(disturbance), random.seed(disturbance)
        torch.randn(disturbance)
        alignment = make_alignment(method, feature_dims=[16, 8, 2], class_names=["anger", "sadness"])
        result = train_didan(source, target, 2, alignment=alignment, config=config, model_config=model, seed=7)
        history = [{k: v for k, v in row.items() if k != "seconds"} for row in result.history]
        return [p.detach().clone() for p in result.model.parameters()], history

    (weights_a, history_a), (weights_b, history_b) = run(11), run(12)
    assert history_a == history_b
    assert all(torch.equal(a, b) for a, b in zip(weights_a, weights_b))


def test_classical_reference_is_deterministic():
    """Case 12 for the opensmile-svm row: the same features give the same predictions, whatever ran before."""
    from didan_lite.classical import fit_reference

    rng = np.random.default_rng(0)
    source, labels = rng.normal(size=(30, 12)), np.arange(30) % 3
    heldout, target = rng.normal(size=(9, 12)), rng.normal(1.0, 1.0, size=(20, 12))
    fits = []
    for disturbance in (11, 12):
        np.random.seed(disturbance), random.seed(disturbance)
        fits.append(fit_reference(source, labels, heldout, target))
    assert np.array_equal(fits[0].target_pred, fits[1].target_pred)
    assert np.array_equal(fits[0].heldout_pred, fits[1].heldout_pred)
