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
