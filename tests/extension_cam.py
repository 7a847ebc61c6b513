"""A new CAM method in one file (the extension bar's test): ``test-meancam``, the target layer's
activations averaged with equal channel weights (no gradient, no seed), registered with its traits."""
from __future__ import annotations

import numpy as np

from cam2seg_utils.cams.registry import CAM_METHODS, CamMethod

NAME = "test-meancam"


def _build(model, target_layers, reshape_transform, family, options):  # noqa: ARG001
    from pytorch_grad_cam.base_cam import BaseCAM

    class MeanCAM(BaseCAM):
        def __init__(self):
            super().__init__(model, target_layers, reshape_transform, uses_gradients=False)

        def get_cam_weights(self, input_tensor, target_layer, targets, activations, grads):  # noqa: ARG002
            return np.ones(activations.shape[:2], dtype=np.float32)   # (B, C): every channel alike

    return MeanCAM()


METHOD = CamMethod(NAME, _build, uses_gradients=False, label="Mean-CAM",
                   description="mean of the target layer's channels (a test's method)")
CAM_METHODS.register(NAME, METHOD)
