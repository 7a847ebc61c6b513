"""Ranked strategies: generate candidate boxes, decode them in one batch, keep the best by a GT-free score.

``candidates``, ``prior-cam`` and ``image-prior`` share everything but where their boxes come from
and whether the CAM may vote: a :class:`RankedStrategy` subclass overrides
:meth:`~RankedStrategy.candidate_boxes` only. The score is ``sum(weight * feature)`` over the
features of :func:`~.scoring.candidate_features` with a named weight set of :mod:`.weights`
(recorded with the number of masks it was fitted on). The reference ``oracle-candidates``
(:mod:`cam2seg_utils.experiments.baselines`) reads the same :meth:`~RankedStrategy.candidate_boxes`
and picks by ground truth instead, so the book can split the loss into generation (its best
candidate vs the ground-truth box) and selection (the chosen candidate vs its best).
"""
from __future__ import annotations

import numpy as np

from .base import (MAX_PROMPTS_PER_IMAGE, Decoded, DecodedMasks, PromptContext, PromptingStrategy, StrategyOutcome,
                   no_points)
from .refine import refine_from
from .scoring import CAM_FEATURES, candidate_features
from .weights import Ranking, get_weights


class RankedStrategy(PromptingStrategy):
    """Base of the strategies that rank many decoded boxes (one batched decoder call).

    Args:
        weights: name of a ranking of :data:`.weights.WEIGHT_SETS` (a linear weight set,
            ``consensus`` or a fitted logistic ranker), or the ranking itself.
        rounds: tight-box re-prompting rounds after the choice (:func:`~.refine.refine_from`).
    Subclasses set ``cam_votes`` (whether the CAM terms of the weights are used) and override
    :meth:`candidate_boxes`.
    """

    per_cam = False
    cam_votes = True
    tuned_on = "0 fitted (a-priori signs, chosen on the 150 official validation masks)"

    takes_ranking_weights = True

    def __init__(self, weights: str | Ranking | None = None, rounds: int = 0) -> None:
        self._weights = get_weights(weights)
        self.weights = self._weights.name
        self.rounds = int(rounds)

    def candidate_boxes(self, ctx: PromptContext) -> tuple[list[np.ndarray], list[str]]:
        """``(boxes, sources)``: ``[x_min, y_min, x_max, y_max]`` original-pixel boxes and where
        each came from (``"gradcam:p50:all"``, ``"prior:darkness/otsu#0"``, ``"centred:0.6"``...),
        at most :data:`~.base.MAX_PROMPTS_PER_IMAGE` minus ``rounds``."""
        raise NotImplementedError

    def planned_boxes(self, ctx: PromptContext) -> list[np.ndarray]:
        """The candidate boxes :meth:`scored_candidates` decodes (the pipeline decodes them
        beforehand with the image's other known prompts, in one call)."""
        boxes, _ = self.candidate_boxes(ctx)
        return list(boxes)[:MAX_PROMPTS_PER_IMAGE - self.rounds]

    def ranking(self) -> Ranking:
        """The weight set this strategy scores with (without the CAM terms when it does not let
        the CAM vote)."""
        return self._weights if self.cam_votes else self._weights.without(CAM_FEATURES)

    def scored_candidates(self, ctx: PromptContext) -> tuple[list[np.ndarray], list[str], list[Decoded], np.ndarray]:
        """Decode every candidate box (one batch) and score it: ``(boxes, sources, decoded, scores)``."""
        boxes, sources = self.candidate_boxes(ctx)
        budget = MAX_PROMPTS_PER_IMAGE - ctx.decoder_prompts - self.rounds
        boxes, sources = list(boxes)[:budget], list(sources)[:budget]
        decoded = ctx.decode_boxes(boxes)
        heatmaps = ctx.heatmaps if self.cam_votes else {}
        feats = candidate_features(DecodedMasks(decoded), boxes, [d.predicted_iou for d in decoded],
                                   ctx.prior, heatmaps, [d.low_res_logits for d in decoded])
        return boxes, sources, decoded, np.asarray(self.ranking().scores(feats), dtype=np.float64)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        boxes, sources, decoded, scores = self.scored_candidates(ctx)
        best = int(np.argmax(scores))  # first maximum: the candidate order is deterministic
        box, dec, done = refine_from(ctx, np.asarray(boxes[best], dtype=np.float64), decoded[best], self.rounds)
        pts, labels = no_points()
        ranking = self.ranking()
        return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou, "+".join(sorted(ctx.heatmaps)),
                               {"chosen": sources[best], "score": float(scores[best]), "n_candidates": len(boxes),
                                "rounds": done, "ranking": ranking.name, "k_masks": int(ranking.k_masks)},
                               candidate_boxes=np.asarray(boxes, dtype=np.float64).reshape(-1, 4))

    def params(self) -> dict:
        return {"weights": self.weights, "rounds": self.rounds}


__all__ = ["RankedStrategy"]
