"""Segmentation metrics: precision, recall, F1, IoU, Dice (per image, vectorised over a batch).

Conventions for empty masks (stated, tested):

* prediction and ground truth both empty: every score is 1.0 (nothing to find, nothing found);
* one of them empty, the other not: precision, recall, F1, IoU and Dice are all 0.0
  (precision's 0/0 when the prediction is empty counts as a failure, not as "undefined": an empty
  mask on a lesion image is a total miss and must pull the mean down, as in the paper's zero-IoU
  counts).

For binary masks F1 and Dice are the same number (2TP / (2TP + FP + FN)); both are reported because
the paper's tables list both.
"""
from __future__ import annotations

import numpy as np

METRIC_NAMES = ("precision", "recall", "f1", "iou", "dice")


def _as_bool_batch(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != bool:
        if not np.issubdtype(x.dtype, np.number):
            raise ValueError(f"{name} must be a boolean or numeric mask, got dtype {x.dtype}")
        x = x > 0
    return x


def batch_metrics(preds: np.ndarray, gts: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics for a batch of masks.

    Args:
        preds: ``(B, H, W)`` predicted masks (bool, or numeric where > 0 is foreground).
        gts: ``(B, H, W)`` ground-truth masks, same shape.

    Returns:
        dict of ``(B,)`` arrays: precision, recall, f1, iou, dice (float64) and tp, fp, fn, tn (int64).
    """
    preds = _as_bool_batch(preds, "prediction")
    gts = _as_bool_batch(gts, "ground truth")
    if preds.shape != gts.shape:
        raise ValueError(f"prediction shape {preds.shape} does not match ground truth shape {gts.shape}")
    if preds.ndim != 3:
        raise ValueError(f"expected (B, H, W) masks, got shape {preds.shape}")
    axes = (1, 2)
    tp = np.sum(preds & gts, axis=axes, dtype=np.int64)
    fp = np.sum(preds & ~gts, axis=axes, dtype=np.int64)
    fn = np.sum(~preds & gts, axis=axes, dtype=np.int64)
    tn = np.sum(~preds & ~gts, axis=axes, dtype=np.int64)

    both_empty = (tp + fp + fn) == 0

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        out = np.zeros(num.shape, dtype=np.float64)
        np.divide(num, den, out=out, where=den > 0)
        return np.where(both_empty, 1.0, out)

    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    dice = ratio(2 * tp, 2 * tp + fp + fn)
    iou = ratio(tp, tp + fp + fn)
    return {"precision": precision, "recall": recall, "f1": dice.copy(), "iou": iou, "dice": dice,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def segmentation_metrics(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """Metrics for one ``(H, W)`` mask pair; same keys as :func:`batch_metrics`, as Python scalars."""
    pred = np.asarray(pred)
    gt = np.asarray(gt)
    if pred.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got shape {pred.shape}")
    out = batch_metrics(pred[None], gt[None] if gt.ndim == 2 else gt)
    return {k: (int(v[0]) if k in ("tp", "fp", "fn", "tn") else float(v[0])) for k, v in out.items()}


__all__ = ["METRIC_NAMES", "batch_metrics", "segmentation_metrics"]
