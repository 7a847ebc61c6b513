"""The demo's automatic pass and per-user state (cam2seg_utils.demo.state) on the real shipped models
(embedded EfficientNet-Lite0 + LiteMedSAM) and the synthetic disk image of conftest: the pipeline's
first mask, embedding reuse, private export folders, independent users."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.demo.state import EmbeddingCache, UserState, analyse_image
from cam2seg_utils.file_digest import image_digest
from conftest import disk_session

CENTER = (150.0, 110.0)  # (x, y)


def test_user_state_export_folder_is_private_and_removed(embedded_disk, litemedsam, tmp_path):
    user = UserState(session=disk_session(embedded_disk, litemedsam), source_name="../../etc/evil name.jpg")
    mask_path, json_path = user.export(tmp_path / "exports")
    assert mask_path.parent == json_path.parent == user.export_dir
    assert user.export_dir.parent == tmp_path / "exports"
    assert mask_path.name == "evil_name_mask.png"  # the user's file name cannot leave the folder
    user.close()
    assert not mask_path.exists() and user.session is None


def test_analyse_image_automatic_prompts_and_embedding_reuse(embedded_classifier, litemedsam, embedded_disk):
    from cam2seg_utils.prompting.algorithm1 import PromptParams

    image = embedded_disk[0]
    cache = EmbeddingCache()
    calls = litemedsam.encoder_calls
    s = analyse_image(image, embedded_classifier, litemedsam, cam_method="gradcam",
                      params=PromptParams(percentile=90, num_points=3, amplification=2), embeddings=cache)
    assert litemedsam.encoder_calls == calls + 1 and not s.timings.embedding_cached
    box = s.auto.box
    assert box.shape == (4,) and 0 <= box[0] <= box[2] <= 319 and 0 <= box[1] <= box[3] <= 239
    assert s.auto.points.shape == (3, 2) and s.auto.point_labels.tolist() == [1, 1, 1]
    assert s.heatmap.shape == (240, 320) and s.current_mask().shape == (240, 320)
    pred = s.meta["prediction"]
    assert 0 < pred["probability"] <= 1 and pred["class_name"] == embedded_classifier.class_names[pred["class_index"]]
    # same image, same CAM, same parameters: the same prompts (seeded from the image hash)
    again = analyse_image(image, embedded_classifier, litemedsam, cam_method="gradcam",
                          params=PromptParams(percentile=90, num_points=3, amplification=2), embeddings=cache)
    assert again.current.key() == s.current.key()
    # another CAM and box-only prompts on the same image: no second encoder pass
    other = analyse_image(image, embedded_classifier, litemedsam, cam_method="eigencam", variant="box",
                          embeddings=cache)
    assert litemedsam.encoder_calls == calls + 1 and other.timings.embedding_cached
    assert len(other.auto.points) == 0 and other.meta["cam"] == "eigencam"
    assert other.embedding is s.embedding


def test_analyse_image_first_mask_from_the_default_strategy(embedded_classifier, litemedsam, embedded_disk):
    """The demo's first mask comes from a prompting strategy (the same box and mask as running
    the strategy directly); Algorithm 1 stays one choice away on the same embedding."""
    from cam2seg_utils.cams import compute_heatmap
    from cam2seg_utils.prompting import DEFAULT_STRATEGY, PromptContext, build_strategy
    from cam2seg_utils.seeding import make_rng

    image, gt, _ = embedded_disk
    cache = EmbeddingCache()
    s = analyse_image(image, embedded_classifier, litemedsam, cam_method="gradcam", variant=DEFAULT_STRATEGY,
                      embeddings=cache)
    assert s.meta["strategy"]["name"] == DEFAULT_STRATEGY and len(s.auto.points) == 0
    target = s.meta["prediction"]["class_index"]
    heatmaps = {c: compute_heatmap(embedded_classifier, image, c, target_class=target).heatmap
                for c in ("gradcam", "gradcam++")}
    ctx = PromptContext(image, s.embedding, litemedsam, heatmaps,
                        make_rng("demo-strategy", image_digest(image), DEFAULT_STRATEGY, "gradcam"))
    direct = build_strategy(DEFAULT_STRATEGY)(ctx)
    np.testing.assert_array_equal(s.auto.box, direct.box)
    np.testing.assert_array_equal(s.current_mask(), direct.mask)
    iou = (s.current_mask() & gt).sum() / (s.current_mask() | gt).sum()
    assert iou > 0.85  # the dark disk, found without ground truth
    calls = litemedsam.encoder_calls
    a1 = analyse_image(image, embedded_classifier, litemedsam, cam_method="gradcam", variant="box", embeddings=cache)
    assert litemedsam.encoder_calls == calls and a1.meta["strategy"] == {}
    with pytest.raises(ValueError, match="strategy"):
        analyse_image(image, embedded_classifier, litemedsam, variant="no-such-strategy")


def test_sessions_of_two_users_are_independent(embedded_disk, litemedsam):
    a = UserState(session=disk_session(embedded_disk, litemedsam))
    b = UserState(session=disk_session(embedded_disk, litemedsam))
    a.session.add_point(*CENTER, positive=False)
    assert len(b.session.current.points) == 0 and not b.session.history
    assert a.embeddings is not b.embeddings
