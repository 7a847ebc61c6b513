"""Table 1 with Fig. 2 (cam2seg_utils.report.table1)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from cam2seg_utils.report import table1


def test_cam_heatmap_grid_one_panel_per_cam(disk_image):
    img, mask = disk_image
    heat = mask.astype(np.float32)
    fig = table1.cam_heatmap_grid(img, {"gradcam": heat, "scorecam": 1 - heat}, gt_mask=mask,
                                  subtitles={"gradcam": "IoU 1.00"})
    titles = [a.get_title() for a in fig.axes]
    assert titles == ["image", "gradcam\nIoU 1.00", "scorecam"]
    plt.close(fig)


def test_paper_table_is_table1_without_f1():
    t = table1.paper_table()
    assert list(t.columns) == ["precision", "recall", "iou", "dice", "source"]
    assert t.loc["gradcam", "iou"] == 0.2356 and len(t) == 5
