"""cam2seg_utils.prompting: strategies, image prior, geometry, scoring (real LiteMedSAM)."""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from cam2seg_utils.prompting import MAX_PROMPTS_PER_IMAGE, STRATEGIES, PromptContext, build_strategy, run_strategy
from cam2seg_utils.prompting.geometry import (box_iou, border_contact, centred_box, expand_box, mass_component,
                                              tight_box, whole_image_box)
from cam2seg_utils.prompting.prior import compute_prior, otsu_threshold, resize_map

from conftest import synthetic_disk_image


# ------------------------------------------------------------------------------------------
# geometry, by hand
# ------------------------------------------------------------------------------------------


def test_tight_box_and_box_iou_by_hand():
    m = np.zeros((10, 12), bool)
    m[2:5, 3:9] = True  # rows 2..4, cols 3..8
    assert tight_box(m).tolist() == [3, 2, 8, 4]
    assert tight_box(np.zeros((4, 4), bool)) is None
    # [0,0,1,1] (4 px) vs [1,1,2,2] (4 px): overlap 1 px -> 1 / 7
    assert box_iou(np.array([0, 0, 1, 1.0]), np.array([1, 1, 2, 2.0])) == pytest.approx(1 / 7)
    assert box_iou(np.array([0, 0, 3, 3.0]), np.array([0, 0, 3, 3.0])) == 1.0


def test_boxes_whole_centred_expand():
    assert whole_image_box((100, 200)).tolist() == [0, 0, 199, 99]
    assert centred_box((101, 201), 0.5).tolist() == [50, 25, 150, 75]
    assert expand_box(np.array([10, 10, 19, 19.0]), (100, 100), 0.1).tolist() == [9, 9, 20, 20]
    assert expand_box(np.array([0, 0, 9, 9.0]), (10, 10), 0.5).tolist() == [0, 0, 9, 9]


def test_mass_component_picks_most_cam_mass_not_largest():
    heat = np.zeros((20, 20))
    mask = np.zeros((20, 20), bool)
    mask[0:10, 0:10] = True          # large, lukewarm (100 px x 0.1 = 10)
    heat[0:10, 0:10] = 0.1
    mask[15:18, 15:18] = True        # small, hot (9 px x 1.0 = 9) ... and one hotter pixel
    heat[15:18, 15:18] = 1.0
    heat[16, 16] = 3.0               # 11 in all
    comp = mass_component(mask, heat)
    assert tight_box(comp).tolist() == [15, 15, 17, 17]


def test_border_contact():
    m = np.zeros((10, 10), bool)
    assert border_contact(m) == 0.0
    m[0, :] = True  # the whole top row: 10 of the 36 border pixels
    assert border_contact(m) == pytest.approx(10 / 36)


# ------------------------------------------------------------------------------------------
# image prior
# ------------------------------------------------------------------------------------------


def test_otsu_threshold_separates_two_modes():
    values = np.concatenate([np.full(500, 0.2), np.full(300, 0.8)])
    t = otsu_threshold(values)
    assert 0.2 <= t < 0.8
    assert ((values > t) == (values == 0.8)).all()


def test_prior_finds_the_dark_disk_and_ignores_the_vignette():
    image, mask = synthetic_disk_image(h=240, w=320, center=(170, 120), radius=45)
    yy, xx = np.mgrid[0:240, 0:320]
    corner = np.hypot((yy - 119.5) / 120, (xx - 159.5) / 160) > 1.25  # unlit corners of a round field
    image[corner] = 12
    prior = compute_prior(image)
    assert not prior.fov[0, 0] and prior.fov[120, 160]
    best = max(prior.regions, key=lambda r: resize_iou(r.mask, mask))
    assert resize_iou(best.mask, mask) > 0.85
    # no region lies in the vignette
    for r in prior.regions:
        assert not (resize_map(r.mask, mask.shape) & corner).any()


def resize_iou(small: np.ndarray, mask: np.ndarray) -> float:
    big = resize_map(small, mask.shape)
    return float((big & mask).sum() / (big | mask).sum())


def test_prior_of_a_read_only_image_warns_nothing():
    """Loaded images are read-only (np.asarray of a PIL image, as PH2's BMPs): no torch warning
    about non-writable arrays reaches the output, and the prior is that of a writable copy."""
    import warnings

    from PIL import Image

    image, _ = synthetic_disk_image(h=300, w=400, center=(200, 150), radius=60)   # > WORK_SIDE: resized
    loaded = np.asarray(Image.fromarray(image))
    assert not loaded.flags.writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prior = compute_prior(loaded)
        heat = image[..., 0].astype(np.float32)
        heat.setflags(write=False)               # a read-only map, as resize_map may be given
        resized = resize_map(heat, (150, 200))
    assert resized.shape == (150, 200) and resized.dtype == np.float32
    assert np.array_equal(prior.regions[0].box, compute_prior(image.copy()).regions[0].box)


def test_prior_is_resolution_independent():
    """A 4x larger copy gives the same regions (working resolution) scaled to its pixels."""
    image, _ = synthetic_disk_image(h=120, w=160, center=(80, 60), radius=25)
    big = np.repeat(np.repeat(image, 4, axis=0), 4, axis=1)
    a, b = compute_prior(image), compute_prior(big)
    assert a.work_shape == (120, 160) and b.work_shape == (192, 256)
    assert box_iou(a.regions[0].box * 4, b.regions[0].box) > 0.9


# ------------------------------------------------------------------------------------------
# strategies on a synthetic lesion with real LiteMedSAM
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def disk_case(litemedsam):
    image, mask = synthetic_disk_image()
    emb = litemedsam.embed(image)
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    heat = np.exp(-((xx - 150) ** 2 + (yy - 110) ** 2) / (2 * 40.0**2))  # a CAM on the lesion
    return image, mask, emb, heat


def _ctx(case, seg, heatmaps, seed=0, **kw):
    image, _, emb, _ = case
    return PromptContext(image, emb, seg, heatmaps, np.random.default_rng(seed), **kw)


def _heatmaps_for(strategy, heat):
    if not strategy.uses_classifier:
        return {}
    return {"gradcam": heat} if strategy.per_cam else {"gradcam": heat, "gradcam++": heat ** 2}


@pytest.mark.parametrize("name", STRATEGIES.names())
def test_strategy_is_deterministic_bounded_and_gt_free(name, disk_case, litemedsam):
    strategy = build_strategy(name)
    heat = disk_case[3]
    a = strategy(_ctx(disk_case, litemedsam, _heatmaps_for(strategy, heat), seed=3))
    ctx = _ctx(disk_case, litemedsam, _heatmaps_for(strategy, heat), seed=3)
    b = strategy(ctx)
    assert np.array_equal(a.mask, b.mask) and np.array_equal(a.box, b.box)
    assert a.mask.shape == disk_case[1].shape and a.mask.dtype == bool
    assert ctx.decoder_prompts <= MAX_PROMPTS_PER_IMAGE
    # ground truth cannot reach a strategy: no parameter for it anywhere
    for fn in (PromptContext.__init__, type(strategy).run, type(strategy).__init__):
        assert not {"mask", "gt", "ground_truth"} & set(inspect.signature(fn).parameters)
    with pytest.raises(TypeError):
        run_strategy(strategy, ctx, mask=disk_case[1])


@pytest.mark.parametrize("name", [n for n in STRATEGIES.names() if build_strategy(n).uses_classifier])
@pytest.mark.parametrize("kind", ["flat", "one-pixel"])
def test_strategy_handles_degenerate_heatmaps(name, kind, disk_case, litemedsam):
    shape = disk_case[1].shape
    heat = np.zeros(shape)
    if kind == "one-pixel":
        heat[37, 201] = 1.0
    strategy = build_strategy(name)
    out = strategy(_ctx(disk_case, litemedsam, _heatmaps_for(strategy, heat)))
    assert out.mask.shape == shape
    assert out.box is None or (0 <= out.box[0] <= out.box[2] <= shape[1] - 1 and 0 <= out.box[1] <= out.box[3] <= shape[0] - 1)
    if name == "algorithm1" and kind == "flat":  # a flat CAM says nothing: the whole image
        assert out.box.tolist() == whole_image_box(shape).tolist()


def test_prior_strategies_segment_the_disk(disk_case, litemedsam):
    _, mask, _, heat = disk_case
    for name in ("image-prior", "prior-cam", "candidates"):
        strategy = build_strategy(name)
        out = strategy(_ctx(disk_case, litemedsam, _heatmaps_for(strategy, heat)))
        iou = (out.mask & mask).sum() / (out.mask | mask).sum()
        assert iou > 0.85, (name, iou)


def test_decode_cache_shares_prompts_between_strategies(disk_case, litemedsam):
    cache: dict = {}
    heat = disk_case[3]
    c1 = _ctx(disk_case, litemedsam, {}, decode_cache=cache)
    build_strategy("image-prior")(c1)
    c2 = _ctx(disk_case, litemedsam, {"gradcam": heat, "gradcam++": heat}, decode_cache=cache, prior=c1.computed_prior)
    build_strategy("prior-cam")(c2)
    assert c1.decoder_calls >= 1
    assert c2.decoder_calls == 0  # same region boxes, same refinement: all answered from the cache
    assert c2.decoder_prompts > 0


def test_context_refuses_a_heatmap_of_the_wrong_size(disk_case, litemedsam):
    with pytest.raises(ValueError, match="heatmap 'gradcam' has shape"):
        _ctx(disk_case, litemedsam, {"gradcam": np.zeros((5, 5))})


def test_per_cam_strategy_refuses_two_heatmaps(disk_case, litemedsam):
    heat = disk_case[3]
    with pytest.raises(ValueError, match="uses one heatmap"):
        build_strategy("algorithm1")(_ctx(disk_case, litemedsam, {"a": heat, "b": heat}))


# ------------------------------------------------------------------------------------------
# real ISIC 2017 images (skipped without ../shared/isic2017)
# ------------------------------------------------------------------------------------------

REAL_IDS = 6


@pytest.fixture(scope="module")
def real_cases(isic_root, litemedsam, embedded_classifier):
    from cam2seg_utils.cams import CamExtractor
    from cam2seg_utils.data.isic import ISICDataset

    ds = ISICDataset(isic_root, split="Training")
    cases = []
    for image_id in sorted(ds.ids)[:: len(ds.ids) // REAL_IDS][:REAL_IDS]:
        s = ds.load(image_id)
        target = embedded_classifier.predict(s.image).class_index
        heats = {}
        for cam in ("gradcam", "gradcam++"):
            with CamExtractor(embedded_classifier, cam, progress=False) as ex:
                heats[cam] = ex(s.image, target_class=target).heatmap
        cases.append((s.image, s.mask, litemedsam.embed(s.image), heats))
    return cases


@pytest.mark.isic
@pytest.mark.slow
def test_strategies_on_real_images_beat_or_match_algorithm1(real_cases, litemedsam):
    """Every strategy checked on the same 6 real images (mean IoU). The floors by construction:
    ``whole-image`` is LiteMedSAM's mask for the whole-image box (decoded here directly, image by
    image), ``centred-box`` the mask of the centred box covering 0.6 of each side. Every other
    strategy beats the whole-image floor. The default beats Algorithm 1's CAM box clearly, and the
    image regions ranked with the CAM beat it too. Measured here (2026-12-08): whole-image 0.302,
    centred-box 0.424, cam-ensemble 0.454, algorithm1 0.481, component 0.481, refine 0.529,
    candidates, image-prior and prior-cam 0.751; cam-ensemble is *below* Algorithm 1 on these
    images, so no claim over Algorithm 1 is made for the CAM-only variants."""
    masks, means = {}, {}
    for name in STRATEGIES.names():
        strategy = build_strategy(name)
        ious, masks[name] = [], []
        for k, (image, gt, emb, heats) in enumerate(real_cases):
            hm = {} if not strategy.uses_classifier else ({"gradcam": heats["gradcam"]} if strategy.per_cam else heats)
            out = strategy(PromptContext(image, emb, litemedsam, hm, np.random.default_rng(k)))
            ious.append((out.mask & gt).sum() / (out.mask | gt).sum())
            masks[name].append(out.mask)
        means[name] = float(np.mean(ious))
    for k, (image, gt, emb, _) in enumerate(real_cases):
        shape = gt.shape
        for name, box in (("whole-image", whole_image_box(shape)), ("centred-box", centred_box(shape, 0.6))):
            assert np.array_equal(masks[name][k], litemedsam.segment(emb, box=box).mask), (name, k)
    floor = means["whole-image"]
    below = {n: round(m, 3) for n, m in means.items() if n != "whole-image" and not m > floor}
    assert not below, (floor, means)
    base = means["algorithm1"]
    assert means["candidates"] >= base + 0.10, means
    assert means["prior-cam"] >= base + 0.03, means


def test_duplicate_prompts_are_decoded_once_and_counted(disk_case, litemedsam):
    """Boxes that reach the decoder as the same tensors are decoded once per call (and counted);
    the masks are made at the image size only when read, and equal ``segment``'s."""
    from cam2seg_utils.prompting.base import DecodedMasks

    image, _, emb, _ = disk_case
    box = np.array([95.0, 55.0, 205.0, 165.0])
    boxes = np.stack([box, box + 0.0, [0.0, 0.0, 319.0, 239.0], box, [-20.0, -5.0, 400.0, 300.0]])
    ctx = _ctx(disk_case, litemedsam, {})
    decoded = ctx.decode(boxes=boxes)
    # 1 and 3 repeat 0; 4 is clipped to the image, i.e. the whole-image box 2
    assert ctx.decoder_calls == 1 and ctx.duplicate_prompts == 3 and ctx.decoder_prompts == 5
    assert decoded[0] is decoded[1] is decoded[3] and decoded[4] is decoded[2]
    assert ctx.decode_boxes([box])[0] is decoded[0] and ctx.cached_prompts == 1 and ctx.decoder_calls == 1
    for d, b in zip(decoded, boxes):
        ref = litemedsam.segment(emb, box=b)
        np.testing.assert_array_equal(d.mask, ref.mask)
        np.testing.assert_allclose(d.low_res_logits, ref.low_res_logits, rtol=1e-5, atol=1e-4)
    masks = DecodedMasks(decoded)
    assert len(masks) == 5 and all(m.shape == image.shape[:2] for m in masks)
    np.testing.assert_array_equal(masks[2], decoded[2].mask)


def test_run_length_mask_round_trip():
    from cam2seg_utils.prompting.base import RunLengthMask

    rng = np.random.default_rng(0)
    for mask in (np.zeros((7, 9), bool), np.ones((7, 9), bool), rng.random((31, 17)) > 0.5,
                 np.pad(np.ones((5, 5), bool), 3)):
        rle = RunLengthMask(mask)
        np.testing.assert_array_equal(rle.decode(), mask)
        assert len(rle.starts) == len(rle.ends)
    disk = np.hypot(*np.mgrid[-300:300, -400:400]) < 200          # 2 edges per row at most
    assert len(RunLengthMask(disk).starts) == int(disk.any(axis=1).sum())


def test_large_decoded_masks_are_kept_run_length_encoded(disk_case, litemedsam, monkeypatch):
    from cam2seg_utils.prompting import base
    from cam2seg_utils.prompting.base import RunLengthMask

    _, _, emb, _ = disk_case
    monkeypatch.setattr(base, "KEEP_MASK_PIXELS", 100)       # the disk image counts as a large one
    box = np.array([90.0, 50.0, 210.0, 170.0])
    d, = _ctx(disk_case, litemedsam, {}).decode_boxes([box])
    assert d._mask is None                                   # nothing at the image size until read
    first = d.mask
    assert isinstance(d._mask, RunLengthMask)
    np.testing.assert_array_equal(first, litemedsam.segment(emb, box=box).mask)
    np.testing.assert_array_equal(d.mask, first)
