"""Notebook 5's new figures: a target rebuilt from the source, the emotion-coloured UMAP panel, the collapse rule."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from didan_lite.errors import InputError  # noqa: E402
from didan_lite.plots import CORPUS_COLOURS, emotion_colours, emotion_legend, plot_emotions_2d  # noqa: E402
from didan_lite.report import COLLAPSE_RANK, COLLAPSE_SOURCE_DROP, collapse_note  # noqa: E402
from didan_lite.teaching.neighbours import neighbour_caption, plot_rebuilt, rebuild  # noqa: E402

CLASSES = ["anger", "fear", "sadness"]


def _clusters(offset: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three tight emotion clusters in 8-D, 20 points each, moved by ``offset`` along every axis."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), 20)
    centres = 5.0 * np.eye(3, 8)
    return centres[labels] + 0.3 * rng.standard_normal((60, 8)) + offset, labels


def test_an_aligned_target_is_rebuilt_from_its_own_emotion_and_a_shifted_one_is_not():
    f_s, y_s = _clusters(0.0, seed=0)
    aligned_t, y_t = _clusters(0.0, seed=1)
    shifted_t, _ = _clusters(4.0, seed=1)
    aligned, shifted = rebuild(f_s, aligned_t, y_s, y_t), rebuild(f_s, shifted_t, y_s, y_t)
    assert aligned.same_emotion_weight.mean() > 0.95
    assert np.median(aligned.residuals) < 0.1 < np.median(shifted.residuals)
    assert aligned.residual == pytest.approx(np.median(aligned.residuals), abs=np.ptp(aligned.residuals) / 10)
    assert np.all(np.diff(aligned.weights) <= 0) and aligned.weights.sum() <= 1 + 1e-9
    assert np.all(y_s[aligned.neighbours] == y_t[aligned.target_index])
    assert neighbour_caption(aligned, y_s, CLASSES, top=2).count(CLASSES[y_t[aligned.target_index]]) == 2
    figure = plot_rebuilt({"aligned": aligned, "shifted": shifted}, y_s, int(y_t[aligned.target_index]), CLASSES)
    assert len(figure.axes) == 2
    top = max(aligned.weights.max(), shifted.weights.max())
    assert figure.axes[0].get_ylim()[1] == pytest.approx(1.2 * top), "the scale follows the heaviest bar, not 0-1"
    assert [line.get_ydata()[0] for line in figure.axes[0].lines] == [pytest.approx(1 / len(y_s))], "the even weight"
    plt.close(figure)
    with pytest.raises(InputError, match="target_index 60"):
        rebuild(f_s, aligned_t, y_s, y_t, target_index=60)


def test_emotion_panel_colours_by_emotion_and_marks_the_target_hollow():
    points, labels = _clusters(0.0, seed=2)
    is_target = np.arange(60) % 2 == 1
    fig, ax = plot_emotions_2d(points[:, :2], is_target, labels, CLASSES, ("synth-a", "synth-b"), legend=False)
    filled = [c for c in ax.collections if len(c.get_facecolors()) and c.get_facecolors()[0][3] > 0]
    assert len(ax.collections) == 2 * len(CLASSES) and len(filled) == len(CLASSES)
    legend = emotion_legend(fig, CLASSES, ("synth-a", "synth-b"))
    assert [t.get_text() for t in legend.get_texts()][:3] == CLASSES
    plt.close(fig)
    colours = emotion_colours(7)
    assert len(set(colours)) == 7 and not set(colours) & set(CORPUS_COLOURS.values()), "an emotion must not look like a corpus"


@pytest.mark.parametrize("rank, source_uar, fires", [
    (1.2, 38.0, "rank|source"),            # notebook 3's old MMD run: both parts fire
    (1.3, 75.0, "rank"),                   # a line, source task kept
    (6.0, 77.4 - COLLAPSE_SOURCE_DROP - 1, "source"),
    (6.0, 77.4 - COLLAPSE_SOURCE_DROP + 1, ""),
    (COLLAPSE_RANK, 77.4, ""),
])
def test_collapse_rule_can_fire_on_either_part(rank, source_uar, fires):
    note = collapse_note("mmd", rank, source_uar, baseline_source_uar=77.4)
    assert ("feature rank" in note) == ("rank" in fires)
    assert ("held-out source UAR" in note) == ("source" in fires)
    assert note.startswith("COLLAPSE: mmd") == bool(fires)


def test_toy_arrows_pull_a_shifted_target_back_and_small_multiples_cover_every_state():
    from didan_lite.teaching.toy import TOY_STATES, make_toy_clouds, plot_toy_states, reconstructions, toy_gradients

    clouds = make_toy_clouds(shift=2.0)  # target moved along +x: both losses move it back along -x
    for name, move in toy_gradients(clouds).items():
        assert move.shape == clouds.target.shape and move[:, 0].mean() < 0, name
    assert set(toy_gradients(clouds, symmetric=False)) == {"MMD²", "IDA one way"}
    weights, rebuilt = reconstructions(clouds, rebuilt="source")
    assert weights.shape == (len(clouds.source), len(clouds.target)) and rebuilt.shape == clouds.source.shape
    fig, table = plot_toy_states()
    assert list(table) == [name for name, _ in TOY_STATES] and len(fig.axes) >= 2 * len(TOY_STATES)
    spread = table["spread x2.5"]  # the reading the notebook prints: only one-way IDA sees a wider target
    assert spread["IDA one way"] > 10 * max(abs(spread["IDA both ways"]), abs(spread["MMD²"]))
    plt.close(fig)
