"""A new dataset in one file (the extension bar's test): ``test-tiny``, six small synthetic images
in the ISIC layout, written by its own generator."""
from __future__ import annotations

from cam2seg_utils.data.registry import DATASETS, DatasetSpec

NAME = "test-tiny"


def _open(root, split):
    from cam2seg_utils.data.isic import ISICDataset

    return ISICDataset(root, split=split)


def _generate(config, progress: bool = False) -> None:
    from cam2seg_utils.data.synthetic import generate_synthetic

    for split, n, seed in ((config.train_split, 3, config.seed), (config.test_split, 3, config.seed + 1)):
        generate_synthetic(config.data_root, n_images=n, seed=seed, split=split, melanoma_fraction=0.5,
                           size_range=(96, 128), progress=progress)


SPEC = DatasetSpec(NAME, "Tiny test set", _open, "data/test-tiny", "tiny synthetic set (tests/extension_dataset.py)",
                   "written by its generator", generate=_generate)
DATASETS.register(NAME, SPEC)
