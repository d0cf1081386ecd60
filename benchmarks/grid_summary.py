"""Summaries of paired grids: merge the grid.json of task folders into results.md / results.json.

    python -m benchmarks.paired_grid --summarise B-C C-B B-C-adabn --out OUT

Means per task and method, paired differences to source-only and between methods (:data:`CONTRASTS`) with
their 95 % t-intervals, paired sd and verdicts (:func:`didan_lite.verdicts.paired_verdict`), the weights the
rule chose, and every run. An ``adabn`` run also gives the row of its network with source statistics
(:data:`BATCH_NORM`); a source-only run on the BatchNorm backbone gives the ``adabn`` row (:data:`TARGET_STATISTICS`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.verdicts import paired_verdict

from benchmarks.grid_io import backbone_of, read_json, required, write_json

OLD_CLASS_FIGURE = "knn_class_agreement"
"""Round 9's class figure (features standardised over source + target before the vote); marked †."""


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
            unmeasured = {"target_war": None, "proxy_a_distance": float("nan"), "feature_effective_rank": float("nan"),
                          "class_alignment": None, OLD_CLASS_FIGURE: None}
            if row["method"] == "adabn" and row.get(SOURCE_STATISTICS) is not None:
                rows.append({**row, **unmeasured, "method": BATCH_NORM, "target_uar": row[SOURCE_STATISTICS]})
            adapted = (row["task"], "adabn", int(row["seed"]))
            if row["method"] == "source-only" and row.get(TARGET_STATISTICS) is not None and adapted not in seen:
                seen[adapted] = folder
                rows.append({**row, **unmeasured, "method": "adabn", "target_uar": row[TARGET_STATISTICS]})
    return rows, runs, dropped, choices


SOURCE_STATISTICS = "target_uar_source_statistics"
"""Target UAR of an ``adabn`` run's network with its training source's BatchNorm statistics (no adaptation)."""

TARGET_STATISTICS = "target_uar_target_statistics"
"""Target UAR of a BatchNorm network with the target's own statistics. A source-only run on the BatchNorm backbone
(``paired_grid --norm batch``) gives the ``adabn`` row from it: the same trained network, adapted, so that
``adabn - source-only`` is the adaptation step alone."""

BATCH_NORM = "batchnorm"
"""The row a summary derives from each ``adabn`` run: the same network and seed scored with its source statistics,
so that ``batchnorm - source-only`` is the network change and ``adabn - batchnorm`` the adaptation step alone.
Its feature figures (PAD, rank, class alignment) are not measured (nan): the run measured the adapted features."""

CONTRASTS: tuple[tuple[str, str, str], ...] = (
    ("adabn", BATCH_NORM, "the adaptation step (target minus source statistics, one network)"),
    ("ida", "mmd", "IDA against MMD at the same weight"),
    ("ida@rule", "ida", "IDA at the rule's weight against IDA at the fixed weight"),
    ("mmd@rule", "mmd", "MMD at the rule's weight against MMD at the fixed weight"),
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
        InputError: no rows, a task of ``pool`` without rows, a task whose number of emotions is unknown, or folders
        of different backbones (:func:`benchmarks.grid_io.backbone_of`).
    """
    rows, runs, dropped, choices = merged_rows(folders, heldout)  # each grid.json checked
    backbones = {backbone_of(read_json(f / "grid.json", {})): f for f in folders}
    backbones.pop(None, None)
    if len(backbones) > 1:
        raise InputError("the folders ran different backbones (" + ", ".join(f"{b!r} in {f}" for b, f in backbones.items())
                         + "); summarise one backbone at a time.")
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
             "(no adaptation); on the BatchNorm backbone an `adabn` row is not trained either: it is each source-only "
             "run's network scored with the target's statistics. Training-set UAR %: each run's model on the data it trained on (does it fit?).", "",
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
