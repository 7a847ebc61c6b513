"""Deterministic stratified train/validation split."""
from __future__ import annotations

from collections import defaultdict
from typing import Hashable, Sequence

import numpy as np

from cam2seg_utils.seeding import stable_seed

__all__ = ["stratified_split"]


def stratified_split(
    ids: Sequence[str],
    labels: Sequence[Hashable],
    val_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[list[str], list[str]]:
    """Split ``ids`` into ``(train_ids, val_ids)``, stratified on ``labels`` (melanoma 0/1).

    For every label value with ``n`` ids, ``round(n * val_fraction)`` of them go to validation
    (at least one when ``n >= 2`` and ``val_fraction > 0``; never all of them). The choice is a
    permutation drawn from ``numpy.random.default_rng(stable_seed("stratified_split", seed,
    label))`` over the class's ids **sorted**, so the result depends only on the set of
    ``(id, label)`` pairs and ``seed``, not on the input order or the Python hash seed. Both
    returned lists keep the order the ids had in the input.
    """
    ids = [str(i) for i in ids]
    labels = list(labels)
    if len(ids) != len(labels):
        raise ValueError(f"ids and labels differ in length ({len(ids)} != {len(labels)})")
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = sorted({i for i in ids if i in seen or seen.add(i)})
        raise ValueError(f"duplicate ids: {dup[:10]}")
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    by_label: dict[Hashable, list[str]] = defaultdict(list)
    for i, lab in zip(ids, labels):
        lab = lab.item() if isinstance(lab, np.generic) else lab
        if isinstance(lab, (bool, int, float)) and float(lab).is_integer():
            lab = int(lab)  # 1, 1.0, True and np.int64(1) are the same stratum
        by_label[lab].append(i)
    val: set[str] = set()
    for lab, members in by_label.items():
        members = sorted(members)
        n = len(members)
        k = int(round(n * float(val_fraction)))
        if val_fraction > 0 and n >= 2:
            k = max(k, 1)
        k = min(k, n - 1) if n >= 1 else 0
        rng = np.random.default_rng(stable_seed("stratified_split", seed, lab))
        chosen = rng.permutation(n)[:k]
        val.update(members[j] for j in chosen)
    train_ids = [i for i in ids if i not in val]
    val_ids = [i for i in ids if i in val]
    return train_ids, val_ids
