"""Stable seeds: derived from SHA-256 of the parts, never from Python's salted ``hash()``.

``hash("ISIC_0000000")`` changes between interpreter runs (PYTHONHASHSEED), which made the
authors' RandomCAM and point sampling irreproducible. ``stable_seed`` gives the same integer for
the same parts on every machine and every run.
"""
from __future__ import annotations

import hashlib

import numpy as np


def stable_seed(*parts: object) -> int:
    """Return a 63-bit integer seed determined only by ``parts`` (joined by their ``str``)."""
    text = "\x1f".join(str(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def make_rng(*parts: object) -> np.random.Generator:
    """A ``numpy.random.Generator`` seeded with :func:`stable_seed` of ``parts``."""
    return np.random.default_rng(stable_seed(*parts))


__all__ = ["stable_seed", "make_rng"]
