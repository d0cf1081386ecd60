"""Re-record a real corpus through a simulated channel: the same speech under another recording condition.

A cross-corpus gap mixes language, speakers, acting and recording. Passing one
corpus through :func:`didan_lite.synthetic.channel.record` (room, noise,
microphone band, sample rate) isolates the last of these: a model trained on
EmoDB and tested on a *telephone* copy of CASIA meets both the corpus gap and
a channel gap, so a benchmark can ask whether an alignment method still holds
up when the channel changes (``benchmarks/cross_corpus.py --target-channel``).

The level of the whole corpus is set once, so that its median utterance sits
at the channel model's reference level (the noise is placed relative to it),
which keeps the loudness differences between emotions. Every file is written
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


def _read_at(path: str, sample_rate: int) -> tuple[np.ndarray, int]:
    """(samples at ``sample_rate``, ``sample_rate``) of one audio file; an unusable file raises its InputError."""
    audio, rate = read_audio(path)
    return (librosa.resample(audio, orig_sr=rate, target_sr=sample_rate) if rate != sample_rate else audio), sample_rate


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
        out_dir: folder of the copy: ``<speaker>/<original file stem>.wav`` and ``manifest.csv``.
        channel: the recording condition (e.g. ``TELEPHONE_CHANNEL``); its sample rate is the copy's.
        tag: appended to the corpus name (``casia`` -> ``casia-telephone``).
        seed: seeds the room response and the noise of every file.

    Raises:
        InputError: an unreadable source file (named), or ``out_dir`` holding a copy made with other settings.
    """
    frame = read_manifest(manifest)
    out = Path(out_dir)
    settings = {"channel": repr(channel), "seed": seed, "tag": tag,
                "source": hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()}
    stamp = out / SETTINGS_NAME
    if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) != settings:
        raise InputError(f"{out} holds a re-recording made with other settings; choose another folder or delete it.")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(stamp, "w", encoding="utf-8") as handle:
        json.dump(settings, handle, indent=1)

    levels = [active_level_db(*_read_at(path, channel.sample_rate)) for path in frame["path"]]
    gain = 10.0 ** ((REFERENCE_LEVEL_DBFS - float(np.median(levels))) / 20.0)

    rows = []
    for index, row in enumerate(progress_bar(list(frame.itertuples(index=False)), desc=f"re-recording {out.name}",
                                             unit="file", enabled=progress)):
        target = out / str(row.speaker) / f"{index:05d}_{Path(row.path).stem}.wav"  # stems repeat across folders
        if not target.is_file():
            audio, _ = _read_at(row.path, channel.sample_rate)
            wet = record(gain * audio.astype(np.float64), channel, channel.sample_rate, np.random.default_rng([seed, index]))
            with atomic_write(target, "wb") as handle:
                sf.write(handle, np.clip(wet, -1.0, 1.0).astype(np.float32), channel.sample_rate,
                         subtype="PCM_16", format="WAV")
        rows.append(row._asdict() | {"path": str(target), "corpus": f"{row.corpus}-{tag}"})
    return write_manifest(pd.DataFrame(rows), out / "manifest.csv")
