"""YouTube and TikTok: every embed markup and URL form on realistic pages, then capture end to end."""

from __future__ import annotations

import hashlib

import pytest

from archiver.extract import parse_html
from archiver.models import FORMS
from archiver.platforms import platform_for, scan, tiktok, youtube
from fixtureweb import Response
from world_video_meta import (ARTICLE, YT_THUMBS, FakePost, VideoMetaWorld, export_rows, extract, image_bytes,
                              news_page, only, run_capture, summary)

BASE = ARTICLE


# --------------------------------------------------------------------------------------------
# The page's chrome is not content
# --------------------------------------------------------------------------------------------


def test_chrome_only_page_has_no_posts():
    result = extract("<p>No video in this story.</p>")
    assert [e for e in result.embeds if e.platform in ("youtube", "tiktok")] == []


# --------------------------------------------------------------------------------------------
# YouTube
# --------------------------------------------------------------------------------------------

YT_ID = "eiHXASgRTcA"

YOUTUBE_FORMS = {
    "oembed-iframe": (
        f'<figure class="wp-block-embed is-type-video is-provider-youtube"><div class="wp-block-embed__wrapper">'
        f'<iframe width="200" height="150" src="https://www.youtube.com/embed/{YT_ID}?feature=oembed" frameborder="0" '
        'allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share" '
        'referrerpolicy="strict-origin-when-cross-origin" allowfullscreen title="Noisy kittens waiting for dinner!">'
        "</iframe></div></figure>", "iframe"),
    "nocookie-iframe": (f'<p><iframe src="//www.youtube-nocookie.com/embed/{YT_ID}?rel=0&amp;start=30"></iframe></p>',
                        "iframe"),
    "lazy-iframe": (f'<p><iframe src="about:blank" data-src="https://www.youtube.com/embed/{YT_ID}"></iframe></p>',
                    "iframe"),
    "flash-embed": (f'<p><embed src="https://www.youtube.com/v/{YT_ID}?version=3" type="application/x-shockwave-flash">'
                    "</p>", "iframe"),
    "object": (f'<p><object data="https://www.youtube.com/v/{YT_ID}" type="application/x-shockwave-flash"></object></p>',
               "iframe"),
    "drupal-oembed-proxy": (
        '<div class="media-oembed-content"><iframe src="/media/oembed?url=https%3A//www.youtube.com/watch%3Fv%3D'
        f'{YT_ID}&amp;max_width=0&amp;max_height=0&amp;hash=abc" width="200" height="113"></iframe></div>', "oembed-proxy"),
    "amp-youtube": (f'<amp-youtube data-videoid="{YT_ID}" layout="responsive" width="480" height="270"></amp-youtube>',
                    "amp"),
    "lite-youtube": (f'<lite-youtube videoid="{YT_ID}" playlabel="Play: kittens"></lite-youtube>', "script"),
    "watch-link": (f'<p>As <a href="https://www.youtube.com/watch?v={YT_ID}">a video shows</a>, cats wait.</p>', "link"),
    "watch-link-v-later": (f'<p><a href="https://www.youtube.com/watch?feature=share&amp;v={YT_ID}&amp;t=42s">clip</a></p>',
                           "link"),
    "mobile-link": (f'<p><a href="https://m.youtube.com/watch?v={YT_ID}&amp;list=PL0123">mobile</a></p>', "link"),
    "music-link": (f'<p><a href="https://music.youtube.com/watch?v={YT_ID}">song</a></p>', "link"),
    "short-link": (f'<p><a href="https://youtu.be/{YT_ID}?si=AbCdEf&amp;t=42">short</a></p>', "link"),
    "shorts-link": (f'<p><a href="https://www.youtube.com/shorts/{YT_ID}">a short</a></p>', "link"),
    "live-link": (f'<p><a href="https://www.youtube.com/live/{YT_ID}?feature=shared">the stream</a></p>', "link"),
    "embed-link": (f'<p><a href="https://www.youtube.com/embed/{YT_ID}">player</a></p>', "link"),
    "wordpress-bare-url": (
        '<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube">'
        f'<div class="wp-block-embed__wrapper">\nhttps://www.youtube.com/watch?v={YT_ID}\n</div></figure>', "bare-url"),
    "bare-short-url-no-scheme": (f"<p>Watch it at youtu.be/{YT_ID}.</p>", "bare-url"),
    "bare-url-with-amp": (f"<p>See https://www.youtube.com/watch?app=desktop&amp;v={YT_ID} for more.</p>", "bare-url"),
}


@pytest.mark.parametrize("case", sorted(YOUTUBE_FORMS))
def test_youtube_forms(case):
    body, form = YOUTUBE_FORMS[case]
    result = extract(body)
    assert summary(result, "youtube") == [(YT_ID, [form])]
    embed = only(result, "youtube")
    assert embed.url == f"https://www.youtube.com/watch?v={YT_ID}"
    assert embed.author_handle is None and form in FORMS


def test_youtube_context_is_the_surrounding_prose():
    embed = only(extract(YOUTUBE_FORMS["watch-link"][0]), "youtube")
    assert embed.context == "As a video shows, cats wait."


def test_youtube_iframe_and_link_merge_in_page_order():
    body = YOUTUBE_FORMS["watch-link"][0] + YOUTUBE_FORMS["oembed-iframe"][0] + YOUTUBE_FORMS["short-link"][0]
    assert summary(extract(body), "youtube") == [(YT_ID, ["link", "iframe"])]


@pytest.mark.parametrize("url", [
    "https://www.youtube.com/@NewsExample",
    "https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv",
    "https://www.youtube.com/c/NewsExample",
    "https://www.youtube.com/user/NewsExample",
    "https://www.youtube.com/playlist?list=PLabcdefghijk",
    "https://www.youtube.com/embed/videoseries?list=PLabcdefghijk",
    "https://www.youtube.com/embed/live_stream?channel=UCabcdefghijklmnopqrstuv",
    "https://www.youtube.com/watch?v=tooShort",
    "https://www.youtube.com/watch?v=eiHXASgRTcAx",
    "https://www.youtube.com/results?search_query=kittens",
    "https://notyoutube.com/watch?v=eiHXASgRTcA",
    "https://youtu.be.evil.example/eiHXASgRTcA",
    "https://www.youtube.com/feed/trending",
])
def test_youtube_urls_that_are_not_videos(url):
    body = (f'<p>See <a href="{url}">this</a> and {url.replace("&", "&amp;")} too.</p>'
            f'<p><iframe src="{url}"></iframe></p>')
    assert summary(extract(body), "youtube") == []


def test_youtube_chrome_and_other_embeds_are_not_posts():
    tweet = ('<blockquote class="twitter-tweet"><p lang="en">Watch <a href="https://www.youtube.com/watch?v=TweetVid001">'
             'youtube.com/watch?v=TweetVid001</a></p>&mdash; A (@a) '
             '<a href="https://twitter.com/a/status/1790000000000000000">May 1, 2024</a></blockquote>')
    result = extract(tweet)
    assert summary(result, "youtube") == []  # the tweet's own reference, not the article's
    assert [e.id for e in result.embeds if e.platform == "twitter"] == ["1790000000000000000"]


def test_parse_video_url_and_canonical_url():
    assert youtube.parse_video_url(f"https://youtu.be/{YT_ID}") == YT_ID
    assert youtube.parse_video_url(f"https://www.youtube.com/watch?v={YT_ID}&list=PL1") == YT_ID
    assert youtube.parse_video_url("https://www.youtube.com/embed/videoseries?list=PL1") is None
    assert youtube.parse_video_url("") is None
    assert youtube.canonical_url(YT_ID, None) == f"https://www.youtube.com/watch?v={YT_ID}"
    assert youtube.oembed_url(youtube.canonical_url(YT_ID)) == (
        "https://www.youtube.com/oembed?url=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DeiHXASgRTcA&format=json")


# --------------------------------------------------------------------------------------------
# TikTok
# --------------------------------------------------------------------------------------------

TT_ID = "6806030056956251397"
TT_BLOCKQUOTE = (
    f'<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@a3noticias/video/{TT_ID}" data-video-id="{TT_ID}" '
    'data-embed-from="oembed" style="max-width:605px; min-width:325px;"> <section> <a target="_blank" '
    'title="@a3noticias" href="https://www.tiktok.com/@a3noticias?refer=embed">@a3noticias</a> <p>Nuestro <a '
    'title="aplausosanitario" target="_blank" href="https://www.tiktok.com/tag/aplausosanitario?refer=embed">'
    '#AplausoSanitario</a> más sincero.</p> <a target="_blank" title="♬ Resistiré - Duo Dinamico" '
    'href="https://www.tiktok.com/music/Resistiré-250824169968246784?refer=embed">♬ Resistiré - Duo Dinamico</a> '
    '</section> </blockquote> <script async src="https://www.tiktok.com/embed.js"></script>'
)

TIKTOK_FORMS = {
    "blockquote": (TT_BLOCKQUOTE, "blockquote", "a3noticias"),
    "blockquote-id-only": (
        f'<blockquote class="tiktok-embed" data-video-id="{TT_ID}"><section><a title="@a3noticias" '
        'href="https://www.tiktok.com/@a3noticias?refer=embed">@a3noticias</a></section></blockquote>',
        "blockquote", "a3noticias"),
    "rendered-blockquote": (
        f'<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@a3noticias/video/{TT_ID}" '
        f'data-video-id="{TT_ID}"><iframe src="https://www.tiktok.com/embed/v2/{TT_ID}?lang=en-US&amp;referrer=x">'
        "</iframe></blockquote>", "blockquote", "a3noticias"),
    "iframe-v2": (f'<p><iframe src="https://www.tiktok.com/embed/v2/{TT_ID}" width="325" height="740"></iframe></p>',
                  "iframe", None),
    "iframe-embed": (f'<p><iframe src="https://www.tiktok.com/embed/{TT_ID}"></iframe></p>', "iframe", None),
    "iframe-player": (f'<p><iframe src="https://www.tiktok.com/player/v1/{TT_ID}?music_info=1"></iframe></p>',
                      "iframe", None),
    "video-link": (f'<p>In <a href="https://www.tiktok.com/@a3noticias/video/{TT_ID}?is_from_webapp=1&amp;sender_device=pc">'
                   "a video</a>, nurses clap.</p>", "link", "a3noticias"),
    "photo-link": (f'<p><a href="https://www.tiktok.com/@a3noticias/photo/{TT_ID}">slides</a></p>', "link", "a3noticias"),
    "mobile-link": (f'<p><a href="https://m.tiktok.com/v/{TT_ID}.html">mobile</a></p>', "link", None),
    "bare-url": (f"<p>Posted at https://www.tiktok.com/@a3noticias/video/{TT_ID} on Friday.</p>", "bare-url",
                 "a3noticias"),
}


@pytest.mark.parametrize("case", sorted(TIKTOK_FORMS))
def test_tiktok_forms(case):
    body, form, handle = TIKTOK_FORMS[case]
    result = extract(body)
    assert summary(result, "tiktok") == [(TT_ID, [form])]
    embed = only(result, "tiktok")
    assert embed.author_handle == handle
    assert embed.url == f"https://www.tiktok.com/@{handle or '_'}/video/{TT_ID}"


def test_tiktok_blockquote_context_and_inner_links():
    embed = only(extract(TT_BLOCKQUOTE), "tiktok")
    assert embed.context.startswith("@a3noticias Nuestro #AplausoSanitario")
    # the tag and music links inside the embed are not posts, nor is the profile link


@pytest.mark.parametrize("markup,url,form", [
    ('<p><a href="https://vm.tiktok.com/ZMabc1234/">clip</a></p>', "https://vm.tiktok.com/ZMabc1234/", "link"),
    ('<p><a href="https://vt.tiktok.com/ZSxyz987/?k=1">clip</a></p>', "https://vm.tiktok.com/ZSxyz987/", "link"),
    ('<p><a href="https://www.tiktok.com/t/ZTRabcdef/">clip</a></p>', "https://www.tiktok.com/t/ZTRabcdef/", "link"),
    ("<p>Shared as vm.tiktok.com/ZMabc1234 yesterday.</p>", "https://vm.tiktok.com/ZMabc1234/", "bare-url"),
])
def test_tiktok_short_links_are_unresolved_embeds(markup, url, form):
    (embed,) = [e for e in extract(markup).embeds if e.platform == "tiktok"]
    assert (embed.id, embed.url, embed.forms) == (None, url, [form])


def test_tiktok_creator_embed_is_a_profile_and_profiles_are_not_posts():
    body = ('<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@a3noticias" data-unique-id="a3noticias" '
            'data-embed-type="creator"><section><a href="https://www.tiktok.com/@a3noticias?refer=creator_embed">'
            "@a3noticias</a></section></blockquote>"
            '<p><a href="https://www.tiktok.com/@a3noticias">their account</a>, '
            '<a href="https://www.tiktok.com/tag/floods">#floods</a>, https://www.tiktok.com/@someone</p>')
    result = extract(body)
    assert summary(result, "tiktok") == []
    assert "https://www.tiktok.com/@a3noticias" in result.profiles


def test_tiktok_created_at_from_the_id():
    assert tiktok.created_at(TT_ID) == "2020-03-19T21:12:38Z"  # its thumbnail is stamped `_1584652367`, 9 s on
    assert tiktok.created_at("123456789012345") is None


# --------------------------------------------------------------------------------------------
# The raw-marker shortcuts never change the answer
# --------------------------------------------------------------------------------------------

SHORTCUT_BODIES = [
    *(body for body, _ in YOUTUBE_FORMS.values()),
    *(body for body, _f, _h in TIKTOK_FORMS.values()),
    f'<p title="a > youtu.be/{YT_ID}">text</p><!-- youtu.be/{YT_ID} --><script>var u = "youtu.be/{YT_ID}";</script>',
    f'<p>1 < 2 and https://www.tiktok.com/@u/video/{TT_ID}</p>',
    f'<p><a title="x > y" href="https://youtu.be/{YT_ID}">v</a> and vm.tiktok.com/ZMabc1234</p>',
]


@pytest.mark.parametrize("body", SHORTCUT_BODIES)
def test_shortcuts_find_what_a_full_scan_finds(body):
    html = news_page(body).encode()
    for module in (youtube, tiktok):
        fast = list(module.detect(parse_html(html, base_url=BASE)))
        full = list(module.detect(parse_html(html, base_url=BASE), exhaustive=True))
        assert fast == full


def test_profile_links_and_buttons_call_for_no_tree_query():
    """Speed: a header's channel and profile links start no post URL, so no tree query runs."""
    page = ('<html><body><header><a href="https://www.youtube.com/@NewsExample">YouTube</a>'
            '<a href="https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv">channel</a>'
            '<a href="https://www.tiktok.com/@newsexample">TikTok</a></header>'
            '<article><p>No video here.</p></article></body></html>')
    doc = parse_html(page.encode(), base_url=BASE)
    for module in (youtube, tiktok):
        assert scan.read_signs(doc, module._SIGNS) == (set(), set())
        assert list(module.detect(doc)) == [] and not doc.parsed  # the tree was never even built


# --------------------------------------------------------------------------------------------
# Capture end to end, through the fixture web
# --------------------------------------------------------------------------------------------

KITTENS = FakePost("youtube", YT_ID, "smshdchrb", "smshdchrb", "Noisy kittens waiting for dinner!")
REMOVED = FakePost("youtube", "RemovedVid1", "gone", "Gone", "", state="gone")
PRIVATE = FakePost("youtube", "PrivateVid1", "hidden", "Hidden", "", state="private")
CLAP = FakePost("tiktok", TT_ID, "a3noticias", "Antena 3 Noticias", "Nuestro #AplausoSanitario más sincero.")
SHORT = FakePost("tiktok", "7380000000000000001", "floodwatch", "Flood Watch", "The river at dawn", short="ZMabc1234")


def test_video_capture_end_to_end(web, tmp_path):
    VideoMetaWorld(web, [KITTENS, REMOVED, PRIVATE, CLAP, SHORT])
    body = (YOUTUBE_FORMS["oembed-iframe"][0]
            + '<p>An earlier clip <a href="https://youtu.be/RemovedVid1">was taken down</a>; another '
              '<a href="https://www.youtube.com/watch?v=PrivateVid1">is private</a>.</p>'
            + TT_BLOCKQUOTE + '<p>Residents shared <a href="https://vm.tiktok.com/ZMabc1234/">this</a>.</p>')
    web.add(ARTICLE, body=news_page(body), headers=[("Content-Type", "text/html; charset=utf-8")])
    archive = tmp_path / "archive"
    result = run_capture(web, archive)
    assert result.exit_code == 0, result.output
    lines = set(result.stdout.splitlines())
    assert f"youtube\t{YT_ID}\t@smshdchrb\tavailable\tmedia 1/1" in lines
    assert f"tiktok\t{TT_ID}\t@a3noticias\tavailable\tmedia 1/1" in lines

    rows = export_rows(archive)
    assert set(rows) == {("youtube", YT_ID), ("youtube", "RemovedVid1"), ("youtube", "PrivateVid1"),
                         ("tiktok", TT_ID), ("tiktok", SHORT.id)}
    kittens = rows[("youtube", YT_ID)]
    assert (kittens["status"], kittens["author_name"], kittens["author_handle"], kittens["text"]) == (
        "available", "smshdchrb", "smshdchrb", "Noisy kittens waiting for dinner!")
    assert kittens["created_at"] == "2024-06-10T15:00:06Z"  # the watch page's datePublished, in UTC
    assert kittens["url"] == f"https://www.youtube.com/watch?v={YT_ID}"
    assert kittens["articles"] == [ARTICLE]
    (thumb,) = kittens["media"]
    assert thumb["url"] == f"{YT_THUMBS}{YT_ID}/hqdefault.jpg" and thumb["kind"] == "thumbnail" and thumb["captured"]
    assert thumb["sha256"] == hashlib.sha256(image_bytes(f"/vi/{YT_ID}/hqdefault.jpg")).hexdigest()
    urls = {r["url"] for r in kittens["records"]}
    assert f"https://www.youtube.com/watch?v={YT_ID}" in urls
    assert youtube.oembed_url(f"https://www.youtube.com/watch?v={YT_ID}") in urls

    removed, private = rows[("youtube", "RemovedVid1")], rows[("youtube", "PrivateVid1")]
    assert removed["status"] == "deleted" and removed["status_reason"] == "oembed 404"
    assert removed["media"] == [] and removed["author_handle"] is None
    assert private["status"] == "protected" and private["status_reason"] == "oembed 401"
    # both pages were still recorded
    assert "https://www.youtube.com/watch?v=RemovedVid1" in {r["url"] for r in removed["records"]}

    clap = rows[("tiktok", TT_ID)]
    assert (clap["status"], clap["author_handle"], clap["author_name"]) == ("available", "a3noticias", "Antena 3 Noticias")
    assert clap["text"] == "Nuestro #AplausoSanitario más sincero."
    assert clap["created_at"] == "2020-03-19T21:12:38Z"
    assert clap["media"][0]["kind"] == "thumbnail" and clap["media"][0]["captured"]
    assert clap["media"][0]["url"].startswith("https://p16-sign-va.tiktokcdn.com/")

    # the short link was followed, its hop recorded with the post; the video page was not fetched twice
    short = rows[("tiktok", SHORT.id)]
    assert short["status"] == "available" and short["author_handle"] == "floodwatch"
    assert short["url"] == f"https://www.tiktok.com/@floodwatch/video/{SHORT.id}"
    assert "https://vm.tiktok.com/ZMabc1234/" in {r["url"] for r in short["records"]}
    assert web.hits("https://www.tiktok.com/@floodwatch/video/") == 1

    # chrome: the sidebar player, the footer video and the channel links were never asked about
    assert web.hits("https://www.youtube.com/oembed?url=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3DSidebarVid1") == 0
    assert web.hits("https://www.youtube.com/watch?v=FooterVid01") == 0


def test_video_capture_lost_answers_are_failed(web, tmp_path):
    VideoMetaWorld(web, [KITTENS])
    web.route("https://www.youtube.com/oembed", lambda req: Response(503, headers=[("Content-Type", "text/html")],
                                                                      body=b"busy"))
    web.add(ARTICLE, body=news_page(YOUTUBE_FORMS["watch-link"][0]), headers=[("Content-Type", "text/html")])
    archive = tmp_path / "archive"
    result = run_capture(web, archive, "--retries", "0")
    assert result.exit_code == 1, result.output  # worth another try
    row = export_rows(archive)[("youtube", YT_ID)]
    assert row["status"] == "failed" and row["status_reason"] == "oembed HTTP 503"


def test_resolve_and_snapshot_are_registered():
    for module in (youtube, tiktok):
        assert platform_for(module.name) is module
        assert callable(module.resolve) and callable(module.snapshot) and callable(module.canonical_url)
