"""Packaging and project metadata: the version in one place, CITATION.cff and the CI workflow
against their JSON schemas, the changelog, and (slow) the wheel + sdist built from a clean copy
of the tracked files, checked by twine and installed into a fresh venv that runs the CLI."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

import cam2seg_utils

REPO = Path(__file__).resolve().parents[1]


def _tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return [f for f in out.stdout.split("\0") if f and (REPO / f).is_file()]


def _check_jsonschema(schema: str, path: Path) -> None:
    pytest.importorskip("check_jsonschema")
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_version_is_set_in_one_place():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in meta["project"] and "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "cam2seg_utils.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", cam2seg_utils.__version__)
    assert f"## [{cam2seg_utils.__version__}]" in (REPO / "CHANGELOG.md").read_text()
    assert "version:" not in (REPO / "CITATION.cff").read_text().replace("cff-version:", "")
    dev = meta["project"]["optional-dependencies"]["dev"]
    assert any(d.startswith("build") for d in dev) and any(d.startswith("twine") for d in dev)


def test_citation_cff_is_valid_and_cites_the_paper_and_isic():
    path = REPO / "CITATION.cff"
    _check_jsonschema("vendor.citation-file-format", path)
    cff = yaml.safe_load(path.read_text())
    assert cff["type"] == "software" and cff["license"] == "MIT"
    titles = [r["title"] for r in cff["references"]]
    assert any(t.startswith("Classification-to-Segmentation: Class Activation Mapping") for t in titles)
    isic = next(r for r in cff["references"] if "2017 International Symposium on Biomedical Imaging" in r["title"])
    assert isic["authors"][0]["family-names"] == "Codella" and isic["year"] == 2018
    assert "ISBI 2018" in isic["collection-title"]


def test_ci_workflow_runs_tests_and_deploys_the_book():
    path = REPO / ".github" / "workflows" / "ci.yml"
    _check_jsonschema("vendor.github-workflows", path)
    wf = yaml.safe_load(path.read_text())
    on = wf.get("on", wf.get(True))            # YAML 1.1 reads the key `on` as True
    assert "push" in on
    jobs = wf["jobs"]
    steps = {name: job.get("steps", []) for name, job in jobs.items()}
    runs = {name: " ".join(s.get("run", "") for s in st) for name, st in steps.items()}
    uses = {name: [s.get("uses", "").split("@")[0] for s in st] for name, st in steps.items()}
    assert "make test" in runs["test"] and "if" not in jobs["test"]          # tests on every push
    assert "make book" in runs["book"] and "refs/heads/main" in jobs["book"]["if"]
    assert "actions/upload-pages-artifact" in uses["book"]
    assert next(s for s in steps["book"] if "upload-pages-artifact" in s.get("uses", ""))["with"]["path"] == "_build/html"
    assert uses["deploy"] == ["actions/deploy-pages"] and jobs["deploy"]["needs"] == "book"
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    for name in ("test", "book"):
        setup = next(s for s in steps[name] if s.get("uses", "").startswith("actions/setup-python"))
        assert setup["with"]["cache"] == "pip"
    # the book job calls the same single command as a developer (no second build recipe)
    assert [s["run"] for s in steps["book"] if "run" in s] == ["make book PYTHON=python"]


@pytest.mark.slow
def test_wheel_and_sdist_build_pass_twine_and_install_in_a_fresh_venv(tmp_path):
    pytest.importorskip("build")
    if shutil.which("twine") is None and not _has_module("twine"):
        pytest.skip("twine not installed")
    src = tmp_path / "src"
    for rel in _tracked_files():               # a clean copy: no build leftovers, no ignored files
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, src / rel)
    dist = tmp_path / "dist"
    # --no-isolation: build with the installed setuptools (offline); sdist first, wheel from the sdist
    proc = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(src)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheel = next(dist.glob("cam2seg-*.whl"))
    sdist = next(dist.glob("cam2seg-*.tar.gz"))
    assert wheel.name.startswith(f"cam2seg-{cam2seg_utils.__version__}-")
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.count("PASSED") == 2, proc.stdout + proc.stderr
    # every data file of the package is in the wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    data_files = [f for f in _tracked_files() if f.startswith("cam2seg_utils/") and not f.endswith(".py")]
    assert data_files and all(f in names for f in data_files), set(data_files) - names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    # --ignore-installed: the machine's own (editable) cam2seg is visible through the system site
    # packages, and pip would otherwise call the requirement satisfied and install nothing
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed", str(wheel)],
                   check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    where = subprocess.run([str(py), "-c", "import cam2seg_utils, cam2seg_utils.data.download as d; "
                            "print(cam2seg_utils.__file__); print(cam2seg_utils.__version__); print(len(d.load_manifest()))"],
                           cwd=run_dir, env=env, capture_output=True, text=True, timeout=300)
    assert where.returncode == 0, where.stderr
    path, version, n_manifest = where.stdout.split()
    assert Path(path).resolve().is_relative_to(venv.resolve()), path        # the wheel, not the checkout
    assert version == cam2seg_utils.__version__ and int(n_manifest) > 0
    helped = subprocess.run([str(py), "-m", "cam2seg_utils", "--help"], cwd=run_dir, env=env,
                            capture_output=True, text=True, timeout=300)
    assert helped.returncode == 0 and "publish" in helped.stdout and "grid" in helped.stdout, helped.stderr


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_torch_floor_is_2_6_where_weights_only_holds():
    text = (REPO / "pyproject.toml").read_text() + (REPO / "environment.yml").read_text()
    floors = re.findall(r"torch>=([\d.]+),<=2\.14\.1", text)
    assert floors == ["2.6", "2.6"]                               # pyproject and environment.yml
    major, minor = (int(x) for x in torch.__version__.split(".")[:2])
    assert (major, minor) >= (2, 6)
