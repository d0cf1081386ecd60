"""The DIDAN network: convolutional layers over the spectrum, then fully connected layers.

Notebook: notebooks/02_cross_corpus_problem.ipynb trains it; 04_ida.ipynb aligns it.

The abstract describes "a simple deep regression network, a set of
convolutional layers followed by fully connected layers, that regresses source
speech spectrums directly onto the emotion labels". Layer counts and sizes are
not published; ours are:

=====================  ====================================================
input                  (B, n_bins, n_frames) spectrogram normalised per
                       corpus
conv blocks            ``conv_channels`` = (8, 16, 32, 64): each a 3x3
                       convolution, a normalisation (``norm``), ReLU and
                       2x2 max-pooling
pooling                ``pooled_size`` = (4, 1): adaptive average pooling
                       to 4 frequency regions x 1 (the mean over time),
                       flattened
fully connected        ``fc_dims`` = (256, 128), each Linear, ReLU, dropout
output                 Linear to C scores (regressed onto one-hot labels)
=====================  ====================================================

**Normalisation** (``norm``): ``"batch"`` (BatchNorm, the default: the best mean held-out source UAR in the
speaker-fold selection, docs/decisions/backbone.md), ``"group"`` (GroupNorm, 8 groups) or ``"layer"`` (one
group: LayerNorm over channels and positions). The BatchNorm network is kept out of the domains' way in two
places, so that every method differs from source-only by its loss alone:

- in training, a batch that stacks source rows over target rows (the aligning methods) is normalised
  with the statistics of its *source rows* (:class:`SourceBatchNorm2d`): the source rows see exactly
  what they see in a source-only batch;
- for evaluation, the statistics are exact moments over a whole domain, computed layer by layer in
  float64 (:func:`set_exact_statistics`), so they do not depend on the order or the batching of the
  data. A trained model carries its training source's; :func:`domain_statistics` swaps in another
  domain's (AdaBN, Li et al., 2016: the ``adabn`` method).

**Paired randomness.** Dropout masks are drawn from generators the trainer passes in (``noise``): one for
the source rows and one for the target rows, so source rows get the same masks whether or not target
rows ride along in the batch. Called without ``noise`` the network uses torch's global generator.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import nn

from didan_lite.errors import InputError

NORMS: tuple[str, ...] = ("batch", "group", "layer")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of :class:`DIDAN`."""

    conv_channels: tuple[int, ...] = (8, 16, 32, 64)
    fc_dims: tuple[int, ...] = (256, 128)
    pooled_size: tuple[int, int] = (4, 1)
    """(frequency, time) cells of the last average pooling. One time cell: the features do not depend on
    where in the window the speech lies, which differs between corpora (EmoDB cut or padded to 2 s, CASIA
    centre-cropped)."""
    dropout: float = 0.3
    norm: Literal["batch", "group", "layer"] = "batch"
    """Normalisation after each convolution (see the module docstring; the choice: docs/decisions/backbone.md)."""

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise InputError(f"norm {self.norm!r} is unknown; use one of {', '.join(NORMS)}.")


class SourceBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm whose training statistics come from the first ``n_source`` rows of the batch only.

    The source rows are normalised by :class:`torch.nn.BatchNorm2d` itself (so they are what they would be in
    a batch of source rows alone) and the remaining (target) rows with the same batch mean and variance.

    Shape: (B, C, H, W) -> (B, C, H, W).
    """

    def forward(self, x: torch.Tensor, n_source: int | None = None) -> torch.Tensor:
        if not self.training or n_source is None or n_source >= len(x):
            return super().forward(x)
        source = super().forward(x[:n_source])
        mean = x[:n_source].mean((0, 2, 3))
        var = x[:n_source].var((0, 2, 3), unbiased=False)
        scale = self.weight / (var + self.eps).sqrt()
        rest = (x[n_source:] - mean[:, None, None]) * scale[:, None, None] + self.bias[:, None, None]
        return torch.cat([source, rest])


def _normalisation(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return SourceBatchNorm2d(channels)
    return nn.GroupNorm(min(8, channels) if kind == "group" else 1, channels)


def _dropout(h: torch.Tensor, p: float, n_source: int, noise: tuple[torch.Generator, torch.Generator]) -> torch.Tensor:
    """Inverted dropout whose masks come from ``noise`` (source rows, then target rows). Shape: (B, D) -> (B, D)."""
    if p == 0:
        return h
    keep = 1.0 - p
    masks = [torch.empty(rows, h.shape[1]).bernoulli_(keep, generator=generator)
             for rows, generator in ((n_source, noise[0]), (len(h) - n_source, noise[1])) if rows > 0]
    return h * (torch.cat(masks).to(device=h.device, dtype=h.dtype) / keep)


class DIDANOutput(NamedTuple):
    """What the network returns.

    Attributes:
        scores: (B, C) regression outputs, one per emotion.
        fc_outputs: output of every fully connected layer, in order, the last
            being ``scores``: [(B, fc_dims[0]), ..., (B, fc_dims[-1]), (B, C)].
            Hidden outputs are taken after the ReLU (before dropout).
    """

    scores: torch.Tensor
    fc_outputs: list[torch.Tensor]


class DIDAN(nn.Module):
    """Convolutional regression network of DIDAN (our sizes, see the module docstring).

    Shape:
        input (B, n_bins, n_frames) -> :class:`DIDANOutput`

    Examples::

        >>> net = DIDAN(n_bins=64, n_classes=5)
        >>> out = net(torch.randn(2, 64, 200))
        >>> out.scores.shape, [f.shape[1] for f in out.fc_outputs]
        (torch.Size([2, 5]), [256, 128, 5])
    """

    def __init__(self, n_bins: int, n_classes: int, config: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        self.config = config
        blocks, in_channels = [], 1
        for channels in config.conv_channels:
            blocks += [
                nn.Conv2d(in_channels, channels, kernel_size=3, padding=1, bias=False),
                _normalisation(config.norm, channels),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            in_channels = channels
        self.conv = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(config.pooled_size), nn.Flatten())
        self.hidden = nn.ModuleList()
        width = in_channels * config.pooled_size[0] * config.pooled_size[1]
        for fc_dim in config.fc_dims:
            self.hidden.append(nn.Sequential(nn.Linear(width, fc_dim), nn.ReLU(inplace=True)))
            width = fc_dim
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(width, n_classes)

    @property
    def feature_dims(self) -> list[int]:
        """Widths of ``fc_outputs``: the hidden sizes, then the number of classes."""
        return [*self.config.fc_dims, self.output.out_features]

    def forward(self, spectrograms: torch.Tensor, *, n_source: int | None = None,
                noise: tuple[torch.Generator, torch.Generator] | None = None) -> DIDANOutput:
        """``n_source``: the batch's first rows are source rows (BatchNorm's training statistics come from them);
        ``noise``: (source, target) generators of the dropout masks (see the module docstring)."""
        h = spectrograms.unsqueeze(1)
        for module in self.conv:
            h = module(h, n_source) if isinstance(module, SourceBatchNorm2d) else module(h)
        fc_outputs = []
        for layer in self.hidden:
            h = layer(h)
            fc_outputs.append(h)
            if self.training and noise is not None:
                h = _dropout(h, self.dropout.p, len(h) if n_source is None else n_source, noise)
            else:
                h = self.dropout(h)
        scores = self.output(h)
        fc_outputs.append(scores)
        return DIDANOutput(scores, fc_outputs)


def _batch_norms(model: nn.Module) -> list[nn.BatchNorm2d]:
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


@torch.no_grad()
def set_exact_statistics(model: DIDAN, x: torch.Tensor, batch_size: int = 128) -> None:
    """Set every BatchNorm layer's statistics to the exact mean and (biased) variance of its input over ``x``.

    Layer by layer: the statistics of a layer are accumulated in float64 over the whole of ``x`` with every
    earlier layer already normalising with its own exact statistics, so the result does not depend on the
    order or the batching of ``x`` (up to float64 rounding). A model without BatchNorm is left as it is.

    Shape: x (N, n_bins, n_frames).
    """
    layers = _batch_norms(model)
    if not layers:
        return
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        for layer in layers:
            sums = torch.zeros(3, layer.num_features, dtype=torch.float64, device=device)

            def accumulate(_module, inputs, sums=sums):
                values = inputs[0].detach().to(torch.float64)
                sums[0] += values.numel() / values.shape[1]
                sums[1] += values.sum((0, 2, 3))
                sums[2] += values.pow(2).sum((0, 2, 3))

            hook = layer.register_forward_pre_hook(accumulate)
            try:
                for start in range(0, len(x), batch_size):
                    model(x[start : start + batch_size].to(device))
            finally:
                hook.remove()
            mean = sums[1] / sums[0]
            layer.running_mean.copy_(mean)
            layer.running_var.copy_((sums[2] / sums[0] - mean.pow(2)).clamp_min(0))
    finally:
        model.train(was_training)


@contextlib.contextmanager
def domain_statistics(model: DIDAN, x: torch.Tensor):
    """Inside the block, ``model`` is in evaluation mode and every BatchNorm layer normalises with the exact
    statistics of ``x`` (AdaBN).

    The model's own statistics and mode come back on leaving the block. A model without BatchNorm is left as
    it is.

    Shape: x (N, n_bins, n_frames).
    """
    layers = _batch_norms(model)
    saved = [(m.running_mean.clone(), m.running_var.clone()) for m in layers]
    was_training = model.training
    try:
        if layers:
            set_exact_statistics(model, x)
            model.eval()
        yield model
    finally:
        for m, (mean, var) in zip(layers, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
        model.train(was_training)
