"""Segmenters: LiteMedSAM with its real shipped weights; MedSAM/SAM pre/post-processing without
checkpoints (hand-computed values, a random-init SAM with a small image encoder for shapes)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from cam2seg_utils.segmenters import (
    SEGMENTERS,
    CheckpointNotFoundError,
    ImageEmbedding,
    SegmentationResult,
    Segmenter,
    build_segmenter,
)
from cam2seg_utils.segmenters.base import as_rgb_uint8
from cam2seg_utils.segmenters.litemedsam import LiteMedSAMSegmenter, preprocess_litemedsam
from cam2seg_utils.segmenters.sam import (
    CHECKPOINTS,
    SAM_PIXEL_MEAN,
    SAM_PIXEL_STD,
    SamSegmenter,
    preprocess_medsam,
    preprocess_sam,
)
from conftest import synthetic_disk_image

DISK_BOX = [95.0, 55.0, 205.0, 165.0]  # tight box of the conftest disk: centre (150, 110), r = 55


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


_EMB_CACHE: dict = {}


def cached_embed(seg: Segmenter, image: np.ndarray) -> ImageEmbedding:
    """Embed each distinct image once per test session (the encoder is the slow part)."""
    key = (id(seg), hashlib.sha256(image.tobytes()).hexdigest(), image.shape)
    if key not in _EMB_CACHE:
        _EMB_CACHE[key] = seg.embed(image)
    return _EMB_CACHE[key]


def tight_box(mask: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())]


# -- registry ------------------------------------------------------------------------------------
def test_registry_names_and_unknown():
    assert set(SEGMENTERS.names()) == {"litemedsam", "medsam_vit_b", "sam_vit_b", "sam_vit_l", "sam_vit_h"}
    with pytest.raises(KeyError, match="litemedsam"):
        build_segmenter("medsam_vit_x")


# -- LiteMedSAM preprocessing (hand-computed) ----------------------------------------------------
def test_litemedsam_preprocess_no_resize_minmax_and_pad():
    # 128x256: longest side already 256 -> no resize; values 50..150 -> (v - 50) / 100
    img = np.full((128, 256, 3), 50, np.uint8)
    img[:, 128:] = 150
    img[0, 0] = (100, 100, 100)
    x, (h, w) = preprocess_litemedsam(img)
    assert x.shape == (1, 3, 256, 256) and x.dtype == torch.float32
    assert (h, w) == (128, 256)
    assert torch.allclose(x[0, :, 5, 5], torch.zeros(3))
    assert torch.allclose(x[0, :, 5, 200], torch.ones(3))
    assert torch.allclose(x[0, :, 0, 0], torch.full((3,), 0.5))
    assert torch.count_nonzero(x[0, :, 128:, :]) == 0  # bottom padding is zero
    # no ImageNet mean/std: the unpadded region spans exactly [0, 1]
    assert float(x[..., :128, :].min()) == 0.0 and float(x[..., :128, :].max()) == 1.0


def test_litemedsam_preprocess_keeps_aspect_and_averages():
    # 480x640 -> longest side 256 -> (192, 256); 2.5x2.5 area averaging of a two-value image
    img = np.zeros((480, 640, 3), np.uint8)
    img[:, 320:] = 200
    x, (h, w) = preprocess_litemedsam(img)
    assert (h, w) == (192, 256)
    assert torch.allclose(x[0, :, 100, 50], torch.zeros(3)) and torch.allclose(x[0, :, 100, 200], torch.ones(3))
    assert torch.count_nonzero(x[0, :, 192:, :]) == 0
    # constant image -> all zeros (clip of max - min at 1e-8), no NaN
    flat, _ = preprocess_litemedsam(np.full((30, 40, 3), 77, np.uint8))
    assert torch.isfinite(flat).all() and torch.count_nonzero(flat) == 0


def test_litemedsam_prompt_scaling(litemedsam):
    # 240x320: one factor 256 / 320 = 0.8 for x and y
    boxes = litemedsam.transform_boxes(np.array([DISK_BOX]), (240, 320))
    np.testing.assert_allclose(boxes, [[76.0, 44.0, 164.0, 132.0]])
    pts = litemedsam.transform_coords(np.array([[[150.0, 110.0], [0.0, 239.0]]]), (240, 320))
    np.testing.assert_allclose(pts, [[[120.0, 88.0], [0.0, 191.2]]])


def test_litemedsam_postprocess_crops_padding(litemedsam):
    # input (192, 256) on the 256 canvas; logits > 0 on low-res rows < 96 and in the padded rows.
    low = -torch.ones(1, 1, 256, 256)
    low[..., :96, :] = 1.0
    low[..., 192:, :] = 1.0  # padding: must be cropped away
    emb = ImageEmbedding(torch.zeros(1, 256, 64, 64), (240, 320), (192, 256), 256, "litemedsam")
    mask = (torch.sigmoid(litemedsam.postprocess_logits(low, emb)) > 0.5)[0, 0].numpy()
    # row r maps to low-res (r + .5) * 192 / 240 - .5 < 95.5  <=>  r < 119.5
    assert mask.shape == (240, 320)
    assert mask[:120].all() and not mask[120:].any()


# -- LiteMedSAM with real weights ----------------------------------------------------------------
def test_litemedsam_disk_tight_box(litemedsam, disk_image):
    img, gt = disk_image
    assert img.shape == (240, 320, 3)
    emb = cached_embed(litemedsam, img)
    assert emb.features.shape == (1, 256, 64, 64)
    assert emb.original_size == (240, 320) and emb.input_size == (192, 256) and emb.model_size == 256
    assert emb.segmenter == "litemedsam"
    res = litemedsam.segment(emb, box=DISK_BOX)
    assert isinstance(res, SegmentationResult)
    assert res.mask.dtype == bool and res.mask.shape == (240, 320)
    assert res.low_res_logits.shape == (256, 256) and res.low_res_logits.dtype == np.float32
    assert iou(res.mask, gt) > 0.9
    assert 0.5 < res.predicted_iou <= 1.2  # the IoU head is confident on this easy case


def test_litemedsam_catches_xy_swap(litemedsam):
    # off-centre disk on a non-square image: centre (x=230, y=80), r = 40
    img, gt = synthetic_disk_image(h=240, w=320, center=(230, 80), radius=40)
    emb = cached_embed(litemedsam, img)
    box = tight_box(gt)
    assert box == [190.0, 40.0, 270.0, 120.0]
    base = litemedsam.segment(emb, box=box)
    assert iou(base.mask, gt) > 0.85
    swapped = litemedsam.segment(emb, box=[box[1], box[0], box[3], box[2]])
    assert iou(swapped.mask, gt) < 0.3
    # a background click at the centre (x, y) removes lesion; the same click with x/y swapped,
    # (80, 230), lies on skin far away and leaves the mask almost unchanged
    on = litemedsam.segment(emb, box=box, points=[[230.0, 80.0]], point_labels=[0])
    off = litemedsam.segment(emb, box=box, points=[[80.0, 230.0]], point_labels=[0])
    assert on.mask.sum() < 0.8 * base.mask.sum()
    assert iou(off.mask, base.mask) > 0.95


def test_litemedsam_points_change_the_mask(litemedsam, disk_image):
    img, gt = disk_image
    emb = cached_embed(litemedsam, img)
    box_only = litemedsam.segment(emb, box=DISK_BOX)
    pos = litemedsam.segment(emb, box=DISK_BOX, points=np.array([[150.0, 110.0]]), point_labels=np.array([1]))
    assert np.abs(pos.low_res_logits - box_only.low_res_logits).max() > 1.0
    assert (pos.mask != box_only.mask).sum() > 100
    # a negative click on the lesion shrinks the mask; one on the skin corner changes little
    neg_on = litemedsam.segment(emb, box=DISK_BOX, points=[[150.0, 110.0]], point_labels=[0])
    neg_off = litemedsam.segment(emb, box=DISK_BOX, points=[[10.0, 10.0]], point_labels=[0])
    assert neg_on.mask.sum() < 0.8 * box_only.mask.sum()
    assert iou(neg_off.mask, box_only.mask) > 0.97
    assert iou(neg_off.mask, gt) > 0.9


def test_litemedsam_batch_equals_single(litemedsam, disk_image):
    img, _ = disk_image
    emb = cached_embed(litemedsam, img)
    boxes = np.array([DISK_BOX, [0.0, 0.0, 319.0, 239.0], [100.0, 60.0, 200.0, 160.0]])
    points = np.array([[[150.0, 110.0], [10.0, 10.0]], [[150.0, 110.0], [300.0, 200.0]], [[120.0, 90.0], [5.0, 5.0]]])
    labels = np.array([[1, 0], [1, 0], [0, 0]])
    for kwargs in ({"boxes": boxes}, {"boxes": boxes, "points": points, "point_labels": labels}):
        batch = litemedsam.segment_batch(emb, **kwargs)
        assert len(batch) == 3
        for i, got in enumerate(batch):
            single = litemedsam.segment(
                emb,
                box=boxes[i],
                points=None if "points" not in kwargs else points[i],
                point_labels=None if "points" not in kwargs else labels[i],
            )
            np.testing.assert_array_equal(got.mask, single.mask)
            np.testing.assert_allclose(got.low_res_logits, single.low_res_logits, atol=1e-3)
            assert got.predicted_iou == pytest.approx(single.predicted_iou, abs=1e-4)
    assert litemedsam.segment_batch(emb, boxes=np.zeros((0, 4))) == []


def test_full_size_masks_are_made_a_few_prompts_at_a_time(litemedsam, disk_image, monkeypatch):
    """The bounded-memory path (full-size logits for a few prompts at a time, as for 64 candidates
    of a 6688 x 4439 original) gives the same masks as the whole batch at once."""
    import cam2seg_utils.segmenters.base as seg_base

    img, _ = disk_image
    emb = cached_embed(litemedsam, img)
    boxes = np.array([DISK_BOX, [0.0, 0.0, 319.0, 239.0], [100.0, 60.0, 200.0, 160.0], [20.0, 30.0, 90.0, 70.0]])
    whole = litemedsam.segment_batch(emb, boxes=boxes)
    seen = []
    original = type(litemedsam).postprocess_logits
    monkeypatch.setattr(seg_base, "POSTPROCESS_BYTES", 2 * 4 * img.shape[0] * img.shape[1])  # 2 masks a time
    monkeypatch.setattr(type(litemedsam), "postprocess_logits",
                        lambda self, low, e: seen.append(low.shape[0]) or original(self, low, e))
    chunked = litemedsam.segment_batch(emb, boxes=boxes)
    assert seen == [2, 2]
    for a, b in zip(whole, chunked):
        np.testing.assert_array_equal(a.mask, b.mask)
        assert a.mask.shape == img.shape[:2] and a.mask.any()


def test_litemedsam_one_encoder_pass_per_image(litemedsam, disk_image):
    img, _ = disk_image
    before = litemedsam.encoder_calls
    emb = litemedsam.embed(img)
    for k in range(3):
        litemedsam.segment(emb, box=[95.0 - k, 55.0, 205.0 + k, 165.0])
    litemedsam.segment(emb, box=DISK_BOX, points=[150.0, 110.0], point_labels=1)  # single (x, y) point
    litemedsam.segment_batch(emb, boxes=np.array([DISK_BOX] * 4))
    assert litemedsam.encoder_calls == before + 1


def test_litemedsam_mask_input_refinement(litemedsam, disk_image):
    img, gt = disk_image
    emb = cached_embed(litemedsam, img)
    first = litemedsam.segment(emb, box=DISK_BOX)
    refined = litemedsam.segment(emb, box=DISK_BOX, mask_input=first.low_res_logits)
    assert refined.mask.shape == (240, 320)
    assert np.abs(refined.low_res_logits - first.low_res_logits).max() > 0  # the mask prompt is used
    assert iou(refined.mask, gt) > 0.9
    with pytest.raises(ValueError, match="mask_input"):
        litemedsam.segment(emb, box=DISK_BOX, mask_input=np.zeros((64, 64), np.float32))


def test_box_outside_is_clipped_and_bad_prompts_raise(litemedsam, disk_image):
    img, _ = disk_image
    emb = cached_embed(litemedsam, img)
    clipped = litemedsam.segment(emb, box=[-40.0, -10.0, 500.0, 300.0])
    full = litemedsam.segment(emb, box=[0.0, 0.0, 319.0, 239.0])
    np.testing.assert_array_equal(clipped.mask, full.mask)
    with pytest.raises(ValueError, match="does not overlap"):
        litemedsam.segment(emb, box=[400.0, 10.0, 450.0, 50.0])
    with pytest.raises(ValueError, match="x_min <= x_max"):
        litemedsam.segment(emb, box=[200.0, 10.0, 100.0, 50.0])
    with pytest.raises(ValueError, match="needs a prompt"):
        litemedsam.segment(emb)
    with pytest.raises(ValueError, match="point_labels"):
        litemedsam.segment(emb, box=DISK_BOX, points=[[150.0, 110.0]], point_labels=[2])
    with pytest.raises(ValueError, match="B=2"):
        litemedsam.segment_batch(emb, boxes=np.array([DISK_BOX] * 2), points=np.zeros((3, 1, 2)))
    other = ImageEmbedding(emb.features, emb.original_size, (1024, 1024), 1024, "medsam_vit_b")
    with pytest.raises(ValueError, match="medsam_vit_b"):
        litemedsam.segment(other, box=DISK_BOX)


def test_bad_images_raise_and_grayscale_is_stacked(litemedsam):
    with pytest.raises(ValueError, match="uint8"):
        litemedsam.embed(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        litemedsam.embed(np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(ValueError, match="numpy"):
        litemedsam.embed([[0, 1], [2, 3]])
    gray = (np.arange(40 * 60).reshape(40, 60) % 251).astype(np.uint8)
    rgb = as_rgb_uint8(gray)
    assert rgb.shape == (40, 60, 3) and (rgb == gray[..., None]).all()
    a, size_a = preprocess_litemedsam(gray)
    b, size_b = preprocess_litemedsam(np.stack([gray] * 3, -1))
    assert size_a == size_b == (171, 256) and torch.equal(a, b)


@pytest.mark.isic
def test_litemedsam_isic_tight_gt_box(litemedsam, isic_root: Path):
    from PIL import Image

    ids = sorted(p.stem for p in (isic_root / "ISIC-2017_Training_Data").glob("ISIC_*.jpg"))[::400][:5]
    ious = []
    for image_id in ids:
        img = np.asarray(Image.open(isic_root / "ISIC-2017_Training_Data" / f"{image_id}.jpg").convert("RGB"))
        gt_path = isic_root / "ISIC-2017_Training_Part1_GroundTruth" / f"{image_id}_segmentation.png"
        gt = np.asarray(Image.open(gt_path)) > 127
        res = litemedsam.segment(litemedsam.embed(img), box=tight_box(gt))
        ious.append(iou(res.mask, gt))
    assert len(ious) == 5
    assert np.mean(ious) > 0.7, ious


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_litemedsam_cuda_matches_cpu(litemedsam, disk_image):
    img, gt = disk_image
    gpu = build_segmenter("litemedsam", device="cuda")
    res = gpu.segment(gpu.embed(img), box=DISK_BOX)
    assert gpu.model.mask_decoder.iou_token.weight.device.type == "cuda"
    assert iou(res.mask, litemedsam.segment(cached_embed(litemedsam, img), box=DISK_BOX).mask) > 0.99
    assert iou(res.mask, gt) > 0.9


# -- LiteMedSAM checkpoint errors ----------------------------------------------------------------
def test_litemedsam_bad_checkpoint_files(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="nope.pth"):
        build_segmenter("litemedsam", checkpoint=str(tmp_path / "nope.pth"))
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="garbage.pth"):
        build_segmenter("litemedsam", checkpoint=str(garbage))
    wrong = tmp_path / "wrong.pth"
    torch.save({"model": {"w": torch.zeros(2)}}, wrong)
    with pytest.raises(ValueError, match="wrong.pth.*does not fit"):
        build_segmenter("litemedsam", checkpoint=str(wrong))


# -- SAM / MedSAM: checkpoints -------------------------------------------------------------------
def test_missing_sam_checkpoints_name_file_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("CAM2SEG_CHECKPOINT_DIR", str(tmp_path))
    with pytest.raises(CheckpointNotFoundError) as info:
        build_segmenter("medsam_vit_b")
    msg = str(info.value)
    assert "medsam_vit_b.pth" in msg and str(tmp_path) in msg
    assert "drive.google.com" in msg and "bowang-lab/MedSAM" in msg
    with pytest.raises(CheckpointNotFoundError, match="no direct download URL"):
        build_segmenter("medsam_vit_b", download=True)
    for name, file in (("sam_vit_b", "sam_vit_b_01ec64.pth"), ("sam_vit_l", "sam_vit_l_0b3195.pth"),
                       ("sam_vit_h", "sam_vit_h_4b8939.pth")):
        with pytest.raises(CheckpointNotFoundError) as info:
            build_segmenter(name)
        assert file in str(info.value) and f"https://dl.fbaipublicfiles.com/segment_anything/{file}" in str(info.value)
    with pytest.raises(CheckpointNotFoundError, match="elsewhere.pth"):
        build_segmenter("sam_vit_b", checkpoint=str(tmp_path / "elsewhere.pth"))
    assert issubclass(CheckpointNotFoundError, FileNotFoundError)


def test_sam_download_failure_offline(tmp_path, monkeypatch):
    from dataclasses import replace

    import cam2seg_utils.segmenters.sam as sam_mod

    monkeypatch.setenv("CAM2SEG_CHECKPOINT_DIR", str(tmp_path))
    # port 9 on localhost refuses at once: the download fails like it does offline
    dead = replace(CHECKPOINTS["sam_vit_b"], url="http://127.0.0.1:9/sam_vit_b_01ec64.pth")
    monkeypatch.setitem(sam_mod.CHECKPOINTS, "sam_vit_b", dead)
    with pytest.raises(CheckpointNotFoundError, match="downloading it from http://127.0.0.1:9/.*failed"):
        build_segmenter("sam_vit_b", download=True)
    assert not (tmp_path / "sam_vit_b_01ec64.pth").exists()


def test_sam_checkpoint_that_does_not_fit_vit_b(tmp_path):
    wrong = tmp_path / "sam_vit_b_01ec64.pth"
    torch.save({"image_encoder.pos_embed": torch.zeros(1)}, wrong)
    with pytest.raises(ValueError, match="does not fit the Sam architecture"):
        build_segmenter("sam_vit_b", checkpoint=str(wrong))


# -- SAM / MedSAM: preprocessing (hand-computed) -------------------------------------------------
def test_medsam_preprocess_square_1024_minmax():
    img = np.zeros((200, 300, 3), np.uint8)
    img[:, 150:] = 255
    x, size = preprocess_medsam(img)
    assert x.shape == (1, 3, 1024, 1024) and size == (1024, 1024)
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0  # [0, 1], no mean/std
    # aspect ratio not kept: the left half of the columns stays dark over the full 1024 rows
    assert torch.allclose(x[0, :, 1000, 300], torch.zeros(3)) and torch.allclose(x[0, :, 10, 800], torch.ones(3))


def test_sam_preprocess_longest_side_and_pixel_normalisation():
    img = np.full((240, 320, 3), 100, np.uint8)
    x, (h, w) = preprocess_sam(img)
    assert x.shape == (1, 3, 1024, 1024) and (h, w) == (768, 1024)
    expected = (100 - torch.tensor(SAM_PIXEL_MEAN)) / torch.tensor(SAM_PIXEL_STD)
    assert torch.allclose(x[0, :, 500, 500], expected, atol=1e-5)
    assert torch.count_nonzero(x[0, :, 768:, :]) == 0  # padding after normalisation is 0


def _tiny_sam_encoder():
    """A one-block ViT with SAM's interface: (1, 3, 1024, 1024) -> (1, 256, 64, 64)."""
    from functools import partial

    from segment_anything.modeling import ImageEncoderViT

    return ImageEncoderViT(img_size=1024, patch_size=16, embed_dim=32, depth=1, num_heads=2,
                           norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), use_rel_pos=False,
                           window_size=8, global_attn_indexes=(), out_chans=256)


@pytest.fixture(scope="module")
def random_vit_b():
    """segment_anything's vit_b with random weights (no checkpoint offline) and, to keep the test
    fast, its 12-block encoder replaced by a 1-block one with the same output shape."""
    from segment_anything import sam_model_registry

    torch.manual_seed(0)
    model = sam_model_registry["vit_b"](checkpoint=None)
    model.image_encoder = _tiny_sam_encoder()
    return model


@pytest.mark.parametrize("variant,name", [("medsam", "medsam_vit_b"), ("sam", "sam_vit_b")])
def test_sam_family_coordinates_shapes_and_pixels(random_vit_b, disk_image, variant, name):
    seg = SamSegmenter(random_vit_b, variant=variant, name=name)
    img, _ = disk_image  # 240 x 320
    # box in original pixels -> 1024-space: MedSAM per axis (x * 1024/320, y * 1024/240),
    # SAM longest side (768 x 1024 -> 3.2 on both axes)
    mapped = seg.transform_boxes(np.array([DISK_BOX]), (240, 320))
    if variant == "medsam":
        np.testing.assert_allclose(mapped, [[304.0, 55 * 1024 / 240, 656.0, 165 * 1024 / 240]])
    else:
        np.testing.assert_allclose(mapped, [[304.0, 176.0, 656.0, 528.0]])

    seen = {}
    hook = seg.model.image_encoder.register_forward_hook(lambda m, inp, out: seen.update(x=inp[0].clone()))
    try:
        emb = seg.embed(img)
    finally:
        hook.remove()
    assert seen["x"].shape == (1, 3, 1024, 1024)
    if variant == "medsam":  # [0, 1] pixels straight into the encoder, SAM mean/std bypassed
        assert float(seen["x"].min()) == 0.0 and float(seen["x"].max()) == 1.0
        assert emb.input_size == (1024, 1024)
    else:
        assert float(seen["x"].min()) < -1.0  # mean/std normalised
        assert emb.input_size == (768, 1024)
    assert emb.features.shape == (1, 256, 64, 64) and emb.model_size == 1024 and emb.segmenter == name
    assert seg.encoder_calls == 1

    out = seg.segment_batch(emb, boxes=np.array([DISK_BOX, [10.0, 10.0, 60.0, 90.0]]),
                            points=np.array([[[150.0, 110.0]], [[30.0, 40.0]]]), point_labels=np.array([[1], [0]]))
    assert len(out) == 2
    for r in out:
        assert r.mask.shape == (240, 320) and r.mask.dtype == bool
        assert r.low_res_logits.shape == (256, 256) and np.isfinite(r.predicted_iou)


@pytest.mark.parametrize("variant,rows", [("medsam", 180), ("sam", 240)])
def test_sam_family_postprocess_hand_values(random_vit_b, variant, rows):
    # low-res logits positive on rows < 192 of 256. SAM: the image fills rows < 768 of 1024, i.e.
    # low-res rows < 192 -> the whole 240-row image. MedSAM: the 256 rows cover all 240 rows:
    # row r -> (r + .5) * 256 / 240 - .5 < 191.5  <=>  r < 179.5 -> 180 rows.
    seg = SamSegmenter(random_vit_b, variant=variant, name=f"{variant}_x")
    low = -torch.ones(1, 1, 256, 256)
    low[..., :192, :] = 1.0
    size = (1024, 1024) if variant == "medsam" else (768, 1024)
    emb = ImageEmbedding(torch.zeros(1, 256, 64, 64), (240, 320), size, 1024, seg.name)
    mask = (torch.sigmoid(seg.postprocess_logits(low, emb)) > 0.5)[0, 0].numpy()
    assert mask.shape == (240, 320)
    assert mask[:rows].all() and not mask[rows:].any()


def test_litemedsam_is_a_segmenter(litemedsam):
    assert isinstance(litemedsam, LiteMedSAMSegmenter) and isinstance(litemedsam, Segmenter)
    assert litemedsam.name == "litemedsam" and litemedsam.device == torch.device("cpu")
    assert not litemedsam.model.training
