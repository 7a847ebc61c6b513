"""``scorecam``: Score-CAM on the top-k channels of the target layer (:class:`TopKScoreCAM`).

ScoreCAM scores one masked copy of the input per channel of the target layer (320-2048 of them).
:class:`TopKScoreCAM` scores only the ``scorecam_channels`` = k channels ranked highest by
``scorecam_selection`` -- ``"variance"`` (spatial variance of the activation map, as in the
"Faster Score-CAM" variant) or ``"gradient"`` (the Grad-CAM weight: mean gradient of the class
score; one backward pass). The other channels get weight 0. Score-CAM's weights are a softmax
over the channel scores, and a softmax's ratios do not depend on which other channels take part,
so the selected channels keep exactly the *relative* weights of the full method and after min-max
normalisation the top-k map differs from the full one only by the dropped channels' (small)
softmax mass. ``None`` = every channel = upstream ``ScoreCAM`` (same numbers; masked inputs are
built per batch, so memory is ``batch_size`` images, not ``C``).

The defaults (:data:`~cam2seg_utils.cam_options.DEFAULT_SCORECAM_CHANNELS`,
:data:`~cam2seg_utils.cam_options.DEFAULT_SCORECAM_SELECTION`) were chosen on validation images
of the real ISIC 2017 folder against the full method: ``benchmarks/bench_slow_cams.py``,
summarised in ``book/scaling.md``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_grad_cam.base_cam import BaseCAM
from torch import nn

from cam2seg_utils.atomic import progress_bar
from cam2seg_utils.cam_options import DEFAULT_CAM_BATCH_SIZE, CamOptions

__all__ = ["TopKScoreCAM"]


class TopKScoreCAM(BaseCAM):
    """Score-CAM on the ``channels`` (k) channels ranked highest by ``selection``.

    For each selected channel ``c`` the activation map ``A_c`` (``(h, w)``) is upsampled to the
    network input (bilinear, corners aligned, as upstream), min-max scaled to ``[0, 1]``, and
    multiplies the input image; the masked images run through the model ``batch_size`` at a time
    and give the target scores ``s_c``. Weights: ``softmax(s)`` over the selected channels, 0 for
    the others. ``channels=None`` (or >= C) scores every channel, which is upstream ``ScoreCAM``
(constant channels share one pass on the all-zero masked input they all give).

    ``selection``: ``"variance"`` (spatial variance of ``A_c``) or ``"gradient"`` (mean gradient
    of the target score over ``A_c``, i.e. the Grad-CAM weight; needs a backward pass, so the
    object then has ``uses_gradients=True``). Ties keep the lower channel index.
    """

    def __init__(self, model: nn.Module, target_layers: list[nn.Module], reshape_transform=None, *,
                 channels: int | None = None, selection: str = "variance",
                 batch_size: int = DEFAULT_CAM_BATCH_SIZE) -> None:
        CamOptions(batch_size=batch_size, scorecam_channels=channels, scorecam_selection=selection)  # validates
        uses_gradients = selection == "gradient" and channels is not None
        super().__init__(model, target_layers, reshape_transform, uses_gradients=uses_gradients)
        self.channels = None if channels is None else int(channels)
        self.selection = selection
        self.batch_size = int(batch_size)
        self.progress = False
        self.last_selected: np.ndarray | None = None  # channel indices of the last call (inspection)
        self.last_passes = 0                            # masked images scored in the last call

    def select_channels(self, activations: np.ndarray, grads: np.ndarray | None) -> np.ndarray:
        """Indices (sorted ascending) of the channels to score, from one image's ``(C, h, w)``."""
        n = activations.shape[0]
        if self.channels is None or self.channels >= n:
            return np.arange(n)
        if self.selection == "variance":
            rank = activations.reshape(n, -1).astype(np.float64).var(axis=1)
        else:
            if grads is None:
                raise ValueError("scorecam_selection='gradient' needs the gradients of the target layer")
            rank = grads.reshape(n, -1).astype(np.float64).mean(axis=1)
        rank = np.where(np.isfinite(rank), rank, -np.inf)
        order = np.lexsort((np.arange(n), -rank))  # largest first; ties: lower index first
        return np.sort(order[: self.channels])

    def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):
        size = input_tensor.shape[-2:]
        weights = np.zeros(activations.shape[:2], dtype=np.float32)
        with torch.no_grad():
            for b, (target, image) in enumerate(zip(targets, input_tensor)):
                idx = self.select_channels(activations[b], None if grads is None else grads[b])
                self.last_selected = idx
                # A constant map (e.g. a dead ReLU channel: ~half of Lite0's 1280 on ISIC images)
                # min-max scales to exactly 0, so its masked input is image * 0 for every such
                # channel: one forward pass scores them all (same numbers, fewer passes).
                maps_c = activations[b, idx].reshape(len(idx), -1)
                flat = maps_c.max(axis=1) == maps_c.min(axis=1)
                scores = np.empty(len(idx), dtype=np.float64)
                if flat.any():
                    scores[flat] = target(self.model(image[None] * 0.0)[0]).cpu().item()
                varying = idx[~flat]
                varying_scores: list[float] = []
                starts = range(0, len(varying), self.batch_size)
                for start in progress_bar(starts, self.progress, desc="scorecam", unit="batch", leave=False):
                    chunk = torch.from_numpy(np.ascontiguousarray(activations[b, varying[start:start + self.batch_size]]))
                    maps = F.interpolate(chunk[None].to(self.device), size=size, mode="bilinear",
                                         align_corners=True)[0]
                    spread = maps.view(maps.shape[0], -1)
                    lo, hi = spread.min(dim=-1)[0][:, None, None], spread.max(dim=-1)[0][:, None, None]
                    maps = (maps - lo) / (hi - lo + 1e-8)
                    outputs = self.model(image[None] * maps[:, None])
                    varying_scores.extend(target(o).cpu().item() for o in outputs)
                scores[~flat] = varying_scores
                self.last_passes = int(flat.any()) + len(varying)
                weights[b, idx] = torch.softmax(torch.tensor(scores, dtype=torch.float32), dim=-1).numpy()
        return weights
