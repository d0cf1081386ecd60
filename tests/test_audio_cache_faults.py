"""Faulty audio and feature-cache entries: ``verify`` names bad files, a damaged or wrong-shape cache entry is
a miss replaced atomically, a too-short file is named by the library."""

from __future__ import annotations


import numpy as np
import pytest
import soundfile as sf
from data_fetch_fixtures import BUILDERS

from didan_lite.features import STAT_INDEX, FeatureConfig, extract_corpus
from didan_lite.manifest import read_manifest

from data_fetch.cli import main as data_fetch_main



def test_verify_names_truncated_silent_and_nan_files(tmp_path, capsys):
    """Case 6: verify decodes every file."""
    tree = BUILDERS["casia"](tmp_path / "casia")
    truncated, silent, nan = (next(tree.root.glob(f"{key}.[wW][aA][vV]")) for key in sorted(tree.rows)[:3])
    data = truncated.read_bytes()
    truncated.write_bytes(data[: len(data) - 200])
    sf.write(silent, np.zeros(3200, np.float32), 16_000)
    sf.write(nan, np.full(3200, np.nan, np.float32), 16_000, subtype="FLOAT")
    assert data_fetch_main(["verify", "casia", "--root", str(tree.root)]) == 1
    out = capsys.readouterr().out
    for path, word in ((truncated, "truncated"), (silent, "silent"), (nan, "NaN")):
        line = next(line for line in out.splitlines() if str(path) in line)
        assert word in line, line


@pytest.mark.parametrize("damage", [b"", b"\x93NUMPY garbage", b"not numpy at all"], ids=["0-bytes", "bad-header", "junk"])
def test_damaged_cache_entry_is_a_miss_replaced_atomically(make_tone_corpus, tmp_path, damage):
    """Case 8: an entry that does not load as a spectrogram is recomputed and replaced."""
    manifest = read_manifest(make_tone_corpus("c", per_class=1))
    cache = tmp_path / "cache"
    first = extract_corpus(manifest, cache_dir=cache, progress=False)
    entries = sorted(cache.rglob("*.npy"))
    entries[0].write_bytes(damage)
    again = extract_corpus(manifest, cache_dir=cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first.spectrograms, again.spectrograms))
    assert not again.skipped
    assert any(np.array_equal(np.load(entries[0]), spec) for spec in first.spectrograms)  # replaced by a good entry
    assert not [p for p in cache.rglob("*") if p.is_file() and p.suffix != ".npy"
                and p.parent.name != STAT_INDEX]  # no temporary file left (by-stat holds the digests)


def test_wrong_shape_cache_entry_is_a_miss(make_tone_corpus, tmp_path):
    """Case 8: a loadable entry of the wrong shape (other settings, hand-made) is not trusted."""
    manifest = read_manifest(make_tone_corpus("c", per_class=1))
    cache = tmp_path / "cache"
    first = extract_corpus(manifest, cache_dir=cache, progress=False)
    for entry in cache.rglob("*.npy"):
        np.save(entry, np.zeros((3, 4), np.float32))
    again = extract_corpus(manifest, cache_dir=cache, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(first.spectrograms, again.spectrograms))


def test_short_audio_error_names_the_file_in_the_library(make_tone_corpus, tmp_path):
    """Case 9 through the library: the extractor's message names the file."""
    manifest = read_manifest(make_tone_corpus("c", per_class=1))
    path = manifest.loc[0, "path"]
    sf.write(path, 0.3 * np.ones(50, np.float32), 16_000)
    with pytest.raises(Exception, match="shorter than the 100 ms every method needs") as caught:
        extract_corpus(manifest, FeatureConfig(), cache_dir=tmp_path / "cache", strict=True, progress=False)
    assert path in str(caught.value)
