"""CAM methods over pytorch-grad-cam, producing heatmaps at the original image size.

The layout follows pytorch-grad-cam's: one file per method implemented here, the registry, the
extractor.

==========================  =================================================================
file                        what
==========================  =================================================================
``registry.py``             :data:`CAM_METHODS` (every method by name, a :class:`CamMethod`
                            each), the smoothed variants
                            (``gradcam@aug`` / ``@eigen`` / ``@aug-eigen``, :data:`SMOOTHINGS`)
``extractor.py``            :class:`CamExtractor` (the one adapter: preprocess, hooks, target
                            class, ReLU, resize, min-max), :func:`compute_heatmap`,
                            :class:`HeatmapResult`, :func:`normalize_heatmap`
``seeded_random.py``        ``randomcam``: the paper's random baseline from a passed generator
``topk_scorecam.py``        ``scorecam``: Score-CAM on the top-k channels (:class:`TopKScoreCAM`)
``fast_ablationcam.py``     ``ablationcam``: Ablation-CAM on the layers after the target only
                            (:class:`FastAblationCAM`)
==========================  =================================================================

Grad-CAM, Grad-CAM++, HiResCAM, XGrad-CAM, Eigen-CAM and LayerCAM are pytorch-grad-cam's own
classes. The parameters of the two slow methods (and their defaults) live in
:mod:`cam2seg_utils.cam_options` (torch-free, so configs can validate them).

>>> with CamExtractor(classifier, "gradcam") as cam:      # doctest: +SKIP
...     heatmap = cam(image).heatmap                     # (H, W) float32 in [0, 1]
"""
from cam2seg_utils.cam_options import (
    DEFAULT_ABLATION_CHANNELS,
    DEFAULT_CAM_BATCH_SIZE,
    DEFAULT_SCORECAM_CHANNELS,
    DEFAULT_SCORECAM_SELECTION,
    SCORECAM_SELECTIONS,
    CamOptions,
)

from .registry import (AUG_SMOOTH_TRANSFORMS, CAM_METHODS, SMOOTHED_METHODS, SMOOTHINGS, CamMethod, cam_label,
                       floor_cam, slow_cams)

#: the names that need torch, imported on first use: the registry and its traits stay cheap to
#: import (the config reads ``slow_cams()`` without loading torch)
_TORCH_NAMES = {"CamExtractor": "extractor", "HeatmapResult": "extractor", "compute_heatmap": "extractor",
                "normalize_heatmap": "extractor", "FastAblationCAM": "fast_ablationcam",
                "SeededRandomCAM": "seeded_random", "TopKScoreCAM": "topk_scorecam"}


def __getattr__(name: str):
    if name in _TORCH_NAMES:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_TORCH_NAMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AUG_SMOOTH_TRANSFORMS",
    "CAM_METHODS",
    "SMOOTHED_METHODS",
    "SMOOTHINGS",
    "SCORECAM_SELECTIONS",
    "DEFAULT_CAM_BATCH_SIZE",
    "DEFAULT_SCORECAM_CHANNELS",
    "DEFAULT_SCORECAM_SELECTION",
    "DEFAULT_ABLATION_CHANNELS",
    "CamMethod",
    "cam_label",
    "floor_cam",
    "slow_cams",
    "CamOptions",
    "CamExtractor",
    "FastAblationCAM",
    "HeatmapResult",
    "SeededRandomCAM",
    "TopKScoreCAM",
    "compute_heatmap",
    "normalize_heatmap",
]
