"""Audio shared by the source and the target, found by content, not by name.

A target that holds training utterances scores the memory of the model, not
its transfer: ``--source S --target S`` would report a perfect target UAR.
:func:`shared_audio` finds the target files whose bytes equal a source file's
(sizes compared first, so only files of equal size are hashed);
:func:`check_overlap` refuses a target made of source audio, and a partial
overlap unless the caller allows it (``compare --allow-overlap``), in which
case :func:`record_overlap` says so at the top of the report and in the metrics.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Sequence

import pandas as pd
import soundfile as sf

from didan_lite.atomic import atomic_write
from didan_lite.audio import decodable
from didan_lite.errors import InputError
from didan_lite.features import file_digest
from didan_lite.manifest import read_manifest, restrict_emotions, shared_emotions

OVERLAP_KEY = "source_target_overlap"
"""Key of the overlap in the recorded settings and in ``metrics.json``: the number of shared target files."""


def shared_audio(source: pd.DataFrame, target: pd.DataFrame) -> list[str]:
    """Target paths whose file content equals some source file's (manifests as :func:`read_manifest` returns them)."""
    by_size: dict[int, list[str]] = defaultdict(list)
    for path in dict.fromkeys(source["path"]):
        by_size[_readable(os.stat, path).st_size].append(path)
    digests: dict[str, str] = {}

    def digest(path: str) -> str:
        if path not in digests:
            digests[path] = _readable(file_digest, path)
        return digests[path]

    shared = []
    for path in target["path"]:
        same_size = by_size.get(_readable(os.stat, path).st_size, [])
        if same_size and digest(path) in {digest(other) for other in same_size}:
            shared.append(path)
    return shared


def duplicate_audio(frame: pd.DataFrame) -> list[list[str]]:
    """Groups of paths of one manifest that hold the same audio: one file through a symbolic link or under two
    names, or byte-identical copies (sizes compared first, then SHA-1); each group in manifest order. Files
    that do not decode as audio are left to the audio checks."""
    by_size: dict[int, list[str]] = defaultdict(list)
    for path in dict.fromkeys(frame["path"]):
        by_size[_readable(os.stat, path).st_size].append(path)
    groups: dict[str, list[str]] = defaultdict(list)
    for paths in by_size.values():
        if len(paths) > 1:
            for path in paths:
                groups[_readable(file_digest, path)].append(path)
    return [paths for paths in groups.values() if len(paths) > 1 and _is_audio(paths[0])]


def _is_audio(path: str) -> bool:
    """Whether ``path``'s header decodes as audio: identical damaged files are not one recording (each is skipped
    or refused as unreadable by name when its features are read)."""
    try:
        sf.info(decodable(Path(path)))
    except Exception:  # libsndfile reports an undecodable header with several exception types
        return False
    return True


def check_no_copies(frame: pd.DataFrame, name: str) -> None:
    """Refuse a manifest holding one recording more than once by content (a link or a copy under another name).

    Raises:
        InputError: naming two of the files, and both labels when they differ.
    """
    groups = duplicate_audio(frame)
    if not groups:
        return
    emotion = dict(zip(frame["path"], frame["emotion"]))
    for paths in groups:
        labels = list(dict.fromkeys(emotion[p] for p in paths))
        if len(labels) > 1:
            first, second = paths[0], next(p for p in paths if emotion[p] != emotion[paths[0]])
            raise InputError(f"Manifest {name} holds one recording under two labels: {first} ({emotion[first]}) and "
                             f"{second} ({emotion[second]}) are the same audio (by content); keep the right one and "
                             "remove the other row.")
    copies = sum(len(paths) - 1 for paths in groups)
    raise InputError(f"Manifest {name} lists {copies} extra copy(ies) of {len(groups)} recording(s) under other names (by "
                     f"content, e.g. {groups[0][0]} and {groups[0][1]}); a copy counts twice in training and scoring. "
                     "Remove the copies.")


def _readable(read, path: str):
    """``read(path)``, with an unreadable file (permissions, a vanished file) as one line naming it."""
    try:
        return read(path)
    except OSError as exc:
        raise InputError(f"Cannot read {path} ({exc.strerror or type(exc).__name__}); make it readable or remove "
                         "its row from the manifest.") from exc


def check_overlap(source_manifest, target_manifest, *, emotions: Sequence[str] | None = None, allow: bool = False) -> int:
    """Refuse a target that holds source audio of the task; return the number of target files shared with the source.

    Args:
        source_manifest, target_manifest: CSV paths or data frames.
        emotions: the task's emotions (``None``: those both manifests share); other rows are not compared.
        allow: accept a partial overlap (it is then reported); a target made only of source audio is always refused.

    Within each manifest, one recording listed twice by content (a link, a copy under another name) is refused
    too, whatever ``allow`` (:func:`check_no_copies`).

    Raises:
        InputError: naming the shared files and what to do; fewer than two shared emotions.
    """
    source, target = read_manifest(source_manifest), read_manifest(target_manifest)
    emotions = shared_emotions(source, target) if emotions is None else emotions
    source, target = restrict_emotions(source, emotions), restrict_emotions(target, emotions)
    for frame, manifest in ((source, source_manifest), (target, target_manifest)):
        check_no_copies(frame, "<DataFrame>" if isinstance(manifest, pd.DataFrame) else str(manifest))
    shared = shared_audio(source, target)
    if not shared or target.empty:
        return 0
    first = shared[0]
    if len(shared) == len(target):
        raise InputError(f"Every target file ({len(shared)}) is also a source file (by content, e.g. {first}): the target "
                         "would score memorised training audio. Give a target corpus of other recordings.")
    if not allow:
        raise InputError(f"{len(shared)} of the {len(target)} target file(s) are also source files (by content, e.g. "
                         f"{first}); remove them from one manifest, or pass --allow-overlap (allow_overlap=True) to run "
                         "anyway with the report saying so.")
    print(f"Warning: {len(shared)} of the {len(target)} target file(s) are also source files (--allow-overlap); their "
          "target scores are inflated and the report says so.", flush=True)
    return len(shared)


def record_overlap(out_dir: str | os.PathLike, shared: int) -> None:
    """Say in ``report.md`` (first line) and ``metrics.json`` that ``shared`` target files are source files (0: nothing)."""
    if not shared:
        return
    out_dir = Path(out_dir)
    report, metrics = out_dir / "report.md", out_dir / "metrics.json"
    if report.is_file():
        note = (f"> **Warning:** {shared} target file(s) are also source files (allowed by --allow-overlap): the target "
                "scores include training audio and overstate the transfer.\n\n")
        text = report.read_text(encoding="utf-8")
        with atomic_write(report, "w", encoding="utf-8") as handle:
            handle.write(note + text)
    if metrics.is_file():
        values = json.loads(metrics.read_text(encoding="utf-8"))
        values[OVERLAP_KEY] = shared
        with atomic_write(metrics, "w", encoding="utf-8") as handle:
            json.dump(values, handle, indent=1)
