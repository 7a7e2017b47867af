"""Extraction never raises, whatever the bytes (issue #6).

Hypothesis drives generated HTML (deep nesting, huge attributes, broken and mislabelled
encodings, NUL bytes, long lines) and byte- and tag-level mutations of real-shaped pages (the
article pages the capture tests serve, with embeds of every platform) through parse_html,
find_embeds and find_requisites; a few extreme pages go through the whole `archiver extract`
CLI. Examples are bounded so the file runs in about 20 seconds on two cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.extract import find_embeds, find_requisites, parse_html
from archiver.models import FORMS
from archiver.platforms import PLATFORMS
from twitterworld import SEED_BLOCKQUOTE, article_page
from world_social import social_article
from world_video_meta import news_page

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://news.example/2019/10/14/story"
NAMES = {p.name for p in PLATFORMS}
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                derandomize=False)

EMBEDS = [
    SEED_BLOCKQUOTE,
    '<iframe src="https://platform.twitter.com/embed/Tweet.html?id=1183419470331486208"></iframe>',
    '<amp-twitter data-tweetid="1183419470331486208" width="375" height="472"></amp-twitter>',
    '<div data-tweet-id="20"></div><script>twttr.widgets.createTweet("21", el)</script>',
    '<p>See https://x.com/i/web/status/22 and t.co/AbCdEf1234 and pic.twitter.com/AbCdEf1234</p>',
    '<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:2jtyqespp2zfodukwvktqwe6/app.bsky.feed.post/3kabc">'
    '<p>skeet</p><a href="https://bsky.app/profile/alice.bsky.social/post/3kabc">link</a></blockquote>',
    '<iframe src="https://mastodon.social/@alice/111222333444555666/embed" class="mastodon-embed"></iframe>',
    '<blockquote class="reddit-embed-bq"><a href="https://www.reddit.com/r/news/comments/abc123/title/">x</a></blockquote>',
    '<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="durov/43"></script>',
    '<iframe src="https://www.youtube.com/embed/eiHXASgRTcA" allowfullscreen></iframe>',
    '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@scout/video/6806030056956251397" '
    'data-video-id="6806030056956251397"><section></section></blockquote>',
    '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/fA9uwTtkSN/"></blockquote>',
    '<div class="fb-post" data-href="https://www.facebook.com/news/posts/10154009990506729"></div>',
    '<blockquote class="text-post-media" data-text-post-permalink="https://www.threads.net/@zuck/post/C-GMXpGM4KR">'
    '</blockquote>',
    '<img src="/img/a.jpg" srcset="/img/a-2x.jpg 2x, data:x 3x"><link rel="stylesheet" href="/s.css">'
    '<div style="background:url(/bg.png)"></div><video poster="/p.jpg"><source src="/v.mp4"></video>',
]
SEED_PAGES = [
    article_page("<p>Kurdish forces said:</p>" + "\n".join(EMBEDS)),
    social_article("\n".join(EMBEDS[5:9])),
    news_page("\n".join(EMBEDS[9:])).encode(),
]


def check(data: bytes, content_type: str | None = None, base: str = BASE) -> None:
    """The whole extraction on `data`: never raises, and only well-formed results come out."""
    doc = parse_html(data, base_url=base, content_type=content_type)
    assert doc.title is None or isinstance(doc.title, str)
    found = find_embeds(doc)
    for embed in found.embeds:
        assert embed.platform in NAMES, embed
        assert embed.forms and set(embed.forms) <= set(FORMS), embed
        assert embed.url.startswith(("http://", "https://")), embed
    for profile in found.profiles:
        assert isinstance(profile, str)
    for url in find_requisites(doc):
        parts = urlsplit(url)
        assert parts.scheme in ("http", "https") and parts.hostname, url


# --- generated HTML ---------------------------------------------------------------------------------

TAGS = ["div", "p", "a", "span", "blockquote", "iframe", "script", "style", "template", "table", "tr", "td", "li",
        "ul", "header", "footer", "nav", "aside", "article", "main", "img", "link", "source", "video", "svg", "math",
        "noscript", "textarea", "title", "base", "meta", "amp-twitter", "form", "select", "option", "frameset",
        "x-" + "y" * 40, "h1", "br", "hr", "html", "head", "body"]
ATTRS = ["href", "src", "srcset", "style", "class", "data-id", "data-tweet-id", "data-href", "cite", "content",
         "charset", "http-equiv", "rel", "poster", "data-instgrm-permalink", "data-telegram-post"]
VALUES = st.one_of(
    st.sampled_from(["https://twitter.com/a/status/20", "twitter-tweet", "stylesheet", "icon", "text/html; charset=utf-16",
                     "url(/x.png)", "/a.png 1x, /b.png 2x", "javascript:alert(1)", "data:,x", "//evil", "\\\\host\\x",
                     "https://t.co/x", "at://did:plc:x/app.bsky.feed.post/1", "utf-7", "x-user-defined", "\x00",
                     "http://[::1]/", "https://www.youtube.com/embed/" + "A" * 11, "tiktok-embed", "instagram-media"]),
    st.text(max_size=30),
    st.integers(1, 60_000).map(lambda n: "x" * n),  # huge attributes
)
TEXT = st.one_of(st.text(max_size=40), st.sampled_from(["\x00", "&#0;", "&#xD800;", "&bogus;", "]]>", "<!--", "-->",
                                                       "twitter.com/u/status/1", "pic.twitter.com/X", "\ufeff", "\r"]))


@st.composite
def element(draw, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    attrs = "".join(f' {draw(st.sampled_from(ATTRS))}="{draw(VALUES)}"'
                    for _ in range(draw(st.integers(0, 3))))
    inner = "".join(draw(st.lists(element(depth + 1), max_size=2))) if depth < 3 else ""
    text = draw(TEXT)
    close = draw(st.sampled_from([f"</{tag}>", "", f"</{tag}", "</>", "/>"]))
    return f"<{tag}{attrs}>{text}{inner}{close}"


@st.composite
def html_page(draw) -> str:
    body = "".join(draw(st.lists(element(), max_size=6)))
    nest = draw(st.integers(0, 2500))  # unclosed nesting, past libxml2's limits too
    wrap = draw(st.sampled_from(["div", "font", "b", "blockquote", "table", "a href=/x", "span"]))
    if nest:
        body = f"<{wrap}>" * nest + body
    if draw(st.booleans()):
        body = article_page(body).decode()
    return body


CODECS = st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1", "shift_jis",
                          "gb18030", "iso-2022-jp", "utf-7", "koi8-r", "big5"])
CONTENT_TYPES = st.one_of(st.none(), st.text(max_size=40), st.sampled_from([
    "text/html", "text/html; charset=utf-8", "text/html; charset=utf-16", "text/html; charset=utf-32be",
    "text/html; charset=shift_jis", "text/html; charset=bogus", "text/html; charset=zlib", "text/html; charset=rot13",
    "text/html; charset=hex", "text/html; charset=base64", "text/html; charset=x-user-defined",
    "text/html; charset=\"utf-7\"", "text/html;charset=", "application/xhtml+xml; charset=iso-2022-jp"]))
PREFIXES = st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\x00",
                            b'<meta charset="utf-16">', b'<meta charset="hex">', b'<meta charset="zlib">',
                            b'<meta http-equiv="Content-Type" content="text/html; charset=uu">'])


@settings(FUZZ, max_examples=120)
@given(html_page(), CODECS, PREFIXES, CONTENT_TYPES)
def test_generated_pages_in_any_encoding_never_raise(text, codec, prefix, content_type):
    check(prefix + text.encode(codec, "replace"), content_type)


@settings(FUZZ, max_examples=150)
@given(st.binary(max_size=3000), CONTENT_TYPES, PREFIXES)
def test_raw_bytes_never_raise(data, content_type, prefix):
    check(prefix + data, content_type)


# --- mutated real pages -----------------------------------------------------------------------------

SNIPPETS = [b"<", b">", b"</div>", b"<div>", b"<blockquote class=\"twitter-tweet\">", b"</blockquote>", b"<!--",
            b"-->", b"<script>", b"</script>", b"<style>", b"<a href=\"", b"\"", b"'", b"\x00", b"\xff\xfe",
            b"\xed\xa0\x80", b"\xc3", b"&#", b"&", b"<base href=\"javascript:x\">", b"<meta charset=\"utf-16\">",
            b"https://twitter.com/a/status/", b"99999999999999999999", b"<iframe src=\"", b"<![CDATA[", b"]]>",
            b"<?xml version=\"1.0\"?>", b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>&a;"]


@st.composite
def mutated(draw) -> bytes:
    page = bytearray(draw(st.sampled_from(SEED_PAGES)))
    for _ in range(draw(st.integers(1, 12))):
        op = draw(st.sampled_from(["flip", "insert", "snippet", "delete", "duplicate", "drop-tag", "truncate"]))
        at = draw(st.integers(0, len(page)))
        if op == "flip" and page:
            i = min(at, len(page) - 1)
            page[i] ^= draw(st.integers(1, 255))
        elif op == "insert":
            page[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "snippet":
            page[at:at] = draw(st.sampled_from(SNIPPETS)) * draw(st.integers(1, 300))
        elif op == "delete":
            del page[at:at + draw(st.integers(1, 400))]
        elif op == "duplicate":
            n = draw(st.integers(1, 2000))
            page[at:at] = page[at:at + n] * draw(st.integers(1, 20))
        elif op == "drop-tag":
            lt = page.find(b"<", at)
            gt = page.find(b">", lt)
            if lt >= 0 and gt > lt:
                del page[lt:gt + 1]
        elif op == "truncate" and draw(st.booleans()):
            del page[at:]
    return bytes(page)


@settings(FUZZ, max_examples=250)
@given(mutated(), st.one_of(st.none(), st.sampled_from(["text/html; charset=utf-8", "text/html; charset=cp1252",
                                                        "text/html; charset=utf-16le"])))
def test_mutated_real_pages_never_raise(data, content_type):
    check(data, content_type)


@settings(FUZZ, max_examples=60)
@given(mutated(), st.sampled_from(["https://news.example/a/b?c#d", "http://[::1]:8080/x", "https://xn--n3h.example/",
                                   "https://news.example/" + "a/" * 500, "https://user:pw@news.example:8443/",
                                   "https://news.example/%zz/%00", "https://news.example/\u00e9t\u00e9/"]))
def test_odd_base_urls_never_raise(data, base):
    check(data, base=base)


# --- extremes, one each -----------------------------------------------------------------------------

LINK = b'<p>See <a href="https://twitter.com/a/status/20">this</a>.</p><img src="/after.png">'
EXTREMES = {
    "nested 2000 unclosed divs": b"<div>" * 2000 + LINK,
    "nested 2000 unclosed font and b": b"<font><b>" * 1000 + LINK,
    "nested 100000 spans": b"<span>" * 100_000 + LINK,
    "nested 3000 tweet blockquotes": b'<blockquote class="twitter-tweet">' * 3000 + LINK,
    "one 4 MB line": b"<p>" + b"word " * 800_000 + b"</p>" + LINK,
    "12 MB text node": b"<p>" + b"x" * 12_000_000 + b"</p>" + LINK,
    "2 MB attribute": b'<img src="/a.png" alt="' + b"a" * 2_000_000 + b'">' + LINK,
    "2 MB href": b'<a href="https://twitter.com/a/status/20?' + b"q" * 2_000_000 + b'">x</a>',
    "srcset of 50000 candidates": b'<img srcset="' + b"/a.png 1x, " * 50_000 + b'">',
    "NUL everywhere": b"\x00" * 1000 + b"<p\x00>\x00" + LINK + b"\x00<\x00/p>" + b"\x00" * 10_000,
    "NUL between every byte": b"\x00".join(bytes([c]) for c in LINK),
    "UTF-16 without BOM": LINK.decode().encode("utf-16-le"),
    "lone surrogates": b"<p>\xed\xa0\x80\xed\xbf\xbf</p>" + LINK,
    "an entity bomb": b'<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
                      b"<p>&b;&b;&b;</p>" + LINK,
    "only a BOM": b"\xef\xbb\xbf",
    "empty": b"",
}


@pytest.mark.parametrize("name", list(EXTREMES))
def test_extreme_pages_never_raise(name):
    check(EXTREMES[name])


@pytest.mark.parametrize("name", ["nested 2000 unclosed divs", "nested 2000 unclosed font and b", "12 MB text node",
                                  "2 MB attribute", "NUL everywhere", "lone surrogates"])
def test_what_follows_deep_nesting_or_huge_nodes_is_still_read(name):
    doc = parse_html(EXTREMES[name], base_url=BASE)
    assert [e.id for e in find_embeds(doc).embeds] == ["20"]
    assert find_requisites(doc)[-1] == "https://news.example/after.png"


# --- the whole CLI ----------------------------------------------------------------------------------


def test_extract_cli_on_hostile_files(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    files = {
        "deep.html": EXTREMES["nested 2000 unclosed divs"],
        "nul.htm": EXTREMES["NUL everywhere"],
        "utf16.html": EXTREMES["UTF-16 without BOM"],
        "long-line.html": EXTREMES["one 4 MB line"],
        "garbage.html": os.urandom(200_000),
        "mutated.html": SEED_PAGES[0][:3000] + b"\xff\x00<blockquote" * 500 + SEED_PAGES[0][3000:],
        "empty.html": b"",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for fmt in ("jsonl", "table"):
        proc = subprocess.run([sys.executable, "-m", "archiver", "extract", str(folder), "--base-url", BASE,
                               "--format", fmt], env=env, capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        assert b"Traceback" not in proc.stderr
        lines = proc.stdout.decode("utf-8").splitlines()
        sources = set()
        for line in lines:
            if fmt == "jsonl":
                row = json.loads(line)
                assert row["platform"] in NAMES
                sources.add(Path(row["source"]).name)
            else:
                sources.add(Path(line.split("\t")[0]).name)
        assert {"deep.html", "nul.htm", "mutated.html"} <= sources  # the tweet after the mess is found
    # and from stdin
    proc = subprocess.run([sys.executable, "-m", "archiver", "extract", "-", "--base-url", BASE],
                          input=files["mutated.html"], env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr
