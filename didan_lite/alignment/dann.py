r"""DANN: adversarial alignment through a domain discriminator and gradient reversal.

A small MLP tries to tell source features (label 1) from target features
(label 0); the gradient reversal layer in front of it makes the feature
extractor maximise the discriminator's loss while the discriminator
minimises it (Ganin & Lempitsky, 2015). The reversal coefficient is warmed up
from 0 to 1 with the training progress, so the features are not pushed around
by a discriminator that has not learnt anything yet:

.. math::
    \lambda_p = \frac{2}{1 + \exp(-\gamma p)} - 1, \qquad \gamma = 10

The value returned is the discriminator's binary cross-entropy: it *rises*
towards :math:`\ln 2 \approx 0.693` as the domains become indistinguishable.
The discriminator's parameters are part of the module: optimise
``loss.parameters()`` together with the model.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from didan_lite.alignment.base import DEFAULT_LAYER, AlignmentLoss, check_progress, feature_pair
from didan_lite.alignment.gradient_reversal import reverse_gradient
from didan_lite.errors import InputError


def reversal_coefficient(progress: float, gamma: float = 10.0) -> float:
    r"""DANN's warm-up schedule :math:`\lambda_p = 2 / (1 + e^{-\gamma p}) - 1`, from 0 at p=0 to ~1 at p=1."""
    return 2.0 / (1.0 + math.exp(-gamma * check_progress(progress))) - 1.0


class DomainDiscriminator(nn.Sequential):
    """MLP ``D -> hidden -> 1`` that outputs one domain logit per sample (source = positive).

    Shape:
        - Input: (B, D); Output: (B, 1) logits
    """

    def __init__(self, feature_dim: int, hidden_dim: int = 128) -> None:
        super().__init__(nn.Linear(feature_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 1))


class DANNLoss(AlignmentLoss):
    r"""Domain-adversarial loss: discriminator BCE behind a gradient reversal layer.

    .. math::
        \ell = \tfrac12 \Big[ \tfrac1n \textstyle\sum_i \mathrm{BCE}\big(g(R_\lambda(s_i)), 1\big)
             + \tfrac1m \sum_j \mathrm{BCE}\big(g(R_\lambda(t_j)), 0\big) \Big]

    with :math:`g` the :class:`DomainDiscriminator` and :math:`R_\lambda` the
    gradient reversal (:func:`~didan_lite.alignment.gradient_reversal.reverse_gradient`)
    at coefficient :math:`\lambda_p` (:func:`reversal_coefficient`). Each
    domain's mean is weighted equally, so unequal batch sizes do not bias the
    discriminator. Call :meth:`set_progress` before each step: at progress 0
    (the initial value) :math:`\lambda = 0`, and only the discriminator learns.

    Args:
        feature_dim: width D of the aligned layer.
        hidden_dim: width of the discriminator's hidden layer.
        gamma: steepness of the warm-up schedule.
        layer: index into ``fc_outputs`` that :meth:`from_layers` aligns.

    Shape:
        - f_s: (n, D), f_t: (m, D)
        - Output: scalar

    Examples::

        >>> import torch
        >>> loss = DANNLoss(feature_dim=16)
        >>> loss.set_progress(0.5)
        >>> round(loss.coefficient, 3)
        0.987
        >>> loss(torch.randn(8, 16), torch.randn(12, 16)).shape
        torch.Size([])
    """

    def __init__(
        self, feature_dim: int, *, hidden_dim: int = 128, gamma: float = 10.0, layer: int = DEFAULT_LAYER
    ) -> None:
        super().__init__(layer)
        if feature_dim < 1 or hidden_dim < 1 or gamma <= 0:
            raise InputError(
                f"DANN needs feature_dim >= 1, hidden_dim >= 1 and gamma > 0; got {feature_dim}, {hidden_dim}, {gamma}."
            )
        self.feature_dim = feature_dim
        self.gamma = float(gamma)
        self.discriminator = DomainDiscriminator(feature_dim, hidden_dim)
        self.coefficient = reversal_coefficient(0.0, self.gamma)

    def set_progress(self, progress: float) -> None:
        """Set the reversal coefficient from the fraction of training done."""
        self.coefficient = reversal_coefficient(progress, self.gamma)

    def forward(self, f_s: Tensor, f_t: Tensor, *, y_s: Tensor | None = None, scores_t: Tensor | None = None) -> Tensor:
        f_s, f_t = feature_pair(f_s, f_t)
        if f_s.shape[1] != self.feature_dim:
            raise InputError(
                f"DANN's discriminator was built for {self.feature_dim}-dim features but got {f_s.shape[1]}: "
                "build it with the width of the aligned layer (make_alignment does this from feature_dims)."
            )
        dtype = self.discriminator[0].weight.dtype
        logits_s = self.discriminator(reverse_gradient(f_s.to(dtype), self.coefficient)).squeeze(1)
        logits_t = self.discriminator(reverse_gradient(f_t.to(dtype), self.coefficient)).squeeze(1)
        return 0.5 * (
            F.binary_cross_entropy_with_logits(logits_s, torch.ones_like(logits_s))
            + F.binary_cross_entropy_with_logits(logits_t, torch.zeros_like(logits_t))
        )
