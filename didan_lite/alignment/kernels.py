"""Distances and Gaussian kernels shared by MMD and the simplex form of IDA.

Notebook: notebooks/03_mmd.ipynb builds these step by step.

All functions are vectorised over the batch (no Python loops over samples)
and differentiable, except the bandwidth heuristic, which is a constant for
the gradient (it is detached, as in DAN).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

BANDWIDTH_MULTIPLIERS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Multi-kernel MMD: bandwidths are these multiples of the median heuristic."""


def pairwise_squared_distances(x: Tensor, y: Tensor) -> Tensor:
    r"""Squared Euclidean distances between every row of ``x`` and every row of ``y``.

    .. math::
        D_{ij} = \lVert x_i - y_j \rVert^2
               = \lVert x_i \rVert^2 + \lVert y_j \rVert^2 - 2\, x_i^\top y_j

    Both sets are first shifted by the mean of ``x`` (distances do not change)
    so that the expansion does not lose precision to a large common offset;
    small negative rounding errors are clamped to 0.

    Shape:
        - x: (N, D), y: (M, D)
        - Output: (N, M)

    Examples::

        >>> import torch
        >>> x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
        >>> pairwise_squared_distances(x, x)
        tensor([[ 0., 25.],
                [25.,  0.]])
    """
    centre = x.mean(0)
    x, y = x - centre, y - centre
    squared_norms_x = x.pow(2).sum(1, keepdim=True)
    squared_norms_y = y.pow(2).sum(1, keepdim=True)
    return (squared_norms_x + squared_norms_y.T - 2.0 * x @ y.T).clamp_min(0.0)


def median_heuristic(squared_distances: Tensor) -> Tensor:
    """Median of the off-diagonal entries of a square pairwise squared-distance matrix, detached.

    The usual bandwidth choice for Gaussian kernels: it follows the scale of
    the data, so a kernel with this bandwidth does not change when all
    features are multiplied by a constant. It may be 0 (all samples equal):
    callers floor it. For an even number of pairs the lower median is used.

    Shape:
        - squared_distances: (N, N), N >= 2
        - Output: scalar
    """
    n = squared_distances.shape[0]
    rows, cols = torch.triu_indices(n, n, offset=1, device=squared_distances.device)
    return squared_distances.detach()[rows, cols].median()


def gaussian_kernel_sum(squared_distances: Tensor, bandwidths: Tensor | Sequence[float]) -> Tensor:
    r"""Sum of Gaussian kernels over several bandwidths, applied to squared distances.

    .. math::
        K_{ij} = \sum_{k} \exp\!\left(-\frac{D_{ij}}{h_k}\right)

    Shape:
        - squared_distances: (N, M)
        - bandwidths: (K,) positive, in the units of squared distances
        - Output: (N, M)
    """
    bandwidths = torch.as_tensor(bandwidths, dtype=squared_distances.dtype, device=squared_distances.device)
    return torch.exp(-squared_distances.unsqueeze(0) / bandwidths.view(-1, 1, 1)).sum(0)
