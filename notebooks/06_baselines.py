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
# # 06 · Ground-truth prompts: the ceiling
#
# What the same segmenter reaches when the prompt comes from the ground truth instead of a CAM:
# the tight box around the lesion (`gt-box`) or one point inside it (`gt-point`); and, as the
# floor, the box of the whole image (`whole-image-box`, `[0, 0, W-1, H-1]`), which knows nothing
# about where the lesion is. The paper's Table 2 quotes SAM-base and MedSAM-base numbers from
# another paper; we measure the segmenter actually used, on the same test images as every CAM
# result.

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

# %% tags=["hide-input"]
gt_rows = cb.gt_rows(grid)
if gt_rows.empty:
    display(Markdown("*This profile computed no segmenter baselines.*"))
else:
    base = summary.gt_baseline_table(grid)
    ci = cb.ci_table(gt_rows, ["setting", "segmenter"])
    base = base.merge(ci[["setting", "segmenter", "iou [95% CI]", "dice [95% CI]"]], on=["setting", "segmenter"])
    base.insert(0, "split", cb.split_label(gt_rows))
    display(cb.show(base[["split", "setting", "segmenter", "n", "precision", "recall", "iou [95% CI]", "dice [95% CI]"]]))

# %% [markdown]
# ## CAM prompts against ground-truth prompts
#
# Each row compares the best CAM per image (non-oracle selection) with the GT box on the same
# images: mean IoU of each, and a paired Wilcoxon test.

# %% tags=["hide-input"]
cb.show(cb.gt_vs_cam_tests(grid, cb.best_rows(grid, cb.main_variant(cfg), cfg)))

# %% [markdown]
# The paper's reference rows (not measured by its authors; from ref. [1]):

# %% tags=["hide-input"]
cb.show(paper.table2().query("setting == 'ablation'")[["model", "iou", "dice", "source"]])
