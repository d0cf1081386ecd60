"""The main job: compare methods on one source -> target pair over several seeds.

Notebook: notebooks/05_ida_vs_mmd.ipynb runs it and reads its outputs.

Protocol (fixed before any result was seen):

1. Read both manifests and keep the emotions they share.
2. Spectrograms (:mod:`didan_lite.features`), normalised per corpus.
3. Hold out a fifth of the *source speakers* (fixed split, the same for every
   method and seed); their UAR is the within-corpus reference.
4. Train every method with the same backbone, data, schedule and seeds on the
   remaining labelled source and the whole unlabelled target; evaluate the
   last-epoch model on every target utterance (UAR, WAR). Target labels are
   used for evaluation only.
5. Write ``metrics.json`` (per method and seed), ``report.md`` (mean +- sd)
   and figures (UMAP before/after, confusion matrices, curves).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit

from didan_lite.alignment import ALIGNMENT_METHODS, make_alignment
from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.features import FeatureConfig, corpus_statistics, default_cache_dir, extract_corpus, stack_normalised
from didan_lite.manifest import emotion_indices, read_manifest, restrict_emotions, shared_emotions
from didan_lite.metrics import (
    confusion,
    effective_rank,
    mean_and_sd,
    proxy_a_distance,
    unweighted_average_recall,
    weighted_average_recall,
)
from didan_lite.model import ModelConfig
from didan_lite.runtime import cpu_threads
from didan_lite.training import DomainData, TrainConfig, predict, train_didan
from didan_lite.validation import (
    check_checkpoints,
    check_class_list,
    check_classes_present,
    check_run_values,
    check_writable_folder,
    claim_output_folder,
    comparison_settings,
)

DEFAULT_METHODS: tuple[str, ...] = ("source-only", "mmd", "ida")


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a comparison besides the data, methods and seeds."""

    features: FeatureConfig = FeatureConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    holdout_speakers: float = 0.2
    """Fraction of source speakers held out for the within-corpus reference."""
    method_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    """Options per method passed to :func:`didan_lite.alignment.make_alignment`, e.g. ``{"ida": {"regulariser": "simplex"}}``."""
    cache_dir: str | None = None
    strict: bool = False
    """Stop on the first unreadable audio file instead of skipping it."""


@dataclass
class TaskData:
    """Tensors of one cross-corpus task, ready for training.

    Attributes:
        class_names: the shared emotions, in canonical order (index = class).
        corpus_names: (source corpus, target corpus).
        source_train / source_test: labelled source, split by speaker.
        target: every target utterance; ``y`` is kept for evaluation only.
        skipped: unreadable files left out, as (path, reason).
        heldout_by: ``"speaker"`` (held-out source speakers) or ``"utterance"``
            (a single-speaker source: a stratified fifth of its utterances).
    """

    class_names: list[str]
    corpus_names: tuple[str, str]
    source_train: DomainData
    source_test: DomainData
    target: DomainData
    skipped: list[tuple[str, str]] = field(default_factory=list)
    heldout_by: str = "speaker"


@dataclass
class RunResult:
    """One trained model (method, seed) and what was measured on it."""

    method: str
    seed: int
    target_uar: float
    target_war: float
    source_uar: float
    proxy_a_distance: float
    feature_rank: float
    target_confusion: np.ndarray
    history: list[dict]
    source_features: np.ndarray
    target_features: np.ndarray
    seconds: float

    def summary(self) -> dict:
        """The JSON-serialisable figures of this run."""
        return {
            "method": self.method,
            "seed": self.seed,
            "target_uar": self.target_uar,
            "target_war": self.target_war,
            "source_heldout_uar": self.source_uar,
            "proxy_a_distance": self.proxy_a_distance,
            "feature_effective_rank": self.feature_rank,
            "seconds": self.seconds,
            "epochs": self.history,
        }


def load_task(
    source_manifest: str | os.PathLike | pd.DataFrame,
    target_manifest: str | os.PathLike | pd.DataFrame,
    *,
    emotions: Sequence[str] | None = None,
    config: ExperimentConfig = ExperimentConfig(),
    progress: bool = True,
) -> TaskData:
    """Read two manifests and turn them into normalised spectrogram tensors.

    Raises:
        InputError: unreadable manifests, fewer than two shared emotions,
            emotions asked for that a corpus lacks.
    """
    source, target = read_manifest(source_manifest), read_manifest(target_manifest)
    if emotions is None:
        emotions = shared_emotions(source, target)
    else:
        emotions = list(emotions)
        for frame in (source, target):
            lacking = sorted(set(emotions) - set(frame["emotion"]))
            if lacking:
                raise InputError(f"Corpus {frame['corpus'].iloc[0]!r} has no utterance of {lacking}; drop them from the emotions asked for.")
    check_class_list(emotions)
    source, target = restrict_emotions(source, emotions), restrict_emotions(target, emotions)
    tensors, skipped, names = [], [], []
    for frame in (source, target):
        extracted = extract_corpus(frame, config.features, cache_dir=config.cache_dir, strict=config.strict, progress=progress)
        stats = corpus_statistics(extracted.spectrograms)
        x = stack_normalised(extracted.spectrograms, stats, _stored_frames(config))
        y = torch.tensor(emotion_indices(extracted.manifest, emotions))
        tensors.append((x, y, extracted.manifest))
        skipped += extracted.skipped
        names.append(str(extracted.manifest["corpus"].iloc[0]))
    (x_s, y_s, frame_s), (x_t, y_t, _) = tensors
    train_index, test_index = speaker_split(frame_s, config.holdout_speakers)
    check_classes_present({f"source corpus {names[0]!r} (training speakers)": y_s[train_index].numpy(),
                           f"target corpus {names[1]!r}": y_t.numpy()}, emotions, skipped)
    heldout_by = "speaker" if frame_s["speaker"].nunique() >= 2 else "utterance"
    if heldout_by == "utterance":
        print(f"Source corpus {names[0]!r} has a single speaker: its held-out set is a stratified fifth of its "
              "utterances, not unseen speakers (the report says so).", flush=True)
    return TaskData(
        class_names=list(emotions),
        corpus_names=(names[0], names[1]),
        source_train=DomainData(x_s[train_index], y_s[train_index]),
        source_test=DomainData(x_s[test_index], y_s[test_index]),
        target=DomainData(x_t, y_t),
        skipped=skipped,
        heldout_by=heldout_by,
    )


def _stored_frames(config: ExperimentConfig) -> int:
    """Stored length: a quarter more than the crop when training takes random crops."""
    crop = config.train.n_frames
    return config.features.n_frames if crop is None else max(config.features.n_frames, crop * 5 // 4)


def speaker_split(frame: pd.DataFrame, holdout: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, held-out) with no speaker on both sides; fixed by ``seed``.

    A corpus with a single speaker falls back to a stratified utterance split.

    Raises:
        InputError: a single-speaker corpus too small for a stratified split.
    """
    indices = np.arange(len(frame))
    speakers = frame["speaker"].to_numpy()
    if len(set(speakers)) >= 2:
        splitter = GroupShuffleSplit(n_splits=1, test_size=holdout, random_state=seed)
        return next(splitter.split(indices, groups=speakers))
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=holdout, random_state=seed)
    try:
        return next(splitter.split(indices, frame["emotion"].to_numpy()))
    except ValueError as exc:  # too few utterances per emotion for both sides
        raise InputError(
            f"Corpus {frame['corpus'].iloc[0]!r} has a single speaker, so its held-out set must be drawn from its "
            f"{len(frame)} utterances, which is too few ({exc}); use a source corpus with more speakers or utterances."
        ) from exc


def run_method(
    task: TaskData,
    method: str,
    seed: int,
    config: ExperimentConfig = ExperimentConfig(),
    *,
    checkpoint: str | os.PathLike | None = None,
) -> RunResult:
    """Train one method with one seed and evaluate it on the target and the held-out source."""
    began = time.perf_counter()
    alignment = make_alignment(
        method,
        feature_dims=[*config.model.fc_dims, len(task.class_names)],
        class_names=task.class_names,
        **dict(config.method_options.get(method, {})),
    )
    result = train_didan(
        task.source_train,
        task.target,
        len(task.class_names),
        alignment=alignment,
        config=config.train,
        model_config=config.model,
        seed=seed,
        checkpoint=checkpoint,
        target_labels_for_monitoring=task.target.y,
    )
    layer = -2 if alignment is None or alignment.layer is None else alignment.layer
    with cpu_threads(config.train.cpu_threads if result.model.output.weight.device.type == "cpu" else None):
        _, source_features = predict(result.model, task.source_train.x, layer=layer)
        target_pred, target_features = predict(result.model, task.target.x, layer=layer)
        source_pred, _ = predict(result.model, task.source_test.x, layer=layer)
    y_t, y_held = task.target.y.numpy(), task.source_test.y.numpy()
    return RunResult(
        method=method,
        seed=seed,
        target_uar=unweighted_average_recall(y_t, target_pred),
        target_war=weighted_average_recall(y_t, target_pred),
        source_uar=unweighted_average_recall(y_held, source_pred),
        proxy_a_distance=proxy_a_distance(source_features, target_features, seed=seed),
        feature_rank=effective_rank(np.concatenate([source_features, target_features])),
        target_confusion=confusion(y_t, target_pred, len(task.class_names)),
        history=result.history,
        source_features=source_features,
        target_features=target_features,
        seconds=time.perf_counter() - began,
    )


@dataclass
class Comparison:
    """All runs of a comparison, and where its files were written."""

    task: TaskData
    runs: list[RunResult]
    out_dir: Path

    def table(self) -> pd.DataFrame:
        """One row per method: UAR / WAR / held-out source UAR / proxy A-distance, mean and sd over seeds (in %)."""
        rows = []
        for method in dict.fromkeys(run.method for run in self.runs):
            runs = [run for run in self.runs if run.method == method]
            row = {"method": method, "seeds": len(runs)}
            for key in ("target_uar", "target_war", "source_uar", "proxy_a_distance", "feature_rank"):
                scale = 1.0 if key in ("proxy_a_distance", "feature_rank") else 100.0
                mean, sd = mean_and_sd([getattr(run, key) * scale for run in runs])
                row[f"{key}_mean"], row[f"{key}_sd"] = mean, sd
            rows.append(row)
        return pd.DataFrame(rows)


def compare(
    source_manifest: str | os.PathLike | pd.DataFrame,
    target_manifest: str | os.PathLike | pd.DataFrame,
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    seeds: Sequence[int] = (0, 1, 2),
    out_dir: str | os.PathLike = "runs/compare",
    config: ExperimentConfig = ExperimentConfig(),
    emotions: Sequence[str] | None = None,
    figures: bool = True,
    progress: bool = True,
) -> Comparison:
    """Train every method with every seed on one task; write metrics, report and figures.

    Each run checkpoints to ``out_dir/checkpoints`` after every epoch, so an
    interrupted comparison started again with the same arguments resumes where
    it stopped and finished runs are loaded, not retrained.

    Returns:
        The :class:`Comparison`; ``out_dir`` holds ``metrics.json``,
        ``report.md`` and ``figures/*.png``.
    """
    unknown = [m for m in methods if m not in ALIGNMENT_METHODS]
    if unknown:
        raise InputError(f"Unknown method(s) {unknown}; choose among {list(ALIGNMENT_METHODS)}.")
    if not methods or not seeds:
        raise InputError("Give at least one method and one seed.")
    out_dir = Path(out_dir)
    settings = _check_before_work(source_manifest, target_manifest, out_dir, methods, seeds, config, emotions)
    task = load_task(source_manifest, target_manifest, emotions=emotions, config=config, progress=progress)
    claim_output_folder(out_dir, settings, write=True)
    runs = []
    for method in methods:
        for seed in seeds:
            if progress:
                print(f"[{method} | seed {seed}] training on {task.corpus_names[0]} -> {task.corpus_names[1]}", flush=True)
            runs.append(run_method(task, method, seed, config, checkpoint=out_dir / "checkpoints" / f"{method}-seed{seed}.pt"))
    comparison = Comparison(task, runs, out_dir)
    write_metrics(comparison, config)
    figure_paths = save_figures(comparison, seed=seeds[0]) if figures else []
    write_report(comparison, config, figure_paths)
    return comparison


def _check_before_work(source, target, out_dir: Path, methods, seeds, config: ExperimentConfig, emotions) -> dict:
    """Refuse, before anything is extracted or trained: unwritable folders, a folder holding another
    comparison, checkpoints that are not plain data, fewer than two emotions. Returns the settings to record."""
    check_run_values(seeds, config.train.alignment_weight)
    if emotions is not None:
        check_class_list(emotions)
    check_writable_folder(out_dir, "The output folder", "give another --out")
    cache = Path(config.cache_dir) if config.cache_dir is not None else default_cache_dir()
    check_writable_folder(cache, "The feature cache folder", "set DIDAN_LITE_DATA (or cache_dir) to a writable folder")
    settings = comparison_settings(source, target, emotions=emotions, methods=methods, seeds=seeds, config=config)
    claim_output_folder(out_dir, settings, write=False)
    check_checkpoints(out_dir / "checkpoints" / f"{method}-seed{seed}.pt" for method in methods for seed in seeds)
    return settings


def write_metrics(comparison: Comparison, config: ExperimentConfig) -> Path:
    """``metrics.json``: task, settings, per-method per-seed figures and the summary table."""
    task = comparison.task
    payload = {
        "source": task.corpus_names[0],
        "target": task.corpus_names[1],
        "class_names": task.class_names,
        "n_utterances": {
            "source_train": len(task.source_train.x),
            "source_heldout": len(task.source_test.x),
            "target": len(task.target.x),
        },
        "skipped_files": [path for path, _ in task.skipped],
        "heldout_source_split": task.heldout_by,
        "config": _jsonable(dataclasses.asdict(config)),
        "runs": [run.summary() for run in comparison.runs],
        "summary": comparison.table().to_dict(orient="records"),
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
    }
    path = comparison.out_dir / "metrics.json"
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1)
    return path


def _jsonable(value):
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def save_figures(comparison: Comparison, seed: int, max_points: int = 600) -> list[Path]:
    """UMAP grid (before = source-only, after = each method), confusion matrices and curves for ``seed``."""
    import matplotlib.pyplot as plt

    from didan_lite.plots import plot_confusion, plot_domains_2d, plot_training_curves, umap_projection

    task, runs = comparison.task, [run for run in comparison.runs if run.seed == seed]
    figures_dir = comparison.out_dir / "figures"
    rng = np.random.default_rng(seed)
    pick_s = rng.permutation(len(task.source_train.x))[:max_points]
    pick_t = rng.permutation(len(task.target.x))[:max_points]
    labels = np.r_[task.source_train.y.numpy()[pick_s], task.target.y.numpy()[pick_t]]
    is_target = np.r_[np.zeros(len(pick_s), bool), np.ones(len(pick_t), bool)]
    title = f"{task.corpus_names[0]} -> {task.corpus_names[1]}"

    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 4), layout="constrained", squeeze=False)
    for run, ax in zip(runs, axes[0]):
        points = umap_projection(np.r_[run.source_features[pick_s], run.target_features[pick_t]], seed=seed)
        plot_domains_2d(points, is_target, labels, task.class_names, task.corpus_names, ax=ax,
                        title=f"{run.method} (target UAR {100 * run.target_uar:.1f} %)")
    fig.suptitle(f"UMAP of learned features, {title}")
    paths = [_save(fig, figures_dir / "umap.png")]

    fig, axes = plt.subplots(1, len(runs), figsize=(3.8 * len(runs), 3.6), layout="constrained", squeeze=False)
    for run, ax in zip(runs, axes[0]):
        plot_confusion(run.target_confusion, task.class_names, ax=ax, title=f"{run.method}: target")
    paths.append(_save(fig, figures_dir / "confusion.png"))

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    histories = {run.method: run.history for run in runs}
    plot_training_curves(histories, "task_loss", ax=axes[0], ylabel="Source task loss")
    plot_training_curves(histories, "target_uar_monitor", ax=axes[1], ylabel="Target UAR (monitor only)")
    paths.append(_save(fig, figures_dir / "curves.png"))
    return paths


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)
    return path


def write_report(comparison: Comparison, config: ExperimentConfig, figure_paths: Sequence[Path] = ()) -> Path:
    """``report.md``: the results table (mean +- sd over seeds) with the within-corpus reference."""
    task, table = comparison.task, comparison.table()
    source, target = task.corpus_names
    synthetic = any(name.startswith("synth") for name in task.corpus_names)
    lines = [
        f"# Cross-corpus SER: {source} -> {target}",
        "",
        *(["> These corpora are **synthetic** (didan_lite.synthetic), generated to show the cross-corpus story without a download.", ""] if synthetic else []),
        f"Emotions ({len(task.class_names)}): {', '.join(task.class_names)}. "
        f"Utterances: {len(task.source_train.x)} source (train), {len(task.source_test.x)} source (held-out speakers), "
        f"{len(task.target.x)} target. Seeds: {sorted({run.seed for run in comparison.runs})}. "
        f"Epochs: {config.train.epochs}, alignment weight {config.train.alignment_weight} (warm-up {config.train.warmup_epochs} epochs).",
        "",
        results_markdown(table),
        "",
        "UAR = unweighted average recall (mean of per-class recalls), WAR = accuracy, on every target utterance, "
        "last-epoch model (no model selection on the target). Held-out source UAR of source-only is the within-corpus "
        "reference. Proxy A-distance: 0 = corpora indistinguishable in the learned features, 2 = separable. "
        "Feature rank: effective number of directions the aligned features use (a collapse lowers it).",
    ]
    if task.heldout_by == "utterance":
        lines += ["", f"The source corpus {source} has a single speaker: its held-out UAR is measured on a stratified "
                  "fifth of its utterances, not on unseen speakers, so it overstates within-corpus accuracy."]
    if task.skipped:
        lines += ["", f"{len(task.skipped)} unreadable file(s) were skipped: " + ", ".join(p for p, _ in task.skipped[:10])]
    for path in figure_paths:
        lines += ["", f"![{path.stem}](figures/{path.name})"]
    path = comparison.out_dir / "report.md"
    with atomic_write(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def results_markdown(table: pd.DataFrame) -> str:
    """Markdown table of :meth:`Comparison.table` (percentages with one decimal)."""
    header = (
        "| method | target UAR % | target WAR % | held-out source UAR % | proxy A-distance | feature rank | seeds |\n"
        "|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r.method} | {r.target_uar_mean:.1f} ± {r.target_uar_sd:.1f} | {r.target_war_mean:.1f} ± {r.target_war_sd:.1f} "
        f"| {r.source_uar_mean:.1f} ± {r.source_uar_sd:.1f} | {r.proxy_a_distance_mean:.2f} ± {r.proxy_a_distance_sd:.2f} "
        f"| {r.feature_rank_mean:.1f} | {r.seeds} |"
        for r in table.itertuples()
    ]
    return "\n".join([header, *rows])
