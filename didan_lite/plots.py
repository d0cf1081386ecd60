"""Figures: spectrograms, UMAP of learned features, confusion matrices, curves, IDA coefficients.

Notebook: every notebook draws through these helpers.

Each helper takes ``ax=None`` (a new figure is made when it is ``None``) and
returns what it drew, so notebooks can restyle or combine panels. Palettes
are seaborn's colour-blind-safe ones; corpora are told apart by colour and
emotions by marker shape, so the plots read in greyscale too.
"""

from __future__ import annotations

from typing import Sequence

import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from didan_lite.features import FeatureConfig

CORPUS_COLOURS = sns.color_palette("colorblind", 2)
EMOTION_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def plot_spectrogram(spec: np.ndarray, config: FeatureConfig = FeatureConfig(), *, ax: Axes | None = None, title: str = "", colorbar: bool = True):
    """Draw a (n_bins, n_frames) dB spectrogram with time in s and frequency in Hz.

    The same sample rate and hop as the feature are passed to
    ``librosa.display.specshow`` so the axes are in real units.

    Returns:
        (fig, ax, image)
    """
    fig, ax = _axes(ax, (6, 3))
    y_axis = "mel" if config.kind == "logmel" else "linear"
    image = librosa.display.specshow(
        np.asarray(spec), sr=config.sample_rate, hop_length=config.hop_length, n_fft=config.n_fft,
        x_axis="time", y_axis=y_axis, fmin=config.fmin, fmax=config.fmax or config.sample_rate / 2, ax=ax, cmap="magma",
    )
    ax.set(title=title or f"{'Log-mel' if y_axis == 'mel' else 'Log-STFT'} spectrogram", xlabel="Time (s)", ylabel="Frequency (Hz)")
    if colorbar:
        fig.colorbar(image, ax=ax, format="%+.0f dB")
    return fig, ax, image


def umap_projection(features: np.ndarray, seed: int = 0, n_neighbors: int = 15) -> np.ndarray:
    """2-D UMAP embedding of (N, D) features, seeded (so one CPU thread; reproducible). Shape: (N, 2)."""
    import umap  # imported here: numba compiles on first import, which takes seconds

    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=0.3, random_state=seed, n_jobs=1)
    return reducer.fit_transform(np.asarray(features, dtype=np.float32))


def plot_domains_2d(
    points: np.ndarray,
    is_target: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    corpus_names: tuple[str, str] = ("source", "target"),
    *,
    ax: Axes | None = None,
    title: str = "",
):
    """Scatter a 2-D embedding: colour = corpus, marker = emotion.

    Args:
        points: (N, 2) coordinates, e.g. from :func:`umap_projection`.
        is_target: (N,) booleans, True for target utterances.
        labels: (N,) class indices (the target's are used for the marker only).

    Returns:
        (fig, ax)
    """
    fig, ax = _axes(ax, (5, 4.5))
    is_target = np.asarray(is_target, dtype=bool)
    for domain, (name, colour) in enumerate(zip(corpus_names, CORPUS_COLOURS)):
        for k, emotion in enumerate(class_names):
            chosen = (is_target == bool(domain)) & (np.asarray(labels) == k)
            ax.scatter(*points[chosen].T, s=12, alpha=0.6, color=colour, marker=EMOTION_MARKERS[k % len(EMOTION_MARKERS)],
                       label=f"{name}: {emotion}", linewidths=0)
    ax.set(title=title, xlabel="UMAP 1", ylabel="UMAP 2", xticks=[], yticks=[])
    ax.legend(fontsize=6, ncols=2, markerscale=1.2, loc="best", frameon=False)
    return fig, ax


def plot_confusion(matrix: np.ndarray, class_names: Sequence[str], *, ax: Axes | None = None, title: str = ""):
    """Heat map of a row-normalised confusion matrix (rows: true emotion). Returns (fig, ax)."""
    fig, ax = _axes(ax, (4.2, 3.6))
    sns.heatmap(matrix, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, square=True, cbar=False,
                xticklabels=class_names, yticklabels=class_names, ax=ax)
    ax.set(title=title, xlabel="Predicted emotion", ylabel="True emotion")
    return fig, ax


def plot_training_curves(histories: dict[str, list[dict]], key: str = "target_uar_monitor", *, ax: Axes | None = None, ylabel: str = ""):
    """One line per method of a per-epoch quantity (e.g. target UAR, task loss). Returns (fig, ax)."""
    fig, ax = _axes(ax, (5, 3.2))
    palette = sns.color_palette("colorblind", len(histories))
    for (method, history), colour in zip(histories.items(), palette):
        rows = [row for row in history if row.get(key) is not None]
        ax.plot([row["epoch"] for row in rows], [row[key] for row in rows], label=method, color=colour, marker=".")
    ax.set(xlabel="Epoch", ylabel=ylabel or key.replace("_", " "))
    ax.legend(frameon=False)
    return fig, ax


def plot_coefficients(coefficients: np.ndarray, source_labels: np.ndarray, target_labels: np.ndarray, class_names: Sequence[str], *, ax: Axes | None = None, title: str = ""):
    """IDA's coefficient matrix W (B_t, B_s) with rows and columns sorted by emotion.

    Block structure on the diagonal means each target utterance is rebuilt
    mostly from source utterances of its own emotion. Returns (fig, ax, image).
    """
    fig, ax = _axes(ax, (5, 4))
    rows, cols = np.argsort(target_labels, kind="stable"), np.argsort(source_labels, kind="stable")
    matrix = np.asarray(coefficients)[rows][:, cols]
    limit = float(np.abs(matrix).max()) or 1.0
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto", interpolation="nearest")
    for labels, set_ticks in ((np.asarray(source_labels)[cols], ax.set_xticks), (np.asarray(target_labels)[rows], ax.set_yticks)):
        centres = [np.flatnonzero(labels == k).mean() for k in range(len(class_names)) if np.any(labels == k)]
        set_ticks(centres, [class_names[k] for k in range(len(class_names)) if np.any(labels == k)], fontsize=7)
    ax.set(title=title or "Reconstruction coefficients", xlabel="Source utterance (by emotion)", ylabel="Target utterance (by emotion)")
    fig.colorbar(image, ax=ax, label="weight")
    return fig, ax, image
