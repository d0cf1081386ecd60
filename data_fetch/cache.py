"""Where data_fetch keeps what it makes: one cache folder, never the user's copy.

Layout of the cache folder (``data_dir``)::

    downloads/<archive>            archives fetched through pooch (``.part`` while incomplete)
    downloads/<key>.licence        the licence the user accepted, with the date
    corpora/<key>/                 an extracted corpus (appears only once extraction is complete)
    audio/<key>-<digest>/          audio derived from a copy (eNTERFACE: WAVs cut from the videos)
    manifests/<key>-<digest>.csv   the manifest of one copy

``<digest>`` identifies the copy by its absolute path, so two copies of one
corpus never share a manifest, and a read-only copy (a shared or mounted
folder) is never written to.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ENV_VAR = "DIDAN_LITE_DATA"
DEFAULT_DATA_DIR = Path("~") / ".cache" / "didan_lite"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``explicit`` if given, else ``$DIDAN_LITE_DATA``, else ``~/.cache/didan_lite``."""
    chosen = explicit if explicit is not None else os.environ.get(ENV_VAR) or DEFAULT_DATA_DIR
    return Path(chosen).expanduser().absolute()


def downloads_dir(base: Path) -> Path:
    """Folder of downloaded archives."""
    return base / "downloads"


def extracted_dir(key: str, base: Path) -> Path:
    """Folder of the corpus ``key`` once downloaded and extracted (or placed there by hand)."""
    return base / "corpora" / key


def copy_digest(root: Path) -> str:
    """Twelve hex digits that identify a corpus copy by its absolute path."""
    return hashlib.sha1(str(Path(root).resolve()).encode("utf-8")).hexdigest()[:12]


def derived_audio_dir(key: str, root: Path, base: Path) -> Path:
    """Folder of audio derived from the copy at ``root`` (mirrors the copy's relative paths)."""
    return base / "audio" / f"{key}-{copy_digest(root)}"


def manifest_path(key: str, root: Path, base: Path) -> Path:
    """Default manifest path of the copy of corpus ``key`` at ``root``."""
    return base / "manifests" / f"{key}-{copy_digest(root)}.csv"
