"""The notebooks' one call for data: a cross-corpus task's manifests, real when present, synthetic otherwise.

Notebook: every notebook in ``notebooks/`` starts its data section with::

    from data_fetch.notebook_data import task_manifests
    FREE_CORPORA = False  # True: download EmoDB and RAVDESS (free; about 250 MB) and accept their licences
    data = task_manifests(download=FREE_CORPORA, accept_license=FREE_CORPORA)
    print(data.description)  # one line: which data runs, real or synthetic
    source_frame, target_frame = data.load(max_per_class=preset().max_per_class)  # didan_lite.presets

Without a task, the first pair of :data:`AUTO_TASKS` whose corpora are both
present runs: EmoDB -> CASIA (the paper's B->C, CASIA is licence-gated), then the
free task EmoDB -> RAVDESS (:data:`FREE_TASK`), then EmoDB -> eNTERFACE'05
(the paper's B->E). With none present, the synthetic pair runs, unless
``download=True`` (with ``accept_license=True``) fetches the free task's corpora
first. A task can also be named (``task_manifests("B-C")``).

Every notebook's set-up cell also calls :func:`keep_on_drive` with its
``USE_DRIVE`` switch (off by default): on Colab it keeps corpora, features and
runs on Google Drive.

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

from didan_lite.errors import InputError
from didan_lite.manifest import balanced_subset, read_manifest, restrict_emotions, shared_emotions

from data_fetch import cache
from data_fetch.corpora import get_corpus
from data_fetch.fetch import download as download_corpus
from data_fetch.manifests import CorpusWarning, corpus_manifest, prepare
from data_fetch.tasks import FREE_TASK, Task, get_task

CORPORA_ENV_VAR = "DIDAN_LITE_CORPORA"
SHARED_CORPORA = (Path("..") / "shared" / "corpora", Path("..") / ".." / "shared" / "corpora")
"""Shared copies, relative to the current folder: from the repository root and from ``notebooks/``."""
AUTO_TASKS = ("B-C", FREE_TASK, "B-E")
"""Tasks tried in order when none is named: the first whose two corpora are present runs."""
DEFAULT_TASK = "B-C"
"""The task the synthetic pair stands in for when no pair is present."""
DRIVE_FOLDER = Path("/content/drive/MyDrive/didan-lite")
"""Where :func:`keep_on_drive` keeps everything on Colab: ``data/`` (corpora, manifests, features) and ``runs/``."""
SYNTHETIC_TASK = "synthetic"
"""Names the embedded synthetic pair itself (stand-in of :data:`DEFAULT_TASK`), whatever corpora are present:
the notebooks' committed outputs come from it, so anyone can reproduce and share them."""


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


def task_manifest_paths(task: str, data_root: str | os.PathLike | None = None, *,
                        progress: bool = True) -> tuple[Path, Path, tuple[str, ...]]:
    """(source manifest, target manifest, emotions) of ``task``: the one function that turns a task name into
    manifests (:func:`task_manifests`, ``benchmarks/``, and ``python -m didan_lite compare --task`` through the
    entry point ``didan_lite.tasks`` of ``pyproject.toml``).

    ``"synthetic"``: the embedded synthetic pair. Any other task of :func:`data_fetch.get_task`: each corpus's
    manifest is prepared (into the cache, never into the copy) from the copy :func:`find_corpus` finds, ``data_root``
    first; ``progress`` shows a bar while its audio is checked.

    Raises:
        InputError: unknown task; a corpus with no copy in any of those places (step-by-step instructions); a copy
            with no usable utterance.
    """
    if task == SYNTHETIC_TASK:
        from didan_lite.synthetic import make_default_corpora  # imported here: only this task needs the generator

        source, target = make_default_corpora()
        frames = [read_manifest(path, check_files=False) for path in (source, target)]
        return source, target, tuple(shared_emotions(*frames))
    spec = get_task(task)
    paths = []
    for key in (spec.source, spec.target):
        found = find_corpus(key, data_root)
        if found is None:  # says where it looked and what to do
            paths.append(corpus_manifest(key, None if data_root is None else Path(data_root) / key))
        else:
            paths.append(prepare(key, found[1], progress=progress))
    return paths[0], paths[1], spec.emotions


def task_manifests(
    task: str | None = None,
    data_root: str | os.PathLike | None = None,
    *,
    download: bool = False,
    accept_license: bool = False,
) -> TaskManifests:
    """The manifests of a cross-corpus task: real corpora when both are found, the embedded synthetic ones otherwise.

    Args:
        task: a task of :func:`data_fetch.get_task`, e.g. ``"B-C"`` (EmoDB -> CASIA);
            ``"synthetic"``: the embedded synthetic pair, even when real corpora are present;
            None: the first of :data:`AUTO_TASKS` whose corpora are present.
        data_root: a folder with one sub-folder per corpus (``emodb/``, ``casia/``), searched first.
        download: fetch the task's missing free corpora into the data_fetch cache
            (with no task and no pair present: those of :data:`FREE_TASK`).
        accept_license: accept the licences of what ``download`` fetches (each is printed).

    Raises:
        InputError: unknown task; a copy found but unreadable (no utterance in it);
            ``download`` without ``accept_license`` (the message shows the licence); a failed download.
    """
    if task == SYNTHETIC_TASK:
        return _synthetic_stand_in(DEFAULT_TASK, [], False, download)
    if task is None:
        present = [name for name in AUTO_TASKS if not _missing(get_task(name), data_root)]
        task = present[0] if present else (FREE_TASK if download else DEFAULT_TASK)
    spec = get_task(task)
    missing = _missing(spec, data_root)
    if missing and download and all(get_corpus(key).access == "download" for key in missing):
        for key in missing:
            download_corpus(key, accept_license=accept_license)
        missing = _missing(spec, data_root)
    if missing:
        # The studio corpus stands in for the European corpus, the telephone one (Mandarin-like) for CASIA:
        # a task and its reverse (B-C, C-B) get mirrored stand-ins.
        mirrored = spec.source == "casia" or (spec.target != "casia" and spec.source > spec.target)
        return _synthetic_stand_in(spec.name, missing, mirrored, download)
    found = {key: find_corpus(key, data_root) for key in (spec.source, spec.target)}
    with warnings.catch_warnings(record=True) as skipped:  # listed with machine paths: counted below instead
        warnings.simplefilter("always", CorpusWarning)
        source, target, _ = task_manifest_paths(spec.name, data_root, progress=False)
    frames = [restrict_emotions(read_manifest(path, check_files=False), spec.emotions) for path in (source, target)]
    places = sorted({label for label, _ in found.values()})
    note = f"; {len(skipped)} corpus warning(s) about skipped files (run data_fetch.verify for the list)" if skipped else ""
    description = (
        f"REAL corpora, task {spec.name}: {spec.source} ({len(frames[0])} utterances) -> {spec.target} "
        f"({len(frames[1])} utterances), {len(spec.emotions)} emotions ({', '.join(spec.emotions)}); "
        f"found in {' and '.join(places)}{note}."
    )
    return TaskManifests(spec.name, source, target, spec.emotions, False, description)


def _missing(spec: Task, data_root: str | os.PathLike | None) -> list[str]:
    return [key for key in (spec.source, spec.target) if find_corpus(key, data_root) is None]


def _synthetic_stand_in(task: str, missing: list[str], mirrored: bool, download: bool) -> TaskManifests:
    from didan_lite.synthetic import make_default_corpora  # imported here: only the fallback needs the generator

    source, target = make_default_corpora()
    if mirrored:
        source, target = target, source
    frames = [read_manifest(path, check_files=False) for path in (source, target)]
    emotions = tuple(shared_emotions(*frames))
    names = [str(frame["corpus"].iloc[0]) for frame in frames]
    why = (
        "chosen by name (task 'synthetic'): data anyone can regenerate and share"
        if not missing
        else f"no copy of {' or '.join(missing)} was found, and "
        f"{' and '.join(key for key in missing if get_corpus(key).access != 'download')} cannot be downloaded "
        "(licence-gated or placed by hand)"
        if download
        else f"no copy of {' or '.join(missing)} was found (see data_fetch.notebook_data for where it looks); "
        "for a real task anyone can run, pass download=True, accept_license=True (the notebooks' FREE_CORPORA flag: "
        "EmoDB and RAVDESS, free, about 250 MB)"
    )
    description = (
        f"SYNTHETIC stand-in for task {task} (generated voices, no recordings): {names[0]} ({len(frames[0])} utterances) "
        f"-> {names[1]} ({len(frames[1])} utterances), {len(emotions)} emotions ({', '.join(emotions)}); {why}."
    )
    return TaskManifests(task, source, target, emotions, True, description)


def keep_on_drive(enabled: bool, drive_folder: str | os.PathLike | None = None, workdir: str | os.PathLike = ".") -> Path:
    """The notebooks' ``USE_DRIVE`` switch: keep corpora, features and runs on Google Drive, so they survive a disconnect.

    Off (the default), nothing changes and the runs folder is ``runs/``. On, it
    mounts Google Drive (on Colab, when ``drive_folder`` is not given: Colab asks
    for permission once) and then

    * sets ``DIDAN_LITE_DATA`` to ``<drive_folder>/data``: downloads, manifests
      and the feature cache go there, and the next Colab session finds them;
    * makes ``<workdir>/runs`` a link to ``<drive_folder>/runs``, so every
      notebook's ``runs/...`` (results, checkpoints) lands on Drive unchanged.

    Args:
        enabled: the notebook's ``USE_DRIVE``.
        drive_folder: the folder on Drive; ``None``: :data:`DRIVE_FOLDER` after mounting Drive.
        workdir: the notebook's working folder (where ``runs`` is looked up).

    Returns:
        The runs folder to use (``runs``, relative to ``workdir``).

    Raises:
        InputError: switched on outside Colab without a ``drive_folder``, or a ``runs``
            folder with files already in ``workdir`` (it names the folder: move it into
            ``<drive_folder>/runs`` or delete it).
    """
    runs = Path("runs")
    if not enabled:
        return runs
    if drive_folder is None:
        try:
            from google.colab import drive  # only on Colab
        except ImportError:
            raise InputError("USE_DRIVE = True needs Google Colab (its Drive); here runs/ and the data folder "
                             "already stay on disk, so set USE_DRIVE = False.") from None
        drive.mount(str(DRIVE_FOLDER.parents[1]))
        drive_folder = DRIVE_FOLDER
    drive_folder, link = Path(drive_folder), Path(workdir) / runs
    (drive_folder / "data").mkdir(parents=True, exist_ok=True)
    (drive_folder / "runs").mkdir(parents=True, exist_ok=True)
    os.environ[cache.ENV_VAR] = str(drive_folder / "data")
    if link.is_symlink() and link.resolve() == (drive_folder / "runs").resolve():
        return runs
    if link.is_symlink():
        link.unlink()
    elif link.is_dir() and not any(link.iterdir()):
        link.rmdir()
    elif link.exists():
        raise InputError(f"{link} already holds files; move them into {drive_folder / 'runs'} (or delete the folder), "
                         "then run this cell again.")
    link.symlink_to((drive_folder / "runs").absolute(), target_is_directory=True)
    return runs
