"""Embed replay assets: what is captured per embedded tweet, and the completeness check (issue #4)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from archiver.capture import capture
from archiver.cli import cli
from archiver.config import Config
from archiver.embeds import (
    WIDGETS_JS,
    embed_media_urls,
    embed_tweet_result_url,
    missing_urls,
    referenced_assets,
    sized_media_url,
)
from archiver.platforms.syndication import syndication_token
from twitterworld import (
    EMBED_CSS,
    EMBED_FONT,
    EMBED_MAIN_JS,
    EMBED_RUNTIME_JS,
    SEED,
    SEED_BLOCKQUOTE,
    FakeTweet,
    TwitterWorld,
    Video,
    article_page,
)
from warcread import read_records

ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"
VIDEO = Video("1200000000000000000", variants=[
    (832000, "640x360", False), (2176000, "1280x720", False), (256000, "480x270", False),
    (10368000, "1920x1080", True)])
VID = FakeTweet(id="1200000000000000001", handle="vid", name="Vid", text="watch this", video=VIDEO, tco="VidCode001")
QUOTED = FakeTweet(id="1200000000000000002", handle="quoted", name="Quoted", text="the original",
                   photos=["QuotedPhoto1"])
QUOTE = FakeTweet(id="1200000000000000004", handle="quoter", name="Quoter", text="look", quoted=QUOTED.id)
LINKED = FakeTweet(id="1200000000000000009", handle="linked", name="Linked", text="only linked")


def blockquote(t: FakeTweet) -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{t.text}</p>&mdash; {t.name} '
            f'(@{t.handle}) <a href="{t.permalink}?ref_src=twsrc%5Etfw">October 13, 2019</a></blockquote>')


def run(web, archive: Path, body: str, **config):
    web.add(ARTICLE, body=article_page(body), headers=[("Content-Type", "text/html; charset=utf-8")])
    cfg = Config(archive=archive, proxy=web.proxy_url, ca_bundle=web.ca_path, **config)
    summary = capture(cfg, [ARTICLE])
    return summary.results[0]


def complete_responses(archive: Path) -> dict[str, str]:
    """Target URI -> record type, for every 200 response or revisit in the archive."""
    out = {}
    for path in sorted((archive / "warcs").glob("*.warc.gz")):
        for rec in read_records(path):
            if rec["type"] in ("response", "revisit") and rec["http"].get_statuscode() == "200":
                out[rec["h"].get_header("WARC-Target-URI")] = rec["type"]
    return out


def test_full_capture_has_everything_each_embed_loads_and_no_problems(web, tmp_path):
    TwitterWorld(web, [SEED, VID, QUOTE, QUOTED, LINKED])
    body = (SEED_BLOCKQUOTE + blockquote(VID) + blockquote(QUOTE)
            + f'<p>See <a href="{LINKED.permalink}">this tweet</a>.</p>')
    result = run(web, tmp_path / "a", body)
    assert result.problems == []
    held = complete_responses(tmp_path / "a")

    documents = [e.url for e in web.log if e.url.startswith("https://platform.twitter.com/embed/Tweet.html?")]
    widgets = {parse_qs(urlsplit(u).query)["embedId"][0]: parse_qs(urlsplit(u).query)["id"][0] for u in documents}
    # embeds only, numbered in page order as widgets.js does; no Tweet.html for a plain link
    assert len(documents) == 3 and widgets == {
        "twitter-widget-0": SEED.id, "twitter-widget-1": VID.id, "twitter-widget-2": QUOTE.id}
    for url in documents:
        query = parse_qs(urlsplit(url).query)
        assert re.fullmatch(r"[0-9a-f]{40}", query["sessionId"][0]) and query["origin"] == [ARTICLE]
        assert json.loads(base64.b64decode(query["features"][0]))["tfw_tweet_edit_backend"]["bucket"] == "on"
        assert held[url] == "response"
    assert web.hits(f"https://cdn.syndication.twimg.com/tweet-result?id={LINKED.id}&lang=en&features") == 0

    needed = [WIDGETS_JS, EMBED_RUNTIME_JS, EMBED_MAIN_JS, EMBED_CSS, EMBED_FONT]
    for t in (SEED, VID, QUOTE):
        needed.append(embed_tweet_result_url(t.id))  # the embed's own form, features included...
        needed.append(f"https://cdn.syndication.twimg.com/tweet-result?id={t.id}&lang=en&token={syndication_token(t.id)}")
        needed.append(t.avatar)  # `_normal`, as the embed shows it
    needed += [
        "https://pbs.twimg.com/media/EGxSeedPhoto1?format=jpg&name=small",
        "https://pbs.twimg.com/media/QuotedPhoto1?format=jpg&name=small",  # the quoted tweet's photo
        QUOTED.avatar,
        "https://pbs.twimg.com/ext_tw_video_thumb/1200000000000000000/pu/img/poster?format=jpg&name=small",
        *(url for _b, _s, url in VIDEO.variant_urls()),  # every MP4, HEVC included
    ]
    assert [u for u in needed if u not in held] == []
    # the embed-form tweet-result has the same bytes as the plain one: a revisit, not a copy
    assert held[embed_tweet_result_url(SEED.id)] == "revisit"
    # no asset was fetched twice (the snapshot's best MP4 is reused)
    best = next(url for _b, size, url in VIDEO.variant_urls() if size == "1280x720")
    assert web.hits(best) == 1


def test_missing_variant_and_chunk_reported_exactly(web, tmp_path):
    TwitterWorld(web, [SEED, VID])
    lost = next(url for _b, size, url in VIDEO.variant_urls() if size == "480x270")
    web.add(lost.split("?")[0], status=404, body=b"gone")
    web.add(EMBED_MAIN_JS, status=404, body=b"gone")
    result = run(web, tmp_path / "a", SEED_BLOCKQUOTE + blockquote(VID))
    assert result.problems == [
        f"embed {SEED.id}: missing {EMBED_MAIN_JS} (HTTP 404)",
        f"embed {VID.id}: missing {EMBED_MAIN_JS} (HTTP 404)",
        f"embed {VID.id}: missing {lost} (HTTP 404)",
    ]


def test_cli_prints_problems_on_stderr(web, tmp_path):
    TwitterWorld(web, [SEED])
    web.add("https://platform.twitter.com/embed/Tweet.html", status=404, body=b"gone")
    web.add(ARTICLE, body=article_page(SEED_BLOCKQUOTE), headers=[("Content-Type", "text/html")])
    out = CliRunner().invoke(cli, ["capture", ARTICLE, "--archive", str(tmp_path / "a")], env=web.env(),
                             catch_exceptions=False)
    lines = [line for line in out.stderr.splitlines() if line.startswith("problem: ")]
    assert len(lines) == 1 and lines[0].startswith(
        f"problem: embed {SEED.id}: missing https://platform.twitter.com/embed/Tweet.html?dnt=false&")
    assert lines[0].endswith("(HTTP 404)")
    assert out.stdout.splitlines() == [f"twitter\t{SEED.id}\t@RojavaIC\tavailable\tmedia 2/2"]


def test_deleted_tweet_embed_needs_no_tweet_result(web, tmp_path):
    gone = FakeTweet(id="1300000000000000001", handle="gone", name="Gone", text="was here", state="gone")
    TwitterWorld(web, [gone])
    result = run(web, tmp_path / "a", blockquote(gone))
    assert result.problems == []  # its 404 is the truth the embed will show
    assert web.hits("https://platform.twitter.com/embed/Tweet.html?dnt=false") == 1


def test_no_requisites_means_no_embed_assets(web, tmp_path):
    TwitterWorld(web, [SEED])
    result = run(web, tmp_path / "a", SEED_BLOCKQUOTE, requisites=False)
    assert result.problems == []
    assert web.hits("https://platform.twitter.com/") == 0


# --- pure parts ---------------------------------------------------------------------------


def test_urls_in_the_forms_the_embed_uses():
    assert sized_media_url("https://pbs.twimg.com/media/FsZNOgcWAAEQtrd.jpg") == (
        "https://pbs.twimg.com/media/FsZNOgcWAAEQtrd?format=jpg&name=small")
    assert sized_media_url("https://pbs.twimg.com/media/K?format=png&name=orig", "large") == (
        "https://pbs.twimg.com/media/K?format=png&name=large")
    assert sized_media_url("https://pbs.twimg.com/media/K") == "https://pbs.twimg.com/media/K"
    url = embed_tweet_result_url("20")
    assert list(parse_qs(urlsplit(url).query)) == ["id", "lang", "features", "token"]
    assert parse_qs(urlsplit(url).query)["token"] == ["6dq1a2xwd93"]


def test_media_of_a_tweet_result_with_quote_card_and_2026_fields():
    tweet = {
        "__typename": "Tweet",
        "user": {"profile_image_url_https": "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
                 "highlighted_label": {"badge": {"url": "https://pbs.twimg.com/semantic_core_img/1/b?format=png&name=orig"}}},
        "photos": [{"url": "https://pbs.twimg.com/media/P1.jpg"}],
        "video": {"poster": "https://pbs.twimg.com/amplify_video_thumb/9/img/p.jpg",
                  "variants": [{"type": "video/mp4", "src": "https://video.twimg.com/amplify_video/9/vid/avc1/320x180/x.mp4"},
                               {"type": "application/x-mpegURL", "src": "https://video.twimg.com/amplify_video/9/pl/m.m3u8"}]},
        "card": {"binding_values": {
            "thumbnail_image": {"type": "IMAGE", "image_value": {"url": "https://pbs.twimg.com/card_img/1/c?format=jpg&name=144x144"}},
            "title": {"type": "STRING", "string_value": "t"}}},
        "quoted_tweet": {"user": {"profile_image_url_https": "https://pbs.twimg.com/profile_images/2/q_normal.jpg"},
                         "mediaDetails": [{"type": "photo", "media_url_https": "https://pbs.twimg.com/media/Q1.png"}]},
    }
    assert embed_media_urls(tweet) == [
        "https://pbs.twimg.com/profile_images/1/a_normal.jpg",
        "https://pbs.twimg.com/semantic_core_img/1/b?format=png&name=orig",
        "https://pbs.twimg.com/media/P1?format=jpg&name=small",
        "https://pbs.twimg.com/amplify_video_thumb/9/img/p.jpg",
        "https://pbs.twimg.com/card_img/1/c?format=jpg&name=144x144",
        "https://video.twimg.com/amplify_video/9/vid/avc1/320x180/x.mp4",
        "https://pbs.twimg.com/profile_images/2/q_normal.jpg",
        "https://pbs.twimg.com/media/Q1?format=png&name=small",
    ]
    assert embed_media_urls({}) == []


def test_referenced_assets_and_missing_urls():
    page = (b'<html><head><link rel="stylesheet" href="a.css"><link rel="icon" href="i.ico">'
            b'<link rel="modulepreload" href="/m.js"></head><body><script src="r.js"></script>'
            b'<script>inline()</script><script src="data:text/javascript,1"></script></body></html>')
    base = "https://platform.twitter.com/embed/Tweet.html?id=1"
    assert referenced_assets(page, base) == [
        "https://platform.twitter.com/embed/a.css", "https://platform.twitter.com/m.js",
        "https://platform.twitter.com/embed/r.js"]
    assert missing_urls(["a", "b", "a", "c"], lambda u: u == "b") == ["a", "c"]


@pytest.mark.parametrize("form_markup", [
    '<iframe src="https://platform.twitter.com/embed/Tweet.html?id={id}"></iframe>',
    '<amp-twitter data-tweetid="{id}" width="375" height="472"></amp-twitter>',
])
def test_iframe_and_amp_forms_are_embeds(web, tmp_path, form_markup):
    TwitterWorld(web, [SEED])
    result = run(web, tmp_path / "a", form_markup.format(id=SEED.id))
    assert result.problems == []
    assert web.hits("https://platform.twitter.com/embed/Tweet.html?dnt=false") == 1
