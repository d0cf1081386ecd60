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
import os
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


def _labelled(runs: list[dict]) -> list[dict]:
    """The runs of one shift, a method run at another weight than the shift's usual one named ``method@weight``."""
    weights = [r["weight"] for r in runs if r["weight"] is not None]
    usual = max(sorted(set(weights)), key=weights.count) if weights else None  # a tie: the smallest
    return [r if r["weight"] in (None, usual) else dict(r, method=f"{r['method']}@{r['weight']:g}") for r in runs]


def _what_differs(shift: str) -> str:
    """A shift's factor in words, with whether alignment could undo it; a real task's data."""
    if shift not in SHIFTS:
        return "real task, full-mode data" + (", the CASIA target half neutral" if shift == "B-C-skewed" else "")
    factor = SHIFTS[shift].factor
    return factor if shift == "none" else f"{factor} ({'alignable' if SHIFTS[shift].alignable else 'negative control'})"


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
        runs = _labelled([r for r in rows if r["shift"] == shift])
        if not runs:
            continue
        methods = [*METHODS, *sorted({r["method"] for r in runs} - {*METHODS, "oracle"})]
        contrasts = [*CONTRASTS, *((m, b) for m in methods if m not in METHODS for b in ("source-only", "mmd"))]
        seeds = sorted({r["seed"] for r in runs if r["method"] == "source-only"})
        what = _what_differs(shift)
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


TABLE_CONTRASTS = ("adabn - source-only", "mmd - source-only", "ida - source-only", "ida - mmd")
PREDICTIONS = "predictions.json"
"""A summarised folder's committed predictions on its contrasts, for ``--table`` (file, commit, shifts)."""


def _seed_ranges(seeds: list[int]) -> str:
    """``[801, 802, 803, 805]`` -> ``"801-803, 805"``."""
    ranges: list[list[int]] = []
    for seed in sorted(seeds):
        if ranges and seed == ranges[-1][1] + 1:
            ranges[-1][1] = seed
        else:
            ranges.append([seed, seed])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)


def _points(value: float) -> str:
    """Points with one decimal, two where one would print a signed zero (``-0.01``, not ``-0.0``)."""
    return f"{value:+.2f}" if 0.005 <= abs(value) < 0.05 else "0.0" if abs(value) < 0.005 else f"{value:+.1f}"


def _contrast_cell(contrast: dict | None) -> str:
    if contrast is None:
        return "-"
    if not np.isfinite(contrast["mean"]):
        return contrast["verdict"]  # e.g. "no verdict: not measured"
    text = f"{_points(contrast['mean'])} [{_points(contrast['low'])}, {_points(contrast['high'])}]"
    return f"**{text} {contrast['verdict']}**" if contrast["verdict"] in ("helps", "hurts") else text


VERDICT_WORDS = ("helps", "hurts", "no conclusion")


def prediction_outcome(prediction: dict, contrast: dict | None, seeds: str | None = None) -> str:
    """``"held"``, ``"failed"`` or ``"not measured"``: one prediction on a contrast against its paired difference.

    ``prediction`` holds ``mean_between`` (``[low, high]`` in points, inclusive, ``None`` for an open end) and/or
    ``verdict_in`` (the verdict words it allows, e.g. ``["no conclusion"]``); it holds when every condition does.
    A prediction naming ``seeds`` (``"811-820"``) is not measured by a row of other ``seeds``.
    """
    if contrast is None or not np.isfinite(contrast["mean"]) or contrast["verdict"] not in VERDICT_WORDS:
        return "not measured"
    if seeds is not None and prediction.get("seeds", seeds) != seeds:
        return "not measured"
    low, high = prediction.get("mean_between") or (None, None)
    held = (low is None or contrast["mean"] >= low) and (high is None or contrast["mean"] <= high)
    held = held and contrast["verdict"] in prediction.get("verdict_in", VERDICT_WORDS)
    return "held" if held else "failed"


def _predictions(folder: Path, shifts: dict) -> dict:
    """A folder's ``predictions.json`` (no predictions without one), each prediction checked.

    Raises:
        InputError: the file lacks ``file``, ``commit`` or ``shifts``, names a shift ``shifts`` (the folder's
            results) lacks, or holds a prediction on another contrast than the table's, or without a condition.
    """
    path = folder / PREDICTIONS
    predictions = read_json(path, None)
    if predictions is None:
        return {"shifts": {}}
    if not isinstance(predictions, dict) or not {"file", "commit", "shifts"} <= set(predictions):
        raise InputError(f"{path} needs file, commit and shifts (a list of predictions per shift); fix or remove it.")
    for shift, listed in predictions["shifts"].items():
        if shift not in shifts:
            raise InputError(f"{path} predicts {shift!r}, which {folder}/results.json lacks; it has {', '.join(shifts)}.")
        for prediction in listed:
            where = f"{path}: the prediction {prediction.get('text')!r} on {shift}"
            if prediction.get("contrast") not in TABLE_CONTRASTS:
                raise InputError(f"{where} is on {prediction.get('contrast')!r}; name one of {', '.join(TABLE_CONTRASTS)}.")
            bounds, words = prediction.get("mean_between"), prediction.get("verdict_in")
            ends = bounds if isinstance(bounds, list) and len(bounds) == 2 else [None, "not a pair"]
            numbers = [end for end in ends if end is not None]
            if bounds is not None and not (all(isinstance(end, (int, float)) for end in numbers)
                                           and (len(numbers) < 2 or numbers[0] <= numbers[1])):
                raise InputError(f"{where} has mean_between {bounds!r}; give [low, high] with low <= high (null: open).")
            if words is not None and not (isinstance(words, list) and words and set(words) <= set(VERDICT_WORDS)):
                raise InputError(f"{where} has verdict_in {words!r}; give a list of {', '.join(VERDICT_WORDS)}.")
            if not isinstance(prediction.get("seeds", ""), str):
                raise InputError(f"{where} has seeds {prediction['seeds']!r}; give them as the table does (\"801-810\").")
            if bounds in (None, [None, None]) and not words:
                raise InputError(f"{where} has no condition; give it mean_between [low, high] or verdict_in [words].")
    return predictions


def _scored_cell(contrast: dict | None) -> str:
    """A contrast to two decimals, as the predictions are scored (``+2.97 [-1.70, +7.64] no conclusion``)."""
    if contrast is None or not np.isfinite(contrast["mean"]):
        return "-" if contrast is None else contrast["verdict"]
    return f"{contrast['mean']:+.2f} [{contrast['low']:+.2f}, {contrast['high']:+.2f}] {contrast['verdict']}"


def table(folders: list[str], out: Path) -> None:
    """One row per shift of each summarised folder (``results.json``), in the order given, to ``out/table.md``;
    then every prediction of the folders' ``predictions.json`` on the rows' contrasts, held or failed.

    A folder given as ``PATH:SHIFT,SHIFT`` contributes those shifts only.
    """
    lines = ["# The shift bench, gathered", "",
             "Target UAR % of source-only (mean over the seeds); paired differences in points with their 95 % "
             "t-intervals, a verdict word where the interval excludes 0 (`didan_lite.verdicts.paired_verdict`). "
             "AdaBN: each source-only network with the target's BatchNorm statistics. Upper bound: trained on the "
             "target's labels (evaluation only). Backbone: the runs' `settings.norm` (a file without it: GroupNorm). "
             "Predicted: how many of the row's committed predictions on these four contrasts held (each listed below "
             "the table).",
             "", "| shift | backbone | seeds | source-only | AdaBN - SO | MMD - SO | IDA - SO | IDA - MMD | upper bound "
             "| predicted | folder |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    named: dict[str, str] = {}
    scored = ["| shift | seeds | contrast | prediction | measured | outcome | committed in |", "|---|---|---|---|---|---|---|"]
    for given in folders:
        path, _, only = given.partition(":")
        folder = Path(path)
        summary = read_json(folder / "results.json", None)
        if summary is None:
            raise InputError(f"{folder} has no results.json: summarise it first (--summarise --out {folder}).")
        predictions = _predictions(folder, summary["shifts"])
        wanted = only.split(",") if only else list(summary["shifts"])
        for shift in wanted:
            if shift not in summary["shifts"]:
                raise InputError(f"{folder}/results.json has no shift {shift!r}; it has "
                                 f"{', '.join(summary['shifts'])}.")
            result = summary["shifts"][shift]
            backbone = backbone_of(read_json(folder / shift / "runs.json", {})) or "unknown (no runs.json)"
            means, contrasts = result["means"], result["contrasts"]
            upper = f"{means['oracle']:.1f}" if "oracle" in means else "-"
            cells = [_contrast_cell(contrasts.get(name)) for name in TABLE_CONTRASTS]
            named[shift] = _what_differs(shift)
            seeds = _seed_ranges(result["seeds"])
            outcomes = []
            for prediction in predictions["shifts"].get(shift, []):
                contrast = contrasts.get(prediction["contrast"])
                outcomes.append(prediction_outcome(prediction, contrast, seeds))
                scored.append(f"| {shift} | {seeds} | {prediction['contrast']} | {prediction['text']} | "
                              f"{_scored_cell(contrast)} | {outcomes[-1]} | "
                              f"`{os.path.normpath(folder / predictions['file'])}` ({predictions['commit']}) |")
            held = f"{outcomes.count('held')} of {len(outcomes)} held" if outcomes else "- (no predictions.json)"
            lines.append(f"| {shift} | {backbone} | {seeds} | {means['source-only']:.1f} | "
                         f"{' | '.join(cells)} | {upper} | {held} | `{folder}` |")
    lines += ["", *(f"- `{shift}`: {what}" for shift, what in named.items())]
    lines += ["", "## The predictions, each committed before its runs", "",
              "Each as its file words it (committed in: the file and the commit that added it, before the runs; the "
              "file has the reasons and the predictions on other figures). Measured to two decimals, as scored "
              "(`benchmarks.shift_bench.prediction_outcome`; a range's ends count as inside).", "",
              *scored]
    (out / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
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
