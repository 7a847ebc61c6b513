"""The paper's names, in one place: its CAM methods, classifiers, settings and metrics.

Every other module imports these from here (``PAPER_CAMS`` has no other address;
``experiments.config.PAPER_MODELS`` / ``SETTINGS`` / ``BASELINES``, ``paper.METRICS``,
``experiments.summary.METRICS`` are the same objects). This module imports nothing, so the
lowest layer can use it.

Two spellings of each name exist and both are kept, each under its own name:

* the **registry names** the code runs (:data:`PAPER_CAMS`, :data:`PAPER_MODELS`): keys of
  ``cams.CAM_METHODS`` and of the classifier registry (timm names);
* the **paper's labels** as printed in its tables (:data:`PAPER_CAM_LABELS`,
  :data:`PAPER_MODEL_LABELS`), which :mod:`cam2seg_utils.paper` transcribes verbatim.
"""
from __future__ import annotations

#: The paper's five CAM methods (Table 1's rows), as registry names of ``cams.CAM_METHODS``.
PAPER_CAMS: tuple[str, ...] = ("gradcam", "gradcam++", "ablationcam", "scorecam", "randomcam")

#: Table 1's label of each of :data:`PAPER_CAMS`.
PAPER_CAM_LABELS: dict[str, str] = {
    "GradCAM": "gradcam",
    "GradCAM++": "gradcam++",
    "AblationCAM": "ablationcam",
    "ScoreCAM": "scorecam",
    "RandomCAM": "randomcam",
}

#: The paper's five classifiers, as registry (timm) names of the architectures it names.
PAPER_MODELS: tuple[str, ...] = ("resnet50", "mobilenetv2_100", "efficientnet_b0", "vit_base_patch16_224",
                                 "swin_base_patch4_window7_224")

#: The paper's labels of its classifiers, in the order of Table 2.
PAPER_MODEL_LABELS: tuple[str, ...] = ("EfficientNet", "MobileNet_v2", "ResNet50", "ViT", "Swin")

#: Paper label -> the registry name of exactly that architecture (a stand-in of the same family,
#: e.g. ``tf_efficientnet_lite0`` for EfficientNet, is labelled as a stand-in).
PAPER_MODEL_BY_LABEL: dict[str, str] = {
    "MobileNet_v2": "mobilenetv2_100", "EfficientNet": "efficientnet_b0", "ResNet50": "resnet50",
    "ViT": "vit_base_patch16_224", "Swin": "swin_base_patch4_window7_224",
}

#: The paper's two classifier settings: ImageNet weights as they are, and fine-tuned on ISIC 2017.
SETTINGS: tuple[str, ...] = ("zero-shot", "fine-tuned")

#: The segmenter baselines prompted without a CAM, measured on the same images: the tight
#: ground-truth box (oracle, the ceiling of box prompting), one ground-truth point (oracle prompt; no ceiling for
#: LiteMedSAM, trained with boxes) and the whole-image box
#: (no information, the floor). Not in the paper (its "ablation" rows are quoted from ref. [1]).
BASELINES: tuple[str, ...] = ("gt-box", "gt-point", "whole-image-box")

#: The paper's segmentation metrics, in the order of its tables (F1 equals Dice for binary masks).
METRICS: tuple[str, ...] = ("precision", "recall", "f1", "iou", "dice")

__all__ = ["PAPER_CAMS", "PAPER_CAM_LABELS", "PAPER_MODELS", "PAPER_MODEL_LABELS",
           "PAPER_MODEL_BY_LABEL", "SETTINGS", "BASELINES", "METRICS"]
