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
# # 08 · Our numbers beside the paper's
#
# Row by row: the paper's value (transcribed in `cam2seg_utils.paper`, with its source), ours,
# the difference, and why they differ. Differences are expected whenever this book was built
# from a profile other than `paper`: other images (synthetic, or a hold-out of the ISIC 2017
# training split instead of the 600-image test set), other models (for instance EfficientNet-Lite0
# for EfficientNet-B0), another segmenter (LiteMedSAM for MedSAM ViT-B) and fewer images.

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
from IPython.display import Markdown, display

from cam2seg_utils import book as cb
from cam2seg_utils import paper, viz

cfg = cb.notebook_config(globals())
from cam2seg_utils.experiments import summary

with cb.Stopwatch() as sw:
    grid = cb.ensure_grid(cfg)
    clf = cb.ensure_finetuned(cfg) if "fine-tuned" in cfg.settings else None
cb.provenance(cfg, n_images=cb.n_test_images(grid), wall_time_s=sw.seconds)
reasons = cb.difference_reasons(cfg, grid)
display(Markdown("**Why our numbers differ here:** " + "; ".join(reasons) + "."))

# %% [markdown]
# ## Table 2 (best CAM per image; oracle selection as in the paper)

# %% tags=["hide-input"]
cb.show(cb.table2_comparison(grid, cfg))

# %% [markdown]
# ## Table 1 (noisy masks; the paper's model is fine-tuned Swin)

# %% tags=["hide-input"]
cb.show(cb.table1_comparison(grid, cfg))

# %% [markdown]
# ## Values quoted in the text (Fig. 4, 5, 6)

# %% tags=["hide-input"]
cb.show(cb.text_comparison(grid, clf, cfg))
