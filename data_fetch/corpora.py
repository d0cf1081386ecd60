"""The corpora data_fetch knows: layout, labels, expected counts, licence and source.

Each corpus is one :class:`CorpusSpec` in :data:`CORPORA`. Labels are mapped to
the canonical vocabulary of :mod:`didan_lite.manifest` (the corpus's own label
is kept as ``original_label``); expected counts are per *original* label, as
the corpus documents them, and are what :func:`data_fetch.verification.verify`
checks a copy against.

Access:

* ``download``: free; :func:`data_fetch.fetch.download` fetches it (EmoDB, eNTERFACE'05, RAVDESS);
* ``manual``: free, but no single archive to fetch (CREMA-D, TESS): the user places a copy;
* ``licence``: licence-gated (CASIA, SAVEE, IEMOCAP): never downloaded; the user supplies a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping

from didan_lite.errors import InputError
from didan_lite.manifest import CANONICAL_EMOTIONS
from didan_lite.teaching.listening import allow_embedding

from data_fetch import layouts
from data_fetch.cache import extracted_dir
from data_fetch.file_lists import emodb_keys

Parser = Callable[[PurePosixPath, Mapping[str, Any]], "layouts.Utterance | None"]


@dataclass(frozen=True)
class Remote:
    """One archive to download: its cache name, mirrors (tried in order) and checksum.

    ``known_hash`` is pooch's ``"md5:..."``/``"sha256:..."`` string where the
    corpus publishes one, or ``None``: the first archive is then verified by its
    contents and its hash recorded (:mod:`data_fetch.integrity`).
    """

    filename: str
    urls: tuple[str, ...]
    known_hash: str | None
    size: int | None = None  # bytes, when known: checked against free disk space first


def _no_context(root: Path) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class CorpusSpec:
    """Everything data_fetch needs to find, label, check and obtain one corpus."""

    key: str
    title: str
    short: str | None  # the seed paper's letter (B, E, C) where it has one
    aliases: tuple[str, ...]
    parse: Parser
    label_map: Mapping[str, str]  # original label -> canonical emotion
    expected_counts: Mapping[str, int] | None  # files per original label (None: not documented)
    expected_total: int
    layout: str  # one line: the folder and file names of a copy
    access: str  # "download", "manual" or "licence"
    licence: str
    how_to_get: tuple[str, ...]  # steps shown when the corpus is missing
    total_tolerance: int = 0  # eNTERFACE: copies differ by a few clips
    excluded_labels: frozenset[str] = frozenset()  # labels outside the canonical vocabulary
    expected_speakers: int | None = None
    files_per_speaker: int | None = None  # balanced designs only
    expected_keys: Callable[[], frozenset[str]] | None = None  # full-factorial designs: names missing files
    archive_keys: Callable[[], frozenset[str]] | None = None  # what the official archive holds (download check)
    known_bad: Mapping[str, str] = field(default_factory=dict)  # key -> why it is kept out of manifests
    suffixes: tuple[str, ...] = (".wav",)
    is_video: bool = False  # audio must be extracted from the files
    read_context: Callable[[Path], Mapping[str, Any]] = _no_context
    remote: Remote | None = None

    @property
    def emotions(self) -> tuple[str, ...]:
        """Canonical emotions the corpus has, in canonical order."""
        present = set(self.label_map.values())
        return tuple(emotion for emotion in CANONICAL_EMOTIONS if emotion in present)

    @property
    def display_name(self) -> str:
        return f"{self.title} [{self.short}]" if self.short else self.title

    def instructions(self, base: Path) -> str:
        """Step-by-step text for a user who has no copy of this corpus yet."""
        steps = list(self.how_to_get) + [
            f"Expected layout: {self.layout} ({self.expected_total:,} files).",
            f"Then pass the folder: `corpus_manifest('{self.key}', root=FOLDER)` or "
            f"`python -m data_fetch prepare {self.key} --root FOLDER`; or place it at {extracted_dir(self.key, base)} "
            "to have it found without --root.",
        ]
        numbered = "\n".join(f"  {index}. {step}" for index, step in enumerate(steps, 1))
        return f"{self.display_name}: licence: {self.licence}\n{numbered}"


def _casia_keys() -> frozenset[str]:
    return frozenset(
        f"{speaker}/{emotion}/{text}"
        for speaker in layouts.CASIA_GENDERS
        for emotion in layouts.CASIA_EMOTIONS
        for text in range(201, 251)
    )


def _ravdess_keys() -> frozenset[str]:
    keys = set()
    for actor in range(1, 25):
        for emotion in range(1, 9):
            for intensity in (1,) if emotion == 1 else (1, 2):  # neutral has normal intensity only
                for statement in (1, 2):
                    for repetition in (1, 2):
                        keys.add(f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{repetition:02d}-{actor:02d}")
    return frozenset(keys)


_SAVEE_PER_SPEAKER = {"a": 15, "d": 15, "f": 15, "h": 15, "n": 30, "sa": 15, "su": 15}


def _savee_keys() -> frozenset[str]:
    return frozenset(
        f"{speaker}_{code}{number:02d}"
        for speaker in layouts.SAVEE_SPEAKERS
        for code, count in _SAVEE_PER_SPEAKER.items()
        for number in range(1, count + 1)
    )


_DOWNLOAD_STEP = (
    "Run `python -m data_fetch download {key} --accept-license` "
    "(or `corpus_manifest('{key}', download=True, accept_license=True)`)."
)

EMODB = CorpusSpec(
    key="emodb",
    title="EmoDB (Berlin Database of Emotional Speech)",
    short="B",
    aliases=("emo-db", "berlin"),
    parse=layouts.parse_emodb,
    label_map={
        "W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness", "N": "neutral",
    },  # fmt: skip
    expected_counts={"W": 127, "L": 81, "N": 79, "F": 71, "A": 69, "T": 62, "E": 46},
    expected_total=535,
    expected_speakers=10,
    layout="wav/SSTTTEV.wav (speaker, text, emotion letter, version), e.g. wav/03a01Fa.wav",
    archive_keys=emodb_keys,
    access="download",
    licence="free for research use (audb redistributes it as CC0-1.0); cite Burkhardt et al., "
    "'A Database of German Emotional Speech', Interspeech 2005. http://emodb.bilderbar.info/",
    how_to_get=(
        _DOWNLOAD_STEP.format(key="emodb"),
        "Or download http://emodb.bilderbar.info/download/download.zip yourself and unzip it into a folder.",
        "Or, with audb installed, `audb.load('emodb', format='wav')` and use the returned database's root folder.",
    ),
    remote=Remote(
        filename="emodb-download.zip",
        # The second address is the same site under its www name, not an independent mirror.
        urls=(
            "http://emodb.bilderbar.info/download/download.zip",
            "http://www.emodb.bilderbar.info/download/download.zip",
        ),
        known_hash=None,  # none published: the first archive is checked against EmoDB's file list, then its hash recorded
    ),
)

ENTERFACE = CorpusSpec(
    key="enterface",
    title="eNTERFACE'05 audio-visual emotion database",
    short="E",
    aliases=("enterface05", "enterface'05"),
    parse=layouts.parse_enterface,
    label_map={emotion: emotion for emotion in layouts.ENTERFACE_CODES.values()},
    expected_counts=None,
    # Copies in circulation hold 1,287-1,295 clips (42-44 subjects, subject 6
    # incomplete or absent); the paper reports 1,166 after its own cleaning.
    expected_total=1290,
    total_tolerance=10,
    layout="subject N/<emotion>/sentence K/sN_ee_K.avi (video; the audio track is extracted to 16 kHz mono WAV)",
    access="download",
    licence="free for research use; cite Martin et al., 'The eNTERFACE'05 Audio-Visual Emotion Database', "
    "ICDE Workshops 2006. http://www.enterface.net/enterface05/",
    how_to_get=(
        _DOWNLOAD_STEP.format(key="enterface"),
        "Or download http://www.enterface.net/enterface05/docs/results/databases/project2_database.zip "
        "yourself and unzip it into a folder.",
    ),
    suffixes=(".avi",),
    is_video=True,
    remote=Remote(
        filename="enterface05-project2_database.zip",
        # The second address is the same site without www, not an independent mirror.
        urls=(
            "http://www.enterface.net/enterface05/docs/results/databases/project2_database.zip",
            "http://enterface.net/enterface05/docs/results/databases/project2_database.zip",
        ),
        known_hash=None,  # none published: the first archive is checked by its clip count, then its hash recorded
    ),
)

CASIA = CorpusSpec(
    key="casia",
    title="CASIA Chinese emotional speech (public 1,200-utterance subset)",
    short="C",
    aliases=(),
    parse=layouts.parse_casia,
    label_map={
        "angry": "anger", "fear": "fear", "happy": "happiness", "neutral": "neutral", "sad": "sadness",
        "surprise": "surprise",
    },  # fmt: skip
    expected_counts={emotion: 200 for emotion in layouts.CASIA_EMOTIONS},
    expected_total=1200,
    expected_speakers=4,
    files_per_speaker=300,
    expected_keys=_casia_keys,
    layout="<speaker>/<emotion>/<text id>.wav, speakers liuchanhg, wangzhe, zhaoquanyin, ZhaoZuoxiang; "
    "emotions angry, fear, happy, neutral, sad, surprise; texts 201-250",
    access="licence",
    licence="licensed by the Institute of Automation, Chinese Academy of Sciences; never downloaded or "
    "redistributed by this project",
    how_to_get=(
        "Obtain the CASIA Chinese emotional speech corpus under its licence (Institute of Automation, "
        "Chinese Academy of Sciences; distributed through the Chinese LDC, http://www.chineseldc.org).",
        "Unpack it so that each speaker folder holds one folder per emotion with the WAV files.",
    ),
)

RAVDESS = CorpusSpec(
    key="ravdess",
    title="RAVDESS (speech, audio only)",
    short=None,
    aliases=(),
    parse=layouts.parse_ravdess,
    label_map={
        "01": "neutral", "02": "calm", "03": "happiness", "04": "sadness",
        "05": "anger", "06": "fear", "07": "disgust", "08": "surprise",
    },  # fmt: skip
    expected_counts={"01": 96, **{f"{code:02d}": 192 for code in range(2, 9)}},
    expected_total=1440,
    expected_speakers=24,
    files_per_speaker=60,
    expected_keys=_ravdess_keys,
    layout="Actor_NN/03-01-EE-II-SS-RR-AA.wav (modality, channel, emotion, intensity, statement, repetition, actor)",
    access="download",
    licence="CC BY-NC-SA 4.0; cite Livingstone & Russo, PLoS ONE 13(5): e0196391, 2018. "
    "https://zenodo.org/records/1188976",
    how_to_get=(
        _DOWNLOAD_STEP.format(key="ravdess"),
        "Or download Audio_Speech_Actors_01-24.zip from https://zenodo.org/records/1188976 and unzip it.",
    ),
    remote=Remote(
        filename="Audio_Speech_Actors_01-24.zip",
        urls=(
            "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1",
            "https://zenodo.org/record/1188976/files/Audio_Speech_Actors_01-24.zip",
        ),
        known_hash="md5:bc696df654c87fed845eb13823edef8a",  # published on the Zenodo record
        size=208_468_073,
    ),
)

CREMAD = CorpusSpec(
    key="cremad",
    title="CREMA-D",
    short=None,
    aliases=("crema-d", "crema_d", "crema"),
    parse=layouts.parse_cremad,
    label_map={"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness", "NEU": "neutral", "SAD": "sadness"},
    expected_counts={"ANG": 1271, "DIS": 1271, "FEA": 1271, "HAP": 1271, "SAD": 1271, "NEU": 1087},
    expected_total=7442,
    expected_speakers=91,
    # Reported by users of the corpus (and excluded by most pipelines).
    known_bad={
        "1076_MTI_SAD_XX": "silent / near-empty recording",
        "1076_MTI_NEU_XX": "near-empty recording",
        "1064_TIE_SAD_XX": "no duration",
        "1064_IEO_DIS_MD": "a one-minute file holding every emotion of its sentence",
    },
    layout="AudioWAV/AAAA_SSS_EMO_LVL.wav, e.g. AudioWAV/1001_DFA_ANG_XX.wav (VideoDemographics.csv gives genders)",
    access="manual",
    licence="Open Database License (ODbL) v1.0, contents under the Database Contents License v1.0; cite Cao et al., "
    "IEEE Trans. Affective Computing 5(4), 2014. https://github.com/CheyneyComputerScience/CREMA-D",
    how_to_get=(
        "Download the audio from the repository's GitHub Releases, https://github.com/CheyneyComputerScience/CREMA-D/releases "
        "(its git-lfs quota is exhausted: a clone or a zip of the repository holds pointer files, not audio; "
        "the maintainers point to the Releases and to the mirror https://gitlab.com/cs-cooper-lab/crema-d-mirror).",
        "Use the unpacked folder (its AudioWAV folder plus VideoDemographics.csv).",
    ),
    read_context=layouts.read_cremad_context,
)

TESS = CorpusSpec(
    key="tess",
    title="TESS (Toronto emotional speech set)",
    short=None,
    aliases=(),
    parse=layouts.parse_tess,
    label_map={
        "angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
        "neutral": "neutral", "ps": "surprise", "sad": "sadness",
    },  # fmt: skip
    expected_counts={label: 400 for label in ("angry", "disgust", "fear", "happy", "neutral", "ps", "sad")},
    expected_total=2800,
    expected_speakers=2,
    files_per_speaker=1400,
    layout="<SPK>_<emotion>/<SPK>_<word>_<emotion>.wav with SPK OAF or YAF, e.g. OAF_angry/OAF_back_angry.wav",
    access="manual",
    licence="Creative Commons, non-commercial (see the dataset page); cite Pichora-Fuller & Dupuis, "
    "Toronto emotional speech set (TESS), https://doi.org/10.5683/SP2/E8H2MF",
    how_to_get=(
        "Download the files from the dataset page https://doi.org/10.5683/SP2/E8H2MF (Borealis / Scholars Portal "
        "Dataverse) and unzip them into one folder.",
    ),
)

SAVEE = CorpusSpec(
    key="savee",
    title="SAVEE (Surrey Audio-Visual Expressed Emotion)",
    short=None,
    aliases=(),
    parse=layouts.parse_savee,
    label_map={
        "a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "n": "neutral", "sa": "sadness", "su": "surprise",
    },  # fmt: skip
    expected_counts={code: count * len(layouts.SAVEE_SPEAKERS) for code, count in _SAVEE_PER_SPEAKER.items()},
    expected_total=480,
    expected_speakers=4,
    files_per_speaker=120,
    expected_keys=_savee_keys,
    layout="AudioData/<SPK>/<code><NN>.wav (SPK DC, JE, JK, KL; code a, d, f, h, n, sa, su), "
    "or flat <SPK>_<code><NN>.wav",
    access="licence",
    licence="free for research after registration with the University of Surrey; not redistributed by this project",
    how_to_get=(
        "Register at http://kahlan.eps.surrey.ac.uk/savee/ and download the audio data (AudioData.zip).",
        "Unzip it into a folder.",
    ),
)

IEMOCAP = CorpusSpec(
    key="iemocap",
    title="IEMOCAP",
    short=None,
    aliases=(),
    parse=layouts.parse_iemocap,
    # "exc" (excited) is merged into happiness, as most SER work does; filter on
    # original_label to undo it. fru, oth, xxx have no canonical emotion.
    label_map={
        "ang": "anger", "hap": "happiness", "exc": "happiness", "sad": "sadness",
        "neu": "neutral", "sur": "surprise", "fea": "fear", "dis": "disgust",
    },  # fmt: skip
    excluded_labels=frozenset({"fru", "oth", "xxx"}),
    # Label counts of the release as reported in the literature (not checked
    # on a copy here: the corpus is licence-gated).
    expected_counts={
        "neu": 1708, "fru": 1849, "ang": 1103, "sad": 1084, "exc": 1041, "hap": 595,
        "sur": 107, "fea": 40, "oth": 3, "dis": 2, "xxx": 2507,
    },  # fmt: skip
    expected_total=10039,
    expected_speakers=10,
    layout="IEMOCAP_full_release/Session1-5/sentences/wav/<dialog>/<utterance>.wav, labels in "
    "Session*/dialog/EmoEvaluation/*.txt",
    access="licence",
    licence="IEMOCAP release agreement of USC SAIL (research use); not redistributed by this project",
    how_to_get=(
        "Request the corpus at https://sail.usc.edu/iemocap/ (release form) and unpack IEMOCAP_full_release.",
    ),
    read_context=layouts.read_iemocap_context,
)

CORPORA: dict[str, CorpusSpec] = {
    spec.key: spec for spec in (EMODB, ENTERFACE, CASIA, RAVDESS, CREMAD, TESS, SAVEE, IEMOCAP)
}
allow_embedding(name for spec in CORPORA.values() if spec.access != "licence"
                for name in (spec.key, *spec.aliases, *([spec.short] if spec.short else [])))  # the notebooks' players


def get_corpus(name: str) -> CorpusSpec:
    """The corpus called ``name``: a key (``emodb``), a paper letter (``B``) or an alias; any case.

    Raises:
        InputError: unknown name (the message lists the known ones).
    """
    wanted = name.strip().lower()
    for spec in CORPORA.values():
        names = {spec.key, *spec.aliases} | ({spec.short.lower()} if spec.short else set())
        if wanted in names:
            return spec
    known = ", ".join(f"{spec.key}" + (f" ({spec.short})" if spec.short else "") for spec in CORPORA.values())
    raise InputError(f"Unknown corpus {name!r}. Known corpora: {known}.")
