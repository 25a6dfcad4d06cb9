"""Export writers: every format round-trips, formulas are neutralised, Excel sheets split."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import numpy as np
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analytics.export_format import (
    build_overview_tables,
    cents_to_major,
    neutralise_formulas,
    sheet_title,
    write_csv,
    write_parquet,
    write_xlsx,
    write_zip,
)
from analytics.report import Overview, ReportFilter

RISKY = ["=SUM(A1:A9)", "+49 30 1234", "-2+3", "@cmd", "\tx", "\r=1", "  =1+1", "plain", None]


def sample(rows: int = 9, offset: int = 0) -> pd.DataFrame:
    """Typed like the data layer's chunks: ints, text with gaps, local times, money, flags."""
    index = np.arange(offset, offset + rows)
    return pd.DataFrame(
        {
            "id": index.astype("int64"),
            "name": pd.Series([RISKY[i % len(RISKY)] for i in index], dtype="str"),
            "starts_at_local": pd.Series(
                [pd.NaT if i % 4 == 3 else datetime(2026, 3, 29, 1, 30 + i % 20) for i in index],
                dtype="datetime64[us]",
            ),
            "price": pd.Series([-12.5 if i % 2 else 45.0 for i in index], dtype="float64"),
            "delta": pd.Series([-(i + 1) for i in index], dtype="int64"),
            "paid": pd.Series([bool(i % 2) for i in index], dtype="bool"),
            "customer_id": pd.array([None if i % 3 == 0 else i for i in index], dtype="Int64"),
        }
    )


def chunks(total: int, size: int) -> list[pd.DataFrame]:
    return [sample(min(size, total - at), at) for at in range(0, total, size)]


# --- neutralising ------------------------------------------------------------------------


def test_neutralise_quotes_risky_text_only() -> None:
    frame = sample()
    safe = neutralise_formulas(frame)
    assert safe["name"].tolist()[:8] == [
        "'=SUM(A1:A9)", "'+49 30 1234", "'-2+3", "'@cmd", "'\tx", "'\r=1", "'  =1+1", "plain",
    ]  # fmt: skip
    assert pd.isna(safe["name"].iloc[8])
    pd.testing.assert_series_equal(safe["delta"], frame["delta"])  # negative numbers stay
    pd.testing.assert_series_equal(safe["price"], frame["price"])
    assert frame["name"].iloc[0] == "=SUM(A1:A9)"  # the input is not changed


def test_neutralise_object_columns_leave_numbers_alone() -> None:
    frame = pd.DataFrame({"mixed": pd.Series(["=1", -5, "-x", 3.5, None], dtype=object)})
    assert neutralise_formulas(frame)["mixed"].tolist() == ["'=1", -5, "'-x", 3.5, None]


# --- CSV ----------------------------------------------------------------------------------


def test_csv_round_trip_with_one_header_and_progress() -> None:
    out, seen = io.BytesIO(), []
    rows = write_csv(chunks(20, 7), out, progress=seen.append)
    assert rows == 20 and seen == [7, 14, 20]
    text = out.getvalue().decode("utf-8")
    assert text.count("id,name,starts_at_local") == 1 and text.endswith("\r\n")
    assert '"\'\r=1"' in text  # a CR inside a cell is quoted, not a line break
    back = pd.read_csv(
        io.BytesIO(out.getvalue()),
        parse_dates=["starts_at_local"],
        dtype={"customer_id": "Int64", "name": "str"},
        keep_default_na=False,
        na_values={"name": [""], "starts_at_local": [""], "customer_id": [""]},
    )
    expected = neutralise_formulas(pd.concat(chunks(20, 7), ignore_index=True))
    back["starts_at_local"] = back["starts_at_local"].astype("datetime64[us]")
    pd.testing.assert_frame_equal(back, expected)
    assert "'=SUM(A1:A9)" in text and "\n=SUM" not in text and ",=SUM" not in text


def test_csv_keeps_non_ascii_text() -> None:
    out = io.BytesIO()
    write_csv([pd.DataFrame({"name": ["Jürgen Müßig", "Zoë"]})], out)
    assert pd.read_csv(io.BytesIO(out.getvalue()))["name"].tolist() == ["Jürgen Müßig", "Zoë"]


# --- Parquet ------------------------------------------------------------------------------


def test_parquet_round_trip_keeps_raw_values_and_types() -> None:
    out, seen = io.BytesIO(), []
    assert write_parquet(chunks(25, 10), out, progress=seen.append) == 25
    assert seen == [10, 20, 25]
    back = pd.read_parquet(io.BytesIO(out.getvalue()))
    pd.testing.assert_frame_equal(back, pd.concat(chunks(25, 10), ignore_index=True))
    assert back["name"].iloc[0] == "=SUM(A1:A9)"  # Parquet is data, not a spreadsheet
    schema = pq.read_schema(io.BytesIO(out.getvalue()))
    assert str(schema.field("starts_at_local").type) == "timestamp[us]"
    assert str(schema.field("customer_id").type) == "int64"


def test_parquet_types_an_empty_first_chunk() -> None:
    empty = pd.DataFrame({"note": pd.Series([None, None], dtype=object), "n": [1, 2]})
    later = pd.DataFrame({"note": pd.Series(["hello", None], dtype=object), "n": [3, 4]})
    out = io.BytesIO()
    write_parquet([empty, later], out)
    assert pd.read_parquet(io.BytesIO(out.getvalue()))["note"].tolist()[2] == "hello"


# --- Excel --------------------------------------------------------------------------------


def _sheet_values(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_xlsx_round_trip_typed_cells() -> None:
    out = io.BytesIO()
    placed = write_xlsx([("bookings", chunks(9, 4)), ("empty", [sample(0)])], out)
    assert placed["bookings"].rows == 9 and placed["bookings"].sheets == ("bookings",)
    assert placed["empty"].rows == 0
    sheets = _sheet_values(out.getvalue())
    header, first, second = sheets["bookings"][:3]
    assert header == tuple(sample().columns)
    assert first == (0, "'=SUM(A1:A9)", datetime(2026, 3, 29, 1, 30), 45.0, -1, False, None)
    assert second == (1, "'+49 30 1234", datetime(2026, 3, 29, 1, 31), -12.5, -2, True, 1)
    assert isinstance(first[0], int) and isinstance(first[4], int) and first[5] is False
    assert sheets["bookings"][4][2] is None  # NaT is an empty cell
    assert sheets["empty"] == [header]
    back = pd.read_excel(io.BytesIO(out.getvalue()), sheet_name="bookings")
    expected = neutralise_formulas(sample())
    assert back["id"].dtype == "int64" and back["paid"].dtype == bool
    assert str(back["starts_at_local"].dtype).startswith("datetime64")
    assert back["starts_at_local"].tolist()[:3] == expected["starts_at_local"].tolist()[:3]
    assert back["price"].tolist() == expected["price"].tolist()
    names, wanted = back["name"].tolist(), expected["name"].tolist()
    assert names[:5] + names[6:8] == wanted[:5] + wanted[6:8]
    assert names[5] in ("'\r=1", "'\n=1")  # XML turns a bare CR into LF


def test_xlsx_formulas_are_stored_as_text() -> None:
    out = io.BytesIO()
    write_xlsx([("t", [pd.DataFrame({"name": ["=1+1", "@SUM(1)"]})])], out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["t"]
    assert [sheet["A2"].data_type, sheet["A3"].data_type] == ["s", "s"]
    assert [sheet["A2"].value, sheet["A3"].value] == ["'=1+1", "'@SUM(1)"]


def test_xlsx_splits_a_long_table_across_sheets() -> None:
    out, seen = io.BytesIO(), []
    placed = write_xlsx(
        [("bookings", chunks(11, 4)), ("kpis", [sample(2)])], out, progress=seen.append, max_rows=5
    )
    assert placed["bookings"].sheets == ("bookings", "bookings (2)", "bookings (3)")
    assert placed["bookings"].was_split and not placed["kpis"].was_split
    assert seen == [4, 8, 11, 13]
    sheets = _sheet_values(out.getvalue())
    assert list(sheets) == ["bookings", "bookings (2)", "bookings (3)", "kpis"]
    assert [len(sheets[name]) for name in sheets] == [5, 5, 4, 3]  # header + up to 4 rows
    assert all(rows[0] == tuple(sample().columns) for rows in sheets.values())
    ids = [row[0] for name in list(sheets)[:3] for row in sheets[name][1:]]
    assert ids == list(range(11))  # in order, nothing lost or repeated


def test_xlsx_refuses_tz_aware_datetimes_and_cleans_control_chars() -> None:
    aware = pd.DataFrame({"at": pd.to_datetime(["2026-03-29 10:00"]).tz_localize("UTC")})
    with pytest.raises(ValueError, match="tz-naive"):
        write_xlsx([("t", [aware])], io.BytesIO())
    out = io.BytesIO()
    write_xlsx([("t", [pd.DataFrame({"name": ["bell\x07here"]})])], out)
    assert _sheet_values(out.getvalue())["t"][1] == ("bellhere",)


def test_sheet_titles_are_valid() -> None:
    assert sheet_title("bookings", 1) == "bookings"
    assert sheet_title("bookings", 12) == "bookings (12)"
    long = sheet_title("a/b" + "x" * 40, 3)
    assert len(long) == 31 and long.endswith(" (3)") and "/" not in long


# --- zips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_zip_holds_one_file_per_table(fmt: str) -> None:
    out, seen = io.BytesIO(), []
    rows = write_zip(
        [("bookings", chunks(5, 2)), ("customers", [sample(3)])], out, fmt=fmt,  # type: ignore[arg-type]
        progress=seen.append,
    )  # fmt: skip
    assert rows == {"bookings": 5, "customers": 3} and seen[-1] == 8
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert archive.namelist() == [f"bookings.{fmt}", f"customers.{fmt}"]
        data = archive.read(f"customers.{fmt}")
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    back = read(io.BytesIO(data))
    assert back["id"].tolist() == [0, 1, 2]
    first = back["name"].iloc[0]
    assert first == ("'=SUM(A1:A9)" if fmt == "csv" else "=SUM(A1:A9)")


# --- Overview tables ------------------------------------------------------------------------


def _overview() -> Overview:
    kpis = pd.DataFrame(
        {
            "key": ["bookings", "revenue", "utilization"],
            "label": ["Bookings", "Revenue", "Utilization"],
            "value": [12.0, 123456.0, 0.5],
            "previous": [10.0, 100000.0, 0.4],
            "change": [0.2, 0.23456, 0.1],
            "unit": ["count", "money", "percent"],
            "better": ["up", "up", "up"],
        }
    )
    daily = pd.DataFrame(
        {"day": pd.to_datetime(["2026-03-28"]), "bookings": [3], "revenue_cents": [13550]}
    )
    board = pd.DataFrame({"staff_id": [1], "staff": ["=Ana"], "revenue_cents": [99]})
    cohorts = pd.DataFrame(
        {"cohort": ["2026-03"], "months_since": [0], "customers": [4], "size": [4],
         "retention": [1.0]}
    )  # fmt: skip
    empty = pd.DataFrame()
    return Overview(
        "Salon", "Europe/Berlin", "EUR", ReportFilter(date(2026, 3, 28), date(2026, 3, 29)), 30,
        kpis, daily, empty, board, board.rename(columns={"staff": "service"}), cohorts, empty,
    )  # fmt: skip


def test_overview_tables_in_major_units() -> None:
    tables = build_overview_tables(_overview())
    assert list(tables) == ["kpis", "daily", "staff", "services", "cohorts"]
    kpis = tables["kpis"].set_index("key")
    assert kpis.loc["revenue", "value"] == 1234.56 and kpis.loc["revenue", "previous"] == 1000.0
    assert kpis.loc["bookings", "value"] == 12 and kpis.loc["utilization", "value"] == 0.5
    assert tables["daily"].columns.tolist() == ["day", "bookings", "revenue"]
    assert tables["daily"]["revenue"].tolist() == [135.5]
    assert tables["staff"]["revenue"].tolist() == [0.99]
    assert tables["cohorts"]["retention"].tolist() == [1.0]


def test_cents_to_major_keeps_other_columns() -> None:
    frame = pd.DataFrame({"a": [1], "value_cents": [250], "b": ["x"]})
    assert cents_to_major(frame).to_dict("list") == {"a": [1], "value": [2.5], "b": ["x"]}
