"""Reading one audio file safely: decode it, or refuse it with one line that names it.

Both the feature extractor (:func:`didan_lite.features.load_audio`), hence the
deep methods and ``opensmile-svm`` alike, and the corpus check
(``python -m data_fetch verify``) read files through :func:`read_audio`, so a
file is refused for the same reasons everywhere: missing (also a dangling
symbolic link), not a regular file, empty, undecodable, a header outside the
sanity limits, truncated, shorter than :data:`MIN_SECONDS`, holding NaN/infinite
or absurdly loud samples, or silent.

Sanity limits, checked from the header before anything is decoded (a header
lying about its rate would otherwise decode 3 kB into gigabytes): a sample rate
in [:data:`MIN_SAMPLE_RATE`, :data:`MAX_SAMPLE_RATE`] Hz and at most
``max_seconds()`` of audio (default :data:`DEFAULT_MAX_SECONDS`; raise it with
the environment variable ``DIDAN_LITE_MAX_AUDIO_SECONDS`` or
``compare --max-audio-seconds``).
Only numpy and soundfile are needed (no torch), so ``data_fetch`` can use it.
"""

from __future__ import annotations

import io
import os
import stat
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

from didan_lite.errors import InputError

SILENCE_DBFS = -60.0
"""Level (dB relative to full scale) of the loudest 20 ms frame of the channel-mixed, mean-removed signal under
which a file is taken as silent: digital silence, a constant offset (DC), 1-LSB dither of 16-bit audio (about
-90 dBFS) and stereo channels that cancel in the mix all lie below it; speech peaks lie 30-60 dB above it."""
_SILENCE_FRAME_S = 0.02
MAX_PEAK = 100.0
"""Peak amplitude (full scale = 1) above which a float file is refused as absurd (40 dB over full scale)."""
MIN_SECONDS = 0.1
"""Shortest usable file: openSMILE's eGeMAPS functionals need about 60 ms and one spectrogram window 25 ms,
so the deep methods and ``opensmile-svm`` refuse the same files, before any training."""
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 768_000
"""Sample rates (Hz) a header may declare."""
DEFAULT_MAX_SECONDS = 600.0
"""Longest file decoded, unless ``DIDAN_LITE_MAX_AUDIO_SECONDS`` says otherwise (10 minutes of 16 kHz
float32 audio is 38 MB)."""
MAX_SECONDS_VAR = "DIDAN_LITE_MAX_AUDIO_SECONDS"

_UNKNOWN_SIZES = (0, 0xFFFFFFFF)  # data-chunk sizes that streaming writers leave: "up to the end of the file"


def _data_chunk(path: str | os.PathLike) -> tuple[int, int, int] | None:
    """(offset of the ``data`` chunk's size field, declared size, bytes present after it) of a RIFF/WAVE file;
    ``None`` for other files."""
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
                return handle.tell() - 4, length, size - handle.tell()
            handle.seek(length + (length & 1), os.SEEK_CUR)  # chunks are padded to an even length


def wav_shortfall(path: str | os.PathLike) -> tuple[int, int] | None:
    """(declared, present) bytes of a WAV file's ``data`` chunk when the file is shorter than its header says.

    ``None`` when the file is complete, not a RIFF/WAVE file, or declares no
    size (streaming writers). libsndfile silently reads what is there, so this
    is the only way a truncated copy shows.
    """
    found = _data_chunk(path)
    if found is None:
        return None
    _, declared, present = found
    return (declared, present) if declared not in _UNKNOWN_SIZES and present < declared else None


def decodable(path: Path) -> str | io.BytesIO:
    """What libsndfile should open: the path, or, for a WAV whose writer left the RIFF and ``data`` sizes unknown
    (0 or 0xFFFFFFFF: "to the end of the file", as streaming writers do), its bytes with those sizes filled in."""
    found = _data_chunk(path)
    if found is None or found[1] not in _UNKNOWN_SIZES or found[2] == 0:
        return str(path)
    offset, _, present = found
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 4, min(len(data) - 8, 0xFFFFFFFF))
    struct.pack_into("<I", data, offset, min(present, 0xFFFFFFFF))
    return io.BytesIO(bytes(data))


class AudioFault(InputError):
    """An unusable audio file. ``str()`` is the full line; ``reason`` says what is wrong without the file's name."""

    def __init__(self, path: str | os.PathLike, reason: str, advice: str) -> None:
        super().__init__(f"Audio file {path} {reason}; {advice}")
        self.path, self.reason = Path(path), reason


def max_seconds() -> float:
    """Longest audio file decoded (s): ``$DIDAN_LITE_MAX_AUDIO_SECONDS`` or :data:`DEFAULT_MAX_SECONDS`.

    Raises:
        InputError: the variable is not a positive number.
    """
    text = os.environ.get(MAX_SECONDS_VAR, "").strip()
    if not text:
        return DEFAULT_MAX_SECONDS
    value = positive_seconds(text)
    if value is None:
        raise InputError(f"{MAX_SECONDS_VAR}={text!r} is not a positive number of seconds; unset it or give e.g. 1200.")
    return value


def positive_seconds(text: str) -> float | None:
    """``text`` as a finite number of seconds > 0, or ``None`` when it is not one."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < float("inf") else None


def file_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` is not a readable regular file (missing, dangling link, pipe, name too long), without opening it."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return f"is a symbolic link to a missing file ({os.readlink(path)}): the file is missing"
        return "does not exist"
    except OSError as exc:  # a name too long, a parent that is a file, a loop of links
        return f"cannot be opened ({exc.strerror or exc})"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a folder, pipe or device)"
    return None


def header_problem(path: str | os.PathLike) -> str | None:
    """Why the header of a readable file puts it outside the sanity limits, or ``None`` (header only, nothing decoded)."""
    try:
        info = sf.info(decodable(Path(path)))
    except Exception:  # undecodable: read_audio names it when decoding
        return None
    if not MIN_SAMPLE_RATE <= info.samplerate <= MAX_SAMPLE_RATE:
        return (f"declares a sample rate of {info.samplerate:,} Hz, outside the sane range "
                f"[{MIN_SAMPLE_RATE:,}, {MAX_SAMPLE_RATE:,}] Hz (a damaged or hostile header)")
    seconds, limit = info.frames / info.samplerate, max_seconds()
    if seconds > limit:
        return (f"declares {seconds:,.0f} s of audio, more than the {limit:g} s limit (raise it with "
                f"{MAX_SECONDS_VAR} or --max-audio-seconds if the file is genuine)")
    return None


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Decode a whole audio file and check it is usable.

    Returns:
        (samples, sample_rate): samples of shape (n_samples,) float32, channels
        averaged (peak at most :data:`MAX_PEAK`); the file's own rate in Hz.

    Raises:
        AudioFault: (an InputError) naming the file: missing, not a regular
            file, empty (0 bytes), header outside the sanity limits (checked
            before decoding), undecodable, truncated, without samples, shorter
            than :data:`MIN_SECONDS`, holding NaN/infinite or absurdly loud
            samples, or silent.
    """
    path = Path(path)
    problem = file_problem(path)
    if problem:
        raise AudioFault(path, problem, "check the manifest or re-run the corpus preparation.")
    if path.stat().st_size == 0:
        raise AudioFault(path, "is empty (0 bytes)", "re-download or remove it from the manifest.")
    problem = header_problem(path)
    if problem:
        raise AudioFault(path, problem, "replace or remove it.")
    try:
        audio, rate = sf.read(decodable(path), dtype="float32", always_2d=True)
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
    if audio.shape[0] < round(MIN_SECONDS * rate):
        raise AudioFault(path, f"lasts {1000 * audio.shape[0] / rate:.1f} ms, shorter than the {1000 * MIN_SECONDS:g} ms "
                         "every method needs", "remove it from the manifest.")
    if not np.all(np.isfinite(audio)):
        raise AudioFault(path, "contains NaN or infinite samples", "it is corrupt. Replace or remove it.")
    peak = float(np.max(np.abs(audio)))
    if peak > MAX_PEAK:
        raise AudioFault(path, f"has an absurd amplitude (peak {peak:.3g}; full scale is 1)",
                         "it is corrupt or wrongly scaled. Replace or remove it.")
    mono = audio.mean(axis=1)
    level = loudest_frame_dbfs(mono, int(rate))
    if level < SILENCE_DBFS:
        raise AudioFault(path, f"is silent (the loudest 20 ms of the channel-mixed, mean-removed signal is at "
                         f"{level:.0f} dBFS, below {SILENCE_DBFS:g} dBFS)", "remove it from the manifest.")
    return mono, int(rate)


def loudest_frame_dbfs(mono: np.ndarray, rate: int) -> float:
    """RMS level (dBFS; full scale = 1) of the loudest :data:`_SILENCE_FRAME_S` frame of ``mono`` (n,) after its
    mean is removed; -inf for digital silence."""
    centred = mono.astype(np.float64) - float(np.mean(mono))
    frame = max(1, int(round(_SILENCE_FRAME_S * rate)))
    usable = len(centred) // frame * frame
    power = np.square(centred[:usable]).reshape(-1, frame).mean(axis=1) if usable else np.square(centred)
    peak_power = float(np.max(power))
    return 10 * np.log10(peak_power) if peak_power > 0 else float("-inf")
