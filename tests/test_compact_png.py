"""Inline figures are stored as palette PNGs: smaller, the same size in pixels, the colours kept."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from didan_lite.plots import compact_png  # noqa: E402


def test_palette_png_is_smaller_same_size_and_close_in_colour():
    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    ax.imshow(np.random.default_rng(0).random((64, 64)), cmap="magma")
    ax.plot([0, 63], [0, 63], color="C0")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    png = buffer.getvalue()
    small = compact_png(png)
    before, after = Image.open(io.BytesIO(png)).convert("RGB"), Image.open(io.BytesIO(small))
    assert len(small) < len(png) and after.mode == "P" and after.size == before.size
    difference = np.abs(np.asarray(before, float) - np.asarray(after.convert("RGB"), float))
    assert difference.mean() < 3.0
