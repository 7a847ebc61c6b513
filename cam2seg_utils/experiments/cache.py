"""On-disk heatmap cache, so that re-running the grid with other prompt parameters skips the CAMs.

A heatmap is identified by everything it depends on: the image (its id **and** the SHA-256 of
its pixels, so an edited file with the same name misses), the model name, the weights identity
(``"imagenet"``, ``"embedded"`` or the SHA-256 of the checkpoint file), the CAM method, the target
class and the CAM parameters (e.g. the RandomCAM seed, the ablation batch). The key is the
SHA-256 of the canonical JSON of those parts.

Entries are ``<cache_dir>/<key[:2]>/<key>.npz`` holding the ``float32 (H, W)`` heatmap, the
target class and the raw min/max; they are written to a temporary file in the same folder and
moved into place with ``os.replace``, so a killed run never leaves a half-written entry under
the final name. A corrupt entry (e.g. disk full) is treated as a miss and rewritten.
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



def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_digest(image: np.ndarray) -> str:
    """SHA-256 of an image's pixels, shape and dtype (not of the file, so the JPEG encoder's
    metadata does not matter; two different decodings of one file would differ)."""
    arr = np.ascontiguousarray(image)
    h = hashlib.sha256()
    h.update(f"{arr.dtype.str}{arr.shape}".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (used as the weights identity of a checkpoint)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def heatmap_key(image_id: str, image_sha: str, model: str, weights_id: str, cam: str,
                target_class: int, cam_params: Mapping[str, Any] | None = None) -> str:
    """The cache key: SHA-256 of the canonical JSON of every input of the heatmap."""
    parts = {
        "image_id": str(image_id), "image_sha256": str(image_sha), "model": str(model),
        "weights": str(weights_id), "cam": str(cam), "target_class": int(target_class),
        "cam_params": dict(cam_params or {}),
    }
    return sha256_bytes(json.dumps(parts, sort_keys=True, default=str).encode())


@dataclass
class CachedHeatmap:
    heatmap: np.ndarray   # float32 (H, W) in [0, 1]
    target_class: int
    raw_min: float
    raw_max: float


class HeatmapCache:
    """Content-addressed store of heatmaps; ``hits`` / ``misses`` / ``writes`` count accesses."""

    def __init__(self, root: str | os.PathLike, enabled: bool = True) -> None:
        self.root = Path(root)
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.writes = 0

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
                entry = CachedHeatmap(np.asarray(z["heatmap"], dtype=np.float32),
                                      int(z["target_class"]), float(z["raw_min"]), float(z["raw_max"]))
        except Exception:  # noqa: BLE001 - a corrupt entry is a miss; it is rewritten by put()
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, key: str, heatmap: np.ndarray, target_class: int, raw_min: float, raw_max: float) -> None:
        if not self.enabled:
            return
        p = self.path(key)
        with atomic_open(p, "wb") as f:
            np.savez(f, heatmap=np.asarray(heatmap, dtype=np.float32),
                     target_class=np.int64(target_class), raw_min=np.float64(raw_min),
                     raw_max=np.float64(raw_max))
        self.writes += 1


__all__ = ["HeatmapCache", "CachedHeatmap", "heatmap_key", "image_digest", "file_sha256", "sha256_bytes"]
