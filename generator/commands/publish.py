"""Publishing a built site: where it may go, and swapping it in without a gap.

``kepu build -d DIR`` deletes what is in DIR, so DIR must be a site folder: never the repository
or one of its source folders, never a folder of other people's files. The new site is built
beside DIR and exchanged with it in one step, so readers and a second build never see DIR
missing; builds into the same DIR take turns (a lock), which also makes leftovers of a killed
build safe to remove."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..cache import code_version
from ..outputs.site import KEPT
from . import oldsite

MARKER = ".kepu-site"  # written into every site: a folder with it is a previous site
SOURCES = ("campaigns", "content", "site_theme", "generator", "tests", ".git")


def refuse_output(root: Path, out: Path) -> str | None:
    """Why ``out`` must not be the output folder, or None when it may be."""
    root, out = root.resolve(), out.resolve()
    if out == root or out in root.parents:
        return f"{out} 是仓库本身或包含仓库，不能作为输出文件夹（生成时会清空它）"
    for name in SOURCES:
        src = root / name
        if out == src or src in out.parents:
            return f"{out} 在仓库的 {name}/ 里，不能作为输出文件夹（生成时会清空它）"
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        return f"{out} 不是文件夹，不能作为输出文件夹"
    if out.is_dir() and not _is_site(out) and any(out.iterdir()):
        return (f"{out} 里已有不是本程序生成的文件，不能作为输出文件夹（生成时会清空它）；"
                "请换一个空文件夹或不存在的文件夹")
    return None


def _is_site(folder: Path) -> bool:
    """A site this program wrote: the marker, or (sites from before the marker) its search index."""
    return (folder / MARKER).exists() or (folder / "search" / "manifest.json").is_file()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE; the standard library has no
    wrapper). False where the system cannot, and the caller falls back to two renames."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EPERM):
        return False  # file system or kernel without it
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))


def marker_text() -> str:
    """What the marker says: the code version that wrote the site (its precompressed copies are
    this version's bytes, so a rebuild by another version rewrites the whole site)."""
    return f"kepu-calendar {code_version()}\n"


@dataclass(frozen=True)
class PreviousSite:
    """What a site folder held when the build began: its files and folders (relative paths)."""

    files: frozenset[str]
    folders: list[str]


def _over(out: Path) -> bool:
    """Whether ``out`` is a site this version of the program wrote (its marker says so)."""
    try:
        return not out.is_symlink() and (out / MARKER).read_text(encoding="utf-8") == marker_text()
    except (OSError, UnicodeDecodeError):
        return False


def previous_site(out: Path) -> PreviousSite | None:
    """``out``'s files when it is a whole site this version of the program wrote, with nothing in
    it but files and folders (a rebuild may then write only what changed and merge_in the rest);
    else None, and the build writes a whole new site. A link in the folder (which a rebuild would
    write through, or keep pages behind) makes it None too."""
    found = oldsite.walk(str(out)) if _over(out) else None
    return PreviousSite(frozenset(found[0]), found[1]) if found is not None else None


class PreviousListing:
    """previous_site(out), made by a process of its own (oldsite.py) while the build runs: at
    national size the walk is seconds of waiting on the disk, and the listing is only wanted
    when the new site is moved in. ``over``: whether ``out`` looked like a site to build over
    (its marker); ``result()`` may still say None (a link turned up), and the caller then builds
    the whole site again without it. ``close()`` stops the walk and removes its file."""

    def __init__(self, out: Path):
        self.over = _over(out)
        self._proc: subprocess.Popen[bytes] | None = None
        self._found: PreviousSite | None = None
        self._work: Path | None = None
        if not self.over:
            return
        try:
            # named like a build's leftovers, so that turn() removes it should the build be killed
            self._work = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-scan-", dir=out.parent))
            self._proc = subprocess.Popen(
                [sys.executable, "-I", oldsite.__file__, str(out), str(self._work / "listing")],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:  # no second process to be had: list here, as before
            self.close()
            self._found = previous_site(out)

    def result(self) -> PreviousSite | None:
        if self._proc is None or self._work is None:
            return self._found
        try:
            if self._proc.wait() == 0:
                files, folders = oldsite.read_listing((self._work / "listing").read_bytes())
                self._found = PreviousSite(frozenset(files), folders)
        except OSError:
            self._found = None
        finally:
            self.close()
        return self._found

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None


def merge_in(new: Path, out: Path, previous: PreviousSite) -> None:
    """Make the site ``out`` (which held ``previous`` when the build began) the new one: move in
    the files the rebuild wrote into ``new`` (each replaced in one step, so a reader always finds
    every page, old or new), keep the ones it listed as unchanged (mkdocs/shell.SiteWriter), and
    remove the rest (deleted activities, whose folders go too). Only called once the build
    succeeded; a failed build leaves ``out`` as it was. The marker goes first and comes back
    last: a merge cut short leaves a site no rebuild builds over."""
    (out / MARKER).unlink(missing_ok=True)
    keep = {MARKER}
    for listing in new.glob(f"{KEPT}*"):
        keep.update(n for n in listing.read_text(encoding="utf-8").split("\0") if n)
        listing.unlink()
    for top, _dirs, files in os.walk(new):
        here = os.path.relpath(top, new)
        for name in files:
            rel = name if here == "." else f"{here}/{name}"
            keep.add(rel)
            target = out / rel
            if rel in previous.files and filecmp.cmp(new / rel, target, shallow=False):
                continue  # MkDocs' own files (theme, home page) are mostly what they were
            if target.is_dir():
                shutil.rmtree(target)  # a folder where the new site has a file
            _folder(out, target.parent)
            os.replace(new / rel, target)
    emptied: set[str] = set()
    for rel in previous.files - keep:
        (out / rel).unlink(missing_ok=True)  # missing: a folder in its way was replaced above
        emptied.add(os.path.dirname(rel))
    for folder in sorted(previous.folders, key=lambda f: f.count("/"), reverse=True):
        if folder in emptied:
            with contextlib.suppress(OSError):  # not empty: other pages live there
                os.rmdir(out / folder)
                emptied.add(os.path.dirname(folder))
    (out / MARKER).write_text(marker_text(), encoding="utf-8")
    shutil.rmtree(new, ignore_errors=True)


def _folder(root: Path, folder: Path) -> None:
    """``folder`` under ``root`` as a folder, replacing a file of the old site in its way."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        for parent in reversed([folder, *folder.parents]):
            if parent != root and root in parent.parents and parent.is_file():
                parent.unlink()
        folder.mkdir(parents=True, exist_ok=True)


def swap_in(new: Path, out: Path) -> None:
    """Put the complete site ``new`` at ``out``; the previous site is removed afterwards."""
    (new / MARKER).write_text(marker_text(), encoding="utf-8")
    if out.exists() and _exchange(new, out):
        shutil.rmtree(new, ignore_errors=True)  # now holds the previous site
        return
    old = out.with_name(f".{out.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def turn(out: Path) -> Iterator[None]:
    """One build at a time into ``out``; leftovers of killed builds are removed first."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # the lock is taken on the parent folder itself, so no lock file is left lying about
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for stale in out.parent.glob(f".{out.name}-new-*"):
            shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(out.with_name(f".{out.name}-old"), ignore_errors=True)
        yield
    finally:
        os.close(fd)
