"""The DIDAN network: convolutional layers over the spectrum, then fully connected layers.

Notebook: notebooks/02_cross_corpus_problem.ipynb trains it; 04_ida.ipynb aligns it.

The abstract describes "a simple deep regression network, a set of
convolutional layers followed by fully connected layers, that regresses source
speech spectrums directly onto the emotion labels". Layer counts and sizes are
not published; ours are:

=====================  ====================================================
input                  (B, n_bins, n_frames) spectrogram normalised per
                       corpus; ``input_norm="cmvn"`` further standardises
                       each utterance per band over its own frames
conv blocks            ``conv_channels`` = (8, 16, 32, 64): each a 3x3
                       convolution, GroupNorm, ReLU and 2x2 max-pooling
pooling                ``pooled_size`` = (4, 1): adaptive average pooling
                       to 4 frequency regions x 1 (the mean over time),
                       flattened
fully connected        ``fc_dims`` = (256, 128), each Linear, ReLU, dropout
output                 Linear to C scores (regressed onto one-hot labels)
=====================  ====================================================

Per-utterance normalisation (``input_norm``): ``"cmvn"`` subtracts each
utterance's mean of every band over time and divides by its standard deviation
(cepstral mean and variance normalisation, a classic channel-robust choice: a
fixed recording channel is an additive offset per band in dB), ``"cmn"`` only
subtracts the mean, ``"none"`` keeps the corpus-normalised input.

GroupNorm rather than BatchNorm: BatchNorm's running statistics would mix
source and target batches differently for each method (an adaptation effect
of its own, AdaBN), so the methods would not differ only by their loss.
``norm="batch"`` builds the BatchNorm network that the ``adabn`` method
(:func:`domain_statistics`, Li et al., 2016) trains on the source and then
re-estimates on each domain: the cheapest adaptation there is.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import nn

from didan_lite.errors import InputError

INPUT_NORMS: tuple[str, ...] = ("none", "cmn", "cmvn")
UTTERANCE_STD_FLOOR = 1e-2
"""Floor of a band's per-utterance standard deviation (in corpus-normalised units) for ``"cmvn"``."""


def normalise_utterances(spectrograms: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-utterance, per-band normalisation over time: ``"cmn"`` (mean) or ``"cmvn"`` (mean and variance).

    Shape:
        (B, n_bins, n_frames) -> (B, n_bins, n_frames)
    """
    if kind == "none":
        return spectrograms
    centred = spectrograms - spectrograms.mean(-1, keepdim=True)
    if kind == "cmn":
        return centred
    return centred / centred.pow(2).mean(-1, keepdim=True).sqrt().clamp_min(UTTERANCE_STD_FLOOR)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of :class:`DIDAN`."""

    conv_channels: tuple[int, ...] = (8, 16, 32, 64)
    fc_dims: tuple[int, ...] = (256, 128)
    pooled_size: tuple[int, int] = (4, 1)
    """(frequency, time) cells of the last average pooling. One time cell: the features do not depend on
    where in the window the speech lies, which differs between corpora (EmoDB cut or padded to 2 s, CASIA
    centre-cropped). Chosen over (4, 4) on the synthetic pair's held-out source speakers (+8.8 UAR points,
    2 seeds) with the real held-out source speakers tied (-1.3, -1.6; benchmarks/results/*-so-r3, -so-r4)."""
    dropout: float = 0.3
    input_norm: Literal["none", "cmn", "cmvn"] = "none"
    """Per-utterance normalisation of the input spectrogram (see the module docstring)."""
    norm: Literal["group", "batch"] = "group"
    """Normalisation after each convolution: GroupNorm, or BatchNorm (the ``adabn`` method)."""

    def __post_init__(self) -> None:
        if self.input_norm not in INPUT_NORMS:
            raise InputError(f"input_norm {self.input_norm!r} is unknown; use one of {', '.join(INPUT_NORMS)}.")
        if self.norm not in ("group", "batch"):
            raise InputError(f"norm {self.norm!r} is unknown; use 'group' or 'batch'.")


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
                nn.GroupNorm(min(8, channels), channels) if config.norm == "group" else nn.BatchNorm2d(channels),
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

    def forward(self, spectrograms: torch.Tensor) -> DIDANOutput:
        h = self.conv(normalise_utterances(spectrograms, self.config.input_norm).unsqueeze(1))
        fc_outputs = []
        for layer in self.hidden:
            h = layer(h)
            fc_outputs.append(h)
            h = self.dropout(h)
        scores = self.output(h)
        fc_outputs.append(scores)
        return DIDANOutput(scores, fc_outputs)


@contextlib.contextmanager
def domain_statistics(model: DIDAN, x: torch.Tensor, batch_size: int = 64):
    """Inside the block, every BatchNorm layer of ``model`` normalises with the statistics of ``x`` (AdaBN).

    The running mean and variance are re-estimated as the plain average over ``x`` (batches of
    ``batch_size``, no gradient); the model's own statistics come back on leaving the block. A model
    without BatchNorm is left as it is.

    Shape: x (N, n_bins, n_frames).
    """
    layers = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone(), m.momentum) for m in layers]
    was_training = model.training
    try:
        if layers:
            device = next(model.parameters()).device
            for m in layers:
                m.reset_running_stats()
                m.momentum = None  # cumulative average over the batches
            model.train()
            with torch.no_grad():
                for start in range(0, len(x), batch_size):
                    model(x[start : start + batch_size].to(device))
            model.eval()
        yield model
    finally:
        for m, (mean, var, count, momentum) in zip(layers, saved):
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(count)
            m.momentum = momentum
        model.train(was_training)
