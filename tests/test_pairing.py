"""Paired runs: a method differs from source-only by its loss alone (same weights, batches, masks, statistics)."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from conftest import blob_domain
from didan_lite.alignment import AlignmentLoss, make_alignment
from didan_lite.features import SpecMasks
from didan_lite.model import DIDAN, ModelConfig, domain_statistics, set_exact_statistics
from didan_lite.training import TrainConfig, train_didan

SMALL = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2), dropout=0.3)
FAST = TrainConfig(epochs=4, batch_size=8, learning_rate=3e-3, warmup_epochs=1, progress=False, device="cpu",
                   steps_per_epoch=10)
NAMES = ["anger", "sadness"]


class NoPull(AlignmentLoss):
    """An alignment term that is computed on both batches but never moves anything (zero gradient)."""

    def forward(self, f_s, f_t, **_):
        return 0.0 * (f_s.sum() + f_t.sum())


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def _statistics(model: DIDAN) -> list[torch.Tensor]:
    return [t.clone() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
            for t in (m.running_mean, m.running_var)]


@pytest.mark.parametrize("norm", ["batch", "group", "layer"])
def test_an_alignment_term_that_pulls_nothing_reproduces_source_only(norm):
    """Target rows ride along in every batch after the warm-up; dropout masks and BatchNorm statistics of the
    source rows must not notice them. Only float rounding may differ (a batch of 2B rows sums its gradients in
    another order), so the weights agree to float32 precision, where other masks or statistics would move them
    by orders of magnitude more."""
    source, target = blob_domain(32, 0.0, 0), blob_domain(24, 2.0, 1)
    model_config = dataclasses.replace(SMALL, norm=norm)
    config = dataclasses.replace(FAST, alignment_weight=1.0)
    alone = train_didan(source, target, 2, config=config, model_config=model_config, seed=3).model
    riding = train_didan(source, target, 2, alignment=NoPull(), config=config, model_config=model_config, seed=3)
    assert any(row["alignment_loss"] is not None for row in riding.history)  # the aligning path was taken
    for name, value in _weights(alone).items():
        torch.testing.assert_close(value, _weights(riding.model)[name], rtol=0, atol=1e-5, msg=name)


@pytest.mark.parametrize("method", ["ida", "mmd"])
def test_a_method_at_weight_zero_is_source_only_bit_for_bit(method):
    source, target = blob_domain(32, 0.0, 0), blob_domain(24, 2.0, 1)
    config = dataclasses.replace(FAST, alignment_weight=0.0)
    alone = train_didan(source, target, 2, config=config, model_config=SMALL, seed=5).model
    torch.rand(7)  # whatever the global generator did in between
    aligned = train_didan(source, target, 2, alignment=make_alignment(method, feature_dims=[16, 8, 2], class_names=NAMES),
                          config=config, model_config=SMALL, seed=5).model
    for name, value in _weights(alone).items():
        assert torch.equal(value, _weights(aligned)[name]), name


def test_spectrogram_masks_pair_source_only_with_a_method_at_weight_zero_and_change_the_run():
    source, target = blob_domain(32, 0.0, 0), blob_domain(24, 2.0, 1)
    masked = dataclasses.replace(FAST, alignment_weight=0.0, spec_masks=SpecMasks(max_bins=3, max_frames=4))
    alone = train_didan(source, target, 2, config=masked, model_config=SMALL, seed=5).model
    aligned = train_didan(source, target, 2, alignment=make_alignment("ida", feature_dims=[16, 8, 2], class_names=NAMES),
                          config=masked, model_config=SMALL, seed=5).model
    plain = train_didan(source, target, 2, config=dataclasses.replace(masked, spec_masks=None), model_config=SMALL,
                        seed=5).model
    assert all(torch.equal(a, b) for a, b in zip(_weights(alone).values(), _weights(aligned).values()))
    assert not all(torch.equal(a, b) for a, b in zip(_weights(alone).values(), _weights(plain).values()))


def test_dropout_masks_come_from_the_run_not_the_global_generator():
    source, target = blob_domain(32, 0.0, 0), blob_domain(24, 2.0, 1)
    first = train_didan(source, target, 2, config=FAST, model_config=SMALL, seed=9).model
    torch.manual_seed(12345)  # train_didan seeds the global generator anyway; masks must not depend on it
    second = train_didan(source, target, 2, config=FAST, model_config=SMALL, seed=9).model
    other_seed = train_didan(source, target, 2, config=FAST, model_config=SMALL, seed=10).model
    assert all(torch.equal(a, b) for a, b in zip(_weights(first).values(), _weights(second).values()))
    assert not all(torch.equal(a, b) for a, b in zip(_weights(first).values(), _weights(other_seed).values()))


def test_batchnorm_statistics_do_not_depend_on_order_or_batching():
    """Sorting the data by label (as a corpus stored <speaker>/<emotion>/ is) must not change the statistics."""
    torch.manual_seed(0)
    model = DIDAN(16, 2, dataclasses.replace(SMALL, norm="batch"))
    labels = torch.arange(60) % 3
    x = torch.randn(60, 16, 20) + 2.0 * labels[:, None, None]  # the classes differ in level: order matters if batched
    set_exact_statistics(model, x, batch_size=64)
    shuffled = _statistics(model)
    set_exact_statistics(model, x[labels.argsort(stable=True)], batch_size=8)
    for a, b in zip(shuffled, _statistics(model)):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    first = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    inputs = model.conv[0](x.unsqueeze(1))  # the first layer's input, all of x at once
    torch.testing.assert_close(first.running_mean, inputs.mean((0, 2, 3)), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(first.running_var, inputs.var((0, 2, 3), unbiased=False), rtol=1e-5, atol=1e-6)


def test_a_trained_batchnorm_model_carries_its_training_sources_exact_statistics():
    source, target = blob_domain(32, 0.0, 0), blob_domain(24, 2.0, 1)
    model = train_didan(source, target, 2, config=FAST, model_config=dataclasses.replace(SMALL, norm="batch"),
                        seed=1).model
    carried = _statistics(model)
    with domain_statistics(model, source.x):
        exact = _statistics(model)
    with domain_statistics(model, target.x):
        assert not torch.allclose(carried[0], _statistics(model)[0])
    for a, b in zip(carried, exact):
        torch.testing.assert_close(a, b)
    assert all(torch.equal(a, b) for a, b in zip(carried, _statistics(model)))  # restored after the block
