"""Staff spreadsheets read into rows: .xlsx (openpyxl) and .csv (UTF-8 or GBK), cells as text, and
SheetError for a problem with the whole input."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from ..convert import CONTROL_CHARS, suggest

HEADER_SCAN = 30  # banners, notes and merged title rows above the header are a few rows at most
MIN_HEADERS = 3  # a row with this many known column names is the header row

# Bounds on what import reads, checked before the bulk of the work so that a hostile or broken file
# (a 1 MB .xlsx can unpack to gigabytes) ends in a message within seconds. A district's sheet is a few
# hundred rows and a few dozen columns; the limits are far above that.
MAX_BYTES = 50 * 1024 * 1024  # a .csv or .xlsx file, one part of an .xlsx unpacked, and all parts
MAX_RATIO = 200  # unpacked / packed size of one part: real sheets deflate 5–30×, bombs 1000×
MAX_ROWS = 100_000
MAX_COLS = 1000
MAX_PARTS = 10_000  # files inside one .xlsx


SAVE_AS = "请在 Excel 或 WPS 中打开后“另存为”.xlsx 再导入"
SPLIT = "请把表格拆成几个文件分别导入"


class SheetError(Exception):
    """A problem with the whole input (unreadable file, no header, unknown campaign): exit 2."""


@dataclass
class Table:
    file: str  # as shown in messages
    sheet: str | None  # None for CSV
    rows: list[tuple[int, list[Any]]]  # (row number as Excel shows it, cell values)
    hidden: bool = False  # a hidden (or "very hidden") worksheet
    removed: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column index) → "U+0000"

    def where(self, row: int) -> str:
        return f"{self.file}:{self.sheet}!{row}" if self.sheet is not None else f"{self.file}:{row}"


# Control characters (tab and line breaks aside), lone surrogates and non-characters: invisible in
# Excel and WPS, meaningless in an activity, refused by `kepu check` and by iCalendar. They come from
# copy-paste, broken exports and badly decoded text. Staff cannot see them to fix them, so rather than
# refuse the row they are removed from every cell as it is read, and import warns naming row and
# column (Table.removed), so that no text changes silently.
HIDDEN_CHARS = re.compile(f"[{CONTROL_CHARS}]")


def _clean(number: int, cells: list[Any], removed: dict[tuple[int, int], str]) -> list[Any]:
    for i, v in enumerate(cells):
        if isinstance(v, str) and HIDDEN_CHARS.search(v):
            found = dict.fromkeys(f"U+{ord(c):04X}" for c in HIDDEN_CHARS.findall(v))
            removed[(number, i)] = "、".join(found)
            cells[i] = HIDDEN_CHARS.sub("", v)
    return cells


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def _too_many_rows() -> SheetError:
    return SheetError(f"超过 {MAX_ROWS:,} 行（空行也算）：请删掉多余的空行，或把表格拆成几个文件分别导入")


def _too_many_cols(row: int) -> SheetError:
    return SheetError(f"第 {row} 行超过 {MAX_COLS} 列：请删掉多余的列，只保留活动信息")


def read_tables(path: Path, shown: str, sheet: str | None = None) -> list[Table]:
    """The file's tables: for an .xlsx, every worksheet in order, or only ``sheet`` when named.
    Unless named, a hidden sheet comes back with no rows (they are never read), so that staff are
    told it was skipped."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise SheetError("找不到这个文件")
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, shown, sheet)
    if suffix == ".csv":
        if sheet is not None:
            raise SheetError(f"--sheet {sheet}：CSV 文件没有工作表，请去掉 --sheet")
        return [_read_csv(path, shown)]
    if suffix in (".xls", ".et", ".wps"):
        raise SheetError("不支持旧版 .xls/.et 文件：请在 Excel 或 WPS 中“另存为”.xlsx 后再导入")
    raise SheetError("只能导入 .xlsx 或 .csv 表格")


def _check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SheetError(f"文件有 {_mb(size)}，超过 {_mb(MAX_BYTES)} 的上限：{SPLIT}")


def _check_archive(path: Path) -> None:
    """Refuse a zip bomb from its directory, before anything is unpacked. zipfile never yields more
    than a member's recorded size (more fails its CRC check), so the recorded sizes are a bound."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            if len(members) > MAX_PARTS:
                raise SheetError(f"文件里有 {len(members)} 个部件，超过 {MAX_PARTS} 个：不像是 Excel 表格")
            if "[Content_Types].xml" not in {m.filename for m in members}:  # every OOXML package has it
                raise SheetError(f"这个压缩文件里没有 Excel 工作簿：{SAVE_AS}")
            total = 0
            for m in members:
                total += m.file_size
                if m.file_size > MAX_BYTES:
                    raise SheetError(f"其中的 {m.filename} 解压后有 {_mb(m.file_size)}，超过 "
                                     f"{_mb(MAX_BYTES)} 的上限：{SPLIT}")
                if m.file_size > 1024 * 1024 and m.file_size > MAX_RATIO * max(m.compress_size, 1):
                    raise SheetError(f"其中的 {m.filename} 压缩比异常（{m.compress_size} 字节解压成 "
                                     f"{_mb(m.file_size)}，上限 {MAX_RATIO} 倍）：文件可能已损坏或是恶意文件")
            if total > MAX_BYTES:
                raise SheetError(f"解压后共有 {_mb(total)}，超过 {_mb(MAX_BYTES)} 的上限：{SPLIT}")
    except zipfile.BadZipFile:
        raise SheetError(f"不是有效的 .xlsx 文件（无法作为压缩包打开）：{SAVE_AS}") from None


def _xml_errors() -> tuple[type[Exception], ...]:
    """What openpyxl raises for a part that is not well-formed XML or declares entities (with
    defusedxml installed, as the dependencies ask, it refuses entity tricks instead of expanding them).
    SyntaxError covers both parsers openpyxl may use: the standard library's ParseError and, when
    lxml is installed (another package may bring it), lxml's XMLSyntaxError; lxml itself refuses
    entity amplification and does not fetch external entities."""
    try:
        from defusedxml import DefusedXmlException
    except ImportError:  # still safe: expat neither fetches external entities nor expands bombs
        return (SyntaxError,)
    return (SyntaxError, DefusedXmlException)


def _bad_xml(err: Exception) -> SheetError:
    if type(err).__module__.startswith("defusedxml"):
        return SheetError(f"表格中含有 DTD 或实体声明（Excel 不会写这些），出于安全考虑没有读取：{SAVE_AS}")
    return SheetError(f"表格内容已损坏（XML 格式错误：{err}）：{SAVE_AS}")


def _read_xlsx(path: Path, shown: str, sheet: str | None) -> list[Table]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    _check_size(path)
    _check_archive(path)
    xml_errors = _xml_errors()
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except xml_errors as err:
        raise _bad_xml(err) from None
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as err:
        if isinstance(err.__cause__, xml_errors):  # openpyxl wraps what the XML parser raised
            raise _bad_xml(err.__cause__) from None
        raise SheetError(f"无法打开这个 Excel 文件（{err}）：请确认是 .xlsx 格式、没有设置密码") from None
    try:
        sheets = wb.worksheets
        if sheet is not None:
            names = [ws.title for ws in sheets]
            sheets = [ws for ws in sheets if ws.title == sheet]
            if not sheets:
                raise SheetError(f"没有工作表“{sheet}”{suggest(sheet, names)}")
        elif not any(ws.sheet_state == "visible" for ws in sheets):
            raise SheetError("没有可见的工作表：要导入隐藏的工作表，请用 --sheet 指定名称")
        tables = []
        for ws in sheets:
            if ws.sheet_state != "visible" and sheet is None:
                tables.append(Table(shown, ws.title, [], True))  # listed, never read
                continue
            try:
                tables.append(_sheet_table(ws, shown, ws.sheet_state != "visible"))
            except xml_errors as err:
                raise _bad_xml(err) from None
            except (KeyError, ValueError, TypeError, IndexError, zipfile.BadZipFile) as err:
                raise SheetError(f"工作表“{ws.title}”无法读取（{err}）：{SAVE_AS}") from None
    finally:
        wb.close()
    return tables


def _sheet_table(ws: Any, shown: str, hidden: bool) -> Table:
    table = Table(shown, ws.title, [], hidden)
    ws.reset_dimensions()  # WPS and some exporters record a wrong sheet size; read every row
    # a row is as wide as its last cell, so one far right is refused before many rows are read
    for i, r in enumerate(ws.iter_rows(values_only=True), 1):
        if i > MAX_ROWS:
            raise _too_many_rows()
        if len(r) > MAX_COLS:
            raise _too_many_cols(i)
        cells = list(r)
        table.rows.append((i, _clean(i, cells, table.removed)))
    return table


def _read_csv(path: Path, shown: str) -> Table:
    _check_size(path)
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
    table = Table(shown, None, [])
    try:
        for i, r in enumerate(reader, 1):
            if i > MAX_ROWS:
                raise _too_many_rows()
            if len(r) > MAX_COLS:
                raise _too_many_cols(i)
            table.rows.append((i, _clean(i, r, table.removed)))
    except csv.Error as err:
        raise SheetError(f"CSV 格式错误（{err}）：请检查引号是否配对") from None
    return table


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
