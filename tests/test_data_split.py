"""Stratified, deterministic train/validation split."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.data import ISICDataset, stratified_split


def _toy(n_pos: int = 30, n_neg: int = 70):
    ids = [f"ISIC_{i:07d}" for i in range(n_pos + n_neg)]
    labels = [1] * n_pos + [0] * n_neg
    return ids, labels


def test_stratified_counts_disjoint_and_complete():
    ids, labels = _toy()
    train, val = stratified_split(ids, labels, val_fraction=0.2, seed=0)
    lab = dict(zip(ids, labels))
    assert len(val) == 20 and len(train) == 80
    assert sum(lab[i] for i in val) == 6  # round(30 * 0.2)
    assert sum(lab[i] for i in train) == 24
    assert set(train).isdisjoint(val) and set(train) | set(val) == set(ids)
    # input order is kept inside both lists
    assert train == [i for i in ids if i in set(train)] and val == [i for i in ids if i in set(val)]


def test_deterministic_order_independent_and_seed_dependent():
    ids, labels = _toy()
    a = stratified_split(ids, labels, seed=3)
    assert a == stratified_split(ids, labels, seed=3)
    perm = np.random.default_rng(1).permutation(len(ids))
    b = stratified_split([ids[i] for i in perm], [labels[i] for i in perm], seed=3)
    assert set(b[1]) == set(a[1])
    assert set(stratified_split(ids, labels, seed=4)[1]) != set(a[1])
    # numpy labels and float labels give the same strata as python ints
    c = stratified_split(np.array(ids), np.array(labels, dtype=np.float64), seed=3)
    assert c == a


def test_small_classes_and_validation():
    train, val = stratified_split(["a", "b", "c", "d", "e"], [1, 0, 0, 0, 0], val_fraction=0.2)
    assert "a" in train  # a single member stays in training
    assert len(val) == 1
    with pytest.raises(ValueError, match="differ in length"):
        stratified_split(["a"], [0, 1])
    with pytest.raises(ValueError, match="duplicate"):
        stratified_split(["a", "a"], [0, 1])
    with pytest.raises(ValueError, match="val_fraction"):
        stratified_split(["a", "b"], [0, 1], val_fraction=1.0)
    assert stratified_split(["a", "b"], [0, 0], val_fraction=0.0) == (["a", "b"], [])


@pytest.mark.isic
def test_real_training_split(isic_root):
    ds = ISICDataset(isic_root)
    train, val = stratified_split(ds.ids, ds.labels["melanoma"].tolist(), val_fraction=0.2, seed=0)
    assert len(val) == 400 and len(train) == 1600
    assert int(ds.labels.loc[val, "melanoma"].sum()) == 75  # round(374 * 0.2)
