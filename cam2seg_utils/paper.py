"""The numbers reported in the paper, transcribed from its text, each with its source.

"Classification-to-Segmentation: Class Activation Mapping for Zero-Shot Skin Lesion
Segmentation" (anonymous MICCAI-style submission; full text in
``../shared/paper/classification-to-segmentation.txt`` beside a development checkout).

Everything here is *reported*, not measured by this project. ``source`` says where in the
paper each value is printed ("Table 1", "Table 2", "Sec. 5 text"). Values quoted in the text
with a "~" are approximate in the paper itself and are flagged ``approximate=True``.

Model names: the paper's labels ("MobileNet_v2", "EfficientNet", ...) are kept verbatim
(:data:`~cam2seg_utils.names.PAPER_MODEL_LABELS`); :func:`paper_model_label` maps a registry name
of :mod:`cam2seg_utils.models` (for example ``"mobilenetv2_100"``) to the paper's label by
architecture family. Every name of the paper (CAMs, models, settings, metrics) lives in
:mod:`cam2seg_utils.names`.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

# the paper's names (labels and registry names) have their own module; re-exported here
from .names import METRICS, PAPER_CAM_LABELS, PAPER_MODEL_BY_LABEL, PAPER_MODEL_LABELS  # noqa: F401


@dataclass(frozen=True)
class PaperValue:
    """One number reported in the paper."""

    key: str            # stable identifier, e.g. "fig5.zero_shot.best_iou"
    value: float
    source: str         # where it is printed: "Table 1", "Table 2", "Sec. 5 text", ...
    quote: str          # the words of the paper it is taken from (abridged)
    approximate: bool = False


# --------------------------------------------------------------------------------------------
# Table 1: "Mean metrics of CAM methods for noisy mask generation applied to a finetuned Swin
# model." (noisy mask = heatmap >= 95th percentile, Algorithm 1 step 7, compared to the GT)
# --------------------------------------------------------------------------------------------
TABLE1: dict[str, dict[str, float]] = {
    "gradcam": {"precision": 0.4873, "recall": 0.3998, "f1": 0.3454, "iou": 0.2356, "dice": 0.3454},
    "gradcam++": {"precision": 0.2537, "recall": 0.1650, "f1": 0.1547, "iou": 0.0960, "dice": 0.1547},
    "ablationcam": {"precision": 0.2940, "recall": 0.3287, "f1": 0.2677, "iou": 0.1802, "dice": 0.2677},
    "scorecam": {"precision": 0.3645, "recall": 0.3013, "f1": 0.2630, "iou": 0.1768, "dice": 0.2630},
    "randomcam": {"precision": 0.2864, "recall": 0.3289, "f1": 0.2254, "iou": 0.1482, "dice": 0.2254},
}
TABLE1_MODEL = "Swin"
TABLE1_SETTING = "fine-tuned"

# --------------------------------------------------------------------------------------------
# Table 2: "Segmentation performance of MedSAM guided by the best CAM method prompts from
# zero-shot and finetuned classifiers." The best CAM is chosen per image by the IoU with the
# ground truth (an oracle, Sec. 4.3 "returns the best resultant mask").
# The two "Ablation" rows are not the authors' measurements: "Base SAM and MedSAM results for
# ISIC 2017 are from [1]" (Al Muaitah & Deriche, ACIT 2023); only IoU and Dice are given.
# --------------------------------------------------------------------------------------------
_NAN = float("nan")
TABLE2_BASELINES: dict[str, dict[str, float]] = {
    "SAM-base": {"precision": _NAN, "recall": _NAN, "f1": _NAN, "iou": 0.672, "dice": 0.805},
    "MedSAM-base": {"precision": _NAN, "recall": _NAN, "f1": _NAN, "iou": 0.671, "dice": 0.782},
}
TABLE2: dict[str, dict[str, dict[str, float]]] = {
    "zero-shot": {
        "EfficientNet": {"precision": 0.719, "recall": 0.384, "f1": 0.414, "iou": 0.290, "dice": 0.414},
        "MobileNet_v2": {"precision": 0.740, "recall": 0.468, "f1": 0.470, "iou": 0.337, "dice": 0.470},
        "ResNet50": {"precision": 0.723, "recall": 0.399, "f1": 0.427, "iou": 0.300, "dice": 0.427},
        "ViT": {"precision": 0.723, "recall": 0.345, "f1": 0.384, "iou": 0.269, "dice": 0.384},
        "Swin": {"precision": 0.743, "recall": 0.427, "f1": 0.446, "iou": 0.315, "dice": 0.446},
    },
    "fine-tuned": {
        "EfficientNet": {"precision": 0.713, "recall": 0.479, "f1": 0.457, "iou": 0.320, "dice": 0.457},
        "MobileNet_v2": {"precision": 0.764, "recall": 0.547, "f1": 0.510, "iou": 0.366, "dice": 0.510},
        "ResNet50": {"precision": 0.739, "recall": 0.496, "f1": 0.475, "iou": 0.337, "dice": 0.475},
        "ViT": {"precision": 0.750, "recall": 0.357, "f1": 0.409, "iou": 0.285, "dice": 0.409},
        "Swin": {"precision": 0.750, "recall": 0.534, "f1": 0.498, "iou": 0.357, "dice": 0.498},
    },
}

# --------------------------------------------------------------------------------------------
# Values printed only in the running text (Sec. 4 and Sec. 5). Fig. 4, 5 and 6 are images in
# the paper; only the numbers quoted in the text can be transcribed.
# --------------------------------------------------------------------------------------------
TEXT_VALUES: dict[str, PaperValue] = {
    v.key: v
    for v in (
        PaperValue("data.n_train", 2000, "Sec. 4.1 text", "consisting of 2000 training and 600 test images"),
        PaperValue("data.n_test", 600, "Sec. 4.1 text", "consisting of 2000 training and 600 test images"),
        PaperValue("finetune.max_epochs", 500, "Sec. 4.2 text", "trained on ISIC 2017 for a maximum of 500 epochs"),
        PaperValue("finetune.patience", 20, "Sec. 4.2 text", "and a patience of 20"),
        PaperValue("fig4.fine_tuned.min_accuracy", 0.80, "Sec. 5 text (Fig. 4)",
                   "finetuned models achieved higher accuracy across the board, all over 80%"),
        PaperValue("fig4.mobilenet_v2.accuracy_drop", 0.172, "Sec. 5 text (Fig. 4)",
                   "MobileNet-V2 showed the strongest performance for both cases, with a drop in "
                   "performance of 17.2%"),
        PaperValue("fig4.swin.accuracy_drop", 0.476, "Sec. 5 text (Fig. 4)",
                   "the next closest model, swin, saw a performance drop of 47.6%"),
        PaperValue("table1.gradcam.iou", 0.236, "Sec. 5 text (Table 1)", "GradCAM ... with an IoU of 0.236"),
        PaperValue("table1.gradcam.dice", 0.345, "Sec. 5 text (Table 1)", "and dice score of 0.345"),
        PaperValue("fig5.zero_shot.best_iou", 0.184, "Sec. 5 text (Fig. 5)",
                   "The highest individual result for zero-shot classification-to-segmentation is "
                   "ScoreCAM applied to MobileNet-v2, with an IoU of 0.184"),
        PaperValue("fig5.fine_tuned.best_iou", 0.282, "Sec. 5 text (Fig. 5)",
                   "for the finetuned case, MobileNet-v2 with AblationCAM achieved an IoU of 0.282"),
        PaperValue("fig6.zero_shot.mobilenet_v2.zero_iou_count", 400, "Sec. 5 text (Fig. 6)",
                   "MobileNet-v2, ~400 test samples produced segmentation masks with an IoU of zero "
                   "for the zero-shot case", approximate=True),
        PaperValue("fig6.fine_tuned.mobilenet_v2.zero_iou_count", 5, "Sec. 5 text (Fig. 6)",
                   "the fine-tuned MobileNet-V2 reduced this number dramatically to ~5 samples",
                   approximate=True),
        PaperValue("fig6.zero_iou_reduction", 0.9875, "Sec. 5 text (Fig. 6)",
                   "This represents a ~98.75% reduction in complete segmentation failures",
                   approximate=True),
    )
}

#: The best individual (model, CAM) pair per setting quoted in the text (Fig. 5).
FIG5_BEST: dict[str, tuple[str, str, float]] = {
    "zero-shot": ("MobileNet_v2", "scorecam", 0.184),
    "fine-tuned": ("MobileNet_v2", "ablationcam", 0.282),
}

_FAMILY_PATTERNS: tuple[tuple[str, str], ...] = (
    ("mobilenet", "MobileNet_v2"),
    ("efficientnet", "EfficientNet"),
    ("resnet", "ResNet50"),
    ("swin", "Swin"),
    ("vit", "ViT"),
    ("deit", "ViT"),
)


def paper_model_label(name: str) -> str | None:
    """The paper's label for a classifier registry name, or ``None`` when the paper has no such
    model. ``"mobilenetv2_100"`` -> ``"MobileNet_v2"``, ``"tf_efficientnet_lite0"`` ->
    ``"EfficientNet"`` (the paper used EfficientNet-B0; Lite0 is the closest offline variant),
    ``"vit_base_patch16_224"`` -> ``"ViT"``."""
    low = name.lower()
    if low in {m.lower() for m in PAPER_MODEL_LABELS}:
        return next(m for m in PAPER_MODEL_LABELS if m.lower() == low)
    for pattern, label in _FAMILY_PATTERNS:
        if pattern in low:
            return label
    return None


def table1() -> pd.DataFrame:
    """Table 1 as a frame: index = CAM registry name, columns = :data:`METRICS` + ``source``."""
    df = pd.DataFrame.from_dict(TABLE1, orient="index")[list(METRICS)]
    df.index.name = "cam"
    df["source"] = "Table 1"
    return df


def table2(include_baselines: bool = True) -> pd.DataFrame:
    """Table 2 in long form: columns ``setting`` ("ablation" | "zero-shot" | "fine-tuned"),
    ``model`` (the paper's label), the five metrics (NaN where the paper prints "-") and
    ``source``."""
    rows: list[dict[str, object]] = []
    if include_baselines:
        for model, vals in TABLE2_BASELINES.items():
            rows.append({"setting": "ablation", "model": model, **vals,
                         "source": "Table 2 (values from ref. [1], Al Muaitah & Deriche 2023)"})
    for setting, per_model in TABLE2.items():
        for model, vals in per_model.items():
            rows.append({"setting": setting, "model": model, **vals, "source": "Table 2"})
    return pd.DataFrame(rows, columns=["setting", "model", *METRICS, "source"])


def text_values() -> pd.DataFrame:
    """All values quoted in the running text, one row each (key, value, source, quote, approximate)."""
    return pd.DataFrame([v.__dict__ for v in TEXT_VALUES.values()])


def get(key: str) -> PaperValue:
    """One text value by key; unknown keys raise ``KeyError`` listing the known ones."""
    try:
        return TEXT_VALUES[key]
    except KeyError:
        raise KeyError(f"unknown paper value {key!r}; known: {sorted(TEXT_VALUES)}") from None


__all__ = [
    "METRICS", "PAPER_MODEL_LABELS", "PAPER_MODEL_BY_LABEL", "PAPER_CAM_LABELS", "PaperValue",
    "TABLE1", "TABLE1_MODEL", "TABLE1_SETTING",
    "TABLE2", "TABLE2_BASELINES", "TEXT_VALUES", "FIG5_BEST", "paper_model_label", "table1", "table2",
    "text_values", "get",
]
