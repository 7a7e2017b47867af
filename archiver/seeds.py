"""Seeds files, and what feeds and sitemaps list: the crawl's way in.

A seeds file lists article URLs, RSS/Atom feeds and XML sitemaps, one per line; blank lines and
`#` comments are skipped. What each seed *is* is decided by its content, not its name (feeds
live at `/feed`, `/rss`, `/latest`; sitemaps at `/sitemap`, `.xml.gz`...): `sniff` reads the root
element: `rss` or RDF (RSS 1.0), `feed` (Atom), `urlset` (sitemap, news sitemaps included),
`sitemapindex`; anything else is an HTML article.

Parsing is lenient (real feeds are often not well-formed XML) and safe: no entities expanded,
no network, no DTDs; gzip-compressed sitemaps are opened with a size cap.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Iterable, Optional, Union
from urllib.parse import urljoin, urlsplit

from lxml import etree

from archiver.errors import UsageError

LISTING_KINDS = frozenset({"rss", "rdf", "atom", "urlset", "sitemapindex"})
# A sitemap may hold 50,000 URLs and 50 MB uncompressed (sitemaps.org); feeds are smaller.
MAX_XML = 64 * 2**20
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S | re.I)
_W3C_DATE = re.compile(r"^\d{4}(-\d\d(-\d\d)?)?$")


@dataclass(frozen=True)
class Seed:
    url: str
    line: int


@dataclass(frozen=True)
class Entry:
    """A URL a feed or sitemap gives, with the date it gives for it (ISO 8601 UTC) if any."""

    url: str
    published: Optional[str] = None


@dataclass
class Listing:
    """What one feed or sitemap holds: articles (`entries`) and, for an index, more sitemaps."""

    kind: str  # rss, rdf, atom, urlset, sitemapindex
    entries: list[Entry]
    sitemaps: list[Entry]


# --- seeds files -------------------------------------------------------------------------------


def read_seeds(source: Union[str, Path, Iterable[str]]) -> list[Seed]:
    """The URLs of a seeds file (a path, or lines), in order, duplicates dropped.

    `#` starts a comment at the start of a line or after whitespace (a `#` inside a URL is a
    fragment). Raises UsageError naming every line that is not an http(s) URL.
    """
    if isinstance(source, (str, Path)):
        try:
            lines = Path(source).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read seeds file {source}: {getattr(exc, 'strerror', None) or exc}") from None
    else:
        lines = list(source)
    seeds: dict[str, Seed] = {}
    bad: list[str] = []
    for number, raw in enumerate(lines, 1):
        text = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not text:
            continue
        why = _not_a_url(text)
        if why:
            bad.append(f"line {number}: {text!r}: {why}")
            continue
        url = normalize_url(text)
        seeds.setdefault(url, Seed(url, number))
    if bad:
        raise UsageError("unusable seeds:\n  " + "\n  ".join(bad))
    return list(seeds.values())


def _not_a_url(text: str) -> Optional[str]:
    if any(c.isspace() for c in text):
        return "one URL per line"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"malformed URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    return None


def normalize_url(url: str) -> str:
    """One spelling per URL for the frontier: fragment dropped, scheme and host lower-cased,
    default port dropped, empty path made `/`. The query is kept as it is (it may matter)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    path = parts.path or "/"
    return f"{scheme}://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")


# --- what a fetched seed is --------------------------------------------------------------------


def unpack(body: bytes) -> bytes:
    """A gzip-compressed sitemap (`sitemap.xml.gz`, sent as application/gzip) opened, capped."""
    if body[:2] == b"\x1f\x8b":
        try:
            return zlib.decompressobj(31).decompress(body, MAX_XML)
        except zlib.error:
            return body
    return body


def sniff(body: Optional[bytes]) -> str:
    """rss, rdf, atom, urlset, sitemapindex (by the root element), else html."""
    if not body:
        return "html"
    head = unpack(body[:MAX_XML])[:8192].lstrip(b"\xef\xbb\xbf")
    pos = 0
    while True:
        m = _SKIP.match(head, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    m = _ROOT.match(head[pos:].lstrip())
    if not m:
        return "html"
    name = m.group(1).split(b":")[-1].lower()
    return {b"rss": "rss", b"rdf": "rdf", b"feed": "atom", b"urlset": "urlset",
            b"sitemapindex": "sitemapindex"}.get(name, "html")


def parse_listing(body: bytes, base_url: str, kind: Optional[str] = None) -> Listing:
    """The article URLs (and, for a sitemap index, the sitemaps) a feed or sitemap lists.

    Relative links are resolved against `base_url`; only http(s) URLs are kept. Dates are taken
    from pubDate / dc:date (RSS), published / updated (Atom), news:publication_date / lastmod
    (sitemaps).
    """
    kind = kind or sniff(body)
    root = _parse_xml(unpack(body))
    entries: list[Entry] = []
    sitemaps: list[Entry] = []
    if root is None:
        return Listing(kind, entries, sitemaps)
    if kind in ("rss", "rdf"):
        for item in _all(root, "item"):
            url = _text(_first(item, "link")) or _permalink_guid(item) or item.get(_RDF_ABOUT)
            date = _text(_first(item, "pubDate")) or _text(_first(item, "date")) or _text(_first(item, "published"))
            _keep(entries, url, date, base_url)
    elif kind == "atom":
        for item in _all(root, "entry"):
            url = _atom_link(item)
            date = _text(_first(item, "published")) or _text(_first(item, "updated"))
            _keep(entries, url, date, base_url)
    elif kind == "urlset":
        for item in _all(root, "url"):
            news_date = None
            for news in _all(item, "news"):
                news_date = _text(_first(news, "publication_date")) or news_date
            _keep(entries, _text(_first(item, "loc")), news_date or _text(_first(item, "lastmod")), base_url)
    elif kind == "sitemapindex":
        for item in _all(root, "sitemap"):
            _keep(sitemaps, _text(_first(item, "loc")), _text(_first(item, "lastmod")), base_url)
    return Listing(kind, _unique(entries), _unique(sitemaps))


_RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"


def _parse_xml(body: bytes) -> Optional[etree._Element]:
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        return etree.fromstring(body.lstrip(), parser)
    except (etree.LxmlError, ValueError):
        return None


def _local(el) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _all(root, name: str) -> Iterable:
    """Descendants with this local name, whatever their namespace (feeds mix them freely)."""
    return (el for el in root.iter() if _local(el) == name)


def _first(parent, name: str):
    for el in parent:
        if _local(el) == name:
            return el
    return None


def _text(el) -> Optional[str]:
    if el is None:
        return None
    text = "".join(el.itertext()).strip()
    return text or None


def _permalink_guid(item) -> Optional[str]:
    guid = _first(item, "guid")
    if guid is not None and guid.get("isPermaLink", "true").lower() != "false":
        return _text(guid)
    return None


def _atom_link(entry) -> Optional[str]:
    best = None
    for link in entry:
        if _local(link) != "link" or not link.get("href"):
            continue
        rel = (link.get("rel") or "alternate").lower()
        if rel == "alternate" and (link.get("type") or "text/html").lower() in ("text/html", "application/xhtml+xml"):
            return link.get("href")
        if rel == "alternate" and best is None:
            best = link.get("href")
    return best


def _keep(out: list[Entry], url: Optional[str], date: Optional[str], base_url: str) -> None:
    if not url:
        return
    url = urljoin(base_url, url.strip())
    if _not_a_url(url):
        return
    out.append(Entry(normalize_url(url), parse_date(date)))


def _unique(entries: list[Entry]) -> list[Entry]:
    seen: dict[str, Entry] = {}
    for e in entries:
        if e.url not in seen or (seen[e.url].published or "") < (e.published or ""):
            seen[e.url] = e
    return list(seen.values())


# --- dates ----------------------------------------------------------------------------------


def parse_date(text: Optional[str]) -> Optional[str]:
    """An RSS (RFC 822), Atom (RFC 3339) or W3C (sitemap: `2024-05-01`, `2024-05`) date as
    ISO 8601 UTC `YYYY-MM-DDTHH:MM:SSZ`; None when it cannot be read. No zone means UTC."""
    if not text:
        return None
    text = text.strip()
    dt: Optional[datetime] = None
    if _W3C_DATE.match(text):
        parts = [int(p) for p in text.split("-")] + [1, 1]
        try:
            dt = datetime(parts[0], parts[1], parts[2], tzinfo=timezone.utc)
        except ValueError:
            return None
    else:
        iso = text[:-1] + "+00:00" if text[-1:] in "Zz" else text
        try:
            dt = datetime.fromisoformat(iso.replace(" ", "T", 1) if "T" not in iso and " " in iso[:11] else iso)
        except ValueError:
            try:
                dt = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_recent(entry: Entry, since: Optional[str]) -> bool:
    """Whether a listed URL passes `--since`: dated at or after it, or undated (no date says
    nothing, and a crawl that drops undated entries would silently miss articles)."""
    return since is None or entry.published is None or entry.published >= since
