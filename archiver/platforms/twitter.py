"""Twitter / X posts: detection in a parsed page (top section), capture (bottom section, later).

Markup and URL forms follow shared/docs/social-embeds.md section 1. The tweet id of an embed is
taken from its LAST status permalink; other status links and t.co / pic.twitter.com links inside
an embed are that post's references and media, not posts of their own.
"""

from __future__ import annotations

import bisect
import html
import re
from typing import TYPE_CHECKING, Iterable, Optional
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from archiver.models import Embed
from archiver.platforms import scan
from archiver.platforms.base import Detected, Profile

if TYPE_CHECKING:
    from archiver.extract import Document

name = "twitter"
LITERALS = (b"twitter", b"tweet", b"twttr", b"status", b"x.com", b"t.co/", b"blockquote")  # see `_candidates`

# =============================================================================================
# Detection (owned by extract). Public: name, detect, parse_status_url, canonical_url.
# =============================================================================================

_HOST = (
    r"(?:(?:www|m|mobile)\.)?"
    r"(?:twitter\.com|x\.com|(?:fx|vx)twitter\.com|fixupx\.com|fixvx\.com|xcancel\.com|nitter(?:\.[a-z0-9-]+)+)"
)
# /<handle>/status/<id>, /statuses/<id>, /i/web/status/<id>, /i/status/<id>, old /#!/ prefix; the
# id may be followed by /photo/n, /video/n, /analytics, a query or a fragment, but not more digits.
_PATH = (
    r"/(?:\#!/)?(?:i/web/status|i/status|statuses|(?P<handle>[A-Za-z0-9_]{1,15})/status(?:es)?)"
    r"/(?P<id>[0-9]{1,19})(?![A-Za-z0-9_])"
)
_STATUS_URL = re.compile(r"(?:https?:)?(?://)?" + _HOST + r"(?::[0-9]{1,5})?" + _PATH, re.I | re.A)
_STATUS_HREF = re.compile(r"https?://" + _HOST + r"(?::[0-9]{1,5})?" + _PATH, re.I | re.A)
_SHORT_HREF = re.compile(
    r"https?://(?:(?P<tco>t\.co)|(?:www\.)?pic\.(?:twitter|x)\.com)/(?P<code>[A-Za-z0-9]{1,20})(?![A-Za-z0-9_])",
    re.I | re.A,
)
# The same three things as they appear in running text: no scheme needed, but not glued to a
# longer host (`box.com/a/status/1` is not x.com) or a longer path.
_IN_TEXT = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:"
    r"(?P<status>" + _HOST + _PATH + r")"
    r"|t\.co/(?P<tco>[A-Za-z0-9]{1,20})(?![A-Za-z0-9_])"
    r"|(?:www\.)?pic\.(?:twitter|x)\.com/(?P<pic>[A-Za-z0-9]{1,20})(?![A-Za-z0-9_])"
    r")",
    re.I | re.A,
)
_PROFILE_HREF = re.compile(
    r"https?://" + _HOST + r"/(?:\#!/)?@?(?P<handle>[A-Za-z0-9_]{1,15})/?(?:[?#]|$)", re.I | re.A
)
# Paths that look like a handle but are the site's own pages.
_RESERVED = frozenset(
    "i home search hashtag intent share explore settings login logout signup tos privacy messages "
    "notifications compose about download account oauth rules jobs help widgets".split()
)
_ATTRIBUTION = re.compile(r"\(@([A-Za-z0-9_]{1,15})\)", re.A)
# "— Rojava Information Center (@RojavaIC)" : what oEmbed markup leaves when a CMS strips the class.
_STRIPPED_SIGNATURE = re.compile(r"[\u2014\u2013-]\s*[^()]{1,80}\(@[A-Za-z0-9_]{1,15}\)", re.A)
_ATTRIBUTION_AFTER = re.compile(r"\s*[\u2014\u2013-]+\s*[^()]{1,80}?\(@([A-Za-z0-9_]{1,15})\)", re.A)
_SCRIPT_CALL = re.compile(r"twttr\.widgets\.create(?:Tweet|Video)\(\s*[\"']?([0-9]{1,19})[\"']?", re.A)
_DIGITS = re.compile(r"\s*([0-9]{1,19})\s*", re.A)
_WIDGET_LINKS = frozenset({"twitter-share-button", "twitter-follow-button", "twitter-hashtag-button",
                           "twitter-mention-button", "twitter-timeline"})

_ANCHORS = etree.XPath(".//a[@href]")
_HAS_EMBED_MARKUP = etree.XPath("boolean(.//blockquote | .//iframe | .//amp-twitter)")
_HAS_IFRAME = etree.XPath("boolean(.//iframe)")
_BLOCKQUOTE_CONTEXT = 600


def parse_status_url(url: str) -> tuple[str | None, str] | None:
    """(handle or None, tweet id) for any tweet status URL form, else None.

    >>> parse_status_url("https://x.com/i/web/status/20?s=20")
    (None, '20')
    """
    if not url:
        return None
    m = _STATUS_URL.match(url.strip())
    if not m or not _valid_id(m.group("id")):
        return None
    return _handle(m.group("handle")), m.group("id")


def canonical_url(tweet_id: str, handle: str | None) -> str:
    """https://twitter.com/<handle>/status/<id>, or the i/web form when the author is unknown.

    twitter.com, not x.com: the oEmbed and syndication endpoints still key on it (doc section 1.1).
    """
    if handle and handle.lower() != "i":
        return f"https://twitter.com/{handle}/status/{tweet_id}"
    return f"https://twitter.com/i/web/status/{tweet_id}"


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every tweet embedded or linked in the article body (chrome excluded), plus timelines.

    `exhaustive=True` runs every tree query whatever the raw markers say: slower, same answer;
    tests use it to check the shortcuts.
    """
    state = _Scan(doc)
    state.found.extend(Profile(name, url) for url in _timelines(doc))
    state.run(_exhaustive_candidates(doc) if exhaustive else _candidates(doc))
    return state.results()


# ---------------------------------------------------------------------------------------------
# Which tree queries to run: decided from literal markers in the raw page.
# ---------------------------------------------------------------------------------------------

# Parts of one union query, each run only when the raw page calls for it, so that a page with no
# tweet in it costs a few lookups in its bytes and no tree query at all (then the page is never
# even parsed: `Document.root` is built on first use). The union comes back in document order, so
# embeds come out in page order and a container is always seen before the links inside it.
# Predicates filter in C; Python sees only the survivors.
#
# Raw lookups: the `LITERALS` above are found in the one scan of the page every detector shares;
# every marker holding `twitter`, `tweet` or `twttr` is read off their few hits.
# Tag names, attribute names and hosts are case-insensitive in HTML, hence `ci`.
_WIDGET_KINDS = (b"tweet", b"video", b"timeline")  # what may follow "twitter-" in a class
_BLOCKQUOTE_PART = "//blockquote"
_IFRAME_PART = "//iframe"
_AMP_PART = "//amp-twitter"
_DATA_PART = "//*[@data-tweet-id or @data-tweetid]"
_SCRIPT_PART = "//script[contains(., 'twttr.widgets.create')]"
_DIV_PART = "//div[@class][contains(@class, 'twitter-tweet') or contains(@class, 'twitter-video')]"
# What an iframe's src / data-src must hold for `_Scan.iframe` to read it (it lowers them first).
_IFRAME_MARKERS = (b"twitter", b"x.com", b"status")
# Link forms: scanning every href and every text node is the expensive part of detection, so it
# happens only for the markers that occur in an <a> tag or in running text *outside* the tweet
# embeds (whose own links are read from the embed element).
_LINK_MARKERS = ("/status", "t.co/", "pic.twitter.com/", "pic.x.com/")
_IFRAME, _A_AND_IFRAME, _A_AND_TEXT = frozenset({"iframe"}), frozenset({"a", "iframe"}), frozenset({"a", "text"})
_QUERIES: dict[str, etree.XPath] = {}


def _candidates(doc: Document) -> list:
    """Run the union of the query parts this page's raw markers call for (nothing if none)."""
    widgets = _widgets(doc)
    classes = widgets[b"tweet"] + widgets[b"video"]
    parts = []
    data_ids = _in_a_tag(doc, b"data-tweet")  # an attribute name: not in a value, text or script
    if _in_a_tag(doc, b"amp-twitter"):
        parts.append(_AMP_PART)
    if data_ids:
        parts.append(_DATA_PART)
    if doc.has(b"twttr.widgets.create"):
        parts.append(_SCRIPT_PART)
    spans: list[tuple[int, int]] = []
    if classes:
        spans = _embed_spans(doc)
        if _outside_blockquotes(doc, spans, classes):
            parts.append(_DIV_PART)
    in_hrefs, in_text = [], []
    parents: Optional[set[bytes]] = set()  # elements the text hits are the first text of (None: unsure)
    for marker in _LINK_MARKERS:
        skip = spans if marker != "/status" else sorted(spans + _not_status_urls(doc, b"/status"))
        kinds = doc.where(marker.encode(), outside=skip, want=_A_AND_TEXT)
        if kinds & {"a", "unknown"}:
            in_hrefs.append(f"contains(., '{marker}')")
        if kinds & {"text", "unknown"}:
            in_text.append(f"contains(., '{marker}')")
            parents = None if "unknown" in kinds else _text_parents(doc, marker.encode(), spans, parents)
    if in_hrefs:
        parts.append("//a/@href[" + " or ".join(in_hrefs) + "]")
    if in_text:
        tests = " or ".join(in_text)
        if parents is not None and len(parents) <= 2:  # e.g. //p/text(): a fraction of a whole-tree text scan
            parts.extend(f"//{name.decode()}/text()[{tests}]" for name in sorted(parents))
        else:
            parts.append(f"/descendant::text()[{tests}]")
    if classes or parts:
        # The tree is queried anyway, and a walk for its blockquotes and iframes costs less than
        # telling from the raw page whether they can hold a tweet.
        parts += [_BLOCKQUOTE_PART, _IFRAME_PART]
    else:
        not_urls = _not_status_urls(doc, b"status", ci=True)
        statuses = doc.where(b"status", outside=not_urls, ci=True, want=_A_AND_IFRAME)
        skipped = {start for start, _ in not_urls}
        hits = [pos for pos in doc.hits(b"status", ci=True) if pos not in skipped]
        if statuses & {"a", "unknown"} and _maybe_in_blockquote(doc, hits):
            parts.append(_BLOCKQUOTE_PART)  # a class-stripped embed: a status permalink in a blockquote
        if statuses & {"iframe", "unknown"} or any(
                doc.where(m, ci=True, want=_IFRAME) & {"iframe", "unknown"} for m in _IFRAME_MARKERS[:2]):
            parts.append(_IFRAME_PART)
    if not parts:
        return []
    query = " | ".join(parts)
    compiled = _QUERIES.get(query)
    if compiled is None:
        compiled = _QUERIES[query] = etree.XPath(query)
    return compiled(doc.root)


_STATUS_URL_BYTES = re.compile(_STATUS_URL.pattern.encode(), re.I)
_URL_REACH = 256  # bytes before a `status` hit that hold the rest of its URL
_URL_EDGES = tuple(bytes([c]) for c in b" \t\n\r\f\v\"'<>()=")  # a URL does not run across these


def _not_status_urls(doc: Document, marker: bytes, ci: bool = False) -> list[tuple[int, int]]:
    """One-byte spans at the hits of a `status` marker that surely are in no tweet URL (a script's
    `xhr.status`, `loginStatus`, downdetector.com/status/...), for `Document.where` to ignore. A
    hit in an entity-escaped or percent-encoded URL (an oEmbed proxy's `url=`), or too far into a
    long one to see its start, is kept."""
    src, out = doc.source, []
    for pos in doc.hits(marker, ci=ci):
        lo = max(0, pos - _URL_REACH)
        edge = max(src.rfind(c, lo, pos) for c in _URL_EDGES)  # where the URL holding the hit starts
        if edge < 0 and lo:
            continue
        start = edge + 1 if edge >= 0 else 0
        around = src[start:pos + 32]
        if b"&#" in around or b"%2f" in around.lower():
            continue
        if not any(m.start() <= pos < m.end() for m in _STATUS_URL_BYTES.finditer(src, start, pos + 32)):
            out.append((pos, pos + 1))
    return out


def _maybe_in_blockquote(doc: Document, hits: list[int]) -> bool:
    """False only if no hit can be inside a blockquote (the only place a class-stripped embed's
    permalink is read from): before each, every blockquote opened has been closed. Opens are
    counted wherever they are (a fake one only keeps the answer True); a close counts only if it
    surely is a tag, and one with nothing open is ignored, as the parser ignores it."""
    if not hits:
        return False
    events = sorted([(pos, 1) for pos in doc.hits(b"<blockquote", ci=True)]
                    + [(pos, -1) for pos in doc.hits(b"</blockquote", ci=True) if doc.place(pos) == "text"])
    depth, i = 0, 0
    for hit in hits:
        while i < len(events) and events[i][0] < hit:
            depth = max(0, depth + events[i][1])
            i += 1
        if depth:
            return True
    return False


# Elements whose first text run a raw hit can be placed in without a doubt about the tree: their
# start tag always opens a new element holding the text that follows it (not so for table parts,
# a second <body> or <form>, raw-text elements...).
_TEXT_PARENTS = frozenset(
    b"p li div span h1 h2 h3 h4 h5 h6 figcaption blockquote section article em strong b i small cite q dd dt "
    b"pre code label time mark u s sub sup abbr main aside header footer nav address summary details figure "
    b"center font".split()
)


def _text_parents(doc: Document, marker: bytes, spans: list[tuple[int, int]],
                  parents: Optional[set[bytes]]) -> Optional[set[bytes]]:
    """`parents` plus the element each text hit of `marker` (outside `spans`) is the first text of,
    from the start tag right before it; None if any hit is not of that plain shape."""
    if parents is None:
        return None
    src = doc.source
    starts = [start for start, _ in spans]
    for pos in doc.hits(marker):
        i = bisect.bisect_right(starts, pos) - 1
        if i >= 0 and pos < spans[i][1]:
            continue
        if doc.place(pos) != "text":
            continue  # "a", "tag", "link-text": not for the text query (an "unknown" never gets here)
        gt = src.rfind(b">", 0, pos)
        start = src.rfind(b"<", 0, gt) if gt != -1 else -1
        m = _START_TAG.match(src, start) if start != -1 and src.rfind(b"<", 0, pos) < gt else None
        name = m.group(1).lower() if m and m.end() == gt + 1 else b""
        if name not in _TEXT_PARENTS or doc.place(start) != "text":
            return None
        parents.add(name)
    return parents


_NOT_IN_A_TAG = frozenset({"tag", "text", "link-text"})  # where an element or attribute name cannot be


def _in_a_tag(doc: Document, name: bytes) -> bool:
    """True if a tag or attribute name (any case) may occur as such: a hit not surely in text,
    a script or an attribute value."""
    return any(kind not in _NOT_IN_A_TAG for kind in doc.where(name, ci=True, want=_ANY_TAG))


_ANY_TAG = frozenset({"a", "iframe"})


def _exhaustive_candidates(doc: Document) -> list:
    tests = " or ".join(f"contains(., '{marker}')" for marker in _LINK_MARKERS)
    parts = [_BLOCKQUOTE_PART, _IFRAME_PART, _AMP_PART, _DIV_PART, _DATA_PART, _SCRIPT_PART,
             f"//a/@href[{tests}]", f"/descendant::text()[{tests}]"]
    return etree.XPath(" | ".join(parts))(doc.root)


def _widgets(doc: Document) -> dict[bytes, list[int]]:
    """Offsets of `twitter-tweet`, `twitter-video`, `twitter-timeline` in the raw page."""
    found: dict[bytes, list[int]] = {kind: [] for kind in _WIDGET_KINDS}
    for pos in doc.hits(b"twitter-"):
        for kind in _WIDGET_KINDS:
            if doc.source.startswith(kind, pos + 8):
                found[kind].append(pos)
    return found


def _outside_blockquotes(doc: Document, spans: list[tuple[int, int]], classes: list[int]) -> bool:
    """True if a twitter-tweet/-video class may sit on a div (an unrendered or rendered widget):
    it is not in the start tag of a tweet blockquote we have a span for, nor surely in the text
    of a script or style (a framework's state JSON repeating the article, say)."""
    starts = {start for start, _ in spans}
    src = doc.source
    return any(src.rfind(b"<", 0, pos) not in starts and not _in_raw_text(src, pos) for pos in classes)


_RAW_TEXT_TAGS = frozenset({b"script", b"style"})


def _in_raw_text(src: bytes, pos: int) -> bool:
    """True if pos is surely inside a script or style element's text: the nearest `<` before it
    starts that element's complete start tag, so nothing in between is markup."""
    lt = src.rfind(b"<", 0, pos)
    m = _START_TAG.match(src, lt) if lt != -1 else None
    return bool(m) and m.end() <= pos and m.group(1).lower() in _RAW_TEXT_TAGS


def _timelines(doc: Document) -> list[str]:
    """Accounts of `<a class="twitter-timeline" href=...>` widgets, read from the raw tags.

    Recorded wherever they are (usually a sidebar): reading them from the source spares a scan
    of every anchor's class in the tree, which costs more than all the rest of detection.
    """
    src, urls = doc.source, []
    for pos in _widgets(doc)[b"timeline"]:
        start, end = src.rfind(b"<", 0, pos), src.find(b">", pos)
        tag = src[start:end] if start != -1 and end != -1 else b""
        classes = _tag_attr(tag, _CLASS_ATTR)
        if tag[:2].lower() == b"<a" and tag[2:3].isspace() and b"twitter-timeline" in classes.split():
            url = doc.absolute(html.unescape(_tag_attr(tag, _HREF_ATTR).decode("utf-8", "replace")))
            if url:
                urls.append(_profile_url(url))
    return urls


_CLASS_ATTR = re.compile(rb"""\sclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_HREF_ATTR = re.compile(rb"""\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
# A whole start tag, quoted attribute values included (they may hold "<" or ">"); an end tag.
_START_TAG = re.compile(rb"""<([A-Za-z][^\s/>]*)(?:[\s/]+[^\s/>=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>][^\s>]*))?)*[\s/]*>""")
_END_TAG = re.compile(rb"</([A-Za-z][^\s/>]*)[^>]*>")
_EMBED_CLASSES = frozenset({b"twitter-tweet", b"twitter-video"})
# Inside an embed span, any of these makes its extent in the tree hard to foresee lexically
# (raw text, scoping and foreign elements): such an embed gets no span, and its links are looked
# for in the tree like any other.
_UNSURE_IN_SPAN = frozenset({
    b"script", b"style", b"textarea", b"title", b"xmp", b"plaintext", b"iframe", b"noembed", b"noframes",
    b"noscript", b"template", b"svg", b"math", b"table", b"caption", b"tbody", b"thead", b"tfoot", b"tr",
    b"td", b"th", b"object", b"applet", b"marquee", b"select", b"frameset", b"body", b"html", b"head",
    b"form", b"button",
})
_VOID = frozenset({b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta",
                   b"source", b"track", b"wbr", b"param", b"keygen"})


def _tag_attr(tag: bytes, attr: re.Pattern) -> bytes:
    """One attribute's raw value from a start tag's source text (b"" if absent)."""
    m = attr.search(tag)
    return next((g for g in m.groups() if g is not None), b"") if m else b""


def _embed_spans(doc: Document) -> list[tuple[int, int]]:
    """Byte spans of the tweet blockquotes whose extent in the tree the raw text tells for sure.

    A hit inside such a span is that embed's own link (read from the blockquote element), so no
    tree query has to look for it. A span is kept only when its blockquote is a real start tag in
    running markup with the class token twitter-tweet or twitter-video, and everything up to the
    first `</blockquote>` is plain nested markup: no comment, raw-text, table or foreign element,
    and no end tag closing something opened before the blockquote (which would end it early).
    """
    src, low = doc.source, doc.lower
    spans = []
    for start in doc.hits(b"<blockquote", ci=True):
        head = _START_TAG.match(src, start)
        if not head or head.group(1).lower() != b"blockquote":
            continue
        if not _EMBED_CLASSES & set(_tag_attr(head.group(), _CLASS_ATTR).split()):
            continue
        end = low.find(b"</blockquote", head.end())
        if end != -1 and doc.place(start) == "text" and _plain_markup(src, head.end(), end):
            spans.append((start, end))
    return spans


def _plain_markup(src: bytes, pos: int, end: int) -> bool:
    """True if src[pos:end] is markup whose elements all close inside it (see `_embed_spans`)."""
    opened: dict[bytes, int] = {}
    while True:
        pos = src.find(b"<", pos, end)
        if pos == -1:
            return True
        nxt = src[pos + 1:pos + 2]
        if nxt == b"/":
            m = _END_TAG.match(src, pos)
            if not m or m.end() > end:
                return False
            name = m.group(1).lower()
            if name in _UNSURE_IN_SPAN or not opened.get(name):
                return False
            opened[name] -= 1
        elif nxt.isalpha():
            m = _START_TAG.match(src, pos)
            if not m or m.end() > end:
                return False
            name = m.group(1).lower()
            if name in _UNSURE_IN_SPAN:
                return False
            if name not in _VOID:
                opened[name] = opened.get(name, 0) + 1
        elif nxt in (b"!", b"?"):
            return False  # a comment, a doctype or a processing instruction
        else:
            m = None  # a "<" in text
        pos = m.end() if m else pos + 1


def _valid_id(tweet_id: str) -> bool:
    return 0 < int(tweet_id) < 2**63


def _handle(handle: str | None) -> str | None:
    return None if not handle or handle.lower() == "i" else handle


def _tokens(el) -> set[str]:
    return set((el.get("class") or "").split())


# ---------------------------------------------------------------------------------------------
# One pass over the candidates, in document order.
# ---------------------------------------------------------------------------------------------


class _Scan(scan.Pass):
    """State of one pass: what was found, the tweet containers seen, their media codes."""

    def __init__(self, doc: Document):
        super().__init__(doc)
        self.found: list[Detected] = []
        self.claimed: set[str] = set()  # t.co / pic codes that are an embedded post's own media
        self.anchors: set = set()  # an anchor can come back twice (data-tweet-id and its href)

    def results(self) -> list[Detected]:
        """Found items minus short links that are the media of a post found with an id."""
        return [
            item for item in self.found
            if not (isinstance(item, Embed) and item.id is None and item.url.rsplit("/", 1)[1] in self.claimed)
        ]

    def post(self, tweet_id: str, handle: str | None, form: str, context: str) -> None:
        if _valid_id(tweet_id):
            handle = _handle(handle)
            self.found.append(Embed(platform=name, id=tweet_id, url=canonical_url(tweet_id, handle),
                                    forms=[form], context=context, author_handle=handle))

    def short(self, is_tco: bool, code: str, context: str, handle: str | None = None) -> None:
        url = f"https://t.co/{code}" if is_tco else f"https://pic.twitter.com/{code}"
        self.found.append(Embed(platform=name, id=None, url=url, forms=["tco" if is_tco else "pic"],
                                context=context, author_handle=handle))

    def element(self, el) -> None:
        tag = el.tag
        if tag == "a":
            self.anchor(el)
        elif self.skip(el):
            return
        elif tag == "amp-twitter":
            self.amp(el)
        elif tag == "iframe":
            self.iframe(el)
        elif tag == "script":
            self.script(el)
        elif (tag == "blockquote" or tag == "div") and self.container(el):
            return
        elif _data_id(el) and not _HAS_EMBED_MARKUP(el):
            # data-tweet-id on a theme's own placeholder that its script fills in. With real embed
            # markup inside, that markup is what gets reported instead.
            self.post(_data_id(el), None, "blockquote" if tag == "blockquote" else "script", self.doc.context(el))

    def container(self, el) -> bool:
        """blockquote.twitter-tweet / .twitter-video of any era (or an unrendered div of those
        classes), or a blockquote whose class a CMS stripped but whose oEmbed signature remains.
        False if el is none of these."""
        if _tokens(el) & {"twitter-tweet", "twitter-video"}:
            if el.tag == "div" and _HAS_IFRAME(el):
                return True  # rendered widget: the iframe inside carries the id
        elif el.tag != "blockquote" or not self._stripped_embed(el):
            return False
        self.containers.add(el)
        text = self.doc.text(el)
        permalink: tuple[str | None, str] | None = None
        codes: set[str] = set()
        for a in _ANCHORS(el):
            url = self.doc.absolute(a.get("href"))
            found = _status_href(url) if url else None
            if found:
                permalink = found  # the last one wins: earlier ones are quoted or replied-to posts
            m = _SHORT_HREF.match(url) if url else None
            if m:
                codes.add(m.group("code"))
        for m in _IN_TEXT.finditer(text):
            if m.group("status") and permalink is None:
                permalink = (_handle(m.group("handle")), m.group("id"))  # hand-made: a bare URL only
            if m.group("tco") or m.group("pic"):
                codes.add(m.group("tco") or m.group("pic"))
        if permalink is None and _data_id(el):
            permalink = (None, _data_id(el))
        if permalink is not None:
            authors = _ATTRIBUTION.findall(text)
            self.claimed |= codes
            self.post(permalink[1], authors[-1] if authors else permalink[0], "blockquote", text[:_BLOCKQUOTE_CONTEXT])
        return True

    def _stripped_embed(self, el) -> bool:
        """A plain blockquote whose last link is a permalink after `— Name (@handle)`."""
        anchors = _ANCHORS(el)
        if not anchors or el.find(".//blockquote") is not None:
            return False
        last = self.doc.absolute(anchors[-1].get("href"))
        return bool(last and _status_href(last) and _STRIPPED_SIGNATURE.search(self.doc.text(el)))

    def amp(self, el) -> None:
        """<amp-twitter data-tweetid>; its placeholder blockquote is not a second embed."""
        self.containers.add(el)
        handle, tweet_id = None, _data_id(el)
        if not tweet_id:
            for a in _ANCHORS(el):
                found = _status_href(self.doc.absolute(a.get("href")) or "")
                if found:
                    handle, tweet_id = found
        if tweet_id:
            self.post(tweet_id, handle, "amp", self.doc.context(el))

    def iframe(self, el) -> None:
        """platform.twitter.com/embed/Tweet.html?id=, a rendered widget's data-tweet-id, an
        oEmbed proxy such as Drupal's /media/oembed?url=<tweet URL>, or a status URL itself."""
        form, handle, tweet_id = "iframe", None, _data_id(el)
        raw = f"{el.get('src') or ''} {el.get('data-src') or ''}".lower()
        if not tweet_id and "twitter" not in raw and "x.com" not in raw and "status" not in raw:
            return  # ads, video players, maps: most iframes of a news page
        src = self.doc.absolute(el.get("src")) or self.doc.absolute(el.get("data-src")) or ""
        if src and not tweet_id:
            parts = urlsplit(src)
            query = parse_qs(parts.query)
            host = (parts.hostname or "").lower()
            if host.startswith("platform.") and host.endswith(("twitter.com", "x.com")):
                tweet_id = next((_DIGITS.fullmatch(v).group(1) for v in query.get("id", []) if _DIGITS.fullmatch(v)), None)
            else:
                for value in query.get("url", []):
                    found = parse_status_url(value)
                    if found:
                        (handle, tweet_id), form = found, "oembed-proxy" if "oembed" in parts.path.lower() else "iframe"
                        break
                else:
                    handle, tweet_id = _status_href(src) or (None, None)
        if tweet_id:
            self.post(tweet_id, handle, form, self.doc.context(el))

    def script(self, el) -> None:
        """twttr.widgets.createTweet("<id>", target) in an inline script."""
        parent = el.getparent()
        for m in _SCRIPT_CALL.finditer(el.text or ""):
            self.post(m.group(1), None, "script", self.doc.context(parent if parent is not None else el))

    def anchor(self, el) -> None:
        """A status link, or a t.co / pic.twitter.com link (each anchor once: one can come back
        twice, for its data-tweet-id and for its href)."""
        if el in self.anchors:
            return
        self.anchors.add(el)
        url = self.doc.absolute(el.get("href"))
        if not url or _tokens(el) & _WIDGET_LINKS or self.skip(el):
            return  # buttons and timelines are widgets, not posts (timelines: `_timelines`)
        found = _status_href(url)
        if found:
            self.post(found[1], found[0], "link", scan.link_context(self.doc, el))
            return
        m = _SHORT_HREF.match(url)
        if m:
            self.short(bool(m.group("tco")), m.group("code"), scan.link_context(self.doc, el))

    def text(self, node) -> None:
        """Bare status URLs, t.co and pic.twitter.com codes in running text."""
        el = scan.text_owner(node)
        if el is None or not scan.running_text(el):
            return
        matches = list(_IN_TEXT.finditer(node))
        if not matches or self.skip(el):
            return
        for m in matches:
            context = self.doc.context(el, m.group())
            if m.group("status"):
                self.post(m.group("id"), m.group("handle"), "bare-url", context)
            else:
                after = _ATTRIBUTION_AFTER.match(node, m.end())  # a flattened quote's "— Name (@h)"
                self.short(bool(m.group("tco")), m.group("tco") or m.group("pic"), context,
                           after.group(1) if after else None)


def _status_href(url: str) -> tuple[str | None, str] | None:
    """(handle, id) if an absolute href is a status URL (anchored: intent/share links never are)."""
    m = _STATUS_HREF.match(url)
    if not m or not _valid_id(m.group("id")):
        return None
    return _handle(m.group("handle")), m.group("id")


def _data_id(el) -> Optional[str]:
    value = el.get("data-tweet-id") or el.get("data-tweetid")
    m = _DIGITS.fullmatch(value) if value else None
    return m.group(1) if m else None


def _profile_url(url: str) -> str:
    """A timeline's account as https://twitter.com/<handle>; other timelines (lists) as given."""
    m = _PROFILE_HREF.match(url)
    if m and m.group("handle").lower() not in _RESERVED:
        return f"https://twitter.com/{m.group('handle')}"
    return url.split("?", 1)[0].split("#", 1)[0]


# =============================================================================================
# Capture (snapshot) goes below this line; it is owned by the capture stage, not by extract.
# =============================================================================================

import logging
from urllib.parse import urljoin

from archiver.models import Post, RecordRef
from archiver.platforms.common import route
from archiver.platforms.syndication import (
    decide_status,
    oembed_url,
    parse_oembed,
    parse_tweet,
    syndication_url,
    token_suspect,
)

if TYPE_CHECKING:
    from archiver.fetch import Fetcher

log = logging.getLogger(__name__)


# --- snapshot: the post's data and evidence from X's public endpoints, without a key ---------

_META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']?\s*\d*\s*;\s*url\s*=\s*([^"'>\s]+)""",
    re.I,
)
_JS_REPLACE = re.compile(r"""location\.replace\(\s*["']([^"']+)["']""")
_UNSAFE_LINK = "twitter.com/safety/unsafe_link_warning"
SHORT_LINK_HOPS = 4  # meta-refresh pages and warning interstitials followed at most


def _is_stop(url: str) -> bool:
    """Stop a redirect chain at a status permalink (its page is a JS shell) or X's link warning."""
    return parse_status_url(url) is not None or _UNSAFE_LINK in url


def _refresh_target(body: bytes | None, base: str) -> str | None:
    if not body:
        return None
    text = body[:65536].decode("utf-8", "replace")
    m = _META_REFRESH.search(text) or _JS_REPLACE.search(text)
    if not m:
        return None
    return urljoin(base, html.unescape(m.group(1).replace("\\/", "/")))


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Follow a t.co / pic.twitter.com link (recorded) to the status it leads to, if any.

    t.co answers non-browser clients with a 301, browsers with a 200 meta-refresh page;
    both are followed, as is X's unsafe-link interstitial.
    """
    records: list[RecordRef] = []
    url: str | None = embed.url
    for _ in range(SHORT_LINK_HOPS):
        if url is None:
            break
        if _UNSAFE_LINK in url:
            inner = parse_qs(urlsplit(url).query).get("unsafe_link")
            url = inner[0] if inner else None
            continue
        found = parse_status_url(url)
        if found:
            handle, tweet_id = found
            return (
                Embed(platform=name, id=tweet_id, url=canonical_url(tweet_id, handle), forms=list(embed.forms),
                      context=embed.context, author_handle=handle or embed.author_handle),
                records,
            )
        res = fetcher.fetch(url, stop_at=_is_stop)
        records.extend(res.records)
        if res.final_url != url and _is_stop(res.final_url):
            url = res.final_url
            continue
        url = _refresh_target(res.body, res.final_url) if res.ok else None
    return None, records


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """Syndication JSON and oEmbed for one tweet, both recorded; status decided from the evidence."""
    tweet_id = embed.id
    post = Post(platform=name, id=tweet_id, url=canonical_url(tweet_id, embed.author_handle))
    synd_res = fetcher.fetch(syndication_url(tweet_id))
    oembed_res = fetcher.fetch(oembed_url(post.url))
    post.records = synd_res.records + oembed_res.records
    synd, oembed = route(synd_res), route(oembed_res)
    post.status, post.status_reason = decide_status(synd, oembed)
    data = synd.data if isinstance(synd.data, dict) else None
    if data and data.get("__typename") == "Tweet" and data.get("user"):
        parsed = parse_tweet(data)
        post.data = data
        post.author_handle, post.author_name = parsed.author_handle, parsed.author_name
        post.text, post.created_at = parsed.text, parsed.created_at
        post.url = canonical_url(tweet_id, parsed.author_handle)
        post.media = list(parsed.media)
        post.related = parsed.related
    elif oembed.status == 200 and isinstance(oembed.data, dict):
        if token_suspect(synd, oembed):
            log.warning("tweet %s: syndication answered {} while oEmbed has it: token bug?", tweet_id)
        info = parse_oembed(oembed.data)
        post.author_handle = info.get("author_handle") or embed.author_handle
        post.author_name, post.text = info.get("author_name"), info.get("text")
        post.data = {"oembed": oembed.data}
    if post.author_handle is None:
        post.author_handle = embed.author_handle
    return post
