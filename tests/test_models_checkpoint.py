"""Classifier checkpoints (models/checkpoint.py): round trip, preprocessing restored, errors that
name the file, single-logit heads refused."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data as skdata

from cam2seg_utils.models import CheckpointError, build_classifier, save_checkpoint


@pytest.fixture(scope="module")
def two_class_lite0():
    torch.manual_seed(0)
    return build_classifier("tf_efficientnet_lite0", weights="embedded", num_classes=2)


def test_checkpoint_round_trip(two_class_lite0, tmp_path):
    clf = two_class_lite0
    assert clf.num_classes == 2 and clf.class_names == ["benign", "melanoma"]
    path = tmp_path / "ckpt" / "lite0.pt"
    save_checkpoint(clf.model, path, name="tf_efficientnet_lite0", num_classes=2,
                    class_names=["benign", "melanoma"], extra={"epochs": 3, "val_auc": 0.81})
    assert sorted(p.name for p in path.parent.iterdir()) == ["lite0.pt"]  # no temp file left

    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert set(raw) == {"model_name", "state_dict", "num_classes", "class_names", "extra"}

    loaded = build_classifier("tf_efficientnet_lite0", weights=str(path))
    assert loaded.weights == str(path)
    assert loaded.num_classes == 2 and loaded.class_names == ["benign", "melanoma"]
    assert loaded.extra == {"epochs": 3, "val_auc": 0.81}
    img = skdata.chelsea()[::4, ::4].copy()
    a, b = clf.predict(img), loaded.predict(img)
    np.testing.assert_allclose(a.logits, b.logits, rtol=1e-5, atol=1e-5)
    assert b.logits.shape == (2,) and b.class_name in ("benign", "melanoma")


def test_checkpoint_preprocessing_is_restored(two_class_lite0, tmp_path):
    # fine-tuning may run at another input size / statistics; the checkpoint carries them
    path = tmp_path / "small.pt"
    save_checkpoint(two_class_lite0.model, path, name="tf_efficientnet_lite0", num_classes=2,
                    class_names=["benign", "melanoma"],
                    extra={"input_size": [96, 128], "mean": [0.4, 0.45, 0.5], "std": [0.2, 0.25, 0.3],
                           "interpolation": "bilinear"})
    loaded = build_classifier("tf_efficientnet_lite0", weights=str(path))
    assert loaded.input_size == (96, 128)
    assert loaded.mean == (0.4, 0.45, 0.5) and loaded.std == (0.2, 0.25, 0.3)
    x = loaded.preprocess(np.full((50, 70, 3), 102, np.uint8))  # 102/255 = 0.4
    assert tuple(x.shape) == (1, 3, 96, 128)
    assert float(x[0, 0].mean()) == pytest.approx(0.0, abs=1e-5)


def test_checkpoint_errors_name_the_file(two_class_lite0, tmp_path):
    missing = tmp_path / "nope.pt"
    with pytest.raises(CheckpointError, match="nope.pt.*does not exist"):
        build_classifier("tf_efficientnet_lite0", weights=str(missing))

    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a torch file")
    with pytest.raises(CheckpointError, match="corrupt.pt.*not a readable"):
        build_classifier("tf_efficientnet_lite0", weights=str(corrupt))

    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(3)}, plain)
    with pytest.raises(CheckpointError, match="plain.pt.*not a cam2seg classifier checkpoint"):
        build_classifier("tf_efficientnet_lite0", weights=str(plain))

    good = tmp_path / "lite0.pt"
    save_checkpoint(two_class_lite0, good, name="tf_efficientnet_lite0", num_classes=2,
                    class_names=["benign", "melanoma"])
    with pytest.raises(CheckpointError, match="lite0.pt.*'tf_efficientnet_lite0' model, not 'resnet50'"):
        build_classifier("resnet50", weights=str(good))

    # right name, wrong architecture inside
    liar = tmp_path / "liar.pt"
    save_checkpoint(two_class_lite0, liar, name="mobilenetv2_100", num_classes=2,
                    class_names=["benign", "melanoma"])
    with pytest.raises(CheckpointError, match="liar.pt.*does not fit the 'mobilenetv2_100'"):
        build_classifier("mobilenetv2_100", weights=str(liar))


def test_single_logit_heads_are_refused(two_class_lite0, tmp_path):
    with pytest.raises(ValueError, match="num_classes=1.*argmax is always class 0"):
        save_checkpoint(two_class_lite0, tmp_path / "one.pt", name="tf_efficientnet_lite0",
                        num_classes=1, class_names=["melanoma"])
    assert not (tmp_path / "one.pt").exists()
    with pytest.raises(ValueError, match="num_classes=1"):
        build_classifier("tf_efficientnet_lite0", weights="random", num_classes=1)

    one = tmp_path / "authors.pt"  # what the authors' 1-logit training would have produced
    torch.save({"model_name": "tf_efficientnet_lite0", "state_dict": {}, "num_classes": 1,
                "class_names": ["melanoma"], "extra": {}}, one)
    with pytest.raises(CheckpointError, match="authors.pt.*num_classes=1"):
        build_classifier("tf_efficientnet_lite0", weights=str(one))
