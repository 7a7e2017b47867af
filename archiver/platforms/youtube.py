"""YouTube videos: detection in a parsed page (top section), capture through oEmbed (bottom section).

Markup and URL forms follow shared/docs/social-embeds.md section 6 (YouTube): `/embed/<id>` iframes
(youtube-nocookie.com too, also lazy `data-src` ones, `<embed src>` and `<object data>`), an oEmbed
proxy iframe (`/media/oembed?url=<watch URL>`), `amp-youtube data-videoid`, the `lite-youtube`
component, and `watch?v=`, `youtu.be/`, `shorts/`, `live/`, `embed/` links and bare URLs.

The id is the 11-character video id. Playlists (`/embed/videoseries?list=`, `/playlist?list=`), a
channel's live slot (`/embed/live_stream?channel=`) and channel pages (`/channel/`, `/@handle`,
`/c/`, `/user/`) are not one post and are not reported. Links inside another platform's embed
(a tweet's text linking a video, say) are that post's references, not the article's.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Optional
from urllib.parse import parse_qs, quote, urlsplit


from archiver.models import Embed
from archiver.platforms import scan
from archiver.platforms.base import Detected

if TYPE_CHECKING:
    from archiver.extract import Document

name = "youtube"

# =============================================================================================
# Detection (owned by extract). Public: name, detect, parse_video_url, canonical_url.
# =============================================================================================

_HOSTS = frozenset({
    "youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com",
    "youtube-nocookie.com", "www.youtube-nocookie.com", "youtu.be", "www.youtu.be",
})
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}", re.A)
# Path forms carrying the id; exactly 11 id characters, then the end of the segment.
_ID_PATH = re.compile(r"/(?:embed|shorts|live|v|e)/([A-Za-z0-9_-]{11})(?:[/;?#]|$)", re.A)
_SHORT_PATH = re.compile(r"/([A-Za-z0-9_-]{11})(?:[/?#]|$)", re.A)
# 11 characters long, but a playlist and a channel's live slot, not a video.
_NOT_VIDEOS = frozenset({"videoseries", "live_stream"})
# The same URLs in running text: no scheme needed, not glued to a longer host or id.
_IN_TEXT = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:(?:www|m|music)\.)?(?:"
    r"youtube(?:-nocookie)?\.com/(?:watch/?\?(?:[^\s#\"'<>]*?&(?:amp;)?)?v=|embed/|shorts/|live/|v/)"
    r"|youtu\.be/)(?P<id>[A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])",
    re.I | re.A,
)

_MARKER = b"youtu"  # in every host above, in amp-youtube and lite-youtube
LITERALS = (_MARKER,)
# The one literal's hits say what the page holds (`scan.read_signs`): a video URL, or the start of
# an <amp-youtube> / <lite-youtube> element; a channel link in the header calls for no tree query.
_SIGNS: scan.Signs = ((_MARKER, scan.regex_sign(re.compile(
    rb"(?P<url>youtu(?:be(?:-nocookie)?\.com(?:/|%2F)(?:watch|embed|shorts|live|v|e)\b|\.be(?:/|%2F)[A-Za-z0-9_-]))"
    rb"|(?<=<amp-)(?P<amp>youtube)|(?<=<lite-)(?P<lite>youtube)", re.I))),)
_MARKUP_PARTS: scan.MarkupParts = (
    ("amp", "//amp-youtube[@data-videoid]"),
    ("lite", "//lite-youtube[@videoid]"),
)
_PLAYERS = ("//embed[contains(@src, 'youtu')]" + scan.NOT_IN_EMBED
            + " | //object[contains(@data, 'youtu')]" + scan.NOT_IN_EMBED)  # old Flash players: a URL in a tag
_URL_PARTS: scan.UrlParts = scan.article_url_parts(
    "contains(@src, 'youtu') or contains(@data-src, 'youtu') or contains(@data-lazy-src, 'youtu')",
    "contains(., 'youtu')",
) + ((frozenset({"tag", "unknown"}), _PLAYERS),)
_QUERIES = scan.Queries((_MARKER,), _SIGNS, _MARKUP_PARTS, _URL_PARTS)


def parse_video_url(url: str) -> Optional[str]:
    """The video id of any YouTube video URL form, else None (channels, playlists, other hosts).

    >>> parse_video_url("https://youtu.be/eiHXASgRTcA?t=42")
    'eiHXASgRTcA'
    """
    split = scan.split_url(url)
    if split is None:
        return None
    parts, host = split
    if host not in _HOSTS:
        return None
    if host.endswith("youtu.be"):
        m = _SHORT_PATH.match(parts.path)
        video_id = m.group(1) if m else None
    else:
        m = _ID_PATH.match(parts.path)
        video_id = m.group(1) if m else None
        if video_id is None and parts.path.rstrip("/") in ("/watch", "/watch_popup"):
            video_id = next((v for v in parse_qs(parts.query).get("v", []) if _VIDEO_ID.fullmatch(v)), None)
    return video_id if video_id and video_id not in _NOT_VIDEOS else None


def canonical_url(video_id: str, handle: str | None = None) -> str:
    """https://www.youtube.com/watch?v=<id>: the form oEmbed documents (a channel plays no part)."""
    return f"https://www.youtube.com/watch?v={video_id}"


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every video embedded or linked in the article body (chrome excluded), in page order.

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    return scan.walk(doc, _QUERIES.nodes(doc, exhaustive), _element, _anchor, _text)


def _post(found: list[Detected], video_id: str | None, form: str, context: str) -> None:
    if video_id and video_id not in _NOT_VIDEOS and _VIDEO_ID.fullmatch(video_id):
        found.append(Embed(platform=name, id=video_id, url=canonical_url(video_id), forms=[form], context=context))


def _element(doc: Document, el, found: list[Detected]) -> None:
    """iframe / embed / object players, amp-youtube and lite-youtube."""
    if doc.is_chrome(el):
        return
    tag = el.tag
    if tag == "amp-youtube":
        _post(found, (el.get("data-videoid") or "").strip(), "amp", doc.context(el))
        return
    if tag == "lite-youtube":  # a JS facade that builds the iframe when clicked
        _post(found, (el.get("videoid") or "").strip(), "script", doc.context(el))
        return
    for attr in ("src", "data-src", "data-lazy-src", "data"):
        src = doc.absolute(el.get(attr))
        if not src or "youtu" not in src:
            continue
        video_id, form = parse_video_url(src), "iframe"
        if video_id is None and "url=" in src:  # a CMS's oEmbed proxy: /media/oembed?url=<watch URL>
            parts = urlsplit(src)
            video_id = next((v for v in map(parse_video_url, parse_qs(parts.query).get("url", [])) if v), None)
            form = "oembed-proxy" if "oembed" in parts.path.lower() else "iframe"
        if video_id:
            _post(found, video_id, form, doc.context(el))
            return


def _anchor(doc: Document, el, found: list[Detected]) -> None:
    url = doc.absolute(el.get("href"))
    video_id = parse_video_url(url) if url else None
    if video_id and not doc.is_chrome(el):
        _post(found, video_id, "link", scan.link_context(doc, el))


def _text(doc: Document, node, found: list[Detected]) -> None:
    el, matches = scan.text_matches(doc, node, _IN_TEXT)
    for m in matches:
        _post(found, m.group("id"), "bare-url", doc.context(el, m.group()))


# =============================================================================================
# Capture: the watch page and oEmbed, both recorded; the thumbnail oEmbed names.
# =============================================================================================

import logging

from archiver.models import Post, RecordRef
from archiver.platforms.common import (add_thumbnail, decide_with_page, fetch_page_and_oembed, iso_utc, json_object,
                                       stripped)

if TYPE_CHECKING:
    from archiver.fetch import Fetcher

log = logging.getLogger(__name__)

OEMBED_ENDPOINT = "https://www.youtube.com/oembed"
# The watch page's microdata: <meta itemprop="datePublished" content="2024-06-10T08:00:06-07:00">.
_PUBLISHED = re.compile(
    rb"""<meta\s+itemprop=["'](?:datePublished|uploadDate)["']\s+content=["']([0-9T:+.Z-]{10,40})["']""", re.I
)
_AUTHOR_PATH = re.compile(r"/(?:@|user/|c/)([\w.-]{1,100})/?$", re.A)


def oembed_url(watch_url: str) -> str:
    """YouTube's oEmbed for one watch URL (no key); JSON asked explicitly."""
    return f"{OEMBED_ENDPOINT}?url={quote(watch_url, safe='')}&format=json"


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """YouTube links always carry their id: there is nothing to follow."""
    return (embed if embed.id else None), []


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """The watch page and oEmbed for one video; status from oEmbed, which YouTube keeps exact.

    The watch page is recorded as evidence but decides nothing when it answers 200: YouTube
    serves the same player shell for a removed video. Its own 404 or lost answer still counts.
    """
    post = Post(platform=name, id=embed.id, url=canonical_url(embed.id))
    page_res, page, oembed = fetch_page_and_oembed(post, fetcher, oembed_url(post.url))
    data = json_object(oembed)
    usable = bool(data and (data.get("title") or data.get("html")))
    post.status, post.status_reason = decide_with_page(page, False, oembed, usable)
    published = _published(page_res.body) if page_res.ok else None
    if published:
        post.created_at = published
    if usable:
        post.data = {"oembed": data}
        post.author_name = stripped(data.get("author_name"))
        post.author_handle = _author_handle(stripped(data.get("author_url")))
        post.text = stripped(data.get("title"))
        add_thumbnail(post, stripped(data.get("thumbnail_url")))
    return post


def _author_handle(author_url: str | None) -> Optional[str]:
    """`@handle` (or a legacy /user/ or /c/ name) from oEmbed's author_url; channel ids are not handles."""
    if not author_url:
        return None
    try:
        path = urlsplit(author_url).path
    except ValueError:
        return None
    m = _AUTHOR_PATH.search(path)
    return m.group(1) if m else None


def _published(body: bytes | None) -> Optional[str]:
    """The watch page's datePublished as UTC `YYYY-MM-DDTHH:MM:SSZ`, when it has one."""
    m = _PUBLISHED.search(body or b"")
    return iso_utc(m.group(1).decode("ascii")) if m else None  # a bare date says the day, not the moment: None
