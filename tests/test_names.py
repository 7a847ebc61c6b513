"""The paper's names (cam2seg_utils.names) have one home: every module that offers one of them
offers that very object."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from cam2seg_utils import names, paper

REPO = Path(__file__).resolve().parents[1]

#: where users' code found each name before it had a home of its own
REEXPORTS = [("cam2seg_utils.experiments.config", "PAPER_MODELS"),
             ("cam2seg_utils.experiments.config", "SETTINGS"),
             ("cam2seg_utils.experiments.config", "BASELINES"), ("cam2seg_utils.paper", "METRICS"),
             ("cam2seg_utils.experiments.summary", "METRICS")]


@pytest.mark.parametrize("module,name", REEXPORTS, ids=lambda x: x)
def test_every_module_offers_the_same_object(module, name):
    assert getattr(importlib.import_module(module), name) is getattr(names, name)


@pytest.mark.parametrize("module", ["cam2seg_utils.cams", "cam2seg_utils.cams.registry", "cam2seg_utils.paper",
                                    "cam2seg_utils.experiments.config"])
def test_paper_cams_has_one_address(module):
    """``PAPER_CAMS`` is imported from :mod:`cam2seg_utils.names` only (its old addresses are gone)."""
    assert not hasattr(importlib.import_module(module), "PAPER_CAMS")


def test_summary_settings_are_the_papers():
    from cam2seg_utils.experiments import summary

    assert summary.CAM_SETTINGS is names.SETTINGS and summary.GT_SETTINGS is names.BASELINES


def test_names_are_consistent():
    assert set(names.PAPER_CAM_LABELS.values()) == set(names.PAPER_CAMS)
    from cam2seg_utils.cams.registry import CAM_METHODS, floor_cam, slow_cams

    # the traits on the methods: the paper's labels, its two slow CAMs, RandomCAM the floor
    assert all(CAM_METHODS.get(c).label.replace("-", "") in names.PAPER_CAM_LABELS for c in names.PAPER_CAMS)
    assert slow_cams() == ["ablationcam", "scorecam"] and floor_cam() == "randomcam"
    assert set(names.PAPER_MODEL_BY_LABEL) == set(names.PAPER_MODEL_LABELS)
    assert set(names.PAPER_MODEL_BY_LABEL.values()) == set(names.PAPER_MODELS)
    # each exact architecture maps back to its label
    assert all(paper.paper_model_label(m) == label for label, m in names.PAPER_MODEL_BY_LABEL.items())
    assert set(paper.TABLE1) == set(names.PAPER_CAMS) and list(paper.METRICS) == list(names.METRICS)


def test_no_other_module_defines_a_paper_name():
    """No module of the package assigns one of these names itself (it imports them)."""
    pattern = re.compile(r"^(PAPER_CAMS|PAPER_CAM_LABELS|PAPER_MODELS|PAPER_MODEL_LABELS)\b\s*(:[^=]*)?=",
                         re.M)
    hits = [p.relative_to(REPO).as_posix() for p in sorted((REPO / "cam2seg_utils").rglob("*.py"))
            if p.name != "names.py" and pattern.search(p.read_text(encoding="utf-8"))]
    assert not hits, hits
