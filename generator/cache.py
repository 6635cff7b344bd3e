"""The content cache (`.cache/kepu/`): what a build made for inputs it has seen before.

Everything in it is keyed by the content of what it was made from (file bytes, campaign.yml,
brands.yml, the site's URL and options, the page templates) and lives under a folder named for
the code version (this package's files, Python and the libraries), so an entry is never used by
another version: a new version starts empty and removes the old folders. It is safe to delete,
and a damaged file in it is noticed, ignored and rewritten; a build with it is byte-identical to
a build without it (tests/test_cache.py).

Three kinds of store:
- tables: small per-item values (the checked model of an activity file, a VEVENT), pickled in
  shards so that a one-file edit rewrites one shard, not the whole table;
- records: one value written whole, for what is read all at once and must load fast (the lean
  records `kepu check FILE` takes for every other file: columns of plain values, not an entry
  per file);
- packs: large values (page bodies), compressed and appended to one pack file per batch of pages
  by the process that made them, found through a table of key → (pack, offset, length). On this
  kind of disk every file created costs about a millisecond, so a file per page would double a
  cold build's file count; page bodies never travel between processes or pile up in memory.

Pickle is used because the values are this package's own dataclasses; the cache is the
repository's own working data (like .venv), never downloaded from anyone else.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import pickle
import re
import shutil
import stat
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

FOLDER = Path(".cache") / "kepu"  # under the repository root: the default of the plugin option cache_dir
SHARDS = 16  # a table's shards: a one-file edit rewrites 1/16 of it
_PACK_MAGIC = b"kepu2"
_TABLE_MAGIC = "kepu-table-1"
_VERSION_DIR = re.compile(r"[0-9a-f]{20}")
# a file's stat stands for its content only if it was modified this long before the build that
# recorded it started (see Table.stat_trusted)
TRUST_MARGIN_NS = 2_000_000_000


def key(*parts: str | bytes) -> str:
    """A content key: the hash of the parts, each length-prefixed so that no two different
    lists of parts give the same bytes."""
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """This package's files (code and templates), Python's version and the installed versions of
    the libraries the output depends on: a cache made by any other combination is not used."""
    here = Path(__file__).resolve().parent
    parts: list[str | bytes] = [sys.version]
    for f in sorted(p for p in here.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        parts += [f.relative_to(here).as_posix(), f.read_bytes()]
    try:
        wanted = metadata.requires("kepu-calendar") or []
    except metadata.PackageNotFoundError:
        wanted = []
    for req in sorted(r.split(";")[0] for r in wanted if "extra ==" not in r):
        name = req.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip()
        try:
            parts += [name, metadata.version(name)]
        except metadata.PackageNotFoundError:
            parts += [name, "?"]
    return key(*parts)


def folder_key(folder: Path) -> str:
    """The content of every file under ``folder`` (the site's own template overrides)."""
    if not folder.is_dir():
        return key("none")
    parts: list[str | bytes] = []
    for f in sorted(p for p in folder.rglob("*") if not p.is_dir()):
        parts += [f.relative_to(folder).as_posix(), file_key(f)]
    return key(*parts)


def file_key(path: Path, limit: int = 10_000_000) -> str:
    """The content key of a file, or of its absence (brands.yml may be missing). A FIFO or device
    is never opened for reading (it could block or never end): the reader refuses it anyway."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return key("not a regular file")
        with open(path, "rb") as fh:
            return key(fh.read(limit + 1))
    except OSError:
        return key("missing")


class Cache:
    """One version's folder of tables and packs. ``notice`` gets a message (in Chinese, for
    staff) when something found there is ignored."""

    def __init__(self, base: Path, notice: Callable[[str], None], version: str | None = None):
        self.base = base
        self.version = version or code_version()
        self.dir = base / self.version[:20]
        self.notice = notice
        self._said: set[str] = set()  # the kinds of notice given in this build
        self._tables: set[str] = set()
        self._forget_other_versions()
        self.dir.mkdir(parents=True, exist_ok=True)
        tag = self.base / "CACHEDIR.TAG"  # backup tools skip a folder tagged this way
        if not tag.exists():
            tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n"
                           "# kepu 构建缓存，可随时删除（.cache/kepu）\n", encoding="utf-8")

    @classmethod
    def open(cls, base: Path, notice: Callable[[str], None]) -> Cache | None:
        """The cache at ``base``, or None (with a notice) where it cannot be made: a build never
        fails for want of its cache."""
        try:
            return cls(base, notice)
        except OSError as err:
            notice(f"无法使用构建缓存 {base}（{err.strerror or err}），这次构建不用缓存")
            return None

    def _once(self, kind: str, message: str) -> None:
        """One notice of each kind per build (and per worker), not one per page."""
        if kind not in self._said:
            self._said.add(kind)
            self.notice(message)

    def unwritable(self, err: OSError) -> None:
        """Say that the cache could not be written to; the build goes on without storing."""
        self._once("unwritable",
                   f"构建缓存 {self.dir} 无法写入（{err.strerror or err}），这次构建的结果不存入缓存")

    def _forget_other_versions(self) -> None:
        if not self.base.is_dir():
            return
        # only folders named like a version: cache_dir comes from mkdocs.yml and could name any
        # folder, whose other contents are none of the cache's business
        old = [p for p in self.base.iterdir()
               if p.is_dir() and _VERSION_DIR.fullmatch(p.name) and p.name != self.dir.name]
        if old:
            self.notice(f"构建缓存 {self.base} 来自另一版本的 kepu，已弃用并删除（这次构建会慢一些）")
            for p in old:
                shutil.rmtree(p, ignore_errors=True)

    def damaged(self, what: str) -> None:
        """Say that something in the cache was damaged and is being remade."""
        self._once("damaged", f"构建缓存中的 {what} 已损坏，已忽略并重新生成（不影响网站内容）")

    # -- tables -----------------------------------------------------------------------------

    def table(self, name: str) -> Table:
        self._tables.add(name)
        return Table(self, name)

    def forget_other_tables(self) -> None:
        """Remove the tables this build did not open (those of a campaign since deleted)."""
        for path in self.dir.glob("*.pickle"):
            if path.name.rsplit(".", 2)[0] not in self._tables:
                path.unlink(missing_ok=True)

    def record(self, name: str) -> Record:
        self._tables.add(name)
        return Record(self, name)

    # -- packs ------------------------------------------------------------------------------

    def packs(self, name: str) -> Packs:
        return Packs(self, name)


class Packs:
    """Values in pack files, found through the table ``name``: key → (pack, offset, length).
    ``get`` in any process; ``writer`` in the process that makes values (one per batch), whose
    ``entries`` go back to the parent, which ``keep``s the index of the whole build."""

    def __init__(self, cache: Cache, name: str):
        self.cache = cache
        self.name = name
        self.index = cache.table(name)
        self.folder = cache.dir / "packs"
        self._maps: dict[str, mmap.mmap | None] = {}

    def get(self, k: str) -> bytes | None:
        """The value under ``k``, or None when there is none or it is damaged (a length and
        CRC-32 in front of each value catch a pack cut short by a full disk or a killed build)."""
        where = self.index.get(k)
        if where is None:
            return None
        pack, offset, length = where
        view = self._map(pack)
        head = len(_PACK_MAGIC) + 12
        if view is None or offset + length > len(view):
            self.cache.damaged(f"文件 {pack}")
            return None
        data = view[offset:offset + length]
        if (length < head or not data.startswith(_PACK_MAGIC)
                or int.from_bytes(data[5:13], "little") != length - head
                or int.from_bytes(data[13:17], "little") != zlib.crc32(memoryview(data)[head:])):
            self.cache.damaged(f"文件 {pack}")
            return None
        try:
            return zlib.decompress(memoryview(data)[head:])
        except zlib.error:
            self.cache.damaged(f"文件 {pack}")
            return None

    def _map(self, pack: str) -> mmap.mmap | None:
        """A pack, mapped (shared by every process through the page cache, never copied)."""
        if pack not in self._maps:
            try:
                with open(self.folder / pack, "rb") as fh:
                    self._maps[pack] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):  # missing, or empty (mmap refuses length 0)
                self._maps[pack] = None
        return self._maps[pack]

    def writer(self) -> PackWriter:
        return PackWriter(self)

    def keep(self, used: dict[str, tuple[str, int, int]]) -> None:
        """Make ``used`` (every key of this build → where its value is) the index, and remove the
        packs nothing in it points into. A pack whose live part fell under half is dropped from
        the index too, so its pages are made again into a new pack: the cache stays within about
        twice what one build needs."""
        live: dict[str, int] = {}
        size: dict[str, int] = {}
        for pack, _, length in used.values():
            live[pack] = live.get(pack, 0) + length
        for pack in live:
            try:
                size[pack] = (self.folder / pack).stat().st_size
            except OSError:
                size[pack] = 0
        sparse = {p for p in live if live[p] * 2 < size[p]}
        for k, where in used.items():
            if where[0] not in sparse:
                self.index.put(k, where)
        self.index.save()
        for m in self._maps.values():
            if m is not None:
                m.close()
        self._maps.clear()
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                if path.name.startswith(f"{self.name}-") and (path.name not in live or path.name in sparse):
                    path.unlink(missing_ok=True)


class PackWriter:
    """Appends values to one new pack file, created on the first value."""

    def __init__(self, packs: Packs):
        self.packs = packs
        self.name = f"{packs.name}-{os.getpid()}-{time.time_ns()}.pack"
        self.entries: dict[str, tuple[str, int, int]] = {}
        self._fh: Any = None
        self._at = 0

    def put(self, k: str, value: bytes) -> None:
        data = zlib.compress(value, 1)  # fast level: a page body shrinks to about a quarter
        record = _PACK_MAGIC + len(data).to_bytes(8, "little") + zlib.crc32(data).to_bytes(4, "little") + data
        try:
            if self._fh is None:
                self.packs.folder.mkdir(exist_ok=True)
                self._fh = open(self.packs.folder / self.name, "xb")  # noqa: SIM115 (closed in close())
            self._fh.write(record)
        except OSError as err:
            self.packs.cache.unwritable(err)
            return
        self.entries[k] = (self.name, self._at, len(record))
        self._at += len(record)

    def close(self) -> dict[str, tuple[str, int, int]]:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError as err:
                self.packs.cache.unwritable(err)
                self.entries.clear()
        return self.entries


class Table:
    """A dict of key → value kept in SHARDS pickled files. ``get`` reads; ``put`` records what
    this build made or used; ``save`` writes the shards that changed and drops the entries no
    longer used, so the table holds exactly what the last build needed."""

    def __init__(self, cache: Cache, name: str):
        self.cache = cache
        self.name = name
        self.new: dict[str, Any] = {}
        self.started = time.time_ns()  # see ``stat_trusted``
        self.saved_at: dict[int, int] = {}  # shard → when the build that wrote it started
        self._shards = [self._load(k) for k in range(SHARDS)]
        self._old: dict[str, Any] | None = None

    @property
    def old(self) -> dict[str, Any]:
        """Every entry read, in one dict (made when first needed: save compares shard by shard)."""
        if self._old is None:
            self._old = {}
            for data in self._shards:
                self._old.update(data)
        return self._old

    def _path(self, shard: int) -> Path:
        return self.cache.dir / f"{self.name}.{shard:02d}.pickle"

    def _load(self, shard: int) -> dict[str, Any]:
        found = _read(self.cache, self._path(shard), dict)
        if found is None:
            return {}
        self.saved_at[shard], data = found
        return data

    @staticmethod
    def shard_of(k: str) -> int:
        return int(k[-2:], 16) % SHARDS if len(k) >= 2 else 0

    def get(self, k: str) -> Any | None:
        return self.old.get(k)

    def put(self, k: str, value: Any) -> None:
        """Record ``k`` for this build. A value equal to the one read is kept as that very object:
        ``save`` tells an unchanged shard by identity, so a value made again (in a worker, say)
        does not make its shard be written again."""
        old = self.old.get(k)
        self.new[k] = old if old is not None and (old is value or old == value) else value

    def stat_trusted(self, k: str, mtime_ns: int) -> bool:
        """Whether a file's unchanged stat (size, mtime, inode) may stand for its unchanged content:
        only if it was last modified well before the build that recorded it started, as git does
        for racily clean files (an edit within the clock's granularity keeps the same mtime)."""
        return mtime_ns < self.saved_at.get(self.shard_of(k), 0) - TRUST_MARGIN_NS

    def save(self) -> None:
        """Write the shards whose content differs from what was read."""
        new: dict[int, dict[str, Any]] = {}
        for k, v in self.new.items():
            new.setdefault(self.shard_of(k), {})[k] = v
        for shard in range(SHARDS):
            before, after = self._shards[shard], new.get(shard, {})  # as read from its file, and now
            if before.keys() == after.keys() and all(before[k] is after[k] for k in after):
                continue
            path = self._path(shard)
            if after:
                if not _write(self.cache, path, self.started, after):
                    return
                continue
            try:
                path.unlink(missing_ok=True)
            except OSError as err:
                self.cache.unwritable(err)
                return


class Record:
    """One value kept whole in one pickled file. ``started``: when this process began looking at
    what the value describes; saved beside it, so that ``load`` tells below which mtime a file's
    stat recorded in the value may be trusted (as Table.stat_trusted)."""

    def __init__(self, cache: Cache, name: str):
        self.cache = cache
        self.path = cache.dir / f"{name}.pickle"
        self.started = time.time_ns()

    def load(self) -> tuple[int, Any] | None:
        """(trusted before, value), or None when there is none or it is damaged."""
        found = _read(self.cache, self.path, object)
        return None if found is None else (found[0] - TRUST_MARGIN_NS, found[1])

    def save(self, value: Any) -> None:
        _write(self.cache, self.path, self.started, value)


def _read(cache: Cache, path: Path, kind: type) -> tuple[int, Any] | None:
    """(when the build that wrote it started, value) of a table shard or record, or None when
    there is none or it is damaged (noticed)."""
    try:
        with open(path, "rb") as fh:
            magic, saved_at, value = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 (any damage, whatever the unpickler raises)
        cache.damaged(path.name)
        return None
    if magic != _TABLE_MAGIC or not isinstance(saved_at, int) or not isinstance(value, kind):
        cache.damaged(path.name)
        return None
    return saved_at, value


def _write(cache: Cache, path: Path, started: int, value: Any) -> bool:
    """Replace ``path`` with ``value`` in one step (a killed build leaves the old file whole)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=cache.dir, prefix=f".{path.name}.")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((_TABLE_MAGIC, started, value), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as err:
        cache.unwritable(err)
        return False
    return True
