"""Write roster workbooks: the empty template, and a roster exported to the same sheets.

Both are written from :mod:`.vocabulary`, so what the template offers is what the reader
accepts. The template has a notes sheet explaining every column, one sheet per kind with its
headers and an example row (its id starts with 示例 / example, so the reader skips it), text
format where Excel would spoil numbers (phones, ID numbers, times), and drop-down lists for the
enumerations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from optimizer.errors import InputError
from optimizer.staff.roster import Resources, Volunteer
from optimizer.staff.roster_sheets.cells import format_availability, format_days
from optimizer.staff.roster_sheets.vocabulary import (
    EN_CHOICES,
    SHEET_KINDS,
    ZH_CHOICES,
    SheetKind,
    check_lang,
)

TEXT_COLUMNS: frozenset[str] = frozenset(
    {
        "id",
        "phone",
        "id_number",
        "station",
        "team",
        "person",
        "grid",
        "shift",
        "availability",
        "windows",
        "days",
    }
)
"""Columns formatted as text, so Excel neither rounds long numbers nor turns times into dates."""
TEMPLATE_ROWS = 2000
"""Rows of each sheet that get the drop-down lists."""

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="305496")
_EXAMPLE_FONT = Font(italic=True, color="808080")
_CHOICE_OF = {"mode": "mode", "crs": "crs", "kind": None, "purpose": "purpose"}


def _choices_key(kind: SheetKind, column: str) -> str | None:
    if column == "kind":
        return {"teams": "team_kind", "muster_points": "muster_kind"}.get(kind.key)
    return _CHOICE_OF.get(column)


def _translate(kind: SheetKind, column: str, value: str, lang: str) -> str:
    """Canonical English value -> the template language's word (same position in the lists)."""
    key = _choices_key(kind, column)
    if lang != "zh" or key is None or key == "crs":
        return value
    mapping = dict(zip(EN_CHOICES[key], ZH_CHOICES[key], strict=False))
    return mapping.get(value, value)


def _sheet(book: Workbook, kind: SheetKind, lang: str) -> Worksheet:
    ws = book.create_sheet(kind.title(lang))
    for i, col in enumerate(kind.columns, start=1):
        cell = ws.cell(row=1, column=i, value=col.header(lang) + ("*" if col.required else ""))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        note = col.note_zh if lang == "zh" else col.note_en
        cell.comment = Comment(note, "patrol")
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(12, min(40, len(col.header(lang)) * 2 + 6))
        if col.key in TEXT_COLUMNS:
            ws.column_dimensions[letter].number_format = "@"
        choices = col.choices_zh if lang == "zh" else col.choices_en
        if choices:
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(choices) + '"',
                allow_blank=True,
                showErrorMessage=False,  # other accepted spellings stay possible
            )
            dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    return ws


def _notes(book: Workbook, lang: str) -> None:
    ws = book.active
    assert ws is not None
    zh = lang == "zh"
    ws.title = "说明" if zh else "notes"
    head = (
        ("表", "列", "必填", "填写说明与可接受的值", "也接受的列名")
        if zh
        else ("sheet", "column", "required", "what goes in it, accepted values", "also accepted")
    )
    intro = (
        "每类信息一张表（表名即类型，也可以分成几个 CSV 文件，文件名即类型）。带 * 的列必填。"
        "编号以“示例”开头的行是示例，不会导入。导入：patrol roster import 辖区 文件…"
        if zh
        else "One sheet per kind (the sheet name says which; or one CSV file each, named so). "
        "Columns marked * are required. Rows whose id starts with 'example' are examples and "
        "are not imported. Import with: patrol roster import DISTRICT FILE..."
    )
    ws.append([intro])
    ws.append([])
    ws.append(list(head))
    for c in ws[3]:
        c.font = _HEADER_FONT
        c.fill = _HEADER_FILL
    for kind in SHEET_KINDS:
        ws.append([kind.title(lang), "", "", kind.note_zh if zh else kind.note_en, ""])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
        for col in kind.columns:
            others = [col.en if zh else col.zh, *col.aliases]
            ws.append(
                [
                    "",
                    col.header(lang),
                    ("是" if zh else "yes") if col.required else "",
                    col.note_zh if zh else col.note_en,
                    ", ".join(others),
                ]
            )
    for letter, width in zip("ABCDE", (14, 18, 8, 90, 50), strict=True):
        ws.column_dimensions[letter].width = width


def _book(lang: str) -> tuple[Workbook, dict[str, Worksheet]]:
    check_lang(lang)
    book = Workbook()
    _notes(book, lang)
    sheets = {kind.key: _sheet(book, kind, lang) for kind in SHEET_KINDS}
    return book, sheets


def write_template(path: str | Path, *, lang: str = "zh") -> Path:
    """Write the empty roster template workbook.

    Parameters
    ----------
    path
        The ``.xlsx`` file to write (its folder must exist).
    lang
        ``zh`` (Chinese headers and notes) or ``en``.

    Returns
    -------
    pathlib.Path
    """
    out = _xlsx(path)
    book, sheets = _book(lang)
    for kind in SHEET_KINDS:
        row = [col.example_zh if lang == "zh" else col.example_en for col in kind.columns]
        sheets[kind.key].append(row)
        for cell in sheets[kind.key][2]:
            cell.font = _EXAMPLE_FONT
    book.save(out)
    return out


def _xlsx(path: str | Path) -> Path:
    out = Path(path)
    if out.suffix.lower() != ".xlsx":
        raise InputError("out", str(path), "a file name ending in .xlsx")
    if not out.parent.is_dir():
        raise InputError("out", str(path), "a path in an existing folder")
    return out


def _rows(res: Resources, lang: str) -> Mapping[str, list[dict[str, Any]]]:
    def avail(shifts: Any) -> str:
        return format_availability(tuple(shifts), lang)

    def member(v: Volunteer) -> dict[str, Any]:
        return {
            "id": v.id,
            "name": v.name,
            "phone": v.phone,
            "id_number": v.id_number,
            "team": v.team_id,
            "role": v.role,
            "grid": v.home_grid,
            "availability": avail(v.availability),
            "max_hours": v.max_hours_week,
        }

    return {
        "stations": [
            {"id": s.id, "name": s.name, "lon": s.lon, "lat": s.lat, "crs": "wgs84"}
            for s in res.stations
        ],
        "muster_points": [
            {
                "id": m.id,
                "name": m.name,
                "kind": m.kind,
                "lon": m.lon,
                "lat": m.lat,
                "crs": "wgs84",
                "grid": m.grid_id,
            }
            for m in res.muster_points
        ],
        "officers": [
            {
                "id": o.id,
                "name": o.name,
                "phone": o.phone,
                "station": o.station_id,
                "shift": avail(o.shifts),
                "mode": o.mode,
            }
            for o in res.officers
        ],
        "teams": [
            {
                "id": t.id,
                "name": t.name,
                "kind": t.kind,
                "grid": t.home_grid,
                "station": t.base_station_id,
            }
            for t in res.teams
        ],
        "volunteers": [member(v) for v in res.volunteers],
        "availability": [],
        "posts": [
            {
                "id": p.id,
                "name": p.name,
                "purpose": p.purpose,
                "lon": p.lon,
                "lat": p.lat,
                "crs": "wgs84",
                "grid": p.grid_id,
                "windows": ",".join(w.label() for w in p.windows),
                "days": format_days(p.weekdays, lang) or ("每天" if lang == "zh" else "daily"),
                "dwell": p.dwell_min,
            }
            for p in res.posts
        ],
    }


def write_roster_sheets(res: Resources, path: str | Path, *, lang: str = "zh") -> Path:
    """Export a roster to a workbook in the template's layout (importable again).

    Parameters
    ----------
    res
        The roster, e.g. ``district.resources``.
    path
        The ``.xlsx`` file to write.
    lang
        ``zh`` or ``en`` headers and words.

    Returns
    -------
    pathlib.Path
    """
    out = _xlsx(path)
    book, sheets = _book(lang)
    rows = _rows(res, lang)
    for kind in SHEET_KINDS:
        for record in rows[kind.key]:
            values = [record.get(c.key) for c in kind.columns]
            sheets[kind.key].append(
                [
                    _translate(kind, c.key, v, lang) if isinstance(v, str) else v
                    for c, v in zip(kind.columns, values, strict=True)
                ]
            )
    book.save(out)
    return out


def sheet_titles(lang: str) -> Sequence[str]:
    """Titles of the sheets a template in ``lang`` has, notes first."""
    check_lang(lang)
    return ("说明" if lang == "zh" else "notes", *(k.title(lang) for k in SHEET_KINDS))
