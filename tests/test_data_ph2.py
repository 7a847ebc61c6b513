"""The PH2 loader (cam2seg_utils/data/ph2.py) on folders written here in PH2's distributed
layout with real BMP files: values read back exactly, labels from the clinical diagnosis, and a
DataError naming the file and the problem for every bad layout."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cam2seg_utils.data import DataError, PH2Dataset, Sample, SampleError, read_ph2_table
from conftest import PH2_CASES, PH2_TXT_HEADER, ph2_txt_row, write_ph2_folder


@pytest.fixture
def ph2(tmp_path):
    root = tmp_path / "PH2Dataset"
    return root, write_ph2_folder(root)


def _case(root, image_id):
    return root / "PH2 Dataset images" / image_id


def test_loads_the_distributed_layout_exactly(ph2):
    root, written = ph2
    ds = PH2Dataset(root)
    assert ds.ids == ["IMD002", "IMD003", "IMD010"] and len(ds) == 3 and ds.split == "PH2"
    # melanoma = clinical diagnosis 2 (0 common nevus, 1 atypical nevus)
    assert ds.labels["clinical_diagnosis"].tolist() == [0, 1, 2]
    assert ds.labels["melanoma"].tolist() == [0, 0, 1]
    assert ds.labels["histological_diagnosis"].tolist() == ["", "", "Melanoma"]
    for image_id, (image, mask) in written.items():
        s = ds.load(image_id)
        assert isinstance(s, Sample) and s.image_id == image_id
        assert s.image.dtype == np.uint8 and s.image.shape == image.shape and np.array_equal(s.image, image)
        assert s.mask.dtype == bool and np.array_equal(s.mask, mask)        # BMP is lossless
        assert s.melanoma == int(image_id == "IMD010")
    assert [s.image_id for s in ds.iter_samples()] == ds.ids
    assert ds[2].image.shape == (150, 210, 3)
    assert ds.image_path("IMD003") == _case(root, "IMD003") / "IMD003_Dermoscopic_Image" / "IMD003.bmp"
    assert ds.mask_path("IMD003") == _case(root, "IMD003") / "IMD003_lesion" / "IMD003_lesion.bmp"
    # the folder the archive unpacks to, or its parent
    assert PH2Dataset(root.parent).root == root
    assert PH2Dataset(root, ids=["IMD010", "IMD002"]).ids == ["IMD010", "IMD002"]
    small = PH2Dataset(root, max_side=100).load("IMD010")
    assert small.image.shape == (71, 100, 3) and small.mask.shape == (71, 100) and small.mask.any()


def test_bilevel_and_palette_masks_read_as_the_lesion(ph2):
    root, written = ph2
    image, mask = written["IMD003"]
    path = _case(root, "IMD003") / "IMD003_lesion" / "IMD003_lesion.bmp"
    Image.fromarray(mask).convert("1").save(path)                        # 1-bit BMP
    assert Image.open(path).mode == "1"
    assert np.array_equal(PH2Dataset(root).load("IMD003").mask, mask)


def test_txt_table_with_blank_histology_and_other_lines(tmp_path):
    path = tmp_path / "PH2_dataset.txt"
    path.write_text("\n".join([PH2_TXT_HEADER, ph2_txt_row("IMD002", 0), ph2_txt_row("IMD048", 2, "Melanoma"),
                               ph2_txt_row("IMD151", 1), "", "||        ||                        ||", ""]),
                    encoding="utf-8")
    t = read_ph2_table(path)
    assert list(t.index) == ["IMD002", "IMD048", "IMD151"]
    assert t["clinical_diagnosis"].tolist() == [0, 2, 1] and t["melanoma"].tolist() == [0, 1, 0]
    assert t["melanoma"].dtype == np.int64


def _write_tab_txt(path, cases, header="Name\tClinical Diagnosis\tAsymmetry"):
    """The tab-separated PH2_dataset.txt that circulates in public repositories (CRLF line ends)."""
    rows = [f"{image_id}\t{code}\t0" for image_id, code, *_ in cases]
    path.write_bytes("\r\n".join([header, *rows, ""]).encode("utf-8"))


def test_tab_separated_txt_reads_as_the_original(ph2, tmp_path):
    root, _ = ph2
    original = read_ph2_table(root / "PH2_dataset.txt")
    _write_tab_txt(root / "PH2_dataset.txt", PH2_CASES)
    assert b"\r\n" in (root / "PH2_dataset.txt").read_bytes()
    tab = read_ph2_table(root / "PH2_dataset.txt")
    assert tab["clinical_diagnosis"].tolist() == [0, 1, 2] and tab["melanoma"].tolist() == [0, 0, 1]
    # the same frame but the histology, a column the tab variant lacks
    pd.testing.assert_frame_equal(tab.drop(columns="histological_diagnosis"),
                                  original.drop(columns="histological_diagnosis"))
    assert tab["histological_diagnosis"].tolist() == ["", "", ""]
    ds = PH2Dataset(root)
    assert ds.csv_path == root / "PH2_dataset.txt" and ds.labels["melanoma"].tolist() == [0, 0, 1]


def test_unreadable_txt_falls_back_to_the_spreadsheet_and_says_so(ph2):
    root, _ = ph2
    txt = root / "PH2_dataset.txt"
    _write_tab_txt(txt, PH2_CASES, header="Image\tDiagnosis\tAsymmetry")       # no column PH2 names
    _write_xlsx(root / "PH2_dataset.xlsx", PH2_CASES)
    with pytest.warns(UserWarning, match=r"PH2 diagnosis table read from PH2_dataset.xlsx: .*PH2_dataset.txt: no "
                                         r"header row with 'Name' and 'Clinical Diagnosis'"):
        ds = PH2Dataset(root)
    assert ds.csv_path == root / "PH2_dataset.xlsx" and ds.labels["melanoma"].tolist() == [0, 0, 1]
    # neither reads: one error naming both tables and their problems
    (root / "PH2_dataset.xlsx").write_bytes(b"not a spreadsheet")
    e = _error(PH2Dataset, root)
    assert str(e).startswith(f"{txt}: no header row") and f"{root / 'PH2_dataset.xlsx'}: cannot read" in str(e)


def _write_xlsx(path, cases):
    """PH2_dataset.xlsx as distributed: a title block, a merged 'Clinical Diagnosis' heading over
    the columns Common Nevus / Atypical Nevus / Melanoma (an X marks the diagnosis), header row 13."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.cell(row=1, column=1, value="PH2 Database")
    ws.cell(row=12, column=3, value="Clinical Diagnosis")
    ws.merge_cells(start_row=12, start_column=3, end_row=12, end_column=5)
    header = ["Image Name", "Histological Diagnosis", "Common Nevus", "Atypical Nevus", "Melanoma",
              "Asymmetry\n(0/1/2)", "Pigment Network\n(AT/T)"]
    for col, name in enumerate(header, start=1):
        ws.cell(row=13, column=col, value=name)
    for r, (image_id, code, *_rest) in enumerate(cases, start=14):
        ws.cell(row=r, column=1, value=image_id)
        ws.cell(row=r, column=2, value="Melanoma" if code == 2 else None)
        ws.cell(row=r, column=3 + code, value="X")
        ws.cell(row=r, column=6, value=0)
        ws.cell(row=r, column=7, value="T")
    wb.save(path)


def test_xlsx_table_reads_as_the_txt_one(ph2, tmp_path):
    root, _ = ph2
    xlsx = tmp_path / "PH2_dataset.xlsx"
    _write_xlsx(xlsx, PH2_CASES)
    from_xlsx, from_txt = read_ph2_table(xlsx), read_ph2_table(root / "PH2_dataset.txt")
    pd.testing.assert_frame_equal(from_xlsx, from_txt)
    # a folder with only the spreadsheet
    (root / "PH2_dataset.txt").unlink()
    shutil.copy(xlsx, root / "PH2_dataset.xlsx")
    ds = PH2Dataset(root)
    assert ds.csv_path.name == "PH2_dataset.xlsx" and ds.labels["melanoma"].tolist() == [0, 0, 1]
    # two diagnoses marked on one row
    _write_xlsx(xlsx, PH2_CASES)
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    wb.active.cell(row=15, column=5, value="X")
    wb.save(xlsx)
    with pytest.raises(DataError, match=r"row 15: image IMD003 has 2 clinical diagnoses marked") as err:
        read_ph2_table(xlsx)
    assert err.value.path == str(xlsx)


# ------------------------------------------------------------------------------ bad layouts
def _error(fn, *args, **kwargs) -> DataError:
    with pytest.raises(DataError) as err:
        fn(*args, **kwargs)
    return err.value


def test_missing_image_mask_and_unreadable_bmp_name_the_file(ph2):
    root, _ = ph2
    img = _case(root, "IMD002") / "IMD002_Dermoscopic_Image" / "IMD002.bmp"
    img.unlink()
    e = _error(PH2Dataset(root).load, "IMD002")
    assert str(e) == f"{img}: image file is missing (case IMD002 is in PH2_dataset.txt)" and e.path == str(img)

    mask = _case(root, "IMD003") / "IMD003_lesion" / "IMD003_lesion.bmp"
    mask.unlink()
    e = _error(PH2Dataset(root).load, "IMD003")
    assert str(e) == f"{mask}: mask file is missing for image IMD003"

    bad = _case(root, "IMD010") / "IMD010_Dermoscopic_Image" / "IMD010.bmp"
    bad.write_bytes(bad.read_bytes()[:300])                                 # a copy cut short
    e = _error(PH2Dataset(root).load, "IMD010")
    assert str(e).startswith(f"{bad}: corrupt or truncated image file") and e.path == str(bad)

    # a bulk run records each bad image and carries on
    out = list(PH2Dataset(root).iter_samples(errors="record"))
    assert [type(o) for o in out] == [SampleError, SampleError, SampleError]
    assert [o.path for o in out] == [str(img), str(mask), str(bad)]


def test_mask_of_another_size_and_empty_mask(ph2):
    root, _ = ph2
    mask = _case(root, "IMD002") / "IMD002_lesion" / "IMD002_lesion.bmp"
    Image.fromarray(np.full((100, 100), 255, np.uint8)).save(mask)
    e = _error(PH2Dataset(root).load, "IMD002")
    assert str(e) == f"{mask}: mask size 100x100 (WxH) does not match image IMD002.bmp size 200x150"
    Image.fromarray(np.zeros((150, 200), np.uint8)).save(mask)
    assert str(_error(PH2Dataset(root).load, "IMD002")) == f"{mask}: empty mask (no lesion pixel) for image IMD002"
    ok = [o for o in PH2Dataset(root).iter_samples(errors="record") if isinstance(o, Sample)]
    assert [s.image_id for s in ok] == ["IMD003", "IMD010"]


def test_missing_or_bad_table(ph2):
    root, _ = ph2
    table = root / "PH2_dataset.txt"
    table.write_text(PH2_TXT_HEADER + "\n" + ph2_txt_row("IMD002", 0) + "\n" + ph2_txt_row("IMD003", 3) + "\n")
    e = _error(PH2Dataset, root)
    assert str(e) == (f"{table}: line 3: image IMD003 has Clinical Diagnosis '3'; expected 0 (common nevus), "
                      "1 (atypical nevus) or 2 (melanoma)")
    table.write_text("Name;Diagnosis\nIMD002;0\n")
    assert "no header row with 'Name' and 'Clinical Diagnosis'" in str(_error(PH2Dataset, root))
    table.write_text(PH2_TXT_HEADER + "\n" + ph2_txt_row("IMD002", 0) + "\n" + ph2_txt_row("IMD002", 1) + "\n")
    assert str(_error(PH2Dataset, root)) == f"{table}: line 3: image IMD002 has a second row"
    table.unlink()
    e = _error(PH2Dataset, root)
    assert str(e) == (f"{root}: diagnosis table not found: expected PH2_dataset.txt (or PH2_dataset.xlsx) "
                      "beside 'PH2 Dataset images'")


def test_table_and_case_folders_must_match(ph2):
    root, _ = ph2
    table = root / "PH2_dataset.txt"
    rows = [ph2_txt_row("IMD002", 0), ph2_txt_row("IMD003", 1), ph2_txt_row("IMD404", 2)]  # IMD010: no row
    table.write_text("\n".join([PH2_TXT_HEADER, *rows]) + "\n")
    e = _error(PH2Dataset, root)
    assert str(e) == (f"{table}: the diagnosis table and the case folders do not match; case folders in "
                      "'PH2 Dataset images' with no row in PH2_dataset.txt: [IMD010] (1 in all); rows of "
                      "PH2_dataset.txt with no case folder in 'PH2 Dataset images': [IMD404] (1 in all)")
    # strict=False: the union, each unmatched id fails when loaded (and is recorded in a bulk run)
    ds = PH2Dataset(root, strict=False)
    assert ds.ids == ["IMD002", "IMD003", "IMD010", "IMD404"]
    assert str(_error(ds.load, "IMD010")) == f"{table}: no row for image IMD010 in the diagnosis table"
    missing = _case(root, "IMD404") / "IMD404_Dermoscopic_Image" / "IMD404.bmp"
    assert str(_error(ds.load, "IMD404")) == f"{missing}: image file is missing (case IMD404 is in PH2_dataset.txt)"
    out = list(ds.iter_samples(errors="record"))
    assert [type(o).__name__ for o in out] == ["Sample", "Sample", "SampleError", "SampleError"]
    assert "requested id(s) not in PH2: [IMD999]" in str(_error(PH2Dataset, root, ids=["IMD999"], strict=False))


def test_empty_or_foreign_folders(tmp_path):
    e = _error(PH2Dataset, tmp_path / "nowhere")
    assert str(e) == f"{tmp_path / 'nowhere'}: PH2 folder not found"
    (tmp_path / "isic").mkdir()
    e = _error(PH2Dataset, tmp_path / "isic")
    assert str(e).startswith(f"{tmp_path / 'isic'}: not a PH2 folder: no 'PH2 Dataset images' folder in it")
    empty = tmp_path / "empty"
    (empty / "PH2 Dataset images").mkdir(parents=True)
    (empty / "PH2_dataset.txt").write_text(PH2_TXT_HEADER + "\n" + ph2_txt_row("IMD002", 0) + "\n")
    e = _error(PH2Dataset, empty)
    assert str(e) == (f"{empty / 'PH2 Dataset images'}: no case folder (IMDxxx) in it: empty, or not the PH2 "
                      "images folder")
    (empty / "PH2_dataset.txt").write_text(PH2_TXT_HEADER + "\n")
    assert str(_error(PH2Dataset, empty)) == f"{empty / 'PH2_dataset.txt'}: no image row (IMDxxx) in the diagnosis table"
