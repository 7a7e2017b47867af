"""Facebook posts and videos: detection in a parsed page (top section), capture through Meta's oEmbed.

Markup and URL forms follow shared/docs/social-embeds.md section 6 (Facebook): the SDK's
`div.fb-post` / `div.fb-video` `data-href` (with or without the fallback blockquote inside),
`plugins/post.php?href=` and `plugins/video.php?href=` iframes, `video/embed?video_id=`, and links
and bare URLs of the shapes `/<page>/posts/<id|pfbid...>`, `permalink.php?story_fbid=&id=`,
`story.php?story_fbid=&id=`, `/<page>/videos/[<slug>/]<id>`, `watch/?v=`, `video.php?v=`,
`reel/<id>`, `/<page>/photos/<album>/<id>`, `photo.php?fbid=`, and group posts
`/groups/<group>/posts/<id>` and `/groups/<group>/permalink/<id>`.

Ids (Facebook object ids are global, so the page is not part of them):
  * a post: its id as in the URL, digits or `pfbid...` (`/<page>/posts/<id>`, `story_fbid=<id>`);
  * a video or reel: `video/<digits>`;
  * a photo: `photo/<digits>`.
The page name (or numeric page id) the URL names is kept as the author hint, from which the
canonical URL is rebuilt (`groups/<group>` for a group's post). `fb.watch/<code>` and
`facebook.com/share/{p,v,r}/<code>` name no id: they are reported with id None and `resolve()`
follows their redirect. Page links, `sharer.php` and
other share dialogs are not posts; page plugins (`div.fb-page`, `plugins/page.php`) are profiles.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Optional
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from archiver.models import Embed
from archiver.platforms import meta, scan
from archiver.platforms.base import Detected, Profile

if TYPE_CHECKING:
    from archiver.extract import Document

name = "facebook"

# =============================================================================================
# Detection (owned by extract). Public: name, detect, parse_post_url, canonical_url.
# =============================================================================================

_FB_HOST = re.compile(r"(?:(?:www|m|web|mobile|mbasic|touch|business|[a-z]{2}-[a-z]{2})\.)?facebook\.com", re.A)
_NUMBER = re.compile(r"[0-9]{5,25}", re.A)
_POST_ID = re.compile(r"[0-9]{5,25}|pfbid[0-9A-Za-z]{10,120}", re.A)
_PAGE = re.compile(r"[A-Za-z0-9.\-]{1,80}", re.A)
# First path segments that are Facebook's own pages, never a page or profile name.
_RESERVED = frozenset(
    "watch reel reels groups events pages plugins sharer sharer.php share dialog login hashtag photo.php "
    "video.php permalink.php story.php profile.php people gaming marketplace stories help policies privacy "
    "ads business notes media photos photo video videos l.php home.php search settings".split()
)
_SHORT = re.compile(
    r"https?://(?:(?:www\.)?fb\.watch/(?P<watch>[A-Za-z0-9_-]{4,30})"
    r"|(?:(?:www|m|web)\.)?facebook\.com/share/(?:(?P<kind>[pvr])/)?(?P<code>[A-Za-z0-9_-]{4,40}))(?:[/?#]|$)",
    re.A,
)
# URL-ish runs in prose; each is then read by parse_post_url.
_IN_TEXT = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:(?:[a-z]{1,8}|[a-z]{2}-[a-z]{2})\.)?(?:facebook\.com|fb\.watch)/[^\s<>\"']+",
    re.I | re.A,
)
_TRAILING = ".,;:!?)]}'\u201d\u2019"

_LINKS = "contains(., 'facebook.com/') or contains(., 'fb.watch/')"
_FB_URL = re.compile(
    rb"(?P<url>facebook\.com/(?:[^\s\"'<>/?#]{1,80}/(?:posts|videos|photos)/|permalink\.php|story\.php|watch"
    rb"|video\.php|video/embed|reels?/|photo\.php|photo/|share/|(?:v[0-9.]+/)?plugins/(?:post|video|page)\.php))",
    re.I,
)
_DATA_HREF_GAP = re.compile(rb"\s*=\s*[\"']?(?:https?:)?//(?:[a-z]{1,8}\.)?", re.I)


def _facebook_sign(src: bytes, pos: int) -> Optional[str]:
    """`sdk` for the `data-href` of an SDK div (fb-post, fb-video, fb-page), `url` where a post,
    video, photo or plugin URL starts; a page link or sharer.php says nothing."""
    attr = src.rfind(b"data-href", max(0, pos - 40), pos)
    if attr != -1 and _DATA_HREF_GAP.fullmatch(src, attr + 9, pos):
        return "sdk"
    m = _FB_URL.match(src, pos)
    return m.lastgroup if m else None


# Two literals cover the hosts and the SDK markup; each hit's sign says what starts there, and only
# the query parts it calls for run (`scan.Queries`). A page link in the header or a sharer.php
# button calls for none.
_GATE = (b"facebook.com/", b"fb.watch/")
LITERALS = _GATE
_SIGNS: scan.Signs = (
    (b"facebook.com/", _facebook_sign),
    (b"fb.watch/", scan.regex_sign(re.compile(rb"(?P<url>fb\.watch/[A-Za-z0-9_-])", re.I))),
)
_MARKUP_PARTS: scan.MarkupParts = (
    ("sdk", "//div[@data-href][contains(@class, 'fb-post') or contains(@class, 'fb-video')"
            " or contains(@class, 'fb-page')]"),
)
_URL_PARTS: scan.UrlParts = scan.article_url_parts(
    "contains(@src, 'facebook.com/') or contains(@data-src, 'facebook.com/')", _LINKS)
_HAS_BLOCKQUOTE = etree.XPath("boolean(.//blockquote)")
_QUERIES = scan.Queries(_GATE, _SIGNS, _MARKUP_PARTS, _URL_PARTS)


def parse_post_url(url: str) -> tuple[str | None, str] | None:
    """(page hint or None, id) for a Facebook post, video or photo URL, else None (see module doc).

    >>> parse_post_url("https://www.facebook.com/20531316728/posts/10154009990506729/")
    ('20531316728', '10154009990506729')
    >>> parse_post_url("https://www.facebook.com/watch/?v=10153231379946729")
    (None, 'video/10153231379946729')
    >>> parse_post_url("https://www.facebook.com/groups/1234567890/permalink/9876543210123/")
    ('groups/1234567890', '9876543210123')
    """
    split = scan.split_url(url)
    if split is None:
        return None
    parts, host = split
    if parts.scheme not in ("http", "https") or not _FB_HOST.fullmatch(host):
        return None
    segs = [s for s in parts.path.split("/") if s]
    query = parse_qs(parts.query)
    first = segs[0].lower() if segs else ""

    def arg(*names: str, pattern: re.Pattern = _NUMBER) -> Optional[str]:
        for key in names:
            for value in query.get(key, []):
                if pattern.fullmatch(value.strip()):
                    return value.strip()
        return None

    if len(segs) >= 3 and first not in _RESERVED and _PAGE.fullmatch(segs[0]):
        kind = segs[1].lower()
        if kind == "posts" and _POST_ID.fullmatch(segs[2]):
            return segs[0], segs[2]
        if kind == "videos":  # /<page>/videos/<id>/ or /<page>/videos/<slug>/<id>/
            vid = next((s for s in segs[2:4] if _NUMBER.fullmatch(s)), None)
            return (segs[0], f"video/{vid}") if vid else None
        if kind == "photos":  # /<page>/photos/a.<album>/<id>/ or /<page>/photos/<id>/
            pid = next((s for s in reversed(segs[2:4]) if _NUMBER.fullmatch(s)), None)
            return (segs[0], f"photo/{pid}") if pid else None
        return None
    if first == "groups" and len(segs) >= 4 and segs[2].lower() in ("posts", "permalink") and _PAGE.fullmatch(segs[1]):
        return (f"groups/{segs[1]}", segs[3]) if _POST_ID.fullmatch(segs[3]) else None
    if first in ("permalink.php", "story.php"):
        story = arg("story_fbid", pattern=_POST_ID)
        page = arg("id")
        return (page, story) if story else None
    if (first == "watch" and len(segs) == 1) or first == "video.php":
        vid = arg("v", "id") if first == "video.php" else arg("v")
        return (None, f"video/{vid}") if vid else None
    if first in ("reel", "reels") and len(segs) >= 2 and _NUMBER.fullmatch(segs[1]):
        return None, f"video/{segs[1]}"
    if first == "video" and len(segs) >= 2 and segs[1] == "embed":
        vid = arg("video_id")
        return (None, f"video/{vid}") if vid else None
    if first == "photo.php" or (first == "photo" and len(segs) == 1):
        pid = arg("fbid")
        return (None, f"photo/{pid}") if pid else None
    return None


def canonical_url(post_id: str, handle: str | None = None) -> str:
    """A URL of a form Meta's oEmbed documents, rebuilt from the id and the page hint."""
    if post_id.startswith("video/"):
        vid = post_id[6:]
        if handle:
            return f"https://www.facebook.com/{handle}/videos/{vid}/"
        return f"https://www.facebook.com/video.php?v={vid}"
    if post_id.startswith("photo/"):
        return f"https://www.facebook.com/photo.php?fbid={post_id[6:]}"
    if handle:
        return f"https://www.facebook.com/{handle}/posts/{post_id}/"
    return f"https://www.facebook.com/permalink.php?story_fbid={post_id}"


def is_video(post_id: str) -> bool:
    return post_id.startswith("video/")


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every Facebook post, video and photo embedded or linked in the article body (chrome
    excluded), in page order, plus page plugins as profiles.

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    return scan.walk(doc, _QUERIES.nodes(doc, exhaustive), _element, _anchor, _text)


def _post(found: list[Detected], parsed: tuple[str | None, str], form: str, context: str) -> None:
    handle, post_id = parsed
    found.append(Embed(platform=name, id=post_id, url=canonical_url(post_id, handle), forms=[form],
                       context=context, author_handle=handle))


def _short(found: list[Detected], m: re.Match, form: str, context: str) -> None:
    if m.group("watch"):
        url = f"https://fb.watch/{m.group('watch')}/"
    else:
        url = f"https://www.facebook.com/share/{m.group('kind') + '/' if m.group('kind') else ''}{m.group('code')}/"
    found.append(Embed(platform=name, id=None, url=url, forms=[form], context=context))


def _profile(found: list[Detected], url: str | None) -> None:
    """A page plugin's page, as https://www.facebook.com/<page>; recorded wherever it sits."""
    split = scan.split_url(url)
    if split is None:
        return
    parts, host = split
    segs = [s for s in parts.path.split("/") if s]
    if _FB_HOST.fullmatch(host) and len(segs) == 1 and segs[0].lower() not in _RESERVED:
        found.append(Profile(name, f"https://www.facebook.com/{segs[0]}"))


def _element(doc: Document, el, found: list[Detected]) -> None:
    """An SDK div, or a plugin or player iframe."""
    if el.tag == "div":
        _sdk(doc, el, found)
    else:
        _iframe(doc, el, found)


def _sdk(doc: Document, el, found: list[Detected]) -> None:
    """div.fb-post / div.fb-video `data-href` (the SDK's markup); div.fb-page is a profile."""
    classes = set((el.get("class") or "").split())
    href = doc.absolute(el.get("data-href"))
    if "fb-page" in classes:
        _profile(found, href)
        return
    if not classes & {"fb-post", "fb-video"} or doc.is_chrome(el):
        return
    parsed = parse_post_url(href) if href else None
    if parsed:
        form = "blockquote" if _HAS_BLOCKQUOTE(el) else "script"
        _post(found, parsed, form, doc.context(el) if form == "script" else doc.text(el)[:600])


def _iframe(doc: Document, el, found: list[Detected]) -> None:
    """plugins/post.php?href= / plugins/video.php?href= (page.php is a profile), video/embed?video_id=,
    or a CMS's oEmbed proxy of a post URL."""
    src, form = scan.frame_target(doc, el)
    try:
        parts = urlsplit(src)
    except ValueError:
        return
    path = parts.path.lower()
    if "/plugins/" in path:
        hrefs = parse_qs(parts.query).get("href", [])
        if path.endswith("/page.php"):
            for href in hrefs:
                _profile(found, href)
            return
        if not path.endswith(("/post.php", "/video.php")) or doc.is_chrome(el):
            return  # like.php, share_button.php, comment_embed.php: not a post
        parsed = next((p for p in map(parse_post_url, hrefs) if p), None)
    else:
        parsed = parse_post_url(src)
    if parsed and not doc.is_chrome(el):
        _post(found, parsed, form, doc.context(el))


def _anchor(doc: Document, el, found: list[Detected]) -> None:
    url = doc.absolute(el.get("href")) or ""
    parsed = parse_post_url(url)
    short = None if parsed else _SHORT.match(url)
    if (parsed or short) and not doc.is_chrome(el):
        context = scan.link_context(doc, el)
        if parsed:
            _post(found, parsed, "link", context)
        else:
            _short(found, short, "link", context)


def _text(doc: Document, node, found: list[Detected]) -> None:
    el, matches = scan.text_matches(doc, node, _IN_TEXT)
    for m in matches:
        raw = m.group().rstrip(_TRAILING).replace("&amp;", "&")
        url = raw if raw.lower().startswith(("http://", "https://")) else "https://" + raw
        parsed = parse_post_url(url)
        short = None if parsed else _SHORT.match(url)
        if parsed:
            _post(found, parsed, "bare-url", doc.context(el, m.group()))
        elif short:
            _short(found, short, "bare-url", doc.context(el, m.group()))


# =============================================================================================
# Capture: the post page and Meta's tokenless oEmbed (post or video), both recorded.
# =============================================================================================

from archiver.models import Post, RecordRef
from archiver.platforms.common import follow_short_link

if TYPE_CHECKING:
    from archiver.fetch import Fetcher


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Follow an fb.watch or share link's redirects (recorded) to the post or video it stands for."""
    return follow_short_link(embed, fetcher, name, parse_post_url, canonical_url)


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """The post page and oembed_post (oembed_video for videos), and what they say."""
    post = Post(platform=name, id=embed.id, url=canonical_url(embed.id, embed.author_handle),
                author_handle=embed.author_handle)
    endpoint = meta.FACEBOOK_VIDEO_OEMBED if is_video(embed.id) else meta.FACEBOOK_POST_OEMBED
    token = embed.id.split("/", 1)[-1]
    return meta.snapshot(post, fetcher, endpoint=endpoint, token=token, read_html=read_embed_html,
                         read_page=_read_page)


def read_embed_html(html: str) -> meta.EmbedInfo:
    """Author and text from the SDK fallback blockquote oEmbed returns:
    `<p>text</p>Posted by <a href="https://www.facebook.com/<page>/">Name</a> on <a>date</a>`
    (a video's starts with `<a href=video>title</a>`)."""
    body = meta.fragment(html)
    quote = next(body.iter("blockquote"), body)
    info = meta.EmbedInfo()
    paragraphs = [meta.text_of(p) for p in quote.iter("p")]
    info.text = "\n".join(p for p in paragraphs if p) or None
    for a in quote.iter("a"):
        before = a.getprevious().tail if a.getprevious() is not None else a.getparent().text
        if (before or "").rstrip().endswith("Posted by"):
            info.author_name = meta.text_of(a) or None
            info.author_handle = _page_of(a.get("href"))
            break
        if info.text is None and a.getparent() is quote and a.getprevious() is None:
            info.text = meta.text_of(a) or None  # a video's title
    return info


def _page_of(href: str | None) -> Optional[str]:
    """`facebook` from https://www.facebook.com/facebook/ (not people/..., not profile.php)."""
    try:
        parts = urlsplit(href or "")
    except ValueError:
        return None
    segs = [s for s in parts.path.split("/") if s]
    if len(segs) == 1 and segs[0].lower() not in _RESERVED and _PAGE.fullmatch(segs[0]):
        return segs[0]
    return None


def _read_page(tags: dict[str, str]) -> meta.EmbedInfo:
    return meta.EmbedInfo(text=tags.get("og:description") or None)
