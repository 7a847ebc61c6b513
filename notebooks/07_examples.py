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
import pandas as pd
from IPython.display import Markdown, display

from cam2seg_utils import book as cb
from cam2seg_utils import paper, viz

cfg = cb.notebook_config(globals())
with cb.Stopwatch() as sw:
    grid = cb.ensure_grid(cfg)
    try:
        examples, unavailable = cb.example_cases(cfg, grid), None
    except cb.FigureUnavailable as why:
        examples, unavailable = [], why
cb.provenance(cfg, n_images=cb.n_test_images(grid), wall_time_s=sw.seconds, split=cb.split_label(grid))

# %% tags=["hide-input"]
if unavailable is not None:
    display(Markdown(f"*Fig. 7 is not drawn in this build: {unavailable}.*"))
elif not examples:
    display(Markdown("*No segmentation rows to draw examples from.*"))
else:
    cb.show_figure(viz.examples_figure(examples))
    display(cb.show(pd.DataFrame([{k: e[k] for k in ("title", "image_id", "setting", "model", "cam", "iou_grid", "iou_recomputed")}
                                  for e in examples])))
