"""The manifest: one table that describes a corpus, real or synthetic.

A manifest is a CSV file with one row per utterance. ``data_fetch`` writes one
for every real corpus, :mod:`didan_lite.synthetic` writes one for the embedded
corpora, and everything downstream (features, training, the main job) reads
only manifests, so real and synthetic data share one code path.

Columns (``MANIFEST_COLUMNS``):

=================  ==========================================================
``path``           audio file; relative paths are relative to the manifest's
                   folder (so a corpus folder can be moved as a whole)
``emotion``        canonical emotion, one of ``CANONICAL_EMOTIONS``
``original_label`` the corpus's own label (``W``, ``angry``, ``03`` ...)
``speaker``        speaker id, unique within the corpus
``gender``         ``female``, ``male`` or empty when the corpus does not say
``text_id``        sentence or text id, empty when unknown
``corpus``         short corpus name (``emodb``, ``casia``, ``synth-a`` ...)
=================  ==========================================================
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from didan_lite.atomic import atomic_write
from didan_lite.audio import file_problem
from didan_lite.errors import InputError
from didan_lite.folders import check_name_lengths

CANONICAL_EMOTIONS: tuple[str, ...] = (
    "anger",
    "boredom",
    "calm",
    "disgust",
    "fear",
    "happiness",
    "neutral",
    "sadness",
    "surprise",
)
MANIFEST_COLUMNS: tuple[str, ...] = (
    "path",
    "emotion",
    "original_label",
    "speaker",
    "gender",
    "text_id",
    "corpus",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("path", "emotion", "speaker", "corpus")


def check_manifest_file(path: str | os.PathLike) -> Path:
    """Refuse a manifest path that is not a readable regular file, without opening it (a pipe would block).

    Raises:
        InputError: missing (also a dangling link), a pipe, folder or device, a name too long.
    """
    csv_path = Path(path)
    check_name_lengths(csv_path, f"Manifest {str(csv_path)[:60]}...", "shorten it")
    problem = file_problem(csv_path)
    if problem == "does not exist":
        raise InputError(
            f"Manifest {csv_path} does not exist. Create it with `python -m data_fetch prepare NAME --root DIR` "
            "or `didan_lite.synthetic.make_default_corpora()`."
        )
    if problem:
        raise InputError(f"Manifest {csv_path} {problem}; save it to a regular CSV file and give that path.")
    return csv_path


def _read_csv(csv_path: Path) -> pd.DataFrame:
    """The CSV as strings; duplicate column names and unparsable rows refused with one line."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise InputError(f"Manifest {csv_path} has the column(s) {repeated} more than once; keep one of each.")
        return pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError, csv.Error) as exc:
        reason = " ".join(str(exc).split())  # pandas' messages span lines
        raise InputError(f"Manifest {csv_path} is not a readable CSV file ({reason}); fix that row.") from exc


def _check_required_values(frame: pd.DataFrame, name: str) -> None:
    """Refuse rows with an empty required value (an empty speaker would become a speaker)."""
    for column in REQUIRED_COLUMNS:
        empty = [i + 2 for i, value in enumerate(frame[column]) if not value.strip()]  # CSV line numbers
        if empty:
            lines = ", ".join(map(str, empty[:5])) + (" ..." if len(empty) > 5 else "")
            raise InputError(f"Manifest {name} has {len(empty)} row(s) with an empty {column!r} (line(s) {lines}); "
                             f"every row needs {list(REQUIRED_COLUMNS)}. Fill them in or remove those rows.")


def _check_repeats(frame: pd.DataFrame, name: str) -> None:
    """Refuse files listed more than once, naming both labels when they differ."""
    repeated = frame[frame["path"].duplicated(keep=False)]
    if repeated.empty:
        return
    for path, rows in repeated.groupby("path", sort=False):
        labels = list(dict.fromkeys(rows["emotion"]))
        if len(labels) > 1:
            raise InputError(f"Manifest {name} lists {path} with two different labels ({' and '.join(labels)}); "
                             "keep the right one and remove the other row.")
    files, extra = repeated["path"].nunique(), len(repeated) - repeated["path"].nunique()
    raise InputError(f"Manifest {name} lists {files} file(s) more than once ({extra:,} extra row(s); first: "
                     f"{repeated['path'].iloc[0]}); a repeated row would count twice in training and scoring. "
                     "Remove the duplicates.")


def _missing_columns_message(frame: pd.DataFrame, name: str, missing: list[str], csv_path: Path | None) -> str:
    """What a manifest lacking required columns holds instead: the columns found, a separator other than a comma,
    or names that differ from the required ones only in case or spaces."""
    found = [str(c) for c in frame.columns]
    hint = ""
    header = ""
    if csv_path is not None:
        with open(csv_path, newline="", encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
    separators = [label for sep, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")) if sep in header]
    near = {c: c.strip().lower() for c in found if c.strip().lower() in REQUIRED_COLUMNS and c != c.strip().lower()}
    if len(found) == 1 and separators:
        hint = f" It looks separated by {separators[0]}: save it with commas (e.g. pandas' to_csv)."
    elif near:
        hint = " Rename " + ", ".join(f"{old!r} to {new!r}" for old, new in near.items()) + " (names are lower case, no spaces)."
    shown = ", ".join(repr(c[:40]) for c in found[:10]) + (" ..." if len(found) > 10 else "")
    return (f"Manifest {name} lacks the column(s) {missing}; a manifest needs {list(REQUIRED_COLUMNS)}, "
            f"and its first line gives the column(s) {shown}.{hint}")


def read_manifest(source: str | os.PathLike | pd.DataFrame, *, check_files: bool = True) -> pd.DataFrame:
    """Read and validate a manifest; return it with absolute ``path`` values.

    Args:
        source: a CSV path, or a DataFrame already in memory (its relative
            paths are then taken relative to the current folder).
        check_files: raise if a listed audio file does not exist.

    Returns:
        DataFrame with all ``MANIFEST_COLUMNS`` (missing optional ones filled
        with ``""``), string dtype, ``path`` absolute.

    Raises:
        InputError: missing or non-regular file, unparsable rows, columns
            missing or given twice, empty required values, a file listed twice
            (with one label or two), unknown emotion labels, empty manifest, or
            (with ``check_files``) listed files that do not exist (also dangling
            links) or whose names are too long.
    """
    if isinstance(source, pd.DataFrame):
        frame, base, name = source.copy(), Path.cwd(), "<DataFrame>"
        if frame.columns.duplicated().any():
            raise InputError(f"Manifest {name} has the column(s) {sorted(set(frame.columns[frame.columns.duplicated()]))} "
                             "more than once; keep one of each.")
    else:
        csv_path = check_manifest_file(source)
        frame = _read_csv(csv_path)
        base, name = csv_path.resolve().parent, str(csv_path)

    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(_missing_columns_message(frame, name, missing, None if name == "<DataFrame>" else csv_path))
    if frame.empty:
        raise InputError(f"Manifest {name} lists no utterances.")
    for column in MANIFEST_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame = frame[list(MANIFEST_COLUMNS)].astype(str)
    _check_required_values(frame, name)

    unknown = sorted(set(frame["emotion"]) - set(CANONICAL_EMOTIONS))
    if unknown:
        raise InputError(
            f"Manifest {name} has emotion label(s) {unknown} outside the canonical vocabulary "
            f"{list(CANONICAL_EMOTIONS)}; map them in the corpus parser (keep the original in `original_label`)."
        )
    frame["path"] = [os.path.normpath(p if Path(p).is_absolute() else (base / p)) for p in frame["path"]]
    _check_repeats(frame, name)
    if check_files:
        for p in frame["path"]:
            check_name_lengths(p, f"Manifest {name} names a file that", "shorten the path or move the file")
        problems = [(p, problem) for p in frame["path"] if (problem := file_problem(p))]
        if problems:
            shown = ", ".join(f"{p} ({problem})" if problem != "does not exist" else p for p, problem in problems[:3])
            more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
            raise InputError(
                f"Manifest {name} names {len(problems)} file(s) that do not exist or are not regular files: {shown}{more}. "
                "Re-run the corpus preparation, or fix the paths (relative paths are read from the manifest's folder)."
            )
    return frame.reset_index(drop=True)


def write_manifest(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` atomically as a manifest CSV; return its path.

    Audio paths inside the manifest's folder are stored relative to it, so the
    folder can be moved or mounted elsewhere (Colab, another machine).
    """
    path = Path(path)
    base = path.resolve().parent
    out = frame.copy()
    for column in MANIFEST_COLUMNS:
        if column not in out.columns:
            out[column] = ""
    out = out[list(MANIFEST_COLUMNS)].astype(str)

    def _relative(p: str) -> str:
        absolute = Path(p).resolve()
        try:
            return absolute.relative_to(base).as_posix()
        except ValueError:
            return str(absolute)

    out["path"] = [_relative(p) for p in out["path"]]
    with atomic_write(path, "w", newline="", encoding="utf-8") as handle:
        out.to_csv(handle, index=False)
    return path


def shared_emotions(*frames: pd.DataFrame) -> list[str]:
    """Emotions present in every manifest, in canonical order.

    Raises:
        InputError: fewer than two emotions are shared (no classification task).
    """
    common = set(CANONICAL_EMOTIONS)
    for frame in frames:
        common &= set(frame["emotion"])
    ordered = [emotion for emotion in CANONICAL_EMOTIONS if emotion in common]
    if len(ordered) < 2:
        corpora = [", ".join(sorted(set(frame["corpus"]))) or "?" for frame in frames]
        raise InputError(
            f"The corpora {corpora} share {len(ordered)} emotion(s) {ordered}; a cross-corpus task needs at least two. "
            "Choose corpora with more emotions in common."
        )
    return ordered


def restrict_emotions(frame: pd.DataFrame, emotions: Iterable[str]) -> pd.DataFrame:
    """Keep only the rows whose emotion is in ``emotions``."""
    keep = set(emotions)
    return frame[frame["emotion"].isin(keep)].reset_index(drop=True)


def emotion_indices(frame: pd.DataFrame, emotions: Sequence[str]) -> list[int]:
    """Class index of every row, by position in ``emotions``."""
    lookup = {emotion: index for index, emotion in enumerate(emotions)}
    try:
        return [lookup[e] for e in frame["emotion"]]
    except KeyError as exc:
        raise InputError(f"Emotion {exc.args[0]!r} is not among the task's classes {list(emotions)}.") from None


def balanced_subset(frame: pd.DataFrame, max_per_class: int | None, seed: int = 0) -> pd.DataFrame:
    """At most ``max_per_class`` utterances per emotion, drawn at random (fixed by ``seed``), in manifest order.

    ``None`` keeps every row. The same (frame, size, seed) always gives the same rows,
    so notebooks asking for the same size share one feature cache.
    """
    if max_per_class is None:
        return frame.reset_index(drop=True)
    if max_per_class < 1:
        raise InputError(f"max_per_class={max_per_class} must be at least 1 (or None for every utterance).")
    picked = frame.sample(frac=1.0, random_state=seed).groupby("emotion", sort=False).head(max_per_class)
    return picked.sort_index().reset_index(drop=True)
