"""The Excel workbook: one sheet per table with typed cells, a codebook sheet, the same bytes for the same build."""

from __future__ import annotations

import csv
import io
import json

import pytest

from pipeline.write.workbook import workbook_bytes
from tests.conftest import ROOT

DIST = ROOT / "dist"
DESCRIPTOR = json.loads((DIST / "datapackage.json").read_text(encoding="utf-8"))
FILES = {p.name: p.read_bytes() for p in DIST.iterdir() if p.suffix == ".csv"}


def test_one_sheet_per_table_and_a_codebook_holding_the_csv_data():
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is not installed (pip install -e '.[test]')")
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(DESCRIPTOR, FILES)))
    assert book.sheetnames == ["codebook", *[r["name"] for r in DESCRIPTOR["resources"]]]
    for resource in DESCRIPTOR["resources"]:
        rows = list(csv.reader((DIST / resource["path"]).open(encoding="utf-8", newline="")))
        sheet = [
            ["" if v is None else str(v) for v in row] for row in book[resource["name"]].iter_rows(values_only=True)
        ]
        sheet = [row + [""] * (len(rows[0]) - len(row)) for row in sheet]
        assert sheet == rows, resource["name"]
    codebook = list(book["codebook"].iter_rows(values_only=True))
    assert ("casualties", "qualifier") in {row[:2] for row in codebook}


def test_integers_are_numbers_and_text_is_never_a_formula():
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is not installed (pip install -e '.[test]')")
    book = openpyxl.load_workbook(io.BytesIO(workbook_bytes(DESCRIPTOR, FILES)))
    counts = [c for c in book["casualties"]["D"][1:] if c.value is not None]
    assert counts and all(c.data_type == "n" for c in counts)
    assert all(c.data_type != "f" for sheet in book for row in sheet.iter_rows() for c in row)


def test_same_build_same_bytes():
    assert workbook_bytes(DESCRIPTOR, FILES) == workbook_bytes(DESCRIPTOR, FILES)
