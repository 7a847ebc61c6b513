"""Synthetic dermoscopy images in the official ISIC 2017 layout (the embedded default data set).

``generate_synthetic`` writes, under ``root``::

    ISIC-2017_<Split>_Data/SYN_<XX>nnnnnn.jpg              RGB, JPEG quality 90, non-square
    ISIC-2017_<Split>_Part1_GroundTruth/<id>_segmentation.png   0/255 lesion mask (PNG)
    ISIC-2017_<Split>_Part3_GroundTruth.csv               image_id,melanoma,seborrheic_keratosis
    .cam2seg_synthetic_<Split>.json                       the arguments (for idempotence)

so :class:`~cam2seg_utils.data.isic.ISICDataset` reads it exactly like the real data. Each image
is drawn by :func:`cam2seg_utils.data.dermoscopy.render_dermoscopy` (what an image contains:
that module's docstring) from its own generator, seeded by
``stable_seed("synthetic", seed, split, index)``.

Labels: exactly ``round(n_images * melanoma_fraction)`` images are labelled melanoma; a lesion
looks like its label's class (the renderer's ABCD features), except that with probability
``label_noise`` its appearance is drawn from the other class (label noise). Seborrheic keratosis
is always 0 (not modelled).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from cam2seg_utils.atomic import progress_bar, write_json
from cam2seg_utils.data.dermoscopy import LesionTraits, render_dermoscopy
from cam2seg_utils.data.isic import DataError, canonical_split, split_paths
from cam2seg_utils.seeding import make_rng, stable_seed

__all__ = ["generate_synthetic", "render_dermoscopy", "LesionTraits", "GENERATOR_VERSION"]

GENERATOR_VERSION = "cam2seg-synthetic-1"
JPEG_QUALITY = 90
_SPLIT_CODES = {"Training": "TR", "Validation": "VA", "Test_v2": "TE"}


# ---------------------------------------------------------------------------------------------
# writing a data set
# ---------------------------------------------------------------------------------------------
def _marker_path(root: Path, split: str) -> Path:
    return root / f".cam2seg_synthetic_{split}.json"


def _params(n_images, seed, melanoma_fraction, split, size_range, label_noise) -> dict:
    return {
        "generator": GENERATOR_VERSION,
        "n_images": int(n_images),
        "seed": int(seed),
        "melanoma_fraction": float(melanoma_fraction),
        "split": split,
        "size_range": [int(size_range[0]), int(size_range[1])],
        "label_noise": float(label_noise),
        "jpeg_quality": JPEG_QUALITY,
    }


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def generate_synthetic(
    root: str | Path,
    n_images: int = 100,
    seed: int = 0,
    melanoma_fraction: float = 0.3,
    split: str = "Training",
    size_range: tuple[int, int] = (320, 640),
    *,
    label_noise: float = 0.05,
    progress: bool = True,
) -> Path:
    """Write ``n_images`` synthetic dermoscopy images of ``split`` under ``root``; return ``root``.

    ``size_range``: inclusive range of image widths in pixels; heights are 0.66-0.80 of the
    width (never square). ``melanoma_fraction``: exactly ``round(n_images * fraction)`` images
    are labelled 1. ``label_noise``: probability that a lesion looks like the other class.

    Idempotent: when the split was already generated with the same arguments (recorded in
    ``.cam2seg_synthetic_<Split>.json``) and its files are all there, nothing is written.
    Different arguments regenerate the split (only when it was made by this function; a split
    folder of another origin raises :class:`DataError` rather than being overwritten).
    Atomic: images are written to a temporary folder beside the target and moved into place;
    the marker, written last, is what declares the set complete.
    """
    root = Path(root)
    split = canonical_split(split)
    n_images = int(n_images)
    if n_images < 1:
        raise ValueError(f"n_images must be >= 1, got {n_images}")
    if not 0.0 <= float(melanoma_fraction) <= 1.0:
        raise ValueError(f"melanoma_fraction must be in [0, 1], got {melanoma_fraction}")
    if not 0.0 <= float(label_noise) <= 0.5:
        raise ValueError(f"label_noise must be in [0, 0.5], got {label_noise}")
    lo, hi = int(size_range[0]), int(size_range[1])
    if not 64 <= lo <= hi:
        raise ValueError(f"size_range must be (lo, hi) with 64 <= lo <= hi, got {size_range}")
    params = _params(n_images, seed, melanoma_fraction, split, (lo, hi), label_noise)
    data_dir, mask_dir, csv_path = split_paths(root, split)
    targets = (data_dir, mask_dir, csv_path)
    marker = _marker_path(root, split)

    if marker.is_file():
        try:
            old = json.loads(marker.read_text())
        except json.JSONDecodeError:
            old = {}
        if old.get("params") == params and old.get("complete") and _complete(targets, n_images):
            return root
        for t in targets:  # ours (marker present): safe to replace
            _remove(t)
    else:
        present = [str(t) for t in targets if t.exists()]
        if present:
            raise DataError(
                f"{present[0]}: exists but was not written by generate_synthetic "
                f"(no {marker.name}); refusing to overwrite it", path=present[0])

    root.mkdir(parents=True, exist_ok=True)
    n_mel = int(round(n_images * float(melanoma_fraction)))
    label_rng = make_rng("synthetic-labels", seed, split, n_images, n_mel)
    labels = np.zeros(n_images, np.int64)
    labels[label_rng.permutation(n_images)[:n_mel]] = 1
    code = _SPLIT_CODES[split]
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-synthetic-{split}-", dir=root))
    try:
        t_data, t_mask = tmp / data_dir.name, tmp / mask_dir.name
        t_data.mkdir()
        t_mask.mkdir()
        rows = ["image_id,melanoma,seborrheic_keratosis"]
        for i in progress_bar(range(n_images), progress, desc=f"synthetic {split}", unit="img"):
            rng = np.random.default_rng(stable_seed("synthetic", seed, split, i))
            width = int(rng.integers(lo, hi + 1))
            height = max(48, int(round(width * rng.uniform(0.66, 0.80))))
            look = bool(labels[i]) != bool(rng.random() < label_noise)
            image, mask, _ = render_dermoscopy(rng, height, width, look)
            image_id = f"SYN_{code}{i:06d}"
            Image.fromarray(image).save(t_data / f"{image_id}.jpg", format="JPEG", quality=JPEG_QUALITY,
                                        subsampling=2, optimize=False, progressive=False)
            Image.fromarray(mask.astype(np.uint8) * 255).save(t_mask / f"{image_id}_segmentation.png",
                                                              format="PNG", optimize=False)
            rows.append(f"{image_id},{int(labels[i])},0")
        (tmp / csv_path.name).write_text("\n".join(rows) + "\n")
        write_json(marker, {"params": params, "complete": False})
        for t in targets:
            os.replace(tmp / t.name, t)
        write_json(marker, {"params": params, "complete": True})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _complete(targets: tuple[Path, Path, Path], n: int) -> bool:
    data_dir, mask_dir, csv_path = targets
    if not (data_dir.is_dir() and mask_dir.is_dir() and csv_path.is_file()):
        return False
    return (sum(1 for p in data_dir.iterdir() if p.suffix == ".jpg") == n
            and sum(1 for p in mask_dir.iterdir() if p.suffix == ".png") == n)
