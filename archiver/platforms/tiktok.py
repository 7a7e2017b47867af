"""TikTok videos: detection in a parsed page (top section), capture through oEmbed (bottom section).

Markup and URL forms follow shared/docs/social-embeds.md section 6 (TikTok): `blockquote.tiktok-embed`
(`cite`, `data-video-id`), `/embed/v2/<id>`, `/embed/<id>` and `/player/v1/<id>` iframes, and
`/@user/video/<id>` (or `/photo/<id>`) links and bare URLs. The id is TikTok's numeric video id.

Short links (`vm.tiktok.com/<code>`, `vt.tiktok.com/<code>`, `tiktok.com/t/<code>`) name no id: they
are reported with id None and `resolve()` follows their redirect (recorded) to the video. A creator
embed (`blockquote.tiktok-embed` citing `/@user`) is a profile, and `@user` links are not posts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Optional
from urllib.parse import quote


from archiver.models import Embed
from archiver.platforms import scan
from archiver.platforms.base import Detected, Profile

if TYPE_CHECKING:
    from archiver.extract import Document

name = "tiktok"

# =============================================================================================
# Detection (owned by extract). Public: name, detect, parse_video_url, canonical_url.
# =============================================================================================

_HOST = r"(?:(?:www|m|vm|vt)\.)?tiktokv?\.com"
_HANDLE = r"[\w.-]{1,64}"
_ID = r"[0-9]{15,21}"
# /@user/video/<id>, /@user/photo/<id>, /@/video/<id>, /embed/v2/<id>, /embed/<id>, /player/v1/<id>,
# /share/video/<id>, /v/<id>.html (m.tiktok.com)
_PATH = (
    r"/(?:@(?P<handle>" + _HANDLE + r")?/(?:video|photo)|embed(?:/v2)?|player/v1|share/video|v)"
    r"/(?P<id>" + _ID + r")(?![0-9])"
)
_VIDEO_URL = re.compile(r"https?://" + _HOST + _PATH, re.I | re.A)
_SHORT_URL = re.compile(
    r"https?://(?:(?:vm|vt)\.tiktok\.com/(?P<code>[A-Za-z0-9]{4,20})"
    r"|(?:www\.|m\.)?tiktok\.com/t/(?P<tcode>[A-Za-z0-9]{4,20}))"
    r"(?:[/?#]|$)",
    re.I | re.A,
)
_PROFILE_URL = re.compile(r"https?://" + _HOST + r"/@(?P<handle>" + _HANDLE + r")/?(?:[?#]|$)", re.I | re.A)
_IN_TEXT = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:"
    r"(?P<video>" + _HOST + _PATH + r")"
    r"|(?:vm|vt)\.tiktok\.com/(?P<code>[A-Za-z0-9]{4,20})(?![A-Za-z0-9])"
    r"|(?:www\.)?tiktok\.com/t/(?P<tcode>[A-Za-z0-9]{4,20})(?![A-Za-z0-9])"
    r")",
    re.I | re.A,
)
_DIGITS = re.compile(r"\s*([0-9]{15,21})\s*", re.A)

_MARKER = b"tiktok"  # in every host, short link and the blockquote's class
LITERALS = (_MARKER,)
# The one literal's hits say what the page holds (`scan.read_signs`): a video URL, a short link, or
# the blockquote's class; a profile link in the header calls for no tree query.
_SIGNS: scan.Signs = ((_MARKER, scan.regex_sign(re.compile(
    rb"(?P<url>tiktokv?\.com/(?:(?:@|%40)[\w.-]*/(?:video|photo)/[0-9]|embed/|player/v1/|share/video/|v/[0-9]|t/[A-Za-z0-9]))"
    rb"|(?<=vm\.|vt\.)(?P<url_short>tiktok\.com/[A-Za-z0-9])"
    rb"|(?P<blockquote>tiktok-embed)", re.I))),)
_MARKUP_PARTS: scan.MarkupParts = (("blockquote", "//blockquote[contains(@class, 'tiktok-embed')]"),)
_URL_PARTS: scan.UrlParts = scan.article_url_parts("contains(@src, 'tiktok') or contains(@data-src, 'tiktok')",
                                                   "contains(., 'tiktok')")
_QUERIES = scan.Queries((_MARKER,), _SIGNS, _MARKUP_PARTS, _URL_PARTS)


def parse_video_url(url: str) -> tuple[str | None, str] | None:
    """(handle or None, video id) for a TikTok video URL, else None (profiles, tags, short links).

    >>> parse_video_url("https://www.tiktok.com/@a3noticias/video/6806030056956251397?lang=en")
    ('a3noticias', '6806030056956251397')
    """
    m = _VIDEO_URL.match(url.strip()) if url else None
    if not m:
        return None
    handle = m.group("handle")
    return (handle if handle and handle != "_" else None), m.group("id")


def canonical_url(video_id: str, handle: str | None = None) -> str:
    """https://www.tiktok.com/@<handle>/video/<id>; `@_` when the author is unknown (TikTok ignores
    the name and serves the video; yt-dlp builds the same URL)."""
    return f"https://www.tiktok.com/@{handle or '_'}/video/{video_id}"


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every TikTok video embedded or linked in the article body (chrome excluded), in page order,
    plus creator embeds as profiles.

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    return scan.walk(doc, _QUERIES.nodes(doc, exhaustive), _element, _anchor, _text)


def _post(found: list[Detected], video_id: str, handle: str | None, form: str, context: str) -> None:
    found.append(Embed(platform=name, id=video_id, url=canonical_url(video_id, handle), forms=[form],
                       context=context, author_handle=handle))


def _short(found: list[Detected], url: str, form: str, context: str) -> None:
    found.append(Embed(platform=name, id=None, url=url, forms=[form], context=context))


def _element(doc: Document, el, found: list[Detected]) -> None:
    """blockquote.tiktok-embed, or a player iframe."""
    if el.tag == "blockquote":
        _blockquote(doc, el, found)
    elif not doc.is_chrome(el):
        _iframe(doc, el, found)


def _blockquote(doc: Document, el, found: list[Detected]) -> None:
    """blockquote.tiktok-embed: `data-video-id`, else the id in `cite`; a creator embed is a profile."""
    if "tiktok-embed" not in (el.get("class") or "").split():
        return
    cite = doc.absolute(el.get("cite")) or ""
    parsed = parse_video_url(cite)
    m = _DIGITS.fullmatch(el.get("data-video-id") or "")
    video_id = m.group(1) if m else parsed[1] if parsed else None
    if video_id is None:
        profile = _PROFILE_URL.match(cite)
        if profile:  # recorded wherever it sits, like a tweet timeline
            found.append(Profile(name, f"https://www.tiktok.com/@{profile.group('handle')}"))
        return
    if doc.is_chrome(el):
        return
    handle = parsed[0] if parsed else None
    if handle is None:  # the first link of the embed is its author: <a title="@user" href=".../@user?refer=embed">
        for a in el.iterdescendants("a"):
            p = _PROFILE_URL.match(doc.absolute(a.get("href")) or "")
            if p:
                handle = p.group("handle")
                break
    _post(found, video_id, handle, "blockquote", doc.context(el))


def _iframe(doc: Document, el, found: list[Detected]) -> None:
    target, form = scan.frame_target(doc, el)
    parsed = parse_video_url(target)
    if parsed:
        _post(found, parsed[1], parsed[0], form, doc.context(el))


def _anchor(doc: Document, el, found: list[Detected]) -> None:
    url = doc.absolute(el.get("href")) or ""
    parsed = parse_video_url(url)
    short = None if parsed else _SHORT_URL.match(url)
    if (parsed or short) and not doc.is_chrome(el):
        context = scan.link_context(doc, el)
        if parsed:
            _post(found, parsed[1], parsed[0], "link", context)
        else:
            _short(found, _short_url(short.group("code"), short.group("tcode")), "link", context)


def _text(doc: Document, node, found: list[Detected]) -> None:
    el, matches = scan.text_matches(doc, node, _IN_TEXT)
    for m in matches:
        context = doc.context(el, m.group())
        if m.group("video"):
            handle = m.group("handle")
            _post(found, m.group("id"), handle if handle and handle != "_" else None, "bare-url", context)
        else:
            _short(found, _short_url(m.group("code"), m.group("tcode")), "bare-url", context)


def _short_url(code: str | None, tcode: str | None) -> str:
    """One spelling per short link, so the same link twice is one embed."""
    return f"https://vm.tiktok.com/{code}/" if code else f"https://www.tiktok.com/t/{tcode}/"


# =============================================================================================
# Capture: short links followed; the video page and oEmbed recorded; the thumbnail oEmbed names.
# =============================================================================================

import logging
from datetime import datetime, timezone

from archiver.models import Post, RecordRef
from archiver.platforms.common import (add_thumbnail, decide_with_page, fetch_page_and_oembed, follow_short_link,
                                       json_object, stripped)

if TYPE_CHECKING:
    from archiver.fetch import Fetcher

log = logging.getLogger(__name__)

OEMBED_ENDPOINT = "https://www.tiktok.com/oembed"
_FIRST_VIDEO = datetime(2016, 9, 1, tzinfo=timezone.utc)  # TikTok (then Douyin) ids before this are not times


def oembed_url(video_url: str) -> str:
    """TikTok's keyless oEmbed for one video URL."""
    return f"{OEMBED_ENDPOINT}?url={quote(video_url, safe='')}"


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Follow a short link's redirects (each hop recorded) until a video URL, which is not fetched here."""
    return follow_short_link(embed, fetcher, name, parse_video_url, canonical_url)


def created_at(video_id: str) -> Optional[str]:
    """When a video was posted, from its id: the high 32 bits are Unix seconds (TikTok's ids, like
    Twitter's, are time-ordered; the oEmbed fixture's thumbnail, made on upload, is stamped 9 s
    later). None when implausible."""
    try:
        when = datetime.fromtimestamp(int(video_id) >> 32, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return None
    if not _FIRST_VIDEO <= when <= datetime.now(timezone.utc):
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """The video page (a JS shell, recorded as evidence) and oEmbed; status decided by oEmbed.

    A 200 page decides nothing (TikTok answers 200 for removed videos too); its 404 or lost
    answer still counts as evidence.
    """
    video_id = embed.id
    post = Post(platform=name, id=video_id, url=canonical_url(video_id, embed.author_handle),
                created_at=created_at(video_id))
    _page_res, page, oembed = fetch_page_and_oembed(post, fetcher, oembed_url(post.url))
    data = json_object(oembed)
    usable = bool(data and (data.get("html") or data.get("embed_product_id")))
    post.status, post.status_reason = decide_with_page(page, False, oembed, usable)
    post.author_handle = embed.author_handle
    if usable:
        post.data = {"oembed": data}
        post.author_name = stripped(data.get("author_name"))
        post.author_handle = (stripped(data.get("author_unique_id")) or _handle(stripped(data.get("author_url")))
                              or embed.author_handle)
        post.text = stripped(data.get("title"))
        post.url = canonical_url(video_id, post.author_handle)
        add_thumbnail(post, stripped(data.get("thumbnail_url")))
    return post


def _handle(author_url: str | None) -> Optional[str]:
    m = _PROFILE_URL.match(author_url) if author_url else None
    return m.group("handle") if m else None
