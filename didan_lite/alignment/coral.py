r"""Deep CORAL: align the second moments (covariances) of the two domains.

An explicit, moment-matching baseline (Sun & Saenko, 2016). It ignores the
means (add a linear MMD term for those) and scales with the features
(multiplying them by :math:`c` multiplies the loss by :math:`c^4`).
"""

from __future__ import annotations

from torch import Tensor

from didan_lite.alignment.base import DEFAULT_LAYER, AlignmentLoss, feature_pair


def unbiased_covariance(x: Tensor) -> Tensor:
    r"""Covariance of the rows of ``x`` with the unbiased :math:`1/(n-1)` factor.

    .. math::
        C = \frac{1}{n-1} (X - \mathbf{1}\bar x^\top)^\top (X - \mathbf{1}\bar x^\top)

    Shape:
        - x: (n, d), n >= 2
        - Output: (d, d)
    """
    centred = x - x.mean(0)
    return centred.T @ centred / (x.shape[0] - 1)


def coral_distance(f_s: Tensor, f_t: Tensor) -> Tensor:
    r"""CORAL loss between a source and a target batch.

    .. math::
        \ell_{\text{CORAL}} = \frac{1}{4 d^2} \lVert C_s - C_t \rVert_F^2

    with :math:`C_s, C_t` the unbiased covariances (:func:`unbiased_covariance`)
    and :math:`d` the feature width.

    Shape:
        - f_s: (n, d), f_t: (m, d), n, m >= 2 (may differ)
        - Output: scalar
    """
    f_s, f_t = feature_pair(f_s, f_t, min_samples=2)
    d = f_s.shape[1]
    return (unbiased_covariance(f_s) - unbiased_covariance(f_t)).pow(2).sum() / (4.0 * d * d)


class CORALLoss(AlignmentLoss):
    r"""Deep CORAL, :math:`\lVert C_s - C_t \rVert_F^2 / (4 d^2)` with unbiased covariances.

    See :func:`coral_distance`.

    Args:
        layer: index into ``fc_outputs`` that :meth:`from_layers` aligns.

    Shape:
        - f_s: (n, d), f_t: (m, d), n, m >= 2
        - Output: scalar

    Examples::

        >>> import torch
        >>> loss = CORALLoss()
        >>> f_s = torch.randn(32, 8)
        >>> float(loss(f_s, f_s + 5.0)) < 1e-9   # a shift leaves covariances unchanged
        True
    """

    def __init__(self, *, layer: int = DEFAULT_LAYER) -> None:
        super().__init__(layer)

    def forward(self, f_s: Tensor, f_t: Tensor, *, y_s: Tensor | None = None, scores_t: Tensor | None = None) -> Tensor:
        return coral_distance(f_s, f_t)
