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

# %% tags=["remove-cell"]
# Colab: install cam2seg first (a no-op everywhere else). book/build.py writes the repository URL
# in from `repository.url` of _config.yml when it generates the notebook.
import subprocess
import sys

REPOSITORY_URL = ""
if "google.colab" in sys.modules:
    if not REPOSITORY_URL:
        raise RuntimeError("No repository URL was set when this notebook was generated: set `repository.url` in "
                           "_config.yml (see the README) and run `python book/build.py` again, or pip-install "
                           "cam2seg from its repository yourself before running this notebook.")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"cam2seg[book] @ git+{REPOSITORY_URL}"], check=True)

# %% tags=["parameters", "hide-input"]
profile = "embedded"   # smoke | embedded | paper | local-isic
dataset = None         # None = from the profile
data_root = None
device = None
models = None
cams = None
n_images = None
percentile = None
num_points = None
amplification = None
epochs = None
patience = None
seed = None
output_dir = None
published = None       # a published snapshot folder (results/published/<profile>) to render instead of running

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from cam2seg_utils import book as cb
from cam2seg_utils import paper, viz

cfg = cb.notebook_config(globals())
from cam2seg_utils.experiments import stats, summary

grid = cb.grid_page(cfg)
pv = cb.main_variant(cfg)
display(Markdown(f"Prompt variant shown: **{pv}**. The paper prompts with the box and the points; MedSAM "
                 "and LiteMedSAM were trained with box prompts only, so the headline tables use the box "
                 "and the prompt-variant table below compares all variants on the same images."))

# %% tags=["hide-input"]
mats = {s: summary.model_cam_matrix(grid, s, prompt_variant=pv, **cb.single_params(cfg))
        for s in cfg.settings if (grid["setting"] == s).any()}
mats = {s: m for s, m in mats.items() if not m.empty}
if mats:
    cb.show_figure(viz.iou_matrix_heatmaps(mats))
else:
    display(Markdown("*No segmentation rows in this grid.*"))

# %% [markdown]
# ## Mean IoU and Dice per pair (95 % bootstrap CI)

# %% tags=["hide-input"]
rows = cb.cam_rows(grid, pv)
ind = summary.individual_table(grid, prompt_variant=pv, **cb.single_params(cfg))
ci = cb.ci_table(rows, ["setting", "model", "cam"])
ind = ind.merge(ci[["setting", "model", "cam", "iou [95% CI]", "dice [95% CI]"]], on=["setting", "model", "cam"])
cb.show(ind[["setting", "model", "cam", "n", "precision", "recall", "iou [95% CI]", "dice [95% CI]", "n_zero_iou"]])

# %% [markdown]
# The same segmenter on the same images with prompts that are not from a CAM: the tight
# ground-truth box and one ground-truth point (the ceiling) and the whole-image box (no
# localisation at all). They say how hard these images are.

# %% tags=["hide-input"]
cb.show(cb.baselines_beside(grid))

# %% [markdown]
# ## Best pair per setting, beside the paper's (Fig. 5, Sec. 5 text)

# %% tags=["hide-input"]
cb.show(cb.best_pair_table(ind))

# %% [markdown]
# ## Prompt variants: box, points, box + points
#
# Mean IoU per setting and model; the paired test compares each variant with `box+points` on
# the same images and CAMs.

# %% tags=["hide-input"]
cb.show(cb.prompt_variant_table(grid))

# %% [markdown]
# ## Each CAM against RandomCAM (paired Wilcoxon test on per-image IoU)

# %% tags=["hide-input"]
cb.show(cb.paired_vs_reference(rows, reference_cam="randomcam"))
