"""Extraction speed: `archiver extract` over a few hundred varied news-sized pages, next to a bare
`lxml.html.fromstring` parse of the same pages (the practical limit). Target: >= half its rate.

    python3 bench/extract_speed.py [--pages 300] [--seed 1] [--rounds 9] [--platforms twitter]
                                   [--requisites] [--detectors] [--cli] [--save DIR]

Pages are generated deterministically (seeded) and calibrated on what real news pages are like,
not on what is hardest for a parser: about 200 KB on average (60 to 410 KB), of which a fifth is
inline CSS, inline scripts (site JS comparing with "<", a twitter widget loader, share endpoints),
JSON-LD and framework state blobs (which repeat the article HTML, tweet URLs included, as JSON),
plus SVG icons; the rest is markup of a realistic density (500 to 4,000 elements, ~1,800 on
average). On such pages a bare `lxml.html.fromstring` runs about 2.5 times as fast as on the
first version of this benchmark (measured interleaved: 2.55-2.9x), which is the maintainers'
300 pages/s on real pages against 118 on those denser pages.

Each page has a kind, and the ratio is reported per kind as well as overall:

    plain          no posts at all: share/follow buttons (X, Facebook, WhatsApp, often Reddit, Telegram,
                   Bluesky), twitter:card meta, intent links only
    tweet-embeds   1-6 blockquote.twitter-tweet embeds (+ widgets.js), some in WordPress figures
    tweet-links    status links and t.co links in <a>, bare status URLs and t.co in running text
    footer-link    a status link (and a timeline) in the site's footer/sidebar: chrome, no post
    other-embeds   YouTube, Instagram, TikTok, Bluesky, Facebook, Threads, Mastodon, Reddit, Telegram
    comments       a long comment section (with tweet links in it: chrome) under a plain article
    liveblog       a long page with 8-25 tweet embeds, links and other platforms' embeds

Ground truth is kept per page, so the tweet-id precision and recall of the run are printed too
(speed must never cost correctness), and how many pages of each kind needed their tree built
(`parse_html` parses only when a detector asks for the tree). Timing: every round runs each
kind's pages through the bare parse and then through ours; rounds are interleaved and the best
CPU time of each is kept (the machine is shared). `--platforms twitter` measures one detector;
`--detectors` prints what each registered detector costs alone, per kind.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

from archiver import extract
from archiver.platforms import PLATFORMS

KINDS = {  # kind -> share of the pages (real crawls: most articles embed nothing)
    "plain": 0.34,
    "tweet-embeds": 0.14,
    "tweet-links": 0.12,
    "footer-link": 0.08,
    "other-embeds": 0.16,
    "comments": 0.10,
    "liveblog": 0.06,
}

WORDS = ("the of and to in a is that for on with as by was at from it an be this are have has were not but "
         "they their said would could after before over into about more than also when which who will been "
         "minister forces camp prisoners escape report sources government official statement border attack "
         "civilians region military withdrawal sanctions video footage people city police officials week "
         "according president election court ruling parliament vote opposition protest economy prices "
         "inflation market shares company workers union strike hospital health children schools water "
         "power weather storm flooding residents local council mayor spokesperson agency interview").split()
ACCENTED = ("café", "résumé", "naïve", "São Paulo", "Zürich", "Ayn Issa", "Kraków", "Malmö", "Côte d’Ivoire")
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@dataclass
class Page:
    kind: str
    data: bytes
    tweets: set[str] = field(default_factory=set)  # tweet ids a reader sees as posts of the article


class Gen:
    """One page's builder: a seeded rng, a sentence pool, and the ground truth being recorded."""

    def __init__(self, rng: random.Random, pool: list[str]):
        self.rng, self.pool = rng, pool
        self.tweets: set[str] = set()

    # ---- small pieces

    def code(self, n: int, alphabet: str = LETTERS) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def sentence(self) -> str:
        return self.rng.choice(self.pool)

    def prose(self, n: int) -> str:
        return " ".join(self.rng.choice(self.pool) for _ in range(n))

    def tweet_id(self) -> str:
        return str(self.rng.randrange(10**17, 2 * 10**18))

    def handle(self) -> str:
        return self.rng.choice(["Reuters", "AP", "RojavaIC", "bbcworld", "nytimes", "user_"]) + str(self.rng.randrange(999))

    def svg(self, size: int) -> str:
        """An inline icon: one long path, as sites inline their sprite icons."""
        nums = " ".join(f"{self.rng.randrange(100)}.{self.rng.randrange(100)}" for _ in range(size // 6))
        return (f'<svg class="icon" aria-hidden="true" viewBox="0 0 24 24" width="24" height="24">'
                f'<path fill="currentColor" d="M{nums}z"></path></svg>')

    def img(self, cls: str = "") -> str:
        n = self.rng.randrange(10**6)
        srcset = ", ".join(f"https://cdn.news.example/images/{w}x{w * 9 // 16}/{n}.jpg {w}w" for w in (320, 640, 960, 1280))
        return (f'<img{cls} src="https://cdn.news.example/images/640x360/{n}.jpg" srcset="{srcset}" '
                f'sizes="(max-width: 768px) 100vw, 640px" alt="{self.sentence()[:60]}" loading="lazy" width="640" height="360">')

    def paragraph(self, links: int = 1) -> str:
        parts = [self.prose(self.rng.randrange(1, 4))]
        for _ in range(links):
            if self.rng.random() < 0.6:
                parts.append(f'<a href="https://news.example/{self.rng.randrange(2015, 2025)}/story-{self.rng.randrange(10**6)}">'
                             f"{self.rng.choice(WORDS)} {self.rng.choice(WORDS)}</a>")
            else:
                parts.append(f"<strong>{self.rng.choice(WORDS)}</strong>")
            parts.append(self.prose(self.rng.randrange(1, 3)))
        if self.rng.random() < 0.2:
            parts.append(f"“{self.rng.choice(ACCENTED)}” &amp; {self.sentence()}")
        return "<p>" + " ".join(parts) + "</p>"

    # ---- tweets

    def tweet_blockquote(self, *, x_com: bool = False, chrome: bool = False) -> str:
        tid, handle, code = self.tweet_id(), self.handle(), self.code(10)
        if not chrome:
            self.tweets.add(tid)
        host = "x.com" if x_com else "twitter.com"
        mention = (f'<a href="https://twitter.com/{self.handle()}?ref_src=twsrc%5Etfw">@{self.handle()}</a> '
                   if self.rng.random() < 0.4 else "")
        tag = ('<a href="https://twitter.com/hashtag/Syria?src=hash&amp;ref_src=twsrc%5Etfw">#Syria</a> '
               if self.rng.random() < 0.3 else "")
        media = f'<a href="https://t.co/{code}">pic.twitter.com/{code}</a>' if self.rng.random() < 0.6 else ""
        attrs = self.rng.choice(['', ' data-width="550" data-dnt="true"', ' data-lang="en" data-theme="dark"', ' data-media-max-width="560"'])
        quote = (f'<blockquote class="twitter-tweet"{attrs}><p lang="en" dir="ltr">{mention}{self.sentence()} {tag}{media}</p>'
                 f'&mdash; {self.rng.choice(["Rojava Information Center", "Reuters", "A Reporter", "Agency"])} (@{handle}) '
                 f'<a href="https://{host}/{handle}/status/{tid}?ref_src=twsrc%5Etfw">March {self.rng.randrange(1, 29)}, 2024</a>'
                 f'</blockquote>\n<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>')
        if self.rng.random() < 0.4:  # WordPress / Gutenberg wrapper
            quote = ('<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
                     f'<div class="wp-block-embed__wrapper">\n{quote}\n</div></figure>')
        return quote

    def tweet_link(self) -> str:
        tid, handle = self.tweet_id(), self.handle()
        self.tweets.add(tid)
        host = self.rng.choice(["twitter.com", "x.com", "mobile.twitter.com"])
        return (f"<p>{self.prose(1)} As {handle} <a href=\"https://{host}/{handle}/status/{tid}?s=20\">said on X</a>, "
                f"{self.prose(1)}</p>")

    def tweet_bare(self) -> str:
        tid, handle = self.tweet_id(), self.handle()
        self.tweets.add(tid)
        return f"<p>{self.prose(1)} (https://twitter.com/{handle}/status/{tid}) {self.prose(1)}</p>"

    def tco(self) -> str:
        code = self.code(10)
        if self.rng.random() < 0.5:
            return f'<p>{self.prose(1)} A video (<a href="https://t.co/{code}">link</a>) {self.prose(1)}</p>'
        return f"<p>{self.prose(1)} pic.twitter.com/{code} {self.prose(1)}</p>"

    # ---- other platforms (markup as in shared/docs/social-embeds.md section 6)

    def other_embed(self) -> str:
        r, code = self.rng, self.code(11, LETTERS + "_-")
        kind = r.choice(["youtube", "youtube", "youtube", "instagram", "instagram", "tiktok", "bluesky", "facebook",
                         "facebook-sdk", "threads", "mastodon", "reddit", "telegram"])
        if kind == "youtube":
            host = r.choice(["www.youtube.com", "www.youtube-nocookie.com"])
            return (f'<figure class="video"><iframe width="560" height="315" src="https://{host}/embed/{code}?si={self.code(16)}" '
                    'title="YouTube video player" frameborder="0" allow="accelerometer; autoplay; clipboard-write; '
                    'encrypted-media; gyroscope; picture-in-picture; web-share" referrerpolicy="strict-origin-when-cross-origin" '
                    'allowfullscreen></iframe></figure>')
        if kind == "instagram":
            link = f"https://www.instagram.com/p/{code}/?utm_source=ig_embed&amp;utm_campaign=loading"
            style = ' style="background-color: #F4F4F4; border-radius: 4px; flex-grow: 0; height: 14px; margin-bottom: 6px; width: 100px;"'
            filler = "".join(f"<div{style}></div>" for _ in range(12))
            return (f'<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink="{link}" '
                    'data-instgrm-version="14" style=" background:#FFF; border:0; border-radius:3px; margin: 1px; '
                    f'max-width:540px; min-width:326px; padding:0; width:calc(100% - 2px);"><div style="padding:16px;">'
                    f'<a href="{link}" style=" background:#FFFFFF; line-height:0; padding:0 0;" target="_blank">{filler}'
                    '<div style="padding-top: 8px;"><div style=" color:#3897f0; font-family:Arial,sans-serif;">View this post '
                    f'on Instagram</div></div></a><p style=" margin:8px 0 0 0; padding:0 4px;"><a href="{link}" '
                    f'target="_blank">{self.sentence()}</a></p><p>A post shared by <a href="https://www.instagram.com/someone/'
                    '?utm_source=ig_embed&amp;utm_campaign=loading" target="_blank"> Some One</a> (@someone) on '
                    '<time datetime="2024-03-03T18:19:39+00:00">Mar 3, 2024</time></p></div></blockquote>'
                    '<script async src="//www.instagram.com/embed.js"></script>')
        if kind == "tiktok":
            vid = str(r.randrange(7 * 10**18, 8 * 10**18))
            return (f'<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@user{vid[:4]}/video/{vid}" data-video-id="{vid}" '
                    'data-embed-from="oembed" style="max-width:605px; min-width:325px;"><section><a target="_blank" '
                    f'title="@user{vid[:4]}" href="https://www.tiktok.com/@user{vid[:4]}?refer=embed">@user{vid[:4]}</a> <p>'
                    f'{self.sentence()} <a title="news" target="_blank" href="https://www.tiktok.com/tag/news?refer=embed">#news</a>'
                    '</p> <a target="_blank" title="♬ original sound" href="https://www.tiktok.com/music/original-sound-'
                    f'{vid[::-1]}?refer=embed">♬ original sound</a></section></blockquote>'
                    '<script async src="https://www.tiktok.com/embed.js"></script>')
        if kind == "bluesky":
            did, rkey = f"did:plc:{self.code(24, 'abcdefghijklmnopqrstuvwxyz234567')}", self.code(13, "abcdefghijklmnopqrstuvwxyz234567")
            return (f'<blockquote class="bluesky-embed" data-bluesky-uri="at://{did}/app.bsky.feed.post/{rkey}" '
                    f'data-bluesky-cid="bafyrei{self.code(52, "abcdefghijklmnopqrstuvwxyz234567")}"><p lang="en">{self.sentence()}</p>'
                    f'&mdash; Some One (<a href="https://bsky.app/profile/{did}?ref_src=embed">@someone.bsky.social</a>) '
                    f'<a href="https://bsky.app/profile/{did}/post/{rkey}?ref_src=embed">March 3, 2024 at 7:01 PM</a></blockquote>'
                    '<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>')
        if kind == "facebook":
            return ('<iframe src="https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com%2Fnewsexample%2F'
                    f'posts%2Fpfbid0{self.code(40)}&amp;show_text=true&amp;width=500" width="500" height="600" '
                    'style="border:none;overflow:hidden" scrolling="no" frameborder="0" allowfullscreen="true" '
                    'allow="autoplay; clipboard-write; encrypted-media; picture-in-picture; web-share"></iframe>')
        if kind == "facebook-sdk":
            post = f"https://www.facebook.com/newsexample/posts/{r.randrange(10**15, 10**16)}"
            return (f'<div class="fb-post" data-href="{post}" data-width="500" data-show-text="true"><blockquote cite="{post}" '
                    f'class="fb-xfbml-parse-ignore"><p>{self.sentence()}</p>Posted by <a href="https://www.facebook.com/newsexample">'
                    f'News Example</a> on <a href="{post}">Sunday, March 3, 2024</a></blockquote></div>')
        if kind == "threads":
            link = f"https://www.threads.net/@someone/post/{code}"
            return (f'<blockquote class="text-post-media" data-text-post-permalink="{link}" data-text-post-version="0" '
                    f'id="ig-tp-{code}" style=" background:#FFF; border-width:1px; border-style:solid; border-color:#00000026; '
                    f'border-radius:16px; max-width:540px; margin: 1px; min-width:270px; padding:0; width:99.375%;"><a href="{link}" '
                    'style=" background:#FFFFFF; line-height:0; padding:0 0; text-align:center; text-decoration:none; width:100%; '
                    'font-family: -apple-system, BlinkMacSystemFont, sans-serif;" target="_blank"><div style=" padding: 40px; '
                    'display: flex; flex-direction: column; align-items: center;">View on Threads</div></a></blockquote>'
                    '<script async src="https://www.threads.net/embed.js"></script>')
        if kind == "mastodon":
            sid = r.randrange(10**17, 2 * 10**17)
            return (f'<iframe src="https://mastodon.social/@someone/{sid}/embed" class="mastodon-embed" style="max-width: 100%; '
                    'border: 0" width="400" allowfullscreen="allowfullscreen"></iframe>'
                    '<script src="https://mastodon.social/embed.js" async="async"></script>')
        if kind == "reddit":
            return (f'<blockquote class="reddit-embed-bq" style="height:316px" ><a href="https://www.reddit.com/r/worldnews/comments/'
                    f'{self.code(6, "abcdefghijklmnopqrstuvwxyz0123456789")}/some_title/">{self.sentence()}</a><br> by '
                    '<a href="https://www.reddit.com/user/someone/">u/someone</a> in <a href="https://www.reddit.com/r/worldnews/">'
                    'worldnews</a></blockquote><script async src="https://embed.reddit.com/widgets.js" charset="UTF-8"></script>')
        return (f'<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="newschannel/{r.randrange(10**5)}" '
                'data-width="100%"></script>')

    # ---- page regions

    def head(self, title: str, state_blob: str) -> str:
        r = self.rng
        metas = "".join(f'<meta property="og:{k}" content="{self.sentence()}">' for k in ("title", "description", "site_name"))
        metas += ('<meta name="twitter:card" content="summary_large_image"><meta name="twitter:site" content="@NewsExample">'
                  f'<meta name="twitter:title" content="{title}"><meta name="description" content="{self.sentence()}">'
                  '<meta name="viewport" content="width=device-width, initial-scale=1">')
        links = "".join(f'<link rel="stylesheet" href="https://cdn.news.example/css/{self.code(8)}.css">' for _ in range(r.randrange(2, 9)))
        links += "".join(f'<link rel="preload" as="font" href="/fonts/{self.code(6)}.woff2" crossorigin>' for _ in range(r.randrange(1, 5)))
        links += '<link rel="icon" href="/favicon.ico"><link rel="canonical" href="https://news.example/2024/03/03/story">'
        css = "".join(f".c-{self.code(5)}{{display:flex;margin:0 {r.randrange(40)}px;color:#{self.code(6, '0123456789abcdef')}}}"
                      for _ in range(r.randrange(60, 500)))
        ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
                         "description": self.prose(3), "author": [{"@type": "Person", "name": "A Reporter"}],
                         "articleBody": self.prose(r.randrange(5, 40))}, ensure_ascii=False)
        scripts = "".join(
            f"<script>window.dataLayer=window.dataLayer||[];(function(w,d,s,l,i){{var f=d.getElementsByTagName(s)[0],"
            f"j=d.createElement(s);j.async=true;j.src='https://www.googletagmanager.com/gtm.js?id='+i;}})"
            f"(window,document,'script','dataLayer','GTM-{self.code(7)}');var ads={{slots:[{','.join(str(r.randrange(10**6)) for _ in range(r.randrange(20, 200)))}]}};</script>"
            for _ in range(r.randrange(2, 7)))
        return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>{metas}{links}'
                f'<style>{css}</style><script type="application/ld+json">{ld}</script>{scripts}{state_blob}</head>')

    def site_header(self) -> str:
        r = self.rng
        items = "".join(f'<li class="menu-item menu-item-{i}"><a href="https://news.example/{self.rng.choice(WORDS)}/{i}">'
                        f"{self.rng.choice(WORDS).title()}</a></li>" for i in range(r.randrange(40, 190)))
        social = "".join(f'<a class="social-{n}" href="https://{h}/NewsExample" aria-label="{n}">{self.svg(r.randrange(200, 900))}</a>'
                         for n, h in (("twitter", "twitter.com"), ("facebook", "www.facebook.com"),
                                      ("instagram", "www.instagram.com"), ("youtube", "www.youtube.com")))
        gtm = ('<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-' + self.code(7) + '" height="0" '
               'width="0" style="display:none;visibility:hidden"></iframe></noscript>') if r.random() < 0.5 else ""
        return (f'<body class="article-template single has-sidebar">{gtm}<a class="skip-link" href="#content">Skip</a>'
                f'<header class="site-header" role="banner"><a class="logo" href="/">{self.svg(r.randrange(1000, 4000))}</a>'
                f'<nav class="main-nav" aria-label="Main"><ul class="menu">{items}</ul></nav>'
                f'<form class="search" action="/search"><input type="search" name="q"><button>{self.svg(300)}</button></form>'
                f'<div class="social-links">{social}</div></header>')

    def share_buttons(self) -> str:
        url = "https%3A%2F%2Fnews.example%2F2024%2F03%2F03%2Fstory"
        return ('<div class="share-buttons">'
                f'<a class="twitter-share-button" href="https://twitter.com/intent/tweet?url={url}&amp;text=Story">{self.svg(500)}</a>'
                f'<a href="https://www.facebook.com/sharer/sharer.php?u={url}">{self.svg(400)}</a>'
                f'<a href="https://api.whatsapp.com/send?text={url}">{self.svg(600)}</a>'
                + (f'<a class="share-reddit" href="https://www.reddit.com/submit?url={url}">{self.svg(300)}</a>'
                   f'<a href="https://t.me/share/url?url={url}">{self.svg(300)}</a>' if self.rng.random() < 0.5 else "")
                + (f'<a href="https://bsky.app/intent/compose?text={url}">{self.svg(300)}</a>' if self.rng.random() < 0.3 else "")
                + f'<a href="mailto:?subject=Story&amp;body={url}">{self.svg(300)}</a></div>')

    def ad(self) -> str:
        return (f'<div class="ad-slot" id="div-gpt-ad-{self.code(13, "0123456789")}-0" data-ad-unit="/1234/news/article" '
                'data-sizes="[[300,250],[336,280],[728,90]]" data-lazy="true"></div>')

    def card_list(self, title: str, n: int) -> str:
        cards = "".join(
            f'<li class="card"><div class="card__inner"><a class="card__link" href="https://news.example/2024/story-{self.rng.randrange(10**6)}">'
            f'<div class="card__media"><picture>{self.img(" class=card__img")}</picture></div>'
            f'<div class="card__body"><span class="card__kicker">{self.rng.choice(WORDS).title()}</span>'
            f'<h3 class="card__title"><span>{self.sentence()[:80]}</span></h3></div></a>'
            f'<div class="card__meta"><time class="card__time" datetime="2024-03-0{self.rng.randrange(1, 9)}">{self.rng.randrange(1, 23)}h ago</time>'
            f'<span class="card__comments"><i class="icon-comment"></i> {self.rng.randrange(999)}</span></div></div></li>'
            for _ in range(n))
        return f'<section class="related"><h2>{title}</h2><ul class="card-list">{cards}</ul></section>'

    def comments(self, n: int) -> str:
        items = []
        for i in range(n):
            text = self.prose(self.rng.randrange(1, 4))
            if self.rng.random() < 0.15:  # readers cite tweets too: chrome, not the article's posts
                text += f' <a href="https://twitter.com/{self.handle()}/status/{self.tweet_id()}" rel="nofollow ugc">source</a>'
            elif self.rng.random() < 0.05:
                text += f" see x.com/{self.handle()}/status/{self.tweet_id()}"
            items.append(f'<li class="comment" id="comment-{i}"><article class="comment-body"><footer class="comment-meta">'
                         f'<img class="avatar" src="https://secure.gravatar.com/avatar/{self.code(32, "0123456789abcdef")}?s=50" '
                         f'width="50" height="50" alt=""><b class="fn">reader{self.rng.randrange(10**4)}</b> '
                         f'<time datetime="2024-03-03T10:{i % 60:02d}">March 3, 2024</time></footer>'
                         f'<div class="comment-content"><p>{text}</p></div>'
                         f'<div class="reply"><a class="comment-reply-link" href="#comment-{i}">Reply</a></div></article></li>')
        return (f'<section id="comments" class="comments-area"><h2 class="comments-title">{n} comments</h2>'
                f'<ol class="comment-list">{"".join(items)}</ol></section>')

    def sidebar(self, timeline: bool, status_link: bool) -> str:
        parts = ['<aside class="sidebar widget-area" role="complementary">', self.card_list("Most read", self.rng.randrange(5, 11))]
        if timeline:
            parts.append('<section class="widget"><a class="twitter-timeline" data-height="600" '
                         'href="https://twitter.com/NewsExample?ref_src=twsrc%5Etfw">Tweets by NewsExample</a>'
                         '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script></section>')
        if status_link:
            parts.append(self.tweet_blockquote(chrome=True))
        parts.append("</aside>")
        return "".join(parts)

    def footer(self, status_link: bool) -> str:
        r = self.rng
        cols = "".join(f'<div class="footer-col"><h4>{r.choice(WORDS).title()}</h4><ul>'
                       + "".join(f'<li><a href="https://news.example/{r.choice(WORDS)}/{i}">{r.choice(WORDS).title()}</a></li>'
                                 for i in range(r.randrange(5, 25)))
                       + "</ul></div>" for _ in range(r.randrange(3, 7)))
        pinned = (f'<p>Our latest: <a href="https://twitter.com/NewsExample/status/{self.tweet_id()}">on X</a> and '
                  f'https://x.com/NewsExample/status/{self.tweet_id()}</p>' if status_link else "")
        return (f'<footer class="site-footer" role="contentinfo">{cols}{pinned}'
                '<form class="newsletter"><input type="email" name="email" placeholder="Email"><button>Sign up</button></form>'
                f'<p class="copyright">© 2024 News Example</p></footer>')

    def body_scripts(self) -> str:
        r = self.rng
        ext = "".join(f'<script src="https://cdn.news.example/js/{self.code(10)}.js" defer></script>' for _ in range(r.randrange(3, 12)))
        config = "<script>" + "".join(f"window.__cfg_{self.code(4)}={{a:{r.randrange(99)},b:'{self.code(30)}'}};"
                                      for _ in range(r.randrange(10, 80))) + "</script>"
        # Site JS as themes ship it inline: comparisons ("<" in a script), share endpoints, status codes.
        share = ("<script>(function(){var nets={twitter:'https://twitter.com/intent/tweet?url=',"
                 "facebook:'https://www.facebook.com/sharer/sharer.php?u=',whatsapp:'https://api.whatsapp.com/send?text='};"
                 "var links=document.querySelectorAll('.share-buttons a');for(var i=0;i<links.length;i++){"
                 "links[i].addEventListener('click',function(e){if(window.innerWidth<768){return;}e.preventDefault();"
                 "window.open(this.href,'share','width=600,height=400');});}"
                 "var x=new XMLHttpRequest();x.onreadystatechange=function(){if(x.readyState===4&&x.status===200&&"
                 "x.responseText.length<1e5){document.body.classList.add('status-ok');}};"
                 "x.open('GET','/api/most-read?status=published');x.send();})();</script>")
        loader = ('<script>window.twttr=(function(d,s,id){var js,fjs=d.getElementsByTagName(s)[0],t=window.twttr||{};'
                  'if(d.getElementById(id))return t;js=d.createElement(s);js.id=id;js.src="https://platform.twitter.com/widgets.js";'
                  'fjs.parentNode.insertBefore(js,fjs);t._e=[];t.ready=function(f){t._e.push(f);};return t;}'
                  '(document,"script","twitter-wjs"));</script>') if r.random() < 0.3 else ""
        return ext + config + share + loader


def state_blob(article_html: str, size: int) -> str:
    """A framework's state script (`__NEXT_DATA__` and the like): the article again, as JSON."""
    data = {"props": {"pageProps": {"article": {"body": article_html[:size]}}}, "page": "/[section]/[slug]",
            "buildId": "b1"}
    text = json.dumps(data, ensure_ascii=False)  # escaped as Next.js does it: no "<", ">" or "&" left
    text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return f'<script id="__NEXT_DATA__" type="application/json">{text}</script>'


def build_page(kind: str, rng: random.Random, pool: list[str], target: int) -> Page:
    g = Gen(rng, pool)
    r = rng
    title = g.sentence()[:90]
    header = g.site_header()
    # Posts of the article, placed between paragraphs.
    inserts: list[str] = []
    if kind == "tweet-embeds":
        inserts = [g.tweet_blockquote(x_com=r.random() < 0.2) for _ in range(r.randrange(1, 7))]
    elif kind == "tweet-links":
        inserts = [r.choice([g.tweet_link, g.tweet_link, g.tweet_bare, g.tco])() for _ in range(r.randrange(1, 6))]
    elif kind == "other-embeds":
        inserts = [g.other_embed() for _ in range(r.randrange(1, 5))]
    elif kind == "liveblog":
        inserts = [r.choice([g.tweet_blockquote] * 6 + [g.tweet_link, g.tweet_bare, g.tco, g.other_embed, g.other_embed])()
                   for _ in range(r.randrange(8, 26))]
    timeline = r.random() < 0.25
    chrome_status = kind == "footer-link"
    sidebar = g.sidebar(timeline, chrome_status and r.random() < 0.5)
    footer = g.footer(chrome_status)
    comments = g.comments(r.randrange(40, 160)) if kind == "comments" else ""
    tail = g.body_scripts()
    head = g.head(title, "\0")  # the state blob goes where the NUL is, once its size is known
    fixed = len(head) + len(header) + len(sidebar) + len(footer) + len(comments) + len(tail) + sum(map(len, inserts)) + 3000
    # What is left goes to the article, the related-stories lists, and the head's inline blobs.
    blob_share = r.choice([0.0, 0.0, 0.0, 0.2, 0.3]) if kind != "comments" else 0.0
    article_budget = max(8000, int((target - fixed) * (1 - blob_share) * 0.55))
    body: list[str] = [f'<main id="content"><article class="post"><header class="entry-header"><h1 class="entry-title">{title}</h1>'
                       f'<p class="byline">By <a href="/author/a-reporter" rel="author">A Reporter</a> '
                       f'<time datetime="2024-03-03T10:00:00Z">3 March 2024</time></p>{g.share_buttons()}</header>'
                       f'<figure class="lead">{g.img()}<figcaption>{g.sentence()}</figcaption></figure>'
                       '<div class="entry-content article-body">']
    size, n_paras = 0, 0
    inserts_left = list(inserts)
    while size < article_budget or inserts_left:
        chunk = g.paragraph(links=r.choice([0, 0, 1, 1, 2]))
        n_paras += 1
        if n_paras % 6 == 0:
            chunk += g.ad()
        if n_paras % 9 == 0:
            chunk += f"<h2>{g.sentence()[:70]}</h2>"
        if n_paras % 11 == 0:
            chunk += f'<figure class="inline">{g.img()}<figcaption>{g.sentence()}</figcaption></figure>'
        if inserts_left and (size > article_budget * (len(inserts) - len(inserts_left) + 1) / (len(inserts) + 1)
                             or size >= article_budget):
            chunk += inserts_left.pop(0)
        body.append(chunk)
        size += len(chunk)
    body.append(f'</div><footer class="entry-footer"><ul class="tags"><li><a href="/tag/world" rel="tag">World</a></li></ul>'
                f"{g.share_buttons()}</footer></article>")
    related_budget = max(0, int((target - fixed) * (1 - blob_share)) - size)
    while related_budget > 2000:
        block = g.card_list(r.choice(["More stories", "Related", "Latest"]), r.randrange(4, 10))
        body.append(block)
        related_budget -= len(block)
    body.append("</main>")
    article_html = "".join(body)
    blob_size = int((target - fixed) * blob_share)
    blob = state_blob(article_html, blob_size) if blob_size else ""
    html = (head.replace("\0", blob) + header + article_html + sidebar + footer + comments + tail + "</body></html>")
    return Page(kind=kind, data=html.encode("utf-8"), tweets=g.tweets)


def make_pages(n: int, seed: int) -> list[Page]:
    rng = random.Random(seed)
    words = WORDS + list(ACCENTED[:3])
    pool = []
    for _ in range(3000):
        s = " ".join(rng.choice(words) for _ in range(rng.randrange(8, 30)))
        pool.append(s.capitalize() + rng.choice([".", ".", ".", ",", "?", " —"]))
    kinds = [k for k, share in KINDS.items() for _ in range(max(1, round(share * n)))]
    rng.shuffle(kinds)
    kinds = (kinds * 2)[:n]
    return [build_page(kind, rng, pool, int(rng.triangular(40_000, 420_000, 140_000))) for kind in kinds]


def tweet_ids(result: extract.ExtractResult) -> set[str]:
    return {e.id for e in result.embeds if e.platform == "twitter" and e.id}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--requisites", action="store_true", help="also time parse + find_embeds + find_requisites (capture)")
    ap.add_argument("--detectors", action="store_true", help="also time each registered detector alone, per kind")
    ap.add_argument("--cli", action="store_true", help="also time the whole `archiver extract DIR` command next to a "
                    "bare parse command over the same files (wall clock)")
    ap.add_argument("--save", metavar="DIR", help="write the pages to DIR and stop")
    ap.add_argument("--platforms", metavar="NAMES", help="only these registered detectors, comma-separated "
                    "(e.g. twitter): what one detector costs next to the parse")
    args = ap.parse_args()

    if args.platforms:
        wanted = set(args.platforms.split(","))
        extract.PLATFORMS = tuple(p for p in PLATFORMS if p.name in wanted)  # what find_embeds runs
    t0 = time.perf_counter()
    pages = make_pages(args.pages, args.seed)
    if args.save:
        Path(args.save).mkdir(parents=True, exist_ok=True)
        for i, p in enumerate(pages):
            Path(args.save, f"p{i:04d}-{p.kind}.html").write_bytes(p.data)
        return
    by_kind: dict[str, list[tuple[int, Page]]] = defaultdict(list)
    for i, p in enumerate(pages):
        by_kind[p.kind].append((i, p))
    sizes = [len(p.data) for p in pages]
    print(f"{len(pages)} pages (seed {args.seed}, built in {time.perf_counter() - t0:.1f}s), mean {statistics.mean(sizes) / 1000:.0f} KB,"
          f" median {statistics.median(sizes) / 1000:.0f} KB; platforms: {', '.join(p.name for p in extract.PLATFORMS)}")

    def bare(group) -> None:
        for _, p in group:
            lxml.html.fromstring(p.data)

    def ours(group, requisites=False) -> None:
        for i, p in group:
            doc = extract.parse_html(p.data, base_url=f"https://news.example/2024/03/03/story-{i}")
            extract.find_embeds(doc)
            if requisites:
                extract.find_requisites(doc)

    runs = {"bare": bare, "ours": ours}
    if args.requisites:
        runs["ours+req"] = lambda group: ours(group, requisites=True)
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):  # interleaved rounds: kinds and contenders alternate, best CPU time kept
        for kind, group in by_kind.items():
            for name, fn in runs.items():
                t = time.process_time()
                fn(group)
                dt = time.process_time() - t
                best[name, kind] = min(dt, best.get((name, kind), dt))

    print(f"\n{'kind':14} {'pages':>5} {'KB':>5} {'bare p/s':>9} {'ours p/s':>9} {'ratio':>6}"
          + ("  +req p/s  ratio" if args.requisites else ""))
    for kind in list(by_kind) + ["ALL"]:
        kinds = list(by_kind) if kind == "ALL" else [kind]
        n = sum(len(by_kind[k]) for k in kinds)
        kb = statistics.mean(len(p.data) for k in kinds for _, p in by_kind[k]) / 1000
        rate = {name: n / sum(best[name, k] for k in kinds) for name in runs}
        line = f"{kind:14} {n:5d} {kb:5.0f} {rate['bare']:9.1f} {rate['ours']:9.1f} {rate['ours'] / rate['bare']:6.2f}"
        if args.requisites:
            line += f"  {rate['ours+req']:8.1f} {rate['ours+req'] / rate['bare']:6.2f}"
        print(("\n" if kind == "ALL" else "") + line)
    overall = sum(best["bare", k] for k in by_kind) / sum(best["ours", k] for k in by_kind)
    print(f"target: ours >= 0.5 x bare overall: {'met' if overall >= 0.5 else 'MISSED'} ({overall:.2f})")

    # Correctness on the same pages: tweet ids against the generator's ground truth.
    tp = fp = fn = 0
    platforms: Counter = Counter()
    parsed: Counter = Counter()
    misses: list[str] = []
    for i, p in enumerate(pages):
        doc = extract.parse_html(p.data, base_url=f"https://news.example/2024/03/03/story-{i}")
        result = extract.find_embeds(doc)
        parsed[p.kind] += getattr(doc, "parsed", True)  # the tree is built only when a detector needs it
        platforms.update(e.platform for e in result.embeds)
        got = tweet_ids(result)
        tp, fp, fn = tp + len(got & p.tweets), fp + len(got - p.tweets), fn + len(p.tweets - got)
        if got != p.tweets and len(misses) < 5:
            misses.append(f"  page {i} ({p.kind}): extra {sorted(got - p.tweets)}, missed {sorted(p.tweets - got)}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(f"tweet ids: precision {precision:.4f}, recall {recall:.4f} ({tp + fn} expected); "
          f"embeds by platform: {dict(sorted(platforms.items()))}")
    print("\n".join(misses) if misses else "", end="\n" if misses else "")
    print("pages whose tree was built by find_embeds: " + ", ".join(
        f"{kind} {parsed[kind]}/{len(group)}" for kind, group in by_kind.items()))

    if args.detectors:
        detector_times(by_kind, args.rounds)

    if args.cli:
        cli_ratio(pages, args.rounds)


# A bare parse of the same files as a command of its own: read each page, lxml.html.fromstring it.
BARE_COMMAND = ("import sys, pathlib, lxml.html\n"
                "for p in sorted(pathlib.Path(sys.argv[1]).glob('*.html')): lxml.html.fromstring(p.read_bytes())")


def cli_ratio(pages: list[Page], rounds: int) -> None:
    """The whole `archiver extract DIR` command (start-up, file reading, JSON out) next to a bare
    parse command over the same files: wall clock, interleaved, best of `rounds`."""
    with tempfile.TemporaryDirectory() as tmp:
        for i, p in enumerate(pages):
            Path(tmp, f"p{i:04d}.html").write_bytes(p.data)
        commands = {"bare": [sys.executable, "-c", BARE_COMMAND, tmp],
                    "cli": [sys.executable, "-m", "archiver", "extract", "--jobs", "1", tmp],
                    "cli-all-cores": [sys.executable, "-m", "archiver", "extract", tmp]}
        best: dict[str, float] = {}
        lines = 0
        for _ in range(max(3, rounds // 2)):
            for name, cmd in commands.items():
                t = time.perf_counter()
                out = subprocess.run(cmd, capture_output=True, check=True)
                best[name] = min(best.get(name, float("inf")), time.perf_counter() - t)
                lines = max(lines, len(out.stdout.splitlines()))
    print(f"`archiver extract --jobs 1 DIR` (whole command: start-up, files, JSON out; wall clock, best of interleaved "
          f"runs): {len(pages) / best['cli']:.1f} pages/s, {lines} lines; bare parse command "
          f"{len(pages) / best['bare']:.1f} pages/s; ratio {best['bare'] / best['cli']:.2f}; with its default --jobs "
          f"(one process per core, {os.cpu_count()} here): {len(pages) / best['cli-all-cores']:.1f} pages/s, "
          f"ratio {best['bare'] / best['cli-all-cores']:.2f}")


def detector_times(by_kind, rounds: int) -> None:
    """Each registered detector alone on a fresh `parse_html` Document, per kind, best of `rounds`:
    milliseconds per page (its raw-page scans, its queries, and the tree's parse when it is the
    one that needs it), and how many of the pages it needed the tree on. 'tree' is what building
    the tree costs (and 'bare' a bare lxml.html parse), for scale."""
    print("\nper detector alone, ms/page (and pages it needed the tree on); tree = building the tree:")
    names = ["bare", "tree"] + [p.name for p in extract.PLATFORMS]
    print(f"{'kind':14} " + " ".join(f"{n:>13}" for n in names))
    for kind, group in by_kind.items():
        best: dict[str, float] = {}
        needed: dict[str, int] = {}
        for _ in range(rounds):
            for name in names:
                total, parsed = 0.0, 0
                detector = next((pl for pl in extract.PLATFORMS if pl.name == name), None)
                for i, p in group:
                    if name == "bare":
                        t = time.process_time()
                        lxml.html.fromstring(p.data)
                        total += time.process_time() - t
                        continue
                    doc = extract.parse_html(p.data, base_url=f"https://news.example/{i}")
                    t = time.process_time()
                    if detector is None:
                        doc.root
                    else:
                        list(detector.detect(doc))
                    total += time.process_time() - t
                    parsed += getattr(doc, "parsed", True)
                    del doc
                best[name] = min(total, best.get(name, total))
                needed[name] = parsed
        print(f"{kind:14} " + " ".join(
            f"{1000 * best[n] / len(group):6.2f}" + (f" ({needed[n]:3d})" if n not in ("bare", "tree") else "       ")
            for n in names))


if __name__ == "__main__":
    gc.collect()
    main()
