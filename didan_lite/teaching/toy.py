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


def reconstructions(clouds: ToyClouds, regulariser: str = "simplex", *, rebuilt: str = "target") -> tuple[np.ndarray, np.ndarray]:
    r"""IDA's coefficients W and each point's reconstruction from the other cloud.

    ``rebuilt="target"``: W (n_t, n_s), each target rebuilt from the sources (IDA one way, ``last_coefficients``);
    ``"source"``: W (n_s, n_t), each source rebuilt from the targets (the second direction of IDA both ways). Row
    ``j`` weighs the basis points centred on the basis mean, so point ``j`` is rebuilt as
    :math:`\mu_b + \sum_i w_{ji} (b_i - \mu_b)`. Shapes: (n_rebuilt, n_basis) and (n_rebuilt, 2).
    """
    f_s, f_t = _tensors(clouds)
    basis, points = (f_s, f_t) if rebuilt == "target" else (f_t, f_s)
    loss = IDALoss(regulariser, symmetric=False, diversity=0.0)
    loss(basis, points)
    weights = loss.last_coefficients.double().numpy()
    base = basis.numpy()
    mean = base.mean(0)
    return weights, mean + weights @ (base - mean)


def toy_gradients(clouds: ToyClouds, regulariser: str = "simplex", symmetric: bool = True) -> dict[str, np.ndarray]:
    """How each loss moves the target points: minus its gradient with respect to each target point, (n_t, 2) each.

    Keys ``"MMD²"`` and ``"IDA both ways"`` (or ``"IDA one way"`` with ``symmetric=False``), the losses of
    :func:`toy_losses`. An arrow of MMD points where the kernel mean embeddings meet; one of IDA towards the
    source points that rebuild the target (and, both ways, away from leaving sources unrebuilt).
    """
    name = "IDA both ways" if symmetric else "IDA one way"
    moves = {}
    for key, loss in (("MMD²", MMDLoss()), (name, IDALoss(regulariser, symmetric=symmetric, diversity=0.0))):
        f_s, f_t = _tensors(clouds)
        f_t = f_t.clone().requires_grad_(True)
        loss(f_s, f_t).backward()
        moves[key] = -f_t.grad.numpy()
    return moves


def plot_ida_vs_mmd(clouds: ToyClouds, regulariser: str = "simplex", *, axes=None, strongest: int = 3,
                    both_ways: bool = True, arrows: bool = True, legend: bool = True):
    """Two panels on the same clouds: MMD's witness function (left), IDA's reconstructions (right).

    Args:
        clouds: from :func:`make_toy_clouds`.
        regulariser: IDA's regulariser (``"simplex"`` by default, see :func:`toy_losses`).
        axes: two matplotlib axes, or None for a new figure.
        strongest: lines drawn from each target to its sources of largest |weight|.
        both_ways: also draw each source rebuilt from the targets (grey crosses and lines): IDA both ways;
            False draws IDA one way (the target rebuilt from the source) only.
        arrows: draw, on the target points, how each loss moves them (:func:`toy_gradients`), each panel's
            arrows scaled to its own largest.
        legend: the figure legend below the panels (off for small multiples).

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
    axes[1].scatter(*rebuilt.T, marker="x", s=22, color="k", lw=1, label="target rebuilt from source", zorder=3)
    if both_ways:
        _, rebuilt_source = reconstructions(clouds, regulariser, rebuilt="source")
        for source, rebuilt_point in zip(clouds.source, rebuilt_source):
            axes[1].plot(*np.c_[source, rebuilt_point], color=source_colour, lw=1.0, alpha=0.7)
        axes[1].scatter(*rebuilt_source.T, marker="+", s=30, color="0.35", lw=1, label="source rebuilt from target", zorder=3)
    if arrows:
        moves = toy_gradients(clouds, regulariser, symmetric=both_ways)
        span = float(np.ptp(np.r_[clouds.source, clouds.target], axis=0).max())
        for ax, move in zip(axes, moves.values()):
            longest = float(np.linalg.norm(move, axis=1).max()) or 1.0
            ax.quiver(*clouds.target.T, *(move / longest * 0.12 * span).T, angles="xy", scale_units="xy", scale=1,
                      color="k", width=0.004, zorder=4, label="how the loss moves each target point")

    for ax in axes:
        for k, name in enumerate(clouds.class_names):
            marker = EMOTION_MARKERS[k]
            ax.scatter(*clouds.source[clouds.source_labels == k].T, marker=marker, s=26, color=source_colour,
                       edgecolor="white", lw=0.4, zorder=2, label=f"source: {name}")
            ax.scatter(*clouds.target[clouds.target_labels == k].T, marker=marker, s=26, facecolor="none",
                       edgecolor=target_colour, lw=1.1, zorder=2, label=f"target: {name}")
        ax.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]), aspect="equal", xticks=[], yticks=[])
    axes[0].set_title(f"MMD: kernel mean embeddings\nMMD² = {losses['MMD²']:.3f}")
    axes[1].set_title(f"IDA {'both ways' if both_ways else 'one way'} ({regulariser})\n"
                      f"IDA one way {losses['IDA one way']:.2f}, both ways {losses['IDA both ways']:.2f}")
    if legend:
        fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncols=4)
        fig.suptitle(f"Target: {clouds.description}")
    return fig, axes, losses


TOY_STATES: tuple[tuple[str, dict], ...] = (
    ("aligned", {}),
    ("shifted by 2", {"shift": 2.0}),
    ("rotated 90°", {"rotation": 90.0}),
    ("spread x2.5", {"spread": 2.5}),
    ("a class missing", {"missing_class": 1}),
)
"""The widget's informative states, drawn as small multiples by :func:`plot_toy_states`."""


def plot_toy_states(regulariser: str = "simplex", both_ways: bool = True, states=TOY_STATES):
    """Small multiples of the widget's states: one row per state (MMD left, IDA right, arrows on), for a reader
    without a kernel. Returns (fig, table): ``table`` maps each state to its :func:`toy_losses`."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(states), 2, figsize=(7.6, 3.3 * len(states)), layout="constrained")
    table = {}
    for row, (name, moves) in zip(axes, states):
        _, _, table[name] = plot_ida_vs_mmd(make_toy_clouds(**moves), regulariser, axes=row, both_ways=both_ways,
                                            legend=False)
        row[0].set_ylabel(name, fontsize=12)
    return fig, table


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

    def show(shift=2.0, rotation=0.0, spread=1.0, missing=None, direction=True):
        plot_ida_vs_mmd(make_toy_clouds(shift, rotation, spread, missing), regulariser, both_ways=direction)
        plt.show()

    return interact(
        show,
        direction=Dropdown(options=[("both ways", True), ("one way", False)], description="IDA"),
        shift=FloatSlider(value=2.0, min=0.0, max=6.0, step=0.5, description="shift"),
        rotation=FloatSlider(value=0.0, min=0.0, max=180.0, step=15.0, description="rotation (°)"),
        spread=FloatSlider(value=1.0, min=0.25, max=3.0, step=0.25, description="spread"),
        missing=Dropdown(options=[("none", None), *((name, k) for k, name in enumerate(TOY_CLASSES))], description="missing"),
    )
