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
# # 06 · Prompts without a CAM: ground-truth box, ground-truth point, whole image
#
# What the same segmenter reaches when the prompt does not come from a CAM: the tight box around
# the lesion (`gt-box`, read from the ground truth: the best a box prompt can do), one point
# inside the lesion (`gt-point`, at its centroid snapped inside it), and the box of the whole
# image (`whole-image-box`, `[0, 0, W-1, H-1]`: the floor, it knows nothing about where the
# lesion is). The paper's Table 2 quotes SAM-base and MedSAM-base numbers from another paper; we
# measure the segmenter actually used, on the same test images as every CAM result.
#
# **`gt-point` is not a ceiling.** LiteMedSAM (the offline default) was trained with box prompts
# only; given a single point it returns an empty or nearly empty mask, so its `gt-point` IoU is
# close to 0 however good the point is. That row measures the segmenter's prompt type, not how
# good a point prompt could be; a point-trained segmenter (SAM) would need its own row.

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in above this page's own when it
# generates the notebook: `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`,
# `cams`, `n_images`, `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`,
# `output_dir`, all None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).
# `published`: a published snapshot folder (results/published/<profile>) to render instead of running.
published = None

# %% tags=["hide-input"]
from cam2seg_utils.report import baselines
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
grid = nb.grid_page(cfg)

# %% tags=["hide-input"]
nb.show_table(baselines.table(grid), empty="This profile computed no segmenter baselines.")

# %% [markdown]
# ## CAM prompts against ground-truth prompts
#
# Each row compares the best CAM per image (non-oracle selection) with the GT box on the same
# images: mean IoU of each, and a paired Wilcoxon test.

# %% tags=["hide-input"]
nb.show(baselines.gt_vs_cam(grid, cfg))

# %% [markdown]
# The paper's reference rows (not measured by its authors; from ref. [1]):

# %% tags=["hide-input"]
nb.show(baselines.paper_rows())
