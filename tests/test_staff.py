"""Staff workflow (issue 5): import, export, new, stats, codeowners, CI annotations, schemas.

The inputs are real files built here: .xlsx workbooks written with openpyxl (a merged title row,
an Excel date serial, datetime cells) and a GBK-encoded CSV. The campaign is a copy of the 2022
常州 sample. Expected statistics are hand-counted from the sample YAML with plain yaml.safe_load,
never through generator code.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import ROOT, Result, run_kepu

from generator.commands.scaffold import model_keys
from generator.commands.slugs import slugify
from generator.commands.timeparse import parse_span
from generator.commands.yamlwrite import dump
from generator.model import Activity, Campaign

CID = "2022-changzhou-kepuri"
ACT = f"campaigns/{CID}/activities"
XLSX = "活动汇总.xlsx"


class Run(Result):
    def rows(self, file: str) -> dict[int, list[tuple[str, str]]]:
        """Row number → [(level, message)] from `<file>:<sheet>!<row>: 级别: …` lines."""
        found: dict[int, list[tuple[str, str]]] = {}
        for m in re.finditer(rf"^{re.escape(file)}:(?:[^!\n]+!)?(\d+): (错误|警告): (.*)$", self.text, re.M):
            found.setdefault(int(m[1]), []).append((m[2], m[3]))
        return found


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "campaigns").mkdir()
    shutil.copy(ROOT / "campaigns" / "brands.yml", tmp_path / "campaigns" / "brands.yml")
    shutil.copytree(ROOT / "campaigns" / CID, tmp_path / "campaigns" / CID)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def kepu(capsys: pytest.CaptureFixture[str]):
    return lambda *args: run_kepu(capsys, *args, result=Run)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / "campaigns").rglob("*"))
        if p.is_file()
    }


def load(root: Path, rel: str) -> dict:
    return yaml.safe_load((root / rel).read_text(encoding="utf-8"))


# ---- the staff sheet ---------------------------------------------------------------------------

# fmt: off
HEADERS = ["序号", "活动名称", "主办单位", "承办单位", "所属区县", "活动类别", "活动时间", "活动地点",
           "详细地址", "面向人群", "线上/线下", "活动链接", "联系人", "联系电话", "全国平台编号", "备注"]
MORE = {"co": "承办单位", "address": "详细地址", "audiences": "面向人群", "url": "活动链接",
        "contact": "联系人", "phone": "联系电话", "kepuri_id": "全国平台编号", "note": "备注"}


def row(n: int, title: str | None, organizer: str, district: str, category: str, when: object, venue: str,
        mode: str = "线下", **more: object) -> list:
    cells = {"序号": n, "活动名称": title, "主办单位": organizer, "所属区县": district, "活动类别": category,
             "活动时间": when, "活动地点": venue, "线上/线下": mode} | {MORE[k]: v for k, v in more.items()}
    return [cells.get(h) for h in HEADERS]


def sheet_rows() -> list[list]:
    """Rows 4… of the sheet (row 1 is a merged title, row 2 a note, row 3 the header)."""
    return [
        # 4: a Chinese date and time range; the phone typed as a number
        row(1, "“数学之美”青少年科普讲座", "常州市武进区科学技术协会", "武进", "各地各部门特色活动",
            "2022年9月16日 9:30—11:30", "武进区图书馆报告厅", co="武进区教育局、湖塘镇人民政府",
            address="江苏省常州市武进区延政中路", audiences="青少年，老年人", contact="张老师",
            phone=13800000000, kepuri_id="2022-320400-0101", note="区科协报送"),
        # 5: a datetime cell (all-day); a sub-category by name
        row(2, "金坛区科普大篷车进社区", "常州市金坛区科学技术协会", "金坛区", "科普阵地联合行动",
            datetime(2022, 9, 17), "金坛区东城街道社区广场", audiences="老年人、农民"),
        # 6: an Excel date serial typed as a plain number (44822 = 2022-09-18); online only
        row(3, "“云游恐龙园”线上科普直播", "常州中华恐龙园", "新北区", "系列在线科普活动", 44822,
            "抖音直播间", "线上", audiences="青少年", url="https://live.example.cn/xinbei/2022-kepu"),
        # 7: unknown district
        row(4, "湖塘镇科普宣传周", "武进区湖塘镇人民政府", "武近区", "各地各部门特色活动",
            "2022-09-19 09:00-11:00", "湖塘镇文化广场"),
        # 8: the same activity as row 4 again
        row(5, "“数学之美”青少年科普讲座", "常州市武进区科学技术协会", "武进区", "各地各部门特色活动",
            "2022-09-16 09:30-11:30", "武进区图书馆报告厅"),
        # 9: no title
        row(6, None, "常州市天宁区科学技术协会", "天宁区", "各地各部门特色活动", "2022-09-18 09:00-11:00",
            "天宁区文化馆"),
        # 10: an all-day range, online and offline
        row(7, "溧阳市科普图片巡展", "溧阳市科学技术协会", "溧阳市", "各地各部门特色活动", "9月15日-9月21日",
            "溧阳市民广场", "线上线下", url="https://kepu.example.cn/liyang/tuzhan"),
        # 11: the same hours every day
        row(8, "天宁区科技馆科普日免费开放", "常州市天宁区科学技术协会", "天宁", "科普阵地联合行动",
            "9月19日-9月21日 每天9:00-17:00", "天宁区科技馆"),
        # 12: a time nobody can read
        row(9, "钟楼区科普讲座", "常州市钟楼区科学技术协会", "钟楼区", "各地各部门特色活动", "九月下旬",
            "钟楼区图书馆"),
        # 13: the end before the start
        row(10, "新北区科普讲座", "常州市新北区科学技术协会", "新北区", "各地各部门特色活动",
            "2022-09-20 16:00-14:00", "新北区图书馆"),
        # 14: unknown category
        row(11, "经开区科普讲座", "常州经济开发区社会事业局", "经开区", "科普讲座", "2022-09-20 09:00-10:00",
            "经开区社区中心"),
        # 15: an activity that already has a file
        row(12, "金坛区全国科普示范区创建成果图片展", "常州市金坛区科学技术协会", "金坛区",
            "全国科普示范区创建单位联合行动", "2022-09-16", "金坛区华罗庚公园文化长廊"),
        # 16: converts, but the real validator refuses it (after the campaign window)
        row(13, "武进区秋季科普讲座", "常州市武进区科学技术协会", "武进区", "各地各部门特色活动",
            "2022-10-15 09:00-10:00", "武进区科技馆"),
        # a blank row is ignored
        [None] * len(HEADERS),
    ]
# fmt: on


def write_sheet(path: Path, rows: list[list], headers: list[str] = HEADERS, title: bool = True) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "活动"
    if title:
        ws.append(["2022年常州市“全国科普日”活动汇总表"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        ws.append(["填报单位：常州市科协        填报日期：2022年9月1日"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    notes = wb.create_sheet("填表说明")
    notes.append(["活动时间请写成 2022-09-15 09:30-11:30"])
    wb.save(path)


NEW_FILES = {
    f"{ACT}/wujin/shuxue-zhimei-qingshaonian-kepu-jiangzuo.yml": {
        "title": "“数学之美”青少年科普讲座",
        "organizer": "常州市武进区科学技术协会",
        "co_organizers": ["武进区教育局", "湖塘镇人民政府"],
        "category": "gedi-tese",
        "audiences": ["qingshaonian", "laonianren"],
        "start": "2022-09-16 09:30",
        "end": "2022-09-16 11:30",
        "venue": {"name": "武进区图书馆报告厅", "address": "江苏省常州市武进区延政中路"},
        "contact": {"name": "张老师", "phone": "13800000000", "public": False},
        "kepuri_id": "2022-320400-0101",
    },
    f"{ACT}/jintan/kepu-dapengche-jinshequ.yml": {
        "title": "金坛区科普大篷车进社区",
        "organizer": "常州市金坛区科学技术协会",
        "category": "kepu-zhendi",
        "audiences": ["laonianren", "nongmin"],
        "start": date(2022, 9, 17),
        "venue": {"name": "金坛区东城街道社区广场"},
    },
    f"{ACT}/xinbei/yunyou-konglongyuan-xianshang-kepu-zhibo.yml": {
        "title": "“云游恐龙园”线上科普直播",
        "organizer": "常州中华恐龙园",
        "category": "zaixian",
        "audiences": ["qingshaonian"],
        "start": date(2022, 9, 18),
        "online": {"url": "https://live.example.cn/xinbei/2022-kepu", "platform": "抖音直播间"},
    },
    f"{ACT}/liyang/kepu-tupian-xunzhan.yml": {
        "title": "溧阳市科普图片巡展",
        "organizer": "溧阳市科学技术协会",
        "category": "gedi-tese",
        "start": date(2022, 9, 15),
        "end": date(2022, 9, 21),
        "venue": {"name": "溧阳市民广场"},
        "online": {"url": "https://kepu.example.cn/liyang/tuzhan"},
    },
    f"{ACT}/tianning/kejiguan-mianfei-kaifang.yml": {
        "title": "天宁区科技馆科普日免费开放",
        "organizer": "常州市天宁区科学技术协会",
        "category": "kepu-zhendi",
        "start": "2022-09-19 09:00",
        "end": "2022-09-19 17:00",
        "recurrence": {"freq": "daily", "until": date(2022, 9, 21)},
        "venue": {"name": "天宁区科技馆"},
    },
}


def test_import_xlsx_writes_good_rows_and_refuses_bad_ones(site: Path, kepu) -> None:
    write_sheet(site / XLSX, sheet_rows())
    before = snapshot(site)
    res = kepu("import", XLSX, "--campaign", CID)
    assert res.rc == 1, res.text
    after = snapshot(site)
    assert set(after) - set(before) == set(NEW_FILES)
    assert all(after[k] == v for k, v in before.items()), "an existing file was touched"
    for rel, expected in NEW_FILES.items():
        assert load(site, rel) == expected, rel
    rows = res.rows(XLSX)
    errors = {n for n, msgs in rows.items() if any(level == "错误" for level, _ in msgs)}
    assert errors == {7, 8, 9, 12, 13, 14, 16}, res.text

    def msg(n: int) -> str:
        return " | ".join(m for _, m in rows[n])

    assert "E列“所属区县”：没有辖区“武近区”，是否想写 武进区？" in msg(7)
    assert "与第 4 行重复" in msg(8)
    assert "B列“活动名称”：缺少活动名称" in msg(9)
    assert "G列“活动时间”：无法识别“九月下旬”" in msg(12)
    assert "G列“活动时间”：结束（2022-09-20 14:00）早于开始（2022-09-20 16:00）" in msg(13)
    assert "F列“活动类别”：没有类别“科普讲座”" in msg(14)
    assert rows[15] == [
        (
            "警告",
            f"已有这个活动的文件 {ACT}/jintan/kepu-shifanqu-chuangjian-chengguo-zhan.yml，"
            "没有覆盖（要用表格内容更新它，请加 --update）",
        )
    ]
    # row 16 passed the row checks and was refused by the real validator, naming the column
    assert "G列“活动时间”：start：2022-10-15 不在本次活动的日期范围" in msg(16)
    assert "未通过校验，没有写入" in msg(16)
    assert f"{XLSX}: 提示: 这些列没有导入：备注" in res.out
    assert "写入 5 个，更新 0 个，跳过 8 行" in res.out
    assert f"写入 {ACT}/wujin/shuxue-zhimei-qingshaonian-kepu-jiangzuo.yml（第 4 行）" in res.out
    # written files carry the schema line and where they came from, and pass `kepu check`
    lecture = site / f"{ACT}/wujin/shuxue-zhimei-qingshaonian-kepu-jiangzuo.yml"
    first = lecture.read_text(encoding="utf-8").splitlines()
    assert first[0] == "# yaml-language-server: $schema=../../../../schemas/activity.schema.json"
    assert first[1] == f"# 由 kepu import 从 {XLSX} 第 4 行导入"
    assert kepu("check").rc == 0


def test_import_dry_run_writes_nothing(site: Path, kepu) -> None:
    write_sheet(site / XLSX, sheet_rows())
    before = snapshot(site)
    res = kepu("import", XLSX, "--campaign", CID, "--dry-run")
    assert snapshot(site) == before
    assert res.rc == 1
    assert f"将写入 {ACT}/wujin/shuxue-zhimei-qingshaonian-kepu-jiangzuo.yml（第 4 行）" in res.out
    assert "试运行，没有写入任何文件：写入 5 个，更新 0 个，跳过 8 行" in res.out
    assert set(res.rows(XLSX)) >= {7, 8, 9, 12, 13, 14, 15, 16}


def test_import_twice_skips_existing_files(site: Path, kepu) -> None:
    write_sheet(site / XLSX, sheet_rows()[:1])
    assert kepu("import", XLSX, "--campaign", CID).rc == 0
    before = snapshot(site)
    res = kepu("import", XLSX, "--campaign", CID)
    assert res.rc == 0 and snapshot(site) == before
    assert "写入 0 个，更新 0 个，跳过 1 行" in res.out
    assert "已有这个活动的文件" in res.rows(XLSX)[4][0][1]


UPDATE_FILE = f"{ACT}/wujin/yinling-shuzi-ketang-fangzha.yml"


def test_update_changes_only_the_sheet_fields(site: Path, kepu) -> None:
    path = site / UPDATE_FILE
    original = path.read_text(encoding="utf-8")
    # comments staff added by hand must survive an update
    text = "# 区科协审核：2022-09-01\n" + original.replace("venue:\n", "# 场地已确认\nvenue:\n")
    path.write_text(text, encoding="utf-8")
    old = yaml.safe_load(text)
    write_sheet(
        site / XLSX,
        [["yinling-shuzi-ketang-fangzha", old["title"], "湖塘镇新时代文明实践中心", "0519-86329999"]],
        headers=["活动编号", "活动名称", "活动地点", "联系电话"],
        title=False,
    )
    before = snapshot(site)

    res = kepu("import", XLSX, "--campaign", CID)  # without --update: nothing changes
    assert res.rc == 0 and snapshot(site) == before
    assert "请加 --update" in res.out

    res = kepu("import", XLSX, "--campaign", CID, "--update")
    assert res.rc == 0, res.text
    assert f"更新 {UPDATE_FILE}（第 2 行；改动：venue、contact）" in res.out
    assert "写入 0 个，更新 1 个，跳过 0 行" in res.out
    after = snapshot(site)
    assert {k for k in after if after[k] != before[k]} == {UPDATE_FILE}
    new = load(site, UPDATE_FILE)
    expected = yaml.safe_load(text)
    expected["venue"]["name"] = "湖塘镇新时代文明实践中心"
    expected["contact"]["phone"] = "0519-86329999"
    assert new == expected  # venue.address/lat/lng, contact.public, report … all kept
    new_text = path.read_text(encoding="utf-8")
    for kept in (
        "# 区科协审核：2022-09-01",
        "# 场地已确认",
        "recurrence: {freq: weekly, byday: [tu, th], until: 2022-09-27}",
        "report: {participants_offline: 112, volunteers: 12}",
        "description: |",
    ):
        assert kept in new_text
    assert kepu("check", UPDATE_FILE).rc == 0


def test_update_by_platform_id_and_never_over_an_unreadable_file(site: Path, kepu) -> None:
    rel = f"{ACT}/xinbei/changzhou-bowuguan-huashi-daolan.yml"
    broken = f"{ACT}/liyang/baicha-qiuji-chayuan-guanli-peixun.yml"
    (site / broken).write_text("title: [unclosed\n", encoding="utf-8")
    headers = ["活动编号", "全国平台编号", "活动名称", "主办单位", "线下参与人数"]
    write_sheet(site / XLSX, [
        [None, "2022-320400-0021", "新标题不影响匹配", None, 7000],  # found by its platform id
        ["baicha-qiuji-chayuan-guanli-peixun", None, "白茶培训", "溧阳市茶叶科技协会", 90],
    ], headers=headers, title=False)
    before = snapshot(site)
    res = kepu("import", XLSX, "--campaign", CID, "--update")
    assert res.rc == 1
    assert {k for k, v in snapshot(site).items() if v != before[k]} == {rel}
    data = load(site, rel)
    assert (data["title"], data["report"]["participants_offline"]) == ("新标题不影响匹配", 7000)
    assert "活动编号 baicha-qiuji-chayuan-guanli-peixun 已经有文件" in res.rows(XLSX)[3][0][1]


def test_export_import_round_trip_is_byte_identical(site: Path, kepu) -> None:
    before = snapshot(site)
    res = kepu("export", "--campaign", CID, "-o", "导出.xlsx")
    assert res.rc == 0 and "已导出 14 个活动" in res.out
    ws = openpyxl.load_workbook(site / "导出.xlsx").active
    header = [c.value for c in ws[1]]
    assert header[0] == "活动名称" and header[-1] == "活动编号"
    rows = {r[-1]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {Path(k).stem for k in before if "/activities/" in k}
    online = rows["kehuan-zhaojin-xianshi-chuangzuo-fenxianghui"]
    assert (online["活动形式"], online["活动地点"], online["开始时间"]) == (
        "线上",
        "直播",
        "2022-09-21 19:30",
    )
    assert rows["hualuogeng-zuji-kepu-you"]["活动状态"] == "已取消"

    res = kepu("import", "导出.xlsx", "--campaign", CID, "--update")
    assert res.rc == 0, res.text
    assert "写入 0 个，更新 0 个，跳过 0 行（另有 14 行与现有文件相同，没有改动）" in res.out
    assert snapshot(site) == before

    # after the event: fill one figure into the exported sheet and import it back
    wb = openpyxl.load_workbook(site / "导出.xlsx")
    ws = wb.active
    col = header.index("线上参与人数") + 1
    row = next(
        r for r in range(2, ws.max_row + 1) if ws.cell(r, len(header)).value == "guangfu-qiye-kaifangri"
    )
    ws.cell(row, col).value = 1500
    wb.save(site / "导出.xlsx")
    res = kepu("import", "导出.xlsx", "--campaign", CID, "--update")
    assert res.rc == 0 and "更新 1 个" in res.out
    changed = {k for k, v in snapshot(site).items() if v != before[k]}
    assert changed == {f"{ACT}/xinbei/guangfu-qiye-kaifangri.yml"}
    assert load(site, f"{ACT}/xinbei/guangfu-qiye-kaifangri.yml")["report"] == {
        "participants_offline": 57,
        "participants_online": 1500,
        "volunteers": 6,
    }


def test_start_and_end_as_datetime_time_and_serial_cells(site: Path, kepu) -> None:
    headers = ["活动名称", "主办单位", "所属区县", "活动类别", "开始时间", "结束时间", "活动地点"]
    write_sheet(site / XLSX, [
        ["新北区科普讲座", "常州市新北区科学技术协会", "新北区", "各地各部门特色活动",
         datetime(2022, 9, 18, 14, 0), time(16, 0), "新北区图书馆"],  # a datetime and a time cell
        ["新北区科普展览", "常州市新北区科学技术协会", "新北区", "各地各部门特色活动",
         44822.375, 44822.5, "新北区文化馆"],  # serials with a time of day: 09:00 and 12:00
        ["新北区科普讲座（第二场）", "常州市新北区科学技术协会", "新北区", "各地各部门特色活动",
         "2022-09-19 14:00", "2022-09-19 16:00", "新北区图书馆"],  # same words as row 2, and more
    ], headers=headers)
    res = kepu("import", XLSX, "--campaign", CID)
    assert res.rc == 0, res.text
    lecture = load(site, f"{ACT}/xinbei/kepu-jiangzuo.yml")
    assert (lecture["start"], lecture["end"]) == ("2022-09-18 14:00", "2022-09-18 16:00")
    show = load(site, f"{ACT}/xinbei/kepu-zhanlan.yml")
    assert (show["start"], show["end"]) == ("2022-09-18 09:00", "2022-09-18 12:00")
    assert load(site, f"{ACT}/xinbei/kepu-jiangzuo-dierchang.yml")["title"] == "新北区科普讲座（第二场）"


SAMPLES = sorted(p.parent.name for p in (ROOT / "campaigns").glob("*/campaign.yml"))


@pytest.mark.parametrize("cid", SAMPLES)
def test_every_sample_campaign_round_trips_and_reimports(cid: str, tmp_path: Path, monkeypatch, kepu) -> None:
    shutil.copytree(ROOT / "campaigns", tmp_path / "campaigns")
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    assert kepu("export", "--campaign", cid, "-o", "a.xlsx").rc == 0
    assert kepu("import", "a.xlsx", "--campaign", cid, "--update").rc == 0
    assert snapshot(tmp_path) == before
    # the same sheet into an empty campaign: every row becomes a file that passes the validator
    shutil.rmtree(tmp_path / "campaigns" / cid / "activities")
    n = sum(1 for k in before if k.startswith(f"campaigns/{cid}/activities/"))
    res = kepu("import", "a.xlsx", "--campaign", cid)
    assert res.rc == 0 and f"写入 {n} 个，更新 0 个，跳过 0 行" in res.out, res.text
    assert kepu("check", f"campaigns/{cid}").rc == 0


def test_gbk_csv_with_separate_date_and_time_columns(site: Path, kepu) -> None:
    text = (
        "活动名称,主办单位,所属辖市区,类别,活动日期,开始时间,结束时间,地点,面向人群\r\n"
        "秋季食品安全科普讲座,常州市钟楼区市场监督管理局,钟楼,各地各部门特色活动,2022/9/19,14:00,15:30,"
        "钟楼区五星街道社区活动室,老年人、上班族\r\n"
        "钟楼区社区应急科普演练,钟楼区应急管理局,钟楼区,各地各部门特色活动,2022年9月20日,9:00,11:00,"
        "钟楼区北港街道社区广场,\r\n"
    )
    (site / "活动.csv").write_bytes(text.encode("gbk"))
    res = kepu("import", "活动.csv", "--campaign", CID)
    assert res.rc == 0, res.text
    assert load(site, f"{ACT}/zhonglou/qiuji-shipinanquan-kepu-jiangzuo.yml") == {
        "title": "秋季食品安全科普讲座",
        "organizer": "常州市钟楼区市场监督管理局",
        "category": "gedi-tese",
        "audiences": ["laonianren"],
        "start": "2022-09-19 14:00",
        "end": "2022-09-19 15:30",
        "venue": {"name": "钟楼区五星街道社区活动室"},
    }
    assert load(site, f"{ACT}/zhonglou/shequ-yingji-kepu-yanlian.yml")["start"] == "2022-09-20 09:00"
    # an unknown audience is a warning naming the CSV row and column; the row is still imported
    assert res.rows("活动.csv") == {
        2: [
            (
                "警告",
                "I列“面向人群”：没有“上班族”；可用的有：青少年、农民、产业工人、老年人、"
                "领导干部和公务员（这一项没有导入）",
            )
        ]
    }


def test_map_option_and_bad_map(site: Path, kepu) -> None:
    (site / "a.csv").write_text(
        "活动名称,主办单位,所属区县,活动类别,活动时间,活动地点,内容摘要\n"
        "武进区科普讲座,常州市武进区科学技术协会,武进区,各地各部门特色活动,"
        "2022-09-18 09:00-10:00,武进区科技馆,讲座介绍\n",
        encoding="utf-8-sig",
    )
    res = kepu("import", "a.csv", "--campaign", CID, "--map", "内容摘要=description")
    assert res.rc == 0, res.text
    assert load(site, f"{ACT}/wujin/kepu-jiangzuo.yml")["description"] == "讲座介绍"
    res = kepu("import", "a.csv", "--campaign", CID, "--map", "内容摘要=descripton")
    assert res.rc == 2 and "没有字段 descripton，是否想写 description？" in res.err


def test_whole_file_problems_are_messages_not_tracebacks(site: Path, kepu) -> None:
    (site / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    res = kepu("import", "x.csv", "--campaign", CID)
    assert res.rc == 2 and "x.csv: 错误: 找不到表头" in res.err
    res = kepu("import", "x.csv", "--campaign", "2022-changzhou-kepur")
    assert res.rc == 2 and "是否想写 2022-changzhou-kepuri？" in res.err
    (site / "bad.xlsx").write_bytes(b"not a zip")
    assert kepu("import", "bad.xlsx", "--campaign", CID).rc == 2
    assert kepu("import", "missing.xlsx", "--campaign", CID).rc == 2
    assert "请用 --campaign" in kepu("import", "x.csv").err


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2022-09-15 09:30-11:30", datetime(2022, 9, 15, 9, 30), datetime(2022, 9, 15, 11, 30)),
        ("2022年9月15日 9:30—11:30", datetime(2022, 9, 15, 9, 30), datetime(2022, 9, 15, 11, 30)),
        ("9月15日-9月21日", date(2022, 9, 15), date(2022, 9, 21)),
        ("9月15日—21日", date(2022, 9, 15), date(2022, 9, 21)),
        ("２０２２年９月１５日 下午2:30～4:30", datetime(2022, 9, 15, 14, 30), datetime(2022, 9, 15, 16, 30)),
        ("2022.9.15 9点半至11点", datetime(2022, 9, 15, 9, 30), datetime(2022, 9, 15, 11, 0)),
        ("9月15日（周四）9.30-11.30", datetime(2022, 9, 15, 9, 30), datetime(2022, 9, 15, 11, 30)),
    ],
)
def test_time_forms(text: str, start: date, end: date) -> None:
    span = parse_span(text, 2022)
    got_start = datetime.combine(span.d1, span.t1) if span.t1 else span.d1
    got_end = datetime.combine(span.d2 or span.d1, span.t2) if span.t2 else span.d2
    assert (got_start, got_end) == (start, end)


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "yes",
        "9:30",
        "2022-09-15",
        "12",
        "1e3",
        "null",
        "~",
        "a: b",
        "#x",
        "- x",
        "'q'",
        '"',
        "中文：冒号",
        " lead",
        "x #y",
        "@team",
        "%x",
        "true",
        "line\nbreak\n",
        "two\nlines",
        "\u2028",
        "tab\there",
        "[a, b]",
        "=SUM(A1)",
        "0519-86001235",
    ],
)
def test_written_yaml_reads_back_exactly(text: str) -> None:
    data = {"title": text, "audiences": [text, "x"]}
    assert yaml.safe_load(dump(data)) == data


def test_slug_is_pinyin_trimmed() -> None:
    assert slugify("2022年常州市“全国科普日”启动仪式") == "changzhoushi-quanguo-kepu-ri-qidong"
    assert slugify("“银龄数字课堂”：智能手机安全使用") == "yinling-shuzi-ketang-zhinengshouji"
    assert slugify("VR航天科普") == "vr-hangtian-kepu"
    assert len(slugify("一" * 50)) <= 40


# ---- stats ----------------------------------------------------------------------------------


def hand_count(root: Path) -> dict[tuple[str, str], str]:
    """The figures, counted with nothing but yaml.safe_load over the sample files."""
    camp = yaml.safe_load((root / "campaigns" / CID / "campaign.yml").read_text(encoding="utf-8"))
    files = sorted((root / ACT).rglob("*.yml"))
    acts = [(p.parent.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in files]
    live = [(d, a) for d, a in acts if a.get("status") != "cancelled"]
    out: dict[tuple[str, str], str] = {
        ("总体", "活动（项，不含已取消）"): str(len(live)),
        ("总体", "已取消（不计入）"): str(len(acts) - len(live)),
    }
    districts = Counter(d for d, _ in live)
    out |= {("按辖区", name): str(districts[k]) for k, name in camp["districts"].items()}
    parent = {}
    for k, v in camp["categories"].items():
        parent[k] = v if isinstance(v, str) else v["name"]
        if isinstance(v, dict):
            parent |= {child: v["name"] for child in v["children"]}
    cats = Counter(parent[a["category"]] for _, a in live)
    out |= {("按类别", n): str(cats[n]) for n in {parent[k] for k in camp["categories"]}}
    systems = Counter(a.get("organizer_system") for _, a in live)
    out |= {
        ("按主办单位系统", "科协系统"): str(systems["kexie"]),
        ("按主办单位系统", "其他系统"): str(systems["other"]),
    }
    share = systems["other"] / (systems["kexie"] + systems["other"])
    out[("按主办单位系统", "科协系统以外的占比")] = (
        f"{share:.1%}（{'达到' if share >= 0.2 else '未达到'} 20% 的要求）"
    )
    modes = Counter(
        "线上线下" if "venue" in a and "online" in a else "线上" if "online" in a else "线下" for _, a in live
    )
    out |= {("按活动形式", m): str(modes[m]) for m in ("线下", "线上", "线上线下")}
    aud = Counter(k for _, a in live for k in a.get("audiences", []))
    out |= {("按重点人群", name): str(aud[k]) for k, name in camp["audiences"].items()}
    reports = [a["report"] for _, a in live if a.get("report")]
    media = [u for r in reports for u in r.get("media", [])]
    out |= {
        ("活动后数据", "已填写活动后数据的活动"): f"{len(reports)} / {len(live)}",
        ("科普活动开展次数", "举办活动次数"): str(len(live)),
        ("科普工作人员参与数量", "招募科技志愿者数量"): str(sum(r.get("volunteers", 0) for r in reports)),
        ("科普活动群众参与数量", "线下活动群众参与数量"): str(
            sum(r.get("participants_offline", 0) for r in reports)
        ),
        ("科普活动群众参与数量", "线上活动群众参与数量"): str(
            sum(r.get("participants_online", 0) for r in reports)
        ),
        ("宣传报道情况", "参与媒体数量"): str(len({u.split("/")[2] for u in media})),
        ("宣传报道情况", "宣传报道数量"): str(len(media)),
    }
    # sessions, counted by hand from the two repeating files: 银龄数字课堂 weekly Tu/Th 9/15–9/27
    # = 9/15, 9/20, 9/22, 9/27; 博物馆导览 daily 9/15–9/21 except 9/19 = 6 days
    repeating = {"yinling-shuzi-ketang-fangzha": 4, "changzhou-bowuguan-huashi-daolan": 6}
    sessions = sum(
        repeating.get(p.stem, 1)
        for p, (_, a) in zip(files, acts, strict=True)
        if a.get("status") != "cancelled"
    )
    out[("总体", "活动场次（重复活动按场计）")] = str(sessions)
    return out


def test_stats_csv_equals_hand_count(site: Path, kepu) -> None:
    res = kepu("stats", "--campaign", CID, "--format", "csv", "-o", "stats.csv")
    assert res.rc == 0, res.text
    raw = (site / "stats.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["分组", "项目", "数值"]
    got = {(g, item): v for g, item, v in rows[1:] if g != "尚未填写活动后数据"}
    assert got == hand_count(site)
    # the sample's figures, as a reader of the YAML sees them
    assert got[("按主办单位系统", "科协系统以外的占比")] == "30.8%（达到 20% 的要求）"
    assert got[("科普活动群众参与数量", "线下活动群众参与数量")] == "10542"
    missing = [(item, v) for g, item, v in rows[1:] if g == "尚未填写活动后数据"]
    assert missing == [
        (
            "新北区 河海大学常州校区“水与长江”水利科普开放日（已延期）",
            f"{ACT}/xinbei/hehai-daxue-shuili-kaifangri.yml",
        )
    ]


def test_stats_table_and_xlsx(site: Path, kepu) -> None:
    res = kepu("stats", "--campaign", CID)
    assert res.rc == 0
    assert re.search(r"科协系统以外的占比 +30\.8%（达到 20% 的要求）", res.out)
    assert re.search(r"线上活动群众参与数量 +70580", res.out)
    assert "尚未填写活动后数据（report）的活动：1 项（截止 2022-10-09，已过截止日期）" in res.out
    res = kepu("stats", "--campaign", CID, "--format", "xlsx")
    assert res.rc == 0
    wb = openpyxl.load_workbook(site / f"{CID}-统计.xlsx")
    assert wb.sheetnames == ["活动统计", "待补充活动后数据"]
    values = {(r[1]): r[2] for r in wb["活动统计"].iter_rows(min_row=3, values_only=True)}
    assert values["招募科技志愿者数量"] == int(
        hand_count(site)[("科普工作人员参与数量", "招募科技志愿者数量")]
    )
    assert any(str(m).startswith("A") for m in wb["活动统计"].merged_cells.ranges)


# ---- kepu check ------------------------------------------------------------------------------


def test_check_github_annotation_on_a_broken_file(site: Path, kepu) -> None:
    rel = f"{ACT}/wujin/changzhou-daxue-shiyanshi-kaifangri.yml"
    text = (site / rel).read_text(encoding="utf-8").replace("start: 2022-09-17", "start: 9:30")
    (site / rel).write_text(text, encoding="utf-8")
    line = text.splitlines().index("start: 9:30") + 1
    res = kepu("check", "--format", "github")
    assert res.rc == 1
    assert re.search(rf"^::error file={re.escape(rel)},line={line},col=8::.*六十进制", res.out, re.M), res.out


def test_check_warns_on_duplicates(site: Path, kepu) -> None:
    src = f"{ACT}/wujin/changzhou-daxue-shiyanshi-kaifangri.yml"
    shutil.copy(site / src, site / f"{ACT}/wujin/cczu-kaifangri-copy.yml")
    res = kepu("check", "--samples")  # the site fixture is a copy of a sample campaign
    assert res.rc == 0
    # one warning per pair, on whichever file sorts second, naming the other one
    pair = ("cczu-kaifangri-copy.yml", "changzhou-daxue-shiyanshi-kaifangri.yml")
    warnings = [ln for ln in res.out.splitlines() if "警告" in ln and all(f in ln for f in pair)]
    assert len(warnings) == 2, res.out
    assert "可能与" in warnings[0] and "重复（标题、日期、场地都相同）" in warnings[0]
    assert "全国平台编号与" in warnings[1] and "是否重复登记" in warnings[1]


def _git(root: Path, *args: str, when: str | None = None) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1"}
    if when:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.cn", "-c", "commit.gpgsign=false", *args],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_check_warns_on_activities_added_after_registration_closed(site: Path, kepu) -> None:
    _git(site, "init", "-q")
    _git(site, "add", ".")
    _git(site, "commit", "-qm", "活动登记", when="2022-09-01T10:00:00+08:00")
    base = (site / f"{ACT}/xinbei/guangfu-qiye-kaifangri.yml").read_text(encoding="utf-8")
    late = f"{ACT}/xinbei/wanbao-huodong.yml"
    (site / late).write_text(base.replace("“追光逐绿”", "“追光逐绿”补报："), encoding="utf-8")
    _git(site, "add", ".")
    _git(site, "commit", "-qm", "补报", when="2022-10-02T10:00:00+08:00")  # registration closed 9-28
    local = f"{ACT}/xinbei/weitijiao.yml"  # not committed yet: added today
    (site / local).write_text(base.replace("“追光逐绿”", "“追光逐绿”新增："), encoding="utf-8")
    res = kepu("check", "--samples")
    late_lines = sorted(ln for ln in res.out.splitlines() if "才加入" in ln)
    assert len(late_lines) == 2, res.out
    assert late_lines[0].startswith(
        f"{late}:1:1: 警告: 这个活动 2022-10-02 才加入，晚于注册截止日期 2022-09-28"
    )
    assert late_lines[1].startswith(f"{local}:1:1: 警告: 这个活动 {date.today()} 才加入")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_no_late_warning_for_a_campaign_entered_after_the_event(site: Path, kepu) -> None:
    _git(site, "init", "-q")
    _git(site, "add", ".")
    _git(site, "commit", "-qm", "历史数据", when="2023-03-01T10:00:00+08:00")
    assert "才加入" not in kepu("check", "--samples").out


# ---- kepu new -------------------------------------------------------------------------------


def test_new_campaign_and_activity_pass_check(site: Path, kepu) -> None:
    res = kepu("new", "campaign", "2024-wuhu-kepuri", "--region", "芜湖市")
    assert res.rc == 0, res.text
    cfile = site / "campaigns/2024-wuhu-kepuri/campaign.yml"
    ctext = cfile.read_text(encoding="utf-8")
    assert ctext.splitlines()[0] == "# yaml-language-server: $schema=../../schemas/campaign.schema.json"
    assert "title: 2024年芜湖市“全国科普日”活动" in ctext
    res = kepu(
        "new",
        "activity",
        "--campaign",
        "2024-wuhu-kepuri",
        "--district",
        "市区",
        "--title",
        "芜湖市科技馆科普开放日",
    )
    assert res.rc == 0, res.text
    afile = site / "campaigns/2024-wuhu-kepuri/activities/shiqu/kejiguan-kepu-kaifangri.yml"  # region dropped
    atext = afile.read_text(encoding="utf-8")
    schema = atext.splitlines()[0].split("$schema=")[1]
    assert (afile.parent / schema).resolve() == (site / "schemas/activity.schema.json").resolve()
    assert "title: 芜湖市科技馆科普开放日" in atext
    res = kepu("new", "activity", "--campaign", CID, "--district", "武进区")
    assert res.rc == 0 and (site / f"{ACT}/wujin/xin-huodong.yml").is_file()
    check = kepu("check")
    assert check.rc == 0 and ": 错误:" not in check.out, check.out
    # every field of the model is explained in the scaffolds
    for cls, text in ((Campaign, ctext), (Activity, atext)):
        for key in model_keys(cls):
            leaf = key.split(".")[-1]
            pattern = rf"^(# )?{leaf}:" if "." not in key else rf"\b{leaf}:"
            assert re.search(pattern, text, re.M), f"{cls.__name__}.{key} missing from the scaffold"
    # refuse to overwrite
    before = afile.read_bytes()
    res = kepu(
        "new", "activity", afile.stem, "--campaign", "2024-wuhu-kepuri", "--district", "shiqu"
    )
    assert res.rc == 2 and "没有覆盖" in res.err and afile.read_bytes() == before
    assert kepu("new", "campaign", "2024-wuhu-kepuri").rc == 2


def test_new_campaign_that_would_not_pass_is_not_left_behind(site: Path, kepu) -> None:
    res = kepu("new", "campaign", "2025-wuhu-kepuri")  # 全国科普日 became 全国科普月 in 2025
    assert res.rc == 2 and "kepuyue" in res.err
    assert not (site / "campaigns/2025-wuhu-kepuri/campaign.yml").exists()


# ---- codeowners, schemas, CI files ----------------------------------------------------------


def test_codeowners(site: Path, kepu) -> None:
    res = kepu("codeowners")
    assert res.rc == 0
    text = (site / ".github/CODEOWNERS").read_text(encoding="utf-8")
    assert text.startswith("# 由 kepu codeowners")
    rules = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert rules == [
        f"/campaigns/{CID}/activities/wujin/ @changzhou-kexie/wujin",
        f"/campaigns/{CID}/activities/xinbei/ @changzhou-kexie/xinbei",
    ]
    assert kepu("codeowners").out.strip().endswith("没有改动")  # idempotent
    assert (site / ".github/CODEOWNERS").read_text(encoding="utf-8") == text
    assert kepu("codeowners", "--check").rc == 0
    cfile = site / "campaigns" / CID / "campaign.yml"
    cfile.write_text(
        cfile.read_text(encoding="utf-8") + '  tianning: "@changzhou-kexie/tianning"\n', encoding="utf-8"
    )
    res = kepu("codeowners", "--check")
    assert res.rc == 1 and "请运行 kepu codeowners" in res.out
    cfile.write_text(
        cfile.read_text(encoding="utf-8").replace('"@changzhou-kexie/tianning"', "tianning-team"),
        encoding="utf-8",
    )
    res = kepu("codeowners")
    assert res.rc == 1 and "owners.tianning" in res.err


def test_schemas_are_up_to_date(tmp_path: Path, kepu) -> None:
    assert kepu("schema", "--write", str(tmp_path)).rc == 0
    for kind in ("campaign", "activity"):
        fresh = (tmp_path / f"{kind}.schema.json").read_bytes()
        assert (ROOT / "schemas" / f"{kind}.schema.json").read_bytes() == fresh, (
            "schemas/ is out of date: run kepu schema --write schemas"
        )
        assert json.loads(fresh)["title"]


def _workflow(name: str) -> dict:
    data = yaml.safe_load((ROOT / ".github/workflows" / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def test_ci_workflows_and_pre_commit() -> None:
    check = _workflow("check.yml")
    assert "pull_request" in check["on"] and check["permissions"] == {"contents": "read"}
    steps = check["jobs"]["check"]["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "kepu check --format github" in runs and "kepu build -d site" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
    assert "secrets." not in (ROOT / ".github/workflows/check.yml").read_text(encoding="utf-8")
    publish = _workflow("publish.yml")
    assert publish["on"]["push"]["branches"] == ["main"] and publish["permissions"] == {"contents": "read"}
    jobs = publish["jobs"]
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert "permissions" not in jobs["build"]
    uses = [s.get("uses", "") for job in jobs.values() for s in job["steps"]]
    for action in ("actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages"):
        assert any(u.startswith(action) for u in uses)
    for steps in (check["jobs"]["check"]["steps"], jobs["build"]["steps"]):
        # the content cache is kept between runs, restored before the build, keyed on the lock
        # of dependencies and the code (generator/cache.py: never trusted across versions)
        runs = [s.get("run", "") for s in steps]
        cache = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/cache@"))
        assert steps[cache]["with"]["path"] == ".cache/kepu" and cache < runs.index("kepu build -d site")
        key = steps[cache]["with"]["key"]
        assert "requirements.lock" in key and "generator/**" in key
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))["repos"][0][
        "hooks"
    ]
    hook = next(h for h in hooks if h["id"] == "kepu-check")
    assert (hook["entry"], hook["files"], hook["pass_filenames"]) == (
        "kepu check",
        r"^campaigns/.*\.ya?ml$",
        True,
    )
    assert re.match(hook["files"], f"{ACT}/wujin/x.yml") and not re.match(hook["files"], "generator/x.py")
