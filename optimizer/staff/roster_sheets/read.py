"""Roster files to sheets: XLSX workbooks (every sheet) and CSV files, cells as text.

Row numbers are the ones a spreadsheet shows (the first row is 1), so a problem report points
at the cell a clerk sees. The header row is the first of the top rows that holds the most known
column headers, so a title row above the headers (common in office sheets) is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.errors import InputError
from optimizer.staff.roster_sheets.vocabulary import SHEET_KINDS, normalise_header

SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm", ".csv", ".txt")
HEADER_SEARCH_ROWS = 10
"""The header row is looked for among this many top rows."""

_KNOWN_HEADERS = frozenset(n for kind in SHEET_KINDS for c in kind.columns for n in c.names())


@dataclass(frozen=True)
class Sheet:
    """One sheet of a roster file, every cell as text.

    Attributes
    ----------
    source
        The file's name.
    name
        The sheet's name (a CSV file's name without its suffix).
    header_row
        Row number of the headers (1 = first row); 0 when the sheet is empty.
    headers
        The header cells as written.
    rows
        ``(row number, cells)`` of every row below the headers.
    """

    source: str
    name: str
    header_row: int
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]


def cell_text(value: Any) -> str:
    """A cell as text: whole numbers without ``.0``, times as ``HH:MM``, empty as ``""``.

    Numbers of 16 or more digits keep Excel's float form (``4.4e+17``): their last digits are
    already lost, and the ID-number reader says so.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.date() <= dt.date(1900, 1, 1):  # a time of day Excel keeps as a date-time
            return value.strftime("%H:%M")
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value).strip()


def _header_index(rows: Sequence[tuple[str, ...]]) -> int:
    """Index of the header row among ``rows`` (the one with most known headers; -1: none)."""
    best, best_score = -1, 0
    for i, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = sum(1 for c in cells if c and normalise_header(c) in _KNOWN_HEADERS)
        if score > best_score:
            best, best_score = i, score
    if best < 0:
        # No known header: the first non-empty row (its columns will be reported as unknown).
        best = next((i for i, cells in enumerate(rows) if any(cells)), -1)
    return best


def _sheet(source: str, name: str, raw: Iterable[Sequence[Any]]) -> Sheet:
    rows = [tuple(cell_text(v) for v in r) for r in raw]
    h = _header_index(rows)
    if h < 0:
        return Sheet(source, name, 0, (), ())
    headers = rows[h]
    width = len(headers)
    body = tuple(
        (h + 2 + i, tuple(list(cells[:width]) + [""] * (width - len(cells))))
        for i, cells in enumerate(rows[h + 1 :])
    )
    return Sheet(source, name, h + 1, headers, body)


def _read_xlsx(path: Path) -> list[Sheet]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for damaged files
        raise InputError(
            "file", str(path), f"a readable XLSX workbook ({type(exc).__name__}: {exc})"
        ) from None
    try:
        return [_sheet(path.name, ws.title, ws.iter_rows(values_only=True)) for ws in book]
    finally:
        book.close()


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV in GB18030 (GBK); everything else is UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("utf-8", data, 0, 1, "neither UTF-8 nor GB18030")


def _read_csv(path: Path) -> list[Sheet]:
    try:
        text = _decode(path.read_bytes())
    except UnicodeDecodeError:
        raise InputError("file", str(path), "a CSV file in UTF-8 or GB18030 (GBK)") from None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [_sheet(path.name, path.stem, csv.reader(io.StringIO(text), dialect))]


def read_sheets(paths: Sequence[str | Path]) -> list[Sheet]:
    """Read every sheet of the roster files.

    Parameters
    ----------
    paths
        ``.xlsx`` / ``.xlsm`` workbooks (every sheet is read) and ``.csv`` files (UTF-8 or
        GB18030; comma, semicolon or tab separated).

    Raises
    ------
    InputError
        A file that is missing, of another type or unreadable (field ``file``).
    """
    if not paths:
        raise InputError("files", [], "at least one CSV or XLSX file")
    sheets: list[Sheet] = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise InputError("file", str(p), "an existing CSV or XLSX file")
        suffix = path.suffix.lower()
        if suffix not in SUFFIXES:
            raise InputError("file", str(p), f"a file ending in one of {list(SUFFIXES)}")
        sheets.extend(_read_xlsx(path) if suffix in {".xlsx", ".xlsm"} else _read_csv(path))
    return sheets
