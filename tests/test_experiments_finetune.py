"""Fine-tuning (resume after an interruption, checkpoint format) and classification metrics,
with EfficientNet-Lite0 from its embedded ImageNet weights on 8 tiny synthetic images."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from cam2seg_utils.data.isic import DataError, ISICDataset
from cam2seg_utils.data.split import stratified_split
from cam2seg_utils.data.synthetic import generate_synthetic
from cam2seg_utils.experiments.finetune import (HISTORY_COLUMNS, augment, binary_metrics,
                                                evaluate_classifier, finetune, load_finetuned,
                                                zero_shot_centroid_eval)

LITE0 = "tf_efficientnet_lite0"
KW = dict(init_weights="embedded", input_size=64, batch_size=4, progress=False, seed=5)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("ft")
    generate_synthetic(root, n_images=8, seed=0, split="Training", size_range=(96, 128))
    ds = ISICDataset(root, "Training")
    labels = [int(ds.labels.at[i, "melanoma"]) for i in ds.ids]
    train, val = stratified_split(ds.ids, labels, 0.25, seed=0)
    return ds, train, val


def test_binary_metrics_by_hand():
    labels = np.array([1, 1, 0, 0, 0])
    pred = np.array([1, 0, 0, 0, 1])
    m = binary_metrics(labels, pred, score=np.array([0.9, 0.4, 0.1, 0.2, 0.6]))
    assert (m["tp"], m["fn"], m["tn"], m["fp"]) == (1, 1, 2, 1)
    assert m["accuracy"] == pytest.approx(3 / 5)
    assert m["balanced_accuracy"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    # AUC: positive scores {0.9, 0.4} vs negatives {0.1, 0.2, 0.6}: 5 of 6 pairs ordered
    assert m["auc"] == pytest.approx(5 / 6)


def test_augment_is_seeded_and_keeps_shape():
    x = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    a = augment(x, torch.Generator().manual_seed(1))
    b = augment(x, torch.Generator().manual_seed(1))
    c = augment(x, torch.Generator().manual_seed(2))
    assert a.dtype == torch.uint8 and a.shape == x.shape
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_resume_runs_only_missing_epochs_and_equals_straight_run(data, tmp_path):
    ds, train, val = data
    r2 = finetune(LITE0, ds, train, val, tmp_path / "a", epochs=2, **KW)
    assert r2.epochs_run == 2 and len(r2.history) == 2
    r3 = finetune(LITE0, ds, train, val, tmp_path / "a", epochs=3, **KW)   # "killed" after 2, resumed
    assert r3.epochs_run == 1
    hist = pd.read_csv(tmp_path / "a" / "history.csv")
    assert list(hist.columns) == HISTORY_COLUMNS and hist["epoch"].tolist() == [1, 2, 3]
    straight = finetune(LITE0, ds, train, val, tmp_path / "b", epochs=3, **KW)
    drop = ["time_s"]
    pd.testing.assert_frame_equal(hist.drop(columns=drop),
                                  pd.read_csv(tmp_path / "b" / "history.csv").drop(columns=drop))
    a = torch.load(tmp_path / "a" / "last.pt", weights_only=True)["model"]
    b = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert straight.best_epoch == r3.best_epoch
    # a finished run is not recomputed
    assert finetune(LITE0, ds, train, val, tmp_path / "a", epochs=3, **KW).epochs_run == 0
    with pytest.raises(ValueError, match="different fine-tuning run"):
        finetune(LITE0, ds, train, val, tmp_path / "a", epochs=4, **{**KW, "seed": 6})

    # the best checkpoint is a models.save_checkpoint file, loadable by build_classifier
    clf = load_finetuned(LITE0, r3.best_checkpoint)
    assert clf.num_classes == 2 and clf.class_names == ["benign", "melanoma"]
    assert clf.input_size == (64, 64) and clf.extra["epoch"] == r3.best_epoch
    m = evaluate_classifier(clf, ds, val)
    assert m["n"] == len(val) and m["tn"] + m["fp"] + m["fn"] + m["tp"] == len(val)


def test_early_stopping_patience(data, tmp_path):
    ds, train, val = data
    # lr 0: the validation accuracy (2 images) cannot climb for long; patience 2 stops the run
    r = finetune(LITE0, ds, train, val, tmp_path / "p", epochs=10, patience=2, lr=0.0,
                 monitor="val_acc", **KW)
    imp = r.history["improved"].tolist()
    assert r.stopped_early and len(imp) < 10
    assert imp[-2:] == [False, False] and imp[0]                    # stopped after 2 bad epochs
    assert not any(imp[i] is False and imp[i + 1] is False for i in range(len(imp) - 3))
    assert r.best_epoch == max(i + 1 for i, v in enumerate(imp) if v)


def test_zero_shot_nearest_centroid(data, embedded_classifier):
    ds, train, val = data
    z = zero_shot_centroid_eval(embedded_classifier, ds, train, ds, val)
    assert z["n"] == len(val) and 0.0 <= z["accuracy"] <= 1.0
    n_mel_val = int(ds.labels.loc[val, "melanoma"].sum())
    # majority class of the training split is benign: accuracy = share of benign test images
    assert z["majority_class"] == 0
    assert z["majority_accuracy"] == pytest.approx(1 - n_mel_val / len(val))
    assert z["majority_balanced_accuracy"] == pytest.approx(0.5)


class Payload:
    """Any object that is not a tensor or a plain value (``weights_only`` refuses it)."""


def test_bad_resume_state_is_a_data_error_naming_the_file(tmp_path):
    root = generate_synthetic(tmp_path / "data", n_images=4, seed=1, melanoma_fraction=0.5,
                              size_range=(64, 80), progress=False)
    ds = ISICDataset(root, "Training")
    by_class = {c: [i for i in ds.ids if ds.labels.at[i, "melanoma"] == c] for c in (0, 1)}
    train = [by_class[0][0], by_class[1][0]]
    val = [i for i in ds.ids if i not in train]
    out = tmp_path / "ft"
    out.mkdir()
    for content, why in ((b"PK\x03\x04 truncated", "corrupt or truncated"),
                         ({"run_identity": Payload()}, "holds objects other than tensors")):
        if isinstance(content, bytes):
            (out / "last.pt").write_bytes(content)
        else:
            torch.save(content, out / "last.pt")
        with pytest.raises(DataError) as err:
            finetune(LITE0, ds, train, val, out, epochs=1, input_size=64, progress=False)
        msg = str(err.value)
        assert msg.startswith(f"{out / 'last.pt'}: not a fine-tuning resume state") and why in msg
        assert "--no-resume" in msg and "weights_only" not in msg
