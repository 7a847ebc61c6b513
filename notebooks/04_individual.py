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
# # 04 · Every model × CAM as MedSAM prompts (Fig. 5)
#
# The "individual method" experiment: each classifier and each CAM produce a box and points
# (Algorithm 1), the segmenter turns them into a mask, and the mask is compared with the ground
# truth. Mean IoU per pair, zero-shot (ImageNet weights) and fine-tuned side by side.

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in above this page's own when it
# generates the notebook: `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`,
# `cams`, `n_images`, `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`,
# `output_dir`, all None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).
# `published`: a published snapshot folder (results/published/<profile>) to render instead of running.
published = None

# %% tags=["hide-input"]
from cam2seg_utils.report import baselines, fig5
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
grid = nb.grid_page(cfg)
fig5.variant_note(cfg)

# %% tags=["hide-input"]
fig5.show_matrices(grid, cfg)

# %% [markdown]
# ## Mean IoU and Dice per pair (95 % bootstrap CI)

# %% tags=["hide-input"]
nb.show(fig5.pair_table(grid, cfg))

# %% [markdown]
# The same segmenter on the same images with prompts that are not from a CAM: the tight
# ground-truth box and one ground-truth point (the ceiling) and the whole-image box (no
# localisation at all). They say how hard these images are.

# %% tags=["hide-input"]
nb.show(baselines.beside(grid))

# %% [markdown]
# ## Best pair per setting, beside the paper's (Fig. 5, Sec. 5 text)

# %% tags=["hide-input"]
nb.show(fig5.best_pair_table(grid, cfg))

# %% [markdown]
# ## Prompt variants: box, points, box + points
#
# Mean IoU per setting and model; the paired test compares each variant with `box+points` on
# the same images and CAMs.

# %% tags=["hide-input"]
nb.show(fig5.prompt_variant_table(grid))

# %% [markdown]
# ## Each CAM against RandomCAM (paired Wilcoxon test on per-image IoU)

# %% tags=["hide-input"]
nb.show(fig5.vs_randomcam(grid, cfg))
