"""Reddit posts: detection in a parsed page (top section), capture (bottom section).

Markup and URL forms follow shared/docs/social-embeds.md section 6 "Reddit".

Post ids (issue #3): the submission's base36 id, lower-case, as in `/comments/<id>/` (`7pfpeq`);
Reddit's own "fullname" is `t3_<id>`. A link or embed of a *comment*
(`/comments/<id>/<slug>/<comment id>/`, `/comments/<id>/comment/<comment id>/`) cites that
submission: the id is the submission's, the comment stays in the citation's URL context.

Share links `/r/<sub>/s/<code>` hide the id: they are found with `id=None` and `resolve()`
follows their redirect (recorded) to the permalink.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable, NamedTuple, Optional
from urllib.parse import urlencode, urlsplit


from archiver.models import Embed, Media, Post, RecordRef
from archiver.platforms import scan
from archiver.platforms.base import Detected
from archiver.platforms.common import decide, has_html, route

if TYPE_CHECKING:
    from archiver.extract import Document
    from archiver.fetch import Fetcher

name = "reddit"
LITERALS = (b"redd",)  # reddit.com, redditmedia.com, redd.it, and the `reddit-` classes
log = logging.getLogger(__name__)

# =============================================================================================
# Detection. Public: name, detect, parse_post_url, canonical_url, permalink.
# =============================================================================================

# www, old, new, np, m, amp, embed... reddit.com, and the legacy embed host redditmedia.com.
_HOST = r"(?:[a-z0-9-]{1,20}\.)?(?:reddit\.com|redditmedia\.com)"
_SUB = r"(?P<sub>[A-Za-z0-9_]{2,21})"
_ID = r"(?P<id>[a-z0-9]{1,13})"
_END = r"(?=[/?#]|$)"
# /r/<sub>/comments/<id>, /user/<u>/comments/<id>, /comments/<id>, /gallery/<id>
_POST_PATH = (
    r"/(?:(?:r/" + _SUB + r"|u(?:ser)?/[A-Za-z0-9_-]{1,32})/)?comments/" + _ID + _END
    + r"|/gallery/(?P<gid>[a-z0-9]{1,13})" + _END
)
_POST_HREF = re.compile(r"https?://" + _HOST + r"(?:" + _POST_PATH + r")", re.I | re.A)
_SHORT_HREF = re.compile(r"https?://(?:www\.)?redd\.it/(?P<id>[a-z0-9]{1,13})/?(?:[?#]|$)", re.I | re.A)
_SHARE_HREF = re.compile(r"https?://" + _HOST + r"/r/" + _SUB + r"/s/(?P<code>[A-Za-z0-9]{4,20})/?(?:[?#]|$)", re.I | re.A)
# In running text: the same three without a required scheme, not glued to a longer host or path.
_IN_TEXT = re.compile(
    r"(?<![\w.@/-])(?:https?://)?(?:"
    r"(?P<post>" + _HOST + r"/(?:r/(?P<tsub>[A-Za-z0-9_]{2,21})/)?comments/(?P<tid>[a-z0-9]{1,13}))(?![A-Za-z0-9])"
    r"|(?:www\.)?redd\.it/(?P<short>[a-z0-9]{1,13})(?![\w/.-]*\w)"
    r"|(?P<share>" + _HOST + r"/r/[A-Za-z0-9_]{2,21}/s/[A-Za-z0-9]{4,20})(?![A-Za-z0-9])"
    r")",
    re.I | re.A,
)
_EMBED_CLASSES = ("reddit-embed-bq", "reddit-card")

_BLOCKQUOTE_PART = "//blockquote[contains(@class, 'reddit-embed-bq') or contains(@class, 'reddit-card')]"
_URL_PARTS = scan.url_parts(f"//iframe[contains(@src, 'reddit') or contains(@data-src, 'reddit') or {scan.PROXY}]",
                            "//a/@href[contains(., 'redd')]", "/descendant::text()[contains(., 'redd')]")
# What a hit of `redd` starts: a post URL (a share button's reddit.com/submit and a subreddit link
# call for no tree query), or the embed's class.
_SIGNS: scan.Signs = ((b"redd", scan.regex_sign(re.compile(
    rb"(?P<url>redd(?:it\.com|itmedia\.com)/(?:r/[A-Za-z0-9_]{2,21}/(?:comments|s)/|u(?:ser)?/[A-Za-z0-9_-]{1,32}/comments/"
    rb"|comments/|gallery/)|redd\.it/[A-Za-z0-9])|(?P<blockquote>reddit-(?:embed-bq|card))", re.I))),)
_MARKUP_PARTS: scan.MarkupParts = (("blockquote", _BLOCKQUOTE_PART),)
_QUERIES = scan.Queries((b"redd",), _SIGNS, _MARKUP_PARTS, _URL_PARTS)


class PostRef(NamedTuple):
    post_id: str
    subreddit: Optional[str]


def parse_post_url(url: str) -> Optional[PostRef]:
    """(id, subreddit or None) of a post or comment permalink, a gallery or a redd.it link.

    >>> parse_post_url("https://old.reddit.com/r/investing/comments/7pfpeq/buffett/")
    PostRef(post_id='7pfpeq', subreddit='investing')
    """
    url = (url or "").strip()
    m = _POST_HREF.match(url)
    if m:
        return PostRef((m.group("id") or m.group("gid")).lower(), m.group("sub"))
    m = _SHORT_HREF.match(url)
    return PostRef(m.group("id").lower(), None) if m else None


def is_share_url(url: str) -> bool:
    """`reddit.com/r/<sub>/s/<code>`: a post, but which one only its redirect says."""
    return bool(_SHARE_HREF.match((url or "").strip()))


def permalink(post_id: str, subreddit: str | None = None) -> str:
    """https://www.reddit.com/r/<sub>/comments/<id>/, or /comments/<id>/ (Reddit redirects it)."""
    if subreddit:
        return f"https://www.reddit.com/r/{subreddit}/comments/{post_id}/"
    return f"https://www.reddit.com/comments/{post_id}/"


def canonical_url(post_id: str, handle: str | None = None) -> str:
    """The subreddit-less permalink: all an id alone can give (the author does not appear in it)."""
    return permalink(post_id)


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every Reddit post embedded or linked in the article body (chrome excluded).

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    state = _Scan(doc)
    state.run(_QUERIES.nodes(doc, exhaustive))
    return state.found


class _Scan(scan.Pass):
    def __init__(self, doc: Document):
        super().__init__(doc)
        self.found: list[Detected] = []

    def post(self, ref: Optional[PostRef], form: str, context: str, handle: str | None = None) -> None:
        if ref is not None:
            self.found.append(Embed(platform=name, id=ref.post_id, url=permalink(ref.post_id, ref.subreddit),
                                    forms=[form], context=context, author_handle=handle))

    def share(self, url: str, form: str, context: str) -> None:
        clean = url.split("?", 1)[0].split("#", 1)[0]
        self.found.append(Embed(platform=name, id=None, url=clean, forms=[form], context=context))

    def element(self, el) -> None:
        if self.skip(el):
            return
        if el.tag == "blockquote":
            self.blockquote(el)
        else:
            target, form = scan.frame_target(self.doc, el)
            self.post(parse_post_url(target), form, self.doc.context(el))

    def blockquote(self, el) -> None:
        """blockquote.reddit-embed-bq (current) or .reddit-card (legacy): its first post link;
        the `u/<user>` link is the author, the `/r/<sub>/` link is not a post."""
        if not set((el.get("class") or "").split()) & set(_EMBED_CLASSES):
            return
        self.containers.add(el)
        ref, handle = None, None
        for a in scan.ANCHORS(el):
            url = self.doc.absolute(a.get("href")) or ""
            ref = ref or parse_post_url(url)
            user = re.match(r"https?://" + _HOST + r"/u(?:ser)?/([A-Za-z0-9_-]{1,32})/?(?:[?#]|$)", url, re.I | re.A)
            if user and handle is None:
                handle = user.group(1)
        self.post(ref, "blockquote", self.doc.context(el), handle)

    def anchor(self, a) -> None:
        if self.skip(a):
            return
        url = self.doc.absolute(a.get("href")) or ""
        context = scan.link_context(self.doc, a)
        ref = parse_post_url(url)
        if ref:
            self.post(ref, "link", context)
        elif is_share_url(url):
            self.share(url, "link", context)

    def text(self, node) -> None:
        el = scan.text_owner(node)
        if el is None or not scan.running_text(el) or self.skip(el):
            return
        for m in _IN_TEXT.finditer(node):
            context = self.doc.context(el, m.group())
            if m.group("share"):
                self.share("https://" + m.group("share"), "bare-url", context)
            elif m.group("short"):
                self.post(PostRef(m.group("short").lower(), None), "bare-url", context)
            else:
                self.post(PostRef(m.group("tid").lower(), m.group("tsub")), "bare-url", context)


# =============================================================================================
# Capture: resolve, snapshot. Every request goes through fetcher.fetch so it is recorded.
# =============================================================================================

OEMBED_ENDPOINT = "https://www.reddit.com/oembed"
# removed_by_category values meaning the author deleted it; every other value is a removal by
# moderators, admins, filters or a legal request: the post exists but its content is withheld.
_DELETED_BY_AUTHOR = frozenset({"deleted", "author"})
_IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp)$", re.I)


def json_url(page: str) -> str:
    """The permalink with `/.json` appended (what yt-dlp asks), query dropped."""
    return page.split("?", 1)[0].split("#", 1)[0].rstrip("/") + "/.json"


def oembed_url(page: str) -> str:
    return f"{OEMBED_ENDPOINT}?{urlencode({'url': page})}"


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Follow a `/r/<sub>/s/<code>` share link's redirects (each hop recorded) to the permalink.

    The chain stops at the permalink, which is fetched later by `snapshot` anyway.
    """
    if embed.id:
        return embed, []
    res = fetcher.fetch(embed.url, stop_at=lambda url: parse_post_url(url) is not None)
    ref = parse_post_url(res.final_url)
    if ref is None:
        log.info("reddit share link %s led to %s, not a post", embed.url, res.final_url)
        return None, res.records
    return (Embed(platform=name, id=ref.post_id, url=permalink(ref.post_id, ref.subreddit), forms=list(embed.forms),
                  context=embed.context, author_handle=embed.author_handle), res.records)


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """Permalink `/.json`, oEmbed and the permalink page, all recorded; status from the evidence.

    | evidence                                                 | status      |
    | `removed_by_category` deleted/author, or author and      | deleted     |
    |   selftext both `[deleted]`                              |             |
    | any other `removed_by_category`, selftext `[removed]`    | unavailable |
    | 403 JSON `{reason: "private"}`                           | protected   |
    | 403/404 JSON with another reason (quarantined, gated,    | unavailable |
    |   banned)                                                |             |
    | 403 without a JSON reason (Reddit blocking the client)   | failed      |
    | otherwise `common.decide` over the three routes          |             |
    """
    post_id = embed.id
    page = embed.url if parse_post_url(embed.url) else permalink(post_id)
    json_res = fetcher.fetch(json_url(page))
    oembed_res = fetcher.fetch(oembed_url(page))
    page_res = fetcher.fetch(page)
    post = Post(platform=name, id=post_id, url=page, author_handle=embed.author_handle)
    post.records = json_res.records + oembed_res.records + page_res.records
    listing, oembed = route(json_res), route(oembed_res)
    thing = _submission(listing.data)
    oembed_ok = has_html(oembed)
    post.status, post.status_reason = decide([
        ("json", listing, thing is not None), ("oembed", oembed, oembed_ok), ("page", route(page_res), False),
    ])
    if thing is not None:
        post.data = listing.data if isinstance(listing.data, dict) else {"listing": listing.data}
        _read_submission(post, thing)
        removal = _removal(thing)
        if removal:
            post.status, post.status_reason = removal
    elif isinstance(listing.data, dict) and listing.status in (403, 404) and listing.data.get("reason"):
        reason = str(listing.data["reason"])
        post.data = listing.data
        if not oembed_ok:
            post.status = "protected" if reason == "private" else "unavailable"
            post.status_reason = f"json {listing.status} reason={reason}"
    elif listing.status == 403 and not oembed_ok:
        log.warning("reddit %s: 403 without a reason, Reddit is refusing this client (try --cookies or later)", post_id)
        post.status, post.status_reason = "failed", "json 403 without a reason: blocked by Reddit? try again later"
    if thing is None and oembed_ok:
        post.author_handle = oembed.data.get("author_name") or post.author_handle
        post.text = oembed.data.get("title")
        post.data = post.data or {"oembed": oembed.data}
    return post


def _submission(data: object) -> Optional[dict]:
    """The t3 `data` of a permalink listing `[ {Listing: [t3]}, {comments} ]`."""
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        return None
    children = ((data[0].get("data") or {}).get("children") or []) if isinstance(data[0].get("data"), dict) else []
    for child in children:
        if isinstance(child, dict) and child.get("kind") == "t3" and isinstance(child.get("data"), dict):
            return child["data"]
    return None


def _removal(thing: dict) -> Optional[tuple[str, str]]:
    """(status, reason) when the submission is there but its content is gone."""
    category = thing.get("removed_by_category")
    if category in _DELETED_BY_AUTHOR:
        return "deleted", f"removed_by_category={category}"
    if category:
        return "unavailable", f"removed_by_category={category}"
    selftext = (thing.get("selftext") or "").strip()
    if thing.get("author") == "[deleted]" and selftext == "[deleted]":
        return "deleted", "author and selftext [deleted]"
    if selftext == "[removed]":
        return "unavailable", "selftext [removed]"
    return None


def _read_submission(post: Post, thing: dict) -> None:
    """Author, title + selftext, time and media (best sizes, HTML-unescaped) of a t3."""
    author = thing.get("author")
    post.author_handle = None if author in (None, "[deleted]") else author
    title, selftext = thing.get("title") or "", thing.get("selftext") or ""
    post.text = f"{title}\n\n{selftext}".strip() if selftext not in ("", "[deleted]", "[removed]") else title or None
    if isinstance(thing.get("created_utc"), (int, float)):
        post.created_at = datetime.fromtimestamp(thing["created_utc"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(thing.get("permalink"), str) and thing["permalink"].startswith("/"):
        post.url = "https://www.reddit.com" + thing["permalink"]
    post.media = _media(thing)
    parent = thing.get("crosspost_parent")
    if isinstance(parent, str) and parent.startswith("t3_"):
        post.related.append(("quotes", name, parent[3:]))


def _media(thing: dict) -> list[Media]:
    """Gallery originals, the linked image, the video (MP4 and HLS with sound), else the preview."""
    found: list[Media] = []
    metadata = thing.get("media_metadata") if isinstance(thing.get("media_metadata"), dict) else {}
    items = ((thing.get("gallery_data") or {}).get("items") or []) if isinstance(thing.get("gallery_data"), dict) else []
    for key in [i.get("media_id") for i in items if isinstance(i, dict)] or list(metadata):
        meta = metadata.get(key) if isinstance(metadata.get(key), dict) else {}
        source = meta.get("s") if isinstance(meta.get("s"), dict) else {}
        url = source.get("u") or source.get("gif") or source.get("mp4")
        if url:
            found.append(Media(url=html.unescape(url), kind="gif" if meta.get("e") == "AnimatedImage" else "photo"))
    dest = thing.get("url_overridden_by_dest") or ""
    if not found and isinstance(dest, str) and (thing.get("post_hint") == "image" or _IMAGE_EXT.search(urlsplit(dest).path)):
        found.append(Media(url=html.unescape(dest), kind="photo"))
    video = ((thing.get("secure_media") or thing.get("media") or {}).get("reddit_video")
             if isinstance(thing.get("secure_media") or thing.get("media"), dict) else None)
    if isinstance(video, dict):
        if video.get("fallback_url"):
            found.append(Media(url=html.unescape(video["fallback_url"]), kind="video"))  # best MP4, no sound
        if video.get("hls_url"):
            found.append(Media(url=html.unescape(video["hls_url"]), kind="hls"))  # the sound is only here
    preview = thing.get("preview") if isinstance(thing.get("preview"), dict) else {}
    for image in preview.get("images") or []:
        source = image.get("source") if isinstance(image, dict) and isinstance(image.get("source"), dict) else {}
        if source.get("url"):
            kind = "poster" if isinstance(video, dict) else "thumbnail"
            if not found or kind == "poster":
                found.append(Media(url=html.unescape(source["url"]), kind=kind))
    return list({m.url: m for m in found}.values())
