"""The one interface every alignment loss shares.

An alignment loss compares a batch of source features with a batch of target
features and returns a scalar that is small when the two look alike. The
trainer holds one loss and, each step, hands it the outputs of every fully
connected (FC) layer of both batches::

    term = loss.from_layers(fc_s, fc_t, y_s=y_s, scores_t=scores_t)
    loss.set_progress(step / total_steps)

Most losses look at one layer (``layer``, by default the last hidden layer,
the embedding) and ignore the labels; the class-aware and layer-adapted IDA
use them, DANN uses the progress.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from didan_lite.errors import InputError

DEFAULT_LAYER = -2
"""Index into ``fc_outputs`` of the aligned layer: the last hidden layer (the embedding)."""


def feature_pair(f_s: Tensor, f_t: Tensor, *, min_samples: int = 1) -> tuple[Tensor, Tensor]:
    """Check a source/target feature pair and promote it to at least float32.

    Args:
        f_s: source features, shape (B_s, D).
        f_t: target features, shape (B_t, D).
        min_samples: the fewest rows each batch may have (2 for unbiased
            statistics such as covariances).

    Returns:
        ``(f_s, f_t)`` as floating tensors of at least float32 precision
        (half-precision features are computed on in float32).

    Raises:
        InputError: not 2-D, feature widths differ, or too few rows.
    """
    if f_s.ndim != 2 or f_t.ndim != 2:
        raise InputError(
            f"Alignment losses take 2-D features (batch, dim); got source {tuple(f_s.shape)} and "
            f"target {tuple(f_t.shape)}. Flatten the features first."
        )
    if f_s.shape[1] != f_t.shape[1]:
        raise InputError(
            f"Source and target features differ in width: {f_s.shape[1]} vs {f_t.shape[1]}. "
            "Pass the same layer of the same model for both domains."
        )
    if min(f_s.shape[0], f_t.shape[0]) < min_samples:
        raise InputError(
            f"This alignment loss needs at least {min_samples} samples per domain; got source batch "
            f"{f_s.shape[0]} and target batch {f_t.shape[0]}. Use larger batches (or drop_last=True)."
        )
    dtype = torch.promote_types(torch.promote_types(f_s.dtype, f_t.dtype), torch.float32)
    return f_s.to(dtype), f_t.to(dtype)


def check_progress(progress: float) -> float:
    """Return ``progress`` as a float after checking it lies in [0, 1] (fraction of training done)."""
    progress = float(progress)
    if not 0.0 <= progress <= 1.0:
        raise InputError(f"Training progress must lie in [0, 1] (fraction of training done); got {progress}.")
    return progress


class AlignmentLoss(nn.Module):
    """Base class: ``loss(f_s, f_t) -> scalar``, plus the trainer's two hooks.

    Args:
        layer: index into the model's ``fc_outputs`` that :meth:`from_layers`
            aligns; ``-2`` (default) is the last hidden layer. ``None`` for a
            loss that spans several layers and overrides :meth:`from_layers`.

    Shape:
        - f_s: (B_s, D) source features; f_t: (B_t, D) target features
          (B_s and B_t may differ).
        - y_s: (B_s,) integer source labels; scores_t: (B_t, C) target scores
          (only the class-aware losses read them).
        - Output: scalar.

    Attributes:
        last_parts: the named parts of the last loss computed (detached scalars), each as it enters the
            total so that they sum to it, e.g. IDA's ``{"reconstruction": ..., "spread": -diversity * spread}``;
            empty for a loss with one part. The trainer averages
            them per epoch into the history's ``"alignment_parts"``.
    """

    def __init__(self, layer: int | None = DEFAULT_LAYER) -> None:
        super().__init__()
        self.layer = layer
        self.last_parts: dict[str, Tensor] = {}

    def forward(self, f_s: Tensor, f_t: Tensor, *, y_s: Tensor | None = None, scores_t: Tensor | None = None) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def from_layers(self, fc_s: Sequence[Tensor], fc_t: Sequence[Tensor], **context) -> Tensor:
        """Apply the loss to layer ``self.layer`` of the source and target FC outputs.

        ``context`` (``y_s``, ``scores_t``) is passed on to :meth:`forward`.
        """
        return self(select_layer(fc_s, self.layer, "source"), select_layer(fc_t, self.layer, "target"), **context)

    def set_progress(self, progress: float) -> None:
        """Tell the loss how far training has gone (fraction in [0, 1]); most losses ignore it."""
        check_progress(progress)


def select_layer(fc_outputs: Sequence[Tensor], layer: int, domain: str) -> Tensor:
    """Return ``fc_outputs[layer]``, or raise an InputError that names the layer and the list length."""
    if not -len(fc_outputs) <= layer < len(fc_outputs):
        raise InputError(
            f"Alignment layer {layer} does not exist: the {domain} batch has {len(fc_outputs)} FC outputs. "
            f"Choose a layer in [{-len(fc_outputs)}, {len(fc_outputs) - 1}] (option `layer`)."
        )
    return fc_outputs[layer]
