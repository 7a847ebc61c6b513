"""The paper's reported numbers (cam2seg_utils.paper), checked against the paper's own text."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from cam2seg_utils import paper
from cam2seg_utils.names import PAPER_CAMS

REPO = Path(__file__).resolve().parents[1]
PAPER_TXT = REPO.parent / "shared" / "paper" / "classification-to-segmentation.txt"


@pytest.fixture(scope="module")
def paper_text() -> str:
    if not PAPER_TXT.is_file():
        pytest.skip(f"paper text not found at {PAPER_TXT}")
    return PAPER_TXT.read_text(encoding="utf-8")


def _numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"\d+\.\d+", line)]


def test_table1_matches_paper_text(paper_text):
    names = {"GradCAM": "gradcam", "GradCAM++": "gradcam++", "AblationCAM": "ablationcam",
             "ScoreCAM": "scorecam", "RandomCAM": "randomcam"}
    assert paper.PAPER_CAM_LABELS == names and tuple(names.values()) == PAPER_CAMS
    found = 0
    for line in paper_text.splitlines():
        head = line.split("\t")[0].strip()
        if head in names and len(_numbers(line)) == 5:
            assert _numbers(line) == [paper.TABLE1[names[head]][m] for m in paper.METRICS], line
            found += 1
    assert found == 5


def test_table2_matches_paper_text(paper_text):
    lines = paper_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Table 2."))
    section = None
    rows = 0
    for line in lines[start:start + 20]:
        cells = [c.strip() for c in line.split("\t")]
        if cells[0] in ("Ablation", "Zero-shot", "Finetuned"):
            section = {"Ablation": "ablation", "Zero-shot": "zero-shot", "Finetuned": "fine-tuned"}[cells[0]]
        if len(cells) < 2 or section is None or cells[1] not in (*paper.PAPER_MODEL_LABELS, "SAM-base", "MedSAM-base"):
            continue
        values = [float("nan") if c == "-" else float(c) for c in cells[2:7]]
        ours = (paper.TABLE2_BASELINES[cells[1]] if section == "ablation" else paper.TABLE2[section][cells[1]])
        for metric, v in zip(paper.METRICS, values):
            assert (math.isnan(v) and math.isnan(ours[metric])) or v == ours[metric], (section, cells[1], metric)
        rows += 1
    assert rows == 12


@pytest.mark.parametrize("key", sorted(paper.TEXT_VALUES))
def test_text_values_are_quoted_in_the_paper(paper_text, key):
    v = paper.get(key)
    flat = " ".join(paper_text.split())
    for fragment in v.quote.split(" ... "):
        assert fragment in flat, (key, fragment)
    printed = f"{v.value * 100:g}%" if "%" in v.quote and v.value < 1 else f"{v.value:g}"
    assert printed in v.quote.replace("~", ""), (key, printed)


def test_paper_internal_consistency():
    # F1 equals Dice for binary masks, and the paper prints them equal in every row
    for vals in paper.TABLE1.values():
        assert vals["f1"] == vals["dice"]
    for per_model in paper.TABLE2.values():
        for vals in per_model.values():
            assert vals["f1"] == vals["dice"]
    t2 = paper.table2()
    assert len(t2) == 12 and set(t2["setting"]) == {"ablation", "zero-shot", "fine-tuned"}
    best = t2[t2.setting == "fine-tuned"].sort_values("iou").iloc[-1]
    assert (best["model"], best["iou"], best["dice"]) == ("MobileNet_v2", 0.366, 0.510)
    assert paper.table1().loc["gradcam", "iou"] == 0.2356
    assert paper.FIG5_BEST["zero-shot"] == ("MobileNet_v2", "scorecam", 0.184)
    assert paper.get("fig6.zero_iou_reduction").approximate
    with pytest.raises(KeyError, match="fig5.zero_shot.best_iou"):
        paper.get("nope")


@pytest.mark.parametrize("name,label", [("mobilenetv2_100", "MobileNet_v2"), ("tf_efficientnet_lite0", "EfficientNet"),
                                        ("efficientnet_b0", "EfficientNet"), ("resnet50", "ResNet50"),
                                        ("vit_base_patch16_224", "ViT"), ("swin_base_patch4_window7_224", "Swin"),
                                        ("convnext_tiny", None)])
def test_paper_model_label(name, label):
    assert paper.paper_model_label(name) == label
