"""Threads posts: detection in a parsed page (top section), capture through Meta's oEmbed (bottom).

Markup and URL forms follow shared/docs/social-embeds.md section 6 (Threads):
`blockquote.text-post-media` (`data-text-post-permalink`, else its first link), the iframe its
embed.js renders (`.../post/<code>/embed`), and `/@user/post/<code>` and `/t/<code>` links and bare
URLs, on both threads.com (Meta's current host) and threads.net (older snippets).

The id is the post code. The canonical URL is on threads.com, the only host Meta's 2026 oEmbed
accepts: `/@<user>/post/<code>` when the author is known, else `/t/<code>`. Profile links
(`threads.net/@user`) are not posts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable


from archiver.models import Embed
from archiver.platforms import meta, scan
from archiver.platforms.base import Detected

if TYPE_CHECKING:
    from archiver.extract import Document

name = "threads"

# =============================================================================================
# Detection (owned by extract). Public: name, detect, parse_post_url, canonical_url.
# =============================================================================================

_HOST = r"(?:www\.)?threads\.(?:com|net)"
_USER = r"[A-Za-z0-9._]{1,30}"
_CODE = r"[A-Za-z0-9_-]{2,64}"
_PATH = r"/(?:@(?P<handle>" + _USER + r")/post|t)/(?P<code>" + _CODE + r")"
_POST_URL = re.compile(r"https?://" + _HOST + _PATH + r"(?:[/?#]|$)", re.A)
_IN_TEXT = re.compile(r"(?<![\w.@/-])(?:https?://)?" + _HOST + _PATH + r"(?![A-Za-z0-9_-])", re.A)
_POST_BY = re.compile(r"Post by @(" + _USER + r")", re.A)

_LINKS = "contains(., 'threads.net/') or contains(., 'threads.com/')"
# One literal covers both hosts (and the blockquote's permalink); each hit's sign says whether a
# post URL starts there, and only the query parts it calls for run (`scan.Queries`). A profile
# link in the header calls for none. The blockquote's class is looked for only on such pages.
_GATE = (b"threads.",)
LITERALS = _GATE + (b"text-post-media",)
_SIGNS: scan.Signs = (
    (b"threads.", scan.regex_sign(re.compile(
        rb"(?P<url>threads\.(?:net|com)/(?:(?:@|%40)[A-Za-z0-9._]{1,30}/post/|t/))", re.I))),  # %40: URL-encoded
    (b"text-post-media", scan.regex_sign(re.compile(rb"(?P<blockquote>text-post-media)"))),
)
_MARKUP_PARTS: scan.MarkupParts = (("blockquote", "//blockquote[contains(@class, 'text-post-media')]"),)
_URL_PARTS: scan.UrlParts = scan.article_url_parts(
    "contains(@src, 'threads.') or contains(@data-src, 'threads.')", _LINKS)
_QUERIES = scan.Queries(_GATE, _SIGNS, _MARKUP_PARTS, _URL_PARTS)


def parse_post_url(url: str) -> tuple[str | None, str] | None:
    """(handle or None, post code) for a Threads post URL on either host, else None.

    >>> parse_post_url("https://www.threads.net/@popey/post/C-GMXpGM4KR")
    ('popey', 'C-GMXpGM4KR')
    """
    m = _POST_URL.match(url.strip()) if url else None
    return (m.group("handle"), m.group("code")) if m else None


def canonical_url(code: str, handle: str | None = None) -> str:
    """https://www.threads.com/@<handle>/post/<code>, or /t/<code> when the author is unknown."""
    if handle:
        return f"https://www.threads.com/@{handle}/post/{code}"
    return f"https://www.threads.com/t/{code}"


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every Threads post embedded or linked in the article body (chrome excluded), in page order.

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    return scan.walk(doc, _QUERIES.nodes(doc, exhaustive), _element, _anchor, _text)


def _post(found: list[Detected], parsed: tuple[str | None, str], form: str, context: str) -> None:
    handle, code = parsed
    found.append(Embed(platform=name, id=code, url=canonical_url(code, handle), forms=[form], context=context,
                       author_handle=handle))


def _element(doc: Document, el, found: list[Detected]) -> None:
    """blockquote.text-post-media, or the iframe its embed.js renders."""
    if el.tag == "blockquote":
        _blockquote(doc, el, found)
    elif not doc.is_chrome(el):
        target, form = scan.frame_target(doc, el)
        parsed = parse_post_url(target)
        if parsed:
            _post(found, parsed, form, doc.context(el))


def _anchor(doc: Document, el, found: list[Detected]) -> None:
    """A post link on either host."""
    parsed = parse_post_url(doc.absolute(el.get("href")) or "")
    if parsed and not doc.is_chrome(el):
        _post(found, parsed, "link", scan.link_context(doc, el))


def _blockquote(doc: Document, el, found: list[Detected]) -> None:
    """blockquote.text-post-media: its permalink attribute, else its first link."""
    if "text-post-media" not in (el.get("class") or "").split() or doc.is_chrome(el):
        return
    links = [el.get("data-text-post-permalink")] + scan.FIRST_LINK(el)
    parsed = next((p for p in (parse_post_url(doc.absolute(u) or "") for u in links) if p), None)
    if parsed:
        text = doc.text(el)
        by = _POST_BY.search(text)
        _post(found, (parsed[0] or (by.group(1) if by else None), parsed[1]), "blockquote",
              text[:600] or doc.context(el))


def _text(doc: Document, node, found: list[Detected]) -> None:
    el, matches = scan.text_matches(doc, node, _IN_TEXT)
    for m in matches:
        _post(found, (m.group("handle"), m.group("code")), "bare-url", doc.context(el, m.group()))


# =============================================================================================
# Capture: the post page and Threads' tokenless oEmbed, both recorded (archiver.platforms.meta).
# =============================================================================================

from archiver.models import Post, RecordRef

if TYPE_CHECKING:
    from archiver.fetch import Fetcher

# og:title of a post page: `Name (@handle) on Threads`.
_OG_TITLE = re.compile(r"^(?P<name>.+?) \(@(?P<handle>" + _USER + r")\) on Threads\s*$", re.S | re.A)


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Threads links always carry their code: there is nothing to follow."""
    return (embed if embed.id else None), []


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """The post page and graph.threads.net/oembed. oEmbed's html names only the author (`Post by
    @user`), so the text and name come from the page's tags when they describe this post."""
    post = Post(platform=name, id=embed.id, url=canonical_url(embed.id, embed.author_handle),
                author_handle=embed.author_handle)
    post = meta.snapshot(post, fetcher, endpoint=meta.THREADS_OEMBED, token=embed.id,
                         read_html=read_embed_html, read_page=_read_page)
    post.url = canonical_url(post.id, post.author_handle)
    return post


def read_embed_html(html: str) -> meta.EmbedInfo:
    """The author from the embed blockquote: its permalink's `@user`, or `Post by @user`."""
    body = meta.fragment(html)
    quote = next(body.iter("blockquote"), body)
    parsed = parse_post_url(quote.get("data-text-post-permalink") or "")
    by = _POST_BY.search(meta.text_of(quote))
    return meta.EmbedInfo(author_handle=(parsed[0] if parsed else None) or (by.group(1) if by else None))


def _read_page(tags: dict[str, str]) -> meta.EmbedInfo:
    m = _OG_TITLE.match(tags.get("og:title", ""))
    return meta.EmbedInfo(author_name=m.group("name") if m else None,
                          author_handle=m.group("handle") if m else None,
                          text=tags.get("og:description") or None)
