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
``--plan`` lists what a call would train, and trains nothing. After every run ``metrics.json`` (the CLI's format, every run of the folder) and
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
import math
import sys
import time
from pathlib import Path

import numpy as np

from didan_lite.alignment import make_alignment
from didan_lite.atomic import atomic_write
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
from didan_lite.folders import hold_folder
from didan_lite.validation import MAX_SEED, check_writable_folder
from didan_lite.manifest import balanced_subset, read_manifest
from didan_lite.model_selection import WeightChoice
from didan_lite.presets import FAST
from didan_lite.report import write_metrics
from didan_lite.verdicts import paired_verdict

from benchmarks.cross_corpus import CHANNELS, rerecorded
from data_fetch import task_manifest_paths as task_manifests
from benchmarks.grid_io import parse_seeds, provenance, read_json, required, write_json

OLD_CLASS_FIGURE = "knn_class_agreement"
"""Round 9's class figure (features standardised over source + target before the vote); marked †."""
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


def grid_config(fast: bool, epochs: int | None) -> ExperimentConfig:
    """The library's defaults (or :data:`didan_lite.presets.FAST`), quiet, without the target monitor."""
    config = FAST.config if fast else ExperimentConfig()
    train = dataclasses.replace(config.train, progress=False, monitor_every=0, **({} if epochs is None else {"epochs": epochs}))
    return dataclasses.replace(config, train=train)


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
    for folder in args.done_in:
        required(folder / "grid.json", "--done-in: grid")
    config = grid_config(args.fast, args.epochs)
    name = args.task + (f"+{args.target_channel}" if args.target_channel else "")
    grid = read_json(out / "grid.json", {"rows": []})
    other = sorted({r["task"] for r in grid["rows"]} - {name})
    if other:
        raise InputError(f"{out / 'grid.json'} holds task(s) {other}, not {name}; one folder per task: give another --out.")

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
                                                        "epochs": config.train.epochs},
                                           "selection": chosen, "rows": rows})
            print(json.dumps(rows[-1]), flush=True)


def class_figure(row: dict) -> tuple[float, bool]:
    """(class figure in [0, 1], whether it is round 9's ``knn_class_agreement``); nan when neither."""
    if row.get("class_alignment") is not None:
        return float(row["class_alignment"]), False
    if row.get(OLD_CLASS_FIGURE) is not None:
        return float(row[OLD_CLASS_FIGURE]), True
    return float("nan"), False


def class_cell(rows: list[dict]) -> str:
    """Mean class figure in %, the two kinds kept apart (round 9's marked †, with counts when mixed)."""
    figures = [class_figure(r) for r in rows]
    parts = []
    for old in (True, False):
        values = [100 * v for v, kind in figures if kind == old and not math.isnan(v)]
        if values:
            parts.append((f"{np.mean(values):.1f}{' †' if old else ''}", len(values)))
    if not parts:
        return "n/a"
    return parts[0][0] if len(parts) == 1 else " / ".join(f"{text} ({n})" for text, n in parts)


def verdict_cell(rows: list[dict], method: str, tasks: list[str], n_classes: int,
                 baseline: str = "source-only") -> tuple[str, dict]:
    """Paired difference of ``method`` to ``baseline`` over ``tasks``: ``mean [95 % interval] (n=.., verdict)``."""
    sel = [r for r in rows if r["task"] in tasks and r["method"] in (method, baseline)]
    if not any(r["method"] == method for r in sel) or not any(r["method"] == baseline for r in sel):
        return "n/a", {}
    v = paired_verdict(sel, method, baseline=baseline, n_classes=n_classes)
    record = {"n_pairs": v.n_pairs, "mean_difference": v.mean_difference, "ci_low": v.ci_low, "ci_high": v.ci_high,
              "paired_sd": v.paired_sd, "verdict": v.verdict, "reason": v.reason}
    if v.n_pairs == 0:
        return "n/a", record
    spread = "" if math.isnan(v.paired_sd) else f", paired sd {v.paired_sd:.1f}"
    return f"{v.mean_difference:+.1f} {v.interval()} (n={v.n_pairs}{spread}, {v.verdict})", record


def fit_cell(rows: list[dict]) -> str:
    """Training-set UAR % (``source_fit_uar``) of ``rows``: one value or the range; ``-`` when none recorded it."""
    values = sorted(100 * r["source_fit_uar"] for r in rows if r.get("source_fit_uar") is not None)
    if not values:
        return "-"
    return f"{values[0]:.1f}" if round(values[0], 1) == round(values[-1], 1) else f"{values[0]:.1f}-{values[-1]:.1f}"


def merged_rows(folders: list[Path], heldout: dict) -> tuple[list[dict], list[dict], list[str], dict]:
    """(rows, provenance of every invocation, dropped duplicates, weight choices per task and method): each
    (task, method, seed) once, first folder wins.

    A method whose weight the folder chose by the rule (``--weights auto``) is named ``<method>@rule`` (:data:`RULE`),
    so that it stands beside the same method's fixed-weight rows of another folder. The held-out source UAR of a
    row without one is filled from ``heldout`` (task -> method -> UAR).
    """
    rows, runs, seen, dropped, choices = [], [], {}, [], {}
    for folder in folders:
        grid = _checked_grid(folder / "grid.json")
        chosen = set()
        for method, entry in grid.get("selection", {}).items():
            if "choice" in entry:
                chosen.add(method)
                choices.setdefault(entry["protocol"]["task"], {}).setdefault(method + RULE, entry)
        classes = read_json(folder / "metrics.json", {}).get("class_names")
        runs += grid.get("invocations") or [{k: grid[k] for k in PROVENANCE}]
        for row in grid["rows"]:
            if row["method"] in chosen:
                row = {**row, "method": row["method"] + RULE}
            key = (row["task"], row["method"], int(row["seed"]))
            if key in seen:
                dropped.append(f"{'/'.join(map(str, key))} in {folder} (kept {seen[key]})")
                continue
            seen[key] = folder
            row = {"n_classes": len(classes) if classes else None, **row}
            value = row.get("source_heldout_uar")
            if value is None or (isinstance(value, float) and math.isnan(value)):
                row["source_heldout_uar"] = heldout.get(row["task"], {}).get(row["method"], float("nan"))
            rows.append(row)
            if row["method"] == "adabn" and row.get(SOURCE_STATISTICS) is not None:
                rows.append({**row, "method": BATCH_NORM, "target_uar": row[SOURCE_STATISTICS], "target_war": None,
                             "proxy_a_distance": float("nan"), "feature_effective_rank": float("nan"),
                             "class_alignment": None, OLD_CLASS_FIGURE: None})
    return rows, runs, dropped, choices


SOURCE_STATISTICS = "target_uar_source_statistics"
"""Target UAR of an ``adabn`` run's network with its training source's BatchNorm statistics (no adaptation)."""

BATCH_NORM = "batchnorm"
"""The row a summary derives from each ``adabn`` run: the same network and seed scored with its source statistics,
so that ``batchnorm - source-only`` is the network change and ``adabn - batchnorm`` the adaptation step alone.
Its feature figures (PAD, rank, class alignment) are not measured (nan): the run measured the adapted features."""

CONTRASTS: tuple[tuple[str, str, str], ...] = (
    ("adabn", BATCH_NORM, "the adaptation step (target minus source statistics, one network)"),
    ("ida", "mmd", "IDA against MMD at the same weight"),
    ("ida@rule", "ida", "IDA at the rule's weight against IDA at the fixed weight"),
    ("ida-reconstruction", "ida", "IDA's reconstruction part alone against both parts"),
    ("ida-spread", "ida", "IDA's spread part alone against both parts"),
)
"""(method, baseline, what the difference measures): contrasts a summary prints where both methods ran."""


RULE = "@rule"
"""Suffix of a method's name in a summary when its weight was chosen by the rule (``--weights auto``)."""

PROVENANCE = ("command", "commit", "date", "machine", "elapsed_s")
"""What every invocation of a grid records."""


def _checked_grid(path: Path) -> dict:
    """A ``grid.json`` this script wrote: rows with task, method and seed, and the provenance of its invocations.

    Raises:
        InputError: missing, not JSON, or lacking a key, naming the file and the key.
    """
    grid = read_json(required(path, "--summarise: grid"), None)
    if not isinstance(grid, dict) or not isinstance(grid.get("rows"), list):
        raise InputError(f"{path} holds no list of rows; give folders written by benchmarks/paired_grid.py.")
    invocations = grid.get("invocations") or [{k: grid[k] for k in PROVENANCE if k in grid}]
    lacking = sorted({k for entry in invocations for k in PROVENANCE if not isinstance(entry, dict) or k not in entry})
    lacking += sorted({k for row in grid["rows"] for k in ("task", "method", "seed")
                       if not isinstance(row, dict) or k not in row})
    if lacking:
        raise InputError(f"{path} lacks {', '.join(lacking)}; it is not a grid written by benchmarks/paired_grid.py "
                         "(or was edited by hand). Give the folders the grid wrote.")
    return grid


def summarise(folders: list[Path], out: Path, heldout: dict, pool: list[str] | None = None) -> None:
    """Merge the tasks' grid.json into results.json / results.md (per-run rows, means, paired intervals and
    verdicts, pooled over the tasks ``pool``, default all); ``heldout`` (task -> method -> UAR of the selection
    runs) fills the held-out source column where a row has none.

    Raises:
        InputError: no rows, a task of ``pool`` without rows, or a task whose number of emotions is unknown.
    """
    rows, runs, dropped, choices = merged_rows(folders, heldout)
    if not rows:
        raise InputError(f"no grid.json with rows in {[str(f) for f in folders]}.")
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    classes = {t: next((r["n_classes"] for r in rows if r["task"] == t and r["n_classes"]), None) for t in tasks}
    unknown = [t for t, n in classes.items() if n is None]
    if unknown:
        raise InputError(f"the number of emotions of task(s) {unknown} is unknown: their rows carry no n_classes and "
                         "their folders no metrics.json; give the folders the grid wrote.")
    commits = sorted({r["commit"] for r in runs})
    lines = [f"# Paired grid ({runs[-1]['date']})", "", f"Commit(s) {', '.join(commits)}; machine: {runs[-1]['machine']}.", "",
             "Commands:", ""] + [f"- `{r['command']}` ({r['elapsed_s']:.0f} s, commit {r['commit']})" for r in runs] + ["",
             "Target UAR %, mean ± sd over seeds; held-out source UAR % from the selection runs (a refit has no held-out "
             "speakers of its own). Class alignment % is an ORACLE figure (reads target labels): "
             "didan_lite.metrics.class_alignment (5-NN vote of the source features) as `compare` reports it; "
             "a figure marked † is round 9's knn_class_agreement (the same vote on features standardised over "
             "source and target together), a different figure, shown apart with its run count, never averaged in. "
             f"A `{BATCH_NORM}` row is not trained: it is each adabn run's network scored with its source statistics "
             "(no adaptation). Training-set UAR %: each run's model on the data it trained on (does it fit?).", "",
             "| task | method | seeds | target UAR % | held-out source UAR % | training-set UAR % | proxy A-distance | feature rank | class alignment % | weight | s / run |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in tasks:
        for m in methods:
            sel = [r for r in rows if r["task"] == t and r["method"] == m]
            if not sel:
                continue
            u = 100 * np.array([r["target_uar"] for r in sel])
            sd = u.std(ddof=1) if len(u) > 1 else 0.0
            held = list(dict.fromkeys(f"{100 * r['source_heldout_uar']:.1f}" for r in sel
                                      if r["source_heldout_uar"] is not None and not math.isnan(r["source_heldout_uar"])))
            weights = sorted({r["alignment_weight"] for r in sel if r["alignment_weight"] is not None})
            lines.append(f"| {t} | {m} | {len(sel)} | {u.mean():.1f} ± {sd:.1f} | {' / '.join(held) or 'nan'} | {fit_cell(sel)} | "
                         f"{np.mean([r['proxy_a_distance'] for r in sel]):.2f} | {np.mean([r['feature_effective_rank'] for r in sel]):.1f} | "
                         f"{class_cell(sel)} | {', '.join(f'{w:g}' for w in weights) or '-'} | "
                         f"{np.mean([r['seconds'] for r in sel]):.0f} |")
    pool = tasks if pool is None else pool
    if set(pool) - set(tasks):
        raise InputError(f"--pool names task(s) {sorted(set(pool) - set(tasks))} without rows; the folders hold {tasks}.")
    lines += ["", "Paired differences to source-only (target UAR points, same seed; mean [95 % t-interval], pairs, "
              "sd of the differences over seeds (to set beside the seed sd of the first table), "
              f"verdict of didan_lite.verdicts.paired_verdict; pooled over {', '.join(pool)}):", "",
              "| method | " + " | ".join(tasks) + " | pooled |", "|---|" + "---|" * (len(tasks) + 1)]
    summary, verdicts = {}, {}
    for m in methods:
        if m == "source-only":
            continue
        cells = [verdict_cell(rows, m, [t], classes[t]) for t in tasks] + [verdict_cell(rows, m, pool, max(classes[t] for t in pool))]
        summary[m] = dict(zip([*tasks, "pooled"], [c[0] for c in cells]))
        verdicts[m] = dict(zip([*tasks, "pooled"], [c[1] for c in cells]))
        lines.append(f"| {m} | " + " | ".join(c[0] for c in cells) + " |")
    contrasts = {}
    for method, baseline, meaning in CONTRASTS:
        cells = [verdict_cell(rows, method, [t], classes[t], baseline) for t in tasks]
        cells.append(verdict_cell(rows, method, pool, max(classes[t] for t in pool), baseline))
        if all(text == "n/a" for text, _ in cells):
            continue
        if not contrasts:
            lines += ["", "Paired contrasts between methods (target UAR points, same seed and run where one run gives both):", "",
                      "| contrast | what it measures | " + " | ".join(tasks) + " | pooled |", "|---|---|" + "---|" * (len(tasks) + 1)]
        contrasts[f"{method} - {baseline}"] = dict(zip([*tasks, "pooled"], [c[1] for c in cells]))
        lines.append(f"| {method} - {baseline} | {meaning} | " + " | ".join(c[0] for c in cells) + " |")
    so = [r for r in rows if r["method"] == "source-only" and r["task"] in ("B-C", "C-B")]
    if {r["task"] for r in so} == {"B-C", "C-B"}:
        means = [100 * np.mean([r["target_uar"] for r in so if r["task"] == t]) for t in ("B-C", "C-B")]
        lines += ["", f"Source-only, mean of B->C and C->B: {np.mean(means):.1f} UAR."]
    if choices:
        lines += ["", "Weights chosen without target labels (didan_lite.experiment.choose_weight; held-out source UAR % "
                  "of each candidate, 0 = source-only's selection runs):", ""]
        lines += [f"- {t} {m}: **{e['weight']:g}** (" + ", ".join(f"{w}: {100 * u:.1f}" for w, u in
                  e["candidate_heldout_source_uar"].items()) + f"); {e['reason']}" for t, by in choices.items() for m, e in by.items()]
    if dropped:
        lines += ["", "Counted once (a later folder's run of the same task, method and seed left out): " + "; ".join(dropped) + "."]
    lines += ["", "Per run:", "", "| task | method | seed | target UAR % | PAD | rank | class % | weight | s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        value, old = class_figure(r)
        weight = "-" if r["alignment_weight"] is None else f"{r['alignment_weight']:g}"
        lines.append(f"| {r['task']} | {r['method']} | {r['seed']} | {100 * r['target_uar']:.1f} | {r['proxy_a_distance']:.2f} | "
                     f"{r['feature_effective_rank']:.1f} | {100 * value:.1f}{' †' if old else ''} | {weight} | {r['seconds']:.0f} |")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "results.md", "w") as handle:
        handle.write("\n".join(lines) + "\n")
    write_json(out / "results.json", {"provenance": runs, "paired_differences": summary, "verdicts": verdicts,
                                      "contrasts": contrasts,
                                      "weight_selection": choices,
                                      "dropped_duplicates": dropped, "rows": rows})


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
