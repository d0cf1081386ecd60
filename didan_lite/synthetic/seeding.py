"""Seeding of the synthetic corpora: one independent generator per (seed, corpus, role, index)."""

from __future__ import annotations

import zlib

import numpy as np


def derived_rng(seed: int, *keys: str | int) -> np.random.Generator:
    """Independent generator for (seed, keys): strings enter through CRC-32, so results never depend on order."""
    entropy = [seed] + [zlib.crc32(k.encode()) if isinstance(k, str) else k for k in keys]
    return np.random.default_rng(np.random.SeedSequence(entropy))
