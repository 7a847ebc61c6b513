"""The findings page, the held-out figures and the glossary (cam2seg_utils.report.findings,
.heldout, .glossary) and the record pages' figures (.record_figures), on the committed tables."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cam2seg_utils.report import findings, glossary, heldout, record_figures

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO / "results" / "published" / "isic-official"


@pytest.fixture(scope="module")
def measures():
    if not (SNAPSHOT / "run_summary.json").is_file():
        pytest.skip("no committed isic-official snapshot")
    return findings.measure(SNAPSHOT)


def test_heldout_file_is_read_with_provenance_per_row():
    frame = heldout.load_heldout(REPO / heldout.HELDOUT_FILE)
    assert list(frame["id"]) == ["official-test", "official-test-every-9th", "ph2", "hitl-official-test"]
    assert frame["commit"].str.fullmatch(r"[0-9a-f]{40}").all() and frame["ran_by"].notna().all()
    test = frame.set_index("id").loc["official-test"]
    assert (int(test["n_images"]), float(test["iou"]), float(test["gt_box"]), float(test["whole_image"])) == \
        (531, 0.730, 0.831, 0.343)
    hitl = frame.set_index("id").loc["hitl-official-test"]
    assert (float(hitl["noc85"]), float(hitl["miou5"]), hitl["hitl_mode"]) == (2.79, 0.881, "box-edit")


@pytest.mark.parametrize("column, value, problem", [
    ("commit", "4cabe9c", "not a 40-digit git hash"),
    ("iou", "1.7", "not an IoU in [0, 1]"),
    ("misses", "1.5", "not a whole count"),
    ("ran_by", "", "empty"),
    ("setting", "half-tuned", "neither zero-shot nor fine-tuned"),
])
def test_a_bad_heldout_file_names_the_file_the_row_and_the_problem(tmp_path, column, value, problem):
    frame = pd.read_csv(REPO / heldout.HELDOUT_FILE, dtype=str, keep_default_na=False)
    frame.loc[2, column] = value
    path = tmp_path / "figures.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(heldout.HeldoutFileError, match=rf"figures.csv, row 4 \(ph2\).*{re.escape(problem)}"):
        heldout.load_heldout(path)
    with pytest.raises(heldout.HeldoutFileError, match="no such file"):
        heldout.load_heldout(tmp_path / "absent.csv")


def test_findings_are_the_committed_tables_numbers(measures):
    """Read straight from the snapshot's CSV tables: the default (the code's), Algorithm 1,
    floor and ceiling, border slice, and the clicks; each finding one sentence with a figure."""
    from cam2seg_utils.prompting import DEFAULT_STRATEGY

    t = pd.read_csv(SNAPSHOT / "tables" / "strategies.csv")
    t = t[(t["setting"] == "zero-shot")]
    get = (lambda s, sl="all": float(t[(t["strategy"] == s) & (t["slice"] == sl)
                                       & (t["cam"].fillna("").isin(["", "gradcam", "gradcam+gradcam++"]))]["iou"].iloc[0]))
    assert measures.default == DEFAULT_STRATEGY and measures.n_images == 150
    for strategy in (DEFAULT_STRATEGY, "algorithm1", "whole-image", "oracle-gt-box", "image-prior"):
        assert measures.stats[strategy].iou == pytest.approx(get(strategy), abs=1e-9), strategy
    assert measures.stats[DEFAULT_STRATEGY].border == pytest.approx(get(DEFAULT_STRATEGY, "touches border"))
    found = {f.key: f for f in findings.findings(measures)}
    assert {"algorithm1", "default", "cam", "selection", "border", "hitl"} <= set(found)
    for f in found.values():
        assert f.sentence.count(". ") == 0 and f.sentence.endswith(".")      # one sentence
        assert all(n in f.sentence for n in f.numbers)
        assert {"floor", "ceiling"} <= {b[2] for b in f.bars}
    assert f"{measures.stats['oracle-gt-box'].iou:.3f}" in found["default"].sentence
    assert "0.730" in found["default"].sentence                             # the held-out test split
    border = found["border"]
    assert ("below" in border.title) == (measures.stats[DEFAULT_STRATEGY].border < measures.stats["whole-image"].border)


def test_findings_page_writes_one_figure_per_finding(measures, tmp_path):
    out = tmp_path / "findings.md"
    written = findings.write_findings_page(out, SNAPSHOT, lambda stem: f"/book/generated/{stem}", "generated/findings")
    text = out.read_text()
    for f in written:
        png = tmp_path / "findings" / f"{f.key}.png"
        assert png.stat().st_size > 5_000 and f"generated/findings/{f.key}.png" in text
    assert "{doc}`09 · " in text and "## Caveats" in text and "256 px copies" in text
    assert findings.write_findings_page(tmp_path / "none.md", None, lambda s: None) == []
    assert "no findings" in (tmp_path / "none.md").read_text()


def test_glossary_defines_every_strategy_mode_and_parameter():
    terms = glossary.glossary_terms()
    assert glossary.undefined(terms) == {"strategies": [], "refinement modes": []}
    for term in ("miss", "n_zero_iou", "oracle", "ceiling", "floor", "official validation split", "official test split",
                 "fine-tuning hold-out", "training-split test hold-out", "held out", "r_eq", "far", "delta", "margin",
                 "outside_fov", "NoC@85"):
        assert term in terms, term
    assert glossary.term_link("miss", "misses") == "{term}`misses <miss>`"
    assert glossary.term_link("candidates", style="markdown") == "[`candidates`](book/glossary.md)"
    assert glossary.link_names("`candidates` and `foo`, Algorithm 1") == \
        "[`candidates`](book/glossary.md) and `foo`, [Algorithm 1](book/glossary.md)"


def test_record_figures_are_drawn_from_the_pages_tables(tmp_path):
    text = (REPO / "book" / "hitl_study.md").read_text()
    sweep = record_figures.markdown_table(text, "variant (150 images, default strategy's mask)")
    adopted = sweep[sweep.iloc[:, 0].str.contains("adopted for box-edit")]
    assert len(adopted) == 1 and adopted["NoC@85"].iloc[0] == "3.53"
    assert record_figures._number("3.87-3.95") == pytest.approx(3.91)
    with pytest.raises(ValueError, match="no table"):
        record_figures.markdown_table(text, "no such header")
    paths = record_figures.write_record_figures(REPO / "book", tmp_path)
    assert [p.name for p in paths] == list(record_figures.RECORD_TABLES)
    assert all(p.stat().st_size > 10_000 for p in paths)
    for name, (page, _) in record_figures.RECORD_TABLES.items():
        assert f"generated/records/{name}" in (REPO / "book" / page).read_text(), name
