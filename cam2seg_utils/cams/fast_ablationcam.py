"""``ablationcam``: Ablation-CAM on the network after the target layer (:class:`FastAblationCAM`).

AblationCAM scores one ablated copy per channel of the target layer (320-2048 of them).
:class:`FastAblationCAM` runs the network **once** up to the target layer and only the part after
it (global pooling + classifier for CNNs; the last block's remainder + head for ViT / Swin) on
``batch_size`` ablated copies of the target activation at a time: a forward hook on the target
layer replaces its batch-1 output by the ablated batch, and the layers after it broadcast. That
is upstream ``AblationCAM``'s arithmetic (which re-runs the *whole* network for every channel) at
a fraction of its cost; a model whose later layers cannot take the larger batch falls back to
whole-network passes.

``ablation_channels`` (upstream's ``ratio_channels_to_ablate`` r) ablates upstream's experimental
channel subset (the r fraction of channels most and the r fraction least inside the EigenCAM
mask, so at most 2 r C channels); skipped channels get weight 0, as upstream. ``None`` / 1.0 =
every channel. One deviation from upstream, on purpose: for activations that can be negative,
the ablation value is ``min(activation) - 1e7`` for every ablated copy (upstream lowers it by
another 1e7 for each copy in a batch, so its weights depended on ``batch_size``); for
non-negative activations (ReLU / ReLU6 networks) both zero the channel. The hooks are removed
after each call, even on error; the model is never modified.

The default (:data:`~cam2seg_utils.cam_options.DEFAULT_ABLATION_CHANNELS`) and its fidelity
against upstream: ``benchmarks/bench_slow_cams.py``, ``book/scaling.md``.
"""
from __future__ import annotations

import numpy as np
import torch
from pytorch_grad_cam.ablation_layer import AblationLayer
from pytorch_grad_cam.base_cam import BaseCAM
from torch import nn

from cam2seg_utils.atomic import progress_bar
from cam2seg_utils.cam_options import DEFAULT_CAM_BATCH_SIZE, CamOptions

__all__ = ["FastAblationCAM"]


class FastAblationCAM(BaseCAM):
    """Ablation-CAM: weight ``w_c = (y - y_c) / y``, ``y`` the target score, ``y_c`` the score
    with channel ``c`` of the target layer ablated; computed on the network *after* the target
    layer only (see the module docstring, "Speed").

    ``ratio`` in (0, 1] is upstream's ``ratio_channels_to_ablate`` (channel subset from
    ``AblationLayer.activations_to_be_ablated``; not ablated -> weight 0). ``channel_axis`` is the
    channel dimension of the target layer's *raw* output: 1 for CNN ``(B, C, h, w)``, -1 for ViT
    tokens ``(B, N, C)`` and timm Swin ``(B, H, W, C)``.
    """

    ABLATION_OFFSET = 1e7  # upstream's ABLATION_VALUE
    # Ablated copies per pass on the tail route: at least batch_size, and as many as fit in this
    # many bytes of target activations (256 for Lite0's 1280 x 7 x 7), since each pass re-runs
    # the network up to the target layer once and the layers after it are cheap.
    TAIL_BATCH_BYTES = 64 * 2**20

    def __init__(self, model: nn.Module, target_layers: list[nn.Module], reshape_transform=None, *,
                 ratio: float = 1.0, batch_size: int = DEFAULT_CAM_BATCH_SIZE, channel_axis: int = 1) -> None:
        CamOptions(batch_size=batch_size, ablation_channels=ratio)  # validates
        super().__init__(model, target_layers, reshape_transform, uses_gradients=False)
        self.ratio = float(ratio)
        self.ratio_channels_to_ablate = self.ratio  # upstream's name
        self.batch_size = int(batch_size)
        self.channel_axis = int(channel_axis)
        self.progress = False
        self.tail_only: bool | None = None  # None: not tried yet; False: whole-network passes

    def channels_to_ablate(self, activations: np.ndarray) -> np.ndarray:
        """Sorted unique channel indices to ablate for one image's ``(C, h, w)`` activations."""
        if self.ratio >= 1.0:
            return np.arange(activations.shape[0])
        return np.unique(AblationLayer().activations_to_be_ablated(activations, self.ratio)).astype(np.int64)

    def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):
        captured: dict[str, torch.Tensor] = {}
        self._replacement: dict[str, torch.Tensor] = {}

        def hook(module, inputs, output):
            if "batch" in self._replacement:
                return self._replacement["batch"]
            captured["out"] = output.detach()
            return None

        weights = np.zeros(activations.shape[:2], dtype=np.float32)
        handle = target_layer.register_forward_hook(hook)
        try:
            with torch.no_grad():
                for b, (target, image) in enumerate(zip(targets, input_tensor)):
                    x1 = image[None]
                    self._replacement.clear()
                    original = float(target(self.model(x1)[0]).cpu().item())
                    out = captured["out"]
                    lowest = out.min()
                    value = 0.0 if float(lowest) == 0.0 else float(lowest) - self.ABLATION_OFFSET
                    idx = self.channels_to_ablate(activations[b])
                    new_scores = np.full(activations.shape[1], original, dtype=np.float32)
                    per_pass = max(self.batch_size, self.TAIL_BATCH_BYTES // max(1, out.numel() * out.element_size()))
                    starts = range(0, len(idx), per_pass)
                    for start in progress_bar(starts, self.progress, desc="ablationcam", unit="batch", leave=False):
                        chunk = idx[start:start + per_pass]
                        batch = out.expand(len(chunk), *out.shape[1:]).clone()
                        rows = torch.arange(len(chunk), device=batch.device)
                        batch.movedim(self.channel_axis, 1)[rows, torch.from_numpy(chunk).to(batch.device)] = value
                        new_scores[chunk] = self._scores(x1, batch, target)
                    original32 = np.float32(original)
                    weights[b] = (original32 - new_scores) / original32
        finally:
            handle.remove()
            self._replacement.clear()
        return weights

    def _scores(self, x1: torch.Tensor, ablated: torch.Tensor, target) -> np.ndarray:
        """Target scores of the ablated copies ``ablated`` (``n`` target-layer outputs): the
        batch-1 input runs up to the target layer and the hook hands on all ``n`` copies; models
        whose later layers cannot broadcast that batch get ``batch_size`` copies of the input per
        pass instead (whole-network passes, upstream's cost)."""
        n = ablated.shape[0]
        if self.tail_only is not False:
            self._replacement["batch"] = ablated
            try:
                outputs = self.model(x1)
                fits = outputs.shape[0] == n
            except RuntimeError:
                if self.tail_only:  # worked before: a real error, not a layout problem
                    raise
                fits = False
            if self.tail_only and not fits:
                raise RuntimeError(f"ablation pass gave {outputs.shape[0]} outputs for {n} ablated copies")
            self.tail_only = fits
            if fits:
                return np.float32([target(o).cpu().item() for o in outputs])
        scores = []
        for start in range(0, n, self.batch_size):
            part = ablated[start:start + self.batch_size]
            self._replacement["batch"] = part
            outputs = self.model(x1.expand(part.shape[0], *x1.shape[1:]))
            scores.extend(target(o).cpu().item() for o in outputs)
        return np.float32(scores)
