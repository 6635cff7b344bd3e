"""Hostile spreadsheets for `kepu import` (issue 11): zip bombs and oversized files end in a message
within seconds, broken or entity-laden XML is a message and not a traceback, hidden sheets are not
imported unless named, control characters never reach YAML, and cells that look like YAML syntax are
written so that they read back unchanged and pass `kepu check`.

Every .xlsx is built here: a real workbook saved by openpyxl, with one part replaced by hand where
the case needs XML that openpyxl would never write.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import CAMPAIGN_ID, ROOT, Repo

ACT = f"campaigns/{CAMPAIGN_ID}/activities"
HEAD = ["活动名称", "主办单位", "所属区县", "活动类别", "活动时间", "活动地点", "活动简介"]
SHEET = "xl/worksheets/sheet1.xml"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def good(title: str, organizer: str = "武进区科协", venue: str = "武进区图书馆",
         description: str | None = None, day: int = 17) -> list:
    when = f"2022-09-{day} 09:30-11:30"
    return [title, organizer, "武进区", "各地各部门特色活动", when, venue, description]


def workbook(path: Path, rows: list[list], hidden_first: list[list] | None = None) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    if hidden_first is not None:  # a hidden sheet before the visible one
        ws.title = "旧表"
        for r in [HEAD, *hidden_first]:
            ws.append(r)
        ws.sheet_state = "hidden"
        ws = wb.create_sheet("活动")
    else:
        ws.title = "活动"
    for r in [HEAD, *rows]:
        ws.append(r)
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                c.data_type = "s"  # text, as staff type it (openpyxl would write a formula)
    wb.save(path)


def replace_part(path: Path, name: str, chunks: object, level: int = 9) -> None:
    """Rewrite the .xlsx at ``path`` with part ``name`` replaced by ``chunks`` (bytes, or an
    iterable of bytes streamed into the archive)."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
        for item in src.infolist():
            if item.filename != name:
                out.writestr(item, src.read(item))
        with out.open(name, "w", force_zip64=True) as f:
            for chunk in [chunks] if isinstance(chunks, bytes) else chunks:
                f.write(chunk)


def header_row() -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEAD)
    return f"<row>{cells}</row>".encode()


def sheet_xml(rows: object) -> object:
    # Excel writes <dimension> first; without it openpyxl would parse the whole sheet once more
    yield f'<?xml version="1.0"?><worksheet xmlns="{NS}"><dimension ref="A1:G1"/><sheetData>'.encode()
    yield header_row()
    yield from rows
    yield b"</sheetData></worksheet>"


def imp(repo: Repo, file: str, *more: str):
    return repo.run("import", file, "--campaign", CAMPAIGN_ID, *more)


def written(repo: Repo) -> dict[str, dict]:
    """Title → data of every activity file written, read with plain yaml.safe_load."""
    data = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((repo.root / ACT).rglob("*.yml"))]
    return {d["title"]: d for d in data}


def assert_message(res, file: str, *phrases: str) -> None:
    assert res.rc == 2, res.text
    assert "Traceback" not in res.text
    line = next((ln for ln in res.err.splitlines() if ln.startswith(f"{file}: 错误: ")), None)
    assert line, res.text
    for ph in phrases:
        assert ph in line, line


# ---- size ------------------------------------------------------------------------------------

MEASURE = """
import resource, subprocess, sys, time
def limit():  # a safety belt for this machine: without the fix the import reaches gigabytes
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
t = time.monotonic()
try:
    p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120, preexec_fn=limit)
    rc, err = p.returncode, p.stderr
except subprocess.TimeoutExpired:
    rc, err = "timeout", ""
print(json.dumps({"rc": rc, "err": err, "seconds": time.monotonic() - t,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def measured_import(root: Path, file: str) -> dict:
    """`kepu import` in a child process, its time and peak memory measured by a parent of its own
    (so that nothing else this test session ran is counted)."""
    kepu = [sys.executable, "-c", "import sys; from generator.commands import cli; sys.exit(cli.main())"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", "import json\n" + MEASURE, *kepu, "import", file,
                          "--campaign", CAMPAIGN_ID], cwd=root, env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def test_zip_bomb_is_refused_in_seconds_and_little_memory(repo: Repo) -> None:
    repo.campaign()
    path = repo.root / "bomb.xlsx"
    workbook(path, [])
    block = b"<row><c><v>1</v></c></row>" * 100_000
    replace_part(path, SHEET, sheet_xml(block for _ in range(100)))  # 10 million rows, 260 MB of XML
    assert path.stat().st_size < 2 * 1024 * 1024
    got = measured_import(repo.root, "bomb.xlsx")
    assert got["rc"] == 2, got
    assert got["seconds"] < 20, got  # about 1 s: the archive's directory is enough to refuse it
    assert got["maxrss_kb"] < 1024 * 1024, got  # well under 1 GB
    assert "Traceback" not in got["err"]
    assert got["err"].startswith("bomb.xlsx: 错误: "), got["err"]
    assert SHEET in got["err"] and "50 MB" in got["err"] and "拆成几个文件" in got["err"], got["err"]


def test_absurd_compression_ratio_is_refused(repo: Repo) -> None:
    repo.campaign()
    path = repo.root / "ratio.xlsx"
    workbook(path, [])
    replace_part(path, SHEET, sheet_xml([b"<row/>" * 1_000_000]))  # 6 MB from a few kB: under 50 MB
    res = imp(repo, "ratio.xlsx")
    assert_message(res, "ratio.xlsx", SHEET, "压缩比异常", "200 倍")


def test_more_than_100000_rows_stops_reading(repo: Repo) -> None:
    repo.campaign()
    path = repo.root / "long.xlsx"
    workbook(path, [])
    # numbers that do not repeat, so the ratio is that of a real sheet and the row count decides
    rows = (f'<row><c t="inlineStr"><is><t>{i * 7919 % 1000003}</t></is></c></row>'.encode()
            for i in range(120_000))
    replace_part(path, SHEET, sheet_xml(rows))
    t = time.monotonic()
    res = imp(repo, "long.xlsx")
    assert time.monotonic() - t < 30  # about 5 s: openpyxl parses 100,000 rows before the count stops it
    assert_message(res, "long.xlsx", "100,000 行", "拆成几个文件")
    # rows far down the sheet count too: one row numbered 1048576 is a million blank rows
    replace_part(path, SHEET, sheet_xml([b'<row r="1048576"><c><v>1</v></c></row>']))
    assert_message(imp(repo, "long.xlsx"), "long.xlsx", "100,000 行")


def test_a_cell_in_the_last_column_is_refused(repo: Repo) -> None:
    repo.campaign()
    path = repo.root / "wide.xlsx"
    workbook(path, [])
    replace_part(path, SHEET, sheet_xml([b'<row r="2"><c r="XFD2"><v>1</v></c></row>']))
    assert_message(imp(repo, "wide.xlsx"), "wide.xlsx", "第 2 行超过 1000 列")


def test_csv_size_and_rows_are_bounded(repo: Repo) -> None:
    repo.campaign()
    with open(repo.root / "huge.csv", "wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: no disk used
    t = time.monotonic()
    res = imp(repo, "huge.csv")
    assert time.monotonic() - t < 10
    assert_message(res, "huge.csv", "51 MB", "50 MB")
    text = ",".join(HEAD) + "\n" + ",,,,,,\n" * 100_000
    (repo.root / "long.csv").write_text(text, encoding="utf-8")
    assert_message(imp(repo, "long.csv"), "long.csv", "100,000 行")


# ---- broken and hostile XML ----------------------------------------------------------------------

BROKEN = {
    "unclosed": (SHEET, f'<worksheet xmlns="{NS}"><sheetData><row><c><v>1</v></row>'.encode(),
                 "XML 格式错误"),
    "external entity": (
        SHEET,
        f'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        f'<worksheet xmlns="{NS}"><sheetData><row><c t="inlineStr"><is><t>&e;</t></is></c></row>'
        f"</sheetData></worksheet>".encode(),
        "",
    ),
    "billion laughs": (
        "xl/workbook.xml",
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9))
        + b"]><workbook>&j;</workbook>",
        "",
    ),
    "truncated workbook": ("xl/workbook.xml", b'<?xml version="1.0"?><workbook xmlns="', "XML 格式错误"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_or_hostile_xml_is_a_message(repo: Repo, case: str) -> None:
    repo.campaign()
    part, data, phrase = BROKEN[case]
    path = repo.root / "x.xlsx"
    workbook(path, [good("讲座")])
    replace_part(path, part, data)
    res = imp(repo, "x.xlsx")
    assert_message(res, "x.xlsx", phrase, "另存为")
    assert "root:" not in res.text
    assert not (repo.root / ACT).exists()


def test_not_an_excel_file_is_a_message(repo: Repo) -> None:
    repo.campaign()
    (repo.root / "a.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    assert_message(imp(repo, "a.xlsx"), "a.xlsx", "不是有效的 .xlsx")
    with zipfile.ZipFile(repo.root / "b.xlsx", "w") as zf:
        zf.writestr("readme.txt", "hello")
    assert_message(imp(repo, "b.xlsx"), "b.xlsx", "没有 Excel 工作簿")


# ---- hidden sheets -------------------------------------------------------------------------------


def test_hidden_first_sheet_is_not_imported(repo: Repo) -> None:
    repo.campaign()
    workbook(repo.root / "h.xlsx", [good("可见的讲座")], hidden_first=[good("隐藏的讲座")])
    res = imp(repo, "h.xlsx")
    assert res.rc == 0, res.text
    assert list(written(repo)) == ["可见的讲座"]
    assert "h.xlsx: 提示: 隐藏的工作表 旧表 没有读取（需要时用 --sheet 指定）" in res.out
    # named, the hidden sheet is read
    res = imp(repo, "h.xlsx", "--sheet", "旧表")
    assert res.rc == 0, res.text
    assert set(written(repo)) == {"可见的讲座", "隐藏的讲座"}


def test_only_hidden_sheets_is_a_message(repo: Repo) -> None:
    repo.campaign()
    path = repo.root / "h.xlsx"
    workbook(path, [good("讲座")])
    part = zipfile.ZipFile(path).read("xl/workbook.xml")  # openpyxl will not save such a workbook
    replace_part(path, "xl/workbook.xml", part.replace(b'state="visible"', b'state="hidden"'))
    assert_message(imp(repo, "h.xlsx"), "h.xlsx", "没有可见的工作表", "--sheet")


# ---- control characters ----------------------------------------------------------------------------




def test_control_characters_are_removed_with_a_warning(repo: Repo) -> None:
    repo.campaign()
    cells = good("科普\x00讲座", organizer="武进\x1b[31m区科协")[:6]
    csv_text = ",".join(HEAD) + "\n" + ",".join(cells) + ",\n"
    (repo.root / "c.csv").write_text(csv_text, encoding="utf-8")
    res = imp(repo, "c.csv")
    assert res.rc == 0, res.text
    assert "c.csv:2: 警告: A列“活动名称”：删除了看不见的控制字符 U+0000" in res.out
    assert "c.csv:2: 警告: B列“主办单位”：删除了看不见的控制字符 U+001B" in res.out
    # C1 controls are legal in XML, so an .xlsx can carry them (NEL is a line break to YAML)
    workbook(repo.root / "c.xlsx", [good("科学\x85之夜", venue="科技馆\x9b2J", day=18)])
    res = imp(repo, "c.xlsx")
    assert res.rc == 0, res.text
    assert "c.xlsx:活动!2: 警告: A列“活动名称”：删除了看不见的控制字符 U+0085" in res.out
    assert "c.xlsx:活动!2: 警告: F列“活动地点”：删除了看不见的控制字符 U+009B" in res.out
    got = written(repo)
    assert set(got) == {"科普讲座", "科学之夜"}
    assert got["科普讲座"]["organizer"] == "武进[31m区科协"
    assert got["科学之夜"]["venue"]["name"] == "科技馆2J"
    for p in (repo.root / ACT).rglob("*.yml"):
        raw = p.read_text(encoding="utf-8")
        assert not any(ord(c) < 32 and c != "\n" or 0x7F <= ord(c) < 0xA0 for c in raw), p
        assert "\\u00" not in raw and "\\x" not in raw and "\\e" not in raw, p
    assert repo.check().rc == 0


# ---- YAML syntax in cells ------------------------------------------------------------------------

HOSTILE = ["key: value", "- item", "&anchor", "*alias", "!!python/object:os.system", "{a: 1}", "'quoted'",
           "#comment", "no", "9:30", "[1, 2]", '"double"', "a # b", "@team", "%TAG", "|", ">", "? q",
           "null", "~", "0x1F", "1e3", "2022-09-17", "=HYPERLINK(\"x\")", "`tick`", "\\n", "…: 中文"]
LONG = "很长的活动简介。" * 2000


def test_cells_that_look_like_yaml_read_back_unchanged(repo: Repo) -> None:
    repo.campaign()
    rows = [good(f"{h}", organizer=h, venue=h, description=h) for h in HOSTILE]
    rows.append(good("多行", description="第一行\n  - 第二行: 缩进\n\n#第四行\n"))
    rows.append(good("长文", description=LONG))
    rows.append(good("带空格", organizer="  前后有空格  ", venue="\t前面是制表符"))
    workbook(repo.root / "y.xlsx", rows)
    res = imp(repo, "y.xlsx")
    assert res.rc == 0, res.text
    got = written(repo)
    for h in HOSTILE:
        assert h in got, (h, res.text)
        assert got[h]["organizer"] == h and got[h]["venue"]["name"] == h and got[h]["description"] == h
    assert got["多行"]["description"] == "第一行\n  - 第二行: 缩进\n\n#第四行\n"
    assert got["长文"]["description"] == LONG
    assert got["带空格"]["organizer"] == "前后有空格"  # import trims cells, as staff expect
    assert repo.check().rc == 0


def test_file_name_with_a_line_break_does_not_break_the_comment(repo: Repo) -> None:
    repo.campaign()
    name = "表\nstart: 2099-01-01 #.xlsx"
    workbook(repo.root / name, [good("讲座")])
    res = imp(repo, name)
    assert res.rc == 0, res.text
    (path,) = (repo.root / ACT).rglob("*.yml")
    text = path.read_text(encoding="utf-8")
    assert yaml.safe_load(text)["start"] == "2022-09-17 09:30"
    assert all(ln.startswith("#") for ln in text.splitlines()[:2]), text
    assert repo.check().rc == 0


@pytest.mark.parametrize("text", [*HOSTILE, " lead", "trail ", " both ", "a\u2028b", "\ufeffbom", "tab\t",
                                  "x\n", "\n", "  - indented\nlines"])
def test_dump_reads_back_exactly(text: str) -> None:
    from generator.commands.yamlwrite import dump

    data = {"title": text, "venue": {"name": text}, "audiences": [text, "x"], "description": text}
    out = dump(data, comments=[f"来自 {text}"])
    assert yaml.safe_load(out) == data
