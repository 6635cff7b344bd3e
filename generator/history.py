"""Revision data for feeds: SEQUENCE and LAST-MODIFIED from each activity file's git history.

Feeds must change only when an activity changes (SPEC "Feeds"), so nothing here looks at the
clock: a committed file's revision is its number of content-changing commits and the time of the
last one. The whole history comes from ONE ``git log`` over ``campaigns/`` (plus one
``git status`` for previews) — a call per file would take hours on 200,000 files.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# Variables a git hook (or a parent git command) exports; left in place they would point git at
# another repository or index than the one holding ``root``.
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR",
            "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE")
# Pin the configuration that changes `git log` output whatever the user has set.
_GIT_CONFIG = ("-c", "log.showSignature=false", "-c", "log.showRoot=true", "-c", "core.quotePath=false",
               "-c", "diff.relative=false", "-c", "log.follow=false")

Event = tuple[datetime, str]  # (committer time UTC, kind: A added, M modified, R renamed+edited)


@dataclass(frozen=True)
class FileHistory:
    """What git knows about one activity file (following renames)."""

    commits: int  # commits that changed its content; a pure rename (R100) is not a change
    first: datetime  # committer time (UTC) of the first of those commits
    last: datetime  # … and of the last


@dataclass
class History:
    """Per-file revisions under ``root``; empty outside a git repository or without git."""

    root: Path = field(default_factory=Path)
    files: dict[str, FileHistory] = field(default_factory=dict)  # key: posix path relative to root
    dirty: frozenset[str] = frozenset()  # modified or untracked in the working copy
    shallow: bool = False  # a shallow clone: every file looks added in the oldest commit we have

    _dirs: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)

    def key(self, path: str | os.PathLike[str]) -> str:
        """``path`` as absolute, or relative to the cwd (as ``Activity.pos.path`` is) → our key."""
        folder, name = os.path.split(os.fspath(path))
        # Resolved once per folder: normalising each of 200,000 paths cost ~2.5 s more.
        where = (folder, "" if os.path.isabs(folder) else os.getcwd())
        prefix = self._dirs.get(where)
        if prefix is None:
            full, root = os.path.abspath(folder), os.path.abspath(self.root)
            inside = full == root or full.startswith(root + os.sep)
            rel = full[len(root) + 1:] if inside else os.path.relpath(full, root)
            prefix = self._dirs[where] = rel.replace(os.sep, "/") + "/" if rel else ""
        return prefix + name

    def get(self, path: str | os.PathLike[str]) -> FileHistory | None:
        return self.files.get(self.key(path))

    def revision(self, path: str | os.PathLike[str]) -> tuple[int, datetime]:
        """(SEQUENCE, LAST-MODIFIED in UTC) for an activity file.

        SEQUENCE is 0 for a file as first committed and grows by one per content change (RFC 5545:
        "starts at 0 … incremented each time the organizer makes a significant revision").
        Uncommitted edits (a preview) count as one more revision, dated by the file's mtime; a
        file git does not know at all gets 0 and its mtime.
        """
        key = self.key(path)
        known = self.files.get(key)
        if known is not None and key not in self.dirty:
            return known.commits - 1, known.last
        commits = known.commits if known is not None else 0
        return commits, _mtime(Path(self.root, key))


def _mtime(path: Path) -> datetime:
    try:
        return datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
    except OSError:
        return datetime(1970, 1, 1, tzinfo=UTC)


def _git(root: Path, *args: str) -> bytes | None:
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV}
    env["LC_ALL"] = "C"
    try:
        done = subprocess.run(
            ["git", *_GIT_CONFIG, *args], cwd=root, env=env, capture_output=True, check=False
        )
    except OSError:  # git is not installed
        return None
    return done.stdout if done.returncode == 0 else None


def read_history(root: Path) -> History:
    """Read the history of every file under ``root/campaigns`` in one pass."""
    root = Path(root)
    info = _git(root, "rev-parse", "--is-inside-work-tree", "--show-prefix", "--is-shallow-repository")
    if info is None:
        return History(root=root)
    lines = info.decode("utf-8", "surrogateescape").split("\n")
    if len(lines) < 3 or lines[0] != "true":
        return History(root=root)
    prefix, shallow = lines[1], lines[2] == "true"
    log = _git(
        root, "log", "-z", "--no-color", "--topo-order", "-M", "--name-status", "--relative",
        "--format=%x01%ct", "--", "campaigns",
    )
    files = _parse_log(log) if log else {}
    status = _git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", "campaigns")
    dirty = _parse_status(status or b"", prefix)
    return History(root=root, files=files, dirty=frozenset(dirty), shallow=shallow)


def _parse_log(out: bytes) -> dict[str, FileHistory]:
    """Parse ``git log -z --format=%x01%ct --name-status`` (newest commit first).

    Renames are followed backwards: once ``new`` was renamed from ``old``, older events of
    ``old`` belong to ``new``'s history. An ``A`` ends a file's history, so a path deleted and
    later re-created does not inherit the dead file's revisions.
    """
    events: dict[str, list[Event]] = {}
    alias: dict[str, str | None] = {}  # path at an older commit → final path (None: dead)
    times: dict[int, datetime] = {}
    when = datetime(1970, 1, 1, tzinfo=UTC)
    tokens = out.split(b"\0")
    i = 0
    while i < len(tokens):
        tok = tokens[i].lstrip(b"\n")
        i += 1
        if not tok:
            continue
        if tok[:1] == b"\x01":
            ts = int(tok[1:])
            when = times.setdefault(ts, datetime.fromtimestamp(ts, UTC))
            continue
        kind = tok[:1].decode()
        if kind in "RC":
            old, new = os.fsdecode(tokens[i]), os.fsdecode(tokens[i + 1])
            i += 2
        else:
            old, new = "", os.fsdecode(tokens[i])
            i += 1
        owner = alias.get(new, new)
        if kind == "D":
            # the path's older life ended here: a file now at this path was added later
            alias[new] = None
            continue
        if owner is None or kind == "C":
            continue  # an older, deleted file of that name; copies keep their source's history
        if kind == "R":
            alias[old] = owner
            if tok[1:] == b"100":
                continue  # moved, not edited: the activity did not change
        elif kind == "A":
            alias[new] = None
        events.setdefault(owner, []).append((when, kind if kind in "AR" else "M"))
    return {
        path: FileHistory(len(evs), min(t for t, _ in evs), max(t for t, _ in evs))
        for path, evs in events.items()
    }


def _parse_status(out: bytes, prefix: str) -> set[str]:
    """Paths (relative to root) that differ from HEAD or are untracked, from ``status -z``."""
    dirty: set[str] = set()
    tokens = out.split(b"\0")
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if len(tok) < 4:
            continue
        xy, path = tok[:2].decode(), os.fsdecode(tok[3:])
        if "R" in xy or "C" in xy:
            i += 1  # the rename's source path follows
        if "D" in xy and "R" not in xy:
            continue  # deleted: no file, no activity
        if path.startswith(prefix):
            dirty.add(path[len(prefix):])
    return dirty


def last_commit_time(root: Path) -> str | None:
    """Unix time of the last commit as text (for SOURCE_DATE_EPOCH), or None outside git."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    stamp = out.stdout.strip()
    return stamp if out.returncode == 0 and stamp.isdigit() else None
