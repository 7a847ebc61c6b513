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

# %% tags=["hide-input"]
import pandas as pd
from IPython.display import Markdown, display

from cam2seg_utils import book as cb
from cam2seg_utils import paper, viz

cfg = cb.notebook_config(globals())
with cb.Stopwatch() as sw:
    splits = cb.ensure_data(cfg)
cb.provenance(cfg, n_images=len(splits.test_ids), wall_time_s=sw.seconds)

# %% [markdown]
# ## Splits
#
# Fine-tuning sees the training ids only (early stopping on the validation ids); every
# segmentation number is on the test ids.

# %% tags=["hide-input"]
def _summary(name, ds, ids):
    lab = splits.labels(ds, ids)
    return {"split": name, "images": len(ids), "melanoma": int(sum(lab)),
            "melanoma share": (sum(lab) / len(ids)) if ids else float("nan")}

pd.DataFrame([_summary("train", splits.train_dataset, splits.train_ids),
              _summary("validation", splits.train_dataset, splits.val_ids),
              _summary("test", splits.test_dataset, splits.test_ids)]).set_index("split")

# %% [markdown]
# ## Test images used by the experiments
#
# Ground-truth lesion outline in green; the title gives the image id and its label.

# %% tags=["hide-input"]
shown = splits.test_ids[:12]
samples = [splits.test_dataset.load(i) for i in shown]
cb.show_figure(viz.contact_sheet([s.image for s in samples], [s.mask for s in samples],
                  titles=[f"{s.image_id}\n{'melanoma' if s.melanoma else 'benign'}" for s in samples], ncols=6))

# %% [markdown]
# ## Real ISIC 2017 images beside them
#
# Shown only when a local copy of ISIC 2017 sits beside the checkout (`../shared/isic2017`, or
# `CAM2SEG_ISIC_ROOT`): a locally built book only. These images are never committed.

# %% tags=["hide-input"]
real_root = cb.local_isic_root()
if real_root is None:
    display(Markdown("*No local ISIC 2017 folder found: nothing to show here.*"))
else:
    from cam2seg_utils.data.isic import ISICDataset

    real = ISICDataset(real_root, split="Training")
    picks = [real.load(i) for i in real.ids[:6]]
    cb.show_figure(viz.contact_sheet([s.image for s in picks], [s.mask for s in picks],
                      titles=[f"{s.image_id}\n{'melanoma' if s.melanoma else 'benign'}" for s in picks], ncols=6))
    display(Markdown(f"ISIC 2017 training images from `{real_root}` (Codella et al., ISBI 2018)."))
