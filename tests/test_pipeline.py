"""One image, one pipeline (cam2seg_utils/pipeline.py): classify -> CAMs -> strategies -> masks on
the real embedded EfficientNet-Lite0 and LiteMedSAM, with the synthetic disk image of conftest. The
grid's engine and the demo both run :func:`segment_image`; their own tests check their numbers."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.cams import compute_heatmap
from cam2seg_utils.pipeline import ClassifierFailed, ImagePass, SharedDecodes, segment_image
from cam2seg_utils.prompting import PromptContext, build_strategy
from cam2seg_utils.seeding import make_rng


SEEDS = ("test-pipeline",)


def _rng(name, cam):
    """The generator the pipeline gives a run: ``make_rng(*seeds, *strategy.rng_key(cam))``."""
    return make_rng(*SEEDS, *([cam] if cam else []), name)


def test_classify_cams_strategies_in_one_pass(embedded_disk, embedded_classifier, litemedsam):
    image, gt, embedding = embedded_disk
    calls = litemedsam.encoder_calls
    res = segment_image(image, embedded_classifier, litemedsam, ["candidates", "component", "image-prior"],
                        cams=["gradcam", "eigencam", "gradcam++"], strategy_cams=["gradcam", "gradcam++"],
                        seeds=SEEDS)
    assert litemedsam.encoder_calls == calls + 1                 # embedded once, for every strategy
    target = embedded_classifier.predict(image).class_index
    assert res.prediction.class_index == target
    assert list(res.heatmaps) == ["gradcam", "gradcam++"]     # the strategies' CAMs only
    for cam, heat in res.heatmaps.items():                     # = the extractor's own original-size heatmap
        expected = compute_heatmap(embedded_classifier, image, cam, target_class=target).heatmap
        np.testing.assert_array_equal(heat, expected)
    assert list(res.cam_seconds) == ["gradcam", "eigencam", "gradcam++"] and not res.cam_errors
    assert all(seconds > 0 for seconds in res.cam_seconds.values())
    # a multi-CAM strategy once on both maps, a per-CAM one once per map, the floor once without any
    assert [(r.strategy.name, r.cams) for r in res.runs] == [
        ("candidates", ("gradcam", "gradcam++")), ("component", ("gradcam",)), ("component", ("gradcam++",)),
        ("image-prior", ())]
    for run in res.runs:
        given = {c: res.heatmaps[c] for c in run.cams}
        rng = _rng(run.strategy.name, run.cams[0] if len(run.cams) == 1 else None)
        direct = build_strategy(run.strategy.name)(PromptContext(image, embedding, litemedsam, given, rng))
        np.testing.assert_array_equal(run.outcome.mask, direct.mask)
        np.testing.assert_array_equal(run.outcome.box, direct.box)
    iou = (res.mask & gt).sum() / (res.mask | gt).sum()       # the first run's mask: `candidates`
    assert res.mask is res.runs[0].outcome.mask and iou > 0.85


def test_shared_decodes_and_no_classifier(embedded_disk, embedded_classifier, litemedsam):
    image, _, embedding = embedded_disk
    shared = SharedDecodes()
    calls = litemedsam.encoder_calls
    first = segment_image(image, None, litemedsam, ["image-prior", "centred-box", "refine"], embedding=embedding,
                          shared=shared, seeds=SEEDS)
    assert litemedsam.encoder_calls == calls and first.prediction is None and first.cam_seconds == {}
    # without a classifier there are no heatmaps: the strategies that need one do not run
    assert [r.strategy.name for r in first.runs] == ["image-prior", "centred-box"]
    # image-prior's candidate boxes were decoded by the pass's plan (identical boxes once), into
    # the shared cache: the run itself found them there
    assert 0 < len(shared.decode_cache) <= first.runs[0].outcome.details["n_candidates"] + 1
    assert first.runs[0].decoder_calls == 0 and shared.prior is not None
    again_pass = ImagePass(image, None, litemedsam, ["image-prior", "centred-box"], embedding=embedding,
                           shared=shared, seeds=SEEDS)
    again = [r for r in again_pass]
    assert again_pass.plan_calls == 0 and [r.decoder_calls for r in again] == [0, 0]   # all from the cache
    for a, b in zip(first.runs, again):
        np.testing.assert_array_equal(a.outcome.mask, b.outcome.mask)


def test_failures_are_recorded_and_the_others_go_on(embedded_disk, embedded_classifier, litemedsam):
    image, _, embedding = embedded_disk
    res = segment_image(image, embedded_classifier, litemedsam, ["algorithm1", "component"],
                        cams=["randomcam", "gradcam"], embedding=embedding, seeds=SEEDS)
    assert list(res.cam_errors) == ["randomcam"] and "needs rng" in str(res.cam_errors["randomcam"])
    assert isinstance(res.cam_errors["randomcam"], ValueError) and list(res.heatmaps) == ["gradcam"]
    seeded = segment_image(image, embedded_classifier, litemedsam, cams=["randomcam"], embedding=embedding,
                           cam_rng=lambda cam: make_rng("test-pipeline", cam))
    assert not seeded.cam_errors and seeded.heatmaps["randomcam"].shape == image.shape[:2]
    # a strategy that fails (here: Algorithm 1 at a percentile the constructor accepts but the
    # parameters refuse) is recorded; the next one still runs
    res = segment_image(image, embedded_classifier, litemedsam, [build_strategy("algorithm1", percentile=150.0),
                                                                  "component"],
                        cams=["gradcam"], embedding=embedding, seeds=SEEDS)
    failed, ok = res.runs
    assert isinstance(failed.error, ValueError) and "percentile" in str(failed.error) and failed.outcome is None
    assert ok.error is None and ok.outcome.mask.shape == image.shape[:2]
    with pytest.raises(ClassifierFailed, match="classifier failed: ValueError: image must be uint8") as info:
        segment_image(image.astype(np.float32), embedded_classifier, litemedsam, ["component"], cams=["gradcam"],
                      embedding=embedding, seeds=SEEDS)
    with pytest.raises(TypeError, match="seeds"):
        segment_image(image, embedded_classifier, litemedsam, ["component"], cams=["gradcam"], embedding=embedding)
    assert isinstance(info.value.__cause__, ValueError)
