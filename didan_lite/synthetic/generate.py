"""Writing corpora: deterministic generation, 16-bit WAVs, manifest and a completion stamp.

Generation is deterministic: every utterance, speaker and text draws from
``numpy.random.default_rng`` seeded by (seed, corpus name, role, index), so order
and parallelism cannot change a byte. :func:`generate_corpus` writes 16-bit WAVs
(``<root>/<corpus>/<speaker>/<file>.wav``, each atomically), the manifest, and a
stamp last; a folder without a matching stamp is regenerated.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from didan_lite.atomic import atomic_write
from didan_lite.errors import InputError
from didan_lite.folders import LOCK_FILE, hold_folder
from didan_lite.manifest import write_manifest
from didan_lite.synthetic.corpora import DEFAULT_SOURCE, DEFAULT_TARGET, CorpusSpec, check_count
from didan_lite.synthetic.language import draw_text
from didan_lite.synthetic.seeding import derived_rng
from didan_lite.synthetic.utterance import synthesize_utterance
from didan_lite.synthetic.voice import draw_speakers

GENERATOR_VERSION = 3
"""Bump whenever a change alters the generated audio: stamps then no longer match.

History: 1, the first generator: a CNN learned it poorly (held-out source UAR
about 50 % in full mode, chance in fast mode). 2, emotions made easier to
learn, judged on held-out source speakers only: articulation (F1, F2-F3
factors), wider F0 and tilt contrasts, intensity U(0.75, 1) instead of
U(0.6, 1), expressiveness spread 15 % instead of 20 %, and a less reverberant,
less noisy telephone room (RT60 0.5 s, DRR 6 dB, SNR 20 dB; was 0.6, 3, 15). 3, background noise at a
fixed SNR below each utterance's own speech level (it was at a fixed absolute level, so loud emotions had a
higher SNR than quiet ones: a class cue that existed in the target only).
"""

STAMP_NAME = ".complete.json"
GENERATION_WAIT_S = 3600.0
"""How long a process waits for another one generating the same corpus folder (then reuses its files)."""


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
    otherwise it is regenerated and stray files in it are removed. One process
    generates a folder at a time (:func:`didan_lite.folders.hold_folder`): a
    second one waits for it (up to :data:`GENERATION_WAIT_S`) and then reuses
    its files, so that two benches started together never remove each other's files.

    Args:
        n_utterances: override ``spec.n_utterances`` (a multiple of the emotion count).
    """
    n_utterances = spec.n_utterances if n_utterances is None else n_utterances
    check_count(n_utterances, spec)
    if seed < 0:
        raise InputError(f"Seed {seed} is negative; use a seed >= 0.")
    corpus_dir = Path(root) / spec.name
    manifest_path = corpus_dir / "manifest.csv"
    key = _generation_key(spec, seed, n_utterances)
    if _is_complete(corpus_dir, key):
        return manifest_path
    with hold_folder(corpus_dir, wait_s=GENERATION_WAIT_S):
        if not _is_complete(corpus_dir, key):  # unless another process finished it while this one waited
            _write_corpus(spec, corpus_dir, seed, n_utterances, key)
    return manifest_path


def _write_corpus(spec: CorpusSpec, corpus_dir: Path, seed: int, n_utterances: int, key: str) -> None:
    """Generate every file of ``spec`` into ``corpus_dir``, remove stray files, write the manifest and the stamp."""
    manifest_path = corpus_dir / "manifest.csv"
    (corpus_dir / STAMP_NAME).unlink(missing_ok=True)
    manifest_path.unlink(missing_ok=True)

    speakers = draw_speakers(spec.population, seed, spec.name)
    texts = [draw_text(spec.language, derived_rng(seed, spec.name, "text", t)) for t in range(spec.n_texts)]
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
        if path.is_file() and path.relative_to(corpus_dir).as_posix() not in files and path.name != LOCK_FILE:
            path.unlink()
    write_manifest(pd.DataFrame(rows), manifest_path)
    files[manifest_path.name] = manifest_path.stat().st_size
    with atomic_write(corpus_dir / STAMP_NAME, "w", encoding="utf-8") as handle:
        json.dump({"key": key, "seed": seed, "generator_version": GENERATOR_VERSION, "files": files}, handle, indent=0)


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
