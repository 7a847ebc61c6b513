"""run_grid (experiments/run.py): fixed inputs are retried (error shards, changed files) and
counted, a decompression bomb is an error row naming the file, a finished grid is resumed
untouched; experiments/grid.py still re-exports the grid's public names for users' code."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cam2seg_utils.cli import main
from cam2seg_utils.data.isic import ISICDataset
from cam2seg_utils.experiments.engine import LoadedClassifier
from cam2seg_utils.experiments.run import run_grid
from cam2seg_utils.profiles import get_profile
from conftest import png_header, smoke_config_file

LITE0 = "tf_efficientnet_lite0"


@pytest.mark.slow
def test_fixed_inputs_are_retried_and_bombs_are_named(tmp_path, embedded_classifier, litemedsam, capsys):
    cfg_file, overrides = smoke_config_file(tmp_path, settings=["zero-shot"])
    cfg = get_profile("smoke", **overrides, output_dir=str(tmp_path / "results"), progress=False)
    ds = ISICDataset(cfg.data_root, "Test")
    bombed, unmasked, changed = ds.ids
    image_bytes = ds.image_path(bombed).read_bytes()
    mask_bytes = ds.mask_path(unmasked).read_bytes()
    ds.image_path(bombed).write_bytes(png_header(20000, 20000))   # a decompression bomb
    ds.mask_path(unmasked).unlink()                                # a missing mask

    clf = [LoadedClassifier("zero-shot", LITE0, embedded_classifier, "embedded", "embedded")]

    def grid():
        return run_grid(cfg, segmenter=litemedsam, classifiers=clf, dataset=ds)

    first = grid()
    errors = first.table[first.table["error"].notna()].set_index("image_id")["error"]
    assert sorted(errors.index) == [bombed, unmasked]
    assert str(ds.image_path(bombed)) in errors[bombed] and "decompression bomb" in errors[bombed]
    assert str(ds.mask_path(unmasked)) in errors[unmasked]
    before = first.table[first.table["image_id"] == changed].reset_index(drop=True)

    # 2: fix both inputs and replace the third image by its mirror image
    ds.image_path(bombed).write_bytes(image_bytes)
    ds.mask_path(unmasked).write_bytes(mask_bytes)
    with Image.open(ds.image_path(changed)) as im:
        mirrored = np.ascontiguousarray(np.asarray(im)[:, ::-1])
    Image.fromarray(mirrored).save(ds.image_path(changed), quality=95)
    with Image.open(ds.mask_path(changed)) as m:
        Image.fromarray(np.ascontiguousarray(np.asarray(m)[:, ::-1])).save(ds.mask_path(changed))
    second = grid()
    s = second.summary
    assert s["images_retried"] == 3 and s["images_resumed"] == 0 and s["encoder_calls"] == 3
    assert {r["image_id"]: r["reason"] for r in s["retried"]} == {
        bombed: "error", unmasked: "error", changed: "input changed"}
    assert s["n_errors"] == 0 and second.table["error"].isna().all()
    after = second.table[second.table["image_id"] == changed].reset_index(drop=True)
    width = mirrored.shape[1]
    row_b, row_a = before[before["setting"] == "gt-box"].iloc[0], after[after["setting"] == "gt-box"].iloc[0]
    assert row_a["box_x0"] == width - 1 - row_b["box_x1"]         # computed from the new file

    third = grid()                                                 # nothing left to do
    assert (third.counters.images_resumed, third.counters.images_retried, third.counters.encoder_calls) == (3, 0, 0)
    assert third.summary == second.summary                         # the run summary of the work done

    # the slow-CAMs note: none configured -> no note (the CLI prints none either)
    assert third.summary["slow_cams"] == [] and third.summary["slow_cams_note"] is None
    capsys.readouterr()
    assert main(["grid", "--config", str(cfg_file), "--output-dir", cfg.output_dir, "--quiet",
                 "--set", "settings=[zero-shot]"]) == 0
    assert "slow CAMs" not in capsys.readouterr().out


def test_grid_module_re_exports_the_grid_for_users_code():
    from cam2seg_utils.experiments import baselines, engine, grid, merge, run, table

    homes = {"run_grid": run, "merge_grid": merge, "load_table": merge, "grid_needs_merge": merge,
             "GridEngine": engine, "LoadedClassifier": engine, "compute_image": engine, "gt_box": baselines,
             "gt_point": baselines, "BASELINE_STRATEGY": baselines, "COLUMNS": table, "coerce_table": table}
    for name, home in homes.items():
        assert getattr(grid, name) is getattr(home, name), name
    assert grid.build_grid is engine.build_engine
    assert all(hasattr(grid, name) for name in grid.__all__)
