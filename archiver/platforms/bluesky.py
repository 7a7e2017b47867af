"""Bluesky posts: detection in a parsed page (top section), capture (bottom section).

Markup and URL forms follow shared/docs/social-embeds.md section 6 "Bluesky".

Post ids (issue #3): `<did>/<rkey>` (`did:plc:abc/3kxyz`) whenever the author's DID is known,
`<handle>/<rkey>` (handle lower-cased) when only a handle is. A DID never changes, a handle can,
so the DID form is preferred: a link naming a handle takes the DID of an embed on the same page
that shows that handle, so both sightings merge into one post.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable
from urllib.parse import unquote, urlencode


from archiver.models import Embed, Media, Post, RecordRef
from archiver.platforms import scan
from archiver.platforms.base import Detected
from archiver.platforms.common import decide, has_html, iso_utc_ms, route

if TYPE_CHECKING:
    from archiver.extract import Document
    from archiver.fetch import Fetcher

name = "bluesky"
LITERALS = (b"bsky", b"bluesky")

# =============================================================================================
# Detection. Public: name, detect, parse_post_url, canonical_url.
# =============================================================================================

_WEB_HOST = r"(?:www\.)?(?:bsky\.app|main\.bsky\.dev|staging\.bsky\.app)"
_ACTOR = r"(?P<actor>[A-Za-z0-9._:%-]{3,256})"  # a handle or a DID, maybe percent-encoded; checked by _actor
_RKEY = r"(?P<rkey>[A-Za-z0-9._~-]{1,512})"
_END = r"/?(?:[?#]|$)"
_POST_HREF = re.compile(r"https?://" + _WEB_HOST + r"/profile/" + _ACTOR + r"/post/" + _RKEY + _END, re.I | re.A)
_IFRAME_SRC = re.compile(r"https?://embed\.bsky\.app/embed/" + _ACTOR + r"/app\.bsky\.feed\.post/" + _RKEY + _END, re.I | re.A)
_AT_URI = re.compile(r"at://" + _ACTOR + r"/app\.bsky\.feed\.post/" + _RKEY + r"(?![A-Za-z0-9._~-])", re.A)
# In running text: a post URL with or without scheme, or an at:// URI, not glued to a longer word.
_IN_TEXT = re.compile(
    r"(?<![\w.@/-])(?:(?:https?://)?" + _WEB_HOST + r"/profile/" + _ACTOR + r"/post/" + _RKEY
    + r"|at://(?P<at_actor>[A-Za-z0-9._:%-]{3,256})/app\.bsky\.feed\.post/(?P<at_rkey>[A-Za-z0-9._~-]{1,512})"
    + r")(?![A-Za-z0-9._~-])",
    re.I | re.A,
)
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._-]", re.A)
_HANDLE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.A)
_SIGNATURE_HANDLE = re.compile(r"\(\s*@([A-Za-z0-9.-]{3,253})\s*\)", re.A)  # "— Name (@handle)"

_BLOCKQUOTE_PART = "//blockquote[@data-bluesky-uri or contains(@class, 'bluesky-embed')]"
_URL_PARTS = scan.url_parts(f"//iframe[contains(@src, 'bsky.app/embed/') or contains(@data-src, 'bsky.app/embed/')"
                            f" or {scan.PROXY}]",
                            "//a/@href[contains(., 'bsky')]", "/descendant::text()[contains(., 'bsky')]")
# What a hit starts: a post URL (web, embed or at:// form; a profile link or a share intent calls
# for no tree query), or the blockquote's class or attribute.
_SIGNS: scan.Signs = (
    (b"bsky", scan.regex_sign(re.compile(
        rb"(?P<url>bsky\.(?:app|dev)/(?:profile/[^/\"'\s<>]{3,256}/post/|embed/)|bsky\.feed\.post/)", re.I))),
    (b"bluesky", scan.regex_sign(re.compile(rb"(?P<blockquote>bluesky-(?:embed|uri))", re.I))),
)
_MARKUP_PARTS: scan.MarkupParts = (("blockquote", _BLOCKQUOTE_PART),)
_QUERIES = scan.Queries((b"bsky",), _SIGNS, _MARKUP_PARTS, _URL_PARTS)


def _actor(raw: str | None) -> str | None:
    """A DID as is, a handle lower-cased; None for anything else (`profile/settings`...)."""
    if not raw:
        return None
    value = unquote(raw)
    if _DID.fullmatch(value):
        return value
    if _HANDLE.fullmatch(value):
        return value.lower()
    return None


def _post_id(actor: str | None, rkey: str | None) -> str | None:
    actor = _actor(actor)
    if actor is None or not rkey or rkey in (".", ".."):
        return None
    return f"{actor}/{rkey}"


def parse_post_url(url: str) -> str | None:
    """The post id of a bsky.app post URL, an embed.bsky.app iframe URL or an at:// post URI.

    >>> parse_post_url("https://bsky.app/profile/did:plc:abc/post/3kxyz")
    'did:plc:abc/3kxyz'
    """
    url = (url or "").strip()
    m = _POST_HREF.match(url) or _IFRAME_SRC.match(url) or _AT_URI.match(url)
    return _post_id(m.group("actor"), m.group("rkey")) if m else None


def canonical_url(post_id: str, handle: str | None = None) -> str:
    """https://bsky.app/profile/<did-or-handle>/post/<rkey>: the id's own actor, so it stays valid."""
    actor, _, rkey = post_id.rpartition("/")
    return f"https://bsky.app/profile/{actor}/post/{rkey}"


def at_uri(post_id: str) -> str:
    """at://<did-or-handle>/app.bsky.feed.post/<rkey>; the API resolves a handle in it."""
    actor, _, rkey = post_id.rpartition("/")
    return f"at://{actor}/app.bsky.feed.post/{rkey}"


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every Bluesky post in the article body (chrome excluded), in document order.

    Every form contains `bsky` (bsky.app, main.bsky.dev, embed.bsky.app, and app.bsky.feed.post in
    at:// URIs and `data-bluesky-uri`), so a page without it costs one lookup.

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    state = _Scan(doc)
    state.run(_QUERIES.nodes(doc, exhaustive))
    return state.results()


class _Scan(scan.Pass):
    """One pass over the candidates: what was found, the embeds read whole, handle -> DID."""

    def __init__(self, doc: Document):
        super().__init__(doc)
        self.found: list[Embed] = []
        self.dids: dict[str, str] = {}  # handle shown by an embed -> the DID in its URI

    def results(self) -> list[Detected]:
        """Found posts, handle ids replaced by the DID an embed on the page gave that handle."""
        for embed in self.found:
            actor, _, rkey = embed.id.rpartition("/")
            did = self.dids.get(actor)
            if did and not actor.startswith("did:"):
                embed.id = f"{did}/{rkey}"
                embed.url = canonical_url(embed.id)
        return list(self.found)

    def post(self, post_id: str | None, form: str, context: str, handle: str | None = None) -> None:
        if post_id:
            self.found.append(Embed(platform=name, id=post_id, url=canonical_url(post_id), forms=[form],
                                    context=context, author_handle=handle))

    def element(self, el) -> None:
        if self.skip(el):
            return
        if el.tag == "blockquote":
            self.blockquote(el)
        elif el.tag == "iframe":
            target, form = scan.frame_target(self.doc, el)
            m = (_IFRAME_SRC if form == "iframe" else _POST_HREF).match(target)
            if m:
                self.post(_post_id(m.group("actor"), m.group("rkey")), form, self.doc.context(el))

    def blockquote(self, el) -> None:
        """blockquote.bluesky-embed: the id from `data-bluesky-uri`, else its last post link.

        Its inner links (profile, permalink) belong to it. The handle comes from the
        `— Name (@handle)` signature, else from the profile link's `@handle` text.
        """
        self.containers.add(el)
        post_id = None
        m = _AT_URI.match((el.get("data-bluesky-uri") or "").strip())
        if m:
            post_id = _post_id(m.group("actor"), m.group("rkey"))
        handle = None
        for a in scan.ANCHORS(el):
            href = self.doc.absolute(a.get("href")) or ""
            found = _POST_HREF.match(href)
            if found and not m:
                post_id = _post_id(found.group("actor"), found.group("rkey")) or post_id
            label = "".join(a.itertext()).strip()
            if label.startswith("@") and _HANDLE.fullmatch(label[1:]):
                handle = label[1:].lower()
        text = self.doc.text(el)
        if handle is None:
            sig = _SIGNATURE_HANDLE.findall(text)
            handle = sig[-1].lower() if sig else None
        if post_id is None:
            return
        actor = post_id.rpartition("/")[0]
        if handle and actor.startswith("did:"):
            self.dids.setdefault(handle, actor)
        self.post(post_id, "blockquote", self.doc.context(el), handle or (None if actor.startswith("did:") else actor))

    def anchor(self, a) -> None:
        """A bsky.app post link (an at:// href too, which `absolute` would refuse)."""
        if self.skip(a):
            return
        href = a.get("href").strip()
        post_id = parse_post_url(href if href.startswith("at://") else (self.doc.absolute(href) or ""))
        if post_id:
            actor = post_id.rpartition("/")[0]
            self.post(post_id, "link", scan.link_context(self.doc, a),
                      None if actor.startswith("did:") else actor)

    def text(self, node) -> None:
        """Post URLs and at:// URIs in running text."""
        el = scan.text_owner(node)
        if el is None or not scan.running_text(el) or self.skip(el):
            return
        for m in _IN_TEXT.finditer(node):
            actor, rkey = (m.group("actor"), m.group("rkey")) if m.group("rkey") else (m.group("at_actor"), m.group("at_rkey"))
            post_id = _post_id(actor, rkey)
            if post_id:
                owner = post_id.rpartition("/")[0]
                self.post(post_id, "bare-url", self.doc.context(el, m.group()),
                          None if owner.startswith("did:") else owner)


# =============================================================================================
# Capture: resolve, snapshot. Every request goes through fetcher.fetch so it is recorded.
# =============================================================================================

THREAD_ENDPOINT = "https://public.api.bsky.app/xrpc/app.bsky.feed.getPostThread"
OEMBED_ENDPOINT = "https://embed.bsky.app/oembed"
_THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
_NOT_FOUND_VIEW = "app.bsky.feed.defs#notFoundPost"
_BLOCKED_VIEW = "app.bsky.feed.defs#blockedPost"


def thread_url(post_id: str) -> str:
    """getPostThread for just the post: no replies (depth=0), no parents (parentHeight=0)."""
    return f"{THREAD_ENDPOINT}?{urlencode({'uri': at_uri(post_id), 'depth': 0, 'parentHeight': 0})}"


def oembed_url(post_id: str) -> str:
    return f"{OEMBED_ENDPOINT}?{urlencode({'url': canonical_url(post_id)})}"


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Every Bluesky form carries its id: nothing to follow."""
    return (embed if embed.id else None), []


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """getPostThread JSON, oEmbed and the post's bsky.app page, all recorded; status from the JSON.

    The page is a client-side app shell (200 for any path), so it is kept as evidence of what a
    reader saw but does not vote on the status.
    """
    post_id = embed.id
    post = Post(platform=name, id=post_id, url=canonical_url(post_id), author_handle=embed.author_handle)
    thread_res = fetcher.fetch(thread_url(post_id))
    oembed_res = fetcher.fetch(oembed_url(post_id))
    page_res = fetcher.fetch(canonical_url(post_id))
    post.records = thread_res.records + oembed_res.records + page_res.records
    thread, oembed = route(thread_res), route(oembed_res)
    body = thread.data if isinstance(thread.data, dict) else {}
    view = body.get("thread") if isinstance(body.get("thread"), dict) else {}
    kind = view.get("$type")
    usable = kind == _THREAD_VIEW and isinstance(view.get("post"), dict)
    oembed_usable = has_html(oembed)
    post.status, post.status_reason = decide([("getPostThread", thread, usable), ("oembed", oembed, oembed_usable)])
    if post.status != "available" and thread.status is not None:
        if body.get("error") == "NotFound" or kind == _NOT_FOUND_VIEW:
            post.status = "deleted"
            post.status_reason = f"getPostThread: {body.get('message') or 'notFoundPost'}; oembed {oembed.status}"
        elif kind == _BLOCKED_VIEW:
            post.status, post.status_reason = "unavailable", "getPostThread: blockedPost"
        elif body.get("error"):
            post.status_reason = f"getPostThread {thread.status} {body.get('error')}: {body.get('message')}"
    if usable:
        post.data = body
        _read_post(post, view["post"])
    elif oembed_usable:
        post.data = {"oembed": oembed.data}
        post.author_name = oembed.data.get("author_name")
    return post


def _read_post(post: Post, view: dict) -> None:
    """Author, text, time, media and related posts from an app.bsky.feed.defs#postView."""
    author = view.get("author") if isinstance(view.get("author"), dict) else {}
    record = view.get("record") if isinstance(view.get("record"), dict) else {}
    post.author_handle = author.get("handle") or post.author_handle
    post.author_name = author.get("displayName") or None
    post.text = record.get("text")
    post.created_at = iso_utc_ms(record.get("createdAt")) or iso_utc_ms(view.get("indexedAt"))
    found = parse_post_url(view.get("uri") or "")
    if found:
        post.url = canonical_url(found)
    media: list[Media] = []
    _embed_media(view.get("embed"), media, post.related)
    if author.get("avatar"):
        media.append(Media(url=author["avatar"], kind="avatar"))
    post.media = list({m.url: m for m in media}.values())
    parent = ((record.get("reply") or {}).get("parent") or {}).get("uri") if isinstance(record.get("reply"), dict) else None
    parent_id = parse_post_url(parent or "")
    if parent_id:
        post.related.append(("reply_to", name, parent_id))


def _embed_media(view: object, media: list[Media], related: list) -> None:
    """Media of an embed view at the best size it names; a quoted post becomes a relation."""
    if not isinstance(view, dict):
        return
    kind = view.get("$type") or ""
    if kind.startswith("app.bsky.embed.images"):
        for image in view.get("images") or []:
            url = image.get("fullsize") or image.get("thumb") if isinstance(image, dict) else None
            if url:
                media.append(Media(url=url, kind="photo"))
    elif kind.startswith("app.bsky.embed.video"):
        if view.get("playlist"):
            media.append(Media(url=view["playlist"], kind="hls"))
        if view.get("thumbnail"):
            media.append(Media(url=view["thumbnail"], kind="poster"))
    elif kind.startswith("app.bsky.embed.external"):
        thumb = (view.get("external") or {}).get("thumb") if isinstance(view.get("external"), dict) else None
        if thumb:
            media.append(Media(url=thumb, kind="card"))
    elif kind.startswith("app.bsky.embed.recordWithMedia"):
        _embed_media(view.get("media"), media, related)
        _embed_media(view.get("record"), media, related)
    elif kind.startswith("app.bsky.embed.record"):
        inner = view.get("record") if isinstance(view.get("record"), dict) else {}
        quoted = parse_post_url(inner.get("uri") or "")
        if quoted:
            related.append(("quotes", name, quoted))

