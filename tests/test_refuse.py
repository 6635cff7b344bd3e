"""What `kepu check` refuses because no output can represent it (issue 11, hostile input).

Every case changes the valid baseline in one place, runs the real `kepu check` and expects exit 1
with an error at the exact ``file:line`` (in Chinese), then runs `kepu build` on the same repository
and expects it to fail cleanly: exit 1, no traceback, nothing written. Special files (FIFO,
/dev/zero, /dev/urandom) run in a subprocess with a timeout, so a regression fails instead of
hanging the suite. ``CASES`` has a key for every refusal in ``validate.REFUSALS``, the list the
editing guide shows (tests/test_docs.py compares the guide with that table).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BASE_ACTIVITY, BASE_CAMPAIGN, CAMPAIGN_ID, REAL_BRANDS, Repo, Result, line_of, set_fields

from generator.validate import REFUSALS

ACT = f"campaigns/{CAMPAIGN_ID}/activities/wujin/kaifangri.yml"
CAMP = f"campaigns/{CAMPAIGN_ID}/campaign.yml"
BRANDS = "campaigns/brands.yml"
KEPU = Path(sys.executable).parent / "kepu"
TIMEOUT = 60  # seconds; these runs take well under one, a hang is what this bounds

Setup = Callable[[Repo], tuple[str, int | None]]  # writes the repository; returns where the error is


def act(**fields: str | None) -> str:
    return set_fields(BASE_ACTIVITY, **fields)


def camp(**fields: str | None) -> str:
    return set_fields(BASE_CAMPAIGN, **fields)


def in_activity(text: str, needle: str) -> Setup:
    def setup(repo: Repo) -> tuple[str, int | None]:
        repo.campaign()
        repo.activity(text)
        return ACT, line_of(text, needle)

    return setup


def in_campaign(text: str, needle: str) -> Setup:
    def setup(repo: Repo) -> tuple[str, int | None]:
        repo.campaign(text)
        repo.activity()
        return CAMP, line_of(text, needle)

    return setup


def brand_label(label: str) -> Setup:
    def setup(repo: Repo) -> tuple[str, int | None]:
        text = REAL_BRANDS.read_text(encoding="utf-8").replace(
            'label: "{year}年全国科普日活动"', f"label: {label}", 1
        )
        assert label in text
        (repo.cdir / "brands.yml").write_text(text, encoding="utf-8")
        repo.baseline()
        return BRANDS, line_of(text, label)

    return setup


def special(which: str, kind: str) -> Setup:
    """campaign.yml, brands.yml or the activity file as a FIFO or a link to a device."""

    def setup(repo: Repo) -> tuple[str, int | None]:
        repo.baseline()
        shown = {"campaign": CAMP, "brands": BRANDS, "activity": ACT}[which]
        path = repo.root / shown
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to(kind)
        return shown, None

    return setup


def link_outside(which: str) -> Setup:
    def setup(repo: Repo) -> tuple[str, int | None]:
        repo.baseline()
        shown = {"campaign": CAMP, "activity": ACT, "brands": BRANDS}[which]
        path = repo.root / shown
        outside = repo.root.parent / f"{repo.root.name}-outside-{path.name}"
        outside.write_bytes(path.read_bytes())  # a valid file: only its place is wrong
        path.unlink()
        path.symlink_to(outside)
        return shown, None

    return setup


def link_district_folder(repo: Repo) -> tuple[str, int | None]:
    """A district folder replaced by a link to a folder (here inside the repository): not
    entered, and reported, instead of its activities going missing without a word."""
    repo.baseline()
    folder = (repo.root / ACT).parent
    moved = repo.root / "shared" / folder.name
    moved.parent.mkdir()
    folder.rename(moved)
    folder.symlink_to(Path("..", "..", "..", "shared", folder.name))
    return str(Path(ACT).parent), None


def whole_file(text: str | bytes) -> Setup:
    def setup(repo: Repo) -> tuple[str, int | None]:
        repo.campaign()
        repo.activity(text)
        return ACT, None

    return setup


LONG_WINDOW = "{start: 2022-08-15, end: 2100-12-31}"
DAILY_TO_2100 = act(start="2022-09-17", end=None, recurrence="{freq: daily, until: 2100-12-31}")


def daily_to_2100(repo: Repo) -> tuple[str, int | None]:
    """Over 400 sessions needs a window over a year (itself refused); the cap still stands on
    its own, since a daily recurrence until 2100 made 20 MB pages."""
    repo.campaign(camp(window=LONG_WINDOW))
    repo.activity(DAILY_TO_2100)
    return ACT, line_of(DAILY_TO_2100, "recurrence:")


def case(key: str, cid: str, setup: Setup, *phrases: str, isolated: bool = False) -> tuple:
    """One refusal case: the REFUSALS key it covers, an id, the setup, the message phrases;
    ``isolated`` runs check in a subprocess with a timeout (files that could hang it)."""
    return key, cid, setup, phrases, isolated


CASES: list[tuple[str, str, Setup, tuple[str, ...], bool]] = [
    # control characters and lone surrogates, also as YAML escapes
    case("control", "esc-in-title", in_activity(act(title='"讲座\\x1b[2J"'), "title:"), "title", "U+001B"),
    case(
        "control",
        "bel-in-organizer",
        in_activity(act(organizer='"协会\\x07"'), "organizer:"),
        "organizer",
        "U+0007",
    ),
    case(
        "control",
        "nul-in-description",
        in_activity(act(description='"介绍\\u0000"'), "description:"),
        "description",
        "U+0000",
    ),
    case(
        "control",
        "del-in-address",
        in_activity(
            BASE_ACTIVITY.replace("21号", '21号\\x7f"').replace("address: ", 'address: "'), "address:"
        ),
        "venue.address",
        "U+007F",
    ),
    case(
        "control",
        "c1-in-platform",
        in_activity(act(venue=None, online='{url: "https://a.example/", platform: "直播\\x9b"}'), "online:"),
        "online.platform",
        "U+009B",
    ),
    case(
        "control",
        "surrogate-in-title",
        in_activity(act(title='"讲座\\ud800"'), "title:"),
        "title",
        "代理码位",
    ),
    case("control", "surrogate-in-key", in_activity(BASE_ACTIVITY + '"\\ud800": x\n', "ud800"), "代理码位"),
    case(
        "control",
        "surrogate-in-campaign-title",
        in_campaign(camp(title='"测试\\udfff"'), "title:"),
        "title",
        "代理码位",
    ),
    case(
        "control",
        "esc-in-district-name",
        in_campaign(BASE_CAMPAIGN.replace("wujin: 武进区", 'wujin: "武进区\\x1b"'), "wujin:"),
        "districts.wujin",
        "U+001B",
    ),
    # line breaks (and tabs) in one-line fields
    case(
        "line-break",
        "codeowners-rule-in-title",
        in_campaign(camp(title='"2022年测试市\\n* @evil-team"'), "title:"),
        "title",
        "换行",
    ),
    case(
        "line-break",
        "yaml-document-in-title",
        in_campaign(camp(title='"2022年测试市\\n---\\n<b>x</b>"'), "title:"),
        "title",
        "换行",
    ),
    case(
        "line-break",
        "block-scalar-title",
        in_activity(act(title="|\n  第一行\n  第二行"), "title:"),
        "title",
        "换行",
    ),
    case(
        "line-break",
        "tab-in-organizer",
        in_activity(act(organizer='"常州大学\\t科协"'), "organizer:"),
        "organizer",
        "Tab",
    ),
    case(
        "line-break",
        "line-separator-in-venue",
        in_activity(BASE_ACTIVITY.replace("name: 常州大学实验楼", 'name: "实验楼\\u2028二楼"'), "实验楼"),
        "venue.name",
        "行分隔符",
    ),
    case(
        "line-break",
        "newline-in-category-name",
        in_campaign(
            BASE_CAMPAIGN.replace("gedi-tese: 各地各部门特色活动", 'gedi-tese: "各地\\n特色"'), "gedi-tese:"
        ),
        "categories.gedi-tese",
        "换行",
    ),
    case("line-break", "newline-in-label", brand_label('"{year}年\\n全国科普日"'), "label", "换行"),
    # years 2000–2100 everywhere
    case(
        "year",
        "window-9999",
        in_campaign(camp(window="{start: 2022-08-15, end: 9999-12-31}"), "window:"),
        "window.end",
        "9999",
    ),
    case(
        "year",
        "deadline-1999",
        in_campaign(camp() + "deadlines:\n  - {date: 1999-09-01, what: 注册}\n", "1999"),
        "deadlines[1].date",
        "1999",
    ),
    case(
        "year",
        "registration-deadline-0001",
        in_activity(act(registration="{deadline: 0001-01-01}"), "registration:"),
        "registration.deadline",
        "1 超出",
    ),
    case(
        "year",
        "except-2999",
        in_activity(
            act(
                start="2022-09-17",
                end=None,
                recurrence="{freq: daily, until: 2022-09-19, except: [2999-01-01]}",
            ),
            "recurrence:",
        ),
        "recurrence.except[1]",
        "2999",
    ),
    case(
        "year",
        "until-3000",
        in_activity(
            act(start="2022-09-17", end=None, recurrence="{freq: daily, until: 3000-01-01}"), "recurrence:"
        ),
        "recurrence.until",
        "3000",
    ),
    case("year", "start-2101", in_activity(act(start="2101-09-17 09:30"), "start:"), "start", "2101"),
    # recurrence bounds
    case(
        "interval",
        "interval-1e21",
        in_activity(
            act(
                start="2022-09-17",
                end=None,
                recurrence="{freq: weekly, until: 2022-09-24, interval: 1000000000000000000000}",
            ),
            "recurrence:",
        ),
        "recurrence.interval",
        "最多是 366",
    ),
    case(
        "interval",
        "interval-367",
        in_activity(
            act(start="2022-09-17", end=None, recurrence="{freq: daily, until: 2022-09-24, interval: 367}"),
            "recurrence:",
        ),
        "recurrence.interval",
        "最多是 366",
    ),
    case("count", "capacity-1e30",
         in_activity(act(registration="{required: true, capacity: 1000000000000000000000000000000}"),
                     "registration:"),
         "registration.capacity", "最多是 1,000,000,000"),
    case("count", "participants-1e10",
         in_activity(act(report="{participants_online: 10000000000}"), "report:"),
         "report.participants_online", "最多是 1,000,000,000"),
    case("sessions", "daily-until-2100", daily_to_2100, "recurrence", "28", "400 场"),
    case(
        "span",
        "window-over-a-year",
        in_campaign(camp(window="{start: 2022-08-15, end: 2023-08-20}"), "window:"),
        "window",
        "371 天",
    ),
    case(
        "span",
        "period-over-a-year",
        in_campaign(camp(window=None, period="{start: 2022-01-01, end: 2023-01-02}"), "period:"),
        "period",
        "367 天",
    ),
    # labels
    case("label", "format-spec-memory", brand_label('"{year:>3000000000}"'), "label", "格式"),
    case(
        "label",
        "attribute-access",
        brand_label('"{year.__class__.__mro__}"'),
        "label",
        "{year.__class__.__mro__}",
    ),
    case("label", "index-access", brand_label('"{year[0]}"'), "label", "{year[0]}"),
    case("label", "conversion", brand_label('"{year!r}年"'), "label", "格式"),
    case("label", "positional", brand_label('"{0}年"'), "label", "{0}"),
    case("label", "unmatched-brace", brand_label('"{year年"'), "label", "配对"),
    # special files: must not hang or fill memory
    case("special-file", "campaign-fifo", special("campaign", "fifo"), "命名管道", isolated=True),
    case("special-file", "brands-fifo", special("brands", "fifo"), "命名管道", isolated=True),
    case("special-file", "activity-fifo", special("activity", "fifo"), "命名管道", isolated=True),
    case("special-file", "campaign-dev-zero", special("campaign", "/dev/zero"), "设备", isolated=True),
    case("special-file", "brands-dev-zero", special("brands", "/dev/zero"), "设备", isolated=True),
    case("special-file", "activity-dev-urandom", special("activity", "/dev/urandom"), "设备", isolated=True),
    case("symlink-outside", "activity", link_outside("activity"), "仓库以外"),
    case("symlink-outside", "campaign", link_outside("campaign"), "仓库以外"),
    case("symlink-outside", "brands", link_outside("brands"), "仓库以外"),
    case("symlink-folder", "district", link_district_folder, "指向文件夹的符号链接"),
    # refusals older than issue 11, listed in the guide too
    case(
        "too-big",
        "over-1-mb",
        whole_file(BASE_ACTIVITY + "description: |\n" + ("  " + "科普" * 40 + "\n") * 5000),
        "1 MB",
    ),
    case("alias", "alias", in_activity(act(organizer="&o 协会", tentative="*o"), "tentative:"), "别名"),
    case("alias", "merge-key", in_activity(BASE_ACTIVITY + "<<: {level: city}\n", "<<:"), "合并键"),
    case("encoding", "gbk", whole_file(BASE_ACTIVITY.encode("gbk")), "UTF-8"),
]


def run(repo: Repo, *args: str) -> Result:
    """`kepu …` in its own process, bounded by TIMEOUT (a hang fails the test)."""
    proc = subprocess.run([str(KEPU), *args], cwd=repo.root, capture_output=True, text=True, timeout=TIMEOUT)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize(
    ("setup", "phrases", "isolated"),
    [pytest.param(s, p, i, id=f"{key}:{cid}") for key, cid, s, p, i in CASES],
)
def test_check_refuses_and_build_writes_nothing(
    repo: Repo, setup: Setup, phrases: tuple[str, ...], isolated: bool
) -> None:
    path, line = setup(repo)
    res = run(repo, "check") if isolated else repo.check()
    assert res.rc == 1, res.text
    assert "Traceback" not in res.text
    p = res.find(path, line, *phrases)
    if line is None:
        assert p.line == 0 or p.line == 1, res.text  # the whole file

    repo.site_files()
    before = {q.name for q in repo.root.iterdir()}
    built = run(repo, "build", "-q")
    assert built.rc == 1, built.text
    assert "Traceback" not in built.text and "内部错误" not in built.text, built.text
    assert path in built.text and "网站没有" in built.text, built.text
    written = {q.name for q in repo.root.iterdir()} - before
    assert written == set(), "a refused build wrote output"


def test_every_refusal_in_the_guide_has_a_case() -> None:
    assert {key for key, *_ in CASES} == set(REFUSALS)


def test_refusal_messages_are_chinese_and_name_the_field(repo: Repo) -> None:
    repo.baseline(title='"讲座\\x1b[2J"')
    p = repo.check().find(ACT, 1, "title")
    assert p.col == len("title: ") + 1  # the value, where the escape is
    assert "控制字符" in p.msg and "删掉" in p.msg


# ---- what stays accepted ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"description": '"第一段\\n\\n\\t第二段"'}, id="newline-and-tab-in-description"),
        pytest.param({"description": "|\n  第一段\n\n  第二段"}, id="block-description"),
        pytest.param({"description": '"Windows 换行\\r\\n第二行"'}, id="crlf-escape-in-description"),
        pytest.param({"title": ">\n  折叠的\n  标题"}, id="folded-title-is-one-line"),
        pytest.param({"title": '"讲座《AI》：“你好”—— 😀"'}, id="punctuation-and-emoji"),
        pytest.param(
            {
                "start": "2022-09-17",
                "end": None,
                "recurrence": "{freq: daily, until: 2022-09-28, interval: 366}",
            },
            id="interval-366",
        ),
    ],
)
def test_ordinary_text_and_bounds_are_accepted(repo: Repo, fields: dict[str, str | None]) -> None:
    repo.baseline(**fields)
    res = repo.check()
    assert res.rc == 0 and res.errors == [], res.text


def test_window_of_exactly_366_days_is_accepted(repo: Repo) -> None:
    repo.campaign(camp(window="{start: 2022-01-01, end: 2023-01-01}"))
    repo.activity()
    res = repo.check()
    assert res.rc == 0, res.text


def test_label_with_escaped_braces_and_both_fields_is_accepted(repo: Repo) -> None:
    brand_label('"{{第{edition}届}}{year}年"')(repo)
    repo.campaign(camp(edition="33"))
    res = repo.check()
    assert res.rc == 0, res.text


def test_symlink_inside_the_repository_is_accepted(repo: Repo) -> None:
    repo.baseline()
    path = repo.root / ACT
    target = repo.root / "shared" / "kaifangri.yml"
    target.parent.mkdir()
    path.rename(target)
    path.symlink_to(Path("..", "..", "..", "..", "shared", "kaifangri.yml"))
    res = repo.check()
    assert res.rc == 0, res.text
    assert "1 项活动" in res.out


def test_sessions_over_400_come_with_the_window_error(repo: Repo) -> None:
    daily_to_2100(repo)
    res = repo.check()
    assert res.rc == 1, res.text
    res.find(CAMP, line_of(BASE_CAMPAIGN, "window:"), "window", "366")
    assert len(res.errors) == 2, res.text


def test_read_bytes_reads_whole_files_and_stays_bounded(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """load.read_bytes sizes its read by the file (one byte over): a file of exactly the limit is
    read whole, one byte more is refused, and a file that grew after it was measured is still
    read whole up to the limit and refused beyond it."""
    from generator import load

    exact = tmp_path / "exact.yml"
    exact.write_bytes(b"a" * load.MAX_BYTES)
    assert load.read_bytes(exact, "exact.yml") == b"a" * load.MAX_BYTES
    over = tmp_path / "over.yml"
    over.write_bytes(b"a" * (load.MAX_BYTES + 1))
    with pytest.raises(load.LoadError, match="1 MB"):
        load.read_bytes(over, "over.yml")
    grown = tmp_path / "grown.yml"
    grown.write_bytes(b"title: x\n" * 500)
    real_fstat = os.fstat

    def measured_small(fd: int) -> os.stat_result:  # as if the file was 10 bytes when measured
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], 10, *st[7:]))

    monkeypatch.setattr(load.os, "fstat", measured_small)
    assert load.read_bytes(grown, "grown.yml") == b"title: x\n" * 500
    small = os.stat_result((0o100644, 0, 0, 1, 0, 0, 10, 0, 0, 0))
    monkeypatch.setattr(Path, "stat", lambda self, **_: small)
    with pytest.raises(load.LoadError, match="1 MB"):
        load.read_bytes(over, "over.yml")
