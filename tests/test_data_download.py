"""The ISIC 2017 downloader, offline: a local HTTP server on 127.0.0.1 serves small archives
built here (good ones, a truncated one, one with the wrong checksum, an unknown checksum)."""
from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cam2seg_utils.data import DataError, ISICDataset, download_isic2017, load_manifest
from cam2seg_utils.data.download import DownloadError, UnverifiedDownloadError, main

IDS = ["ISIC_0000000", "ISIC_0000001", "ISIC_0000002"]


def _jpg(seed: int, h: int = 24, w: int = 32) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
        buf, format="JPEG", quality=90)
    return buf.getvalue()


def _png_mask(h: int = 24, w: int = 32) -> bytes:
    m = np.zeros((h, w), np.uint8)
    m[6:18, 8:24] = 255
    buf = io.BytesIO()
    Image.fromarray(m).save(buf, format="PNG")
    return buf.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def build_archives(folder: Path, ids=IDS, data_top: str = "ISIC-2017_Training_Data") -> dict[str, bytes]:
    files = {
        "ISIC-2017_Training_Data.zip": _zip(
            {f"{data_top}/{i}.jpg": _jpg(k) for k, i in enumerate(ids)}
            | {f"{data_top}/{ids[0]}_superpixels.png": _png_mask()}),
        "ISIC-2017_Training_Part1_GroundTruth.zip": _zip(
            {f"ISIC-2017_Training_Part1_GroundTruth/{i}_segmentation.png": _png_mask() for i in ids}),
        "ISIC-2017_Training_Part3_GroundTruth.csv": (
            "image_id,melanoma,seborrheic_keratosis\n" + "".join(f"{i},{k % 2}.0,0.0\n" for k, i in enumerate(IDS))
        ).encode(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def manifest_for(files: dict[str, bytes], known: bool = True, md5_only: bool = False) -> dict:
    """A manifest of ``files``: with size and SHA-256 (``known``), with MD5 only (``md5_only``,
    as the committed manifest has for the archives), or with no hash."""
    out = {}
    for name, data in files.items():
        part = "Part3" if name.endswith(".csv") else "Part1" if "Part1" in name else "Data"
        out[name] = {
            "split": "Training", "part": part, "kind": "csv" if name.endswith(".csv") else "zip",
            "unpacks_to": None if name.endswith(".csv") else name[:-4],
            "size": len(data) if known and not md5_only else None,
            "sha256": hashlib.sha256(data).hexdigest() if known and not md5_only else None,
            "md5": hashlib.md5(data).hexdigest() if md5_only else None,
        }
    return {"base_url": "http://invalid.example/", "files": out}


class _Server:
    """python http.server in a thread on 127.0.0.1; counts GETs per file; can truncate a file."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.requests: dict[str, int] = {}
        self.truncate: set[str] = set()
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(folder), **kw)

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                outer.requests[name] = outer.requests.get(name, 0) + 1
                if name in outer.truncate:
                    data = (folder / name).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.timeout = 5
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def served(tmp_path):
    files = build_archives(tmp_path / "srv")
    with _Server(tmp_path / "srv") as srv:
        yield srv, files


def _dl(root, srv, manifest, **kw):
    return download_isic2017(root, splits=("Training",), base_url=srv.url, manifest=manifest,
                             progress=False, timeout=10, **kw)


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.name.startswith((".tmp-", "tmp")) or "pooch" in p.name)


def test_download_verify_unpack_and_rerun_skips(tmp_path, served):
    srv, files = served
    root = tmp_path / "isic"
    assert _dl(root, srv, manifest_for(files)) == root
    ds = ISICDataset(root, "Training")
    assert ds.ids == IDS and ds.labels["melanoma"].tolist() == [0, 1, 0]
    s = ds.load("ISIC_0000001")
    assert s.image.shape == (24, 32, 3) and s.mask.sum() == 12 * 16
    assert (root / "ISIC-2017_Training_Data" / "ISIC_0000000_superpixels.png").is_file()  # kept, ignored
    assert (root / "_archives" / "ISIC-2017_Training_Data.zip.verified.json").is_file()
    assert _leftovers(root) == []
    assert srv.requests == {name: 1 for name in files}
    _dl(root, srv, manifest_for(files))  # re-run: verified files are skipped, no request at all
    assert srv.requests == {name: 1 for name in files}


def test_wrong_checksum_is_an_error_and_keeps_the_file_out(tmp_path, served):
    srv, files = served
    man = manifest_for(files)
    man["files"]["ISIC-2017_Training_Data.zip"]["sha256"] = "0" * 64
    root = tmp_path / "isic"
    with pytest.raises(DownloadError, match=r"ISIC-2017_Training_Data\.zip: checksum mismatch"):
        _dl(root, srv, man)
    assert not (root / "_archives" / "ISIC-2017_Training_Data.zip").exists()
    assert not (root / "ISIC-2017_Training_Data").exists()
    assert _leftovers(root) == []


def test_truncated_download_is_not_kept_and_rerun_recovers(tmp_path, served):
    srv, files = served
    srv.truncate.add("ISIC-2017_Training_Data.zip")
    root = tmp_path / "isic"
    for known in (True, False):  # with and without a checksum to catch it
        with pytest.raises(DownloadError, match="failed or was truncated"):
            _dl(root, srv, manifest_for(files, known=known), allow_unverified=True)
        archives = root / "_archives"
        assert not (archives / "ISIC-2017_Training_Data.zip").exists()
        assert not (archives / "ISIC-2017_Training_Data.zip.unverified").exists()
        assert not (root / "ISIC-2017_Training_Data").exists()
        assert _leftovers(root) == []
    srv.truncate.clear()
    _dl(root, srv, manifest_for(files))
    assert len(ISICDataset(root)) == 3


def test_unknown_checksum_needs_explicit_trust(tmp_path, served, capsys):
    srv, files = served
    man = manifest_for(files, known=False)
    root = tmp_path / "isic"
    sha = hashlib.sha256(files["ISIC-2017_Training_Data.zip"]).hexdigest()
    with pytest.raises(UnverifiedDownloadError, match=f"sha256={sha}.*--trust-unknown"):
        _dl(root, srv, man)
    assert sha in capsys.readouterr().err  # printed
    assert (root / "_archives" / "ISIC-2017_Training_Data.zip.unverified").is_file()
    assert not (root / "_archives" / "ISIC-2017_Training_Data.zip").exists()
    assert not (root / "ISIC-2017_Training_Data").exists()
    recorded = (root / "_archives" / "checksums.json").read_text()
    assert sha in recorded
    _dl(root, srv, man, allow_unverified=True)
    assert srv.requests["ISIC-2017_Training_Data.zip"] == 1  # the downloaded copy was reused
    assert len(ISICDataset(root)) == 3


def test_md5_verifies_and_records_size_and_sha256(tmp_path, served, capsys):
    srv, files = served
    man = manifest_for(files, md5_only=True)
    root = tmp_path / "isic"
    _dl(root, srv, man)                                   # no allow_unverified needed
    assert len(ISICDataset(root)) == 3
    recorded = json.loads((root / "_archives" / "checksums.json").read_text())
    err = capsys.readouterr().err
    for name, data in files.items():
        sha = hashlib.sha256(data).hexdigest()
        assert recorded[name] == {"size": len(data), "sha256": sha,
                                  "verified_by": f"md5 {hashlib.md5(data).hexdigest()}"}
        assert f"{name}: verified by its MD5" in err and sha in err
    _dl(root, srv, man)                                   # stamped: no second request
    assert srv.requests == {name: 1 for name in files}


def test_wrong_md5_is_an_error_and_keeps_the_file_out(tmp_path, served):
    srv, files = served
    man = manifest_for(files, md5_only=True)
    man["files"]["ISIC-2017_Training_Part1_GroundTruth.zip"]["md5"] = "0" * 32
    root = tmp_path / "isic"
    with pytest.raises(DownloadError, match=r"Part1_GroundTruth\.zip: checksum mismatch"):
        _dl(root, srv, man)
    assert not (root / "_archives" / "ISIC-2017_Training_Part1_GroundTruth.zip").exists()
    assert not (root / "ISIC-2017_Training_Part1_GroundTruth").exists()
    assert _leftovers(root) == []


def test_known_size_mismatch_rejects_the_file(tmp_path, served):
    srv, files = served
    man = manifest_for(files, known=False)
    man["files"]["ISIC-2017_Training_Part3_GroundTruth.csv"]["size"] = 5
    root = tmp_path / "isic"
    with pytest.raises(DownloadError, match=r"Part3_GroundTruth\.csv\.unverified: size \d+ bytes does not match"):
        _dl(root, srv, man, allow_unverified=True, )
    assert (root / "_archives" / "ISIC-2017_Training_Part3_GroundTruth.csv.unverified.rejected").is_file()
    assert not (root / "ISIC-2017_Training_Part3_GroundTruth.csv").exists()


def test_corrupted_local_copy_is_rejected_and_fetched_again(tmp_path, served):
    srv, files = served
    root = tmp_path / "isic"
    _dl(root, srv, manifest_for(files))
    z = root / "_archives" / "ISIC-2017_Training_Part1_GroundTruth.zip"
    z.write_bytes(b"garbage")  # stamp no longer matches
    _dl(root, srv, manifest_for(files))
    assert z.read_bytes() == files[z.name]
    assert (z.parent / (z.name + ".rejected")).read_bytes() == b"garbage"
    assert srv.requests[z.name] == 2


def test_unexpected_zip_layout(tmp_path):
    srv_dir = tmp_path / "srv"
    files = build_archives(srv_dir, data_top="Some_Other_Folder")
    root = tmp_path / "isic"
    with _Server(srv_dir) as srv:
        with pytest.raises(DataError, match=r"ISIC-2017_Training_Data\.zip: unexpected layout"):
            _dl(root, srv, manifest_for(files))
    assert not (root / "ISIC-2017_Training_Data").exists()
    assert not (root / "Some_Other_Folder").exists()
    assert _leftovers(root) == []


def test_csv_and_images_disagree_after_download(tmp_path):
    srv_dir = tmp_path / "srv"
    files = build_archives(srv_dir, ids=IDS[:2])  # CSV still lists 3 ids
    with _Server(srv_dir) as srv:
        with pytest.raises(DataError, match=r"with no image .*ISIC_0000002"):
            _dl(tmp_path / "isic", srv, manifest_for(files))


def test_cli_trust_unknown(tmp_path, served):
    srv, files = served

    mpath = tmp_path / "manifest.json"
    mpath.write_text(json.dumps(manifest_for(files, known=False)))
    args = ["--root", str(tmp_path / "isic"), "--splits", "Training", "--base-url", srv.url,
            "--manifest", str(mpath), "--no-progress"]
    assert main(args) == 1
    assert main(args + ["--trust-unknown"]) == 0
    assert len(ISICDataset(tmp_path / "isic")) == 3


MD5 = {  # issue 11: as published in one public download script of another segmentation project
    "ISIC-2017_Training_Data.zip": "a14a7e622c67a358797ae59abb8a0b0c",
    "ISIC-2017_Training_Part1_GroundTruth.zip": "77fdbeb6fbec4139937224416b250f4c",
    "ISIC-2017_Validation_Data.zip": "8d6419d942112f709894c0d82f6c9038",
    "ISIC-2017_Validation_Part1_GroundTruth.zip": "64d3e68fa2deeb8a5e89aa8dec2efd44",
    "ISIC-2017_Test_v2_Data.zip": "5f6a0b5e1f2972bd1f5ea02680489f09",
    "ISIC-2017_Test_v2_Part1_GroundTruth.zip": "b1742de6bd257faca3b2b21a4aa3b781",
}


def test_committed_manifest_lists_the_official_files():
    man = load_manifest()
    assert man["base_url"] == "https://isic-challenge-data.s3.amazonaws.com/2017/"
    assert "one public download script" in man["md5_source"] and "first check" in man["md5_source"]
    names = set(man["files"])
    for split in ("Training", "Validation", "Test_v2"):
        assert {f"ISIC-2017_{split}_Data.zip", f"ISIC-2017_{split}_Part1_GroundTruth.zip",
                f"ISIC-2017_{split}_Part3_GroundTruth.csv"} <= names
    for name, e in man["files"].items():
        assert e["md5"] == MD5.get(name)                  # the six archives; no hash for the CSVs
        if e["sha256"] is None and e["md5"] is None:
            assert e["comment"] == "unknown: recorded on first verified download"
        elif e["sha256"] is not None:
            assert len(e["sha256"]) == 64
        if e["kind"] == "zip":
            assert e["unpacks_to"] == name[: -len(".zip")]
