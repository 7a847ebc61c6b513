"""Logistic rankers: a linear score over each candidate's features *and* their distance to the
best value among the same image's candidates, fitted by
:mod:`cam2seg_utils.experiments.selection_study`.

Why the relative terms: a candidate's pigment contrast of 0.3 is good on a faint lesion and poor
beside a candidate of 0.6 on the same image; ``f - max_image(f)`` says which. The model is

    z_j = (x_j - mean_j) / std_j          for x = [features, features - image max]
    score = intercept + sum_j coef_j * z_j

It is fitted either **without masks** (``self-trained``: pseudo-labels from the candidates'
agreement and stability, ``k_masks = 0``) or on ``k`` ground-truth masks of the training split
(label: the candidate is within 0.05 IoU of its image's best). Fitted rankers are JSON files
(``kind: "logistic"``) in ``fitted_weights/``, registered by :mod:`.weights` under their name.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .weights import FITTED_DIR, WEIGHT_SETS, Ranking


def design_matrix(features: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    """``(N, 2F)``: the ``F`` features of each of the ``N`` candidates of one image, then each
    minus its maximum over the image's candidates (0 for the image's best on that feature)."""
    x = np.array([[float(f.get(k, 0.0)) for k in names] for f in features], dtype=np.float64).reshape(-1, len(names))
    rel = x - x.max(axis=0, keepdims=True) if len(x) else x
    return np.concatenate([x, rel], axis=1)


@dataclass(frozen=True)
class LogisticRanking(Ranking):
    """A fitted logistic ranker (see the module docstring).

    ``features``: the ``F`` feature names; ``mean``, ``std``, ``coef``: ``2F`` numbers each
    (raw features then relative ones); ``fit``: the fit's own record (labels, C, seed).
    """

    name: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float = 0.0
    k_masks: int = 0
    fitted_on: str = ""
    description: str = ""
    fit: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = 2 * len(self.features)
        if not (len(self.mean) == len(self.std) == len(self.coef) == n):
            raise ValueError(f"logistic ranking {self.name!r}: mean, std and coef need {n} values each "
                             f"(2 x {len(self.features)} features)")

    def scores(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        z = (design_matrix(features, self.features) - np.asarray(self.mean)) / np.asarray(self.std)
        return self.intercept + z @ np.asarray(self.coef)

    def without(self, drop) -> "LogisticRanking":
        drop = set(drop)
        keep = [i for i, k in enumerate(self.features) if k not in drop]
        idx = keep + [len(self.features) + i for i in keep]
        pick = lambda v: tuple(float(v[i]) for i in idx)  # noqa: E731
        return LogisticRanking(self.name, tuple(self.features[i] for i in keep), pick(self.mean), pick(self.std),
                               pick(self.coef), self.intercept, self.k_masks, self.fitted_on, self.description,
                               self.fit)

    @property
    def uses_features(self) -> tuple[str, ...]:
        return tuple(self.features)

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "features": list(self.features)}

    def to_json(self) -> str:
        return json.dumps({"kind": "logistic", "name": self.name, "features": list(self.features),
                           "mean": list(self.mean), "std": list(self.std), "coef": list(self.coef),
                           "intercept": self.intercept, "k_masks": int(self.k_masks), "fitted_on": self.fitted_on,
                           "description": self.description, "fit": dict(self.fit)}, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> "LogisticRanking":
        try:
            d = json.loads(text)
            if d.get("kind") != "logistic":
                raise ValueError(f"kind is {d.get('kind')!r}, not 'logistic'")
            return cls(str(d["name"]), tuple(d["features"]), tuple(map(float, d["mean"])),
                       tuple(map(float, d["std"])), tuple(map(float, d["coef"])), float(d.get("intercept", 0.0)),
                       int(d["k_masks"]), str(d.get("fitted_on", "")), str(d.get("description", "")),
                       dict(d.get("fit", {})))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{source}: not a logistic ranking ({type(exc).__name__}: {exc})") from exc


for _path in sorted(FITTED_DIR.glob("*.json")):
    _text = _path.read_text(encoding="utf-8")
    if json.loads(_text).get("kind") == "logistic":
        _r = LogisticRanking.from_json(_text, str(_path))
        WEIGHT_SETS.register(_r.name, _r)

__all__ = ["LogisticRanking", "design_matrix"]
