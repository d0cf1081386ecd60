"""Small pretrained full-mode models of the embedded synthetic pair: full-mode features without training.

Notebook: notebooks/04_ida.ipynb and 05_ida_vs_mmd.ipynb draw their UMAP before/after next to the student's run.

``benchmarks/make_checkpoints.py`` trains one model per method (full preset, one seed, every source speaker)
on :func:`didan_lite.synthetic.make_default_corpora` and writes, in ``reference_results/checkpoints/``:

* ``<method>.pt``: a plain dict {parameter name: float16 tensor} (``torch.save``), read with
  ``torch.load(weights_only=True)`` only, so a planted file cannot run code;
* ``<method>.json``: the sidecar, format :data:`FORMAT`: ``method``, ``weight``, ``seed``, ``n_bins``,
  ``n_frames``, ``class_names``, ``model`` (ModelConfig), ``features`` (FeatureConfig, with ``normalise_by`` and
  ``band_floor_db``; older sidecars keep those two beside it, :func:`didan_lite.config.stored_settings`),
  ``holdout_speakers``, ``layer`` (whose features), ``generator_version``, ``package_version``,
  ``shapes``, ``sha256`` (of the .pt file), ``scores`` (measured when written; target UAR is evaluation only) and
  ``provenance`` (command, commit, date, machine, mode).

:func:`plot_beside` draws their UMAPs under a student's own runs; :func:`beside_sentence` says, computed, what
changed (proxy A-distance and target UAR against source-only) and whether the student's run moved the same way.

Examples::

    model, info = load_pretrained("ida")                 # DIDAN in eval mode, its sidecar
    pair = pretrained_features(("source-only", "ida"))   # features of the embedded pair, full-mode inputs
    pair.source["ida"].shape                              # (N_source, 128)
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import torch

from didan_lite.checkpoints import load_plain
from didan_lite.errors import InputError
from didan_lite.features import FeatureConfig
from didan_lite.model import DIDAN, ModelConfig
from didan_lite.reference import read_record
from didan_lite.config import FRONT_END_MOVED, ExperimentConfig, stored_settings
from didan_lite.results import TaskData
from didan_lite.runtime import cpu_threads
from didan_lite.synthetic import EMOTIONS, GENERATOR_VERSION, make_default_corpora
from didan_lite.task import load_task
from didan_lite.training import TrainConfig, predict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CHECKPOINT_DIR = Path(__file__).parents[1] / "reference_results" / "checkpoints"
"""Where the shipped checkpoints live (package data)."""
FORMAT = 1
"""Version of the sidecar format above."""
REGENERATE = "regenerate them with `python -m benchmarks.make_checkpoints` (from the repository root) or reinstall didan-lite"
SIDECAR_KEYS = ("format", "method", "weight", "seed", "n_bins", "n_frames", "class_names", "model", "features",
                "holdout_speakers", "layer", "generator_version", "package_version", "shapes", "sha256", "provenance")


def available_pretrained(folder: str | Path | None = None) -> list[str]:
    """Methods with a checkpoint in ``folder`` (default: the shipped ones), e.g. ``["ida", "mmd", "source-only"]``."""
    return sorted(path.stem for path in Path(folder or CHECKPOINT_DIR).glob("*.json"))


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_pretrained(model: DIDAN, info: dict, folder: str | Path | None = None) -> Path:
    """Write ``<info["method"]>.pt`` (float16 tensors) and its sidecar into ``folder``; return the sidecar's path.

    ``info`` holds the sidecar's other keys; ``format``, ``generator_version``, ``package_version``,
    ``shapes`` and ``sha256`` are filled in here. Both files are written atomically.
    """
    from didan_lite import __version__
    from didan_lite.atomic import atomic_write

    folder = Path(folder or CHECKPOINT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    state = {name: value.detach().cpu().to(torch.float16).contiguous() for name, value in model.state_dict().items()}
    weights, sidecar = folder / f"{info['method']}.pt", folder / f"{info['method']}.json"
    with atomic_write(weights, "wb") as handle:
        torch.save(state, handle)
    record = {"format": FORMAT, **info, "generator_version": GENERATOR_VERSION, "package_version": __version__,
              "shapes": {name: list(value.shape) for name, value in state.items()}, "sha256": sha256_of(weights)}
    with atomic_write(sidecar, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
        handle.write("\n")
    return sidecar


def _config(cls, values: dict):
    """A frozen config dataclass from its JSON dict (lists back to tuples)."""
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _model_config(values: dict) -> ModelConfig:
    """The ModelConfig of a sidecar; older sidecars record ``input_norm`` "none" (an option since
    removed), read as today's network."""
    values = dict(values)
    if values.pop("input_norm", "none") != "none":
        raise ValueError("its input_norm was removed from the package")
    return _config(ModelConfig, values)


def read_sidecar(path: str | Path) -> dict:
    """The checked sidecar of a checkpoint (``<method>.json``).

    Raises:
        InputError: missing or unreadable, another format, lacking keys, or another generator version.
    """
    path = Path(path)
    info = stored_settings(read_record(path, FORMAT, SIDECAR_KEYS, "a pretrained sidecar", REGENERATE))
    lacking = [f"features.{k}" for k in FRONT_END_MOVED if isinstance(info["features"], dict) and k not in info["features"]]
    if lacking:
        raise InputError(f"{path}: lacks {', '.join(lacking)}; {REGENERATE}.")
    if info["generator_version"] != GENERATOR_VERSION:
        raise InputError(f"Pretrained sidecar {path} was made with synthetic generator version "
                         f"{info['generator_version']}, this package generates version {GENERATOR_VERSION}; {REGENERATE}.")
    names = info["class_names"]
    if not isinstance(names, list) or len(names) < 2 or not set(names) <= set(EMOTIONS):
        raise InputError(f"Pretrained sidecar {path} has class names {names!r}, not emotions of the synthetic pair; "
                         f"{REGENERATE}.")
    try:  # the configs the model and its inputs are rebuilt from: a damaged field is one line, not a traceback
        if not (isinstance(info["n_bins"], int) and info["n_bins"] > 0):
            raise TypeError(f"n_bins {info['n_bins']!r}")
        model = _model_config(info["model"])
        _config(FeatureConfig, info["features"])
        checkpoint_config(info)  # holdout_speakers
    except (TypeError, ValueError, AttributeError, InputError) as error:
        raise InputError(f"Pretrained sidecar {path} has a damaged model or feature setting ({error}); {REGENERATE}.") from None
    fault = _field_fault(info, len(model.fc_dims) + 1)
    if fault:
        raise InputError(f"Pretrained sidecar {path} has {fault}; {REGENERATE}.")
    return info


def _field_fault(info: dict, n_layers: int) -> str | None:
    """The first sidecar field of a wrong type or out of range (checked before any work), or ``None``.

    ``n_layers``: fully connected layers of the model (``layer`` indexes them, negative from the end).
    """
    def whole(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    weight = info["weight"]
    checks = (
        ("method", isinstance(info["method"], str) and bool(info["method"]), "a method name"),
        ("weight", weight is None or (isinstance(weight, (int, float)) and not isinstance(weight, bool)
                                      and math.isfinite(weight) and weight >= 0), "null or a number >= 0"),
        ("seed", whole(info["seed"]) and info["seed"] >= 0, "a whole number >= 0"),
        ("n_frames", whole(info["n_frames"]) and info["n_frames"] >= 8, "a whole number >= 8"),
        ("layer", whole(info["layer"]) and -n_layers <= info["layer"] < n_layers,
         f"a whole number in [{-n_layers}, {n_layers - 1}] (the model has {n_layers} fully connected layers)"),
        ("holdout_speakers", isinstance(info["holdout_speakers"], (int, float)) and not isinstance(info["holdout_speakers"], bool)
         and 0 < info["holdout_speakers"] < 1, "a fraction in (0, 1)"),
        ("sha256", isinstance(info["sha256"], str), "a hash string"),
        ("shapes", isinstance(info["shapes"], dict), "an object of layer shapes"),
    )
    for name, ok, wanted in checks:
        if not ok:
            return f"{name} {info[name]!r}, not {wanted}"
    return None


def load_pretrained(method: str, folder: str | Path | None = None) -> tuple[DIDAN, dict]:
    """The pretrained model of ``method`` (on the CPU, in eval mode, float32) and its checked sidecar.

    Raises:
        InputError: one line naming the file: no checkpoint for ``method``, a damaged or foreign file
            (``torch.load(weights_only=True)`` refuses anything but tensors), or a sidecar that does not fit it.
    """
    folder = Path(folder or CHECKPOINT_DIR)
    sidecar, weights = folder / f"{method}.json", folder / f"{method}.pt"
    if not sidecar.is_file():
        raise InputError(f"No pretrained model {sidecar}; available: {', '.join(available_pretrained(folder)) or 'none'}"
                         f" ({REGENERATE}).")
    info = read_sidecar(sidecar)
    if not weights.is_file():
        raise InputError(f"Pretrained weights {weights} are missing; {REGENERATE}.")
    if sha256_of(weights) != info["sha256"]:
        raise InputError(f"Pretrained weights {weights} do not match their sidecar's SHA-256 (damaged, truncated or "
                         f"replaced); {REGENERATE}.")
    state = load_plain(weights, f"Pretrained weights {weights} are not a plain dict of tensors", REGENERATE)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"Pretrained weights {weights} are not a plain dict of tensors; {REGENERATE}.")
    model = DIDAN(info["n_bins"], len(info["class_names"]), _model_config(info["model"]))
    expected = {name: list(value.shape) for name, value in model.state_dict().items()}
    found = {name: list(value.shape) for name, value in state.items()}
    if not (expected == found == info["shapes"]):
        raise InputError(f"Pretrained weights {weights} have shapes that do not fit the model of their sidecar "
                         f"({len(info['class_names'])} classes, {info['n_bins']} bins); {REGENERATE}.")
    model.load_state_dict({name: value.float() for name, value in state.items()})
    return model.eval(), info


def checkpoint_config(info: dict) -> ExperimentConfig:
    """The input settings a checkpoint was trained with (features, normalisation, held-out split) as a config."""
    return ExperimentConfig(features=_config(FeatureConfig, info["features"]), holdout_speakers=info["holdout_speakers"],
                            train=TrainConfig(progress=False))


@dataclass
class PretrainedFeatures:
    """Features of the embedded pair from pretrained models (inputs at the checkpoints' own settings).

    Attributes:
        task: every utterance of the pair (full mode), loaded with :func:`checkpoint_config`.
        source / target: per method, (N_source, D) and (N_target, D) features of the layer the method aligned, source in
            the order of ``task.source_all``.
        target_pred: per method, (N_target,) predicted classes (score them against ``task.target.y``: evaluation only).
        info: per method, its sidecar.
    """

    task: TaskData
    source: dict[str, np.ndarray]
    target: dict[str, np.ndarray]
    target_pred: dict[str, np.ndarray]
    info: dict[str, dict]

    def scores(self, method: str) -> tuple[float, float]:
        """(proxy A-distance, target UAR as a fraction) of ``method``: the ``before``/``after`` of
        :func:`didan_lite.plots.alignment_caption`. The UAR reads target labels: evaluation only."""
        from didan_lite.metrics import proxy_a_distance, unweighted_average_recall

        return (proxy_a_distance(self.source[method], self.target[method], seed=0),
                unweighted_average_recall(self.task.target.y.numpy(), self.target_pred[method]))


def _panel(ax, source: np.ndarray, target: np.ndarray, y_s: np.ndarray, y_t: np.ndarray, task: TaskData, title: str,
           scores: tuple[float, float]) -> None:
    from didan_lite.plots import plot_domains_2d, umap_projection

    points = umap_projection(np.concatenate([source, target]), seed=0)
    plot_domains_2d(points, np.r_[np.zeros(len(y_s), bool), np.ones(len(y_t), bool)], np.r_[y_s, y_t], task.class_names,
                    task.corpus_names, ax=ax, title=title, legend=False, proxy_a_distance=scores[0], target_uar=scores[1])


def plot_beside(pair: PretrainedFeatures, runs: dict | None = None, task: TaskData | None = None) -> "Figure":
    """UMAP panels, one column per pretrained method: the pretrained models' features (bottom row) under the
    same method's features from ``runs`` ({method: RunResult} of ``task``, e.g. a fast run; top row, left blank for
    a method not in ``runs``). Returns the figure."""
    import matplotlib.pyplot as plt

    from didan_lite.plots import domain_legends

    methods, rows = list(pair.source), 1 if runs is None else 2
    fig, axes = plt.subplots(rows, len(methods), figsize=(4.3 * len(methods), 4.4 * rows + 0.8), layout="constrained",
                             squeeze=False)
    for column, method in enumerate(methods):
        _panel(axes[-1, column], pair.source[method], pair.target[method], pair.task.source_all.y.numpy(),
               pair.task.target.y.numpy(), pair.task, f"pretrained (full mode): {method}", pair.scores(method))
        if runs is None:
            continue
        if method not in runs:
            axes[0, column].set_axis_off()
            continue
        run = runs[method]
        y_s = (task.source_all if len(run.source_features) == len(task.source_all.y) else task.source_train).y.numpy()
        _panel(axes[0, column], run.source_features, run.target_features, y_s, task.target.y.numpy(), task,
               f"your run: {method}", (run.proxy_a_distance, run.target_uar))
    domain_legends(fig, pair.task.class_names, pair.task.corpus_names)
    return fig


def pretrained_features(methods: Sequence[str] = ("source-only", "mmd", "ida"), folder: str | Path | None = None,
                        *, progress: bool = False) -> PretrainedFeatures:
    """Load each pretrained model and compute its features of the embedded synthetic pair.

    The pair is generated (or reused) by :func:`didan_lite.synthetic.make_default_corpora` and its spectrograms
    come through the feature cache, at the checkpoints' own (full-mode) settings: every utterance, normalised per
    corpus over all of them.

    Raises:
        InputError: a damaged checkpoint (:func:`load_pretrained`), checkpoints of different input settings, or a
            pair whose classes or input shape differ from the checkpoints'.
    """
    models = {method: load_pretrained(method, folder) for method in methods}
    inputs = {json.dumps([info[k] for k in ("features", "holdout_speakers")], sort_keys=True)
              for _, info in models.values()}
    if len(inputs) != 1:
        raise InputError(f"Pretrained models {', '.join(methods)} were trained on different input settings; {REGENERATE}.")
    info = next(iter(models.values()))[1]
    task = load_task(*make_default_corpora(), emotions=info["class_names"], config=checkpoint_config(info),
                     progress=progress)
    shape = list(task.target.x.shape[1:])
    if shape != [info["n_bins"], info["n_frames"]]:
        raise InputError(f"The embedded pair's input is {shape} (bins x frames), the pretrained models' "
                         f"{[info['n_bins'], info['n_frames']]}; {REGENERATE}.")
    source, target, target_pred = {}, {}, {}
    with cpu_threads(1):
        for method, (model, info) in models.items():
            source[method] = predict(model, task.source_all.x, layer=info["layer"])[1]
            target_pred[method], target[method] = predict(model, task.target.x, layer=info["layer"])
    return PretrainedFeatures(task, source, target, target_pred, {m: i for m, (_, i) in models.items()})


MARGIN = 0.1
"""Proxy A-distance changes smaller than this are "about as separable" (as :func:`didan_lite.plots.alignment_caption`)."""


def _direction(before: tuple[float, float], after: tuple[float, float]) -> str:
    change = after[0] - before[0]
    return "closer" if change <= -MARGIN else "more separable" if change >= MARGIN else "about as separable"


def beside_sentence(pair: PretrainedFeatures, method: str, yours: tuple[tuple[float, float], tuple[float, float]] | None
                    = None, baseline: str = "source-only") -> str:
    """Computed sentences: what the pretrained ``method`` did against ``baseline`` (proxy A-distance, target UAR)
    and, with ``yours`` = ((distance, UAR) of your baseline, of your ``method``), whether your run moved the same way."""
    from didan_lite.plots import alignment_caption

    info, before, after = pair.info[method], pair.scores(baseline), pair.scores(method)
    weight = "" if info["weight"] is None else f", weight {info['weight']:g}"
    text = (f"Pretrained {method} ({info['provenance']['mode']} mode, seed {info['seed']}{weight}): "
            + alignment_caption(method, before, after, MARGIN).removeprefix(f"In this run, {method} "))
    if yours is not None:
        mine, full = _direction(*yours), _direction(before, after)
        text += (f" Your run left the corpora {mine}, the full-mode model {full}: "
                 + ("the same way." if mine == full else "not the same way; one seed each at different budgets, so "
                    "neither is a verdict (the reference result is)."))
    chance = 1 / len(pair.task.class_names)
    if max(before[1], after[1]) < chance + 0.05:
        text += (f" Both full-mode models are within 5 points of chance ({100 * chance:.0f} %) on the target: whatever "
                 "the features did, the emotions did not transfer.")
    return text


def describe(info: dict) -> str:
    """One short line on what a checkpoint is and when it was trained (the machine is in its sidecar)."""
    p = info["provenance"]
    weight = "" if info["weight"] is None else f", weight {info['weight']:g}"
    return f"{info['method']}: {p['mode']} mode, seed {info['seed']}{weight} (trained {str(p['date'])[:10]}, commit {p['commit']})"


__all__ = ["CHECKPOINT_DIR", "FORMAT", "PretrainedFeatures", "available_pretrained", "checkpoint_config", "describe",
           "beside_sentence", "load_pretrained", "plot_beside", "pretrained_features", "read_sidecar", "save_pretrained"]
