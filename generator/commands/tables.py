"""Staff spreadsheets read into rows: .xlsx (openpyxl) and .csv (UTF-8 or GBK), cells as text, and
SheetError for a problem with the whole input."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

HEADER_SCAN = 30  # banners, notes and merged title rows above the header are a few rows at most
MIN_HEADERS = 3  # a row with this many known column names is the header row


class SheetError(Exception):
    """A problem with the whole input (unreadable file, no header, unknown campaign): exit 2."""


@dataclass
class Table:
    file: str  # as shown in messages
    sheet: str | None  # None for CSV
    rows: list[tuple[int, list[Any]]]  # (row number as Excel shows it, cell values)

    def where(self, row: int) -> str:
        return f"{self.file}:{self.sheet}!{row}" if self.sheet is not None else f"{self.file}:{row}"


def read_tables(path: Path, shown: str) -> list[Table]:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise SheetError("找不到这个文件")
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, shown)
    if suffix == ".csv":
        return [_read_csv(path, shown)]
    if suffix in (".xls", ".et", ".wps"):
        raise SheetError("不支持旧版 .xls/.et 文件：请在 Excel 或 WPS 中“另存为”.xlsx 后再导入")
    raise SheetError("只能导入 .xlsx 或 .csv 表格")


def _read_xlsx(path: Path, shown: str) -> list[Table]:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as err:
        raise SheetError(f"无法打开这个 Excel 文件（{err}）：请确认是 .xlsx 格式、没有设置密码") from None
    try:
        tables = []
        for ws in wb.worksheets:
            ws.reset_dimensions()  # WPS and some exporters record a wrong sheet size; read every row
            rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), 1)]
            tables.append(Table(shown, ws.title, rows))
    finally:
        wb.close()
    return tables


def _read_csv(path: Path, shown: str) -> Table:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Chinese Windows saves CSV as GBK; GB18030 is its superset
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise SheetError("无法识别文件编码：请在 Excel 中另存为“CSV UTF-8（逗号分隔）”") from None
    head = "\n".join(text.splitlines()[:HEADER_SCAN])
    delimiter = max(",\t;", key=head.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [(i, list(r)) for i, r in enumerate(reader, 1)]
    except csv.Error as err:
        raise SheetError(f"CSV 格式错误（{err}）：请检查引号是否配对") from None
    return Table(shown, None, rows)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (as Excel names columns)."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # phone numbers and ids typed as numbers
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time() else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date | time):
        return v.isoformat()
    text = str(v).replace("\r\n", "\n").replace("\r", "\n").replace("\u200b", "")
    return text.strip()
