"""The manifest format shared by real and synthetic corpora."""

from __future__ import annotations

import pandas as pd
import pytest

from didan_lite.errors import InputError
from didan_lite.manifest import read_manifest, shared_emotions, write_manifest


def test_round_trip_stores_relative_paths_and_resolves_them(make_tone_corpus, tmp_path):
    path = make_tone_corpus("c", per_class=1)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert not any(p.startswith("/") for p in raw["path"])  # movable folder
    moved = tmp_path / "moved"
    (tmp_path / "c").rename(moved)
    frame = read_manifest(moved / "manifest.csv")
    assert all(p.startswith(str(moved)) for p in frame["path"])
    assert list(frame["gender"]) == [""] * len(frame)  # optional columns filled


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda f: f.drop(columns="emotion"), "lacks the column"),
        (lambda f: f.assign(emotion="angry"), "outside the canonical vocabulary"),
        (lambda f: f.assign(path=f["path"] + ".missing"), "do not exist"),
        (lambda f: f.iloc[:0], "lists no utterances"),
    ],
    ids=["column", "label", "files", "empty"],
)
def test_bad_manifests_are_refused_clearly(make_tone_corpus, tmp_path, edit, message):
    frame = read_manifest(make_tone_corpus("c", per_class=1))
    bad = tmp_path / "bad.csv"
    edit(frame).to_csv(bad, index=False)
    with pytest.raises(InputError, match=message) as caught:
        read_manifest(bad)
    assert str(bad) in str(caught.value)


def test_missing_manifest_says_how_to_make_one(tmp_path):
    with pytest.raises(InputError, match="data_fetch prepare"):
        read_manifest(tmp_path / "nope.csv")


def test_shared_emotions_in_canonical_order_and_at_least_two(make_tone_corpus):
    a = read_manifest(make_tone_corpus("a", emotions=("sadness", "anger", "fear"), per_class=1))
    b = read_manifest(make_tone_corpus("b", emotions=("fear", "sadness", "happiness"), per_class=1))
    assert shared_emotions(a, b) == ["fear", "sadness"]
    c = read_manifest(make_tone_corpus("c", emotions=("anger", "happiness"), per_class=1))
    with pytest.raises(InputError, match="at least two"):
        shared_emotions(a, c)
    written = write_manifest(a, a.loc[0, "path"].rsplit("/", 1)[0] + "/copy.csv")
    assert read_manifest(written).equals(a)


def test_one_file_under_two_spellings_is_one_file(make_tone_corpus):
    """Issue 21, items 2-3: ``a.wav`` and ``./a.wav`` name the same file; listed twice, it is refused."""
    path = make_tone_corpus("c", per_class=1)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    again = frame.iloc[[0]].assign(path="./" + frame["path"].iloc[0])
    pd.concat([frame, again]).to_csv(path, index=False)
    with pytest.raises(InputError, match="1 file\\(s\\) more than once"):
        read_manifest(path)


def test_a_data_frame_with_a_column_twice_is_refused():
    """Issue 21, item 4, through the library: a DataFrame may carry duplicate column names too."""
    frame = pd.DataFrame([["a.wav", "anger", "s", "c", "sadness"]], columns=["path", "emotion", "speaker", "corpus", "emotion"])
    with pytest.raises(InputError, match="\\['emotion'\\] more than once"):
        read_manifest(frame, check_files=False)
