"""The image pass as an iterator (cam2seg_utils/pipeline.py, ImagePass) on the real embedded
EfficientNet-Lite0 and LiteMedSAM, with the synthetic disk image of conftest: Algorithm 1 is a
strategy like the others (one per parameter combination and variant), each CAM map is yielded as
it is made and only one full-size heatmap beyond the strategies' is alive at a time, and the
prompts known in advance are decoded together, identical ones once."""
from __future__ import annotations

import numpy as np

from cam2seg_utils.pipeline import CamMap, ImagePass, StrategyRun
from cam2seg_utils.prompting import PromptContext, build_strategy
from cam2seg_utils.prompting.algorithm1 import Algorithm1
from cam2seg_utils.seeding import make_rng

SEEDS = ("test-pass", 3)
CAMS = ["gradcam", "eigencam", "gradcam++"]


def test_one_heatmap_at_a_time_and_algorithm1_as_a_strategy(embedded_disk, embedded_classifier, litemedsam):
    image, _, embedding = embedded_disk
    a1 = [Algorithm1(p, 2, 2.0, v) for p in (50.0, 70.0) for v in ("box", "box+points", "points")]
    image_pass = ImagePass(image, embedded_classifier, litemedsam, a1 + [build_strategy("candidates")], cams=CAMS,
                           strategy_cams=["gradcam", "gradcam++"], embedding=embedding, seeds=SEEDS)
    seen: list[CamMap] = []
    runs: list[StrategyRun] = []
    heat_of: dict[str, np.ndarray] = {}
    for item in image_pass:
        if isinstance(item, CamMap):
            # the current map holds its heatmap and its draws' noisy masks; the maps before it
            # only if the strategies need them (eigencam is not one of strategy_cams)
            assert item.heatmap is not None and all(d.prompts.noisy_mask is not None for d in item.draws)
            assert len(item.draws) == 2                            # one draw per combination, shared by 3 variants
            for d in item.draws:
                hot = item.heatmap.astype(np.float64) >= d.prompts.threshold
                np.testing.assert_array_equal(d.prompts.noisy_mask, hot)
            for before in seen:
                assert all(d.prompts.noisy_mask is None for d in before.draws)
                assert (before.heatmap is None) == (before.cam == "eigencam")
            heat_of[item.cam] = item.heatmap.copy()
            seen.append(item)
        else:
            assert len(seen) == len(CAMS)                          # the runs come after every map
            runs.append(item)
    assert [m.cam for m in seen] == CAMS and list(image_pass.heatmaps) == ["gradcam", "gradcam++"]
    assert seen[1].heatmap is None
    # Algorithm 1: one run per CAM x strategy, in the order made, then the other strategies
    assert [(r.strategy, r.cams) for r in runs[:18]] == [(s, (c,)) for c in CAMS for s in a1]
    assert [r.strategy.name for r in runs[18:]] == ["candidates"] and all(r.error is None for r in runs)
    # each equals the strategy run alone on that heatmap with the pass's generator
    for r in runs[:18]:
        cam = r.cams[0]
        ctx = PromptContext(image, embedding, litemedsam, {cam: heat_of[cam]},
                            make_rng(*SEEDS, *r.strategy.rng_key(cam)))
        alone = r.strategy(ctx)
        np.testing.assert_array_equal(r.outcome.mask, alone.mask)
        assert (r.outcome.box is None) == (r.strategy.variant == "points")
        if r.outcome.box is not None:
            np.testing.assert_array_equal(r.outcome.box, alone.box)
        np.testing.assert_array_equal(r.outcome.points, alone.points)
        assert r.decoder_calls == 0                                # answered by the pass's plan
    # the plan: all box prompts in one call, box+points (2 points) in one, points in one
    assert image_pass.plan_calls == 3 and runs[-1].decoder_calls == 0
    # the p50 box of gradcam / gradcam++ is also one of the candidates' boxes: decoded once
    assert image_pass.duplicate_prompts >= 2


def test_a_failed_draw_fails_its_runs_only(embedded_disk, embedded_classifier, litemedsam):
    image, _, embedding = embedded_disk
    bad, good = Algorithm1(150.0), Algorithm1(50.0)
    items = list(ImagePass(image, embedded_classifier, litemedsam, [bad, good], cams=["gradcam"],
                           embedding=embedding, seeds=SEEDS))
    cam_map, failed, ok = items
    assert isinstance(cam_map.draw_error, ValueError) and len(cam_map.draws) == 1
    assert failed.strategy is bad and isinstance(failed.error, ValueError) and failed.outcome is None
    assert ok.strategy is good and ok.error is None and ok.outcome.mask.shape == image.shape[:2]
