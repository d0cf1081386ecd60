"""Command line: ``python -m didan_lite compare`` (what ``make demo`` runs).

Examples::

    python -m didan_lite compare                                  # embedded synthetic corpora
    python -m didan_lite compare --methods source-only,mmd,ida --seeds 0,1,2 --out runs/demo
    python -m didan_lite compare --source a/manifest.csv --target b/manifest.csv
    python -m didan_lite compare --task B-C --data-root ../shared/corpora
    python -m didan_lite compare --fast                           # the notebooks' fast mode, minutes on a CPU
    python -m didan_lite compare --demo --out runs/demo           # make demo: one seed, the reference beside it

``--task`` turns a task name into manifests with ``data_fetch.task_manifest_paths``, found through the entry
point :data:`TASK_ENTRY_POINT` that ``pyproject.toml`` registers: ``data_fetch`` builds on the library, and the
library never imports it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import warnings
from pathlib import Path
from typing import Iterator, Sequence

from didan_lite import validation as valid
from didan_lite.alignment import ALIGNMENT_METHODS
from didan_lite.audio import DEFAULT_MAX_SECONDS, MAX_SECONDS_VAR, max_seconds
from didan_lite.classical import CLASSICAL_METHODS
from didan_lite.errors import InputError
from didan_lite.folders import run_command
from didan_lite.manifest import check_manifest_file
from didan_lite.model_selection import CRITERIA, DEFAULT_CRITERION


TASK_ENTRY_POINT = ("didan_lite.tasks", "manifests")
"""(group, name) of the entry point that turns ``--task`` into (source manifest, target manifest, emotions)."""


class _Parser(argparse.ArgumentParser):
    """Option errors become an InputError: one line ``error: ...``, exit code 2, no usage block."""

    def error(self, message: str):
        raise InputError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m didan_lite", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser("compare", help="train methods on one source -> target pair over seeds; write a report")
    data = compare.add_argument_group("data (default: the embedded synthetic corpora)")
    data.add_argument("--source", type=Path, help="source manifest CSV")
    data.add_argument("--target", type=Path, help="target manifest CSV")
    data.add_argument("--task", help="a preset of data_fetch, e.g. B-C, C-B, B-E (needs --data-root or prepared corpora)")
    data.add_argument("--data-root", type=Path, help="folder holding one sub-folder per corpus (emodb/, casia/, ...), "
                      "searched first (then $DIDAN_LITE_CORPORA, ../shared/corpora and the data_fetch cache)")
    data.add_argument("--emotions", type=valid.emotion_list, help="comma-separated emotions, at least two (default: those both corpora share)")
    data.add_argument("--synthetic-seed", type=valid.seed, help="seed of the embedded corpora (default 0; only without "
                      "--source/--task)")
    data.add_argument("--allow-overlap", action="store_true",
                      help="run although some target files are also source files (by content); the report says so. "
                           "A target made only of source audio is always refused")
    data.add_argument("--max-audio-seconds", type=valid.positive_seconds,
                      help=f"longest audio file decoded, checked from its header (default {DEFAULT_MAX_SECONDS:g} s; "
                           f"also ${MAX_SECONDS_VAR})")
    run = compare.add_argument_group("run")
    run.add_argument("--fast", action="store_true",
                     help="the notebooks' fast mode (didan_lite.presets.FAST): a class-balanced subset, coarser frames, "
                          "small batches, two candidate weights, and its seeds unless --seeds is given")
    run.add_argument("--demo", action="store_true",
                     help="what make demo runs (didan_lite.presets.DEMO): fast mode on the embedded synthetic pair, one "
                          "seed, MMD and IDA at the reference's fixed weight, the shipped reference printed beside")
    run.add_argument("--methods", type=valid.method_list, default=["source-only", "mmd", "ida"],
                     help=f"comma-separated, among {', '.join((*CLASSICAL_METHODS, *ALIGNMENT_METHODS))} (default source-only,mmd,ida)")
    run.add_argument("--seeds", type=valid.seed_list, help="comma-separated seeds (default 0,1,2; with --fast the preset's)")
    run.add_argument("--out", type=Path, default=Path("runs/compare"), help="output folder (default runs/compare)")
    run.add_argument("--epochs", type=valid.integer_at_least(1, "--epochs"), help="training epochs (default 20)")
    run.add_argument("--weight", type=valid.alignment_weight, default="auto",
                     help="alignment trade-off weight, or 'auto': per method, the largest candidate whose held-out "
                          "source error is within one standard error of the best, never target labels (default auto)")
    run.add_argument("--criterion", choices=list(CRITERIA),
                     help="how --weight auto chooses, never from target labels: source-1se (the one-standard-error rule "
                          "on held-out source speakers, the default) or dev (deep embedded validation)")
    run.add_argument("--batch-size", type=valid.integer_at_least(2, "--batch-size"), help="batch size per domain (default 32)")
    run.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    run.add_argument("--strict", action="store_true",
                     help="stop on the first unusable audio file instead of skipping it (skipped files are listed in "
                          "OUT/skipped_files.tsv)")
    run.add_argument("--no-figures", action="store_true", help="skip the UMAP and other figures")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _check_combination(args: argparse.Namespace) -> None:
    """Refuse, before any work, options that have no effect with the others given, and a data root that is not there."""
    if args.task and (args.source or args.target):
        raise InputError("Give either --task or --source/--target, not both.")
    if bool(args.source) != bool(args.target):
        raise InputError("Give both --source and --target manifests (or neither, for the embedded corpora).")
    if args.data_root is not None and not args.task:
        raise InputError(f"--data-root {args.data_root} is used only with --task; add the task (e.g. --task B-C) "
                         "or drop --data-root.")
    if args.data_root is not None and not args.data_root.is_dir():
        raise InputError(f"--data-root {args.data_root} is not an existing folder; give the folder holding one "
                         "sub-folder per corpus (emodb/, casia/ ...).")
    if args.synthetic_seed is not None and (args.task or args.source):
        raise InputError("--synthetic-seed chooses the embedded synthetic corpora; drop it when giving "
                         f"{'--task' if args.task else '--source/--target'}.")
    if not (args.task or args.source):
        unused = [flag for flag, given in (("--allow-overlap", args.allow_overlap),
                                           ("--max-audio-seconds", args.max_audio_seconds is not None)) if given]
        if unused:
            raise InputError(f"{' and '.join(unused)} only act on real audio; the embedded synthetic corpora are "
                             "generated here. Add --task (e.g. --task B-C) or --source/--target, or drop them.")
    if args.demo:
        given = [flag for flag, on in (("--fast", args.fast), ("--task", args.task), ("--source", args.source),
                                        ("--weight", args.weight != "auto"), ("--criterion", args.criterion),
                                        ("--synthetic-seed", args.synthetic_seed is not None)) if on]
        if given:
            raise InputError(f"--demo fixes the data, mode and weight; drop {' and '.join(given)}, or drop --demo.")
    if args.criterion and args.weight != "auto":
        raise InputError(f"--criterion chooses the weight of --weight auto; drop it or drop --weight {args.weight:g}.")
    for name in ("source", "target"):
        if getattr(args, name) is not None:
            check_manifest_file(getattr(args, name))


def _manifests(args: argparse.Namespace) -> tuple[Path, Path, list[str] | None]:
    if args.task:
        source, target, emotions = task_manifests(args.task, args.data_root)
        return source, target, args.emotions or list(emotions)
    if args.source:
        return args.source, args.target, args.emotions
    from didan_lite.synthetic import make_default_corpora

    source, target = make_default_corpora(seed=args.synthetic_seed or 0)
    print(f"Data: the embedded SYNTHETIC corpora (no download): {source.parent.name} -> {target.parent.name}", flush=True)
    return source, target, args.emotions


def task_manifests(task: str, data_root: Path | None) -> tuple[Path, Path, Sequence[str]]:
    """(source manifest, target manifest, emotions) of ``task``, from the provider of :data:`TASK_ENTRY_POINT`.

    Raises:
        InputError: no provider is installed (the package was not installed, or before the entry point existed),
            or the provider's own refusal (unknown task, a corpus without a copy).
    """
    from importlib.metadata import entry_points

    group, name = TASK_ENTRY_POINT
    providers = entry_points(group=group, name=name)
    if not providers:
        raise InputError(f"--task {task} needs data_fetch's task provider (entry point {group}:{name}), which installing "
                         "didan-lite registers: run `pip install -e .` in the repository (or `make demo`), or give "
                         "--source/--target manifests.")
    return next(iter(providers)).load()(task, data_root)


def _check_folders(args: argparse.Namespace) -> None:
    """Before any work: the output folder and the data folder (corpora, manifests, feature cache) must be writable."""
    from didan_lite.features import default_cache_dir

    valid.check_writable_folder(args.out, "The output folder (--out)", "give another --out")
    valid.check_writable_folder(default_cache_dir().parent, "The data folder", "set DIDAN_LITE_DATA to a writable folder")


def run_compare(args: argparse.Namespace) -> int:
    """Run ``compare``: every check that needs no data first (options, device), then the folders, then the work."""
    _check_combination(args)
    valid.check_device(args.device)
    with _audio_limit(args.max_audio_seconds):
        max_seconds()  # $DIDAN_LITE_MAX_AUDIO_SECONDS refused before any work, warm feature cache or not
        return _run(args)


@contextlib.contextmanager
def _audio_limit(seconds: float | None) -> Iterator[None]:
    """Set ``$DIDAN_LITE_MAX_AUDIO_SECONDS`` (read by :func:`didan_lite.audio.max_seconds`) for the run; restore it after."""
    before = os.environ.get(MAX_SECONDS_VAR)
    if seconds is not None:
        os.environ[MAX_SECONDS_VAR] = f"{seconds:g}"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MAX_SECONDS_VAR, None)
        else:
            os.environ[MAX_SECONDS_VAR] = before


def _run(args: argparse.Namespace) -> int:
    from didan_lite.experiment import ExperimentConfig, compare, results_markdown

    _check_folders(args)
    source, target, emotions = _manifests(args)
    config, seeds, weight, mode = ExperimentConfig(), [0, 1, 2], args.weight, None
    if args.fast or args.demo:
        from didan_lite.manifest import balanced_subset, read_manifest
        from didan_lite.presets import DEMO, FAST

        mode = DEMO if args.demo else FAST
        config, seeds, weight = mode.config, list(mode.seeds), mode.weight if args.demo else args.weight
        source, target = (balanced_subset(read_manifest(path), mode.max_per_class) for path in (source, target))
    config = dataclasses.replace(config, strict=args.strict, weight_criterion=args.criterion or DEFAULT_CRITERION)
    overrides = {
        key: value
        for key, value in {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "device": args.device,
            "progress": not args.quiet,
        }.items()
        if value is not None
    }
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, **overrides))
    if mode is not None:
        print(f"{mode.name.capitalize()} mode (didan_lite.presets.{mode.name.upper()}): at most {mode.max_per_class} "
              "utterances per emotion and corpus, "
              f"{config.features.n_frames * config.features.hop_ms / 1000:g} s inputs ({config.features.n_frames} frames), "
              f"batches of {config.train.batch_size}, {config.train.epochs} epochs, "
              + (f"alignment weight fixed at {weight:g}" if weight != "auto" else
                 f"weights tried by --weight auto: {', '.join(f'{w:g}' for w in config.weight_candidates)}"), flush=True)
    comparison = compare(
        source, target, methods=args.methods, seeds=args.seeds or seeds, out_dir=args.out, config=config,
        emotions=emotions, weight=weight, figures=not args.no_figures, progress=not args.quiet,
        allow_overlap=args.allow_overlap,
    )
    print()
    print(results_markdown(comparison.table()))
    print()
    if mode is not None and mode.reference:
        print(beside_reference(comparison.table(), mode.reference))
        print(f"The aligning methods ran at the reference's fixed weight {weight:g}, not at a chosen one: --weight auto "
              "may choose no alignment (weight 0: the source-only model under another name); `make compare` runs the "
              "full protocol with the rule's choice.")
        print()
    print(f"Report: {(comparison.out_dir / 'report.md').resolve()}")
    return 0


def beside_reference(table, task: str) -> str:
    """This run's target UAR per method beside the shipped reference of ``task`` (mean +- sd over its seeds, paired
    difference to source-only with its 95 % interval and verdict), as markdown, then where the reference came from."""
    from didan_lite.reference import load_reference

    reference = load_reference(task)
    theirs = reference.table().set_index("method")
    weights = reference.runs.groupby("method")["alignment_weight"].first()
    lines = [f"Beside the reference ({task}, {reference.provenance['mode']} mode, {len(reference.runs)} runs):", "",
             "| method | weight (run / reference) | this run: target UAR % (seeds) | reference: target UAR % | reference: vs source-only |",
             "|---|---|---|---|---|"]
    for row in table.itertuples():
        mean, versus = "not in the reference", ""
        if row.method in theirs.index:
            ref = theirs.loc[row.method]
            mean = f"{ref.target_uar_mean:.1f} +- {ref.target_uar_sd:.1f} ({ref.runs})"
            if ref.verdict:
                versus = f"{ref.difference:+.1f} [{ref.ci_low:+.1f}, {ref.ci_high:+.1f}]: {ref.verdict}"
        shown = " / ".join("-" if w is None or w != w else f"{w:g}" for w in (row.weight, weights.get(row.method)))
        lines.append(f"| {row.method} | {shown} | {row.target_uar_mean:.1f} ({row.seeds}) | {mean} | {versus} |")
    return "\n".join([*lines, "", reference.describe()])


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one ``warning:`` line, without the line of package source Python prints by default."""
    print(f"warning: {' '.join(str(message).split())}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; bad input prints its message (no traceback) and returns 2; Ctrl-C returns 130.

    A full disk is bad input too (one line naming the folder); warnings print as one line each, and the
    extractor's own note on skipped files gives way to the line of :func:`didan_lite.validation.write_skipped`.
    """
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning
        warnings.filterwarnings("ignore", message="Skipped .* unreadable file")
        return run_command(lambda: _dispatch(argv), "run the same command again to resume; each run continues from "
                           "its last checkpoint (saved after every epoch) and finished runs are not retrained.")


def _dispatch(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    return run_compare(args) if args.command == "compare" else 1


if __name__ == "__main__":
    sys.exit(main())
