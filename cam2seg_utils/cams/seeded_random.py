"""``randomcam``: the paper's random baseline, reproducible.

A raw map of i.i.d. uniform ``[-1, 1]`` values at the CAM layer resolution, drawn from the
``numpy.random.Generator`` passed in; it then goes through the same ReLU / resize / min-max steps
as every other method (:mod:`.extractor`). pytorch-grad-cam's own ``RandomCAM`` draws random
channel *weights* from numpy's global state and is therefore neither reproducible nor
activation-independent; it is not used.
"""
from __future__ import annotations

import numpy as np
from pytorch_grad_cam.base_cam import BaseCAM
from torch import nn

__all__ = ["SeededRandomCAM"]


class SeededRandomCAM(BaseCAM):
    """Random baseline: raw map ~ U[-1, 1] i.i.d. at the target layer resolution ``(h, w)``.

    The values come from ``self.rng`` (a ``numpy.random.Generator`` set before each call); no
    global random state is touched, so the same seed gives the same map.
    """

    def __init__(self, model: nn.Module, target_layers: list[nn.Module], reshape_transform=None) -> None:
        super().__init__(model, target_layers, reshape_transform, uses_gradients=False)
        self.rng: np.random.Generator | None = None

    def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth=False):
        if self.rng is None:
            raise ValueError("randomcam needs rng: pass a numpy.random.Generator (see cam2seg_utils.seeding.make_rng)")
        b, h, w = activations.shape[0], activations.shape[-2], activations.shape[-1]
        return self.rng.uniform(-1.0, 1.0, size=(b, h, w)).astype(np.float32)
