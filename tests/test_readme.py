"""The README's end-to-end snippet runs as written and gives a real mask; what it says skips is
what the tests skip."""
import re
import runpy
import subprocess
import sys

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


def _block(text: str, name: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    assert start in text and end in text, f"README has no {name} block"
    return text[text.index(start) + len(start):text.index(end)].strip()


def test_readme_headline_is_recomputed_from_the_official_snapshot(repo_root):
    """The README's first results table is the headline table of the committed isic-official
    snapshot (official validation split), recomputed here from its grid.parquet: every number,
    CI and miss count identical."""
    from cam2seg_utils.publish import list_snapshots, load_snapshot
    from cam2seg_utils.report.glossary import link_names
    from cam2seg_utils.report.headline import headline_markdown, headline_table
    from cam2seg_utils.report.provenance import published_config

    found = list_snapshots(repo_root / "results" / "published")
    assert "isic-official" in found, "the official-split snapshot must be committed"
    snap = load_snapshot(found["isic-official"])
    expected = link_names(headline_markdown(headline_table(snap.grid, published_config(found["isic-official"]))))
    text = (repo_root / "README.md").read_text()
    block = _block(text, "headline")
    assert block == expected.strip()
    first_results = text.index("## Results on the official ISIC 2017 validation split")
    assert first_results < text.index("<!-- headline:start -->")
    assert "150 images of the official ISIC 2017 **validation** split" in text
    assert snap.summary["n_images"] == 150 and snap.summary["n_errors"] == 0


def test_readme_first_screen_findings_and_heldout_table_are_recomputed(repo_root):
    """The README's three lines of findings (on its first screen) and its held-out table are
    what cam2seg_utils.report.findings computes from the committed snapshot and held-out file:
    every number follows the tables (``python -m cam2seg_utils.report.findings`` rewrites them)."""
    from cam2seg_utils.publish import list_snapshots
    from cam2seg_utils.report.findings import readme_blocks

    text = (repo_root / "README.md").read_text()
    blocks = readme_blocks(list_snapshots(repo_root / "results" / "published")["isic-official"])
    findings = _block(text, "findings")
    assert findings == blocks["findings"].strip()
    assert len(findings.splitlines()) == 3
    assert text.index("<!-- findings:start -->") < text.index("## One image, end to end")   # the first screen
    heldout = _block(text, "heldout")
    assert heldout == blocks["heldout"].strip()
    # the numbers of the committed held-out file, and the validation row marked as not held out
    assert "0.730" in heldout and "531" in heldout and "0.786" in heldout and "2.79" in heldout
    assert "not held out: the defaults were chosen on these masks" in heldout
    assert heldout.count("run by ") == 4


def test_readme_headline_strategy_names_link_to_the_glossary(repo_root):
    """Every strategy name in the README's headline table is a link to the glossary, and the
    glossary defines it."""
    import re

    from cam2seg_utils.prompting import STRATEGIES
    from cam2seg_utils.report.glossary import glossary_terms

    block = _block((repo_root / "README.md").read_text(), "headline")
    terms = set(glossary_terms())
    names = set(STRATEGIES.names()) | {f"oracle-{n}" for n in STRATEGIES.names()}
    shown = set()
    for line in block.splitlines()[2:]:
        label = line.split("|")[1]
        for name in re.findall(r"`([^`]+)`", label):
            if name in names:
                shown.add(name)
                assert f"[`{name}`](book/glossary.md)" in label, (name, label)
                assert name in terms, name
        if "Algorithm 1" in label:
            assert "[Algorithm 1](book/glossary.md)" in label, label
    assert {"candidates", "image-prior", "prior-cam", "oracle-candidates"} <= shown


def test_readme_counts_the_cuda_tests_that_skip_without_a_device(repo_root):
    """The README says how many tests need CUDA: the cases marked ``cuda``, collected here."""
    files = sorted(str(p.relative_to(repo_root)) for p in (repo_root / "tests").glob("test_*.py")
                   if "@pytest.mark.cuda" in p.read_text(encoding="utf-8"))
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "cuda", *files],
                         cwd=repo_root, capture_output=True, text=True, timeout=600)
    n_cuda = sum(1 for line in out.stdout.splitlines() if "::" in line)
    assert n_cuda >= 1, out.stdout[-2000:] + out.stderr[-2000:]
    text = " ".join((repo_root / "README.md").read_text(encoding="utf-8").split())
    assert f"What skips, and why: the {n_cuda} CUDA tests" in text
    # every skip in the tests has its reason in that sentence: CUDA, the ISIC folder, chromium, ...
    for reason in ("CUDA device", "real ISIC folder", "chromium", "jupyter-book", "committed snapshot", "git checkout"):
        assert reason in text, reason
