"""YouTube, TikTok, Instagram, Facebook and Threads for the fixture web: pages, oEmbed, images.

Response shapes follow what the real endpoints answer (shared/docs/social-embeds.md section 6 and
the oEmbed fixtures it lists), trimmed to the fields that matter:

* YouTube oEmbed as in `oembed-youtube.json`; 404 for a removed video, 401 for a private one; the
  watch page answers 200 either way (a player shell), with Open Graph and `datePublished` tags
  only for a video that exists.
* TikTok oEmbed as in `oembed-tiktok.json` (signed thumbnail URL, `author_unique_id`); the video
  page is a JS shell; `vm.tiktok.com/<code>` answers a 301 to the video URL.
* Meta's tokenless oEmbed since November 2025: `html`, `provider_*`, `type`, `version`, `width`
  only (no author or thumbnail fields); Graph errors as `{"error": {...}}` JSON. A public post's
  page carries `og:` tags about the post; a private Instagram post's page redirects to the login
  wall, whose tags are generic.

Also `news_page(body)`: an article (at `ARTICLE`) whose chrome (header, share buttons, sidebar,
footer, comments) links these platforms the way news sites do, none of which is a post; and the
helpers the tests of these platforms share to extract from that page and to capture it.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from click.testing import CliRunner, Result

from archiver.cli import cli
from archiver.extract import ExtractResult, find_embeds, parse_html
from archiver.models import Embed
from fixtureweb import FixtureWeb, Request, Response
from twitterworld import media_bytes

ARTICLE = "https://news.example/2024/06/10/floods"
YT_THUMBS = "https://i.ytimg.com/vi/"
TIKTOK_CDN = "https://p16-sign-va.tiktokcdn.com/obj/tos-maliva-p-0068/"
IG_CDN = "https://scontent.cdninstagram.com/v/t51.2885-15/"
FB_CDN = "https://scontent.xx.fbcdn.net/v/t39.30808-6/"


def image_bytes(key: str, size: int = 1024) -> bytes:
    """Distinct, deterministic bytes for an image (JPEG magic first)."""
    return media_bytes(key, size)


@dataclass
class FakePost:
    """One post on one of the five platforms.

    `id` is the archiver's id (YouTube video id, TikTok numeric id, Instagram/Threads code,
    Facebook `<id>` / `video/<id>`); `handle` the account; `state` available | gone | private.
    """

    platform: str
    id: str
    handle: str
    name: str
    text: str
    state: str = "available"
    created_at: str = "2024-06-10T15:00:06Z"
    short: Optional[str] = None  # a vm.tiktok.com code that redirects here

    @property
    def raw_id(self) -> str:
        return self.id.split("/", 1)[-1]


def _json(status: int, data: object) -> Response:
    return Response(status, headers=[("Content-Type", "application/json; charset=utf-8")],
                    body=json.dumps(data).encode())


def _graph_error(status: int, message: str, code: int = 100) -> Response:
    return _json(status, {"error": {"message": message, "type": "OAuthException", "code": code,
                                    "fbtrace_id": "AbCdEfGhIjK"}})


def _page(title: str, tags: dict[str, str], body: str = "") -> Response:
    metas = "".join(f'<meta property="{k}" content="{html.escape(v)}">' for k, v in tags.items())
    doc = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>{metas}'
           f'</head><body>{body}<script>window.__app = {{}};</script></body></html>')
    return Response(200, headers=[("Content-Type", "text/html; charset=utf-8")], body=doc.encode())


def _image(req: Request) -> Response:
    return Response(200, headers=[("Content-Type", "image/jpeg")], body=image_bytes(req.path))


class VideoMetaWorld:
    """Registers the five platforms' public endpoints on a FixtureWeb for a set of fake posts."""

    def __init__(self, web: FixtureWeb, posts: list[FakePost]):
        self.web = web
        self.posts = {(p.platform, p.id): p for p in posts}
        web.route("https://www.youtube.com/watch", self.youtube_page)
        web.route("https://www.youtube.com/oembed", self.youtube_oembed)
        web.route(YT_THUMBS, _image, prefix=True)
        web.route("https://www.tiktok.com/oembed", self.tiktok_oembed)
        web.route("https://www.tiktok.com/", self.tiktok_page, prefix=True)
        web.route("https://vm.tiktok.com/", self.tiktok_short, prefix=True)
        web.route(TIKTOK_CDN, _image, prefix=True)
        web.route("https://www.instagram.com/", self.instagram_page, prefix=True)
        web.route("https://graph.facebook.com/v26.0/instagram_oembed", self.instagram_oembed)
        web.route(IG_CDN, _image, prefix=True)
        web.route("https://www.facebook.com/", self.facebook_page, prefix=True)
        web.route("https://graph.facebook.com/v26.0/oembed_post", self.facebook_oembed)
        web.route("https://graph.facebook.com/v26.0/oembed_video", self.facebook_oembed)
        web.route(FB_CDN, _image, prefix=True)
        web.route("https://www.threads.com/", self.threads_page, prefix=True)
        web.route("https://graph.threads.net/oembed", self.threads_oembed)

    def get(self, platform: str, post_id: str) -> Optional[FakePost]:
        return self.posts.get((platform, post_id))

    # -- YouTube ---------------------------------------------------------------------------

    def youtube_page(self, req: Request) -> Response:
        p = self.get("youtube", req.query.get("v", ""))
        if p is None or p.state != "available":
            return _page("YouTube", {}, '<div id="player"><div class="reason">Video unavailable</div></div>')
        tags = {"og:site_name": "YouTube", "og:url": f"https://www.youtube.com/watch?v={p.id}", "og:title": p.text,
                "og:image": f"{YT_THUMBS}{p.id}/maxresdefault.jpg"}
        micro = (f'<span itemprop="author"><link itemprop="url" href="https://www.youtube.com/@{p.handle}"></span>'
                 f'<meta itemprop="datePublished" content="2024-06-10T08:00:06-07:00">'
                 f'<meta itemprop="uploadDate" content="2024-06-10T08:00:06-07:00">')
        return _page(f"{p.text} - YouTube", tags, micro)

    def youtube_oembed(self, req: Request) -> Response:
        if req.query.get("format") != "json":
            return Response(501, headers=[("Content-Type", "text/html")], body=b"Not Implemented")
        video_id = parse_qs(urlsplit(req.query.get("url", "")).query).get("v", [""])[0]
        p = self.get("youtube", video_id)
        if p is None or p.state == "gone":
            return Response(404, headers=[("Content-Type", "text/html; charset=utf-8")], body=b"Not Found")
        if p.state == "private":
            return Response(401, headers=[("Content-Type", "text/html; charset=utf-8")], body=b"Unauthorized")
        return _json(200, {
            "title": p.text, "author_name": p.name, "author_url": f"https://www.youtube.com/@{p.handle}",
            "type": "video", "height": 113, "width": 200, "version": "1.0", "provider_name": "YouTube",
            "provider_url": "https://www.youtube.com/", "thumbnail_height": 360, "thumbnail_width": 480,
            "thumbnail_url": f"{YT_THUMBS}{p.id}/hqdefault.jpg",
            "html": (f'<iframe width="200" height="113" src="https://www.youtube.com/embed/{p.id}?feature=oembed" '
                     f'frameborder="0" allowfullscreen title="{html.escape(p.text)}"></iframe>'),
        })

    # -- TikTok ----------------------------------------------------------------------------

    def tiktok_page(self, req: Request) -> Response:
        """A video page: the JS shell TikTok serves without a browser (200 whatever the id)."""
        shell = '<div id="app"></div><script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{}</script>'
        return _page("TikTok - Make Your Day", {}, shell)

    def tiktok_short(self, req: Request) -> Response:
        code = req.path.strip("/")
        p = next((p for p in self.posts.values() if p.platform == "tiktok" and p.short == code), None)
        if p is None:
            return Response(404, headers=[("Content-Type", "text/html")], body=b"")
        target = f"https://www.tiktok.com/@{p.handle}/video/{p.id}?_t=8nA1bC2dE3f&_r=1"
        return Response(301, headers=[("Location", target), ("Content-Type", "text/html")], body=b"")

    def tiktok_oembed(self, req: Request) -> Response:
        parts = [s for s in urlsplit(req.query.get("url", "")).path.split("/") if s]
        p = self.get("tiktok", parts[-1]) if parts else None
        if p is None or p.state != "available":
            return _json(400, {"code": 400, "message": "Something went wrong", "status_msg": "Something went wrong"})
        cite = f"https://www.tiktok.com/@{p.handle}/video/{p.id}"
        return _json(200, {
            "version": "1.0", "type": "video", "title": p.text, "author_url": f"https://www.tiktok.com/@{p.handle}",
            "author_name": p.name, "width": "100%", "height": "100%",
            "html": (f'<blockquote class="tiktok-embed" cite="{cite}" data-video-id="{p.id}" data-embed-from="oembed" '
                     f'style="max-width:605px; min-width:325px;"> <section> <a target="_blank" title="@{p.handle}" '
                     f'href="https://www.tiktok.com/@{p.handle}?refer=embed">@{p.handle}</a> <p>{html.escape(p.text)}</p> '
                     '</section> </blockquote> <script async src="https://www.tiktok.com/embed.js"></script>'),
            "thumbnail_width": 480, "thumbnail_height": 848,
            "thumbnail_url": f"{TIKTOK_CDN}{p.id}_1718000000?x-expires=1718204400&x-signature=weANzY8AXzX93c5j7jm34neMhWY%3D",
            "provider_url": "https://www.tiktok.com", "provider_name": "TikTok", "author_unique_id": p.handle,
            "embed_product_id": p.id, "embed_type": "video",
        })

    # -- Instagram -------------------------------------------------------------------------

    def instagram_page(self, req: Request) -> Response:
        parts = [s for s in req.path.split("/") if s]
        if parts[:2] == ["accounts", "login"]:
            return _page("Login • Instagram", {"og:site_name": "Instagram", "og:title": "Instagram",
                                               "og:url": "https://www.instagram.com/"}, '<div id="login"></div>')
        p = self.get("instagram", parts[1]) if len(parts) >= 2 and parts[0] in ("p", "reel") else None
        if p is None or p.state == "gone":
            return Response(404, headers=[("Content-Type", "text/html; charset=utf-8")],
                            body=b"<html><body>Sorry, this page isn't available.</body></html>")
        if p.state == "private":
            return Response(302, headers=[("Location", f"https://www.instagram.com/accounts/login/?next=%2Fp%2F{p.id}%2F")],
                            body=b"")
        return _page(f"{p.name} on Instagram", {
            "og:site_name": "Instagram", "og:type": "article", "og:url": f"https://www.instagram.com/p/{p.id}/",
            "og:title": f'{p.name} on Instagram: "{p.text}"',
            "og:description": f'12 likes, 3 comments - {p.handle} on June 10, 2024: "{p.text}". ',
            "og:image": f"{IG_CDN}{p.id}_n.jpg?stp=dst-jpg_s640x640&_nc_ht=scontent.cdninstagram.com",
        })

    def instagram_oembed(self, req: Request) -> Response:
        parts = [s for s in urlsplit(req.query.get("url", "")).path.split("/") if s]
        p = self.get("instagram", parts[1]) if len(parts) >= 2 else None
        if p is None or p.state == "gone":
            return _graph_error(404, "(#24) The requested media does not exist or was deleted", 24)
        if p.state == "private":
            return _graph_error(403, "(#10) This media is private and cannot be embedded", 10)
        link = f"https://www.instagram.com/p/{p.id}/?utm_source=ig_embed&amp;utm_campaign=loading"
        blockquote = (
            f'<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink="{link}" '
            f'data-instgrm-version="14" style=" background:#FFF; border:0;"><div style="padding:16px;"> '
            f'<a href="{link}" target="_blank"><div> View this post on Instagram</div></a>'
            f'<p style=" margin:8px 0 0 0; padding:0 4px;"> <a href="{link}" target="_blank">{html.escape(p.text)}</a></p>'
            f'<p style=" color:#c9c8cd;"><a href="{link}" target="_blank">A post shared by {html.escape(p.name)} '
            f'(@{p.handle})</a> <time datetime="{p.created_at.replace("Z", "+00:00")}">Jun 10, 2024</time></p>'
            '</div></blockquote>\n<script async src="//www.instagram.com/embed.js"></script>'
        )
        return _json(200, {"version": "1.0", "provider_name": "Instagram", "provider_url": "https://www.instagram.com/",
                           "type": "rich", "width": 658, "html": blockquote})

    # -- Facebook --------------------------------------------------------------------------

    def _facebook_post(self, url: str) -> Optional[FakePost]:
        parts = urlsplit(url)
        segs = [s for s in parts.path.split("/") if s]
        if len(segs) >= 3 and segs[1] == "posts":
            return self.get("facebook", segs[2])
        if len(segs) >= 3 and segs[1] == "videos":
            return self.get("facebook", f"video/{segs[2]}")
        if segs == ["video.php"]:
            return self.get("facebook", "video/" + parse_qs(parts.query).get("v", [""])[0])
        return None

    def facebook_page(self, req: Request) -> Response:
        p = self._facebook_post(req.url)
        if p is None or p.state == "gone":
            return _page("Facebook", {"og:site_name": "Facebook", "og:title": "Facebook"},
                         "<div>This content isn't available right now</div>")
        url = (f"https://www.facebook.com/{p.handle}/videos/{p.raw_id}/" if p.id.startswith("video/")
               else f"https://www.facebook.com/{p.handle}/posts/{p.id}/")
        return _page(p.name, {"og:site_name": "Facebook", "og:url": url, "og:title": p.name,
                              "og:description": p.text, "og:image": f"{FB_CDN}{p.raw_id}_n.jpg?_nc_cat=1"})

    def facebook_oembed(self, req: Request) -> Response:
        url = req.query.get("url", "")
        p = self._facebook_post(url)
        video = req.path.endswith("oembed_video")
        if p is None or p.state == "gone" or p.id.startswith("video/") != video:
            return _graph_error(404, "(#100) The requested object does not exist or is not a "
                                     + ("video" if video else "post"))
        if p.state == "private":
            return _graph_error(403, "(#10) This content is not public")
        page = f"https://www.facebook.com/{p.handle}/"
        kind = "fb-video" if video else "fb-post"
        inner = (f'<a href="{html.escape(url)}">{html.escape(p.text)}</a><p>{html.escape(p.text)}</p>' if video
                 else f"<p>{html.escape(p.text)}</p>")
        markup = (
            '<div id="fb-root"></div> <script async="1" defer="1" crossorigin="anonymous" '
            'src="https://connect.facebook.net/en_US/sdk.js#xfbml=1&amp;version=v26.0"></script>'
            f'<div class="{kind}" data-href="{html.escape(url)}" data-width="552"><blockquote cite="{html.escape(url)}" '
            f'class="fb-xfbml-parse-ignore">{inner}Posted by <a href="{page}">{html.escape(p.name)}</a> '
            f'on&nbsp;<a href="{html.escape(url)}">Monday, June 10, 2024</a></blockquote></div>'
        )
        return _json(200, {"type": "video" if video else "rich", "version": "1.0", "provider_name": "Facebook",
                           "provider_url": "https://www.facebook.com", "width": 552, "height": None, "html": markup})

    # -- Threads ---------------------------------------------------------------------------

    def threads_page(self, req: Request) -> Response:
        segs = [s for s in req.path.split("/") if s]
        p = self.get("threads", segs[2]) if len(segs) >= 3 and segs[1] == "post" else None
        if p is None or p.state != "available":
            return _page("Threads", {"og:site_name": "Threads", "og:title": "Threads"}, "")
        return _page(f"{p.name} (@{p.handle}) on Threads", {
            "og:site_name": "Threads", "og:url": f"https://www.threads.com/@{p.handle}/post/{p.id}",
            "og:title": f"{p.name} (@{p.handle}) on Threads", "og:description": p.text,
            "og:image": f"{IG_CDN}threads_{p.id}.jpg?stp=dst-jpg_s640x640",
        })

    def threads_oembed(self, req: Request) -> Response:
        segs = [s for s in urlsplit(req.query.get("url", "")).path.split("/") if s]
        p = self.get("threads", segs[-1]) if segs else None
        if p is None or p.state == "gone":
            return _graph_error(404, "Invalid permalink")
        if p.state == "private":
            return _graph_error(403, "This post is not public")
        link = f"https://www.threads.com/@{p.handle}/post/{p.id}"
        markup = (
            f'<blockquote class="text-post-media" data-text-post-permalink="{link}" data-text-post-version="0" '
            f'id="ig-tp-{p.id}" style=" background:#FFF;"> <a href="{link}" target="_blank"> <div> '
            f'<div> Post by @{p.handle}</div> <div> View on Threads</div></div></a></blockquote>\n'
            '<script async src="https://www.threads.com/embed.js"></script>'
        )
        return _json(200, {"type": "rich", "version": "1.0", "provider_name": "Threads",
                           "provider_url": "https://www.threads.com/", "width": 658, "html": markup})


def news_page(body: str, *, title: str = "Floods reach the capital") -> str:
    """An article page with `body` in its content and these platforms all over its chrome."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | News Example</title>
<meta property="og:url" content="{ARTICLE}">
<link rel="stylesheet" href="/static/site.css"></head>
<body class="single has-sidebar">
<header class="site-header" role="banner">
  <nav class="main-nav"><a href="/">Home</a> <a href="/world">World</a></nav>
  <ul class="social-links">
    <li><a href="https://www.youtube.com/@NewsExample">YouTube</a></li>
    <li><a href="https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv">Channel</a></li>
    <li><a href="https://www.instagram.com/newsexample/">Instagram</a></li>
    <li><a href="https://www.facebook.com/newsexample">Facebook</a></li>
    <li><a href="https://www.tiktok.com/@newsexample">TikTok</a></li>
    <li><a href="https://www.threads.net/@newsexample">Threads</a></li>
  </ul>
</header>
<main id="content"><article class="post">
  <header class="entry-header"><h1>{title}</h1>
    <div class="share-buttons">
      <a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fnews.example%2F2024%2F06%2F10%2Ffloods">Share on Facebook</a>
      <a href="https://www.threads.net/intent/post?text=Floods%20https%3A%2F%2Fnews.example%2F">Share on Threads</a>
      <a href="https://www.facebook.com/dialog/share?app_id=1&amp;href=https%3A%2F%2Fnews.example%2F">Share</a>
    </div>
  </header>
  <div class="entry-content">
    <p>Rivers burst their banks overnight, officials said, as rain kept falling.</p>
{body}
    <p>The weather service expects more rain on Tuesday.</p>
  </div>
  <footer class="entry-footer"><a href="/tag/floods" rel="tag">Floods</a></footer>
</article></main>
<aside class="sidebar widget-area" role="complementary">
  <section class="widget"><h2>Watch</h2>
    <iframe src="https://www.youtube.com/embed/SidebarVid1?rel=0" width="300" height="169"></iframe>
    <div class="fb-page" data-href="https://www.facebook.com/newsexample" data-tabs="timeline"></div>
  </section>
</aside>
<footer class="site-footer" role="contentinfo">
  <p>Our latest video: <a href="https://www.youtube.com/watch?v=FooterVid01">watch</a>, our latest post
     <a href="https://www.instagram.com/p/FooterPost1/">on Instagram</a> and https://www.tiktok.com/@newsexample/video/7000000000000000001</p>
</footer>
<section id="comments" class="comments-area"><ol class="comment-list"><li class="comment">
  <article class="comment-body"><p>Look: <a href="https://www.facebook.com/troll/posts/1234567890123">here</a>
  and https://www.threads.net/@troll/post/TrollPost01</p></article>
</li></ol></section>
<script src="/static/app.js"></script>
</body></html>"""


def extract(body: str) -> ExtractResult:
    """Every platform's embeds in `news_page(body)`."""
    return find_embeds(parse_html(news_page(body).encode(), base_url=ARTICLE))


def summary(result: ExtractResult, platform: str) -> list[tuple[str, list[str]]]:
    return [(e.id or e.url, e.forms) for e in result.embeds if e.platform == platform]


def only(result: ExtractResult, platform: str) -> Embed:
    (embed,) = [e for e in result.embeds if e.platform == platform]
    return embed


def run_capture(web: FixtureWeb, archive: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["capture", ARTICLE, "--archive", str(archive), "--no-requisites", *args],
                              env=web.env(), catch_exceptions=False)


def export_rows(archive: Path) -> dict[tuple[str, str], dict]:
    result = CliRunner().invoke(cli, ["export", "--archive", str(archive)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {(r["platform"], r["id"]): r for r in map(json.loads, result.stdout.splitlines())}
