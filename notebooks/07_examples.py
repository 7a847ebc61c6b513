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
# # 07 · Examples: good, median and failed cases (Fig. 7)
#
# For the best CAM per image (oracle selection, as in the paper's figures), the test images with
# the highest, the median and the lowest IoU. Each row: the heatmap with the prompts, the
# prompts on the image, and the segmenter's mask (blue) against the ground truth (green). The
# mask is recomputed from the prompts stored in the grid; its IoU is checked against the grid.

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in above this page's own when it
# generates the notebook: `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`,
# `cams`, `n_images`, `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`,
# `output_dir`, all None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).
# `published`: a published snapshot folder (results/published/<profile>) to render instead of running.
published = None

# %% tags=["hide-input"]
from cam2seg_utils.report import fig7
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
cases = fig7.run(cfg)

# %% tags=["hide-input"]
fig7.show(cases)
