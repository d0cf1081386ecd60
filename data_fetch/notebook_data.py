"""The notebooks' one call for data: a cross-corpus task's manifests, real when present, synthetic otherwise.

Notebook: every notebook in ``notebooks/`` starts its data section with::

    from data_fetch.notebook_data import task_manifests
    data = task_manifests("B-C")
    print(data.description)
    source_frame, target_frame = data.load(max_per_class=preset().max_per_class)  # didan_lite.presets

Each corpus of the task is looked for, in this order, in a folder named after
its key (``emodb/``, ``casia/``, ``enterface/``) under

1. the ``data_root`` argument,
2. the folder in the environment variable ``DIDAN_LITE_CORPORA``,
3. ``../shared/corpora`` and ``../../shared/corpora`` relative to the current
   folder (the shared copies of a course machine or CI, seen from the
   repository root and from ``notebooks/``),
4. the data_fetch cache, where ``data_fetch.download`` puts the free corpora.

When both corpora are found, their manifests are prepared (into the cache,
never into the copy); when either is missing, the embedded *synthetic*
corpora of :func:`didan_lite.synthetic.make_default_corpora` stand in, and
``description`` says so and why. The stand-ins keep the task's direction: the
studio corpus plays the European corpus (EmoDB, eNTERFACE), the telephone,
Mandarin-like one CASIA, so B-C and C-B get mirrored pairs. A copy that is
found but cannot be read raises :class:`didan_lite.errors.InputError`: it is
the user's data, and a silent fallback would hide the problem.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from didan_lite.manifest import balanced_subset, read_manifest, restrict_emotions, shared_emotions

from data_fetch import cache
from data_fetch.manifests import CorpusWarning, prepare
from data_fetch.tasks import get_task

CORPORA_ENV_VAR = "DIDAN_LITE_CORPORA"
SHARED_CORPORA = (Path("..") / "shared" / "corpora", Path("..") / ".." / "shared" / "corpora")
"""Shared copies, relative to the current folder: from the repository root and from ``notebooks/``."""


@dataclass(frozen=True)
class TaskManifests:
    """The two manifests of a cross-corpus task, and where they came from.

    Attributes:
        task: the task's name, e.g. ``"B-C"`` (also for its synthetic stand-in).
        source, target: manifest CSV paths (:mod:`didan_lite.manifest`).
        emotions: the task's classes, in canonical order.
        is_synthetic: True when the embedded synthetic corpora stand in.
        description: one line for the notebook to print: real or synthetic,
            corpus names, sizes, classes, and where the copies were found (no
            absolute paths).
    """

    task: str
    source: Path
    target: Path
    emotions: tuple[str, ...]
    is_synthetic: bool
    description: str

    def load(self, max_per_class: int | None = None, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Read both manifests, keep the task's emotions and at most ``max_per_class`` utterances per emotion.

        The subset is drawn at random per corpus and emotion, fixed by ``seed``,
        so every notebook that asks for the same size trains on the same utterances
        (and hits the same feature cache).

        Returns:
            (source, target) manifest frames with absolute audio paths.
        """
        frames = []
        for manifest in (self.source, self.target):
            frames.append(balanced_subset(restrict_emotions(read_manifest(manifest), self.emotions), max_per_class, seed))
        return frames[0], frames[1]


def search_folders(data_root: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """Candidate folders holding one sub-folder per corpus, in search order, as (label, folder).

    The labels name where a folder came from without revealing machine paths
    (``"data_root"``, ``"$DIDAN_LITE_CORPORA"``, ``"../shared/corpora"``, ...);
    the data_fetch cache is searched separately (its corpora sit under ``corpora/``).
    """
    folders = []
    if data_root is not None:
        folders.append(("data_root", Path(data_root).expanduser()))
    if os.environ.get(CORPORA_ENV_VAR):
        folders.append((f"${CORPORA_ENV_VAR}", Path(os.environ[CORPORA_ENV_VAR]).expanduser()))
    folders += [(relative.as_posix(), relative) for relative in SHARED_CORPORA]
    return folders


def find_corpus(key: str, data_root: str | os.PathLike | None = None) -> tuple[str, Path] | None:
    """Where the copy of corpus ``key`` is, as (label of the place, folder), or None.

    Searches :func:`search_folders`, then the data_fetch cache (``data_fetch.download`` puts copies there).
    """
    for label, folder in search_folders(data_root):
        if (folder / key).is_dir():
            return label, folder / key
    cached = cache.extracted_dir(key, cache.data_dir())
    return ("the data_fetch cache", cached) if cached.is_dir() else None


def task_manifests(task: str = "B-C", data_root: str | os.PathLike | None = None) -> TaskManifests:
    """The manifests of ``task``: the real corpora when both are found, the embedded synthetic ones otherwise.

    Args:
        task: a task of :func:`data_fetch.get_task`, e.g. ``"B-C"`` (EmoDB -> CASIA).
        data_root: a folder with one sub-folder per corpus (``emodb/``, ``casia/``),
            searched first.

    Raises:
        InputError: unknown task; a copy found but unreadable (no utterance in it).
    """
    spec = get_task(task)
    found = {key: find_corpus(key, data_root) for key in (spec.source, spec.target)}
    missing = [key for key, place in found.items() if place is None]
    if missing:
        # The studio corpus stands in for the European corpus, the telephone one (Mandarin-like) for CASIA:
        # a task and its reverse (B-C, C-B) get mirrored stand-ins.
        mirrored = spec.source == "casia" or (spec.target != "casia" and spec.source > spec.target)
        return _synthetic_stand_in(spec.name, missing, mirrored)
    manifests = {}
    with warnings.catch_warnings(record=True) as skipped:  # listed with machine paths: counted below instead
        warnings.simplefilter("always", CorpusWarning)
        for key, (_, folder) in found.items():
            manifests[key] = prepare(key, folder, progress=False)
    frames = [restrict_emotions(read_manifest(manifests[key], check_files=False), spec.emotions) for key in found]
    places = sorted({label for label, _ in found.values()})
    note = f"; {len(skipped)} corpus warning(s) about skipped files (run data_fetch.verify for the list)" if skipped else ""
    description = (
        f"REAL corpora, task {spec.name}: {spec.source} ({len(frames[0])} utterances) -> {spec.target} "
        f"({len(frames[1])} utterances), {len(spec.emotions)} emotions ({', '.join(spec.emotions)}); "
        f"found in {' and '.join(places)}{note}."
    )
    return TaskManifests(spec.name, manifests[spec.source], manifests[spec.target], spec.emotions, False, description)


def _synthetic_stand_in(task: str, missing: list[str], mirrored: bool) -> TaskManifests:
    from didan_lite.synthetic import make_default_corpora  # imported here: only the fallback needs the generator

    source, target = make_default_corpora()
    if mirrored:
        source, target = target, source
    frames = [read_manifest(path, check_files=False) for path in (source, target)]
    emotions = tuple(shared_emotions(*frames))
    names = [str(frame["corpus"].iloc[0]) for frame in frames]
    description = (
        f"SYNTHETIC stand-in for task {task} (generated voices, no recordings): {names[0]} ({len(frames[0])} utterances) "
        f"-> {names[1]} ({len(frames[1])} utterances), {len(emotions)} emotions ({', '.join(emotions)}); "
        f"no copy of {' or '.join(missing)} was found (see data_fetch.notebook_data for where it looks)."
    )
    return TaskManifests(task, source, target, emotions, True, description)
