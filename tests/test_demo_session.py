"""The demo's refinement session (cam2seg_utils.demo.session) on the real LiteMedSAM and the
synthetic disk image of conftest (disk centre (x=150, y=110), radius 55, image 320 wide x 240
high): prompts, undo, display mapping, exports."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cam2seg_utils.demo.render import BOX_RGB, NEGATIVE_RGB, POSITIVE_RGB
from cam2seg_utils.demo.session import PROMPTS_JSON_FORMAT, PromptState, RefinementSession, read_prompts_json
from cam2seg_utils.file_digest import image_digest
from conftest import DISK_BOX, disk_session

CENTER = (150.0, 110.0)  # (x, y)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_box_prompt_segments_the_disk(embedded_disk, litemedsam):
    s = disk_session(embedded_disk, litemedsam)
    mask = s.current_mask()
    assert mask.shape == (240, 320) and mask.dtype == bool
    assert _iou(mask, embedded_disk[1]) > 0.6
    assert mask[110, 150]  # row = y = 110, column = x = 150: the disk centre
    assert not mask[10, 10]


def test_negative_point_on_lesion_shrinks_mask_and_undo_restores_exactly(embedded_disk, litemedsam):
    s = disk_session(embedded_disk, litemedsam)
    before = s.current_mask().copy()
    s.add_point(*CENTER, positive=False)
    after = s.current_mask()
    np.testing.assert_array_equal(s.current.point_labels, [0])
    np.testing.assert_array_equal(s.current.points, [[150.0, 110.0]])
    assert after.sum() < 0.8 * before.sum()  # measured: ~7000 px -> ~3900 px
    assert s.undo() is True
    np.testing.assert_array_equal(s.current_mask(), before)
    # the restored mask is what the decoder gives for these prompts, not only a cached copy
    fresh = litemedsam.segment(embedded_disk[2], box=np.array(DISK_BOX))
    np.testing.assert_array_equal(fresh.mask, before)
    assert s.undo() is False  # nothing left


def test_redrawn_box_covering_the_lesion_grows_the_mask(embedded_disk, litemedsam):
    # a box over the left half of the disk only; redrawing it around the whole disk adds area
    s = disk_session(embedded_disk, litemedsam, box=[95.0, 55.0, 150.0, 165.0])
    half = s.current_mask().copy()
    s.set_box(*DISK_BOX)
    assert s.mask_area() > 1.3 * half.sum()
    assert _iou(s.current_mask(), embedded_disk[1]) > _iou(half, embedded_disk[1])
    s.undo()
    np.testing.assert_array_equal(s.current_mask(), half)


def test_box_editing_undo_reset_history(embedded_disk, litemedsam):
    s = disk_session(embedded_disk, litemedsam, points=[[150, 110]], labels=[1])
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


def test_points_outside_image_are_refused(embedded_disk, litemedsam):
    s = disk_session(embedded_disk, litemedsam)
    with pytest.raises(ValueError, match="outside the 320x240 image"):
        s.add_point(320, 10)
    with pytest.raises(ValueError, match="outside"):
        s.add_point(10, -1)
    with pytest.raises(ValueError, match="not finite"):
        s.set_box(0, 0, float("nan"), 10)
    assert not s.history


def test_coordinates_are_x_column_y_row_in_render_and_display_mapping(embedded_disk, litemedsam):
    s = disk_session(embedded_disk, litemedsam, box=[20.0, 30.0, 300.0, 200.0], display_min_side=0)
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


def test_export_round_trip(embedded_disk, litemedsam, tmp_path):
    s = disk_session(embedded_disk, litemedsam, points=[[150, 110]], labels=[1])
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
    assert record["image_sha256"] == image_digest(embedded_disk[0]) == s.sha256
    assert record["image_size"] == {"height": 240, "width": 320}
    assert record["box"] == [90.0, 50.0, 210.0, 170.0]
    assert record["points"] == [[150.0, 110.0], [120.0, 90.0]]
    assert record["point_labels"] == [1, 0]
    assert record["params"]["percentile"] == 90.0 and record["cam"] == "gradcam"
    assert record["model"] == {"name": "tf_efficientnet_lite0", "weights": "embedded"}
    assert record["mask_area_px"] == int(s.current_mask().sum())
    assert record["automatic"]["box"] == DISK_BOX

    # the exported prompts reproduce the exported mask in a fresh session
    fresh = disk_session(embedded_disk, litemedsam)
    fresh.apply_prompts(record["box"], record["points"], record["point_labels"])
    np.testing.assert_array_equal(fresh.current_mask(), png == 255)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="bad.json"):
        read_prompts_json(bad)
