"""Shared by Instagram, Facebook and Threads: capture through Meta's tokenless oEmbed (endpoints,
reading answers, one snapshot flow). Their detection helpers are the neutral `scan` module's.

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
from typing import TYPE_CHECKING, Callable, Optional
from urllib.parse import quote

from lxml import etree

from archiver.models import Post
from archiver.platforms.common import add_thumbnail, decide_with_page, fetch_page_and_oembed, json_object, stripped

if TYPE_CHECKING:
    from archiver.fetch import Fetcher

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
    page_res, page, oembed = fetch_page_and_oembed(post, fetcher, oembed_url(endpoint, post.url))
    meta = page_meta(page_res.body) if page_res.ok else {}
    page_usable = describes(meta, token)
    data = json_object(oembed)
    oembed_usable = bool(data and isinstance(data.get("html"), str) and data["html"].strip())
    post.status, post.status_reason = decide_with_page(page, page_usable, oembed, oembed_usable)
    message = graph_error(oembed.data)
    if post.status_reason and message:
        post.status_reason = f"{post.status_reason}: {message}"

    info = read_html(data["html"]) if oembed_usable else EmbedInfo()
    seen = read_page(meta) if page_usable else EmbedInfo()
    legacy = data or {}
    post.author_name = info.author_name or stripped(legacy.get("author_name")) or seen.author_name
    post.author_handle = info.author_handle or post.author_handle or seen.author_handle
    post.text = info.text or stripped(legacy.get("title")) or seen.text
    post.created_at = info.created_at or seen.created_at
    image = stripped(legacy.get("thumbnail_url")) or (stripped(meta.get("og:image")) if page_usable else None)
    add_thumbnail(post, image)
    kept = {key: value for key, value in (("oembed", data), ("page", meta if page_usable else None)) if value}
    post.data = kept or None
    return post

