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


def test_readme_results_are_the_published_cells(repo_root, local_isic_snapshot):
    """Every "mean [low, high]" of the README's real-data table is the interval of a cell of the
    published snapshot's tables, as the CLI wrote them and the book shows them (one CI per cell)."""
    import pandas as pd

    from cam2seg_utils.viz import format_ci

    cells = set()
    for csv in (local_isic_snapshot / "tables").glob("*.csv"):
        t = pd.read_csv(csv)
        for m in ("iou", "dice"):
            if f"{m}_ci_low" in t.columns:
                cells |= {format_ci(r[m], r[f"{m}_ci_low"], r[f"{m}_ci_high"]) for _, r in t.iterrows()}
    text = (repo_root / "README.md").read_text().replace("**", "")
    section = text[text.index("## Results on real ISIC 2017"):text.index("## Published results")]
    quoted = re.findall(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", section)
    assert len(quoted) >= 10
    assert not [q for q in quoted if q not in cells]
