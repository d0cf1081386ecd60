"""Fixtures for the data_fetch tests: tiny corpus trees with the mess real copies have, and a loopback HTTP server.

Imported by the ``test_data_fetch_*`` modules (it is not a pytest conftest).
Each corpus builder writes a few generated files in the corpus's layout plus
stray ``desktop.ini`` / text files, upper-case extensions, an extra nesting
level, a corrupt file and a mislabelled or misplaced one, and returns what a
correct parser must make of them, written out by hand.
"""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile

CORPORA_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def write_wav(path: Path, *, seconds: float = 0.1, sample_rate: int = 16000, frequency: float = 220.0) -> Path:
    """A short sine tone as 16-bit WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    soundfile.write(str(path), 0.3 * np.sin(2 * np.pi * frequency * t), sample_rate, subtype="PCM_16")
    return path


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """A zip archive (deflated) holding ``entries`` (member name -> bytes), in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def write_corrupt(path: Path) -> Path:
    """A file named like audio that is not: a RIFF header cut short."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00")
    return path


def write_video(path: Path, *, seconds: float = 0.3, sample_rate: int = 48000, frequency: float = 440.0) -> Path:
    """A tiny AVI (MPEG-4 video, 32x32) with a stereo PCM audio track holding a sine tone, made with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    samples = (0.3 * np.sin(2 * np.pi * frequency * t) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="avi") as container:
        video = container.add_stream("mpeg4", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = container.add_stream("pcm_s16le", rate=sample_rate)
        audio.layout = "stereo"
        for _ in range(int(seconds * 25)):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        for start in range(0, len(samples), 1024):
            chunk = samples[start : start + 1024]
            frame = av.AudioFrame.from_ndarray(np.repeat(chunk, 2)[None, :], format="s16", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = sample_rate, start, Fraction(1, sample_rate)
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    return path


def add_clutter(folder: Path) -> None:
    """What real copies carry besides audio."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "desktop.ini").write_text("[.ShellClassInfo]\n")
    (folder / "_desktop.ini").write_text("[.ShellClassInfo]\n")
    (folder / "readme.txt").write_text("not audio\n")
    (folder / "._hidden.wav").write_bytes(b"\x00\x05\x16\x07")  # macOS AppleDouble file


@dataclass
class CorpusTree:
    """A generated copy and what a correct parser makes of it.

    ``rows``: relative path without extension -> (emotion, original_label, speaker, gender, text_id)
    ``problems``: relative path -> "unreadable", "mislabelled", "extra" or "known_bad"
    """

    key: str
    root: Path
    rows: dict[str, tuple[str, str, str, str, str]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)  # utterances left out by design (labels outside the vocabulary)

    def audio(self, relative: str, row: tuple | None = None, *, frequency: float = 220.0) -> None:
        write_wav(self.root / relative, frequency=frequency)
        if row is not None:
            self.rows[str(Path(relative).with_suffix(""))] = row

    def problem(self, relative: str, kind: str, *, corrupt: bool = False) -> None:
        (write_corrupt if corrupt else write_wav)(self.root / relative)
        self.problems[relative] = kind


def build_emodb(root: Path) -> CorpusTree:
    tree = CorpusTree("emodb", root)
    tree.audio("wav/03a01Wa.wav", ("anger", "W", "03", "male", "a01"))
    tree.audio("wav/08b02Tb.WAV", ("sadness", "T", "08", "female", "b02"))
    tree.audio("wav/16a05Nc.wav", ("neutral", "N", "16", "female", "a05"))
    tree.audio("wav/10b09Lb.wav", ("boredom", "L", "10", "male", "b09"))
    tree.audio("copy/again/wav/13a02Ea.wav", ("disgust", "E", "13", "female", "a02"))
    tree.audio("wav/12b10Ad.wav", ("fear", "A", "12", "male", "b10"))
    tree.audio("wav/14a04Fb.wav", ("happiness", "F", "14", "female", "a04"))
    tree.problem("wav/11a04Fa.wav", "unreadable", corrupt=True)
    tree.problem("wav/99a01Wa.wav", "extra")  # no speaker 99
    tree.problem("wav/take2.wav", "extra")
    tree.problem("wav/backup/03a01Wa.wav", "extra")  # the same utterance again (duplicate)
    add_clutter(root / "wav")
    (root / "erkennung.txt").write_bytes("Satz\tErkennung\n".encode("latin-1"))
    return tree


def build_casia(root: Path) -> CorpusTree:
    tree = CorpusTree("casia", root)
    tree.audio("liuchanhg/angry/201.wav", ("anger", "angry", "liuchanhg", "female", "201"))
    tree.audio("wangzhe/happy/202.WAV", ("happiness", "happy", "wangzhe", "male", "202"))
    tree.audio("CASIA database/ZhaoZuoxiang/sad/203.wav", ("sadness", "sad", "ZhaoZuoxiang", "male", "203"))
    tree.audio("ZHAOQUANYIN/Neutral/204.wav", ("neutral", "neutral", "zhaoquanyin", "female", "204"))
    tree.audio("wangzhe/surprise/250.wav", ("surprise", "surprise", "wangzhe", "male", "250"))
    tree.audio("liuchanhg/fear/210.wav", ("fear", "fear", "liuchanhg", "female", "210"))
    tree.problem("wangzhe/fear/205.wav", "unreadable", corrupt=True)
    tree.problem("wangzhe/bored/206.wav", "extra")  # not a CASIA emotion
    tree.problem("wangzhe/angry/206 (copy).wav", "extra")
    for speaker in ("liuchanhg", "wangzhe"):
        add_clutter(root / speaker)
    (root / "相同的文本201--250.txt").write_bytes("201 文本\n".encode("gbk"))
    return tree


def build_enterface(root: Path) -> CorpusTree:
    tree = CorpusTree("enterface", root)
    videos = {
        "subject 1/anger/sentence 1/s1_an_1.avi": ("anger", "anger", "s1", "", "an_1"),
        "subject 2/Fear/sentence 3/s2_fe_3.AVI": ("fear", "fear", "s2", "", "fe_3"),
        # subject 11's clips are named s12_* in circulating copies: the folder wins
        "enterface database/subject 11/happiness/sentence 2/s12_ha_2.avi": (
            "happiness", "happiness", "s11", "", "ha_2",
        ),  # fmt: skip
        "subject 3/surprise/sentence 4/extra/s_3_su_4.avi": ("surprise", "surprise", "s3", "", "su_4"),
        "subject 16/sadness/sentence 3/s16_sa_3avi.avi": ("sadness", "sadness", "s16", "", "sa_3"),
    }
    for relative, row in videos.items():
        write_video(root / relative)
        tree.rows[str(Path(relative).with_suffix(""))] = row
    write_video(root / "subject 4/sadness/sentence 1/s4_an_1.avi")
    tree.problems["subject 4/sadness/sentence 1/s4_an_1.avi"] = "mislabelled"
    write_corrupt(root / "subject 5/disgust/sentence 5/s5_di_5.avi")
    tree.problems["subject 5/disgust/sentence 5/s5_di_5.avi"] = "unreadable"
    add_clutter(root / "subject 1")
    return tree


def build_ravdess(root: Path) -> CorpusTree:
    tree = CorpusTree("ravdess", root)
    tree.audio("Actor_01/03-01-05-01-01-01-01.wav", ("anger", "05", "01", "male", "01"))
    tree.audio("Actor_02/03-01-01-01-02-02-02.wav", ("neutral", "01", "02", "female", "02"))
    tree.audio("Audio_Speech_Actors_01-24/Actor_03/03-01-02-02-01-01-03.WAV", ("calm", "02", "03", "male", "01"))
    tree.audio("Actor_24/03-01-08-02-02-01-24.wav", ("surprise", "08", "24", "female", "02"))
    tree.problem("Actor_04/03-01-08-01-01-01-05.wav", "mislabelled")  # actor 05 in Actor_04
    tree.problem("Actor_04/03-02-05-01-01-01-04.wav", "extra")  # a song file
    tree.problem("Actor_01/03-01-03-01-01-01-01.wav", "unreadable", corrupt=True)
    add_clutter(root / "Actor_01")
    return tree


def build_cremad(root: Path) -> CorpusTree:
    tree = CorpusTree("cremad", root)
    tree.audio("AudioWAV/1001_DFA_ANG_XX.wav", ("anger", "ANG", "1001", "male", "DFA"))
    tree.audio("AudioWAV/1002_IEO_HAP_HI.wav", ("happiness", "HAP", "1002", "female", "IEO"))
    tree.audio("AudioWAV/1040_ITH_SAD_X.wav", ("sadness", "SAD", "1040", "female", "ITH"))
    tree.audio("AudioWAV/1091_WSI_FEA_LO.WAV", ("fear", "FEA", "1091", "", "WSI"))  # not in the demographics table
    tree.problem("AudioWAV/1076_MTI_SAD_XX.wav", "known_bad")
    (root / "AudioWAV/1003_TIE_NEU_XX.wav").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:c6f9\nsize 72862\n"
    )
    tree.problems["AudioWAV/1003_TIE_NEU_XX.wav"] = "unreadable"
    tree.problem("AudioWAV/1004_DFA_ANG.wav", "extra")
    (root / "AudioMP3").mkdir()
    (root / "AudioMP3/1001_DFA_ANG_XX.mp3").write_bytes(b"ID3")
    (root / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n"
        "1002,21,Female,Caucasian,Not Hispanic\n1040,30,Female,Asian,Not Hispanic\n"
    )
    add_clutter(root / "AudioWAV")
    return tree


def build_tess(root: Path) -> CorpusTree:
    tree = CorpusTree("tess", root)
    top = "TESS Toronto emotional speech set data"
    tree.audio(f"{top}/OAF_angry/OAF_back_angry.wav", ("anger", "angry", "OAF", "female", "back"))
    tree.audio(f"{top}/YAF_pleasant_surprised/YAF_bath_ps.wav", ("surprise", "ps", "YAF", "female", "bath"))
    tree.audio(f"{top}/OAF_Fear/OAF_bite_fear.WAV", ("fear", "fear", "OAF", "female", "bite"))
    tree.audio("YAF_neutral/YAF_youth_neutral.wav", ("neutral", "neutral", "YAF", "female", "youth"))
    tree.problem(f"{top}/YAF_sad/YAF_chair_happy.wav", "mislabelled")
    tree.problem(f"{top}/OAF_neutral/OAF_lose_neutral.wav", "unreadable", corrupt=True)
    tree.problem(f"{top}/OAF_neutral/recording.wav", "extra")
    add_clutter(root / top)
    return tree


def build_savee(root: Path) -> CorpusTree:
    tree = CorpusTree("savee", root)
    tree.audio("AudioData/DC/a01.wav", ("anger", "a", "DC", "male", ""))
    tree.audio("AudioData/JE/sa15.wav", ("sadness", "sa", "JE", "male", ""))
    tree.audio("ALL/KL_su03.wav", ("surprise", "su", "KL", "male", ""))
    tree.audio("AudioData/JK/n30.WAV", ("neutral", "n", "JK", "male", ""))
    tree.problem("AudioData/DC/JE_h01.wav", "mislabelled")
    tree.problem("AudioData/KL/f02.wav", "unreadable", corrupt=True)
    tree.problem("AudioData/KL/x01.wav", "extra")
    add_clutter(root / "AudioData")
    return tree


def build_iemocap(root: Path) -> CorpusTree:
    tree = CorpusTree("iemocap", root / "IEMOCAP_full_release")
    base = tree.root
    s1 = "Session1/sentences/wav/Ses01F_impro01"
    s2 = "Session2/sentences/wav/Ses02M_script01_1"
    tree.audio(f"{s1}/Ses01F_impro01_F000.wav", ("neutral", "neu", "Ses01F", "female", "impro01"))
    tree.audio(f"{s1}/Ses01F_impro01_M001.wav", ("anger", "ang", "Ses01M", "male", "impro01"))
    tree.audio(f"{s2}/Ses02M_script01_1_F003.wav", ("happiness", "exc", "Ses02F", "female", "script01_1"))
    tree.audio(f"{s1}/Ses01F_impro01_F002.wav")  # frustration: no canonical emotion
    tree.silent.add(f"{s1}/Ses01F_impro01_F002.wav")
    tree.problem(f"{s1}/Ses01F_impro01_F004.wav", "extra")  # no label
    tree.problem(f"{s1}/Ses01F_impro01_M005.wav", "unreadable", corrupt=True)
    write_wav(base / "Session1/dialog/wav/Ses01F_impro01.wav")  # a whole dialog: not an utterance
    (base / f"{s1}/._Ses01F_impro01_F000.wav").write_bytes(b"\x00\x05\x16\x07")
    evaluations = {
        "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt": [
            ("Ses01F_impro01_F000", "neu"), ("Ses01F_impro01_M001", "ang"),
            ("Ses01F_impro01_F002", "fru"), ("Ses01F_impro01_M005", "sad"),
        ],
        "Session2/dialog/EmoEvaluation/Ses02M_script01_1.txt": [("Ses02M_script01_1_F003", "exc")],
    }  # fmt: skip
    for relative, labels in evaluations.items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        for index, (utterance, label) in enumerate(labels):
            lines += [f"[{index}.5000 - {index + 1}.2500]\t{utterance}\t{label}\t[2.5000, 3.0000, 2.5000]",
                      "C-E1:\tNeutral state;\t()", ""]  # fmt: skip
        path.write_text("\n".join(lines))
    (base / "Session1/dialog/EmoEvaluation/Categorical").mkdir()
    return tree


BUILDERS = {
    "emodb": build_emodb,
    "casia": build_casia,
    "enterface": build_enterface,
    "ravdess": build_ravdess,
    "cremad": build_cremad,
    "tess": build_tess,
    "savee": build_savee,
    "iemocap": build_iemocap,
}


class LoopbackServer:
    """An HTTP server on 127.0.0.1 serving ``files`` (URL path -> bytes), with Range support.

    ``cut_after[path] = [n1, n2, ...]``: the next responses for ``path`` stop
    after ``n`` body bytes and close the connection (one entry used per request).
    ``requests`` records (path, Range header) of every request.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.cut_after: dict[str, list[int]] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start, status = 0, 200
                wanted = self.headers.get("Range")
                if wanted:
                    start = int(wanted.removeprefix("bytes=").split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                self.send_response(status)
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                cuts = server.cut_after.get(self.path)
                if cuts:
                    self.wfile.write(body[start : start + cuts.pop(0)])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
