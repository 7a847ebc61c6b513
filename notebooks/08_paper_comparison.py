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
# # 08 · Our numbers beside the paper's
#
# Row by row: the paper's value (transcribed in `cam2seg_utils.paper`, with its source), ours,
# the difference, and why they differ. Differences are expected whenever this book was built
# from a profile other than `paper`: other images (synthetic, the official ISIC 2017 validation
# split, or a hold-out of its training split, instead of the paper's 600 official test images;
# the {doc}`findings page </book/findings>` lists the held-out figures), other models (for instance EfficientNet-Lite0
# for EfficientNet-B0), another segmenter (LiteMedSAM for MedSAM ViT-B) and fewer images.
#
# Each of our rows names the data and split it was measured on and carries, beside it, the IoU
# of the same segmenter on the same images with the tight ground-truth box (the ceiling) and
# with the whole-image box (no localisation): how hard those images are. A row of ours on other
# images than the paper's is labelled **different data**; its difference from the paper's value
# says nothing about which method is better.

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in above this page's own when it
# generates the notebook: `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`,
# `cams`, `n_images`, `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`,
# `output_dir`, all None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).
# `published`: a published snapshot folder (results/published/<profile>) to render instead of running.
published = None

# %% tags=["hide-input"]
from cam2seg_utils.report import baselines, comparison
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
grid, clf = comparison.run(cfg)

# %% [markdown]
# ## How hard are our images?
#
# The segmenter baselines on the images of every row below.

# %% tags=["hide-input"]
nb.show(baselines.beside(grid))

# %% [markdown]
# ## Table 2 (best CAM per image; oracle selection as in the paper)

# %% tags=["hide-input"]
nb.show(comparison.table2_comparison(grid, cfg))

# %% [markdown]
# ## Table 1 (noisy masks; the paper's model is fine-tuned Swin)

# %% tags=["hide-input"]
nb.show(comparison.table1_comparison(grid, cfg))

# %% [markdown]
# ## Values quoted in the text (Fig. 4, 5, 6)

# %% tags=["hide-input"]
nb.show(comparison.text_comparison(grid, clf, cfg))
