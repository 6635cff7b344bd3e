"""`kepu check` and validation: every rule has a failing and a passing case.

Each test builds a small repository in tmp_path (the real campaigns/brands.yml, one campaign,
activity files), changes one thing in the valid baseline, runs the real CLI and asserts on the
exact ``path:line:col: 错误: …`` line and on the exit code. Expected line numbers come from the
test's own input text (``line_of``), never from the generator's output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from conftest import BASE_ACTIVITY, BASE_CAMPAIGN, CAMPAIGN_ID, ROOT, Repo, line_of, set_fields

ACT = f"campaigns/{CAMPAIGN_ID}/activities/wujin/kaifangri.yml"
CAMP = f"campaigns/{CAMPAIGN_ID}/campaign.yml"
KEPU = Path(sys.executable).parent / "kepu"


def act(**fields: str | None) -> str:
    return set_fields(BASE_ACTIVITY, **fields)


def camp(**fields: str | None) -> str:
    return set_fields(BASE_CAMPAIGN, **fields)


def assert_ok(res, warnings: int = 0) -> None:
    assert res.rc == 0, res.text
    assert res.errors == [], res.text
    assert len(res.warnings) == warnings, res.text


def assert_only_error(res, path: str, line: int | None, *phrases: str):
    """Exit 1 and exactly one error, the expected one (so a test cannot pass by accident on an
    unrelated error, and a rule cannot silently fire twice)."""
    assert res.rc == 1, res.text
    p = res.find(path, line, *phrases)
    assert len(res.errors) == 1, res.text
    return p


# ---- baseline ----------------------------------------------------------------------------------


def test_baseline_is_valid(repo: Repo) -> None:
    repo.baseline()
    res = repo.check()
    assert_ok(res)
    assert "检查了 1 个活动专题、1 项活动：0 个错误，0 个警告" in res.out


def test_output_line_format(repo: Repo) -> None:
    repo.baseline(category="nope")
    res = repo.check()
    assert res.rc == 1
    line = next(ln for ln in res.out.splitlines() if "错误" in ln)
    col = BASE_ACTIVITY.splitlines()[2].index("gedi-tese") + 1
    assert re.fullmatch(rf"{re.escape(ACT)}:3:{col}: 错误: category：没有类别 nope.*", line), line


# ---- YAML input staff get wrong --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needle", "phrase"),
    [
        pytest.param(act(organizer="常州: 大学"), "organizer:", "英文冒号", id="colon-in-value"),
        pytest.param(
            BASE_ACTIVITY.replace("  address:", "   address:"), "address:", "缩进", id="indented-too-far"
        ),
        pytest.param(BASE_ACTIVITY + "topics: [yingji-kepu\n", "topics:", "方括号", id="unclosed-bracket"),
        pytest.param(act(title='"未闭合的标题'), "title:", "引号没有闭合", id="unclosed-quote"),
        pytest.param(BASE_ACTIVITY.replace("  name:", "\tname:"), "name:", "Tab", id="tab-indent"),
        pytest.param(BASE_ACTIVITY + "---\ntitle: 第二个\n", "---", "---", id="two-documents"),
        pytest.param(BASE_ACTIVITY + "  lat: [31.6\n  lng: 1\n", "lat:", "方括号", id="bracket-next-line"),
    ],
)
def test_yaml_syntax_error(repo: Repo, text: str, needle: str, phrase: str) -> None:
    repo.campaign()
    repo.activity(text)
    res = repo.check()
    p = assert_only_error(res, ACT, line_of(text, needle), phrase)
    # the line named exists in the file (not one past the end, where editors cannot jump)
    assert 1 <= p.line <= len(text.splitlines())


def test_sexagesimal_time_in_time_field(repo: Repo) -> None:
    repo.baseline(start="9:30")
    p = assert_only_error(repo.check(), ACT, line_of(BASE_ACTIVITY, "start:"), "start：", "570", "09:30")
    assert "六十进制" in p.msg


def test_sexagesimal_in_text_field(repo: Repo) -> None:
    repo.baseline(subtheme="9:30")
    text = act(subtheme="9:30")
    assert_only_error(repo.check(), ACT, line_of(text, "subtheme:"), "subtheme：", "570", '"9:30"')


@pytest.mark.parametrize("value", ['"9:30"', "上午 9:30 开始", "2022-09-17 09:30"])
def test_time_like_text_that_yaml_keeps_is_accepted(repo: Repo, value: str) -> None:
    repo.baseline(subtheme=value)
    assert_ok(repo.check())


@pytest.mark.parametrize("word", ["no", "yes", "No", "YES", "on", "off"])
def test_yes_no_in_text_field(repo: Repo, word: str) -> None:
    repo.baseline(organizer=word)
    p = assert_only_error(repo.check(), ACT, 2, "organizer：", "布尔值")
    assert f'"{word}"' in p.msg  # says how to write it


def test_quoted_no_in_text_field_is_accepted(repo: Repo) -> None:
    repo.baseline(organizer='"no"')
    assert_ok(repo.check())


@pytest.mark.parametrize("word", ["yes", "no", "on", "是"])
def test_yes_no_in_bool_field(repo: Repo, word: str) -> None:
    repo.baseline(tentative=word)
    text = act(tentative=word)
    p = assert_only_error(repo.check(), ACT, line_of(text, "tentative:"), "tentative：", "true 或 false")
    assert word in p.msg


@pytest.mark.parametrize("word", ["true", "false"])
def test_true_false_in_bool_field(repo: Repo, word: str) -> None:
    repo.baseline(tentative=word)
    assert_ok(repo.check())


def test_yes_no_as_mapping_key(repo: Repo) -> None:
    text = BASE_CAMPAIGN.replace("  xinbei: 新北区\n", "  xinbei: 新北区\n  no: 挪威\n")
    repo.campaign(text)
    repo.activity()
    p = assert_only_error(repo.check(), CAMP, line_of(text, "no: 挪威"), "布尔值")
    assert '"no"' in p.msg


def test_quoted_no_as_mapping_key_is_accepted(repo: Repo) -> None:
    repo.campaign(BASE_CAMPAIGN.replace("  xinbei: 新北区\n", '  xinbei: 新北区\n  "no": 挪威\n'))
    repo.activity()
    assert_ok(repo.check())


def test_yes_as_top_level_key(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "yes: 1\n"
    repo.activity(text)
    res = repo.check()
    assert res.rc == 1
    res.find(ACT, line_of(text, "yes:"), "布尔值")


@pytest.mark.parametrize("first_chinese_line", [1, 3])
def test_gbk_file(repo: Repo, first_chinese_line: int) -> None:
    repo.campaign()
    text = BASE_ACTIVITY
    if first_chinese_line == 3:  # the message points at the first line that is not UTF-8
        text = "category: gedi-tese\nstart: 2022-09-17\n" + act(category=None, start=None, end=None)
    repo.activity(text.encode("gbk"))
    p = assert_only_error(repo.check(), ACT, first_chinese_line, "GBK", "UTF-8")
    assert "另存为" in p.msg


def test_other_encoding_is_refused_without_traceback(repo: Repo) -> None:
    repo.campaign()
    repo.activity(BASE_ACTIVITY.encode("utf-16"))
    assert_only_error(repo.check(), ACT, 1, "UTF-8")


@pytest.mark.parametrize("which", ["activity", "campaign"])
def test_utf8_bom_is_accepted(repo: Repo, which: str) -> None:
    bom = b"\xef\xbb\xbf"
    if which == "campaign":
        (repo.cdir / CAMPAIGN_ID).mkdir()
        (repo.cdir / CAMPAIGN_ID / "campaign.yml").write_bytes(bom + BASE_CAMPAIGN.encode())
        repo.activity()
    else:
        repo.campaign()
        repo.activity(bom + BASE_ACTIVITY.encode())
    assert_ok(repo.check())


def test_utf8_bom_keeps_line_numbers(repo: Repo) -> None:
    repo.campaign()
    repo.activity(b"\xef\xbb\xbf" + act(category="nope").encode())
    assert_only_error(repo.check(), ACT, 3, "category：", "nope")


@pytest.mark.parametrize(
    ("fields", "fix"),
    [
        ({"start": "２０２２-０９-１７ ０９：３０"}, "2022-09-17 09:30"),
        ({"start": "2022-09-17 ０９:３０"}, "2022-09-17 09:30"),
        ({"start": "２０２２-０９-１７", "end": None}, "2022-09-17"),
        ({"start": "２０２２－０９－１７", "end": None}, "2022-09-17"),
    ],
    ids=["datetime", "time-only", "date", "fullwidth-dash"],
)
def test_fullwidth_digits_in_dates(repo: Repo, fields: dict, fix: str) -> None:
    repo.baseline(**fields)
    p = assert_only_error(repo.check(), ACT, line_of(BASE_ACTIVITY, "start:"), "start：", "全角", "半角")
    assert p.msg.endswith(fix), p.msg


def test_fullwidth_digits_in_campaign_year(repo: Repo) -> None:
    repo.campaign(camp(year="２０２２"))
    repo.activity()
    p = assert_only_error(repo.check(), CAMP, line_of(BASE_CAMPAIGN, "year:"), "year：", "全角", "半角")
    assert "2022" in p.msg


@pytest.mark.parametrize(
    ("written", "fix"),
    [
        ("2022年9月15日 9:30", "2022-09-15 09:30"),
        ("2022年9月15日9点半", "2022-09-15 09:30"),
        ("2022年9月15日 下午2:30", "2022-09-15 14:30"),
        ("2022/9/15 14:00", "2022-09-15 14:00"),
        ("２０２２年９月１５日 ９：３０", "2022-09-15 09:30"),
    ],
)
def test_chinese_date_forms_get_the_exact_fix(repo: Repo, written: str, fix: str) -> None:
    repo.baseline(start=written)
    p = assert_only_error(repo.check(), ACT, line_of(BASE_ACTIVITY, "start:"), "start：")
    assert f"请写成 {fix}" in p.msg or f"半角：{fix}" in p.msg, p.msg


def test_chinese_date_only_in_date_field(repo: Repo) -> None:
    repo.campaign(camp(period="{start: 2022年9月15日, end: 2022-09-21}"))
    repo.activity()
    p = assert_only_error(repo.check(), CAMP, line_of(BASE_CAMPAIGN, "period:"), "period.start：")
    assert "2022-09-15" in p.msg


def test_impossible_date(repo: Repo) -> None:
    repo.baseline(start="2022-02-30", end=None)
    assert_only_error(repo.check(), ACT, line_of(BASE_ACTIVITY, "start:"), "start：", "不存在")


BOMB = """\
description: x
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_alias_bomb_is_refused_fast_and_small(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + BOMB
    repo.activity(text)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        res = repo.check()
    finally:
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    p = assert_only_error(res, ACT, line_of(text, "b: &b"), "别名")
    assert p.col == text.splitlines()[p.line - 1].index("*a") + 1
    assert elapsed < 5, elapsed  # sanity bound only: expanding it would take minutes
    assert peak < 50 * 1024 * 1024, peak


def test_merge_key_is_refused(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "<<: {level: city}\n"
    repo.activity(text)
    assert_only_error(repo.check(), ACT, line_of(text, "<<:"), "合并键")


def test_anchor_without_alias_is_harmless(repo: Repo) -> None:
    repo.baseline(organizer="&org 常州大学科学技术协会")
    assert_ok(repo.check())


def test_file_over_1_mb(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "description: |\n"
    line = "  " + "科普" * 40 + "\n"
    text += line * (1_000_001 // len(line.encode()) + 1)
    assert len(text.encode()) > 1_000_000
    repo.activity(text)
    p = assert_only_error(repo.check(), ACT, None, "1 MB")
    assert p.line == 0  # the whole file


def test_large_file_under_1_mb_is_accepted(repo: Repo) -> None:
    repo.campaign()
    line = "  " + "科普" * 40 + "\n"
    text = BASE_ACTIVITY + "description: |\n" + line * 3000
    assert 500_000 < len(text.encode()) < 1_000_000
    repo.activity(text)
    assert_ok(repo.check())


def test_duplicate_top_level_key(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "title: 又一个标题\n"
    repo.activity(text)
    p = assert_only_error(repo.check(), ACT, line_of(text, "title:", 2), "title", "重复")
    assert "第 1 行" in p.msg


def test_duplicate_nested_key(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "  name: 另一个场地\n"
    repo.activity(text)
    p = assert_only_error(repo.check(), ACT, line_of(text, "name:", 2), "name", "重复")
    assert f"第 {line_of(text, 'name:')} 行" in p.msg


@pytest.mark.parametrize(
    ("name", "hint"),
    [("KaiFang_Ri", "kaifang-ri"), ("kai fang", "kai-fang"), ("开放日", "拼音"), ("-kaifang", "kaifang")],
)
def test_non_slug_file_name(repo: Repo, name: str, hint: str) -> None:
    repo.campaign()
    path = repo.activity(name=name)
    p = assert_only_error(repo.check(), path, None, "文件名", "小写英文字母")
    assert p.line == 0 and hint in p.msg


@pytest.mark.parametrize("name", ["kaifang-ri-2", "2022-kaifangri", "a"])
def test_slug_file_name_is_accepted(repo: Repo, name: str) -> None:
    repo.campaign()
    repo.activity(name=name)
    assert_ok(repo.check())


def test_yaml_extension_is_accepted_and_notes_are_ignored(repo: Repo) -> None:
    repo.campaign()
    repo.activity(ext=".yaml")
    (repo.cdir / CAMPAIGN_ID / "activities" / "wujin" / "说明.md").write_text("草稿", encoding="utf-8")
    (repo.cdir / CAMPAIGN_ID / "activities" / "wujin" / ".DS_Store").write_bytes(b"\0")
    res = repo.check()
    assert_ok(res)
    assert "1 项活动" in res.out


def test_other_file_types_in_activities(repo: Repo) -> None:
    repo.campaign()
    path = repo.activity(BASE_ACTIVITY, ext=".json")
    assert_only_error(repo.check(), path, None, ".yml")


def test_activity_file_outside_a_district_folder(repo: Repo) -> None:
    repo.campaign()
    path = repo.cdir / CAMPAIGN_ID / "activities" / "kaifangri.yml"
    path.parent.mkdir(parents=True)
    path.write_text(BASE_ACTIVITY, encoding="utf-8")
    assert_only_error(repo.check(), f"campaigns/{CAMPAIGN_ID}/activities/kaifangri.yml", None, "辖区编号")


def test_non_slug_district_folder(repo: Repo) -> None:
    repo.campaign()
    path = repo.activity(district="WuJin")
    assert_only_error(repo.check(), path, None, "辖区文件夹", "WuJin", "是否想写 wujin")


def test_non_slug_campaign_folder(repo: Repo) -> None:
    repo.campaign(cid="2022_Changzhou")
    repo.activity(cid="2022_Changzhou")
    assert_only_error(repo.check(), "campaigns/2022_Changzhou", None, "活动文件夹名", "2022-changzhou")


@pytest.mark.parametrize("field", ["title", "organizer", "category", "start"])
def test_missing_required_activity_field(repo: Repo, field: str) -> None:
    repo.baseline(**{field: None, **({"end": None} if field == "start" else {})})
    res = repo.check()
    assert res.rc == 1
    p = res.find(ACT, 1, f"缺少必填字段 {field}")
    assert p.msg.startswith(f"{field}：")


@pytest.mark.parametrize("field", ["title", "brand", "year", "region", "period", "districts", "categories"])
def test_missing_required_campaign_field(repo: Repo, field: str) -> None:
    repo.campaign(camp(**{field: None}))
    repo.activity()
    res = repo.check()
    assert res.rc == 1
    res.find(CAMP, 1, f"缺少必填字段 {field}")


def test_missing_campaign_yml(repo: Repo) -> None:
    repo.activity()
    assert_only_error(repo.check(), CAMP, None, "缺少 campaign.yml")


def test_missing_venue_and_online(repo: Repo) -> None:
    repo.baseline(venue=None)
    assert_only_error(repo.check(), ACT, 1, "venue", "online")


@pytest.mark.parametrize("empty", ["venue:", "venue: ~", "online:"])
def test_empty_venue_or_online_counts_as_missing(repo: Repo, empty: str) -> None:
    repo.campaign()
    repo.activity(act(venue=None) + empty + "\n")
    assert_only_error(repo.check(), ACT, 1, "venue", "online")


def test_online_only_is_accepted(repo: Repo) -> None:
    repo.baseline(venue=None, online="{url: https://live.example.cn/x, platform: 直播}")
    assert_ok(repo.check())


def test_invalid_venue_is_reported_once_not_as_missing(repo: Repo) -> None:
    repo.campaign()
    text = act(venue=None) + "venue:\n  address: 常州市\n"
    repo.activity(text)
    res = repo.check()
    p = assert_only_error(res, ACT, line_of(text, "address:"), "venue.name", "缺少必填字段 name")
    assert "online" not in p.msg


@pytest.mark.parametrize(
    ("text", "needle", "typo", "meant", "where"),
    [
        (BASE_ACTIVITY + "organiser: 常州大学\n", "organiser:", "organiser", "organizer", ACT),
        (BASE_ACTIVITY.replace("  address:", "  adress:"), "adress:", "venue.adress", "address", ACT),
        (BASE_ACTIVITY + "catgory: gedi-tese\n", "catgory:", "catgory", "category", ACT),
        (BASE_CAMPAIGN.replace("window:", "windw:"), "windw:", "windw", "window", CAMP),
    ],
)
def test_unknown_field_did_you_mean(
    repo: Repo, text: str, needle: str, typo: str, meant: str, where: str
) -> None:
    if where == CAMP:
        repo.campaign(text)
        repo.activity()
    else:
        repo.campaign()
        repo.activity(text)
    res = repo.check()
    assert res.rc == 1
    p = res.find(where, line_of(text, needle), f"是否想写 {meant}")
    assert p.msg.startswith(f"{typo}：不认识的字段")


HOSTILE = {
    "list": "- a\n- b\n",
    "scalar": "就一句话\n",
    "empty": "",
    "comment-only": "# 还没写\n",
    "deep-nesting": BASE_ACTIVITY + "description: " + "[" * 5000 + "]" * 5000 + "\n",
    "nul-byte": BASE_ACTIVITY + "description: a\x00b\n",
    "python-tag": BASE_ACTIVITY + "x: !!python/object/apply:os.system [ls]\n",
    "custom-tag": act(title="!重要 科普讲座"),
    "bad-date-key": BASE_ACTIVITY + "2022-02-30: x\n",
    "bad-float-key": BASE_ACTIVITY + "!!float abc: x\n",
    "complex-key": BASE_ACTIVITY + "? [a, b]\n: c\n",
    "bad-binary": BASE_ACTIVITY + "x: !!binary 'not base64!'\n",
    "huge-int": act(tentative="1" * 5000),
    "null-root-value": "title:\n",
    "sequence-of-maps-as-venue": act(venue="[{name: a}, {name: b}]"),
}


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_input_gives_an_error_not_a_traceback(repo: Repo, text: str) -> None:
    repo.campaign()
    repo.activity(text)
    res = repo.check()  # Repo.check asserts there is no "Traceback"
    assert res.rc == 1, res.text
    assert any(p.path == ACT for p in res.errors), res.text
    for p in res.errors:
        assert re.search(r"[\u4e00-\u9fff]", p.msg), p.msg  # explained in Chinese


def test_broken_campaign_yml_no_traceback(repo: Repo) -> None:
    repo.campaign("- 这不是映射\n")
    repo.activity()
    assert_only_error(repo.check(), CAMP, 1, "映射")


def test_empty_campaign_yml(repo: Repo) -> None:
    repo.campaign("")
    repo.activity()
    assert_only_error(repo.check(), CAMP, 1, "空")


# ---- campaign rules --------------------------------------------------------------------------------


def test_district_folder_not_in_districts(repo: Repo) -> None:
    repo.campaign()
    path = repo.activity(district="hutang")
    assert_only_error(repo.check(), path, None, "hutang", "districts", "wujin")


def test_district_folder_in_districts(repo: Repo) -> None:
    repo.campaign()
    repo.activity(district="xinbei")
    assert_ok(repo.check())


@pytest.mark.parametrize("reserved", ["activities", "stats", "categories", "_kepu-shell"])
def test_reserved_district_id(repo: Repo, reserved: str) -> None:
    text = BASE_CAMPAIGN.replace("  xinbei: 新北区\n", f"  xinbei: 新北区\n  {reserved}: 某区\n")
    repo.campaign(text)
    repo.activity()
    assert_only_error(repo.check(), CAMP, line_of(text, f"  {reserved}:"), "districts：", reserved)


def test_ordinary_district_id(repo: Repo) -> None:
    repo.campaign(BASE_CAMPAIGN.replace("  xinbei: 新北区\n", "  xinbei: 新北区\n  zhonglou: 钟楼区\n"))
    repo.activity(district="zhonglou")
    assert_ok(repo.check())


def test_district_id_must_be_slug(repo: Repo) -> None:
    text = BASE_CAMPAIGN.replace("  xinbei: 新北区\n", "  xinbei: 新北区\n  Tian_Ning: 天宁区\n")
    repo.campaign(text)
    repo.activity()
    assert_only_error(repo.check(), CAMP, line_of(text, "Tian_Ning"), "Tian_Ning", "tian-ning")


def test_unknown_category(repo: Repo) -> None:
    repo.baseline(category="gedi-teese")
    assert_only_error(repo.check(), ACT, 3, "category：", "gedi-teese", "是否想写 gedi-tese")


def test_parent_category_with_children(repo: Repo) -> None:
    repo.baseline(category="lianhe-xingdong")
    assert_only_error(repo.check(), ACT, 3, "category：", "子类别", "xuehui-gaoxiao", "qiye-kexie")


@pytest.mark.parametrize("category", ["qiye-kexie", "shiji-zhuchang"])
def test_child_and_leaf_categories_are_accepted(repo: Repo, category: str) -> None:
    repo.baseline(category=category)
    assert_ok(repo.check())


def test_unknown_audience(repo: Repo) -> None:
    repo.baseline(audiences="[qingshaonian, laoren]")
    text = act(audiences="[qingshaonian, laoren]")
    line = line_of(text, "audiences:")
    p = assert_only_error(repo.check(), ACT, line, "audiences：", "laoren", "laonianren")
    assert p.col == text.splitlines()[p.line - 1].index("laoren") + 1  # the item itself


def test_unknown_audience_in_block_list_points_at_the_item(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "audiences:\n  - qingshaonian\n  - laoren\n"
    repo.activity(text)
    assert_only_error(repo.check(), ACT, line_of(text, "- laoren"), "audiences：", "laoren")


def test_default_audiences_are_accepted(repo: Repo) -> None:
    repo.baseline(audiences="[qingshaonian, nongmin, chanye-gongren, laonianren, lingdao-ganbu]")
    assert_ok(repo.check())


def test_unknown_topic(repo: Repo) -> None:
    repo.baseline(topics="[weisheng-jiankang, shipin-anquan]")
    text = act(topics="[weisheng-jiankang, shipin-anquan]")
    assert_only_error(repo.check(), ACT, line_of(text, "topics:"), "topics：", "shipin-anquan")


def test_known_topics(repo: Repo) -> None:
    repo.baseline(topics="[weisheng-jiankang, yingji-kepu]")
    assert_ok(repo.check())


# ---- when ----------------------------------------------------------------------------------------


def test_dates_in_another_year(repo: Repo) -> None:
    repo.baseline(start="2021-09-17 09:30", end="2021-09-17 11:30")
    res = repo.check()
    assert res.rc == 1 and len(res.errors) == 2, res.text
    res.find(ACT, 4, "start：", "2021 年", "2022 年")
    res.find(ACT, 5, "end：", "2021 年", "2022 年")


def test_outside_window_is_an_error(repo: Repo) -> None:
    repo.baseline(start="2022-10-08", end=None)
    p = assert_only_error(repo.check(), ACT, 4, "start：", "2022-10-08")
    assert "2022-08-15" in p.msg and "2022-09-28" in p.msg


def test_outside_period_inside_window_is_a_warning(repo: Repo) -> None:
    repo.baseline(start="2022-09-25 09:30", end="2022-09-25 11:30")
    res = repo.check()
    assert_ok(res, warnings=2)
    res.find(ACT, 4, "start：", "集中开展时间", level="警告")
    res.find(ACT, 5, "end：", "集中开展时间", level="警告")


def test_outside_period_without_window_is_an_error(repo: Repo) -> None:
    repo.campaign(camp(window=None))
    repo.activity(act(start="2022-09-25 09:30", end="2022-09-25 11:30"))
    res = repo.check()
    assert res.rc == 1 and len(res.errors) == 2, res.text
    res.find(ACT, 4, "start：", "2022-09-15 至 2022-09-21")


@pytest.mark.parametrize(("start", "end"), [("2022-09-15", "2022-09-21"), ("2022-09-21", None)])
def test_inside_period_edges(repo: Repo, start: str, end: str | None) -> None:
    repo.baseline(start=start, end=end)
    assert_ok(repo.check())


def test_end_before_start(repo: Repo) -> None:
    repo.baseline(end="2022-09-17 08:30")
    assert_only_error(repo.check(), ACT, 5, "end：", "早于")


def test_all_day_end_before_start(repo: Repo) -> None:
    repo.baseline(start="2022-09-18", end="2022-09-17")
    assert_only_error(repo.check(), ACT, 5, "end：", "早于")


def test_timed_start_without_end(repo: Repo) -> None:
    repo.baseline(end=None)
    assert_only_error(repo.check(), ACT, line_of(BASE_ACTIVITY, "start:"), "end：", "必须写 end")


def test_all_day_without_end_is_accepted(repo: Repo) -> None:
    repo.baseline(start="2022-09-17", end=None)
    assert_ok(repo.check())


@pytest.mark.parametrize(
    ("start", "end"), [("2022-09-17 09:30", "2022-09-18"), ("2022-09-17", "2022-09-18 11:00")]
)
def test_mixing_date_and_datetime(repo: Repo, start: str, end: str) -> None:
    repo.baseline(start=start, end=end)
    assert_only_error(repo.check(), ACT, 5, "end：", "要么都写时间")


def test_multi_day_all_day_is_accepted(repo: Repo) -> None:
    repo.baseline(start="2022-09-15", end="2022-09-21")
    assert_ok(repo.check())


def test_timezone_in_time_is_refused(repo: Repo) -> None:
    repo.baseline(start="2022-09-17 09:30:00+08:00")
    assert_only_error(repo.check(), ACT, 4, "start：", "时区")


# ---- recurrence ------------------------------------------------------------------------------------


def _with_recurrence(repo: Repo, block: str) -> str:
    repo.campaign()
    text = BASE_ACTIVITY + block
    repo.activity(text)
    return text


def test_recurrence_until_before_start(repo: Repo) -> None:
    text = _with_recurrence(repo, "recurrence:\n  freq: daily\n  until: 2022-09-16\n")
    assert_only_error(repo.check(), ACT, line_of(text, "until:"), "recurrence.until：", "早于")


def test_recurrence_until_outside_window(repo: Repo) -> None:
    text = _with_recurrence(repo, "recurrence:\n  freq: daily\n  until: 2022-10-20\n")
    assert_only_error(repo.check(), ACT, line_of(text, "until:"), "recurrence.until：", "2022-10-20")


def test_recurrence_byday_with_daily(repo: Repo) -> None:
    text = _with_recurrence(repo, "recurrence:\n  freq: daily\n  until: 2022-09-20\n  byday: [sa]\n")
    assert_only_error(repo.check(), ACT, line_of(text, "byday:"), "recurrence.byday：", "weekly")


def test_recurrence_bad_weekday(repo: Repo) -> None:
    text = _with_recurrence(repo, "recurrence: {freq: weekly, until: 2022-09-28, byday: [sa, mon]}\n")
    line = line_of(text, "recurrence:")
    p = assert_only_error(repo.check(), ACT, line, "recurrence.byday[2]：", "是否想写 mo")
    assert p.col == text.splitlines()[p.line - 1].index("mon") + 1


def test_recurrence_empty_rule(repo: Repo) -> None:
    text = _with_recurrence(repo, "recurrence: {}\n")
    res = repo.check()
    assert res.rc == 1 and len(res.errors) == 2, res.text
    res.find(ACT, line_of(text, "recurrence:"), "缺少必填字段 freq")
    res.find(ACT, line_of(text, "recurrence:"), "缺少必填字段 until")


def test_recurrence_bad_freq(repo: Repo) -> None:
    text = _with_recurrence(repo, "recurrence:\n  freq: monthly\n  until: 2022-09-20\n")
    assert_only_error(repo.check(), ACT, line_of(text, "freq:"), "recurrence.freq：", "monthly", "daily")


def test_recurrence_with_no_session(repo: Repo) -> None:
    # 2022-09-17 is a Saturday: weekly on Tuesdays until the 20th, except the 20th → nothing left
    text = _with_recurrence(
        repo, "recurrence:\n  freq: weekly\n  byday: [tu]\n  until: 2022-09-20\n  except: [2022-09-20]\n"
    )
    assert_only_error(repo.check(), ACT, line_of(text, "freq:"), "recurrence：", "一场也没有")


def test_recurrence_interval_zero(repo: Repo) -> None:
    text = _with_recurrence(repo, "recurrence:\n  freq: daily\n  until: 2022-09-20\n  interval: 0\n")
    assert_only_error(repo.check(), ACT, line_of(text, "interval:"), "recurrence.interval：", "至少是 1")


@pytest.mark.parametrize(
    "block",
    [
        "recurrence: {freq: daily, until: 2022-09-21}\n",
        "recurrence:\n  freq: weekly\n  byday: [sa, su]\n  until: 2022-09-25\n  except: [2022-09-18]\n",
        "recurrence: {freq: daily, interval: 2, until: 2022-09-21}\n",
    ],
)
def test_valid_recurrence(repo: Repo, block: str) -> None:
    _with_recurrence(repo, block)
    assert_ok(repo.check())


def test_recurring_timed_session_spanning_days(repo: Repo) -> None:
    text = _with_recurrence(repo, "recurrence: {freq: daily, until: 2022-09-21}\n")
    repo.activity(text.replace("end: 2022-09-17 11:30", "end: 2022-09-18 11:30"))
    assert_only_error(repo.check(), ACT, 5, "end：", "同一天")


# ---- where ---------------------------------------------------------------------------------------

URL_PLACES = {
    "online.url": ("activity", "online:\n  platform: 直播\n  url: {url}\n", "url:"),
    "registration.url": ("activity", "registration:\n  required: true\n  url: {url}\n", "url:"),
    "report.media[2]": (
        "activity",
        "report:\n  media:\n    - https://news.example.cn/ok\n    - {url}\n",
        "- {url}",
    ),
    "document.url": ("campaign", "document:\n  number: 测科协〔2022〕1号\n  url: {url}\n", "url:"),
}


@pytest.mark.parametrize("url", ["'javascript:alert(1)'", "ftp://files.example.cn/a.pdf", "www.example.cn/x"])
@pytest.mark.parametrize("place", list(URL_PLACES))
def test_bad_url_schemes(repo: Repo, place: str, url: str) -> None:
    kind, block, needle = URL_PLACES[place]
    block = block.format(url=url)
    if kind == "campaign":
        text = BASE_CAMPAIGN + block
        repo.campaign(text)
        repo.activity()
        path = CAMP
    else:
        repo.campaign()
        text = BASE_ACTIVITY + block
        repo.activity(text)
        path = ACT
    assert_only_error(repo.check(), path, line_of(text, needle.format(url=url)), f"{place}：", "https://")


@pytest.mark.parametrize("place", list(URL_PLACES))
def test_https_url_is_accepted(repo: Repo, place: str) -> None:
    kind, block, _ = URL_PLACES[place]
    block = block.format(url="https://www.example.cn/a?b=1")
    if kind == "campaign":
        repo.campaign(BASE_CAMPAIGN + block)
        repo.activity()
    else:
        repo.campaign()
        repo.activity(BASE_ACTIVITY + block)
    assert_ok(repo.check())


@pytest.mark.parametrize(
    ("coords", "bad", "phrase"),
    [
        ("  lat: 95\n  lng: 119.9\n", "lat", "-90 到 90"),
        ("  lat: -91\n  lng: 119.9\n", "lat", "-90 到 90"),
        ("  lat: 31.7\n  lng: 190\n", "lng", "-180 到 180"),
        ("  lat: 31.7\n", "lat", "缺少 lng"),
        ("  lng: 119.9\n", "lng", "缺少 lat"),
        ("  lat: 北纬31度\n  lng: 119.9\n", "lat", "数字"),
        ("  lat:\n  lng: 119.9\n", "lng", "缺少 lat"),
    ],
    ids=["lat-95", "lat-minus-91", "lng-190", "lat-only", "lng-only", "lat-not-a-number", "lat-empty"],
)
def test_bad_coordinates(repo: Repo, coords: str, bad: str, phrase: str) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + coords
    repo.activity(text)
    res = repo.check()
    assert res.rc == 1 and len(res.errors) == 1, res.text
    res.find(ACT, line_of(text, f"{bad}:"), f"venue.{bad}：", phrase)


def test_good_coordinates(repo: Repo) -> None:
    repo.campaign()
    repo.activity(BASE_ACTIVITY + "  lat: 31.6853\n  lng: 119.9551\n")
    assert_ok(repo.check())


def test_swapped_coordinates_warn_only_when_in_range(repo: Repo) -> None:
    repo.campaign()
    repo.activity(BASE_ACTIVITY + "  lat: 31.6\n  lng: 31.6\n")
    res = repo.check()
    assert_ok(res, warnings=1)
    res.find(ACT, None, "写反", level="警告")


# ---- ids -----------------------------------------------------------------------------------------


def test_duplicate_activity_id_via_pin(repo: Repo) -> None:
    repo.campaign()
    first = repo.activity(act(title="第一场"))
    text = act(title="第二场", id="kaifangri")
    second = repo.activity(text, district="xinbei", name="kaifangri-xinbei")
    res = repo.check()
    assert res.rc == 1 and len(res.errors) == 2, res.text
    a = res.find(first, None, "kaifangri", "重复")
    b = res.find(second, line_of(text, "id:"), "kaifangri", "重复")
    for p in (a, b):
        assert first in p.msg and second in p.msg  # both files named


def test_two_pins_to_the_same_id(repo: Repo) -> None:
    repo.campaign()
    one = repo.activity(act(title="第一场", id="shared"), name="one")
    two = repo.activity(act(title="第二场", id="shared"), name="two")
    res = repo.check()
    assert res.rc == 1 and len(res.errors) == 2, res.text
    res.find(one, line_of(act(id="shared"), "id:"), "shared")
    res.find(two, line_of(act(id="shared"), "id:"), "shared")


def test_distinct_pinned_id_is_accepted(repo: Repo) -> None:
    repo.campaign()
    repo.activity(act(title="第一场"))
    repo.activity(act(title="第二场", id="kaifangri-jiuming"), name="kaifangri-2")
    res = repo.check()
    assert_ok(res)
    assert "2 项活动" in res.out


def test_pinned_id_must_be_slug(repo: Repo) -> None:
    repo.baseline(id="开放日")
    assert_only_error(repo.check(), ACT, line_of(act(id="x"), "id:"), "id：", "拼音")


# ---- branding --------------------------------------------------------------------------------------


def test_title_with_another_years_label(repo: Repo) -> None:
    repo.baseline(title="2021年全国科普日常州大学开放日")
    p = assert_only_error(repo.check(), ACT, 1, "title：", "2021年全国科普日")
    assert "2022" in p.msg


def test_title_with_another_years_quoted_label(repo: Repo) -> None:
    repo.baseline(title="2021年常州市“全国科普日”专场")
    assert_only_error(repo.check(), ACT, 1, "title：", "2021年", "2022")


def test_title_with_another_brands_label(repo: Repo) -> None:
    repo.baseline(title="2022年全国科技活动周常州大学开放日")
    p = assert_only_error(repo.check(), ACT, 1, "title：", "2022年全国科技活动周")
    assert "2022年全国科普日活动" in p.msg  # says which label the activity belongs to


@pytest.mark.parametrize(
    "title",
    [
        "2022年全国科普日常州大学开放日",
        "全国科普日常州大学开放日",
        "常州大学2021年度成果展",
        "科技活动周回顾讲座",
    ],
)
def test_title_with_own_label_or_none(repo: Repo, title: str) -> None:
    repo.baseline(title=title)
    assert_ok(repo.check())


KEJIZHOU = camp(
    title="2022年测试市科技活动周",
    brand="keji-huodongzhou",
    period="{start: 2022-05-21, end: 2022-05-28}",
    window="{start: 2022-05-01, end: 2022-05-31}",
)
KEJIZHOU_ACT = act(start="2022-05-22 09:30", end="2022-05-22 11:30")


@pytest.mark.parametrize(
    "title", ["2022年全国科技工作者日暨科技活动周启动仪式", "2022年全国科技活动周暨第1届科普宣传周专场"]
)
def test_allowed_also_brands_in_title(repo: Repo, title: str) -> None:
    repo.campaign(KEJIZHOU)
    repo.activity(set_fields(KEJIZHOU_ACT, title=title))
    assert_ok(repo.check())


def test_not_allowed_brand_in_kejizhou_title(repo: Repo) -> None:
    repo.campaign(KEJIZHOU)
    repo.activity(set_fields(KEJIZHOU_ACT, title="2022年全国科普日预热活动"))
    assert_only_error(repo.check(), ACT, 1, "title：", "全国科普日")


def test_brand_after_its_last_year(repo: Repo) -> None:
    repo.campaign(BASE_CAMPAIGN.replace("2022", "2025"))
    repo.activity(BASE_ACTIVITY.replace("2022", "2025"))
    line = line_of(BASE_CAMPAIGN, "brand:")
    assert_only_error(repo.check(), CAMP, line, "brand：", "2024", "brand: kepuyue")


def test_successor_brand_in_its_years(repo: Repo) -> None:
    repo.campaign(BASE_CAMPAIGN.replace("2022", "2025").replace("brand: kepuri", "brand: kepuyue"))
    repo.activity(BASE_ACTIVITY.replace("2022", "2025"))
    assert_ok(repo.check())


def test_brand_before_its_first_year(repo: Repo) -> None:
    repo.campaign(camp(brand="kepuyue"))
    repo.activity()
    assert_only_error(repo.check(), CAMP, line_of(BASE_CAMPAIGN, "brand:"), "brand：", "2025")


def test_unknown_brand(repo: Repo) -> None:
    repo.campaign(camp(brand="kepuri2"))
    repo.activity()
    assert_only_error(repo.check(), CAMP, line_of(BASE_CAMPAIGN, "brand:"), "brand：", "是否想写 kepuri")


def test_edition_brand_needs_edition(repo: Repo) -> None:
    repo.campaign(camp(brand="kepu-xuanchuanzhou"))
    repo.activity()
    assert_only_error(repo.check(), CAMP, line_of(BASE_CAMPAIGN, "brand:"), "edition")
    repo.campaign(camp(brand="kepu-xuanchuanzhou", edition="33"))
    assert_ok(repo.check())


CHENGDU = BASE_CAMPAIGN + "subtheme: 科普新时代\nrules: {city_level_uses_subtheme: true}\n"


@pytest.mark.parametrize(
    ("fields", "where"),
    [({"level": "city"}, "level"), ({"level": "city", "subtheme": "别的副主题"}, "subtheme")],
)
def test_city_level_must_use_subtheme(repo: Repo, fields: dict, where: str) -> None:
    repo.campaign(CHENGDU)
    text = act(**fields)
    repo.activity(text)
    p = assert_only_error(repo.check(), ACT, line_of(text, f"{where}:"), f"{where}：", "副主题")
    assert "subtheme: 科普新时代" in p.msg


@pytest.mark.parametrize(
    "fields",
    [
        {"level": "city", "subtheme": "科普新时代"},
        {"level": "district"},
        {"level": "town", "subtheme": "自选副主题"},
        {},
    ],
)
def test_city_level_rule_passes(repo: Repo, fields: dict) -> None:
    repo.campaign(CHENGDU)
    repo.activity(act(**fields))
    assert_ok(repo.check())


def test_city_level_without_the_rule_is_free(repo: Repo) -> None:
    repo.baseline(level="city", subtheme="随便")
    assert_ok(repo.check())


def test_city_level_rule_needs_a_campaign_subtheme(repo: Repo) -> None:
    text = BASE_CAMPAIGN + "rules: {city_level_uses_subtheme: true}\n"
    repo.campaign(text)
    repo.activity()
    assert_only_error(repo.check(), CAMP, line_of(text, "rules:"), "rules：", "subtheme")


def test_unknown_rule(repo: Repo) -> None:
    text = BASE_CAMPAIGN + "rules:\n  city_level_use_subtheme: true\n"
    repo.campaign(text)
    repo.activity()
    line = line_of(text, "city_level_use")
    assert_only_error(repo.check(), CAMP, line, "是否想写 city_level_uses_subtheme")


# ---- who and how -----------------------------------------------------------------------------------


def test_registration_deadline_after_start(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "registration:\n  required: true\n  deadline: 2022-09-18\n"
    repo.activity(text)
    assert_only_error(repo.check(), ACT, line_of(text, "deadline:"), "registration.deadline：", "晚于")


@pytest.mark.parametrize("deadline", ["2022-09-17", "2022-09-10"])
def test_registration_deadline_on_or_before_start(repo: Repo, deadline: str) -> None:
    repo.campaign()
    block = f"registration:\n  required: true\n  deadline: {deadline}\n  capacity: 50\n"
    repo.activity(BASE_ACTIVITY + block)
    assert_ok(repo.check())


def test_registration_capacity_zero(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "registration: {required: true, capacity: 0}\n"
    repo.activity(text)
    assert_only_error(repo.check(), ACT, line_of(text, "registration:"), "registration.capacity：")


@pytest.mark.parametrize("email", ["wang.example.cn", "wang@example", "王 老师@example.cn", "a@@b.cn"])
def test_bad_email(repo: Repo, email: str) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + f"contact:\n  name: 王老师\n  email: {email}\n"
    repo.activity(text)
    assert_only_error(repo.check(), ACT, line_of(text, "email:"), "contact.email：", "邮箱")


def test_good_email(repo: Repo) -> None:
    repo.campaign()
    block = "contact: {name: 王老师, phone: 0519-86001235, email: kepu@czkx.example.cn}\n"
    repo.activity(BASE_ACTIVITY + block)
    assert_ok(repo.check())


def test_negative_report_figures(repo: Repo) -> None:
    repo.campaign()
    text = BASE_ACTIVITY + "report:\n  participants_offline: 120\n  volunteers: -3\n"
    repo.activity(text)
    assert_only_error(repo.check(), ACT, line_of(text, "volunteers:"), "report.volunteers：", "负数")


@pytest.mark.parametrize("status", ["scheduled", "cancelled", "postponed"])
def test_activity_statuses(repo: Repo, status: str) -> None:
    repo.baseline(status=status)
    assert_ok(repo.check())


def test_unknown_activity_status(repo: Repo) -> None:
    repo.baseline(status="canceled")
    text = act(status="canceled")
    assert_only_error(repo.check(), ACT, line_of(text, "status:"), "status：", "是否想写 cancelled")


def test_draft_campaign_is_accepted(repo: Repo) -> None:
    repo.campaign(BASE_CAMPAIGN + "status: draft\n")
    repo.activity()
    assert_ok(repo.check())


def test_draft_campaign_is_still_validated(repo: Repo) -> None:
    repo.campaign(BASE_CAMPAIGN + "status: draft\n")
    repo.activity(act(category="nope"))
    assert_only_error(repo.check(), ACT, 3, "category：", "nope")


def test_unknown_campaign_status(repo: Repo) -> None:
    text = BASE_CAMPAIGN + "status: 草稿\n"
    repo.campaign(text)
    repo.activity()
    assert_only_error(repo.check(), CAMP, line_of(text, "status:"), "status：", "draft")


@pytest.mark.parametrize(
    ("fields", "field", "phrase"),
    [
        ({"period": "{start: 2022-09-21, end: 2022-09-15}"}, "period", "早于"),
        ({"window": "{start: 2022-09-16, end: 2022-09-28}"}, "window", "包含 period"),
        ({"timezone": "Asia/Beijing"}, "timezone", "Asia/Shanghai"),
        ({"year": "1999"}, "year", "1999"),
    ],
)
def test_campaign_field_rules(repo: Repo, fields: dict, field: str, phrase: str) -> None:
    text = camp(**fields)
    repo.campaign(text)
    repo.activity(act(start="2022-09-17", end=None))
    res = repo.check()
    assert res.rc == 1, res.text
    res.find(CAMP, line_of(text, f"{field}:"), f"{field}：", phrase)


# ---- the command -----------------------------------------------------------------------------------


def test_only_brands_yml_means_nothing_to_check(repo: Repo) -> None:
    res = repo.check()
    assert res.rc == 0, res.text
    assert "没有可检查的内容" in res.out
    assert res.errors == []


def test_no_campaign_folders_means_nothing_to_check(repo: Repo) -> None:
    (repo.cdir / "README.md").write_text("说明", encoding="utf-8")
    res = repo.check()
    assert res.rc == 0 and "没有可检查的内容" in res.out, res.text


def test_completely_empty_campaigns_folder(repo: Repo) -> None:
    (repo.cdir / "brands.yml").unlink()
    res = repo.check()
    assert res.rc == 0 and "没有可检查的内容" in res.out, res.text


def test_missing_brands_yml_with_a_campaign(repo: Repo) -> None:
    (repo.cdir / "brands.yml").unlink()
    repo.baseline()
    res = repo.check()
    assert res.rc == 1
    res.find("campaigns/brands.yml", None, "brands.yml")


def test_broken_brands_yml(repo: Repo) -> None:
    text = (repo.cdir / "brands.yml").read_text(encoding="utf-8") + "bad:\n  name: 坏品牌\n"
    (repo.cdir / "brands.yml").write_text(text, encoding="utf-8")
    repo.baseline()
    res = repo.check()
    assert res.rc == 1
    res.find("campaigns/brands.yml", line_of(text, "name: 坏品牌"), "缺少必填字段 label")


def _two_broken(repo: Repo) -> tuple[str, str, str]:
    repo.campaign()
    good = repo.activity(act(title="好的活动"), name="good")
    one = repo.activity(act(title="活动一", start="9:30"), name="bad-one")
    two = repo.activity(act(title="活动二", category="nope"), district="xinbei", name="bad-two")
    return good, one, two


def test_check_one_file_reports_only_that_file(repo: Repo) -> None:
    _, one, _ = _two_broken(repo)
    res = repo.check(one)
    assert res.rc == 1
    assert {p.path for p in res.problems} == {one}, res.text
    res.find(one, 4, "570")


def test_check_one_good_file_passes_despite_broken_siblings(repo: Repo) -> None:
    good, _, _ = _two_broken(repo)
    res = repo.check(good)
    assert_ok(res)


def test_check_one_file_still_reports_its_campaign(repo: Repo) -> None:
    repo.campaign(camp(timezone="Mars/Olympus"))
    good = repo.activity()
    res = repo.check(good)
    assert res.rc == 1
    res.find(CAMP, None, "timezone：")


def test_check_one_campaign_folder(repo: Repo) -> None:
    repo.baseline()
    other = "2022-other-kepuri"
    repo.campaign(cid=other)
    repo.activity(act(category="nope"), cid=other)
    assert_ok(repo.check(f"campaigns/{CAMPAIGN_ID}"))
    res = repo.check(f"campaigns/{other}")
    assert_only_error(res, f"campaigns/{other}/activities/wujin/kaifangri.yml", 3, "nope")


def test_check_from_a_subfolder(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.baseline(category="nope")
    monkeypatch.chdir(repo.cdir / CAMPAIGN_ID)
    res = repo.check()
    assert_only_error(res, "activities/wujin/kaifangri.yml", 3, "nope")


def test_check_missing_path(repo: Repo) -> None:
    repo.baseline()
    res = repo.check("campaigns/nope.yml")
    assert res.rc == 2
    assert "campaigns/nope.yml" in res.err and "找不到" in res.err


def test_collects_all_errors_in_one_run(repo: Repo) -> None:
    text = BASE_CAMPAIGN + "perod: {start: 2022-09-15, end: 2022-09-21}\n"
    repo.campaign(text)
    a = repo.activity(act(start="9:30"), name="a")
    b = repo.activity(act(category="nope", organizer="no"), district="xinbei", name="b")
    c = repo.activity(BASE_ACTIVITY.encode("gbk"), name="c")
    d = repo.activity(BASE_ACTIVITY + "topics: [x\n", name="d")
    res = repo.check()
    assert res.rc == 1
    res.find(CAMP, line_of(text, "perod:"), "是否想写 period")
    res.find(a, 4, "570")
    res.find(b, 2, "布尔值")
    res.find(c, 1, "GBK")
    res.find(d, 9, "方括号")
    assert len(res.errors) == 5, res.text
    assert "5 个错误" in res.out


def test_warnings_do_not_fail(repo: Repo) -> None:
    repo.campaign()
    repo.activity(act(start="2022-09-25", end=None))
    res = repo.check()
    assert_ok(res, warnings=1)
    assert "0 个错误，1 个警告" in res.out


def test_github_format(repo: Repo) -> None:
    repo.campaign()
    a = repo.activity(act(start="9:30"), name="a")
    w = repo.activity(act(start="2022-09-25", end=None), name="w")
    res = repo.check("--format", "github")
    assert res.rc == 1
    lines = res.out.splitlines()
    err = [ln for ln in lines if ln.startswith("::error ")]
    warn = [ln for ln in lines if ln.startswith("::warning ")]
    assert len(err) == 1 and len(warn) == 1, res.out
    assert re.match(rf"::error file={re.escape(a)},line=4(,col=\d+)?::.*570", err[0]), err[0]
    assert re.match(rf"::warning file={re.escape(w)},line=4(,col=\d+)?::.*集中开展时间", warn[0]), warn[0]
    # only annotations on stdout; the summary goes to stderr
    assert all(ln.startswith("::") for ln in lines), res.out
    assert "1 个错误" in res.err


def test_github_format_file_level_problem(repo: Repo) -> None:
    repo.campaign()
    path = repo.activity(name="Bad_Name")
    res = repo.check("--format", "github")
    assert res.rc == 1
    assert re.search(rf"^::error file={re.escape(path)}::.*Bad_Name", res.out, re.M), res.out


def test_github_format_clean(repo: Repo) -> None:
    repo.baseline()
    res = repo.check("--format", "github")
    assert res.rc == 0 and res.out == "", res.text


# ---- end to end (a real process) -------------------------------------------------------------------


def _kepu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # buffered as on a user's machine (this one may set PYTHONUNBUFFERED): output must survive
    # the os._exit that `kepu` leaves by (commands/cli.run)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [str(KEPU), *args], cwd=cwd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=60
    )


def test_subprocess_check_error(repo: Repo) -> None:
    repo.baseline(start="2022年9月15日 9:30")
    proc = _kepu("check", cwd=repo.root)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    expected = rf"^{re.escape(ACT)}:4:\d+: 错误: start：.*2022-09-15 09:30"
    assert re.search(expected, proc.stdout, re.M), proc.stdout


def test_subprocess_check_ok_and_hostile(repo: Repo) -> None:
    repo.baseline()
    proc = _kepu("check", cwd=repo.root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    repo.activity(HOSTILE["deep-nesting"], name="deep")
    repo.activity(HOSTILE["nul-byte"], name="nul")
    repo.activity(BASE_ACTIVITY + BOMB, name="bomb")
    proc = _kepu("check", cwd=repo.root)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.count(": 错误: ") == 3, proc.stdout


def test_subprocess_output_is_whole(repo: Repo) -> None:
    """`kepu` leaves by os._exit (commands/cli.run): what it printed into a pipe, which Python
    buffers, must still arrive whole, and the exit code stay main's."""
    proc = _kepu("schema", "activity", cwd=repo.root)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["properties"]["title"], proc.stdout[-200:]
    proc = _kepu("no-such-command", cwd=repo.root)
    assert proc.returncode == 2 and "no-such-command" in proc.stderr


# ---- kepu schema -----------------------------------------------------------------------------------

# every field SPEC.md lists, in its order
CAMPAIGN_FIELDS = [
    "title", "brand", "year", "region", "theme", "subtheme", "period", "window", "deadlines", "document",
    "timezone", "districts", "categories", "audiences", "topics", "logos", "rules", "status",
]
ACTIVITY_FIELDS = [
    "title", "organizer", "co_organizers", "organizer_system", "level", "category", "audiences", "topics",
    "start", "end", "recurrence", "tentative", "status", "venue", "online", "subtheme", "description",
    "registration", "contact", "kepuri_id", "id", "report",
]
CAMPAIGN_REQUIRED = {"title", "brand", "year", "region", "period", "districts", "categories"}


@pytest.mark.parametrize(
    ("kind", "fields", "required"),
    [
        ("campaign", CAMPAIGN_FIELDS, CAMPAIGN_REQUIRED),
        ("activity", ACTIVITY_FIELDS, {"title", "organizer", "category", "start"}),
    ],
)
def test_schema(repo: Repo, kind: str, fields: list[str], required: set[str]) -> None:
    res = repo.run("schema", kind)
    assert res.rc == 0
    schema = json.loads(res.out)
    assert schema["type"] == "object"
    assert set(fields) <= set(schema["properties"]), set(fields) - set(schema["properties"])
    assert set(schema["required"]) == required
    assert schema["additionalProperties"] is False
    for name in fields:
        assert schema["properties"][name].get("description"), name


def test_schema_nested_shapes(repo: Repo) -> None:
    act_schema = json.loads(repo.run("schema", "activity").out)
    props = act_schema["properties"]
    assert props["status"]["enum"] == ["scheduled", "cancelled", "postponed"]
    rec = props["recurrence"]["properties"]
    assert set(rec) >= {"freq", "until", "interval", "byday", "except"}
    assert rec["byday"]["items"]["enum"] == ["mo", "tu", "we", "th", "fr", "sa", "su"]
    assert set(props["venue"]["properties"]) == {"name", "address", "lat", "lng"}
    assert props["online"]["properties"]["url"]["pattern"] == "^https?://"
    camp_schema = json.loads(repo.run("schema", "campaign").out)
    assert camp_schema["properties"]["status"]["enum"] == ["published", "draft"]
    assert "city_level_uses_subtheme" in camp_schema["properties"]["rules"]["properties"]


def test_schema_write(repo: Repo) -> None:
    res = repo.run("schema", "--write", "schemas")
    assert res.rc == 0
    for kind in ("campaign", "activity"):
        data = json.loads((repo.root / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        assert data["$schema"].startswith("https://json-schema.org/")


def test_subprocess_schema_is_json(tmp_path: Path) -> None:
    proc = _kepu("schema", "campaign", cwd=tmp_path)
    assert proc.returncode == 0
    assert set(CAMPAIGN_FIELDS) <= set(json.loads(proc.stdout)["properties"])


def test_real_brands_yml_is_what_these_tests_assume() -> None:
    """Guards the assumptions above, so a change to brands.yml fails here with a clear reason."""
    text = (ROOT / "campaigns" / "brands.yml").read_text(encoding="utf-8")
    for needle in ("kepuri:", "until: 2024", "successor: kepuyue", "from: 2025", "also: [kepu-xuanchuanzhou"):
        assert needle in text, needle


@pytest.mark.parametrize("cid", ["search", "guide", "assets", "subscribe", "about", "stylesheets"])
def test_campaign_id_that_is_a_site_path(repo: Repo, cid: str) -> None:
    """A campaign folder named like a page or folder of the site itself would replace it."""
    (repo.root / "content").mkdir(exist_ok=True)
    for page in ("search", "guide", "subscribe", "about"):
        (repo.root / "content" / f"{page}.md").write_text("# x\n", encoding="utf-8")
    path = repo.campaign(cid=cid)
    repo.activity(cid=cid)
    res = repo.check()
    assert res.rc == 1
    res.find(path, 1, "活动专题编号不能用", cid)


def test_own_problems_first_and_sample_warnings_on_request(tmp_path: Path, monkeypatch, capsys) -> None:
    """A clerk's own warnings are not buried under the sample campaigns' (issue 14)."""
    import shutil

    from site_fixtures import copy_repo

    from generator.commands import cli

    repo = copy_repo(tmp_path / "repo", ["2022-xinxiang-kejizhou"])
    own = repo / "campaigns" / "2022-xinxiang-own"
    shutil.copytree(repo / "campaigns" / "2022-xinxiang-kejizhou", own)
    text = (own / "campaign.yml").read_text(encoding="utf-8")
    (own / "campaign.yml").write_text(text.replace("sample: true\n", ""), encoding="utf-8")
    monkeypatch.chdir(repo)
    monkeypatch.delenv("CI", raising=False)
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "警告" in ln and ln.startswith("campaigns/")]
    assert lines and all(ln.startswith("campaigns/2022-xinxiang-own/") for ln in lines), out
    assert "示例数据的警告，没有列出；加 --samples 查看" in out, out
    assert cli.main(["check", "--samples"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "警告" in ln and ln.startswith("campaigns/")]
    firsts = [ln.split("/")[1] for ln in lines]
    assert "2022-xinxiang-kejizhou" in firsts, out
    assert firsts == sorted(firsts, key=lambda c: c != "2022-xinxiang-own"), "own warnings come first"
