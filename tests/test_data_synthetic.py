"""The synthetic data set writer (``data/synthetic.py``): determinism, official layout,
idempotence/atomicity, label fraction and label noise. The images themselves:
``test_data_dermoscopy.py``."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import cam2seg_utils.data.synthetic as synthetic
from cam2seg_utils.data import (
    DataError,
    ISICDataset,
    Sample,
    SampleError,
    contact_sheet,
    generate_synthetic,
)

SMALL = dict(n_images=6, seed=7, melanoma_fraction=0.5, size_range=(96, 160))


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".cam2seg")}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> Path:
    return generate_synthetic(tmp_path_factory.mktemp("syn") / "a", **SMALL)


def test_byte_identical_for_same_seed(small_set, tmp_path):
    again = generate_synthetic(tmp_path / "b", **SMALL)
    a, b = _digest(small_set), _digest(again)
    assert len(a) == 2 * 6 + 1 and a == b
    other = generate_synthetic(tmp_path / "c", **(SMALL | {"seed": 8}))
    assert _digest(other) != a


def test_official_layout_read_by_the_loader(small_set):
    ds = ISICDataset(small_set, "Training")
    assert len(ds) == 6 and ds.ids[0] == "SYN_TR000000"
    assert int(ds.labels["melanoma"].sum()) == 3  # round(6 * 0.5), exactly
    assert set(ds.labels["seborrheic_keratosis"]) == {0}
    shapes = set()
    for s in ds.iter_samples(errors="record"):
        assert isinstance(s, Sample)
        h, w = s.mask.shape
        assert s.image.shape == (h, w, 3) and s.mask.any() and not s.mask.all()
        assert 96 <= w <= 160 and h < w  # never square
        shapes.add((h, w))
    assert len(shapes) > 1  # sizes vary
    assert (small_set / "ISIC-2017_Training_Part1_GroundTruth" / "SYN_TR000000_segmentation.png").is_file()


def test_test_split_and_max_side(tmp_path):
    root = generate_synthetic(tmp_path / "t", n_images=2, seed=1, split="Test", size_range=(200, 220))
    ds = ISICDataset(root, "Test", max_side=100)
    assert ds.data_dir.name == "ISIC-2017_Test_v2_Data" and ds.ids == ["SYN_TE000000", "SYN_TE000001"]
    assert max(ds[0].image.shape[:2]) == 100


def test_idempotent_and_regenerates_on_new_arguments(small_set, tmp_path):
    root = generate_synthetic(tmp_path / "d", **SMALL)
    img = root / "ISIC-2017_Training_Data" / "SYN_TR000000.jpg"
    mtime = img.stat().st_mtime_ns
    generate_synthetic(root, **SMALL)
    assert img.stat().st_mtime_ns == mtime  # nothing rewritten
    generate_synthetic(root, **(SMALL | {"n_images": 3}))
    assert len(ISICDataset(root)) == 3
    marker = json.loads((root / ".cam2seg_synthetic_Training.json").read_text())
    assert marker["complete"] and marker["params"]["n_images"] == 3
    assert not list(root.glob(".tmp-*"))


def test_refuses_to_overwrite_foreign_data(tmp_path):
    (tmp_path / "ISIC-2017_Training_Data").mkdir()
    with pytest.raises(DataError, match="not written by generate_synthetic"):
        generate_synthetic(tmp_path, **SMALL)


def test_killed_generation_leaves_no_half_set(tmp_path, monkeypatch):
    real = synthetic.render_dermoscopy
    calls = {"n": 0}

    def dies_on_third(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # like a kill in the middle of the run
        return real(*a, **kw)

    monkeypatch.setattr(synthetic, "render_dermoscopy", dies_on_third)
    root = tmp_path / "k"
    with pytest.raises(KeyboardInterrupt):
        generate_synthetic(root, **SMALL)
    assert sorted(p.name for p in root.iterdir()) == []  # no half set, no temp folder
    monkeypatch.setattr(synthetic, "render_dermoscopy", real)
    generate_synthetic(root, **SMALL)
    assert len(ISICDataset(root)) == 6


def test_label_noise_and_fraction(tmp_path, monkeypatch):
    looks = []
    real = synthetic.render_dermoscopy

    def spy(rng, h, w, look):
        looks.append(look)
        return real(rng, 64, 80, look)

    monkeypatch.setattr(synthetic, "render_dermoscopy", spy)
    root = generate_synthetic(tmp_path / "n", n_images=40, seed=2, melanoma_fraction=0.25,
                              size_range=(80, 80), label_noise=0.25)
    labels = ISICDataset(root).labels["melanoma"].to_numpy()
    assert labels.sum() == 10
    flipped = int((np.array(looks) != labels.astype(bool)).sum())
    assert 3 <= flipped <= 18  # ~25 % of 40 look like the other class
    with pytest.raises(ValueError):
        generate_synthetic(tmp_path / "x", n_images=2, size_range=(10, 20))


def test_contact_sheet(small_set):
    import matplotlib.figure

    ds = ISICDataset(small_set)
    items = [ds[0], ds[1], SampleError("SYN_X", "/nowhere.jpg", "corrupt or truncated image")]
    fig = contact_sheet(items, ncols=2)
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = fig.get_axes()
    assert len(axes) == 4
    assert len(axes[0].images) == 1 and len(axes[0].lines) >= 1  # image + mask contour
    assert axes[0].get_title().startswith("SYN_TR000000")
    assert "corrupt" in axes[2].texts[0].get_text()
    import matplotlib.pyplot as plt

    plt.close(fig)
