"""Loader for the official ISIC 2017 folder layout (real data and the synthetic stand-in).

Layout, for a split ``<S>`` in ``Training``, ``Validation``, ``Test_v2`` (``Test`` is accepted as
an alias of ``Test_v2``, and a folder literally named ``ISIC-2017_Test_*`` is found too)::

    <root>/ISIC-2017_<S>_Data/<image_id>.jpg                      RGB images, any size
    <root>/ISIC-2017_<S>_Part1_GroundTruth/<image_id>_segmentation.png   binary masks (0/255)
    <root>/ISIC-2017_<S>_Part3_GroundTruth.csv                    image_id,melanoma,seborrheic_keratosis

Files in the data folder that are not images (the official ``*_metadata.csv``) and the
official ``*_superpixels.png`` files are ignored.

Conventions: ``Sample.image`` is ``uint8 (H, W, 3)`` RGB at the file's own size (sizes vary:
never assume square or fixed size); ``Sample.mask`` is ``bool (H, W)`` at the same size, row =
y, column = x. Nothing is resized unless ``max_side`` is given. EXIF orientation tags are not
applied: the masks are aligned with the stored pixel grid.

Bad input, decided per case (every error is a :class:`DataError` naming the file and problem):

* corrupt / truncated / unreadable image or mask -> ``DataError``;
* missing mask file -> ``DataError``; mask size != image size -> ``DataError``;
* grayscale (``L``/``LA``/``P``/``CMYK``...) image -> converted to RGB with a
  :class:`DataWarning` (ISIC images are colour; a grey file is almost certainly a conversion
  accident, but its content is still usable);
* RGBA image -> alpha dropped (no warning: PNG exports often carry an opaque alpha);
* 16-/32-bit image (``I``, ``I;16``, ``F``) -> ``DataError`` (no faithful 8-bit reading);
* mask: 8-bit masks whose values are all in {0, 1} are label masks (foreground = 1); other 8-bit
  masks are thresholded at ``> 127`` (the midpoint, so anti-aliased/JPEG-ish edges split
  evenly); 16-/32-bit masks are thresholded at ``> 0``; RGB(A) masks are accepted only when
  their colour channels are equal; bilevel (mode ``1``) masks are used as they are;
* empty mask -> ``DataError`` (a lesion image must have a lesion; evaluation would be
  meaningless);
* an image or mask of more than :data:`MAX_PIXELS` pixels (50 megapixels; the largest ISIC 2017
  image, 6688×4439, has 29.7) -> ``DataError`` before it is decoded: a "decompression bomb" (a
  few bytes that claim a huge image) never allocates its pixels. Raise the limit by setting
  ``cam2seg_utils.data.isic.MAX_PIXELS``;
* CSV: duplicate ids -> ``DataError`` (always, at construction); values not 0/1 -> ``DataError``;
  ids with no image and images with no CSV row -> ``DataError`` at construction listing them
  (``strict=True``, the default). With ``strict=False`` the dataset covers the union of both
  and each such id fails individually when loaded, so a bulk run records it.

In a bulk run ``iter_samples(errors="record")`` yields a :class:`SampleError` in place of each
failing sample and carries on, so one bad file never loses the other images' results.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal, Sequence

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from cam2seg_utils.atomic import progress_bar

from .resize import downsize   # one max_side rule for the loaders and the grid

__all__ = [
    "DataError",
    "DataWarning",
    "Sample",
    "SampleError",
    "ISICDataset",
    "LesionDataset",
    "SPLITS",
    "canonical_split",
    "split_paths",
    "read_labels",
    "load_image",
    "load_mask",
    "MAX_PIXELS",
]

#: Official split names. ``Test`` is an alias of ``Test_v2``.
SPLITS = ("Training", "Validation", "Test_v2")
_ALIASES = {
    "training": "Training",
    "train": "Training",
    "validation": "Validation",
    "val": "Validation",
    "test": "Test_v2",
    "test_v2": "Test_v2",
}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
#: Largest image (width × height) the loader decodes; read at call time, so it can be changed.
MAX_PIXELS = 50_000_000
_CSV_COLUMNS = ("image_id", "melanoma", "seborrheic_keratosis")


class DataError(ValueError):
    """Bad input data; the message names the file and the problem; ``path`` is that file."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)


class DataWarning(UserWarning):
    """Input was usable but not as expected (e.g. a grayscale image converted to RGB)."""


@dataclass
class Sample:
    """One image with its ground truth.

    ``image``: ``uint8 (H, W, 3)`` RGB; ``mask``: ``bool (H, W)`` (True = lesion);
    ``melanoma``: 0 or 1.
    """

    image_id: str
    image: np.ndarray
    mask: np.ndarray
    melanoma: int


@dataclass(frozen=True)
class SampleError:
    """A per-image failure recorded by ``iter_samples(errors="record")``."""

    image_id: str
    path: str
    message: str


def canonical_split(split: str) -> str:
    """Map ``Training``/``Validation``/``Test``/``Test_v2`` (any case) to the official name."""
    key = str(split).strip().lower()
    if key not in _ALIASES:
        raise ValueError(
            f"unknown ISIC 2017 split {split!r}; expected one of Training, Validation, Test (Test_v2)"
        )
    return _ALIASES[key]


def split_paths(root: str | Path, split: str) -> tuple[Path, Path, Path]:
    """``(data_dir, mask_dir, csv_path)`` of ``split`` under ``root``.

    For the test split ``ISIC-2017_Test_v2_*`` is preferred; ``ISIC-2017_Test_*`` is used when
    only that exists. The paths are returned whether or not they exist.
    """
    root = Path(root)
    name = canonical_split(split)
    candidates = [name] + (["Test"] if name == "Test_v2" else [])
    for cand in candidates:
        data = root / f"ISIC-2017_{cand}_Data"
        if data.is_dir() or (root / f"ISIC-2017_{cand}_Part3_GroundTruth.csv").is_file():
            break
    else:
        cand = name
    return (
        root / f"ISIC-2017_{cand}_Data",
        root / f"ISIC-2017_{cand}_Part1_GroundTruth",
        root / f"ISIC-2017_{cand}_Part3_GroundTruth.csv",
    )


def read_labels(csv_path: str | Path) -> pd.DataFrame:
    """Read a Part3 CSV into a frame indexed by ``image_id`` with int columns
    ``melanoma`` and ``seborrheic_keratosis`` (0/1). Official files write ``0.0``/``1.0``;
    both spellings are accepted."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError(f"{csv_path}: label CSV not found", path=csv_path)
    try:
        df = pd.read_csv(csv_path, dtype={"image_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{csv_path}: cannot parse label CSV ({exc})", path=csv_path) from exc
    missing = [c for c in _CSV_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            f"{csv_path}: missing column(s) {missing}; expected header {','.join(_CSV_COLUMNS)}"
        , path=csv_path)
    df["image_id"] = df["image_id"].astype(str).str.strip()
    dup = df["image_id"][df["image_id"].duplicated()].unique().tolist()
    if dup:
        raise DataError(f"{csv_path}: duplicate image_id(s) {_short_list(dup)}", path=csv_path)
    out = df.set_index("image_id")[list(_CSV_COLUMNS[1:])]
    for col in _CSV_COLUMNS[1:]:
        vals = pd.to_numeric(out[col], errors="coerce")
        bad = out.index[~vals.isin([0, 1])].tolist()
        if bad:
            raise DataError(f"{csv_path}: column {col!r} must be 0 or 1; bad rows for {_short_list(bad)}",
                            path=csv_path)
        out[col] = vals.astype(np.int64)
    return out


def _short_list(items: Sequence[str], n: int = 10) -> str:
    items = list(items)
    head = ", ".join(map(str, items[:n]))
    return f"[{head}{', ...' if len(items) > n else ''}] ({len(items)} in all)"


def _open(path: Path, what: str) -> Image.Image:
    if not path.is_file():
        raise DataError(f"{path}: {what} file is missing", path=path)
    try:
        im = Image.open(path)  # reads the header only
        width, height = im.size
        if width * height > MAX_PIXELS:
            raise DataError(f"{path}: {what} of {width}x{height} pixels ({width * height / 1e6:.0f} megapixels) "
                            f"exceeds the loader's limit of {MAX_PIXELS / 1e6:g} megapixels "
                            "(cam2seg_utils.data.isic.MAX_PIXELS); not decoded", path=path)
        im.load()  # decodes now: truncated/corrupt files fail here, not later
    except Image.DecompressionBombError as exc:  # PIL's own limit, hit while reading the header
        raise DataError(f"{path}: {what} file claims more pixels than PIL decodes safely (a decompression "
                        f"bomb?); not decoded ({exc})", path=path) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{path}: corrupt or truncated {what} file ({exc})", path=path) from exc
    return im


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as ``uint8 (H, W, 3)`` RGB (rules in the module docstring)."""
    path = Path(path)
    im = _open(path, "image")
    mode = im.mode
    if mode == "RGB":
        arr = np.asarray(im)
    elif mode == "RGBA":
        arr = np.asarray(im)[..., :3]
    elif mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        raise DataError(f"{path}: {mode} ({'float' if mode == 'F' else '16/32-bit'}) image; "
                        "expected 8-bit RGB", path=path)
    else:
        if mode in ("L", "LA", "1", "P", "PA") and not (mode in ("P", "PA") and _palette_is_colour(im)):
            warnings.warn(f"{path}: grayscale image (mode {mode}) converted to RGB", DataWarning,
                          stacklevel=3)
        arr = np.asarray(im.convert("RGB"))
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(f"{path}: unexpected image shape {arr.shape}", path=path)
    return arr


def _palette_is_colour(im: Image.Image) -> bool:
    pal = np.asarray(im.convert("RGB"))
    return not (np.array_equal(pal[..., 0], pal[..., 1]) and np.array_equal(pal[..., 1], pal[..., 2]))


def load_mask(path: str | Path) -> np.ndarray:
    """Read a mask file as ``bool (H, W)`` (thresholds in the module docstring). Does not check
    for emptiness; :meth:`ISICDataset.load` does."""
    path = Path(path)
    im = _open(path, "mask")
    mode = im.mode
    if mode == "1":
        return np.asarray(im, dtype=bool)
    arr = np.asarray(im)
    if mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return np.ascontiguousarray(arr > 0)
    if mode in ("RGB", "RGBA"):
        rgb = arr[..., :3]
        if not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])):
            raise DataError(f"{path}: colour mask (mode {mode} with differing channels); "
                            "expected a single-channel binary mask", path=path)
        arr = rgb[..., 0]
    elif mode == "LA":
        arr = arr[..., 0]
    elif mode == "P":
        return np.ascontiguousarray(arr > 0)  # palette index 0 = background
    elif mode != "L":
        raise DataError(f"{path}: unsupported mask mode {mode}", path=path)
    if arr.size and arr.max() <= 1:
        return np.ascontiguousarray(arr > 0)
    return np.ascontiguousarray(arr > 127)


class LesionDataset:
    """What every loader of (image, lesion mask, melanoma label) shares: the id selection, the
    access methods and the checks of :meth:`load`. A subclass sets ``root``, ``csv_path`` (its
    label table) and ``_all_labels`` (indexed by ``image_id``, int ``melanoma``), calls
    :meth:`_set_max_side` and :meth:`_select_ids`, and says where an image and its mask are
    (:meth:`image_path`, :meth:`mask_path`) and how its messages name things (``_case_word``,
    :meth:`_no_row_message`, :meth:`_progress_desc`)."""

    split: str
    #: the word an error message uses for an image id of the label table ("id", PH2: "case")
    _case_word = "id"

    def _set_max_side(self, max_side: int | None) -> None:
        if max_side is not None and int(max_side) < 1:
            raise ValueError(f"max_side must be a positive int or None, got {max_side!r}")
        self.max_side = None if max_side is None else int(max_side)

    def _select_ids(self, known: set[str], label_ids: set[str], ids: list[str] | None, all_labels: pd.DataFrame,
                    scope: str, scope_path: Path) -> None:
        """``self.ids`` = the sorted ``known`` ids, or ``ids`` in their order (each must be known:
        else :class:`DataError` naming ``scope_path`` and ``scope``); ``self.labels`` = their rows."""
        if ids is None:
            self.ids: list[str] = sorted(known)
        else:
            ids = [str(i) for i in ids]
            unknown = sorted(set(ids) - known)
            if unknown:
                raise DataError(f"{scope_path}: requested id(s) not in {scope}: {_short_list(unknown)}", path=scope_path)
            if len(set(ids)) != len(ids):
                raise ValueError("ids contains duplicates")
            self.ids = ids
        self._all_labels = all_labels
        self.labels: pd.DataFrame = all_labels.reindex([i for i in self.ids if i in label_ids])

    def _check_match(self, headline: str, problems: list[tuple[str, list[str]]]) -> None:
        """Raise :class:`DataError` naming ``csv_path`` when any ``(what, ids)`` of ``problems``
        has ids: ``"<csv_path>: <headline>; <what>: [ids] (n in all); ..."``."""
        parts = [f"{what}: {_short_list(found)}" for what, found in problems if found]
        if parts:
            raise DataError(f"{self.csv_path}: {headline}; " + "; ".join(parts), path=self.csv_path)

    # -- what a subclass says --------------------------------------------------------------
    def image_path(self, image_id: str) -> Path:
        raise NotImplementedError

    def mask_path(self, image_id: str) -> Path:
        raise NotImplementedError

    def _no_row_message(self, image_id: str) -> str:
        return f"{self.csv_path}: no label row for image {image_id}"

    def _progress_desc(self) -> str:
        return self.split

    # -- access ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Sample:
        return self.load(self.ids[i])

    def load(self, image_id: str) -> Sample:
        """Read one sample; raises :class:`DataError` naming the file on any problem (no label
        row, a missing or unreadable image or mask, sizes that differ, an empty mask)."""
        if image_id not in self._all_labels.index:
            raise DataError(self._no_row_message(image_id), path=self.csv_path)
        ipath, mpath = self.image_path(image_id), self.mask_path(image_id)
        if not ipath.is_file():
            raise DataError(f"{ipath}: image file is missing ({self._case_word} {image_id} is in {self.csv_path.name})",
                            path=ipath)
        if not mpath.is_file():
            raise DataError(f"{mpath}: mask file is missing for image {image_id}", path=mpath)
        image = load_image(ipath)
        mask = load_mask(mpath)
        if mask.shape != image.shape[:2]:
            raise DataError(f"{mpath}: mask size {mask.shape[1]}x{mask.shape[0]} (WxH) does not match image "
                            f"{ipath.name} size {image.shape[1]}x{image.shape[0]}", path=mpath)
        if self.max_side is not None:
            image, mask = downsize(image, mask, self.max_side)
        if not mask.any():
            raise DataError(f"{mpath}: empty mask (no lesion pixel) for image {image_id}", path=mpath)
        return Sample(image_id=image_id, image=image, mask=mask,
                      melanoma=int(self._all_labels.at[image_id, "melanoma"]))

    def iter_samples(self, errors: Literal["raise", "record"] = "raise",
                     progress: bool = False) -> Iterator[Sample | SampleError]:
        """Yield every sample in ``ids`` order.

        ``errors="raise"``: the first bad sample raises :class:`DataError`.
        ``errors="record"``: a bad sample yields a :class:`SampleError` (id, path, message) in its
        place and iteration continues. ``progress`` shows a tqdm bar (respects ``TQDM_DISABLE``).
        """
        return iter_dataset(self, errors, progress, desc=self._progress_desc())


class ISICDataset(LesionDataset):
    """Images, masks and melanoma labels of one split in the official ISIC 2017 layout.

    Parameters
    ----------
    root: folder holding ``ISIC-2017_<Split>_Data`` etc.
    split: ``"Training"``, ``"Validation"``, ``"Test"`` or ``"Test_v2"``.
    ids: restrict to these image ids (in this order); unknown ids raise ``DataError``.
    max_side: if given, images whose longer side exceeds it are downscaled on load so that the
        longer side equals ``max_side`` (:func:`cam2seg_utils.data.resize.downsize`: image box
        filter, mask lesion where at least half the area is; the grid's ``max_side`` rule).
        Default ``None`` keeps the original size.
    strict: check at construction that CSV rows and image files match one to one (see the
        module docstring).

    Attributes: ``ids`` (sorted unless ``ids`` was given), ``labels`` (DataFrame indexed by
    ``image_id`` with int ``melanoma``, ``seborrheic_keratosis``; rows of ``ids`` only).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "Training",
        ids: list[str] | None = None,
        *,
        max_side: int | None = None,
        strict: bool = True,
    ) -> None:
        self.root = Path(root)
        self.split = canonical_split(split)
        self._set_max_side(max_side)
        self.data_dir, self.mask_dir, self.csv_path = split_paths(self.root, self.split)
        if not self.data_dir.is_dir():
            raise DataError(f"{self.data_dir}: image folder not found (split {self.split} under {self.root})",
                            path=self.data_dir)
        if not self.mask_dir.is_dir():
            raise DataError(f"{self.mask_dir}: mask folder not found (split {self.split} under {self.root})",
                            path=self.mask_dir)
        all_labels = read_labels(self.csv_path)

        self._image_paths: dict[str, Path] = {}
        dup_files: list[str] = []
        for p in sorted(self.data_dir.iterdir()):
            if not p.is_file() or p.suffix.lower() not in _IMAGE_SUFFIXES or p.name.startswith("."):
                continue
            if p.stem.endswith("_superpixels"):
                continue
            if p.stem in self._image_paths:
                dup_files.append(p.name)
            self._image_paths[p.stem] = p
        if dup_files:
            raise DataError(f"{self.data_dir}: several files for the same image id: {_short_list(dup_files)}",
                            path=self.data_dir)

        csv_ids = set(all_labels.index)
        file_ids = set(self._image_paths)
        no_image = sorted(csv_ids - file_ids)
        no_row = sorted(file_ids - csv_ids)
        if strict:
            self._check_match("labels and images do not match", [
                (f"ids in {self.csv_path.name} with no image in {self.data_dir.name}", no_image),
                (f"images in {self.data_dir.name} with no row in {self.csv_path.name}", no_row)])
        self._select_ids(csv_ids | file_ids, csv_ids, ids, all_labels, f"split {self.split}", self.csv_path)

    # -- paths -----------------------------------------------------------------------------
    def image_path(self, image_id: str) -> Path:
        return self._image_paths.get(image_id, self.data_dir / f"{image_id}.jpg")

    def mask_path(self, image_id: str) -> Path:
        return self.mask_dir / f"{image_id}_segmentation.png"

    def __repr__(self) -> str:
        return f"ISICDataset(root={str(self.root)!r}, split={self.split!r}, n={len(self)})"

    def _progress_desc(self) -> str:
        return f"ISIC {self.split}"


def iter_dataset(dataset, errors: Literal["raise", "record"] = "raise", progress: bool = False,
                 desc: str = "images") -> Iterator[Sample | SampleError]:
    """``dataset.load(i)`` for every ``i`` of ``dataset.ids`` (the ``iter_samples`` of every
    loader: :class:`ISICDataset`, :class:`~cam2seg_utils.data.ph2.PH2Dataset`); with
    ``errors="record"`` a failing sample yields a :class:`SampleError` in its place."""
    if errors not in ("raise", "record"):
        raise ValueError(f"errors must be 'raise' or 'record', got {errors!r}")
    return _iter_dataset(dataset, errors, progress, desc)


def _iter_dataset(dataset, errors: str, progress: bool, desc: str) -> Iterator[Sample | SampleError]:
    for image_id in progress_bar(dataset.ids, progress, desc=desc, unit="img"):
        try:
            yield dataset.load(image_id)
        except Exception as exc:  # noqa: BLE001 - recorded, never dropped
            if errors == "raise":
                raise
            path = exc.path if isinstance(exc, DataError) and exc.path else str(dataset.image_path(image_id))
            yield SampleError(image_id=image_id, path=path,
                              message=str(exc) if isinstance(exc, DataError)
                              else f"{type(exc).__name__}: {exc}")

