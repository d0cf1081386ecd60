"""Walk a corpus copy once: which files are its utterances, which are not, and why.

:func:`scan_corpus` reads names only (the corpus's parser, see
:mod:`data_fetch.layouts`); :func:`audio_problem` opens one file's header.
Both :mod:`data_fetch.manifests` and :mod:`data_fetch.verification` build on them.

What is not audio of the corpus's kind is ignored silently: ``desktop.ini``,
``_desktop.ini``, text files, hidden files (``._x.wav`` AppleDouble files),
``__MACOSX`` folders, MP3 copies beside the WAVs.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import soundfile

from didan_lite.audio import decodable, file_problem

from data_fetch.corpora import CorpusSpec
from data_fetch.layouts import LabelConflict, NotInLayout, Utterance
from data_fetch.video_audio import require_pyav

_SKIPPED_FOLDERS = {"__MACOSX"}
_GIT_LFS_POINTER = b"version https://git-lfs"


@dataclass(frozen=True)
class Found:
    """One utterance file of the copy."""

    path: Path
    utterance: Utterance
    emotion: str | None  # canonical emotion; None for labels outside the vocabulary (IEMOCAP's fru ...)


@dataclass(frozen=True)
class Problem:
    """A file and what is wrong with it."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


@dataclass
class Scan:
    """Result of reading every file name under ``root``."""

    root: Path
    found: dict[str, Found] = field(default_factory=dict)  # key -> first file with that key
    extra: list[Problem] = field(default_factory=list)  # audio files outside the layout, duplicates
    mislabelled: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # tolerated irregularities

    def label_counts(self) -> Counter:
        """Files per original label."""
        return Counter(item.utterance.original_label for item in self.found.values())

    def speaker_counts(self) -> Counter:
        return Counter(item.utterance.speaker for item in self.found.values())


def candidate_files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files under ``root`` whose extension (any case) is one of ``suffixes``, sorted; hidden ones skipped."""
    wanted = {suffix.lower() for suffix in suffixes}
    files = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in _SKIPPED_FOLDERS)
        files.extend(
            Path(folder) / name
            for name in sorted(names)
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in wanted
        )
    return files


def scan_corpus(spec: CorpusSpec, root: Path) -> Scan:
    """Parse every candidate file name under ``root`` with the corpus's parser."""
    root = Path(root)
    context = spec.read_context(root)
    scan = Scan(root=root)
    known_labels = set(spec.label_map) | set(spec.excluded_labels)
    for path in candidate_files(root, spec.suffixes):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        try:
            utterance = spec.parse(relative, context)
        except NotInLayout as exc:
            scan.extra.append(Problem(path, str(exc)))
            continue
        except LabelConflict as exc:
            scan.mislabelled.append(Problem(path, str(exc)))
            continue
        if utterance is None:
            continue
        if utterance.original_label not in known_labels:
            scan.extra.append(Problem(path, f"label {utterance.original_label!r} is not one of {sorted(known_labels)}"))
            continue
        if utterance.key in scan.found:
            scan.extra.append(Problem(path, f"duplicate of {scan.found[utterance.key].path}"))
            continue
        scan.found[utterance.key] = Found(path, utterance, spec.label_map.get(utterance.original_label))
        if utterance.note:
            scan.notes.append(Problem(path, utterance.note))
    return scan


def audio_problem(path: Path, *, is_video: bool = False) -> str | None:
    """Why ``path`` cannot be used as audio, from its header alone; ``None`` if it looks fine.

    WAV files are opened with ``soundfile.info`` (header only, ~0.1 ms);
    videos with PyAV, which must find an audio track.
    """
    problem = file_problem(path)  # a dangling link (git-annex, DataLad) or a pipe: named, never opened
    if problem:
        return problem
    if is_video:
        return _video_problem(path)
    try:
        info = soundfile.info(decodable(path))  # a streamed WAV's unknown sizes read as "to the end"
    except (RuntimeError, OSError) as exc:  # soundfile's errors are RuntimeErrors
        with open(path, "rb") as handle:
            if handle.read(len(_GIT_LFS_POINTER)) == _GIT_LFS_POINTER:
                return "a git-lfs pointer, not audio: clone the repository with git-lfs installed"
        return f"not readable as audio: {exc}"
    if info.frames == 0:
        return "no audio samples"
    return None


def _video_problem(path: Path) -> str | None:
    av = require_pyav()  # imported here so that WAV-only corpora never load it

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return "the video has no audio track"
    except (av.FFmpegError, OSError, ValueError) as exc:
        return f"not readable as video: {exc}"
    return None
