"""What a comparison writes: ``metrics.json``, ``report.md`` with paired verdicts, and figures.

Notebook: notebooks/05_ida_vs_mmd.ipynb reads these files.

Every report shows, per method and seed: target UAR and WAR, held-out source
UAR, proxy A-distance and effective rank of the aligned layer (for
``opensmile-svm``: of its standardised functionals), the alignment weight and
why it was chosen, and seconds; when the runs record them, the proxy
A-distance of the inputs, the class alignment (:func:`didan_lite.metrics.class_alignment`,
which reads target labels: evaluation only) and the numeric precision. Then the
mean +- sd table, per method the paired difference to source-only with its
95 % interval and the verdict of :mod:`didan_lite.verdicts`, and the verdict
sentences.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from didan_lite.atomic import atomic_write
from didan_lite.config import ExperimentConfig
from didan_lite.results import Comparison
from didan_lite.verdicts import LEARNED_MARGIN, MIN_PAIRS, as_table, interval_text, paired_table, verdict_lines


def write_metrics(comparison: Comparison, config: ExperimentConfig) -> Path:
    """``metrics.json``: task, settings, per-method per-seed figures, weight choices and the summary table."""
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
        "weight": comparison.weight,
        "weight_selection": [choice.summary() for choice in comparison.choices],
        "runs": [run.summary() for run in comparison.runs],
        "summary": comparison.table().to_dict(orient="records"),
        "paired": paired_table(comparison.runs, len(task.class_names)).to_dict(orient="records"),
        "verdicts": verdict_lines(comparison.runs, len(task.class_names)),
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
    histories = {run.method: run.history for run in runs if run.history}
    plot_training_curves(histories, "task_loss", ax=axes[0], ylabel="Source task loss")
    plot_training_curves(histories, "target_uar_monitor", ax=axes[1], ylabel="Target UAR (monitor only)")
    paths.append(_save(fig, figures_dir / "curves.png"))
    records = [_record(run) for run in comparison.runs]
    if any(_present(r.get("class_alignment")) for r in records):
        fig = plot_alignment_map(records, title=title)
        paths.append(_save(fig, figures_dir / "class_alignment.png"))
    return paths


def plot_alignment_map(records: Sequence[Mapping], *, ax=None, title: str = ""):
    """Corpus distance against class alignment, one point per run (every seed), coloured by method.

    x: proxy A-distance of the learned features (0 = corpora mixed); y: class alignment in %
    (:func:`didan_lite.metrics.class_alignment`; **reads target labels: evaluation only**). A method that
    mixes the corpora without lining up the classes moves left but not up. Returns the figure.
    """
    import matplotlib.pyplot as plt

    from didan_lite.plots import method_colour

    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 4), layout="constrained")
    else:
        fig = ax.figure
    records = [r for r in records if _present(r.get("class_alignment"))]
    for method in dict.fromkeys(r["method"] for r in records):
        mine = [r for r in records if r["method"] == method]
        ax.scatter([r["proxy_a_distance"] for r in mine], [100 * r["class_alignment"] for r in mine], s=36,
                   color=method_colour(method), label=method, edgecolor="black", linewidth=0.4)
    ax.set_xlabel("Proxy A-distance of the learned features (0 = corpora mixed)")
    ax.set_ylabel("Class alignment % (reads target labels)")
    ax.set_title(f"Class alignment: reads target labels, evaluation only{', ' + title if title else ''}", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    return fig


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)
    return path


def write_report(comparison: Comparison, config: ExperimentConfig, figure_paths: Sequence[Path] = ()) -> Path:
    """``report.md``: the mean +- sd table, the paired differences and verdicts, the per-seed table and the weight choices."""
    task, table = comparison.task, comparison.table()
    source, target = task.corpus_names
    synthetic = any(name.startswith("synth") for name in task.corpus_names)
    chance = 100 / len(task.class_names)
    weight = "chosen per method without target labels, see below" if comparison.weight == "auto" else f"{comparison.weight:g}"
    lines = [
        f"# Cross-corpus SER: {source} -> {target}",
        "",
        *(["> These corpora are **synthetic** (didan_lite.synthetic), generated to show the cross-corpus story without a download.", ""] if synthetic else []),
        f"Emotions ({len(task.class_names)}): {', '.join(task.class_names)}. "
        f"Utterances: {len(task.source_train.x)} source (train), {len(task.source_test.x)} source (held-out speakers), "
        f"{len(task.target.x)} target. Seeds: {sorted({run.seed for run in comparison.runs})}. "
        f"Epochs: {config.train.epochs}, warm-up {config.train.warmup_epochs} epochs; alignment weight: {weight}."
        + _precision_note(comparison.runs),
        "",
        results_markdown(table),
        "",
        "UAR = unweighted average recall (mean of per-class recalls), WAR = accuracy, on every target utterance, "
        "last-epoch model (no model selection on the target). Held-out source UAR of source-only is the within-corpus "
        "reference. Proxy A-distance: 0 = corpora indistinguishable in the learned features, 2 = separable. "
        "Feature rank: effective number of directions the aligned features use (a collapse lowers it). "
        "opensmile-svm: eGeMAPSv02 functionals, each corpus z-scored alone, linear SVM, no adaptation "
        "(its PAD and rank are of the standardised functionals; its seconds include openSMILE extraction when the cache is cold).",
        "",
        "## Verdicts",
        "",
        verdict_rule(chance),
        "",
        paired_markdown(comparison.runs, len(task.class_names)),
        "",
        *[f"- {line}" for line in verdict_lines(comparison.runs, len(task.class_names))],
        "",
        "## Per method and seed",
        "",
        runs_markdown(comparison.runs),
    ]
    if comparison.choices:
        lines += ["", "## Alignment weights chosen without target labels", "",
                  f"Criterion: {comparison.choices[0].criterion}.", ""]
        lines += [f"- {choice.method}: {choice.chosen:g}, {choice.reason}" for choice in comparison.choices]
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
    """Markdown table of :meth:`didan_lite.results.Comparison.table` (percentages with one decimal)."""
    header = (
        "| method | target UAR % | target WAR % | held-out source UAR % | proxy A-distance | feature rank | weight | s / run | seeds |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {r.method} | {r.target_uar_mean:.1f} ± {r.target_uar_sd:.1f} | {r.target_war_mean:.1f} ± {r.target_war_sd:.1f} "
        f"| {r.source_uar_mean:.1f} ± {r.source_uar_sd:.1f} | {r.proxy_a_distance_mean:.2f} ± {r.proxy_a_distance_sd:.2f} "
        f"| {r.feature_rank_mean:.1f} | {_weight(r.weight)} | {r.seconds_mean:.0f} | {r.seeds} |"
        for r in table.itertuples()
    ]
    return "\n".join([header, *rows])


COLLAPSE_RANK = 1.5
"""Feature rank (participation ratio, at least 1) below which the features lie on about one line."""
COLLAPSE_SOURCE_DROP = 15.0
"""Held-out source UAR loss (points against source-only) that counts as a collapse: the learned margin of
:mod:`didan_lite.verdicts`, lost again."""


def collapse_note(method: str, rank: float, source_uar: float, baseline_source_uar: float) -> str:
    """The collapse rule of notebooks 3, 4 and 5: ``""`` when it does not fire, else one sentence saying which part did.

    A model has collapsed when its feature rank is below :data:`COLLAPSE_RANK` (an absolute floor, so it can fire
    whatever source-only's rank) or its held-out source UAR is more than :data:`COLLAPSE_SOURCE_DROP` points
    below source-only's (the same seed). UARs in %. Why these thresholds: docs/decisions/collapse-rule.md.
    """
    reasons = []
    if rank < COLLAPSE_RANK:
        reasons.append(f"its feature rank is {rank:.1f}, below {COLLAPSE_RANK:g} (the features lie on about one line)")
    drop = baseline_source_uar - source_uar
    if drop > COLLAPSE_SOURCE_DROP:
        reasons.append(f"its held-out source UAR fell {drop:.1f} points below source-only's "
                       f"({baseline_source_uar:.1f} -> {source_uar:.1f} %, more than {COLLAPSE_SOURCE_DROP:g})")
    return f"COLLAPSE: {method} collapsed: " + " and ".join(reasons) + "." if reasons else ""


def _weight(value) -> str:
    return "-" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:g}"


def verdict_rule(chance: float) -> str:
    """The paragraph that states the verdict rule of :mod:`didan_lite.verdicts` (chance in %)."""
    return (f"Paired by seed (didan_lite.verdicts): per seed, a method's target UAR minus source-only's on the same seed "
            f"(same initial weights, same batches), then the mean difference and its 95 % t-interval over the seeds. "
            f"A method **helps** when the interval lies above 0, **hurts** when it lies below 0, with at least "
            f"{MIN_PAIRS} paired seeds and every run learned (held-out source UAR at least chance ({chance:.0f} %) "
            f"+ {100 * LEARNED_MARGIN:.0f} points on every seed); otherwise there is no conclusion.")


def paired_markdown(runs, n_classes: int, baseline: str = "source-only") -> str:
    """Markdown table per method (and per task, then pooled, when the runs hold several tasks): target UAR,
    the paired difference to ``baseline`` with its 95 % interval, the verdict, and the class alignment and input /
    learned-feature proxy A-distance where the runs record them.

    Class alignment reads target labels (evaluation only); the table says so."""
    frame = as_table(runs)
    tasks = list(dict.fromkeys(frame["task"])) if "task" in frame else []
    groups = [(t, frame[frame["task"] == t]) for t in tasks] + ([("pooled", frame)] if len(tasks) > 1 else [])
    extras = [(key, label, scale) for key, label, scale in (
        ("class_alignment", "class alignment % (reads target labels: evaluation only)", 100),
        ("input_proxy_a_distance", "PAD of the inputs", 1), ("proxy_a_distance", "PAD of the learned features", 1))
        if key in frame and frame[key].map(_present).any()]
    columns = (["task"] if groups else []) + ["method", "runs", "target UAR % (± seed sd)",
                                              f"vs {baseline}, points [95 % interval]", "paired sd", "verdict"] + [
        label for _, label, _ in extras]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for task, rows in groups or [(None, frame)]:
        table = paired_table(rows, n_classes, baseline=baseline)
        for r in table.itertuples():
            sd = f" ± {r.target_uar_sd:.1f}" if r.runs > 1 else ""
            difference = "-" if np.isnan(r.difference) else f"{r.difference:+.1f} {interval_text(r.ci_low, r.ci_high)}"
            cells = ([task] if task is not None else []) + [
                r.method, str(r.runs), f"{r.target_uar_mean:.1f}{sd}", difference,
                "-" if np.isnan(r.paired_sd) else f"{r.paired_sd:.1f}",
                "(baseline)" if r.method == baseline else r.verdict or "-"]
            for key, _, scale in extras:
                known = [scale * v for v in rows.loc[rows["method"] == r.method, key] if _present(v)]
                cells.append(f"{np.mean(known):.{1 if scale == 100 else 2}f}" if known else "-")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _record(run) -> dict:
    """A run's JSON figures, whether a :class:`RunResult` or already a mapping (a row of metrics.json)."""
    return run.summary() if hasattr(run, "summary") else dict(run)


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _precision_note(runs) -> str:
    precisions = sorted({str(r["precision"]) for r in map(_record, runs) if _present(r.get("precision"))})
    return f" Numeric precision: {', '.join(precisions)}." if precisions else ""


def runs_markdown(runs) -> str:
    """Markdown table with one row per (method, seed): every figure of the report, from :class:`RunResult` objects or
    metrics.json rows; columns for class alignment (reads target labels), input PAD and precision appear when recorded."""
    records = [_record(run) for run in runs]
    extras = [key for key in ("class_alignment", "input_proxy_a_distance", "precision")
              if any(_present(r.get(key)) for r in records)]
    names = {"class_alignment": "class alignment % (eval. only)", "input_proxy_a_distance": "input PAD", "precision": "precision"}
    columns = ["method", "seed", "target UAR %", "target WAR %", "held-out source UAR %", "PAD", "feature rank", "weight",
               "DEV risk", "s"] + [names[key] for key in extras]
    rows = []
    for r in records:
        cells = [r["method"], str(r["seed"]), f"{100 * r['target_uar']:.1f}", f"{100 * r['target_war']:.1f}",
                 f"{100 * r['source_heldout_uar']:.1f}", f"{r['proxy_a_distance']:.2f}", f"{r['feature_effective_rank']:.1f}",
                 _weight(r.get("alignment_weight")), "-" if not _present(r.get("dev_risk")) else f"{r['dev_risk']:.3f}",
                 f"{r['seconds']:.0f}"]
        for key in extras:
            value = r.get(key)
            cells.append("-" if not _present(value) else f"{100 * value:.1f}" if key == "class_alignment"
                         else f"{value:.2f}" if key == "input_proxy_a_distance" else str(value))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns), *rows])
