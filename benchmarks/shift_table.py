"""The shift bench's table: summarised folders gathered into one table, each committed prediction scored.

    python -m benchmarks.shift_bench --table benchmarks/results/round22/shifts benchmarks/results/round21/shifts:channel --out OUT

A row per shift and folder (``FOLDER:SHIFT,...``: those shifts only) with its backbone, seeds, source-only's target
UAR, the four contrasts of :data:`TABLE_CONTRASTS` and the upper bound; a folder's ``predictions.json`` (the
predictions of its committed PREDICTION.md, with the conditions they state) is scored against its rows
(:func:`prediction_outcome`). Where the table holds the control (``none``) on a row's seeds, the row's IDA - MMD is
also read against the control's, paired by training seed (:func:`beyond_control`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from didan_lite.errors import InputError
from didan_lite.synthetic import EMOTIONS
from didan_lite.synthetic.shifts import SHIFTS
from didan_lite.verdicts import NOT_MEASURED, interval_verdict, learned

from benchmarks.grid_io import backbone_of, read_json

CONTROL = "none"
"""The shift whose target differs from the source by its speakers only: the bench's control."""


def labelled(runs: list[dict]) -> list[dict]:
    """The runs of one shift, a method run at another weight than the shift's usual one named ``method@weight``."""
    weights = [r["weight"] for r in runs if r["weight"] is not None]
    usual = max(sorted(set(weights)), key=weights.count) if weights else None  # a tie: the smallest
    return [r if r["weight"] in (None, usual) else dict(r, method=f"{r['method']}@{r['weight']:g}") for r in runs]


def what_differs(shift: str) -> str:
    """A shift's factor in words, with whether alignment could undo it; a real task's data."""
    if shift not in SHIFTS:
        return "real task, full-mode data" + (", the CASIA target half neutral" if shift == "B-C-skewed" else "")
    factor = SHIFTS[shift].factor
    return factor if shift == "none" else f"{factor} ({'alignable' if SHIFTS[shift].alignable else 'negative control'})"


TABLE_CONTRASTS = ("adabn - source-only", "mmd - source-only", "ida - source-only", "ida - mmd")
BEYOND_CONTROL = f"ida - mmd beyond {CONTROL}"
"""The row's IDA - MMD minus the control's, paired by seed (:func:`beyond_control`): a column, and a contrast a
prediction may name."""
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
    if contrast["verdict"] == NOT_MEASURED:
        return f"{text} {NOT_MEASURED}"
    return f"**{text} {contrast['verdict']}**" if contrast["verdict"] in ("helps", "hurts") else text


VERDICT_WORDS = ("helps", "hurts", "no conclusion")


def against_control(shift: str) -> bool:
    """Whether a shift's lead can be read against the control's: a synthetic shift, not the control, same source."""
    return shift in SHIFTS and shift != CONTROL and SHIFTS[shift].source == SHIFTS[CONTROL].source


def beyond_control(runs: list[dict], controls: list[list[dict]], n_classes: int) -> dict | None:
    """A shift's IDA - MMD read against the control's, paired by training seed.

    ``runs``: the shift's run records; ``controls``: run records of the control, one list per folder, the first
    holding a seed's IDA and MMD runs at the shift's weights and budget serving that seed (so both come from one
    folder). Per paired seed, (IDA - MMD on the shift) - (IDA - MMD on the control) in points; their mean, 95 %
    t-interval and verdict (:func:`didan_lite.verdicts.interval_verdict`), "no conclusion" where one of a seed's four
    runs did not learn and :data:`~didan_lite.verdicts.NOT_MEASURED` where one records no held-out source figure
    (rule 1). ``seeds``: the seeds paired; ``controls_used``: the indices of ``controls`` that served. The targets
    differ (that is the shift); a seed's initial weights and source batches do not. None: no seed paired.
    """
    def leads(rows: list[dict]) -> dict[int, tuple[dict, dict]]:
        by = {(r["method"], r["seed"]): r for r in rows}
        return {seed: (by["ida", seed], by["mmd", seed]) for method, seed in by if method == "ida" and ("mmd", seed) in by}

    def alike(a: tuple[dict, dict], b: tuple[dict, dict]) -> bool:
        return all(x.get("weight") == y.get("weight") and x.get("budget") == y.get("budget") for x, y in zip(a, b))

    shifted, served = leads(runs), {}
    for index, control in enumerate(controls):
        for seed, pair in leads(control).items():
            if seed in shifted and seed not in served and alike(shifted[seed], pair):
                served[seed] = (index, pair)
    seeds = sorted(served)
    if not seeds:
        return None
    differences = [100 * ((shifted[s][0]["target_uar"] - shifted[s][1]["target_uar"])
                          - (served[s][1][0]["target_uar"] - served[s][1][1]["target_uar"])) for s in seeds]
    mean, low, high, verdict, reason = interval_verdict(differences)
    paired = [dict(r, method=r["method"] + name) for s in seeds
              for name, pair in (("", shifted[s]), (" (control)", served[s][1])) for r in pair]
    failed = [check for check in learned(paired, n_classes).values() if not check.ok]
    if any(check.unmeasured_seeds for check in failed):
        verdict, reason = NOT_MEASURED, " ".join(check.sentence for check in failed if check.unmeasured_seeds)
    elif failed:
        verdict, reason = "no conclusion", " ".join(check.sentence for check in failed)
    return {"n": len(seeds), "mean": mean, "low": low, "high": high, "verdict": verdict, "reason": reason,
            "seeds": seeds, "controls_used": sorted({served[s][0] for s in seeds})}


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
            if prediction.get("contrast") not in (*TABLE_CONTRASTS, BEYOND_CONTROL):
                raise InputError(f"{where} is on {prediction.get('contrast')!r}; name one of "
                                 f"{', '.join((*TABLE_CONTRASTS, BEYOND_CONTROL))}.")
            own = [key for key in ("file", "commit") if key in prediction]
            if own and (len(own) == 1 or not all(isinstance(prediction[key], str) for key in own)):
                raise InputError(f"{where} gives {' and '.join(own)} of its own; give both file and commit as text (a "
                                 "prediction committed elsewhere than the folder's file) or neither.")
            if prediction["contrast"] == BEYOND_CONTROL and not against_control(shift):
                raise InputError(f"{where} is on {BEYOND_CONTROL!r}, which {shift} has none of (the control itself, a "
                                 "real task or a shift with another source); predict another contrast.")
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
             f"Beyond `{CONTROL}`: the row's IDA - MMD minus the control's, paired by training seed (the targets differ; "
             "the seeds' initial weights and source batches do not), on the seeds the table's control rows share with "
             "the row; '-' for the control itself, a real task or a shift with another source. "
             "Predicted: how many of the row's committed predictions on these contrasts held (each listed below "
             "the table).",
             "", "| shift | backbone | seeds | source-only | AdaBN - SO | MMD - SO | IDA - SO | IDA - MMD | beyond "
             f"`{CONTROL}` | upper bound | predicted | folder |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    controls: list[tuple[Path, str | None, list[dict]]] = []  # (folder, backbone, runs) of every control given
    for given in folders:
        path, _, only = given.partition(":")
        record = read_json(Path(path) / CONTROL / "runs.json", None) if not only or CONTROL in only.split(",") else None
        if record is not None:
            controls.append((Path(path), backbone_of(record), labelled(record["rows"])))
    served: list[str] = []
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
            means, contrasts = result["means"], dict(result["contrasts"])
            upper = f"{means['oracle']:.1f}" if "oracle" in means else "-"
            cells = [_contrast_cell(contrasts.get(name)) for name in TABLE_CONTRASTS]
            seeds = _seed_ranges(result["seeds"])
            beyond = None
            if against_control(shift):
                alike = [(path, runs) for path, kind, runs in controls if kind == backbone]  # one backbone per pair
                runs = labelled(read_json(folder / shift / "runs.json", {"rows": []})["rows"])
                beyond = contrasts[BEYOND_CONTROL] = beyond_control(runs, [r for _, r in alike], len(EMOTIONS))
            if beyond is not None:
                used = ", ".join(f"`{alike[i][0]}`" for i in beyond["controls_used"])
                served.append(f"- `{shift}` ({seeds}): {_seed_ranges(beyond['seeds'])} against {used}")
            shared = "" if beyond is None or beyond["n"] == len(result["seeds"]) else f" ({beyond['n']} seeds)"
            cells.append(_contrast_cell(beyond) + shared)
            named[shift] = what_differs(shift)
            outcomes = []
            for prediction in predictions["shifts"].get(shift, []):
                contrast = contrasts.get(prediction["contrast"])
                paired = _seed_ranges(contrast["seeds"]) if contrast is not None and "seeds" in contrast else seeds
                outcomes.append(prediction_outcome(prediction, contrast, paired))
                where = os.path.normpath(folder / prediction.get("file", predictions["file"]))
                scored.append(f"| {shift} | {seeds} | {prediction['contrast']} | {prediction['text']} | "
                              f"{_scored_cell(contrast)} | {outcomes[-1]} | "
                              f"`{where}` ({prediction.get('commit', predictions['commit'])}) |")
            held = f"{outcomes.count('held')} of {len(outcomes)} held" if outcomes else "- (no predictions.json)"
            lines.append(f"| {shift} | {backbone} | {seeds} | {means['source-only']:.1f} | "
                         f"{' | '.join(cells)} | {upper} | {held} | `{folder}` |")
    lines += ["", *(f"- `{shift}`: {what}" for shift, what in named.items())]
    if served:
        lines += ["", f"Beyond `{CONTROL}`, the seeds paired and the control folders (same backbone, weights and "
                  "budget; a seed's IDA and MMD from one folder):", "", *served]
    lines += ["", "## The predictions, each committed before its runs", "",
              "Each as its file words it (committed in: the file and the commit that added it, before the runs; the "
              "file has the reasons and the predictions on other figures). Measured to two decimals, as scored "
              "(`benchmarks.shift_table.prediction_outcome`; a range's ends count as inside).", "",
              *scored]
    (out / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
