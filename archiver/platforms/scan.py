"""What every platform's detection shares: which tree queries a page calls for (read off the raw
page), running them as one union query, and reading the elements and text nodes it returns.

Full-tree queries cost a good fraction of the parse, so a detector runs only the parts of its
union that the raw page calls for: a page with no post of that platform costs a few lookups in
the one scan of its bytes (`Document.hits`) and no tree query at all. The union comes back in
document order, so posts come out in page order and a container is always seen before the links
inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional
from urllib.parse import SplitResult, parse_qs, urlsplit

from lxml import etree

if TYPE_CHECKING:
    from archiver.extract import Document

# --- which tree queries a page calls for ----------------------------------------------------------

# Posts inside another platform's embed belong to that post (its text, its card), not to the article.
NOT_IN_EMBED = (
    "[not(ancestor::blockquote[contains(@class, 'twitter-tweet') or contains(@class, 'twitter-video')"
    " or contains(@class, 'instagram-media') or contains(@class, 'tiktok-embed') or contains(@class, 'text-post-media')"
    " or contains(@class, 'bluesky-embed') or contains(@class, 'reddit-') or contains(@class, 'mastodon-embed')]"
    " or ancestor::div[contains(@class, 'fb-post') or contains(@class, 'fb-video')])]"
)
# Prose only: not a link's own text (the href decides), not scripts, styles or the head.
PROSE = ("[not(ancestor::*[self::a[@href] or self::script or self::style or self::textarea or self::title"
         " or self::head or self::noscript or self::template])]")

# A sign reads the raw page at one hit of a literal: "url..." when a post URL starts there, the name
# of a piece of markup (`amp`, `blockquote`, `sdk`...), or None (a profile link, a share button).
Sign = Callable[[bytes, int], Optional[str]]
Signs = tuple[tuple[bytes, Sign], ...]  # (literal, its sign)
MarkupParts = tuple[tuple[str, str], ...]  # (markup name, XPath)
UrlParts = tuple[tuple[frozenset[str], str], ...]  # (`Document.where` kinds it looks at, XPath)


def regex_sign(pattern: "re.Pattern[bytes]") -> Sign:
    """A sign from an anchored regex whose named alternatives say what starts at the hit."""

    def sign(src: bytes, pos: int) -> Optional[str]:
        m = pattern.match(src, pos)
        return m.lastgroup if m else None

    return sign


def url_parts(iframe: str, href: str, text: str) -> UrlParts:
    """The parts that look for post URLs where they can stand: an iframe's attributes, an `<a href>`
    and running text. Each runs when `Document.where` puts a marker there, or cannot tell."""
    return (
        (frozenset({"iframe", "unknown"}), iframe),
        (frozenset({"a", "unknown"}), href),
        (frozenset({"text", "unknown"}), text),
    )


# An iframe of a CMS's oEmbed proxy (Drupal's `/media/oembed?url=<post URL>`): its query names
# the post, so every platform's iframe query takes it in (`frame_target` reads it).
PROXY = "contains(@src, 'oembed') or contains(@data-src, 'oembed')"


def article_url_parts(iframe: str, links: str) -> UrlParts:
    """`url_parts` for iframes matching the `iframe` predicate (or a `PROXY`), hrefs and prose text
    nodes matching the `links` one, none inside another platform's embed."""
    return url_parts(f"//iframe[{iframe} or {PROXY}]" + NOT_IN_EMBED, f"//a/@href[{links}]" + NOT_IN_EMBED,
                     f"/descendant::text()[{links}]" + PROSE + NOT_IN_EMBED)


def read_signs(doc: Document, signs: Signs) -> tuple[set[str], set[str]]:
    """(where post URLs start, as `Document.where` kinds; the markup seen) from the raw page.

    Full-tree queries cost a good fraction of the parse, so a platform reads each hit of its
    literals with its sign: a profile link in the site's header or a share button calls for no
    tree query at all. An
    entity-escaped URL cannot be told: it counts as a URL.
    """
    kinds: set[str] = set()
    marks: set[str] = set()
    src = doc.source
    for literal, sign in signs:
        hits = doc.hits(literal)
        others: list[tuple[int, int]] = []
        for pos in hits:
            what = sign(src, pos)
            if (what or "").startswith("url") or (what is None and b"&#" in src[pos:pos + 64]):
                continue
            if what:
                marks.add(what)
            others.append((pos, pos + 1))
        if len(others) < len(hits):
            kinds |= doc.where(literal, outside=others)
    return kinds, marks


@dataclass
class Queries:
    """One detector's tree queries: the `gate` literals (every post of the platform holds one, so
    a page with none costs nothing more), the `signs` read at its literals' hits, and the markup
    and URL parts those call for. Each distinct union is compiled once, here."""

    gate: tuple[bytes, ...]
    signs: Signs
    markup: MarkupParts
    urls: UrlParts
    compiled: dict[str, etree.XPath] = field(default_factory=dict, repr=False)

    def nodes(self, doc: Document, exhaustive: bool = False) -> list:
        """One union query of the parts the raw page calls for (`read_signs`), in document order.

        `exhaustive` runs every part whatever the raw page says (same answer; for tests).
        """
        if exhaustive:
            kinds, marks = {"unknown"}, {name for name, _ in self.markup}
        elif not doc.has(*self.gate):
            return []
        else:
            kinds, marks = read_signs(doc, self.signs)
        parts = [xpath for name, xpath in self.markup if name in marks]
        parts += [xpath for wanted, xpath in self.urls if kinds & wanted]
        return union(doc, parts, self.compiled)


def union(doc: Document, parts: list[str], cache: dict[str, etree.XPath]) -> list:
    """The union of the XPath `parts` over the page, in document order (nothing if no part);
    each distinct union is compiled once, in the caller's `cache`."""
    if not parts:
        return []
    query = " | ".join(dict.fromkeys(parts))
    compiled = cache.get(query)
    if compiled is None:
        compiled = cache[query] = etree.XPath(query)
    return compiled(doc.root)


# --- reading what the query returns -------------------------------------------------------------
# A union query returns three kinds of node: elements (embed markup, iframes), href attributes (read
# from their <a>) and text nodes (running text).


def walk(doc: Document, nodes: list, element: Callable, anchor: Callable, text: Callable) -> list:
    """What `element(doc, el, found)`, `anchor(doc, a, found)` and `text(doc, node, found)` find in
    the nodes of a union query, in its (document) order."""
    found: list = []
    for node in nodes:
        if not isinstance(node, str):
            element(doc, node, found)
        elif node.is_attribute:
            anchor(doc, node.getparent(), found)
        else:
            text(doc, node, found)
    return found


ANCHORS = etree.XPath(".//a[@href]")
FIRST_LINK = etree.XPath("(.//a[@href])[1]/@href")

_NOT_PROSE = frozenset({"script", "style", "textarea", "title", "head", "noscript", "template"})


def text_owner(node):
    """The element whose running text a text node is: its parent, or for a tail its grandparent
    (None at the top of the tree)."""
    el = node.getparent()
    if el is not None and node.is_tail:
        el = el.getparent()
    return el


def text_matches(doc: Document, node, pattern: re.Pattern) -> tuple:
    """(element owning the text node, `pattern`'s matches in it); (None, []) when there is no
    match, no owner, or the owner is in the site's chrome."""
    el = text_owner(node)
    matches = list(pattern.finditer(node))
    if el is None or not matches or doc.is_chrome(el):
        return None, []
    return el, matches


def running_text(el) -> bool:
    """Text of el is article prose: not script/style, not a link's own text (read as a link)."""
    if el.tag in _NOT_PROSE or (el.tag == "a" and el.get("href") is not None):
        return False
    return not any(anc.tag == "head" or (anc.tag == "a" and anc.get("href") is not None) for anc in el.iterancestors())


def split_url(url: str | None) -> Optional[tuple[SplitResult, str]]:
    """(parts, lowered host) of a URL; None when it does not even split (a bad port, an odd IPv6)."""
    try:
        parts = urlsplit((url or "").strip())
        return parts, (parts.hostname or "").lower()
    except ValueError:
        return None


def frame_src(doc: Document, el) -> str:
    """An iframe's URL, absolute: its `src`, else a lazy loader's `data-src` ("" if neither)."""
    return doc.absolute(el.get("src")) or doc.absolute(el.get("data-src")) or ""


def frame_target(doc: Document, el) -> tuple[str, str]:
    """(URL, form) of an iframe: the post URL a CMS's oEmbed proxy wraps (Drupal core Media:
    `/media/oembed?url=<post URL>&max_width=...`) as "oembed-proxy", else its own URL as "iframe"."""
    src = frame_src(doc, el)
    if "url=" in src and "oembed" in src.lower():
        try:
            parts = urlsplit(src)
        except ValueError:
            return src, "iframe"
        if "oembed" in parts.path.lower():
            for value in parse_qs(parts.query).get("url", []):
                if value.startswith(("http://", "https://")):
                    return value, "oembed-proxy"
    return src, "iframe"


def link_context(doc: Document, a) -> str:
    """Context of a link: the prose around the link's own text."""
    return doc.context(a, "".join(a.itertext()))


class Pass:
    """One detector's pass over its candidates: the page, and the embeds already read whole (their
    inner links and text belong to the post they embed, not to the article). A subclass reads the
    nodes in `element(el)`, `anchor(a)` and `text(node)`, as `walk` does."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.containers: set = set()

    def run(self, nodes: list) -> None:
        """Read the nodes of a union query, in its (document) order."""
        for node in nodes:
            if not isinstance(node, str):
                self.element(node)
            elif node.is_attribute:
                self.anchor(node.getparent())
            else:
                self.text(node)

    def skip(self, el) -> bool:
        """Inside an embed already read whole, or in the site's chrome."""
        if self.containers and (el in self.containers or any(a in self.containers for a in el.iterancestors())):
            return True
        return self.doc.is_chrome(el)
