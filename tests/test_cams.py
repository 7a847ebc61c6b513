"""CAM methods: every paper model x every paper CAM on tiny inputs, plus real-weight checks.

The model x method matrix uses *tiny* versions of the five paper architectures: the same timm
classes, attribute names and therefore the same registered target layers / reshape transforms,
with reduced depth and width and a 32-64 px input, so ScoreCAM / AblationCAM (one forward pass
per channel) stay cheap. Full-size target-layer shapes are checked in ``test_models.py``.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data as skdata

from cam2seg_utils.cams import (
    CAM_METHODS,
    PAPER_CAMS,
    CamExtractor,
    HeatmapResult,
    compute_heatmap,
    normalize_heatmap,
)
from cam2seg_utils.models import PAPER_CLASSIFIERS, Classifier, get_spec
from cam2seg_utils.prompting.algorithm1 import PromptParams, generate_prompts
from cam2seg_utils.seeding import make_rng

NUM_CLASSES = 5


def _tiny_model(name: str) -> tuple[torch.nn.Module, int]:
    import timm
    from timm.layers import BatchNormAct2d
    from timm.models import efficientnet as timm_effnet

    torch.manual_seed(0)
    if name == "resnet50":
        m = timm.create_model("resnet50", layers=(1, 1, 1, 1), channels=(8, 8, 16, 16),
                              stem_width=8, num_classes=NUM_CLASSES)
        return m, 64
    # the MobileNet / EfficientNet heads (1280 channels at any width for MobileNet-v2) are
    # replaced by 32-channel ones under the same attribute names (conv_head, bn2, classifier)
    if name == "mobilenetv2_100":
        m = timm_effnet._gen_mobilenet_v2("mobilenetv2_100", 0.25, depth_multiplier=0.3,
                                          num_classes=NUM_CLASSES)
        m.conv_head = torch.nn.Conv2d(m.conv_head.in_channels, 32, 1, bias=False)
        m.bn2 = BatchNormAct2d(32, act_layer=torch.nn.ReLU6)
        m.classifier = torch.nn.Linear(32, NUM_CLASSES)
        return m, 64
    if name == "efficientnet_b0":
        m = timm_effnet._gen_efficientnet("efficientnet_b0", 0.1, depth_multiplier=0.3,
                                          num_classes=NUM_CLASSES)
        m.conv_head = torch.nn.Conv2d(m.conv_head.in_channels, 32, 1, bias=False)
        m.bn2 = BatchNormAct2d(32, act_layer=torch.nn.SiLU)
        m.classifier = torch.nn.Linear(32, NUM_CLASSES)
        return m, 64
    if name == "vit_base_patch16_224":
        m = timm.create_model(name, img_size=32, depth=1, embed_dim=48, num_heads=2,
                              num_classes=NUM_CLASSES)
        return m, 32
    if name == "swin_base_patch4_window7_224":
        m = timm.create_model(name, img_size=64, depths=(1, 1, 1, 1), embed_dim=8,
                              num_heads=(1, 1, 1, 1), num_classes=NUM_CLASSES)
        return m, 64
    raise AssertionError(name)


_TINY: dict[str, Classifier] = {}


def tiny_classifier(name: str) -> Classifier:
    if name not in _TINY:
        model, size = _tiny_model(name)
        _TINY[name] = Classifier(
            spec=get_spec(name), model=model.eval(), weights="random", num_classes=NUM_CLASSES,
            class_names=[f"c{i}" for i in range(NUM_CLASSES)], mean=(0.5, 0.5, 0.5),
            std=(0.5, 0.5, 0.5), input_size=(size, size), device=torch.device("cpu"),
        )
    return _TINY[name]


def _hook_count(model: torch.nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
               for m in model.modules())


def _image(h: int = 30, w: int = 45) -> np.ndarray:
    return (np.random.default_rng(7).random((h, w, 3)) * 255).astype(np.uint8)


def _check_result(res: HeatmapResult, shape: tuple[int, int]) -> None:
    assert res.heatmap.shape == shape
    assert res.heatmap.dtype == np.float32
    assert np.all(np.isfinite(res.heatmap))
    assert res.heatmap.min() >= 0.0 and res.heatmap.max() <= 1.0
    if res.raw_max > res.raw_min:
        assert res.heatmap.min() == 0.0 and res.heatmap.max() == pytest.approx(1.0)
    else:
        assert not res.heatmap.any()


@pytest.mark.parametrize("method", PAPER_CAMS)
@pytest.mark.parametrize("model_name", PAPER_CLASSIFIERS)
def test_every_paper_model_with_every_paper_cam(model_name, method):
    clf = tiny_classifier(model_name)
    target_before = clf.cam_target_layers()[0]
    modules_before = [id(m) for m in clf.model.modules()]
    img = _image()
    expected_class = clf.predict(img).class_index
    with CamExtractor(clf, method, batch_size=64, progress=False) as cam:
        assert _hook_count(clf.model) > 0
        res = cam(img, rng=make_rng("test", model_name, method))
    assert _hook_count(clf.model) == 0  # hooks released on exit
    # AblationCAM swaps the target layer for its ablation layer: it must be put back
    assert clf.cam_target_layers()[0] is target_before
    assert [id(m) for m in clf.model.modules()] == modules_before
    _check_result(res, (30, 45))
    assert res.target_class == expected_class  # default target = argmax of the logits
    assert res.method == method
    assert res.cam_size == (2, 2)
    assert res.logits.shape == (NUM_CLASSES,)


@pytest.mark.parametrize("method", [m for m in CAM_METHODS.names() if m not in PAPER_CAMS])
def test_extra_methods_run(method):
    clf = tiny_classifier("resnet50")
    res = compute_heatmap(clf, _image(20, 16), method)
    _check_result(res, (20, 16))
    assert _hook_count(clf.model) == 0


def test_registry_lists_all_methods():
    assert set(CAM_METHODS.names()) == {
        "gradcam", "gradcam++", "ablationcam", "scorecam", "randomcam",
        "hirescam", "xgradcam", "eigencam", "layercam",
        *(f"{m}@{s}" for m in ("gradcam", "gradcam++") for s in ("aug", "eigen", "aug-eigen")),
    }
    with pytest.raises(KeyError, match="gradcam"):
        CamExtractor(tiny_classifier("resnet50"), "grad-cam")


def test_target_override_changes_the_explanation():
    clf = tiny_classifier("resnet50")
    img = _image()
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
    img = _image(64, 64)
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


def test_randomcam_is_reproducible_and_needs_an_rng(embedded_classifier):
    clf = embedded_classifier  # 7 x 7 CAM layer: enough cells for distinct random maps
    img = _image()
    state = np.random.get_state()
    a = compute_heatmap(clf, img, "randomcam", rng=make_rng("ISIC_0000000", "randomcam"))
    b = compute_heatmap(clf, img, "randomcam", rng=make_rng("ISIC_0000000", "randomcam"))
    c = compute_heatmap(clf, img, "randomcam", rng=make_rng("ISIC_0000001", "randomcam"))
    assert np.array_equal(a.heatmap, b.heatmap)
    assert not np.array_equal(a.heatmap, c.heatmap)
    # numpy's global state is untouched (pytorch-grad-cam's RandomCAM would draw from it)
    after = np.random.get_state()
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]
    # raw map is U[-1, 1] at the layer resolution, after ReLU: within [0, 1]
    assert 0.0 <= a.raw_min and a.raw_max <= 1.0
    with pytest.raises(ValueError, match="rng"):
        compute_heatmap(clf, img, "randomcam")


def test_randomcam_map_matches_the_generator_draw():
    clf = tiny_classifier("resnet50")
    img = _image()
    res = compute_heatmap(clf, img, "randomcam", rng=np.random.default_rng(123))
    draw = np.maximum(np.random.default_rng(123).uniform(-1, 1, size=(1, 2, 2))[0], 0)
    np.testing.assert_allclose(res.heatmap, normalize_heatmap(draw, (30, 45)), atol=1e-6)


def test_hooks_released_when_the_body_raises():
    clf = tiny_classifier("mobilenetv2_100")
    with pytest.raises(IndexError):  # upstream __exit__ would swallow an IndexError
        with CamExtractor(clf, "gradcam"):
            raise IndexError("boom")
    assert _hook_count(clf.model) == 0


# ------------------------------------------------------------------ ScoreCAM / AblationCAM


def _upstream_cam(clf: Classifier, method: str, batch_size: int):
    """pytorch-grad-cam's own ScoreCAM / AblationCAM for ``clf`` (the reference)."""
    from pytorch_grad_cam import AblationCAM, ScoreCAM
    from pytorch_grad_cam.ablation_layer import AblationLayer, AblationLayerVit

    layers, reshape = clf.cam_target_layers(), clf.cam_reshape_transform()
    if method == "scorecam":
        cam = ScoreCAM(clf.model, layers, reshape)
        cam.batch_size = batch_size
        return cam
    layer = AblationLayer() if clf.spec.family == "cnn" else AblationLayerVit()
    return AblationCAM(clf.model, layers, reshape_transform=reshape, ablation_layer=layer, batch_size=batch_size)


def _run(clf: Classifier, cam, img: np.ndarray) -> HeatmapResult:
    """Any pytorch-grad-cam object through the extractor's own steps."""
    try:
        return CamExtractor(clf, "gradcam")._compute(cam, clf.preprocess(img), img.shape[:2], None, None)
    finally:
        cam.activations_and_grads.release()


def _target_activations(clf: Classifier, img: np.ndarray):
    """``(x, activations (1, C, h, w) numpy, gradients of the argmax score (1, C, h, w), class)``."""
    x = clf.preprocess(img)
    store = {}

    def keep(module, inputs, output):
        output.retain_grad()
        store["out"] = output

    handle = clf.cam_target_layers()[0].register_forward_hook(keep)
    try:
        logits = clf.model(x)
        cls = int(logits.argmax())
        logits[0, cls].backward()
    finally:
        handle.remove()
        clf.model.zero_grad(set_to_none=True)
    out = store["out"]
    return x, out.detach().numpy(), out.grad.numpy(), cls


@pytest.mark.parametrize("model_name", PAPER_CLASSIFIERS)
def test_scorecam_on_every_channel_equals_upstream_scorecam(model_name):
    clf = tiny_classifier(model_name)
    img = _image()
    mine = compute_heatmap(clf, img, "scorecam", batch_size=8, scorecam_channels=None)
    ref = _run(clf, _upstream_cam(clf, "scorecam", 8), img)
    np.testing.assert_allclose([mine.raw_min, mine.raw_max], [ref.raw_min, ref.raw_max], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(mine.heatmap, ref.heatmap, atol=1e-6)
    assert _hook_count(clf.model) == 0


def test_scorecam_scores_dead_channels_in_one_pass():
    """Constant maps all give the zero masked input: one pass for all of them, same weights."""
    import copy
    import dataclasses

    base = tiny_classifier("mobilenetv2_100")
    clf = dataclasses.replace(base, model=copy.deepcopy(base.model))
    with torch.no_grad():  # 12 of the 32 target channels dead: BN output 0 -> ReLU6 -> 0
        clf.model.bn2.weight[:12] = 0.0
        clf.model.bn2.bias[:12] = 0.0
    img = _image()
    acts = _target_activations(clf, img)[1][0].reshape(32, -1)
    n_flat = int((acts.max(axis=1) == acts.min(axis=1)).sum())
    assert 12 <= n_flat < 32
    with CamExtractor(clf, "scorecam", batch_size=8, scorecam_channels=None) as cam:
        mine = cam(img)
        assert cam._cam.last_passes == 1 + (32 - n_flat)
    ref = _run(clf, _upstream_cam(clf, "scorecam", 8), img)
    np.testing.assert_allclose(mine.heatmap, ref.heatmap, atol=1e-6)
    assert mine.raw_max > mine.raw_min


@pytest.mark.parametrize("model_name", PAPER_CLASSIFIERS)
def test_fast_ablationcam_equals_upstream_ablationcam(model_name):
    """Same weights as upstream's whole-network passes. Upstream runs one copy per batch here:
    with several it lowers the ablation value of negative activations (ViT, Swin, SiLU) by 1e7
    per copy, which FastAblationCAM deliberately does not (module docstring)."""
    clf = tiny_classifier(model_name)
    img = _image()
    with CamExtractor(clf, "ablationcam", batch_size=8) as cam:
        mine = cam(img)
        tail_only = cam._cam.tail_only
    ref = _run(clf, _upstream_cam(clf, "ablationcam", 1), img)
    np.testing.assert_allclose([mine.raw_min, mine.raw_max], [ref.raw_min, ref.raw_max], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(mine.heatmap, ref.heatmap, atol=1e-5)
    # only the layers after the target layer see the ablated batch -- except Swin, whose last
    # block reshapes with the batch size of its input: whole-network passes there
    assert tail_only is (clf.spec.family != "swin")
    assert _hook_count(clf.model) == 0


def test_topk_scorecam_keeps_the_full_relative_weights():
    """softmax over a subset = the full softmax renormalised on it; the rest get 0."""
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from cam2seg_utils.cams import TopKScoreCAM

    clf = tiny_classifier("mobilenetv2_100")  # 32 channels at the target layer
    x, acts, grads, cls = _target_activations(clf, _image())
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
        res = cam(_image())
        assert len(cam._cam.last_selected) == 4
    _check_result(res, (30, 45))
    assert _hook_count(clf.model) == 0


def test_ablation_ratio_ablates_upstreams_channel_subset():
    from pytorch_grad_cam.ablation_layer import AblationLayer
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from cam2seg_utils.cams import FastAblationCAM

    clf = tiny_classifier("mobilenetv2_100")  # ReLU6 features: ablation zeroes the channel
    x, acts, _, cls = _target_activations(clf, _image())
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
        compute_heatmap(clf, _image(), "ablationcam")
    assert clf.model.layer4[-1] is target
    assert _hook_count(clf.model) == 0


def test_cam_options_are_honoured_and_validated():
    clf = tiny_classifier("resnet50")
    with CamExtractor(clf, "ablationcam", batch_size=7, ablation_channels=0.25) as cam:
        assert cam._cam.batch_size == 7 and cam._cam.ratio_channels_to_ablate == 0.25
        assert cam.params == {"ablation_channels": 0.25}
        _check_result(cam(_image()), (30, 45))
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
    img = _image(37, 52)
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
    res = compute_heatmap(flat, _image(), "gradcam")
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
    img = _image()
    a = compute_heatmap(cpu, img, method, rng=np.random.default_rng(0), batch_size=8)
    b = compute_heatmap(gpu, img, method, rng=np.random.default_rng(0), batch_size=8)
    assert a.target_class == b.target_class
    np.testing.assert_allclose(b.heatmap, a.heatmap, atol=2e-3)
    assert _hook_count(gpu.model) == 0


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
    x, acts, grads, cls = _target_activations(clf, img)
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
    assert _hook_count(clf.model) == 0


def test_cam_target_follows_the_embedded_prediction(embedded_classifier):
    img = skdata.coffee()[::2, ::2].copy()
    pred = embedded_classifier.predict(img)
    with CamExtractor(embedded_classifier, "gradcam++") as cam:
        res = cam(img)
        res_cup = cam(img, target_class=968)
    assert res.target_class == pred.class_index
    np.testing.assert_allclose(res.logits, pred.logits, rtol=1e-4, atol=1e-4)
    assert res_cup.target_class == 968
    assert _hook_count(embedded_classifier.model) == 0
