r"""IDA versus MMD on 2-D toy clouds: the two ideas drawn on the same points.

Notebook: notebooks/04_ida.ipynb (section "IDA and MMD on the same clouds")
shows the static figure and an optional slider widget on top of it.

A source cloud of a few emotion-like classes, and a target cloud made from
the same classes, then moved the way a corpus gap moves features: shifted,
rotated about the source centre, spread out or shrunk, or missing a class.
:func:`plot_ida_vs_mmd` draws, on those same points,

- **MMD** through the kernel mean embeddings: the *witness function*
  :math:`w(x) = \frac1n \sum_i k(x, s_i) - \frac1m \sum_j k(x, t_j)`, positive
  where the source has more mass, negative where the target has; MMD² is the
  squared size of that difference of mean embeddings;
- **IDA** through reconstruction: each target point, its reconstruction from
  the source points, and the strongest coefficients as lines to the sources.

The numbers and the coefficients come from the library's own losses
(:class:`MMDLoss`, :class:`IDALoss` and its ``last_coefficients``), so the
picture follows whatever reading of IDA the package implements.

Examples::

    >>> clouds = make_toy_clouds(shift=2.0)
    >>> clouds.source.shape, clouds.target.shape
    ((60, 2), (60, 2))
    >>> sorted(toy_losses(clouds))
    ['IDA both ways', 'IDA one way', 'MMD²']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from didan_lite.alignment import IDALoss, MMDLoss
from didan_lite.alignment.kernels import BANDWIDTH_MULTIPLIERS, gaussian_kernel_sum, median_heuristic, pairwise_squared_distances
from didan_lite.errors import InputError

TOY_CLASSES: tuple[str, ...] = ("anger", "neutral", "sadness")
"""Class names of the toy clouds (three emotion-like clusters)."""


@dataclass(frozen=True)
class ToyClouds:
    """A 2-D source cloud and a moved target cloud.

    Attributes:
        source, target: (n_s, 2) and (n_t, 2) points.
        source_labels, target_labels: (n_s,) and (n_t,) class indices into ``class_names``.
        class_names: name of each class.
        description: the moves applied to the target, in words.
    """

    source: np.ndarray
    target: np.ndarray
    source_labels: np.ndarray
    target_labels: np.ndarray
    class_names: tuple[str, ...]
    description: str


def make_toy_clouds(
    shift: float = 0.0,
    rotation: float = 0.0,
    spread: float = 1.0,
    missing_class: int | None = None,
    per_class: int = 20,
    seed: int = 0,
) -> ToyClouds:
    """Source and target clouds of ``len(TOY_CLASSES)`` classes around a circle of radius 3.

    Both clouds draw each class around the same centre with unit-free noise
    (standard deviation 0.6); the target is then moved.

    Args:
        shift: target moved by this much along the first axis.
        rotation: target rotated by this many degrees about the source centre.
        spread: target points scaled about their own class centres by this factor (> 0).
        missing_class: index of a class the target lacks (None: all present).
        per_class: points per class in each cloud.
        seed: random seed of both clouds.

    Raises:
        InputError: a non-positive spread or per_class, or a missing class out of range.
    """
    n_classes = len(TOY_CLASSES)
    if not spread > 0 or per_class < 2:
        raise InputError(f"Toy clouds need spread > 0 and per_class >= 2; got spread={spread}, per_class={per_class}.")
    if missing_class is not None and not 0 <= missing_class < n_classes:
        raise InputError(f"missing_class must be None or a class index 0..{n_classes - 1}; got {missing_class}.")
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes + np.pi / 2
    centres = 3.0 * np.c_[np.cos(angles), np.sin(angles)]
    labels = np.repeat(np.arange(n_classes), per_class)
    source = centres[labels] + 0.6 * rng.standard_normal((len(labels), 2))
    target = centres[labels] + spread * 0.6 * rng.standard_normal((len(labels), 2))
    kept = labels != missing_class
    target, target_labels = target[kept], labels[kept]
    theta = np.deg2rad(rotation)
    turn = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    centre = source.mean(0)
    target = (target - centre) @ turn.T + centre + [shift, 0.0]
    moves = [f"shifted by {shift:g}"] if shift else []
    moves += [f"rotated {rotation:g}°"] if rotation else []
    moves += [f"spread x{spread:g}"] if spread != 1 else []
    moves += [f"no '{TOY_CLASSES[missing_class]}' class"] if missing_class is not None else []
    return ToyClouds(source, target, labels, target_labels, TOY_CLASSES, ", ".join(moves) or "same distribution")


def _tensors(clouds: ToyClouds) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(clouds.source), torch.from_numpy(clouds.target)


def toy_losses(clouds: ToyClouds, regulariser: str = "simplex") -> dict[str, float]:
    """MMD² (:class:`MMDLoss`), IDA one way (target rebuilt from source) and IDA both ways (:class:`IDALoss`).

    Method ``ida`` is IDA both ways minus its spread term (notebook 4's glossary).

    Both IDA numbers are the default reading's reconstruction log-ratio, one way
    (``symmetric=False``) and both ways, without its spread term
    (``diversity=0``: moving a cloud does not change its spread, so the term
    would only add a constant here). ``regulariser`` defaults to
    ``"simplex"``: in 2-D the sources span the whole plane, so ridge rebuilds
    any target (the span caveat of notebook 4).
    """
    f_s, f_t = _tensors(clouds)
    return {
        "MMD²": float(MMDLoss()(f_s, f_t)),
        "IDA one way": float(IDALoss(regulariser, symmetric=False, diversity=0.0)(f_s, f_t)),
        "IDA both ways": float(IDALoss(regulariser, symmetric=True, diversity=0.0)(f_s, f_t)),
    }


def witness_function(clouds: ToyClouds, points: np.ndarray) -> np.ndarray:
    r"""MMD's witness :math:`\frac1n \sum_i k(x, s_i) - \frac1m \sum_j k(x, t_j)` at ``points``, shape (P,).

    The kernel is :class:`MMDLoss`'s: Gaussians at ``BANDWIDTH_MULTIPLIERS``
    times the median squared distance of the pooled clouds, summed.

    Shape:
        - points: (P, 2)
        - Output: (P,)
    """
    f_s, f_t = _tensors(clouds)
    pooled = torch.cat([f_s, f_t])
    bandwidths = median_heuristic(pairwise_squared_distances(pooled, pooled)) * torch.tensor(BANDWIDTH_MULTIPLIERS, dtype=pooled.dtype)
    grid = torch.from_numpy(np.asarray(points, dtype=np.float64))
    source_mean = gaussian_kernel_sum(pairwise_squared_distances(grid, f_s), bandwidths).mean(1)
    target_mean = gaussian_kernel_sum(pairwise_squared_distances(grid, f_t), bandwidths).mean(1)
    return (source_mean - target_mean).numpy()


def reconstructions(clouds: ToyClouds, regulariser: str = "simplex") -> tuple[np.ndarray, np.ndarray]:
    """IDA's coefficients W (n_t, n_s) and each target's reconstruction (n_t, 2).

    ``W`` is the one :class:`IDALoss` used (``last_coefficients``, target rebuilt
    from source); row ``j`` weighs the source-mean-centred sources, so target
    ``j`` is rebuilt as :math:`\\mu_s + \\sum_i w_{ji} (s_i - \\mu_s)`.
    """
    f_s, f_t = _tensors(clouds)
    loss = IDALoss(regulariser, symmetric=False, diversity=0.0)
    loss(f_s, f_t)
    weights = loss.last_coefficients.double().numpy()
    mean = clouds.source.mean(0)
    return weights, mean + weights @ (clouds.source - mean)


def plot_ida_vs_mmd(clouds: ToyClouds, regulariser: str = "simplex", *, axes=None, strongest: int = 3):
    """Two panels on the same clouds: MMD's witness function (left), IDA's reconstructions (right).

    Args:
        clouds: from :func:`make_toy_clouds`.
        regulariser: IDA's regulariser (``"simplex"`` by default, see :func:`toy_losses`).
        axes: two matplotlib axes, or None for a new figure.
        strongest: lines drawn from each target to its sources of largest |weight|.

    Returns:
        (fig, axes, losses): ``losses`` as :func:`toy_losses`.
    """
    import matplotlib.pyplot as plt

    from didan_lite.plots import EMOTION_MARKERS, corpus_colours

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 5.2), layout="constrained")
    fig = axes[0].figure
    losses = toy_losses(clouds, regulariser)
    source_colour, target_colour = corpus_colours(("source", "target"))
    everything = np.r_[clouds.source, clouds.target]
    low, high = everything.min(0) - 1.5, everything.max(0) + 1.5
    xs, ys = np.meshgrid(np.linspace(low[0], high[0], 90), np.linspace(low[1], high[1], 90))
    witness = witness_function(clouds, np.c_[xs.ravel(), ys.ravel()]).reshape(xs.shape)
    limit = float(np.abs(witness).max()) or 1.0
    contours = axes[0].contourf(xs, ys, witness, levels=np.linspace(-limit, limit, 15), cmap="RdBu", alpha=0.55)
    fig.colorbar(contours, ax=axes[0], shrink=0.8, format="%.1f", label="witness (source − target)")

    weights, rebuilt = reconstructions(clouds, regulariser)
    for target, rebuilt_point, row in zip(clouds.target, rebuilt, weights):
        for i in np.argsort(-np.abs(row))[:strongest]:
            axes[1].plot(*np.c_[target, clouds.source[i]], color="0.4", lw=2.5 * abs(row[i]) / np.abs(row).max(), alpha=0.5)
        axes[1].plot(*np.c_[target, rebuilt_point], color=target_colour, lw=1.2)
    axes[1].scatter(*rebuilt.T, marker="x", s=22, color="k", lw=1, label="reconstruction", zorder=3)

    for ax in axes:
        for k, name in enumerate(clouds.class_names):
            marker = EMOTION_MARKERS[k]
            ax.scatter(*clouds.source[clouds.source_labels == k].T, marker=marker, s=26, color=source_colour,
                       edgecolor="white", lw=0.4, zorder=2, label=f"source: {name}")
            ax.scatter(*clouds.target[clouds.target_labels == k].T, marker=marker, s=26, facecolor="none",
                       edgecolor=target_colour, lw=1.1, zorder=2, label=f"target: {name}")
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), aspect="equal", xticks=[], yticks=[])
    axes[0].set_title(f"MMD: kernel mean embeddings\nMMD² = {losses['MMD²']:.3f}")
    axes[1].set_title(f"IDA ({regulariser}): rebuild each target from sources\n"
                      f"IDA one way {losses['IDA one way']:.2f}, both ways {losses['IDA both ways']:.2f}")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles[1:] + handles[:1], labels[1:] + labels[:1], loc="outside lower center", ncols=4)
    fig.suptitle(f"Target: {clouds.description}")
    return fig, axes, losses


def toy_widget(regulariser: str = "simplex"):
    """Sliders for shift, rotation, spread and a missing class that redraw :func:`plot_ida_vs_mmd`.

    Core ``ipywidgets`` only (``interact``), so it works in Jupyter and on Colab.

    Returns:
        the ``interact`` widget, or None (with a printed note) when ipywidgets is not installed.
    """
    try:
        from ipywidgets import Dropdown, FloatSlider, interact
    except ImportError:
        print("ipywidgets is not installed: the static figure above shows the same thing (pip install ipywidgets).")
        return None
    import matplotlib.pyplot as plt

    def show(shift=0.0, rotation=0.0, spread=1.0, missing=None):
        plot_ida_vs_mmd(make_toy_clouds(shift, rotation, spread, missing), regulariser)
        plt.show()

    return interact(
        show,
        shift=FloatSlider(value=0.0, min=0.0, max=6.0, step=0.5, description="shift"),
        rotation=FloatSlider(value=0.0, min=0.0, max=180.0, step=15.0, description="rotation (°)"),
        spread=FloatSlider(value=1.0, min=0.25, max=3.0, step=0.25, description="spread"),
        missing=Dropdown(options=[("none", None), *((name, k) for k, name in enumerate(TOY_CLASSES))], description="missing"),
    )
