"""Bluesky, Mastodon, Reddit and Telegram: detection on realistic pages, snapshot status rules,
and `archiver capture` end to end against the fixture web (tests/world_social.py)."""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from pathlib import Path
from typing import Optional

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from archiver.cli import cli
from archiver.extract import ExtractResult, find_embeds, parse_html
from archiver.fetch import FetchResult
from archiver.models import FORMS, Embed
from archiver.platforms import PLATFORMS, bluesky, mastodon, platform_for, reddit, telegram
from twitterworld import add_news_site, media_bytes
from warcread import warcio_check
from world_social import (
    BlueskyWorld,
    BskyPost,
    MastodonWorld,
    RedditPost,
    RedditWorld,
    TelegramWorld,
    TgPost,
    Toot,
    social_article,
)

BASE = "https://news.example/2025/02/02/storm"
SOCIAL = ("bluesky", "mastodon", "reddit", "telegram")
DID = "did:plc:2jtyqespp2zfodukwvktqwe6"


def extract(body: str) -> ExtractResult:
    """This module's platforms' embeds in the page (other platforms' detectors run too, unseen)."""
    result = find_embeds(parse_html(social_article(body), base_url=BASE))
    return ExtractResult(embeds=[e for e in result.embeds if e.platform in SOCIAL], profiles=result.profiles)


def found(body: str) -> list[tuple[str, Optional[str], list[str]]]:
    """(platform, id or URL, forms) of every embed, in registry then page order."""
    return [(e.platform, e.id or e.url, e.forms) for e in extract(body).embeds]


def test_registered():
    for module in (bluesky, mastodon, reddit, telegram):
        assert module in PLATFORMS and platform_for(module.name) is module


def test_the_chrome_alone_holds_no_posts():
    """Follow links, share buttons and the outlet's own posts in header and footer are chrome."""
    assert found("<p>Nothing embedded here.</p>") == []


# --------------------------------------------------------------------------------------------
# Detection: every markup and URL form (inside the full page with chrome), then the traps
# --------------------------------------------------------------------------------------------

BSKY_BLOCKQUOTE = (
    f'<blockquote class="bluesky-embed" data-bluesky-uri="at://{DID}/app.bsky.feed.post/3lh5px6yngs26" '
    'data-bluesky-cid="bafyreicqxtu3ynipbbpagmynk6rcxgjvz5warx74twxvvbfsvvgbaukyaa" data-bluesky-embed-color-mode="system">'
    '<p lang="en">the @bsky.app butterfly pollinating a blooming @atproto.com flower</p>&mdash; verdverm '
    f'(<a href="https://bsky.app/profile/{DID}?ref_src=embed">@verdverm.com</a>) '
    f'<a href="https://bsky.app/profile/{DID}/post/3lh5px6yngs26?ref_src=embed">February 1, 2025 at 7:01 PM</a>'
    '</blockquote><script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>'
)
TOOT_BLOCKQUOTE = (
    '<blockquote class="mastodon-embed" data-embed-url="https://mastodon.social/@Gargron/113443216181398523/embed" '
    'style="background: #FCF8FF; border-radius: 8px;"><a href="https://mastodon.social/@Gargron/113443216181398523" '
    'target="_blank"><div>Post by @Gargron@mastodon.social</div><div>View on Mastodon</div></a></blockquote>'
    '<script data-allowed-prefixes="https://mastodon.social/" async src="https://mastodon.social/embed.js"></script>'
)
REDDIT_BQ = (
    '<blockquote class="reddit-embed-bq" style="height:316px" >\n<a href="https://www.reddit.com/r/investing/comments/'
    "7pfpeq/buffett_on_cyrptocurrencies_i_can_say_almost_with/\">Buffett on cyrptocurrencies: 'I can say almost with "
    "certainty that they will come to a bad ending'</a><br> by\n<a href=\"https://www.reddit.com/user/dennisrieves/\">"
    'u/dennisrieves</a> in\n<a href="https://www.reddit.com/r/investing/">investing</a>\n</blockquote>\n'
    '<script async src="https://embed.reddit.com/widgets.js" charset="UTF-8"></script>'
)
REDDIT_CARD = (
    '<blockquote class="reddit-card" >\n  <a href="https://www.reddit.com/r/investing/comments/7pfpeq/'
    "buffett_on_cyrptocurrencies_i_can_say_almost_with/?ref_source=embed&amp;ref=share\">Buffett on cyrptocurrencies"
    '</a> from\n  <a href="https://www.reddit.com/r/investing/">investing</a>\n</blockquote>\n'
    '<script async src="https://embed.redditmedia.com/widgets/platform.js" charset="UTF-8"></script>'
)

FORM_CASES: dict[str, tuple[str, list]] = {
    # Bluesky ---------------------------------------------------------------------------------
    "bsky-blockquote": (BSKY_BLOCKQUOTE, [("bluesky", f"{DID}/3lh5px6yngs26", ["blockquote"])]),
    "bsky-blockquote-jsx-classname": (
        BSKY_BLOCKQUOTE.replace('class="bluesky-embed"', 'className="bluesky-embed"'),
        [("bluesky", f"{DID}/3lh5px6yngs26", ["blockquote"])]),
    "bsky-blockquote-uri-stripped-by-cms": (
        BSKY_BLOCKQUOTE.replace(f' data-bluesky-uri="at://{DID}/app.bsky.feed.post/3lh5px6yngs26"', ""),
        [("bluesky", f"{DID}/3lh5px6yngs26", ["blockquote"])]),
    "bsky-iframe-rendered-by-embed-js": (
        f'<p><iframe src="https://embed.bsky.app/embed/{DID}/app.bsky.feed.post/3lh5px6yngs26?id=6093&amp;'
        'ref_url=https%253A%252F%252Fnews.example%252F" data-bluesky-id="6093" width="100%" frameborder="0"></iframe></p>',
        [("bluesky", f"{DID}/3lh5px6yngs26", ["iframe"])]),
    "bsky-link-with-handle": (
        '<p>The team <a href="https://bsky.app/profile/Jay.bsky.team/post/3l6oveex3ii2l">said</a> so.</p>',
        [("bluesky", "jay.bsky.team/3l6oveex3ii2l", ["link"])]),
    "bsky-link-with-percent-encoded-did": (
        '<p><a href="https://bsky.app/profile/did%3Aplc%3Az72i7hdynmk6r22z27h6tvur/post/3kxyzabc2222k">post</a></p>',
        [("bluesky", "did:plc:z72i7hdynmk6r22z27h6tvur/3kxyzabc2222k", ["link"])]),
    "bsky-at-uri-in-text-and-href": (
        "<p>Record at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3kaaaaaaaaa2a is cited, and "
        '<a href="at://did:web:example.com/app.bsky.feed.post/3kbbbbbbbbb2b">this one</a>.</p>',
        [("bluesky", "did:plc:z72i7hdynmk6r22z27h6tvur/3kaaaaaaaaa2a", ["bare-url"]),
         ("bluesky", "did:web:example.com/3kbbbbbbbbb2b", ["link"])]),
    "bsky-bare-url-without-scheme": (
        "<p>As posted at bsky.app/profile/atproto.com/post/3l4nhz6kpyk2x, the network grew.</p>",
        [("bluesky", "atproto.com/3l4nhz6kpyk2x", ["bare-url"])]),
    "bsky-handle-link-merges-with-the-embed-that-names-it": (
        BSKY_BLOCKQUOTE + '<p>Later <a href="https://bsky.app/profile/verdverm.com/post/3lh5px6yngs26">he added</a>.</p>',
        [("bluesky", f"{DID}/3lh5px6yngs26", ["blockquote", "link"])]),
    # Mastodon --------------------------------------------------------------------------------
    "toot-blockquote-4.3": (TOOT_BLOCKQUOTE, [("mastodon", "mastodon.social/113443216181398523", ["blockquote"])]),
    "toot-iframe-old-short-id": (
        '<iframe src="https://mastodon.social/@Gargron/99/embed" class="mastodon-embed" style="max-width: 100%; border: 0" '
        'width="400" allowfullscreen="allowfullscreen"></iframe><script src="https://mastodon.social/embed.js" async="async"></script>',
        [("mastodon", "mastodon.social/99", ["iframe"])]),
    "toot-iframe-users-path-no-class": (
        '<p><iframe src="https://social.coop/users/ntnsndr/statuses/109414412133385017/embed" width="400"></iframe></p>',
        [("mastodon", "social.coop/109414412133385017", ["iframe"])]),
    "toot-link-unknown-instance-snowflake": (
        '<p>A <a href="https://social.example-town.org/@mayor/113456789012345678">statement</a> from the mayor.</p>',
        [("mastodon", "social.example-town.org/113456789012345678", ["link"])]),
    "toot-link-users-statuses": (
        '<p><a href="https://hachyderm.io/users/nova/statuses/109345678901234567">link</a></p>',
        [("mastodon", "hachyderm.io/109345678901234567", ["link"])]),
    "toot-link-remote-account-on-local-instance": (
        '<p><a href="https://mastodon.social/@alice@example.social/113000000000000042/">boost</a></p>',
        [("mastodon", "mastodon.social/113000000000000042", ["link"])]),
    "toot-link-short-id-on-known-instance": (
        '<p>The first toot: <a href="https://mastodon.social/@Gargron/1">hello world</a>.</p>',
        [("mastodon", "mastodon.social/1", ["link"])]),
    "toot-short-id-link-on-a-host-embedded-on-the-page": (
        '<p><iframe src="https://toots.example.net/@ed/120000000000000001/embed" class="mastodon-embed"></iframe></p>'
        '<p>Older: <a href="https://toots.example.net/@ed/4242">this</a>.</p>',
        [("mastodon", "toots.example.net/120000000000000001", ["iframe"]), ("mastodon", "toots.example.net/4242", ["link"])]),
    "toot-bare-url": (
        "<p>Source: https://infosec.exchange/@briankrebs/113500000000000001.</p>",
        [("mastodon", "infosec.exchange/113500000000000001", ["bare-url"])]),
    # Reddit ----------------------------------------------------------------------------------
    "reddit-embed-bq": (REDDIT_BQ, [("reddit", "7pfpeq", ["blockquote"])]),
    "reddit-card-legacy": (REDDIT_CARD, [("reddit", "7pfpeq", ["blockquote"])]),
    "reddit-iframe-embed-reddit-com": (
        '<p><iframe id="reddit-embed" src="https://embed.reddit.com/r/investing/comments/7pfpeq/buffett/?embed=true&amp;'
        'ref_source=embed&amp;ref=share&amp;showmedia=false" sandbox="allow-scripts" height="316"></iframe></p>',
        [("reddit", "7pfpeq", ["iframe"])]),
    "reddit-iframe-redditmedia-legacy": (
        '<p><iframe src="https://www.redditmedia.com/r/pics/comments/92dd8/test_post_please_ignore/?ref_source=embed&amp;'
        'ref=share&amp;embed=true" height="400"></iframe></p>',
        [("reddit", "92dd8", ["iframe"])]),
    "reddit-links-on-every-host": (
        '<p><a href="https://old.reddit.com/r/AskHistorians/comments/1abcd2e/why/">old</a>, '
        '<a href="https://new.reddit.com/r/AskHistorians/comments/1abcd2f/">new</a>, '
        '<a href="https://np.reddit.com/r/AskHistorians/comments/1abcd2g/x/kq2z3r4/">a comment (np)</a>, '
        '<a href="https://reddit.com/comments/1abcd2h">no subreddit</a>, '
        '<a href="https://www.reddit.com/user/spez/comments/1abcd2i/profile_post/">profile post</a>, '
        '<a href="https://www.reddit.com/gallery/1abcd2j">gallery</a>.</p>',
        [("reddit", "1abcd2e", ["link"]), ("reddit", "1abcd2f", ["link"]), ("reddit", "1abcd2g", ["link"]),
         ("reddit", "1abcd2h", ["link"]), ("reddit", "1abcd2i", ["link"]), ("reddit", "1abcd2j", ["link"])]),
    "reddit-short-link": (
        '<p>Thread: <a href="https://redd.it/7pfpeq">redd.it/7pfpeq</a></p>', [("reddit", "7pfpeq", ["link"])]),
    "reddit-share-link-unresolved": (
        '<p>Shared <a href="https://www.reddit.com/r/pics/s/Ab12Cd34Ef?utm_source=share">from the app</a>.</p>',
        [("reddit", "https://www.reddit.com/r/pics/s/Ab12Cd34Ef", ["link"])]),
    "reddit-bare-urls": (
        "<p>See reddit.com/r/investing/comments/7pfpeq/buffett and redd.it/8abcde for the threads.</p>",
        [("reddit", "7pfpeq", ["bare-url"]), ("reddit", "8abcde", ["bare-url"])]),
    # Telegram --------------------------------------------------------------------------------
    "tg-script-widget": (
        '<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="Durov/123" '
        'data-width="100%" data-userpic="false"></script>',
        [("telegram", "durov/123", ["script"])]),
    "tg-iframe": (
        '<p><iframe id="telegram-post-durov-124" src="https://t.me/durov/124?embed=1&amp;mode=tme" width="100%" '
        'height="" frameborder="0" scrolling="no"></iframe></p>',
        [("telegram", "durov/124", ["iframe"])]),
    "tg-links": (
        '<p><a href="https://t.me/durov/125">post</a>, <a href="https://t.me/s/durov/126">web preview</a>, '
        '<a href="https://telegram.me/durov/127?single">old host</a>, '
        '<a href="https://t.me/somegroup/5/128">forum topic message</a>.</p>',
        [("telegram", "durov/125", ["link"]), ("telegram", "durov/126", ["link"]), ("telegram", "durov/127", ["link"]),
         ("telegram", "somegroup/128", ["link"])]),
    "tg-bare-url-merges-with-the-widget": (
        '<p>Durov wrote (t.me/durov/129):</p><script async src="https://telegram.org/js/telegram-widget.js?22" '
        'data-telegram-post="durov/129"></script>',
        [("telegram", "durov/129", ["bare-url", "script"])]),
}


@pytest.mark.parametrize("body, expected", FORM_CASES.values(), ids=list(FORM_CASES))
def test_every_form_in_a_full_page(body, expected):
    result = extract(body)
    assert [(e.platform, e.id or e.url, e.forms) for e in result.embeds] == expected
    for embed in result.embeds:
        assert set(embed.forms) <= set(FORMS)
        assert embed.context or set(embed.forms) <= {"iframe", "script"}  # an iframe alone has no prose around it
        module = platform_for(embed.platform)
        if embed.id and embed.platform in ("bluesky", "telegram"):
            assert embed.url == module.canonical_url(embed.id, embed.author_handle)


TRAPS = {
    "bsky-profile-feed-list-intent": (
        '<p><a href="https://bsky.app/profile/jay.bsky.team">Jay</a>, '
        '<a href="https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/feed/whats-hot">a feed</a>, '
        '<a href="https://bsky.app/profile/jay.bsky.team/lists/3kabc">a list</a>, '
        '<a href="https://bsky.app/intent/compose?text=hi">compose</a>, '
        '<a href="https://notbsky.app/profile/a.com/post/3kxyz">lookalike</a>, '
        '<a href="https://bsky.app/profile/settings/post/3kxyz">not a handle</a>.</p>'
        "<p>Records at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.like/3kccc and "
        "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.actor.profile/self are not posts.</p>"),
    "mastodon-lookalikes": (
        '<p><a href="https://medium.com/@writer/123abc">Medium</a>, '
        '<a href="https://medium.com/@writer/1234567890123456789">Medium, all digits</a>, '
        '<a href="https://www.youtube.com/@channel/1234567890123456789">YouTube</a>, '
        '<a href="https://www.tiktok.com/@user/video/7234567890123456789">TikTok</a>, '
        '<a href="https://shop.example.com/@store/42">a shop item (short id, unknown host)</a>, '
        '<a href="https://mastodon.social/@Gargron">a profile</a>, '
        '<a href="https://mastodon.social/@Gargron/113443216181398523/favourites">not exactly a status</a>, '
        '<a href="https://mastodon.social/@Gargron/113443216181398523/embed">an embed page as a link</a>, '
        '<a href="https://mastodon.social/share?text=hello">share</a>, '
        '<a href="https://example.org/@user/12345678901234567890">20 digits</a>.</p>'
        "<p>Bare: example.org/@user/113443216181398523 (no scheme) and https://blog.example/@ann/7.</p>"
        '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560"></iframe>'),
    "reddit-not-posts": (
        '<p><a href="https://www.reddit.com/r/investing/">r/investing</a>, '
        '<a href="https://www.reddit.com/user/dennisrieves/">u/dennisrieves</a>, '
        '<a href="https://www.reddit.com/r/investing/wiki/index">wiki</a>, '
        '<a href="https://www.reddit.com/submit?url=https%3A%2F%2Fnews.example">submit</a>, '
        '<a href="https://i.redd.it/abc123def.jpg">an image file</a>, '
        '<a href="https://v.redd.it/xyz987">a video file</a>, '
        '<a href="https://notreddit.com/r/x/comments/abc123/">lookalike</a>.</p>'),
    "telegram-not-posts": (
        '<p><a href="https://t.me/joinchat/AAAAAEkk2WdoDrB4-Q8-gg">invite</a>, <a href="https://t.me/+AbCdEfGhIj">invite</a>, '
        '<a href="https://t.me/addstickers/Animals">stickers</a>, <a href="https://t.me/c/1234567890/55">private</a>, '
        '<a href="https://t.me/durov">channel</a>, <a href="https://t.me/s/durov">channel preview</a>, '
        '<a href="https://t.me/share/url?url=https%3A%2F%2Fnews.example">share</a>, '
        '<a href="https://t.me/joinchat/12345">numeric invite</a>, <a href="https://t.me/iv?url=x&amp;rhash=1">instant view</a>.</p>'
        '<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-discussion="durov/123"></script>'
        '<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-login="news_bot"></script>'),
}


@pytest.mark.parametrize("body", TRAPS.values(), ids=list(TRAPS))
def test_false_positive_traps(body):
    assert found(body) == []


def test_embed_fields_author_url_and_context():
    body = ("<p>Researchers pointed to this post:</p>" + BSKY_BLOCKQUOTE + REDDIT_BQ + TOOT_BLOCKQUOTE
            + '<p>Officials said on Telegram (<a href="https://t.me/s/DniproOVA/5012">here</a>) that power is back.</p>')
    embeds = {e.platform: e for e in extract(body).embeds}
    sky = embeds["bluesky"]
    assert sky.author_handle == "verdverm.com"
    assert sky.url == f"https://bsky.app/profile/{DID}/post/3lh5px6yngs26"
    assert sky.context.startswith("the @bsky.app butterfly") and "(@verdverm.com)" in sky.context
    toot = embeds["mastodon"]
    assert (toot.author_handle, toot.url) == ("Gargron", "https://mastodon.social/@Gargron/113443216181398523")
    red = embeds["reddit"]
    assert red.author_handle == "dennisrieves"
    assert red.url == "https://www.reddit.com/r/investing/comments/7pfpeq/"
    tg = embeds["telegram"]
    assert (tg.id, tg.url, tg.author_handle) == ("dniproova/5012", "https://t.me/dniproova/5012", "DniproOVA")
    assert tg.context == "Officials said on Telegram (here) that power is back."


def test_a_post_in_a_sidebar_or_comments_is_chrome():
    body = ('<aside class="sidebar"><a href="https://t.me/durov/1">x</a></aside>'
            '<section class="comments"><p><a href="https://www.reddit.com/r/a/comments/abc123/">y</a> '
            "https://mastodon.social/@a/113000000000000000</p></section>")
    page = social_article("<p>body</p>").replace(b"</main>", body.encode() + b"</main>")
    assert [e for e in find_embeds(parse_html(page, base_url=BASE)).embeds if e.platform in SOCIAL] == []


def test_parsers_and_canonical_urls():
    assert bluesky.parse_post_url("at://did:plc:abc/app.bsky.feed.post/3kxyz") == "did:plc:abc/3kxyz"
    assert bluesky.parse_post_url("https://bsky.app/profile/Jay.Bsky.Team/post/3kxyz") == "jay.bsky.team/3kxyz"
    assert bluesky.at_uri("jay.bsky.team/3kxyz") == "at://jay.bsky.team/app.bsky.feed.post/3kxyz"
    assert mastodon.canonical_url("mastodon.social/1", "Gargron") == "https://mastodon.social/@Gargron/1"
    assert mastodon.canonical_url("mastodon.social/1", None) == "https://mastodon.social/web/statuses/1"
    assert reddit.parse_post_url("https://redd.it/7PFPEQ") == ("7pfpeq", None)
    assert reddit.canonical_url("7pfpeq", None) == "https://www.reddit.com/comments/7pfpeq/"
    assert reddit.json_url("https://www.reddit.com/r/a/comments/7pfpeq/?x=1") == "https://www.reddit.com/r/a/comments/7pfpeq/.json"
    assert telegram.parse_post_url("https://t.me/s/Durov/123?embed=1") == "durov/123"
    assert telegram.canonical_url("durov/123", None) == "https://t.me/durov/123"


_FRAGMENTS = st.sampled_from([
    "<blockquote class=\"bluesky-embed\" data-bluesky-uri=\"", "<blockquote class=\"mastodon-embed\" data-embed-url=\"",
    "<blockquote class=\"reddit-embed-bq\">", "<blockquote class=\"reddit-card\">", "</blockquote>", "<p>", "</p>",
    "<a href=\"", "\">", "</a>", "<iframe src=\"", "<script data-telegram-post=\"", "</script>", "<header>", "</header>",
    "at://", "did:plc:abc", "did%3Aplc%3A", "/app.bsky.feed.post/", "https://bsky.app/profile/", "/post/", "3kxyz",
    "https://mastodon.social/@", "/users/", "/statuses/", "/embed", "113443216181398523", "@a@b.c", "/@",
    "https://www.reddit.com/r/", "/comments/", "/s/", "redd.it/", "/gallery/", "7pfpeq", "u/x",
    "https://t.me/", "t.me/s/", "telegram.me/", "durov", "/123", "?embed=1", "joinchat/", "c/", "&amp;", "%", "/", ".",
    " ", "\n", "\u2014", "\x00", "99999999999999999999", "<!--", "-->", "<base href=\"", "\"",
])
_HTMLISH = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=6)), max_size=40).map("".join)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HTMLISH)
def test_arbitrary_markup_never_raises_and_ids_are_well_formed(text):
    for embed in find_embeds(parse_html(social_article(text), base_url=BASE)).embeds:
        if embed.platform not in SOCIAL:
            continue
        assert embed.forms and set(embed.forms) <= set(FORMS)
        assert embed.url.startswith("https://")
        if embed.platform == "bluesky":
            actor, _, rkey = embed.id.rpartition("/")
            assert bluesky._actor(actor) == actor and rkey
        elif embed.platform == "mastodon":
            host, _, status_id = embed.id.partition("/")
            assert host == host.lower() and status_id.isdigit()
        elif embed.platform == "reddit" and embed.id is None:
            assert "/s/" in embed.url  # a share link, resolved at capture time
        elif embed.platform == "reddit":
            assert embed.id.isalnum() and embed.id == embed.id.lower()
        else:
            channel, _, msg = embed.id.partition("/")
            assert channel == channel.lower() and msg.isdigit()


# --------------------------------------------------------------------------------------------
# Snapshot: status from the evidence, against a scripted fetcher (no network)
# --------------------------------------------------------------------------------------------


class ScriptedFetcher:
    """Answers by URL prefix: (status or None for retries exhausted, JSON object / bytes body)."""

    def __init__(self, answers: dict[str, tuple[Optional[int], object]]):
        self.answers = answers
        self.asked: list[str] = []

    def fetch(self, url: str, **_kw) -> FetchResult:
        self.asked.append(url)
        status, body = next((a for prefix, a in self.answers.items() if url.startswith(prefix)), (404, b"not found"))
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if status is None:
            return FetchResult(url=url, final_url=url, error="connection reset (3 attempts)")
        return FetchResult(url=url, final_url=url, status=status, body=data)


BSKY_THREAD = "https://public.api.bsky.app/xrpc/app.bsky.feed.getPostThread"
BSKY_OEMBED = "https://embed.bsky.app/oembed"


@pytest.mark.parametrize("thread, oembed, status, reason", [
    ((400, {"error": "NotFound", "message": "Post not found: at://x"}), (404, b""), "deleted", "Post not found"),
    ((200, {"thread": {"$type": "app.bsky.feed.defs#notFoundPost", "uri": "at://x", "notFound": True}}), (404, b""),
     "deleted", "notFoundPost"),
    ((200, {"thread": {"$type": "app.bsky.feed.defs#blockedPost", "uri": "at://x", "blocked": True}}), (404, b""),
     "unavailable", "blockedPost"),
    ((400, {"error": "InvalidRequest", "message": "Unable to resolve handle"}), (404, b""), "unavailable",
     "Unable to resolve handle"),
    ((None, b""), (404, b""), "failed", None),
    ((None, b""), (200, {"html": "<blockquote></blockquote>", "author_name": "A"}), "available", None),
])
def test_bluesky_status(thread, oembed, status, reason):
    fetcher = ScriptedFetcher({BSKY_THREAD: thread, BSKY_OEMBED: oembed, "https://bsky.app/": (200, b"<html></html>")})
    post = bluesky.snapshot(Embed("bluesky", "jay.bsky.team/3kxyz", "https://bsky.app/profile/jay.bsky.team/post/3kxyz"),
                            fetcher)
    assert (post.status, post.id) == (status, "jay.bsky.team/3kxyz")
    if reason:
        assert reason in post.status_reason
    # the handle-only id is asked as an at:// URI naming the handle, just the post
    assert fetcher.asked[0] == (BSKY_THREAD + "?uri=at%3A%2F%2Fjay.bsky.team%2Fapp.bsky.feed.post%2F3kxyz"
                                "&depth=0&parentHeight=0")


def test_bluesky_media_of_every_embed_kind():
    view = {
        "uri": "at://did:plc:a/app.bsky.feed.post/3k1", "author": {"handle": "a.com", "avatar": "https://cdn/av"},
        "record": {"text": "t", "createdAt": "2024-11-22T19:00:00.123456+09:00",
                   "reply": {"parent": {"uri": "at://did:plc:p/app.bsky.feed.post/3kp"}}},
        "embed": {"$type": "app.bsky.embed.recordWithMedia#view",
                  "media": {"$type": "app.bsky.embed.video#view", "playlist": "https://v/p.m3u8", "thumbnail": "https://v/t.jpg"},
                  "record": {"$type": "app.bsky.embed.record#view",
                             "record": {"$type": "app.bsky.embed.record#viewRecord", "uri": "at://did:plc:q/app.bsky.feed.post/3kq"}}},
    }
    post = bluesky.Post(platform="bluesky", id="did:plc:a/3k1", url="")
    bluesky._read_post(post, view)
    assert [(m.kind, m.url) for m in post.media] == [("hls", "https://v/p.m3u8"), ("poster", "https://v/t.jpg"),
                                                    ("avatar", "https://cdn/av")]
    assert post.related == [("quotes", "bluesky", "did:plc:q/3kq"), ("reply_to", "bluesky", "did:plc:p/3kp")]
    assert post.created_at == "2024-11-22T10:00:00.123Z"


@pytest.mark.parametrize("api, oembed, page, status", [
    ((404, {"error": "Record not found"}), (404, {"error": "Record not found"}), (404, b"<html>"), "deleted"),
    ((401, {"error": "This API requires an authenticated user"}), (404, {}), (404, b"<html>"), "protected"),
    ((403, {"error": "forbidden"}), (403, {}), (403, b"<html>"), "protected"),
    ((None, b""), (404, {}), (404, b""), "failed"),
])
def test_mastodon_status(api, oembed, page, status):
    fetcher = ScriptedFetcher({"https://m.example/api/v1/statuses/": api, "https://m.example/api/oembed": oembed,
                               "https://m.example/@": page})
    post = mastodon.snapshot(Embed("mastodon", "m.example/113000000000000001",
                                   "https://m.example/@ann/113000000000000001", author_handle="ann"), fetcher)
    assert post.status == status
    assert fetcher.asked == ["https://m.example/api/v1/statuses/113000000000000001",
                             "https://m.example/api/oembed?url=https%3A%2F%2Fm.example%2F%40ann%2F113000000000000001",
                             "https://m.example/@ann/113000000000000001"]


def test_mastodon_content_is_plain_text():
    content = ('<p>Storm update:<br />power is back in <a href="https://mastodon.social/tags/Dnipro" class="mention hashtag" '
               'rel="tag">#<span>Dnipro</span></a></p><p>Details: <a href="https://news.example/storm/live-updates-page" '
               'rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="ellipsis">'
               'news.example/storm/live-updat</span><span class="invisible">es-page</span></a> &amp; more</p>')
    assert mastodon.plain_text(content) == ("Storm update:\npower is back in #Dnipro\n\n"
                                            "Details: https://news.example/storm/live-updates-page & more")


def _listing(**t3) -> list:
    thing = {"id": "abc123", "title": "Title", "selftext": "", "author": "someone", "created_utc": 1700000000.0,
             "permalink": "/r/sub/comments/abc123/title/", "removed_by_category": None, **t3}
    return [{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": thing}]}},
            {"kind": "Listing", "data": {"children": []}}]


@pytest.mark.parametrize("answer, status, reason", [
    ((200, _listing()), "available", None),
    ((200, _listing(removed_by_category="moderator", selftext="[removed]")), "unavailable", "moderator"),
    ((200, _listing(removed_by_category="copyright_takedown")), "unavailable", "copyright_takedown"),
    ((200, _listing(removed_by_category="deleted", author="[deleted]", selftext="[deleted]")), "deleted", "deleted"),
    ((200, _listing(author="[deleted]", selftext="[deleted]")), "deleted", "[deleted]"),
    ((403, {"reason": "private", "message": "Forbidden", "error": 403}), "protected", "private"),
    ((403, {"reason": "quarantined", "quarantine_message": "...", "error": 403}), "unavailable", "quarantined"),
    ((404, {"reason": "banned", "message": "Not Found", "error": 404}), "unavailable", "banned"),
    ((403, b"<html><body>whoa there, pardner!</body></html>"), "failed", "blocked"),
    ((404, {"message": "Not Found", "error": 404}), "deleted", None),
])
def test_reddit_status(answer, status, reason):
    fetcher = ScriptedFetcher({"https://www.reddit.com/r/sub/comments/abc123/.json": answer,
                               "https://www.reddit.com/oembed": (404, {"message": "Not Found", "error": 404}),
                               "https://www.reddit.com/r/sub/comments/abc123/": (404, b"<html>")})
    post = reddit.snapshot(Embed("reddit", "abc123", "https://www.reddit.com/r/sub/comments/abc123/"), fetcher)
    assert post.status == status
    if reason:
        assert reason in post.status_reason
    if answer[0] == 200:
        assert post.created_at == "2023-11-14T22:13:20.000Z"


class RedirectingFetcher:
    """What Fetcher.fetch(url, stop_at=...) returns for a redirect chain it stops at."""

    def __init__(self, target: str):
        self.target = target

    def fetch(self, url: str, *, stop_at=None, **_kw) -> FetchResult:
        stopped = stop_at is not None and stop_at(self.target)
        return FetchResult(url=url, final_url=self.target, status=301 if stopped else 200, body=b"")


def test_reddit_share_link_resolves_through_its_redirect():
    share = Embed("reddit", None, "https://www.reddit.com/r/pics/s/Ab12Cd34Ef", forms=["link"], context="shared")
    target = "https://www.reddit.com/r/pics/comments/1xyzabc/the_flooded_square/?share_id=Xy&utm_source=share"
    resolved, _records = reddit.resolve(share, RedirectingFetcher(target))
    assert (resolved.id, resolved.url, resolved.forms, resolved.context) == (
        "1xyzabc", "https://www.reddit.com/r/pics/comments/1xyzabc/", ["link"], "shared")
    assert reddit.resolve(share, RedirectingFetcher("https://www.reddit.com/r/pics/"))[0] is None


def test_reddit_media_best_sizes_unescaped():
    thing = {
        "gallery_data": {"items": [{"media_id": "m2"}, {"media_id": "m1"}]},
        "media_metadata": {"m1": {"e": "Image", "s": {"u": "https://preview.redd.it/m1.jpg?width=2000&amp;s=1"}},
                           "m2": {"e": "AnimatedImage", "s": {"gif": "https://i.redd.it/m2.gif", "mp4": "https://x/m2.mp4"}}},
        "preview": {"images": [{"source": {"url": "https://preview.redd.it/p.jpg?auto=webp&amp;s=2"}}]},
    }
    assert [(m.kind, m.url) for m in reddit._media(thing)] == [
        ("gif", "https://i.redd.it/m2.gif"), ("photo", "https://preview.redd.it/m1.jpg?width=2000&s=1")]
    link = {"url_overridden_by_dest": "https://news.example/a", "post_hint": "link",
            "preview": {"images": [{"source": {"url": "https://external-preview.redd.it/x.jpg?a=1&amp;b=2"}}]}}
    assert [(m.kind, m.url) for m in reddit._media(link)] == [("thumbnail", "https://external-preview.redd.it/x.jpg?a=1&b=2")]


@pytest.mark.parametrize("embed_page, status, reason", [
    (b'<div class="tgme_widget_message js-widget_message" data-post="durov/1"><div class="tgme_widget_message_error">'
     b"Post not found</div></div>", "deleted", "Post not found"),
    (b'<div class="tgme_widget_message_error">Channel is private</div>', "unavailable", "Channel is private"),
    (b"<html><body>maintenance</body></html>", "unavailable", None),
])
def test_telegram_status(embed_page, status, reason):
    fetcher = ScriptedFetcher({"https://t.me/durov/1?embed=1": (200, embed_page), "https://t.me/durov/1": (200, b"<html>")})
    post = telegram.snapshot(Embed("telegram", "durov/1", "https://t.me/durov/1"), fetcher)
    assert post.status == status
    if reason:
        assert reason in post.status_reason
    assert fetcher.asked == ["https://t.me/durov/1?embed=1", "https://t.me/durov/1"]


def test_telegram_retries_exhausted_is_failed():
    post = telegram.snapshot(Embed("telegram", "durov/1", "https://t.me/durov/1"),
                             ScriptedFetcher({"https://t.me/": (None, b"")}))
    assert post.status == "failed"


# --------------------------------------------------------------------------------------------
# End to end: `archiver capture` through the fixture web, checked with `archiver export`
# --------------------------------------------------------------------------------------------

SKY = BskyPost(did="did:plc:ewvi7nxzyoun6zhxrhs64oiz", handle="stormwatch.bsky.social", rkey="3lh5px6yngs26",
               name="Storm Watch", text="Flooding on the river road, avoid the bridge", images=["bafkreiphoto1", "bafkreiphoto2"])
SKY_GONE = BskyPost(did="did:plc:zzzzzzzzzzzzzzzzzzzzzzzz", handle="gone.example.com", rkey="3kdeleted222a",
                    name="Gone", text="was here", state="deleted")
SKY_VIDEO = BskyPost(did="did:plc:vvvvvvvvvvvvvvvvvvvvvvvv", handle="video.example.com", rkey="3kvideo22222a",
                     name="Video", text="watch the water rise", video="bafkreivideo1", created_at="2025-02-01T20:00:00+01:00")
TOOT = Toot(host="mastodon.social", id="113443216181398523", username="Gargron", display_name="Eugen Rochko",
            content="<p>The storm took down <a href=\"https://mastodon.social/tags/power\" class=\"mention hashtag\" "
                    "rel=\"tag\">#<span>power</span></a> lines<br />in three towns</p><p>Stay safe &amp; inside.</p>",
            images=["storm1"])
TOOT_GONE = Toot(host="social.coop", id="109414412133385017", username="ntnsndr", display_name="N", content="<p>x</p>",
                 state="gone")
TOOT_PRIVATE = Toot(host="hachyderm.io", id="113500000000000001", username="nova", display_name="Nova",
                    content="<p>private</p>", state="private")
RED = RedditPost(id="7pfpeq", subreddit="investing", author="dennisrieves",
                 title="Buffett on cyrptocurrencies: 'I can say almost with certainty that they will come to a bad ending'",
                 image="k3j2h1g0f9e8")
RED_REMOVED = RedditPost(id="1b2c3d4", subreddit="worldnews", author="throwaway1", title="Leaked memo", state="removed")
RED_SHARED = RedditPost(id="1xyzabc", subreddit="pics", author="photog", title="The flooded square from above",
                        gallery=["g1aaa", "g2bbb"], share_code="Ab12Cd34Ef")
RED_VIDEO = RedditPost(id="1vvvvvv", subreddit="videos", author="filmer", title="Water rising", video="vid123abc")
TG = TgPost(channel="DniproOVA", msg=5012, title="Дніпропетровська ОВА", text="Power is back in 3 districts.\nStay safe.",
            photos=["photoA1", "photoA2"], video="clipB1")
TG_GONE = TgPost(channel="durov", msg=404, title="Durov's Channel", text="", state="missing")


def article_body() -> str:
    return "\n".join([
        "<p>The storm hit overnight. Residents posted what they saw.</p>",
        SKY.blockquote(),
        f'<p>A post that has since been deleted: <a href="https://bsky.app/profile/{SKY_GONE.handle}/post/{SKY_GONE.rkey}">'
        "here</a>.</p>",
        f'<p><iframe src="https://embed.bsky.app/embed/{SKY_VIDEO.did}/app.bsky.feed.post/{SKY_VIDEO.rkey}" '
        'width="100%" frameborder="0"></iframe></p>',
        TOOT.blockquote(),
        TOOT_GONE.iframe(),
        f'<p>A locked account <a href="{TOOT_PRIVATE.url}">said so too</a>.</p>',
        RED.embed_bq(),
        RED_REMOVED.card(),
        '<p>The picture everyone <a href="https://www.reddit.com/r/pics/s/Ab12Cd34Ef">shared</a>, and a video at '
        f"redd.it/{RED_VIDEO.id}.</p>",
        TG.script(),
        '<p>An older channel post (<a href="https://t.me/durov/404">t.me/durov/404</a>) is gone.</p>',
    ])


ARTICLE = "https://news.example/2025/02/02/storm"


def run(web, archive: Path, *args: str):
    return CliRunner().invoke(cli, ["capture", *args, "--archive", str(archive)], env=web.env(), catch_exceptions=False)


def export_rows(archive: Path) -> dict[str, dict]:
    result = CliRunner().invoke(cli, ["export", "--archive", str(archive)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}


@pytest.fixture
def social_web(web):
    BlueskyWorld(web, [SKY, SKY_GONE, SKY_VIDEO])
    MastodonWorld(web, [TOOT, TOOT_GONE, TOOT_PRIVATE])
    RedditWorld(web, [RED, RED_REMOVED, RED_SHARED, RED_VIDEO])
    TelegramWorld(web, [TG, TG_GONE])
    add_news_site(web)
    web.add(ARTICLE, body=social_article(article_body()), headers=[("Content-Type", "text/html; charset=utf-8")])
    return web


def payload_at(archive: Path, ref: dict) -> tuple[str, bytes]:
    """(record type, HTTP payload) of the one record an export `records` entry points at."""
    with open(archive / "warcs" / ref["warc"], "rb") as fh:
        fh.seek(ref["offset"])
        member = fh.read(ref["length"])
    rec = next(iter(ArchiveIterator(io.BytesIO(zlib.decompressobj(31).decompress(member)))))
    assert rec.rec_headers.get_header("WARC-Target-URI") == ref["url"]
    return rec.rec_type, rec.content_stream().read()


def evidence(archive: Path, row: dict, prefix: str) -> bytes:
    """The body of the (first) response record in a post's records whose URL starts with prefix."""
    for ref in row["records"]:
        if ref["url"].startswith(prefix):
            kind, body = payload_at(archive, ref)
            if kind == "response":
                return body
    raise AssertionError(f"no response record for {prefix} in {[r['url'] for r in row['records']]}")


def _sha(url: str) -> str:
    return hashlib.sha256(media_bytes(url.split("?")[0])).hexdigest()


def test_capture_every_platform_end_to_end(social_web, tmp_path):
    web = social_web
    archive = tmp_path / "archive"
    result = run(web, archive, ARTICLE)
    assert result.exit_code == 0, result.output + (result.stderr if result.stderr_bytes else "")
    rows = {(r["platform"], r["id"]): r for r in export_rows(archive).values()}
    statuses = {key: r["status"] for key, r in rows.items()}
    assert statuses == {
        ("bluesky", SKY.post_id): "available",
        ("bluesky", f"{SKY_GONE.handle}/{SKY_GONE.rkey}"): "deleted",
        ("bluesky", SKY_VIDEO.post_id): "available",
        ("mastodon", TOOT.post_id): "available",
        ("mastodon", TOOT_GONE.post_id): "deleted",
        ("mastodon", TOOT_PRIVATE.post_id): "protected",
        ("reddit", RED.id): "available",
        ("reddit", RED_REMOVED.id): "unavailable",
        ("reddit", RED_SHARED.id): "available",
        ("reddit", RED_VIDEO.id): "available",
        ("telegram", TG.post_id): "available",
        ("telegram", TG_GONE.post_id): "deleted",
    }
    for row in rows.values():
        assert row["articles"] == [ARTICLE]

    def urls(row: dict) -> list[str]:
        return [r["url"] for r in row["records"]]

    def media(row: dict) -> dict[str, dict]:
        out = {m["url"]: m for m in row["media"]}
        for url, m in out.items():
            assert m["captured"] is True, url
        return out

    # Bluesky: the thread JSON, oEmbed and app page recorded; full-size photos and the avatar
    sky = rows[("bluesky", SKY.post_id)]
    assert (sky["author_handle"], sky["author_name"]) == (SKY.handle, SKY.name)
    assert sky["text"] == SKY.text and sky["created_at"] == "2025-02-01T19:01:23.456Z"
    assert sky["url"] == f"https://bsky.app/profile/{SKY.did}/post/{SKY.rkey}"
    got = media(sky)
    assert {m["kind"] for m in got.values()} == {"photo", "avatar"} and len(got) == 3
    for cid in SKY.images:
        assert got[SKY.fullsize(cid)]["sha256"] == _sha(SKY.fullsize(cid))
    assert got[SKY.avatar]["sha256"] == _sha(SKY.avatar)
    sky_urls = urls(sky)
    assert any(u.startswith("https://public.api.bsky.app/xrpc/app.bsky.feed.getPostThread?uri=at%3A%2F%2F" + "did%3Aplc%3Aewvi")
               for u in sky_urls)
    assert any(u.startswith("https://embed.bsky.app/oembed?url=") for u in sky_urls)
    assert f"https://bsky.app/profile/{SKY.did}/post/{SKY.rkey}" in sky_urls
    gone = rows[("bluesky", f"{SKY_GONE.handle}/{SKY_GONE.rkey}")]
    assert "Post not found" in gone["status_reason"] and gone["media"] == []
    assert any("at%3A%2F%2Fgone.example.com%2F" in u for u in urls(gone))  # handle asked as is
    video = rows[("bluesky", SKY_VIDEO.post_id)]
    assert video["created_at"] == "2025-02-01T19:00:00.000Z"
    assert {m["kind"] for m in media(video).values()} == {"hls", "poster", "avatar"}
    assert any(u.endswith("/720p/seg1.ts") for u in urls(video))  # best variant's segments

    # Mastodon: Status JSON, oEmbed and page; plain text; original image and avatar
    toot = rows[("mastodon", TOOT.post_id)]
    assert (toot["author_handle"], toot["author_name"]) == ("Gargron", "Eugen Rochko")
    assert toot["text"] == "The storm took down #power lines\nin three towns\n\nStay safe & inside."
    assert toot["created_at"] == TOOT.created_at and toot["url"] == TOOT.url
    got = media(toot)
    assert got[TOOT.image("storm1")]["kind"] == "photo" and got[TOOT.image("storm1")]["sha256"] == _sha(TOOT.image("storm1"))
    assert got[TOOT.avatar]["kind"] == "avatar"
    assert {f"https://mastodon.social/api/v1/statuses/{TOOT.id}", TOOT.url} <= set(urls(toot))
    assert any(u.startswith("https://mastodon.social/api/oembed?url=") for u in urls(toot))
    assert "api 404" in rows[("mastodon", TOOT_GONE.post_id)]["status_reason"]
    assert "api 401" in rows[("mastodon", TOOT_PRIVATE.post_id)]["status_reason"]

    # Reddit: permalink /.json, oEmbed and page; the image at i.redd.it
    red = rows[("reddit", RED.id)]
    assert (red["author_handle"], red["text"]) == (RED.author, RED.title)
    assert red["created_at"] == "2018-01-11T00:00:00.000Z"
    assert red["url"] == f"https://www.reddit.com{RED.permalink}"
    got = media(red)
    assert list(got) == [f"https://i.redd.it/{RED.image}.jpg"]
    assert {"https://www.reddit.com/r/investing/comments/7pfpeq/.json",
            "https://www.reddit.com/r/investing/comments/7pfpeq/"} <= set(urls(red))
    assert any(u.startswith("https://www.reddit.com/oembed?url=") for u in urls(red))
    assert "removed_by_category=moderator" in rows[("reddit", RED_REMOVED.id)]["status_reason"]
    shared = rows[("reddit", RED_SHARED.id)]
    assert urls(shared)[0] == "https://www.reddit.com/r/pics/s/Ab12Cd34Ef"  # the share link's hop, recorded first
    assert [m["kind"] for m in shared["media"]] == ["photo", "photo"]
    assert all("&amp;" not in m["url"] and m["captured"] for m in shared["media"])
    vid = {m["kind"]: m for m in media(rows[("reddit", RED_VIDEO.id)]).values()}
    assert set(vid) == {"video", "hls", "poster"}

    # Telegram: the widget page parsed; photos, video, its poster and the channel picture
    tg = rows[("telegram", TG.post_id)]
    assert (tg["author_handle"], tg["author_name"]) == ("DniproOVA", TG.title)
    assert tg["text"] == TG.text and tg["created_at"] == "2024-03-01T12:34:56.000Z"
    got = media(tg)
    assert [m["kind"] for m in got.values()] == ["photo", "photo", "video", "poster", "avatar"]
    assert got[TG.file("photoA1")]["sha256"] == _sha(TG.file("photoA1"))
    assert list(dict.fromkeys(urls(tg)))[:2] == [f"https://t.me/{TG.post_id}?embed=1", f"https://t.me/{TG.post_id}"]
    assert rows[("telegram", TG_GONE.post_id)]["status_reason"] == "embed page: Post not found"

    # the evidence itself is in the WARC, at the offsets the index gives
    assert json.loads(evidence(archive, sky, "https://public.api.bsky.app/"))["thread"]["post"]["uri"] == SKY.uri
    assert json.loads(evidence(archive, gone, "https://public.api.bsky.app/"))["error"] == "NotFound"
    assert json.loads(evidence(archive, sky, "https://embed.bsky.app/oembed"))["provider_name"] == "Bluesky Social"
    assert json.loads(evidence(archive, toot, "https://mastodon.social/api/v1/"))["id"] == TOOT.id
    assert b"bluesky-embed" not in evidence(archive, toot, "https://mastodon.social/api/oembed")
    assert json.loads(evidence(archive, red, "https://www.reddit.com/r/investing/comments/7pfpeq/.json"))[0]["kind"] == "Listing"
    assert json.loads(evidence(archive, red, "https://www.reddit.com/oembed"))["author_name"] == RED.author
    assert b"tgme_widget_message_text" in evidence(archive, tg, "https://t.me/dniproova/5012?embed=1")
    assert b"tgme_widget_message_error" in evidence(archive, rows[("telegram", TG_GONE.post_id)], "https://t.me/durov/404?embed=1")
    for path in sorted((archive / "warcs").glob("*.warc.gz")):
        check = warcio_check(path)
        assert check.returncode == 0, check.stdout + check.stderr

    # chrome (follow links, share buttons, the outlet's own posts) was never fetched
    assert web.hits("https://t.me/newsexample") == 0
    assert web.hits("https://mastodon.social/api/v1/statuses/111111111111111111") == 0
    assert web.hits("https://www.reddit.com/r/newsexample") == 0
    assert not any("3kfooterpost2" in e.url for e in web.log)


def test_capture_json_lines_name_each_platform(social_web, tmp_path):
    result = run(social_web, tmp_path / "a", ARTICLE, "--json", "--no-requisites")
    assert result.exit_code == 0, result.output
    posts = [json.loads(line) for line in result.stdout.splitlines()]
    assert {p["platform"] for p in posts} == set(SOCIAL)
    assert len(posts) == 12


# --------------------------------------------------------------------------------------------
# The raw-marker shortcuts never change the answer, and share buttons call for no tree query
# --------------------------------------------------------------------------------------------

_SOCIAL_MODULES = (bluesky, mastodon, reddit, telegram)


@pytest.mark.parametrize("body", [body for body, _ in FORM_CASES.values()] + list(TRAPS.values()),
                         ids=list(FORM_CASES) + [f"trap-{name}" for name in TRAPS])
def test_shortcuts_find_what_a_full_scan_finds(body):
    html = social_article(body)
    for module in _SOCIAL_MODULES:
        fast = list(module.detect(parse_html(html, base_url=BASE)))
        full = list(module.detect(parse_html(html, base_url=BASE), exhaustive=True))
        assert fast == full, module.name


def test_share_buttons_and_profile_links_call_for_no_tree_query():
    """Real pages carry these by the dozen: none starts a post URL, so the tree is never built."""
    page = ('<html><body><header><a href="https://bsky.app/profile/news.example">Bluesky</a>'
            '<a href="https://mastodon.social/@newsexample">Mastodon</a>'
            '<a href="https://www.reddit.com/r/news/">r/news</a>'
            '<a href="https://t.me/newsexample">Telegram</a></header><article><p>No post here.</p>'
            '<ul class="share"><li><a href="https://www.reddit.com/submit?url=https%3A%2F%2Fnews.example%2Fa">Reddit</a>'
            '<li><a href="https://t.me/share/url?url=https%3A%2F%2Fnews.example%2Fa">Telegram</a>'
            '<li><a href="https://bsky.app/intent/compose?text=https%3A%2F%2Fnews.example%2Fa">Bluesky</a>'
            '<li><a href="https://medium.com/@writer">Medium</a></ul></article></body></html>').encode()
    doc = parse_html(page, base_url=BASE)
    for module in _SOCIAL_MODULES:
        assert list(module.detect(doc)) == [], module.name
    assert not doc.parsed
