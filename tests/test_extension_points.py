"""The three extension points: a new CAM method, a new strategy and a new dataset, each added in
one test-local file (``extension_cam.py``, ``extension_strategy.py``, ``extension_dataset.py``),
show up in the CLI help, in a grid run's rows and in the headline table without any other file
changing; and no module compares a dataset, CAM or strategy *name* outside its registry."""
from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTENSIONS = ("extension_cam", "extension_strategy", "extension_dataset")


@pytest.fixture
def extensions():
    """Register the three test-local additions; remove them afterwards (the registries are the
    process's, and other tests' configs read the CAM traits)."""
    from cam2seg_utils.cams.registry import CAM_METHODS
    from cam2seg_utils.data.registry import DATASETS
    from cam2seg_utils.prompting.base import STRATEGIES

    mods = [importlib.reload(sys.modules[m]) if m in sys.modules else importlib.import_module(m) for m in EXTENSIONS]
    yield mods
    for registry, mod in zip((CAM_METHODS, STRATEGIES, DATASETS), mods):
        registry.unregister(mod.NAME)


def _help(parser, command: str) -> str:
    """Every flag's help text and choices of ``command`` (unwrapped: argparse wraps at hyphens)."""
    sub = next(a for a in parser._actions if a.dest == "command")   # noqa: SLF001 - argparse's own
    return " ".join(f"{a.help} {' '.join(map(str, a.choices or ()))}" for a in sub.choices[command]._actions)


def test_a_new_cam_strategy_and_dataset_in_one_file_each(extensions, tmp_path, embedded_classifier, litemedsam):
    cam, strategy, dataset = extensions
    from cam2seg_utils.cli import main, make_parser
    from cam2seg_utils.experiments.engine import LoadedClassifier
    from cam2seg_utils.experiments.run import run_grid
    from cam2seg_utils.profiles import get_profile
    from cam2seg_utils.report.headline import headline_markdown, headline_table

    # the CLI help, written from the registries
    grid_help = _help(make_parser(), "grid")
    for name in (cam.NAME, strategy.NAME, dataset.NAME):
        assert name in grid_help, name

    # the dataset's own generator through the CLI, then a grid run on it
    overrides = dict(dataset=dataset.NAME, data_root=str(tmp_path / "data"), settings=["zero-shot"],
                     cams=["gradcam", cam.NAME], strategy_cams=[cam.NAME], prompt_variants=["box"],
                     strategies=["algorithm1", strategy.NAME], gt_baselines=["gt-box"], seed=2,
                     cache_dir=str(tmp_path / "cache"), output_dir=str(tmp_path / "results"), progress=False)
    cfg_file = tmp_path / "exp.json"
    cfg_file.write_text(__import__("json").dumps({"profile": "smoke", **overrides}))
    assert main(["generate-data", "--config", str(cfg_file), "--quiet"]) == 0
    cfg = get_profile("smoke", **overrides)
    clf = [LoadedClassifier("zero-shot", "tf_efficientnet_lite0", embedded_classifier, "embedded", "embedded")]
    table = run_grid(cfg, segmenter=litemedsam, classifiers=clf).table
    assert table["error"].isna().all(), table["error"].dropna().tolist()
    assert len(set(table["image_id"])) == 3
    a1 = table[(table["strategy"] == "algorithm1") & (table["cam"] == cam.NAME)]
    assert len(a1) and a1["iou"].between(0, 1).all()
    rows = table[table["strategy"] == strategy.NAME]
    assert set(rows["cam"]) == {cam.NAME} and len(rows) == 3 and rows["iou"].between(0, 1).all()

    # the headline table: the method's and the strategy's rows, with their labels and tuned_on
    text = headline_markdown(headline_table(table, cfg))
    assert "| Algorithm 1, Mean-CAM |" in text
    line = next(l for l in text.splitlines() if l.startswith("| `test-mass-box`, Mean-CAM |"))
    assert line.endswith("| 0 (nothing to tune) |")


#: what a comparison of a name looks like: ``x == "gradcam"``, ``"ph2" != x``, ``x in ("isic", ...)``
def _patterns(names: list[str]) -> re.Pattern:
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    lit = rf"""["'](?:{alt})["']"""
    return re.compile(rf"""(?:==|!=)\s*{lit}|{lit}\s*(?:==|!=)|\bin\s*[(\[{{]\s*{lit}|{lit}\s+(?:not\s+)?in\b""")


def test_no_name_is_compared_outside_its_registry():
    from cam2seg_utils.cams.registry import CAM_METHODS
    from cam2seg_utils.data.registry import DATASETS
    from cam2seg_utils.prompting.base import STRATEGIES

    names = [*CAM_METHODS.names(), *DATASETS.names(), *STRATEGIES.names()]
    pattern = _patterns(names)
    homes = {REPO / "cam2seg_utils" / "cams" / "registry.py", REPO / "cam2seg_utils" / "data" / "registry.py"}
    files = [*sorted((REPO / "cam2seg_utils").rglob("*.py")), *sorted((REPO / "book").glob("*.py"))]
    hits = []
    for path in files:
        if path in homes:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                hits.append(f"{path.relative_to(REPO)}:{i}: {line.strip()}")
    assert not hits, "\n".join(hits)
