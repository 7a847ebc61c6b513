"""``refine``: iterative re-prompting from Algorithm 1's box.

box -> mask -> tight box of the mask -> mask ... for at most ``rounds`` extra decoder calls,
stopping as soon as the new box overlaps the previous one by ``stop_iou`` or more (a fixed
point) or the mask is empty. With ``use_mask_input`` the previous low-resolution logits go back
in as a dense ``mask_input`` prompt (SAM's interactive refinement); LiteMedSAM was trained with
boxes only, so the default leaves it off (chosen on validation images, see the book's sweep).

:func:`refine_from` is the loop itself; ``image-prior`` and ``prior-cam`` end with it too.
"""
from __future__ import annotations

import numpy as np

from .algorithm1 import Algorithm1
from .base import Decoded, PromptContext, PromptingStrategy, StrategyOutcome, no_points, register
from .geometry import box_iou, tight_box


def refine_from(ctx: PromptContext, box: np.ndarray, decoded: Decoded, rounds: int = 3,
                stop_iou: float = 0.9, use_mask_input: bool = False) -> tuple[np.ndarray, Decoded, int]:
    """Re-prompt with the tight box of the current mask until stable.

    Args:
        box: ``[x_min, y_min, x_max, y_max]`` that produced ``decoded``.
        decoded: the segmenter's answer to ``box``.
    Returns:
        ``(last box, last decoded, rounds done)``.
    """
    done = 0
    for _ in range(int(rounds)):
        new_box = tight_box(decoded.mask)
        if new_box is None or box_iou(new_box, box) >= stop_iou:
            break
        mask_input = decoded.low_res_logits[None] if use_mask_input else None
        decoded, = ctx.decode(boxes=new_box[None], mask_input=mask_input)
        box = new_box
        done += 1
    return box, decoded, done


@register
class Refine(PromptingStrategy):
    name = "refine"
    description = "Algorithm 1's box, then the tight box of each mask, until stable (<= rounds)"
    tuned_on = "0 new (p, rounds chosen on 69 training-split masks)"

    def __init__(self, percentile: float = 50.0, rounds: int = 3, stop_iou: float = 0.9,
                 use_mask_input: bool = False) -> None:
        self.percentile = float(percentile)
        self.rounds = int(rounds)
        self.stop_iou = float(stop_iou)
        self.use_mask_input = bool(use_mask_input)

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        first = Algorithm1(percentile=self.percentile).run(ctx)
        start = Decoded(first.mask, first.confidence, np.zeros((256, 256), np.float32))
        if self.use_mask_input:  # the logits are needed: decode the first box again through ctx
            start, = ctx.decode(boxes=first.box[None])
        box, dec, done = refine_from(ctx, first.box, start, self.rounds, self.stop_iou, self.use_mask_input)
        pts, labels = no_points()
        return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou, first.cam,
                               {"rounds": done, "used_fallback": first.details.get("used_fallback", False)})
