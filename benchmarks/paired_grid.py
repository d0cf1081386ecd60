"""Paired benchmark grid: for every seed, every method from the same initial weights and batch order, seed-major.

    python -m benchmarks.paired_grid --task B-C --seeds 701,702,703 --weights '{"mmd": 0.1, "ida": 0.1}' \\
        --heldout benchmarks/results/round9/selection_heldout.json --data-root ../shared/corpora --out OUT/B-C
    python -m benchmarks.paired_grid --task synthetic --weights auto --out OUT/synthetic
    python -m benchmarks.paired_grid --summarise OUT/B-C OUT/C-B OUT/B-C-710 --out OUT [--pool B-C,C-B]

The protocol of :func:`didan_lite.experiment.compare`: each seed's final model is trained on all source speakers
(``ExperimentConfig.refit``; ``--fast`` is the notebooks' preset, which trains on the training speakers and
measures its own held-out figure). Weights:

- a number per method (``--weights '{"mmd": 0.1}'``), fixed in advance (a method left out trains with the
  library's default weight); the held-out source UAR of such a refit comes from ``--heldout`` (task -> method ->
  UAR of earlier selection runs), from ``--heldout-runs`` (this grid's own selection runs, below), else it is
  unknown (nan);
- ``auto`` (``--weights auto``, or ``"auto"`` for some methods in the JSON): before the seeds, the weight of each
  such method is chosen once per task by :func:`didan_lite.experiment.choose_weight`, exactly as
  ``compare --weight auto`` chooses it (speaker folds of the source, on the selection seed, by default the first
  seed; source-only's selection runs as the weight-0 anchor; no target label is read). The choice, the held-out
  source UAR of every candidate, the reason and the chosen weight's held-out source UAR (which fills the
  held-out column) go to ``OUT/selection.json`` and ``grid.json``. The other deep methods of the grid (all of
  them with ``--heldout-runs``) get their held-out figure from the same seed and folds
  (:func:`didan_lite.experiment.cross_validate`; source-only's runs are the anchor's, loaded from their checkpoints).

Resume: a row already in ``OUT/grid.json`` (or in the ``grid.json`` of a ``--done-in`` folder) with the same
(task, method, seed, weight, channel) is not trained again, a choice already in ``OUT/selection.json`` is
reused (with its selection seed), and an interrupted run resumes from its checkpoint (``OUT/checkpoints``);
``--plan`` lists what a call would train, and trains nothing. ``--norm`` trains every method on another
normalisation layer (``ModelConfig.norm``) and ``--spec-masks`` masks every source batch (``TrainConfig.spec_masks``,
the defaults of :class:`didan_lite.features.SpecMasks`); a folder holds one backbone (recorded under ``settings``). After every run ``metrics.json`` (the CLI's format, every run of the folder) and
``grid.json`` are rewritten atomically. ``--target-channel telephone`` re-records the target first
(``cross_corpus.rerecorded``); the task is then named e.g. ``B-C+telephone``.

:func:`summarise` merges the tasks' ``grid.json`` (each (task, method, seed) counted once, the first folder
given wins) into ``results.json`` / ``results.md``: means, and the per-seed paired differences to source-only
with their 95 % t-intervals and verdicts from :func:`didan_lite.verdicts.paired_verdict`.

``class_alignment`` is an ORACLE figure (it reads target labels, evaluation only): the run's
``RunResult.class_alignment`` (:func:`didan_lite.metrics.class_alignment`, the figure ``compare`` reports: the
share of target utterances whose five nearest source utterances, in the aligned layer's features, vote for
the target's own emotion). Rows written before this version (round 9) carry ``knn_class_agreement`` instead,
the same vote on features standardised over source and target together: a different figure, marked † in the
tables and never averaged with the library's.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from didan_lite.alignment import make_alignment
from didan_lite.errors import InputError
from didan_lite.experiment import (
    METHODS,
    Comparison,
    ExperimentConfig,
    RunResult,
    _train,
    choose_weight,
    cross_validate,
    load_task,
    run_classical,
)
from didan_lite.features import SpecMasks
from didan_lite.folders import hold_folder
from didan_lite.validation import MAX_SEED, check_writable_folder
from didan_lite.manifest import balanced_subset, read_manifest
from didan_lite.model import NORMS
from didan_lite.model_selection import WeightChoice
from didan_lite.presets import FAST
from didan_lite.report import write_metrics

from benchmarks.cross_corpus import CHANNELS, rerecorded
from data_fetch import task_manifest_paths as task_manifests
from benchmarks.grid_io import backbone_name, backbone_of, parse_seeds, provenance, read_json, required, write_json
from benchmarks.grid_summary import summarise

RENAMED = {"source_heldout_uar": "source_uar", "feature_effective_rank": "feature_rank",
           "source_heldout_from": "heldout_from", "epochs": "history"}
"""Keys of :meth:`RunResult.summary` -> the fields they hold; another key that is no field is the run's ``extra``."""


def parse_weights(text: str, methods: list[str]) -> dict[str, float | str]:
    """``--weights``: ``auto`` (every method), or JSON method -> number >= 0 or ``"auto"``.

    Raises:
        InputError: not JSON, an unknown method, or a value that is neither.
    """
    if text.strip() == "auto":
        return {method: "auto" for method in methods}
    try:
        weights = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--weights {text!r} is not 'auto' or JSON ({exc.msg}); e.g. '{{\"mmd\": 0.1, \"ida\": \"auto\"}}'.") from None
    if not isinstance(weights, dict):
        raise InputError(f"--weights {text!r} must be 'auto' or a JSON object method -> weight.")
    for method, weight in weights.items():
        if method not in METHODS:
            raise InputError(f"--weights names unknown method {method!r}; choose among {list(METHODS)}.")
        if weight != "auto" and (isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0):
            raise InputError(f"--weights: {method}'s weight {weight!r} is not 'auto' or a number >= 0.")
    return weights


def grid_config(fast: bool, epochs: int | None, norm: str | None = None, spec_masks: SpecMasks | None = None) -> ExperimentConfig:
    """The library's defaults (or :data:`didan_lite.presets.FAST`), quiet, without the target monitor; ``norm``
    replaces the backbone's normalisation layer (``ModelConfig.norm``) and ``spec_masks`` masks the source batches
    (``TrainConfig.spec_masks``), for every method."""
    config = FAST.config if fast else ExperimentConfig()
    train = dataclasses.replace(config.train, progress=False, monitor_every=0, spec_masks=spec_masks,
                                **({} if epochs is None else {"epochs": epochs}))
    model = config.model if norm is None else dataclasses.replace(config.model, norm=norm)
    return dataclasses.replace(config, train=train, model=model)


def aligning(method: str, n_classes: int, config: ExperimentConfig) -> bool:
    """Whether ``method`` has a trade-off weight (an alignment loss)."""
    if method == "opensmile-svm":
        return False
    return make_alignment(method, feature_dims=[*config.model.fc_dims, n_classes], class_names=[str(k) for k in range(n_classes)],
                          **dict(config.method_options.get(method, {}))) is not None


def row_key(row: dict) -> tuple:
    """(task, method, seed, weight, channel): what makes two rows the same run."""
    weight = row.get("alignment_weight")
    return (row["task"], row["method"], int(row["seed"]), None if weight is None else round(float(weight), 9), row.get("channel"))


def restored(summary: dict) -> RunResult:
    """A run of an earlier invocation from its ``metrics.json`` record (figures only: no features, no confusion)."""
    fields, empty = {f.name for f in dataclasses.fields(RunResult)}, np.zeros((0, 0))
    named = {RENAMED.get(k, k): v for k, v in summary.items()}
    return RunResult(**{k: v for k, v in named.items() if k in fields}, target_confusion=empty, source_features=empty,
                     target_features=empty, extra={k: v for k, v in summary.items() if RENAMED.get(k, k) not in fields})


def selection(task, name: str, methods: list[str], weights: dict, seed: int | None, config: ExperimentConfig, out: Path,
              measure_all: bool = False, first_seed: int = 0) -> dict:
    """Per method: the weight chosen by ``choose_weight`` (``"auto"`` methods) and the held-out source UAR of the
    selection runs (:func:`cross_validate` on ``seed``; for every deep method when any weight is ``"auto"`` or
    ``measure_all``); stored in and reused from ``OUT/selection.json``. ``seed`` None: the seed of the stored
    entries, else ``first_seed`` (so a grid extended by later seeds keeps its selection).

    Raises:
        InputError: ``selection.json`` holds an entry made with other candidates, rule, folds, seed or weight.
    """
    n_classes, path = len(task.class_names), out / "selection.json"
    stored = read_json(path, {})
    if seed is None:
        seed = next((entry["protocol"]["selection_seed"] for entry in stored.values()), first_seed)
    auto = [m for m in methods if weights.get(m) == "auto" and aligning(m, n_classes, config)]
    wanted = [m for m in methods if m in auto or ((auto or measure_all) and m != "opensmile-svm")]
    wanted.sort(key=lambda m: m != "source-only")  # source-only first: its runs are the anchor of every choice
    for method in wanted:
        weight = "auto" if method in auto else planned_weight(method, n_classes, weights, {}, config)
        protocol = {"task": name, "candidates": list(config.weight_candidates), "rule": config.weight_criterion,
                    "selection_folds": config.selection_folds, "selection_seed": seed, "weight": weight}
        if method in stored:
            if stored[method]["protocol"] != protocol:
                raise InputError(f"{path} holds {method}'s selection under {stored[method]['protocol']}, not {protocol}; "
                                 "give another --out (or remove that entry to choose again).")
            continue
        checkpoints = out / "checkpoints"
        if method in auto:
            choice, runs = choose_weight(task, method, seed, config, checkpoint_dir=checkpoints, progress=False)
            candidates = {f"{w:g}": runs[w].source_uar for w in choice.candidates}
            if choice.baseline_score is not None:
                candidates = {"0": 1.0 - choice.baseline_score, **candidates}
            chosen = runs[choice.chosen]
            entry = {"weight": choice.chosen, "reason": choice.reason, "heldout_source_uar": chosen.source_uar,
                     "heldout_from": chosen.heldout_from, "candidate_heldout_source_uar": candidates,
                     "choice": choice.summary(),
                     "oracle_candidate_target_uar": {f"{w:g}": r.target_uar for w, r in runs.items()}}
        else:
            run = cross_validate(task, method, seed, config, weight, checkpoints, False)
            entry = {"weight": weight, "reason": "", "heldout_source_uar": run.source_uar, "heldout_from": run.heldout_from}
        stored[method] = {"protocol": protocol, **entry}
        write_json(path, stored)
        print(json.dumps({"selection": method, **{k: v for k, v in entry.items() if k != "choice"}}), flush=True)
    return stored


def planned_weight(method: str, n_classes: int, weights: dict, chosen: dict, config: ExperimentConfig) -> float | None:
    """The weight a grid run of ``method`` trains with (None: no alignment term)."""
    if not aligning(method, n_classes, config):
        return None
    weight = weights.get(method)
    if weight == "auto":
        return float(chosen[method]["weight"]) if method in chosen else float("nan")  # nan: not chosen yet (--plan)
    return float(config.train.alignment_weight if weight is None else weight)


def grid_row(run: RunResult, task: str, channel: str | None, n_classes: int) -> dict:
    """The grid.json row of one run: its ``metrics.json`` figures without the epochs, plus task and channel."""
    return {"task": task, "channel": channel, "n_classes": n_classes,
            **{k: v for k, v in run.summary().items() if k != "epochs"}}


def run_grid(args: argparse.Namespace) -> None:
    """Train every (seed, method) not yet in ``OUT/grid.json``, seed-major; rewrite the outputs after each run."""
    began, out = time.perf_counter(), args.out
    methods = [m for m in args.methods.split(",") if m]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown method(s) {unknown}; choose among {list(METHODS)}.")
    if args.target_channel and args.target_channel not in CHANNELS:
        raise InputError(f"--target-channel {args.target_channel!r} is not one of {sorted(CHANNELS)}.")
    seeds = parse_seeds(args.seeds)
    if args.selection_seed is not None and not 0 <= args.selection_seed <= MAX_SEED:
        raise InputError(f"--selection-seed {args.selection_seed} is out of range; a seed must lie in [0, {MAX_SEED}].")
    weights = parse_weights(args.weights, methods)
    heldout = read_json(required(Path(args.heldout), "--heldout file"), {}) if args.heldout else {}
    config = grid_config(args.fast, args.epochs, args.norm, SpecMasks() if args.spec_masks else None)
    masks = None if config.train.spec_masks is None else dataclasses.asdict(config.train.spec_masks)
    backbone = backbone_name(config.model.norm, masks)
    name = args.task + (f"+{args.target_channel}" if args.target_channel else "")
    grid = read_json(out / "grid.json", {"rows": []})
    other = sorted({r["task"] for r in grid["rows"]} - {name})
    if other:
        raise InputError(f"{out / 'grid.json'} holds task(s) {other}, not {name}; one folder per task: give another --out.")
    for path, advice in [(out / "grid.json", "give another --out"),
                         *((required(f / "grid.json", "--done-in: grid"), "leave it out of --done-in") for f in args.done_in)]:
        stored = backbone_of(read_json(path, {}))
        if stored not in (None, backbone):
            raise InputError(f"{path} holds runs of the {stored!r} backbone, not {backbone!r} (--norm, --spec-masks); "
                             f"one backbone per folder: {advice}.")

    source, target, emotions = task_manifests(args.task, args.data_root)
    if args.target_channel:
        target = rerecorded(target, args.target_channel)
    if args.fast:
        source, target = (balanced_subset(read_manifest(m), FAST.max_per_class) for m in (source, target))
    task = load_task(source, target, emotions=emotions, config=config, progress=False)
    n_classes = len(task.class_names)
    measure = ("auto" in weights.values() or args.heldout_runs) and not args.plan
    chosen = selection(task, name, methods, weights, args.selection_seed, config, out, args.heldout_runs,
                       first_seed=seeds[0]) if measure else read_json(out / "selection.json", {})

    done = {row_key(r) for r in grid["rows"]}
    elsewhere = {row_key(r) for folder in args.done_in for r in read_json(folder / "grid.json", {"rows": []})["rows"]}
    earlier = read_json(out / "metrics.json", {"runs": []})["runs"]
    comparison = Comparison(task, [restored(r) for r in earlier
                                   if row_key({**r, "task": name, "channel": args.target_channel}) in done], out,
                            weight=weights)
    comparison.choices = [WeightChoice(**{k: v for k, v in entry["choice"].items() if k not in ("criterion", "reason")})
                          for entry in chosen.values() if "choice" in entry]
    rows, invocation = grid["rows"], provenance(sys.argv)
    invocations = grid.get("invocations", [{k: grid[k] for k in ("command", "commit", "date", "machine", "elapsed_s")}]
                           if "command" in grid else [])
    split = "all" if config.refit else "heldout"
    for seed in seeds:
        for method in methods:
            weight = planned_weight(method, n_classes, weights, chosen, config)
            key = row_key({"task": name, "method": method, "seed": seed, "alignment_weight": weight,
                           "channel": args.target_channel})
            if key in done or key in elsewhere:
                continue
            if args.plan:
                print(f"would train {name} {method} seed {seed} weight {'-' if weight is None else f'{weight:g}'}", flush=True)
                continue
            if method == "opensmile-svm":
                run = run_classical(task, seed, config)
            else:
                run = _train(task, method, seed, config, weight, out / "checkpoints", False, split=split)
                entry = chosen.get(method)
                if split == "all" and entry and (weights.get(method) == "auto" or entry["weight"] == weight):
                    run.source_uar, run.heldout_from = entry["heldout_source_uar"], entry["heldout_from"]
                elif split == "all":
                    run.source_uar = heldout.get(name, {}).get(method, float("nan"))
                    run.heldout_from = f"selection runs ({args.heldout})" if args.heldout else "not measured"
                run.weight_reason = (chosen[method]["reason"] if weights.get(method) == "auto" else
                                     "fixed in advance" if method in weights else
                                     "the library default" if weight is not None else "")
            rows.append(grid_row(run, name, args.target_channel, n_classes))
            done.add(key)
            comparison.runs.append(run)
            write_metrics(comparison, config)
            write_json(out / "grid.json", {**invocation, "elapsed_s": time.perf_counter() - began,
                                           "invocations": [*invocations, {**invocation, "elapsed_s": time.perf_counter() - began}],
                                           "settings": {"methods": methods, "seeds": seeds, "weights": weights,
                                                        "fast": args.fast, "channel": args.target_channel,
                                                        "epochs": config.train.epochs, "norm": config.model.norm,
                                                        "spec_masks": masks},
                                           "selection": chosen, "rows": rows})
            print(json.dumps(rows[-1]), flush=True)



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="B-C", help="a preset (B-C, C-B, ...) or 'synthetic' (the embedded pair)")
    parser.add_argument("--methods", default="source-only,mmd,ida")
    parser.add_argument("--seeds", default="701,702,703,704,705,706,707,708,709,710")
    parser.add_argument("--weights", default="{}",
                        help="'auto' (every aligning method chosen by choose_weight), or JSON method -> number or 'auto'; "
                             "a method left out trains with the library's default weight")
    parser.add_argument("--heldout", help="JSON file: task -> method -> held-out source UAR of the selection runs")
    parser.add_argument("--heldout-runs", action="store_true",
                        help="measure every deep method's held-out source UAR on speaker folds of the first seed (as "
                             "compare does; implied for the methods of an 'auto' grid), in place of --heldout")
    parser.add_argument("--selection-seed", type=int,
                        help="seed of the selection runs (default: the one OUT/selection.json holds, else the first seed)")
    parser.add_argument("--target-channel", help=f"re-record the target through this channel first ({', '.join(sorted(CHANNELS))})")
    parser.add_argument("--fast", action="store_true", help="the notebooks' preset (didan_lite.presets.FAST)")
    parser.add_argument("--epochs", type=int, help="override the preset's number of epochs")
    parser.add_argument("--norm", choices=NORMS,
                        help="the backbone's normalisation layer for every method (default: the library's, ModelConfig.norm)")
    parser.add_argument("--spec-masks", action="store_true",
                        help="mask every source batch during training (didan_lite.SpecMasks' defaults) for every method")
    parser.add_argument("--done-in", nargs="*", type=Path, default=[],
                        help="other folders of the same task whose grid.json rows count as done (not trained here)")
    parser.add_argument("--plan", action="store_true",
                        help="print the runs this call would train (after resume and --done-in) and train nothing")
    parser.add_argument("--data-root", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summarise", nargs="*", type=Path, help="only merge these task folders' grid.json into --out")
    parser.add_argument("--pool", help="--summarise: the tasks the pooled column pools, comma-separated (default: all)")
    args = parser.parse_args(argv)
    try:
        check_writable_folder(args.out, "The output folder (--out)", "give another --out")
        if args.summarise is not None:
            summarise(args.summarise, args.out, read_json(required(Path(args.heldout), "--heldout file"), {}) if args.heldout else {},
                      args.pool.split(",") if args.pool else None)
        else:
            with contextlib.nullcontext() if args.plan else hold_folder(args.out):  # one grid per folder at a time
                run_grid(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
