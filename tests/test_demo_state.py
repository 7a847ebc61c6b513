"""The demo's refinement logic (cam2seg_utils.demo.state), without a browser, on the real shipped
models (embedded EfficientNet-Lite0 + LiteMedSAM) and the synthetic disk image of conftest
(disk centre (x=150, y=110), radius 55, image 320 wide x 240 high)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cam2seg_utils.demo.state import (
    BOX_RGB,
    NEGATIVE_RGB,
    POSITIVE_RGB,
    PROMPTS_JSON_FORMAT,
    EmbeddingCache,
    ImageRejected,
    PromptState,
    RefinementSession,
    UserState,
    analyse_image,
    image_sha256,
    load_image_file,
    mask_contour,
    read_prompts_json,
    render_overlay,
)

DISK_BOX = [95.0, 55.0, 205.0, 165.0]  # tight box of the conftest disk, [x_min, y_min, x_max, y_max]
CENTER = (150.0, 110.0)  # (x, y)


@pytest.fixture(scope="module")
def disk(litemedsam):
    """(image, gt mask, LiteMedSAM embedding) of the conftest disk image, embedded once."""
    from conftest import synthetic_disk_image

    image, gt = synthetic_disk_image()
    return image, gt, litemedsam.embed(image)


def _session(disk, litemedsam, box=DISK_BOX, points=(), labels=(), **kwargs) -> RefinementSession:
    image, _, emb = disk
    auto = PromptState.make(box, np.asarray(points, dtype=np.float64).reshape(-1, 2), labels)
    return RefinementSession(image=image, segmenter=litemedsam, embedding=emb, auto=auto,
                             meta={"cam": "manual", "model": {"name": "none"}}, **kwargs)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_box_prompt_segments_the_disk(disk, litemedsam):
    s = _session(disk, litemedsam)
    mask = s.current_mask()
    assert mask.shape == (240, 320) and mask.dtype == bool
    assert _iou(mask, disk[1]) > 0.6
    assert mask[110, 150]  # row = y = 110, column = x = 150: the disk centre
    assert not mask[10, 10]


def test_negative_point_on_lesion_shrinks_mask_and_undo_restores_exactly(disk, litemedsam):
    s = _session(disk, litemedsam)
    before = s.current_mask().copy()
    s.add_point(*CENTER, positive=False)
    after = s.current_mask()
    np.testing.assert_array_equal(s.current.point_labels, [0])
    np.testing.assert_array_equal(s.current.points, [[150.0, 110.0]])
    assert after.sum() < 0.8 * before.sum()  # measured: ~7000 px -> ~3900 px
    assert s.undo() is True
    np.testing.assert_array_equal(s.current_mask(), before)
    # the restored mask is what the decoder gives for these prompts, not only a cached copy
    fresh = litemedsam.segment(disk[2], box=np.array(DISK_BOX))
    np.testing.assert_array_equal(fresh.mask, before)
    assert s.undo() is False  # nothing left


def test_redrawn_box_covering_the_lesion_grows_the_mask(disk, litemedsam):
    # a box over the left half of the disk only; redrawing it around the whole disk adds area
    s = _session(disk, litemedsam, box=[95.0, 55.0, 150.0, 165.0])
    half = s.current_mask().copy()
    s.set_box(*DISK_BOX)
    assert s.mask_area() > 1.3 * half.sum()
    assert _iou(s.current_mask(), disk[1]) > _iou(half, disk[1])
    s.undo()
    np.testing.assert_array_equal(s.current_mask(), half)


def test_box_editing_undo_reset_history(disk, litemedsam):
    s = _session(disk, litemedsam, points=[[150, 110]], labels=[1])
    auto_key = s.current.key()
    s.set_box(205, 165, 95, 55)  # corners in any order
    np.testing.assert_array_equal(s.current.box, DISK_BOX)
    s.set_box(-20, -5, 400, 300)  # clipped to the 320 x 240 image
    np.testing.assert_array_equal(s.current.box, [0, 0, 319, 239])
    assert s.box_click(100, 60) is False and s.pending_corner == (100.0, 60.0)
    assert s.box_click(60, 200) is True and s.pending_corner is None
    np.testing.assert_array_equal(s.current.box, [60, 60, 100, 200])
    s.add_point(10, 20, positive=False)
    assert len(s.history) == 4
    s.reset()
    assert s.current.key() == auto_key and len(s.history) == 5
    assert s.undo()  # undoing the reset brings the edits back
    np.testing.assert_array_equal(s.current.points, [[150, 110], [10, 20]])
    np.testing.assert_array_equal(s.current.point_labels, [1, 0])
    for _ in range(4):
        assert s.undo()
    assert s.current.key() == auto_key and not s.undo()
    # a pending corner is dropped by undo before any prompt change
    s.box_click(5, 5)
    assert s.undo() and s.pending_corner is None and s.current.key() == auto_key
    s.clear_box()
    assert s.current.box is None
    s.clear_points()
    assert s.current.is_empty and s.mask_area() == 0  # no prompt at all: empty mask, no decoder call


def test_points_outside_image_are_refused(disk, litemedsam):
    s = _session(disk, litemedsam)
    with pytest.raises(ValueError, match="outside the 320x240 image"):
        s.add_point(320, 10)
    with pytest.raises(ValueError, match="outside"):
        s.add_point(10, -1)
    with pytest.raises(ValueError, match="not finite"):
        s.set_box(0, 0, float("nan"), 10)
    assert not s.history


def test_coordinates_are_x_column_y_row_in_render_and_display_mapping(disk, litemedsam):
    s = _session(disk, litemedsam, box=[20.0, 30.0, 300.0, 200.0], display_min_side=0)
    s.add_point(40, 220, positive=True)   # x = 40 (column), y = 220 (row)
    s.add_point(280, 12, positive=False)
    view = s.render(show_heatmap=False, show_mask=False)
    assert view.shape == (240, 320, 3)  # displayed at full size
    assert tuple(view[220, 40]) == POSITIVE_RGB
    assert tuple(view[12, 280]) == NEGATIVE_RGB
    assert tuple(view[40, 220]) != POSITIVE_RGB
    assert tuple(view[30, 100]) == BOX_RGB and tuple(view[100, 20]) == BOX_RGB  # top edge, left edge
    assert s.display_to_image(40, 220) == (40.0, 220.0)

    # by default a small image is shown enlarged (320 -> 512 wide, scale 1.6)
    s.display_min_side = 512
    assert s.display_size == (384, 512)
    view = s.render(show_heatmap=False, show_mask=False)
    assert view.shape == (384, 512, 3)
    xd, yd = (40 + 0.5) * 1.6 - 0.5, (220 + 0.5) * 1.6 - 0.5  # (64.3, 352.3)
    assert tuple(view[round(yd), round(xd)]) == POSITIVE_RGB
    assert s.display_to_image(round(xd), round(yd)) == (39.81, 219.81)

    # a large photo is displayed downscaled; clicks map back to original pixels (pixel centres)
    big = np.zeros((1200, 1600, 3), dtype=np.uint8)
    sb = RefinementSession(image=big, segmenter=litemedsam, embedding=None,
                           auto=PromptState.make(None, np.zeros((0, 2)), []), display_max_side=800)
    assert sb.display_size == (600, 800) and sb.display_scale == 0.5
    assert sb.display_to_image(0, 0) == (0.5, 0.5)
    assert sb.display_to_image(100, 50) == (200.5, 100.5)
    assert sb.display_to_image(799, 599) == (1598.5, 1198.5)
    assert sb.display_to_image(900, 700) == (1599.0, 1199.0)  # clipped to the last pixel
    sb.add_point(*sb.display_to_image(100, 50), positive=True)
    v = sb.render(show_mask=False)
    assert v.shape == (600, 800, 3) and tuple(v[50, 100]) == POSITIVE_RGB


def test_render_overlay_mask_contour_and_heatmap():
    image = np.full((40, 50, 3), 100, dtype=np.uint8)
    mask = np.zeros((40, 50), dtype=bool)
    mask[10:30, 15:35] = True
    contour = mask_contour(mask)
    assert contour.sum() == 2 * 20 + 2 * 18  # one-pixel ring of a 20 x 20 square
    heat = np.zeros((40, 50), dtype=np.float32)
    heat[:, 25:] = 1.0
    out = render_overlay(image, heatmap=heat, mask=mask)
    assert out.dtype == np.uint8 and out.shape == (40, 50, 3)
    assert tuple(out[10, 20]) == (255, 235, 0)  # contour colour
    assert out[2, 45, 0] > out[2, 45, 2]  # hot (red) right half
    assert out[2, 5, 2] > out[2, 5, 0]    # cold (blue) left half


def test_export_round_trip(disk, litemedsam, tmp_path):
    s = _session(disk, litemedsam, points=[[150, 110]], labels=[1])
    s.meta.update({"params": {"percentile": 90.0, "num_points": 3, "amplification": 2.0},
                   "model": {"name": "tf_efficientnet_lite0", "weights": "embedded"}, "cam": "gradcam"})
    s.add_point(120, 90, positive=False)
    s.set_box(90, 50, 210, 170)
    mask_path = s.export_mask_png(tmp_path / "m.png")
    json_path = s.export_prompts_json(tmp_path / "p.json")
    png = np.asarray(Image.open(mask_path))
    assert png.dtype == np.uint8 and png.shape == (240, 320) and set(np.unique(png)) <= {0, 255}
    np.testing.assert_array_equal(png == 255, s.current_mask())

    record = read_prompts_json(json_path)
    assert record["format"] == PROMPTS_JSON_FORMAT
    assert record["image_sha256"] == image_sha256(disk[0]) == s.sha256
    assert record["image_size"] == {"height": 240, "width": 320}
    assert record["box"] == [90.0, 50.0, 210.0, 170.0]
    assert record["points"] == [[150.0, 110.0], [120.0, 90.0]]
    assert record["point_labels"] == [1, 0]
    assert record["params"]["percentile"] == 90.0 and record["cam"] == "gradcam"
    assert record["model"] == {"name": "tf_efficientnet_lite0", "weights": "embedded"}
    assert record["mask_area_px"] == int(s.current_mask().sum())
    assert record["automatic"]["box"] == DISK_BOX

    # the exported prompts reproduce the exported mask in a fresh session
    fresh = _session(disk, litemedsam)
    fresh.apply_prompts(record["box"], record["points"], record["point_labels"])
    np.testing.assert_array_equal(fresh.current_mask(), png == 255)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="bad.json"):
        read_prompts_json(bad)


def test_user_state_export_folder_is_private_and_removed(disk, litemedsam, tmp_path):
    user = UserState(session=_session(disk, litemedsam), source_name="../../etc/evil name.jpg")
    mask_path, json_path = user.export(tmp_path / "exports")
    assert mask_path.parent == json_path.parent == user.export_dir
    assert user.export_dir.parent == tmp_path / "exports"
    assert mask_path.name == "evil_name_mask.png"  # the user's file name cannot leave the folder
    user.close()
    assert not mask_path.exists() and user.session is None


def test_load_image_file_rejections(tmp_path):
    from conftest import synthetic_disk_image

    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(ImageRejected, match="notes.png: not a readable image"):
        load_image_file(text)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageRejected, match="empty.jpg: the file is empty"):
        load_image_file(empty)
    image, _ = synthetic_disk_image()
    good = tmp_path / "lesion.png"
    Image.fromarray(image).save(good)
    with pytest.raises(ImageRejected, match="lesion.png: the file is .* MB; the limit is"):
        load_image_file(good, max_bytes=1000)
    with pytest.raises(ImageRejected, match="upload.png: 320x240 pixels is more than the limit"):
        load_image_file(good, max_pixels=10_000, display_name="upload.png")
    tiny = tmp_path / "tiny.png"
    Image.fromarray(image[:8, :8]).save(tiny)
    with pytest.raises(ImageRejected, match="too small"):
        load_image_file(tiny)
    np.testing.assert_array_equal(load_image_file(good), image)
    rgba = tmp_path / "rgba.png"
    Image.fromarray(np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])).save(rgba)
    np.testing.assert_array_equal(load_image_file(rgba), image)


def test_analyse_image_automatic_prompts_and_embedding_reuse(embedded_classifier, litemedsam, disk):
    from cam2seg_utils.prompting.algorithm1 import PromptParams

    image = disk[0]
    cache = EmbeddingCache()
    calls = litemedsam.encoder_calls
    s = analyse_image(image, embedded_classifier, litemedsam, cam_method="gradcam",
                      params=PromptParams(percentile=90, num_points=3, amplification=2), embeddings=cache)
    assert litemedsam.encoder_calls == calls + 1 and not s.timings.embedding_cached
    box = s.auto.box
    assert box.shape == (4,) and 0 <= box[0] <= box[2] <= 319 and 0 <= box[1] <= box[3] <= 239
    assert s.auto.points.shape == (3, 2) and s.auto.point_labels.tolist() == [1, 1, 1]
    assert s.heatmap.shape == (240, 320) and s.current_mask().shape == (240, 320)
    pred = s.meta["prediction"]
    assert 0 < pred["probability"] <= 1 and pred["class_name"] == embedded_classifier.class_names[pred["class_index"]]
    # same image, same CAM, same parameters: the same prompts (seeded from the image hash)
    again = analyse_image(image, embedded_classifier, litemedsam, cam_method="gradcam",
                          params=PromptParams(percentile=90, num_points=3, amplification=2), embeddings=cache)
    assert again.current.key() == s.current.key()
    # another CAM and box-only prompts on the same image: no second encoder pass
    other = analyse_image(image, embedded_classifier, litemedsam, cam_method="eigencam", variant="box",
                          embeddings=cache)
    assert litemedsam.encoder_calls == calls + 1 and other.timings.embedding_cached
    assert len(other.auto.points) == 0 and other.meta["cam"] == "eigencam"
    assert other.embedding is s.embedding


def test_analyse_image_first_mask_from_the_default_strategy(embedded_classifier, litemedsam, disk):
    """The demo's first mask comes from a prompting strategy (the same box and mask as running
    the strategy directly); Algorithm 1 stays one choice away on the same embedding."""
    from cam2seg_utils.cams import compute_heatmap
    from cam2seg_utils.prompting import DEFAULT_STRATEGY, PromptContext, build_strategy
    from cam2seg_utils.seeding import make_rng

    image, gt, _ = disk
    cache = EmbeddingCache()
    s = analyse_image(image, embedded_classifier, litemedsam, cam_method="gradcam", variant=DEFAULT_STRATEGY,
                      embeddings=cache)
    assert s.meta["strategy"]["name"] == DEFAULT_STRATEGY and len(s.auto.points) == 0
    target = s.meta["prediction"]["class_index"]
    heatmaps = {c: compute_heatmap(embedded_classifier, image, c, target_class=target).heatmap
                for c in ("gradcam", "gradcam++")}
    ctx = PromptContext(image, s.embedding, litemedsam, heatmaps,
                        make_rng("demo-strategy", image_sha256(image), DEFAULT_STRATEGY, "gradcam"))
    direct = build_strategy(DEFAULT_STRATEGY)(ctx)
    np.testing.assert_array_equal(s.auto.box, direct.box)
    np.testing.assert_array_equal(s.current_mask(), direct.mask)
    iou = (s.current_mask() & gt).sum() / (s.current_mask() | gt).sum()
    assert iou > 0.85  # the dark disk, found without ground truth
    calls = litemedsam.encoder_calls
    a1 = analyse_image(image, embedded_classifier, litemedsam, cam_method="gradcam", variant="box", embeddings=cache)
    assert litemedsam.encoder_calls == calls and a1.meta["strategy"] == {}
    with pytest.raises(ValueError, match="strategy"):
        analyse_image(image, embedded_classifier, litemedsam, variant="no-such-strategy")


def test_sessions_of_two_users_are_independent(disk, litemedsam):
    a = UserState(session=_session(disk, litemedsam))
    b = UserState(session=_session(disk, litemedsam))
    a.session.add_point(*CENTER, positive=False)
    assert len(b.session.current.points) == 0 and not b.session.history
    assert a.embeddings is not b.embeddings
