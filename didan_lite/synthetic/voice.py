r"""The voice: speakers, glottal source and vocal tract (source-filter model, Fant 1960; Klatt 1980).

* Source: a Rosenberg (1971) glottal-flow pulse, differentiated (lip radiation).
  Over one period, phase :math:`\phi \in [0, 1)`, opening quotient
  :math:`T_p = 0.4`, closing quotient :math:`T_n = 0.16`:

  .. math::
      g(\phi) = \tfrac12\bigl(1 - \cos(\pi\phi/T_p)\bigr)\ (\phi < T_p),\quad
      \cos\bigl(\pi(\phi - T_p)/(2T_n)\bigr)\ (T_p \le \phi < T_p + T_n),\quad 0\ \text{else}.

  Jitter perturbs each period, shimmer each pulse amplitude (relative SDs);
  breathiness adds aspiration noise (RMS ratio to the voicing), stronger while
  the glottis is open. A first-order high shelf (corner 1 kHz) sets the
  spectral tilt.
* Filter: four or five second-order resonators in cascade (``lfilter``; F1-F3
  from the language's vowel or consonant, F4 = 3.5 kHz, F5 = 4.5 kHz for the
  reference male vocal tract of 17.5 cm, all scaled by 17.5 cm / the speaker's
  vocal-tract length), bandwidths 80, 100, 150, 250, 300 Hz. Fricatives and stop
  bursts are band-passed noise added after the tract; nasals and approximants
  are voiced murmurs with their own formants.
* Speakers (:class:`SpeakerPopulation`, :func:`draw_speakers`) differ in F0,
  vocal-tract length, breathiness and expressiveness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from didan_lite.synthetic.channel import band_pass
from didan_lite.synthetic.language import Segment
from didan_lite.synthetic.prosody import EmotionProsody
from didan_lite.synthetic.seeding import derived_rng

REFERENCE_VOCAL_TRACT_CM = 17.5
"""Vocal-tract length for which the vowel and consonant formant tables hold (adult male)."""

_OPEN_QUOTIENT, _CLOSING_QUOTIENT = 0.4, 0.16
_HIGHER_FORMANTS_HZ = (3500.0, 4500.0)
_BANDWIDTHS_HZ = (80.0, 100.0, 150.0, 250.0, 300.0)
_TILT_CORNER_HZ = 1000.0
_RAMP_S = 0.012  # onset/offset ramps of segments and noise bursts


@dataclass(frozen=True)
class SpeakerPopulation:
    """Who speaks in a corpus.

    Speaker ``k`` is female for ``k < round(n_speakers * female_fraction)``.
    F0 (Hz) is drawn log-normally around the gender mean with SD
    ``f0_spread_st`` semitones; vocal-tract length normally (cm), giving the
    formant scale ``17.5 cm / length``.
    """

    n_speakers: int
    female_fraction: float
    f0_male_hz: float
    f0_female_hz: float
    f0_spread_st: float
    vocal_tract_male_cm: float
    vocal_tract_female_cm: float
    vocal_tract_spread_cm: float



@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: F0 (Hz), formant scale, voice-quality and expressiveness factors."""

    speaker_id: str
    gender: str
    f0_hz: float
    formant_scale: float
    breathiness_scale: float
    expressiveness: float



def draw_speakers(population: SpeakerPopulation, seed: int, corpus_name: str) -> list[Speaker]:
    """The speakers of a corpus, ids ``<corpus name without synth->NN``, deterministic per (seed, corpus).

    Besides F0 and vocal-tract length (see :class:`SpeakerPopulation`), each
    speaker gets a breathiness factor (x1.3 for women, as Klatt & Klatt 1990
    measured; log-SD 30 %) and an expressiveness factor (log-SD 15 %) that
    scales how far their utterances move from neutral.
    """
    prefix = corpus_name.removeprefix("synth-")
    n_female = round(population.n_speakers * population.female_fraction)
    speakers = []
    for k in range(population.n_speakers):
        rng = derived_rng(seed, corpus_name, "speaker", k)
        female = k < n_female
        f0_mean = population.f0_female_hz if female else population.f0_male_hz
        tract_mean = population.vocal_tract_female_cm if female else population.vocal_tract_male_cm
        tract_cm = tract_mean + population.vocal_tract_spread_cm * rng.standard_normal()
        speakers.append(
            Speaker(
                speaker_id=f"{prefix}{k + 1:02d}",
                gender="female" if female else "male",
                f0_hz=float(f0_mean * 2.0 ** (population.f0_spread_st * rng.standard_normal() / 12.0)),
                formant_scale=float(REFERENCE_VOCAL_TRACT_CM / tract_cm),
                breathiness_scale=float((1.3 if female else 1.0) * np.exp(0.3 * rng.standard_normal())),
                expressiveness=float(np.exp(0.15 * rng.standard_normal())),
            )
        )
    return speakers



def voicing_envelope(segments: list[Segment], times: np.ndarray) -> np.ndarray:
    """Glottal source amplitude over ``times`` (s): each segment's ``voice``, ramped linearly at its edges."""
    points_t, points_v = [0.0], [0.0]
    for seg in segments:
        ramp = min(_RAMP_S, (seg.end - seg.start) / 4.0)
        points_t += [seg.start + ramp, seg.end - ramp]
        points_v += [seg.voice] * 2
    return np.interp(times, points_t + [segments[-1].end], points_v + [0.0])


def glottal_source(f0_hz: np.ndarray, prosody: EmotionProsody, sample_rate: int, rng: np.random.Generator):
    """Differentiated Rosenberg pulses with jitter and shimmer; returns (pulses, open-phase mask)."""
    cycle = (np.cumsum(f0_hz) / sample_rate).astype(np.int64)
    f0_hz = f0_hz * (1.0 + prosody.jitter * rng.standard_normal(cycle[-1] + 2))[cycle]
    phase = np.cumsum(f0_hz) / sample_rate
    cycle = phase.astype(np.int64)
    frac = phase - cycle
    rising = frac < _OPEN_QUOTIENT
    falling = (frac >= _OPEN_QUOTIENT) & (frac < _OPEN_QUOTIENT + _CLOSING_QUOTIENT)
    pulses = np.zeros_like(frac)
    pulses[rising] = np.pi / (2 * _OPEN_QUOTIENT) * np.sin(np.pi * frac[rising] / _OPEN_QUOTIENT)
    closing = (frac[falling] - _OPEN_QUOTIENT) / _CLOSING_QUOTIENT
    pulses[falling] = -np.pi / (2 * _CLOSING_QUOTIENT) * np.sin(np.pi * closing / 2)
    amplitude = np.clip(1.0 + prosody.shimmer * rng.standard_normal(cycle[-1] + 1), 0.2, None)
    return pulses * amplitude[cycle], rising | falling


def _resonator(frequency_hz: float, bandwidth_hz: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Second-order resonator with unit gain at 0 Hz: poles at radius exp(-pi B / fs), angle 2 pi F / fs."""
    radius = np.exp(-np.pi * bandwidth_hz / sample_rate)
    a = np.array([1.0, -2.0 * radius * np.cos(2.0 * np.pi * frequency_hz / sample_rate), radius**2])
    return np.array([a.sum()]), a


def vocal_tract(
    source: np.ndarray, segments: list[Segment], scale: float, sample_rate: int, articulation: tuple[float, float] = (1.0, 1.0)
) -> np.ndarray:
    """Cascade formant filter, coefficients switched per segment, filter states carried across.

    ``scale`` (the speaker's vocal-tract length) multiplies every formant,
    ``articulation`` = (F1 factor, F2-F3 factor) the first three on top (the emotion's jaw and lips).
    """
    nyquist_limit = 0.45 * sample_rate
    higher = tuple(f for f in _HIGHER_FORMANTS_HZ if f * scale < nyquist_limit)
    factors = np.array([articulation[0], articulation[1], articulation[1]] + [1.0] * len(higher)) * scale
    states = np.zeros((3 + len(higher), 2))
    out = np.empty_like(source)
    for seg in segments:
        a, b = round(seg.start * sample_rate), round(seg.end * sample_rate)
        x = source[a:b]
        for k, frequency in enumerate(seg.formants_hz + higher):
            num, den = _resonator(min(frequency * factors[k], nyquist_limit), _BANDWIDTHS_HZ[k], sample_rate)
            x, states[k] = signal.lfilter(num, den, x, zi=states[k])
        out[a:b] = x
    return out



def frication(
    segments: list[Segment], scale: float, n_samples: int, sample_rate: int, rng: np.random.Generator
) -> np.ndarray:
    """Band-passed noise of the fricatives and bursts, unit RMS inside each, times the consonant's level.

    A noise band that lies above 0.45 x the sample rate stays silent, as in an anti-aliased recording.
    """
    out = np.zeros(n_samples)
    for seg in segments:
        if seg.noise is None or seg.noise.noise_band_hz[0] * scale >= 0.45 * sample_rate:
            continue
        a, b = round(seg.start * sample_rate), round(seg.end * sample_rate)
        low, high = seg.noise.noise_band_hz
        sos = band_pass(round(low * scale), round(high * scale), 2, sample_rate)
        noise = signal.sosfilt(sos, rng.standard_normal(b - a))
        ramp = np.clip(np.minimum(np.arange(b - a), np.arange(b - a)[::-1]) / (_RAMP_S * sample_rate / 2), 0.0, 1.0)
        out[a:b] = noise / (np.sqrt(np.mean(noise**2)) + 1e-12) * ramp * 10.0 ** (seg.noise.level_db / 20.0)
    return out


def spectral_tilt(x: np.ndarray, tilt_db: float, sample_rate: int) -> np.ndarray:
    """First-order high shelf H(s) = (g s + w) / (s + w), w = 2 pi 1 kHz, g = 10^(tilt/20); bilinear transform."""
    w = 2.0 * np.pi * _TILT_CORNER_HZ
    num, den = signal.bilinear([10.0 ** (tilt_db / 20.0), w], [1.0, w], fs=sample_rate)
    return signal.lfilter(num, den, x)

