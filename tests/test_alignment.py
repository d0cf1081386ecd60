"""Properties of the alignment losses: what each one measures, not only that it runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from didan_lite.alignment import ALIGNMENT_METHODS, AlignmentLoss, make_alignment
from didan_lite.alignment.coral import coral_distance
from didan_lite.alignment.dann import DANNLoss, reversal_coefficient
from didan_lite.alignment.gradient_reversal import reverse_gradient
from didan_lite.alignment.ida import IDALoss, reconstruction_coefficients
from didan_lite.alignment.kernels import BANDWIDTH_MULTIPLIERS
from didan_lite.alignment.lida import AROUSAL, label_groups
from didan_lite.alignment.mmd import MMDLoss, gaussian_mmd_squared, linear_mmd_squared
from didan_lite.errors import InputError
from didan_lite.manifest import CANONICAL_EMOTIONS

CLASS_NAMES = ("anger", "fear", "happiness", "neutral", "sadness")
FEATURE_DIMS = (24, 16, len(CLASS_NAMES))
METHODS = tuple(name for name in ALIGNMENT_METHODS if name not in ("source-only", "adabn"))
REGULARISERS = ("ridge", "simplex", "sparse")
FIRST_READING = {"reference": "spread", "symmetric": False, "diversity": 0.0}  # the span-based reading, before the anti-collapse default


def make(method: str, **options) -> AlignmentLoss:
    loss = make_alignment(method, feature_dims=FEATURE_DIMS, class_names=CLASS_NAMES, **options)
    loss.set_progress(1.0)  # DANN: full gradient reversal; the others ignore it
    return loss


def fc_batch(n: int, seed: int, shift: float = 0.0) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randn(n, d, generator=generator) + shift).requires_grad_() for d in FEATURE_DIMS]


def context(n_source: int, fc_t: list[torch.Tensor], seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    return {"y_s": torch.randint(0, len(CLASS_NAMES), (n_source,), generator=generator), "scores_t": fc_t[-1].detach()}


def gaussian(n: int, d: int, seed: int, shift: float = 0.0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype) + shift


# --- every method -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_gradients_reach_both_domains(method):
    fc_s, fc_t = fc_batch(7, seed=1), fc_batch(13, seed=2, shift=0.5)
    term = make(method).from_layers(fc_s, fc_t, **context(7, fc_t))
    term.backward()
    for name, batch in (("source", fc_s), ("target", fc_t)):
        grads = [x.grad for x in batch if x.grad is not None]
        assert grads, f"{method}: no gradient reached the {name} features"
        assert all(torch.isfinite(g).all() for g in grads)
        assert sum(float(g.abs().sum()) for g in grads) > 0, f"{method}: zero gradient on the {name} features"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("sizes", [(7, 13), (13, 7)])
def test_unequal_batch_sizes(method, sizes):
    n_s, n_t = sizes
    fc_s, fc_t = fc_batch(n_s, seed=3), fc_batch(n_t, seed=4)
    term = make(method).from_layers(fc_s, fc_t, **context(n_s, fc_t))
    assert term.shape == () and torch.isfinite(term)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("same_point", [True, False], ids=["one-point", "two-points"])
def test_identical_samples_give_no_nan(method, same_point):
    """A collapsed batch (every sample equal) gives a finite value and finite gradients."""
    source_point, target_point = fc_batch(1, seed=5), fc_batch(1, seed=6)
    if same_point:
        target_point = source_point
    fc_s = [x.detach().repeat(7, 1).requires_grad_() for x in source_point]
    fc_t = [x.detach().repeat(13, 1).requires_grad_() for x in target_point]
    term = make(method).from_layers(fc_s, fc_t, **context(7, fc_t))
    term.backward()
    assert torch.isfinite(term)
    assert all(torch.isfinite(x.grad).all() for x in fc_s + fc_t if x.grad is not None)


SCALE_INVARIANT = [("mmd", {})] + [
    (method, {"regulariser": regulariser, **extra})
    for method, extra in (("ida", {}), ("ida-ridge", {"symmetric": True}), ("ida-class", {}), ("ida-layer", {}))
    for regulariser in REGULARISERS
]


@pytest.mark.parametrize("method, options", SCALE_INVARIANT, ids=[f"{m}-{o}" for m, o in SCALE_INVARIANT])
def test_scale_invariance(method, options):
    """Scaling every feature by c changes nothing: shrinking the features cannot lower the loss."""
    loss = make(method, **options)
    fc_s, fc_t = fc_batch(9, seed=7), fc_batch(11, seed=8, shift=0.7)
    ctx = context(9, fc_t)
    reference = loss.from_layers(fc_s, fc_t, **ctx)
    for c in (1e-3, 1e3):
        scaled = loss.from_layers([c * x for x in fc_s], [c * x for x in fc_t], **ctx)
        assert scaled.item() == pytest.approx(reference.item(), rel=1e-3, abs=1e-6)


# --- MMD ------------------------------------------------------------------------------------------


def test_mmd_near_zero_for_one_distribution_and_monotone_in_shift():
    d = 8
    source = gaussian(256, d, seed=10)
    direction = torch.ones(d, dtype=source.dtype) / math.sqrt(d)
    values = [float(gaussian_mmd_squared(source, gaussian(256, d, seed=11) + r * direction)) for r in (0, 1, 2, 4)]
    assert abs(values[0]) < 0.25 * values[1]
    assert all(a < b for a, b in zip(values, values[1:])), values


def test_mmd_matches_a_direct_unbiased_estimate():
    """The vectorised estimate equals the U-statistic written with explicit loops, for unequal sizes."""
    source, target = gaussian(5, 3, seed=12).numpy(), gaussian(8, 3, seed=13, shift=0.4).numpy()
    pooled = np.concatenate([source, target])
    squared = ((pooled[:, None] - pooled[None]) ** 2).sum(-1)
    median = np.sort(squared[np.triu_indices(len(pooled), 1)])[(len(pooled) * (len(pooled) - 1) // 2 - 1) // 2]

    def k(x, y):
        return sum(np.exp(-((x - y) ** 2).sum() / (m * median)) for m in BANDWIDTH_MULTIPLIERS)

    n, m = len(source), len(target)
    within_s = sum(k(source[i], source[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    within_t = sum(k(target[i], target[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    cross = sum(k(source[i], target[j]) for i in range(n) for j in range(m)) / (n * m)
    expected = within_s + within_t - 2 * cross
    assert float(gaussian_mmd_squared(torch.from_numpy(source), torch.from_numpy(target))) == pytest.approx(expected)


def test_linear_mmd_is_the_squared_distance_of_the_means():
    source, target = gaussian(7, 5, seed=14), gaussian(13, 5, seed=15, shift=0.3)
    expected = ((source.numpy().mean(0) - target.numpy().mean(0)) ** 2).sum()
    assert float(linear_mmd_squared(source, target)) == pytest.approx(expected)
    assert float(linear_mmd_squared(3 * source, 3 * target)) == pytest.approx(9 * expected)  # not scale invariant


# --- CORAL ----------------------------------------------------------------------------------------


def test_coral_is_zero_for_identical_covariances():
    """A shift and a reordering of the samples leave the covariance unchanged."""
    source = gaussian(20, 6, seed=16)
    target = source[torch.randperm(20, generator=torch.Generator().manual_seed(0))] + 3.0
    assert float(coral_distance(source, target)) < 1e-12
    assert float(coral_distance(source, 2.0 * target)) > 0.01


def test_coral_matches_numpy():
    source, target = gaussian(9, 4, seed=17), gaussian(14, 4, seed=18) * 1.5
    cov_s, cov_t = np.cov(source.numpy(), rowvar=False), np.cov(target.numpy(), rowvar=False)
    expected = ((cov_s - cov_t) ** 2).sum() / (4 * 4**2)
    assert float(coral_distance(source, target)) == pytest.approx(expected)


# --- DANN -----------------------------------------------------------------------------------------


def test_gradient_reversal_reverses_and_scales():
    x = torch.randn(4, 3, requires_grad=True)
    weights = torch.randn(4, 3)
    y = reverse_gradient(x, 0.3)
    assert torch.equal(y, x)
    (y * weights).sum().backward()
    assert torch.allclose(x.grad, -0.3 * weights)


def test_reversal_schedule_warms_up_from_zero_to_one():
    values = [reversal_coefficient(p) for p in np.linspace(0, 1, 11)]
    assert values[0] == 0.0 and values[-1] == pytest.approx(1.0, abs=1e-3)
    assert all(a < b for a, b in zip(values, values[1:]))
    assert values[5] == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    with pytest.raises(InputError):
        reversal_coefficient(1.5)


def test_dann_feature_gradient_is_the_reversed_discriminator_gradient():
    torch.manual_seed(0)
    loss = DANNLoss(feature_dim=6)
    loss.set_progress(0.3)
    f_s, f_t = torch.randn(5, 6, requires_grad=True), torch.randn(7, 6)
    loss(f_s, f_t).backward()
    plain = f_s.detach().clone().requires_grad_()
    logits = loss.discriminator(plain).squeeze(1)
    (0.5 * torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones(5))).backward()
    assert torch.allclose(f_s.grad, -reversal_coefficient(0.3) * plain.grad, atol=1e-6)
    loss.set_progress(0.0)
    f_s.grad = None
    loss(f_s, f_t).backward()
    assert float(f_s.grad.abs().max()) == 0.0  # warm-up starts with no reversal


def test_dann_discriminator_learns_separable_domains():
    torch.manual_seed(0)
    loss = DANNLoss(feature_dim=4, hidden_dim=16)
    optimiser = torch.optim.Adam(loss.parameters(), lr=3e-2)
    source = gaussian(32, 4, seed=19, shift=2.0, dtype=torch.float32)
    target = gaussian(32, 4, seed=20, shift=-2.0, dtype=torch.float32)
    values = []
    for _ in range(15):
        value = loss(source, target)
        optimiser.zero_grad()
        value.backward()
        optimiser.step()
        values.append(value.item())
    assert values[-1] < 0.5 * values[0]


# --- IDA ------------------------------------------------------------------------------------------


def affine_combinations(source: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Targets in the affine span of the source rows (weights summing to one, possibly negative)."""
    weights = torch.randn(n, source.shape[0], generator=torch.Generator().manual_seed(seed), dtype=source.dtype)
    weights = weights - weights.mean(1, keepdim=True) + 1.0 / source.shape[0]
    return weights @ source


def out_of_span_direction(source: torch.Tensor, seed: int) -> torch.Tensor:
    """A unit vector orthogonal to the affine span of the source rows."""
    centred = source - source.mean(0)
    basis = torch.linalg.svd(centred, full_matrices=False).Vh
    direction = gaussian(1, source.shape[1], seed=seed)[0]
    direction = direction - basis.T @ (basis @ direction)
    return direction / direction.norm()


def test_ridge_residual_vanishes_in_the_source_span_and_grows_outside():
    source = gaussian(8, 32, seed=21)
    target = affine_combinations(source, 6, seed=22)
    direction = out_of_span_direction(source, seed=23)
    values = [float(IDALoss("ridge", strength=1e-6, **FIRST_READING)(source, target + r * direction)) for r in (0, 0.5, 1, 2, 4)]
    assert values[0] < 1e-6
    assert all(a < b for a, b in zip(values, values[1:])), values
    assert values[-1] <= 1.0


def test_simplex_residual_vanishes_near_source_samples_and_grows_away():
    source = gaussian(8, 32, seed=24)
    near = source[[0, 3, 5, 5, 7]] + 1e-3 * gaussian(5, 32, seed=25)
    direction = gaussian(1, 32, seed=26)[0]
    direction = direction / direction.norm()
    values = [float(IDALoss("simplex", strength=0.01, **FIRST_READING)(source, near + r * direction)) for r in (0, 1, 2, 4, 8)]
    assert values[0] < 1e-4
    assert all(a < b for a, b in zip(values, values[1:])), values


def zero_coefficient_loss(source: torch.Tensor, target: torch.Tensor) -> float:
    """IDA with W = 0: the gap of the target to the source mean over the mean within-domain spread."""
    source, target = source.numpy(), target.numpy()
    gap = ((target - source.mean(0)) ** 2).sum(1).mean()
    spread = 0.5 * (((source - source.mean(0)) ** 2).sum(1).mean() + ((target - target.mean(0)) ** 2).sum(1).mean())
    return gap / spread


@pytest.mark.parametrize("reference", ["self", "spread"])
@pytest.mark.parametrize("regulariser", REGULARISERS)
def test_ida_translation_invariance_and_bounds(regulariser, reference):
    """Moving both domains together changes nothing; the reconstruction term is >= 0 for a shifted target; with the
    spread reference, ridge and sparse never do worse than W = 0."""
    loss = IDALoss(regulariser, reference=reference, symmetric=False, diversity=0.0)
    source, target = gaussian(10, 20, seed=27), gaussian(12, 20, seed=28, shift=0.8)
    value = float(loss(source, target))
    assert float(loss(source + 5.0, target + 5.0)) == pytest.approx(value, rel=1e-6)
    assert value >= 0.0
    if regulariser != "simplex" and reference == "spread":
        assert value <= zero_coefficient_loss(source, target)


def test_simplex_at_high_temperature_rebuilds_every_target_as_the_source_mean():
    source, target = gaussian(10, 20, seed=27), gaussian(12, 20, seed=28, shift=0.8)
    assert float(IDALoss("simplex", strength=1e6, **FIRST_READING)(source, target)) == pytest.approx(
        zero_coefficient_loss(source, target), rel=1e-4
    )


def test_ida_sees_a_target_shift_that_a_common_shift_hides():
    source, target = gaussian(10, 20, seed=29), gaussian(12, 20, seed=30)
    for regulariser in REGULARISERS:
        loss = IDALoss(regulariser)
        assert float(loss(source, target + 3.0)) > float(loss(source, target))


def test_sparse_coefficients_are_sparse_and_ridge_ones_are_not():
    source, target = gaussian(16, 64, seed=31), gaussian(6, 64, seed=32)
    sparse = reconstruction_coefficients(source, target, "sparse", strength=0.3)
    ridge = reconstruction_coefficients(source, target, "ridge")
    assert float((sparse == 0).double().mean()) > 0.5
    assert float((ridge == 0).double().mean()) == 0.0


def test_simplex_coefficients_are_convex_weights():
    source, target = gaussian(9, 12, seed=33), gaussian(5, 12, seed=34)
    weights = reconstruction_coefficients(source, target, "simplex")
    assert weights.shape == (5, 9)
    assert bool((weights >= 0).all()) and torch.allclose(weights.sum(1), torch.ones(5, dtype=weights.dtype))


def test_module_keeps_the_coefficients_it_used():
    source, target = gaussian(9, 12, seed=35), gaussian(5, 12, seed=36)
    loss = IDALoss("ridge", strength=0.2)
    loss(source.requires_grad_(), target)
    expected = reconstruction_coefficients(source, target, "ridge", strength=0.2)
    assert not loss.last_coefficients.requires_grad
    assert torch.allclose(loss.last_coefficients, expected)


def test_symmetric_ida_averages_both_directions():
    source, target = gaussian(9, 30, seed=37), gaussian(5, 30, seed=38, shift=0.5)
    one_way = IDALoss(symmetric=False)
    forward, backward = float(one_way(source, target)), float(one_way(target, source))
    assert forward != pytest.approx(backward)
    assert float(IDALoss(symmetric=True)(source, target)) == pytest.approx(0.5 * (forward + backward))


def three_class_batches():
    """Three distant source clusters (one per class); targets predicted as class 0 sitting on class-1 sources."""
    centres = gaussian(3, 32, seed=39) * 3.0
    source = torch.cat([centres[k] + gaussian(4, 32, seed=40 + k) for k in range(3)])
    y_s = torch.arange(3).repeat_interleave(4)
    target = source[[4, 5, 6]].clone()
    scores_t = torch.tensor([[0.8, 0.1, 0.1]] * 3, dtype=source.dtype)
    return source, target, y_s, scores_t


@pytest.mark.parametrize("regulariser", REGULARISERS)
def test_class_aware_ida_ignores_cross_class_reconstructions(regulariser):
    source, target, y_s, scores_t = three_class_batches()
    marginal = float(IDALoss(regulariser, symmetric=False)(source, target))
    class_aware = float(IDALoss(regulariser, symmetric=False, groups=(0, 1, 2))(source, target, y_s=y_s, scores_t=scores_t))
    assert class_aware > marginal + math.log(10), (marginal, class_aware)  # the default IDA is a log-ratio
    assert class_aware > 0.5


def test_class_aware_ida_leaves_out_targets_without_a_usable_class():
    """Adding a target of a class absent from the source batch, or below the confidence bar, changes nothing."""
    source, target, y_s = gaussian(8, 16, seed=42), gaussian(6, 16, seed=43), torch.tensor([0, 1] * 4)
    scores_t = torch.tensor([[0.9, 0.1, 0.0]] * 3 + [[0.2, 0.8, 0.0]] * 3, dtype=source.dtype)
    loss = IDALoss(groups=(0, 1, 2), min_confidence=0.5)
    reference = float(loss(source, target, y_s=y_s, scores_t=scores_t))
    extra = gaussian(2, 16, seed=44, shift=5.0)
    extra_scores = torch.tensor([[0.0, 0.1, 0.9], [0.3, 0.2, 0.1]], dtype=source.dtype)  # class 2 absent; unconfident
    value = loss(source, torch.cat([target, extra]), y_s=y_s, scores_t=torch.cat([scores_t, extra_scores]))
    assert float(value) == pytest.approx(reference)
    assert loss.last_coefficients.shape == (8, 8) and loss.last_coefficients[-2:].abs().max() == 0
    nothing_usable = loss(source.requires_grad_(), extra, y_s=y_s, scores_t=extra_scores)
    nothing_usable.backward()
    assert nothing_usable.item() == 0.0 and float(source.grad.abs().max()) == 0.0


def test_class_aware_ida_needs_labels():
    with pytest.raises(InputError, match="y_s"):
        IDALoss(groups=(0, 1))(gaussian(4, 3, seed=0), gaussian(4, 3, seed=1))


def test_layer_adapted_ida_is_the_mean_of_per_layer_terms_of_growing_granularity():
    fc_s, fc_t = fc_batch(10, seed=45), fc_batch(8, seed=46, shift=0.3)
    ctx = context(10, fc_t)
    loss = make("ida-layer")
    assert loss.granularities == ("marginal", "arousal", "class")
    expected = [
        IDALoss(layer=0)(fc_s[0], fc_t[0]),
        IDALoss(groups=(0, 0, 0, 1, 1), layer=1)(fc_s[1], fc_t[1], **ctx),
        IDALoss(groups=range(5), layer=2)(fc_s[2], fc_t[2], **ctx),
    ]
    assert loss.from_layers(fc_s, fc_t, **ctx).item() == pytest.approx(torch.stack(expected).mean().item())
    with pytest.raises(InputError, match="from_layers"):
        loss(fc_s[0], fc_t[0])
    deep_only = make("ida-layer", layers=(1, 2), regulariser="simplex")
    assert deep_only.granularities == ("marginal", "class")
    assert [term.layer for term in deep_only.terms] == [1, 2]


def test_label_groups():
    assert set(AROUSAL) == set(CANONICAL_EMOTIONS)
    assert label_groups(CLASS_NAMES, "marginal") is None
    assert label_groups(CLASS_NAMES, "class") == (0, 1, 2, 3, 4)
    assert label_groups(CLASS_NAMES, "arousal") == (0, 0, 0, 1, 1)
    assert label_groups(("anger", "fear", "surprise"), "arousal") == (0, 1, 2)  # one arousal level: classes
    with pytest.raises(InputError, match="joy"):
        label_groups(("anger", "joy"), "arousal")


# --- the registry ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ALIGNMENT_METHODS)
def test_make_alignment_builds_every_method(method):
    loss = make_alignment(method, feature_dims=FEATURE_DIMS, class_names=CLASS_NAMES)
    if method in ("source-only", "adabn"):  # no loss term (adabn adapts the BatchNorm statistics instead)
        assert loss is None
    else:
        assert isinstance(loss, AlignmentLoss)


def test_make_alignment_passes_options_and_sets_context():
    loss = make("ida", regulariser="simplex", strength=0.2)
    assert (loss.regulariser, loss.strength, loss.layer) == ("simplex", 0.2, -2)
    both_ways = make_alignment("ida-ridge", feature_dims=FEATURE_DIMS, class_names=CLASS_NAMES, symmetric=True)
    assert both_ways.symmetric and not make("ida-ridge").symmetric
    dann = make_alignment("dann", feature_dims=FEATURE_DIMS, class_names=CLASS_NAMES, layer=0)
    assert dann.feature_dim == FEATURE_DIMS[0]
    assert len(list(dann.parameters())) > 0


@pytest.mark.parametrize(
    "method, options, message",
    [
        ("wasserstein", {}, "ida-layer"),  # the message lists the valid names
        ("mmd", {"regulariser": "ridge"}, "regulariser"),
        ("ida-class", {"groups": (0, 1)}, "groups"),
        ("ida", {"regulariser": "lasso"}, "sparse"),
        ("ida", {"strength": -1.0}, "positive"),
        ("coral", {"layer": 3}, "layer"),
    ],
)
def test_make_alignment_rejects_bad_input(method, options, message):
    with pytest.raises(InputError, match=message):
        make_alignment(method, feature_dims=FEATURE_DIMS, class_names=CLASS_NAMES, **options)


def test_make_alignment_checks_widths_against_class_names():
    with pytest.raises(InputError, match="class names"):
        make_alignment("mmd", feature_dims=(8, 3), class_names=CLASS_NAMES)


def test_bad_features_and_progress_are_reported():
    loss = make("mmd")
    with pytest.raises(InputError, match="width"):
        loss(torch.randn(4, 3), torch.randn(4, 5))
    with pytest.raises(InputError, match="at least 2"):
        loss(torch.randn(1, 3), torch.randn(4, 3))
    with pytest.raises(InputError, match="layer 5"):
        MMDLoss(layer=5).from_layers([torch.randn(4, 3)], [torch.randn(4, 3)])
    with pytest.raises(InputError, match="progress"):
        loss.set_progress(-0.1)
