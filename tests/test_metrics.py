"""metrics.py against hand-computed cases."""
import numpy as np
import pytest

from cam2seg_utils.metrics import batch_metrics, segmentation_metrics


def test_hand_computed_overlap():
    gt = np.zeros((4, 5), bool)
    gt[0:2, 0:3] = True          # 6 pixels
    pred = np.zeros((4, 5), bool)
    pred[1:3, 1:4] = True        # 6 pixels, overlap rows 1, cols 1..2 -> TP = 2
    m = segmentation_metrics(pred, gt)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (2, 4, 4, 10)
    assert m["precision"] == pytest.approx(2 / 6)
    assert m["recall"] == pytest.approx(2 / 6)
    assert m["iou"] == pytest.approx(2 / 10)
    assert m["dice"] == pytest.approx(4 / 12)
    assert m["f1"] == pytest.approx(m["dice"])


def test_hand_computed_precision_differs_from_recall():
    """A prediction inside the lesion: every predicted pixel right (precision 1), half the lesion
    found (recall 1/2); swapping the two in metrics.py fails here."""
    gt = np.zeros((4, 5), bool)
    gt[0:2, 0:3] = True          # 6 pixels
    pred = np.zeros((4, 5), bool)
    pred[0, 0:3] = True          # 3 pixels, all inside: TP = 3, FP = 0, FN = 3
    m = segmentation_metrics(pred, gt)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (3, 0, 3, 14)
    assert m["precision"] == pytest.approx(1.0)
    assert m["recall"] == pytest.approx(3 / 6)
    assert m["iou"] == pytest.approx(3 / 6)
    assert m["dice"] == pytest.approx(6 / 9)
    # the other way round: a prediction that covers the lesion and as much again
    m = segmentation_metrics(gt | np.roll(gt, 2, axis=0), gt)
    assert (m["precision"], m["recall"]) == (pytest.approx(0.5), pytest.approx(1.0))
    b = batch_metrics(pred[None], gt[None])
    assert (b["precision"][0], b["recall"][0]) == (pytest.approx(1.0), pytest.approx(0.5))


def test_perfect_and_disjoint():
    gt = np.eye(6, dtype=bool)
    assert segmentation_metrics(gt, gt)["iou"] == 1.0
    m = segmentation_metrics(~gt, gt)
    assert m["iou"] == 0.0 and m["precision"] == 0.0 and m["recall"] == 0.0


def test_empty_conventions():
    empty = np.zeros((3, 3), bool)
    full = np.ones((3, 3), bool)
    both = segmentation_metrics(empty, empty)
    assert all(both[k] == 1.0 for k in ("precision", "recall", "f1", "iou", "dice"))
    miss = segmentation_metrics(empty, full)  # empty prediction on a lesion
    assert all(miss[k] == 0.0 for k in ("precision", "recall", "f1", "iou", "dice"))
    spurious = segmentation_metrics(full, empty)  # prediction where there is nothing
    assert all(spurious[k] == 0.0 for k in ("precision", "recall", "f1", "iou", "dice"))


def test_batch_equals_per_image_and_accepts_uint8():
    rng = np.random.default_rng(0)
    preds = rng.random((5, 7, 9)) > 0.5
    gts = rng.random((5, 7, 9)) > 0.4
    b = batch_metrics(preds.astype(np.uint8) * 255, gts)
    for i in range(5):
        single = segmentation_metrics(preds[i], gts[i])
        for k in single:
            assert b[k][i] == pytest.approx(single[k])


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="does not match"):
        segmentation_metrics(np.zeros((3, 3)), np.zeros((3, 4)))
