"""The data page (notebook 01): the train / validation / test splits and the test images.

:func:`run` makes sure the images exist (synthetic data is generated) and shows the provenance
box; :func:`split_table` counts images and melanoma per split; :func:`images_sheet` draws the
first test images with their ground-truth outline; :func:`show_local_isic` shows real ISIC 2017
images beside them when a local copy sits beside the checkout (never committed).
"""
from __future__ import annotations

import pandas as pd

from .. import viz
from .notebook import Stopwatch, markdown, show_figure
from .provenance import local_isic_root, provenance
from .steps import ensure_data


def run(config):
    """The :class:`~cam2seg_utils.experiments.datasets.DataSplits` of ``config`` (generated or
    checked), after showing the provenance box with the time it took."""
    with Stopwatch() as sw:
        splits = ensure_data(config)
    provenance(config, n_images=len(splits.test_ids), wall_time_s=sw.seconds)
    return splits


def split_table(splits) -> pd.DataFrame:
    """Images, melanoma images and melanoma share of the train, validation and test ids."""
    def row(name, ds, ids):
        lab = splits.labels(ds, ids)
        return {"split": name, "images": len(ids), "melanoma": int(sum(lab)),
                "melanoma share": (sum(lab) / len(ids)) if ids else float("nan")}

    return pd.DataFrame([row("train", splits.train_dataset, splits.train_ids),
                         row("validation", splits.train_dataset, splits.val_ids),
                         row("test", splits.test_dataset, splits.test_ids)]).set_index("split")


def _sheet(samples):
    return viz.contact_sheet([s.image for s in samples], [s.mask for s in samples], ncols=6,
                             titles=[f"{s.image_id}\n{'melanoma' if s.melanoma else 'benign'}" for s in samples])


def images_sheet(splits, n: int = 12):
    """Contact sheet of the first ``n`` test images (ground truth in green; id and label)."""
    return _sheet([splits.test_dataset.load(i) for i in splits.test_ids[:n]])


def show_local_isic(n: int = 6) -> None:
    """Show the first ``n`` training images of a local ISIC 2017 copy
    (:func:`~.provenance.local_isic_root`), or say that there is none."""
    root = local_isic_root()
    if root is None:
        markdown("*No local ISIC 2017 folder found: nothing to show here.*")
        return
    from ..data.isic import ISICDataset

    real = ISICDataset(root, split="Training")
    show_figure(_sheet([real.load(i) for i in real.ids[:n]]))
    markdown(f"ISIC 2017 training images from `{root}` (Codella et al., ISBI 2018).")


__all__ = ["run", "split_table", "images_sheet", "show_local_isic"]
