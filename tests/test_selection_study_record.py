"""book/selection_study.md says what results/selection_study/*.csv hold (no number typed apart
from its table), and the weight set it names is registered with the masks that fitted it."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "selection_study.md"
RECORD = ROOT / "results" / "selection_study"

#: page row label (start) -> ranking name in selectors.csv
RANKINGS = {
    "`a-priori`": "a-priori", "`consensus`": "consensus", "`self-trained`": "self-trained",
    "logistic ranker, 8 ": "logistic-k8", "linear weights, 8 ": "linear-k8",
    "logistic ranker, 32 ": "logistic-k32", "linear weights, 32 ": "linear-k32",
    "logistic ranker, 125 ": "logistic-k125", "linear weights, 125 ": "linear-k125",
    "logistic ranker on the validation": "logistic-eval",
    "best candidate by ground truth": "oracle (best candidate by ground truth)",
}


def _rows(section: str) -> list[list[str]]:
    text = PAGE.read_text(encoding="utf-8").split(section, 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    return rows[1:]   # the header


def _num(cell: str) -> float:
    return float(cell.replace("−", "-"))


def test_feature_rows_match_the_record():
    table = pd.read_csv(RECORD / "features.csv").set_index("feature")
    rows = _rows("## Each feature alone")
    assert len(rows) >= 8
    for name, auc, direction, iou, small, border, misses in rows:
        rec = table.loc[name.strip("`")]
        assert (_num(auc), _num(iou), _num(small), _num(border)) == pytest.approx(
            (rec["auc"], rec["iou"], rec["iou_small"], rec["iou_border"]), abs=5e-4)
        assert int(misses) == rec["misses"] and (direction == "+") == (rec["direction"] > 0)


def test_ranking_rows_match_the_record():
    table = pd.read_csv(RECORD / "selectors.csv").set_index("ranking")
    rows = _rows("## The rankings side by side")
    assert len(rows) == len(RANKINGS)
    for label, _masks, iou, small, border, misses in rows:
        name = next(v for k, v in RANKINGS.items() if label.startswith(k))
        rec = table.loc[name]
        assert (_num(iou), _num(small), _num(border)) == pytest.approx(
            (rec["iou"], rec["iou_small"], rec["iou_border"]), abs=5e-4), label
        assert _num(misses) == pytest.approx(rec["misses"], abs=0.05), label   # a mean over draws: one decimal


def test_the_ceiling_and_floor_in_the_text_are_the_records():
    text = PAGE.read_text(encoding="utf-8")
    refs = pd.read_csv(RECORD / "references.csv").set_index("prompt")
    gt, whole = refs.loc["ground-truth box"], refs.loc["whole-image box"]
    assert (f"ground-truth box gives **{gt['iou']:.3f}** (small lesions\n{gt['iou_small']:.3f}, lesions touching "
            f"the border {gt['iou_border']:.3f})") in text
    assert f"whole-image box **{whole['iou']:.3f}** ({whole['iou_small']:.3f}, {whole['iou_border']:.3f})" in text
    oracle = pd.read_csv(RECORD / "selectors.csv").set_index("ranking").loc["oracle (best candidate by ground truth)"]
    assert f"reaches **{oracle['iou']:.3f}**" in text


def test_the_named_weight_set_is_registered_with_its_masks():
    from cam2seg_utils.prompting.weights import DEFAULT_WEIGHTS, get_weights

    w = get_weights("fit-train125")
    assert w.k_masks == 125 and "Training split" in w.fitted_on
    assert DEFAULT_WEIGHTS == "a-priori"   # the page says the default is unchanged
    assert re.search(r"`fit-train125` \(`--set ranking_weights=fit-train125`\)", PAGE.read_text(encoding="utf-8"))


def test_reprompt_rows_match_the_record():
    rec = pd.read_csv(RECORD / "reprompt.csv")
    grown = rec[rec["experiment"] == "re-prompt after the choice"].set_index("variant")
    rows = _rows("## A re-prompt that looked like a gain on 22 images")
    assert len(rows) == 5
    for label, iou, small, border, lost, gained in rows:
        r = grown.loc[label]
        assert (_num(iou), _num(small), _num(border)) == pytest.approx((r["iou"], r["iou_small"], r["iou_border"]),
                                                                      abs=5e-4), label
        if lost != "—":
            assert (int(lost), int(gained)) == (r["lost_over_0_1"], r["gained_over_0_1"])
    text = PAGE.read_text(encoding="utf-8")
    first = grown.loc["first 22 images: no re-prompt", "iou"], grown.loc["first 22 images: re-prompt, box grown by 25 %", "iou"]
    assert f"from 0.{round(first[0] * 1000):03d} to\n0.{round(first[1] * 1000):03d}" in text
    fixed = rec[rec["experiment"] == "grown-box fixed point as a feature"]
    rows = _rows("## The grown-box fixed point as a feature")
    assert len(rows) == len(fixed)
    for (label, n, iou, small, border, misses), (_, r) in zip(rows, fixed.sort_values("n_images", kind="mergesort").iterrows()):
        assert (int(n), _num(iou), _num(small), _num(border), int(misses)) == pytest.approx(
            (r["n_images"], r["iou"], r["iou_small"], r["iou_border"], r["misses"]), abs=5e-4), label
