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
# # 10 · The human in the loop, measured
#
# The paper's case for the method is a clinician who gets a first mask and refines it with a few
# clicks. This chapter measures that step. A **simulated user** clicks on the first mask the way the
# interactive-segmentation benchmarks do (RITM / SimpleClick; `cam2seg_utils.refinement.clicks`):
# each click lands on the error pixel farthest from the boundary of its error region (the image
# border counts as boundary), positive on a missed part of the lesion, negative on a false
# positive, up to 20 clicks. It reads the ground truth, so it is an evaluation device, never a
# prompting strategy. A **refinement mode** (`cam2seg_utils.refinement`, the code the demo runs)
# turns each click into the next mask, on the image's one segmenter embedding:
#
# | mode | what a click does |
# |---|---|
# | `points` | SAM's loop: the clicks as point prompts with the box and the previous logits as `mask_input`; the decoder's answer is taken only near the click and only when it puts the clicked pixel on the clicked side, else the outline is moved locally |
# | `box-edit` | the decoder only sees boxes: a click far from the mask finds the missed object with a ladder of boxes around it; a click outside the box grows the box; a negative click in the core of a wrong object removes it; otherwise the outline moves locally along the decoder's own logits (positive) or geometrically (negative) |
# | `hybrid` | `box-edit`'s box edits with the clicks also sent as point prompts |
#
# Four **starts**: the default prompting strategy's mask (`cam2seg_utils.prompting.DEFAULT_STRATEGY`,
# zero-shot EfficientNet-Lite0, Grad-CAM + Grad-CAM++, the config's `ranking_weights`), Algorithm 1's box (Grad-CAM, p = 50), the
# whole-image box (the floor: no localisation at all) and the ground-truth tight box (an oracle:
# what refinement adds beyond the box ceiling). Metrics: mean IoU after k clicks; NoC@85 / NoC@90,
# the mean number of clicks to reach IoU 0.85 / 0.90 (20 when never reached); the share of images
# that never reach it; the share of clicks that make the mask worse.

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in above this page's own when it
# generates the notebook: `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`,
# `cams`, `n_images`, `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`,
# `output_dir`, all None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).
# `published`: a published snapshot folder (results/published/<profile>) whose `hitl/` results
# are rendered instead of running. Without it, the page runs (or resumes) the `hitl` experiment of
# the profile into `<output_dir>/hitl`: `python -m cam2seg_utils hitl --profile <profile>`.
published = None

# %% tags=["hide-input"]
from cam2seg_utils.report import hitl as rh
from cam2seg_utils.report import notebook as nb

cfg = nb.notebook_config(globals())
page = rh.hitl_page(cfg)
page.show_provenance()

# %% [markdown]
# ## mean IoU after k clicks
#
# One panel per start, one line per mode, 95 % bootstrap confidence band over images. The dotted
# line is IoU 0.85.

# %% tags=["hide-input"]
page.show_curves()

# %% [markdown]
# ## Clicks to a good mask
#
# `miou@k` = mean IoU after k clicks; `noc@85` / `noc@90` = mean clicks to IoU 0.85 / 0.90 (0 when the
# start already reaches it, 20 when it never does); `never@85` / `never@90` = share of images that
# never reach it within 20 clicks; `worse_clicks` = share of the clicks made after which the image's
# IoU is lower; `mean_falls` = number of clicks after which the **mean** IoU is lower than before.

# %% tags=["hide-input"]
page.show_noc()

# %% [markdown]
# ## The targets set before the run, on these images
#
# What the refinement modes were tuned to reach from the default strategy's mask, met or not on
# these images.

# %% tags=["hide-input"]
page.show_bars()

# %% [markdown]
# ## A worked example
#
# The default strategy's mask refined with the best measured mode: the image is the one whose
# number of clicks to 85 % is nearest the mean of the images that get there. The masks are
# recomputed from the image by replaying the recorded clicks through the mode (and checked against
# the recorded IoU).

# %% tags=["hide-input"]
page.show_example()

# %% [markdown]
# ## The verdict
#
# How many clicks the default start saves a clinician, against starting from a box around the
# whole image (and how far it stays from the ground-truth box).

# %% tags=["hide-input"]
page.show_verdict()

# %% [markdown]
# ## How the modes were chosen
#
# The probes that show why SAM-style clicks hurt a box-trained segmenter, and the sweep that chose
# every rule and parameter of the modes (first 40 images of the official validation split; the
# `box-edit` margin and its two rules for clicks outside the box re-tuned on all 150 from the
# current default's masks), are on the static page {doc}`/book/hitl_study`, apart from this page so that they never show under a
# synthetic run's provenance box.
