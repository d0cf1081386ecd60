"""The real copies in ../shared/corpora (skipped when absent).

Exact counts from names, verify reports them complete, manifests land outside the read-only copy.
"""

from __future__ import annotations

from collections import Counter

import pytest

from data_fetch_fixtures import CORPORA_DIR
from didan_lite.manifest import read_manifest

from data_fetch import CORPORA, corpus_manifest, verify
from data_fetch.scan import scan_corpus

pytestmark = pytest.mark.corpora


def _copy(name: str):
    root = CORPORA_DIR / name
    if not root.is_dir():
        pytest.skip(f"real corpus copy {root} is absent")
    return root


def test_emodb_names_give_the_documented_class_counts():
    scan = scan_corpus(CORPORA["emodb"], _copy("emodb"))
    assert scan.label_counts() == Counter({"W": 127, "L": 81, "N": 79, "F": 71, "A": 69, "T": 62, "E": 46})
    assert not scan.extra and not scan.mislabelled
    genders = {item.utterance.speaker: item.utterance.gender for item in scan.found.values()}
    assert sorted(s for s, g in genders.items() if g == "male") == ["03", "10", "11", "12", "15"]


def test_casia_names_give_200_per_emotion_and_300_per_speaker():
    scan = scan_corpus(CORPORA["casia"], _copy("casia"))
    assert scan.label_counts() == Counter({e: 200 for e in ("angry", "fear", "happy", "neutral", "sad", "surprise")})
    assert scan.speaker_counts() == Counter({s: 300 for s in ("liuchanhg", "wangzhe", "zhaoquanyin", "ZhaoZuoxiang")})
    assert not scan.extra and not scan.mislabelled  # _desktop.ini files and the GBK text list are ignored


@pytest.mark.parametrize("name", ["emodb", "casia"])
def test_verify_reports_the_real_copies_complete(name):
    report = verify(name, _copy(name))
    assert report.complete, report.summary()
    assert report.total == CORPORA[name].expected_total


@pytest.mark.parametrize("name, emotions", [
    ("emodb", {"anger": 127, "boredom": 81, "neutral": 79, "happiness": 71, "fear": 69, "sadness": 62, "disgust": 46}),
    ("casia", {e: 200 for e in ("anger", "fear", "happiness", "neutral", "sadness", "surprise")}),
])  # fmt: skip
def test_corpus_manifest_of_a_read_only_copy_lands_in_the_cache(name, emotions, tmp_path):
    root = _copy(name)
    path = corpus_manifest(name, root=root, data_dir=tmp_path)
    assert path.is_relative_to(tmp_path) and not path.is_relative_to(root)
    frame = read_manifest(path)
    assert frame["emotion"].value_counts().to_dict() == emotions
    assert frame["path"].str.startswith(str(root.resolve())).all()
