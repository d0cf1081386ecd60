"""Reading one audio file safely: decode it, or refuse it with one line that names it.

Both the feature extractor (:func:`didan_lite.features.load_audio`) and the
corpus check (``python -m data_fetch verify``) read files through
:func:`read_audio`, so a file is refused for the same reasons everywhere:
missing, empty, undecodable, truncated, silent or holding NaN/infinite samples.
Only numpy and soundfile are needed (no torch), so ``data_fetch`` can use it.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from didan_lite.errors import InputError

SILENCE_PEAK = 1e-5
"""Peak amplitude (full scale = 1) under which a file is taken as silent."""

_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # data-chunk sizes that streaming writers leave: "up to the end of the file"


def wav_shortfall(path: str | os.PathLike) -> tuple[int, int] | None:
    """(declared, present) bytes of a WAV file's ``data`` chunk when the file is shorter than its header says.

    ``None`` when the file is complete, not a RIFF/WAVE file, or declares no
    size (streaming writers). libsndfile silently reads what is there, so this
    is the only way a truncated copy shows.
    """
    with open(path, "rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        size = os.fstat(handle.fileno()).st_size
        while True:
            chunk = handle.read(8)
            if len(chunk) < 8:
                return None
            name, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if name == b"data":
                present = size - handle.tell()
                return (length, present) if length not in _UNKNOWN_SIZES and present < length else None
            handle.seek(length + (length & 1), os.SEEK_CUR)  # chunks are padded to an even length


class AudioFault(InputError):
    """An unusable audio file. ``str()`` is the full line; ``reason`` says what is wrong without the file's name."""

    def __init__(self, path: str | os.PathLike, reason: str, advice: str) -> None:
        super().__init__(f"Audio file {path} {reason}; {advice}")
        self.path, self.reason = Path(path), reason


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Decode a whole audio file and check it is usable.

    Returns:
        (samples, sample_rate): samples of shape (n_samples,) float32 in
        [-1, 1], channels averaged; the file's own rate in Hz.

    Raises:
        AudioFault: (an InputError) naming the file: missing, empty (0 bytes),
            undecodable, truncated, without samples, holding NaN/infinite
            samples, or silent.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioFault(path, "does not exist", "check the manifest or re-run the corpus preparation.")
    if path.stat().st_size == 0:
        raise AudioFault(path, "is empty (0 bytes)", "re-download or remove it from the manifest.")
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile reports damage with several exception types
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AudioFault(path, f"cannot be decoded ({reason})", "it is corrupt or not audio. Replace or remove it.") from exc
    shortfall = wav_shortfall(path)
    if shortfall is not None:
        declared, present = shortfall
        raise AudioFault(path, f"is truncated (its header declares {declared:,} bytes of audio, it holds {present:,})",
                         "re-download or remove it.")
    if audio.shape[0] == 0:
        raise AudioFault(path, "holds no samples", "re-download or remove it from the manifest.")
    mono = audio.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise AudioFault(path, "contains NaN or infinite samples", "it is corrupt. Replace or remove it.")
    if np.max(np.abs(mono)) < SILENCE_PEAK:
        raise AudioFault(path, f"is silent (peak below {SILENCE_PEAK})", "remove it from the manifest.")
    return mono, int(rate)
