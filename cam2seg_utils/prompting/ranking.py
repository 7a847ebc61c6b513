"""Decode a set of candidate boxes, rank them without ground truth, refine the winner.

The shared back half of ``candidates``, ``prior-cam`` and ``image-prior``: they differ in where
the boxes come from and in the weights of the :class:`~.scoring.LinearScore` that ranks them.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from .base import PromptContext, StrategyOutcome, no_points
from .refine import refine_from
from .scoring import LinearScore, candidate_features


def rank_and_refine(ctx: PromptContext, boxes: Sequence[np.ndarray], sources: Sequence[str], score: LinearScore,
                    heatmaps: Mapping[str, np.ndarray], rounds: int, cam: str = "") -> StrategyOutcome:
    """Decode ``boxes`` in one batch, score each mask with ``score`` (features from
    :func:`~.scoring.candidate_features` with ``heatmaps``), refine the best ``rounds`` times.

    Returns the refined mask; confidence = the segmenter's predicted IoU of the final mask;
    ``details`` names the chosen candidate's source and its score.
    """
    decoded = ctx.decode_boxes(boxes)
    feats = candidate_features([d.mask for d in decoded], boxes, [d.predicted_iou for d in decoded],
                               ctx.prior, heatmaps)
    scores = np.array([score(f) for f in feats])
    best = int(np.argmax(scores))  # first maximum: the candidate order is deterministic
    box, dec, done = refine_from(ctx, np.asarray(boxes[best], dtype=np.float64), decoded[best], rounds)
    pts, labels = no_points()
    return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou, cam,
                           {"chosen": sources[best], "score": float(scores[best]), "n_candidates": len(boxes),
                            "rounds": done})


__all__ = ["rank_and_refine"]
