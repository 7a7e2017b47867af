"""Bluesky, Mastodon, Reddit and Telegram for the fixture web: pages, oEmbed, JSON and media.

Response shapes follow shared/docs/social-embeds.md section 6 and the platforms' documented
entities (Bluesky `getPostThread`, Mastodon `Status`, Reddit's permalink listing, Telegram's
`?embed=1` widget page), trimmed to the fields that matter, including how each says a post is
gone: Bluesky's 400 `NotFound` XRPC error, Mastodon's 404 `Record not found`, Reddit's
`removed_by_category` and `{reason}` 403s, Telegram's `tgme_widget_message_error` box.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import quote, unquote, urlsplit

from fixtureweb import FixtureWeb, Request, Response
from twitterworld import media_bytes

HTML = [("Content-Type", "text/html; charset=utf-8")]


def _json(status: int, data: object) -> Response:
    return Response(status, headers=[("Content-Type", "application/json; charset=utf-8")],
                    body=json.dumps(data).encode())


def _media(req: Request) -> Response:
    """Deterministic bytes for any media path (JPEG magic; MP4 / TS content types by suffix)."""
    path = req.path.split("?")[0]
    ctype = "video/mp4" if path.endswith(".mp4") else "video/mp2t" if path.endswith(".ts") else "image/jpeg"
    return Response(200, headers=[("Content-Type", ctype)], body=media_bytes(req.url.split("?")[0]))


def _hls(path: str) -> Optional[Response]:
    """A master playlist -> two variant playlists (relative URLs) -> two segments each; None if
    `path` is no playlist."""
    if path.endswith(("playlist.m3u8", "HLSPlaylist.m3u8")):
        text = ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=640x360\n360p/video.m3u8\n"
                "#EXT-X-STREAM-INF:BANDWIDTH=1200000,RESOLUTION=1280x720\n720p/video.m3u8\n")
    elif path.endswith("video.m3u8"):
        text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg0.ts\n#EXTINF:4.0,\nseg1.ts\n#EXT-X-ENDLIST\n"
    else:
        return None
    return Response(200, headers=[("Content-Type", "application/vnd.apple.mpegurl")], body=text.encode())


# ============================================================================================ Bluesky


@dataclass
class BskyPost:
    did: str
    handle: str
    rkey: str
    name: str
    text: str
    created_at: str = "2025-02-01T19:01:23.456Z"
    images: list[str] = field(default_factory=list)  # blob cids
    video: Optional[str] = None  # blob cid of a video
    quotes: Optional[str] = None  # at:// URI of a quoted post
    state: str = "available"  # available | deleted | blocked

    @property
    def uri(self) -> str:
        return f"at://{self.did}/app.bsky.feed.post/{self.rkey}"

    @property
    def post_id(self) -> str:
        return f"{self.did}/{self.rkey}"

    @property
    def avatar(self) -> str:
        return f"https://cdn.bsky.app/img/avatar/plain/{self.did}/bafkreiavatar{self.rkey}@jpeg"

    def fullsize(self, cid: str) -> str:
        return f"https://cdn.bsky.app/img/feed_fullsize/plain/{self.did}/{cid}@jpeg"

    @property
    def playlist(self) -> str:
        return f"https://video.bsky.app/watch/{quote(self.did, safe='')}/{self.video}/playlist.m3u8"

    def blockquote(self) -> str:
        """The embed code bsky.app generates (class=, as in real articles)."""
        return (
            f'<blockquote class="bluesky-embed" data-bluesky-uri="{self.uri}" data-bluesky-cid="bafyreicid{self.rkey}" '
            f'data-bluesky-embed-color-mode="system"><p lang="en">{html.escape(self.text)}</p>&mdash; {html.escape(self.name)} '
            f'(<a href="https://bsky.app/profile/{self.did}?ref_src=embed">@{self.handle}</a>) '
            f'<a href="https://bsky.app/profile/{self.did}/post/{self.rkey}?ref_src=embed">February 1, 2025 at 7:01 PM</a>'
            '</blockquote><script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>'
        )


class BlueskyWorld:
    def __init__(self, web: FixtureWeb, posts: list[BskyPost]):
        self.posts = posts
        web.route("https://public.api.bsky.app/xrpc/app.bsky.feed.getPostThread", self.thread)
        web.route("https://embed.bsky.app/oembed", self.oembed)
        web.route("https://bsky.app/", self.app_shell, prefix=True)
        web.route("https://cdn.bsky.app/img/", _media, prefix=True)
        web.route("https://video.bsky.app/watch/", self.video, prefix=True)

    def find(self, actor: str, rkey: str) -> Optional[BskyPost]:
        actor = unquote(actor).lower()
        return next((p for p in self.posts if p.rkey == rkey and actor in (p.did, p.handle.lower())), None)

    def post_view(self, p: BskyPost) -> dict:
        author = {"did": p.did, "handle": p.handle, "displayName": p.name, "avatar": p.avatar,
                  "labels": [], "createdAt": "2023-04-28T10:11:12.000Z"}
        record: dict = {"$type": "app.bsky.feed.post", "createdAt": p.created_at, "langs": ["en"], "text": p.text}
        view: dict = {"uri": p.uri, "cid": f"bafyreicid{p.rkey}", "author": author, "record": record,
                      "replyCount": 2, "repostCount": 7, "likeCount": 31, "quoteCount": 1,
                      "indexedAt": p.created_at, "labels": []}
        if p.images:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": [
                {"alt": "", "image": {"$type": "blob", "ref": {"$link": cid}, "mimeType": "image/jpeg", "size": 2048}}
                for cid in p.images]}
            view["embed"] = {"$type": "app.bsky.embed.images#view", "images": [
                {"thumb": f"https://cdn.bsky.app/img/feed_thumbnail/plain/{p.did}/{cid}@jpeg",
                 "fullsize": p.fullsize(cid), "alt": "", "aspectRatio": {"height": 800, "width": 1200}}
                for cid in p.images]}
        elif p.video:
            view["embed"] = {"$type": "app.bsky.embed.video#view", "cid": p.video, "playlist": p.playlist,
                             "thumbnail": p.playlist.replace("playlist.m3u8", "thumbnail.jpg"),
                             "aspectRatio": {"height": 720, "width": 1280}}
        elif p.quotes:
            view["embed"] = {"$type": "app.bsky.embed.record#view", "record": {
                "$type": "app.bsky.embed.record#viewNotFound", "uri": p.quotes, "notFound": True}}
        return view

    def thread(self, req: Request) -> Response:
        uri = req.query.get("uri", "")
        parts = uri.removeprefix("at://").split("/")
        if not uri.startswith("at://") or len(parts) != 3 or parts[1] != "app.bsky.feed.post":
            return _json(400, {"error": "InvalidRequest", "message": "Error: uri must be a valid at-uri"})
        p = self.find(parts[0], parts[2])
        if p is None or p.state == "deleted":
            return _json(400, {"error": "NotFound", "message": f"Post not found: {uri}"})
        if p.state == "blocked":
            return _json(200, {"thread": {"$type": "app.bsky.feed.defs#blockedPost", "uri": p.uri, "blocked": True,
                                          "author": {"did": p.did}}})
        return _json(200, {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.post_view(p),
                                      "replies": []}})

    def oembed(self, req: Request) -> Response:
        url = req.query.get("url", "")
        path = urlsplit(url).path.split("/")  # /profile/<actor>/post/<rkey>
        p = self.find(path[2], path[4]) if len(path) == 5 and path[1] == "profile" else None
        if p is None or p.state != "available":
            return Response(404, headers=[("Content-Type", "text/plain; charset=utf-8")], body=b"post not found")
        return _json(200, {"type": "rich", "version": "1.0", "author_name": f"{p.name} (@{p.handle})",
                           "author_url": f"https://bsky.app/profile/{p.handle}", "provider_name": "Bluesky Social",
                           "provider_url": "https://bsky.app", "cache_age": 86400, "width": 550, "height": None,
                           "html": p.blockquote()})

    def app_shell(self, req: Request) -> Response:
        """bsky.app answers every path with the same client-side app (200), as the real one does."""
        return Response(200, headers=HTML, body=b'<!DOCTYPE html><html><head><title>Bluesky</title></head>'
                                                b'<body><div id="root"></div><noscript>JavaScript required</noscript></body></html>')

    def video(self, req: Request) -> Response:
        return _hls(req.path) or _media(req)


# ============================================================================================ Mastodon


@dataclass
class Toot:
    host: str
    id: str
    username: str
    display_name: str
    content: str  # HTML, as Mastodon serves it
    created_at: str = "2024-11-06T14:03:27.000Z"
    images: list[str] = field(default_factory=list)  # media keys
    state: str = "available"  # available | gone (404) | private (401 on the API, 404 page)

    @property
    def post_id(self) -> str:
        return f"{self.host}/{self.id}"

    @property
    def url(self) -> str:
        return f"https://{self.host}/@{self.username}/{self.id}"

    @property
    def avatar(self) -> str:
        return f"https://files.{self.host}/accounts/avatars/109/{self.username}/original/avatar.png"

    def image(self, key: str) -> str:
        return f"https://files.{self.host}/media_attachments/files/113/{key}/original/{key}.jpg"

    def blockquote(self) -> str:
        """The Mastodon 4.3+ embed code."""
        return (
            f'<blockquote class="mastodon-embed" data-embed-url="{self.url}/embed" style="background: #FCF8FF; '
            f'border-radius: 8px;"><a href="{self.url}" target="_blank" style="color: #1C1A25;">'
            f'<div style="margin-top: 16px;">Post by @{self.username}@{self.host}</div>'
            '<div style="font-weight: 500;">View on Mastodon</div></a></blockquote>'
            f'<script data-allowed-prefixes="https://{self.host}/" async src="https://{self.host}/embed.js"></script>'
        )

    def iframe(self) -> str:
        """The pre-4.3 embed code."""
        return (f'<iframe src="{self.url}/embed" class="mastodon-embed" style="max-width: 100%; border: 0" '
                f'width="400" allowfullscreen="allowfullscreen"></iframe>'
                f'<script src="https://{self.host}/embed.js" async="async"></script>')


class MastodonWorld:
    def __init__(self, web: FixtureWeb, toots: list[Toot]):
        self.toots = {(t.host, t.id): t for t in toots}
        for host in {t.host for t in toots}:
            web.route(f"https://{host}/api/v1/statuses/", self.api, prefix=True)
            web.route(f"https://{host}/api/oembed", self.oembed)
            web.route(f"https://{host}/@", self.page, prefix=True)
            web.route(f"https://files.{host}/", _media, prefix=True)

    def status(self, t: Toot) -> dict:
        return {
            "id": t.id, "created_at": t.created_at, "in_reply_to_id": None, "in_reply_to_account_id": None,
            "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "en",
            "uri": f"https://{t.host}/users/{t.username}/statuses/{t.id}", "url": t.url,
            "replies_count": 1, "reblogs_count": 4, "favourites_count": 9, "edited_at": None,
            "content": t.content, "reblog": None,
            "account": {"id": "109" + t.id[-6:], "username": t.username, "acct": t.username,
                        "display_name": t.display_name, "url": f"https://{t.host}/@{t.username}",
                        "avatar": t.avatar, "avatar_static": t.avatar, "bot": False},
            "media_attachments": [
                {"id": f"113{i}", "type": "image", "url": t.image(key),
                 "preview_url": t.image(key).replace("/original/", "/small/"), "remote_url": None,
                 "meta": {"original": {"width": 1600, "height": 900}}, "description": "a photo", "blurhash": "UABC"}
                for i, key in enumerate(t.images)],
            "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
        }

    def lookup(self, host: str, status_id: str) -> Optional[Toot]:
        return self.toots.get((host, status_id))

    def api(self, req: Request) -> Response:
        t = self.lookup(req.host, req.path.rstrip("/").rsplit("/", 1)[-1])
        if t is None or t.state == "gone":
            return _json(404, {"error": "Record not found"})
        if t.state == "private":
            return _json(401, {"error": "This API requires an authenticated user"})
        return _json(200, self.status(t))

    def oembed(self, req: Request) -> Response:
        path = urlsplit(req.query.get("url", "")).path.strip("/").split("/")
        t = self.lookup(req.host, path[-1]) if path else None
        if t is None or t.state != "available":
            return _json(404, {"error": "Record not found"})
        return _json(200, {"type": "rich", "version": "1.0", "title": f"New status by {t.username}",
                           "author_name": t.display_name, "author_url": f"https://{t.host}/@{t.username}",
                           "provider_name": t.host, "provider_url": f"https://{t.host}/", "cache_age": 86400,
                           "html": t.blockquote(), "width": 400, "height": None})

    def page(self, req: Request) -> Response:
        parts = req.path.strip("/").split("/")
        t = self.lookup(req.host, parts[1]) if len(parts) >= 2 else None
        if t is None or t.state != "available":
            return Response(404, headers=HTML, body=b"<!DOCTYPE html><html><body><h1>The page you are looking for "
                                                    b"isn't here.</h1></body></html>")
        body = (f'<!DOCTYPE html><html><head><meta property="og:title" content="{html.escape(t.display_name)}">'
                f'<meta property="og:description" content="{html.escape(t.content)}"></head>'
                f'<body><div id="mastodon"></div></body></html>')
        return Response(200, headers=HTML, body=body.encode())


# ============================================================================================ Reddit


@dataclass
class RedditPost:
    id: str
    subreddit: str
    author: str
    title: str
    selftext: str = ""
    created_utc: float = 1515628800.0  # 2018-01-11T00:00:00Z
    image: Optional[str] = None  # i.redd.it key: an image post
    gallery: list[str] = field(default_factory=list)  # media ids
    video: Optional[str] = None  # v.redd.it id
    link: Optional[str] = None  # an external link post (preview image only)
    share_code: Optional[str] = None  # its /r/<sub>/s/<code> share link
    # available | removed (by a moderator) | deleted (by the author) | gone (404) | private | quarantined
    state: str = "available"

    @property
    def slug(self) -> str:
        return "_".join(self.title.lower().split()[:6]).strip("_'.,:")

    @property
    def permalink(self) -> str:
        return f"/r/{self.subreddit}/comments/{self.id}/{self.slug}/"

    @property
    def preview(self) -> str:
        """A preview.redd.it URL as the JSON holds it: HTML-escaped `&amp;`."""
        return f"https://preview.redd.it/{self.id}prev.jpg?auto=webp&amp;s=8f4c2a1b0e9d"

    def embed_bq(self) -> str:
        return (
            f'<blockquote class="reddit-embed-bq" style="height:316px" >\n<a href="https://www.reddit.com{self.permalink}">'
            f'{html.escape(self.title)}</a><br> by\n<a href="https://www.reddit.com/user/{self.author}/">u/{self.author}</a> in\n'
            f'<a href="https://www.reddit.com/r/{self.subreddit}/">{self.subreddit}</a>\n</blockquote>\n'
            '<script async src="https://embed.reddit.com/widgets.js" charset="UTF-8"></script>'
        )

    def card(self) -> str:
        return (
            f'<blockquote class="reddit-card" >\n  <a href="https://www.reddit.com{self.permalink}?ref_source=embed&amp;ref=share">'
            f'{html.escape(self.title)}</a> from\n  <a href="https://www.reddit.com/r/{self.subreddit}/">{self.subreddit}</a>\n'
            '</blockquote>\n<script async src="https://embed.redditmedia.com/widgets/platform.js" charset="UTF-8"></script>'
        )


class RedditWorld:
    def __init__(self, web: FixtureWeb, posts: list[RedditPost]):
        self.posts = {p.id: p for p in posts}
        web.route("https://www.reddit.com/", self.site, prefix=True)
        web.route("https://www.reddit.com/oembed", self.oembed)
        web.route("https://i.redd.it/", _media, prefix=True)
        web.route("https://preview.redd.it/", self.preview, prefix=True)
        web.route("https://v.redd.it/", self.video, prefix=True)

    def t3(self, p: RedditPost) -> dict:
        data: dict = {
            "id": p.id, "name": f"t3_{p.id}", "subreddit": p.subreddit, "subreddit_name_prefixed": f"r/{p.subreddit}",
            "title": p.title, "selftext": p.selftext, "author": p.author, "author_fullname": "t2_8xq2k",
            "created": p.created_utc, "created_utc": p.created_utc, "permalink": p.permalink, "score": 1520,
            "num_comments": 310, "over_18": False, "is_self": not (p.image or p.gallery or p.video or p.link),
            "url": f"https://www.reddit.com{p.permalink}", "removed_by_category": None, "thumbnail": "self",
        }
        if p.image:
            dest = f"https://i.redd.it/{p.image}.jpg"
            data.update(url=dest, url_overridden_by_dest=dest, post_hint="image", thumbnail=p.preview)
            data["preview"] = {"images": [{"source": {"url": p.preview, "width": 1080, "height": 720},
                                           "resolutions": [], "id": "prev"}], "enabled": True}
        if p.gallery:
            data.update(is_gallery=True, url=f"https://www.reddit.com/gallery/{p.id}")
            data["gallery_data"] = {"items": [{"media_id": m, "id": i} for i, m in enumerate(p.gallery)]}
            data["media_metadata"] = {m: {"status": "valid", "e": "Image", "m": "image/jpg",
                                          "s": {"y": 1080, "x": 1440, "u": f"https://preview.redd.it/{m}.jpg?width=1440&amp;format=pjpg&amp;s=ab12"}}
                                      for m in p.gallery}
        if p.video:
            data.update(is_video=True, post_hint="hosted:video", url=f"https://v.redd.it/{p.video}")
            data["secure_media"] = data["media"] = {"reddit_video": {
                "fallback_url": f"https://v.redd.it/{p.video}/DASH_1080.mp4?source=fallback",
                "hls_url": f"https://v.redd.it/{p.video}/HLSPlaylist.m3u8?a=1700000000%2CNzQ&amp;v=1&amp;f=sd",
                "height": 1080, "width": 1920, "duration": 12, "is_gif": False}}
            data["preview"] = {"images": [{"source": {"url": p.preview, "width": 1920, "height": 1080}}]}
        if p.link:
            data.update(url=p.link, url_overridden_by_dest=p.link, post_hint="link", domain=urlsplit(p.link).hostname)
            data["preview"] = {"images": [{"source": {"url": p.preview, "width": 1200, "height": 630}}]}
        if p.state == "removed":
            data.update(removed_by_category="moderator", selftext="[removed]")
        if p.state == "deleted":
            data.update(removed_by_category="deleted", selftext="[deleted]", author="[deleted]")
        return data

    def listing(self, p: RedditPost) -> list:
        return [
            {"kind": "Listing", "data": {"after": None, "dist": 1, "modhash": "", "children": [{"kind": "t3", "data": self.t3(p)}], "before": None}},
            {"kind": "Listing", "data": {"after": None, "dist": None, "modhash": "", "children": [], "before": None}},
        ]

    def site(self, req: Request) -> Response:
        parts = [x for x in req.path.split("/") if x]
        # /r/<sub>/s/<code>: the share link's redirect, with Reddit's tracking query
        if len(parts) == 4 and parts[0] == "r" and parts[2] == "s":
            p = next((p for p in self.posts.values() if p.share_code == parts[3]), None)
            if p is None:
                return Response(404, headers=HTML, body=b"not found")
            return Response.redirect(f"https://www.reddit.com{p.permalink}?share_id=Xy12Zw&utm_content=1&utm_medium=ios_app"
                                     "&utm_name=iossmf&utm_source=share&utm_term=1", status=301)
        if "comments" not in parts or parts.index("comments") + 1 >= len(parts):
            return Response(404, headers=HTML, body=b"not found")
        p = self.posts.get(parts[parts.index("comments") + 1])
        if parts[-1] == ".json":
            if p is None or p.state == "gone":
                return _json(404, {"message": "Not Found", "error": 404})
            if p.state in ("private", "quarantined"):
                return _json(403, {"reason": p.state, "message": "Forbidden", "error": 403})
            return _json(200, self.listing(p))
        if p is None or p.state == "gone":
            return Response(404, headers=HTML, body=b"<html><body>page not found</body></html>")
        if p.state in ("private", "quarantined"):
            return Response(403, headers=HTML, body=b"<html><body>this community is private</body></html>")
        body = (f'<!DOCTYPE html><html><head><title>{html.escape(p.title)} : r/{p.subreddit}</title></head>'
                f'<body><shreddit-post id="t3_{p.id}" author="{p.author}"></shreddit-post></body></html>')
        return Response(200, headers=HTML, body=body.encode())

    def oembed(self, req: Request) -> Response:
        path = [x for x in urlsplit(req.query.get("url", "")).path.split("/") if x]
        p = self.posts.get(path[path.index("comments") + 1]) if "comments" in path[:-1] else None
        if p is None or p.state in ("gone", "private", "quarantined"):
            return _json(404, {"message": "Not Found", "error": 404})
        return _json(200, {"author_name": p.author, "html": p.embed_bq(), "provider_name": "reddit",
                           "provider_url": "https://www.reddit.com", "title": p.title, "type": "rich", "height": 316})

    def preview(self, req: Request) -> Response:
        if "&amp;" in req.url or "%26amp" in req.url:
            return Response(403, headers=HTML, body=b"bad signature")  # the escaped URL is not the image
        return _media(req)

    def video(self, req: Request) -> Response:
        return _hls(req.path) or _media(req)


# ============================================================================================ Telegram


@dataclass
class TgPost:
    channel: str
    msg: int
    title: str  # the channel's display name
    text: str  # lines
    datetime: str = "2024-03-01T12:34:56+00:00"
    photos: list[str] = field(default_factory=list)  # file keys
    video: Optional[str] = None  # file key
    state: str = "available"  # available | missing

    @property
    def post_id(self) -> str:
        return f"{self.channel.lower()}/{self.msg}"

    def file(self, key: str, ext: str = "jpg") -> str:
        return f"https://cdn4.cdn-telegram.org/file/{key}.{ext}"

    @property
    def avatar(self) -> str:
        return self.file(f"userpic_{self.channel.lower()}")

    def script(self) -> str:
        return (f'<script async src="https://telegram.org/js/telegram-widget.js?22" '
                f'data-telegram-post="{self.channel}/{self.msg}" data-width="100%"></script>')


class TelegramWorld:
    def __init__(self, web: FixtureWeb, posts: list[TgPost]):
        self.posts = posts
        web.route("https://t.me/", self.tme, prefix=True)
        web.route("https://cdn4.cdn-telegram.org/file/", _media, prefix=True)

    def find(self, channel: str, msg: str) -> Optional[TgPost]:
        return next((p for p in self.posts if p.channel.lower() == channel.lower() and str(p.msg) == msg), None)

    def widget(self, p: Optional[TgPost], channel: str, msg: str) -> str:
        if p is None or p.state != "available":
            inner = '<div class="tgme_widget_message_error">Post not found</div>'
            return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram Widget</title></head>'
                    f'<body class="body_widget_post emoji_image nodark"><div class="tgme_widget_message_wrap js-widget_message_wrap">'
                    f'<div class="tgme_widget_message js-widget_message" data-post="{channel}/{msg}">{inner}</div></div></body></html>')
        photos = "".join(
            f'<a class="tgme_widget_message_photo_wrap {p.msg} blured" href="https://t.me/{p.channel}/{p.msg}?single" '
            f"style=\"width:800px;background-image:url('{p.file(key)}')\"><div class=\"tgme_widget_message_photo\" "
            'style="padding-top:56.25%"></div></a>' for key in p.photos)
        video = ""
        if p.video:
            video = (f'<a class="tgme_widget_message_video_player blured js-message_video_player" href="https://t.me/{p.channel}/{p.msg}">'
                     f"<i class=\"tgme_widget_message_video_thumb\" style=\"background-image:url('{p.file(p.video + '_thumb')}')\"></i>"
                     f'<div class="tgme_widget_message_video_wrap"><video src="{p.file(p.video, "mp4")}?token=abc" '
                     'class="tgme_widget_message_video js-message_video" width="100%" height="100%"></video></div></a>')
        text = "<br/>".join(html.escape(line) for line in p.text.split("\n"))
        return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram Widget</title>
<link href="//telegram.org/css/widget-frame.css?71" rel="stylesheet"></head>
<body class="body_widget_post emoji_image nodark"><div class="tgme_widget_message_wrap js-widget_message_wrap">
<div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{p.channel}/{p.msg}" data-view="eyJjIjoxfQ" data-peer="c1006503122_-7" data-post-id="{p.msg}">
<div class="tgme_widget_message_user"><a href="https://t.me/{p.channel}"><i class="tgme_widget_message_user_photo bgcolor0" data-content="P"><img src="{p.avatar}"></i></a></div>
<div class="tgme_widget_message_bubble">
<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="https://t.me/{p.channel}"><span dir="auto">{html.escape(p.title)}</span></a></div>
{photos}{video}
<div class="tgme_widget_message_text js-message_text" dir="auto">{text}</div>
<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info short js-message_info">
<span class="tgme_widget_message_views">1.2M</span><span class="copyonly"> views</span>
<span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="https://t.me/{p.channel}/{p.msg}"><time datetime="{p.datetime}" class="time">12:34</time></a></span>
</div></div></div></div></div></body></html>"""

    def tme(self, req: Request) -> Response:
        parts = [x for x in req.path.split("/") if x]
        if len(parts) != 2 or not parts[1].isdigit():
            return Response(200, headers=HTML, body=b"<html><head><title>Telegram</title></head><body></body></html>")
        p = self.find(parts[0], parts[1])
        if "embed" in req.query:
            return Response(200, headers=HTML, body=self.widget(p, parts[0], parts[1]).encode())
        # The post page answers 200 whether or not the message exists (only og tags differ).
        title = html.escape(p.title if p else "Telegram")
        body = (f'<!DOCTYPE html><html><head><meta property="og:title" content="{title}">'
                f'<meta property="og:description" content="{html.escape(p.text) if p else ""}"></head>'
                '<body class="tgme_page_body"></body></html>')
        return Response(200, headers=HTML, body=body.encode())


# ============================================================================================ page


def social_article(body: str, *, title: str = "What people posted about the storm") -> bytes:
    """A news page whose chrome links each platform: share buttons, follow links, the outlet's own
    latest post in the footer. None of them is a post the article cites."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/static/site.css"></head><body>
<header class="site-header"><nav class="main-nav"><a href="/">Home</a>
<a href="https://bsky.app/profile/news.example">Bluesky</a>
<a href="https://mastodon.social/@newsexample">Mastodon</a>
<a href="https://www.reddit.com/r/newsexample/">Reddit</a>
<a href="https://t.me/newsexample">Telegram</a>
</nav></header>
<main><article><h1>{title}</h1>
<div class="share-buttons">
<a href="https://bsky.app/intent/compose?text=Read%20https%3A%2F%2Fnews.example%2Fstorm">Share on Bluesky</a>
<a href="https://mastodon.social/share?text=https%3A%2F%2Fnews.example%2Fstorm">Toot</a>
<a href="https://www.reddit.com/submit?url=https%3A%2F%2Fnews.example%2Fstorm">Reddit</a>
<a href="https://t.me/share/url?url=https%3A%2F%2Fnews.example%2Fstorm">Telegram</a>
</div>
<div class="entry-content">
{body}
</div></article></main>
<footer class="site-footer">
<a href="https://bsky.app/profile/news.example/post/3kfooterpost2">Our latest skeet</a>
<a href="https://mastodon.social/@newsexample/111111111111111111">Our latest toot</a>
<a href="https://www.reddit.com/r/newsexample/comments/foot01/ama/">Our AMA</a>
<a href="https://t.me/newsexample/99">Our channel's pinned post</a>
<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="newsexample/98"></script>
</footer>
</body></html>""".encode()
