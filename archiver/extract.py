"""Pure HTML -> embeds and page requisites: one lxml parse, shared by every platform detector.

Speed matters (a benchmark wants >= half the rate of a bare lxml parse), so the page is parsed
once, every query is a compiled XPath that filters in C, and Python only ever looks at the few
nodes those queries return. Nothing here does I/O.
"""

from __future__ import annotations

import bisect
import codecs
import functools
import re
import threading
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Sequence
from urllib.parse import urljoin, urlsplit

import re2
from lxml import etree

from archiver.models import Embed
from archiver.platforms import PLATFORMS
from archiver.platforms.base import Profile

__all__ = [
    "Document",
    "ExtractResult",
    "LiteralScanner",
    "parse_html",
    "is_chrome",
    "find_embeds",
    "find_requisites",
    "css_urls",
    "srcset_urls",
    "absolute_url",
    "collapse",
]

# --------------------------------------------------------------------------- decoding

_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([\w.:+-]+)", re.I)
# <meta charset=x> and <meta http-equiv=content-type content="...; charset=x">, in the prescan window.
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([\w.:+-]+)", re.I)
_PRESCAN_BYTES = 4096  # WHATWG says 1024; real pages put the meta after long inline scripts
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG: these labels all mean windows-1252 on the web.
_AS_CP1252 = {"latin_1", "iso8859_1", "ascii", "cp1252"}

_local = threading.local()  # lxml parsers must not be shared between threads


def _parser() -> etree.HTMLParser:
    """The thread's HTML parser; input is always UTF-8 by the time it gets here.

    Plain etree elements, not lxml.html's: its per-element Python class lookup costs more than the
    whole of detection on a big page.
    """
    parser = getattr(_local, "parser", None)
    if parser is None:
        # huge_tree: without it libxml2 stops reading at 256 levels of nesting (unclosed <font>s
        # or <div>s are enough) or a 10 MB text node, and silently drops the rest of the page,
        # embeds included; with it the limit is 2048 levels. Entities are not expanded in HTML,
        # and bodies are capped before parsing (fetch.BODY_LIMIT, pages.MAX_FILE).
        # collect_ids=False: nothing here looks elements up by id, and filling that table costs
        # about 3% of a parse.
        parser = _local.parser = etree.HTMLParser(encoding="utf-8", remove_pis=True, default_doctype=False,
                                                  huge_tree=True, collect_ids=False)
    return parser


def _codec(label: str | None, wide_ok: bool = False) -> str | None:
    """Python codec name for a charset label, or None when unknown (then we fall back)."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name.replace("-", "_")
    except (LookupError, ValueError):
        return None
    if name in _AS_CP1252:
        return "cp1252"
    if name.startswith(("utf_16", "utf_32")) and not wide_ok:
        return "utf-8"  # a <meta> readable as ASCII cannot really be UTF-16 (WHATWG rule)
    return "utf-8" if name == "utf_8" else name


def _to_utf8(data: bytes, content_type: str | None) -> bytes:
    """The page as UTF-8 bytes; never raises.

    Order: a BOM; a UTF-16/32 HTTP charset; bytes that are valid UTF-8 (passed through without a
    copy); the HTTP charset; the <meta> charset; cp1252. Valid UTF-8 beats a declared legacy
    charset because real pages are far more often mislabelled than accidentally valid UTF-8, and
    a declared charset that cannot decode the bytes is skipped rather than trusted.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):]
            if enc == "utf-8" and _is_utf8(body):
                return body
            return body.decode(enc, "replace").encode("utf-8")
    m = _HTTP_CHARSET.search(content_type) if content_type else None
    declared = _codec(m.group(1), wide_ok=True) if m else None
    if declared and declared.startswith(("utf_16", "utf_32")):
        return data.decode(declared, "replace").encode("utf-8")
    if _is_utf8(data):
        return data
    m = _META_CHARSET.search(data, 0, _PRESCAN_BYTES)
    meta = _codec(m.group(1).decode("ascii", "replace")) if m else None
    for enc in (declared, meta):
        if enc and enc != "utf-8":
            try:
                return data.decode(enc).encode("utf-8")
            except (UnicodeDecodeError, LookupError):
                continue
    return data.decode("cp1252", "replace").encode("utf-8")


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True  # word-at-a-time in C: much cheaper than decoding
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --------------------------------------------------------------------------- URLs

_URL_WS = re.compile(r"[\t\n\r]")  # WHATWG URL parsing drops these anywhere
_FAST_ABS = re.compile(r"https?://[A-Za-z0-9.-]+(?:[/?#]|$)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# Relative references that need no dot-segment or scheme handling: plain concatenation is exact.
_PLAIN_PATH = re.compile(r"(?!\.{1,2}(?:/|$))[^:/?#\\\s]*(?:/(?!\.{1,2}(?:/|$|[?#]))[^/?#\\\s]*)*(?:[?#][^\s\\]*)?$")


@functools.lru_cache(maxsize=64)
def _base_parts(base: str) -> tuple[str, str] | None:
    """(origin, directory) of an http(s) base URL, for the concatenation fast paths."""
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or "\\" in base:
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin, origin + parts.path[: parts.path.rfind("/") + 1] if parts.path else origin + "/"


def absolute_url(href: str | None, base: str) -> str | None:
    """Resolve href against base; only http(s) URLs with a host survive, anything odd is None."""
    if not href:
        return None
    href = href.strip()
    if not href:
        return None
    if "\t" in href or "\n" in href or "\r" in href:
        href = _URL_WS.sub("", href)
    if _FAST_ABS.match(href) and " " not in href and "\\" not in href:
        return href  # already absolute and plain: skip urljoin, the common case in big pages
    known = _base_parts(base)
    if known and href[0] == "/" and href[1:2] != "/" and _PLAIN_PATH.match(href, 1):
        return known[0] + href
    if known and href[0] not in "/?#" and _PLAIN_PATH.match(href):
        return known[1] + href
    scheme = _SCHEME.match(href)
    if scheme and scheme.group().lower() not in ("http:", "https:"):
        return None  # javascript:, data:, mailto:, ftp: ...
    try:
        if scheme and not urlsplit(href).hostname:
            return None  # "https://" or "http:/path": no host of its own
        url = urljoin(base, href.replace("\\", "/"))
        parts = urlsplit(url)
        parts.port  # raises ValueError on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url.replace(" ", "%20")


# --------------------------------------------------------------------------- chrome

_CHROME_TAGS = frozenset({"header", "footer", "nav"})
_WEAK_CHROME_TAGS = frozenset({"aside"})
_CONTENT_TAGS = frozenset({"article", "main"})
_CHROME_ROLES = frozenset({"banner", "navigation", "contentinfo", "menu", "menubar", "search"})
_CONTENT_ROLES = frozenset({"main", "article"})
# A class/id token marks chrome when the keyword is the token's head, after optional region
# prefixes: `site-header`, `footer-widgets`, `share-buttons`, `comment-body`. State words such as
# `has-sidebar` or `no-comments` do not match, and neither does `social-embed`.
_CHROME_TOKEN = re.compile(
    r"(?:^|\s)(?:(?:site|page|global|main|top|bottom|primary|secondary|left|right|mobile|article|post|entry|story)[-_]+)*"
    r"(?:header|masthead|footer|colophon|nav|navbar|navigation|menu|menubar|breadcrumbs?|sidebar|"
    r"share|sharing|sharedaddy|sharebar|social-(?:links|follow|icons|share|sharing|buttons|media|nav|menu|bar)|"
    r"socials|follow-us|comments?|comment-list|disqus_thread|newsletter)(?:[-_][\w-]*)?(?=\s|$)",
    re.I,
)
_CONTENT_TOKEN = re.compile(
    r"(?:^|\s)(?:entry-content|post-content|article-content|article-body|article__body|articlebody|story-body|"
    r"story-content|post-body|entry-body|body-text|article-text|rich-text)(?=\s|$)",
    re.I,
)

_STRONG, _WEAK, _CONTENT, _NONE = 1, 2, 3, 0


def _mark(el) -> int:
    """What one ancestor says about everything inside it."""
    tag = el.tag
    if not isinstance(tag, str):
        return _NONE
    role = (el.get("role") or "").strip().lower()
    marks = f"{el.get('class') or ''} {el.get('id') or ''}"
    if tag in _CHROME_TAGS or role in _CHROME_ROLES or _CHROME_TOKEN.search(marks):
        return _STRONG
    if tag in _CONTENT_TAGS or role in _CONTENT_ROLES or el.get("itemprop") == "articleBody" or _CONTENT_TOKEN.search(marks):
        return _CONTENT
    if tag in _WEAK_CHROME_TAGS or role == "complementary":
        return _WEAK
    return _NONE


def is_chrome(el, cache: Optional[dict] = None) -> bool:
    """True if el sits in the site's own header/nav/footer/sidebar/share/comments, not the article.

    Walks outward from el; the nearest decisive ancestor wins. A chrome mark (header, nav, footer,
    share, comments...) inside or outside the article says chrome. A content container (article,
    main, .entry-content...) met first says content: marks further out are page layout such as
    `<body class="has-sidebar">`. An `aside` is weak: inside the article it is a pull quote or an
    embed box (content); outside any content container it is a sidebar (chrome).
    """
    if cache is None:
        cache = {}
    path: list = []
    weak = False
    result = None
    node = el
    while node is not None:
        key = (node, weak)
        if key in cache:
            result = cache[key]
            break
        path.append(key)
        mark = _mark(node)
        if mark == _STRONG:
            result = True
            break
        if mark == _CONTENT:
            result = False
            break
        if mark == _WEAK:
            weak = True
        node = node.getparent()
    if result is None:
        result = weak
    for key in path:
        cache[key] = result
    return result


# --------------------------------------------------------------------------- document

_WS = re.compile(r"\s+")
_BLOCK_TAGS = frozenset(
    {"p", "li", "blockquote", "figure", "figcaption", "dd", "dt", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
     "div", "section", "article", "main", "aside", "header", "footer", "pre", "body"}
)
_BREAKS = _BLOCK_TAGS | {"br", "hr", "tr", "ul", "ol", "table", "blockquote", "iframe", "img"}
_VISIBLE_TEXT = etree.XPath("descendant-or-self::text()[not(parent::script or parent::style or parent::template)]")


def collapse(text: str) -> str:
    """Whitespace runs -> one space, trimmed."""
    return _WS.sub(" ", text).strip()


class Document:
    """One page: its UTF-8 source, the lxml tree (built on first use), and the per-page caches
    detectors share.

    `source` is the page as UTF-8 bytes: detectors test it for literal markers (`has`, `hits`,
    `where`) so that a page without, say, any `/status` never pays for the tree queries looking
    for tweets. The tree (`root`) is parsed only when something asks for it: a page whose raw
    markers call for no tree query at all is never parsed, which is most news pages for most
    platforms. `title` and a `<base href>` need the tree too; `base_url` does not when the page
    holds no `<base` at all.

    Built by hand from a tree (`Document(root=..., base_url=...)`), it behaves the same.
    """

    def __init__(self, root: Optional[etree._Element] = None, base_url: str = "", title: Optional[str] = None,
                 source: bytes = b"", *, _lazy: bool = False):
        self._root = root
        self._fetch_url = base_url
        self._base: Optional[str] = None if _lazy else base_url
        self._title = title
        self._title_known = not _lazy
        self.source = source
        self._lower: Optional[bytes] = None
        self._chrome: dict = {}
        self._texts: dict = {}
        self._hits: dict[tuple[bytes, bool], list[int]] = {}
        self.scans = 0  # passes over the whole page so far (the benchmark reports them)
        self._urls: dict = {}  # big pages repeat the same hrefs a lot
        self._scripts: dict[int, int] = {}  # `<script` offset -> where its sure text ends
        if root is None and not _lazy:
            raise TypeError("Document needs a root, or use parse_html()")
        if not self.source and root is not None:  # built by hand from a tree: markers must be findable
            self.source = etree.tostring(root, encoding="utf-8")

    def __repr__(self) -> str:
        return f"Document(base_url={self.base_url!r}, {len(self.source)} bytes, parsed={self._root is not None})"

    # ---- the tree and what comes from it

    @property
    def parsed(self) -> bool:
        """True once the tree has been built (tests and benchmarks look at this)."""
        return self._root is not None

    @property
    def root(self) -> etree._Element:
        if self._root is None:
            self._root = _parse_tree(self.source)
        return self._root

    @property
    def title(self) -> Optional[str]:
        if not self._title_known:
            self._title, self._title_known = _title(self.root, self.root.find("head")), True
        return self._title

    @title.setter
    def title(self, value: Optional[str]) -> None:
        self._title, self._title_known = value, True

    @property
    def base_url(self) -> str:
        """The fetch URL, or the page's `<base href>` resolved against it when that gives http(s)."""
        if self._base is None:
            if self._root is None and not self.hits(b"<base", ci=True):
                self._base = self._fetch_url  # no <base> anywhere: no tree needed to know
            else:
                self._base = _page_base(self.root.find("head"), self._fetch_url)
        return self._base

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base = value
        self._urls.clear()

    # ---- literal markers in the raw page

    @property
    def lower(self) -> bytes:
        """`source` with ASCII letters lowered (same offsets): what the `ci=True` lookups search."""
        if self._lower is None:
            self._lower = self.source.lower()
        return self._lower

    def hits(self, marker: bytes, *, ci: bool = False) -> list[int]:
        """Offsets of every occurrence of a literal in the raw page (overlapping ones too), sorted.

        `ci=True` matches ASCII letters in any case (the marker is lowered first): tag and
        attribute names, hosts. The first lookup scans the page once for every platform's
        `LITERALS` together (`LiteralScanner`); a marker holding one of those is then read off its
        few hits (see `_derive`), and only a marker holding none costs a scan of its own.
        """
        if not self.scans:
            # A page repeating a literal a million times is read literal by literal instead: a
            # `bytes.find` per hit costs a tenth of a match of the one-pass scan.
            found = _SCANNER.scan(self.source, limit=_SCAN_LIMIT)
            self._hits = {(literal, True): hits for literal, hits in (found or {}).items()}
            self.scans += 1
        if ci:
            marker = marker.lower()
        key = (marker, ci)
        found = self._hits.get(key)
        if found is None:
            found = self._derive(marker, ci)
            if found is None:
                found = list(_occurrences(self.lower if ci else self.source, marker))
                self.scans += 1
            self._hits[key] = found
        return found

    def _derive(self, marker: bytes, ci: bool) -> Optional[list[int]]:
        """Hits of `marker` read off those of a scanned literal it holds, or None if it holds none.

        Exact: every occurrence of `marker` holds that literal at the same offset within it, and
        the scan found every occurrence of the literal. Used only when the literal has few hits,
        so checking each is cheaper than a scan of the page.
        """
        roots = [(found, at) for literal, at in _roots_in(marker.lower())
                 if (found := self._hits.get((literal, True))) is not None]
        if not roots:
            return None
        found, at = min(roots, key=lambda root: len(root[0]))
        if len(found) > _DERIVE_LIMIT:
            return None
        src, size = self.source, len(marker)
        if ci:  # compare lowered slices: cheaper than lowering the whole page for a few hits
            return [pos - at for pos in found if pos >= at and src[pos - at : pos - at + size].lower() == marker]
        return [pos - at for pos in found if pos >= at and src.startswith(marker, pos - at)]

    def has(self, *markers: bytes, ci: bool = False) -> bool:
        """True if any of the literals occurs in the raw page."""
        return any(self.hits(marker, ci=ci) for marker in markers)

    def where(self, marker: bytes, outside: Sequence[tuple[int, int]] = (), *, ci: bool = False,
              want: Optional[frozenset[str]] = None) -> set[str]:
        """Where a literal occurs in the raw page, so a detector can skip tree queries it cannot need.

        Kinds: "a" (inside an <a ...> tag), "iframe", "tag" (another tag, a comment, script or
        style text), "link-text" (text right inside <a>), "text" (other running text), "unknown"
        (could not tell: treat as any). Hits inside the sorted `outside` byte spans (e.g. embeds
        read whole) are ignored. A lexical guess that errs towards "unknown", never towards nothing.
        With `want`, the kinds a caller acts on, reading stops once they are all found (the answer
        then holds them, and maybe not every other kind).
        """
        kinds: set[str] = set()
        starts = [start for start, _ in outside]
        counted = 0
        for pos in self.hits(marker, ci=ci):
            if starts:
                i = bisect.bisect_right(starts, pos) - 1
                if i >= 0 and pos < outside[i][1]:
                    continue
            counted += 1
            kinds.add(self.place(pos) if counted <= _MAX_HITS else "unknown")
            if "unknown" in kinds or (want is not None and want <= kinds):
                break
        return kinds

    def place(self, pos: int) -> str:
        """The `where` kind of one offset of the raw page ("a", "iframe", "tag", "link-text", "text"
        or "unknown")."""
        kind = _lexical_place(self.source, pos)
        if kind == "unknown" and self._in_script(pos):
            return "tag"  # e.g. a URL in inline JS that also compares with "<"
        return kind

    def _in_script(self, pos: int) -> bool:
        """True if pos is surely in the text of a `<script>` element (which holds no markup).

        The nearest `<script` before pos must be a real start tag in running markup (not in a
        comment, a value, another script or an SVG), and between its end and pos there must be
        no `</script`, no `<!--` (HTML's script escapes) and no end tag of a raw-text element
        that might have held a fake `<script` (see `_script_end`). Anything less sure is False.
        """
        low = self.lower
        start = low.rfind(b"<script", 0, pos)
        if start == -1:
            return False
        limit = self._scripts.get(start)
        if limit is None:
            limit = self._scripts[start] = _script_end(self.source, low, start)
        return limit > pos and low.find(b">", start, pos) != -1

    # ---- reading elements

    def absolute(self, href: str | None) -> str | None:
        """href resolved against the page's base URL; None unless the result is http(s)."""
        if href is None:
            return None
        url = self._urls.get(href, False)
        if url is False:
            url = self._urls[href] = absolute_url(href, self.base_url)
        return url

    def is_chrome(self, el) -> bool:
        """`is_chrome` with this page's cache, so shared ancestors are classified once."""
        return is_chrome(el, self._chrome)

    def text(self, el) -> str:
        """Visible text of el, whitespace-collapsed (cached: several embeds share one block)."""
        text = self._texts.get(el)
        if text is None:
            parts: list[str] = []
            for piece in _VISIBLE_TEXT(el):
                owner = piece.getparent()  # the element a text starts in, or a tail follows
                if owner is not None and owner.tag in _BREAKS:
                    parts.append(" ")  # block edges and <br> separate words; inline tags do not
                parts.append(piece)
            text = self._texts[el] = collapse("".join(parts))
        return text

    def context(self, el, needle: str | None = None, width: int = 200) -> str:
        """About `width` chars of the visible text of el's nearest block, centred on needle.

        Without a needle: the block's first `width` chars; for a widget that is no block itself
        (an iframe, a script, an amp-* element) in a big container, the text of the prose block
        right before it instead, never the start of a whole article body. Only the text near el
        is read, never a whole block: a page of a thousand nested divs costs what a flat one does.
        """
        block = el
        while block is not None and block.tag not in _BLOCK_TAGS:
            block = block.getparent()
        if block is None:
            block = el
        if needle is None and block is not el:
            parent = el.getparent()
            if parent is not None and len(parent) > _SMALL_WRAPPER:
                prev = el.getprevious()
                while prev is not None and (not isinstance(prev.tag, str) or prev.tag in ("script", "style", "iframe")):
                    prev = prev.getprevious()
                if prev is None or prev.tag not in _PROSE_BLOCKS or len(prev) > _SMALL_WRAPPER:
                    return ""
                return self.context(prev, None, width)
        budget = width + 64
        if needle is None:
            text = collapse(_read(_text_forward(block, block), budget))
        else:
            before = _read(_text_backward(el, block), width + 1, reverse=True)  # more: the slice below is exact
            text = collapse(before + _read(_text_forward(el, block), budget, until=collapse(needle)))
        if len(text) <= width:
            return text
        at = text.find(collapse(needle)) if needle else -1
        start = max(0, at - width // 3) if at >= 0 else 0
        return text[start : start + width].strip()


_SMALL_WRAPPER = 12  # children: more than this is a container, not a widget's wrapper
_PROSE_BLOCKS = frozenset({"p", "div", "figure", "figcaption", "blockquote", "h2", "h3", "h4", "li", "section", "pre"})
_HIDDEN_TEXT = frozenset({"script", "style", "template"})  # their own text is not visible


def _piece(el, text: str) -> str:
    """A text run as it joins the others: block edges and <br> separate words, inline tags do not."""
    return " " + text if el.tag in _BREAKS else text


def _subtree_forward(el) -> Iterator[str]:
    """Visible text of el's subtree (not its tail), in document order; no recursion (2,048 levels)."""
    stack: list = [el]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):  # (the element whose tail comes now,)
            tail = item[0].tail
            if tail:
                yield _piece(item[0], tail)
            continue
        tag = item.tag
        if not isinstance(tag, str):
            continue  # a comment: its text is not the page's
        if item.text and tag not in _HIDDEN_TEXT:
            yield _piece(item, item.text)
        for child in reversed(item):
            stack.append((child,))
            stack.append(child)


def _subtree_backward(el) -> Iterator[str]:
    """`_subtree_forward` in reverse order: each child's tail, then its subtree, last child first;
    the element's own text last."""
    stack: list = [el]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):  # ("text" | "tail", element)
            what, owner = item
            text = owner.text if what == "text" else owner.tail
            if text and not (what == "text" and owner.tag in _HIDDEN_TEXT):
                yield _piece(owner, text)
            continue
        if not isinstance(item.tag, str):
            continue
        stack.append(("text", item))
        for child in item:
            stack.append(child)
            stack.append(("tail", child))


def _text_forward(el, block) -> Iterator[str]:
    """Visible text from the start of el to the end of block (an ancestor-or-self of el)."""
    yield from _subtree_forward(el)
    node = el
    while node is not block:
        if node.tail:
            yield _piece(node, node.tail)
        for sibling in node.itersiblings():
            if len(sibling):
                yield from _subtree_forward(sibling)
            elif sibling.text and isinstance(sibling.tag, str) and sibling.tag not in _HIDDEN_TEXT:
                yield _piece(sibling, sibling.text)  # a leaf (most siblings): no generator for it
            if sibling.tail:
                yield _piece(sibling, sibling.tail)
        node = node.getparent()
        if node is None:
            return


def _text_backward(el, block) -> Iterator[str]:
    """Visible text from the start of el back to the start of block, in reverse order."""
    node = el
    while node is not block:
        for sibling in node.itersiblings(preceding=True):
            if sibling.tail:
                yield _piece(sibling, sibling.tail)
            if len(sibling):
                yield from _subtree_backward(sibling)
            elif sibling.text and isinstance(sibling.tag, str) and sibling.tag not in _HIDDEN_TEXT:
                yield _piece(sibling, sibling.text)
        parent = node.getparent()
        if parent is None:
            return
        if parent.text and parent.tag not in _HIDDEN_TEXT:
            yield _piece(parent, parent.text)
        node = parent


def _read(pieces: Iterator[str], budget: int, *, reverse: bool = False, until: str = "") -> str:
    """Join text pieces until `budget` visible chars or `_MAX_PIECES` pieces are read; with
    `until`, that much more once it shows up (giving up after `_NEEDLE_REACH` chars without it).

    The piece cap keeps a page of thousands of one-word links in one block linear: each of its
    contexts then reads a few dozen pieces, not a page's worth of them.
    """
    parts: list[str] = []
    seen, count, carry, left = not until, 0, "", _MAX_PIECES
    for piece in pieces:
        parts.append(piece)
        if not seen:
            joined = collapse(carry + piece)
            count += len(piece)
            if until in joined:
                seen, count = True, 0
            elif count > _NEEDLE_REACH or len(parts) > 4 * _MAX_PIECES:
                break
            else:  # the end of what was read, so a needle across two pieces is still found
                carry = joined[-len(until):] + (" " if piece[-1:].isspace() else "")
            continue
        count += len(" ".join(piece.split()))  # visible chars: indentation and newlines do not count
        left -= 1
        if count >= budget or not left:
            break
    if reverse:
        parts.reverse()
    return "".join(parts)


_NEEDLE_REACH = 16_384
_MAX_PIECES = 64


_TAG_AT = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9-]*)")
# A whole start tag, quoted attribute values included (they may hold "<" or ">").
_START_TAG = re.compile(rb"""<([A-Za-z][^\s/>]*)(?:[\s/]+[^\s/>=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>][^\s>]*))?)*[\s/]*>""")
_MAX_HITS = 64
_SCAN_LIMIT = 100_000  # matches; a real page has a few hundred at most
_DERIVE_LIMIT = 1024  # checking this many hits costs about what one scan of a big page does
_NOT_RUNNING_TEXT = frozenset({b"a", b"script", b"style", b"textarea", b"title"})


# After a fake `<script` (in a textarea, say), real markup resumes after one of these end tags.
_RAW_TEXT_ENDS = (b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript", b"plaintext", b"style")


def _script_end(src: bytes, low: bytes, start: int) -> int:
    """Where the text of the script element starting at `start` surely ends (-1: not a script
    we can be sure of). Conservative: the first `</script`, `<!--` or raw-text end tag."""
    m = _START_TAG.match(src, start)
    if not m or m.group(1).lower() != b"script" or _lexical_place(src, start) != "text":
        return -1
    if low.rfind(b"<svg", 0, start) > low.rfind(b"</svg", 0, start):
        return -1  # inside SVG a script's text is parsed like any markup
    begin = m.end()
    end = low.find(b"</script", begin)
    end = len(src) if end == -1 else end
    comment = low.find(b"<!--", begin, end)
    if comment != -1:
        end = comment
    close = low.find(b"</", begin, end)
    while close != -1:
        if low.startswith(_RAW_TEXT_ENDS, close + 2):
            return close
        close = low.find(b"</", close + 2, end)
    return end


class LiteralScanner:
    """Finds every occurrence of many literals (ASCII case-insensitively) in one pass over a page.

    Detection looks up a few dozen literals per page; one `bytes.find` scan each cost more than the
    parse itself. RE2 matches them all in one linear-time DFA pass, in C. Literals are kept
    prefix-free (a literal starting with a shorter one is read off that one's hits), so at most one
    literal matches at any offset; the pass does not look inside its own matches, so the few
    offsets inside a literal where another one could start (`t.co/` then `/@`) are checked by hand.
    """

    def __init__(self, literals: Iterable[bytes]):
        kept: list[bytes] = []
        for literal in sorted({lit.lower() for lit in literals if lit}, key=len):
            if not any(literal.startswith(shorter) for shorter in kept):
                kept.append(literal)
        self.literals = tuple(kept)
        # literal -> ((offset k inside it, literals that may start there), ...): another literal
        # starts at k when it begins with the literal's tail from k, or the tail begins with it.
        self._inner = {
            literal: spots
            for literal in kept
            if (spots := tuple((k, others) for k in range(1, len(literal))
                               if (others := tuple(o for o in kept if o.startswith(literal[k:]) or literal[k:].startswith(o)))))
        }
        options = re2.Options()
        options.encoding = re2.Options.Encoding.LATIN1  # bytes as bytes: no UTF-8 case folding (K, ſ)
        options.case_sensitive = False
        options.never_capture = True
        self._finditer = re2.compile(b"|".join(re2.escape(lit) for lit in kept), options).finditer if kept else None

    def scan(self, source: bytes, limit: int = 0) -> Optional[dict[bytes, list[int]]]:
        """Each literal (lowered) -> sorted offsets of its case-insensitive occurrences in source;
        None once more than `limit` (if set) are found."""
        found: dict[bytes, list[int]] = {literal: [] for literal in self.literals}
        if self._finditer is None:
            return found
        inner = self._inner
        for n, m in enumerate(self._finditer(source), 1):
            if n == limit:
                return None
            start, end = m.span()
            literal = source[start:end].lower()
            found[literal].append(start)
            for k, others in inner.get(literal, ()):
                for other in others:
                    if source[start + k : start + k + len(other)].lower() == other:
                        found[other].append(start + k)  # before any later match: lists stay sorted
        return found


# Every platform's literals, plus `<base` (Document.base_url asks for it).
_SCANNER = LiteralScanner([literal for platform in PLATFORMS for literal in platform.LITERALS] + [b"<base"])


@functools.lru_cache(maxsize=None)
def _roots_in(marker: bytes) -> tuple[tuple[bytes, int], ...]:
    """The scanned literals a (lowered) marker holds, with their offset in it."""
    return tuple((literal, marker.find(literal)) for literal in _SCANNER.literals if literal in marker)


def _occurrences(src: bytes, marker: bytes) -> Iterator[int]:
    pos = src.find(marker)
    while pos != -1:
        yield pos
        pos = src.find(marker, pos + 1)


def _lexical_place(src: bytes, pos: int, _check: bool = True) -> str:
    """Guess from the nearest `<` and `>` before pos whether pos is in a tag or in text.

    Every answer but "unknown" is checked against the tag's real extent: "tag" and "link-text"
    let a caller skip work, and "a" or "iframe" pick the only query a hit calls for, so a `<`
    that merely sits in an attribute value (`<iframe title="<a" src=...>`) must not pass for the
    start of a tag. The nearest `<` and `>` are looked for as far back as they are (a one-byte
    reverse search is cheap): a hit deep in a big JSON state script still sees its `<script>` tag.
    """
    lt, gt = src.rfind(b"<", 0, pos), src.rfind(b">", 0, pos)
    if lt > gt:  # inside a tag, a comment not yet closed, or a "<" in text or in a value
        if src.startswith(b"<!--", lt):
            return "tag"
        m = _TAG_AT.match(src, lt)
        if not m or m.group(1):
            return "unknown"
        name = m.group(2).lower()
        if name == b"a" or name == b"iframe":
            return name.decode() if _starts_tag(src, lt, _check) else "unknown"
        seg = src[lt:pos]  # inside a quoted value of this very tag: an odd count of its quote
        double, single = seg.count(b'"'), seg.count(b"'")
        return "tag" if (double % 2 and not single) or (single % 2 and not double) else "unknown"
    start = src.rfind(b"<", 0, gt) if gt != -1 else -1
    m = _START_TAG.match(src, start) if start != -1 else None  # the tag this text follows
    if m and m.end() > pos:  # that ">" was inside a quoted value: pos is still in the tag
        name = m.group(1).lower()
        if (name == b"a" or name == b"iframe") and _starts_tag(src, start, _check):
            return name.decode()
        return "unknown"
    if not m or m.end() != gt + 1:
        return "text" if start != -1 and src.startswith(b"</", start) else "unknown"
    name = m.group(1).lower()
    if name in _NOT_RUNNING_TEXT:
        return "link-text" if name == b"a" else "tag"
    return "text"


def _starts_tag(src: bytes, lt: int, check: bool) -> bool:
    """True if the `<` at lt is surely a tag's start: it sits in running text, not in a value."""
    return check and _lexical_place(src, lt, False) in ("text", "link-text")


def parse_html(data: bytes, *, base_url: str, content_type: str | None = None) -> Document:
    """Decode (see `_to_utf8`) now, parse with lxml when the tree is first needed; any bytes give
    a Document, never an error."""
    return Document(base_url=base_url, source=_to_utf8(bytes(data or b""), content_type), _lazy=True)


def _parse_tree(source: bytes) -> etree._Element:
    """The lxml tree of a UTF-8 page; an empty document for empty, blank or comment-only input."""
    root = None
    if source and not source.isspace():
        try:
            root = etree.fromstring(source, _parser())
        except (etree.LxmlError, ValueError):
            root = None
    if root is None:
        root = etree.fromstring(b"<html><head></head><body></body></html>", _parser())
    return root


def _page_base(head, base_url: str) -> str:
    """<base href> resolved against the fetch URL, when it gives an http(s) URL."""
    for base in head.iterchildren("base") if head is not None else ():
        if base.get("href"):
            return absolute_url(base.get("href"), base_url) or base_url
    return base_url


def _title(root, head) -> Optional[str]:
    title = head.find("title") if head is not None else None
    if title is None:
        title = next(root.iter("title"), None)
    if title is None:
        return None
    return collapse("".join(title.itertext())) or None


# --------------------------------------------------------------------------- embeds


@dataclass
class ExtractResult:
    """Posts found in a page, merged per (platform, id); profile URLs recorded but not posts."""

    embeds: list[Embed]
    profiles: list[str]


def find_embeds(doc: Document) -> ExtractResult:
    """Run every registered platform detector over the one tree and merge what they found."""
    merged: dict[tuple[str, str], Embed] = {}
    profiles: dict[str, str] = {}
    for platform in PLATFORMS:
        for item in platform.detect(doc):
            if isinstance(item, Profile):
                profiles.setdefault(item.url.lower(), item.url)
            else:
                _merge(merged, item)
    return ExtractResult(embeds=list(merged.values()), profiles=list(profiles.values()))


def _merge(merged: dict[tuple[str, str], Embed], embed: Embed) -> None:
    """One Embed per key: union of forms in first-seen order, first context, first known author.

    When a later sighting knows the author and the first did not (an iframe, then a blockquote),
    its URL is taken too, since the platform builds the canonical URL from the handle.
    """
    seen = merged.get(embed.key)
    if seen is None:
        merged[embed.key] = Embed(
            platform=embed.platform, id=embed.id, url=embed.url, forms=list(dict.fromkeys(embed.forms)),
            context=embed.context, author_handle=embed.author_handle,
        )
        return
    for form in embed.forms:
        if form not in seen.forms:
            seen.forms.append(form)
    if not seen.context and embed.context:
        seen.context = embed.context
    if seen.author_handle is None and embed.author_handle:
        seen.author_handle = embed.author_handle
        seen.url = embed.url


# --------------------------------------------------------------------------- requisites

_REQUISITE_TAGS = ("link", "img", "source", "script", "video", "input", "style")
_STYLE_ATTRS = etree.XPath("//@style[contains(., 'url(') or contains(., 'URL(')]", smart_strings=False)
_ICON_RELS = frozenset({"stylesheet", "icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon"})
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_CSS_REF = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)"""  # url(x), url("x"), url('x')
    r"""|@import\s+(?:"([^"]*)"|'([^']*)')""",  # @import "x" (the url() form is the branch above)
    re.I,
)


def css_urls(css_text: str, base_url: str) -> list[str]:
    """Absolute http(s) targets of url(...) and @import in a stylesheet, deduplicated, in order."""
    if not css_text or ("url" not in css_text.lower() and "@import" not in css_text.lower()):
        return []
    if "/*" in css_text:
        css_text = _CSS_COMMENT.sub(" ", css_text)
    found: dict[str, None] = {}
    for m in _CSS_REF.finditer(css_text):
        raw = next((g for g in m.groups() if g is not None), "")
        url = absolute_url(raw, base_url)
        if url:
            found.setdefault(url.split("#", 1)[0])
    return list(found)


_SRCSET_GAP = re.compile(r"[\s,]*")
_SRCSET_URL = re.compile(r"\S+")
_SRCSET_DESCRIPTORS = re.compile(r"(?:[^,(]|\([^)]*\)?)*,?")


def srcset_urls(value: str) -> list[str]:
    """Every candidate URL of a srcset, keeping commas inside URLs (`w_100,h_50`) intact."""
    urls: list[str] = []
    pos, end = 0, len(value)
    while True:
        pos = _SRCSET_GAP.match(value, pos).end()
        if pos >= end:
            return urls
        url = _SRCSET_URL.match(value, pos).group()
        pos += len(url)
        if url.endswith(","):
            url = url.rstrip(",")  # "a.jpg," : no descriptors
        else:
            pos = _SRCSET_DESCRIPTORS.match(value, pos).end()
        if url:
            urls.append(url)


def _requisite_refs(el) -> Iterable[tuple[bool, str]]:
    """(is_css, value) pairs: the URLs one element makes the browser fetch, or CSS text to scan."""
    tag = el.tag
    if tag == "link":
        if set((el.get("rel") or "").lower().split()) & _ICON_RELS:
            yield False, el.get("href")
    elif tag == "img" or tag == "source":
        if tag == "img" and el.get("src"):
            yield False, el.get("src")
        for url in srcset_urls(el.get("srcset") or ""):
            yield False, url
    elif tag == "script":
        yield False, el.get("src")
    elif tag == "video":
        yield False, el.get("poster")
    elif tag == "input":
        if (el.get("type") or "").strip().lower() == "image":
            yield False, el.get("src")
    elif tag == "style" and el.text:
        yield True, el.text


def find_requisites(doc: Document) -> list[str]:
    """What `wget -p` would fetch to show the page: CSS, icons, images, scripts, posters, CSS urls.

    Elements come in document order, then the url()s of inline style attributes: one C-level walk
    filtered by tag plus one attribute query, instead of a Python loop over every element.
    """
    found: dict[str, None] = {}
    for el in doc.root.iter(*_REQUISITE_TAGS):
        for is_css, value in _requisite_refs(el):
            if is_css:
                found.update(dict.fromkeys(css_urls(value, doc.base_url)))
                continue
            url = doc.absolute(value)
            if url:
                found.setdefault(url.split("#", 1)[0])
    for style in _STYLE_ATTRS(doc.root):
        found.update(dict.fromkeys(css_urls(style, doc.base_url)))
    return list(found)
