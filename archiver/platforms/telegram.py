"""Telegram channel posts: detection in a parsed page (top section), capture (bottom section).

Markup and URL forms follow shared/docs/social-embeds.md section 6 "Telegram".

Post ids (issue #3): `<channel>/<message id>`, channel lower-cased (Telegram usernames are
case-insensitive, so `Durov/1` and `durov/1` are one post), e.g. `durov/123`. Only public
channels and groups have such links; `t.me/c/<internal id>/<msg>` needs a login and is not
claimed, nor are invite (`joinchat`, `+code`), sticker, share, proxy and bare channel links.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Optional

import lxml.html
from lxml import etree

from archiver.models import Embed, Media, Post, RecordRef
from archiver.platforms import scan
from archiver.platforms.base import Detected
from archiver.platforms.common import decide, iso_utc_ms, route

if TYPE_CHECKING:
    from archiver.extract import Document
    from archiver.fetch import Fetcher

name = "telegram"
LITERALS = (b"t.me/", b"telegram.", b"data-telegram-post")

# =============================================================================================
# Detection. Public: name, detect, parse_post_url, canonical_url.
# =============================================================================================

_HOST = r"(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)"
_CHANNEL = r"(?P<channel>[A-Za-z][A-Za-z0-9_]{3,31})"
# /<channel>/<msg>, /s/<channel>/<msg> (the channel's web preview), /<group>/<topic>/<msg> (forum topics)
_PATH = r"/(?:s/)?" + _CHANNEL + r"/(?:[0-9]{1,10}/)?(?P<msg>[0-9]{1,10})"
_POST_HREF = re.compile(r"https?://" + _HOST + _PATH + r"/?(?:[?#]|$)", re.I | re.A)
_IN_TEXT = re.compile(r"(?<![\w.@/-])(?:https?://)?" + _HOST + _PATH + r"(?![\w/]*\w)", re.I | re.A)
_DATA_POST = re.compile(r"\s*" + _CHANNEL + r"/(?P<msg>[0-9]{1,10})\s*", re.A)
# First path segments that are Telegram's own pages, not channels.
_RESERVED = frozenset(
    "joinchat addstickers addemoji addtheme addlist share proxy socks setlanguage login iv bg invoice boost "
    "contact confirmphone giftcode nft addwallpaper blog apps faq".split()
)

# What a hit starts: a post URL (t.me/share and a channel link call for no tree query), or the
# widget script's attribute.
_SIGNS: scan.Signs = (
    (b"t.me/", scan.regex_sign(re.compile(rb"(?P<url>t\.me/(?:s/)?[A-Za-z][A-Za-z0-9_]{3,31}/[0-9])", re.I))),
    (b"telegram.", scan.regex_sign(re.compile(
        rb"(?P<url>telegram\.(?:me|dog)/(?:s/)?[A-Za-z][A-Za-z0-9_]{3,31}/[0-9])", re.I))),
    (b"data-telegram-post", scan.regex_sign(re.compile(rb"(?P<script>data-telegram-post)"))),
)
_MARKUP_PARTS: scan.MarkupParts = (("script", "//script[@data-telegram-post]"),)
# The gate: t.me/, telegram.me/, telegram.dog/ and the widget's telegram.org script. `telegram.`
# sits inside quoted values, where `where()` can tell it is no link text; a bare `telegram` would
# also hit the `data-telegram-post` attribute name, which it cannot classify.
_GATE = (b"t.me/", b"telegram.")
_URL_PARTS = scan.url_parts("//iframe[contains(@src, 'embed=1') or contains(@data-src, 'embed=1')]",
                            "//a/@href[contains(., 't.me/') or contains(., 'telegram.')]",
                            "/descendant::text()[contains(., 't.me/') or contains(., 'telegram.')]")
_QUERIES = scan.Queries(_GATE, _SIGNS, _MARKUP_PARTS, _URL_PARTS)


def _post_id(channel: str, msg: str) -> Optional[str]:
    if channel.lower() in _RESERVED or int(msg) == 0:
        return None
    return f"{channel.lower()}/{int(msg)}"


def parse_post_url(url: str) -> Optional[str]:
    """The post id of a t.me message link (embed iframe URLs included), else None.

    >>> parse_post_url("https://t.me/s/Durov/123?embed=1")
    'durov/123'
    """
    m = _POST_HREF.match((url or "").strip())
    return _post_id(m.group("channel"), m.group("msg")) if m else None


def canonical_url(post_id: str, handle: str | None = None) -> str:
    return f"https://t.me/{post_id}"


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every Telegram post embedded (widget script, iframe) or linked in the article body.

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    state = _Scan(doc)
    state.run(_QUERIES.nodes(doc, exhaustive))
    return state.found


class _Scan(scan.Pass):
    def __init__(self, doc: Document):
        super().__init__(doc)
        self.found: list[Detected] = []

    def post(self, post_id: Optional[str], form: str, context: str, handle: str | None) -> None:
        if post_id:
            self.found.append(Embed(platform=name, id=post_id, url=canonical_url(post_id), forms=[form],
                                    context=context, author_handle=handle))

    def element(self, el) -> None:
        if self.doc.is_chrome(el):
            return
        if el.tag == "script":
            # <script src=".../telegram-widget.js" data-telegram-post="channel/123">: the widget
            # draws the post where the script stands, so the context is what surrounds it.
            m = _DATA_POST.fullmatch(el.get("data-telegram-post") or "")
            if m:
                self.post(_post_id(m.group("channel"), m.group("msg")), "script",
                          self.doc.context(el), m.group("channel"))
            return
        m = _POST_HREF.match(scan.frame_src(self.doc, el))
        if m:
            self.post(_post_id(m.group("channel"), m.group("msg")), "iframe", self.doc.context(el),
                      m.group("channel"))

    def anchor(self, a) -> None:
        m = _POST_HREF.match(self.doc.absolute(a.get("href")) or "")
        if m and not self.doc.is_chrome(a):
            self.post(_post_id(m.group("channel"), m.group("msg")), "link",
                      scan.link_context(self.doc, a), m.group("channel"))

    def text(self, node) -> None:
        el = scan.text_owner(node)
        if el is None or not scan.running_text(el) or self.doc.is_chrome(el):
            return
        for m in _IN_TEXT.finditer(node):
            self.post(_post_id(m.group("channel"), m.group("msg")), "bare-url", self.doc.context(el, m.group()),
                      m.group("channel"))


# =============================================================================================
# Capture: resolve, snapshot. Every request goes through fetcher.fetch so it is recorded.
# =============================================================================================

_BACKGROUND = re.compile(r"""background-image\s*:\s*url\(\s*['"]?([^'")]+)['"]?\s*\)""", re.I)
_MESSAGE = etree.XPath("//*[contains(concat(' ', normalize-space(@class), ' '), ' tgme_widget_message ')]")
_ERROR = etree.XPath("//*[contains(concat(' ', normalize-space(@class), ' '), ' tgme_widget_message_error ')]")


def _class_xpath(cls: str) -> etree.XPath:
    return etree.XPath(f".//*[contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')]")


_TEXT = _class_xpath("tgme_widget_message_text")
_AUTHOR = _class_xpath("tgme_widget_message_author")
_USER_PHOTO = _class_xpath("tgme_widget_message_user_photo")
_PHOTOS = _class_xpath("tgme_widget_message_photo_wrap")
_VIDEOS = etree.XPath(".//video[@src]")
_VIDEO_THUMBS = _class_xpath("tgme_widget_message_video_thumb")
_TIME = etree.XPath(".//time[@datetime]")


def embed_url(post_id: str) -> str:
    """The widget's iframe page: plain HTML holding the whole message."""
    return f"https://t.me/{post_id}?embed=1"


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Every Telegram form carries its id: nothing to follow."""
    return (embed if embed.id else None), []


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """The embed page (the data) and the t.me post page (what a reader's click shows), recorded.

    Both answer 200 even for a missing message, so the status comes from the embed page's
    content: a message -> available; `tgme_widget_message_error` "Post not found" -> deleted;
    another error text -> unavailable; otherwise `common.decide` on the HTTP outcome.
    """
    post_id = embed.id
    embed_res = fetcher.fetch(embed_url(post_id))
    page_res = fetcher.fetch(canonical_url(post_id))
    post = Post(platform=name, id=post_id, url=canonical_url(post_id), author_handle=post_id.partition("/")[0])
    post.records = embed_res.records + page_res.records
    widget = route(embed_res)
    parsed = parse_embed_page(embed_res.body) if widget.status == 200 and embed_res.body else None
    usable = bool(parsed and parsed.get("found"))
    post.status, post.status_reason = decide([("embed", widget, usable)])
    if parsed and not usable and parsed.get("error"):
        error = parsed["error"]
        post.status = "deleted" if "not found" in error.lower() else "unavailable"
        post.status_reason = f"embed page: {error}"
    if usable:
        post.data = {"embed": parsed}
        post.author_name = parsed.get("author_name")
        post.author_handle = parsed.get("channel") or post.author_handle
        post.text = parsed.get("text")
        post.created_at = iso_utc_ms(parsed.get("datetime"))
        post.media = [Media(url=url, kind=kind) for kind, url in parsed.get("media", [])]
    return post


def parse_embed_page(body: bytes) -> dict:
    """What the t.me `?embed=1` page says: found, channel, author, text, time, media or error.

    Media at the size the page names: photos from `background-image:url(...)` of
    `tgme_widget_message_photo_wrap`, videos from `<video src>`, their thumbnails as posters, the
    channel's picture as the avatar.
    """
    try:
        root = lxml.html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return {"found": False}
    messages, errors = _MESSAGE(root), _ERROR(root)
    if errors or not messages:  # the error box may sit inside an otherwise empty message div
        return {"found": False, "error": " ".join(errors[0].text_content().split()) if errors else None}
    msg = messages[0]
    out: dict = {"found": True}
    data_post = _DATA_POST.fullmatch(msg.get("data-post") or "")
    if data_post:
        out["channel"] = data_post.group("channel")
    author = _AUTHOR(msg)
    if author:
        out["author_name"] = " ".join(author[0].text_content().split()) or None
    texts = _TEXT(msg)
    if texts:
        out["text"] = _message_text(texts[0])
    times = _TIME(msg)
    if times:
        out["datetime"] = times[0].get("datetime")
    media: list[tuple[str, str]] = []
    for wrap in _PHOTOS(msg):
        url = _background(wrap)
        if url:
            media.append(("photo", url))
    for video in _VIDEOS(msg):
        media.append(("video", video.get("src")))
    for thumb in _VIDEO_THUMBS(msg):
        url = _background(thumb)
        if url:
            media.append(("poster", url))
    for photo in _USER_PHOTO(root):
        img = photo.find(".//img")
        if img is not None and img.get("src"):
            media.append(("avatar", img.get("src")))
            break
    out["media"] = list({url: (kind, url) for kind, url in media if url.startswith(("https://", "http://"))}.values())
    return out


def _background(el) -> Optional[str]:
    m = _BACKGROUND.search(el.get("style") or "")
    return m.group(1).strip() if m else None


def _message_text(el) -> str:
    """The message's text with <br> as newlines (the page's only line structure)."""
    el = lxml.html.fromstring(lxml.html.tostring(el))  # a copy: tails are edited below
    for br in el.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return "\n".join(line.strip() for line in el.text_content().split("\n")).strip()

