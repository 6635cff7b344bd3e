"""Revision data for feeds: SEQUENCE and LAST-MODIFIED from each activity file's git history.

Feeds must change only when an activity changes (SPEC "Feeds"), so nothing here looks at the
clock: a committed file's revision is its number of content-changing commits and the time of the
last one. The whole history comes from ONE ``git log`` over ``campaigns/`` (plus one
``git status`` for previews) — a call per file would take hours on 200,000 files.

An event also shows text from campaign.yml (its category and district names, the brand label,
audience names, the time zone) and from brands.yml (the label template). A commit that changes
what one event shows is one more revision of that event, and of no other: the versions of those
two files come from a second ``git log`` limited to them and one ``git cat-file --batch``, and
each event compares what it shows in consecutive versions (``Shown``).
"""

from __future__ import annotations

import bisect
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from .model import DEFAULT_AUDIENCES

# Variables a git hook (or a parent git command) exports; left in place they would point git at
# another repository or index than the one holding ``root``.
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR",
            "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE")
# Pin the configuration that changes `git log` output whatever the user has set.
_GIT_CONFIG = ("-c", "log.showSignature=false", "-c", "log.showRoot=true", "-c", "core.quotePath=false",
               "-c", "diff.relative=false", "-c", "log.follow=false")



@dataclass(frozen=True)
class FileHistory:
    """What git knows about one activity file (following renames)."""

    commits: int  # commits that changed its content; a pure rename (R100) is not a change
    first: datetime  # committer time (UTC) of the first of those commits
    last: datetime  # … and of the last


class Shown(NamedTuple):
    """Which parts of its campaign's files an activity's event shows (the keys it looks up).
    A tuple, not a frozen dataclass: one is made and hashed per activity and build, and a
    tuple's are done in C."""

    category: str
    district: str
    audiences: tuple[str, ...]

    def parts(self) -> tuple[tuple[str, Any], ...]:
        """What the event shows, part by part: (kind, what of that kind), see ``shown_part``."""
        return (("label", None), ("category", self.category), ("district", self.district),
                ("audiences", self.audiences))


def shown_part(kind: str, value: Any, campaign: dict[str, Any], brands: dict[str, Any]) -> Any:
    """One part of what an event shows from one version of campaign.yml and brands.yml."""
    if kind == "label":  # the brand label, and the time zone
        brand = campaign.get("brand")
        info = brands.get(brand) if isinstance(brand, str) else None
        template = info.get("label") if isinstance(info, dict) else None
        return (brand, template, campaign.get("year"), campaign.get("edition"),
                campaign.get("timezone", "Asia/Shanghai"))
    if kind == "category":
        return _category_name(campaign.get("categories"), value)
    if kind == "district":
        districts = campaign.get("districts")
        return districts.get(value) if isinstance(districts, dict) else None
    audiences = campaign.get("audiences") or DEFAULT_AUDIENCES
    names = audiences if isinstance(audiences, dict) else {}
    return tuple(names.get(x, x) for x in value)


def _category_name(categories: Any, slug: str) -> Any:
    if not isinstance(categories, dict):
        return None
    for key, spec in categories.items():
        if key == slug:
            return spec.get("name") if isinstance(spec, dict) else spec
        children = spec.get("children") if isinstance(spec, dict) else None
        if isinstance(children, dict) and slug in children:
            return children[slug]
    return None


# One version of a campaign's settings: (committer time, campaign.yml, brands.yml), oldest first.
Version = tuple[datetime, dict[str, Any], dict[str, Any]]


@dataclass
class History:
    """Per-file revisions under ``root``; empty outside a git repository or without git."""

    root: Path = field(default_factory=Path)
    files: dict[str, FileHistory] = field(default_factory=dict)  # key: posix path relative to root
    dirty: frozenset[str] = frozenset()  # modified or untracked in the working copy
    shallow: bool = False  # a shallow clone: every file looks added in the oldest commit we have
    # campaign folder ("campaigns/<id>") → its versions of campaign.yml with brands.yml
    versions: dict[str, list[Version]] = field(default_factory=dict)

    _dirs: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)
    _keys: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)
    _cwd: str | None = field(default=None, repr=False, compare=False)
    _revisions: dict[tuple[str, Shown | None], tuple[int, datetime]] = field(
        default_factory=dict, repr=False, compare=False)
    _bumps: dict[tuple[str, Shown], list[datetime]] = field(default_factory=dict, repr=False, compare=False)
    _parts: dict[tuple[str, tuple[str, Any]], list[int]] = field(
        default_factory=dict, repr=False, compare=False)

    def key(self, path: str | os.PathLike[str]) -> str:
        """``path`` as absolute, or relative to the cwd (as ``Activity.pos.path`` is) → our key."""
        path = os.fspath(path)
        # Runs several times per activity (200,000 in a national build). The working folder is
        # taken once per History: a getcwd per call was 7 % of a national rebuild, and a build
        # does not change folder midway (a History is read anew for every build).
        if self._cwd is None:
            self._cwd = os.getcwd()
        cwd = "" if os.path.isabs(path) else self._cwd
        found = self._keys.get((path, cwd))
        if found is not None:
            return found
        folder, name = os.path.split(path)
        # Resolved once per folder: normalising each of 200,000 paths cost ~2.5 s more.
        prefix = self._dirs.get((folder, cwd))
        if prefix is None:
            full, root = os.path.abspath(folder), os.path.abspath(self.root)
            inside = full == root or full.startswith(root + os.sep)
            rel = full[len(root) + 1:] if inside else os.path.relpath(full, root)
            prefix = self._dirs[(folder, cwd)] = rel.replace(os.sep, "/") + "/" if rel else ""
        found = self._keys[(path, cwd)] = prefix + name
        return found

    def get(self, path: str | os.PathLike[str]) -> FileHistory | None:
        return self.files.get(self.key(path))

    def revision(self, path: str | os.PathLike[str], shown: Shown | None = None) -> tuple[int, datetime]:
        """(SEQUENCE, LAST-MODIFIED in UTC) for an activity file.

        SEQUENCE is 0 for a file as first committed and grows by one per content change (RFC 5545:
        "starts at 0 … incremented each time the organizer makes a significant revision").
        Uncommitted edits (a preview) count as one more revision, dated by the file's mtime; a
        file git does not know at all gets 0 and its mtime. With ``shown``, each later change of
        what the event shows from campaign.yml or brands.yml counts as one more revision.
        """
        key = self.key(path)
        memo = (key, shown)  # asked for by the feeds and the sitemap, per activity
        found = self._revisions.get(memo)
        if found is None:
            found = self._revisions[memo] = self._revision(key, shown)
        return found

    def _revision(self, key: str, shown: Shown | None) -> tuple[int, datetime]:
        known = self.files.get(key)
        if known is not None and key not in self.dirty:
            seq, last = known.commits - 1, known.last
        else:
            seq, last = (known.commits if known is not None else 0), _mtime(Path(self.root, key))
        if known is None or shown is None:
            return seq, last  # a new file shows the campaign as it is now: nothing to count
        folder = key.split("/activities/", 1)[0]
        if len(self.versions.get(folder, ())) < 2:  # campaign.yml never changed: nothing to count
            return seq, last
        bumps = self.bumps(folder, shown)
        # changes after the activity's first commit; one in the same commit is its first text
        later = len(bumps) - bisect.bisect_right(bumps, known.first)
        return (seq + later, max(last, bumps[-1])) if later else (seq, last)

    def bumps(self, folder: str, shown: Shown) -> list[datetime]:
        """Times, sorted, of the versions of ``folder``'s campaign where what ``shown`` shows
        differs from the version before. Kept per (campaign, Shown), and made from the versions
        where each part changed, kept per part: a national campaign has tens of thousands of
        distinct Shown, but only a few hundred districts, categories and audience lists."""
        memo = (folder, shown)
        found = self._bumps.get(memo)
        if found is None:
            changed: set[int] = set()
            for part in shown.parts():
                changed.update(self._changed(folder, part))
            versions = self.versions.get(folder, [])
            found = self._bumps[memo] = [versions[i][0] for i in sorted(changed)]
        return found

    def _changed(self, folder: str, part: tuple[str, Any]) -> list[int]:
        """Indexes of the versions of ``folder``'s campaign where ``part`` differs from the
        version before."""
        memo = (folder, part)
        found = self._parts.get(memo)
        if found is None:
            found, before = [], None
            for i, (_, campaign, brands) in enumerate(self.versions.get(folder, [])):
                now = shown_part(*part, campaign, brands)
                if i and now != before:
                    found.append(i)
                before = now
            self._parts[memo] = found
        return found


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


def read_history(root: Path, *, settings: bool = True) -> History:
    """Read the history of every file under ``root/campaigns`` in one pass. ``settings``: also
    the versions of campaign.yml and brands.yml that feeds need to bump events (a second git
    log and a YAML parse of each version; rules that only date files go without)."""
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
    versions = _settings_versions(root, dirty) if settings else {}
    return History(root=root, files=files, dirty=frozenset(dirty), shallow=shallow, versions=versions)


BRANDS = "campaigns/brands.yml"


def _settings_versions(root: Path, dirty: set[str]) -> dict[str, list[Version]]:
    """Every committed version of each campaign.yml, paired with brands.yml as it was then (a
    version for each commit that changed either), plus the working copy's where it differs.

    Only the commits touching these files are read (``git log`` limited to them), and their
    contents in one ``git cat-file --batch``; a version that is not a YAML mapping is skipped.
    """
    log = _git(root, "log", "-z", "--no-color", "--reverse", "--topo-order", "--raw", "--no-abbrev",
               "--no-renames", "--relative", "--format=%x01%ct", "--",
               "campaigns/*/campaign.yml", BRANDS)
    commits: list[tuple[datetime, dict[str, str]]] = []  # oldest first: (time, path → blob)
    tokens = (log or b"").split(b"\0")
    i = 0
    while i < len(tokens):
        tok = tokens[i].lstrip(b"\n")
        i += 1
        if tok[:1] == b"\x01":
            commits.append((datetime.fromtimestamp(int(tok[1:]), UTC), {}))
        elif tok[:1] == b":" and commits:
            path = os.fsdecode(tokens[i])
            i += 1
            if path == BRANDS or path.count("/") == 2:  # campaigns/<id>/campaign.yml
                commits[-1][1][path] = tok.split()[3].decode()  # the blob after the change
    blobs = _cat_files(root, {b for _, changed in commits for b in changed.values()})
    versions: dict[str, list[Version]] = {}
    state: dict[str, dict[str, Any]] = {}

    def add(when: datetime, changed: set[str]) -> None:
        for path in sorted(p for p in state if p != BRANDS):
            if path in changed or BRANDS in changed:
                versions.setdefault(path.rsplit("/", 1)[0], []).append(
                    (when, state[path], state.get(BRANDS, {})))

    for when, changed in commits:
        for path, blob in changed.items():
            data = blobs.get(blob)
            if isinstance(data, dict):
                state[path] = data
            elif path in state and blob.strip("0") == "":
                del state[path]  # deleted
        add(when, set(changed))
    edited = {p for p in dirty if p == BRANDS or (p.endswith("/campaign.yml") and p.count("/") == 2)}
    if edited:  # a preview: the working copy is one more version, dated by its mtime
        for path in sorted(edited):
            data = _load(Path(root, path).read_bytes()) if Path(root, path).is_file() else None
            if isinstance(data, dict):
                state[path] = data
        add(max(_mtime(Path(root, p)) for p in edited), edited)
    return versions


def _load(data: bytes) -> Any:
    try:
        return yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, ValueError):
        return None  # an old broken version: validation reported it then


def _cat_files(root: Path, blobs: set[str]) -> dict[str, Any]:
    """The given blobs, parsed as YAML, through one ``git cat-file --batch``."""
    if not blobs:
        return {}
    order = sorted(blobs)
    env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV}
    try:
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=root, env=env, capture_output=True,
                              input="".join(b + "\n" for b in order).encode(), check=False)
    except OSError:
        return {}
    out, pos, parsed = done.stdout, 0, {}
    for blob in order:
        end = out.index(b"\n", pos)
        head = out[pos:end].split()
        pos = end + 1
        if len(head) != 3 or head[1] != b"blob":  # "<id> missing"
            continue
        size = int(head[2])
        parsed[blob] = _load(out[pos:pos + size])
        pos += size + 1
    return parsed


SHALLOW = (
    "这是浅克隆（shallow clone）的仓库，git 历史不完整：日历订阅的 SEQUENCE、LAST-MODIFIED 和"
    "“活动变动”订阅（changes.xml）会算错，订阅者的日历可能不更新。请在工作流的 actions/checkout 中设置 "
    "`fetch-depth: 0`（或运行 git fetch --unshallow）后重新生成。"
)


def history_problem(root: Path, env: Mapping[str, str] = os.environ) -> tuple[bool, str] | None:
    """(fatal, message) when ``root`` is in a shallow clone, else None: fatal in CI
    (``CI=true``, as GitHub Actions and most CI services set), a warning elsewhere."""
    out = _git(Path(root), "rev-parse", "--is-shallow-repository")
    if out is None or out.strip() != b"true":
        return None
    return env.get("CI", "").lower() == "true", SHALLOW


def _parse_log(out: bytes) -> dict[str, FileHistory]:
    """Parse ``git log -z --format=%x01%ct --name-status`` (newest commit first).

    Renames are followed backwards: once ``new`` was renamed from ``old``, older events of
    ``old`` belong to ``new``'s history. An ``A`` ends a file's history, so a path deleted and
    later re-created does not inherit the dead file's revisions.
    """
    events: dict[str, list[datetime]] = {}  # committer times (UTC) of each file's revisions
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
        events.setdefault(owner, []).append(when)
    return {
        path: FileHistory(len(times_), min(times_), max(times_)) for path, times_ in events.items()
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
