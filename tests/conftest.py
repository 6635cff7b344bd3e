"""Shared helpers: a small, valid temporary repository that each test mutates in one place.

The baseline is written as YAML *text* (not dumped from Python) so every test knows exactly which
line a field is on, and the expected line numbers are computed from the input, never from output.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.commands import cli

ROOT = Path(__file__).resolve().parents[1]
# Test repositories keep the example site_url, which fails a build under CI=true (plugin.py); the
# tests of that rule set CI themselves. Removed for the whole session, session fixtures included.
os.environ.pop("CI", None)
REAL_BRANDS = ROOT / "campaigns" / "brands.yml"

CAMPAIGN_ID = "2022-test-kepuri"

BASE_CAMPAIGN = """\
title: 2022年测试市“全国科普日”活动
brand: kepuri
year: 2022
region: 测试市
theme: 喜迎二十大，科普向未来
period: {start: 2022-09-15, end: 2022-09-21}
window: {start: 2022-08-15, end: 2022-09-28}
districts:
  wujin: 武进区
  xinbei: 新北区
categories:
  shiji-zhuchang: 市级主场活动
  gedi-tese: 各地各部门特色活动
  lianhe-xingdong:
    name: 系列科普联合行动
    children:
      xuehui-gaoxiao: 学会高校科普联合行动
      qiye-kexie: 企业科协联合行动
topics:
  weisheng-jiankang: 卫生健康
  yingji-kepu: 应急科普
"""

BASE_ACTIVITY = """\
title: 常州大学化工实验室科普开放日
organizer: 常州大学科学技术协会
category: gedi-tese
start: 2022-09-17 09:30
end: 2022-09-17 11:30
venue:
  name: 常州大学实验楼
  address: 江苏省常州市武进区滆湖中路21号
"""

LINE_RE = re.compile(
    r"^(?P<path>[^\s:][^:]*?)(?::(?P<line>\d+):(?P<col>\d+))?: (?P<level>错误|警告): (?P<msg>.*)$"
)


def set_fields(base: str, **fields: str | None) -> str:
    """Replace top-level ``key: value`` lines in place (None drops the line); unknown keys are
    appended. The value is written verbatim, so tests control the exact YAML text."""
    lines = base.splitlines()
    for key, value in fields.items():
        idx = next((i for i, ln in enumerate(lines) if ln.startswith(f"{key}:")), None)
        if idx is None:
            if value is not None:
                lines.append(f"{key}: {value}")
            continue
        if value is None:
            # drop the line and an indented block below it
            end = idx + 1
            while end < len(lines) and lines[end].startswith(" "):
                end += 1
            del lines[idx:end]
        else:
            lines[idx] = f"{key}: {value}"
    return "\n".join(lines) + "\n"


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based number of the ``nth`` line of ``text`` containing ``needle``."""
    hits = [i + 1 for i, ln in enumerate(text.splitlines()) if needle in ln]
    assert len(hits) >= nth, f"{needle!r} not in test input"
    return hits[nth - 1]


@dataclass
class Problem:
    path: str
    line: int
    col: int
    level: str
    msg: str


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def problems(self) -> list[Problem]:
        found = []
        for ln in self.text.splitlines():
            m = LINE_RE.match(ln)
            if m:
                found.append(
                    Problem(m["path"], int(m["line"] or 0), int(m["col"] or 0), m["level"], m["msg"])
                )
        return found

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "错误"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "警告"]

    def find(self, path: str, line: int | None, *phrases: str, level: str = "错误") -> Problem:
        """The one reported problem at ``path`` (exact, relative) and ``line`` whose message holds
        every phrase; fails with the whole output otherwise."""
        for p in self.problems:
            if p.level != level or p.path != path:
                continue
            if line is not None and p.line != line:
                continue
            if all(ph in p.msg for ph in phrases):
                return p
        raise AssertionError(
            f"no {level} at {path}:{line} containing {phrases!r}; output was:\n{self.text}"
        )


def run_kepu(capsys: pytest.CaptureFixture[str], *args: str, result: type[Result] = Result) -> Result:
    """`kepu ARGS` in this process: its exit code and what it printed (output printed earlier in
    the test is dropped first), never a traceback."""
    capsys.readouterr()
    rc = cli.main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return result(rc, out, err)


class Repo:
    """A temporary repository with brands.yml, one campaign and activity files."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]):
        self.root = root
        self.capsys = capsys
        self.cdir = root / "campaigns"
        self.cdir.mkdir()
        shutil.copy(REAL_BRANDS, self.cdir / "brands.yml")

    # -- writing --------------------------------------------------------------------------

    def campaign(self, text: str = BASE_CAMPAIGN, cid: str = CAMPAIGN_ID) -> str:
        path = self.cdir / cid / "campaign.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return f"campaigns/{cid}/campaign.yml"

    def activity(
        self,
        text: str | bytes = BASE_ACTIVITY,
        district: str = "wujin",
        name: str = "kaifangri",
        cid: str = CAMPAIGN_ID,
        ext: str = ".yml",
    ) -> str:
        """Write an activity file; returns its path as `kepu check` shows it (relative)."""
        path = self.cdir / cid / "activities" / district / f"{name}{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return f"campaigns/{cid}/activities/{district}/{name}{ext}"

    def baseline(self, **fields: str | None) -> str:
        """The valid campaign plus one activity whose top-level fields are replaced."""
        self.campaign()
        return self.activity(set_fields(BASE_ACTIVITY, **fields))

    def site_files(self) -> None:
        """Add mkdocs.yml, content/ and site_theme/ from the project, so `kepu build` runs here."""
        shutil.copy(ROOT / "mkdocs.yml", self.root / "mkdocs.yml")
        for sub in ("content", "site_theme"):
            shutil.copytree(ROOT / sub, self.root / sub)

    # -- running --------------------------------------------------------------------------

    def check(self, *args: str) -> Result:
        return run_kepu(self.capsys, "check", *args)

    def run(self, *args: str) -> Result:
        self.capsys.readouterr()
        rc = cli.main(list(args))
        out, err = self.capsys.readouterr()
        return Result(rc, out, err)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Repo:
    monkeypatch.chdir(tmp_path)
    return Repo(tmp_path, capsys)
