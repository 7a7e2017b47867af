"""Instagram posts: detection in a parsed page (top section), capture through Meta's oEmbed (bottom).

Markup and URL forms follow shared/docs/social-embeds.md section 6 (Instagram):
`blockquote.instagram-media` (`data-instgrm-permalink`, else its first link, as yt-dlp does), the
iframe embed.js renders (`/p/<code>/embed/captioned/?cr=1&v=14...`) and hand-made `/p/<code>/embed/`
ones, `amp-instagram data-shortcode`, and `/p/`, `/reel/`, `/reels/`, `/tv/` links and bare URLs
(`instagr.am` and `/<user>/p/<code>` too).

The id is the post's shortcode (case-sensitive), whatever the kind: `/p/<code>/` is the canonical
URL, which Instagram serves for reels and IGTV as well. Share links (`/share/<code>`,
`/share/p/<code>`, `/share/reel/<code>`) carry a share token, not the shortcode: they are reported
with id None and `resolve()` follows their redirect. A blockquote embedding a profile is a profile;
profile links are not posts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable


from archiver.models import Embed
from archiver.platforms import meta, scan
from archiver.platforms.base import Detected, Profile

if TYPE_CHECKING:
    from archiver.extract import Document

name = "instagram"

# =============================================================================================
# Detection (owned by extract). Public: name, detect, parse_post_url, canonical_url.
# =============================================================================================

_HOST = r"(?:(?:www|m)\.)?(?:instagram\.com|instagr\.am)"
_USER = r"[A-Za-z0-9._]{1,30}"
_CODE = r"[A-Za-z0-9_-]{2,64}"
_POST_URL = re.compile(
    r"https?://" + _HOST + r"/(?:(?P<handle>" + _USER + r")/)?(?:p|reels?|tv)/(?P<code>" + _CODE + r")(?:[/?#]|$)",
    re.A,
)
_SHARE_URL = re.compile(
    r"https?://(?:www\.)?instagram\.com/share/(?:(?P<kind>p|reel|v)/)?(?P<token>[A-Za-z0-9_-]{4,64})(?:[/?#]|$)", re.A
)
_PROFILE_URL = re.compile(r"https?://" + _HOST + r"/(?P<handle>" + _USER + r")/?(?:[?#]|$)", re.A)
_IN_TEXT = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:"
    r"(?:www\.)?instagram\.com/share/(?:(?P<kind>p|reel|v)/)?(?P<token>[A-Za-z0-9_-]{4,64})"
    r"|" + _HOST + r"/(?:(?P<handle>" + _USER + r")/)?(?:p|reels?|tv)/(?P<code>" + _CODE + r"))"
    r"(?![A-Za-z0-9_-])",
    re.A,
)
_ATTRIBUTION = re.compile(r"\(@(" + _USER + r")\)", re.A)
# First path segments that are Instagram's own pages, never an account.
_RESERVED = frozenset(
    "p reel reels tv explore accounts stories direct about developer legal web share challenge "
    "emails session privacy terms oauth static".split()
)
_NOT_CODES = frozenset({"audio"})  # /reels/audio/<id> is a sound page

_LINKS = "contains(., 'instagram.com/') or contains(., 'instagr.am/')"
# One literal covers the hosts and the markup; each hit's sign says what starts there, and only
# the query parts it calls for run (`scan.Queries`). A profile link in the header calls for none.
_GATE = (b"instagr",)
LITERALS = _GATE
_SIGNS: scan.Signs = ((b"instagr", scan.regex_sign(re.compile(
    rb"(?P<url>instagr(?:am\.com/(?:[A-Za-z0-9._]{1,30}/)?(?:p|reels?|tv|share)/"
    rb"|\.am/(?:[A-Za-z0-9._]{1,30}/)?(?:p|reels?|tv)/))"
    rb"|(?P<blockquote>instagram-media)|(?<=<amp-)(?P<amp>instagram)", re.I))),)
_MARKUP_PARTS: scan.MarkupParts = (
    ("blockquote", "//blockquote[contains(@class, 'instagram-media')]"),
    ("amp", "//amp-instagram[@data-shortcode]"),
)
_URL_PARTS: scan.UrlParts = scan.article_url_parts(
    "contains(@src, 'instagram.com/') or contains(@data-src, 'instagram.com/') or contains(@src, 'instagr.am/')",
    _LINKS,
)
_QUERIES = scan.Queries(_GATE, _SIGNS, _MARKUP_PARTS, _URL_PARTS)


def parse_post_url(url: str) -> tuple[str | None, str] | None:
    """(handle or None, shortcode) for an Instagram post, reel or IGTV URL, else None.

    >>> parse_post_url("https://www.instagram.com/reel/DESuG_bPmIi/?utm_source=ig_embed")
    (None, 'DESuG_bPmIi')
    """
    m = _POST_URL.match(url.strip()) if url else None
    if not m or m.group("code") in _NOT_CODES:
        return None
    handle = m.group("handle")
    if handle is not None and handle.lower() in _RESERVED:
        return None  # /share/p/<token>, /stories/...: not /<user>/p/<code>
    return handle, m.group("code")


def canonical_url(code: str, handle: str | None = None) -> str:
    """https://www.instagram.com/p/<code>/: one URL per shortcode, the form oEmbed documents."""
    return f"https://www.instagram.com/p/{code}/"


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every Instagram post embedded or linked in the article body (chrome excluded), in page
    order, plus profile embeds as profiles.

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    return scan.walk(doc, _QUERIES.nodes(doc, exhaustive), _element, _anchor, _text)


def _post(found: list[Detected], code: str, handle: str | None, form: str, context: str) -> None:
    found.append(Embed(platform=name, id=code, url=canonical_url(code), forms=[form], context=context,
                       author_handle=handle))


def _share(found: list[Detected], kind: str | None, token: str, form: str, context: str) -> None:
    url = f"https://www.instagram.com/share/{kind + '/' if kind else ''}{token}/"
    found.append(Embed(platform=name, id=None, url=url, forms=[form], context=context))


def _element(doc: Document, el, found: list[Detected]) -> None:
    """blockquote.instagram-media, amp-instagram, or an embed iframe."""
    if el.tag == "blockquote":
        _blockquote(doc, el, found)
    elif doc.is_chrome(el):
        return
    elif el.tag == "amp-instagram":
        code = (el.get("data-shortcode") or "").strip()
        if re.fullmatch(_CODE, code, re.A):
            _post(found, code, None, "amp", doc.context(el))
    else:
        _iframe(doc, el, found)


def _blockquote(doc: Document, el, found: list[Detected]) -> None:
    """blockquote.instagram-media: its permalink, else its first link; `(@handle)` from the footer."""
    if "instagram-media" not in (el.get("class") or "").split():
        return
    links = [el.get("data-instgrm-permalink")] + scan.FIRST_LINK(el)
    permalink = next((u for u in map(doc.absolute, links) if u), None)
    parsed = parse_post_url(permalink) if permalink else None
    if parsed is None:
        profile = _PROFILE_URL.match(permalink or "")
        if profile and profile.group("handle").lower() not in _RESERVED:  # a profile embed
            found.append(Profile(name, f"https://www.instagram.com/{profile.group('handle')}/"))
        return
    if doc.is_chrome(el):
        return
    text = doc.text(el)
    authors = _ATTRIBUTION.findall(text)
    _post(found, parsed[1], authors[-1] if authors else parsed[0], "blockquote", text[:600] or doc.context(el))


def _iframe(doc: Document, el, found: list[Detected]) -> None:
    target, form = scan.frame_target(doc, el)
    parsed = parse_post_url(target)
    if parsed:
        _post(found, parsed[1], parsed[0], form, doc.context(el))


def _anchor(doc: Document, el, found: list[Detected]) -> None:
    url = doc.absolute(el.get("href")) or ""
    parsed = parse_post_url(url)
    share = None if parsed else _SHARE_URL.match(url)
    if (parsed or share) and not doc.is_chrome(el):
        context = scan.link_context(doc, el)
        if parsed:
            _post(found, parsed[1], parsed[0], "link", context)
        else:
            _share(found, share.group("kind"), share.group("token"), "link", context)


def _text(doc: Document, node, found: list[Detected]) -> None:
    el, matches = scan.text_matches(doc, node, _IN_TEXT)
    for m in matches:
        context = doc.context(el, m.group())
        if m.group("token"):
            _share(found, m.group("kind"), m.group("token"), "bare-url", context)
            continue
        handle = m.group("handle")
        if m.group("code") in _NOT_CODES or (handle and handle.lower() in _RESERVED):
            continue
        _post(found, m.group("code"), handle, "bare-url", context)


# =============================================================================================
# Capture: the post page and Meta's tokenless oEmbed, both recorded (archiver.platforms.meta).
# =============================================================================================

from archiver.models import Post, RecordRef
from archiver.platforms.common import follow_short_link, iso_utc

if TYPE_CHECKING:
    from archiver.fetch import Fetcher

_SHARED_BY = re.compile(r"A post shared by\s+(?P<name>.*?)\s*\(@(?P<handle>" + _USER + r")\)", re.S | re.A)
# og:title of a post page: `Name on Instagram: "caption"`.
_OG_TITLE = re.compile(r"^(?P<name>.+?) on Instagram: [\"\u201c](?P<text>.*)[\"\u201d]\s*$", re.S)
_BOILERPLATE = ("A post shared by", "View this post on Instagram")


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Follow a share link's redirects (recorded) to the post it stands for."""
    return follow_short_link(embed, fetcher, name, parse_post_url, canonical_url)


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """The post page (often a login wall: recorded anyway) and instagram_oembed, and what they say."""
    post = Post(platform=name, id=embed.id, url=canonical_url(embed.id), author_handle=embed.author_handle)
    return meta.snapshot(post, fetcher, endpoint=meta.INSTAGRAM_OEMBED, token=embed.id,
                         read_html=read_embed_html, read_page=_read_page)


def read_embed_html(html: str) -> meta.EmbedInfo:
    """Author, caption and date from the oEmbed blockquote (v14: `A post shared by Name (@handle)`;
    older versions add the caption paragraph and `<time datetime>`)."""
    body = meta.fragment(html)
    quote = next(body.iter("blockquote"), body)
    info = meta.EmbedInfo()
    for p in quote.iter("p"):
        text = meta.text_of(p)
        m = _SHARED_BY.search(text)
        if m:
            info.author_name = m.group("name").strip() or None
            info.author_handle = m.group("handle")
        elif text and info.text is None and not text.startswith(_BOILERPLATE):
            info.text = text
    time = next((t for t in quote.iter("time") if t.get("datetime")), None)
    info.created_at = iso_utc(time.get("datetime")) if time is not None else None
    return info


def _read_page(tags: dict[str, str]) -> meta.EmbedInfo:
    m = _OG_TITLE.match(tags.get("og:title", ""))
    return meta.EmbedInfo(author_name=m.group("name") if m else None, text=m.group("text") if m else None)
