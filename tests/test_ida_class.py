"""ida-class's pseudo-label safeguards on made-up tensors: confidence margin, class balance, warm-up."""

from __future__ import annotations

import math

import pytest
import torch

from didan_lite.alignment import make_alignment
from didan_lite.alignment.ida import IDALoss
from didan_lite.errors import InputError

CLASS_NAMES = ("anger", "fear", "happiness", "neutral", "sadness")


def gaussian(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + shift


def one_hot(classes: list[int], n_classes: int = 3) -> torch.Tensor:
    """Clean regression scores (margin 1) for the given pseudo-labels."""
    return torch.eye(n_classes, dtype=torch.float64)[classes]


def safeguarded(**options) -> IDALoss:
    """ida-class's safeguards (margin 0.5, balanced, warm-up to progress 0.5) on three classes, past the warm-up."""
    loss = IDALoss(groups=range(3), **{"min_confidence": 0.5, "balanced": True, "class_after": 0.5, **options})
    loss.set_progress(0.75)
    return loss


def two_class_batch():
    """Source: classes 0 and 1, four samples each, in two clusters. Target: three of class 0, three of class 1."""
    centres = gaussian(2, 16, seed=1) * 3.0
    source = torch.cat([centres[k] + gaussian(4, 16, seed=2 + k) for k in range(2)])
    target = torch.cat([centres[k] + gaussian(3, 16, seed=5 + k, shift=0.5) for k in range(2)])
    return source, target, torch.tensor([0] * 4 + [1] * 4), one_hot([0, 0, 0, 1, 1, 1])


def test_make_alignment_gives_ida_class_its_safeguards_and_lets_a_user_change_them():
    loss = make_alignment("ida-class", feature_dims=(16, 5), class_names=CLASS_NAMES)
    assert (loss.min_confidence, loss.balanced, loss.min_group_size, loss.class_after) == (0.5, True, 2, 0.5)
    assert loss.group_of_class.tolist() == [0, 1, 2, 3, 4]
    plain = make_alignment("ida-class", feature_dims=(16, 5), class_names=CLASS_NAMES,
                           min_confidence=None, balanced=False, class_after=0.0)
    assert (plain.min_confidence, plain.balanced, plain.class_after) == (None, False, 0.0)
    assert make_alignment("ida", feature_dims=(16, 5), class_names=CLASS_NAMES).group_of_class is None


@pytest.mark.parametrize("balanced", [True, False])
def test_an_unconfident_target_is_left_out_even_with_a_high_top_score(balanced):
    """Confidence is the margin between the top two scores: 0.9 against 0.8 is not confident.

    The reconstruction part is compared: in the balanced variant the spread term sees the whole batch.
    """
    source, target, y_s, scores_t = two_class_batch()
    loss = safeguarded(balanced=balanced)
    loss(source, target, y_s=y_s, scores_t=scores_t)
    reference = float(loss.last_parts["reconstruction"])
    extra = source[:1].clone()  # on a class-0 source: rebuilt exactly from the sources, it would lower the term
    extra_scores = torch.tensor([[0.9, 0.8, 0.0]], dtype=torch.float64)
    loss(source, torch.cat([target, extra]), y_s=y_s, scores_t=torch.cat([scores_t, extra_scores]))
    assert float(loss.last_parts["reconstruction"]) == pytest.approx(reference, rel=1e-9)
    assert float(loss.last_usage["targets_used"]) == pytest.approx(6 / 7)
    assert loss.last_usage["confident_counts"].tolist() == [3, 3, 0]
    assert loss.last_coefficients[-1].abs().max() == 0
    loss(source, torch.cat([target, extra]), y_s=y_s, scores_t=torch.cat([scores_t, one_hot([0])]))
    assert float(loss.last_parts["reconstruction"]) < reference - 0.05  # the same target, confident, is used


def test_an_over_represented_pseudo_class_does_not_dominate():
    """Balanced: the term is the plain mean of the per-class IDA terms, however many targets each class has."""
    source, _, y_s, _ = two_class_batch()
    centres = gaussian(2, 16, seed=1) * 3.0
    many_far = centres[0] + gaussian(12, 16, seed=10, shift=2.0)  # class 0: twelve targets, poorly aligned
    few_near = centres[1] + gaussian(2, 16, seed=11)  # class 1: two targets, well aligned
    target, scores_t = torch.cat([many_far, few_near]), one_hot([0] * 12 + [1] * 2)
    per_class = [float(IDALoss(diversity=0.0)(source[y_s == k], part)) for k, part in ((0, many_far), (1, few_near))]
    balanced = float(safeguarded(diversity=0.0)(source, target, y_s=y_s, scores_t=scores_t))
    assert balanced == pytest.approx(sum(per_class) / 2, rel=1e-9)
    pooled = float(safeguarded(diversity=0.0, balanced=False)(source, target, y_s=y_s, scores_t=scores_t))
    # Pooled over targets, class 0 (12 of 14 targets) sets the term; balanced, class 1 weighs as much as class 0.
    assert abs(pooled - per_class[0]) < abs(balanced - per_class[0])
    assert per_class[1] < balanced < per_class[0]


def test_a_pseudo_class_with_too_few_confident_targets_is_left_out():
    source, target, y_s, scores_t = two_class_batch()
    source = torch.cat([source, gaussian(4, 16, seed=12, shift=-3.0)])
    y_s = torch.cat([y_s, torch.full((4,), 2)])
    loss = safeguarded()
    loss(source, target, y_s=y_s, scores_t=scores_t)
    reference = float(loss.last_parts["reconstruction"])
    lone = gaussian(1, 16, seed=13, shift=6.0)  # the only target of class 2: no self reference, so not used
    loss(source, torch.cat([target, lone]), y_s=y_s, scores_t=torch.cat([scores_t, one_hot([2])]))
    assert float(loss.last_parts["reconstruction"]) == pytest.approx(reference, rel=1e-9)
    assert loss.last_usage["groups_used"] == 2 and loss.last_usage["confident_counts"].tolist() == [3, 3, 1]
    no_source = safeguarded()  # class 1 has targets but no source sample in the batch: left out as well
    no_source(source[y_s != 1], target, y_s=y_s[y_s != 1], scores_t=scores_t)
    assert no_source.last_usage["groups_used"] == 1 and float(no_source.last_usage["targets_used"]) == 0.5


@pytest.mark.parametrize("balanced", [True, False])
def test_before_the_warm_up_ends_the_loss_is_marginal_ida(balanced):
    source, target, y_s, _ = two_class_batch()
    scores_t = one_hot([1, 1, 1, 0, 0, 0])  # wrong pseudo-labels: they must not act during the warm-up
    loss = safeguarded(balanced=balanced)
    loss.set_progress(0.3)
    marginal = IDALoss()(source, target)
    assert float(loss(source, target, y_s=y_s, scores_t=scores_t)) == float(marginal)
    assert float(loss.last_usage["class_term"]) == 0.0
    loss.set_progress(0.5)
    after = float(loss(source, target, y_s=y_s, scores_t=scores_t))
    assert float(loss.last_usage["class_term"]) == 1.0 and after > float(marginal) + 0.5  # wrong classes: far apart


def test_no_qualifying_target_gives_the_spread_term_alone_with_finite_gradients():
    source, target, y_s, _ = two_class_batch()
    source, target = source.clone().requires_grad_(), target.clone().requires_grad_()
    undecided = torch.full((6, 3), 1 / 3, dtype=torch.float64)
    loss = safeguarded()
    value = loss(source, target, y_s=y_s, scores_t=undecided)
    value.backward()
    assert math.isfinite(value.item()) and loss.last_parts["reconstruction"].item() == 0.0
    assert value.item() == pytest.approx(loss.last_parts["spread"].item())
    assert float(loss.last_usage["targets_used"]) == 0.0 and loss.last_usage["groups_used"] == 0
    assert all(bool(torch.isfinite(x.grad).all()) for x in (source, target))
    alone = safeguarded(diversity=0.0)
    source.grad = None
    alone(source, target, y_s=y_s, scores_t=undecided).backward()
    assert float(source.grad.abs().max()) == 0.0


def test_balanced_parts_sum_to_the_total_and_gradients_reach_both_domains():
    source, target, y_s, scores_t = two_class_batch()
    source, target = source.clone().requires_grad_(), target.clone().requires_grad_()
    loss = safeguarded()
    value = loss(source, target, y_s=y_s, scores_t=scores_t)
    value.backward()
    assert value.item() == pytest.approx(sum(part.item() for part in loss.last_parts.values()))
    assert all(float(x.grad.abs().max()) > 0 for x in (source, target))
    assert loss.last_coefficients.shape == (6, 8)
    assert float(loss.last_coefficients[:3, 4:].abs().max()) == 0.0  # class-0 targets use class-0 sources only


@pytest.mark.parametrize("options, message", [({"min_group_size": 1}, "min_group_size"), ({"class_after": 1.5}, "progress")])
def test_bad_safeguard_settings_are_refused(options, message):
    with pytest.raises(InputError, match=message):
        IDALoss(groups=range(3), **options)
