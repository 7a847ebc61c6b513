"""The README's end-to-end snippet runs as written and gives a real mask."""
import re
import runpy

import pytest


def test_readme_snippet_runs(repo_root, tmp_path, monkeypatch, capsys):
    text = (repo_root / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python snippet"
    snippet = blocks[0]
    assert len(snippet.strip().splitlines()) <= 16
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "snippet.py"
    script.write_text(snippet)
    first = runpy.run_path(str(script))
    out1 = capsys.readouterr().out.strip().splitlines()[-1]
    second = runpy.run_path(str(script))  # same seed, same data -> the same numbers
    out2 = capsys.readouterr().out.strip().splitlines()[-1]
    assert out1 == out2
    sample, result, prompts = first["sample"], first["result"], first["prompts"]
    h, w = sample.mask.shape
    assert result.mask.shape == (h, w) and result.mask.any()
    x0, y0, x1, y1 = prompts.box
    assert 0 <= x0 <= x1 <= w - 1 and 0 <= y0 <= y1 <= h - 1
    assert 0.0 < result.predicted_iou <= 1.0
    iou = float(out1.split()[-1])
    assert 0.0 <= iou <= 1.0
    assert second["result"].mask.tolist() == result.mask.tolist()


def test_readme_headline_is_recomputed_from_the_official_snapshot(repo_root):
    """The README's first results table is the headline table of the committed isic-official
    snapshot (official validation split), recomputed here from its grid.parquet: every number,
    CI and miss count identical."""
    from cam2seg_utils.publish import list_snapshots, load_snapshot
    from cam2seg_utils.report.headline import headline_markdown, headline_table
    from cam2seg_utils.report.provenance import published_config

    found = list_snapshots(repo_root / "results" / "published")
    assert "isic-official" in found, "the official-split snapshot must be committed"
    snap = load_snapshot(found["isic-official"])
    expected = headline_markdown(headline_table(snap.grid, published_config(found["isic-official"])))
    text = (repo_root / "README.md").read_text()
    block = text[text.index("<!-- headline:start -->") + len("<!-- headline:start -->"):text.index("<!-- headline:end -->")]
    assert block.strip() == expected.strip()
    first_results = text.index("## Results on the official ISIC 2017 validation split")
    assert first_results < text.index("<!-- headline:start -->")
    assert "150 images of the official ISIC 2017 **validation** split" in text
    assert snap.summary["n_images"] == 150 and snap.summary["n_errors"] == 0
