"""``scorecam`` (cams/topk_scorecam.py): every channel = upstream ScoreCAM; the top-k keeps the full
method's relative weights; dead channels share one pass; gradient ranking runs a backward pass."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cam2seg_utils.cams import CamExtractor, compute_heatmap
from cam2seg_utils.models import PAPER_CLASSIFIERS
from tiny_classifiers import (check_result, hook_count, run_through_extractor, small_image,
                              target_activations, tiny_classifier, upstream_cam)


@pytest.mark.parametrize("model_name", PAPER_CLASSIFIERS)
def test_scorecam_on_every_channel_equals_upstream_scorecam(model_name):
    clf = tiny_classifier(model_name)
    img = small_image()
    mine = compute_heatmap(clf, img, "scorecam", batch_size=8, scorecam_channels=None)
    ref = run_through_extractor(clf, upstream_cam(clf, "scorecam", 8), img)
    np.testing.assert_allclose([mine.raw_min, mine.raw_max], [ref.raw_min, ref.raw_max], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(mine.heatmap, ref.heatmap, atol=1e-6)
    assert hook_count(clf.model) == 0


def test_scorecam_scores_dead_channels_in_one_pass():
    """Constant maps all give the zero masked input: one pass for all of them, same weights."""
    import copy
    import dataclasses

    base = tiny_classifier("mobilenetv2_100")
    clf = dataclasses.replace(base, model=copy.deepcopy(base.model))
    with torch.no_grad():  # 12 of the 32 target channels dead: BN output 0 -> ReLU6 -> 0
        clf.model.bn2.weight[:12] = 0.0
        clf.model.bn2.bias[:12] = 0.0
    img = small_image()
    acts = target_activations(clf, img)[1][0].reshape(32, -1)
    n_flat = int((acts.max(axis=1) == acts.min(axis=1)).sum())
    assert 12 <= n_flat < 32
    with CamExtractor(clf, "scorecam", batch_size=8, scorecam_channels=None) as cam:
        mine = cam(img)
        assert cam._cam.last_passes == 1 + (32 - n_flat)
    ref = run_through_extractor(clf, upstream_cam(clf, "scorecam", 8), img)
    np.testing.assert_allclose(mine.heatmap, ref.heatmap, atol=1e-6)
    assert mine.raw_max > mine.raw_min


def test_topk_scorecam_keeps_the_full_relative_weights():
    """softmax over a subset = the full softmax renormalised on it; the rest get 0."""
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from cam2seg_utils.cams import TopKScoreCAM

    clf = tiny_classifier("mobilenetv2_100")  # 32 channels at the target layer
    x, acts, grads, cls = target_activations(clf, small_image())
    n = acts.shape[1]
    layers, targets = clf.cam_target_layers(), [ClassifierOutputTarget(cls)]
    cams = {k: TopKScoreCAM(clf.model, layers, channels=k, selection=sel, batch_size=5)
            for k, sel in ((None, "variance"), (8, "variance"), (6, "gradient"))}
    try:
        full = cams[None].get_cam_weights(x, layers[0], targets, acts, None)[0]
        by_var = cams[8].get_cam_weights(x, layers[0], targets, acts, None)[0]
        by_grad = cams[6].get_cam_weights(x, layers[0], targets, acts, grads)[0]
    finally:
        for cam in cams.values():
            cam.activations_and_grads.release()
    assert full.sum() == pytest.approx(1.0, abs=1e-6) and np.all(full > 0)
    variance = acts[0].reshape(n, -1).var(axis=1)
    grad_weight = grads[0].reshape(n, -1).mean(axis=1)
    for weights, rank, k in ((by_var, variance, 8), (by_grad, grad_weight, 6)):
        chosen = np.sort(np.argsort(-rank, kind="stable")[:k])
        np.testing.assert_array_equal(np.flatnonzero(weights), chosen)
        np.testing.assert_allclose(weights[chosen], full[chosen] / full[chosen].sum(), rtol=1e-5)
    assert cams[6].uses_gradients and not cams[8].uses_gradients


def test_scorecam_gradient_selection_runs_a_backward_pass():
    clf = tiny_classifier("efficientnet_b0")
    with CamExtractor(clf, "scorecam", scorecam_channels=4, scorecam_selection="gradient") as cam:
        assert cam._cam.uses_gradients
        res = cam(small_image())
        assert len(cam._cam.last_selected) == 4
    check_result(res, (30, 45))
    assert hook_count(clf.model) == 0

