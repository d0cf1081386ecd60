"""Teaching helpers: the flat API, the IDA-versus-MMD toy, the plot style and captions, the audio clips."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import didan_lite  # noqa: E402
from didan_lite.errors import InputError  # noqa: E402
import data_fetch  # noqa: E402, F401  (declares its free corpora to may_embed)
from didan_lite.teaching.listening import audio_player, audio_table, encode_clip, may_embed, trim_loudest  # noqa: E402
from didan_lite.plots import METHOD_COLOURS, alignment_caption, corpus_colours  # noqa: E402
from didan_lite.teaching.toy import make_toy_clouds, plot_ida_vs_mmd, reconstructions, toy_losses, witness_function  # noqa: E402


def test_flat_api_resolves_every_name_and_import_stays_light():
    for name in didan_lite.__all__:
        assert getattr(didan_lite, name) is not None, name
    with pytest.raises(AttributeError):
        didan_lite.not_a_name  # noqa: B018
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, didan_lite; print(sorted(m for m in ('torch', 'matplotlib', 'umap') if m in sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert loaded == "[]", f"import didan_lite loaded {loaded}"


def test_toy_clouds_move_as_asked():
    base = make_toy_clouds()
    assert base.source.shape == base.target.shape == (60, 2)
    shifted = make_toy_clouds(shift=2.0)
    assert np.allclose(shifted.target.mean(0) - base.target.mean(0), [2.0, 0.0])
    missing = make_toy_clouds(missing_class=1)
    assert 1 not in missing.target_labels and len(missing.target) == 40
    assert "no 'neutral' class" in missing.description
    with pytest.raises(InputError, match="missing_class"):
        make_toy_clouds(missing_class=7)


def test_toy_losses_tell_the_story_the_notebook_tells():
    aligned, shifted = toy_losses(make_toy_clouds()), toy_losses(make_toy_clouds(shift=3.0))
    assert all(shifted[key] > aligned[key] + 0.2 for key in aligned), (aligned, shifted)
    missing = toy_losses(make_toy_clouds(missing_class=0))
    rise = {key: (missing[key] - aligned[key]) / (shifted[key] - aligned[key]) for key in aligned}
    assert rise["MMD²"] > 0.3 and rise["IDA both ways"] > 0.3, rise
    assert rise["IDA one way"] < 0.1, "one-way IDA rebuilds every target even when the target lacks a class"


def test_witness_is_positive_at_the_source_surplus_and_reconstruction_is_convex():
    clouds = make_toy_clouds(missing_class=0)
    surplus = clouds.source[clouds.source_labels == 0].mean(0)
    assert witness_function(clouds, surplus[None])[0] > 0 > witness_function(clouds, clouds.target.mean(0)[None])[0]
    weights, rebuilt = reconstructions(clouds)
    assert np.allclose(weights.sum(1), 1.0) and (weights >= 0).all()
    assert np.allclose(rebuilt, weights @ clouds.source)


def test_toy_figure_shows_both_numbers():
    fig, axes, losses = plot_ida_vs_mmd(make_toy_clouds(shift=1.0))
    assert f"{losses['MMD²']:.3f}" in axes[0].get_title() and f"{losses['IDA one way']:.2f}" in axes[1].get_title()


def test_colours_are_fixed_and_distinct():
    assert len(set(METHOD_COLOURS.values())) == len(METHOD_COLOURS)
    assert corpus_colours(("emodb", "casia")) == corpus_colours(("synth-studio", "synth-phone"))
    assert len(set(corpus_colours(("x", "x")))) == 2


@pytest.mark.parametrize("before, after, word", [((1.2, 0.25), (0.6, 0.30), "brought the corpora closer"),
                                                   ((0.5, 0.25), (0.9, 0.24), "did NOT bring"),
                                                   ((0.5, 0.25), (0.45, 0.26), "NOT bring the corpora measurably closer")])
def test_caption_is_computed_from_the_numbers(before, after, word):
    caption = alignment_caption("ida", before, after)
    assert word in caption and f"{100 * after[1]:.1f} %" in caption


def test_audio_clips_are_short_and_small():
    rate = 16_000
    signal = np.r_[np.zeros(3 * rate), np.sin(np.arange(rate) * 0.2), np.zeros(rate)].astype(np.float32)
    trimmed = trim_loudest(signal, rate, 1.0)
    assert len(trimmed) == rate and np.abs(trimmed).max() > 0.9
    data, mimetype = encode_clip(signal, rate)
    assert mimetype in ("audio/mpeg", "audio/wav") and len(data) < 30_000
    table = audio_table({"corpus": {"anger": signal, "fear": signal}}, rate, corpus="emodb").data
    assert table.count("<audio") == 2 and "<th>anger</th>" in table and table.count('data-corpus="emodb"') == 2


def test_licence_gated_audio_is_never_embedded():
    """CASIA (licence-gated in data_fetch's registry) gets a note, EmoDB and the synthetic corpora a player."""
    rate = 16_000
    signal = np.sin(np.arange(rate) * 0.2).astype(np.float32)
    assert not may_embed("casia") and not may_embed("C") and may_embed("emodb") and may_embed("synth-phone")
    assert not may_embed("casia_subset") and not may_embed("my-own-corpus")  # unknown names: never embedded
    table = audio_table({"neutral": {"emodb": signal, "casia": signal}}, rate, corpus={"emodb": "emodb", "casia": "casia"}).data
    assert table.count("<audio") == 1 and "casia is licence-gated" in table and 'data-corpus="casia"' not in table
    assert "<audio" not in audio_player(signal, rate, corpus="casia").data
    assert 'data-corpus="synth-studio"' in audio_player(signal, rate, corpus="synth-studio").data
    with pytest.raises(InputError, match="no corpus given"):
        audio_table({"row": {"column": signal}}, rate, corpus={"other": "emodb"})


def test_log_mel_axis_ticks_stay_within_nyquist():
    from didan_lite.features import FeatureConfig
    from didan_lite.plots import plot_spectrogram

    config = FeatureConfig()
    _, ax, _ = plot_spectrogram(np.zeros((config.n_mels, 50)), config)
    assert max(ax.get_yticks()) <= config.sample_rate / 2 and 4000 in ax.get_yticks()


@pytest.mark.parametrize("name", ["exercises", "listening", "pretrained", "toy"])
def test_the_old_module_names_import_the_teaching_modules(name):
    """The helpers moved into didan_lite.teaching; ``from didan_lite.toy import ...`` still gives the same module."""
    import importlib

    moved = importlib.import_module(f"didan_lite.teaching.{name}")
    assert importlib.import_module(f"didan_lite.{name}") is moved and moved.__spec__.name == f"didan_lite.teaching.{name}"
