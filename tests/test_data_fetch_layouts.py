"""Parsing, preparing and verifying every corpus layout on generated trees with real-copy mess."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile

from data_fetch_fixtures import BUILDERS, CorpusTree, write_wav
from didan_lite.errors import InputError
from didan_lite.manifest import CANONICAL_EMOTIONS, read_manifest

from data_fetch import CORPORA, CorpusWarning, cache, corpus_manifest, get_corpus, prepare, verify


@pytest.fixture(params=sorted(BUILDERS))
def tree(request, tmp_path) -> CorpusTree:
    return BUILDERS[request.param](tmp_path / "copy" / request.param)


def _relative(path: str, tree: CorpusTree, data_dir: Path) -> str:
    """Manifest path -> the tree's relative path without extension (videos: via the extracted-audio folder)."""
    spec = get_corpus(tree.key)
    base = cache.derived_audio_dir(tree.key, tree.root.resolve(), data_dir) if spec.is_video else tree.root.resolve()
    return str(Path(path).relative_to(base).with_suffix(""))


def _prepare_with_warning(tree: CorpusTree, data_dir: Path, **kwargs) -> tuple[Path, list[str]]:
    with pytest.warns(CorpusWarning) as record:
        path = prepare(tree.key, tree.root, data_dir=data_dir, progress=False, **kwargs)
    return path, [str(w.message) for w in record if issubclass(w.category, CorpusWarning)]


def test_prepare_lists_exactly_the_usable_utterances_with_their_labels(tree, tmp_path):
    data_dir = tmp_path / "cache"
    path, messages = _prepare_with_warning(tree, data_dir)
    frame = read_manifest(path)
    got = {
        _relative(row.path, tree, data_dir): (row.emotion, row.original_label, row.speaker, row.gender, row.text_id)
        for row in frame.itertuples()
    }
    assert got == tree.rows
    assert set(frame["corpus"]) == {tree.key}
    assert len(messages) == 1, "problems are summarised in one warning"
    for relative in tree.problems:
        assert Path(relative).name in messages[0]
    for relative in tree.silent:
        assert Path(relative).name not in messages[0]
    for clutter in ("desktop.ini", "readme.txt", "._hidden.wav"):
        assert clutter not in messages[0]


def test_manifest_goes_to_the_cache_folder_and_never_into_the_copy(tree, tmp_path):
    before = sorted(p for p in tree.root.rglob("*"))
    path, _ = _prepare_with_warning(tree, tmp_path / "cache")
    assert sorted(p for p in tree.root.rglob("*")) == before
    assert path.parent == tmp_path / "cache" / "manifests"
    assert all(Path(p).is_absolute() for p in read_manifest(path)["path"])


def test_strict_makes_unreadable_and_mislabelled_files_fatal(tree, tmp_path):
    fatal = [relative for relative, kind in tree.problems.items() if kind in ("unreadable", "mislabelled")]
    assert fatal, "every fixture tree holds at least one unreadable or mislabelled file"
    with pytest.raises(InputError) as error:
        prepare(tree.key, tree.root, data_dir=tmp_path / "cache", strict=True, progress=False)
    for relative in fatal:
        assert Path(relative).name in str(error.value)


def test_verify_puts_every_problem_in_its_place_and_no_good_file_anywhere(tree, tmp_path):
    report = verify(tree.key, tree.root, data_dir=tmp_path / "cache")
    lists = {
        "unreadable": report.unreadable, "mislabelled": report.mislabelled,
        "extra": report.extra, "known_bad": report.known_bad,
    }  # fmt: skip
    for relative, kind in tree.problems.items():
        assert (tree.root / relative) in {problem.path for problem in lists[kind]}, (relative, kind)
    reported = {problem.path.with_suffix("") for problems in lists.values() for problem in problems}
    assert not reported & {tree.root / relative for relative in tree.rows}
    present = sum(kind in ("unreadable", "known_bad") for kind in tree.problems.values())
    assert report.total == len(tree.rows) + present + len(tree.silent)
    assert not report.complete
    assert "INCOMPLETE" in report.summary()


def test_enterface_audio_is_extracted_to_16k_mono_and_cached(tmp_path):
    tree = BUILDERS["enterface"](tmp_path / "enterface")
    data_dir = tmp_path / "cache"
    path, _ = _prepare_with_warning(tree, data_dir)
    wavs = [Path(p) for p in read_manifest(path)["path"]]
    assert wavs and all(cache.derived_audio_dir("enterface", tree.root.resolve(), data_dir) in w.parents for w in wavs)
    audio, rate = soundfile.read(wavs[0])
    assert rate == 16000 and audio.ndim == 1
    assert abs(len(audio) / rate - 0.3) < 0.03  # the 0.3 s track of the test video
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * rate / len(audio) - 440.0) < 10.0  # the tone survives resampling
    stamps = {w: w.stat().st_mtime_ns for w in wavs}
    _prepare_with_warning(tree, data_dir)
    assert {w: w.stat().st_mtime_ns for w in wavs} == stamps, "extracted audio is reused, not redone"


def test_cremad_reads_genders_from_the_demographics_table_and_flags_git_lfs_pointers(tmp_path):
    tree = BUILDERS["cremad"](tmp_path / "crema")
    report = verify("crema-d", tree.root)
    pointer = next(p for p in report.unreadable if p.path.name == "1003_TIE_NEU_XX.wav")
    assert "git-lfs" in pointer.reason
    assert any("level X read as XX" in note.reason for note in report.notes)


def _full_casia(root: Path) -> None:
    template = write_wav(root / "template.wav").read_bytes()
    (root / "template.wav").unlink()
    for key in CORPORA["casia"].expected_keys():
        path = root / f"{key}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(template)


def test_verify_names_the_missing_file_of_a_full_factorial_corpus(tmp_path):
    root = tmp_path / "casia"
    _full_casia(root)
    assert verify("casia", root).complete
    (root / "wangzhe/sad/233.wav").unlink()
    shutil.copy(root / "wangzhe/sad/234.wav", root / "wangzhe/sad/251.wav")  # outside the design
    report = verify("C", root)
    assert report.missing == ["wangzhe/sad/233"]
    assert [p.path.name for p in report.extra] == ["251.wav"]
    assert not report.complete


@pytest.mark.parametrize("spec", CORPORA.values(), ids=list(CORPORA))
def test_specs_are_consistent(spec):
    assert set(spec.label_map.values()) <= set(CANONICAL_EMOTIONS)
    assert not set(spec.label_map) & spec.excluded_labels
    if spec.expected_counts is not None:
        assert set(spec.expected_counts) <= set(spec.label_map) | spec.excluded_labels
        assert sum(spec.expected_counts.values()) == spec.expected_total
    if spec.expected_keys is not None:
        assert len(spec.expected_keys()) == spec.expected_total
    if spec.files_per_speaker:
        assert spec.files_per_speaker * spec.expected_speakers == spec.expected_total
    assert (spec.remote is not None) == (spec.access == "download")


def test_ravdess_design_matches_its_documented_class_counts():
    spec = CORPORA["ravdess"]
    assert Counter(key.split("-")[2] for key in spec.expected_keys()) == Counter(spec.expected_counts)


def test_corpus_manifest_uses_the_cached_copy_then_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "env-cache"))
    with pytest.raises(InputError) as error:
        corpus_manifest("casia")
    message = str(error.value)
    assert "root" in message and "licence" in message and str(tmp_path / "env-cache") in message
    with pytest.raises(InputError, match="licence-gated"):
        corpus_manifest("casia", download=True, accept_license=True)

    tree = BUILDERS["casia"](cache.extracted_dir("casia", tmp_path / "env-cache"))
    with pytest.warns(CorpusWarning):
        path = corpus_manifest("casia")
    assert len(read_manifest(path)) == len(tree.rows)
    assert path.is_relative_to(tmp_path / "env-cache")


def test_a_missing_or_wrong_root_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        prepare("emodb", tmp_path / "nowhere")
    (tmp_path / "emodb.zip").write_bytes(b"PK")
    with pytest.raises(InputError, match="is a file"):
        prepare("emodb", tmp_path / "emodb.zip")
    write_wav(tmp_path / "other" / "song.wav")
    with pytest.raises(InputError, match="No EmoDB") as error:
        prepare("emodb", tmp_path / "other", data_dir=tmp_path / "cache")
    assert "song.wav" in str(error.value)
    with pytest.raises(InputError, match="Unknown corpus"):
        prepare("emodbx", tmp_path)


def test_cache_folder_comes_from_argument_then_environment_then_home(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.ENV_VAR, raising=False)
    assert cache.data_dir() == Path(os.path.expanduser("~/.cache/didan_lite"))
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "env"))
    assert cache.data_dir() == tmp_path / "env"
    assert cache.data_dir(tmp_path / "arg") == tmp_path / "arg"
