"""The content cache (generator/cache.py): a build that takes what it can from the cache is the
same, byte for byte, as a build without one, after every kind of edit staff make; and a damaged
or old-version cache is noticed, ignored and remade, never trusted."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import jinja2.bccache
import pytest
from conftest import run_kepu
from site_fixtures import copy_repo, set_top_level

from generator.cache import Cache, key
from generator.commands.cli import build_site
from generator.outputs import feeds as feed_module
from generator.outputs.build import SiteBuild
from generator.outputs.pages import Renderer
from generator.validate import read_site

pytest_plugins = ["site_fixtures"]

CAMPAIGNS = ["2023-chengdu-kepuri", "2022-xinxiang-kejizhou"]
ENV = {"GIT_AUTHOR_NAME": "测试", "GIT_AUTHOR_EMAIL": "t@example.cn", "GIT_COMMITTER_NAME": "测试",
       "GIT_COMMITTER_EMAIL": "t@example.cn", "GIT_AUTHOR_DATE": "2023-09-01T08:00:00+08:00",
       "GIT_COMMITTER_DATE": "2023-09-01T08:00:00+08:00"}


def git(repo: Path, *args: str, when: str | None = None) -> None:
    env = {**os.environ, **ENV}
    if when:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def assert_same(warm: Path, cold: Path) -> None:
    a, b = tree(warm), tree(cold)
    assert a.keys() == b.keys(), f"files differ: {sorted(a.keys() ^ b.keys())[:10]}"
    differ = [p for p in a if a[p] != b[p]]
    assert not differ, f"{len(differ)} files differ between the cached and the uncached build: {differ[:10]}"


def blobs(repo: Path) -> dict[str, tuple[str, int, int]]:
    """The stored pages: key → (pack, offset, length); a page made again gets a new place."""
    return dict(Cache(repo / ".cache" / "kepu", print).table("pages").old)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = copy_repo(tmp_path / "repo", CAMPAIGNS)
    git(r, "init", "-q", "-b", "main")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "活动")
    assert build_site(r, tmp_path / "first", quiet=True)  # fills the cache
    assert blobs(r), "the first build stored nothing in the cache"
    return r


def rebuild_both(repo: Path, tmp_path: Path, name: str) -> tuple[Path, Path]:
    """The warm build goes over the first site (writing only what changed, publish.merge_in),
    the cold one into an empty folder without the cache: the two must be the same files."""
    warm, cold = tmp_path / "first", tmp_path / f"{name}-cold"
    assert build_site(repo, warm, quiet=True), "the cached build failed"
    assert build_site(repo, cold, quiet=True, cache=False), "the uncached build failed"
    assert_same(warm, cold)
    return warm, cold


def an_activity(repo: Path) -> Path:
    return sorted((repo / "campaigns" / CAMPAIGNS[0] / "activities").rglob("*.yml"))[0]


def page_text(site: Path) -> str:
    """An activity page of the first campaign."""
    return next(site.glob(f"{CAMPAIGNS[0]}/activities/*/index.html")).read_text(encoding="utf-8")


def test_unchanged_pages_come_from_the_cache_and_an_edited_one_is_remade(repo: Path, tmp_path: Path):
    before = blobs(repo)
    victim = an_activity(repo)
    set_top_level(victim, "title", "缓存测试：改过的活动名称")
    warm, _ = rebuild_both(repo, tmp_path, "activity")
    after = blobs(repo)
    kept = [b for b in before if after.get(b) == before[b]]
    assert len(kept) >= len(before) - 6, "unchanged pages were made again instead of taken from the cache"
    assert set(after) - set(before), "the edited activity's page was not stored under a new key"
    pages = [p for p in warm.rglob("index.html") if "缓存测试：改过的活动名称" in p.read_text("utf-8")]
    assert pages, "the edit is not on the site"


def test_committing_an_edit_changes_the_event_history_the_same_way(repo: Path, tmp_path: Path):
    """SEQUENCE and LAST-MODIFIED come from git: committing an edit already built (the file's
    bytes stay the same) must still change the cached event."""
    victim = an_activity(repo)
    set_top_level(victim, "title", "提交后的新名称")
    rebuild_both(repo, tmp_path, "edited")  # cached with the edit not yet committed
    git(repo, "commit", "-q", "-am", "改名", when="2023-09-05T10:00:00+08:00")
    warm, _ = rebuild_both(repo, tmp_path, "committed")
    feeds = [p.read_text(encoding="utf-8").replace("\r\n ", "") for p in warm.rglob("*.ics")]
    mine = [f for f in feeds if "提交后的新名称" in f]
    assert mine and all("LAST-MODIFIED:20230905T020000Z" in f for f in mine), \
        "the commit did not reach the event's LAST-MODIFIED"


def test_campaign_yml_edit(repo: Path, tmp_path: Path):
    set_top_level(repo / "campaigns" / CAMPAIGNS[0] / "campaign.yml", "title", "2023年成都市全国科普日（改）")
    warm, _ = rebuild_both(repo, tmp_path, "campaign")
    assert "2023年成都市全国科普日（改）" in page_text(warm)


def test_brands_yml_edit(repo: Path, tmp_path: Path):
    brands = repo / "campaigns" / "brands.yml"
    text = brands.read_text(encoding="utf-8")
    assert "{year}年全国科普日活动" in text
    brands.write_text(text.replace("{year}年全国科普日活动", "{year}年全国科普日主题活动"), encoding="utf-8")
    warm, _ = rebuild_both(repo, tmp_path, "brands")
    assert "2023年全国科普日主题活动" in page_text(warm)


def test_template_override_edit(repo: Path, tmp_path: Path):
    """A site's own template (site_theme/kepu/) is part of every page's key."""
    from generator.outputs.pages import TEMPLATES

    own = repo / "site_theme" / "kepu"
    own.mkdir(parents=True, exist_ok=True)
    text = (TEMPLATES / "activity.html").read_text(encoding="utf-8")
    (own / "activity.html").write_text(text + "\n<!-- 本地模板 -->\n", encoding="utf-8")
    warm, _ = rebuild_both(repo, tmp_path, "template")
    assert "<!-- 本地模板 -->" in page_text(warm)


def test_deleted_activity_leaves_no_page_and_its_blob_goes(repo: Path, tmp_path: Path):
    victim = an_activity(repo)
    victim.unlink()
    before = set(blobs(repo))
    rebuild_both(repo, tmp_path, "deleted")
    after = set(blobs(repo))
    # its own page goes; its district's page is remade under a new key, the old one goes too
    assert len(after) == len(before) - 1 and len(before - after) == 2, "stale pages were kept in the cache"


def test_damaged_cache_is_noticed_ignored_and_remade(repo: Path, tmp_path: Path, caplog):
    cache = next((repo / ".cache" / "kepu").glob("*/"))
    pack = next(cache.glob("packs/*"))
    pack.write_bytes(pack.read_bytes()[:40])  # cut short, as by a full disk
    shard = next(cache.glob("read-*.pickle"))
    shard.write_bytes(b"\x80\x05not a pickle")
    compiled = sorted(cache.glob("templates/*"))
    assert len(compiled) > 10, "the compiled templates (ours and the theme's) were not kept"
    for n, template in enumerate(compiled):  # Jinja's own loader stops at a damaged pickle
        magic = len(jinja2.bccache.bc_magic)  # kept: past it Jinja unpickles the source's checksum
        template.write_bytes(template.read_bytes()[:magic] + (b"\x80\x05not a pickle" if n % 2 else b""))
    rebuild_both(repo, tmp_path, "damaged")
    assert "已损坏" in caplog.text, "the damaged cache was not reported"
    caplog.clear()
    rebuild_both(repo, tmp_path, "repaired")
    assert "已损坏" not in caplog.text, "the damaged entries were not remade"


@pytest.mark.parametrize("options", ["size=96k", "ro"])
def test_a_cache_that_cannot_be_written_is_said_and_the_build_goes_on(
        repo: Path, tmp_path: Path, caplog, options: str):
    """The cache on a full disk (a tmpfs that fills part way through the build) or a read-only
    one: the build still succeeds, says once that the cache is not written, and is the same as
    a build without the cache."""
    cache = repo / ".cache"
    shutil.rmtree(cache)
    cache.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(cache)],
                      capture_output=True).returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) here")
    try:
        set_top_level(an_activity(repo), "title", "缓存写不进去")
        rebuild_both(repo, tmp_path, f"unwritable-{options}")
        said = [r.getMessage() for r in caplog.records if "缓存" in r.getMessage()]
        assert said and all(("无法写入" in m or "无法使用" in m) for m in said), said
        assert len(said) <= 4, f"said per file instead of once: {said[:5]}"
    finally:
        subprocess.run(["umount", str(cache)], check=False)


def test_a_cache_of_another_version_is_not_used(repo: Path, tmp_path: Path, caplog):
    base = repo / ".cache" / "kepu"
    (current,) = [p for p in base.iterdir() if p.is_dir()]
    old = base / ("0" * 20)
    current.rename(old)  # as a cache written by another version of kepu would sit there
    keep = base / "notes"  # a folder not named like a version is not the cache's to remove
    keep.mkdir()
    rebuild_both(repo, tmp_path, "other-version")
    assert "另一版本" in caplog.text
    assert not old.exists() and keep.is_dir()


def test_a_version_change_gives_a_new_folder(tmp_path: Path):
    notes: list[str] = []
    Cache(tmp_path, notes.append, version=key("a")).table("t")
    Cache(tmp_path, notes.append, version=key("b"))
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [key("b")[:20]]
    assert len(notes) == 1 and "另一版本" in notes[0]


def test_a_file_edited_within_the_same_clock_tick_is_not_trusted_by_its_stat(tmp_path: Path):
    """Table.stat_trusted: an unchanged size and mtime prove nothing for a file modified around
    the time the cache recorded it (its mtime can stay the same through an edit)."""
    c = Cache(tmp_path, print, version=key("v"))
    t = c.table("t")
    t.put(key("x"), 1)
    t.save()
    again = c.table("t")
    now = os.stat(tmp_path).st_mtime_ns
    assert not again.stat_trusted(key("x"), now), "a file as new as the cache was trusted by its stat"
    assert again.stat_trusted(key("x"), now - 10**10)


def test_kepu_check_paths_follow_where_it_runs(repo: Path, capsys, monkeypatch):
    """Cached models hold the paths of their messages, which are relative to where staff run the
    command: run from the campaign folder, a warning names the file from there, not as the build
    (run at the repository root) cached it."""
    from generator.commands import cli

    monkeypatch.chdir(repo)
    capsys.readouterr()
    cli.main(["check", "--samples"])
    at_root = [ln for ln in capsys.readouterr().out.splitlines() if ": 警告: " in ln]
    assert at_root and all(ln.startswith("campaigns/") for ln in at_root), at_root
    monkeypatch.chdir(repo / "campaigns" / CAMPAIGNS[0])
    cli.main(["check", "--samples", "."])
    inside = [ln for ln in capsys.readouterr().out.splitlines() if ": 警告: " in ln]
    mine = [ln for ln in inside if not ln.startswith(("../", "campaigns/"))]
    assert mine and all(ln.startswith("activities/") for ln in mine), inside


def test_a_deleted_campaign_leaves_no_tables(repo: Path, tmp_path: Path):
    gone = CAMPAIGNS[1]
    cache = next(p for p in (repo / ".cache" / "kepu").iterdir() if p.is_dir())
    assert list(cache.glob(f"read-{gone}.*.pickle")), "the first build kept no table for the campaign"
    assert (cache / f"lean-{gone}.pickle").is_file(), "the first build kept no lean record (kepu check FILE)"
    shutil.rmtree(repo / "campaigns" / gone)
    rebuild_both(repo, tmp_path, "campaign-deleted")
    assert not [p.name for p in cache.glob(f"*-{gone}*.pickle")], "the deleted campaign's tables were kept"


def stamps(site: Path) -> dict[str, tuple[int, int]]:
    """Every file's (inode, mtime): a file written again gets new ones."""
    return {p.relative_to(site).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in site.rglob("*") if p.is_file()}


def test_a_rebuild_writes_only_what_changed(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Over the previous site, an edit rewrites its own page, feed and the listings that show it;
    the other activities' pages and feeds stay the very same files; files the new site no longer
    has (a deleted activity, a stray file) go, with their folders; the result is the cold build."""
    from generator.commands.publish import MARKER

    site = tmp_path / "first"
    (site / "stray.html").write_text("不是本网站的页面", encoding="utf-8")
    victim, gone = sorted((repo / "campaigns" / CAMPAIGNS[0] / "activities").rglob("*.yml"))[:2]
    set_top_level(victim, "title", "只重写改动的文件")
    gone.unlink()
    # a page cut short is noticed by its size and made again, though its key is unchanged
    cut = next(p for p in site.glob(f"{CAMPAIGNS[1]}/activities/*/index.html"))
    cut.write_bytes(cut.read_bytes()[:-10])
    before = stamps(site)
    made: list[str] = []
    real = SiteBuild.activity_page
    monkeypatch.setattr(SiteBuild, "activity_page", lambda self, a: made.append(a.slug) or real(self, a))
    calendars: list[str] = []
    real_calendar = feed_module._calendar
    monkeypatch.setattr(feed_module, "_calendar", lambda ctx, path, *rest: calendars.append(path)
                        or real_calendar(ctx, path, *rest))
    listed: list[str] = []
    real_listing = Renderer.campaign_page
    monkeypatch.setattr(Renderer, "campaign_page",
                        lambda self, c: listed.append(c.id) or real_listing(self, c))
    assert build_site(repo, site, quiet=True)
    monkeypatch.undo()
    assert listed == [CAMPAIGNS[0]], "the unchanged campaign's page was made again"
    # the files the last build made from the same keys are not even made again: the pages and
    # feeds of the other campaign and of the other districts
    assert sorted(made) == sorted([victim.stem, cut.parent.name]), made
    assert calendars and not [p for p in calendars if p.startswith(CAMPAIGNS[1])], calendars
    assert len(calendars) < len(list(site.rglob("*.ics"))) / 3, calendars
    rebuild_both(repo, tmp_path, "changed")
    after = stamps(site)
    assert "stray.html" not in after
    dropped = {p for p in before if p not in after and p != "stray.html"}
    assert dropped and all(gone.stem in p for p in dropped), f"unexpected removals: {sorted(dropped)[:5]}"
    assert not [d for d in site.rglob(f"*{gone.stem}*")], "the deleted activity's folder is still there"
    rewritten = {p for p in after if p in before and after[p] != before[p]}
    pages = [p for p in rewritten if "/activities/" in p and p.endswith("index.html")]
    text = "".join((site / p).read_text("utf-8") for p in pages)
    assert len(pages) == 2 and "只重写改动的文件" in text, pages
    kept = [p for p in after if p in before and after[p] == before[p]]
    activity_pages = [p for p in after if "/activities/" in p and p.endswith("index.html")]
    assert len([p for p in kept if p in activity_pages]) == len(activity_pages) - 2
    feeds = [p for p in after if p.startswith(f"{CAMPAIGNS[1]}/") and p.endswith(".ics")]
    assert feeds and all(after[p] == before[p] for p in feeds), "the other campaign's feeds were rewritten"
    assert len(rewritten) < len(after) / 4, f"{len(rewritten)} of {len(after)} files were written again"
    # another version's site (its marker says so) is replaced whole, never merged into
    (site / MARKER).write_text("kepu-calendar 旧版本\n", encoding="utf-8")
    before = stamps(site)
    rebuild_both(repo, tmp_path, "other-version")
    after = stamps(site)
    assert not [p for p in after if p in before and after[p] == before[p] and p != MARKER]


def test_a_rebuild_keeps_precompressed_copies_right(repo: Path, tmp_path: Path):
    """Turning precompress on over a site without copies writes them all; an edit then rewrites
    its page's copy; turning it off removes them; every step equals a cold build."""
    cfg = repo / "mkdocs.yml"
    text = cfg.read_text(encoding="utf-8")
    assert "  - kepu" in text
    cfg.write_text(text.replace("  - kepu", "  - kepu:\n      precompress: true", 1), encoding="utf-8")
    warm, _ = rebuild_both(repo, tmp_path, "gz-on")
    html_files = [p for p in warm.rglob("*.html")]
    assert html_files and all(p.with_name(p.name + ".gz").is_file() for p in html_files)
    set_top_level(an_activity(repo), "title", "压缩副本也要更新")
    warm, _ = rebuild_both(repo, tmp_path, "gz-edit")
    cfg.write_text(text, encoding="utf-8")
    warm, _ = rebuild_both(repo, tmp_path, "gz-off")
    assert not list(warm.rglob("*.html.gz"))


def test_a_link_in_the_old_site_is_never_written_through(repo: Path, tmp_path: Path):
    """A rebuild writes into the previous site only when it holds nothing but files and folders:
    with a link planted in it (here: an activity's folder pointing elsewhere), the whole site is
    built anew and swapped in, and what the link pointed to is left alone."""
    site = tmp_path / "first"
    page = next(site.glob(f"{CAMPAIGNS[0]}/activities/*/index.html"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index.html").write_text("别人的文件", encoding="utf-8")
    shutil.rmtree(page.parent)
    page.parent.symlink_to(elsewhere, target_is_directory=True)
    set_top_level(an_activity(repo), "title", "链接测试")
    rebuild_both(repo, tmp_path, "link")
    assert (elsewhere / "index.html").read_text(encoding="utf-8") == "别人的文件"
    assert not page.parent.is_symlink() and page.is_file()


def test_an_edit_patches_the_search_index(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """After an edit that keeps every document in its place, the index is the last one patched
    (search._patch: only the shards of the changed terms are made), the same bytes as made whole;
    a deleted document makes it whole again."""
    from generator.outputs import search

    whole: list[int] = []
    real = search._full_index
    monkeypatch.setattr(search, "_full_index", lambda *a, **k: whole.append(1) or real(*a, **k))
    victim = an_activity(repo)
    set_top_level(victim, "title", "全新词汇蝾螈观察")
    set_top_level(victim, "description", "蝾螈与蜥蜴的区别")
    warm, _ = rebuild_both(repo, tmp_path, "patched")
    assert len(whole) == 1, "the cached build made the whole index (only the uncached one should)"
    manifest = (warm / "search" / "manifest.json").read_text(encoding="utf-8")
    assert '"count"' in manifest
    shards = [p.read_text(encoding="utf-8") for p in (warm / "search" / "t").glob("*.json")]
    assert any('"蝾螈"' in s for s in shards), "the new term is not in the index"
    whole.clear()
    # a moved document (another date) changes the ids of those between: still a patch, as each
    # id's terms are replaced by those of the document now there
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace("2023-09-1", "2023-09-2"), encoding="utf-8")
    assert victim.read_text(encoding="utf-8") != text
    rebuild_both(repo, tmp_path, "moved")
    assert len(whole) == 1
    whole.clear()
    victim.unlink()  # one document fewer: every later id changes, the index is made whole
    rebuild_both(repo, tmp_path, "fewer")
    assert len(whole) == 2


def test_an_edit_words_only_its_own_search_document_again(repo: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    """The cache keeps each activity's search document with its terms: a rebuild after one edit
    makes that one document again, and takes every other from the cache (the same bytes as a
    build without it, which makes them all)."""
    from generator.outputs import search

    worded: list[str] = []
    real = search.when_text
    monkeypatch.setattr(search, "when_text", lambda a: worded.append(a.title) or real(a))
    victim = an_activity(repo)
    set_top_level(victim, "title", "新题目的活动")
    assert build_site(repo, tmp_path / "first", quiet=True)
    assert worded == ["新题目的活动"]
    worded.clear()
    cold = tmp_path / "words-cold"
    assert build_site(repo, cold, quiet=True, cache=False)
    pages = list(cold.glob("*/activities/*/index.html"))
    assert len(worded) == len(pages) > 1, "the uncached build should word every document"
    assert_same(tmp_path / "first", cold)


# -- kepu check FILE: the other files from the cache's lean record -----------------------------

LEAN_CAMPAIGN = CAMPAIGNS[0]


@pytest.fixture
def checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose files are an hour old (so their stat may stand for their content),
    checked once in full, which fills the cache; the tests run from its root."""
    r = copy_repo(tmp_path / "repo", [LEAN_CAMPAIGN])
    hour_ago = time.time() - 3600
    for p in r.rglob("*"):
        os.utime(p, (hour_ago, hour_ago), follow_symlinks=False)
    monkeypatch.chdir(r)
    return r


def test_kepu_check_of_one_file_with_the_cache_says_what_it_says_without(
    checked: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
):
    """`kepu check FILE` takes every other activity file from the lean record (model.Lean) and
    reads only FILE, yet reports the problems between FILE and the others exactly as a check
    without cache: after the cache was filled, after another file was edited (its record is
    then stale) and without a lean record at all."""
    from generator import validate
    from generator.commands import cli

    adir = Path("campaigns") / LEAN_CAMPAIGN / "activities" / "chenghua"
    other = adir / "kepu-lehuo-hudong-jishi.yml"
    named = adir / "zz-fuben.yml"  # after ``other`` in file order: the warnings are on it
    # the same activity again, under the other's id: duplicate id, activity and platform number
    named.write_text(other.read_text(encoding="utf-8") + f"id: {other.stem}\n", encoding="utf-8")
    read: list[str] = []
    real_read = validate.read_activity

    def counted(path: Path, *args: object) -> object:
        read.append(validate.display(path))
        return real_read(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(validate, "read_activity", counted)

    def check(*, cache: bool = True) -> tuple[int, str]:
        read.clear()
        with monkeypatch.context() as m:
            if not cache:
                m.setattr(cli, "content_cache", lambda root: None)
            res = run_kepu(capsys, "check", "--samples", str(named))
        return res.rc, res.out

    def problems(out: str) -> list[str]:
        return [ln for ln in out.splitlines() if ": 错误: " in ln or ": 警告: " in ln]

    without = check(cache=False)
    lines = problems(without[1])
    twice = f"活动编号 {other.stem} 重复（{other}、{named}）"
    assert any(ln.startswith(f"{named}:") and twice in ln for ln in lines), lines
    assert any(f"{named}:" in ln and f"可能与 {other} 重复" in ln for ln in lines), lines
    assert any(f"{named}:" in ln and f"全国平台编号与 {other} 相同" in ln for ln in lines), lines
    assert all(ln.startswith(f"{named}:") for ln in lines), lines
    run_kepu(capsys, "check")  # fills the cache, the lean record included
    assert check() == without
    assert read == [str(named)], "other files were read instead of taken from the lean record"

    # another file edited: its record is stale, so it is read again, and the duplicate is gone
    text = other.read_text(encoding="utf-8")
    other.write_text(text.replace("title: ", "title: 改过的", 1), encoding="utf-8")
    without = check(cache=False)
    assert not any("可能与" in ln for ln in problems(without[1])), without[1]
    assert any(f"活动编号 {other.stem} 重复" in ln for ln in problems(without[1])), without[1]
    assert check() == without
    assert sorted(read) == sorted([str(named), str(other)])
    assert check() == without
    assert read == [str(named)], "the record read again was not kept in the lean record"

    # no lean record (a cache made by a build before it existed): every file is read
    tables = list((checked / ".cache" / "kepu").glob(f"*/lean-{LEAN_CAMPAIGN}*.pickle"))
    assert tables
    for table in tables:
        table.unlink()
    assert check() == without
    assert len(read) > 10
    assert check() == without
    assert read == [str(named)]


def test_a_file_that_cannot_be_hashed_is_read_and_left_out_of_the_cache(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A file with no cache entry is hashed where it is read (validate._read_cached). Should that
    read fail (the file changed under the build), the file is still read and checked the careful
    way, and only left out of the cache: the next build reads it again."""
    shutil.rmtree(repo / ".cache")
    victim = an_activity(repo)
    real = Path.read_bytes

    def flaky(self: Path) -> bytes:
        if self.name == victim.name and self.parent == victim.parent:
            raise OSError(5, "Input/output error")
        return real(self)

    def victims(cached: bool) -> list[str]:
        cache = Cache.open(repo / ".cache" / "kepu", print) if cached else None
        site, problems = read_site(repo, cache=cache)
        assert not problems.errors
        return [a.source_key for c in site.campaigns for a in c.activities
                if Path(a.pos.path).parts[-2:] == victim.parts[-2:]]

    with monkeypatch.context() as m:
        m.setattr(Path, "read_bytes", flaky)
        rebuild_both(repo, tmp_path, "unhashed")
        assert victims(cached=True) == [""], "a file whose bytes were not hashed got a content key"
    assert victims(cached=True)[0], "the file was not hashed and cached on the next build"
