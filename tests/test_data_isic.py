"""ISIC 2017 loader: the real folder, the official layout, and every bad-input case."""
from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cam2seg_utils.data import DataError, ISICDataset, Sample, SampleError
from cam2seg_utils.data.isic import DataWarning, load_image, load_mask
from cam2seg_utils.data.resize import downsize, limit_side
from conftest import png_header


# --------------------------------------------------------------------------------------------
# helpers: a tiny split written by the test
# --------------------------------------------------------------------------------------------
def _image(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _rect_mask(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[h // 4: 3 * h // 4, w // 3: 2 * w // 3] = 255
    return m


def make_split(root: Path, items: dict[str, tuple[int, int, int]], split_dir: str = "Training",
               csv_rows: list[str] | None = None) -> Path:
    """items: id -> (h, w, melanoma). Images as PNG-free JPEG, masks PNG 0/255, CSV official."""
    data = root / f"ISIC-2017_{split_dir}_Data"
    gt = root / f"ISIC-2017_{split_dir}_Part1_GroundTruth"
    data.mkdir(parents=True, exist_ok=True)
    gt.mkdir(parents=True, exist_ok=True)
    rows = ["image_id,melanoma,seborrheic_keratosis"]
    for k, (iid, (h, w, mel)) in enumerate(items.items()):
        Image.fromarray(_image(h, w, k)).save(data / f"{iid}.jpg", quality=95)
        Image.fromarray(_rect_mask(h, w)).save(gt / f"{iid}_segmentation.png")
        rows.append(f"{iid},{float(mel)},0.0")  # official files write 0.0 / 1.0
    (root / f"ISIC-2017_{split_dir}_Part3_GroundTruth.csv").write_text(
        "\n".join(csv_rows if csv_rows is not None else rows) + "\n")
    return root


ITEMS = {"ISIC_0000001": (30, 40, 0), "ISIC_0000002": (50, 34, 1), "ISIC_0000003": (24, 64, 0)}


# --------------------------------------------------------------------------------------------
# the real data
# --------------------------------------------------------------------------------------------
@pytest.mark.isic
def test_real_isic2017_training_folder(isic_root):
    ds = ISICDataset(isic_root, "Training")
    assert len(ds) == 2000
    assert int(ds.labels["melanoma"].sum()) == 374
    assert int(ds.labels["seborrheic_keratosis"].sum()) == 254
    n = 0
    for s in ds.iter_samples(errors="record"):
        assert isinstance(s, Sample), s
        assert s.image.dtype == np.uint8 and s.image.ndim == 3 and s.image.shape[2] == 3
        assert s.mask.dtype == bool and s.mask.shape == s.image.shape[:2]
        assert s.mask.any(), s.image_id
        n += 1
    assert n == 2000


# --------------------------------------------------------------------------------------------
# the layout
# --------------------------------------------------------------------------------------------
def test_tiny_official_layout(tmp_path):
    root = make_split(tmp_path, ITEMS)
    # official extras that must be ignored
    Image.fromarray(_image(30, 40, 9)).save(root / "ISIC-2017_Training_Data" / "ISIC_0000001_superpixels.png")
    (root / "ISIC-2017_Training_Data" / "ISIC-2017_Training_Data_metadata.csv").write_text("image_id,age\n")
    ds = ISICDataset(root)
    assert ds.ids == sorted(ITEMS)
    assert ds.labels["melanoma"].tolist() == [0, 1, 0]
    assert ds.labels["melanoma"].dtype == np.int64
    for iid, (h, w, mel) in ITEMS.items():
        s = ds.load(iid)
        assert s.image.shape == (h, w, 3)  # own size, not square, not resized
        assert s.melanoma == mel
        np.testing.assert_array_equal(s.mask, _rect_mask(h, w) > 0)
    assert ds[1].image_id == "ISIC_0000002"
    sub = ISICDataset(root, ids=["ISIC_0000003", "ISIC_0000001"])
    assert sub.ids == ["ISIC_0000003", "ISIC_0000001"] and len(sub) == 2
    with pytest.raises(DataError, match="ISIC_0000009"):
        ISICDataset(root, ids=["ISIC_0000009"])


@pytest.mark.parametrize("folder,alias", [("Test_v2", "Test"), ("Test_v2", "Test_v2"), ("Test", "Test"),
                                          ("Validation", "validation")])
def test_split_names(tmp_path, folder, alias):
    make_split(tmp_path, ITEMS, split_dir=folder)
    ds = ISICDataset(tmp_path, alias)
    assert len(ds) == 3 and ds.data_dir.name == f"ISIC-2017_{folder}_Data"


def test_unknown_split_and_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="unknown ISIC 2017 split"):
        ISICDataset(tmp_path, "Dev")
    with pytest.raises(DataError, match="ISIC-2017_Training_Data: image folder not found"):
        ISICDataset(tmp_path, "Training")


def test_max_side_downscales_with_the_grids_rule(tmp_path):
    root = make_split(tmp_path, {"ISIC_0000001": (60, 120, 1), "ISIC_0000002": (20, 30, 0)})
    ds = ISICDataset(root, max_side=40)
    big = ds.load("ISIC_0000001")
    assert big.image.shape == (20, 40, 3) and big.mask.shape == (20, 40)
    # the 60x120 rectangle rows 15:45, cols 40:80 -> rows 5:15, cols 13.3:26.7 at scale 1/3
    assert big.mask[5:15, 14:26].all() and not big.mask[:4].any() and not big.mask[:, :12].any()
    # one rule: the loader's max_side gives the grid's max_side route's arrays (data/resize.py)
    full = ISICDataset(root).load("ISIC_0000001")
    routed = limit_side(full, 40)
    assert np.array_equal(big.image, routed.image) and np.array_equal(big.mask, routed.mask)
    small = ds.load("ISIC_0000002")
    assert small.image.shape == (20, 30, 3)  # already within max_side: untouched
    with pytest.raises(ValueError):
        ISICDataset(root, max_side=0)


def test_downsize_box_filter_and_half_area_mask_by_hand():
    """4x4 -> 2x2 (each output pixel covers a 2x2 block): the image is each block's mean, the mask
    is lesion where at least 2 of the block's 4 pixels are."""
    image = np.zeros((4, 4, 3), np.uint8)
    image[:2, :2] = 200                          # block (0, 0): mean 200
    image[:2, 2:] = [[0], [100]]                 # block (0, 1): rows 0 and 1 -> mean 50
    image[2:, 2:, 0] = [[10, 20], [30, 40]]      # block (1, 1), red: mean 25
    mask = np.zeros((4, 4), bool)
    mask[0, 0:2] = True                          # block (0, 0): 2 of 4 -> lesion
    mask[2, 2] = True                            # block (1, 1): 1 of 4 -> not lesion
    mask[2:, 0:2] = [[True, True], [True, False]]   # block (1, 0): 3 of 4 -> lesion
    small_image, small_mask = downsize(image, mask, 2)
    assert small_image[..., 0].tolist() == [[200, 50], [0, 25]] and small_image[..., 1].tolist() == [[200, 50], [0, 0]]
    assert small_mask.tolist() == [[True, False], [True, False]]
    same_image, same_mask = downsize(image, mask, 4)   # fits: the same arrays
    assert same_image is image and same_mask is mask


# --------------------------------------------------------------------------------------------
# bad input, one case each
# --------------------------------------------------------------------------------------------
def _ds(tmp_path):
    return ISICDataset(make_split(tmp_path, ITEMS))


def test_corrupt_image(tmp_path):
    ds = _ds(tmp_path)
    p = ds.image_path("ISIC_0000002")
    p.write_bytes(b"this is not a jpeg at all" * 10)
    with pytest.raises(DataError, match=r"ISIC_0000002\.jpg: corrupt or truncated image") as ei:
        ds.load("ISIC_0000002")
    assert ei.value.path == str(p)


def test_truncated_image(tmp_path):
    ds = _ds(tmp_path)
    p = ds.image_path("ISIC_0000001")
    buf = io.BytesIO()
    Image.fromarray(_image(200, 300, 1)).save(buf, format="JPEG", quality=95)
    p.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(DataError, match=r"ISIC_0000001\.jpg: corrupt or truncated image"):
        ds.load("ISIC_0000001")


def test_missing_mask(tmp_path):
    ds = _ds(tmp_path)
    ds.mask_path("ISIC_0000003").unlink()
    with pytest.raises(DataError, match=r"ISIC_0000003_segmentation\.png: mask file is missing"):
        ds.load("ISIC_0000003")


def test_mask_image_size_mismatch(tmp_path):
    ds = _ds(tmp_path)
    Image.fromarray(_rect_mask(31, 40)).save(ds.mask_path("ISIC_0000001"))
    with pytest.raises(DataError, match=r"mask size 40x31 \(WxH\) does not match image ISIC_0000001\.jpg size 40x30"):
        ds.load("ISIC_0000001")


def test_grayscale_image_is_converted_with_warning(tmp_path):
    ds = _ds(tmp_path)
    grey = np.arange(30 * 40, dtype=np.uint8).reshape(30, 40)
    p = ds.image_path("ISIC_0000001").with_suffix(".png")
    ds.image_path("ISIC_0000001").unlink()
    Image.fromarray(grey).save(p)
    ds = ISICDataset(tmp_path)  # re-index: the image is a .png now
    with pytest.warns(DataWarning, match="grayscale image"):
        s = ds.load("ISIC_0000001")
    assert s.image.shape == (30, 40, 3)
    np.testing.assert_array_equal(s.image[..., 0], grey)
    np.testing.assert_array_equal(s.image[..., 2], grey)


def test_rgba_image_drops_alpha(tmp_path):
    ds = _ds(tmp_path)
    rgba = np.dstack([_image(30, 40, 5), np.full((30, 40), 77, np.uint8)])
    ds.image_path("ISIC_0000001").unlink()
    Image.fromarray(rgba).save(tmp_path / "ISIC-2017_Training_Data" / "ISIC_0000001.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for RGBA
        s = ISICDataset(tmp_path).load("ISIC_0000001")
    np.testing.assert_array_equal(s.image, rgba[..., :3])


def test_16bit_image_is_an_error(tmp_path):
    ds = _ds(tmp_path)
    ds.image_path("ISIC_0000001").unlink()
    Image.fromarray(np.full((30, 40), 1000, np.uint16)).save(
        tmp_path / "ISIC-2017_Training_Data" / "ISIC_0000001.png")
    with pytest.raises(DataError, match=r"ISIC_0000001\.png: I;16 .*image; expected 8-bit RGB"):
        ISICDataset(tmp_path).load("ISIC_0000001")


def test_mask_thresholds(tmp_path):
    # 16-bit: > 0
    m16 = np.zeros((30, 40), np.uint16)
    m16[3:9, 4:10] = 1000
    m16[0, 0] = 1
    p = tmp_path / "m16.png"
    Image.fromarray(m16).save(p)
    assert Image.open(p).mode.startswith("I")
    np.testing.assert_array_equal(load_mask(p), m16 > 0)
    # 8-bit with intermediate values: > 127
    m8 = np.array([[0, 100, 127, 128, 200, 255]], np.uint8)
    Image.fromarray(m8).save(tmp_path / "m8.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m8.png"), [[False, False, False, True, True, True]])
    # 8-bit label mask {0, 1}: foreground = 1
    Image.fromarray(np.array([[0, 1, 1, 0]], np.uint8)).save(tmp_path / "m01.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "m01.png"), [[False, True, True, False]])
    # grey RGB mask (equal channels) is fine; a colour mask is not
    Image.fromarray(np.dstack([m8] * 3)).save(tmp_path / "mrgb.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "mrgb.png"), m8 > 127)
    col = np.dstack([m8, m8 // 2, m8])
    Image.fromarray(col).save(tmp_path / "mcol.png")
    with pytest.raises(DataError, match=r"mcol\.png: colour mask"):
        load_mask(tmp_path / "mcol.png")


def test_empty_mask(tmp_path):
    ds = _ds(tmp_path)
    Image.fromarray(np.zeros((50, 34), np.uint8)).save(ds.mask_path("ISIC_0000002"))
    with pytest.raises(DataError, match=r"ISIC_0000002_segmentation\.png: empty mask"):
        ds.load("ISIC_0000002")


def test_csv_ids_without_images_are_listed(tmp_path):
    make_split(tmp_path, ITEMS)
    csv = tmp_path / "ISIC-2017_Training_Part3_GroundTruth.csv"
    csv.write_text(csv.read_text() + "ISIC_0000042,0,0\nISIC_0000043,1,0\n")
    with pytest.raises(DataError, match=r"ids in .*csv with no image .*ISIC_0000042, ISIC_0000043"):
        ISICDataset(tmp_path)


def test_images_without_csv_rows_are_listed(tmp_path):
    make_split(tmp_path, ITEMS)
    csv = tmp_path / "ISIC-2017_Training_Part3_GroundTruth.csv"
    csv.write_text("\n".join(l for l in csv.read_text().splitlines() if "0000002" not in l) + "\n")
    with pytest.raises(DataError, match=r"images in ISIC-2017_Training_Data with no row .*ISIC_0000002"):
        ISICDataset(tmp_path)


def test_duplicate_csv_ids(tmp_path):
    make_split(tmp_path, ITEMS)
    csv = tmp_path / "ISIC-2017_Training_Part3_GroundTruth.csv"
    csv.write_text(csv.read_text() + "ISIC_0000001,1,0\n")
    with pytest.raises(DataError, match=r"Part3_GroundTruth\.csv: duplicate image_id\(s\) \[ISIC_0000001\]"):
        ISICDataset(tmp_path)


def test_csv_bad_values_and_header(tmp_path):
    make_split(tmp_path, ITEMS)
    csv = tmp_path / "ISIC-2017_Training_Part3_GroundTruth.csv"
    csv.write_text(csv.read_text().replace("ISIC_0000003,0.0", "ISIC_0000003,0.7"))
    with pytest.raises(DataError, match=r"'melanoma' must be 0 or 1; bad rows for \[ISIC_0000003\]"):
        ISICDataset(tmp_path)
    csv.write_text("id,mel\nISIC_0000001,0\n")
    with pytest.raises(DataError, match=r"missing column\(s\)"):
        ISICDataset(tmp_path)


def test_bulk_run_records_each_bad_image_and_keeps_the_others(tmp_path):
    items = {f"ISIC_{i:07d}": (20 + i, 30, i % 2) for i in range(7)}
    ds = ISICDataset(make_split(tmp_path, items))
    ds.image_path("ISIC_0000001").write_bytes(b"\xff\xd8\xff garbage")
    ds.mask_path("ISIC_0000003").unlink()
    Image.fromarray(np.zeros((25, 30), np.uint8)).save(ds.mask_path("ISIC_0000005"))
    out = list(ds.iter_samples(errors="record"))
    assert [o.image_id for o in out] == list(items)  # nothing dropped, order kept
    errs = {o.image_id: o for o in out if isinstance(o, SampleError)}
    assert sorted(errs) == ["ISIC_0000001", "ISIC_0000003", "ISIC_0000005"]
    assert errs["ISIC_0000001"].path.endswith("ISIC_0000001.jpg") and "corrupt" in errs["ISIC_0000001"].message
    assert errs["ISIC_0000003"].path.endswith("ISIC_0000003_segmentation.png")
    assert "missing" in errs["ISIC_0000003"].message
    assert "empty mask" in errs["ISIC_0000005"].message
    good = [o for o in out if isinstance(o, Sample)]
    assert [g.image.shape[0] for g in good] == [20, 22, 24, 26]
    with pytest.raises(DataError, match="ISIC_0000001"):
        list(ds.iter_samples(errors="raise"))
    with pytest.raises(ValueError):
        list(ds.iter_samples(errors="ignore"))


def test_non_strict_index_records_unmatched_ids(tmp_path):
    make_split(tmp_path, ITEMS)
    csv = tmp_path / "ISIC-2017_Training_Part3_GroundTruth.csv"
    text = "\n".join(l for l in csv.read_text().splitlines() if "0000002" not in l)
    csv.write_text(text + "\nISIC_0000042,1,0\n")
    ds = ISICDataset(tmp_path, strict=False)
    assert ds.ids == ["ISIC_0000001", "ISIC_0000002", "ISIC_0000003", "ISIC_0000042"]
    out = {o.image_id: o for o in ds.iter_samples(errors="record")}
    assert isinstance(out["ISIC_0000001"], Sample) and isinstance(out["ISIC_0000003"], Sample)
    assert isinstance(out["ISIC_0000002"], SampleError) and "no label row" in out["ISIC_0000002"].message
    assert isinstance(out["ISIC_0000042"], SampleError) and "image file is missing" in out["ISIC_0000042"].message


def test_loader_refuses_decompression_bombs_naming_the_file(tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header(20000, 20000))                    # 400 MP: PIL's own limit
    with pytest.raises(DataError, match=rf"{re.escape(str(bomb))}: image file claims more pixels"):
        load_image(bomb)
    big = tmp_path / "big.png"
    big.write_bytes(png_header(9000, 7000))                       # 63 MP: the loader's limit
    with pytest.raises(DataError, match=rf"{re.escape(str(big))}: image of 9000x7000 pixels \(63 megapixels\) "
                                        r"exceeds the loader's limit of 50 megapixels"):
        load_image(big)
    import cam2seg_utils.data.isic as isic

    monkeypatch.setattr(isic, "MAX_PIXELS", 100)                  # the documented knob
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((11, 10, 3), np.uint8)).save(small)
    with pytest.raises(DataError, match="10x11 pixels"):
        load_image(small)
