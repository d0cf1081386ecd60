"""The audio track of a video file, as a 16 kHz mono WAV (eNTERFACE'05 is distributed as AVI).

Decoding and resampling use PyAV (``av``, FFmpeg's libraries bundled in the
wheel), so no ``ffmpeg`` program needs to be installed. PyAV is an optional
extra (``pip install "didan-lite[video]"``): only video corpora need it, and
:func:`require_pyav` says how to install it when it is missing. Channels are averaged
to mono and resampled by FFmpeg's ``swresample``; the WAV is written
atomically, so an interrupted extraction never leaves a truncated file that
would later be taken as complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError

SAMPLE_RATE = 16_000


def require_pyav(what: str = "eNTERFACE'05"):
    """PyAV's module ``av``, imported; ``what`` names the corpus that needs it in the error.

    Raises:
        InputError: PyAV is not installed (one line with the command that installs it).
    """
    try:
        import av
    except ImportError as exc:
        raise InputError(
            f"{what} is distributed as video and decoding its audio needs PyAV, which is not installed: "
            'run `pip install "didan-lite[video]"` (or `pip install av`) and try again.'
        ) from exc
    return av


def extract_audio(video: Path, wav: Path, *, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write the first audio track of ``video`` to ``wav`` (mono, ``sample_rate`` Hz, 16-bit PCM).

    Returns ``wav``. Shape: a video with an ``n``-second track gives a WAV of
    about ``n * sample_rate`` samples.

    Raises:
        InputError: the file cannot be decoded or has no audio track; PyAV is not installed.
    """
    av = require_pyav()

    try:
        container = av.open(str(video))
    except (av.FFmpegError, OSError) as exc:
        raise InputError(f"Cannot open {video} as a video: {exc}. The file may be truncated; replace it.") from exc
    with container:
        if not container.streams.audio:
            raise InputError(f"{video} has no audio track.")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
        chunks = []
        try:
            for frame in container.decode(container.streams.audio[0]):
                chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
        except (av.FFmpegError, OSError) as exc:
            message = f"Cannot decode the audio of {video}: {exc}. The file may be damaged; replace it."
            raise InputError(message) from exc
    samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    if samples.size == 0:
        raise InputError(f"The audio track of {video} is empty.")
    with atomic_write(wav, "wb") as handle:
        soundfile.write(handle, samples, sample_rate, format="WAV", subtype="PCM_16")
    return wav
