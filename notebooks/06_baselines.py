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
# # 06 · Ground-truth prompts: the ceiling
#
# What the same segmenter reaches when the prompt comes from the ground truth instead of a CAM:
# the tight box around the lesion (`gt-box`) or one point inside it (`gt-point`); and, as the
# floor, the box of the whole image (`whole-image-box`, `[0, 0, W-1, H-1]`), which knows nothing
# about where the lesion is. The paper's Table 2 quotes SAM-base and MedSAM-base numbers from
# another paper; we measure the segmenter actually used, on the same test images as every CAM
# result.

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
