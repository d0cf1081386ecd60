"""Spectrum features: audio loading, log-mel / STFT spectrograms, cache (the front end and normalisation:
:mod:`didan_lite.normalisation`).

Notebook: notebooks/01_spectrogram_features.ipynb teaches every step here.

DIDAN regresses emotion labels from speech *spectrums* (the abstract's word).
The paper's exact settings are unknown, so these are our documented defaults:

========================  ===============================================
working sample rate       16 kHz (every file is resampled to it)
window                    25 ms Hann (400 samples), FFT size 512
hop                       10 ms (160 samples): 100 frames per second
spectrum                  ``"logmel"``: 64 mel bands (Slaney), 0-8 kHz,
                          power in dB; ``"stft"``: 257 linear bins in dB
front end                 leading and trailing silence trimmed (frames
                          more than ``trim_db`` = 40 dB below the
                          utterance's loudest frame), the utterance's
                          active-speech level (mean level of its voiced
                          frames) subtracted, a dynamic range of 80 dB
fixed length              ``n_frames`` frames: longer utterances are
                          centre-cropped, shorter ones *tiled* (repeated),
                          so no padding reaches the model; training may
                          take random crops instead
normalisation             per corpus and per frequency bin, statistics
                          over the *voiced* frames of that corpus alone
                          (for the target: its unlabelled audio, which
                          is allowed); ``normalise_by="speaker"``: per
                          speaker instead
shared band               bins more than ``band_floor_db`` = 40 dB below
                          either corpus's loudest bin are set to 0 in
                          both (``None``: every bin kept)
========================  ===============================================

**Why this front end (chosen a priori, not on any score).** What differs between
two recordings of the same emotion and carries no emotion across corpora must not
reach the network: the absolute level (a corpus copy that is peak-normalised puts
its loudest emotions and its quietest at the same peak, and the order of the
emotions' levels ran opposite in the two shared corpora), the silence before and
after the speech and the padding of short files (both class cues inside a corpus,
since length differs by emotion, and absent from the other corpus). So the level is
measured on the speech itself and removed (the same utterance at any gain gives the
same input), silence at the ends is cut by a simple energy rule, a short utterance
is repeated rather than padded, and the corpus statistics come from voiced frames
only. ``FeatureConfig(level="none", trim_db=None, length="pad")`` restores the
previous front end for comparison. Why the shared band and per-corpus statistics: docs/decisions/front-end.md.

The spectrogram is computed with torch (``torch.stft`` and librosa's mel
filterbank as a matrix), batched, so the same code runs on a CPU or a GPU; a
test checks it against ``librosa.feature.melspectrogram``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import librosa
import numpy as np
import pandas as pd
import torch

from didan_lite.atomic import atomic_write, cached_array
from didan_lite.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioFault, header_problem, max_seconds, read_audio
from didan_lite.errors import InputError
from didan_lite.progress import progress_bar

POWER_FLOOR = 1e-10
"""Power floor before the logarithm: -100 dB."""
DYNAMIC_RANGE_DB = 80.0
"""The front end clamps every spectrogram at this many dB below its own maximum, so the floor moves with the gain."""
LEVELS: tuple[str, ...] = ("utterance", "none")
LENGTHS: tuple[str, ...] = ("tile", "pad")
NORMALISATIONS: tuple[str, ...] = ("corpus", "speaker")
"""Whose statistics standardise an utterance (:func:`didan_lite.normalisation.normalisation_groups`)."""
_POST_CACHE = ("n_frames", "trim_db", "level", "length", "band_floor_db", "normalise_by")
"""Settings applied after the cache (by :func:`didan_lite.normalisation.front_end` and the stacking), so they do not change a cache key."""


@dataclass(frozen=True)
class FeatureConfig:
    """Settings of the spectrum input. Defaults are documented in the module docstring."""

    sample_rate: int = 16_000
    kind: Literal["logmel", "stft"] = "logmel"
    window_ms: float = 25.0
    hop_ms: float = 10.0
    n_mels: int = 64
    fmin: float = 0.0
    fmax: float | None = None
    n_frames: int = 200
    trim_db: float | None = 40.0
    """Leading and trailing frames more than this many dB below the utterance's loudest frame are cut, and
    only frames within it count as voiced (level, corpus statistics); ``None``: keep every frame."""
    level: Literal["utterance", "none"] = "utterance"
    """``"utterance"``: subtract each utterance's active-speech level (mean dB of its voiced frames); ``"none"``."""
    length: Literal["tile", "pad"] = "tile"
    """How a short utterance reaches ``n_frames``: repeated (``"tile"``) or padded with the corpus mean (``"pad"``)."""
    band_floor_db: float | None = 40.0
    """Frequency bins more than this many dB below a corpus's own loudest bin, in either corpus of a task, are set
    to 0 in both (:func:`didan_lite.normalisation.shared_band`); ``None`` keeps every bin. Reads audio only."""
    normalise_by: Literal["corpus", "speaker"] = "corpus"
    """Whose per-bin statistics standardise each spectrogram: its corpus's, or its speaker's (a target's speaker
    IDs are unlabelled metadata; no emotion label is read)."""

    def __post_init__(self) -> None:
        if self.kind not in ("logmel", "stft"):
            raise InputError(f"Feature kind {self.kind!r} is unknown; use 'logmel' or 'stft'.")
        if self.level not in LEVELS or self.length not in LENGTHS:
            raise InputError(f"level must be one of {LEVELS} and length one of {LENGTHS}; got {self.level!r}, {self.length!r}.")
        if self.trim_db is not None and not 0 < self.trim_db < DYNAMIC_RANGE_DB:
            raise InputError(f"trim_db must be None or a number of dB in (0, {DYNAMIC_RANGE_DB:g}); got {self.trim_db}.")
        if self.band_floor_db is not None and not 0 < self.band_floor_db < float("inf"):
            raise InputError(f"band_floor_db must be None or a positive number of dB; got {self.band_floor_db}.")
        if self.normalise_by not in NORMALISATIONS:
            raise InputError(f"Unknown normalisation {self.normalise_by!r}; use one of {', '.join(NORMALISATIONS)}.")
        if self.sample_rate < 4000 or self.window_ms <= 0 or self.hop_ms <= 0 or self.n_frames < 8:
            raise InputError(f"Feature settings {self} are out of range (sample_rate >= 4000, positive window/hop, n_frames >= 8).")
        nyquist = self.sample_rate / 2
        top = nyquist if self.fmax is None else self.fmax
        if isinstance(self.n_mels, bool) or not isinstance(self.n_mels, int) or self.n_mels < 1:
            raise InputError(f"n_mels={self.n_mels!r} must be a whole number of mel bands >= 1 (default 64).")
        if not 0 <= self.fmin < top <= nyquist:
            raise InputError(f"fmin={self.fmin!r}, fmax={self.fmax!r}: need 0 <= fmin < fmax <= {nyquist:g} Hz (half the "
                             f"sample rate {self.sample_rate}); fmax=None means {nyquist:g} Hz.")

    @property
    def win_length(self) -> int:
        """Window length in samples."""
        return int(round(self.sample_rate * self.window_ms / 1000))

    @property
    def hop_length(self) -> int:
        """Hop in samples."""
        return int(round(self.sample_rate * self.hop_ms / 1000))

    @property
    def n_fft(self) -> int:
        """FFT size: the next power of two at or above the window length."""
        return 1 << (self.win_length - 1).bit_length()

    @property
    def n_bins(self) -> int:
        """Frequency bins of the spectrum: mel bands or linear FFT bins."""
        return self.n_mels if self.kind == "logmel" else self.n_fft // 2 + 1

    def key(self) -> str:
        """Short hash of the settings that change a cached spectrogram (not those applied after the cache)."""
        settings = dataclasses.asdict(self)
        for name in _POST_CACHE:
            settings.pop(name)
        return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def load_audio(path: str | os.PathLike, sample_rate: int = 16_000) -> np.ndarray:
    """Load any audio file as mono float32 at ``sample_rate``.

    Channels are averaged, integer formats scaled to [-1, 1], and the signal
    resampled (soxr, high quality) whatever its own rate.

    Returns:
        Array of shape (n_samples,), float32.

    Raises:
        InputError: ``sample_rate`` not a whole number of Hz in the range audio files use (the argument is
            named, not the file); or naming the file: missing, empty, undecodable, truncated, silent or
            NaN-holding audio (:func:`didan_lite.audio.read_audio`).
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) \
            or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise InputError(f"load_audio: sample_rate={sample_rate!r} is not a rate to resample to; pass a whole number "
                         f"of Hz in [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}] (default 16000).")
    mono, native_rate = read_audio(path)
    if native_rate != sample_rate:
        try:
            mono = librosa.resample(mono, orig_sr=native_rate, target_sr=sample_rate, res_type="soxr_hq")
        except Exception as exc:  # e.g. a few samples only, or an absurd rate in the header
            raise InputError(f"Audio file {path} cannot be resampled from {native_rate} Hz ({exc}); replace or remove it.") from exc
    return np.ascontiguousarray(mono, dtype=np.float32)


@lru_cache(maxsize=8)
def _mel_matrix(config: FeatureConfig) -> np.ndarray:
    return librosa.filters.mel(
        sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels, fmin=config.fmin, fmax=config.fmax
    ).astype(np.float32)


def spectrogram(audio: np.ndarray | torch.Tensor, config: FeatureConfig = FeatureConfig(), device: str | torch.device | None = None) -> torch.Tensor:
    """Log-power spectrogram (mel or linear) of one signal or a batch.

    .. math::
        X[k, m] = \\sum_n x[n + mH]\\, w[n]\\, e^{-2\\pi i k n / N}, \\qquad
        S = 10 \\log_{10} \\max(M |X|^2, 10^{-10})

    with hop :math:`H`, Hann window :math:`w` of ``win_length`` zero-padded to
    :math:`N` = ``n_fft``, and :math:`M` the mel filterbank (identity for
    ``kind="stft"``). Frames are centred (the signal is zero-padded by
    :math:`N/2` on both sides), as in librosa.

    Shape:
        audio (n_samples,) or (batch, n_samples) -> (n_bins, n_frames) or
        (batch, n_bins, n_frames), ``n_frames = 1 + n_samples // hop``; dB.

    Raises:
        InputError: a signal shorter than one window.
    """
    signal = torch.as_tensor(audio, dtype=torch.float32, device=device)
    if signal.shape[-1] < config.win_length:
        raise InputError(
            f"Audio of {signal.shape[-1]} samples is shorter than one analysis window "
            f"({config.win_length} samples = {config.window_ms} ms); remove such clips."
        )
    window = torch.hann_window(config.win_length, periodic=True, device=signal.device)
    stft = torch.stft(
        signal,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        win_length=config.win_length,
        window=window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    power = stft.real.square() + stft.imag.square()
    if config.kind == "logmel":
        mel = torch.from_numpy(_mel_matrix(config)).to(signal.device)
        power = torch.matmul(mel, power)
    return 10.0 * torch.log10(power.clamp_min(POWER_FLOOR))


def fix_length(spec: np.ndarray | torch.Tensor, n_frames: int, policy: Literal["center", "start"] = "center",
               pad_value: float = 0.0, *, tile: bool = False) -> torch.Tensor:
    """Crop or pad the last (time) axis to exactly ``n_frames``.

    ``"center"`` keeps the middle of a long utterance and pads a short one
    equally on both sides; ``"start"`` keeps the beginning and pads at the end.
    With ``tile`` a short utterance is repeated from its start instead of padded: every frame the model
    sees is a frame of the utterance.

    Shape:
        (..., n_bins, T) -> (..., n_bins, n_frames)
    """
    spec = torch.as_tensor(spec)
    length = spec.shape[-1]
    if policy not in ("center", "start"):
        raise InputError(f"Length policy {policy!r} is unknown; use 'center' or 'start'.")
    if length >= n_frames:
        offset = (length - n_frames) // 2 if policy == "center" else 0
        return spec[..., offset : offset + n_frames]
    if tile:
        return spec.repeat(*([1] * (spec.ndim - 1)), -(-n_frames // length))[..., :n_frames]
    missing = n_frames - length
    left = missing // 2 if policy == "center" else 0
    return torch.nn.functional.pad(spec, (left, missing - left), value=pad_value)


def random_crop(batch: torch.Tensor, n_frames: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One random ``n_frames`` window per example, the data-augmentation policy of training.

    Shape:
        (B, n_bins, T) with T >= n_frames -> (B, n_bins, n_frames)
    """
    surplus = batch.shape[-1] - n_frames
    if surplus <= 0:
        return batch
    offsets = torch.randint(0, surplus + 1, (batch.shape[0],), generator=generator, device="cpu").to(batch.device)
    index = offsets[:, None] + torch.arange(n_frames, device=batch.device)[None, :]
    return torch.gather(batch, 2, index[:, None, :].expand(-1, batch.shape[1], -1))


@dataclass(frozen=True)
class SpecMasks:
    """Masks of training spectrograms (SpecAugment's frequency and time masks, Park et al., 2019).

    Per utterance, ``freq_masks`` bands of 0 to ``max_bins`` adjacent bins and ``time_masks`` spans of 0 to
    ``max_frames`` adjacent frames are set to 0, the mean of standardised input; widths and positions are uniform.
    """

    freq_masks: int = 2
    max_bins: int = 8
    time_masks: int = 2
    max_frames: int = 12

    def __post_init__(self) -> None:
        for name, value in dataclasses.asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(f"SpecMasks {name}={value!r} is not a whole number >= 0; pass e.g. {name}=2.")


def spec_mask(batch: torch.Tensor, masks: SpecMasks, generator: torch.Generator | None = None) -> torch.Tensor:
    """``batch`` with the frequency bands and time spans of ``masks`` set to 0, drawn per example from ``generator``.

    Shape:
        (B, n_bins, T) -> (B, n_bins, T)
    """
    if batch.dim() != 3:
        raise InputError(f"spec_mask takes a batch of spectrograms (B, n_bins, T); got shape {tuple(batch.shape)}.")
    keep = torch.ones(batch.shape, dtype=torch.bool)
    for count, widest, axis in ((masks.freq_masks, masks.max_bins, 1), (masks.time_masks, masks.max_frames, 2)):
        size = batch.shape[axis]
        positions = torch.arange(size)
        for _ in range(count):
            width = torch.randint(0, min(widest, size) + 1, (batch.shape[0],), generator=generator)
            start = (torch.rand(batch.shape[0], generator=generator) * (size - width + 1)).long()
            inside = (positions >= start[:, None]) & (positions < (start + width)[:, None])  # (B, size)
            keep &= ~(inside[:, :, None] if axis == 1 else inside[:, None, :])
    return batch * keep.to(batch.device, batch.dtype)


def file_digest(path: str | os.PathLike) -> str:
    """SHA-1 of a file's bytes: the cache key does not depend on its name or place."""
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class CorpusFeatures:
    """Spectrograms of a corpus, variable length, before normalisation.

    Attributes:
        spectrograms: one array (n_bins, n_frames_i) in dB per kept utterance.
        manifest: the manifest rows of the kept utterances, in the same order.
        skipped: (path, reason) of every utterance left out as unreadable.
    """

    spectrograms: list[np.ndarray]
    manifest: pd.DataFrame
    skipped: list[tuple[str, str]]


def default_cache_dir() -> Path:
    """``$DIDAN_LITE_DATA/features`` if set (``~`` expanded, as ``data_fetch`` does), else ``~/.cache/didan_lite/features``."""
    root = os.environ.get("DIDAN_LITE_DATA")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "didan_lite") / "features"


def extract_corpus(
    manifest: pd.DataFrame,
    config: FeatureConfig = FeatureConfig(),
    *,
    cache_dir: str | os.PathLike | None = None,
    strict: bool = False,
    progress: bool = True,
    device: str | torch.device | None = None,
) -> CorpusFeatures:
    """Spectrogram of every utterance of a manifest, through an on-disk cache.

    The cache entry of a file is keyed by the SHA-1 of its bytes and the
    feature settings (``config.key()``), and written atomically, so renamed or
    moved corpora hit the cache and an interrupted run never leaves a
    half-written entry. A file's digest is remembered by its path, size and
    modification time (:func:`content_key`), so a hit on an unchanged file reads
    none of its audio (on Google Drive, one small read instead of the whole
    file). Unreadable files are skipped with one summary warning; with
    ``strict=True`` the first one raises.

    Args:
        manifest: a manifest as returned by :func:`didan_lite.manifest.read_manifest`.
        cache_dir: cache folder; ``None`` uses :func:`default_cache_dir`.
        device: where to compute spectrograms (``None``: CPU).

    The audio length limit (:func:`didan_lite.audio.max_seconds`) is read before any work and applies to
    cached files too (their header is read again; nothing is decoded).

    Raises:
        InputError: with ``strict``, the first unreadable file; always, when
            no utterance at all could be read, or when ``$DIDAN_LITE_MAX_AUDIO_SECONDS`` is not a positive number.
    """
    max_seconds()  # a bad limit is refused here, before any work, whether or not the cache is warm
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    cache = root / config.key()
    spectrograms, kept, skipped = [], [], []
    rows = progress_bar(manifest.itertuples(index=True), total=len(manifest), desc="features", enabled=progress, leave=False)
    for row in rows:
        try:
            spec = _cached_spectrogram(Path(row.path), config, cache, device, root / STAT_INDEX)
        except InputError as exc:
            if strict:
                raise
            skipped.append((row.path, str(exc)))
            continue
        spectrograms.append(spec)
        kept.append(row.Index)
    if skipped:
        listed = "; ".join(path for path, _ in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        warnings.warn(
            f"Skipped {len(skipped)} unreadable file(s) of {len(manifest)}: {listed}. Pass strict=True (--strict) to stop on them.",
            stacklevel=2,
        )
    if not spectrograms:
        raise InputError(f"None of the {len(manifest)} file(s) of the manifest could be read; first problem: {skipped[0][1]}")
    return CorpusFeatures(spectrograms, manifest.loc[kept].reset_index(drop=True), skipped)


STAT_INDEX = "by-stat"
"""Sub-folder of the cache root: one small file per (path, size, modification time) holding that file's digest."""
_SHA1 = re.compile(r"[0-9a-f]{40}")


def content_key(path: str | os.PathLike, index: str | os.PathLike) -> str:
    """The SHA-1 of ``path``'s bytes (:func:`file_digest`), remembered in ``index`` under its absolute path, size and
    modification time (ns): an unchanged file is not read again; a changed, moved or copied one is hashed again."""
    path = Path(path)
    stat = path.stat()
    name = hashlib.sha1(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()).hexdigest()
    note = Path(index) / f"{name}.txt"
    try:
        digest = note.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        digest = ""
    if _SHA1.fullmatch(digest):
        return digest
    digest = file_digest(path)
    with atomic_write(note, "w") as handle:
        handle.write(digest)
    return digest


def _cached_spectrogram(path: Path, config: FeatureConfig, cache: Path, device, index: Path) -> np.ndarray:
    """Spectrogram of one file from the cache; an entry that does not load as one (0 bytes, damaged) is a miss."""
    if not path.is_file():
        raise InputError(f"Audio file {path} does not exist; check the manifest or re-run the corpus preparation.")
    problem = header_problem(path)  # the length limit holds for a cached file too (header only)
    if problem:
        raise AudioFault(path, problem, "replace or remove it.")

    def compute() -> np.ndarray:
        audio = load_audio(path, config.sample_rate)
        if len(audio) < config.win_length:
            raise InputError(
                f"Audio file {path} lasts {1000 * len(audio) / config.sample_rate:.1f} ms, shorter than one analysis "
                f"window ({config.window_ms} ms); remove it from the manifest."
            )
        return spectrogram(audio, config, device).cpu().numpy()

    return cached_array(cache / f"{content_key(path, index)}.npy", compute, lambda spec: _valid_entry(spec, config))


def _valid_entry(spec: np.ndarray, config: FeatureConfig) -> bool:
    """A cached spectrogram is finite float32 of shape (n_bins, T), T >= 1."""
    shaped = spec.dtype == np.float32 and spec.ndim == 2 and spec.shape[0] == config.n_bins and spec.shape[1] >= 1
    return shaped and bool(np.all(np.isfinite(spec)))
