"""Command line: ``python -m data_fetch list | download NAME | prepare NAME --root DIR | verify NAME --root DIR``.

Bad input prints its message (no traceback) and exits with code 2; ``verify``
exits with 1 when the copy is incomplete; Ctrl-C prints one line and exits with 130.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Sequence

from didan_lite.folders import run_command
from didan_lite.manifest import read_manifest

from data_fetch import cache
from data_fetch.corpora import CORPORA
from data_fetch.tasks import FREE_TASK, TASKS, get_task

_ACCESS = {"download": "free, downloaded", "manual": "free, placed by hand", "licence": "licence-gated"}


def _list(args: argparse.Namespace) -> int:
    base = cache.data_dir(args.data_dir)
    print(f"Cache folder: {base}  (set with --data-dir or ${cache.ENV_VAR})\n")
    print(f"{'corpus':<10} {'short':<6} {'files':>6}  {'access':<22} {'cached':<7} title")
    for spec in CORPORA.values():
        cached = "yes" if cache.extracted_dir(spec.key, base).is_dir() else "no"
        access = _ACCESS[spec.access]
        print(f"{spec.key:<10} {spec.short or '':<6} {spec.expected_total:>6,}  {access:<22} {cached:<7} {spec.title}")
    print("\nTask presets (any other pair works too, e.g. ravdess->tess):")
    for task in TASKS.values():
        print(f"  {task.name}: {task.source} -> {task.target} on {', '.join(task.emotions)}")
    free = get_task(FREE_TASK)
    print(f"\nFree real task (both corpora downloadable): {free.source} -> {free.target} on {', '.join(free.emotions)};")
    print("  in a notebook: task_manifests(download=True, accept_license=True) from data_fetch.notebook_data")
    return 0


def _download(args: argparse.Namespace) -> int:
    from data_fetch.fetch import download

    folder = download(args.name, accept_license=args.accept_license, data_dir=args.data_dir)
    print(f"{args.name} is in {folder}\nNext: python -m data_fetch prepare {args.name}")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from data_fetch.manifests import CorpusWarning, prepare

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CorpusWarning)
        path = prepare(
            args.name, args.root, out=args.out, data_dir=args.data_dir, strict=args.strict, progress=sys.stderr.isatty()
        )
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    frame = read_manifest(path, check_files=False)
    counts = ", ".join(f"{emotion} {count}" for emotion, count in frame["emotion"].value_counts().sort_index().items())
    print(f"Wrote {path}: {len(frame)} utterances, {frame['speaker'].nunique()} speakers ({counts})")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from data_fetch.verification import verify

    report = verify(args.name, args.root, data_dir=args.data_dir)
    print(report.summary())
    return 0 if report.complete else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data_fetch", description="Fetch, prepare and verify emotional-speech corpora."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help=f"cache folder (default ${cache.ENV_VAR} or {cache.DEFAULT_DATA_DIR})")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", parents=[common], help="corpora, their access and the task presets")
    listing.set_defaults(run=_list)

    download = commands.add_parser("download", parents=[common], help="download and extract a free corpus")
    download.add_argument("name")
    download.add_argument("--accept-license", action="store_true", help="accept the corpus's licence without a prompt")
    download.set_defaults(run=_download)

    prepare = commands.add_parser("prepare", parents=[common], help="write the manifest of a copy")
    prepare.add_argument("name")
    prepare.add_argument("--root", help="the copy's folder (default: the cache folder's copy)")
    prepare.add_argument("--out", help="manifest path (default: in the cache folder)")
    prepare.add_argument(
        "--strict", action="store_true", help="fail on unreadable or mislabelled files instead of skipping them"
    )
    prepare.set_defaults(run=_prepare)

    verify = commands.add_parser(
        "verify", parents=[common], help="check a copy: missing, extra, unreadable, mislabelled, counts"
    )
    verify.add_argument("name")
    verify.add_argument("--root", help="the copy's folder (default: the cache folder's copy)")
    verify.set_defaults(run=_verify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    return run_command(lambda: args.run(args), "run the same command again; a download continues where it stopped.")
