"""A small X/Twitter for the fixture web: syndication, oEmbed, t.co, pic.twitter.com and media CDNs.

Response shapes follow what the real endpoints answer (syndication `tweet-result` bodies,
`TweetTombstone`s, oEmbed 403/404, t.co's 301 for non-browsers and meta-refresh page for
browsers), trimmed to the fields that matter.
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit

from archiver.platforms.syndication import syndication_token
from fixtureweb import FixtureWeb, Request, Response

TWEET_HTML = "https://platform.twitter.com/embed/Tweet.html"
EMBED_RUNTIME_JS = "https://platform.twitter.com/embed/embed.runtime.b2a1c5f93e7d0c4a8f61.js"
EMBED_MAIN_JS = "https://platform.twitter.com/embed/embed.Tweet.5d0e9f3c71b24a6e8c13.js"
EMBED_CSS = "https://platform.twitter.com/embed/embed.Tweet.0c7d2e4b9a.css"
EMBED_FONT = "https://platform.twitter.com/embed/fonts/chirp.woff2"
SUSPENDED_TEXT = "This Post is from a suspended account. Learn more"
DELETED_TEXT = "This Post was deleted by the Post author. Learn more"
AGE_TEXT = "Age-restricted adult content. This content might not be appropriate for all."


def media_bytes(key: str, size: int = 2048) -> bytes:
    """Distinct, deterministic bytes for a media file (JPEG magic first)."""
    seed = hashlib.sha256(key.encode()).digest()
    return (b"\xff\xd8\xff\xe0" + seed * (size // len(seed) + 1))[:size]


@dataclass
class Video:
    media_id: str
    # (bitrate or None, "WxH", hevc)
    variants: list[tuple[Optional[int], str, bool]]
    mp4: bool = True  # False: only an HLS playlist

    def variant_urls(self) -> list[tuple[Optional[int], str, str]]:
        out = []
        for bitrate, size, hevc in self.variants:
            codec = "hevc" if hevc else "avc1"
            url = f"https://video.twimg.com/ext_tw_video/{self.media_id}/pu/vid/{codec}/{size}/v{bitrate}.mp4?tag=12"
            out.append((bitrate, size, url))
        return out

    @property
    def playlist(self) -> str:
        return f"https://video.twimg.com/ext_tw_video/{self.media_id}/pu/pl/master.m3u8?tag=12"

    @property
    def poster(self) -> str:
        return f"https://pbs.twimg.com/ext_tw_video_thumb/{self.media_id}/pu/img/poster.jpg"


@dataclass
class FakeTweet:
    id: str
    handle: str
    name: str
    text: str
    created_at: str = "2019-10-13T16:30:00.000Z"
    photos: list[str] = field(default_factory=list)  # media keys
    video: Optional[Video] = None
    quoted: Optional[str] = None
    parent: Optional[str] = None
    # available | gone (404 on both routes) | tombstone-deleted | protected | suspended | suspended-nouser | age
    state: str = "available"
    tco: Optional[str] = None  # the t.co / pic.twitter.com code of its media

    @property
    def avatar(self) -> str:
        return f"https://pbs.twimg.com/profile_images/1000{self.id[-4:]}/{self.handle}_normal.jpg"

    @property
    def avatar_orig(self) -> str:
        return self.avatar.replace("_normal.jpg", ".jpg")

    def photo_url(self, key: str) -> str:
        return f"https://pbs.twimg.com/media/{key}?format=jpg&name=orig"

    @property
    def permalink(self) -> str:
        return f"https://twitter.com/{self.handle}/status/{self.id}"


class TwitterWorld:
    """Registers X's public endpoints on a FixtureWeb for a set of fake tweets."""

    def __init__(self, web: FixtureWeb, tweets: list[FakeTweet], *, strict_token: bool = True):
        self.web = web
        self.tweets = {t.id: t for t in tweets}
        self.strict_token = strict_token
        self.links: dict[str, str] = {}  # t.co code -> target URL
        for t in tweets:
            if t.tco:
                self.links[t.tco] = f"{t.permalink}/{'video' if t.video else 'photo'}/1"
        web.route("https://cdn.syndication.twimg.com/tweet-result", self.syndication)
        web.route("https://publish.twitter.com/oembed", self.oembed)
        web.route("https://t.co/", self.tco, prefix=True)
        web.route("https://pic.twitter.com/", self.pic, prefix=True)
        web.route("https://pbs.twimg.com/", self.media, prefix=True)
        web.route("https://video.twimg.com/", self.video, prefix=True)
        web.route("https://platform.twitter.com/widgets.js", lambda r: Response(
            200, headers=[("Content-Type", "application/javascript; charset=utf-8")],
            body=b"/* widgets.js */ window.twttr = window.twttr || {};"))
        # What widgets.js loads for a blockquote embed: the Tweet.html iframe and its chunks.
        web.route(TWEET_HTML, self.tweet_html)
        web.route("https://platform.twitter.com/embed/", self.embed_asset, prefix=True)

    # -- syndication -----------------------------------------------------------------------

    def tweet_json(self, t: FakeTweet, *, quoted: bool = False) -> dict:
        body: dict = {
            "lang": "en",
            "created_at": t.created_at,
            "display_text_range": [0, len(t.text)],
            "entities": {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []},
            "id_str": t.id,
            "text": html.escape(t.text, quote=False),
            "user": {
                "id_str": "9" + t.id[-6:],
                "name": t.name,
                "profile_image_url_https": t.avatar,
                "screen_name": t.handle,
                "verified": False,
                "is_blue_verified": False,
            },
            "favorite_count": 12,
            "conversation_count": 3,
        }
        if not quoted:
            body = {"__typename": "Tweet", **body, "news_action_type": "conversation"}
        details = []
        for i, key in enumerate(t.photos, 1):
            details.append({
                "display_url": f"pic.twitter.com/{t.tco or key}",
                "expanded_url": f"{t.permalink}/photo/{i}",
                "ext_media_availability": {"status": "Available"},
                "media_url_https": f"https://pbs.twimg.com/media/{key}.jpg",
                "type": "photo",
                "url": f"https://t.co/{t.tco or key}",
                "original_info": {"width": 1200, "height": 800},
            })
        if t.video:
            variants = [{"content_type": "application/x-mpegURL", "url": t.video.playlist}]
            if t.video.mp4:
                for bitrate, _size, url in t.video.variant_urls():
                    v = {"content_type": "video/mp4", "url": url}
                    if bitrate is not None:
                        v["bitrate"] = bitrate
                    variants.append(v)
            details.append({
                "display_url": f"pic.twitter.com/{t.tco}",
                "expanded_url": f"{t.permalink}/video/1",
                "ext_media_availability": {"status": "Available"},
                "media_url_https": t.video.poster,
                "type": "video",
                "url": f"https://t.co/{t.tco}",
                "video_info": {"aspect_ratio": [16, 9], "duration_millis": 9516, "variants": variants},
            })
        if details:
            body["mediaDetails"] = details
        if t.quoted and not quoted and t.quoted in self.tweets:
            body["quoted_tweet"] = self.tweet_json(self.tweets[t.quoted], quoted=True)
        if t.parent and not quoted:
            body["in_reply_to_status_id_str"] = t.parent
            parent = self.tweets.get(t.parent)
            if parent:
                body["in_reply_to_screen_name"] = parent.handle
                body["parent"] = self.tweet_json(parent, quoted=True)
        return body

    def syndication(self, req: Request) -> Response:
        tweet_id = req.query.get("id", "")
        if not tweet_id.isdigit() or len(tweet_id) > 19:
            return _json(400, {"error": "Bad request."})
        if self.strict_token and req.query.get("token") != syndication_token(tweet_id):
            return _json(200, {})
        t = self.tweets.get(tweet_id)
        if t is None or t.state == "gone":
            return Response(404, headers=[("Content-Type", "text/html")], body=b"<html><body>Not found</body></html>")
        if t.state == "tombstone-deleted":
            return _json(200, _tombstone(DELETED_TEXT))
        if t.state == "suspended":
            return _json(200, _tombstone(SUSPENDED_TEXT))
        if t.state == "age":
            return _json(200, _tombstone(AGE_TEXT))
        if t.state == "protected":
            return _json(200, {"__typename": "TweetTombstone"})
        body = self.tweet_json(t)
        if t.state == "suspended-nouser":
            del body["user"]
        return _json(200, body)

    # -- oEmbed ----------------------------------------------------------------------------

    def oembed(self, req: Request) -> Response:
        url = req.query.get("url", "")
        parts = [p for p in urlsplit(url).path.split("/") if p]
        t = self.tweets.get(parts[-1]) if parts else None
        if t is None or t.state in ("gone", "tombstone-deleted", "suspended", "suspended-nouser"):
            return Response(404, headers=[("Content-Type", "application/json; charset=utf-8")], body=b"")
        if t.state == "protected":
            return _json(403, {"error": "Sorry, you are not authorized to see this status.",
                               "request": "/oembed?url=" + url})
        blockquote = (
            f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{html.escape(t.text)}</p>'
            f"&mdash; {html.escape(t.name)} (@{t.handle}) "
            f'<a href="{t.permalink}?ref_src=twsrc%5Etfw">October 13, 2019</a></blockquote>\n'
            '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n'
        )
        return _json(200, {
            "url": t.permalink, "author_name": t.name, "author_url": f"https://twitter.com/{t.handle}",
            "html": blockquote, "width": 550, "height": None, "type": "rich", "cache_age": "3153600000",
            "provider_name": "Twitter", "provider_url": "https://twitter.com", "version": "1.0",
        })

    # -- the embed iframe ----------------------------------------------------------------------

    def tweet_html(self, req: Request) -> Response:
        """The Tweet.html shell for any id, as X serves it (its JS then asks tweet-result).

        X's shell is the same bytes for every id; this one names the id in a data attribute so
        tests can tell which capture a replay served.
        """
        tweet_id = req.query.get("id", "")
        page = (
            f'<!DOCTYPE html><html dir="ltr" lang="en" data-tweet-id="{html.escape(tweet_id)}"><head>'
            '<meta charset="utf-8"><title>X embed</title>'
            f'<link rel="preload" as="script" href="{EMBED_RUNTIME_JS}">'
            f'<link rel="stylesheet" href="{EMBED_CSS.rsplit("/", 1)[1]}">'
            '</head><body><div id="app"></div>'
            f'<script src="{EMBED_RUNTIME_JS.rsplit("/", 1)[1]}"></script>'
            f'<script src="{EMBED_MAIN_JS}"></script>'
            "</body></html>"
        )
        return Response(200, headers=[("Content-Type", "text/html; charset=utf-8")], body=page.encode())

    def embed_asset(self, req: Request) -> Response:
        """The embed's hashed JS and CSS chunks and the font its CSS names; 404 for anything else."""
        if req.path.endswith(".js"):
            return Response(200, headers=[("Content-Type", "application/javascript; charset=utf-8")],
                            body=f"/* {req.path} */ self.__embed = 1;".encode())
        if req.path.endswith(".css"):
            return Response(200, headers=[("Content-Type", "text/css; charset=utf-8")],
                            body=b"@font-face{font-family:chirp;src:url(fonts/chirp.woff2)}")
        if req.path.endswith(".woff2"):
            return Response(200, headers=[("Content-Type", "font/woff2")], body=media_bytes(req.path, 256))
        return Response(404, headers=[("Content-Type", "text/html")], body=b"not found")

    # -- short links -------------------------------------------------------------------------

    def tco(self, req: Request) -> Response:
        code = req.path.strip("/")
        target = self.links.get(code)
        if target is None:
            return Response(404, headers=[("Content-Type", "text/html")], body=b"not found")
        if "Mozilla" in req.headers.get("User-Agent", ""):
            page = (
                f'<head><noscript><META http-equiv="refresh" content="0;URL={target}"></noscript>'
                f"<title>{target}</title></head><script>window.opener = null; "
                f'location.replace("{target.replace("/", chr(92) + "/")}")</script>'
            )
            return Response(200, headers=[("Content-Type", "text/html; charset=utf-8"), ("Server", "tsa_f")],
                            body=page.encode())
        return Response(301, headers=[("Location", target), ("Content-Type", "text/html; charset=UTF-8")], body=b"")

    def pic(self, req: Request) -> Response:
        target = self.links.get(req.path.strip("/"))
        if target is None:
            return Response(404, headers=[("Content-Type", "text/html")], body=b"not found")
        return Response(301, headers=[("Location", target)], body=b"")

    # -- media -------------------------------------------------------------------------------

    def media(self, req: Request) -> Response:
        return Response(200, headers=[("Content-Type", "image/jpeg")], body=media_bytes(req.path))

    def video(self, req: Request) -> Response:
        if req.path.endswith(".m3u8"):
            t = next((t for t in self.tweets.values() if t.video and t.video.media_id in req.path), None)
            base = f"https://video.twimg.com/ext_tw_video/{t.video.media_id}/pu/pl" if t else ""
            if req.path.endswith("master.m3u8"):
                text = f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=832000,RESOLUTION=640x360\n{base}/640x360/media.m3u8\n"
            else:
                text = "#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\nseg0.ts\n#EXTINF:3.0,\nseg1.ts\n#EXT-X-ENDLIST\n"
            return Response(200, headers=[("Content-Type", "application/x-mpegURL")], body=text.encode())
        ctype = "video/mp2t" if req.path.endswith(".ts") else "video/mp4"
        return Response(200, headers=[("Content-Type", ctype)], body=media_bytes(req.path, 8192))


def _json(status: int, data: dict) -> Response:
    return Response(status, headers=[("Content-Type", "application/json; charset=utf-8")],
                    body=json.dumps(data).encode())


def _tombstone(text: str) -> dict:
    return {"__typename": "TweetTombstone", "tombstone": {"text": {"text": text, "entities": [], "rtl": False}}}


SEED = FakeTweet(
    id="1183419470331486208",
    handle="RojavaIC",
    name="Rojava Information Center",
    text=("We spoke now with Jelal Ayaf, co-chair of Ayn Issa camp. He told us:\n– 859 people successfully "
          "escaped from the foreigners section, a few others could be recaptured\n– Sleeper cells emerged from "
          "inside 'open' IDP section, carrying out attacks, situation in camp very volatile https://t.co/GKa1TV7NIJ"),
    created_at="2019-10-13T16:02:11.000Z",
    photos=["EGxSeedPhoto1"],
    tco="GKa1TV7NIJ",
)

SEED_BLOCKQUOTE = (
    '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">We spoke now with Jelal Ayaf, co-chair of\n'
    "Ayn Issa camp. He told us:<br>– 859 people successfully escaped from the foreigners section, a few\n"
    "others could be recaptured<br>– Sleeper cells emerged from inside &#39;open&#39; IDP section,\n"
    'carrying out attacks, situation in camp very volatile\n<a href="https://t.co/GKa1TV7NIJ">pic.twitter.com/GKa1TV7NIJ</a>'
    "</p>&mdash; Rojava Information\nCenter (@RojavaIC) "
    '<a href="https://twitter.com/RojavaIC/status/1183419470331486208?ref_src=twsrc%5Etfw">October\n13, 2019</a>'
    "</blockquote>\n"
    '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n'
)


def article_page(body: str, *, title: str = "Hundreds of IS prisoners escape", extra_head: str = "") -> bytes:
    """A news page with the chrome real sites have: share buttons, follow links, a footer timeline."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/static/site.css">
<link rel="icon" href="/favicon.ico">
{extra_head}
</head><body>
<header class="site-header"><nav><a href="/">Home</a>
<a class="twitter-follow-button" href="https://twitter.com/NewsExample">Follow @NewsExample</a>
<a href="https://twitter.com/intent/tweet?text=Read&url=https%3A%2F%2Fnews.example%2F">Share on Twitter</a>
</nav></header>
<main><article><h1>{title}</h1>
<img src="/img/lead.jpg" srcset="/img/lead-2x.jpg 2x" alt="">
{body}
</article></main>
<footer><a href="https://twitter.com/NewsExample/status/1000000000000000001">Our latest tweet</a>
<a class="twitter-timeline" href="https://twitter.com/NewsExample?ref_src=twsrc%5Etfw">Tweets by NewsExample</a>
</footer>
<script src="/static/app.js"></script>
</body></html>""".encode()


def add_news_site(web: FixtureWeb, host: str = "news.example") -> None:
    """The article's own requisites: stylesheet (importing a font), images, script, icon."""
    base = f"https://{host}"
    web.add(f"{base}/static/site.css", body=b"@import url('/static/fonts.css');\nbody{background:url(/img/bg.png)}",
            headers=[("Content-Type", "text/css")])
    web.add(f"{base}/static/fonts.css", body=b"@font-face{font-family:x;src:url(/fonts/x.woff2)}",
            headers=[("Content-Type", "text/css")])
    for path, ctype in (("/img/bg.png", "image/png"), ("/fonts/x.woff2", "font/woff2"), ("/favicon.ico", "image/x-icon"),
                        ("/img/lead.jpg", "image/jpeg"), ("/img/lead-2x.jpg", "image/jpeg")):
        web.add(base + path, body=media_bytes(base + path, 512), headers=[("Content-Type", ctype)])
    web.add(f"{base}/static/app.js", body=b"console.log('app');", headers=[("Content-Type", "application/javascript")])
