# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Method: Algorithm 1, step by step
#
# A classifier looks at the image and predicts a class (steps 1-4). A CAM method explains that
# prediction with a heatmap, resized to the image and scaled to [0, 1] (steps 5-6). The
# heatmap's top percentile is the **noisy mask** (step 7); the box around it is the **box
# prompt** (steps 8-10). When fewer than four pixels pass the threshold, the box is instead
# drawn around points sampled from the amplified heatmap (steps 12-17). Finally **point
# prompts** are sampled with probability proportional to `heatmap ** amplification`
# (step 19). MedSAM (here LiteMedSAM) segments the image from the box and the points.
#
# This page runs the algorithm once, on one synthetic image, with the offline models shipped on
# PyPI (ImageNet EfficientNet-Lite0 and LiteMedSAM).

# %% tags=["remove-cell"]
# Colab: install cam2seg first (a no-op everywhere else). book/build.py writes the repository URL
# in from `repository.url` of _config.yml when it generates the notebook.
import subprocess
import sys

REPOSITORY_URL = ""
if "google.colab" in sys.modules:
    if not REPOSITORY_URL:
        raise RuntimeError("No repository URL was set when this notebook was generated: set `repository.url` in "
                           "_config.yml (see the README) and run `python book/build.py` again, or pip-install "
                           "cam2seg from its repository yourself before running this notebook.")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"cam2seg[book] @ git+{REPOSITORY_URL}"], check=True)

# %% tags=["parameters", "hide-input"]
profile = "embedded"   # smoke | embedded | paper | local-isic
dataset = None         # None = from the profile
data_root = None
device = None
models = None
cams = None
n_images = None
percentile = None
num_points = None
amplification = None
epochs = None
patience = None
seed = None
output_dir = None

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cam2seg_utils import book as cb
from cam2seg_utils import viz
from cam2seg_utils.cams import compute_heatmap
from cam2seg_utils.data.synthetic import render_dermoscopy
from cam2seg_utils.metrics import segmentation_metrics
from cam2seg_utils.models import build_classifier
from cam2seg_utils.prompts import PromptParams, generate_prompts
from cam2seg_utils.seeding import make_rng
from cam2seg_utils.segmenters import build_segmenter

cfg = cb.notebook_config(globals())
params = PromptParams(percentile=cfg.percentile[0], num_points=cfg.num_points[0],
                      amplification=cfg.amplification[0])
with cb.Stopwatch() as sw:
    image, gt, _ = render_dermoscopy(make_rng("book-method", cfg.seed), 300, 400, malignant_look=True)
    clf = build_classifier("tf_efficientnet_lite0", weights="embedded", device=cfg.device)
    pred = clf.predict(image)
    hm = compute_heatmap(clf, image, "gradcam")
    prompts = generate_prompts(hm.heatmap, params, make_rng("book-method-prompts", cfg.seed))
    seg = build_segmenter("litemedsam", device=cfg.device)
    emb = seg.embed(image)
    result = seg.segment(emb, box=prompts.box)  # the headline prompt: MedSAM was trained on boxes
    result_points = seg.segment(emb, box=prompts.box, points=prompts.points, point_labels=prompts.point_labels)
cb.provenance(cfg, n_images=1, wall_time_s=sw.seconds, include_grid=False, classifier="tf_efficientnet_lite0 (embedded, ImageNet)",
              cam="gradcam", segmenter="litemedsam")

# %% [markdown]
# ## The four stages on one image
#
# The image is synthetic (drawn by `cam2seg_utils.data.synthetic`); its lesion outline is known
# exactly (green). The ImageNet classifier has never seen a skin lesion: this is the paper's
# *zero-shot* setting.

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 3, figsize=(14, 7.6))
axes = axes.ravel()
axes[0].imshow(image)
viz.draw_mask_contour(axes[0], gt, viz.GT_COLOR)
axes[0].set_title(f"steps 1-4: image (ground truth in green)\npredicted ImageNet class '{pred.class_name}' (p = {pred.probability:.2f})", fontsize=10)
axes[1].imshow(viz.overlay_heatmap(image, hm.heatmap))
axes[1].set_title("steps 5-6: Grad-CAM heatmap of that class", fontsize=10)
axes[2].imshow(image)
axes[2].imshow(np.ma.masked_where(~prompts.noisy_mask, prompts.noisy_mask), cmap="autumn", alpha=0.55)
viz.draw_prompts(axes[2], prompts.box)
axes[2].set_title(f"steps 7-10: noisy mask (heatmap >= {params.percentile:g}th percentile)\nand its bounding box", fontsize=10)
axes[3].imshow(image)
viz.draw_mask_contour(axes[3], result.mask, viz.PRED_COLOR)
viz.draw_mask_contour(axes[3], gt, viz.GT_COLOR)
viz.draw_prompts(axes[3], prompts.box)
axes[3].set_title("MedSAM from the box:\nmask (blue) vs ground truth (green)", fontsize=10)
axes[4].imshow(image)
viz.draw_mask_contour(axes[4], result_points.mask, viz.PRED_COLOR)
viz.draw_mask_contour(axes[4], gt, viz.GT_COLOR)
viz.draw_prompts(axes[4], prompts.box, prompts.points)
axes[4].set_title(f"step 19 + MedSAM from the box and {len(prompts.points)} points (stars):\nmask (blue) vs ground truth (green)", fontsize=10)
axes[5].hist(hm.heatmap.ravel(), bins=50, color="#90a4ae")
axes[5].axvline(prompts.threshold, color=viz.BOX_COLOR, lw=2, label=f"{params.percentile:g}th percentile")
axes[5].set_xlabel("heatmap value"); axes[5].set_ylabel("pixels"); axes[5].legend(fontsize=9)
axes[5].set_title("step 7: the percentile threshold", fontsize=10)
for ax in axes[:5]:
    ax.set_xticks([]); ax.set_yticks([])
fig.tight_layout()
cb.show_figure(fig)

# %% tags=["hide-input"]
noisy = segmentation_metrics(prompts.noisy_mask, gt)
final = segmentation_metrics(result.mask, gt)
pd.DataFrame({"noisy mask (step 7)": noisy, "MedSAM mask, box": final,
              "MedSAM mask, box + points": segmentation_metrics(result_points.mask, gt)}).T[["precision", "recall", "iou", "dice"]].round(3)

# %% [markdown]
# The box is `[x_min, y_min, x_max, y_max]` in image pixels (x = column, y = row); the points are
# `(x, y)`. Every number on this page is from the run above; the algorithm's code is
# `cam2seg_utils.prompts.generate_prompts`.

# %% tags=["hide-input"]
print("box [x_min, y_min, x_max, y_max]:", np.round(prompts.box, 1).tolist())
print("points (x, y):", np.round(prompts.points, 1).tolist())
print("fallback used (fewer than 4 hot pixels):", prompts.used_fallback)
