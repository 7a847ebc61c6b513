"""Which images an experiment trains, validates and tests on (shared by fine-tuning and the grid).

Each dataset is one spec in :mod:`cam2seg_utils.data.registry` (how its split folders open,
whether it may be trained on, its generator); this module reads the spec, never the name.

* a trainable dataset (``"synthetic"``, ``"isic"``) with a real test split: train/val = a stratified split
  (``val_fraction``, seeded) of ``train_split``; test = every image of ``test_split``.
* ``test_holdout_fraction`` set (a folder with only the training split, such as the downsized
  ``../shared/isic2017``): first a stratified hold-out of that fraction of ``train_split``
  becomes the test set, then the rest is split into train/val. Fine-tuning never sees a test
  image. The splits depend only on the ids, labels and ``seed``
  (:func:`cam2seg_utils.data.split.stratified_split`).

* an evaluation-only dataset (``"ph2"``, :class:`~cam2seg_utils.data.ph2.PH2Dataset`): an external test set.
  Every PH2 image is a test image (first ``max_images``); there is no training or validation
  split, and fine-tuning on it is refused (:func:`check_trainable`): the fine-tuned setting
  evaluates a checkpoint fine-tuned on ISIC 2017 (``checkpoint_dir`` / ``finetuned_checkpoints``).

``max_images`` keeps the first ``max_images`` test ids (sorted); the grid and the test-set
classification metrics both use that list.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..data.registry import DatasetSpec, dataset_spec
from ..seeding import stable_seed
from .config import ExperimentConfig


def spec_of(config: ExperimentConfig) -> DatasetSpec:
    """The :class:`~cam2seg_utils.data.registry.DatasetSpec` of ``config.dataset``."""
    return dataset_spec(config.dataset)


def dataset_name(config: ExperimentConfig) -> str:
    """The label of the config's dataset on pages and tables (``"ISIC 2017"``, ``"PH2"``, ...)."""
    return spec_of(config).label


def check_trainable(config: ExperimentConfig) -> None:
    """``ValueError`` (one line, saying what to do instead) for a dataset cam2seg never trains on."""
    spec = spec_of(config)
    if not spec.trainable:
        raise ValueError(f"dataset {spec.name!r} is for evaluation only: cam2seg never fine-tunes on {spec.label}. "
                         "Fine-tune on ISIC 2017 (`cam2seg finetune --profile isic-official`), then evaluate that "
                         f"checkpoint on {spec.label} with `cam2seg grid --profile {spec.name} --data-root <folder>` "
                         "(its checkpoint_dir: checkpoints/isic-official; another one: --checkpoint-dir)")


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
    from ..data.split import stratified_split

    check_trainable(config)
    open_split = spec_of(config).open
    train_ds = open_split(config.data_root, config.train_split)
    all_ids = list(train_ds.ids)
    labels = [int(train_ds.labels.at[i, "melanoma"]) for i in all_ids]
    split_seed = stable_seed(config.seed, "splits")
    if config.test_holdout_fraction is not None:
        pool, test_ids = stratified_split(all_ids, labels, config.test_holdout_fraction, seed=split_seed)
        test_ds = train_ds
        pool_labels = [int(train_ds.labels.at[i, "melanoma"]) for i in pool]
    else:
        pool, pool_labels = all_ids, labels
        test_ds = open_split(config.data_root, config.test_split)
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
    spec = spec_of(config)
    if spec.generate is None:
        raise ValueError(f"config {config.name!r} uses dataset={config.dataset!r}, not synthetic data")
    spec.generate(config, progress)


def evaluation_ids(config: ExperimentConfig) -> tuple[object, list[str], str]:
    """``(dataset, image ids, split label)`` the grid evaluates: the test ids, or with
    ``evaluate_on="val"`` the validation ids (first ``max_images``) for tuning prompt parameters.
    PH2: every image of the folder (first ``max_images``), split label ``"PH2"``."""
    spec = spec_of(config)
    if not spec.trainable:
        dataset = spec.open(config.data_root, None)
        ids = sorted(dataset.ids)
        return dataset, ids if config.max_images is None else ids[: config.max_images], spec.split_label
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
           "dataset_name", "spec_of"]
