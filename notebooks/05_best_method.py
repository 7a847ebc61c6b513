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
best = cb.best_rows(grid, pv, cfg)

# %% [markdown]
# ## Table 2: best-CAM masks per setting and model (mean, 95 % bootstrap CI)

# %% tags=["hide-input"]
if best.empty:
    display(Markdown("*No segmentation rows in this grid.*"))
else:
    t2 = summary.best_method_table(grid, prompt_variant=pv, **cb.single_params(cfg))
    ci = cb.ci_table(best, ["setting", "model", "selection"])
    t2 = t2.merge(ci[["setting", "model", "selection", "iou [95% CI]", "dice [95% CI]"]],
                  on=["setting", "model", "selection"])
    display(cb.show(t2[["selection", "setting", "model", "n", "precision", "recall", "iou [95% CI]", "dice [95% CI]", "n_zero_iou"]]))

# %% [markdown]
# The same segmenter on the same images with prompts that are not from a CAM: the tight
# ground-truth box and one ground-truth point (the ceiling) and the whole-image box (no
# localisation at all). They say how hard these images are.

# %% tags=["hide-input"]
cb.show(cb.baselines_beside(grid))

# %% [markdown]
# The paper's Table 2 (ISIC 2017 test set; oracle selection; the two "ablation" rows are from
# another paper, ref. [1]):

# %% tags=["hide-input"]
cb.show(paper.table2())

# %% [markdown]
# ## Paired tests
#
# *Oracle vs non-oracle*: how much the ground-truth selection inflates the score.
# *Fine-tuned vs zero-shot*: whether fine-tuning the classifier helps, per model (same images,
# same selection rule).

# %% tags=["hide-input"]
cb.show(cb.best_method_tests(best))

# %% [markdown]
# ## Fig. 6: IoU distributions, all CAMs vs the best CAM per image
#
# The paper's point: choosing the best CAM per image removes most complete failures (IoU = 0).

# %% tags=["hide-input"]
hists = cb.iou_distributions(grid, best, pv)
if hists:
    cb.show_figure(viz.iou_histograms(hists))

# %% [markdown]
# ## Complete failures (IoU = 0)
#
# The paper: ~400 of 600 test images at IoU 0 for zero-shot MobileNet-v2, ~5 fine-tuned.

# %% tags=["hide-input"]
z = summary.zero_iou_counts(grid, prompt_variant=pv, **cb.single_params(cfg))
z.pivot_table(index=["model", "method"], columns="setting", values="n_zero_iou", aggfunc="sum") if not z.empty else None
