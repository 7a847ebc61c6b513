"""Which images an experiment trains, validates and tests on (shared by fine-tuning and the grid).

* ``dataset="synthetic"`` or ``"isic"`` with a real test split: train/val = a stratified split
  (``val_fraction``, seeded) of ``train_split``; test = every image of ``test_split``.
* ``test_holdout_fraction`` set (a folder with only the training split, such as the downsized
  ``../shared/isic2017``): first a stratified hold-out of that fraction of ``train_split``
  becomes the test set, then the rest is split into train/val. Fine-tuning never sees a test
  image. The splits depend only on the ids, labels and ``seed``
  (:func:`cam2seg_utils.data.split.stratified_split`).

* ``dataset="ph2"`` (:class:`~cam2seg_utils.data.ph2.PH2Dataset`): an external test set.
  Every PH2 image is a test image (first ``max_images``); there is no training or validation
  split, and fine-tuning on it is refused (:func:`check_trainable`): the fine-tuned setting
  evaluates a checkpoint fine-tuned on ISIC 2017 (``checkpoint_dir`` / ``finetuned_checkpoints``).

``max_images`` keeps the first ``max_images`` test ids (sorted); the grid and the test-set
classification metrics both use that list.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..seeding import stable_seed
from .config import ExperimentConfig

#: The name a page, a table or a published snapshot gives each ``dataset`` value.
DATASET_NAMES = {"synthetic": "synthetic", "isic": "ISIC 2017", "ph2": "PH2"}


def dataset_name(config: ExperimentConfig) -> str:
    """``"synthetic"``, ``"ISIC 2017"`` or ``"PH2"``."""
    return DATASET_NAMES[config.dataset]


def check_trainable(config: ExperimentConfig) -> None:
    """``ValueError`` (one line, saying what to do instead) for a dataset cam2seg never trains on."""
    if config.dataset == "ph2":
        raise ValueError("dataset 'ph2' is for evaluation only: cam2seg never fine-tunes on PH2. Fine-tune on "
                         "ISIC 2017 (`cam2seg finetune --profile isic-official`), then evaluate that checkpoint "
                         "on PH2 with `cam2seg grid --profile ph2 --data-root <PH2 folder>` (its checkpoint_dir: "
                         "checkpoints/isic-official; another one: --checkpoint-dir)")


@dataclass
class DataSplits:
    train_dataset: object          # ISICDataset of the training split
    train_ids: list[str]
    val_ids: list[str]
    test_dataset: object           # ISICDataset the test ids come from
    test_ids: list[str]

    def labels(self, dataset, ids: list[str]) -> list[int]:
        return [int(dataset.labels.at[i, "melanoma"]) for i in ids]


def resolve_splits(config: ExperimentConfig) -> DataSplits:
    """Build the datasets and the train / val / test id lists of ``config`` (see module doc)."""
    from ..data.isic import ISICDataset
    from ..data.split import stratified_split

    check_trainable(config)
    train_ds = ISICDataset(config.data_root, split=config.train_split)
    all_ids = list(train_ds.ids)
    labels = [int(train_ds.labels.at[i, "melanoma"]) for i in all_ids]
    split_seed = stable_seed(config.seed, "splits")
    if config.test_holdout_fraction is not None:
        pool, test_ids = stratified_split(all_ids, labels, config.test_holdout_fraction, seed=split_seed)
        test_ds = train_ds
        pool_labels = [int(train_ds.labels.at[i, "melanoma"]) for i in pool]
    else:
        pool, pool_labels = all_ids, labels
        test_ds = ISICDataset(config.data_root, split=config.test_split)
        test_ids = list(test_ds.ids)
    train_ids, val_ids = stratified_split(pool, pool_labels, config.val_fraction, seed=split_seed + 1)
    test_ids = sorted(test_ids)
    if config.max_images is not None:
        test_ids = test_ids[: config.max_images]
    return DataSplits(train_ds, sorted(train_ids), sorted(val_ids), test_ds, test_ids)


def generate_synthetic_data(config: ExperimentConfig, progress: bool = False) -> None:
    """Write the synthetic images of a ``dataset="synthetic"`` config under its ``data_root``
    (idempotent: :func:`cam2seg_utils.data.synthetic.generate_synthetic` keeps finished files):
    ``synthetic_train_images`` in ``train_split`` (seed ``seed``) and, without a test hold-out,
    ``synthetic_test_images`` in ``test_split`` (seed ``seed + 1``)."""
    from ..data.synthetic import generate_synthetic

    if config.dataset != "synthetic":
        raise ValueError(f"config {config.name!r} uses dataset={config.dataset!r}, not synthetic data")
    common = dict(melanoma_fraction=config.synthetic_melanoma_fraction,
                  size_range=tuple(config.synthetic_size_range), progress=progress)
    generate_synthetic(config.data_root, n_images=config.synthetic_train_images, seed=config.seed,
                       split=config.train_split, **common)
    if config.test_holdout_fraction is None:
        generate_synthetic(config.data_root, n_images=config.synthetic_test_images, seed=config.seed + 1,
                           split=config.test_split, **common)


def evaluation_ids(config: ExperimentConfig) -> tuple[object, list[str], str]:
    """``(dataset, image ids, split label)`` the grid evaluates: the test ids, or with
    ``evaluate_on="val"`` the validation ids (first ``max_images``) for tuning prompt parameters.
    PH2: every image of the folder (first ``max_images``), split label ``"PH2"``."""
    if config.dataset == "ph2":
        from ..data.ph2 import PH2Dataset

        dataset = PH2Dataset(config.data_root)
        ids = sorted(dataset.ids)
        return dataset, ids if config.max_images is None else ids[: config.max_images], "PH2"
    splits = resolve_splits(config)
    if config.evaluate_on == "val":
        ids = splits.val_ids if config.max_images is None else splits.val_ids[: config.max_images]
        return splits.train_dataset, ids, f"{config.train_split} (validation)"
    label = config.test_split
    if config.test_holdout_fraction is not None:
        label = f"{config.train_split} (held-out test)"
    return splits.test_dataset, splits.test_ids, label


def evaluated_images(config: ExperimentConfig, dataset=None,
                     image_ids=None) -> tuple[object, list[str], str]:
    """``(dataset, image ids, split label)`` of a run (the grid, ``hitl``): :func:`evaluation_ids`
    unless a dataset is passed (then its ids unless ``image_ids``), wrapped in
    :class:`~cam2seg_utils.data.resize.MaxSideDataset` when ``config.max_side`` is set (the
    documented downsized route)."""
    split_name = config.test_split
    if dataset is None:
        dataset, image_ids, split_name = evaluation_ids(config)
    elif image_ids is None:
        image_ids = list(dataset.ids)
    if config.max_side is not None:
        from ..data.resize import MaxSideDataset

        dataset = MaxSideDataset(dataset, config.max_side)
    return dataset, [str(i) for i in image_ids], split_name


__all__ = ["DataSplits", "resolve_splits", "generate_synthetic_data", "evaluation_ids", "evaluated_images", "check_trainable",
           "dataset_name", "DATASET_NAMES"]
