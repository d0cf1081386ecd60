"""The main job: compare methods on one source -> target pair over several seeds.

Notebook: notebooks/05_ida_vs_mmd.ipynb runs it and reads its outputs.

Protocol (fixed before any result was seen):

1. Read both manifests and keep the emotions they share (:mod:`didan_lite.task`).
2. Spectrograms through the a-priori front end (:mod:`didan_lite.features`: silence trimmed, level removed,
   short utterances tiled), normalised per corpus (or per speaker: ``FeatureConfig.normalise_by``).
3. Hold out a fifth of the *source speakers* (fixed split); their UAR is the within-corpus reference of a
   single run (``run_method``'s default).
4. Every method shares the backbone, data, step budget and seeds, and for one seed the same initial weights
   and batch order (:mod:`didan_lite.training`); it trains on labelled source and the whole unlabelled target.
   Target labels are used for evaluation only.
5. The alignment weight of each aligning method is chosen without target labels (``weight="auto"``,
   :mod:`didan_lite.model_selection`) on speaker folds of the source (``selection_folds``: every source
   utterance predicted once by a model that never saw its speaker, errors pooled; one selection seed), or
   fixed by the caller.
6. ``refit`` (default): each seed's final model is then trained on *all* source speakers, as the literature
   and the classical row do; its held-out source UAR is the selection's (``RunResult.heldout_from``).
7. ``opensmile-svm`` (:mod:`didan_lite.classical`) is the classical reference row, its classifier fixed a
   priori: held-out source UAR from a fit on the training speakers, target from a fit on all of them.
8. Write ``metrics.json`` (per method and seed), ``report.md`` (mean +- sd, guarded verdicts) and figures
   (:mod:`didan_lite.report`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from didan_lite.alignment import ALIGNMENT_METHODS, make_alignment
from didan_lite.classical import CLASSICAL_METHODS, fit_reference, opensmile_functionals
from didan_lite.errors import InputError
from didan_lite.features import default_cache_dir
from didan_lite.folders import hold_folder
from didan_lite.metrics import (
    class_alignment,
    confusion,
    effective_rank,
    proxy_a_distance,
    unweighted_average_recall,
    weighted_average_recall,
)
from didan_lite.model import domain_statistics
from didan_lite.model_selection import WeightChoice, dev_risk, select_weight
from didan_lite.overlap import OVERLAP_KEY, check_overlap, record_overlap
from didan_lite.report import results_markdown, save_figures, write_metrics, write_report
from didan_lite.config import ExperimentConfig
from didan_lite.results import Comparison, RunResult, TaskData
from didan_lite.runtime import cpu_threads
from didan_lite.task import Split, load_task, source_folds, speaker_split
from didan_lite.training import DomainData, TrainConfig, predict, train_didan
from didan_lite.validation import (
    check_checkpoints,
    check_class_list,
    check_device,
    check_name_lists,
    check_run_values,
    check_writable_folder,
    claim_output_folder,
    comparison_settings,
    unaligned_label,
    warn_unaligned,
    write_skipped,
)

DEFAULT_METHODS: tuple[str, ...] = ("source-only", "mmd", "ida")
METHODS: tuple[str, ...] = (*CLASSICAL_METHODS, *ALIGNMENT_METHODS)
"""Every method ``compare`` runs: the classical reference row and the deep methods."""
__all__ = ["Comparison", "ExperimentConfig", "RunResult", "TaskData", "compare", "load_task", "results_markdown",
           "add_method", "choose_weight", "run_classical", "run_method", "speaker_split"]


def run_method(
    task: TaskData,
    method: str,
    seed: int,
    config: ExperimentConfig = ExperimentConfig(),
    *,
    checkpoint: str | os.PathLike | None = None,
    split: Split = "heldout",
) -> RunResult:
    """Train one method with one seed and evaluate it on the target and the held-out source (see :data:`Split`).

    A BatchNorm network (``config.model.norm == "batch"``, the default, and always for ``adabn``) is evaluated
    with the exact statistics of its training source, and keeps both target figures in ``extra``:
    ``target_uar_source_statistics`` (the network itself) and ``target_uar_target_statistics`` (the same
    model with the target's own statistics, :func:`didan_lite.model.domain_statistics`, AdaBN, Li et al.,
    2016). ``adabn`` reports the second, so on the default backbone ``adabn`` against source-only differs by
    the adaptation step alone (on a GroupNorm or LayerNorm backbone, by the network change as well).
    ``seconds`` of the result is the sum of the epochs' training times (also for a run loaded from its
    checkpoint) plus this evaluation.
    """
    alignment = make_alignment(
        method,
        feature_dims=[*config.model.fc_dims, len(task.class_names)],
        class_names=task.class_names,
        **dict(config.method_options.get(method, {})),
    )
    source, heldout, trained_on = _split_data(task, split, config)
    model_config = dataclasses.replace(config.model, norm="batch") if method in BATCH_NORM_METHODS else config.model
    result = train_didan(
        source,
        task.target,
        len(task.class_names),
        alignment=alignment,
        config=config.train,
        model_config=model_config,
        seed=seed,
        checkpoint=checkpoint,
        target_labels_for_monitoring=task.target.y,
    )
    layer = -2 if alignment is None or alignment.layer is None else alignment.layer
    began = time.perf_counter() - sum(epoch["seconds"] for epoch in result.history)
    model, extra = result.model, {}
    y_t = task.target.y.numpy()
    with cpu_threads(config.train.cpu_threads if model.output.weight.device.type == "cpu" else None):
        # train_didan returns the model with its training source's exact BatchNorm statistics
        source_pred, source_features = predict(model, source.x, layer=layer)
        extra["source_fit_uar"] = unweighted_average_recall(source.y.numpy(), source_pred)  # does it fit?
        heldout_pred, heldout_features = (None, None) if heldout is None else predict(model, heldout.x, layer=layer)
        target_pred, target_features = predict(model, task.target.x, layer=layer)
        if model_config.norm == "batch":
            extra["target_uar_source_statistics"] = unweighted_average_recall(y_t, target_pred)
            with domain_statistics(model, task.target.x):
                adapted_pred, adapted_features = predict(model, task.target.x, layer=layer)
            extra["target_uar_target_statistics"] = unweighted_average_recall(y_t, adapted_pred)
            if method in BATCH_NORM_METHODS:
                target_pred, target_features = adapted_pred, adapted_features
    risk = None if heldout is None else dev_risk(source_features, heldout_features, heldout.y.numpy(), heldout_pred,
                                                 target_features, seed=seed)
    return _scored_run(task, method, seed, target_pred, heldout_pred, heldout, source_features, source.y.numpy(),
                       target_features, began,
                       history=result.history, dev_risk=risk, trained_on=trained_on, extra=extra,
                       precision=result.precision, alignment_weight=None if alignment is None else config.train.alignment_weight)


BATCH_NORM_METHODS: tuple[str, ...] = ("adabn",)
"""Methods trained with BatchNorm whose statistics are re-estimated per domain (AdaBN, Li et al., 2016)."""


def _split_data(task: TaskData, split: Split, config: ExperimentConfig) -> tuple[DomainData, DomainData | None, str]:
    """(training source, held-out source or None, description) of a :data:`Split`."""
    if split == "heldout":
        return task.source_train, task.source_test, "training speakers"
    everything = task.source_all
    if split == "all":
        return everything, None, "all source speakers"
    folds = source_folds(task, config.selection_folds)
    test = folds[split]
    train = np.setdiff1d(np.arange(len(everything.y)), test)
    return (DomainData(everything.x[train], everything.y[train]), DomainData(everything.x[test], everything.y[test]),
            f"selection fold {split + 1} of {len(folds)}")


def run_classical(task: TaskData, seed: int, config: ExperimentConfig = ExperimentConfig()) -> RunResult:
    """The ``opensmile-svm`` reference row (``seed`` only seeds the proxy A-distance).

    Its held-out source UAR comes from a fit on the training speakers; with ``config.refit`` the target is
    predicted by a second fit on all source speakers (the classifier is fixed a priori, nothing is chosen).

    Raises:
        InputError: a task built without audio paths (``load_task`` records them).
    """
    if task.source_paths is None or task.target_paths is None:
        raise InputError("opensmile-svm needs the audio paths of the task; build it with load_task.")
    began = time.perf_counter()
    train_paths, heldout_paths = task.source_paths
    features = [opensmile_functionals(p, config.classical, cache_dir=config.cache_dir)
                for p in (train_paths, heldout_paths, task.target_paths)]
    fit = fit_reference(features[0], task.source_train.y.numpy(), features[1], features[2], config.classical)
    trained_on = "training speakers"
    if config.refit:
        everything = np.concatenate(features[:2])
        refit = fit_reference(everything, task.source_all.y.numpy(), None, features[2], config.classical)
        fit = dataclasses.replace(refit, heldout_pred=fit.heldout_pred)
        trained_on = "all source speakers"
    labels = task.source_all.y.numpy() if config.refit else task.source_train.y.numpy()
    return _scored_run(task, "opensmile-svm", seed, fit.target_pred, fit.heldout_pred, task.source_test,
                       fit.source_features, labels, fit.target_features, began, history=[], trained_on=trained_on,
                       heldout_from="a fit on the training speakers" if config.refit else "this run")


def _scored_run(task: TaskData, method: str, seed: int, target_pred: np.ndarray, heldout_pred: np.ndarray | None,
                heldout: DomainData | None, source_features: np.ndarray, source_labels: np.ndarray,
                target_features: np.ndarray, began: float, **extra) -> RunResult:
    """Every figure of one run from its predictions and features (target labels used here only, to score).

    Without held-out predictions (a refit) ``source_uar`` is NaN until the caller fills in the selection's.
    """
    y_t = task.target.y.numpy()
    source_uar = float("nan") if heldout_pred is None else unweighted_average_recall(heldout.y.numpy(), heldout_pred)
    return RunResult(
        method=method,
        seed=seed,
        target_uar=unweighted_average_recall(y_t, target_pred),
        target_war=weighted_average_recall(y_t, target_pred),
        source_uar=source_uar,
        heldout_pred=heldout_pred,
        proxy_a_distance=proxy_a_distance(source_features, target_features, seed=seed),
        feature_rank=effective_rank(np.concatenate([source_features, target_features])),
        target_confusion=confusion(y_t, target_pred, len(task.class_names)),
        class_alignment=_class_alignment(source_features, source_labels, target_features, y_t),
        source_features=source_features,
        target_features=target_features,
        seconds=time.perf_counter() - began,
        **extra,
    )


def _class_alignment(source_features: np.ndarray, source_labels: np.ndarray, target_features: np.ndarray,
                     target_labels: np.ndarray) -> float:
    """ORACLE, evaluation only (reads target labels): how well the classes line up across the corpora
    (:func:`didan_lite.metrics.class_alignment`)."""
    k = min(5, len(source_features))  # a tiny source (a test task) votes with every sample it has
    return float(class_alignment(source_features, source_labels, target_features, target_labels, k=k))


def compare(
    source_manifest: str | os.PathLike | pd.DataFrame,
    target_manifest: str | os.PathLike | pd.DataFrame,
    *,
    methods: Sequence[str] = DEFAULT_METHODS,
    seeds: Sequence[int] = (0, 1, 2),
    out_dir: str | os.PathLike = "runs/compare",
    config: ExperimentConfig = ExperimentConfig(),
    emotions: Sequence[str] | None = None,
    weight: float | Literal["auto"] = "auto",
    figures: bool = True,
    progress: bool = True,
    allow_overlap: bool = False,
) -> Comparison:
    """Train every method with every seed on one task; write metrics, report and figures.

    With ``weight="auto"`` (the default) each aligning method's trade-off
    weight is chosen among ``config.weight_candidates`` on the first seed by
    ``config.weight_criterion`` (:mod:`didan_lite.model_selection`; no target label is read), then
    every seed trains with it; the chosen candidate's run is that seed's
    result. A number fixes the weight of every method instead.

    Each run checkpoints to ``out_dir/checkpoints`` after every epoch, so an
    interrupted comparison started again with the same arguments resumes where
    it stopped and finished runs are loaded, not retrained.

    One comparison writes ``out_dir`` at a time (a lock file holds its process id); the methods and seeds
    already recorded there are kept, so the report covers every run of the folder. A target sharing audio
    with the source is refused (a partial overlap is run with ``allow_overlap`` and reported).

    Returns:
        The :class:`Comparison`; ``out_dir`` holds ``metrics.json``,
        ``report.md``, ``figures/*.png`` and, when files were skipped, ``skipped_files.tsv``.
    """
    check_name_lists(methods=methods, emotions=emotions)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"Unknown method(s) {unknown}; choose among {list(METHODS)}.")
    if not methods or not seeds:
        raise InputError("Give at least one method and one seed.")
    out_dir = Path(out_dir)
    settings = _check_before_work(source_manifest, target_manifest, out_dir, methods, seeds, config, emotions, weight)
    shared = check_overlap(source_manifest, target_manifest, emotions=emotions, allow=allow_overlap)
    with hold_folder(out_dir):
        task = load_task(source_manifest, target_manifest, emotions=emotions, config=config, progress=progress)
        settings = claim_output_folder(out_dir, {**settings, OVERLAP_KEY: shared}, write=True)
        methods, seeds = settings["methods"], settings["seeds"]
        write_skipped(out_dir, task.skipped)
        warn_unaligned(methods, config.train)  # every input check passed: said once, before any training
        comparison = Comparison(task, [], out_dir, weight=weight)
        for method in methods:
            add_method(comparison, method, seeds, config, progress=progress)
        write_metrics(comparison, config)
        figure_paths = save_figures(comparison, seed=seeds[0]) if figures else []
        write_report(comparison, config, figure_paths)
        record_overlap(out_dir, shared)
    return comparison


def _check_before_work(source, target, out_dir: Path, methods, seeds, config: ExperimentConfig, emotions, weight) -> dict:
    """Refuse, before anything is extracted or trained: unwritable folders, a folder holding another
    comparison, checkpoints that are not plain data, fewer than two emotions. Returns the settings to record."""
    check_run_values(seeds, weight)
    _check_weight_setting(config, weight)
    check_device(config.train.device)
    if emotions is not None:
        check_class_list(emotions)
    check_writable_folder(out_dir, "The output folder", "give another --out")
    cache = Path(config.cache_dir) if config.cache_dir is not None else default_cache_dir()
    check_writable_folder(cache, "The feature cache folder", "set DIDAN_LITE_DATA (or cache_dir) to a writable folder")
    settings = comparison_settings(source, target, emotions=emotions, methods=methods, seeds=seeds, config=config,
                                   weight=weight)
    claim_output_folder(out_dir, settings, write=False)
    check_checkpoints(sorted((out_dir / "checkpoints").glob("*.pt")))
    return settings


def _check_weight_setting(config: ExperimentConfig, weight: float | str) -> None:
    """Refuse a ``config.train.alignment_weight`` set away from its default that ``weight`` would replace unseen.

    Raises:
        InputError: naming both values and the argument to use instead.
    """
    configured, default = config.train.alignment_weight, TrainConfig.alignment_weight
    if configured != default and configured != weight:
        raise InputError(f"config.train.alignment_weight={configured:g} is not read by compare(): its weight argument "
                         f"(here {weight!r}) sets the weight of every aligned run. Pass weight={configured:g} instead, "
                         f"or leave train.alignment_weight at its default {default:g}.")


def add_method(comparison: Comparison, method: str, seeds: Sequence[int], config: ExperimentConfig = ExperimentConfig(),
               *, progress: bool = True) -> list[RunResult]:
    """Run every seed of one method and append the runs to ``comparison`` (checkpoints in its ``out_dir``).

    For an aligning method with ``comparison.weight == "auto"``, the weight is chosen first
    (:func:`choose_weight` on ``seeds[0]``). With ``config.refit`` each seed's model is then trained on all
    source speakers, and its held-out source UAR is the one the selection runs measured (speaker folds,
    :func:`cross_validate`). Returns the new runs.
    """
    task, checkpoints, seeds = comparison.task, comparison.out_dir / "checkpoints", list(seeds)
    if method in CLASSICAL_METHODS:
        runs = [run_classical(task, seed, config) for seed in seeds]
        comparison.runs += runs
        return runs
    aligning = make_alignment(method, feature_dims=[*config.model.fc_dims, len(task.class_names)],
                              class_names=task.class_names, **dict(config.method_options.get(method, {}))) is not None
    reason, weight, selected = "", None, None  # no trade-off weight: source-only, adabn
    if aligning and comparison.weight == "auto":
        choice, candidates = choose_weight(task, method, seeds[0], config, checkpoint_dir=checkpoints, progress=progress)
        comparison.choices.append(choice)
        comparison.candidate_runs[method] = candidates
        weight, reason, selected = choice.chosen, choice.reason, candidates[choice.chosen]
    elif aligning:
        weight, reason = float(comparison.weight), "fixed by the caller"
    reason += unaligned_label(config.train) if aligning else ""
    if aligning and weight == 0:  # no alignment: the model is source-only's (the rule's weight-0 anchor), not retrained
        runs = [dataclasses.replace(run, method=method, alignment_weight=0.0, weight_reason=reason)
                for run in _source_only_runs(comparison, seeds, config, progress)]
        comparison.runs += runs
        return runs
    if not config.refit and selected is not None:
        runs = [selected] + [_train(task, method, s, config, weight, checkpoints, progress) for s in seeds[1:]]
    elif not config.refit:
        runs = [_train(task, method, s, config, weight, checkpoints, progress) for s in seeds]
    else:
        if selected is None:
            selected = cross_validate(task, method, seeds[0], config, weight, checkpoints, progress)
        runs = [_train(task, method, s, config, weight, checkpoints, progress, split="all") for s in seeds]
        for run in runs:
            run.source_uar = selected.source_uar
            run.heldout_from = selected.heldout_from
    for run in runs:
        run.weight_reason = reason
    comparison.runs += runs
    return runs


def _source_only_runs(comparison: Comparison, seeds: list[int], config: ExperimentConfig,
                      progress: bool) -> list[RunResult]:
    """Source-only's run of each seed as this comparison's protocol trains it: taken from the comparison when
    there, else trained (or loaded from its checkpoints) by :func:`add_method` with its held-out figure."""
    done = {run.seed: run for run in comparison.runs if run.method == "source-only"}
    missing = [seed for seed in seeds if seed not in done]
    if missing:
        scratch = Comparison(comparison.task, [], comparison.out_dir, weight=comparison.weight)
        done |= {run.seed: run for run in add_method(scratch, "source-only", missing, config, progress=progress)}
    return [done[seed] for seed in seeds]


def cross_validate(task: TaskData, method: str, seed: int, config: ExperimentConfig = ExperimentConfig(),
                   weight: float | None = None, checkpoint_dir: str | os.PathLike | None = None,
                   progress: bool = False) -> RunResult:
    """Held-out source UAR of ``method`` over the selection folds (:func:`source_folds`), pooled.

    One run per fold, each trained without that fold's speakers; every source utterance is predicted once by a
    model that never saw its speaker, and the UAR of those pooled predictions is the estimate (its standard
    error counts every source utterance). Returns the first fold's run with ``source_uar`` replaced by the
    pooled figure (its target figures are that fold model's: an ORACLE view only).
    """
    folds = source_folds(task, config.selection_folds)
    if len(folds) == 1:
        run = _train(task, method, seed, config, weight, checkpoint_dir, progress)
        run.heldout_from = "the selection run (fixed held-out speakers)"
        return run
    runs = [_train(task, method, seed, config, weight, checkpoint_dir, progress, split=k) for k in range(len(folds))]
    labels = task.source_all.y.numpy()
    pooled = np.empty(len(labels), dtype=np.int64)
    for fold, run in zip(folds, runs):
        pooled[fold] = run.heldout_pred
    first = dataclasses.replace(runs[0], source_uar=unweighted_average_recall(labels, pooled), heldout_pred=pooled,
                                heldout_from=f"the selection runs ({len(folds)} speaker folds, seed {seed}, pooled)")
    return first


def choose_weight(
    task: TaskData,
    method: str,
    seed: int,
    config: ExperimentConfig = ExperimentConfig(),
    *,
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = False,
) -> tuple[WeightChoice, dict[float, RunResult]]:
    """Score ``method`` with every weight of ``config.weight_candidates`` on ``seed``; choose by ``config.weight_criterion``.

    Each candidate is scored over the selection folds (:func:`cross_validate`): the held-out source error
    pools every source utterance, so the one-standard-error rule's standard error is that of all of them.
    No target label is read: the held-out source error comes from source labels, the DEV risk from
    held-out source labels and unlabelled target features (:func:`didan_lite.model_selection.dev_risk`).

    With the one-standard-error rule, weight 0 (source-only on the same folds and seed, the same runs
    ``source-only`` itself trains) anchors the lowest error: when every candidate costs the source task more
    than one standard error, the choice is 0, no alignment.

    Returns:
        The choice and the (pooled) selection run of every candidate weight (and of 0 when it is chosen).
    """
    def scored(weight: float) -> tuple[float, RunResult]:
        run = cross_validate(task, method, seed, config, weight, checkpoint_dir, progress)
        return (run.dev_risk if config.weight_criterion == "dev" else 1.0 - run.source_uar), run

    n_heldout = len(task.source_test.y) if config.selection_folds == 1 else len(task.source_all.y)
    baseline = None
    if config.weight_criterion == "source-1se":  # weight 0 on the same split (source-only's own selection runs)
        baseline = cross_validate(task, "source-only", seed, config, None, checkpoint_dir, progress)
    choice, runs = select_weight(method, config.weight_candidates, scored, seed, rule=config.weight_criterion,
                                 n_heldout=n_heldout, baseline_score=None if baseline is None else 1.0 - baseline.source_uar)
    if choice.chosen == 0.0:  # no alignment: the method's run is source-only's, under the method's name
        runs[0.0] = dataclasses.replace(baseline, method=method, alignment_weight=0.0)
    return choice, runs


def _train(task: TaskData, method: str, seed: int, config: ExperimentConfig, weight: float | None,
           checkpoint_dir: str | os.PathLike | None, progress: bool, split: Split = "heldout") -> RunResult:
    """One deep run; ``weight`` replaces the configured alignment weight (None: keep it, e.g. source-only)."""
    where = {"heldout": "", "all": " | all source speakers"}.get(split, f" | fold {split}")
    if progress:
        print(f"[{method} | seed {seed}{'' if weight is None else f' | weight {weight:g}'}{where}] training on "
              f"{task.corpus_names[0]} -> {task.corpus_names[1]}", flush=True)
    tag = "" if split == "heldout" else f"-{split}" if isinstance(split, str) else f"-fold{split}"
    name = f"{method}-seed{seed}{tag}.pt" if weight is None else f"{method}-w{weight:g}-seed{seed}{tag}.pt"
    if weight is not None:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, alignment_weight=weight))
    return run_method(task, method, seed, config, split=split,
                      checkpoint=None if checkpoint_dir is None else Path(checkpoint_dir) / name)
