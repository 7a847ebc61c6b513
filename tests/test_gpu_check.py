"""benchmarks/gpu_check.sh in its CPU mode: every step of the GPU check (AMP fine-tuning epoch,
the five CAMs, the grid) runs end to end on real ISIC images and reports per-stage rates."""
from __future__ import annotations

import json
import os
import subprocess

import pytest


@pytest.mark.slow
def test_gpu_check_runs_on_cpu(repo_root, isic_root, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(repo_root), "TQDM_DISABLE": "1"}
    out = subprocess.run(
        ["bash", "benchmarks/gpu_check.sh", "--device", "cpu", "--images", "1", "--train-images", "8",
         "--isic-root", str(isic_root), "--skip-tests", "--workdir", str(tmp_path / "work"),
         "--json", str(tmp_path / "stages.json")],
        cwd=repo_root, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    stages = {r["stage"]: r for r in json.loads((tmp_path / "stages.json").read_text())}
    expected = {"fine-tune 1 epoch (AMP)", "segmenter encoder", "classifier predict (zero-shot)",
                "Algorithm 1 + decoder (box), all CAMs", "grid (2 settings x 5 CAMs x 3 variants + GT)",
                *(f"CAM {c}" for c in ("gradcam", "gradcam++", "ablationcam", "scorecam", "randomcam"))}
    assert set(stages) == expected
    assert all(r["per second"] > 0 and r["peak host RSS MB"] > 0 for r in stages.values())
    assert stages["fine-tune 1 epoch (AMP)"]["n"] == 8 and stages["grid (2 settings x 5 CAMs x 3 variants + GT)"]["n"] == 1
    assert "grid mean IoU (box)" in out.stdout and "FAIL" not in out.stderr


def test_gpu_check_refuses_cuda_without_a_device(repo_root):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    out = subprocess.run(["bash", "benchmarks/gpu_check.sh", "--skip-tests"], cwd=repo_root,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "no CUDA device" in out.stderr
