r"""SYNTHETIC emotional speech: the embedded default corpora (generated, never recorded).

Without any download, didan-lite still shows the whole cross-corpus story on two
*synthetic* corpora that differ the way real ones do. Nothing here is a
recording of a person; every corpus name starts with ``synth-`` and every
:class:`CorpusSpec` description says so.

One module per concept, in the order an utterance is made:

==================  ==========================================================
``prosody``         how each emotion moves a voice from neutral (the table of
                    ``EMOTION_PROSODY``) and per-utterance variation
``language``        vowels, consonants, sentences, rhythm and intonation
``voice``           speakers, glottal source and vocal tract (source-filter)
``channel``         room, background noise, microphone chain, sample rate
``corpora``         :class:`CorpusSpec` and the default pair
``utterance``       :func:`synthesize_utterance`: all of the above in one call
``generate``        :func:`generate_corpus`: WAVs, manifest, completion stamp
``rerecord``        :func:`rerecord_corpus`: a *real* corpus passed through a
                    channel (the same speech, another recording condition)
==================  ==========================================================

``DEFAULT_SOURCE`` ("synth-studio": studio microphone, German-like language,
10 speakers, 22.05 kHz) and ``DEFAULT_TARGET`` ("synth-phone": telephone band,
reverberant noisy room, Mandarin-like tone language, 8 other speakers, 16 kHz)
are the default pair.

Examples::

    >>> from didan_lite.synthetic import synthesize_utterance
    >>> audio = synthesize_utterance("anger", 16000, seed=1)   # float32, shape (n,)
    >>> source_csv, target_csv = make_default_corpora()         # doctest: +SKIP
"""

from didan_lite.synthetic.channel import REFERENCE_LEVEL_DBFS, STUDIO_CHANNEL, TELEPHONE_CHANNEL, Channel
from didan_lite.synthetic.corpora import DEFAULT_SOURCE, DEFAULT_TARGET, CorpusSpec
from didan_lite.synthetic.generate import (
    GENERATOR_VERSION,
    STAMP_NAME,
    default_root,
    generate_corpus,
    make_default_corpora,
)
from didan_lite.synthetic.language import (
    CONSONANTS,
    GERMAN_LIKE,
    MANDARIN_LIKE,
    TONE_SHAPES,
    Consonant,
    Language,
    Syllable,
    Vowel,
    draw_text,
)
from didan_lite.synthetic.rerecord import rerecord_corpus
from didan_lite.synthetic.prosody import EMOTION_PROSODY, EMOTIONS, EmotionProsody
from didan_lite.synthetic.utterance import synthesize_utterance
from didan_lite.synthetic.voice import REFERENCE_VOCAL_TRACT_CM, Speaker, SpeakerPopulation, draw_speakers

__all__ = [
    "CONSONANTS", "DEFAULT_SOURCE", "DEFAULT_TARGET", "EMOTIONS", "EMOTION_PROSODY", "GENERATOR_VERSION",
    "GERMAN_LIKE", "MANDARIN_LIKE", "REFERENCE_LEVEL_DBFS", "REFERENCE_VOCAL_TRACT_CM", "STAMP_NAME",
    "STUDIO_CHANNEL", "TELEPHONE_CHANNEL", "TONE_SHAPES", "Channel", "Consonant", "CorpusSpec", "EmotionProsody",
    "Language", "Speaker", "SpeakerPopulation", "Syllable", "Vowel", "default_root", "draw_speakers", "draw_text",
    "generate_corpus", "make_default_corpora", "rerecord_corpus", "synthesize_utterance",
]
