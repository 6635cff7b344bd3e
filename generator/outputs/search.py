"""Step 5d, search: a chunked Chinese search index that stays small for the visitor at any size.

mkdocs-material's index is one JSON file every visitor downloads whole (10 MB at 3,000
activities); Pagefind took 4 s per 1,000 pages and gigabytes at national size. This index splits
Chinese text into overlapping character pairs (bigrams, as Lucene's CJK analyser does, so no
dictionary is needed and new words are found) and writes them into hash-addressed shards. A query
fetches the manifest, one shard per distinct term, and one document shard for the first results:
well under 1 MB whatever the size of the site. site_theme/assets/kepu-search.js is the reader; the
tokeniser and hash below must match it exactly.
"""

from __future__ import annotations

import json
import re
import unicodedata
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from ..cache import Cache, Packs, Table, key
from ..model import Activity, Site
from ..parallel import fork_map
from . import site as url
from .options import Writer
from .text import sessions, short_day, when_text

TOKEN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
DOCS_PER_SHARD = 200
SHARD_TARGET = 48_000  # bytes of postings per term shard, roughly
MAX_SHARDS = 4096


# What Chinese text often has that NFKC folds, each a character of its own: full-width ASCII
# ("，" → ",", "（" → "(", "Ａ" → "A"), the ideographic space, "…" and the no-break space.
_FOLDABLE = re.compile("[\u00a0\u2026\u3000\uff01-\uff5e]")


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)`` in a fraction of the time for Chinese text with
    full-width punctuation, which normalize() decomposes and recomposes whole (a third of the
    time of tokenising a description). NFKC is the canonical composition of the compatibility
    decomposition, which is made character by character, and a character's own NFKC form has the
    same decomposition as the character: so replacing the few distinct foldable characters by
    theirs (str.replace, in C) leaves the text's NFKC as it was, and the result nearly always is
    NFKC already (checked quickly; normalised when not, e.g. where a character outside
    _FOLDABLE folds, or a half-width kana and its sound mark compose)."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for ch in set(_FOLDABLE.findall(text)):
        text = text.replace(ch, unicodedata.normalize("NFKC", ch))
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


# the pairs of a run of n characters, as slices: one new string per pair, where zipping the run
# with itself made three (two characters and their sum)
_PAIRS = [[slice(i, i + 2) for i in range(n - 1)] for n in range(256)]


def tokens(text: str, unigrams: bool = False) -> set[str]:
    """Terms of a text: bigrams of Chinese runs (a lone character stays itself) and ASCII words.
    ``unigrams`` also adds single characters (used for titles, so one-character queries work)."""
    out: set[str] = set()
    for run in TOKEN_RE.findall(nfkc(text).lower()):
        if run[0] < "\u3400":  # ASCII word
            out.add(run)
            continue
        n = len(run)
        if n == 1:
            out.add(run)
        elif n < len(_PAIRS):
            out.update(map(run.__getitem__, _PAIRS[n]))
        else:
            out.update(map(str.__add__, run, run[1:]))
        if unigrams:
            out.update(run)
    return out


def shard_of(term: str, shards: int) -> int:
    """FNV-1a over the characters' code points (all terms are in the BMP, as JS charCodeAt)."""
    h = 0x811C9DC5
    for ch in term:
        h = ((h ^ ord(ch)) * 0x01000193) & 0xFFFFFFFF
    return h % shards


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


_B36 = [_b36(i) for i in range(36 * 36)]  # gaps are mostly small: look them up


def _gaps(ids: array) -> str:
    """Ascending ids as comma-separated gaps in base 36."""
    prev = [0, *ids[:-1]]
    return ",".join([_B36[g] if g < 1296 else _b36(g) for g in map(int.__sub__, ids, prev)])


@dataclass
class Doc:
    url: str  # relative to the site root
    title: str
    when: str
    where: str
    label: str
    status: str


def documents(site: Site) -> tuple[list[tuple[Doc, str, str]], list[list[str | int]]]:
    found = _documents(site)
    return found.docs, found.breaks


# What the cache keeps of an activity's document: (terms joined by _SEP, end of its last
# session, Doc fields). With it a rebuild neither words the activity's dates again nor
# tokenises its text: at 30,000 activities that was most of a one-edit rebuild's index.
_Entry = tuple[str, datetime, tuple[str, ...]]


class _Found(NamedTuple):
    docs: list[tuple[Doc, str, str]]  # (doc, title, body text) in result order
    breaks: list[list[str | int]]  # where the reader splits them by day (see _documents)
    keys: list[str]  # each document's cache key, "" for pages (whose terms are never cached)
    known: list[str | None]  # its terms where the cache has them
    ends: list[datetime]  # the end of each activity's last session (activities come first)


def _documents(site: Site, cached: Callable[[Activity], tuple[str, _Entry | None]] | None = None) -> _Found:
    """Every document to search (``cached``: an activity's cache key and entry, when it has one;
    the body text of an activity found there is not made, since its terms are known).

    Activities come first, sorted by the end of their last session; then campaigns (newest first)
    and the district pages that list at least one activity. Which activities are still to come
    depends on the visitor's day, not the build's: ``breaks`` holds [day, first id whose last
    session ends on or after that day], so the reader puts upcoming ids ascending (soonest
    first) and ended ones descending (most recent first) without downloading anything more."""
    acts: list[tuple[datetime, Doc, str, str, str, str | None]] = []
    pages: list[tuple[Doc, str, str]] = []
    for c in sorted(site.published(), key=lambda c: c.span.start, reverse=True):
        span = f"{short_day(c.period.start)}–{short_day(c.period.end)}"
        theme = c.theme.text if c.theme and c.theme.text else ""
        pages.append((Doc(url.campaign_page(c), c.title, span, c.region, c.label, "campaign"),
                      c.title, " ".join([c.region, theme, c.label])))
        used = {a.district for a in c.activities}
        for d, name in c.districts.items():
            if d in used:  # a page with nothing on it is no answer to a search
                doc = Doc(url.district_page(c, d), f"{name}活动安排", span, name, c.label, "district")
                pages.append((doc, f"{name}活动安排 {c.title}", ""))
        for a in c.activities:
            k, hit = cached(a) if cached is not None else ("", None)
            if hit is not None:
                terms, end, fields = hit
                acts.append((end, Doc(*fields), a.title, "", k, terms))
                continue
            cat = c.category_list.get(a.category)
            where = a.venue.name if a.venue else "线上"
            body = " ".join([
                c.districts[a.district], where, (a.venue.address or "") if a.venue else "", a.organizer,
                " ".join(a.co_organizers), cat.name if cat else "",
                " ".join(c.audiences.get(k, "") for k in a.audiences),
                " ".join(c.topics.get(k, "") for k in a.topics), a.subtheme or "", a.description or "",
            ])
            doc = Doc(url.activity_page(a), a.title, when_text(a),
                      f"{c.districts[a.district]} · {where}", c.label, a.status)
            acts.append((sessions(a)[-1][1], doc, a.title, body, k, None))
    acts.sort(key=lambda t: (t[0], t[1].url))
    breaks: list[list[str | int]] = []
    for i, (end, *_) in enumerate(acts):
        # the day the last session ends on (an end at midnight belongs to the day before)
        day = (end - timedelta(minutes=1)).date().isoformat()
        if not breaks or breaks[-1][0] < day:
            breaks.append([day, i])
    return _Found([(d, t, b) for _, d, t, b, _, _ in acts] + pages, breaks,
                  [t[4] for t in acts] + [""] * len(pages), [t[5] for t in acts] + [None] * len(pages),
                  [t[0] for t in acts])


def _terms(doc: tuple[Doc, str, str]) -> set[str]:
    _, title, body = doc
    terms = tokens(body)
    terms |= tokens(title, unigrams=True)  # the title's few terms into the body's many, not the reverse
    return terms


_SEP = "\x1f"  # cached terms are one string per document: a set of strings each would take
# gigabytes at national size; no term holds it (TOKEN_RE: CJK runs and [a-z0-9])


def _postings(docs: list[tuple[Doc, str, str]], bounds: tuple[int, int],
              known: list[str | None] | None = None) -> dict[str, array]:
    """Term → ascending ids of the documents docs[start:end] it occurs in. ``known``: terms
    already found (from the cache), joined by _SEP, None where not."""
    postings: dict[str, array] = {}
    for i in range(*bounds):
        have = known[i] if known is not None else None
        terms = _terms(docs[i]) if have is None else have.split(_SEP) if have else []
        for term in terms:
            ids = postings.get(term)
            if ids is None:
                postings[term] = ids = array("I")
            ids.append(i)
    return postings


def _dump(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _shard_count(total: int) -> int:
    shards = 1
    while shards < MAX_SHARDS and total / shards > SHARD_TARGET:
        shards *= 2
    return shards


def _stop_limit(n: int) -> int:
    """Terms in more documents than this say nothing about which one is wanted and would be the
    largest downloads: they are listed as stop terms and skipped by the reader."""
    return max(2000, min(n // 4, 30_000))


def _term_bytes(term: str, count: int) -> int:
    """About what a term with ``count`` documents adds to the term shards (for their number)."""
    return count * 3 + len(term) * 3 + 6


@dataclass
class _Index:
    """What an index was made from and what it is (kept in the build cache): each document's
    key (its activity's source key, or the hash of a page's text), the stop terms, the number of
    term shards and the size estimate they came from, and the content key of every file."""

    keys: list[str]
    stop: list[str]
    shards: int
    total: int
    files: dict[str, str]


def _doc_shards(docs: list[tuple[Doc, str, str]], chunks: Iterable[int]) -> dict[str, bytes]:
    return {f"search/d/{k:x}.json": _dump([[d.url, d.title, d.when, d.where, d.label, d.status]
                                           for d, _, _ in docs[k * DOCS_PER_SHARD:(k + 1) * DOCS_PER_SHARD]])
            for k in chunks}


def _manifest(n: int, shards: int, stop: list[str], n_acts: int, breaks: list[list[str | int]]) -> bytes:
    return _dump({"version": 2, "count": n, "shards": shards, "docsPerShard": DOCS_PER_SHARD, "stop": stop,
                  "activities": n_acts, "ends": breaks})


def build_index(site: Site, *, parallel: bool = True, cache: Cache | None = None,
                site_key: str = "", out: Writer | None = None) -> dict[str, bytes]:
    """Every search file, keyed by path under the site root (search/…). ``cache``: the terms of
    unchanged activities are taken from it (``site_key``: see SiteBuild), and after an edit of
    a few activities the index is the last one patched (_patch): only the shards their terms
    are in change. ``out``: the files are written there (and kept when it holds them already),
    and none are returned."""
    if cache is None:
        found = _documents(site)
        files = _full_index(found.docs, found.breaks, None, len(found.ends), parallel)[0]
        return _emit(files, {}, out, None)
    table = cache.table("search")
    packs = cache.packs("search-files")

    def cached(a: Activity) -> tuple[str, _Entry | None]:
        if not a.source_key:
            return "", None
        k = key(site_key, "search", a.source_key)
        entry = table.get(k)
        return k, entry if isinstance(entry, tuple) else None

    docs, breaks, keys, known, ends = _documents(site, cached)
    n_acts = len(ends)
    todo = [i for i, k in enumerate(keys) if k and known[i] is None]
    for i, terms in zip(todo, fork_map(lambda i: _SEP.join(sorted(_terms(docs[i]))), todo,
                                       parallel=parallel, min_items=4000), strict=True):
        known[i] = terms
    for i, end in enumerate(ends):  # activities come first
        if keys[i]:
            d = docs[i][0]
            table.put(keys[i], (known[i], end, (d.url, d.title, d.when, d.where, d.label, d.status)))
    # pages have no source key: their text stands for them
    doc_keys = [k or key(repr(docs[i])) for i, k in enumerate(keys)]
    state_key = key(site_key, "search-index")
    last = table.get(state_key)
    patched = _patch(last, docs, breaks, doc_keys, known, _terms_of(table), packs.get, n_acts) \
        if isinstance(last, _Index) else None
    if patched is not None:
        try:
            return _store(patched, last, doc_keys, table, state_key, packs, out)
        except _Missing:
            pass  # a pack damaged since it was listed: the whole index is made again
    whole = _full_index(docs, breaks, known, n_acts, parallel)
    return _store(whole, None, doc_keys, table, state_key, packs, out)


def _terms_of(table: Table) -> Callable[[str], str | None]:
    """The terms of a document as the cache has them (see _Entry), by its key."""
    def terms(k: str) -> str | None:
        entry = table.get(k)
        return entry[0] if isinstance(entry, tuple) else None
    return terms


def _store(made_index: tuple[dict[str, bytes | None], list[str], int, int], last: _Index | None,
           doc_keys: list[str], table: Table, state_key: str, packs: Packs, out: Writer | None,
           ) -> dict[str, bytes]:
    """Write (or return) the index and keep what it is in the cache: every file by the key of its
    bytes, with the bytes of new ones, so the next build can patch it."""
    files, stop, shards, total = made_index
    kept = {rel: last.files[rel] for rel, data in files.items() if data is None} if last is not None else {}
    made = {rel: key(data) for rel, data in files.items() if data is not None}
    result = _emit({rel: d for rel, d in files.items() if d is not None}, kept, out, packs, made)
    writer = packs.writer()
    for rel, data in files.items():
        if data is not None and packs.index.get(made[rel]) is None:
            writer.put(made[rel], data)
    stored = writer.close()
    index = {**kept, **made}
    packs.keep({k: where for k in index.values() if (where := stored.get(k) or packs.index.get(k))})
    table.put(state_key, _Index(doc_keys, stop, shards, total, index))
    table.save()
    return result


class _Missing(Exception):
    """An unchanged file of a patched index is in neither the old site nor the cache."""


def _emit(files: dict[str, bytes], kept: dict[str, str], out: Writer | None, packs: Packs | None,
          made: dict[str, str] | None = None) -> dict[str, bytes]:
    """The files, returned or written to ``out``; ``kept`` (file → key of its bytes) are the
    unchanged files of a patched index: kept where ``out`` holds them, else read from the cache
    (and _Missing if damaged there, before anything is written)."""
    result = dict(files)
    for rel, k in kept.items():
        if out is not None and out.reuse(rel, k):
            continue
        data = packs.get(k) if packs is not None else None
        if data is None:
            raise _Missing(rel)
        result[rel] = data
        if made is not None:
            made[rel] = k
    if out is None:
        return dict(sorted(result.items()))
    for rel in sorted(result):
        out.write(rel, result[rel], made.get(rel) if made is not None else None)
    return {}


def _full_index(docs: list[tuple[Doc, str, str]], breaks: list[list[str | int]],
                known: list[str | None] | None, n_acts: int, parallel: bool,
                ) -> tuple[dict[str, bytes | None], list[str], int, int]:
    """Every search file made from all documents: (files, stop terms, shard count, size estimate)."""
    n = len(docs)
    # Tokenising is per document, so large sites do it on every core, a block of documents per
    # task; blocks are merged in order, so every id list stays ascending.
    # one block per task fork_map makes (fewer dicts to merge); a pool only from 4,000 documents
    step = max(500, -(-n // 8))
    blocks = fork_map(lambda b: _postings(docs, b, known), [(k, min(k + step, n)) for k in range(0, n, step)],
                      parallel=parallel, min_items=8)
    postings = blocks[0] if blocks else {}
    for block in blocks[1:]:
        for term, ids in block.items():
            have = postings.get(term)
            if have is None:
                postings[term] = ids
            else:
                have.extend(ids)
    limit = _stop_limit(n)
    stop = sorted(t for t, ids in postings.items() if len(ids) > limit)
    for t in stop:
        del postings[t]
    total = sum(_term_bytes(t, len(ids)) for t, ids in postings.items())
    shards = _shard_count(total)
    buckets: list[list[str]] = [[] for _ in range(shards)]
    for term in sorted(postings):
        buckets[shard_of(term, shards)].append(term)
    out: dict[str, bytes | None] = {}

    def shard(terms: list[str]) -> bytes:
        return _dump({t: _gaps(postings[t]) for t in terms})

    for k, data in enumerate(fork_map(shard, buckets, parallel=parallel, min_items=64)):
        out[f"search/t/{k:x}.json"] = data
    out.update(_doc_shards(docs, range(-(-n // DOCS_PER_SHARD))))
    out["search/manifest.json"] = _manifest(n, shards, stop, n_acts, breaks)
    return out, stop, shards, total


_PATCH_MOST = 64  # documents changed beyond which the whole index is made again


def _patch(last: _Index, docs: list[tuple[Doc, str, str]], breaks: list[list[str | int]], doc_keys: list[str],
           known: list[str | None], terms_of: Callable[[str], str | None],
           stored: Callable[[str], bytes | None], n_acts: int,
           ) -> tuple[dict[str, bytes | None], list[str], int, int] | None:
    """The last index with a few documents' terms changed, when that is all that changed: the
    same documents in the same order (so every other id stays), none of the changed terms a stop
    term before or after, and the same number of shards. Only the term shards of the changed
    terms, the document shards of the changed documents and the manifest are made (None for the
    files that stay); the same bytes as _full_index would make. None when it cannot be done."""
    n = len(docs)
    if len(last.keys) != n:
        return None
    changed = [i for i in range(n) if doc_keys[i] != last.keys[i]]
    if len(changed) > _PATCH_MOST:
        return None
    added: dict[str, list[int]] = {}
    removed: dict[str, list[int]] = {}
    for i in changed:
        before, now = terms_of(last.keys[i]), known[i]
        if before is None or now is None:  # a page's text changed, or its terms are gone
            return None
        old, new = set(before.split(_SEP)) - {""}, set(now.split(_SEP)) - {""}
        for t in new - old:
            added.setdefault(t, []).append(i)
        for t in old - new:
            removed.setdefault(t, []).append(i)
    terms = set(added) | set(removed)
    if terms & set(last.stop):
        return None
    limit = _stop_limit(n)
    total = last.total
    by_shard: dict[int, list[str]] = {}
    for t in terms:
        by_shard.setdefault(shard_of(t, last.shards), []).append(t)
    files: dict[str, bytes | None] = dict.fromkeys(last.files)
    for s, mine in by_shard.items():
        rel = f"search/t/{s:x}.json"
        data = stored(last.files.get(rel, ""))
        if data is None:
            return None
        shard: dict[str, str] = json.loads(data)
        for t in mine:
            ids = set(_ungap(shard.get(t, "")))
            before = len(ids)
            ids = (ids | set(added.get(t, []))) - set(removed.get(t, []))
            if len(ids) > limit:
                return None
            total += (_term_bytes(t, len(ids)) if ids else 0) - (_term_bytes(t, before) if before else 0)
            if ids:
                shard[t] = _gaps(array("I", sorted(ids)))
            else:
                shard.pop(t, None)
        files[rel] = _dump(dict(sorted(shard.items())))
    if _shard_count(total) != last.shards:
        return None
    files.update(_doc_shards(docs, sorted({i // DOCS_PER_SHARD for i in changed})))
    files["search/manifest.json"] = _manifest(n, last.shards, last.stop, n_acts, breaks)
    return files, last.stop, last.shards, total


def _ungap(text: str) -> list[int]:
    """The ids of _gaps' text."""
    ids: list[int] = []
    at = 0
    for g in text.split(",") if text else []:
        at += int(g, 36)
        ids.append(at)
    return ids
