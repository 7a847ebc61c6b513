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
# # 03 · CAMs alone as masks (Table 1, Fig. 2)
#
# Before any segmenter: how good is the CAM's own noisy mask (Algorithm 1 step 7, the heatmap
# above its percentile threshold) as a segmentation of the lesion? RandomCAM (uniform noise at
# the CAM layer) is the floor a useful CAM must beat.

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in above this page's own when it
# generates the notebook: `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`,
# `cams`, `n_images`, `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`,
# `output_dir`, all None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).
# `published`: a published snapshot folder (results/published/<profile>) to render instead of running.
published = None

# %% tags=["hide-input"]
from cam2seg_utils.report import baselines, table1
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
grid = nb.grid_page(cfg)

# %% [markdown]
# ## Table 1: noisy-mask metrics per CAM (mean, 95 % bootstrap CI)

# %% tags=["hide-input"]
nb.show_table(table1.table(grid, cfg), empty="This profile computed no noisy-mask rows.")

# %% [markdown]
# The same segmenter on the same images with prompts that are not from a CAM: the tight
# ground-truth box and one ground-truth point (the ceiling) and the whole-image box (no
# localisation at all). They say how hard these images are.

# %% tags=["hide-input"]
nb.show(baselines.beside(grid))

# %% [markdown]
# The paper's Table 1 (fine-tuned Swin, ISIC 2017 test set) for reference; F1 equals Dice for
# binary masks, so it is not repeated.

# %% tags=["hide-input"]
table1.paper_table()

# %% [markdown]
# ## Does each CAM beat RandomCAM? (paired Wilcoxon signed-rank test on per-image IoU)

# %% tags=["hide-input"]
nb.show(table1.vs_randomcam(grid))

# %% [markdown]
# ## Fig. 2: the heatmap of every CAM method on one test image
#
# Green: ground truth. Subtitle: the IoU of that CAM's noisy mask on this image.

# %% tags=["hide-input"]
table1.show_fig2(cfg, grid)
