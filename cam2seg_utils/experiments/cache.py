"""On-disk heatmap cache, so that re-running the grid with other prompt parameters skips the CAMs.

A heatmap is identified by everything it depends on: the image (its id **and** the SHA-256 of
its pixels, so an edited file with the same name misses), the model name, the weights identity
(``"imagenet"``, ``"embedded"`` or the SHA-256 of the checkpoint file), the CAM method, the target
class and the CAM parameters (e.g. the RandomCAM seed, ScoreCAM's k, AblationCAM's channel
ratio, the stored resolution). The key is the SHA-256 of the canonical JSON of those parts.

What is stored is the CAM **at the resolution it is computed** -- the target layer's ``(h, w)``
grid (7 x 7 for Lite0 at 224 px, 14 x 14 for ViT-B/16), float64 after ReLU (``raw`` of
:class:`cam2seg_utils.cams.HeatmapResult`) -- not the image-size heatmap. The reader makes the
``(H, W)`` heatmap with :func:`cam2seg_utils.cams.normalize_heatmap` (:meth:`CachedHeatmap.heatmap`),
a deterministic function of the stored map and the size, so a hit gives the same numbers as
computing the CAM again, whatever the image size. Entries are ``np.savez_compressed`` files of a
few hundred bytes (:data:`MAX_ENTRY_BYTES` is enforced on write: a full-size map would be tens of
MB for an ISIC original).

Entries are ``<cache_dir>/<key[:2]>/<key>.npz``; they are written to a temporary file in the same
folder and moved into place with ``os.replace``, so a killed run never leaves a half-written entry
under the final name. A corrupt entry (e.g. disk full) or one of an older format is treated as a
miss and rewritten.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..atomic import atomic_open



def heatmap_key(image_id: str, image_sha: str, model: str, weights_id: str, cam: str,
                target_class: int, cam_params: Mapping[str, Any] | None = None) -> str:
    """The cache key: SHA-256 of the canonical JSON of every input of the heatmap."""
    parts = {
        "image_id": str(image_id), "image_sha256": str(image_sha), "model": str(model),
        "weights": str(weights_id), "cam": str(cam), "target_class": int(target_class),
        "cam_params": dict(cam_params or {}),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


MAX_ENTRY_BYTES = 256 * 1024  # any image size: the stored map has the CAM's resolution
FORMAT = 2                    # 1: float32 heatmaps at the image size (before issue 13)


@dataclass
class CachedHeatmap:
    raw: np.ndarray       # float64 (h, w): the CAM at its own resolution, ReLU'd, finite
    target_class: int
    raw_min: float
    raw_max: float

    def heatmap(self, size_hw: tuple[int, int]) -> np.ndarray:
        """The float32 ``(H, W)`` heatmap in [0, 1] for an image of ``size_hw``."""
        from ..cams import normalize_heatmap

        return normalize_heatmap(self.raw, size_hw)


class HeatmapCache:
    """Content-addressed store of CAM-resolution maps; ``hits`` / ``misses`` / ``writes`` count
    accesses, ``bytes_written`` the size of the entries written."""

    def __init__(self, root: str | os.PathLike, enabled: bool = True) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self.bytes_written = 0

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> CachedHeatmap | None:
        if not self.enabled:
            self.misses += 1
            return None
        p = self.path(key)
        if not p.is_file():
            self.misses += 1
            return None
        try:
            with np.load(p) as z:
                if int(z["format"]) != FORMAT:
                    raise ValueError("old cache format")
                entry = CachedHeatmap(np.asarray(z["raw"], dtype=np.float64), int(z["target_class"]),
                                      float(z["raw_min"]), float(z["raw_max"]))
        except Exception:  # noqa: BLE001 - a corrupt / old entry is a miss; it is rewritten by put()
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, key: str, raw: np.ndarray, target_class: int, raw_min: float, raw_max: float) -> None:
        """Store a CAM-resolution map ``raw`` ``(h, w)``; raises ``ValueError`` when the entry
        would exceed :data:`MAX_ENTRY_BYTES` (an image-size map passed by mistake)."""
        if not self.enabled:
            return
        arr = np.asarray(raw, dtype=np.float64)
        if arr.ndim != 2 or arr.nbytes > MAX_ENTRY_BYTES:
            raise ValueError(f"heatmap cache stores CAM-resolution (h, w) maps of at most {MAX_ENTRY_BYTES} bytes; "
                             f"got shape {arr.shape} ({arr.nbytes} bytes): pass HeatmapResult.raw, not the heatmap")
        p = self.path(key)
        with atomic_open(p, "wb") as f:
            np.savez_compressed(f, raw=arr, target_class=np.int64(target_class), raw_min=np.float64(raw_min),
                                raw_max=np.float64(raw_max), format=np.int64(FORMAT))
        self.writes += 1
        self.bytes_written += p.stat().st_size


__all__ = ["HeatmapCache", "CachedHeatmap", "MAX_ENTRY_BYTES", "heatmap_key"]
