r"""Reconstruction coefficients and residuals: the computations behind IDA (:mod:`didan_lite.alignment.ida`).

The formulas, and which parts are our reading, are in the docstring of
:mod:`didan_lite.alignment.ida`. Here: the coefficient solvers (``ridge``,
``simplex``, ``sparse``), within pseudo-label groups, the first reading's residual
divided by the spread (:func:`reconstruction_residual`) and the default
self-referenced residual (:func:`self_referenced_residual`).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from didan_lite.alignment.base import feature_pair
from didan_lite.alignment.kernels import median_heuristic, pairwise_squared_distances
from didan_lite.errors import InputError

REGULARISERS: tuple[str, ...] = ("ridge", "simplex", "sparse")
DEFAULT_STRENGTH: dict[str, float] = {"ridge": 0.1, "simplex": 0.1, "sparse": 0.05}
"""Relative strength per regulariser: ridge lambda / mean Gram eigenvalue,
simplex temperature / median squared distance, sparse l1 weight / its
all-zero threshold."""
ISTA_STEPS = 100
SPREAD_FLOOR = 1e-3
"""The IDA denominator is at least this fraction of the targets' mean squared distance to the source mean."""



def _standardise(basis: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """Centre both sets on the basis mean; divide by their pooled root-mean-square norm (detached).

    The loss is invariant to both operations; they only put the numbers in
    units where the floors (machine epsilon) are relative to the features.
    """
    scale = torch.cat([basis, target]).detach().pow(2).sum(1).mean().sqrt()
    scale = scale.clamp_min(torch.finfo(scale.dtype).tiny)
    centre = basis.mean(0)
    return (basis - centre) / scale, (target - centre) / scale


def group_masks(
    source_groups: Tensor | None, target_groups: Tensor | None, n_source: int, n_target: int, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Which (target, source) pairs may be used, (B_t, B_s), and which source pairs share a group, (B_s, B_s).

    Negative target group ids mark targets left out.
    """
    if (source_groups is None) != (target_groups is None):
        raise InputError("Give both source_groups and target_groups, or neither (marginal IDA).")
    if source_groups is None:
        source_groups = torch.zeros(n_source, dtype=torch.long, device=device)
        target_groups = torch.zeros(n_target, dtype=torch.long, device=device)
    if source_groups.shape != (n_source,) or target_groups.shape != (n_target,):
        raise InputError(
            f"Group ids must have one entry per sample: got source {tuple(source_groups.shape)} for {n_source} "
            f"samples and target {tuple(target_groups.shape)} for {n_target} samples."
        )
    allowed = (target_groups[:, None] == source_groups[None, :]) & (target_groups >= 0)[:, None]
    source_same = source_groups[:, None] == source_groups[None, :]
    return allowed, source_same


def _ridge_coefficients(s: Tensor, t: Tensor, strength: float, allowed: Tensor, source_same: Tensor) -> Tensor:
    """W = T S^T (S S^T + lam I)^-1, block-diagonal per group (a masked Gram matrix solves every group at once)."""
    gram = s @ s.T
    lam = strength * gram.detach().diagonal().mean() + torch.finfo(s.dtype).eps
    system = gram * source_same + lam * torch.eye(s.shape[0], dtype=s.dtype, device=s.device)
    right_hand_side = (s @ t.T) * allowed.T
    return torch.cholesky_solve(right_hand_side, torch.linalg.cholesky(system)).T


def _simplex_coefficients(
    s: Tensor, t: Tensor, strength: float, allowed: Tensor, source_same: Tensor, tau: Tensor | None = None
) -> Tensor:
    """w_ji = softmax_i(-||t_j - s_i||^2 / tau) over the allowed sources; rows with none are zero.

    ``tau`` defaults to ``strength`` times the median pairwise squared distance of the pooled batch.
    """
    if tau is None:
        pooled = torch.cat([s, t])
        tau = strength * median_heuristic(pairwise_squared_distances(pooled, pooled)).clamp_min(torch.finfo(s.dtype).eps)
    logits = (-pairwise_squared_distances(t, s) / tau).masked_fill(~allowed, torch.finfo(s.dtype).min)
    return torch.softmax(logits, dim=1) * allowed.any(1, keepdim=True)


def _ridge_coefficients_per_target(s: Tensor, t: Tensor, strength: float, allowed: Tensor) -> Tensor:
    """Ridge weights with a different set of allowed sources per target: one (B_s, B_s) system per target, batched.

    Row j solves (G * a_j a_j^T + lam I) w_j = (S t_j) * a_j, so a source that is not allowed gets weight 0.
    """
    gram = s @ s.T
    lam = strength * gram.detach().diagonal().mean() + torch.finfo(s.dtype).eps
    mask = allowed.to(s.dtype)
    systems = gram[None] * mask[:, :, None] * mask[:, None, :] + lam * torch.eye(s.shape[0], dtype=s.dtype, device=s.device)
    right_hand_sides = ((t @ s.T) * mask)[:, :, None]
    return torch.cholesky_solve(right_hand_sides, torch.linalg.cholesky(systems))[:, :, 0]


def _sparse_coefficients(s: Tensor, t: Tensor, strength: float, allowed: Tensor, source_same: Tensor) -> Tensor:
    """ISTA_STEPS unrolled ISTA steps for 1/2 ||T - W S||^2 + beta ||W||_1, within groups."""
    gram = (s @ s.T) * source_same
    correlation = (t @ s.T) * allowed
    lipschitz = torch.linalg.eigvalsh(gram.detach())[-1].clamp_min(torch.finfo(s.dtype).eps)
    threshold = strength * correlation.detach().abs().max() / lipschitz
    coefficients = torch.zeros_like(correlation)
    for _ in range(ISTA_STEPS):
        step = coefficients - (coefficients @ gram - correlation) / lipschitz
        coefficients = torch.sign(step) * torch.relu(step.abs() - threshold) * allowed
    return coefficients


_SOLVERS: dict[str, Callable[[Tensor, Tensor, float, Tensor, Tensor], Tensor]] = {
    "ridge": _ridge_coefficients,
    "simplex": _simplex_coefficients,
    "sparse": _sparse_coefficients,
}


def check_regulariser(regulariser: str, strength: float | None) -> float:
    """Return the strength to use; raise InputError for an unknown regulariser or a non-positive strength."""
    if regulariser not in _SOLVERS:
        raise InputError(f"Unknown IDA regulariser {regulariser!r}; choose one of {', '.join(REGULARISERS)}.")
    strength = DEFAULT_STRENGTH[regulariser] if strength is None else float(strength)
    if not strength > 0:
        raise InputError(f"IDA strength must be positive (it is relative to the batch); got {strength}.")
    return strength


def reconstruction_coefficients(
    f_s: Tensor,
    f_t: Tensor,
    regulariser: str = "ridge",
    strength: float | None = None,
    *,
    source_groups: Tensor | None = None,
    target_groups: Tensor | None = None,
) -> Tensor:
    r"""The coefficient matrix :math:`W` that rebuilds each target from the sources (see the module docstring).

    Args:
        f_s: source features.
        f_t: target features.
        regulariser: ``"ridge"``, ``"simplex"`` or ``"sparse"``.
        strength: relative regularisation strength; ``None`` takes
            ``DEFAULT_STRENGTH[regulariser]``.
        source_groups, target_groups: optional group id per sample; a target
            is rebuilt only from sources of its own group, a negative id
            leaves the target out (its row of ``W`` is zero).

    Returns:
        ``W``, differentiable with respect to both feature sets. Row ``j``
        gives the weights of the (source-mean-centred) sources in target ``j``.

    Shape:
        - f_s: (B_s, D), f_t: (B_t, D), groups: (B_s,), (B_t,)
        - Output: (B_t, B_s)

    Examples::

        >>> import torch
        >>> f_s = torch.randn(6, 32)
        >>> w = reconstruction_coefficients(f_s, f_s[:4], regulariser="simplex", strength=0.01)
        >>> w.shape, bool(torch.allclose(w.sum(1), torch.ones(4)))
        (torch.Size([4, 6]), True)
    """
    strength = check_regulariser(regulariser, strength)
    s, t = _standardise(*feature_pair(f_s, f_t))
    allowed, source_same = group_masks(source_groups, target_groups, s.shape[0], t.shape[0], s.device)
    return _SOLVERS[regulariser](s, t, strength, allowed, source_same)


def reconstruction_residual(
    f_s: Tensor, f_t: Tensor, coefficients: Tensor, *, target_kept: Tensor | None = None
) -> Tensor:
    r"""Normalised reconstruction residual of the target batch: the IDA loss for given coefficients.

    .. math::
        \ell = \frac{\frac{1}{|K|} \sum_{j \in K} \lVert \tilde t_j - \sum_i w_{ji} \tilde s_i \rVert^2}
                    {\tfrac12 (v_s + v_t) + \epsilon}

    with :math:`\tilde s, \tilde t` the features centred on the source mean,
    :math:`v_s, v_t` the mean squared distance of each batch to its own mean
    (all samples) and :math:`K` the kept targets. The spread is floored at
    ``SPREAD_FLOOR`` times :math:`\frac{1}{|K|}\sum_{j \in K} \lVert \tilde t_j \rVert^2`.

    Shape:
        - f_s: (B_s, D), f_t: (B_t, D), coefficients: (B_t, B_s), target_kept: (B_t,) bool
        - Output: scalar, 0 when no target is kept

    Examples::

        >>> import torch
        >>> f_s = torch.randn(6, 32)
        >>> w = torch.eye(6)[:4]                      # target j = source j exactly
        >>> float(reconstruction_residual(f_s, f_s[:4], w))
        0.0
    """
    s, t = _standardise(*feature_pair(f_s, f_t))
    residual = (t - coefficients.to(s.dtype) @ s).pow(2).sum(1)
    kept = torch.ones_like(residual) if target_kept is None else target_kept.to(residual.dtype)
    n_kept = kept.sum().clamp_min(1.0)
    spread = 0.5 * (s.pow(2).sum(1).mean() + (t - t.mean(0)).pow(2).sum(1).mean())
    spread = torch.maximum(spread, SPREAD_FLOOR * (t.pow(2).sum(1) * kept).sum() / n_kept)
    return (residual * kept).sum() / n_kept / (spread + torch.finfo(spread.dtype).eps)


def _within_domain_temperature(b: Tensor, r: Tensor, strength: float) -> Tensor:
    """``strength`` times the median squared distance between two samples of the same domain (both batches), detached."""
    within = []
    for x in (b, r):
        rows, cols = torch.triu_indices(x.shape[0], x.shape[0], offset=1, device=x.device)
        within.append(pairwise_squared_distances(x, x).detach()[rows, cols])
    return strength * torch.cat(within).median().clamp_min(torch.finfo(b.dtype).eps)


def self_referenced_residual(
    f_b: Tensor,
    f_r: Tensor,
    regulariser: str = "simplex",
    strength: float | None = None,
    *,
    basis_groups: Tensor | None = None,
    rebuilt_groups: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""How much worse the other domain rebuilds a batch than the batch's own domain does (the default IDA reading).

    .. math::
        \ell(B \to R) = \log \frac{\frac{1}{|K|}\sum_{j \in K} \lVert r_j - \sum_i w_{ji} b_i \rVert^2 + \epsilon}
                                   {\frac{1}{|K|}\sum_{j \in K} \lVert r_j - \sum_{k \ne j} v_{jk} r_k \rVert^2 + \epsilon}

    ``W`` rebuilds each sample of ``f_r`` from the other domain's batch ``f_b``; ``V``
    rebuilds it from the *other samples of its own batch* (leave one out), by the
    same rule (same regulariser, same temperature for ``simplex``: ``strength``
    times the median within-domain squared distance of both batches). When the two
    domains are mixed, the other domain rebuilds a sample as well as its own does
    (log-ratio near 0, below 0 when they interleave); when they are apart it is larger.
    The logarithm keeps the gradient relative (d ratio / ratio): in a flattened
    embedding the ratio can reach hundreds, and its raw gradient would swamp the
    regression loss.
    Shrinking or flattening the features shrinks numerator and denominator alike,
    so a collapse does not lower it. The denominator is floored at ``SPREAD_FLOOR``
    times the numerator. ``K``: samples with at least one allowed sample in both
    bases (groups, as in :func:`reconstruction_coefficients`).

    Returns:
        The scalar log-ratio and ``W`` (B_r, B_b), differentiable.

    Shape:
        - f_b: (B_b, D), f_r: (B_r, D) with B_b, B_r >= 2; groups (B_b,), (B_r,)

    Examples::

        >>> import torch
        >>> g = torch.Generator().manual_seed(0)
        >>> a, b = torch.randn(32, 16, generator=g), torch.randn(32, 16, generator=g)
        >>> same, _ = self_referenced_residual(a, b)
        >>> apart, _ = self_referenced_residual(a, b + 3.0)
        >>> bool(abs(same) < 0.3 < apart)
        True
    """
    strength = check_regulariser(regulariser, strength)
    f_b, f_r = feature_pair(f_b, f_r, min_samples=2)
    b, r = _standardise(f_b, f_r)
    own = r - r.mean(0)
    n_b, n_r = b.shape[0], r.shape[0]
    allowed, basis_same = group_masks(basis_groups, rebuilt_groups, n_b, n_r, b.device)
    own_groups = torch.zeros(n_r, dtype=torch.long, device=b.device) if rebuilt_groups is None else rebuilt_groups
    own_allowed, own_same = group_masks(own_groups, own_groups, n_r, n_r, b.device)
    own_allowed = own_allowed & ~torch.eye(n_r, dtype=torch.bool, device=b.device)
    if regulariser == "simplex":
        tau = _within_domain_temperature(b, r, strength)
        cross = _simplex_coefficients(b, r, strength, allowed, basis_same, tau)
        self_weights = _simplex_coefficients(own, own, strength, own_allowed, own_same, tau)
    elif regulariser == "ridge":
        cross = _ridge_coefficients(b, r, strength, allowed, basis_same)
        self_weights = _ridge_coefficients_per_target(own, own, strength, own_allowed)
    else:
        cross = _sparse_coefficients(b, r, strength, allowed, basis_same)
        self_weights = _sparse_coefficients(own, own, strength, own_allowed, own_same)
    kept = (allowed.any(1) & own_allowed.any(1)).to(b.dtype)
    n_kept = kept.sum().clamp_min(1.0)
    numerator = ((r - cross @ b).pow(2).sum(1) * kept).sum() / n_kept
    denominator = ((own - self_weights @ own).pow(2).sum(1) * kept).sum() / n_kept
    denominator = torch.maximum(denominator, SPREAD_FLOOR * numerator)
    eps = torch.finfo(b.dtype).eps
    return torch.log((numerator + eps) / (denominator + eps)), cross
