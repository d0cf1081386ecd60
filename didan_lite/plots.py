"""Figures: spectrograms, UMAP of learned features, confusion matrices, curves, IDA coefficients.

Notebook: every notebook draws through these helpers.

Each helper takes ``ax=None`` (a new figure is made when it is ``None``) and
returns what it drew, so notebooks can restyle or combine panels.
:func:`set_style` sets the one style of every figure (readable fonts, PNG at
a modest dpi). Colours are fixed, from seaborn's colour-blind-safe palette:
one per method (:data:`METHOD_COLOURS`) and one per corpus
(:func:`corpus_colours`), the same in every notebook; in a corpus-coloured panel emotions are told
apart by marker shape, and every UMAP has a second, emotion-coloured panel (:func:`plot_umap_pair`).
"""

from __future__ import annotations

from typing import Sequence

import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from didan_lite.errors import InputError
from didan_lite.features import FeatureConfig

_PALETTE = sns.color_palette("colorblind", 10)
_DARK = sns.color_palette("dark", 10)
METHOD_COLOURS: dict[str, tuple[float, float, float]] = {
    "source-only": _PALETTE[7],
    "mmd": _PALETTE[1],
    "mmd-linear": _PALETTE[8],
    "ida": _PALETTE[2],
    "ida-ridge": _PALETTE[3],
    "ida-class": _PALETTE[4],
    "ida-layer": _PALETTE[5],
    "coral": _PALETTE[6],
    "dann": _PALETTE[0],
    "ida-reconstruction": _DARK[2],  # IDA's parts (notebook 4): darker shades, ida's own green among them
    "ida-spread": _DARK[4],
    "ida-oneway": _DARK[8],
    "ida-oneway-floored": _DARK[9],
}
"""One colour per alignment method (grey for the source-only baseline), in every figure."""
CORPUS_COLOURS: dict[str, tuple[float, float, float]] = {
    "source": _PALETTE[0],
    "target": _PALETTE[3],
    "emodb": _PALETTE[0],
    "casia": _PALETTE[3],
    "enterface": _PALETTE[2],
}
"""Colour of each known corpus; any other corpus takes the colour of its role ("source" or "target")."""
EMOTION_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")
_TAB10 = sns.color_palette("tab10", 10)
EMOTION_COLOURS = tuple(_TAB10[k] for k in (2, 4, 6, 8, 5, 9, 7))
"""Emotion colours of the emotion-coloured panels, none of them a corpus colour (blue, orange-red), so a reader
never takes an emotion for a corpus."""
STYLE_DPI = 100
"""Inline and saved figure resolution: sharp enough to read, small enough to commit."""
PNG_COLOURS = 256
"""Colours of an inline PNG after :func:`compact_png` (a palette image, about a third of the RGBA bytes)."""


def set_style(dpi: int = STYLE_DPI) -> None:
    """The one style of every didan-lite figure: white grid, colour-blind palette, readable fonts, PNG at ``dpi``.

    Call once in a notebook's set-up cell (after ``%matplotlib inline``);
    ``%config InlineBackend.figure_formats = ['png']`` keeps outputs PNG.
    """
    sns.set_theme(style="whitegrid", palette="colorblind", font_scale=1.0)
    _use_compact_png()
    plt.rcParams.update({
        "figure.dpi": dpi, "savefig.dpi": dpi, "font.size": 11, "axes.titlesize": 11, "axes.labelsize": 10.5,
        "xtick.labelsize": 9.5, "ytick.labelsize": 9.5, "legend.fontsize": 9, "legend.title_fontsize": 9.5,
        "figure.titlesize": 12,
    })


def compact_png(png: bytes, colours: int = PNG_COLOURS) -> bytes:
    """``png`` as a palette PNG of at most ``colours`` colours (no dithering), or unchanged when that is not smaller.

    A figure of flat colours, lines and colour maps of 256 entries loses nothing visible; its bytes shrink by
    about two thirds, which keeps an executed notebook under the 1 MB that notebooks/README.md promises while
    its figures stay at :data:`STYLE_DPI`.
    """
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        palette = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def _use_compact_png() -> None:
    """In an IPython kernel, draw inline figures as :func:`compact_png` PNGs; elsewhere do nothing."""
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:  # pragma: no cover - IPython is there wherever a notebook runs
        return
    shell = get_ipython()
    if shell is None:
        return

    def png(fig: Figure) -> bytes | None:
        data = print_figure(fig, "png", bbox_inches="tight")
        return None if data is None else compact_png(data)

    shell.display_formatter.formatters["image/png"].for_type(Figure, png)


def corpus_colours(corpus_names: Sequence[str]) -> list[tuple[float, float, float]]:
    """Colours of a (source, target) pair: a known corpus keeps its own, others take their role's.

    A pair of two unknown or two equal corpora gets the role colours, so the
    two are never drawn alike.
    """
    roles = ("source", "target")
    colours = [CORPUS_COLOURS.get(str(name).lower(), CORPUS_COLOURS[role]) for name, role in zip(corpus_names, roles)]
    return colours if len(set(colours)) == len(colours) else [CORPUS_COLOURS[role] for role in roles[: len(colours)]]


def method_colour(method: str) -> tuple[float, float, float]:
    """The fixed colour of ``method`` (grey-blue for a method not in :data:`METHOD_COLOURS`)."""
    return METHOD_COLOURS.get(method, _PALETTE[0])


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
    ax.xaxis.set_major_locator(MaxNLocator(4))  # librosa's default crowds the labels of short clips
    if y_axis == "mel":  # librosa's mel ticks run in powers of two (..., 4096, 8192): keep those within Nyquist
        nyquist = config.fmax or config.sample_rate / 2
        ticks = [t for t in (0, 500, 1000, 2000, 4000, 8000, 16000) if t <= nyquist]
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
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
    proxy_a_distance: float | None = None,
    target_uar: float | None = None,
    legend: bool = True,
):
    """Scatter a 2-D embedding: colour = corpus, marker = emotion, with the measured separability beside it.

    Args:
        points: (N, 2) coordinates, e.g. from :func:`umap_projection`.
        is_target: (N,) booleans, True for target utterances.
        labels: (N,) class indices (the target's are used for the marker only).
        proxy_a_distance: written in the panel's corner when given (0-2).
        target_uar: written in the panel's corner when given, as a fraction (0-1).
        legend: draw the two legends (corpus colours, emotion markers); for a
            grid of panels draw them once with :func:`domain_legends` instead.

    Returns:
        (fig, ax)
    """
    fig, ax = _axes(ax, (5, 4.5))
    is_target = np.asarray(is_target, dtype=bool)
    for domain, colour in enumerate(corpus_colours(corpus_names)):
        for k in range(len(class_names)):
            chosen = (is_target == bool(domain)) & (np.asarray(labels) == k)
            ax.scatter(*points[chosen].T, s=34, alpha=0.7, color=colour, marker=EMOTION_MARKERS[k % len(EMOTION_MARKERS)],
                       linewidths=0)
    ax.set(title=title, xlabel="UMAP 1", ylabel="UMAP 2", xticks=[], yticks=[])
    measured = [f"proxy A-distance {proxy_a_distance:.2f}"] if proxy_a_distance is not None else []
    measured += [f"target UAR {100 * target_uar:.1f} %"] if target_uar is not None else []
    if measured:
        ax.text(0.02, 0.98, "\n".join(measured), transform=ax.transAxes, va="top", ha="left", fontsize=9.5,
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "0.7"})
    if legend:
        domain_legends(ax, class_names, corpus_names)
    return fig, ax


def emotion_colours(n: int) -> list[tuple[float, float, float]]:
    """The colours of ``n`` emotions in an emotion-coloured figure (:data:`EMOTION_COLOURS`, repeated beyond 7)."""
    return [EMOTION_COLOURS[k % len(EMOTION_COLOURS)] for k in range(n)]


def plot_emotions_2d(
    points: np.ndarray,
    is_target: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    corpus_names: tuple[str, str] = ("source", "target"),
    *,
    ax: Axes | None = None,
    title: str = "",
    legend: bool = True,
):
    """The same 2-D embedding as :func:`plot_domains_2d`, coloured by emotion: filled = source, hollow = target.

    The second panel of every UMAP: colour carries the emotion here, so a reader sees at default size whether
    the emotions stay apart once the corpora mix. Shapes: points (N, 2); is_target, labels (N,). Returns (fig, ax).
    """
    fig, ax = _axes(ax, (5, 4.5))
    is_target, labels = np.asarray(is_target, dtype=bool), np.asarray(labels)
    for k, colour in enumerate(emotion_colours(len(class_names))):
        source, target = (labels == k) & ~is_target, (labels == k) & is_target
        ax.scatter(*points[source].T, s=30, alpha=0.75, color=colour, linewidths=0)
        ax.scatter(*points[target].T, s=30, alpha=0.75, facecolors="none", edgecolors=[colour], linewidths=1.1)
    ax.set(title=title, xlabel="UMAP 1", ylabel="UMAP 2", xticks=[], yticks=[])
    if legend:
        emotion_legend(ax, class_names, corpus_names)
    return fig, ax


def emotion_legend(target, class_names: Sequence[str], corpus_names: tuple[str, str]):
    """The legend of :func:`plot_emotions_2d` (emotion colours; filled source, hollow target), beside an Axes or
    below a Figure's panels. Returns the legend."""
    from matplotlib.lines import Line2D

    colours = emotion_colours(len(class_names))
    handles = [Line2D([], [], ls="", marker="o", ms=8, color=colour, label=name) for name, colour in zip(class_names, colours)]
    handles += [Line2D([], [], ls="", marker="o", ms=8, color="0.3", label=f"{corpus_names[0]} (filled)"),
                Line2D([], [], ls="", marker="o", ms=8, markerfacecolor="none", color="0.3", label=f"{corpus_names[1]} (hollow)")]
    if isinstance(target, Figure):
        return target.legend(handles=handles, title="emotion (colour)", loc="outside upper center", ncols=len(handles))
    return target.legend(handles=handles, title="emotion", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)


def plot_umap_pair(features_source: np.ndarray, features_target: np.ndarray, y_source: np.ndarray, y_target: np.ndarray,
                   class_names: Sequence[str], corpus_names: tuple[str, str], *, axes: Sequence[Axes], title: str = "",
                   proxy_a_distance: float | None = None, target_uar: float | None = None, seed: int = 0) -> np.ndarray:
    """One model's features in two panels: by corpus (:func:`plot_domains_2d`) and by emotion (:func:`plot_emotions_2d`).

    Shapes: features (N_s, D) and (N_t, D), labels (N_s,) and (N_t,); ``axes``: two Axes. Legends are left to
    the caller (:func:`domain_legends` and :func:`emotion_legend` on the figure). Returns the (N_s + N_t, 2) points.
    """
    points = umap_projection(np.concatenate([features_source, features_target]), seed=seed)
    is_target = np.r_[np.zeros(len(features_source), bool), np.ones(len(features_target), bool)]
    labels = np.r_[np.asarray(y_source), np.asarray(y_target)]
    plot_domains_2d(points, is_target, labels, class_names, corpus_names, ax=axes[0], title=f"{title}: by corpus",
                    legend=False, proxy_a_distance=proxy_a_distance, target_uar=target_uar)
    plot_emotions_2d(points, is_target, labels, class_names, corpus_names, ax=axes[1], title=f"{title}: by emotion",
                     legend=False)
    return points


def domain_legends(target, class_names: Sequence[str], corpus_names: tuple[str, str]):
    """Two legends for :func:`plot_domains_2d`: corpus colours and emotion markers.

    ``target`` is an Axes (legends beside it) or a Figure (legends below all panels, once for a grid).
    Returns the legend artists.
    """
    from matplotlib.lines import Line2D

    corpora = [Line2D([], [], ls="", marker="o", ms=8, color=colour, label=name)
               for name, colour in zip(corpus_names, corpus_colours(corpus_names))]
    emotions = [Line2D([], [], ls="", marker=EMOTION_MARKERS[k % len(EMOTION_MARKERS)], ms=7, color="0.25", label=name)
                for k, name in enumerate(class_names)]
    if isinstance(target, Figure):
        first = target.legend(handles=corpora, title="corpus (colour)", loc="outside lower left", ncols=len(corpora))
        second = target.legend(handles=emotions, title="emotion (marker)", loc="outside lower right", ncols=len(emotions))
        return first, second
    first = target.legend(handles=corpora, title="corpus", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    target.add_artist(first)
    second = target.legend(handles=emotions, title="emotion", loc="lower left", bbox_to_anchor=(1.01, 0.0), frameon=False)
    return first, second


def alignment_caption(method: str, before: tuple[float, float], after: tuple[float, float], margin: float = 0.1) -> str:
    """One computed sentence: did ``method`` bring the corpora together, and did the target UAR follow?

    Args:
        before, after: (proxy A-distance, target UAR as a fraction) of the source-only and the aligned model.
        margin: proxy A-distance changes smaller than this are called "about the same" (one run has no error bar).
    """
    (pad_before, uar_before), (pad_after, uar_after) = before, after
    change = pad_after - pad_before
    if change <= -margin:
        verdict = f"brought the corpora closer: proxy A-distance {pad_before:.2f} -> {pad_after:.2f}"
    elif change >= margin:
        verdict = f"did NOT bring the corpora together; they became more separable: proxy A-distance {pad_before:.2f} -> {pad_after:.2f}"
    else:
        verdict = (f"did NOT bring the corpora measurably closer: proxy A-distance {pad_before:.2f} -> {pad_after:.2f} "
                   f"(a change under {margin:g})")
    return (f"In this run, {method} {verdict}; target UAR {100 * uar_before:.1f} % -> {100 * uar_after:.1f} % "
            f"({100 * (uar_after - uar_before):+.1f} points, one seed).")


def plot_confusion(matrix: np.ndarray, class_names: Sequence[str], *, ax: Axes | None = None, title: str = ""):
    """Heat map of a row-normalised confusion matrix (rows: true emotion). Returns (fig, ax).

    Raises:
        InputError: ``matrix`` not square, or not one name per row (a mislabelled figure otherwise).
    """
    matrix = np.asarray(matrix, dtype=float)
    names = [class_names] if isinstance(class_names, str) else list(class_names)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or len(names) != matrix.shape[0]:
        raise InputError(f"plot_confusion: a matrix of shape {matrix.shape} and {len(names)} class name(s); pass a "
                         "square K x K matrix and K names, in the matrix's order.")
    fig, ax = _axes(ax, (4.2, 3.6))
    sns.heatmap(matrix, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, square=True, cbar=False,
                xticklabels=class_names, yticklabels=class_names, ax=ax)
    ax.set(title=title, xlabel="Predicted emotion", ylabel="True emotion")
    return fig, ax


def plot_training_curves(histories: dict[str, list[dict]], key: str = "target_uar_monitor", *, ax: Axes | None = None, ylabel: str = ""):
    """One line per method of a per-epoch quantity (e.g. target UAR, task loss). Returns (fig, ax).

    Raises:
        InputError: no epoch of any history holds ``key`` (the plot would be empty); the message lists the keys.
    """
    if not any(row.get(key) is not None for history in histories.values() for row in history):
        keys = sorted({k for history in histories.values() for row in history for k, v in row.items()
                       if k != "epoch" and isinstance(v, (int, float))})
        raise InputError(f"plot_training_curves: no epoch records {key!r}; pass key= one of {keys}.")
    fig, ax = _axes(ax, (5, 3.2))
    for method, history in histories.items():
        colour = method_colour(method)
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
        set_ticks(centres, [class_names[k] for k in range(len(class_names)) if np.any(labels == k)], fontsize=9)
    ax.set(title=title or "Reconstruction coefficients", xlabel="Source utterance (by emotion)", ylabel="Target utterance (by emotion)")
    fig.colorbar(image, ax=ax, label="weight")
    return fig, ax, image
