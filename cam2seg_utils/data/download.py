"""Download the official ISIC 2017 Challenge archives (needs the internet; tested offline).

Files come from the ISIC challenge's public bucket
(``https://isic-challenge-data.s3.amazonaws.com/2017/``), listed in the committed manifest
``isic2017_manifest.json`` (name, split, part, byte size, SHA-256, MD5, the folder a zip unpacks
to). The six image and mask archives have an MD5 from one public source (``md5_source`` in the
manifest: a first check, recorded as such); the three Part3 label CSVs have no known hash.

How a file is fetched (``pooch.retrieve`` with its streaming HTTP downloader and tqdm bar):

1. Downloads go to ``<root>/_archives/``. pooch streams into a temporary file in that folder and
   moves it into place only when the download finished (and, when the manifest has a SHA-256,
   only when it matches). A broken, truncated or mismatching download therefore never lands
   under the final name: the temporary file is deleted and :class:`DownloadError` is raised.
   Re-running starts that file again (resumption is per file; there is no byte-range resume).
2. A verified file gets a stamp ``<name>.verified.json`` (size, mtime, sha256); a re-run skips
   every file whose stamp still matches, without touching the network.
3. **Verification**: by the manifest's SHA-256 when it has one, else by its MD5 (pooch
   ``known_hash="md5:..."``). A file verified by MD5 gets its size and SHA-256 computed, printed
   and recorded in ``_archives/checksums.json``, to be copied into the manifest.
   **Unknown checksums** (neither ``sha256`` nor ``md5`` in the manifest: the Part3 CSVs): the file is downloaded as
   ``<name>.unverified``, its size and SHA-256 are computed and printed (and appended to
   ``_archives/checksums.json``), and the run stops with :class:`UnverifiedDownloadError` unless
   ``allow_unverified=True`` (``--trust-unknown`` on the command line). Trusting reuses the
   already downloaded ``.unverified`` file, so the printed hash is the hash of what is used.
   Copy the printed values into the manifest to make later downloads verified.
4. A known byte size that does not match is an error too; a file already present that fails
   verification is renamed ``<name>.rejected`` (kept out of use) and downloaded again.
5. Zips are extracted into a temporary folder under ``root``, checked (one top-level folder with
   the expected name, no absolute or ``..`` paths, the expected file pattern inside), and
   renamed into place in one step; ``*.csv`` files are copied in atomically. Finally every split
   whose three parts are present is opened with :class:`ISICDataset` (CSV rows vs images).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import zipfile
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

from cam2seg_utils.atomic import atomic_open, write_json
from cam2seg_utils.data.isic import DataError, ISICDataset, canonical_split
from cam2seg_utils.file_digest import file_hexdigest

__all__ = [
    "download_isic2017",
    "load_manifest",
    "DownloadError",
    "UnverifiedDownloadError",
    "MANIFEST_NAME",
    "main",
]

MANIFEST_NAME = "isic2017_manifest.json"
PARTS = ("Data", "Part1", "Part3")


class DownloadError(DataError):
    """A download failed, was truncated or did not match the manifest."""


class UnverifiedDownloadError(DownloadError):
    """The manifest has no checksum for a file and ``allow_unverified`` was not given."""


def load_manifest(path: str | Path | None = None) -> dict:
    """The manifest as a dict (``base_url``, ``files: {name: {split, part, kind, unpacks_to,
    size, sha256}}``); the committed one when ``path`` is None."""
    if path is None:
        text = resources.files("cam2seg_utils.data").joinpath(MANIFEST_NAME).read_text()
        src = MANIFEST_NAME
    else:
        text = Path(path).read_text()
        src = str(path)
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{src}: manifest is not valid JSON ({exc})", path=src) from exc
    if "files" not in manifest or not isinstance(manifest["files"], dict):
        raise DataError(f"{src}: manifest has no 'files' mapping", path=src)
    for name, entry in manifest["files"].items():
        for key in ("split", "part", "kind"):
            if key not in entry:
                raise DataError(f"{src}: entry {name!r} lacks {key!r}", path=src)
    return manifest


def known_hash(entry: dict) -> tuple[str, str] | None:
    """``(algorithm, hex digest)`` a manifest entry is verified by: its SHA-256, else its MD5,
    else ``None`` (unknown: needs ``allow_unverified``)."""
    for algorithm in ("sha256", "md5"):
        if entry.get(algorithm):
            return algorithm, str(entry[algorithm]).lower()
    return None


def _stamp_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".verified.json")


def _write_stamp(dest: Path, sha: str, trusted_unverified: bool, md5: str | None = None) -> None:
    st = dest.stat()
    stamp = _stamp_path(dest)
    write_json(stamp, {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha, "md5": md5,
                       "trusted_unverified": trusted_unverified})


def _stamp_ok(dest: Path, entry: dict) -> bool:
    stamp = _stamp_path(dest)
    if not (dest.is_file() and stamp.is_file()):
        return False
    try:
        rec = json.loads(stamp.read_text())
    except json.JSONDecodeError:
        return False
    st = dest.stat()
    if rec.get("size") != st.st_size or rec.get("mtime_ns") != st.st_mtime_ns:
        return False
    if entry.get("sha256") and rec.get("sha256") != entry["sha256"]:
        return False
    if not entry.get("sha256") and entry.get("md5") and rec.get("md5") != str(entry["md5"]).lower():
        return False
    if entry.get("size") is not None and rec.get("size") != entry["size"]:
        return False
    return True


def _reject(path: Path, why: str) -> Path:
    bad = path.with_name(path.name + ".rejected")
    os.replace(path, bad)
    print(f"{path}: {why}; moved to {bad.name} (not used)", file=sys.stderr, flush=True)
    return bad


def _record_checksum(archive_dir: Path, name: str, size: int, sha: str, verified_by: str | None = None) -> None:
    rec_path = archive_dir / "checksums.json"
    try:
        rec = json.loads(rec_path.read_text()) if rec_path.is_file() else {}
    except json.JSONDecodeError:
        rec = {}
    rec[name] = {"size": size, "sha256": sha, "verified_by": verified_by}
    write_json(rec_path, rec)


def _retrieve(url: str, fname: str, archive_dir: Path, expected: tuple[str, str] | None, progress: bool,
              timeout: float) -> Path:
    import pooch
    import requests

    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
    pooch_hash = f"{expected[0]}:{expected[1]}" if expected else None
    try:
        out = pooch.retrieve(url, known_hash=pooch_hash, fname=fname, path=archive_dir,
                             downloader=downloader, progressbar=progress)
    except ValueError as exc:  # pooch: hash mismatch (the temporary file is already deleted)
        raise DownloadError(f"{archive_dir / fname}: checksum mismatch for {url}; the download was "
                            f"discarded ({exc})", path=archive_dir / fname) from exc
    except (requests.exceptions.RequestException, OSError) as exc:
        raise DownloadError(f"{archive_dir / fname}: download of {url} failed or was truncated; "
                            f"nothing was kept ({type(exc).__name__}: {exc})",
                            path=archive_dir / fname) from exc
    return Path(out)


def _fetch(name: str, entry: dict, base_url: str, archive_dir: Path, allow_unverified: bool,
           progress: bool, timeout: float) -> Path:
    """Return the path of a verified (or explicitly trusted) copy of ``name``."""
    dest = archive_dir / name
    expected = known_hash(entry)
    known_size = entry.get("size")
    if _stamp_ok(dest, entry):
        return dest
    if dest.is_file():  # present but not (or no longer) verified
        if expected:
            if (file_hexdigest(dest, expected[0]) == expected[1]
                    and (known_size is None or dest.stat().st_size == known_size)):
                return _verified(dest, name, entry, expected, archive_dir)
            _reject(dest, "checksum does not match the manifest")
        else:
            unv = dest.with_name(dest.name + ".unverified")
            os.replace(dest, unv)
    url = base_url.rstrip("/") + "/" + name
    if expected:
        path = _retrieve(url, name, archive_dir, expected, progress, timeout)
        if known_size is not None and path.stat().st_size != known_size:
            size = path.stat().st_size
            _reject(path, f"size {size} bytes, manifest says {known_size}")
            raise DownloadError(f"{path}: size {size} bytes does not match the manifest "
                                f"({known_size}); file rejected", path=path)
        return _verified(path, name, entry, expected, archive_dir)

    unv = dest.with_name(dest.name + ".unverified")
    if not unv.is_file():
        _retrieve(url, unv.name, archive_dir, None, progress, timeout)
    size = unv.stat().st_size
    if known_size is not None and size != known_size:
        _reject(unv, f"size {size} bytes, manifest says {known_size}")
        raise DownloadError(f"{unv}: size {size} bytes does not match the manifest ({known_size}); "
                            "file rejected", path=unv)
    sha = file_hexdigest(unv)
    _record_checksum(archive_dir, name, size, sha)
    print(f"{name}: no checksum in the manifest; downloaded size={size} sha256={sha}",
          file=sys.stderr, flush=True)
    if not allow_unverified:
        raise UnverifiedDownloadError(
            f"{unv}: the manifest has no checksum (SHA-256 or MD5) for {name} (downloaded: size={size}, "
            f"sha256={sha}); check it and re-run with allow_unverified=True (--trust-unknown) "
            "to use it, or add the hash to the manifest", path=unv)
    os.replace(unv, dest)
    _write_stamp(dest, sha, trusted_unverified=True)
    return dest


def _verified(path: Path, name: str, entry: dict, expected: tuple[str, str], archive_dir: Path) -> Path:
    """Stamp a file that matched the manifest's hash; when that hash was an MD5, compute its
    SHA-256 and size, print them and record them in ``checksums.json`` for the manifest."""
    if expected[0] == "sha256":
        sha, md5 = expected[1], entry.get("md5")
    else:
        sha, md5 = file_hexdigest(path), expected[1]
        size = path.stat().st_size
        _record_checksum(archive_dir, name, size, sha, verified_by=f"md5 {md5}")
        print(f"{name}: verified by its MD5 ({md5}); size={size} sha256={sha} (recorded in "
              f"{archive_dir / 'checksums.json'}; copy into the manifest)", file=sys.stderr, flush=True)
    _write_stamp(path, sha, trusted_unverified=False, md5=md5)
    return path


def _safe_members(zf: zipfile.ZipFile, zpath: Path) -> list[zipfile.ZipInfo]:
    members = []
    for info in zf.infolist():
        name = info.filename
        if name.startswith("__MACOSX/") or Path(name).name == ".DS_Store":
            continue
        parts = Path(name).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise DataError(f"{zpath}: unsafe path in archive: {name!r}", path=zpath)
        members.append(info)
    return members


def _check_layout(folder: Path, part: str, src: Path) -> None:
    files = [p for p in folder.iterdir() if p.is_file()]
    if part == "Data":
        ok = [p for p in files if p.suffix.lower() in (".jpg", ".jpeg", ".png")
              and not p.stem.endswith("_superpixels")]
        what = "no image (*.jpg)"
    else:
        ok = [p for p in files if p.name.endswith("_segmentation.png")]
        what = "no mask (*_segmentation.png)"
    if not ok:
        raise DataError(f"{src}: unpacked folder {folder.name} holds {what}", path=src)


def _extract(zpath: Path, root: Path, expected: str, part: str, sha: str) -> Path:
    final = root / expected
    marker_name = ".cam2seg_extracted.json"
    if final.is_dir():
        marker = final / marker_name
        if not marker.is_file():
            print(f"{final}: already present (not unpacked by cam2seg); left as it is",
                  file=sys.stderr, flush=True)
            return final
        try:
            rec = json.loads(marker.read_text())
        except json.JSONDecodeError:
            rec = {}
        if rec.get("sha256") == sha:
            return final
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-extract-", dir=root))
    try:
        try:
            with zipfile.ZipFile(zpath) as zf:
                members = _safe_members(zf, zpath)
                tops = {Path(m.filename).parts[0] for m in members if Path(m.filename).parts}
                if tops != {expected}:
                    raise DataError(f"{zpath}: unexpected layout: top-level entries {sorted(tops)}, "
                                    f"expected a single folder {expected}/", path=zpath)
                zf.extractall(tmp, members=members)
        except zipfile.BadZipFile as exc:
            raise DataError(f"{zpath}: not a valid zip archive ({exc})", path=zpath) from exc
        _check_layout(tmp / expected, part, zpath)
        (tmp / expected / marker_name).write_text(json.dumps({"archive": zpath.name, "sha256": sha}) + "\n")
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=".tmp-old-", dir=root))
            os.replace(final, old / expected)
        os.replace(tmp / expected, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for old in root.glob(".tmp-old-*"):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _install_csv(src: Path, root: Path, name: str) -> Path:
    header = src.open("r", encoding="utf-8", errors="replace").readline().strip().lstrip("\ufeff")
    cols = [c.strip() for c in header.split(",")]
    if cols[:1] != ["image_id"] or "melanoma" not in cols:
        raise DataError(f"{src}: unexpected CSV header {header!r}; expected image_id,melanoma,...",
                        path=src)
    dest = root / name
    with open(src, "rb") as fin, atomic_open(dest, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    return dest


def _select(manifest: dict, splits: Iterable[str], parts: Iterable[str]) -> list[tuple[str, dict]]:
    want_splits = {canonical_split(s) for s in splits}
    parts = list(parts)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"unknown part(s) {unknown}; expected some of {PARTS}")
    chosen = [(name, e) for name, e in manifest["files"].items()
              if canonical_split(e["split"]) in want_splits and e["part"] in parts]
    if not chosen:
        raise ValueError(f"no manifest entry for splits={sorted(want_splits)} parts={parts}")
    return chosen


def download_isic2017(
    root: str | Path,
    splits: Sequence[str] = ("Training", "Validation", "Test"),
    parts: Sequence[str] = ("Data", "Part1", "Part3"),
    *,
    base_url: str | None = None,
    manifest: str | Path | dict | None = None,
    allow_unverified: bool = False,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download, verify and unpack the ISIC 2017 archives into ``root``; return ``root``.

    ``splits``: any of Training, Validation, Test (= Test_v2). ``parts``: ``Data`` (images),
    ``Part1`` (segmentation masks), ``Part3`` (classification CSV). ``base_url`` overrides the
    manifest's (tests point it at 127.0.0.1). ``manifest``: a path or dict replacing the
    committed manifest. ``allow_unverified``: accept files for which the manifest knows neither
    SHA-256 nor MD5 (their hash is printed first). Raises :class:`DownloadError` /
    :class:`UnverifiedDownloadError` / :class:`DataError` naming the file and the problem.
    """
    root = Path(root)
    man = manifest if isinstance(manifest, dict) else load_manifest(manifest)
    base = base_url or man.get("base_url")
    if not base:
        raise ValueError("no base_url given and none in the manifest")
    chosen = _select(man, splits, parts)
    archive_dir = root / "_archives"
    archive_dir.mkdir(parents=True, exist_ok=True)
    for name, entry in chosen:
        path = _fetch(name, entry, base, archive_dir, allow_unverified, progress, timeout)
        sha = json.loads(_stamp_path(path).read_text())["sha256"]
        if entry["kind"] == "zip":
            expected = entry.get("unpacks_to") or name[: -len(".zip")]
            _extract(path, root, expected, entry["part"], sha)
        elif entry["kind"] == "csv":
            _install_csv(path, root, name)
        else:
            raise DataError(f"{MANIFEST_NAME}: unknown kind {entry['kind']!r} for {name}")
    for split in {canonical_split(e["split"]) for _, e in chosen}:
        names = [n for n, e in man["files"].items() if canonical_split(e["split"]) == split]
        if all((root / (man["files"][n].get("unpacks_to") or n)).exists() for n in names):
            ISICDataset(root, split)  # raises DataError when CSV rows and images disagree
    return root


def main(argv: list[str] | None = None) -> int:
    """``python -m cam2seg_utils.data.download --root DIR [--splits ...] [--trust-unknown]``."""
    ap = argparse.ArgumentParser(description="Download the official ISIC 2017 challenge data.")
    ap.add_argument("--root", required=True, help="target folder")
    ap.add_argument("--splits", nargs="+", default=["Training", "Validation", "Test"])
    ap.add_argument("--parts", nargs="+", default=list(PARTS))
    ap.add_argument("--base-url", default=None)
    ap.add_argument("--manifest", default=None)
    ap.add_argument("--trust-unknown", action="store_true",
                    help="use files the manifest has no checksum for (their SHA-256 is printed)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    try:
        download_isic2017(args.root, args.splits, args.parts, base_url=args.base_url,
                          manifest=args.manifest, allow_unverified=args.trust_unknown,
                          progress=not args.no_progress)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
