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
# # 01 · Data
#
# The experiments read images in the official ISIC 2017 folder layout. The default profiles use
# **synthetic dermoscopy images** (`cam2seg_utils.data.synthetic`): skin, a lesion with an exact
# outline, hairs, gel bubbles and rulers, and a melanoma label drawn from ABCD-like features.
# They make the book build offline in minutes; they are not ISIC 2017 {cite}`codella2018isic`.

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in when it generates the notebook:
# `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`, `cams`, `n_images`,
# `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`, `output_dir`, all
# None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).

# %% tags=["hide-input"]
from cam2seg_utils.report import data
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
splits = data.run(cfg)

# %% [markdown]
# ## Splits
#
# Fine-tuning sees the training ids only (early stopping on the validation ids); every
# segmentation number is on the test ids.

# %% tags=["hide-input"]
data.split_table(splits)

# %% [markdown]
# ## Test images used by the experiments
#
# Ground-truth lesion outline in green; the title gives the image id and its label.

# %% tags=["hide-input"]
nb.show_figure(data.images_sheet(splits))

# %% [markdown]
# ## Real ISIC 2017 images beside them
#
# Shown only when a local copy of ISIC 2017 sits beside the checkout (`../shared/isic2017`, or
# `CAM2SEG_ISIC_ROOT`): a locally built book only. These images are never committed.

# %% tags=["hide-input"]
data.show_local_isic()
