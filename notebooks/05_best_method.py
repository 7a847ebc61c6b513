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
# # 05 · Best CAM per image (Table 2, Fig. 6)
#
# The paper's "best method" computes a mask with every CAM and keeps, **per image**, the best
# one. The paper picks it by IoU with the ground truth: an **oracle**, an upper bound no clinic
# can run. We show it, labelled as such, beside a **non-oracle** selection that a clinic could
# use: the CAM whose mask the segmenter itself scores highest (its predicted IoU).

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in above this page's own when it
# generates the notebook: `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`,
# `cams`, `n_images`, `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`,
# `output_dir`, all None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).
# `published`: a published snapshot folder (results/published/<profile>) to render instead of running.
published = None

# %% tags=["hide-input"]
from cam2seg_utils.report import baselines, table2
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
grid = nb.grid_page(cfg)

# %% [markdown]
# ## Table 2: best-CAM masks per setting and model (mean, 95 % bootstrap CI)

# %% tags=["hide-input"]
nb.show_table(table2.table(grid, cfg), empty="No segmentation rows in this grid.")

# %% [markdown]
# The same segmenter on the same images with prompts that are not from a CAM: the tight
# ground-truth box (the best a box prompt can do), one ground-truth point, and the whole-image
# box (no localisation at all). They say how hard these images are. The `gt-point` row is not a
# ceiling: LiteMedSAM was trained with box prompts, and for a single point it returns an (almost)
# empty mask (chapter 06).

# %% tags=["hide-input"]
nb.show(baselines.beside(grid))

# %% [markdown]
# ## RandomCAM among the candidates
#
# Both selections pick among **every** CAM of the grid, the random control RandomCAM included,
# as the paper's best method does; the rows above are labelled so. A control is not a method a
# clinic would run, and the segmenter's predicted IoU does pick it on some images, where it is
# worse than the real CAMs: how often, and the same selection among the real CAMs only (same
# images):

# %% tags=["hide-input"]
nb.show_table(table2.randomcam_in_selection(grid, cfg), empty="No RandomCAM rows in this grid.")

# %% [markdown]
# The paper's Table 2 (ISIC 2017 test set; oracle selection; the two "ablation" rows are from
# another paper, ref. [1]):

# %% tags=["hide-input"]
nb.show(table2.paper_table())

# %% [markdown]
# ## Paired tests
#
# *Oracle vs non-oracle*: how much the ground-truth selection inflates the score.
# *Fine-tuned vs zero-shot*: whether fine-tuning the classifier helps, per model (same images,
# same selection rule).

# %% tags=["hide-input"]
nb.show(table2.tests(grid, cfg))

# %% [markdown]
# ## Fig. 6: IoU distributions, all CAMs vs the best CAM per image
#
# The paper's point: choosing the best CAM per image removes most zero-IoU images (IoU = 0).

# %% tags=["hide-input"]
table2.show_fig6(grid, cfg)

# %% [markdown]
# ## Complete failures (IoU = 0)
#
# The paper: ~400 of 600 test images at IoU 0 for zero-shot MobileNet-v2, ~5 fine-tuned.

# %% tags=["hide-input"]
table2.zero_iou_table(grid, cfg)
