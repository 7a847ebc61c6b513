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
# # 03 · CAMs alone as masks (Table 1, Fig. 2)
#
# Before any segmenter: how good is the CAM's own noisy mask (Algorithm 1 step 7, the heatmap
# above its percentile threshold) as a segmentation of the lesion? RandomCAM (uniform noise at
# the CAM layer) is the floor a useful CAM must beat.

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
cam_rows = cb.cam_rows(grid, "cam-mask")

# %% [markdown]
# ## Table 1: noisy-mask metrics per CAM (mean, 95 % bootstrap CI)

# %% tags=["hide-input"]
if cam_rows.empty:
    display(Markdown("*This profile computed no noisy-mask rows.*"))
else:
    t1 = summary.cam_mask_table(grid, **cb.single_params(cfg))
    ci = cb.ci_table(cam_rows, ["setting", "model", "cam"])
    t1 = t1.merge(ci[["setting", "model", "cam", "iou [95% CI]", "dice [95% CI]"]], on=["setting", "model", "cam"])
    display(cb.show(t1[["setting", "model", "cam", "n", "precision", "recall", "iou [95% CI]", "dice [95% CI]"]]))

# %% [markdown]
# The same segmenter on the same images with prompts that are not from a CAM: the tight
# ground-truth box and one ground-truth point (the ceiling) and the whole-image box (no
# localisation at all). They say how hard these images are.

# %% tags=["hide-input"]
cb.show(cb.baselines_beside(grid))

# %% [markdown]
# The paper's Table 1 (fine-tuned Swin, ISIC 2017 test set) for reference; F1 equals Dice for
# binary masks, so it is not repeated.

# %% tags=["hide-input"]
paper.table1()[["precision", "recall", "iou", "dice", "source"]]

# %% [markdown]
# ## Does each CAM beat RandomCAM? (paired Wilcoxon signed-rank test on per-image IoU)

# %% tags=["hide-input"]
cb.show(cb.paired_vs_reference(cam_rows, reference_cam="randomcam"))

# %% [markdown]
# ## Fig. 2: the heatmap of every CAM method on one test image
#
# Green: ground truth. Subtitle: the IoU of that CAM's noisy mask on this image.

# %% tags=["hide-input"]
try:
    ex = cb.heatmaps_for_image(cfg, grid)
except cb.FigureUnavailable as why:
    ex = False
    display(Markdown(f"*Fig. 2 is not drawn in this build: {why}.*"))
if ex is None:
    display(Markdown("*No test image to show.*"))
elif ex:
    cb.show_figure(viz.cam_heatmap_grid(ex["image"], ex["heatmaps"], gt_mask=ex["mask"], subtitles=ex["subtitles"]))
    display(Markdown(f"Image `{ex['image_id']}`, {ex['model']} ({ex['setting']})."))
