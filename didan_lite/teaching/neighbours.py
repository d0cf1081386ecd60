"""Reconstruction made visible and audible: one target utterance rebuilt from the source, on learned features.

Notebook: notebooks/05_ida_vs_mmd.ipynb, section 4 ("Rebuilt from the other corpus").

IDA, as this package reads it (:mod:`didan_lite.alignment.ida`), rebuilds every target feature vector as a
weighted mean of source feature vectors, the weights a softmax over negative squared distances (``simplex``,
:func:`didan_lite.alignment.reconstruction_coefficients`). Here the same rule is applied once, after training,
to the features of a trained model (every source and target utterance at once, not a batch): for one target
utterance, which source utterances carry its reconstruction, with what weights and emotions, and how far the
reconstruction misses.

The **relative residual** of target :math:`t` is :math:`\\lVert t - \\sum_i w_i s_i \\rVert^2 / \\lVert t - \\bar s
\\rVert^2`: 0 when the source rebuilds it exactly, 1 when it does no better than the source mean :math:`\\bar s`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch

from didan_lite.alignment import reconstruction_coefficients
from didan_lite.errors import InputError

TOP = 5
"""Neighbours shown per target: enough to see whether the weight is spread or concentrated."""


@dataclass(frozen=True)
class Rebuilt:
    """One target utterance rebuilt from the source features of one model.

    Attributes:
        target_index: the target utterance (row of the target features).
        neighbours: (k,) source rows carrying the largest weights, heaviest first.
        weights: (k,) their weights (all weights of a target sum to 1).
        residual: the target's relative residual (module docstring).
        residuals: (N_t,) the relative residual of every target of this model.
        same_emotion_weight: (N_t,) the share of each target's weight on sources of its own emotion.
    """

    target_index: int
    neighbours: np.ndarray
    weights: np.ndarray
    residual: float
    residuals: np.ndarray
    same_emotion_weight: np.ndarray


def rebuild(source_features: np.ndarray, target_features: np.ndarray, source_labels: np.ndarray,
            target_labels: np.ndarray, target_index: int | None = None, top: int = TOP) -> Rebuilt:
    """Rebuild every target from the sources with simplex weights; keep the details of ``target_index``.

    Args:
        source_features, target_features: (N_s, D) and (N_t, D) features of one trained model.
        source_labels, target_labels: (N_s,) and (N_t,) class indices (the target's for reading only).
        target_index: the target to detail; ``None``: the one whose residual is the median of this model's.
        top: how many neighbours to keep.

    Raises:
        InputError: a target index outside the target features.
    """
    f_s = torch.as_tensor(np.asarray(source_features), dtype=torch.float64)
    f_t = torch.as_tensor(np.asarray(target_features), dtype=torch.float64)
    weights = reconstruction_coefficients(f_s, f_t, regulariser="simplex").numpy()  # (N_t, N_s), rows sum to 1
    s, t = f_s.numpy(), f_t.numpy()
    residuals = ((t - weights @ s) ** 2).sum(1) / np.maximum(((t - s.mean(0)) ** 2).sum(1), np.finfo(float).tiny)
    same = (np.asarray(source_labels)[None, :] == np.asarray(target_labels)[:, None])
    same_emotion_weight = (weights * same).sum(1)
    if target_index is None:
        target_index = int(np.argsort(residuals)[len(residuals) // 2])
    if not 0 <= target_index < len(t):
        raise InputError(f"target_index {target_index} is outside the {len(t)} target utterances; pick 0-{len(t) - 1}.")
    order = np.argsort(-weights[target_index])[:top]
    return Rebuilt(target_index, order, weights[target_index, order], float(residuals[target_index]), residuals,
                   same_emotion_weight)


def plot_rebuilt(rebuilt: Mapping[str, Rebuilt], source_labels: np.ndarray, target_label: int,
                 class_names: Sequence[str], *, axes=None):
    """One panel per model: the target's heaviest source neighbours as bars (height = weight, colour = emotion).

    The panel title gives the target's relative residual, the weight on its own emotion and the share of the weight
    the bars carry; the y axis is scaled to the heaviest bar (a softmax over a few hundred source utterances gives
    each neighbour a few per cent), and a dashed line marks an even weight over every source utterance, 1 / N_s, so a
    bar reads as "so many times the even weight". Returns the figure.
    """
    import matplotlib.pyplot as plt

    from didan_lite.plots import emotion_colours

    if axes is None:
        _, axes = plt.subplots(1, len(rebuilt), figsize=(3.6 * len(rebuilt), 3.5), layout="constrained", sharey=True)
    axes = np.atleast_1d(axes)
    colours = emotion_colours(len(class_names))
    even = 1 / len(source_labels)
    top = max(max(float(one.weights.max()) for one in rebuilt.values()), even)
    for ax, (method, one) in zip(axes, rebuilt.items()):
        emotions = np.asarray(source_labels)[one.neighbours]
        ax.bar(range(len(one.weights)), one.weights, color=[colours[k] for k in emotions])
        ax.axhline(even, color="0.3", ls="--", lw=1, label=f"even weight, 1/{len(source_labels)}")
        ax.set_xticks(range(len(one.weights)), [class_names[k] for k in emotions], rotation=45, ha="right")
        ax.set(title=f"{method}\nresidual {one.residual:.2f}, own emotion "
                     f"{100 * one.same_emotion_weight[one.target_index]:.0f} %\n"
                     f"the {len(one.weights)} bars: {100 * one.weights.sum():.0f} % of the weight", ylim=(0, 1.2 * top))
    axes[-1].legend(loc="upper right", frameon=False, fontsize="small")
    axes[0].set_ylabel(f"weight in the rebuilt target\n(target: {class_names[target_label]})")
    return axes[0].figure


def neighbour_clips(rebuilt: Rebuilt, source_paths: Sequence[str], target_path: str, top: int = 3,
                    sample_rate: int = 16_000) -> dict[str, np.ndarray]:
    """The target's audio, then its ``top`` heaviest source neighbours', as one row of
    :func:`didan_lite.teaching.listening.audio_table` (columns ``"target"``, ``"neighbour 1"``, ...).

    ``source_paths`` lists the audio of the source rows the features came from, in their order;
    :func:`neighbour_caption` names the neighbours' emotions and weights.
    """
    from didan_lite.features import load_audio

    clips = {"target": load_audio(target_path, sample_rate)}
    for rank, row in enumerate(rebuilt.neighbours[:top], 1):
        clips[f"neighbour {rank}"] = load_audio(source_paths[row], sample_rate)
    return clips


def neighbour_caption(rebuilt: Rebuilt, source_labels: np.ndarray, class_names: Sequence[str], top: int = 3) -> str:
    """``"anger 0.41, anger 0.22, fear 0.10"``: the emotions and weights of the ``top`` heaviest neighbours."""
    return ", ".join(f"{class_names[int(source_labels[row])]} {weight:.2f}"
                     for row, weight in zip(rebuilt.neighbours[:top], rebuilt.weights[:top]))
