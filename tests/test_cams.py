"""The CAM registry and extractor (cams/registry.py, cams/extractor.py): every paper model x every
paper CAM on tiny inputs (``tiny_classifiers.py``), the options, normalisation, the smoothed
variants and real-weight checks. The three methods implemented here have their own test modules
(``test_cams_seeded_random.py``, ``test_cams_topk_scorecam.py``, ``test_cams_fast_ablationcam.py``).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data as skdata

from cam2seg_utils.cams import (
    CAM_METHODS,
    CamExtractor,
    compute_heatmap,
    normalize_heatmap,
)
from cam2seg_utils.models import PAPER_CLASSIFIERS
from cam2seg_utils.names import PAPER_CAMS
from cam2seg_utils.prompting.algorithm1 import PromptParams, generate_prompts
from cam2seg_utils.seeding import make_rng

from tiny_classifiers import (NUM_CLASSES, check_result, hook_count, small_image, target_activations,
                              tiny_classifier)


@pytest.mark.parametrize("method", PAPER_CAMS)
@pytest.mark.parametrize("model_name", PAPER_CLASSIFIERS)
def test_every_paper_model_with_every_paper_cam(model_name, method):
    clf = tiny_classifier(model_name)
    target_before = clf.cam_target_layers()[0]
    modules_before = [id(m) for m in clf.model.modules()]
    img = small_image()
    expected_class = clf.predict(img).class_index
    with CamExtractor(clf, method, batch_size=64, progress=False) as cam:
        assert hook_count(clf.model) > 0
        res = cam(img, rng=make_rng("test", model_name, method))
    assert hook_count(clf.model) == 0  # hooks released on exit
    # AblationCAM swaps the target layer for its ablation layer: it must be put back
    assert clf.cam_target_layers()[0] is target_before
    assert [id(m) for m in clf.model.modules()] == modules_before
    check_result(res, (30, 45))
    assert res.target_class == expected_class  # default target = argmax of the logits
    assert res.method == method
    assert res.cam_size == (2, 2)
    assert res.logits.shape == (NUM_CLASSES,)


@pytest.mark.parametrize("method", [m for m in CAM_METHODS.names() if m not in PAPER_CAMS])
def test_extra_methods_run(method):
    clf = tiny_classifier("resnet50")
    rng = make_rng("test", method) if CAM_METHODS.get(method).needs_rng else None
    res = compute_heatmap(clf, small_image(20, 16), method, rng=rng)
    check_result(res, (20, 16))
    assert hook_count(clf.model) == 0


def test_every_method_carries_its_traits():
    """What the grid, the demo and the CLI read from a method, read from every registered one."""
    from cam2seg_utils.cam_options import CamOptions
    from cam2seg_utils.cams.registry import cams_help

    options = CamOptions(ablation_channels=0.5, scorecam_channels=8)
    for m in CAM_METHODS.values():
        assert m.label and isinstance(m.cache_params(options), dict), m.name
        assert m.name in cams_help() or m.base, m.name   # every plain method is in the CLI help
    assert CAM_METHODS.get("scorecam").cache_params(options) == {"scorecam_channels": 8,
                                                                  "scorecam_selection": "variance"}
    assert CAM_METHODS.get("ablationcam").cache_params(CamOptions()) == {"ablation_channels": 1.0}
    assert [m.name for m in CAM_METHODS.values() if m.needs_rng] == ["randomcam"]
    with pytest.raises(KeyError, match="gradcam"):
        CamExtractor(tiny_classifier("resnet50"), "grad-cam")


def test_target_override_changes_the_explanation():
    clf = tiny_classifier("resnet50")
    img = small_image()
    with CamExtractor(clf, "gradcam") as cam:
        results = [cam(img, target_class=k) for k in range(NUM_CLASSES)]
    assert [r.target_class for r in results] == list(range(NUM_CLASSES))
    # different classes have different classifier weights -> not all maps equal
    assert any(not np.allclose(results[0].heatmap, r.heatmap) for r in results[1:])
    with pytest.raises(ValueError, match="target_class 5 outside"):
        compute_heatmap(clf, img, "gradcam", target_class=NUM_CLASSES)


def test_gradcam_equals_hand_computed_cam():
    """Grad-CAM on the last feature map before global average pooling is the original CAM:
    weights = d score / d A_k = W[c, k] / (h w); map = ReLU(sum_k w_k A_k)."""
    clf = tiny_classifier("efficientnet_b0")
    img = small_image(64, 64)
    x = clf.preprocess(img)
    feats = {}
    handle = clf.model.bn2.register_forward_hook(lambda m, i, o: feats.__setitem__("a", o.detach()))
    with torch.no_grad():
        logits = clf.model(x)
    handle.remove()
    cls = int(logits.argmax())
    a = feats["a"][0].double()  # (C, 2, 2)
    w = clf.model.classifier.weight[cls].detach().double() / (a.shape[1] * a.shape[2])
    raw = torch.relu((w[:, None, None] * a).sum(0)).numpy()
    res = compute_heatmap(clf, img, "gradcam")
    np.testing.assert_allclose([res.raw_min, res.raw_max], [raw.min(), raw.max()], rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(res.heatmap, normalize_heatmap(raw, (64, 64)), atol=1e-4)


def test_hooks_released_when_the_body_raises():
    clf = tiny_classifier("mobilenetv2_100")
    with pytest.raises(IndexError):  # upstream __exit__ would swallow an IndexError
        with CamExtractor(clf, "gradcam"):
            raise IndexError("boom")
    assert hook_count(clf.model) == 0


def test_cam_options_are_honoured_and_validated():
    clf = tiny_classifier("resnet50")
    with CamExtractor(clf, "ablationcam", batch_size=7, ablation_channels=0.25) as cam:
        assert cam._cam.batch_size == 7 and cam._cam.ratio_channels_to_ablate == 0.25
        assert cam.params == {"ablation_channels": 0.25}
        check_result(cam(small_image()), (30, 45))
    with CamExtractor(clf, "scorecam", batch_size=5, scorecam_channels=3) as cam:
        assert cam._cam.batch_size == 5 and cam._cam.channels == 3
        assert cam.params == {"scorecam_channels": 3, "scorecam_selection": "variance"}
    assert CamExtractor(clf, "scorecam", scorecam_channels=None).params == {
        "scorecam_channels": None, "scorecam_selection": "all"}
    assert CamExtractor(clf, "gradcam").params == {}
    for kwargs, field in (({"ablation_channels": 0.0}, "ablation_channels"),
                          ({"ablation_channels": 1.5}, "ablation_channels"),
                          ({"scorecam_channels": 0}, "scorecam_channels"),
                          ({"scorecam_selection": "random"}, "scorecam_selection"),
                          ({"batch_size": 0}, "batch_size")):
        with pytest.raises(ValueError, match=field):
            CamExtractor(clf, "scorecam", **kwargs)


def test_cam_resolution_result_and_shared_input():
    """``resize=False`` keeps the CAM's own grid; ``normalize_heatmap(raw, (H, W))`` then gives
    the image-size heatmap bit for bit; a precomputed input tensor gives the same result."""
    clf = tiny_classifier("efficientnet_b0")
    img = small_image(37, 52)
    with CamExtractor(clf, "gradcam++") as cam:
        full = cam(img)
        small = cam(img, input_tensor=clf.preprocess(img), resize=False)
    assert small.heatmap.shape == small.cam_size == small.raw.shape == (2, 2)
    assert small.raw.dtype == np.float64
    np.testing.assert_array_equal(full.raw, small.raw)
    np.testing.assert_array_equal(normalize_heatmap(small.raw, (37, 52)), full.heatmap)


# ---------------------------------------------------------------------------------- normalisation


def test_normalize_heatmap_hand_computed():
    raw = np.array([[0.0, 2.0], [4.0, 8.0]])
    out = normalize_heatmap(raw, (2, 2))
    np.testing.assert_allclose(out, [[0.0, 0.25], [0.5, 1.0]])
    up = normalize_heatmap(raw, (4, 4))
    # bilinear, half-pixel centres: the corners keep the corner values, the centre is the mean
    assert up[0, 0] == 0.0 and up[-1, -1] == 1.0
    assert up.shape == (4, 4) and up.dtype == np.float32
    np.testing.assert_allclose(up[1:3, 1:3].mean(), (0 + 0.25 + 0.5 + 1.0) / 4, atol=1e-6)


def test_normalize_heatmap_in_place_scaling_equals_the_plain_formula():
    """The memory-lean path (in-place float64 scaling) gives the same bits as the formula."""
    raw = np.random.default_rng(3).random((7, 7)) * 5.0
    out = normalize_heatmap(raw, (301, 457))
    arr = (raw - raw.min()) / (raw.max() - raw.min())
    up = torch.nn.functional.interpolate(torch.from_numpy(arr)[None, None], size=(301, 457), mode="bilinear",
                                         align_corners=False)[0, 0].numpy()
    ref = np.clip((up - up.min()) / (up.max() - up.min()), 0.0, 1.0).astype(np.float32)
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize(
    "raw",
    [
        np.zeros((7, 7)),
        np.full((7, 7), 3.5),
        np.full((7, 7), np.nan),
        1.0 + 1e-9 * np.arange(49.0).reshape(7, 7),
        np.array([[np.inf, -np.inf], [np.nan, np.nan]]),
    ],
    ids=["zeros", "constant", "all-nan", "float-noise", "nan-inf"],
)
def test_degenerate_maps_become_zero_heatmaps(raw):
    out = normalize_heatmap(raw, (12, 9))
    assert out.shape == (12, 9) and out.dtype == np.float32
    assert not out.any()


def test_nan_entries_count_as_zero():
    raw = np.array([[np.nan, 1.0], [2.0, -np.inf]])
    np.testing.assert_allclose(normalize_heatmap(raw, (2, 2)), [[0.0, 0.5], [1.0, 0.0]])


def test_degenerate_heatmaps_still_give_prompts():
    for raw in (np.zeros((7, 7)), np.full((7, 7), np.nan), np.full((7, 7), 2.0)):
        heat = normalize_heatmap(raw, (40, 60))
        p = generate_prompts(heat, PromptParams(), np.random.default_rng(0))
        assert p.box.shape == (4,) and np.all(np.isfinite(p.box))
        assert np.all(p.box >= 0) and p.box[2] <= 59 and p.box[3] <= 39
        assert np.all(np.isfinite(p.points))


def test_flat_cam_from_a_model_gives_zero_heatmap():
    """A network whose target features are constant (all-zero bias-free head) gives a flat CAM."""
    clf = tiny_classifier("efficientnet_b0")
    import copy

    flat = copy.deepcopy(clf)
    with torch.no_grad():
        flat.model.bn2.weight.zero_()
        flat.model.bn2.bias.fill_(0.5)  # every feature = ReLU6(0.5) everywhere
    res = compute_heatmap(flat, small_image(), "gradcam")
    assert res.raw_min == pytest.approx(res.raw_max)
    assert not res.heatmap.any()
    p = generate_prompts(res.heatmap, PromptParams(), np.random.default_rng(1))
    assert np.all(np.isfinite(p.box))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", PAPER_CAMS)
@pytest.mark.parametrize("model_name", ["efficientnet_b0", "vit_base_patch16_224"])
def test_cams_on_cuda_match_cpu(model_name, method):
    import copy
    import dataclasses

    cpu = tiny_classifier(model_name)
    gpu = dataclasses.replace(cpu, model=copy.deepcopy(cpu.model).cuda(), device=torch.device("cuda"))
    img = small_image()
    a = compute_heatmap(cpu, img, method, rng=np.random.default_rng(0), batch_size=8)
    b = compute_heatmap(gpu, img, method, rng=np.random.default_rng(0), batch_size=8)
    assert a.target_class == b.target_class
    np.testing.assert_allclose(b.heatmap, a.heatmap, atol=2e-3)
    assert hook_count(gpu.model) == 0


# ---------------------------------------------------------------------------------- real weights


def test_gradcam_on_chelsea_highlights_the_cat(embedded_classifier):
    img = skdata.chelsea()  # (300, 451, 3): the face fills the left / centre, blurred background right
    res = compute_heatmap(embedded_classifier, img, "gradcam")
    assert res.target_class in {281, 282, 283, 284, 285}
    assert res.cam_size == (7, 7)
    h = res.heatmap
    assert h.shape == (300, 451)
    face = h[60:260, 120:340].mean()  # eyes at y ~ 80-160, nose at (x 260, y 240)
    background = h[:, 400:].mean()  # the blurred room right of the cat
    corners = np.mean([h[:60, :90].mean(), h[:60, -90:].mean(), h[-60:, :90].mean(), h[-60:, -90:].mean()])
    assert face > 0.6
    assert face > 2.5 * background
    assert face > 2.5 * corners
    y, x = np.unravel_index(np.argmax(h), h.shape)
    assert 60 <= y < 260 and 120 <= x < 340


# ------------------------------------------------------------- aug_smooth / eigen_smooth variants


def test_smoothed_variants_are_registered_for_the_strategy_cams():
    for base in ("gradcam", "gradcam++"):
        for suffix, (aug, eigen) in {"aug": (True, False), "eigen": (False, True),
                                     "aug-eigen": (True, True)}.items():
            m = CAM_METHODS.get(f"{base}@{suffix}")
            assert (m.aug_smooth, m.eigen_smooth, m.base) == (aug, eigen, base)
            assert m.uses_gradients
    assert not CAM_METHODS.get("gradcam").aug_smooth and not CAM_METHODS.get("gradcam").eigen_smooth


def test_eigen_smooth_is_upstreams_first_principal_component(embedded_classifier):
    """``gradcam@eigen``: ReLU of pytorch-grad-cam's ``get_2d_projection`` of the Grad-CAM-weighted
    activations (real Lite0 weights, a real photograph)."""
    from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection

    clf = embedded_classifier
    img = skdata.chelsea()[::2, ::2].copy()
    x, acts, grads, cls = target_activations(clf, img)
    weights = grads.mean(axis=(2, 3))  # Grad-CAM's channel weights
    expected = np.maximum(get_2d_projection(weights[:, :, None, None] * acts)[0], 0.0)
    res = compute_heatmap(clf, img, "gradcam@eigen")
    assert res.target_class == cls and res.cam_size == expected.shape
    np.testing.assert_allclose(res.raw, expected, rtol=1e-4, atol=1e-6 * expected.max())
    plain = compute_heatmap(clf, img, "gradcam")
    assert not np.allclose(plain.raw / plain.raw.max(), res.raw / res.raw.max(), atol=1e-3)


def test_aug_smooth_equals_upstreams_test_time_augmentation(embedded_classifier):
    """``gradcam@aug`` against pytorch-grad-cam's own ``aug_smooth=True`` (ttach's flips x
    intensity factors), explaining the same class: equal after min-max scaling (upstream leaves the
    mean of the scaled maps unscaled)."""
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    clf = embedded_classifier
    img = skdata.chelsea()[::2, ::2].copy()
    res = compute_heatmap(clf, img, "gradcam@aug")
    x = clf.preprocess(img)
    with GradCAM(clf.model, clf.cam_target_layers(), clf.cam_reshape_transform()) as cam:
        ref = cam(x, [ClassifierOutputTarget(res.target_class)], aug_smooth=True)[0]
    ref = (ref - ref.min()) / (ref.max() - ref.min())
    np.testing.assert_allclose(normalize_heatmap(res.raw, ref.shape), ref, atol=2e-3)
    plain = compute_heatmap(clf, img, "gradcam")
    assert res.target_class == plain.target_class
    assert np.abs(normalize_heatmap(plain.raw, ref.shape) - ref).max() > 0.05  # smoothing changed the map
    assert hook_count(clf.model) == 0


def test_cam_target_follows_the_embedded_prediction(embedded_classifier):
    img = skdata.coffee()[::2, ::2].copy()
    pred = embedded_classifier.predict(img)
    with CamExtractor(embedded_classifier, "gradcam++") as cam:
        res = cam(img)
        res_cup = cam(img, target_class=968)
    assert res.target_class == pred.class_index
    np.testing.assert_allclose(res.logits, pred.logits, rtol=1e-4, atol=1e-4)
    assert res_cup.target_class == 968
    assert hook_count(embedded_classifier.model) == 0



# ------------------------------------------------------------- the other methods against upstream
UPSTREAM = {"hirescam": ("HiResCAM", False, False), "xgradcam": ("XGradCAM", False, False),
            "eigencam": ("EigenCAM", False, False), "layercam": ("LayerCAM", False, False),
            **{f"{base}@{suffix}": (cls, aug, eigen)
               for base, cls in (("gradcam", "GradCAM"), ("gradcam++", "GradCAMPlusPlus"))
               for suffix, (aug, eigen) in {"aug": (True, False), "eigen": (False, True),
                                            "aug-eigen": (True, True)}.items()}}


def test_every_extra_method_has_an_upstream_check():
    assert set(UPSTREAM) == {m for m in CAM_METHODS.names() if m not in PAPER_CAMS}


@pytest.mark.parametrize("method", sorted(UPSTREAM))
def test_extra_method_equals_upstreams_class(method, embedded_classifier):
    """Each extra method (and each smoothing of Grad-CAM / Grad-CAM++) against pytorch-grad-cam's
    own class called directly with the same flags, explaining the same class of the same photo
    (real Lite0 weights): equal after min-max scaling at the input size, as ScoreCAM and
    AblationCAM are checked against upstream's."""
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    cls_name, aug, eigen = UPSTREAM[method]
    clf = embedded_classifier
    img = skdata.chelsea()[::4, ::4].copy()
    res = compute_heatmap(clf, img, method)
    x = clf.preprocess(img)
    with getattr(pytorch_grad_cam, cls_name)(clf.model, clf.cam_target_layers(), clf.cam_reshape_transform()) as cam:
        ref = cam(x, [ClassifierOutputTarget(res.target_class)], aug_smooth=aug, eigen_smooth=eigen)[0]
    ref = (ref - ref.min()) / (ref.max() - ref.min())     # upstream's aug_smooth leaves the mean unscaled
    np.testing.assert_allclose(normalize_heatmap(res.raw, ref.shape), ref, atol=2e-3)
    assert res.target_class == clf.predict(img).class_index and hook_count(clf.model) == 0
