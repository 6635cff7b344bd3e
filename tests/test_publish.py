"""Publishing (issue 11): `kepu build -d` never deletes what it did not write, a failed or
refused build leaves the old site whole, the new site is swapped in without a gap, a killed
build's leftovers are cleaned up, and an unwritable folder gets a Chinese message."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.register_assert_rewrite("site_fixtures")
from site_fixtures import copy_repo  # noqa: E402

from generator.commands.publish import MARKER, swap_in  # noqa: E402

pytest_plugins = ["site_fixtures"]
CAMPAIGN = "2022-xinxiang-kejizhou"


def kepu(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator.commands.cli", *args], cwd=repo,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_repo(tmp_path_factory.mktemp("pub") / "repo", [CAMPAIGN])
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.mark.parametrize("target", [".", "campaigns", "content", "site_theme", "campaigns/x", ".."])
def test_build_refuses_the_repository_and_its_sources(repo: Path, target: str) -> None:
    before = sorted(p.relative_to(repo.parent) for p in repo.parent.rglob("*"))
    r = kepu(repo, "build", "-q", "-d", target)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "不能作为输出文件夹" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert sorted(p.relative_to(repo.parent) for p in repo.parent.rglob("*")) == before, "files changed"


def test_build_refuses_a_folder_of_other_files(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "docs"
    other.mkdir()
    (other / "report.docx").write_text("keep me", encoding="utf-8")
    r = kepu(repo, "build", "-q", "-d", str(other))
    assert r.returncode == 1 and "不是本程序生成的文件" in r.stderr, r.stderr
    assert (other / "report.docx").read_text(encoding="utf-8") == "keep me"


def test_rebuild_over_a_previous_site_and_failed_build_keeps_it(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert kepu(repo, "build", "-q", "-d", str(out)).returncode == 0
    assert (out / MARKER).is_file() and (out / "index.html").is_file()
    # a killed build's leftovers are removed by the next build
    stale = tmp_path / ".site-new-killed"
    stale.mkdir()
    (stale / "x").write_text("x")
    assert kepu(repo, "build", "-q", "-d", str(out)).returncode == 0, "a previous site may be replaced"
    assert not stale.exists(), "stale build folder left behind"
    bad = repo / "campaigns" / CAMPAIGN / "campaign.yml"
    text = bad.read_text(encoding="utf-8")
    try:
        bad.write_text(text.replace("year:", "year: [", 1), encoding="utf-8")
        page = (out / "index.html").read_bytes()
        r = kepu(repo, "build", "-q", "-d", str(out))
        assert r.returncode == 1 and "网站没有更新" in r.stderr, r.stderr
        assert (out / "index.html").read_bytes() == page, "the old site changed"
        # `mkdocs build` (the README's equivalent) refuses bad data before it cleans the folder
        m = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(out)], cwd=repo,
                           capture_output=True, text=True, timeout=300)
        assert m.returncode != 0 and (out / "index.html").read_bytes() == page, m.stderr
    finally:
        bad.write_text(text, encoding="utf-8")
    assert not list(tmp_path.glob(".site-new-*")), "failed builds leave no folder behind"


def test_swap_never_leaves_a_gap(tmp_path: Path) -> None:
    """A reader looking at site/index.html while sites are swapped in always finds it."""
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("0")
    missing: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            if not (out / "index.html").exists():
                missing.append(1)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(1, 60):
            new = tmp_path / f".site-new-{n}"
            new.mkdir()
            (new / "index.html").write_text(str(n))
            swap_in(new, out)
    finally:
        stop.set()
        reader.join()
    assert (out / "index.html").read_text() == "59"
    assert not missing, f"site/ was missing {len(missing)} times during the swaps"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted at ``path`` for the test (skipped where mounting is not allowed)."""
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                      capture_output=True).returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({options}) here")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_read_only_folder_gets_a_message(repo: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=64k") as ro:
        r = kepu(repo, "build", "-q", "-d", str(ro / "site"))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "文件夹只读" in r.stderr and "原来的网站没有改动" in r.stderr, r.stderr


def test_full_disk_gets_a_message(repo: Path, tmp_path: Path) -> None:
    """A tiny tmpfs is a full disk."""
    with tmpfs(tmp_path / "small", "size=256k") as mnt:
        r = kepu(repo, "build", "-q", "-d", str(mnt / "site"))
        assert r.returncode == 1, r.stderr
        assert "磁盘已满" in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert not (mnt / "site").exists()


def test_the_old_site_is_listed_the_same_by_its_own_process(tmp_path: Path) -> None:
    """`kepu build` lists the old site in a process of its own (commands/oldsite.py) while it
    builds: the listing must be the in-process walk's, whatever the names (one that is not UTF-8,
    one with a newline), and anything but files and folders must say "not a site to build over"."""
    from generator.commands import oldsite

    site = tmp_path / "site"
    (site / "a" / "活动 一").mkdir(parents=True)
    (site / "a" / "活动 一" / "index.html").write_text("x")
    (site / "empty").mkdir()
    (site / "line\nbreak.ics").write_text("x")
    os.close(os.open(os.fsencode(site) + b"/\xff\xfe.html", os.O_CREAT | os.O_WRONLY))
    listing = tmp_path / "listing"

    def script() -> int:
        return subprocess.run([sys.executable, "-I", oldsite.__file__, str(site), str(listing)],
                              timeout=60).returncode

    assert script() == 0
    files, folders = oldsite.read_listing(listing.read_bytes())
    found = oldsite.walk(str(site))
    assert found is not None
    assert sorted(files) == sorted(found[0]) and sorted(folders) == sorted(found[1])
    assert {"a/活动 一/index.html", "line\nbreak.ics", os.fsdecode(b"\xff\xfe.html")} == set(files)
    assert {"a", "a/活动 一", "empty"} == set(folders)
    assert all((site / f).is_file() for f in files)
    os.mkfifo(site / "empty" / "pipe")
    assert script() == oldsite.ODD and oldsite.walk(str(site)) is None
    os.unlink(site / "empty" / "pipe")
    (site / "a" / "link").symlink_to(tmp_path)
    assert script() == oldsite.ODD and oldsite.walk(str(site)) is None
