"""``ablationcam`` (cams/fast_ablationcam.py): equals upstream AblationCAM on every paper architecture,
ablates upstream's channel subset, and releases its hooks after an error."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cam2seg_utils.cams import CamExtractor, compute_heatmap
from cam2seg_utils.models import PAPER_CLASSIFIERS
from tiny_classifiers import (hook_count, run_through_extractor, small_image, target_activations,
                              tiny_classifier, upstream_cam)


@pytest.mark.parametrize("model_name", PAPER_CLASSIFIERS)
def test_fast_ablationcam_equals_upstream_ablationcam(model_name):
    """Same weights as upstream's whole-network passes. Upstream runs one copy per batch here:
    with several it lowers the ablation value of negative activations (ViT, Swin, SiLU) by 1e7
    per copy, which FastAblationCAM deliberately does not (module docstring)."""
    clf = tiny_classifier(model_name)
    img = small_image()
    with CamExtractor(clf, "ablationcam", batch_size=8) as cam:
        mine = cam(img)
        tail_only = cam._cam.tail_only
    ref = run_through_extractor(clf, upstream_cam(clf, "ablationcam", 1), img)
    np.testing.assert_allclose([mine.raw_min, mine.raw_max], [ref.raw_min, ref.raw_max], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(mine.heatmap, ref.heatmap, atol=1e-5)
    # only the layers after the target layer see the ablated batch -- except Swin, whose last
    # block reshapes with the batch size of its input: whole-network passes there
    assert tail_only is (clf.spec.family != "swin")
    assert hook_count(clf.model) == 0


def test_ablation_ratio_ablates_upstreams_channel_subset():
    from pytorch_grad_cam.ablation_layer import AblationLayer
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from cam2seg_utils.cams import FastAblationCAM

    clf = tiny_classifier("mobilenetv2_100")  # ReLU6 features: ablation zeroes the channel
    x, acts, _, cls = target_activations(clf, small_image())
    layers, targets = clf.cam_target_layers(), [ClassifierOutputTarget(cls)]
    full_cam = FastAblationCAM(clf.model, layers, ratio=1.0, batch_size=7)
    part_cam = FastAblationCAM(clf.model, layers, ratio=0.25, batch_size=7)
    try:
        full = full_cam.get_cam_weights(x, layers[0], targets, acts, None)[0]
        part = part_cam.get_cam_weights(x, layers[0], targets, acts, None)[0]
    finally:
        full_cam.activations_and_grads.release()
        part_cam.activations_and_grads.release()
    subset = np.unique(AblationLayer().activations_to_be_ablated(acts[0], 0.25))
    assert 0 < len(subset) <= 16  # top and bottom quarter of 32 channels
    others = np.setdiff1d(np.arange(acts.shape[1]), subset)
    assert np.all(part[others] == 0)
    np.testing.assert_allclose(part[subset], full[subset], rtol=1e-6, atol=1e-7)
    # hand check of one weight: (y - y_c) / y with channel c of the features zeroed
    c = int(subset[0])
    feats = torch.from_numpy(acts).clone()
    with torch.no_grad():
        y = clf.model.classifier(feats.mean(dim=(2, 3)))[0, cls].item()
        feats[0, c] = 0.0
        y_c = clf.model.classifier(feats.mean(dim=(2, 3)))[0, cls].item()
    assert full[c] == pytest.approx((y - y_c) / y, rel=1e-4, abs=1e-6)


def test_ablationcam_hooks_released_after_an_error(monkeypatch):
    from cam2seg_utils.cams import FastAblationCAM

    clf = tiny_classifier("resnet50")
    target = clf.cam_target_layers()[0]

    def broken(self, *args, **kwargs):
        raise RuntimeError("ablation forward failed")

    monkeypatch.setattr(FastAblationCAM, "_scores", broken)
    with pytest.raises(RuntimeError, match="ablation forward failed"):
        compute_heatmap(clf, small_image(), "ablationcam")
    assert clf.model.layer4[-1] is target
    assert hook_count(clf.model) == 0

