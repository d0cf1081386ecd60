"""The trainer: it learns, it resumes exactly, it never uses target labels."""

from __future__ import annotations

import argparse
import dataclasses
import math

import pytest
import torch

import didan_lite.checkpoints as checkpoints
import didan_lite.training as training
import didan_lite.validation as validation
from conftest import blob_domain
from didan_lite.alignment import make_alignment
from didan_lite.errors import InputError
from didan_lite.model import DIDAN, ModelConfig
from didan_lite.training import MAX_WEIGHT, DomainData, TrainConfig, predict, train_didan
from didan_lite.validation import check_run_values

SMALL = ModelConfig(conv_channels=(4, 8), fc_dims=(16, 8), pooled_size=(2, 2), dropout=0.0)
FAST = TrainConfig(epochs=4, batch_size=8, learning_rate=3e-3, warmup_epochs=1, progress=False, device="cpu")


def test_model_exposes_every_fully_connected_output():
    out = DIDAN(16, 3, SMALL)(torch.randn(5, 16, 20))
    assert out.scores.shape == (5, 3)
    assert [f.shape for f in out.fc_outputs] == [(5, 16), (5, 8), (5, 3)]
    assert out.fc_outputs[-1] is out.scores


def test_source_only_learns_the_source_task():
    source, target = blob_domain(64, 0.0, 0), blob_domain(32, 0.0, 1)
    result = train_didan(source, target, 2, config=dataclasses.replace(FAST, epochs=8), model_config=SMALL)
    predictions, features = predict(result.model, target.x)
    assert (predictions == target.y.numpy()).mean() > 0.9
    assert features.shape == (32, 8)
    losses = [row["task_loss"] for row in result.history]
    assert losses[-1] < losses[0]


@pytest.mark.parametrize("method", ["ida", "mmd", "dann"])
def test_target_labels_never_change_training(method):
    source, target = blob_domain(32, 0.0, 0), blob_domain(24, 1.0, 1)
    relabelled = DomainData(target.x, 1 - target.y)

    def weights(data: DomainData) -> list[torch.Tensor]:
        alignment = make_alignment(method, feature_dims=[16, 8, 2], class_names=["anger", "sadness"])
        model = train_didan(source, data, 2, alignment=alignment, config=FAST, model_config=SMALL,
                            target_labels_for_monitoring=data.y).model
        return [p.detach().clone() for p in model.parameters()]

    for a, b in zip(weights(target), weights(relabelled)):
        assert torch.equal(a, b)


def test_alignment_term_is_recorded_and_weighted_with_warm_up():
    config = dataclasses.replace(FAST, alignment_weight=0.5, warmup_epochs=3)
    assert [config.weight_at(e) for e in range(8)] == [0, 0, 0, 0.5 / 3, 1 / 3, 0.5, 0.5, 0.5]
    config = dataclasses.replace(FAST, alignment_weight=0.5, warmup_epochs=1)
    result = train_didan(blob_domain(32, 0.0, 0), blob_domain(24, 2.0, 1), 2, config=config, model_config=SMALL,
                         alignment=make_alignment("mmd", feature_dims=[16, 8, 2], class_names=["anger", "sadness"]))
    assert [row["alignment_weight"] for row in result.history] == [0, 0.5, 0.5, 0.5]
    assert result.history[0]["alignment_loss"] is None  # not computed during warm-up
    assert all(math.isfinite(row["alignment_loss"]) for row in result.history[1:])  # unbiased MMD may dip below 0


def test_interrupted_training_resumes_exactly(tmp_path, monkeypatch):
    source, target = blob_domain(32, 0.0, 0), blob_domain(24, 1.0, 1)

    def run(epochs: int, checkpoint):
        alignment = make_alignment("ida", feature_dims=[16, 8, 2], class_names=["anger", "sadness"])
        return train_didan(source, target, 2, alignment=alignment, config=dataclasses.replace(FAST, epochs=epochs),
                           model_config=SMALL, checkpoint=checkpoint)

    straight = run(4, None)
    checkpoint = tmp_path / "run.pt"
    with pytest.raises(InputError, match="other settings"):
        run(2, checkpoint)  # first half ...
        run(4, checkpoint)  # ... resumed: epochs differ, so the fingerprint refuses it
    checkpoint.unlink()

    class Interrupt(Exception):
        pass

    # interrupt a 4-epoch run after epoch 2 by failing the third save
    calls = {"n": 0}
    original = checkpoints.save

    def save_then_die(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Interrupt
        original(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(checkpoints, "save", save_then_die)
        with pytest.raises(Interrupt):
            run(4, checkpoint)
    assert torch.load(checkpoint, weights_only=False)["epoch"] == 2
    resumed = run(4, checkpoint)
    assert [r["task_loss"] for r in resumed.history] == [r["task_loss"] for r in straight.history]
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_bad_training_input_is_refused():
    with pytest.raises(InputError, match="needs labels"):
        train_didan(DomainData(torch.zeros(4, 16, 20)), blob_domain(4, 0, 0), 2, config=FAST, model_config=SMALL)


def test_checkpoint_of_other_data_with_the_same_shapes_is_refused(tmp_path):
    checkpoint = tmp_path / "run.pt"
    config = dataclasses.replace(FAST, epochs=1)
    train_didan(blob_domain(16, 0.0, 0), blob_domain(16, 1.0, 1), 2, config=config, model_config=SMALL, checkpoint=checkpoint)
    with pytest.raises(InputError, match="other settings"):
        train_didan(blob_domain(16, 0.0, 5), blob_domain(16, 1.0, 1), 2, config=config, model_config=SMALL, checkpoint=checkpoint)


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -0.1, 1000.5, "0.3", True])
def test_one_weight_check_with_one_bound_everywhere(weight):
    """TrainConfig, the library's run values and the CLI's --weight share one check and one bound, [0, 1000]."""
    with pytest.raises(InputError, match=r"Alignment weight .* not a finite number in \[0, 1000\]"):
        TrainConfig(alignment_weight=weight)
    with pytest.raises(InputError, match=r"not a finite number in \[0, 1000\]"):
        check_run_values([0], weight)
    if isinstance(weight, float):
        with pytest.raises(argparse.ArgumentTypeError, match=r"\[0, 1000\]"):
            validation.alignment_weight(repr(weight))
    assert TrainConfig(alignment_weight=1000).alignment_weight == validation.alignment_weight("1000") == MAX_WEIGHT


_FORWARD = DIDAN.forward


def _recorded_run(monkeypatch, method: str, config: TrainConfig) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Initial first-layer weights and the source part of every batch the network saw."""
    seen, first = [], []
    forward = _FORWARD

    def spy(self, x, **kwargs):
        if not first:
            first.append(self.conv[0].weight.detach().clone())
        if self.training:
            seen.append(x[: config.batch_size].detach().clone())
        return forward(self, x, **kwargs)

    monkeypatch.setattr(DIDAN, "forward", spy)
    alignment = make_alignment(method, feature_dims=[16, 8, 2], class_names=["anger", "sadness"])
    train_didan(blob_domain(40, 0.0, 0), blob_domain(24, 2.0, 1), 2, alignment=alignment, config=config,
                model_config=SMALL, seed=3)
    return first[0], seen


@pytest.mark.parametrize("method", ["mmd", "dann", "ida"])
def test_every_method_starts_from_the_same_weights_and_sees_the_same_source_batches(monkeypatch, method):
    # random crops and a target batch fed after the warm-up only: the source stream must not notice
    config = dataclasses.replace(FAST, epochs=3, warmup_epochs=1, alignment_weight=0.5, n_frames=16, steps_per_epoch=4)
    init_so, batches_so = _recorded_run(monkeypatch, "source-only", config)
    init_m, batches_m = _recorded_run(monkeypatch, method, config)
    assert torch.equal(init_so, init_m)
    assert len(batches_so) == len(batches_m) == 12
    assert all(torch.equal(a, b) for a, b in zip(batches_so, batches_m))


def test_the_budget_is_counted_in_steps():
    config = dataclasses.replace(FAST, epochs=2, steps_per_epoch=5)
    calls = []
    for n in (20, 80):  # a small and a large source get the same number of updates
        counted = []
        original = torch.optim.Adam.step

        def step(self, *args, **kwargs):
            counted.append(1)
            return original(self, *args, **kwargs)

        torch.optim.Adam.step = step
        try:
            train_didan(blob_domain(n, 0.0, 0), blob_domain(16, 0.0, 1), 2, config=config, model_config=SMALL)
        finally:
            torch.optim.Adam.step = original
        calls.append(len(counted))
    assert calls == [10, 10]


def test_class_weighted_loss_counts_every_class_the_same():
    labels = torch.tensor([0, 0, 0, 1])
    weights = training.class_weights(labels, 3)
    assert weights.tolist() == pytest.approx([4 / 6, 2.0, 0.0])
    scores = torch.zeros(4, 3)
    # one error per class weighs the same: the lone class-1 example counts as much as the three of class 0
    per_class = training.task_loss(scores, labels, weights[labels])
    assert per_class.item() == pytest.approx(training.task_loss(scores, labels).item())
    always = {c: torch.nn.functional.one_hot(torch.full((4,), c), 3).float() for c in (0, 1)}
    weighted = {c: training.task_loss(always[c], labels, weights[labels]).item() for c in (0, 1)}
    plain = {c: training.task_loss(always[c], labels).item() for c in (0, 1)}
    assert weighted[0] == pytest.approx(weighted[1])  # always the majority class is no better than the minority
    assert plain[0] < plain[1]  # unweighted, predicting the majority class pays


def test_history_logs_the_alignment_loss_in_its_parts():
    config = dataclasses.replace(FAST, alignment_weight=0.5, warmup_epochs=1, epochs=3)
    for method, parts in (("ida", {"reconstruction", "spread"}), ("mmd", {"total"})):
        alignment = make_alignment(method, feature_dims=[16, 8, 2], class_names=["anger", "sadness"])
        history = train_didan(blob_domain(32, 0.0, 0), blob_domain(24, 2.0, 1), 2, alignment=alignment,
                              config=config, model_config=SMALL).history
        assert history[0]["alignment_parts"] is None  # warm-up: no alignment term computed
        for row in history[1:]:
            assert set(row["alignment_parts"]) == parts and all(math.isfinite(v) for v in row["alignment_parts"].values())
        if method == "ida":  # the parts are recorded as they enter the total, so they sum to it, epoch by epoch
            row = history[-1]
            expected = row["alignment_parts"]["reconstruction"] + row["alignment_parts"]["spread"]
            assert row["alignment_loss"] == pytest.approx(expected, rel=1e-4, abs=1e-5)


def test_adabn_statistics_follow_the_domain_and_come_back():
    from didan_lite.model import domain_statistics

    model = DIDAN(16, 2, dataclasses.replace(SMALL, norm="batch"))
    source, shifted = torch.randn(24, 16, 20), 3.0 + 2.0 * torch.randn(24, 16, 20)
    with domain_statistics(model, source):
        own = [m.running_mean.clone() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        on_source = model(source).scores
    with domain_statistics(model, shifted):
        other = [m.running_mean.clone() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert not model.training and on_source.shape == (24, 2)
    assert not torch.allclose(own[0], other[0])  # the first layer's statistics are those of the shifted domain
    assert all(torch.equal(m.running_mean, torch.zeros_like(m.running_mean))
               for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))  # restored (a fresh model's)
    grouped = DIDAN(16, 2, dataclasses.replace(SMALL, norm="group"))
    with domain_statistics(grouped, shifted):  # no BatchNorm: nothing changes
        assert grouped.training
