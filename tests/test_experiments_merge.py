"""experiments/merge.py: the run summary's per-stage timing, from the grid rows."""
from __future__ import annotations

import pytest

from cam2seg_utils.experiments.merge import stage_timing
from cam2seg_utils.experiments.table import rows_to_frame


def test_stage_timing_by_hand():
    rows = []
    for image in ("A", "B"):
        # Algorithm 1: Grad-CAM computed once per image x setting (two prompt variants share it)
        for variant in ("box", "points"):
            rows.append({"image_id": image, "setting": "zero-shot", "model": "m", "cam": "gradcam",
                         "strategy": "algorithm1", "prompt_variant": variant, "t_cam_s": 0.5, "t_decoder_s": 0.1})
        rows.append({"image_id": image, "setting": "zero-shot", "model": "m", "cam": "gradcam+gradcam++",
                     "strategy": "candidates", "t_prompt_s": 2.0})
        rows.append({"image_id": image, "setting": "gt-box", "strategy": "oracle-gt-box", "t_prompt_s": 0.0})
    rows.append({"image_id": "C", "error": "DataError: unreadable"})       # error rows take no part
    t = stage_timing(rows_to_frame(rows), wall_time_s=10.0, images_processed=2)
    assert t["wall_per_image_s"] == pytest.approx(5.0)
    assert t["cams"] == {"gradcam": pytest.approx(0.5)}
    assert t["strategies"] == {"candidates": pytest.approx(2.0)}          # the oracle has no time of its own
    assert t["algorithm1_decode"] == pytest.approx(0.2)
    assert t["rest"] == pytest.approx(5.0 - 0.5 - 2.0 - 0.2)
