"""Named rankings (selectors) for the ranked strategies, each with the number of masks it was fitted on.

A *ranking* turns the GT-free features of one image's decoded candidates
(:func:`~.scoring.candidate_features`) into one score per candidate; the ranked strategy keeps
the highest. Every ranking is a :class:`Ranking` (``scores``, ``without``, ``summary``) in the
one registry :data:`WEIGHT_SETS` (config ``ranking_weights`` names one):

* linear weight sets (:class:`RankingWeights`, this file): ``a-priori`` and fitted sets;
* ``consensus`` (:mod:`.consensus_ranking`): the candidate whose mask agrees most with the others;
* logistic rankers (:mod:`.learned_ranking`): fitted without masks (self-trained on pseudo-labels)
  or on ``k`` training masks by :mod:`cam2seg_utils.experiments.selection_study`.

A ranked strategy (``candidates``, ``prior-cam``, ``image-prior``) scores each decoded
candidate with ``sum(weight * feature)`` over the GT-free features of :mod:`.scoring` and keeps
the best. Which weights it uses is a named :class:`RankingWeights`, recorded in every grid row
(``strategy_details``) and in the run summary, together with ``k_masks``: how many ground-truth
masks were used to fit it (0 = fixed a priori).

* ``a-priori`` (``k_masks = 0``): every weight is a sign, nothing is fitted. The segmenter's own
  IoU estimate (+1) is the scale; a lesion is darker / more pigmented than its surround
  (``contrast`` +1), near the centre of a dermoscopy image (``centrality`` +1), not on the
  image border (``border`` -1), not in the unlit vignette (``outside_fov`` -1) and not on a
  sticker or ink (``artefact`` -1). Which features carry a sign was chosen on the official
  ISIC 2017 validation split (150 masks): the CAM's mass inside a mask (``cam_mass``) and the
  mask's compactness (``fill``) were left out because with any positive weight they prefer
  masks of the whole skin there (the book's chapter 09 shows the sweep).
* fitted sets (``fitted_weights/<name>.json``, written by ``cam2seg tune-strategies``): weights
  fitted to ``k`` masks of the ISIC 2017 *training* split by
  :func:`cam2seg_utils.experiments.strategy_tuning.fit_weights`, never to the split they are
  reported on.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..registry import Registry

FITTED_DIR = Path(__file__).with_name("fitted_weights")


class Ranking(ABC):
    """A GT-free choice among one image's decoded candidates.

    Subclasses have ``name``, ``k_masks`` (ground-truth masks used to fit it; 0 = none) and
    ``fitted_on`` (where those masks came from), and override :meth:`scores`. A ranking sees
    the candidates' features only, never a ground-truth mask or IoU.
    """

    name: str
    k_masks: int
    fitted_on: str

    @abstractmethod
    def scores(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        """``(N,)`` float64 scores of the ``N`` candidates of one image (higher = chosen)."""

    def without(self, features) -> "Ranking":
        """The same ranking without ``features`` (e.g. the CAM terms, for ``image-prior``)."""
        return self

    @property
    def uses_features(self) -> tuple[str, ...]:
        """The features this ranking reads (the CAM ablation drops :data:`.scoring.CAM_FEATURES`)."""
        return ()

    def summary(self) -> dict[str, Any]:
        """What the run summary and the grid rows record about it."""
        return {"name": self.name, "kind": type(self).__name__, "k_masks": int(self.k_masks),
                "fitted_on": self.fitted_on}


@dataclass(frozen=True)
class RankingWeights(Ranking):
    """One named linear weight set: ``score = sum(weight * feature)``.

    ``weights``: feature name -> weight (features of :data:`.scoring.FEATURES`; absent = 0);
    ``k_masks``: ground-truth masks used to fit it (0 = a priori); ``fitted_on``: where those
    masks came from (split and ids rule), ``""`` for a priori sets; ``fit``: the fit's own record
    (objective, temperature, regularisation, seed) or empty.
    """

    name: str
    weights: Mapping[str, float]
    k_masks: int = 0
    fitted_on: str = ""
    description: str = ""
    fit: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What the run summary and the grid rows record about it."""
        return {"name": self.name, "k_masks": int(self.k_masks), "fitted_on": self.fitted_on,
                "weights": dict(self.weights)}

    def scores(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.array([sum(w * float(f.get(k, 0.0)) for k, w in self.weights.items()) for f in features],
                        dtype=np.float64)

    @property
    def uses_features(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.weights.items() if v != 0.0)

    def without(self, features) -> "RankingWeights":
        """The same set with ``features`` dropped (e.g. the CAM terms, for the ablation)."""
        drop = set(features)
        return RankingWeights(self.name, {k: v for k, v in self.weights.items() if k not in drop}, self.k_masks,
                              self.fitted_on, self.description, self.fit)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "weights": dict(self.weights), "k_masks": int(self.k_masks),
                           "fitted_on": self.fitted_on, "description": self.description, "fit": dict(self.fit)},
                          indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "<string>") -> "RankingWeights":
        try:
            d = json.loads(text)
            return cls(str(d["name"]), {str(k): float(v) for k, v in d["weights"].items()}, int(d["k_masks"]),
                       str(d.get("fitted_on", "")), str(d.get("description", "")), dict(d.get("fit", {})))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{source}: not a ranking weight set ({type(exc).__name__}: {exc})") from exc


A_PRIORI = RankingWeights(
    "a-priori", {"pred_iou": 1.0, "contrast": 1.0, "centrality": 1.0, "border": -1.0, "outside_fov": -1.0,
                 "artefact": -1.0},
    k_masks=0, description="signs only: segmenter confidence, pigment contrast, centre; "
                           "against border, vignette and artefacts")

WEIGHT_SETS: Registry[Ranking] = Registry("ranking")
WEIGHT_SETS.register(A_PRIORI.name, A_PRIORI)
for _path in sorted(FITTED_DIR.glob("*.json")):
    _text = _path.read_text(encoding="utf-8")
    if json.loads(_text).get("kind", "linear") == "linear":  # the other kinds register in their own module
        _w = RankingWeights.from_json(_text, str(_path))
        WEIGHT_SETS.register(_w.name, _w)

#: The weight set the ranked strategies use unless told otherwise (config ``ranking_weights``).
DEFAULT_WEIGHTS = "a-priori"


def get_weights(name: str | Ranking | None = None) -> Ranking:
    """The ranking ``name`` (default :data:`DEFAULT_WEIGHTS`); a :class:`Ranking` passes through."""
    if isinstance(name, Ranking):
        return name
    return WEIGHT_SETS.get(DEFAULT_WEIGHTS if name is None else name)


__all__ = ["Ranking", "RankingWeights", "A_PRIORI", "WEIGHT_SETS", "DEFAULT_WEIGHTS", "FITTED_DIR", "get_weights"]
