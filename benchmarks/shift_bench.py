"""The shift bench: every method on each shift, paired by seed, with a target-trained upper bound.

    python -m benchmarks.shift_bench --seeds 801-810 --out benchmarks/results/round11/shifts
    python -m benchmarks.shift_bench --shifts B-C,C-B,B-C-skewed --data-root ../shared/corpora --out OUT/real
    python -m benchmarks.shift_bench --summarise --out benchmarks/results/round11/shifts
    python -m benchmarks.shift_bench --table benchmarks/results/round14/shifts:none benchmarks/results/round20/shifts --out OUT

Shifts are the synthetic ones of :data:`didan_lite.synthetic.shifts.SHIFTS`, or real tasks: ``B-C``, ``C-B``
(full-mode data, library defaults: :class:`didan_lite.config.ExperimentConfig`, trained on the source's
training speakers so that every run measures its own held-out figure) and ``B-C-skewed``: B->C with the CASIA
target cut to half neutral (all 200 neutral utterances, 50 of each other emotion taken from the four
speakers in turn: :func:`didan_lite.synthetic.shifts.with_emotion_mix`, fixed a priori), the real label shift.

Training (``--budget``): ``fast``, the fast preset's (:data:`didan_lite.presets.FAST`: batches of 8, one pass per
epoch, no dropout), or ``full``, the library defaults of :class:`didan_lite.config.ExperimentConfig` (batches of 32,
900 steps, dropout), which real tasks always use. Every loss is at its library defaults (not fast mode's stronger
IDA spread term) and one fixed alignment weight serves every method (``--weight``, fixed before any run), or
``--weight auto``: per shift and aligning method, the weight the library's rule chooses
(:func:`didan_lite.experiment.choose_weight`: the one-standard-error rule on held-out source speakers, no target
label) on ``--selection-seed``, which may not be an evaluation seed; the choice is recorded in the shift's file and
a method the rule gives weight 0 is source-only under its name (its rows copy source-only's, as ``compare`` does). Each run trains on the source's
training speakers and records its held-out source UAR, its training-set UAR, and its target UAR with the
source's BatchNorm statistics and with the target's (the AdaBN figure). The upper bound (``oracle``,
labelled: it reads target labels) trains source-only on the target's own training speakers and scores its
held-out target speakers. Rows go to ``OUT/<shift>/runs.json`` after every run (one file per shift, so that
shifts can run in parallel processes); a row already there is not trained again. Every run uses the library's
default backbone (``ModelConfig.norm``), recorded in the file as ``settings.norm``; a file of another backbone
(one without the setting holds GroupNorm runs, the default before round 17) is refused, never added to. ``--summarise`` writes ``OUT/results.md`` and ``OUT/results.json``: per shift, the means, the paired
differences with their 95 % t-intervals and verdicts (:func:`didan_lite.verdicts.paired_verdict`), and the
raw and paired standard deviations. ``--table FOLDER[:SHIFT,...] ...`` gathers summarised folders (or some of their
shifts) into one table, ``OUT/table.md``: a row per shift and folder, with its backbone and seeds (the README's
shift bench table), and each folder's committed predictions (``predictions.json``) scored against its results.
"""

from __future__ import annotations

if __name__ == "__main__" and not __package__:  # `python benchmarks/shift_bench.py`, the command its records name
    import runpy
    import sys

    sys.path[0] = str(__import__("pathlib").Path(__file__).resolve().parents[1])  # the repository, not benchmarks/
    runpy.run_module("benchmarks.shift_bench", run_name="__main__", alter_sys=True)
    raise SystemExit(0)

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from didan_lite.experiment import choose_weight, run_method
from didan_lite.manifest import read_manifest, restrict_emotions, write_manifest
from didan_lite.presets import FAST
from didan_lite.config import ExperimentConfig
from didan_lite.errors import InputError
from didan_lite.synthetic import EMOTIONS
from didan_lite.synthetic.shifts import HALF_NEUTRAL, SHIFTS, make_shift_pair, with_emotion_mix
from didan_lite.task import load_task
from didan_lite.validation import alignment_weight
from didan_lite.verdicts import paired_verdict

from benchmarks.grid_io import backbone_of, parse_seeds, provenance, read_json, write_json
from benchmarks.shift_table import labelled, table, what_differs

METHODS = ("source-only", "mmd", "ida", "ida-oneway", "ida-oneway-floored")
CONTRASTS = (("mmd", "source-only"), ("ida", "source-only"), ("ida-oneway", "source-only"),
             ("ida-oneway-floored", "source-only"), ("ida", "mmd"), ("ida-oneway", "mmd"), ("ida-oneway-floored", "mmd"))


BUDGETS = ("fast", "full")


def bench_config(weight: float, budget: str = "fast") -> ExperimentConfig:
    """The bench's training: ``fast`` (the fast preset) or ``full`` (library defaults, no refit), every loss at its
    library defaults, one fixed alignment weight."""
    if budget not in BUDGETS:
        raise ValueError(f"budget {budget!r}: use one of {', '.join(BUDGETS)}")
    config = FAST.config if budget == "fast" else dataclasses.replace(ExperimentConfig(), refit=False)
    return dataclasses.replace(config, method_options={}, train=dataclasses.replace(
        config.train, alignment_weight=weight, progress=False))


def _row(shift: str, method: str, seed: int, weight: float | None, budget: str, run) -> dict:
    return {"shift": shift, "method": method, "seed": seed, "weight": weight, "budget": budget,
            "target_uar": run.target_uar,
            "source_uar": run.source_uar, "source_fit_uar": run.extra.get("source_fit_uar"),
            "target_uar_target_statistics": run.extra.get("target_uar_target_statistics"),
            "proxy_a_distance": run.proxy_a_distance, "feature_rank": run.feature_rank,
            "class_alignment_oracle": run.class_alignment, "seconds": run.seconds}


REAL_TASKS = ("B-C", "C-B", "B-C-skewed")


def real_pair(name: str, data_root: Path | None, out: Path) -> tuple[Path, Path, list[str]]:
    """(source manifest, target manifest, emotions) of a real task; ``B-C-skewed`` writes its target subset to ``out``."""
    from data_fetch import task_manifest_paths as task_manifests

    source, target, emotions = task_manifests(name.removesuffix("-skewed"), data_root)
    if name.endswith("-skewed"):
        skewed = with_emotion_mix(restrict_emotions(read_manifest(target), emotions), HALF_NEUTRAL)
        target = out / f"manifest-{name}.csv"
        write_manifest(skewed, target)
    return source, target, emotions


def _chosen_weights(shift: str, record: dict, task, methods: list[str], args,
                    config: ExperimentConfig) -> dict[str, float | None]:
    """Each method's weight: None for source-only, ``--weight``, or with ``auto`` the rule's choice (recorded)."""
    weights: dict[str, float | None] = {}
    for method in methods:
        if method == "source-only" or args.weight != "auto":
            weights[method] = None if method == "source-only" else args.weight
            continue
        choices = record.setdefault("choices", {})
        if method not in choices:
            choice, _ = choose_weight(task, method, args.selection_seed, config)
            choices[method] = {"rule": choice.rule, "selection_seed": choice.selection_seed,
                               "candidates": choice.candidates, "heldout_source_errors": choice.scores,
                               "no_alignment_error": choice.baseline_score, "threshold": choice.threshold,
                               "chosen": choice.chosen, "reason": choice.reason}
            print(f"{shift} {method}: weight {choice.chosen:g} "
                  f"({choice.reason})", flush=True)
        weights[method] = choices[method]["chosen"]
    return weights


def run(args) -> None:
    seeds = parse_seeds(args.seeds)
    if args.weight == "auto" and args.selection_seed in seeds:
        raise SystemExit(f"--selection-seed {args.selection_seed} is also an evaluation seed: a seed that chooses "
                         "must not judge; pick another.")
    for shift_name in args.shifts.split(","):
        path = args.out / shift_name / "runs.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        record = read_json(path, {"provenance": provenance(sys.argv), "rows": []})
        if record["rows"]:  # a later command adding rows to the same file: recorded beside the first
            record["provenance"].setdefault("invocations", []).append(provenance(sys.argv))
        done = {(r["shift"], r["method"], r["seed"], r["weight"]) for r in record["rows"]}
        norm = ExperimentConfig().model.norm
        if backbone_of(record) not in (None, norm):
            raise InputError(f"{path} holds runs of the {backbone_of(record)!r} backbone, not the default {norm!r}; "
                             "one backbone per folder: give another --out.")
        record["settings"] = {"norm": norm}
        if shift_name in REAL_TASKS:
            source, target, emotions = real_pair(shift_name, args.data_root, args.out)
            absent: list[str] = []
            budget = "full"
        else:
            source, target = make_shift_pair(shift_name)
            emotions, absent, budget = list(EMOTIONS), SHIFTS[shift_name].absent, args.budget
        config = bench_config(0.0 if args.weight == "auto" else args.weight, budget)
        task = load_task(source, target, emotions=emotions, config=config, progress=False, absent_in_target=absent)
        present = [e for e in emotions if e not in absent]
        methods = args.methods.split(",")
        weights = _chosen_weights(shift_name, record, task, methods, args, config)
        write_json(path, record)
        oracle_task = None
        for seed in seeds:
            for method in sorted(methods, key=lambda m: m != "source-only"):  # source-only first: weight 0 copies it
                weight = weights[method]
                if (shift_name, method, seed, weight) in done:
                    continue
                if weight == 0.0:  # the rule declined: source-only's model under the method's name, not retrained
                    baseline = next((r for r in record["rows"] if (r["shift"], r["method"], r["seed"], r["weight"])
                                     == (shift_name, "source-only", seed, None)), None)
                    if baseline is None:
                        raise SystemExit(f"{shift_name} seed {seed}: {method} at weight 0 copies source-only's run; "
                                         "add source-only to --methods.")
                    record["rows"].append(dict(baseline, method=method, weight=0.0, seconds=0.0))
                    write_json(path, record)
                    continue
                result = run_method(task, method, seed, config if weight is None else bench_config(weight, budget))
                record["rows"].append(_row(shift_name, method, seed, weight, budget, result))
                print(f"{shift_name} {method} seed {seed}: target {100 * result.target_uar:.1f} held-out source "
                      f"{100 * result.source_uar:.1f} fit {100 * result.extra['source_fit_uar']:.1f}", flush=True)
                write_json(path, record)
            if args.oracle and (shift_name, "oracle", seed, None) not in done:
                if oracle_task is None:
                    oracle_task = load_task(target, source, emotions=present, config=config, progress=False)
                result = run_method(oracle_task, "source-only", seed, config)
                row = _row(shift_name, "oracle", seed, None, budget, result)
                row.update(target_uar=result.source_uar, source_uar=float("nan"), target_uar_target_statistics=None)
                record["rows"].append(row)  # ORACLE: the target's held-out speakers, by a model trained on its labels
                print(f"{shift_name} oracle seed {seed}: held-out target speakers {100 * result.source_uar:.1f}", flush=True)
                write_json(path, record)


def summarise(out: Path) -> None:
    records = {path.parent.name: read_json(path, None) for path in sorted(out.glob("*/runs.json"))}
    rows = [row for record in records.values() for row in record["rows"]]
    lines = ["# Shift bench results", ""]
    lines += [f"- {name}: `{p['command']}` at {p['commit']}, {p['date']}, backbone {backbone_of(r)}"
              for name, r in records.items() for p in (r["provenance"], *r["provenance"].get("invocations", []))]
    lines += [f"- {name}: {method} at weight {c['chosen']:g}, chosen by the rule on seed {c['selection_seed']}: "
              f"{c['reason']}" for name, r in records.items() for method, c in r.get("choices", {}).items()]
    lines += ["", f"Machine: {next(iter(records.values()))['provenance']['machine']}." if records else "", "",
             "Target UAR % (mean over seeds); held-out source UAR and training-set UAR in brackets. `adabn`: the "
             "source-only model with the target's BatchNorm statistics. `oracle`: trained on the target's labels "
             "(ORACLE, evaluation only), scored on its held-out speakers.", ""]
    summary = {}
    for shift in (*SHIFTS, *REAL_TASKS):
        runs = labelled([r for r in rows if r["shift"] == shift])
        if not runs:
            continue
        methods = [*METHODS, *sorted({r["method"] for r in runs} - {*METHODS, "oracle"})]
        contrasts = [*CONTRASTS, *((m, b) for m in methods if m not in METHODS for b in ("source-only", "mmd"))]
        seeds = sorted({r["seed"] for r in runs if r["method"] == "source-only"})
        what = what_differs(shift)
        budgets = sorted({r.get("budget", "full" if shift in REAL_TASKS else "fast") for r in runs})
        lines += [f"## {shift}: {what}; {' and '.join(budgets)} training budget",
                  "", f"Seeds: {', '.join(map(str, seeds))}.", "",
                  "| method | target UAR | sd | held-out source | training set |", "|---|---|---|---|---|"]
        means = {}
        for method in (*methods, "adabn", "oracle"):
            if method == "adabn":
                values = [r["target_uar_target_statistics"] for r in runs if r["method"] == "source-only"]
                chosen = [r for r in runs if r["method"] == "source-only"]
            else:
                chosen = [r for r in runs if r["method"] == method]
                values = [r["target_uar"] for r in chosen]
            values = [v for v in values if v is not None]
            if not values:
                continue
            means[method] = 100 * float(np.mean(values))
            heldout = np.nanmean([r["source_uar"] for r in chosen]) if method != "oracle" else float("nan")
            fit = np.mean([r["source_fit_uar"] for r in chosen])
            sd = 100 * float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
            lines.append(f"| {method} | {means[method]:.1f} | {sd:.1f} | {100 * heldout:.1f} | {100 * fit:.1f} |")
        as_runs = [dict(r, task=shift) for r in runs if r["method"] in methods]
        as_runs += [dict(r, task=shift, method="adabn", target_uar=r["target_uar_target_statistics"])
                    for r in runs if r["method"] == "source-only" and r["target_uar_target_statistics"] is not None]
        lines += ["", "| contrast | paired difference, points [95 % CI] | paired sd | verdict |", "|---|---|---|---|"]
        found = {}
        for method, baseline in (*contrasts, ("adabn", "source-only")):
            try:
                verdict = paired_verdict(as_runs, method, baseline=baseline, n_classes=len(EMOTIONS))
                if verdict.n_pairs == 0:
                    continue
            except ValueError:
                continue
            found[f"{method} - {baseline}"] = {
                "n": verdict.n_pairs, "mean": verdict.mean_difference, "low": verdict.ci_low, "high": verdict.ci_high,
                "verdict": verdict.verdict, "reason": verdict.reason, "paired_sd": verdict.paired_sd}
            lines.append(f"| {method} - {baseline} | {verdict.mean_difference:+.1f} {verdict.interval()} "
                         f"(n={verdict.n_pairs}) | {verdict.paired_sd:.1f} | {verdict.verdict}: {verdict.reason} |")
        summary[shift] = {"means": means, "contrasts": found, "seeds": seeds}
        lines.append("")
    write_json(out / "results.json", {"provenance": {k: r["provenance"] for k, r in records.items()}, "shifts": summary})
    (out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shifts", default=",".join(SHIFTS))
    parser.add_argument("--seeds", default="801-805")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--weight", type=alignment_weight, default=0.3, help="one fixed weight for every aligning "
                        "method, or auto: each one's weight chosen by the library's rule on --selection-seed")
    parser.add_argument("--selection-seed", type=int, default=700, help="the seed --weight auto chooses on "
                        "(never an evaluation seed; default 700)")
    parser.add_argument("--budget", choices=BUDGETS, default="fast", help="training of the synthetic shifts "
                        "(real tasks always train with the library defaults)")
    parser.add_argument("--no-oracle", dest="oracle", action="store_false")
    parser.add_argument("--data-root", type=Path, help="parent of the real corpora (real tasks only)")
    parser.add_argument("--summarise", action="store_true")
    parser.add_argument("--table", nargs="+", metavar="FOLDER[:SHIFT,...]", help="summarised folders to gather "
                        "into OUT/table.md, a row per shift and folder (after a colon: those shifts only)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        if args.table:
            table(args.table, args.out)
        elif args.summarise:
            summarise(args.out)
        else:
            run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
