"""Deployment: the example site_url refused in CI for real campaigns, deadline kinds, Chinese usage
errors, `kepu init` and the pull-request summary (`kepu changes`)."""

from __future__ import annotations

import argparse
import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import BASE_CAMPAIGN, Repo, line_of, set_fields
from site_fixtures import copy_repo

from generator.commands.cli import build_site
from generator.rules import registration_deadline, report_deadline
from generator.validate import read_site

ROOT = Path(__file__).resolve().parents[1]
KEPU = [sys.executable, "-m", "generator.commands.cli"]
SMALL = "2021-changzhou-kejizhou"


def run_kepu(cwd: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    return subprocess.run(
        [*KEPU, *args], cwd=cwd, capture_output=True, text=True, input=stdin,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def drop_sample(repo: Path, cid: str) -> None:
    path = repo / "campaigns" / cid / "campaign.yml"
    text = path.read_text(encoding="utf-8")
    assert "\nsample: true\n" in text
    path.write_text(text.replace("\nsample: true\n", "\n"), encoding="utf-8")


# ---- A. the example site_url ----------------------------------------------------------------


def test_every_sample_campaign_says_so() -> None:
    for cfile in sorted(ROOT.glob("campaigns/*/campaign.yml")):
        assert yaml.safe_load(cfile.read_text(encoding="utf-8")).get("sample") is True, cfile


def test_real_campaign_with_example_site_url_fails_in_ci(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo", [SMALL])
    drop_sample(repo, SMALL)
    res = run_kepu(repo, "build", "-d", str(tmp_path / "out"), "-q", env={"CI": "true"})
    assert res.returncode == 1, res.stdout + res.stderr
    assert "mkdocs.yml 的 site_url 还是示例网址 https://kepu.example.cn/" in res.stderr
    assert SMALL in res.stderr and "请把 mkdocs.yml 的 site_url 改成本网站的正式网址" in res.stderr
    assert not (tmp_path / "out").exists()
    # the same through plain `mkdocs build` (the plugin does the check)
    res = subprocess.run(
        [str(Path(sys.executable).with_name("mkdocs")), "build", "-q", "-d", str(tmp_path / "out2")],
        cwd=repo, capture_output=True, text=True, env={**os.environ, "CI": "true"},
    )
    assert res.returncode != 0 and "示例网址" in res.stderr, res.stderr
    # a real site_url builds in CI
    cfg = repo / "mkdocs.yml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace(
        "site_url: https://kepu.example.cn/", "site_url: https://kepu.test-kexie.cn/"), encoding="utf-8")
    res = run_kepu(repo, "build", "-d", str(tmp_path / "out"), "-q", env={"CI": "true"})
    assert res.returncode == 0, res.stderr
    assert "示例网址" not in res.stderr


def test_real_campaign_with_example_site_url_warns_outside_ci(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = copy_repo(tmp_path / "repo", [SMALL])
    drop_sample(repo, SMALL)
    monkeypatch.delenv("CI", raising=False)
    with caplog.at_level(logging.WARNING):
        assert build_site(repo, tmp_path / "out", quiet=True)
    assert any("示例网址" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_sample_site_builds_in_ci(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_repo(tmp_path / "repo", [SMALL])
    monkeypatch.setenv("CI", "true")
    with caplog.at_level(logging.WARNING):
        assert build_site(repo, tmp_path / "out", quiet=True)
    assert not any("示例网址" in r.getMessage() for r in caplog.records)


# ---- B. deadlines[].kind --------------------------------------------------------------------


def _campaign(deadlines: str) -> str:
    return set_fields(BASE_CAMPAIGN, deadlines="\n" + deadlines.rstrip("\n"))


def test_kind_registration_wins_over_the_words(repo: Repo) -> None:
    repo.campaign(_campaign(
        "  - {date: 2022-09-10, what: 报送活动安排表, kind: registration}\n"
        "  - {date: 2022-09-28, what: 完成活动注册后补充材料, kind: info}\n"
        "  - {date: 2022-10-09, what: 报送活动总结, kind: report}\n"
        "  - {date: 2022-10-20, what: 其他事项}\n"
    ))
    site, problems = read_site(repo.root)
    (c,) = site.campaigns
    assert registration_deadline(c).isoformat() == "2022-09-10"
    assert report_deadline(c).isoformat() == "2022-10-09"
    assert not [p for p in problems.items if "kind" in p.message]


def test_registration_found_by_words_warns(repo: Repo) -> None:
    text = _campaign(
        "  - {date: 2022-09-28, what: 在全国科普日网站完成活动注册}\n"
        "  - {date: 2022-10-09, what: 报送活动总结}\n"
    )
    path = repo.campaign(text)
    res = repo.check()
    assert res.rc == 0
    w = res.find(path, line_of(text, "完成活动注册"), "请在 deadlines 里写 kind: registration", level="警告")
    assert w.col == 5
    assert [p for p in res.warnings if "kind" in p.msg] == [w]
    site, _ = read_site(repo.root)
    assert registration_deadline(site.campaigns[0]).isoformat() == "2022-09-28"
    assert report_deadline(site.campaigns[0]).isoformat() == "2022-10-09"  # the last, with no report kind


def test_unknown_kind_is_an_error(repo: Repo) -> None:
    text = _campaign("  - {date: 2022-09-28, what: 完成活动注册, kind: zhuce}\n")
    path = repo.campaign(text)
    res = repo.check()
    assert res.rc == 1
    res.find(path, line_of(text, "zhuce"), "zhuce", "不是可用的值")


def test_sample_deadlines_all_have_a_kind() -> None:
    site, problems = read_site(ROOT)
    assert all(d.kind for c in site.campaigns for d in c.deadlines)
    assert not [p for p in problems.items if "kind" in p.message]
    by_id = {c.id: c for c in site.campaigns}
    assert registration_deadline(by_id["2022-changzhou-kepuri"]).isoformat() == "2022-09-28"
    assert registration_deadline(by_id["2023-jiujiang-kepuri"]).isoformat() == "2023-09-25"
    assert registration_deadline(by_id["2023-chengdu-kepuri"]) is None


# ---- C. Chinese usage errors ----------------------------------------------------------------

ENGLISH = re.compile(
    r"usage|error|argument|invalid|choice|choose|required|unrecognized|options|positional|"
    r"show this help|expected|subcommands|ambiguous", re.I,
)


def _commands() -> list[str]:
    from generator.commands.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("args, says", [
    (["bogus"], ["kepu：错误：参数 命令：不能是 'bogus'，可选：'check'", "运行 kepu -h 查看全部用法"]),
    (["check", "--format", "xml"], ["kepu check：错误：参数 --format：不能是 'xml'，可选：'text', 'github'"]),
    (["build", "--nope"], ["kepu：错误：不认识的参数：--nope"]),
    (["import"], ["kepu import：错误：缺少必填参数：FILE", "运行 kepu import -h"]),
    (["schema", "--write"], ["kepu schema：错误：参数 --write：后面需要一个值"]),
    (["new", "page"], ["kepu new：错误：参数", "不能是 'page'"]),
])
def test_usage_errors_are_chinese(tmp_path: Path, args: list[str], says: list[str]) -> None:
    res = run_kepu(tmp_path, *args)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("用法：kepu"), res.stderr
    for text in says:
        assert text in res.stderr, res.stderr
    assert not ENGLISH.search(res.stderr), res.stderr


def test_every_commands_help_is_chinese(tmp_path: Path) -> None:
    commands = _commands()
    assert {"check", "build", "import", "stats", "new"} <= set(commands)
    for args in [["-h"], *([c, "-h"] for c in commands)]:
        res = run_kepu(tmp_path, *args)
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith("用法：kepu"), res.stdout
        assert "显示这段帮助并退出" in res.stdout, res.stdout
        assert "选项:" in res.stdout, res.stdout
        assert not ENGLISH.search(res.stdout), (args, res.stdout)


def test_other_parsers_in_the_process_stay_english() -> None:
    from generator.commands.cli import build_parser

    build_parser().format_help()
    assert "usage:" in argparse.ArgumentParser(prog="x").format_help()


# ---- D. kepu init ---------------------------------------------------------------------------

NEW_SITE = ["--site-name", "常州科普: 日历 #1", "--site-url", "https://kepu.cz-kexie.cn",
            "--organiser", "常州市科学技术协会", "--icp", "苏ICP备12345678号-1"]


def test_init_with_flags_then_build(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo", [SMALL, "2023-chengdu-kepuri"])
    before = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    res = run_kepu(repo, "init", *NEW_SITE, "--drop-samples")
    assert res.returncode == 0, res.stderr
    assert "已删除 2 个示例活动专题" in res.stdout
    after = (repo / "mkdocs.yml").read_text(encoding="utf-8")
    # only the four lines changed: every comment and the rest of the layout stay
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert [b for _, b in changed] == [
        'site_name: "常州科普: 日历 #1"', 'site_url: "https://kepu.cz-kexie.cn/"',
        '  organiser: "常州市科学技术协会"', '  icp: "苏ICP备12345678号-1"',
    ]
    config = yaml.safe_load(after)
    assert config["extra"] == {"organiser": "常州市科学技术协会", "icp": "苏ICP备12345678号-1"}
    assert sorted(p.name for p in (repo / "campaigns").iterdir()) == ["brands.yml"]
    # a real campaign of the new deployment builds in CI with the new site_url
    res = run_kepu(repo, "new", "campaign", "2024-changzhou-kepuri", "--region", "常州市")
    assert res.returncode == 0, res.stderr
    res = run_kepu(repo, "build", "-q", "-d", str(tmp_path / "out"), env={"CI": "true"})
    assert res.returncode == 0, res.stderr
    home = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "主办单位：常州市科学技术协会" in home and "苏ICP备12345678号-1" in home
    assert "常州科普: 日历 #1" in home
    assert "kepu.example.cn" not in (tmp_path / "out" / "sitemap.xml").read_text(encoding="utf-8")


def test_init_keeps_samples_and_refuses_the_example_url(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo", [SMALL])
    res = run_kepu(repo, "init", "--site-url", "https://kepu.example.cn/", "--keep-samples")
    assert res.returncode == 2 and "示例网址" in res.stderr
    res = run_kepu(repo, "init", "--site-url", "ftp://x")
    assert res.returncode == 2 and "应以 https:// 开头" in res.stderr
    res = run_kepu(repo, "init", "--site-url", "https://kepu.cz-kexie.cn/")  # no terminal: must choose
    assert res.returncode == 2 and "--keep-samples" in res.stderr and SMALL in res.stderr
    assert "kepu.example.cn" in (repo / "mkdocs.yml").read_text(encoding="utf-8")  # nothing written
    res = run_kepu(repo, "init", "--site-url", "https://kepu.cz-kexie.cn/", "--keep-samples")
    assert res.returncode == 0, res.stderr
    assert (repo / "campaigns" / SMALL / "campaign.yml").is_file()
    config = yaml.safe_load((repo / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["site_url"] == "https://kepu.cz-kexie.cn/" and config["site_name"] == "科普活动日历"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_init_asks_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from generator.commands.cli import main

    repo = copy_repo(tmp_path / "repo", [SMALL])
    monkeypatch.chdir(repo)
    # name, a bad url then a good one, organiser kept (enter), ICP, keep samples
    monkeypatch.setattr(sys, "stdin", _Terminal("新乡科普\nkepu.xx.cn\nhttps://kepu.xx.cn\n\n豫ICP备1号\nn\n"))
    assert main(["init"]) == 0
    out, err = capsys.readouterr()
    assert "网站的正式网址" in out and "应以 https:// 开头" in err
    config = yaml.safe_load((repo / "mkdocs.yml").read_text(encoding="utf-8"))
    assert (config["site_name"], config["site_url"]) == ("新乡科普", "https://kepu.xx.cn/")
    assert config["extra"] == {"organiser": "某某市科学技术协会", "icp": "豫ICP备1号"}
    assert (repo / "campaigns" / SMALL).is_dir()


# ---- G. the pull request's effect for visitors (kepu changes) ---------------------------------

ACTS = f"campaigns/{SMALL}/activities"


def _git(root: Path, *args: str) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.cn", "-c", "commit.gpgsign=false",
                    *args], cwd=root, env=env, check=True, capture_output=True)


def _table(markdown: str) -> list[list[str]]:
    rows = [ln for ln in markdown.splitlines() if ln.startswith("| ") and not ln.startswith("| 变动")]
    # split on unescaped pipes, as GitHub's table parser does
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in rows]


def test_changes_between_two_commits(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo", [SMALL])
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    acts = repo / ACTS
    src = (acts / "xinbei/hehai-daxue-changzhou-kaifangri.yml").read_text(encoding="utf-8")
    (acts / "xinbei/hehai-yejian.yml").write_text(
        src.replace("title: 河海大学常州校区实验室与工程中心科普开放日",
                    'title: "夜间开放 | 第二场 <b>*星空*</b>"'), encoding="utf-8")
    f = acts / "wujin/kejiaocheng-bainian-kejilu-kaifangzhou.yml"
    f.write_text(f.read_text(encoding="utf-8").replace("科普开放周", "科普开放周（延长）"), encoding="utf-8")
    f = acts / "tianning/hongmei-shequ-zhoumo-kepu-xiaoketang.yml"
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace("organizer_system:", "status: cancelled\norganizer_system:"), encoding="utf-8")
    (acts / "wujin/gongye-jiqiren-chanye-kepu-kaifangri.yml").unlink()
    (repo / "content" / "about.md").write_text("改了关于页\n", encoding="utf-8")  # not an activity
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "pr")
    res = run_kepu(repo, "changes", "--base", "HEAD~1")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "新增 1 项，取消 1 项，修改 1 项，删除 1 项" in out, out
    rows = _table(out)
    assert [r[0] for r in rows] == ["新增", "取消", "修改", "删除"], out
    added, cancelled, changed, removed = rows
    assert added[1] == r"夜间开放 \| 第二场 &lt;b&gt;\*星空\*&lt;/b&gt;"
    assert added[3] == "新北区" and added[4] == rf"{ACTS}/xinbei/hehai-yejian.yml".replace("_", r"\_")
    assert "2021" in added[2]
    assert cancelled[1] == "红梅街道“周末科普小课堂”：反诈防骗与网络安全" and cancelled[3] == "天宁区"
    assert changed[1] == "常州科教城“百年科技路”科普开放周（延长）" and changed[3] == "武进区"
    assert removed[1] == "“产业+科普”：走进工业机器人智能制造生产线" and removed[3] == "武进区"
    assert "about.md" not in out and "yangwang" not in out
    # the problems of the changed files only (the added copy has the same venue and platform id)
    listed = [ln for ln in out.splitlines() if ln.startswith("- ")]
    assert listed, out
    assert all(any(f in ln for f in ("hehai-yejian", "kejiaocheng", "hongmei")) for ln in listed), out


def test_changes_with_nothing_changed_and_a_bad_base(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo", [SMALL])
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    res = run_kepu(repo, "changes", "--base", "HEAD")
    assert res.returncode == 0 and "没有改动活动文件" in res.stdout
    res = run_kepu(repo, "changes", "--base", "no-such-branch")
    assert res.returncode == 2 and res.stderr.startswith("错误: 读取 git 改动失败")


def test_markdown_cells_stay_one_plain_cell() -> None:
    from generator.commands.changes import md_cell

    assert md_cell("第一行\n第二行 | [链接](http://x) `code` <script>") == (
        r"第一行 第二行 \| \[链接\](http://x) \`code\` &lt;script&gt;"
    )
