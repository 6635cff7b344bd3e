"""URL escaping used on every page and feed: urllib's results, computed in C."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, quote_plus


class _Escapes(dict[int, str]):
    """Code point → its percent-encoding as urllib's quote/quote_plus (safe="") write it, filled
    on first use, so that ``str.translate`` escapes a whole string in C: urllib looks up every
    UTF-8 byte in Python, a large share of an activity page's time (README "性能")."""

    def __init__(self, plus: bool):
        super().__init__()
        self.plus = plus

    def __missing__(self, code: int) -> str:
        out = quote_plus(chr(code), safe="") if self.plus else quote(chr(code), safe="")
        self[code] = out
        return out


_ESCAPE, _ESCAPE_PLUS = _Escapes(plus=False), _Escapes(plus=True)

# What a query value may keep as it is: the WHATWG URL standard allows these in a query, and
# browsers percent-encode non-ASCII text as UTF-8 when they follow the link, so the server gets
# the same bytes as from urllib's form. A Chinese character is 3 bytes instead of the 9 of its
# %XX%XX%XX, which was a tenth of an activity page (the Google, Outlook and map links).
_IRI_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$()*,/:?@")


class _IriEscapes(_Escapes):
    """As _Escapes, but ASCII that a query value may hold and printable non-ASCII text stay as
    they are. Separators, controls and format characters (e.g. U+3000, U+200B, U+2028) are still
    escaped: they are invisible or end a URL in a text editor."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in _IRI_ASCII or (code > 0x7F and unicodedata.category(ch)[0] not in "ZC"):
            self[code] = ch
            return ch
        return super().__missing__(code)


_IRI, _IRI_PLUS = _IriEscapes(plus=False), _IriEscapes(plus=True)


def quote_all(text: str) -> str:
    """``urllib.parse.quote(text, safe="")``, faster."""
    return text.translate(_ESCAPE)


def iri_value(text: str) -> str:
    """One query value escaped only where it must be (see _IRI_ASCII); space is %20."""
    return text.translate(_IRI)


def iri_query(params: dict[str, str]) -> str:
    """A query string that reads as ``urlencode(params)`` does once a browser follows it."""
    return "&".join(f"{k.translate(_IRI_PLUS)}={v.translate(_IRI_PLUS)}" for k, v in params.items())


def query(params: dict[str, str]) -> str:
    """``urllib.parse.urlencode(params)``, faster."""
    return "&".join(f"{k.translate(_ESCAPE_PLUS)}={v.translate(_ESCAPE_PLUS)}" for k, v in params.items())
