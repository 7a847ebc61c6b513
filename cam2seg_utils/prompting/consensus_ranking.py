"""``consensus``: keep the candidate whose mask the other candidates agree with most.

Many boxes of a candidate set decode to nearly the same mask; when they do, that mask is what
the segmenter "sees" from most starting points. The score of a candidate is its ``consensus``
feature (:func:`~.scoring.candidate_features`: mean IoU of its mask with the other candidates'
masks, at the prior's working resolution), plus ``stability_weight`` times SAM's stability score
(a tie-breaker between near-duplicates). Nothing is fitted (``k_masks = 0``) and nothing reads
ground truth. The book's chapter 09 compares it with the other rankings on the official
validation split.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .weights import WEIGHT_SETS, Ranking


@dataclass(frozen=True)
class ConsensusRanking(Ranking):
    """Medoid choice: ``score = consensus + stability_weight * stability`` per candidate."""

    name: str = "consensus"
    stability_weight: float = 0.1
    k_masks: int = 0
    fitted_on: str = ""
    description: str = "the mask the other candidates overlap most (medoid), stability breaks ties"

    def scores(self, features: Sequence[Mapping[str, float]]) -> np.ndarray:
        return np.array([float(f.get("consensus", 0.0)) + self.stability_weight * float(f.get("stability", 0.0))
                         for f in features], dtype=np.float64)

    @property
    def uses_features(self) -> tuple[str, ...]:
        return ("consensus", "stability")


CONSENSUS = ConsensusRanking()
WEIGHT_SETS.register(CONSENSUS.name, CONSENSUS)

__all__ = ["ConsensusRanking", "CONSENSUS"]
