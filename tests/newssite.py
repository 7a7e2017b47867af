"""A few news sites on the fixture web, for crawl tests and the crawl benchmark.

Four hosts, each announcing its articles its own way, so seeds must be recognised by content:

* www.daily.example    RSS 2.0 at /feed.xml
* news.herald.example  Atom at /latest (no telltale name, served as application/xml)
* www.gazette.example  a sitemap index at /sitemap_index.xml naming a news sitemap
                       (news:publication_date) and a gzip-compressed archive sitemap
* www.courier.example  a plain sitemap at /sitemap (text/xml), and one article given directly

Every host has a robots.txt disallowing /private/ (some listed articles live there), a
stylesheet and a logo. Some articles embed tweets (tests/twitterworld.py); each links to a
sibling, to an /extra/ page no listing names (reached only with --depth), and off-site.
`web.latency` delays every response, the twitter hosts' included.
"""

from __future__ import annotations

import gzip
import html
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

from fixtureweb import FixtureWeb, Request, Response
from twitterworld import FakeTweet, TwitterWorld, media_bytes

DAILY, HERALD, GAZETTE, COURIER = ("www.daily.example", "news.herald.example", "www.gazette.example",
                                   "www.courier.example")
HOSTS = (DAILY, HERALD, GAZETTE, COURIER)
BASE_DATE = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)


@dataclass
class Story:
    n: int
    host: str
    path: str
    published: datetime
    private: bool
    tweet: Optional[FakeTweet]

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"

    @property
    def extra_url(self) -> str:
        return f"https://{self.host}/extra/more-{self.n}"


def tweet_pool(n: int = 12) -> list[FakeTweet]:
    """Tweets the articles embed: most available (some with a photo), one deleted, one protected."""
    out = []
    for i in range(n):
        state = "gone" if i == 3 else "protected" if i == 7 else "available"
        out.append(FakeTweet(
            id=str(1700000000000000000 + i * 7919), handle=f"reporter{i}", name=f"Reporter {i}",
            text=f"Report number {i} from the field", created_at="2024-02-28T12:00:00.000Z",
            photos=[f"NewsPhoto{i}"] if i % 2 == 0 else [], state=state,
        ))
    return out


class NewsSite:
    """Registers the sites on `web`; `stories`, `seeds_text()` and the expected sets for tests."""

    def __init__(self, web: FixtureWeb, *, articles: int = 200, latency: float = 0.02, tweet_every: int = 5,
                 private_every: int = 9, crawl_delay: Optional[dict[str, float]] = None):
        self.web = web
        self.tweets = tweet_pool()
        self.crawl_delay = crawl_delay or {}
        web.latency = latency
        TwitterWorld(web, self.tweets)
        self.stories: list[Story] = []
        for n in range(articles):
            host = HOSTS[n % len(HOSTS)]
            published = BASE_DATE + timedelta(hours=n)
            private = private_every > 0 and n % private_every == private_every - 1
            path = (f"/private/story-{n}" if private
                    else f"/{published:%Y/%m/%d}/story-{n}")
            tweet = self.tweets[n % len(self.tweets)] if tweet_every and n % tweet_every == 0 else None
            self.stories.append(Story(n, host, path, published, private, tweet))
        self.by_url = {s.url: s for s in self.stories}
        for host in HOSTS:
            web.route(f"https://{host}/", self.handle, prefix=True)

    # -- what tests expect ---------------------------------------------------------------------

    def seeds_text(self) -> str:
        direct = next(s for s in self.stories if s.host == COURIER and not s.private)
        return "\n".join([
            "# news sites for the crawl tests",
            f"https://{DAILY}/feed.xml",
            f"https://{HERALD}/latest   # an Atom feed, by its content",
            "",
            f"https://{GAZETTE}/sitemap_index.xml",
            f"https://{COURIER}/sitemap",
            direct.url,
        ]) + "\n"

    @property
    def allowed(self) -> list[Story]:
        return [s for s in self.stories if not s.private]

    @property
    def disallowed(self) -> list[Story]:
        return [s for s in self.stories if s.private]

    # -- serving ---------------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        host, path = req.host, req.path
        if path == "/robots.txt":
            rules = "User-agent: *\nDisallow: /private/\n"
            if host in self.crawl_delay:
                rules += f"Crawl-delay: {self.crawl_delay[host]}\n"
            return Response.text(rules)
        if path == "/static/site.css":
            return Response(200, b"body{font-family:serif}", [("Content-Type", "text/css")])
        if path == "/img/logo.png":
            return Response(200, media_bytes(f"{host}/logo", 600), [("Content-Type", "image/png")])
        if host == DAILY and path == "/feed.xml":
            return Response(200, self.rss(host), [("Content-Type", "application/rss+xml; charset=utf-8")])
        if host == HERALD and path == "/latest":
            return Response(200, self.atom(host), [("Content-Type", "application/xml")])
        if host == GAZETTE and path == "/sitemap_index.xml":
            return Response(200, self.sitemap_index(host), [("Content-Type", "application/xml")])
        if host == GAZETTE and path == "/sitemap-news.xml":
            return Response(200, self.news_sitemap(host), [("Content-Type", "application/xml")])
        if host == GAZETTE and path == "/sitemap-archive.xml.gz":
            return Response(200, gzip.compress(self.urlset(self.older(host))), [("Content-Type", "application/x-gzip")])
        if host == COURIER and path == "/sitemap":
            return Response(200, self.urlset(self.of(host)), [("Content-Type", "text/xml")])
        story = self.by_url.get(f"https://{host}{path}")
        if story is not None:
            return Response.html(self.article(story))
        if path.startswith("/extra/"):
            return Response.html(self.extra_page(host, path))
        return Response.html("<!DOCTYPE html><title>Not found</title>", status=404)

    def of(self, host: str) -> list[Story]:
        return [s for s in self.stories if s.host == host]

    def newer(self, host: str) -> list[Story]:
        mine = self.of(host)
        return mine[len(mine) // 2:]

    def older(self, host: str) -> list[Story]:
        mine = self.of(host)
        return mine[: len(mine) // 2]

    def rss(self, host: str) -> bytes:
        items = "".join(
            f"<item><title>Story {s.n}</title><link>{s.url}</link><guid isPermaLink=\"false\">s{s.n}</guid>"
            f"<pubDate>{s.published:%a, %d %b %Y %H:%M:%S} +0000</pubDate></item>"
            for s in reversed(self.of(host)))
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>{host}</title>'
                f"<link>https://{host}/</link>{items}</channel></rss>").encode()

    def atom(self, host: str) -> bytes:
        entries = "".join(
            f'<entry><title>Story {s.n}</title><link rel="alternate" type="text/html" href="{s.path}"/>'
            f"<id>tag:{host},2024:{s.n}</id><updated>{s.published:%Y-%m-%dT%H:%M:%SZ}</updated></entry>"
            for s in reversed(self.of(host)))
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
                f'xml:base="https://{host}/"><title>{host}</title><id>tag:{host},2024:feed</id>'
                f"<updated>2024-03-10T00:00:00Z</updated>{entries}</feed>").encode()

    def sitemap_index(self, host: str) -> bytes:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>https://{host}/sitemap-news.xml</loc></sitemap>"
                f"<sitemap><loc>https://{host}/sitemap-archive.xml.gz</loc><lastmod>2024-03-05</lastmod></sitemap>"
                f"</sitemapindex>").encode()

    def news_sitemap(self, host: str) -> bytes:
        urls = "".join(
            f"<url><loc>{s.url}</loc><news:news><news:publication><news:name>Gazette</news:name>"
            f"<news:language>en</news:language></news:publication>"
            f"<news:publication_date>{s.published:%Y-%m-%dT%H:%M:%S}+00:00</news:publication_date>"
            f"<news:title>Story {s.n}</news:title></news:news></url>"
            for s in self.newer(host))
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>').encode()

    def urlset(self, stories: list[Story]) -> bytes:
        urls = "".join(f"<url><loc>{s.url}</loc><lastmod>{s.published:%Y-%m-%dT%H:%M:%SZ}</lastmod></url>"
                       for s in stories)
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode()

    def article(self, s: Story) -> str:
        siblings = self.of(s.host)
        sibling = siblings[(siblings.index(s) + 1) % len(siblings)]
        embed = ""
        if s.tweet is not None:
            t = s.tweet
            embed = (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{html.escape(t.text)}</p>'
                     f"&mdash; {html.escape(t.name)} (@{t.handle}) "
                     f'<a href="{t.permalink}?ref_src=twsrc%5Etfw">February 28, 2024</a></blockquote>\n'
                     '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n')
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Story {s.n}</title>'
                f'<link rel="stylesheet" href="/static/site.css"></head><body><article><h1>Story {s.n}</h1>'
                f'<img src="/img/logo.png" alt=""><p>Something happened on {s.published:%d %B %Y}.</p>{embed}'
                f'<p>Read also <a href="{sibling.path}">story {sibling.n}</a>, '
                f'<a href="/extra/more-{s.n}#top">more on this</a> and '
                f'<a href="https://elsewhere.example/story-{s.n}">another site</a>.</p></article></body></html>')

    def extra_page(self, host: str, path: str) -> str:
        name = path.rsplit("/", 1)[-1]
        deeper = "" if name.startswith("deeper") else f'<a href="/extra/deeper-{name}">deeper</a>'
        return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{name}</title>'
                f'<link rel="stylesheet" href="/static/site.css"></head><body><p>{name}</p>{deeper}</body></html>')
