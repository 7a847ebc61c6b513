"""Prompting strategies: one image's heatmaps + image embedding -> final mask, without ground truth.

The paper's Algorithm 1 lives here too (:mod:`.algorithm1`: :func:`generate_prompts`, unchanged,
and the ``algorithm1`` strategy around it). Each
module is one strategy registered in :data:`STRATEGIES`:

==================  ============================================================================
name                what
==================  ============================================================================
``algorithm1``      the paper's percentile box (+ points) of one CAM
``component``       box of the hot connected component with the most CAM mass
``refine``          Algorithm 1's box, then the tight box of each mask until stable (<= 3 rounds)
``cam-ensemble``    Algorithm 1 on the mean of the normalised heatmaps
``candidates``      CAM ladder + image-prior boxes in one decoder batch, ranked GT-free (default)
``prior-cam``       the image-prior boxes ranked with the CAM's mass as a tie-breaker
``image-prior``     floor: dark / pigmented regions and centred boxes, ranked without the CAM
``whole-image``     floor: the whole-image box (no classifier)
``centred-box``     floor: the centred box over 60 % of each side (no classifier)
==================  ============================================================================

>>> from cam2seg_utils.prompting import PromptContext, build_strategy      # doctest: +SKIP
>>> ctx = PromptContext(image, segmenter.embed(image), segmenter, {"gradcam": heat}, rng)
>>> outcome = build_strategy("candidates")(ctx)     # outcome.mask, .box, .confidence
"""
from __future__ import annotations

from . import algorithm1, cam_ensemble, candidates, component, floors, image_prior, prior_cam, refine  # noqa: F401  (registration)
from . import consensus_ranking, learned_ranking  # noqa: F401  (the rankings beside the linear weight sets)
from .algorithm1 import PromptParams, Prompts, generate_prompts, noisy_mask
from .base import (
    MAX_PROMPTS_PER_IMAGE,
    STRATEGIES,
    Decoded,
    PromptContext,
    PromptingStrategy,
    StrategyOutcome,
    build_strategy,
    run_strategy,
)

#: The strategy the demo's first mask and the README's headline use.
DEFAULT_STRATEGY = "candidates"

__all__ = ["PromptParams", "Prompts", "generate_prompts", "noisy_mask", "STRATEGIES", "MAX_PROMPTS_PER_IMAGE",
           "DEFAULT_STRATEGY", "Decoded", "PromptContext", "PromptingStrategy", "StrategyOutcome", "build_strategy",
           "run_strategy"]
