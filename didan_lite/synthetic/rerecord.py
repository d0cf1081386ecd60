"""Re-record a real corpus through a simulated channel: the same speech under another recording condition.

A cross-corpus gap mixes language, speakers, acting and recording. Passing one
corpus through :func:`didan_lite.synthetic.channel.record` (room, noise,
microphone band, sample rate) isolates the last of these: a model trained on
EmoDB and tested on a *telephone* copy of CASIA meets both the corpus gap and
a channel gap, so a benchmark can ask whether an alignment method still holds
up when the channel changes (``benchmarks/cross_corpus.py --target-channel``).

The level of the whole corpus is set once, so that its median utterance (all
emotions) sits at the channel model's reference level, which keeps the
loudness differences between emotions; the noise is placed relative to that
level. (The synthetic corpora put their *neutral* utterances there, so on a
real corpus the effective SNR of neutral speech is a few dB lower.) Every file is written
atomically and reused when the same settings are asked for again, so an
interrupted run resumes; a folder holding another re-recording is refused.

Example::

    >>> from didan_lite.synthetic import TELEPHONE_CHANNEL, rerecord_corpus
    >>> manifest = rerecord_corpus("casia/manifest.csv", "casia-telephone", TELEPHONE_CHANNEL)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import soundfile as sf

from didan_lite.atomic import atomic_write
from didan_lite.audio import read_audio
from didan_lite.errors import InputError
from didan_lite.manifest import read_manifest, write_manifest
from didan_lite.progress import progress_bar
from didan_lite.synthetic.channel import REFERENCE_LEVEL_DBFS, Channel, record

SETTINGS_NAME = "rerecording.json"
ACTIVE_RANGE_DB = 30.0
"""Frames within this many dB of an utterance's loudest 20 ms frame count as active speech for its level."""


def active_level_db(audio: np.ndarray, sample_rate: int) -> float:
    """RMS level (dB re full scale) of the active frames of one utterance (20 ms frames within 30 dB of the peak)."""
    frame = max(1, int(0.02 * sample_rate))
    usable = audio[: audio.size // frame * frame].reshape(-1, frame) if audio.size >= frame else audio[None, :]
    power = np.mean(usable.astype(np.float64) ** 2, axis=1) + 1e-20
    active = power[power >= power.max() * 10.0 ** (-ACTIVE_RANGE_DB / 10.0)]
    return float(10.0 * np.log10(active.mean()))


def _read_at(path: str, sample_rate: int) -> np.ndarray:
    """Samples of one audio file at ``sample_rate``, shape (n,); an unusable file raises its one-line InputError."""
    audio, rate = read_audio(path)
    return librosa.resample(audio, orig_sr=rate, target_sr=sample_rate) if rate != sample_rate else audio


def _file_name(index: int, speaker: str, path: str) -> str:
    """Flat, safe file name of row ``index``: no speaker label or stem can leave the folder or collide."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{index:05d}_{speaker}_{Path(path).stem}") + ".wav"


def _source_fingerprint(frame: pd.DataFrame) -> str:
    """Digest of the corpus rows (paths relative to their common folder, labels) and of each file's size."""
    paths = [Path(p).resolve() for p in frame["path"]]
    common = Path(os.path.commonpath(paths)) if len(paths) > 1 else paths[0].parent
    digest = hashlib.sha256()
    for path, row in zip(paths, frame.itertuples(index=False)):
        digest.update(f"{path.relative_to(common)}|{row.emotion}|{row.speaker}|{path.stat().st_size}\n".encode())
    return digest.hexdigest()


def _read_stamp(stamp: Path) -> dict | None:
    """The settings recorded in ``stamp``, or ``None`` when there is none.

    Raises:
        InputError: a stamp that is not a JSON object (damaged).
    """
    if not stamp.is_file():
        return None
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        recorded = None
    if not isinstance(recorded, dict):
        raise InputError(f"{stamp} is damaged; delete its folder {stamp.parent} and run again.")
    return recorded


def rerecord_corpus(
    manifest: str | os.PathLike | pd.DataFrame,
    out_dir: str | os.PathLike,
    channel: Channel,
    *,
    tag: str = "rerecorded",
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Write a copy of a corpus as if recorded through ``channel``; return the new manifest's path.

    Args:
        manifest: the corpus to copy (its audio is read, never changed).
        out_dir: folder of the copy, new or holding this same copy: ``<row>_<speaker>_<stem>.wav`` files,
            ``manifest.csv`` and the settings stamp ``rerecording.json``.
        channel: the recording condition (e.g. ``TELEPHONE_CHANNEL``); its sample rate is the copy's.
        tag: appended to the corpus name (``casia`` -> ``casia-telephone``).
        seed: seeds the room response and the noise of every file.

    Raises:
        InputError: an unreadable source file (named, before anything is written), ``out_dir`` holding another
            re-recording or other files, or a damaged stamp.
    """
    frame = read_manifest(manifest)
    out = Path(out_dir)
    settings = {"channel": repr(channel), "seed": seed, "tag": tag, "source": _source_fingerprint(frame)}
    stamp, manifest_path = out / SETTINGS_NAME, out / "manifest.csv"
    recorded = _read_stamp(stamp)
    if recorded is None and out.is_dir() and any(out.iterdir()):
        raise InputError(f"{out} is not empty and holds no re-recording; choose a new folder for the copy.")
    if recorded is not None:
        differing = sorted(key for key in settings if recorded.get(key) != settings[key])
        if differing:
            raise InputError(f"{out} holds a re-recording made with another {', '.join(differing)}; choose another "
                             "folder or delete it.")
        if manifest_path.is_file() and all((out / name).is_file() for name in recorded.get("files", [])):
            return manifest_path  # complete: nothing to redo

    # The corpus level is set once, before anything is written (this pass also checks every source file).
    levels = np.array([active_level_db(_read_at(path, channel.sample_rate), channel.sample_rate)
                       for path in progress_bar(list(frame["path"]), desc="levels", unit="file", enabled=progress)])
    gain = 10.0 ** ((REFERENCE_LEVEL_DBFS - float(np.median(levels))) / 20.0)
    names = [_file_name(index, str(row.speaker), str(row.path)) for index, row in enumerate(frame.itertuples(index=False))]
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(stamp, "w", encoding="utf-8") as handle:
        json.dump(settings | {"gain": gain, "files": names}, handle, indent=1)

    rows, clipped = [], 0
    for index, row in enumerate(progress_bar(list(frame.itertuples(index=False)), desc=f"re-recording {out.name}",
                                             unit="file", enabled=progress)):
        target = out / names[index]
        if not target.is_file():  # written atomically: a file that exists is complete
            audio = _read_at(row.path, channel.sample_rate)
            wet = record(gain * audio.astype(np.float64), channel, channel.sample_rate, np.random.default_rng([seed, index]))
            clipped += int(np.count_nonzero(np.abs(wet) > 1.0))
            with atomic_write(target, "wb") as handle:
                sf.write(handle, np.clip(wet, -1.0, 1.0).astype(np.float32), channel.sample_rate,
                         subtype="PCM_16", format="WAV")
        rows.append(row._asdict() | {"path": str(target), "corpus": f"{row.corpus}-{tag}"})
    if clipped:
        print(f"re-recording {out.name}: {clipped} samples clipped at full scale (the channel's gain_db is high for "
              "this corpus's loudest utterances).", flush=True)
    return write_manifest(pd.DataFrame(rows), manifest_path)
