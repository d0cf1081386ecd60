"""How each corpus names its files: one parser per layout, path -> :class:`Utterance`.

A parser reads the path of one audio file, relative to the corpus root, and
returns what the path says about the utterance: its identity (``key``), the
corpus's own label, speaker, gender and text. It never opens the file, so
parsing 7,442 names takes milliseconds.

Real copies are messy (extra nesting, ``Angry`` vs ``angry``, ``.WAV``,
misnamed files), so parsers look for folder names among *all* ancestors,
ignore case, and distinguish three outcomes besides success:

* ``None``: a file the layout ignores on purpose (IEMOCAP's whole-dialog WAVs);
* :class:`NotInLayout`: an audio file that does not belong (reported as extra);
* :class:`LabelConflict`: folder and file name disagree (reported as mislabelled).

Tolerated irregularities are kept in :attr:`Utterance.note`.

``context`` is what a corpus's ``read_context`` reads once per copy from side
files (IEMOCAP's label files, CREMA-D's demographics table); empty otherwise.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping


@dataclass(frozen=True)
class Utterance:
    """What one file's path says about its utterance."""

    key: str  # identity within the corpus; two files with one key are duplicates
    original_label: str  # the corpus's own label (``W``, ``angry``, ``05`` ...)
    speaker: str
    gender: str = ""  # "female", "male" or "" when the corpus does not say
    text_id: str = ""
    note: str = ""  # a tolerated irregularity, reported by verify


class NotInLayout(Exception):
    """The file is not one of the corpus's utterances (message: why)."""


class LabelConflict(Exception):
    """Two parts of the path disagree on the label or the speaker (message: how)."""


def _nearest_folder(relative: PurePosixPath, pattern: re.Pattern) -> re.Match | None:
    """Match of the nearest ancestor folder whose whole name matches ``pattern``."""
    for part in reversed(relative.parts[:-1]):
        match = pattern.fullmatch(part)
        if match:
            return match
    return None


def _choice_pattern(names) -> re.Pattern:
    return re.compile("|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)), re.IGNORECASE)


# --- EmoDB: wav/SSTTTEV.wav ---------------------------------------------------------------
EMODB_GENDERS = {
    "03": "male", "10": "male", "11": "male", "12": "male", "15": "male",
    "08": "female", "09": "female", "13": "female", "14": "female", "16": "female",
}  # fmt: skip
_EMODB_NAME = re.compile(r"(\d\d)([ab]\d\d)([WLEAFTN])([a-z])", re.IGNORECASE)


def parse_emodb(relative: PurePosixPath, context: Mapping[str, Any]) -> Utterance:
    """``SSTTTEV``: speaker (2 digits), text (``a01``), emotion letter, version letter."""
    match = _EMODB_NAME.fullmatch(relative.stem)
    if not match:
        raise NotInLayout("name is not SSTTTEV (speaker, text, emotion letter, version), e.g. 03a01Fa.wav")
    speaker, text, letter, version = match.groups()
    if speaker not in EMODB_GENDERS:
        raise NotInLayout(f"speaker {speaker} is not one of EmoDB's ten ({', '.join(sorted(EMODB_GENDERS))})")
    text, letter, version = text.lower(), letter.upper(), version.lower()
    return Utterance(
        key=f"{speaker}{text}{letter}{version}",
        original_label=letter,
        speaker=speaker,
        gender=EMODB_GENDERS[speaker],
        text_id=text,
    )


# --- eNTERFACE'05: subject N/<emotion>/sentence K/sN_ee_K.avi -------------------------------
ENTERFACE_CODES = {"an": "anger", "di": "disgust", "fe": "fear", "ha": "happiness", "sa": "sadness", "su": "surprise"}
# Tolerates the names real copies have: s_3_an_1, s16_su_3avi, S1_AN_1.
_ENTERFACE_NAME = re.compile(r"s_?(\d+)_([a-z]{2})_(\d+)", re.IGNORECASE)
_ENTERFACE_SUBJECT = re.compile(r"subject[\s_-]*(\d+)", re.IGNORECASE)
_ENTERFACE_SENTENCE = re.compile(r"sentence[\s_-]*(\d+)", re.IGNORECASE)
_ENTERFACE_EMOTION = _choice_pattern(ENTERFACE_CODES.values())


def _agree(what: str, folder: str | None, name: str | None) -> tuple[str | None, str]:
    """The folder's value (else the name's) and a note when both exist and differ."""
    if folder is not None and name is not None and folder != name:
        return folder, f"{what}: folder says {folder}, file name says {name}; folder used"
    return (folder if folder is not None else name), ""


def parse_enterface(relative: PurePosixPath, context: Mapping[str, Any]) -> Utterance:
    """Subject, emotion and sentence from the folders, cross-checked with ``sN_ee_K``.

    Folders win for subject and sentence (the copies in circulation have, e.g.,
    subject 11's clips named ``s12_*``); an emotion disagreement is a conflict.
    """
    name = _ENTERFACE_NAME.match(relative.stem)
    subject_dir = _nearest_folder(relative, _ENTERFACE_SUBJECT)
    sentence_dir = _nearest_folder(relative, _ENTERFACE_SENTENCE)
    emotion_dir = _nearest_folder(relative, _ENTERFACE_EMOTION)

    name_emotion = ENTERFACE_CODES.get(name.group(2).lower()) if name else None
    folder_emotion = emotion_dir.group(0).lower() if emotion_dir else None
    if name_emotion and folder_emotion and name_emotion != folder_emotion:
        raise LabelConflict(f"folder says {folder_emotion}, file name says {name_emotion}")
    emotion = folder_emotion or name_emotion
    subject, subject_note = _agree(
        "subject", str(int(subject_dir.group(1))) if subject_dir else None, str(int(name.group(1))) if name else None
    )
    sentence, sentence_note = _agree(
        "sentence", str(int(sentence_dir.group(1))) if sentence_dir else None, str(int(name.group(3))) if name else None
    )
    if emotion is None or subject is None or sentence is None:
        raise NotInLayout("neither the folders nor the name (sN_ee_K.avi) give subject, emotion and sentence")
    code = emotion[:2]
    notes = [note for note in (subject_note, sentence_note) if note]
    if not name:
        notes.append("file name is not sN_ee_K; read from the folders")
    return Utterance(
        key=f"s{subject}_{code}_{sentence}",
        original_label=emotion,
        speaker=f"s{subject}",
        text_id=f"{code}_{sentence}",  # each emotion has its own five sentences
        note="; ".join(notes),
    )


# --- CASIA: <speaker>/<emotion>/<text id>.wav ------------------------------------------------
# Genders checked on the recordings (median F0: ~100-150 Hz for wangzhe and
# ZhaoZuoxiang, ~210-330 Hz for liuchanhg and zhaoquanyin).
CASIA_GENDERS = {"liuchanhg": "female", "wangzhe": "male", "zhaoquanyin": "female", "ZhaoZuoxiang": "male"}
CASIA_EMOTIONS = ("angry", "fear", "happy", "neutral", "sad", "surprise")
_CASIA_SPEAKER = _choice_pattern(CASIA_GENDERS)
_CASIA_EMOTION = _choice_pattern(CASIA_EMOTIONS)
_CASIA_SPELLING = {speaker.lower(): speaker for speaker in CASIA_GENDERS}


def parse_casia(relative: PurePosixPath, context: Mapping[str, Any]) -> Utterance:
    """Speaker and emotion from the folders, text id from the name (``201``)."""
    if not relative.stem.isdigit():
        raise NotInLayout("name is not a numeric text id such as 201.wav")
    speaker_dir = _nearest_folder(relative, _CASIA_SPEAKER)
    emotion_dir = _nearest_folder(relative, _CASIA_EMOTION)
    if speaker_dir is None or emotion_dir is None:
        raise NotInLayout(
            f"not under <speaker>/<emotion>/ with a speaker in {sorted(CASIA_GENDERS)} "
            f"and an emotion in {list(CASIA_EMOTIONS)}"
        )
    speaker = _CASIA_SPELLING[speaker_dir.group(0).lower()]
    emotion = emotion_dir.group(0).lower()
    text = str(int(relative.stem))
    return Utterance(
        key=f"{speaker}/{emotion}/{text}",
        original_label=emotion,
        speaker=speaker,
        gender=CASIA_GENDERS[speaker],
        text_id=text,
    )


# --- RAVDESS speech: Actor_NN/03-01-EE-II-SS-RR-AA.wav ----------------------------------------
_RAVDESS_NAME = re.compile(r"(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)")
_RAVDESS_ACTOR = re.compile(r"actor[_\s-]*(\d+)", re.IGNORECASE)


def parse_ravdess(relative: PurePosixPath, context: Mapping[str, Any]) -> Utterance:
    """Modality-channel-emotion-intensity-statement-repetition-actor; odd actors are male."""
    match = _RAVDESS_NAME.fullmatch(relative.stem)
    if not match:
        raise NotInLayout("name is not MM-VV-EE-II-SS-RR-AA.wav")
    modality, channel, emotion, _intensity, statement, _repetition, actor = match.groups()
    if (modality, channel) != ("03", "01"):
        raise NotInLayout(f"modality {modality}, vocal channel {channel}: not an audio-only speech file (03-01)")
    actor_dir = _nearest_folder(relative, _RAVDESS_ACTOR)
    if actor_dir and int(actor_dir.group(1)) != int(actor):
        raise LabelConflict(f"folder says actor {int(actor_dir.group(1)):02d}, file name says actor {actor}")
    return Utterance(
        key=relative.stem,
        original_label=emotion,
        speaker=actor,
        gender="male" if int(actor) % 2 else "female",
        text_id=statement,
    )


# --- CREMA-D: AudioWAV/AAAA_SSS_EMO_LVL.wav ---------------------------------------------------
_CREMAD_NAME = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})", re.IGNORECASE)


def read_cremad_context(root: Path) -> dict[str, Any]:
    """Genders from ``VideoDemographics.csv`` (columns ActorID, Sex), when the copy has it."""
    table = next(root.rglob("VideoDemographics.csv"), None)
    if table is None:
        return {"genders": {}}
    with open(table, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return {"genders": {row["ActorID"].strip(): row["Sex"].strip().lower() for row in rows if row.get("Sex")}}


def parse_cremad(relative: PurePosixPath, context: Mapping[str, Any]) -> Utterance:
    """Actor, sentence, emotion, level; gender from the demographics table if present."""
    match = _CREMAD_NAME.fullmatch(relative.stem)
    if not match:
        raise NotInLayout("name is not AAAA_SSS_EMO_LVL.wav, e.g. 1001_DFA_ANG_XX.wav")
    actor, sentence, emotion, level = (group.upper() for group in match.groups())
    note = ""
    if level == "X":  # 1040_ITH_SAD_X.wav in older copies
        level, note = "XX", "level X read as XX"
    return Utterance(
        key=f"{actor}_{sentence}_{emotion}_{level}",
        original_label=emotion,
        speaker=actor,
        gender=context.get("genders", {}).get(actor, ""),
        text_id=sentence,
        note=note,
    )


# --- TESS: <SPK>_<emotion>/<SPK>_<word>_<emotion>.wav -----------------------------------------
_TESS_NAME = re.compile(r"(OAF|YAF)_(.+)_([a-z]+)", re.IGNORECASE)
_TESS_FOLDER = re.compile(r"(OAF|YAF)_(.+)", re.IGNORECASE)
_TESS_FOLDER_LABELS = {"pleasant_surprise": "ps", "pleasant_surprised": "ps"}


def parse_tess(relative: PurePosixPath, context: Mapping[str, Any]) -> Utterance:
    """Speaker (OAF older, YAF younger talker; both female), word, emotion; checked against the folder."""
    match = _TESS_NAME.fullmatch(relative.stem)
    if not match:
        raise NotInLayout("name is not OAF_<word>_<emotion>.wav or YAF_<word>_<emotion>.wav")
    speaker, word, label = match.group(1).upper(), match.group(2).lower(), match.group(3).lower()
    folder = _nearest_folder(relative, _TESS_FOLDER)
    if folder:
        folder_label = folder.group(2).lower()
        folder_label = _TESS_FOLDER_LABELS.get(folder_label, folder_label)
        if folder.group(1).upper() != speaker or folder_label != label:
            raise LabelConflict(f"folder {folder.group(0)} disagrees with file name ({speaker}, {label})")
    return Utterance(
        key=f"{speaker}_{word}_{label}", original_label=label, speaker=speaker, gender="female", text_id=word
    )


# --- SAVEE: AudioData/<SPK>/<code><NN>.wav or flat <SPK>_<code><NN>.wav -----------------------
SAVEE_SPEAKERS = ("DC", "JE", "JK", "KL")
_SAVEE_NAME = re.compile(r"(?:(DC|JE|JK|KL)_)?(sa|su|a|d|f|h|n)(\d\d)", re.IGNORECASE)
_SAVEE_SPEAKER = _choice_pattern(SAVEE_SPEAKERS)


def parse_savee(relative: PurePosixPath, context: Mapping[str, Any]) -> Utterance:
    """Speaker from the folder or the name prefix, emotion code and number from the name; all male.

    The number indexes sentences within an emotion (``a01`` and ``d01`` are
    different sentences), so no text id is given.
    """
    match = _SAVEE_NAME.fullmatch(relative.stem)
    if not match:
        raise NotInLayout("name is not <code><NN>.wav (a, d, f, h, n, sa, su) or <SPK>_<code><NN>.wav")
    name_speaker = match.group(1).upper() if match.group(1) else None
    folder = _nearest_folder(relative, _SAVEE_SPEAKER)
    folder_speaker = folder.group(0).upper() if folder else None
    if name_speaker and folder_speaker and name_speaker != folder_speaker:
        raise LabelConflict(f"folder says speaker {folder_speaker}, file name says {name_speaker}")
    speaker = folder_speaker or name_speaker
    if speaker is None:
        raise NotInLayout(f"no speaker folder ({', '.join(SAVEE_SPEAKERS)}) and no speaker prefix in the name")
    code = match.group(2).lower()
    return Utterance(key=f"{speaker}_{code}{match.group(3)}", original_label=code, speaker=speaker, gender="male")


# --- IEMOCAP: Session<N>/sentences/wav/<dialog>/<utterance>.wav + EmoEvaluation labels ---------
_IEMOCAP_NAME = re.compile(r"(Ses0[1-5])[MF]_(.+)_([MF])[X\d]{2}\d")
_IEMOCAP_LABEL_LINE = re.compile(r"^\[[\d.]+ - [\d.]+\]\t(\S+)\t(\w+)\t")


def read_iemocap_context(root: Path) -> dict[str, Any]:
    """Utterance -> label (``neu``, ``ang`` ...) from every ``EmoEvaluation/*.txt``."""
    labels: dict[str, str] = {}
    for folder in sorted(root.rglob("EmoEvaluation")):
        for table in sorted(folder.glob("*.txt")):
            for line in table.read_text(encoding="utf-8", errors="replace").splitlines():
                match = _IEMOCAP_LABEL_LINE.match(line)
                if match:
                    labels[match.group(1)] = match.group(2)
    return {"labels": labels}


def parse_iemocap(relative: PurePosixPath, context: Mapping[str, Any]) -> Utterance | None:
    """Only ``sentences/wav`` holds utterances; the label comes from EmoEvaluation."""
    parts = [part.lower() for part in relative.parts[:-1]]
    if not any(parts[i : i + 2] == ["sentences", "wav"] for i in range(len(parts) - 1)):
        return None  # whole-dialog recordings and other material
    match = _IEMOCAP_NAME.fullmatch(relative.stem)
    if not match:
        raise NotInLayout("name is not Ses0N[MF]_<dialog>_[MF]NNN.wav")
    label = context.get("labels", {}).get(relative.stem)
    if label is None:
        raise NotInLayout("no label for it in Session*/dialog/EmoEvaluation/*.txt")
    session, dialog, talker = match.groups()
    return Utterance(
        key=relative.stem,
        original_label=label,
        speaker=f"{session}{talker}",
        gender="female" if talker == "F" else "male",
        text_id=dialog,
    )
