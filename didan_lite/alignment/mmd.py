r"""Maximum mean discrepancy (MMD): the explicit baseline IDA is compared with.

Notebook: notebooks/03_mmd.ipynb teaches MMD, from the kernel mean embedding
to this batch estimate.

Two estimates are provided:

- :class:`MMDLoss`: multi-kernel Gaussian MMD (as in DAN), unbiased
  U-statistic. Its bandwidths come from the batch (median heuristic), so the
  loss does not change when all features are scaled by a constant: shrinking
  the features cannot reduce it.
- :class:`LinearMMDLoss`: MMD with the linear kernel :math:`k(x, y) = x^\top y`,
  i.e. the squared distance between the two batch means (biased V-statistic).
  It matches first moments only and scales with the features (multiplying
  them by :math:`c` multiplies the loss by :math:`c^2`), so a network can
  lower it by shrinking its features; weigh it with that in mind. (Not to be
  confused with Gretton's linear-*time* estimator.)
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from didan_lite.alignment.base import DEFAULT_LAYER, AlignmentLoss, feature_pair
from didan_lite.alignment.kernels import (
    BANDWIDTH_MULTIPLIERS,
    gaussian_kernel_sum,
    median_heuristic,
    pairwise_squared_distances,
)
from didan_lite.errors import InputError


def _off_diagonal_mean(matrix: Tensor) -> Tensor:
    """Mean of the entries of a square matrix off its diagonal."""
    n = matrix.shape[0]
    return (matrix.sum() - matrix.diagonal().sum()) / (n * (n - 1))


def gaussian_mmd_squared(
    f_s: Tensor, f_t: Tensor, multipliers: Sequence[float] = BANDWIDTH_MULTIPLIERS
) -> Tensor:
    r"""Unbiased multi-kernel Gaussian MMD² between a source and a target batch.

    .. math::
        \widehat{\mathrm{MMD}}^2_u =
            \frac{1}{n(n-1)} \sum_{i \ne i'} k(s_i, s_{i'})
          + \frac{1}{m(m-1)} \sum_{j \ne j'} k(t_j, t_{j'})
          - \frac{2}{nm} \sum_{i, j} k(s_i, t_j),
        \qquad
        k(x, y) = \sum_{q} \exp\!\left(-\frac{\lVert x - y \rVert^2}{\rho_q\, \bar d}\right)

    where :math:`\bar d` is the median squared distance between all pairs of
    the pooled batch (detached) and :math:`\rho_q` the ``multipliers``. The
    estimate is unbiased for a fixed kernel and can therefore be slightly
    negative when the two distributions are equal.

    Shape:
        - f_s: (n, D), f_t: (m, D), n, m >= 2 (may differ)
        - Output: scalar
    """
    f_s, f_t = feature_pair(f_s, f_t, min_samples=2)
    pooled = torch.cat([f_s, f_t])
    squared_distances = pairwise_squared_distances(pooled, pooled)
    floor = torch.finfo(pooled.dtype).eps * pooled.detach().pow(2).sum(1).mean() + torch.finfo(pooled.dtype).tiny
    median = median_heuristic(squared_distances).clamp_min(floor)
    bandwidths = median * torch.as_tensor(multipliers, dtype=pooled.dtype, device=pooled.device)
    kernel = gaussian_kernel_sum(squared_distances, bandwidths)
    n = f_s.shape[0]
    return _off_diagonal_mean(kernel[:n, :n]) + _off_diagonal_mean(kernel[n:, n:]) - 2.0 * kernel[:n, n:].mean()


def linear_mmd_squared(f_s: Tensor, f_t: Tensor) -> Tensor:
    r"""MMD² with the linear kernel: the squared distance between the batch means.

    .. math::
        \mathrm{MMD}^2_{\text{lin}} = \Big\lVert \tfrac{1}{n}\textstyle\sum_i s_i
                                      - \tfrac{1}{m}\sum_j t_j \Big\rVert^2

    Shape:
        - f_s: (n, D), f_t: (m, D)
        - Output: scalar
    """
    f_s, f_t = feature_pair(f_s, f_t)
    return (f_s.mean(0) - f_t.mean(0)).pow(2).sum()


class MMDLoss(AlignmentLoss):
    r"""Multi-kernel Gaussian MMD² (unbiased), see :func:`gaussian_mmd_squared`.

    Args:
        multipliers: bandwidths as multiples of the batch's median squared
            distance; default (1/4, 1/2, 1, 2, 4).
        layer: index into ``fc_outputs`` that :meth:`from_layers` aligns.

    Shape:
        - f_s: (n, D), f_t: (m, D), n, m >= 2
        - Output: scalar

    Examples::

        >>> import torch
        >>> loss = MMDLoss()
        >>> f_s, f_t = torch.randn(8, 16), torch.randn(12, 16) + 1.0
        >>> loss(f_s, f_t).shape
        torch.Size([])
    """

    def __init__(self, multipliers: Sequence[float] = BANDWIDTH_MULTIPLIERS, *, layer: int = DEFAULT_LAYER) -> None:
        super().__init__(layer)
        if len(multipliers) == 0 or min(multipliers) <= 0:
            raise InputError(
                f"MMD bandwidth multipliers must be a non-empty list of positive numbers; got {multipliers}."
            )
        self.multipliers = tuple(float(m) for m in multipliers)

    def forward(self, f_s: Tensor, f_t: Tensor, *, y_s: Tensor | None = None, scores_t: Tensor | None = None) -> Tensor:
        return gaussian_mmd_squared(f_s, f_t, self.multipliers)


class LinearMMDLoss(AlignmentLoss):
    r"""Linear-kernel MMD², the squared distance of the batch means, see :func:`linear_mmd_squared`.

    Not scale invariant: it shrinks with the features.

    Args:
        layer: index into ``fc_outputs`` that :meth:`from_layers` aligns.

    Shape:
        - f_s: (n, D), f_t: (m, D)
        - Output: scalar

    Examples::

        >>> import torch
        >>> loss = LinearMMDLoss()
        >>> loss(torch.zeros(4, 3), torch.ones(6, 3))
        tensor(3.)
    """

    def __init__(self, *, layer: int = DEFAULT_LAYER) -> None:
        super().__init__(layer)

    def forward(self, f_s: Tensor, f_t: Tensor, *, y_s: Tensor | None = None, scores_t: Tensor | None = None) -> Tensor:
        return linear_mmd_squared(f_s, f_t)
