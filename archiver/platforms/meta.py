"""Shared by Instagram, Facebook and Threads: capture through Meta's tokenless oEmbed (endpoints,
reading answers, one snapshot flow); and by those and YouTube and TikTok: the raw-page gating of
detection's tree queries (`read_signs`, `candidates`), which is not Meta-specific and would sit
better in a neutral module of the package.

Since 2026-06-15 Meta's oEmbed endpoints need no access token (1,000 requests per hour per
endpoint; social-embeds.md section 6). Since November 2025 they no longer return `author_name`,
`author_url` or `thumbnail_*`: what is left is the embed `html`, so the author, caption and date
are read from that blockquote, and an image only from the post page's own Open Graph tags, when
those tags are about this very post (a login wall's tags are not). Legacy fields are still used
when an answer has them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Optional
from urllib.parse import quote

from lxml import etree

from archiver.models import Media, Post
from archiver.platforms.common import decide, route

if TYPE_CHECKING:
    from archiver.extract import Document
    from archiver.fetch import Fetcher

# --- detection: which tree queries a page calls for ---------------------------------------------

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


def read_signs(doc: Document, signs: Signs) -> tuple[set[str], set[str]]:
    """(where post URLs start, as `Document.where` kinds; the markup seen) from the raw page.

    Full-tree queries cost a good fraction of the parse, and so does each scan of the raw page for
    a literal, so a platform scans for as few literals as it can and reads each hit with its sign:
    a profile link in the site's header or a share button calls for no tree query at all. An
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


def candidates(doc: Document, signs: Signs, markup: MarkupParts, urls: UrlParts,
               cache: dict[str, etree.XPath], exhaustive: bool = False) -> list:
    """One union query of the parts the raw page calls for (`read_signs`), in document order.

    `exhaustive` runs every part whatever the raw page says (same answer; for tests).
    """
    if exhaustive:
        kinds, marks = {"unknown"}, {name for name, _ in markup}
    else:
        kinds, marks = read_signs(doc, signs)
    parts = [xpath for name, xpath in markup if name in marks]
    parts += [xpath for wanted, xpath in urls if kinds & wanted]
    if not parts:
        return []
    query = " | ".join(dict.fromkeys(parts))
    compiled = cache.get(query)
    if compiled is None:
        compiled = cache[query] = etree.XPath(query)
    return compiled(doc.root)


# --- capture: Meta's tokenless oEmbed ------------------------------------------------------------

GRAPH = "https://graph.facebook.com/v26.0"
INSTAGRAM_OEMBED = f"{GRAPH}/instagram_oembed"
FACEBOOK_POST_OEMBED = f"{GRAPH}/oembed_post"
FACEBOOK_VIDEO_OEMBED = f"{GRAPH}/oembed_video"
THREADS_OEMBED = "https://graph.threads.net/oembed"

_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLOCKS = frozenset({"p", "div", "blockquote", "section", "li", "h1", "h2", "h3", "h4", "figure", "figcaption"})
_META_TAGS = etree.XPath("//meta[@content][@property or @name or @itemprop] | //link[@rel='canonical'][@href]")
_HEAD_BYTES = 1 << 20  # Open Graph tags sit in the head; big pages need not be parsed whole


@dataclass
class EmbedInfo:
    """What an oEmbed blockquote or a post page says about the post (any field may be missing)."""

    author_name: Optional[str] = None
    author_handle: Optional[str] = None
    text: Optional[str] = None
    created_at: Optional[str] = None


def oembed_url(endpoint: str, post_url: str) -> str:
    """One of Meta's oEmbed endpoints asked about one post URL (no token, default options)."""
    return f"{endpoint}?url={quote(post_url, safe='')}"


def _parser() -> etree.HTMLParser:
    return etree.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True)


def fragment(html: str) -> etree._Element:
    """The body element of an HTML fragment (an oEmbed `html`), parsed leniently."""
    root = etree.fromstring(f"<html><body>{html}</body></html>".encode("utf-8"), _parser())
    return root.find("body") if root is not None and root.find("body") is not None else etree.Element("body")


def text_of(el) -> str:
    """Visible text of el: `<br>` and paragraphs become line breaks, other runs of space one space."""
    parts: list[str] = []

    def walk(node) -> None:
        if not isinstance(node.tag, str) or node.tag in ("script", "style", "svg"):
            return
        if node.tag == "br":
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            block = child.tag in _BLOCKS
            if block:
                parts.append("\n")
            walk(child)
            if block:
                parts.append("\n")
            if child.tail:
                parts.append(child.tail)

    walk(el)
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def iso_utc(value: str | None) -> Optional[str]:
    """An ISO 8601 moment with an offset as UTC `YYYY-MM-DDTHH:MM:SSZ`; None for anything else."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def page_meta(body: bytes | None) -> dict[str, str]:
    """Open Graph / microdata tags and the canonical link of a page: `og:title` -> value, ..."""
    if not body:
        return {}
    try:
        root = etree.fromstring(body[:_HEAD_BYTES], _parser())
    except (etree.LxmlError, ValueError):
        return {}
    if root is None:
        return {}
    found: dict[str, str] = {}
    for el in _META_TAGS(root):
        if el.tag == "link":
            found.setdefault("canonical", el.get("href").strip())
            continue
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key and key not in found:
            found[key] = el.get("content").strip()
    return found


def describes(meta: dict[str, str], token: str) -> bool:
    """True if a page's tags are about the post whose id or code is `token` (not a login wall's)."""
    where = f"{meta.get('og:url', '')} {meta.get('canonical', '')}"
    return bool(token) and token in where and bool(meta.get("og:title") or meta.get("og:description"))


def graph_error(data: object) -> Optional[str]:
    """The message of a Graph API error body: {"error": {"message": ..., "code": ...}}."""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return None


def snapshot(
    post: Post,
    fetcher: Fetcher,
    *,
    endpoint: str,
    token: str,
    read_html: Callable[[str], EmbedInfo],
    read_page: Callable[[dict[str, str]], EmbedInfo],
) -> Post:
    """The post page and Meta's oEmbed for `post.url`, both recorded, and what they say.

    Status by `common.decide`: oEmbed 200 with `html`, or a page whose tags describe the post,
    means available. A 200 page that does not describe it (a login wall, a JS shell) is recorded
    but is no evidence either way; its 404, 401/403 or lost answer is.
    """
    page_res = fetcher.fetch(post.url)
    oembed_res = fetcher.fetch(oembed_url(endpoint, post.url))
    post.records = page_res.records + oembed_res.records
    page, oembed = route(page_res), route(oembed_res)
    meta = page_meta(page_res.body) if page_res.ok else {}
    page_usable = describes(meta, token)
    data = oembed.data if oembed.status == 200 and isinstance(oembed.data, dict) else None
    oembed_usable = bool(data and isinstance(data.get("html"), str) and data["html"].strip())
    routes = [("oembed", oembed, oembed_usable)]
    if page_usable or page.status != 200:
        routes.insert(0, ("page", page, page_usable))
    post.status, post.status_reason = decide(routes)
    message = graph_error(oembed.data)
    if post.status_reason and message:
        post.status_reason = f"{post.status_reason}: {message}"

    info = read_html(data["html"]) if oembed_usable else EmbedInfo()
    seen = read_page(meta) if page_usable else EmbedInfo()
    legacy = data or {}
    post.author_name = info.author_name or _str(legacy.get("author_name")) or seen.author_name
    post.author_handle = info.author_handle or post.author_handle or seen.author_handle
    post.text = info.text or _str(legacy.get("title")) or seen.text
    post.created_at = info.created_at or seen.created_at
    image = _str(legacy.get("thumbnail_url")) or (_str(meta.get("og:image")) if page_usable else None)
    if image and image.startswith(("https://", "http://")):
        post.media.append(Media(url=image, kind="thumbnail"))
    kept = {key: value for key, value in (("oembed", data), ("page", meta if page_usable else None)) if value}
    post.data = kept or None
    return post


def _str(value: object) -> Optional[str]:
    return value.strip() or None if isinstance(value, str) else None
