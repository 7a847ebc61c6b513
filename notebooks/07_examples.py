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

# %% tags=["remove-cell"]
# Colab: install cam2seg first (a no-op everywhere else).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "cam2seg[book] @ git+https://github.com/cam2seg/cam2seg"], check=True)

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

# %% tags=["hide-input"]
import pandas as pd
from IPython.display import Markdown, display

from cam2seg_utils import book as cb
from cam2seg_utils import paper, viz

cfg = cb.notebook_config(globals())
with cb.Stopwatch() as sw:
    grid = cb.ensure_grid(cfg)
    examples = cb.example_cases(cfg, grid)
cb.provenance(cfg, n_images=cb.n_test_images(grid), wall_time_s=sw.seconds)

# %% tags=["hide-input"]
if not examples:
    display(Markdown("*No segmentation rows to draw examples from.*"))
else:
    cb.show_figure(viz.examples_figure(examples))
    display(cb.show(pd.DataFrame([{k: e[k] for k in ("title", "image_id", "setting", "model", "cam", "iou_grid", "iou_recomputed")}
                                  for e in examples])))
