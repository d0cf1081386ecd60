"""The unsupervised weight choice: DEV on a textbook covariate shift, and a choice blind to target labels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy.stats import norm

from didan_lite.experiment import ExperimentConfig, TaskData, choose_weight
from didan_lite.metrics import unweighted_average_recall
from didan_lite.model import ModelConfig
from didan_lite.model_selection import balanced_errors, deep_embedded_validation, dev_risk, importance_weights, select_weight
from didan_lite.training import DomainData, TrainConfig


def test_dev_recovers_the_target_risk_under_a_textbook_covariate_shift():
    """Source x ~ N(0, 1), target x ~ N(1.5, 1), the same labelling y = [x > 0.5] and classifier h = [x > 0].

    h errs on 0 < x < 0.5: risk Phi(0.5) - Phi(0) = 0.191 on the source, Phi(-1) - Phi(-1.5) = 0.092 on the
    target. The log density ratio is linear in x, so the logistic domain classifier is well specified and the
    importance-weighted held-out source error must land on the target risk, not on the source risk.
    """
    rng = np.random.default_rng(0)
    train, heldout = rng.normal(0, 1, (20_000, 1)), rng.normal(0, 1, (20_000, 1))
    target = rng.normal(1.5, 1, (20_000, 1))
    losses = ((heldout[:, 0] > 0) != (heldout[:, 0] > 0.5)).astype(float)
    estimate = deep_embedded_validation(losses, importance_weights(train, target, heldout))
    target_risk = norm.cdf(-1.0) - norm.cdf(-1.5)
    assert abs(estimate - target_risk) < 0.015
    assert abs(losses.mean() - target_risk) > 0.08  # the unweighted source error is far off


def test_dev_with_constant_weights_is_the_mean_loss():
    losses = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    assert deep_embedded_validation(losses, np.ones(5)) == pytest.approx(0.6)


def test_balanced_errors_average_to_one_minus_uar():
    y = np.array([0, 0, 0, 0, 1, 1, 2])
    pred = np.array([0, 1, 0, 0, 1, 0, 1])
    assert balanced_errors(y, pred).mean() == pytest.approx(1 - unweighted_average_recall(y, pred))


def test_one_standard_error_rule_takes_the_most_aligned_weight_the_source_cannot_tell_from_the_best():
    errors = {0.1: 0.40, 0.3: 0.44, 1.0: 0.50}  # n = 100: standard error of 0.40 is 0.049
    choice, runs = select_weight("m", [1.0, 0.1, 0.3], lambda w: (errors[w], f"run{w}"), 7, rule="source-1se", n_heldout=100)
    assert choice.chosen == 0.3 and choice.threshold == pytest.approx(0.40 + (0.40 * 0.60 / 100) ** 0.5)
    assert "at most 0.449" in choice.reason and choice.summary()["rule"] == "source-1se"
    many, _ = select_weight("m", [1.0, 0.1, 0.3], lambda w: (errors[w], w), 7, rule="source-1se", n_heldout=10_000)
    assert many.chosen == 0.1  # with many held-out utterances the differences are real: the best error wins
    trained = []
    with pytest.raises(ValueError, match="held-out"):  # refused before any candidate is trained
        select_weight("m", [0.1], lambda w: (trained.append(w), (0.5, w))[1], 7, rule="source-1se")
    assert trained == []
    perfect, _ = select_weight("m", [0.1, 0.3], lambda w: ({0.1: 0.0, 0.3: 0.01}[w], w), 7, n_heldout=50)
    assert perfect.rule == "source-1se" and perfect.chosen == 0.1  # a zero error has no spread: only ties pass
    single, _ = select_weight("m", [0.3], lambda w: (0.5, w), 7, n_heldout=50)
    assert single.chosen == 0.3


def test_no_alignment_when_every_weight_measurably_costs_the_source_task():
    """Issue 18: weight 0 (source-only on the same split) anchors the lowest error of the 1-SE rule."""
    errors = {0.1: 0.50, 0.3: 0.55, 1.0: 0.70}
    costly, runs = select_weight("m", [0.1, 0.3, 1.0], lambda w: (errors[w], f"run{w}"), 7, n_heldout=100,
                                 baseline_score=0.40)  # standard error of 0.40 is 0.049: every candidate is worse
    assert costly.chosen == 0.0 and costly.baseline_score == 0.40 and "no alignment" in costly.reason
    assert set(runs) == {0.1, 0.3, 1.0}  # the caller supplies the weight-0 run
    close, _ = select_weight("m", [0.1, 0.3, 1.0], lambda w: (errors[w], w), 7, n_heldout=100, baseline_score=0.48)
    assert close.chosen == 0.1  # 0.50 is within 0.48 + 0.050 = 0.530, 0.55 is not
    assert "0 (no alignment): 0.480" in close.reason


def test_select_weight_keeps_the_lowest_score_and_breaks_ties_towards_the_smaller_weight():
    choice, runs = select_weight("m", [1.0, 0.1, 0.3], lambda w: ({0.1: 0.5, 0.3: 0.2, 1.0: 0.2}[w], f"run{w}"), 7, rule="dev")
    assert choice.chosen == 0.3 and choice.candidates == [0.1, 0.3, 1.0] and runs[0.3] == "run0.3"
    assert "0.3: 0.200" in choice.reason and choice.summary()["selection_seed"] == 7


def _tiny_task(seed: int = 0) -> TaskData:
    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(3).repeat(12)
    x_s = torch.randn(36, 8, 16, generator=gen) + labels[:, None, None].float()
    held = torch.arange(3).repeat(4)
    x_h = torch.randn(12, 8, 16, generator=gen) + held[:, None, None].float()
    y_t = torch.arange(3).repeat(8)
    x_t = torch.randn(24, 8, 16, generator=gen) + y_t[:, None, None].float() + 0.5
    speakers = np.array([f"s{i // 3 % 3}" for i in range(36)] + ["s3"] * 12)  # four speakers, each with every class
    return TaskData(["a", "b", "c"], ("s", "t"), DomainData(x_s, labels), DomainData(x_h, held), DomainData(x_t, y_t),
                    source_speakers=speakers)


TINY = ExperimentConfig(
    model=ModelConfig(conv_channels=(4,), fc_dims=(16, 8), pooled_size=(2, 2)),
    train=TrainConfig(epochs=3, batch_size=12, warmup_epochs=1, progress=False, device="cpu"),
    weight_candidates=(0.1, 1.0, 10.0),
)


@pytest.mark.parametrize("rule", ["source-1se", "dev"])
def test_the_weight_choice_never_reads_target_labels(rule):
    task = _tiny_task()
    config = dataclasses.replace(TINY, weight_criterion=rule)
    choice, runs = choose_weight(task, "mmd", seed=0, config=config)
    assert choice.rule == rule
    permuted = dataclasses.replace(task, target=DomainData(
        task.target.x, task.target.y[torch.randperm(24, generator=torch.Generator().manual_seed(1))]))
    again, _ = choose_weight(permuted, "mmd", seed=0, config=config)
    assert again.chosen == choice.chosen and again.scores == choice.scores
    assert len({run.dev_risk for run in runs.values()}) > 1  # the candidates really differ: equal choices are not trivial
    assert {round(run.alignment_weight, 6) for run in runs.values()} == {0.1, 1.0, 10.0}


def test_dev_risk_has_no_target_label_argument():
    rng = np.random.default_rng(1)
    risk = dev_risk(rng.normal(size=(30, 4)), rng.normal(size=(10, 4)), np.arange(10) % 2, np.zeros(10, int), rng.normal(size=(30, 4)))
    assert 0 <= risk <= 2
