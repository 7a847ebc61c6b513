"""Which images the grid evaluates: test ids by default, validation ids with evaluate_on="val"
(for tuning prompt parameters without touching the test images)."""
from cam2seg_utils.data.synthetic import generate_synthetic
from cam2seg_utils.experiments.config import ExperimentConfig
from cam2seg_utils.experiments.datasets import evaluation_ids, resolve_splits


def _cfg(root, **kw):
    return ExperimentConfig(dataset="synthetic", data_root=str(root), val_fraction=0.25, seed=1,
                            progress=False, **kw)


def test_evaluate_on_val_uses_validation_ids_never_test_ids(tmp_path):
    generate_synthetic(tmp_path, n_images=8, seed=0, split="Training", size_range=(64, 80), progress=False)
    generate_synthetic(tmp_path, n_images=3, seed=1, split="Test", size_range=(64, 80), progress=False)
    splits = resolve_splits(_cfg(tmp_path))
    ds, ids, label = evaluation_ids(_cfg(tmp_path))
    assert ids == splits.test_ids and len(ids) == 3 and label == "Test"
    ds, ids, label = evaluation_ids(_cfg(tmp_path, evaluate_on="val"))
    assert ids == splits.val_ids and len(ids) >= 2 and "validation" in label
    assert not set(ids) & set(splits.train_ids) and not set(ids) & set(splits.test_ids)
    _, ids, _ = evaluation_ids(_cfg(tmp_path, evaluate_on="val", max_images=1))
    assert ids == splits.val_ids[:1]


def test_default_prompt_parameters_come_from_prompt_params():
    from cam2seg_utils.prompting.algorithm1 import PromptParams

    cfg = ExperimentConfig()
    d = PromptParams()
    assert (cfg.percentile, cfg.num_points, cfg.amplification) == ([d.percentile], [d.num_points],
                                                                  [d.amplification])
    assert cfg.main_prompt_variant == "box"
    assert ExperimentConfig(prompt_variants=["box+points"]).main_prompt_variant == "box+points"
