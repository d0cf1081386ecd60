r"""SYNTHETIC emotional speech: the embedded default corpora (generated, never recorded).

Without any download, didan-lite still shows the whole cross-corpus story on two
*synthetic* corpora that differ the way real ones do. Nothing here is a
recording of a person; every corpus name starts with ``synth-`` and every
:class:`CorpusSpec` description says so.

The voice (source-filter model, Fant 1960; cascade formant synthesis, Klatt 1980)
-------------------------------------------------------------------------------
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
* Rhythm: C(V)C syllables from the language's inventory, durations around the
  language's syllable rate with stress and phrase-final lengthening, pauses
  between prosodic phrases, silence around the utterance.
* Intonation: pitch accents on stressed syllables (stress languages) or lexical
  tones (tone languages), declination, a slow drift, and an emotion-specific
  phrase-final movement.

Emotion prosody (``EMOTION_PROSODY``, relative to the speaker's neutral voice)
-------------------------------------------------------------------------------
Tendencies from Murray & Arnott (1993, table 1), Banse & Scherer (1996), Scherer
(2003) and Juslin & Laukka (2003): anger high F0, wide range, loud, flat tilt,
fast; sadness low F0, narrow range, slow, soft, steep tilt, breathy, long pauses;
fear very high F0, fastest, irregular voicing (jitter); happiness high F0, wide
range, rising ends; neutral the baseline. Anger and happiness share high arousal
and differ mainly in loudness, tilt and the final movement, so they overlap.

==========  ====  =====  ====  =====  =====  ======  ======  =======  =====  =====
emotion     F0 x  range  rate  level  tilt   breath  jitter  shimmer  pause  final
                  x      x     dB     dB     ratio   %       %        x      st
==========  ====  =====  ====  =====  =====  ======  ======  =======  =====  =====
anger       1.30  1.60   1.10  +6.0   +6.0   0.06    1.0     4.0      0.80   -4.0
fear        1.40  1.20   1.22  +1.0   +2.0   0.18    2.2     6.0      1.20   +1.0
happiness   1.25  1.55   1.06  +3.5   +3.0   0.12    0.8     3.5      0.90   +2.0
neutral     1.00  1.00   1.00   0.0    0.0   0.10    0.6     3.0      1.00   -2.0
sadness     0.90  0.60   0.80  -6.0   -6.0   0.25    1.0     5.0      1.60   -3.0
==========  ====  =====  ====  =====  =====  ======  ======  =======  =====  =====

(level: active-speech RMS; tilt: gain of the >1 kHz shelf, + = flatter
spectrum; breath: aspiration/voicing RMS; final: F0 movement at phrase ends.)

Per-utterance variation keeps the task far from trivial: every utterance draws
an intensity :math:`u \sim U(0.6, 1)` times the speaker's expressiveness
(log-normal, SD 20 %) and moves each parameter from neutral a fraction :math:`u`
of the way (geometrically for ratios), then adds noise: SD 5 % (0.9 semitone) on
F0, 20 % on range, 6 % on rate, 2 dB on level and tilt, 30 % on breathiness,
jitter and shimmer, 25 % on pauses, 1.5 semitones on the final movement
(``EmotionProsody`` field metadata). Speakers differ in F0, vocal-tract length
and breathiness, sentences in their syllables.

The corpora
-----------
A :class:`CorpusSpec` holds a :class:`SpeakerPopulation` (number, gender mix,
F0 and vocal-tract length), a :class:`Language` (vowel and consonant inventory,
syllable structure, rhythm, accents or tones) and a :class:`Channel` (native
sample rate, microphone band and resonance, room RT60 and direct-to-reverberant
ratio, background noise SNR and colour). The same specs serve every alignment
method; they were never tuned to favour one. ``DEFAULT_SOURCE`` ("synth-studio":
studio microphone, German-like language, 8 speakers, 22.05 kHz) and
``DEFAULT_TARGET`` ("synth-phone": telephone band, reverberant noisy room,
Mandarin-like tone language, 6 other speakers, 16 kHz) are the default pair.

Generation is deterministic: every utterance, speaker and text draws from
``numpy.random.default_rng`` seeded by (seed, corpus name, role, index), so order
and parallelism cannot change a byte. :func:`generate_corpus` writes 16-bit WAVs
(``<root>/<corpus>/<speaker>/<file>.wav``, each atomically), the manifest, and a
stamp last; a folder without a matching stamp is regenerated.

Examples::

    >>> from didan_lite.synthetic import synthesize_utterance
    >>> audio = synthesize_utterance("anger", 16000, seed=1)   # float32, shape (n,)
    >>> source_csv, target_csv = make_default_corpora()         # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd
import scipy.fft
import soundfile as sf
from scipy import signal

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.manifest import write_manifest

GENERATOR_VERSION = 1
"""Bump whenever a change alters the generated audio: stamps then no longer match."""

EMOTIONS: tuple[str, ...] = ("anger", "fear", "happiness", "neutral", "sadness")
"""The five classes EmoDB and CASIA share, canonical names."""

REFERENCE_LEVEL_DBFS = -32.0
"""Active-speech RMS of a neutral utterance before the channel, dB re full scale."""

REFERENCE_VOCAL_TRACT_CM = 17.5
"""Vocal-tract length for which the vowel and consonant formant tables hold (adult male)."""

STAMP_NAME = ".complete.json"

_OPEN_QUOTIENT, _CLOSING_QUOTIENT = 0.4, 0.16
_HIGHER_FORMANTS_HZ = (3500.0, 4500.0)
_BANDWIDTHS_HZ = (80.0, 100.0, 150.0, 250.0, 300.0)
_TILT_CORNER_HZ = 1000.0
_RAMP_S = 0.012  # onset/offset ramps of segments and noise bursts
_STRESS_GAIN_DB = 3.0
_PAUSE_S = 0.2  # neutral pause between prosodic phrases
_LEADING_SILENCE_S, _TRAILING_SILENCE_S = (0.1, 0.25), (0.15, 0.3)
_INTENSITY_RANGE = (0.6, 1.0)


def _ratio(sd: float) -> dict:
    return {"log": True, "sd": sd}


def _offset(sd: float) -> dict:
    return {"log": False, "sd": sd}


@dataclass(frozen=True)
class EmotionProsody:
    """How one emotion changes a voice, relative to the speaker's neutral voice.

    Each field's metadata says how per-utterance variation acts on it: ``log``
    fields are ratios (interpolated geometrically, noise multiplies by
    ``exp(N(0, sd))``), the others offsets (noise adds ``N(0, sd)``).
    """

    f0_scale: float = field(metadata=_ratio(0.05))  # mean F0 / neutral mean F0 (0.05 ~ 0.9 st)
    f0_range_scale: float = field(metadata=_ratio(0.2))  # pitch excursions / neutral excursions
    rate_scale: float = field(metadata=_ratio(0.06))  # syllable rate / language's rate
    loudness_db: float = field(metadata=_offset(2.0))  # active-speech level re neutral, dB
    tilt_db: float = field(metadata=_offset(2.0))  # gain above ~1 kHz re neutral, dB (+ = flatter)
    breathiness: float = field(metadata=_ratio(0.3))  # aspiration RMS / voicing RMS
    jitter: float = field(metadata=_ratio(0.3))  # relative SD of the glottal period
    shimmer: float = field(metadata=_ratio(0.3))  # relative SD of the pulse amplitude
    pause_scale: float = field(metadata=_ratio(0.25))  # pause durations / neutral pauses
    final_st: float = field(metadata=_offset(1.5))  # F0 movement at phrase ends, semitones


EMOTION_PROSODY: Mapping[str, EmotionProsody] = MappingProxyType(
    {
        "anger": EmotionProsody(1.30, 1.60, 1.10, 6.0, 6.0, 0.06, 0.010, 0.040, 0.80, -4.0),
        "fear": EmotionProsody(1.40, 1.20, 1.22, 1.0, 2.0, 0.18, 0.022, 0.060, 1.20, 1.0),
        "happiness": EmotionProsody(1.25, 1.55, 1.06, 3.5, 3.0, 0.12, 0.008, 0.035, 0.90, 2.0),
        "neutral": EmotionProsody(1.00, 1.00, 1.00, 0.0, 0.0, 0.10, 0.006, 0.030, 1.00, -2.0),
        "sadness": EmotionProsody(0.90, 0.60, 0.80, -6.0, -6.0, 0.25, 0.010, 0.050, 1.60, -3.0),
    }
)
"""Prototype prosody of each emotion (the table in the module docstring), read-only."""


@dataclass(frozen=True)
class Vowel:
    """A vowel: symbol and first three formants (Hz) for the 17.5 cm reference tract."""

    symbol: str
    formants_hz: tuple[float, float, float]


@dataclass(frozen=True)
class Consonant:
    """A consonant of the global inventory ``CONSONANTS``.

    ``manner`` is ``stop`` (closure then noise burst), ``fricative`` (noise),
    ``nasal`` or ``approximant`` (voiced murmur). Noisy manners use
    ``noise_band_hz`` (band-pass edges, Hz, reference tract), voiced ones
    ``formants_hz``; ``level_db`` is the level re the vowels.
    """

    symbol: str
    manner: str
    level_db: float
    noise_band_hz: tuple[float, float] = (0.0, 0.0)
    formants_hz: tuple[float, float, float] = (0.0, 0.0, 0.0)


CONSONANTS: Mapping[str, Consonant] = MappingProxyType(
    {
        c.symbol: c
        for c in (
            Consonant("p", "stop", -14.0, noise_band_hz=(300.0, 2000.0)),
            Consonant("t", "stop", -10.0, noise_band_hz=(3000.0, 7000.0)),
            Consonant("k", "stop", -10.0, noise_band_hz=(1500.0, 3200.0)),
            Consonant("f", "fricative", -22.0, noise_band_hz=(1500.0, 7500.0)),
            Consonant("s", "fricative", -12.0, noise_band_hz=(4000.0, 8500.0)),
            Consonant("ʃ", "fricative", -12.0, noise_band_hz=(2200.0, 5000.0)),
            Consonant("ɕ", "fricative", -14.0, noise_band_hz=(3000.0, 6500.0)),
            Consonant("x", "fricative", -16.0, noise_band_hz=(1000.0, 2500.0)),
            Consonant("h", "fricative", -24.0, noise_band_hz=(400.0, 3000.0)),
            Consonant("m", "nasal", -8.0, formants_hz=(250.0, 1100.0, 2200.0)),
            Consonant("n", "nasal", -8.0, formants_hz=(250.0, 1500.0, 2500.0)),
            Consonant("ŋ", "nasal", -8.0, formants_hz=(250.0, 2000.0, 2600.0)),
            Consonant("l", "approximant", -4.0, formants_hz=(350.0, 1100.0, 2700.0)),
            Consonant("j", "approximant", -4.0, formants_hz=(280.0, 2100.0, 3000.0)),
            Consonant("w", "approximant", -4.0, formants_hz=(300.0, 650.0, 2200.0)),
        )
    }
)

TONE_SHAPES: tuple[tuple[float, float, float], ...] = (
    (0.5, 0.5, 0.5),  # 1: high level
    (-0.3, 0.0, 0.6),  # 2: rising
    (-0.4, -0.8, -0.3),  # 3: low dipping
    (0.7, 0.0, -0.8),  # 4: falling
)
"""F0 at start, middle and end of a toned vowel, in units of ``Language.tone_st``."""


@dataclass(frozen=True)
class Language:
    """Phonology and rhythm of a (synthetic) language.

    Attributes:
        name: short description.
        vowels: vowel inventory.
        onsets, codas: consonant symbols (keys of ``CONSONANTS``) allowed there.
        onset_probability, coda_probability: chance a syllable has one.
        syllable_rate_hz: nominal rate of unstressed, non-final syllables (1/s).
        duration_cv: SD of log syllable duration (stress-timed high, syllable-timed low).
        stress_probability: chance a syllable is stressed.
        stress_lengthening, final_lengthening: duration factors.
        accent_st: pitch-accent height on stressed vowels, semitones.
        tone_st: lexical tone excursion (``TONE_SHAPES``), semitones; 0 = no tones.
        syllables_per_text: (min, max) syllables of a sentence.
        syllables_per_phrase: mean prosodic phrase length (a pause follows each).
        declination_st_per_s: F0 fall over the utterance, semitones per second.
    """

    name: str
    vowels: tuple[Vowel, ...]
    onsets: tuple[str, ...]
    codas: tuple[str, ...]
    onset_probability: float
    coda_probability: float
    syllable_rate_hz: float
    duration_cv: float
    stress_probability: float
    stress_lengthening: float
    final_lengthening: float
    accent_st: float
    tone_st: float
    syllables_per_text: tuple[int, int]
    syllables_per_phrase: float
    declination_st_per_s: float

    def __post_init__(self) -> None:
        unknown = sorted(set(self.onsets + self.codas) - set(CONSONANTS))
        if unknown:
            raise InputError(
                f"Language {self.name!r} uses consonants {unknown} missing from CONSONANTS {list(CONSONANTS)}; "
                "add them there or remove them from the language."
            )


GERMAN_LIKE = Language(
    name="German-like: stress-timed, 11 monophthongs, complex codas, pitch accents",
    vowels=(
        Vowel("i", (290.0, 2200.0, 3000.0)),
        Vowel("ɪ", (390.0, 1900.0, 2550.0)),
        Vowel("e", (350.0, 2100.0, 2700.0)),
        Vowel("ɛ", (520.0, 1750.0, 2500.0)),
        Vowel("a", (700.0, 1300.0, 2450.0)),
        Vowel("ɔ", (520.0, 950.0, 2500.0)),
        Vowel("o", (370.0, 750.0, 2400.0)),
        Vowel("u", (300.0, 700.0, 2250.0)),
        Vowel("y", (290.0, 1650.0, 2100.0)),
        Vowel("ø", (370.0, 1450.0, 2150.0)),
        Vowel("ə", (480.0, 1450.0, 2450.0)),
    ),
    onsets=("p", "t", "k", "f", "s", "ʃ", "h", "m", "n", "l", "j"),
    codas=("n", "m", "ŋ", "s", "t", "x", "f", "l", "k"),
    onset_probability=0.85,
    coda_probability=0.55,
    syllable_rate_hz=5.5,
    duration_cv=0.35,
    stress_probability=0.4,
    stress_lengthening=1.35,
    final_lengthening=1.3,
    accent_st=3.0,
    tone_st=0.0,
    syllables_per_text=(5, 10),
    syllables_per_phrase=6.0,
    declination_st_per_s=1.5,
)

MANDARIN_LIKE = Language(
    name="Mandarin-like: syllable-timed, 4 lexical tones, CV(N) syllables",
    vowels=(
        Vowel("i", (290.0, 2350.0, 3200.0)),
        Vowel("y", (290.0, 2000.0, 2450.0)),
        Vowel("a", (850.0, 1300.0, 2800.0)),
        Vowel("ɤ", (480.0, 1050.0, 2600.0)),
        Vowel("u", (330.0, 650.0, 2500.0)),
        Vowel("o", (520.0, 880.0, 2600.0)),
        Vowel("ə", (520.0, 1400.0, 2650.0)),
    ),
    onsets=("p", "t", "k", "f", "s", "ʃ", "ɕ", "x", "m", "n", "l", "w", "j"),
    codas=("n", "ŋ"),
    onset_probability=0.9,
    coda_probability=0.35,
    syllable_rate_hz=4.5,
    duration_cv=0.15,
    stress_probability=0.2,
    stress_lengthening=1.1,
    final_lengthening=1.2,
    accent_st=0.0,
    tone_st=4.0,
    syllables_per_text=(4, 8),
    syllables_per_phrase=5.0,
    declination_st_per_s=1.0,
)


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
        snr_db: background noise level below the neutral speech level, dB.
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
    rt60_s=0.6,
    direct_to_reverberant_db=3.0,
    snr_db=15.0,
    noise_color=1.0,
    gain_db=-4.0,
)


def _check_count(n_utterances: int, spec: CorpusSpec) -> None:
    n_emotions = len(spec.emotions)
    if n_utterances < n_emotions or n_utterances % n_emotions:
        raise InputError(
            f"n_utterances={n_utterances} for {spec.name!r} must be a positive multiple of its {n_emotions} emotions "
            f"(balanced classes), e.g. {max(n_emotions, n_utterances - n_utterances % n_emotions)}."
        )


@dataclass(frozen=True)
class CorpusSpec:
    """Everything that defines a synthetic corpus; the same for every method.

    ``n_utterances`` must be a multiple of the number of emotions (balanced
    classes); each speaker says each text in every emotion, in turn.
    """

    name: str
    description: str
    population: SpeakerPopulation
    language: Language
    channel: Channel
    n_utterances: int
    n_texts: int
    emotions: tuple[str, ...] = EMOTIONS

    def __post_init__(self) -> None:
        if not self.name.startswith("synth-"):
            raise InputError(
                f"Synthetic corpus name {self.name!r} must start with 'synth-' "
                "so that it is never mistaken for real data."
            )
        if "synthetic" not in self.description.lower():
            raise InputError(f"The description of {self.name!r} must say that the corpus is synthetic.")
        unknown = sorted(set(self.emotions) - set(EMOTION_PROSODY))
        if unknown:
            raise InputError(
                f"Corpus {self.name!r} asks for emotions {unknown}; the generator knows {list(EMOTION_PROSODY)}."
            )
        if self.n_texts < 1 or self.population.n_speakers < 1:
            raise InputError(f"Corpus {self.name!r} needs at least one text and one speaker.")
        _check_count(self.n_utterances, self)


DEFAULT_SOURCE = CorpusSpec(
    name="synth-studio",
    description=(
        "SYNTHETIC corpus (generated by didan_lite.synthetic, no human recordings): 8 speakers "
        "(4 female, 4 male) of a German-like stress-timed language, studio condenser microphone, 22.05 kHz."
    ),
    population=SpeakerPopulation(
        n_speakers=8,
        female_fraction=0.5,
        f0_male_hz=115.0,
        f0_female_hz=210.0,
        f0_spread_st=2.0,
        vocal_tract_male_cm=17.5,
        vocal_tract_female_cm=14.8,
        vocal_tract_spread_cm=0.6,
    ),
    language=GERMAN_LIKE,
    channel=STUDIO_CHANNEL,
    n_utterances=500,
    n_texts=10,
)

DEFAULT_TARGET = CorpusSpec(
    name="synth-phone",
    description=(
        "SYNTHETIC corpus (generated by didan_lite.synthetic, no human recordings): 6 other speakers "
        "(4 female, 2 male) of a Mandarin-like tone language, telephone band in a reverberant noisy room, 16 kHz."
    ),
    population=SpeakerPopulation(
        n_speakers=6,
        female_fraction=0.67,
        f0_male_hz=125.0,
        f0_female_hz=225.0,
        f0_spread_st=2.5,
        vocal_tract_male_cm=16.8,
        vocal_tract_female_cm=14.3,
        vocal_tract_spread_cm=0.6,
    ),
    language=MANDARIN_LIKE,
    channel=TELEPHONE_CHANNEL,
    n_utterances=400,
    n_texts=20,
)


@dataclass(frozen=True)
class Speaker:
    """One synthetic speaker: F0 (Hz), formant scale, voice-quality and expressiveness factors."""

    speaker_id: str
    gender: str
    f0_hz: float
    formant_scale: float
    breathiness_scale: float
    expressiveness: float


@dataclass(frozen=True)
class Syllable:
    """A syllable of a text: onset and coda consonant symbols ('' = none), vowel, stress, tone (0 = none)."""

    onset: str
    vowel: Vowel
    coda: str
    stressed: bool
    tone: int
    phrase_final: bool


@dataclass(frozen=True)
class _Segment:
    """A stretch of an utterance with constant articulation (times in seconds)."""

    start: float
    end: float
    voice: float  # glottal source amplitude, 0 = voiceless
    formants_hz: tuple[float, ...]  # vocal-tract resonances (reference tract, before speaker scaling)
    noise: Consonant | None = None  # fricative or burst noise


def _rng(seed: int, *keys: str | int) -> np.random.Generator:
    """Independent generator for (seed, keys): strings enter through CRC-32, so results never depend on order."""
    entropy = [seed] + [zlib.crc32(k.encode()) if isinstance(k, str) else k for k in keys]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def draw_speakers(population: SpeakerPopulation, seed: int, corpus_name: str) -> list[Speaker]:
    """The speakers of a corpus, ids ``<corpus name without synth->NN``, deterministic per (seed, corpus).

    Besides F0 and vocal-tract length (see :class:`SpeakerPopulation`), each
    speaker gets a breathiness factor (x1.3 for women, as Klatt & Klatt 1990
    measured; log-SD 30 %) and an expressiveness factor (log-SD 20 %) that
    scales how far their utterances move from neutral.
    """
    prefix = corpus_name.removeprefix("synth-")
    n_female = round(population.n_speakers * population.female_fraction)
    speakers = []
    for k in range(population.n_speakers):
        rng = _rng(seed, corpus_name, "speaker", k)
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
                expressiveness=float(np.exp(0.2 * rng.standard_normal())),
            )
        )
    return speakers


def draw_text(language: Language, rng: np.random.Generator) -> tuple[Syllable, ...]:
    """A random sentence of the language: syllables grouped into prosodic phrases."""
    low, high = language.syllables_per_text
    n_syllables = int(rng.integers(low, high + 1))
    phrase_ends, position = set(), 0
    while position < n_syllables:
        position += max(2, int(round(rng.normal(language.syllables_per_phrase, 1.5))))
        phrase_ends.add(min(position, n_syllables) - 1)

    def pick(symbols: tuple[str, ...], probability: float) -> str:
        return str(rng.choice(symbols)) if symbols and rng.random() < probability else ""

    syllables = []
    for index in range(n_syllables):
        onset = pick(language.onsets, language.onset_probability)
        vowel = language.vowels[int(rng.integers(len(language.vowels)))]
        coda = pick(language.codas, language.coda_probability)
        stressed = bool(rng.random() < language.stress_probability)
        tone = int(rng.integers(1, len(TONE_SHAPES) + 1)) if language.tone_st > 0 else 0
        syllables.append(Syllable(onset, vowel, coda, stressed, tone, index in phrase_ends))
    return tuple(syllables)


def _realise_prosody(
    emotion: str, expressiveness: float, intensity: float | None, rng: np.random.Generator
) -> EmotionProsody:
    """The prosody of one utterance: neutral moved towards ``emotion`` by the intensity, plus noise."""
    if intensity is None:
        intensity = rng.uniform(*_INTENSITY_RANGE) * expressiveness
    neutral, target = EMOTION_PROSODY["neutral"], EMOTION_PROSODY[emotion]
    values = {}
    for item in dataclasses.fields(EmotionProsody):
        a, b = getattr(neutral, item.name), getattr(target, item.name)
        noise = item.metadata["sd"] * rng.standard_normal()
        if item.metadata["log"]:
            values[item.name] = a * (b / a) ** intensity * np.exp(noise)
        else:
            values[item.name] = a + intensity * (b - a) + noise
    return EmotionProsody(**values)


def _plan(
    text: tuple[Syllable, ...], language: Language, prosody: EmotionProsody, rng: np.random.Generator
) -> tuple[list[_Segment], list[tuple[float, float]], float]:
    """Timeline of one utterance: contiguous segments, pitch targets (s, semitones re the mean F0), duration (s)."""
    segments: list[_Segment] = []
    pitch: list[tuple[float, float]] = []
    clock = 0.0

    def add(duration: float, voice: float, formants: tuple[float, ...], noise: Consonant | None = None) -> None:
        nonlocal clock
        segments.append(_Segment(clock, clock + duration, voice, formants, noise))
        clock += duration

    def consonant(symbol: str, share: float, vowel_formants: tuple[float, ...]) -> None:
        item = CONSONANTS[symbol]
        if item.manner == "stop":
            add(0.6 * share, 0.0, vowel_formants)
            add(max(0.012, 0.4 * share), 0.0, vowel_formants, item)
        elif item.manner == "fricative":
            add(share, 0.0, vowel_formants, item)
        else:
            add(share, 10.0 ** (item.level_db / 20.0), item.formants_hz)

    excursion = prosody.f0_range_scale
    add(rng.uniform(*_LEADING_SILENCE_S), 0.0, text[0].vowel.formants_hz)
    for index, syllable in enumerate(text):
        rate_hz = language.syllable_rate_hz * prosody.rate_scale
        duration = np.exp(language.duration_cv * rng.standard_normal()) / rate_hz
        duration *= language.stress_lengthening if syllable.stressed else 1.0
        duration *= language.final_lengthening if syllable.phrase_final else 1.0
        formants = tuple(f * (1.0 + 0.03 * rng.standard_normal()) for f in syllable.vowel.formants_hz)
        onset_share = 0.3 * duration if syllable.onset else 0.0
        coda_share = 0.25 * duration if syllable.coda else 0.0
        if syllable.onset:
            consonant(syllable.onset, onset_share, formants)
        start, vowel_duration = clock, duration - onset_share - coda_share
        add(vowel_duration, 10.0 ** ((_STRESS_GAIN_DB if syllable.stressed else 0.0) / 20.0), formants)
        contour = np.zeros(3)
        if syllable.stressed:
            contour[1] += language.accent_st * excursion * rng.uniform(0.6, 1.2)
        if syllable.tone:
            contour += language.tone_st * excursion * np.asarray(TONE_SHAPES[syllable.tone - 1])
        if syllable.phrase_final:
            contour[2] += prosody.final_st
        pitch.extend(zip(start + vowel_duration * np.array([0.1, 0.5, 0.95]), contour))
        if syllable.coda:
            consonant(syllable.coda, coda_share, formants)
        if syllable.phrase_final and index < len(text) - 1:
            pause = _PAUSE_S * prosody.pause_scale * np.exp(0.25 * rng.standard_normal())
            add(pause, 0.0, text[index + 1].vowel.formants_hz)
    add(rng.uniform(*_TRAILING_SILENCE_S), 0.0, text[-1].vowel.formants_hz)
    return segments, pitch, clock


def _voicing(segments: list[_Segment], times: np.ndarray) -> np.ndarray:
    """Glottal source amplitude over ``times`` (s): each segment's ``voice``, ramped linearly at its edges."""
    points_t, points_v = [0.0], [0.0]
    for seg in segments:
        ramp = min(_RAMP_S, (seg.end - seg.start) / 4.0)
        points_t += [seg.start + ramp, seg.end - ramp]
        points_v += [seg.voice] * 2
    return np.interp(times, points_t + [segments[-1].end], points_v + [0.0])


def _glottal_source(f0_hz: np.ndarray, prosody: EmotionProsody, sample_rate: int, rng: np.random.Generator):
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


def _vocal_tract(source: np.ndarray, segments: list[_Segment], scale: float, sample_rate: int) -> np.ndarray:
    """Cascade formant filter, coefficients switched per segment, filter states carried across."""
    nyquist_limit = 0.45 * sample_rate
    higher = tuple(f for f in _HIGHER_FORMANTS_HZ if f * scale < nyquist_limit)
    states = np.zeros((3 + len(higher), 2))
    out = np.empty_like(source)
    for seg in segments:
        a, b = round(seg.start * sample_rate), round(seg.end * sample_rate)
        x = source[a:b]
        for k, frequency in enumerate(seg.formants_hz + higher):
            num, den = _resonator(min(frequency * scale, nyquist_limit), _BANDWIDTHS_HZ[k], sample_rate)
            x, states[k] = signal.lfilter(num, den, x, zi=states[k])
        out[a:b] = x
    return out


@functools.lru_cache(maxsize=256)
def _band_pass(low_hz: float, high_hz: float, order: int, sample_rate: int) -> np.ndarray:
    """Butterworth band-pass (second-order sections); the high edge is kept below Nyquist."""
    high_hz = min(high_hz, 0.45 * sample_rate)
    if not 0 < low_hz < high_hz:
        raise InputError(
            f"Band {low_hz:.0f}-{high_hz:.0f} Hz is empty at {sample_rate} Hz; "
            "use a higher sample rate or a lower band."
        )
    return signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=sample_rate, output="sos")


def _frication(
    segments: list[_Segment], scale: float, n_samples: int, sample_rate: int, rng: np.random.Generator
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
        sos = _band_pass(round(low * scale), round(high * scale), 2, sample_rate)
        noise = signal.sosfilt(sos, rng.standard_normal(b - a))
        ramp = np.clip(np.minimum(np.arange(b - a), np.arange(b - a)[::-1]) / (_RAMP_S * sample_rate / 2), 0.0, 1.0)
        out[a:b] = noise / (np.sqrt(np.mean(noise**2)) + 1e-12) * ramp * 10.0 ** (seg.noise.level_db / 20.0)
    return out


def _spectral_tilt(x: np.ndarray, tilt_db: float, sample_rate: int) -> np.ndarray:
    """First-order high shelf H(s) = (g s + w) / (s + w), w = 2 pi 1 kHz, g = 10^(tilt/20); bilinear transform."""
    w = 2.0 * np.pi * _TILT_CORNER_HZ
    num, den = signal.bilinear([10.0 ** (tilt_db / 20.0), w], [1.0, w], fs=sample_rate)
    return signal.lfilter(num, den, x)


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
    band = _band_pass(*channel.band_hz, channel.band_order, sample_rate)
    gain = 10.0 ** (channel.resonance_db / 40.0)
    omega = 2.0 * np.pi * channel.resonance_hz / sample_rate
    alpha = np.sin(omega) / 2.0
    num = [1.0 + alpha * gain, -2.0 * np.cos(omega), 1.0 - alpha * gain]
    den = [1.0 + alpha / gain, -2.0 * np.cos(omega), 1.0 - alpha / gain]
    peak = np.concatenate([num, den]) / den[0]
    return np.vstack([band, peak])


def _record(dry: np.ndarray, channel: Channel, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Room reverberation, background noise at ``snr_db`` below the reference level, microphone chain, gain."""
    wet = signal.fftconvolve(dry, _room_response(channel, sample_rate, rng))[: dry.size] if channel.rt60_s > 0 else dry
    noise_rms = 10.0 ** ((REFERENCE_LEVEL_DBFS - channel.snr_db) / 20.0)
    wet = wet + noise_rms * _colored_noise(dry.size, channel.noise_color, sample_rate, rng)
    return signal.sosfilt(_microphone(channel, sample_rate), wet) * 10.0 ** (channel.gain_db / 20.0)


def synthesize_utterance(
    emotion: str,
    sample_rate: int = 16000,
    *,
    seed: int = 0,
    speaker: Speaker | None = None,
    language: Language = GERMAN_LIKE,
    text: tuple[Syllable, ...] | None = None,
    channel: Channel | None = None,
    intensity: float | None = None,
) -> np.ndarray:
    """One synthetic emotional utterance.

    Args:
        emotion: one of ``EMOTION_PROSODY``.
        sample_rate: output rate, Hz.
        seed: non-negative; fixes every random choice of this utterance.
        speaker: the voice; default the first speaker of ``DEFAULT_SOURCE`` for ``seed``.
        language: phonology used when ``text`` is None.
        text: syllables to say; default a random sentence of ``language``.
        channel: room, noise and microphone; None gives the dry voice.
        intensity: how far from neutral towards the emotion (0 neutral, 1 the
            prototype of ``EMOTION_PROSODY``); None draws it as a corpus does.

    Returns:
        float32 mono signal, shape ``(n_samples,)``, values in [-1, 1].
    """
    if emotion not in EMOTION_PROSODY:
        raise InputError(f"Unknown emotion {emotion!r}; the generator knows {list(EMOTION_PROSODY)}.")
    if seed < 0:
        raise InputError(f"Seed {seed} is negative; use a seed >= 0.")
    rng = _rng(seed, "utterance")
    if speaker is None:
        speaker = draw_speakers(DEFAULT_SOURCE.population, seed, DEFAULT_SOURCE.name)[0]
    if text is None:
        text = draw_text(language, rng)
    prosody = _realise_prosody(emotion, speaker.expressiveness, intensity, rng)
    segments, pitch, duration = _plan(text, language, prosody, rng)

    times = np.arange(round(duration * sample_rate)) / sample_rate
    drift_t = np.arange(0.0, duration + 0.25, 0.25)
    semitones = np.interp(times, *zip(*pitch)) - language.declination_st_per_s * times
    semitones += np.interp(times, drift_t, 0.7 * prosody.f0_range_scale * rng.standard_normal(drift_t.size))
    f0_hz = speaker.f0_hz * prosody.f0_scale * 2.0 ** (semitones / 12.0)

    voicing = _voicing(segments, times)
    pulses, glottis_open = _glottal_source(f0_hz, prosody, sample_rate, rng)
    breath = prosody.breathiness * speaker.breathiness_scale * np.sqrt(np.mean(pulses**2))
    source = (pulses + breath * rng.standard_normal(times.size) * np.where(glottis_open, 1.0, 0.3)) * voicing
    tilted = _spectral_tilt(source, prosody.tilt_db, sample_rate)
    tract = _vocal_tract(tilted, segments, speaker.formant_scale, sample_rate)
    vowels = voicing > 0.5
    tract_rms = np.sqrt(np.mean(tract[vowels] ** 2))
    dry = tract + tract_rms * _frication(segments, speaker.formant_scale, times.size, sample_rate, rng)
    dry *= 10.0 ** ((REFERENCE_LEVEL_DBFS + prosody.loudness_db) / 20.0) / np.sqrt(np.mean(dry[vowels] ** 2))
    recorded = _record(dry, channel, sample_rate, rng) if channel is not None else dry
    return np.clip(recorded, -1.0, 1.0).astype(np.float32)


def _generation_key(spec: CorpusSpec, seed: int, n_utterances: int) -> str:
    """SHA-256 of the spec, seed, size and generator version: what a stamp certifies."""
    payload = json.dumps(
        {"spec": dataclasses.asdict(spec), "seed": seed, "n": n_utterances, "version": GENERATOR_VERSION},
        sort_keys=True,
        ensure_ascii=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _is_complete(corpus_dir: Path, key: str) -> bool:
    """True when the stamp certifies ``key`` and every file it lists is present with its recorded size."""
    try:
        stamp = json.loads((corpus_dir / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp.get("key") != key or not isinstance(stamp.get("files"), dict):
        return False
    for relative, size in stamp["files"].items():
        path = corpus_dir / relative
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def generate_corpus(spec: CorpusSpec, root: str | os.PathLike, seed: int = 0, n_utterances: int | None = None) -> Path:
    """Write the synthetic corpus ``spec`` under ``root/spec.name``; return its manifest path.

    Files: ``<speaker>/<speaker>_<text>_<emotion>_<index>.wav`` (16-bit PCM at
    ``spec.channel.sample_rate``, each written atomically), ``manifest.csv``
    (via :func:`didan_lite.manifest.write_manifest`), then the stamp
    ``.complete.json``. A folder whose stamp matches (spec, seed, size,
    generator version) and whose files are intact is reused untouched;
    otherwise it is regenerated and stray files in it are removed.

    Args:
        n_utterances: override ``spec.n_utterances`` (a multiple of the emotion count).
    """
    n_utterances = spec.n_utterances if n_utterances is None else n_utterances
    _check_count(n_utterances, spec)
    if seed < 0:
        raise InputError(f"Seed {seed} is negative; use a seed >= 0.")
    corpus_dir = Path(root) / spec.name
    manifest_path = corpus_dir / "manifest.csv"
    key = _generation_key(spec, seed, n_utterances)
    if _is_complete(corpus_dir, key):
        return manifest_path
    (corpus_dir / STAMP_NAME).unlink(missing_ok=True)
    manifest_path.unlink(missing_ok=True)

    speakers = draw_speakers(spec.population, seed, spec.name)
    texts = [draw_text(spec.language, _rng(seed, spec.name, "text", t)) for t in range(spec.n_texts)]
    n_emotions, sample_rate = len(spec.emotions), spec.channel.sample_rate
    rows, files = [], {}
    for index in range(n_utterances):
        emotion, turn = spec.emotions[index % n_emotions], index // n_emotions
        speaker = speakers[turn % len(speakers)]
        text_index = (turn // len(speakers)) % spec.n_texts
        text_id = f"t{text_index + 1:02d}"
        utterance_seed = int(np.random.SeedSequence([seed, zlib.crc32(spec.name.encode()), index]).generate_state(1)[0])
        audio = synthesize_utterance(
            emotion,
            sample_rate,
            seed=utterance_seed,
            speaker=speaker,
            language=spec.language,
            text=texts[text_index],
            channel=spec.channel,
        )
        relative = f"{speaker.speaker_id}/{speaker.speaker_id}_{text_id}_{emotion}_{index:04d}.wav"
        with atomic_write(corpus_dir / relative, "wb") as handle:
            sf.write(handle, audio, sample_rate, subtype="PCM_16", format="WAV")
        files[relative] = (corpus_dir / relative).stat().st_size
        rows.append(
            {
                "path": str(corpus_dir / relative),
                "emotion": emotion,
                "original_label": emotion,
                "speaker": speaker.speaker_id,
                "gender": speaker.gender,
                "text_id": text_id,
                "corpus": spec.name,
            }
        )
    for path in corpus_dir.rglob("*"):
        if path.is_file() and path.relative_to(corpus_dir).as_posix() not in files:
            path.unlink()
    write_manifest(pd.DataFrame(rows), manifest_path)
    files[manifest_path.name] = manifest_path.stat().st_size
    with atomic_write(corpus_dir / STAMP_NAME, "w", encoding="utf-8") as handle:
        json.dump({"key": key, "seed": seed, "generator_version": GENERATOR_VERSION, "files": files}, handle, indent=0)
    return manifest_path


def default_root() -> Path:
    """Folder of the embedded corpora: ``$DIDAN_LITE_DATA/synthetic``, else ``~/.cache/didan_lite/synthetic``."""
    data = os.environ.get("DIDAN_LITE_DATA")
    return (Path(data).expanduser() if data else Path.home() / ".cache" / "didan_lite") / "synthetic"


def make_default_corpora(root: str | os.PathLike | None = None, seed: int = 0) -> tuple[Path, Path]:
    """Generate (or reuse) ``DEFAULT_SOURCE`` and ``DEFAULT_TARGET``; return their manifest paths.

    Args:
        root: parent folder of the two corpus folders; default :func:`default_root`.
    """
    base = Path(root) if root is not None else default_root()
    return generate_corpus(DEFAULT_SOURCE, base, seed), generate_corpus(DEFAULT_TARGET, base, seed)
