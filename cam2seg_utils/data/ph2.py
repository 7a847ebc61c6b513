"""Loader for the PH2 dermoscopy database in its distributed layout (an external test set).

PH2 (Mendonça et al., EMBC 2013; Hospital Pedro Hispano, Matosinhos) holds 200 dermoscopic
images (8-bit RGB BMP, about 765×574) of melanocytic lesions with a lesion mask each and a
clinical diagnosis: 80 common nevi, 80 atypical nevi, 40 melanomas. cam2seg only *evaluates*
on it (zero-shot and with a classifier fine-tuned on ISIC 2017); it never trains on it.

Layout (the folder the archive unpacks to; ``root`` may also be its parent holding
``PH2Dataset/``)::

    <root>/PH2 Dataset images/IMD002/IMD002_Dermoscopic_Image/IMD002.bmp   the image
    <root>/PH2 Dataset images/IMD002/IMD002_lesion/IMD002_lesion.bmp       the lesion mask
    <root>/PH2 Dataset images/IMD002/IMD002_roi/...                         (colour classes; ignored)
    <root>/PH2_dataset.txt      the diagnosis table ("||"-separated text; a tab-separated
                                variant circulates too, both are read)
    <root>/PH2_dataset.xlsx     the same table as a spreadsheet (read when the .txt is absent or
                                unreadable; needs ``openpyxl``, the ``ph2`` extra)

The text table has a header row ``|| Name || Histological Diagnosis || Clinical Diagnosis ||
Asymmetry | ... || Colors ||`` and one row per image, ``|| IMD003 || || 0 || ...``; the
*Clinical Diagnosis* column is a code: 0 = common nevus, 1 = atypical nevus, 2 = melanoma. The
tab-separated variant (CRLF line ends) has the header ``Name<TAB>Clinical Diagnosis<TAB>Asymmetry``
and rows ``IMD003<TAB>0<TAB>0``, the same codes. The
spreadsheet marks the diagnosis with an ``X`` under one of the columns *Common Nevus*, *Atypical
Nevus*, *Melanoma* (below a merged *Clinical Diagnosis* heading). The label cam2seg uses:
``melanoma = 1`` exactly when the clinical diagnosis is 2 (melanoma).

Conventions are those of :mod:`cam2seg_utils.data.isic` (``Sample.image`` ``uint8 (H, W, 3)``
RGB at the file's own size; ``Sample.mask`` ``bool (H, W)``), and so are the bad-input rules:
every problem is a :class:`~cam2seg_utils.data.isic.DataError` naming the file and the problem
(missing or unreadable BMP, mask size different from the image's, empty mask, a missing or
unparsable table, a case folder with no table row or a table row with no case folder, a folder
with no case at all). ``iter_samples(errors="record")`` records a bad image and carries on.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from .isic import DataError, LesionDataset

__all__ = ["PH2Dataset", "read_ph2_table", "find_ph2_root", "PH2_IMAGES_FOLDER", "PH2_TABLES",
           "CLINICAL_DIAGNOSES", "MELANOMA_CODE"]

PH2_IMAGES_FOLDER = "PH2 Dataset images"
#: The diagnosis tables of the distribution, in the order they are looked for.
PH2_TABLES = ("PH2_dataset.txt", "PH2_dataset.xlsx")
#: PH2's clinical-diagnosis codes.
CLINICAL_DIAGNOSES = {0: "common nevus", 1: "atypical nevus", 2: "melanoma"}
MELANOMA_CODE = 2
_CASE = re.compile(r"^IMD\d+$")
_XLSX_CLASS_COLUMNS = {"common nevus": 0, "atypical nevus": 1, "melanoma": 2}


def find_ph2_root(root: str | Path) -> Path:
    """The folder holding ``PH2 Dataset images``: ``root`` itself, or ``root/PH2Dataset`` (the
    archive's top folder). ``DataError`` naming ``root`` and the expected layout otherwise."""
    root = Path(root)
    for cand in (root, root / "PH2Dataset"):
        if (cand / PH2_IMAGES_FOLDER).is_dir():
            return cand
    if not root.is_dir():
        raise DataError(f"{root}: PH2 folder not found", path=root)
    raise DataError(f"{root}: not a PH2 folder: no '{PH2_IMAGES_FOLDER}' folder in it (expected "
                    f"<root>/{PH2_IMAGES_FOLDER}/IMDxxx/IMDxxx_Dermoscopic_Image/IMDxxx.bmp and "
                    f"<root>/{PH2_TABLES[0]}, as the PH2 archive unpacks)", path=root)


# ------------------------------------------------------------------------------ the table
def _frame(path: Path, rows: dict[str, tuple[int, str]]) -> pd.DataFrame:
    if not rows:
        raise DataError(f"{path}: no image row (IMDxxx) in the diagnosis table", path=path)
    df = pd.DataFrame({"clinical_diagnosis": [c for c, _ in rows.values()],
                       "histological_diagnosis": [h for _, h in rows.values()]},
                      index=pd.Index(list(rows), name="image_id"))
    df["clinical_diagnosis"] = df["clinical_diagnosis"].astype("int64")
    df.insert(0, "melanoma", (df["clinical_diagnosis"] == MELANOMA_CODE).astype("int64"))
    return df


def _add_row(rows: dict[str, tuple[int, str]], path: Path, where: str, image_id: str, code: int,
             histology: str) -> None:
    if image_id in rows:
        raise DataError(f"{path}: {where}: image {image_id} has a second row", path=path)
    rows[image_id] = (code, histology)


def _txt_fields(line: str) -> list[str] | None:
    """The fields of a line of either text variant (``||``-separated, or tab-separated), or
    ``None`` for a line of neither (a title, a blank line)."""
    line = line.lstrip("\ufeff")
    for sep in ("||", "\t"):
        if sep in line:
            return [f.strip() for f in line.split(sep)]
    return None


def _read_txt(path: Path) -> pd.DataFrame:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the diagnosis table ({exc})", path=path) from exc
    header: list[str] | None = None
    rows: dict[str, tuple[int, str]] = {}
    for lineno, line in enumerate(lines, start=1):
        fields = _txt_fields(line)
        if fields is None:
            continue
        if header is None:
            if "Name" in fields and "Clinical Diagnosis" in fields:
                header = fields
                i_name, i_clin = fields.index("Name"), fields.index("Clinical Diagnosis")
                i_hist = fields.index("Histological Diagnosis") if "Histological Diagnosis" in fields else None
            continue
        name = fields[i_name] if len(fields) > i_name else ""
        if not _CASE.match(name):
            continue                                         # separators, legend lines
        if len(fields) <= i_clin:
            raise DataError(f"{path}: line {lineno}: image {name} has no Clinical Diagnosis field", path=path)
        code = fields[i_clin]
        if code not in ("0", "1", "2"):
            raise DataError(f"{path}: line {lineno}: image {name} has Clinical Diagnosis {code!r}; expected "
                            "0 (common nevus), 1 (atypical nevus) or 2 (melanoma)", path=path)
        histology = fields[i_hist] if i_hist is not None and len(fields) > i_hist else ""
        _add_row(rows, path, f"line {lineno}", name, int(code), histology)
    if header is None:
        raise DataError(f"{path}: no header row with 'Name' and 'Clinical Diagnosis' columns, '||'- or "
                        "tab-separated (not PH2's diagnosis table?)", path=path)
    return _frame(path, rows)


def _cell(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()


def _read_xlsx(path: Path) -> pd.DataFrame:
    try:
        import openpyxl  # noqa: F401 - pandas' engine for .xlsx
    except ImportError as exc:
        raise DataError(f"{path}: reading the .xlsx diagnosis table needs openpyxl (pip install "
                        f"'cam2seg[ph2]'), or put PH2's {PH2_TABLES[0]} beside it", path=path) from exc
    try:
        sheet = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad table
        raise DataError(f"{path}: cannot read the diagnosis spreadsheet ({type(exc).__name__}: {exc})",
                        path=path) from exc
    cells = [[_cell(v) for v in row] for row in sheet.itertuples(index=False)]
    for r, row in enumerate(cells):
        lower = [c.lower() for c in row]
        if any(c in ("image name", "name") for c in lower) and all(k in lower for k in _XLSX_CLASS_COLUMNS):
            break
    else:
        raise DataError(f"{path}: no header row with 'Image Name' and the columns 'Common Nevus', "
                        "'Atypical Nevus', 'Melanoma' (not PH2's diagnosis spreadsheet?)", path=path)
    i_name = next(i for i, c in enumerate(lower) if c in ("image name", "name"))
    class_cols = {lower.index(k): code for k, code in _XLSX_CLASS_COLUMNS.items()}
    i_hist = lower.index("histological diagnosis") if "histological diagnosis" in lower else None
    rows: dict[str, tuple[int, str]] = {}
    for k, row in enumerate(cells[r + 1:], start=r + 2):    # spreadsheet row numbers (1-based)
        name = row[i_name] if len(row) > i_name else ""
        if not _CASE.match(name):
            continue
        marked = [code for col, code in class_cols.items() if len(row) > col and row[col]]
        if len(marked) != 1:
            raise DataError(f"{path}: row {k}: image {name} has {len(marked)} clinical diagnoses marked; "
                            "expected exactly one of Common Nevus, Atypical Nevus, Melanoma", path=path)
        histology = row[i_hist] if i_hist is not None and len(row) > i_hist else ""
        _add_row(rows, path, f"row {k}", name, marked[0], histology)
    return _frame(path, rows)


def read_ph2_table(path: str | Path) -> pd.DataFrame:
    """PH2's diagnosis table (``PH2_dataset.txt`` or ``.xlsx``) as a frame indexed by
    ``image_id`` with int ``melanoma`` (0/1: clinical diagnosis 2), int ``clinical_diagnosis``
    (0/1/2, :data:`CLINICAL_DIAGNOSES`) and str ``histological_diagnosis`` (often empty)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: diagnosis table not found", path=path)
    return _read_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _read_txt(path)


def _first_readable_table(root: Path) -> tuple[Path, pd.DataFrame]:
    """``(path, table)`` of the first of :data:`PH2_TABLES` beside the images that reads; a table
    read after an unreadable one says so (a warning naming both); ``DataError`` naming every
    table's problem when none reads."""
    found = [root / name for name in PH2_TABLES if (root / name).is_file()]
    if not found:
        raise DataError(f"{root}: diagnosis table not found: expected {PH2_TABLES[0]} (or "
                        f"{PH2_TABLES[1]}) beside '{PH2_IMAGES_FOLDER}'", path=root / PH2_TABLES[0])
    problems: list[DataError] = []
    for path in found:
        try:
            table = read_ph2_table(path)
        except DataError as exc:
            problems.append(exc)
            continue
        if problems:
            warnings.warn(f"PH2 diagnosis table read from {path.name}: {problems[0]}", stacklevel=3)
        return path, table
    if len(problems) == 1:
        raise problems[0]
    raise DataError("; ".join(str(p) for p in problems), path=found[0])


# ------------------------------------------------------------------------------ the dataset
class PH2Dataset(LesionDataset):
    """Images, lesion masks and melanoma labels of PH2 (the interface of
    :class:`~cam2seg_utils.data.isic.ISICDataset`).

    Parameters
    ----------
    root: the PH2 folder (holding ``PH2 Dataset images`` and the diagnosis table) or its parent.
    ids: restrict to these image ids (in this order); unknown ids raise ``DataError``.
    max_side: downscale images whose longer side exceeds it on load
        (:func:`cam2seg_utils.data.resize.downsize`, the grid's rule); ``None`` keeps the
        original size.
    strict: check at construction that the table rows and the case folders match one to one;
        ``strict=False`` covers the union and each unmatched id fails when loaded.
    table: the diagnosis table to read (default: ``PH2_dataset.txt``, else, or when the text
        table cannot be read, ``PH2_dataset.xlsx``, with a warning saying why).

    Attributes: ``ids`` (sorted unless ``ids`` was given), ``labels`` (DataFrame indexed by
    ``image_id``: ``melanoma``, ``clinical_diagnosis``, ``histological_diagnosis``; rows of
    ``ids`` only), ``split`` (``"PH2"``), ``csv_path`` (the diagnosis table read, whatever its
    format: a published snapshot records its name and SHA-256).
    """

    split = "PH2"
    _case_word = "case"

    def __init__(self, root: str | Path, ids: list[str] | None = None, *, max_side: int | None = None,
                 strict: bool = True, table: str | Path | None = None) -> None:
        self.root = find_ph2_root(root)
        self._set_max_side(max_side)
        self.images_dir = self.root / PH2_IMAGES_FOLDER
        if table is None:
            self.csv_path, all_labels = _first_readable_table(self.root)
        else:
            self.csv_path = Path(table)
            all_labels = read_ph2_table(self.csv_path)

        cases = sorted(p.name for p in self.images_dir.iterdir() if p.is_dir() and _CASE.match(p.name))
        if not cases:
            raise DataError(f"{self.images_dir}: no case folder (IMDxxx) in it: empty, or not the PH2 "
                            "images folder", path=self.images_dir)
        table_ids, folder_ids = set(all_labels.index), set(cases)
        no_folder, no_row = sorted(table_ids - folder_ids), sorted(folder_ids - table_ids)
        if strict:
            self._check_match("the diagnosis table and the case folders do not match", [
                (f"case folders in '{PH2_IMAGES_FOLDER}' with no row in {self.csv_path.name}", no_row),
                (f"rows of {self.csv_path.name} with no case folder in '{PH2_IMAGES_FOLDER}'", no_folder)])
        self._select_ids(table_ids | folder_ids, table_ids, ids, all_labels, "PH2", self.root)

    # -- paths -----------------------------------------------------------------------------
    def image_path(self, image_id: str) -> Path:
        return self.images_dir / image_id / f"{image_id}_Dermoscopic_Image" / f"{image_id}.bmp"

    def mask_path(self, image_id: str) -> Path:
        return self.images_dir / image_id / f"{image_id}_lesion" / f"{image_id}_lesion.bmp"

    def __repr__(self) -> str:
        return f"PH2Dataset(root={str(self.root)!r}, n={len(self)})"

    def _no_row_message(self, image_id: str) -> str:
        return f"{self.csv_path}: no row for image {image_id} in the diagnosis table"

    def _progress_desc(self) -> str:
        return "PH2"
