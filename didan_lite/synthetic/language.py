r"""Language: phonology, sentences, rhythm and intonation of a synthetic language.

* Rhythm: C(V)C syllables from the language's inventory, durations around the
  language's syllable rate with stress and phrase-final lengthening, pauses
  between prosodic phrases, silence around the utterance.
* Intonation: pitch accents on stressed syllables (stress languages) or lexical
  tones (tone languages), declination, and an emotion-specific phrase-final
  movement (:mod:`didan_lite.synthetic.prosody`).

:func:`plan` turns a sentence into the timeline the voice
(:mod:`didan_lite.synthetic.voice`) then renders: contiguous
:class:`Segment` s of constant articulation and pitch targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from didan_lite.errors import InputError
from didan_lite.synthetic.prosody import EmotionProsody

_STRESS_GAIN_DB = 3.0
_PAUSE_S = 0.2  # neutral pause between prosodic phrases
_LEADING_SILENCE_S, _TRAILING_SILENCE_S = (0.1, 0.25), (0.15, 0.3)


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
class Syllable:
    """A syllable of a text: onset and coda consonant symbols ('' = none), vowel, stress, tone (0 = none)."""

    onset: str
    vowel: Vowel
    coda: str
    stressed: bool
    tone: int
    phrase_final: bool


@dataclass(frozen=True)
class Segment:
    """A stretch of an utterance with constant articulation (times in seconds)."""

    start: float
    end: float
    voice: float  # glottal source amplitude, 0 = voiceless
    formants_hz: tuple[float, ...]  # vocal-tract resonances (reference tract, before speaker scaling)
    noise: Consonant | None = None  # fricative or burst noise



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



def plan(
    text: tuple[Syllable, ...], language: Language, prosody: EmotionProsody, rng: np.random.Generator
) -> tuple[list[Segment], list[tuple[float, float]], float]:
    """Timeline of one utterance: contiguous segments, pitch targets (s, semitones re the mean F0), duration (s)."""
    segments: list[Segment] = []
    pitch: list[tuple[float, float]] = []
    clock = 0.0

    def add(duration: float, voice: float, formants: tuple[float, ...], noise: Consonant | None = None) -> None:
        nonlocal clock
        segments.append(Segment(clock, clock + duration, voice, formants, noise))
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

