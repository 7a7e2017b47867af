"""Instagram, Facebook and Threads: every embed markup and URL form on realistic pages, then capture
end to end (with YouTube and TikTok in the same article) through Meta's tokenless oEmbed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from archiver.extract import parse_html
from archiver.platforms import facebook, instagram, meta, platform_for, scan, threads, tiktok, youtube
from fixtureweb import Response
from warcread import read_records
from world_video_meta import (ARTICLE, FB_CDN, IG_CDN, FakePost, VideoMetaWorld, export_rows, extract, image_bytes,
                              news_page, only, run_capture, summary)

BASE = ARTICLE


def test_chrome_only_page_has_no_posts_but_records_the_page_plugin():
    result = extract("<p>No social media in this story.</p>")
    assert [e for e in result.embeds if e.platform in ("instagram", "facebook", "threads")] == []
    assert "https://www.facebook.com/newsexample" in result.profiles  # the sidebar's fb-page plugin


# --------------------------------------------------------------------------------------------
# Instagram
# --------------------------------------------------------------------------------------------

IG_CODE = "fA9uwTtkSN"
IG_V12 = (
    '<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink="https://www.instagram.com/p/'
    f'{IG_CODE}/?utm_source=ig_embed&amp;utm_medium=loading" data-instgrm-version="12" style=" background:#FFF;">'
    f'<div style="padding:16px;"> <a href="https://www.instagram.com/p/{IG_CODE}/?utm_source=ig_embed&amp;utm_medium=loading" '
    'target="_blank"><div style="padding-top: 8px;"><div> View this post on Instagram</div></div></a>'
    f'<p style=" margin:8px 0 0 0;"> <a href="https://www.instagram.com/p/{IG_CODE}/?utm_source=ig_embed" target="_blank">'
    'Wii Gato (Lipe Sleep)</a></p><p style=" color:#c9c8cd;">A post shared by <a href="https://www.instagram.com/'
    'diegoquinteiro/?utm_source=ig_embed&amp;utm_medium=loading" target="_blank"> Diego Moreno Quinteiro</a> '
    '(@diegoquinteiro) on <time datetime="2013-10-03T18:19:39+00:00">Oct 3, 2013 at 11:19am PDT</time></p></div>'
    '</blockquote>\n<script async src="//www.instagram.com/embed.js"></script>'
)
IG_V14_REEL = (
    '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/reel/DESuG_bPmIi/?utm_source='
    'ig_embed&amp;utm_campaign=loading" data-instgrm-version="14"><div style="padding:16px;"><a href="https://www.'
    'instagram.com/reel/DESuG_bPmIi/?utm_source=ig_embed&amp;utm_campaign=loading" target="_blank"><div> View this '
    'post on Instagram</div></a><p><a href="https://www.instagram.com/reel/DESuG_bPmIi/?utm_source=ig_embed&amp;'
    'utm_campaign=loading" target="_blank">A post shared by Phi Delta Theta (@phideltneu)</a></p></div></blockquote>'
)

INSTAGRAM_FORMS = {
    "blockquote-v12": (IG_V12, IG_CODE, "blockquote", "diegoquinteiro"),
    "blockquote-v14-reel": (IG_V14_REEL, "DESuG_bPmIi", "blockquote", "phideltneu"),
    "blockquote-no-permalink-attr": (
        f'<blockquote class="instagram-media" data-instgrm-version="14"><a href="https://www.instagram.com/p/{IG_CODE}/">'
        "View this post on Instagram</a></blockquote>", IG_CODE, "blockquote", None),
    "rendered-iframe": (
        f'<iframe class="instagram-media instagram-media-rendered" id="instagram-embed-0" src="https://www.instagram.com/p/'
        f'{IG_CODE}/embed/captioned/?cr=1&amp;v=14&amp;wp=658&amp;rd=https%3A%2F%2Fnews.example&amp;rp=%2F2024%2F06#%7B%22ci'
        '%22%3A0%2C%22os%22%3A512%7D" allowtransparency="true" frameborder="0" height="868" scrolling="no"></iframe>',
        IG_CODE, "iframe", None),
    "hand-made-iframe": (f'<p><iframe src="//www.instagram.com/p/{IG_CODE}/embed/" width="400" height="480"></iframe></p>',
                         IG_CODE, "iframe", None),
    "amp": (f'<amp-instagram data-shortcode="{IG_CODE}" data-captioned width="400" height="400" layout="responsive">'
            "</amp-instagram>", IG_CODE, "amp", None),
    "post-link": (f'<p>She <a href="https://www.instagram.com/p/{IG_CODE}/?hl=en">posted a photo</a>.</p>',
                  IG_CODE, "link", None),
    "reel-link": ('<p><a href="https://www.instagram.com/reel/DESuG_bPmIi/?igsh=MTc4">reel</a></p>',
                  "DESuG_bPmIi", "link", None),
    "reels-link": ('<p><a href="https://www.instagram.com/reels/DESuG_bPmIi/">reels</a></p>', "DESuG_bPmIi", "link", None),
    "tv-link": (f'<p><a href="https://www.instagram.com/tv/{IG_CODE}/">IGTV</a></p>', IG_CODE, "link", None),
    "user-post-link": (f'<p><a href="https://www.instagram.com/diegoquinteiro/p/{IG_CODE}/">post</a></p>',
                       IG_CODE, "link", "diegoquinteiro"),
    "old-short-host": (f'<p><a href="http://instagr.am/p/{IG_CODE}/">old</a></p>', IG_CODE, "link", None),
    "bare-url": (f"<p>Posted at https://www.instagram.com/p/{IG_CODE}/ on Monday.</p>", IG_CODE, "bare-url", None),
}


@pytest.mark.parametrize("case", sorted(INSTAGRAM_FORMS))
def test_instagram_forms(case):
    body, code, form, handle = INSTAGRAM_FORMS[case]
    result = extract(body)
    assert summary(result, "instagram") == [(code, [form])]
    embed = only(result, "instagram")
    assert embed.url == f"https://www.instagram.com/p/{code}/" and embed.author_handle == handle


def test_instagram_blockquote_context_is_its_text():
    embed = only(extract(IG_V12), "instagram")
    assert "Wii Gato (Lipe Sleep)" in embed.context and "(@diegoquinteiro)" in embed.context


@pytest.mark.parametrize("markup,url,form", [
    ('<p><a href="https://www.instagram.com/share/reel/BAabc12345/">reel</a></p>',
     "https://www.instagram.com/share/reel/BAabc12345/", "link"),
    ('<p><a href="https://www.instagram.com/share/BAxyz98765">post</a></p>',
     "https://www.instagram.com/share/BAxyz98765/", "link"),
    ("<p>Shared as https://www.instagram.com/share/p/BAabc12345 today.</p>",
     "https://www.instagram.com/share/p/BAabc12345/", "bare-url"),
])
def test_instagram_share_links_are_unresolved_embeds(markup, url, form):
    (embed,) = [e for e in extract(markup).embeds if e.platform == "instagram"]
    assert (embed.id, embed.url, embed.forms) == (None, url, [form])


def test_instagram_profiles_are_not_posts():
    body = ('<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/afzalassociates/?utm_'
            'source=ig_embed&amp;utm_campaign=loading" data-instgrm-version="14"></blockquote>'
            '<p><a href="https://www.instagram.com/diegoquinteiro/">his account</a>, '
            '<a href="https://www.instagram.com/explore/tags/floods/">#floods</a>, '
            '<a href="https://www.instagram.com/stories/diegoquinteiro/3012345678901234567/">a story</a>, '
            '<a href="https://www.instagram.com/reels/audio/1234567890/">a sound</a>, instagram.com/newsexample</p>')
    result = extract(body)
    assert summary(result, "instagram") == []
    assert "https://www.instagram.com/afzalassociates/" in result.profiles


# --------------------------------------------------------------------------------------------
# Facebook
# --------------------------------------------------------------------------------------------

FB_POST = "10154009990506729"
FB_PFBID = "pfbid02k9LTRyM9bWcFb3xX1uV7mT7qGf8Z2wHc5sJ4kQe6vR1aYdN3pL8oUj5iK7hB2gCl"
FB_VIDEO = "10153231379946729"
FB_SDK_POST = (
    f'<div id="fb-root"></div><div class="fb-post" data-href="https://www.facebook.com/20531316728/posts/{FB_POST}/" '
    f'data-width="500" data-show-text="true"><blockquote cite="https://www.facebook.com/20531316728/posts/{FB_POST}/" '
    "class=\"fb-xfbml-parse-ignore\"><p>Today we're announcing new tools.</p>Posted by "
    '<a href="https://www.facebook.com/facebook/">Facebook</a> on&nbsp;'
    f'<a href="https://www.facebook.com/20531316728/posts/{FB_POST}/">Thursday, August 27, 2015</a></blockquote></div>'
)

FACEBOOK_FORMS = {
    "sdk-post": (FB_SDK_POST, FB_POST, "blockquote", "20531316728"),
    "sdk-post-bare-div": (f'<div class="fb-post" data-href="https://www.facebook.com/facebook/posts/{FB_PFBID}" '
                          'data-width="500"></div>', FB_PFBID, "script", "facebook"),
    "sdk-video": (f'<div class="fb-video" data-href="https://www.facebook.com/facebook/videos/{FB_VIDEO}/" '
                  'data-show-text="false"><blockquote cite="x" class="fb-xfbml-parse-ignore"><a href="https://www.'
                  f'facebook.com/facebook/videos/{FB_VIDEO}/">How to share</a><p>Share with friends.</p>Posted by '
                  '<a href="https://www.facebook.com/facebook/">Facebook</a> on Friday, December 5, 2014</blockquote></div>',
                  f"video/{FB_VIDEO}", "blockquote", "facebook"),
    "rendered-sdk-post": (
        f'<div class="fb-post fb_iframe_widget" data-href="https://www.facebook.com/facebook/posts/{FB_POST}"><span>'
        '<iframe src="https://www.facebook.com/v26.0/plugins/post.php?app_id=&amp;href=https%3A%2F%2Fwww.facebook.com'
        f'%2Ffacebook%2Fposts%2F{FB_POST}&amp;width=500"></iframe></span></div>', FB_POST, "script", "facebook"),
    "post-plugin-iframe": (
        '<p><iframe src="https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com%2Ffacebook%2Fposts'
        f'%2F{FB_PFBID}&amp;show_text=true&amp;width=500" width="500" height="498" style="border:none"></iframe></p>',
        FB_PFBID, "iframe", "facebook"),
    "video-plugin-iframe": (
        '<p><iframe src="https://www.facebook.com/plugins/video.php?height=314&amp;href=https%3A%2F%2Fwww.facebook.com'
        f'%2Ffacebook%2Fvideos%2F{FB_VIDEO}%2F&amp;show_text=false&amp;width=560"></iframe></p>',
        f"video/{FB_VIDEO}", "iframe", "facebook"),
    "video-embed-iframe": (f'<p><iframe src="https://www.facebook.com/video/embed?video_id={FB_VIDEO}"></iframe></p>',
                           f"video/{FB_VIDEO}", "iframe", None),
    "posts-link": (f'<p>The ministry <a href="https://www.facebook.com/MinistryExample/posts/{FB_POST}?__tn__=K-R">'
                   "said so</a>.</p>", FB_POST, "link", "MinistryExample"),
    "pfbid-link": (f'<p><a href="https://m.facebook.com/MinistryExample/posts/{FB_PFBID}/">post</a></p>',
                   FB_PFBID, "link", "MinistryExample"),
    "permalink-php": (f'<p><a href="https://www.facebook.com/permalink.php?story_fbid={FB_PFBID}&amp;id=100064'
                      '567890123">post</a></p>', FB_PFBID, "link", "100064567890123"),
    "story-php": (f'<p><a href="https://www.facebook.com/story.php?story_fbid={FB_POST}&amp;id=20531316728">post</a></p>',
                  FB_POST, "link", "20531316728"),
    "videos-link": (f'<p><a href="https://www.facebook.com/facebook/videos/{FB_VIDEO}/">video</a></p>',
                    f"video/{FB_VIDEO}", "link", "facebook"),
    "videos-slug-link": (f'<p><a href="https://www.facebook.com/facebook/videos/how-to-share/{FB_VIDEO}/">video</a></p>',
                         f"video/{FB_VIDEO}", "link", "facebook"),
    "watch-link": (f'<p><a href="https://www.facebook.com/watch/?v={FB_VIDEO}&amp;ref=sharing">watch</a></p>',
                   f"video/{FB_VIDEO}", "link", None),
    "video-php-link": (f'<p><a href="https://www.facebook.com/video.php?v={FB_VIDEO}">video</a></p>',
                       f"video/{FB_VIDEO}", "link", None),
    "reel-link": (f'<p><a href="https://www.facebook.com/reel/{FB_VIDEO}">reel</a></p>', f"video/{FB_VIDEO}", "link", None),
    "photo-php-link": ('<p><a href="https://www.facebook.com/photo.php?fbid=10161234567890123&amp;set=a.1">photo</a></p>',
                       "photo/10161234567890123", "link", None),
    "photos-link": ('<p><a href="https://www.facebook.com/facebook/photos/a.10151234567890/10161234567890123/">photo</a></p>',
                    "photo/10161234567890123", "link", "facebook"),
    "bare-url": (f"<p>Posted at https://www.facebook.com/MinistryExample/posts/{FB_POST}, then removed.</p>",
                 FB_POST, "bare-url", "MinistryExample"),
    "bare-url-no-scheme": (f"<p>See facebook.com/watch/?v={FB_VIDEO}.</p>", f"video/{FB_VIDEO}", "bare-url", None),
    "group-post-link": (f'<p>In a local group <a href="https://www.facebook.com/groups/kyivneighbours/posts/{FB_POST}/">'
                        "residents wrote</a>.</p>", FB_POST, "link", "groups/kyivneighbours"),
    "group-permalink-link": (f'<p><a href="https://m.facebook.com/groups/123456789012/permalink/{FB_POST}/?mibextid=Nif5oz">'
                             "post</a></p>", FB_POST, "link", "groups/123456789012"),
}


@pytest.mark.parametrize("case", sorted(FACEBOOK_FORMS))
def test_facebook_forms(case):
    body, post_id, form, handle = FACEBOOK_FORMS[case]
    result = extract(body)
    assert summary(result, "facebook") == [(post_id, [form])]
    embed = only(result, "facebook")
    assert embed.author_handle == handle
    assert embed.url == facebook.canonical_url(post_id, handle)


def test_facebook_canonical_urls():
    assert facebook.canonical_url(FB_POST, "facebook") == f"https://www.facebook.com/facebook/posts/{FB_POST}/"
    assert facebook.canonical_url(f"video/{FB_VIDEO}", None) == f"https://www.facebook.com/video.php?v={FB_VIDEO}"
    assert facebook.canonical_url(f"video/{FB_VIDEO}", "facebook") == (
        f"https://www.facebook.com/facebook/videos/{FB_VIDEO}/")
    assert facebook.canonical_url("photo/1016", None) == "https://www.facebook.com/photo.php?fbid=1016"
    assert facebook.canonical_url(FB_POST, "groups/kyivneighbours") == (
        f"https://www.facebook.com/groups/kyivneighbours/posts/{FB_POST}/")
    assert facebook.canonical_url(FB_PFBID, None) == f"https://www.facebook.com/permalink.php?story_fbid={FB_PFBID}"


@pytest.mark.parametrize("markup,url,form", [
    ('<p><a href="https://fb.watch/rBcD3fGh1j/">clip</a></p>', "https://fb.watch/rBcD3fGh1j/", "link"),
    ('<p><a href="https://www.facebook.com/share/p/1AbCdEfGhI/">post</a></p>',
     "https://www.facebook.com/share/p/1AbCdEfGhI/", "link"),
    ('<p><a href="https://www.facebook.com/share/v/15xYzAbCdE/?mibextid=x">video</a></p>',
     "https://www.facebook.com/share/v/15xYzAbCdE/", "link"),
    ("<p>The clip fb.watch/rBcD3fGh1j went viral.</p>", "https://fb.watch/rBcD3fGh1j/", "bare-url"),
])
def test_facebook_short_links_are_unresolved_embeds(markup, url, form):
    (embed,) = [e for e in extract(markup).embeds if e.platform == "facebook"]
    assert (embed.id, embed.url, embed.forms) == (None, url, [form])


def test_facebook_pages_share_dialogs_and_plugins_are_not_posts():
    body = ('<p><a href="https://www.facebook.com/MinistryExample">the ministry</a>, '
            '<a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fwww.facebook.com%2Fa%2Fposts%2F123456789">'
            'share</a>, <a href="https://www.facebook.com/sharer.php?u=x">share</a>, '
            '<a href="https://www.facebook.com/dialog/share?href=https%3A%2F%2Fnews.example">share</a>, '
            '<a href="https://l.facebook.com/l.php?u=https%3A%2F%2Fnews.example">out</a>, '
            '<a href="https://www.facebook.com/events/1234567890/">an event</a>, '
            '<a href="https://www.facebook.com/groups/123456789/">a group</a>, '
            '<a href="https://www.facebook.com/hashtag/floods">#floods</a>, facebook.com/MinistryExample</p>'
            '<iframe src="https://www.facebook.com/plugins/like.php?href=https%3A%2F%2Fwww.facebook.com%2Ffacebook%2F'
            'posts%2F10154009990506729"></iframe>'
            '<iframe src="https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2FMinistryExample'
            '&amp;tabs=timeline"></iframe>')
    result = extract(body)
    assert summary(result, "facebook") == []
    assert "https://www.facebook.com/MinistryExample" in result.profiles


# --------------------------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------------------------

TH_CODE = "C-GMXpGM4KR"
TH_BLOCKQUOTE = (
    f'<blockquote class="text-post-media" data-text-post-permalink="https://www.threads.net/@popey/post/{TH_CODE}" '
    f'data-text-post-version="0" id="ig-tp-{TH_CODE}" style=" background:#FFF;"> <a href="https://www.threads.net/@popey/'
    f'post/{TH_CODE}" target="_blank"> <div><div> Post by @popey</div> <div> View on Threads</div></div></a></blockquote>'
    '\n<script async src="https://www.threads.net/embed.js" type="text/javascript"></script>'
)

THREADS_FORMS = {
    "blockquote-net": (TH_BLOCKQUOTE, "blockquote", "popey"),
    "blockquote-com": (TH_BLOCKQUOTE.replace("threads.net", "threads.com"), "blockquote", "popey"),
    "blockquote-no-permalink-attr": (
        f'<blockquote class="text-post-media" data-no-copy><a href="https://www.threads.com/@popey/post/{TH_CODE}">'
        "Post by @popey</a></blockquote>", "blockquote", "popey"),
    "rendered-iframe": (f'<p><iframe src="https://www.threads.com/@popey/post/{TH_CODE}/embed" width="540"></iframe></p>',
                        "iframe", "popey"),
    "post-link-net": (f'<p>He <a href="https://www.threads.net/@popey/post/{TH_CODE}?xmt=AQGz">wrote</a>.</p>',
                      "link", "popey"),
    "post-link-com": (f'<p><a href="https://www.threads.com/@popey/post/{TH_CODE}/media">photos</a></p>', "link", "popey"),
    "t-link": (f'<p><a href="https://www.threads.net/t/{TH_CODE}/">post</a></p>', "link", None),
    "bare-url": (f"<p>Posted at threads.com/@popey/post/{TH_CODE} last night.</p>", "bare-url", "popey"),
}


@pytest.mark.parametrize("case", sorted(THREADS_FORMS))
def test_threads_forms(case):
    body, form, handle = THREADS_FORMS[case]
    result = extract(body)
    assert summary(result, "threads") == [(TH_CODE, [form])]
    embed = only(result, "threads")
    assert embed.author_handle == handle
    assert embed.url == (f"https://www.threads.com/@popey/post/{TH_CODE}" if handle
                         else f"https://www.threads.com/t/{TH_CODE}")


def test_threads_link_merge_takes_the_author_from_a_later_sighting():
    body = THREADS_FORMS["t-link"][0] + THREADS_FORMS["post-link-net"][0]
    embed = only(extract(body), "threads")
    assert (embed.forms, embed.author_handle, embed.url) == (
        ["link"], "popey", f"https://www.threads.com/@popey/post/{TH_CODE}")


def test_threads_profiles_and_share_intents_are_not_posts():
    body = ('<p><a href="https://www.threads.net/@popey">his profile</a>, threads.com/@popey, '
            '<a href="https://www.threads.net/intent/post?text=hi">share</a>, '
            '<a href="https://www.threads.com/search?q=floods">search</a></p>')
    assert summary(extract(body), "threads") == []


# --------------------------------------------------------------------------------------------
# Reading Meta's oEmbed html
# --------------------------------------------------------------------------------------------


def test_instagram_embed_html_gives_author_caption_and_date():
    info = instagram.read_embed_html(IG_V12)
    assert (info.author_name, info.author_handle, info.text, info.created_at) == (
        "Diego Moreno Quinteiro", "diegoquinteiro", "Wii Gato (Lipe Sleep)", "2013-10-03T18:19:39Z")
    info = instagram.read_embed_html(IG_V14_REEL)  # v14 has no caption and no date
    assert (info.author_name, info.author_handle, info.text, info.created_at) == (
        "Phi Delta Theta", "phideltneu", None, None)


def test_facebook_embed_html_gives_author_and_text():
    info = facebook.read_embed_html(FB_SDK_POST)
    assert (info.author_name, info.author_handle, info.text) == ("Facebook", "facebook", "Today we're announcing new tools.")
    info = facebook.read_embed_html(FACEBOOK_FORMS["sdk-video"][0])
    assert (info.author_name, info.text) == ("Facebook", "Share with friends.")


def test_threads_embed_html_gives_the_author():
    assert threads.read_embed_html(TH_BLOCKQUOTE).author_handle == "popey"


# --------------------------------------------------------------------------------------------
# The raw-marker shortcuts never change the answer
# --------------------------------------------------------------------------------------------

SHORTCUT_BODIES = [
    *(v[0] for v in INSTAGRAM_FORMS.values()),
    *(v[0] for v in FACEBOOK_FORMS.values()),
    *(v[0] for v in THREADS_FORMS.values()),
    f'<p title="a > instagram.com/p/{IG_CODE}">t</p><!-- facebook.com/a/posts/1234567 --><p>1 < 2 threads.net/t/{TH_CODE}</p>',
    f'<p><a title="x > y" href="https://www.instagram.com/p/{IG_CODE}/">p</a> fb.watch/rBcD3fGh1j</p>',
]


@pytest.mark.parametrize("body", SHORTCUT_BODIES)
def test_shortcuts_find_what_a_full_scan_finds(body):
    html = news_page(body).encode()
    for module in (instagram, facebook, threads):
        fast = list(module.detect(parse_html(html, base_url=BASE)))
        full = list(module.detect(parse_html(html, base_url=BASE), exhaustive=True))
        assert fast == full


def test_profile_links_and_share_buttons_call_for_no_tree_query():
    """Speed: a header's profile links and share buttons start no post URL, so no tree query runs."""
    page = ('<html><body><header><a href="https://www.instagram.com/newsexample/">Instagram</a>'
            '<a href="https://www.facebook.com/newsexample">Facebook</a>'
            '<a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fnews.example%2F">Share</a>'
            '<a href="https://www.threads.net/@newsexample">Threads</a>'
            '<a href="https://www.threads.net/intent/post?text=x">Share</a></header>'
            '<article><p>No post here.</p></article></body></html>')
    doc = parse_html(page.encode(), base_url=BASE)
    for module in (instagram, facebook, threads):
        assert scan.read_signs(doc, module._SIGNS) == (set(), set())
        assert list(module.detect(doc)) == [] and not doc.parsed  # the tree was never even built
    # an SDK div is markup, whatever its data-href names
    doc = parse_html(b'<div class="fb-page" data-href="https://www.facebook.com/newsexample"></div>', base_url=BASE)
    assert scan.read_signs(doc, facebook._SIGNS) == (set(), {"sdk"})


# --------------------------------------------------------------------------------------------
# Capture end to end: one post of each platform, a deleted video, a private Instagram post
# --------------------------------------------------------------------------------------------

IG_POST = FakePost("instagram", IG_CODE, "diegoquinteiro", "Diego Moreno Quinteiro", "Wii Gato (Lipe Sleep)",
                   created_at="2013-10-03T18:19:39Z")
IG_PRIVATE = FakePost("instagram", "PrivPost123", "someone", "Someone", "", state="private")
FB_POST_FAKE = FakePost("facebook", FB_POST, "MinistryExample", "Ministry of Water", "Evacuate the east bank now.")
FB_VIDEO_FAKE = FakePost("facebook", f"video/{FB_VIDEO}", "MinistryExample", "Ministry of Water", "Aerial view")
TH_POST = FakePost("threads", TH_CODE, "popey", "Alan Pope", "Lotus Organiser on Windows 3.11, for the nostalgia")
YT_POST = FakePost("youtube", "eiHXASgRTcA", "smshdchrb", "smshdchrb", "Noisy kittens waiting for dinner!")
YT_GONE = FakePost("youtube", "RemovedVid1", "gone", "Gone", "", state="gone")
TT_POST = FakePost("tiktok", "6806030056956251397", "a3noticias", "Antena 3 Noticias", "Nuestro #AplausoSanitario")

ALL_FIVE = (
    '<p>The clip <a href="https://youtu.be/eiHXASgRTcA">went round</a>; an older one '
    '<a href="https://www.youtube.com/watch?v=RemovedVid1">is gone</a>.</p>'
    f'<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@a3noticias/video/{TT_POST.id}" '
    f'data-video-id="{TT_POST.id}"><section><p>Nuestro #AplausoSanitario</p></section></blockquote>'
    + IG_V12
    + '<p>A relative <a href="https://www.instagram.com/p/PrivPost123/">posted</a> from a private account.</p>'
    + FB_SDK_POST.replace("20531316728", "MinistryExample")
    + '<p><a href="https://fb.watch/rBcD3fGh1j/">The ministry\'s video</a> shows the bank.</p>'
    + TH_BLOCKQUOTE
)


def responses(archive: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for path in sorted((archive / "warcs").glob("*.warc.gz")):
        for rec in read_records(path):
            if rec["type"] in ("response", "revisit"):
                out.setdefault(rec["h"].get_header("WARC-Target-URI"), []).append(rec)
    return out


def test_all_five_platforms_end_to_end(web, tmp_path):
    VideoMetaWorld(web, [IG_POST, IG_PRIVATE, FB_POST_FAKE, FB_VIDEO_FAKE, TH_POST, YT_POST, YT_GONE, TT_POST])
    web.add("https://fb.watch/rBcD3fGh1j/", status=302,
            headers=[("Location", f"https://www.facebook.com/MinistryExample/videos/{FB_VIDEO}/?mibextid=x")])
    web.add(ARTICLE, body=news_page(ALL_FIVE), headers=[("Content-Type", "text/html; charset=utf-8")])
    archive = tmp_path / "archive"
    result = run_capture(web, archive)
    assert result.exit_code == 0, result.output  # deleted and protected are findings, not failures

    rows = export_rows(archive)
    assert {key: row["status"] for key, row in rows.items()} == {
        ("youtube", "eiHXASgRTcA"): "available",
        ("youtube", "RemovedVid1"): "deleted",
        ("tiktok", TT_POST.id): "available",
        ("instagram", IG_CODE): "available",
        ("instagram", "PrivPost123"): "protected",
        ("facebook", FB_POST): "available",
        ("facebook", f"video/{FB_VIDEO}"): "available",
        ("threads", TH_CODE): "available",
    }
    authors = {key: (row["author_handle"], row["author_name"]) for key, row in rows.items() if row["status"] == "available"}
    assert authors == {
        ("youtube", "eiHXASgRTcA"): ("smshdchrb", "smshdchrb"),
        ("tiktok", TT_POST.id): ("a3noticias", "Antena 3 Noticias"),
        ("instagram", IG_CODE): ("diegoquinteiro", "Diego Moreno Quinteiro"),
        ("facebook", FB_POST): ("MinistryExample", "Ministry of Water"),
        ("facebook", f"video/{FB_VIDEO}"): ("MinistryExample", "Ministry of Water"),
        ("threads", TH_CODE): ("popey", "Alan Pope"),
    }
    for row in rows.values():
        assert row["articles"] == [ARTICLE]

    ig = rows[("instagram", IG_CODE)]
    assert ig["text"] == "Wii Gato (Lipe Sleep)" and ig["created_at"] == "2013-10-03T18:19:39Z"
    assert ig["url"] == f"https://www.instagram.com/p/{IG_CODE}/"
    (image,) = ig["media"]  # oEmbed names no thumbnail any more: the post page's og:image
    assert image["url"].startswith(f"{IG_CDN}{IG_CODE}_n.jpg") and image["kind"] == "thumbnail" and image["captured"]
    assert image["sha256"] == hashlib.sha256(image_bytes(f"/v/t51.2885-15/{IG_CODE}_n.jpg")).hexdigest()

    private = rows[("instagram", "PrivPost123")]
    assert private["status_reason"] == "oembed 403: (#10) This media is private and cannot be embedded"
    assert private["media"] == [] and private["text"] is None
    # the login wall it was sent to is recorded, and says nothing about the post
    private_urls = {r["url"] for r in private["records"]}
    assert "https://www.instagram.com/p/PrivPost123/" in private_urls
    assert any(u.startswith("https://www.instagram.com/accounts/login/") for u in private_urls)

    fb = rows[("facebook", FB_POST)]
    assert fb["text"] == "Evacuate the east bank now."
    assert fb["url"] == f"https://www.facebook.com/MinistryExample/posts/{FB_POST}/"
    assert fb["media"][0]["url"].startswith(f"{FB_CDN}{FB_POST}_n.jpg") and fb["media"][0]["captured"]
    video = rows[("facebook", f"video/{FB_VIDEO}")]
    assert video["url"] == f"https://www.facebook.com/MinistryExample/videos/{FB_VIDEO}/"
    assert "https://fb.watch/rBcD3fGh1j/" in {r["url"] for r in video["records"]}  # the short link's hop

    th = rows[("threads", TH_CODE)]
    assert th["text"] == "Lotus Organiser on Windows 3.11, for the nostalgia"  # from the page: oEmbed has no text
    assert th["url"] == f"https://www.threads.com/@popey/post/{TH_CODE}"

    gone = rows[("youtube", "RemovedVid1")]
    assert gone["status_reason"] == "oembed 404" and gone["media"] == []

    # every post's page and oEmbed answer are in the WARC, and the index points at them
    held = responses(archive)
    oembeds = {
        ("youtube", "eiHXASgRTcA"): youtube.oembed_url("https://www.youtube.com/watch?v=eiHXASgRTcA"),
        ("youtube", "RemovedVid1"): youtube.oembed_url("https://www.youtube.com/watch?v=RemovedVid1"),
        ("tiktok", TT_POST.id): tiktok.oembed_url(f"https://www.tiktok.com/@a3noticias/video/{TT_POST.id}"),
        ("instagram", IG_CODE): meta.oembed_url(meta.INSTAGRAM_OEMBED, f"https://www.instagram.com/p/{IG_CODE}/"),
        ("instagram", "PrivPost123"): meta.oembed_url(meta.INSTAGRAM_OEMBED, "https://www.instagram.com/p/PrivPost123/"),
        ("facebook", FB_POST): meta.oembed_url(meta.FACEBOOK_POST_OEMBED, fb["url"]),
        ("facebook", f"video/{FB_VIDEO}"): meta.oembed_url(meta.FACEBOOK_VIDEO_OEMBED, video["url"]),
        ("threads", TH_CODE): meta.oembed_url(meta.THREADS_OEMBED, th["url"]),
    }
    pages = {key: row["url"] for key, row in rows.items()}
    for key, url in oembeds.items():
        assert url in held, f"no oEmbed record for {key}"
        assert url in {r["url"] for r in rows[key]["records"]}
        assert pages[key] in held and pages[key] in {r["url"] for r in rows[key]["records"]}, f"no page for {key}"
    assert held[oembeds[("instagram", "PrivPost123")]][0]["http"].get_statuscode() == "403"
    body = json.loads(held[oembeds[("threads", TH_CODE)]][0]["content"])
    assert body["provider_name"] == "Threads" and "Post by @popey" in body["html"]
    for key, row in rows.items():
        for media in row["media"]:
            assert media["captured"] and media["sha256"] and media["url"] in held, (key, media)


def test_rate_limited_oembed_but_a_public_page_says_available(web, tmp_path):
    """Threads' page describes the post: available without oEmbed. Instagram's login wall does not:
    failed, worth another try."""
    VideoMetaWorld(web, [TH_POST, FakePost("instagram", "WalledPost1", "someone", "Someone", "hi")])
    limited = Response(429, headers=[("Content-Type", "application/json")],
                       body=b'{"error":{"message":"(#4) Application request limit reached","code":4}}')
    web.route("https://graph.threads.net/oembed", lambda req: limited)
    web.route("https://graph.facebook.com/v26.0/instagram_oembed", lambda req: limited)
    web.add("https://www.instagram.com/p/WalledPost1/", status=302,
            headers=[("Location", "https://www.instagram.com/accounts/login/?next=%2Fp%2FWalledPost1%2F")])
    body = TH_BLOCKQUOTE + '<p>And <a href="https://www.instagram.com/p/WalledPost1/">this</a>.</p>'
    web.add(ARTICLE, body=news_page(body), headers=[("Content-Type", "text/html")])
    archive = tmp_path / "archive"
    result = run_capture(web, archive, "--retries", "0")
    assert result.exit_code == 1, result.output
    rows = export_rows(archive)
    th = rows[("threads", TH_CODE)]
    assert (th["status"], th["author_handle"], th["author_name"]) == ("available", "popey", "Alan Pope")
    assert th["text"] == TH_POST.text and th["media"][0]["captured"]
    walled = rows[("instagram", "WalledPost1")]
    assert walled["status"] == "failed" and walled["status_reason"].startswith("oembed HTTP 429")


def test_resolve_snapshot_and_canonical_url_are_registered():
    for module in (instagram, facebook, threads):
        assert platform_for(module.name) is module
        assert callable(module.resolve) and callable(module.snapshot) and callable(module.canonical_url)
