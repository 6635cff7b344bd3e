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
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..cache import Cache, key
from ..model import Site
from ..parallel import fork_map
from . import site as url
from .text import sessions, short_day, when_text

TOKEN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
DOCS_PER_SHARD = 200
SHARD_TARGET = 48_000  # bytes of postings per term shard, roughly
MAX_SHARDS = 4096


def tokens(text: str, unigrams: bool = False) -> set[str]:
    """Terms of a text: bigrams of Chinese runs (a lone character stays itself) and ASCII words.
    ``unigrams`` also adds single characters (used for titles, so one-character queries work)."""
    out: set[str] = set()
    if not unicodedata.is_normalized("NFKC", text):  # the check is much cheaper than normalising
        text = unicodedata.normalize("NFKC", text)
    for run in TOKEN_RE.findall(text.lower()):
        if run[0] < "\u3400":  # ASCII word
            out.add(run)
            continue
        if len(run) == 1:
            out.add(run)
        out.update(map(str.__add__, run, run[1:]))  # the pairs, made in C rather than a loop
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
    docs, breaks, _ = _documents(site)
    return docs, breaks


def _documents(site: Site) -> tuple[list[tuple[Doc, str, str]], list[list[str | int]], list[str]]:
    """(doc, title, body text) in result order, and the breakpoints the reader splits them by.

    Activities come first, sorted by the end of their last session; then campaigns (newest first)
    and the district pages that list at least one activity. Which activities are still to come
    depends on the visitor's day, not the build's: ``breaks`` holds [day, first id whose last
    session ends on or after that day], so the reader puts upcoming ids ascending (soonest
    first) and ended ones descending (most recent first) without downloading anything more."""
    acts: list[tuple[datetime, Doc, str, str]] = []
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
            acts.append((sessions(a)[-1][1], doc, a.title, body, a.source_key))
    acts.sort(key=lambda t: (t[0], t[1].url))
    breaks: list[list[str | int]] = []
    for i, (end, *_) in enumerate(acts):
        # the day the last session ends on (an end at midnight belongs to the day before)
        day = (end - timedelta(minutes=1)).date().isoformat()
        if not breaks or breaks[-1][0] < day:
            breaks.append([day, i])
    # the source keys (cache.py) of the documents, "" for pages, whose terms are never cached
    keys = [k for *_, k in acts] + [""] * len(pages)
    return [(d, t, b) for _, d, t, b, _ in acts] + pages, breaks, keys


def _terms(doc: tuple[Doc, str, str]) -> set[str]:
    _, title, body = doc
    return tokens(title, unigrams=True) | tokens(body)


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


def build_index(site: Site, *, parallel: bool = True, cache: Cache | None = None,
                site_key: str = "") -> dict[str, bytes]:
    """Every search file, keyed by path under the site root (search/…). ``cache``: the terms of
    unchanged activities are taken from it (``site_key``: see SiteBuild)."""
    docs, breaks, sources = _documents(site)
    n = len(docs)
    known: list[str | None] | None = None
    if cache is not None:
        table = cache.table("search")
        keys = [key(site_key, "search", k) if k else "" for k in sources]
        known = [table.get(k) if k else None for k in keys]
        todo = [i for i, k in enumerate(keys) if k and known[i] is None]
        for i, terms in zip(todo, fork_map(lambda i: _SEP.join(sorted(_terms(docs[i]))), todo,
                                           parallel=parallel, min_items=4000), strict=True):
            known[i] = terms
        for k, terms in zip(keys, known, strict=True):
            if k:
                table.put(k, terms)
        table.save()
    n_acts = sum(1 for d, _, _ in docs if d.status not in ("campaign", "district"))
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
    # Terms in most documents say nothing about which one is wanted and would be the largest
    # downloads: they are listed as stop terms and skipped by the reader.
    limit = max(2000, min(n // 4, 30_000))
    stop = sorted(t for t, ids in postings.items() if len(ids) > limit)
    for t in stop:
        del postings[t]
    total = sum(len(ids) for ids in postings.values()) * 3 + sum(len(t) * 3 + 6 for t in postings)
    shards = 1
    while shards < MAX_SHARDS and total / shards > SHARD_TARGET:
        shards *= 2
    buckets: list[list[str]] = [[] for _ in range(shards)]
    for term in sorted(postings):
        buckets[shard_of(term, shards)].append(term)
    out: dict[str, bytes] = {}

    def dump(data: object) -> bytes:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    def shard(terms: list[str]) -> bytes:
        return dump({t: _gaps(postings[t]) for t in terms})

    for k, data in enumerate(fork_map(shard, buckets, parallel=parallel, min_items=64)):
        out[f"search/t/{k:x}.json"] = data
    for k in range(0, n, DOCS_PER_SHARD):
        chunk = docs[k : k + DOCS_PER_SHARD]
        part = [[d.url, d.title, d.when, d.where, d.label, d.status] for d, _, _ in chunk]
        out[f"search/d/{k // DOCS_PER_SHARD:x}.json"] = dump(part)
    out["search/manifest.json"] = dump(
        {"version": 2, "count": n, "shards": shards, "docsPerShard": DOCS_PER_SHARD, "stop": stop,
         "activities": n_acts, "ends": breaks}
    )
    return out
