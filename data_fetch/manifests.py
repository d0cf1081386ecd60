"""A corpus copy -> a manifest (:mod:`didan_lite.manifest`), the one thing didan_lite reads.

:func:`prepare` turns the copy at ``root`` into a manifest; :func:`corpus_manifest`
is the notebook's one call: it finds a copy (given, cached, or downloaded) and
prepares it, or says step by step what the user must do.

Manifests are written into the cache folder (:mod:`data_fetch.cache`), never
into the copy, which may be read-only or shared. Audio paths in them are
absolute when the audio lives outside the manifest's folder.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import pandas as pd

from didan_lite.errors import InputError
from didan_lite.folders import check_writable_folder
from didan_lite.manifest import write_manifest
from didan_lite.progress import progress_bar

from data_fetch import cache
from data_fetch.corpora import CorpusSpec, get_corpus
from data_fetch.scan import Found, Problem, Scan, audio_problem, scan_corpus
from data_fetch.video_audio import extract_audio, require_pyav

logger = logging.getLogger(__name__)
_SHOWN = 10  # problems listed by name in one message


class CorpusWarning(UserWarning):
    """Files of a corpus copy were skipped while preparing its manifest."""


def find_copy(spec: CorpusSpec, root: str | os.PathLike | None, base: Path) -> Path:
    """The copy to use: ``root`` if given, else the cache folder's copy.

    Raises:
        InputError: ``root`` is not a folder, or no root and no cached copy
            (with step-by-step instructions).
    """
    if root is None:
        cached = cache.extracted_dir(spec.key, base)
        if cached.is_dir():
            return cached
        raise InputError(
            f"No copy of {spec.display_name} was given and none is in the cache.\n{spec.instructions(base)}"
        )
    root = Path(root).expanduser()
    if root.is_file():
        raise InputError(f"{root} is a file; unpack it and pass the folder that holds the corpus.")
    if not root.is_dir():
        raise InputError(f"The folder {root} does not exist.\n{spec.instructions(base)}")
    return root.resolve()


def _listing(title: str, problems: list[Problem]) -> str:
    shown = "\n".join(f"    {problem}" for problem in problems[:_SHOWN])
    more = f"\n    ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    return f"  {title}: {len(problems)}\n{shown}{more}"


def _usable_audio(
    spec: CorpusSpec, items: list[Found], base: Path, root: Path, progress: bool
) -> tuple[dict[str, Path], list[Problem]]:
    """Key -> audio file to list in the manifest, and the files that could not be used.

    WAV corpora: the file itself, if its header reads. Video corpora: a WAV
    extracted once into the cache folder (kept between runs).
    """
    audio, unreadable = {}, []
    if spec.is_video:
        require_pyav(spec.display_name)  # before the loop: a missing PyAV is not every file's fault
    derived = cache.derived_audio_dir(spec.key, root, base)
    for item in progress_bar(items, desc=f"checking {spec.key}", unit="file", enabled=progress, leave=False):
        if spec.is_video:
            wav = (derived / item.path.relative_to(root)).with_suffix(".wav")
            if not wav.is_file():
                try:
                    extract_audio(item.path, wav)
                except InputError as exc:
                    unreadable.append(Problem(item.path, str(exc)))
                    continue
            audio[item.utterance.key] = wav
        else:
            problem = audio_problem(item.path)
            if problem:
                unreadable.append(Problem(item.path, problem))
            else:
                audio[item.utterance.key] = item.path
    return audio, unreadable


def _rows(spec: CorpusSpec, items: list[Found], audio: dict[str, Path]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "path": str(audio[item.utterance.key]),
                "emotion": item.emotion,
                "original_label": item.utterance.original_label,
                "speaker": item.utterance.speaker,
                "gender": item.utterance.gender,
                "text_id": item.utterance.text_id,
                "corpus": spec.key,
            }
            for item in items
            if item.utterance.key in audio
        ]
    )


def _no_utterances(spec: CorpusSpec, root: Path, scan: Scan) -> InputError:
    extra = f"\n{_listing('audio files outside the layout', scan.extra)}" if scan.extra else ""
    return InputError(
        f"No {spec.display_name} utterances found under {root}. Expected layout: {spec.layout}. "
        f"Check that --root / root points at the corpus folder.{extra}"
    )


def _check_destinations(spec: CorpusSpec, base: Path, out: str | os.PathLike | None) -> None:
    """Before any work, as ``compare`` does: the manifest path and, when written, the cache folder must be writable.

    Raises:
        InputError: ``out`` is a folder or lies in an unwritable one; the cache folder is a file or unwritable.
    """
    if out is not None:
        out = Path(out).expanduser().absolute()
        if out.is_dir():
            raise InputError(f"The manifest path (--out) {out} is a folder; give a file path such as {out / spec.key}.csv.")
        check_writable_folder(out.parent, "The manifest's folder (--out)", "give another --out")
    if out is None or spec.is_video:
        check_writable_folder(base, f"The cache folder (--data-dir or ${cache.ENV_VAR})",
                              f"give a writable --data-dir or set {cache.ENV_VAR} to a writable folder")


def prepare(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    out: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
) -> Path:
    """Write the manifest of the copy of corpus ``name`` at ``root``; return its path.

    Args:
        name: corpus key, letter or alias (see :func:`data_fetch.corpora.get_corpus`).
        root: the copy's folder; ``None`` uses the cache folder's copy.
        out: manifest path; default ``<data_dir>/manifests/<key>-<digest>.csv``.
        data_dir: cache folder (default ``$DIDAN_LITE_DATA`` or ``~/.cache/didan_lite``).
        strict: raise instead of skipping unreadable or mislabelled files.
        progress: show a progress bar while checking (and, for videos, extracting) audio.

    Unreadable files (a corrupt WAV, a git-lfs pointer), mislabelled files
    (folder and name disagree), duplicates, files outside the layout and the
    corpus's known-bad files are left out, with one :class:`CorpusWarning`
    listing them. Utterances whose label has no canonical emotion (IEMOCAP's
    ``fru``, ``oth``, ``xxx``) are left out silently.

    Raises:
        InputError: no copy, an unwritable manifest path or cache folder (checked first), no utterance found,
            or (``strict``) unusable files.
    """
    spec = get_corpus(name)
    base = cache.data_dir(data_dir)
    root = find_copy(spec, root, base)
    _check_destinations(spec, base, out)
    scan = scan_corpus(spec, root)
    if not scan.found:
        raise _no_utterances(spec, root, scan)

    known_bad = [item for key, item in scan.found.items() if key in spec.known_bad]
    wanted = [item for key, item in scan.found.items() if item.emotion is not None and key not in spec.known_bad]
    audio, unreadable = _usable_audio(spec, wanted, base, root, progress)
    fatal = [("unreadable", unreadable), ("mislabelled (folder and file name disagree)", scan.mislabelled)]
    skipped = fatal + [
        ("outside the layout or duplicates", scan.extra),
        ("known bad", [Problem(item.path, spec.known_bad[item.utterance.key]) for item in known_bad]),
    ]
    if strict and any(problems for _, problems in fatal):
        listing = "\n".join(_listing(title, problems) for title, problems in fatal if problems)
        raise InputError(
            f"{spec.display_name} at {root} has files that cannot be used (strict mode):\n{listing}\n"
            "Replace them from a fresh copy, or prepare without strict to skip them."
        )
    if any(problems for _, problems in skipped):
        listing = "\n".join(_listing(title, problems) for title, problems in skipped if problems)
        message = f"{spec.display_name} at {root}: files left out of the manifest:\n{listing}"
        warnings.warn(message, CorpusWarning, stacklevel=2)

    frame = _rows(spec, wanted, audio)
    if frame.empty:
        raise _no_utterances(spec, root, scan)
    path = write_manifest(frame, out if out is not None else cache.manifest_path(spec.key, root, base))
    logger.info("%s: %d utterances -> %s", spec.key, len(frame), path)
    return path


def corpus_manifest(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    download: bool = False,
    accept_license: bool = False,
    data_dir: str | os.PathLike | None = None,
) -> Path:
    """A ready manifest for corpus ``name``, or an :class:`InputError` saying what to do.

    Uses ``root`` if given, else the cache folder's copy, else downloads it
    (``download=True``; free corpora only, after the licence is accepted),
    else raises with step-by-step instructions.

    Example::

        >>> path = corpus_manifest("emodb", root="../shared/corpora/emodb")  # doctest: +SKIP
        >>> didan_lite.manifest.read_manifest(path)["emotion"].value_counts()  # doctest: +SKIP
    """
    spec = get_corpus(name)
    base = cache.data_dir(data_dir)
    if root is None and not cache.extracted_dir(spec.key, base).is_dir():
        if not download:
            raise InputError(
                f"{spec.display_name} is not in the cache folder {base} and no root was given.\n"
                f"{spec.instructions(base)}"
            )
        from data_fetch.fetch import download as fetch

        root = fetch(spec.key, accept_license=accept_license, data_dir=base)
    return prepare(spec.key, root, data_dir=base)

