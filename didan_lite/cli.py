"""Command line: ``python -m didan_lite compare`` (what ``make demo`` runs).

Examples::

    python -m didan_lite compare                                  # embedded synthetic corpora
    python -m didan_lite compare --methods source-only,mmd,ida --seeds 0,1,2 --out runs/demo
    python -m didan_lite compare --source a/manifest.csv --target b/manifest.csv
    python -m didan_lite compare --task B-C --data-root ../shared/corpora
    python -m didan_lite compare --fast                           # the notebooks' fast mode, minutes on a CPU

The command line sits on top of both packages: it is the one place where
``didan_lite`` calls ``data_fetch`` (imported only for ``--task``), so the
library itself never depends on the downloader.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Sequence

from didan_lite import validation as valid
from didan_lite.alignment import ALIGNMENT_METHODS
from didan_lite.classical import CLASSICAL_METHODS
from didan_lite.errors import InputError
from didan_lite.model_selection import CRITERIA, DEFAULT_CRITERION


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
    data.add_argument("--data-root", type=Path, help="folder holding one sub-folder per corpus (emodb/, casia/, ...)")
    data.add_argument("--emotions", type=valid.emotion_list, help="comma-separated emotions, at least two (default: those both corpora share)")
    data.add_argument("--synthetic-seed", type=valid.seed, default=0, help="seed of the embedded corpora (default 0)")
    run = compare.add_argument_group("run")
    run.add_argument("--fast", action="store_true",
                     help="the notebooks' fast mode (didan_lite.presets.FAST): a class-balanced subset, coarser frames, "
                          "small batches, two candidate weights, and its seeds unless --seeds is given")
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
    run.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    run.add_argument("--strict", action="store_true", help="stop on the first unreadable audio file instead of skipping it")
    run.add_argument("--no-figures", action="store_true", help="skip the UMAP and other figures")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _manifests(args: argparse.Namespace) -> tuple[Path, Path, list[str] | None]:
    if args.task:
        if args.source or args.target:
            raise InputError("Give either --task or --source/--target, not both.")
        import data_fetch  # only here: the library does not depend on the downloader

        task = data_fetch.get_task(args.task)
        root = args.data_root
        source = data_fetch.corpus_manifest(task.source, root / task.source if root else None)
        target = data_fetch.corpus_manifest(task.target, root / task.target if root else None)
        return source, target, args.emotions or list(task.emotions)
    if bool(args.source) != bool(args.target):
        raise InputError("Give both --source and --target manifests (or neither, for the embedded corpora).")
    if args.source:
        return args.source, args.target, args.emotions
    from didan_lite.synthetic import make_default_corpora

    source, target = make_default_corpora(seed=args.synthetic_seed)
    print(f"Data: the embedded SYNTHETIC corpora (no download): {source.parent.name} -> {target.parent.name}", flush=True)
    return source, target, args.emotions


def _check_folders(args: argparse.Namespace) -> None:
    """Before any work: the output folder and the data folder (corpora, manifests, feature cache) must be writable."""
    from didan_lite.features import default_cache_dir

    valid.check_writable_folder(args.out, "The output folder (--out)", "give another --out")
    valid.check_writable_folder(default_cache_dir().parent, "The data folder", "set DIDAN_LITE_DATA to a writable folder")


def run_compare(args: argparse.Namespace) -> int:
    from didan_lite.experiment import ExperimentConfig, compare, results_markdown

    _check_folders(args)
    source, target, emotions = _manifests(args)
    config, seeds = ExperimentConfig(), [0, 1, 2]
    if args.fast:
        from didan_lite.manifest import balanced_subset, read_manifest
        from didan_lite.presets import FAST

        config, seeds = FAST.config, list(FAST.seeds)
        source, target = (balanced_subset(read_manifest(path), FAST.max_per_class) for path in (source, target))
    if args.criterion and args.weight != "auto":
        raise InputError(f"--criterion chooses the weight of --weight auto; drop it or drop --weight {args.weight:g}.")
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
    if args.fast:
        print(f"Fast mode (didan_lite.presets.FAST): at most {FAST.max_per_class} utterances per emotion and corpus, "
              f"{config.features.n_frames * config.features.hop_ms / 1000:g} s inputs ({config.features.n_frames} frames), "
              f"batches of {config.train.batch_size}, {config.train.epochs} epochs, "
              f"weights tried by --weight auto: {', '.join(f'{w:g}' for w in config.weight_candidates)}", flush=True)
    comparison = compare(
        source, target, methods=args.methods, seeds=args.seeds or seeds, out_dir=args.out, config=config,
        emotions=emotions, weight=args.weight, figures=not args.no_figures, progress=not args.quiet,
    )
    print()
    print(results_markdown(comparison.table()))
    print()
    print(f"Report: {(comparison.out_dir / 'report.md').resolve()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; bad input prints its message (no traceback) and returns 2; Ctrl-C returns 130."""
    try:
        args = build_parser().parse_args(argv)
        if args.command == "compare":
            return run_compare(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume; each run continues from its last checkpoint "
              "(saved after every epoch) and finished runs are not retrained.", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
