"""The channel: room reverberation, background noise, microphone chain and sample rate of a recording."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy import signal

from didan_lite.errors import InputError

REFERENCE_LEVEL_DBFS = -32.0
"""Active-speech RMS of a neutral utterance before the channel, dB re full scale."""


@dataclass(frozen=True)
class Channel:
    """Recording conditions: room, background noise, microphone chain, sample rate.

    Attributes:
        name: short description.
        sample_rate: native sample rate of the WAV files, Hz.
        band_hz: (low, high) edges of the microphone/line band-pass, Hz.
        band_order: Butterworth order of that band-pass (steepness).
        resonance_hz, resonance_db: peak of the microphone/handset response.
        rt60_s: reverberation time (60 dB decay), s; 0 = anechoic.
        direct_to_reverberant_db: energy of the direct sound re the reverberant tail.
        snr_db: background noise level below the speech level, dB: below each utterance's own active-speech
            level (``noise_follows_speech``, the default), else below the fixed reference level of a neutral
            utterance, so that loud emotions get a higher SNR than quiet ones (a class cue in the noise).
        noise_color: noise power spectrum exponent (0 white hiss, 1 pink ambience).
        gain_db: recording gain of the chain.
    """

    name: str
    sample_rate: int
    band_hz: tuple[float, float]
    band_order: int
    resonance_hz: float
    resonance_db: float
    rt60_s: float
    direct_to_reverberant_db: float
    snr_db: float
    noise_color: float
    gain_db: float
    noise_follows_speech: bool = True


STUDIO_CHANNEL = Channel(
    name="studio condenser microphone in a treated room, 22.05 kHz",
    sample_rate=22050,
    band_hz=(50.0, 10000.0),
    band_order=2,
    resonance_hz=5000.0,
    resonance_db=2.0,
    rt60_s=0.2,
    direct_to_reverberant_db=12.0,
    snr_db=45.0,
    noise_color=0.0,
    gain_db=0.0,
)

TELEPHONE_CHANNEL = Channel(
    name="telephone handset (300-3400 Hz) in a reverberant, noisy office, 16 kHz",
    sample_rate=16000,
    band_hz=(300.0, 3400.0),
    band_order=8,
    resonance_hz=1500.0,
    resonance_db=4.0,
    rt60_s=0.5,
    direct_to_reverberant_db=6.0,
    snr_db=20.0,
    noise_color=1.0,
    gain_db=-4.0,
)



@functools.lru_cache(maxsize=256)
def band_pass(low_hz: float, high_hz: float, order: int, sample_rate: int) -> np.ndarray:
    """Butterworth band-pass (second-order sections); the high edge is kept below Nyquist."""
    high_hz = min(high_hz, 0.45 * sample_rate)
    if not 0 < low_hz < high_hz:
        raise InputError(
            f"Band {low_hz:.0f}-{high_hz:.0f} Hz is empty at {sample_rate} Hz; "
            "use a higher sample rate or a lower band."
        )
    return signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=sample_rate, output="sos")



def _colored_noise(n_samples: int, exponent: float, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise with power spectrum proportional to f^-exponent (flattened below 50 Hz)."""
    n_fft = scipy.fft.next_fast_len(n_samples, real=True)
    spectrum = scipy.fft.rfft(rng.standard_normal(n_fft))
    frequencies = np.maximum(scipy.fft.rfftfreq(n_fft, 1.0 / sample_rate), 50.0)
    noise = scipy.fft.irfft(spectrum * frequencies ** (-exponent / 2.0), n_fft)[:n_samples]
    return noise / np.sqrt(np.mean(noise**2))


def _room_response(channel: Channel, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Impulse response: direct path 1, then exponentially decaying noise (-60 dB at RT60) from 2 ms.

    The tail's energy is ``10^(-DRR/10)`` times the direct path's.
    """
    times = np.arange(int(channel.rt60_s * sample_rate)) / sample_rate
    tail = rng.standard_normal(times.size) * np.exp(-3.0 * np.log(10.0) * times / channel.rt60_s)
    tail[times < 0.002] = 0.0
    tail *= np.sqrt(10.0 ** (-channel.direct_to_reverberant_db / 10.0) / np.sum(tail**2))
    tail[0] = 1.0
    return tail


@functools.lru_cache(maxsize=16)
def _microphone(channel: Channel, sample_rate: int) -> np.ndarray:
    """Second-order sections of the chain: band-pass, then a peaking resonance (RBJ cookbook, Q = 1)."""
    band = band_pass(*channel.band_hz, channel.band_order, sample_rate)
    gain = 10.0 ** (channel.resonance_db / 40.0)
    omega = 2.0 * np.pi * channel.resonance_hz / sample_rate
    alpha = np.sin(omega) / 2.0
    num = [1.0 + alpha * gain, -2.0 * np.cos(omega), 1.0 - alpha * gain]
    den = [1.0 + alpha / gain, -2.0 * np.cos(omega), 1.0 - alpha / gain]
    peak = np.concatenate([num, den]) / den[0]
    return np.vstack([band, peak])


def active_level_dbfs(x: np.ndarray, sample_rate: int, frame_s: float = 0.02, floor_db: float = 30.0) -> float:
    """RMS level of the active part of ``x`` in dB re full scale: over the 20 ms frames within ``floor_db`` of
    the loudest frame (a simple active-speech level). Shape: x (n_samples,)."""
    frame = max(1, int(frame_s * sample_rate))
    n = max(1, x.size // frame)
    energy = np.mean(np.reshape(x[: n * frame], (n, frame)) ** 2, axis=1) if x.size >= frame else np.mean(x**2)[None]
    active = energy[energy >= energy.max() * 10.0 ** (-floor_db / 10.0)]
    return float(10.0 * np.log10(max(float(np.mean(active)), 1e-20)))


def record(dry: np.ndarray, channel: Channel, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Room reverberation, background noise ``snr_db`` below the speech level, microphone chain, gain."""
    wet = signal.fftconvolve(dry, _room_response(channel, sample_rate, rng))[: dry.size] if channel.rt60_s > 0 else dry
    level = active_level_dbfs(dry, sample_rate) if channel.noise_follows_speech else REFERENCE_LEVEL_DBFS
    noise_rms = 10.0 ** ((level - channel.snr_db) / 20.0)
    wet = wet + noise_rms * _colored_noise(dry.size, channel.noise_color, sample_rate, rng)
    return signal.sosfilt(_microphone(channel, sample_rate), wet) * 10.0 ** (channel.gain_db / 20.0)

