"""Algorithm 1 of the paper (CAM heatmap -> box + point prompts), and the ``algorithm1`` strategy.

The algorithm itself is :func:`generate_prompts` (steps 7-20, unchanged from the paper); the
:class:`Algorithm1` strategy runs it inside the prompting contract (:mod:`.base`): it decodes
the ``variant`` (``"box"``, the grid's headline, ``"box+points"`` as the paper sends, or
``"points"``) and reports the segmenter's predicted IoU as its confidence. The grid's
Algorithm 1 rows are this strategy too, one per parameter combination x variant, run by the
pipeline on every CAM as it is made (:class:`cam2seg_utils.pipeline.ImagePass`).

Coordinate conventions
----------------------
* ``heatmap`` is a ``float`` array of shape ``(H, W)`` indexed ``[row, col] = [y, x]``, values in
  ``[0, 1]`` (see :func:`cam2seg_utils.cams.normalize_heatmap`).
* Boxes are ``[x_min, y_min, x_max, y_max]`` (x = column, y = row) in original-image pixels,
  inclusive pixel indices, as SAM/MedSAM expect.
* Points are ``(N, 2)`` arrays of ``(x, y)``; labels ``(N,)`` with 1 = foreground.

Defaults (the paper gives none)
-------------------------------
``percentile=50``, chosen on validation images, never on test images: on 60 real ISIC 2017
images of the validation part of the ``local-isic`` split (zero-shot EfficientNet-Lite0,
LiteMedSAM, box prompt), mean IoU by percentile was

=========== ===== ===== ===== ===== ===== ===== ===== =====
percentile   20    30    40    50    60    70    80    90
GradCAM     0.540 0.577 0.601 0.607 0.591 0.546 0.450 0.316
GradCAM++   0.532 0.577 0.604 0.624 0.624 0.559 0.443 0.332
=========== ===== ===== ===== ===== ===== ===== ===== =====

(whole-image box: 0.506). A high percentile keeps only the CAM's peak, which sits inside the
lesion, so its box is too small and MedSAM segments a part of the lesion; at the median the box
spans the lesion. Reproduce with ``cam2seg grid --profile local-isic --evaluate-on val
--percentile 20 30 40 50 60 70 80 90 --prompt-variants box``.
``num_points=3``: a few positive points add evidence without over-constraining the decoder; MedSAM
was trained on box prompts, so the box stays the main prompt.
``amplification=2.0``: squaring the heatmap concentrates sampling on the peak, so sampled points
land in the most confident region. ``eps=1e-8`` keeps every pixel sampleable (step 12) so that a
flat heatmap still yields prompts instead of a division by zero.

These are parameters of every experiment and are swept in the book; nothing here uses ground truth.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base import PromptContext, PromptingStrategy, StrategyOutcome, no_points, register

#: Step 9: fewer hot coordinates than this and the box comes from sampled points instead.
MIN_HOT_COORDINATES = 4


@dataclass(frozen=True)
class PromptParams:
    """Parameters of Algorithm 1 (see the module docstring for why these defaults)."""

    percentile: float = 50.0
    num_points: int = 3
    amplification: float = 2.0
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if not 0.0 <= self.percentile <= 100.0:
            raise ValueError(f"percentile must be in [0, 100], got {self.percentile}")
        if self.num_points < 1:
            raise ValueError(f"num_points must be >= 1, got {self.num_points}")
        if not np.isfinite(self.amplification) or self.amplification < 0:
            raise ValueError(f"amplification must be a finite number >= 0, got {self.amplification}")
        if not self.eps > 0:
            raise ValueError(f"eps must be > 0, got {self.eps}")


@dataclass
class Prompts:
    """Output of Algorithm 1 for one heatmap.

    Attributes:
        box: ``(4,)`` float64 ``[x_min, y_min, x_max, y_max]`` in original-image pixels.
        points: ``(N, 2)`` float64 ``(x, y)`` point prompts, always inside ``box``.
        point_labels: ``(N,)`` int64, all 1 (foreground).
        noisy_mask: ``(H, W)`` bool, ``heatmap >= threshold`` (step 7, the CAM-baseline mask).
        threshold: the percentile threshold of step 7.
        used_fallback: True when fewer than 4 hot pixels forced the sampled box (steps 12-17).
    """

    box: np.ndarray
    points: np.ndarray
    point_labels: np.ndarray
    noisy_mask: np.ndarray = field(repr=False)
    threshold: float
    used_fallback: bool


def _check_heatmap(heatmap: np.ndarray) -> np.ndarray:
    heatmap = np.asarray(heatmap)
    if heatmap.ndim != 2 or heatmap.shape[0] < 1 or heatmap.shape[1] < 1:
        raise ValueError(f"heatmap must be a non-empty 2-D (H, W) array, got shape {heatmap.shape}")
    if not np.issubdtype(heatmap.dtype, np.number):
        raise ValueError(f"heatmap must be numeric, got dtype {heatmap.dtype}")
    heatmap = heatmap.astype(np.float64, copy=False)
    if not np.all(np.isfinite(heatmap)):
        raise ValueError("heatmap contains NaN or inf; normalise it with cams.normalize_heatmap first")
    return heatmap


def noisy_mask(heatmap: np.ndarray, percentile: float) -> tuple[np.ndarray, float]:
    """Step 7: ``threshold = Percentile(heatmap, percentile)``, ``mask = heatmap >= threshold``.

    Returns ``(mask (H, W) bool, threshold)``. A flat heatmap gives an all-True mask (every pixel
    equals the threshold), i.e. a whole-image box: the honest answer of an uninformative CAM.
    """
    heatmap = _check_heatmap(heatmap)
    threshold = float(np.percentile(heatmap, percentile))
    return heatmap >= threshold, threshold


def _sampling_probabilities(values: np.ndarray, amplification: float, eps: float) -> np.ndarray:
    """Steps 12-14: ``flattened ** amplification + eps``, normalised to sum to one."""
    weights = np.power(np.clip(values, 0.0, None), amplification) + eps
    return weights / weights.sum()


def _sample_indices(weights_of: np.ndarray, num_points: int, amplification: float, eps: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Draw ``num_points`` flat indices of ``weights_of`` (1-D) with probability ∝ value**amp.

    With replacement, as ``Sample`` in the paper (numpy's ``choice`` default): without it, a sharp
    peak would force the later draws onto low-probability pixels far from the peak.
    """
    probabilities = _sampling_probabilities(weights_of, amplification, eps)
    nonzero = np.flatnonzero(probabilities > 0)  # step 13; eps > 0 keeps every index valid
    probabilities = probabilities[nonzero] / probabilities[nonzero].sum()
    return nonzero[rng.choice(nonzero.size, size=num_points, replace=True, p=probabilities)]


def sample_points(heatmap: np.ndarray, num_points: int, amplification: float,
                  rng: np.random.Generator, eps: float = 1e-8,
                  box: np.ndarray | None = None) -> np.ndarray:
    """Step 19: sample ``num_points`` ``(x, y)`` points with probability ∝ ``heatmap**amplification``.

    Args:
        heatmap: ``(H, W)`` heatmap in [0, 1].
        box: optional ``[x_min, y_min, x_max, y_max]``; sampling is restricted to pixels inside it
            (inclusive), so that a positive point never contradicts the box prompt.

    Returns:
        ``(num_points, 2)`` float64 array of ``(x, y)`` pixel coordinates.
    """
    heatmap = _check_heatmap(heatmap)
    h, w = heatmap.shape
    if box is None:
        x0, y0, x1, y1 = 0, 0, w - 1, h - 1
    else:  # clip to the image so a box from elsewhere (the demo, a user) cannot index outside it
        x0, x1 = (int(np.clip(round(float(v)), 0, w - 1)) for v in (box[0], box[2]))
        y0, y1 = (int(np.clip(round(float(v)), 0, h - 1)) for v in (box[1], box[3]))
        if x1 < x0 or y1 < y0:
            raise ValueError(f"box {list(box)} is empty (x_max < x_min or y_max < y_min)")
    region = heatmap[y0:y1 + 1, x0:x1 + 1]
    flat = _sample_indices(region.ravel(), num_points, amplification, eps, rng)
    ys, xs = np.divmod(flat, region.shape[1])  # step 16: y = idx // width, x = idx mod width
    return np.stack([xs + x0, ys + y0], axis=1).astype(np.float64)


def generate_prompts(heatmap: np.ndarray, params: PromptParams, rng: np.random.Generator) -> Prompts:
    """Algorithm 1, steps 7-20.

    Args:
        heatmap: ``(H, W)`` float heatmap in [0, 1] at the original image size (finite).
        params: percentile, num_points, amplification, eps.
        rng: the only source of randomness (fallback sampling and point sampling).

    Returns:
        :class:`Prompts` with the box ``[x_min, y_min, x_max, y_max]`` and ``(x, y)`` points in
        original-image pixels.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (randomness only through a passed generator)")
    heatmap = _check_heatmap(heatmap)
    mask, threshold = noisy_mask(heatmap, params.percentile)
    rows, cols = np.nonzero(mask)  # step 8: coordinates as (row, col) = (y, x)
    used_fallback = rows.size < MIN_HOT_COORDINATES
    if not used_fallback:
        box = np.array([cols.min(), rows.min(), cols.max(), rows.max()], dtype=np.float64)  # step 10
    else:
        sampled = sample_points(heatmap, params.num_points, params.amplification, rng, params.eps)
        box = np.array([sampled[:, 0].min(), sampled[:, 1].min(),
                        sampled[:, 0].max(), sampled[:, 1].max()], dtype=np.float64)  # step 17
    points = sample_points(heatmap, params.num_points, params.amplification, rng, params.eps, box=box)
    return Prompts(box=box, points=points, point_labels=np.ones(len(points), dtype=np.int64),
                   noisy_mask=mask, threshold=threshold, used_fallback=bool(used_fallback))


# --------------------------------------------------------------------------------------------
# the strategy
# --------------------------------------------------------------------------------------------


def params_key(percentile: float, num_points: int, amplification: float) -> str:
    """``"p50-n3-a2"``: one parameter combination in the generator keys and cache names."""
    return f"p{percentile:g}-n{int(num_points)}-a{amplification:g}"


#: what chose Algorithm 1's parameters (the module docstring's sweep): no new mask, the
#: percentile chosen on 69 training-split masks; the strategies that reuse its percentile say so too
TUNED_ON = "0 new (p = 50 chosen on 69 training-split masks)"


@register
class Algorithm1(PromptingStrategy):
    """The paper's loop as a strategy: one percentile x points x amplification combination and
    one ``variant`` of what is sent to the segmenter.

    It runs on every CAM the pipeline makes (``every_cam``), in three steps so that a full-size
    heatmap need not outlive its turn and the prompts of all CAMs go to the decoder together:
    :meth:`draw` (Algorithm 1 on the heatmap, generator ``make_rng(*seeds, cam,
    params_key)``: the variants of one combination share one draw), :meth:`request` (the prompt
    of the variant) and :meth:`finish` (its decoded mask). :meth:`run` does the three at once.
    """

    name = "algorithm1"
    every_cam = True
    description = "the paper's Algorithm 1: percentile box (+ sampled points) of one CAM"
    tuned_on = TUNED_ON

    @classmethod
    def label(cls, cam_label: str = "") -> str:
        return f"Algorithm 1, {cam_label}" if cam_label else "Algorithm 1"

    def __init__(self, percentile: float = PromptParams().percentile, num_points: int = PromptParams().num_points,
                 amplification: float = PromptParams().amplification, variant: str = "box") -> None:
        if variant not in ("box", "box+points", "points"):
            raise ValueError(f"variant must be 'box', 'box+points' or 'points', got {variant!r}")
        self.percentile = float(percentile)
        self.num_points = int(num_points)
        self.amplification = float(amplification)
        self.variant = variant

    def prompt_params(self) -> PromptParams:
        return PromptParams(percentile=self.percentile, num_points=self.num_points, amplification=self.amplification)

    def rng_key(self, cam: str | None) -> tuple:
        return (*([cam] if cam else []), params_key(self.percentile, self.num_points, self.amplification))

    def draw(self, heatmap: np.ndarray, rng: np.random.Generator) -> Prompts:
        """Algorithm 1 (steps 7-20) on one ``(H, W)`` heatmap."""
        return generate_prompts(heatmap, self.prompt_params(), rng)

    def request(self, prompts: Prompts) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """``(box (4,) or None, points (N, 2) or None, labels (N,) or None)``: what the variant sends."""
        box = np.asarray(prompts.box, dtype=np.float64) if self.variant != "points" else None
        if self.variant == "box":
            return box, None, None
        return box, np.asarray(prompts.points, dtype=np.float64), np.asarray(prompts.point_labels, dtype=np.int64)

    def finish(self, ctx: PromptContext, cam: str, prompts: Prompts) -> StrategyOutcome:
        """Decode the variant's prompt (answered by the decode cache when the pipeline decoded it)."""
        box, pts, labels = self.request(prompts)
        dec, = ctx.decode(boxes=None if box is None else box[None], points=None if pts is None else pts[None],
                          point_labels=None if labels is None else labels[None])
        if pts is None:
            pts, labels = no_points()
        return StrategyOutcome(dec.mask, box, pts, labels, dec.predicted_iou, cam,
                               {"used_fallback": bool(prompts.used_fallback), "threshold": prompts.threshold})

    def run(self, ctx: PromptContext) -> StrategyOutcome:
        (cam, heat), = ctx.heatmaps.items()
        return self.finish(ctx, cam, self.draw(heat, ctx.rng))


__all__ = ["PromptParams", "Prompts", "MIN_HOT_COORDINATES", "params_key", "noisy_mask", "sample_points",
           "generate_prompts", "Algorithm1", "TUNED_ON"]
