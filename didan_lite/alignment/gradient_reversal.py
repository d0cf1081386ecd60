r"""Gradient reversal: identity on the way forward, :math:`-\lambda` times the gradient on the way back.

The piece that turns a domain classifier into an adversary (Ganin & Lempitsky,
2015): the discriminator after it learns to tell the domains apart, while the
features before it receive the reversed gradient and learn to confuse it.
"""

from __future__ import annotations

import torch
from torch import Tensor


class _GradientReversal(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, coefficient: float) -> Tensor:
        ctx.coefficient = coefficient
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> tuple[Tensor, None]:
        return -ctx.coefficient * grad_output, None


def reverse_gradient(x: Tensor, coefficient: float = 1.0) -> Tensor:
    r"""Return ``x`` unchanged; in the backward pass multiply its gradient by ``-coefficient``.

    .. math::
        R_\lambda(x) = x, \qquad \frac{\partial R_\lambda}{\partial x} = -\lambda I

    Shape:
        - x: any; Output: same as ``x``

    Examples::

        >>> import torch
        >>> x = torch.ones(3, requires_grad=True)
        >>> reverse_gradient(x, 0.5).sum().backward()
        >>> x.grad
        tensor([-0.5000, -0.5000, -0.5000])
    """
    return _GradientReversal.apply(x, float(coefficient))
