"""HTML -> embeds, profiles and requisites, on realistic pages built here (never read from disk)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.extract import (
    Document,
    ExtractResult,
    LiteralScanner,
    absolute_url,
    css_urls,
    find_embeds,
    find_requisites,
    is_chrome,
    parse_html,
    srcset_urls,
)
from archiver.models import FORMS
from archiver.platforms import PLATFORMS, platform_for, twitter
from archiver.platforms.twitter import canonical_url, parse_status_url

BASE = "https://news.example/2019/10/14/camp-escape"

# --------------------------------------------------------------------------------------------
# A news article page: site chrome full of share/follow/timeline links around the body.
# --------------------------------------------------------------------------------------------

CHROME_HEADER = """
<header class="site-header" role="banner">
  <a class="logo" href="/"><img src="/static/logo.svg" alt="News"></a>
  <nav class="main-nav"><ul>
    <li class="menu-item"><a href="/world">World</a></li><li class="menu-item"><a href="/politics">Politics</a></li>
    <li class="menu-item"><a href="https://twitter.com/NewsExample">Twitter</a></li>
  </ul></nav>
  <div class="social-links">
    <a href="https://twitter.com/NewsExample" class="twitter-follow-button" data-show-count="false">Follow @NewsExample</a>
    <a href="https://x.com/NewsExample/status/1100000000000000001">Our pinned post</a>
    <a href="https://www.facebook.com/newsexample">Facebook</a>
  </div>
</header>"""

ARTICLE_TOP = """
<main id="content"><article class="post">
  <header class="entry-header">
    <h1 class="entry-title">Prisoners escape from camp in northern Syria</h1>
    <div class="share-buttons">
      <a class="twitter-share-button" href="https://twitter.com/intent/tweet?url=https%3A%2F%2Fnews.example%2Fa&amp;text=Escape">Tweet</a>
      <a href="https://twitter.com/share?url=https%3A%2F%2Fnews.example%2Fa">Share on Twitter</a>
      <a href="https://twitter.com/intent/retweet?tweet_id=1100000000000000002">Retweet</a>
      <a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fnews.example%2Fa">Share</a>
    </div>
  </header>
  <div class="entry-content">
    <p>Hundreds of people fled the camp on Sunday, officials said, as fighting moved closer.</p>
"""

ARTICLE_BOTTOM = """
    <p>The camp held about 12,000 people, most of them women and children.</p>
  </div>
  <footer class="entry-footer"><a href="/tag/syria" rel="tag">Syria</a>
    <a href="https://twitter.com/hashtag/Syria?src=hash" class="twitter-hashtag-button">#Syria</a>
    <a href="https://twitter.com/intent/tweet?screen_name=NewsExample" class="twitter-mention-button">Tweet to @NewsExample</a>
  </footer>
</article></main>"""

CHROME_SIDEBAR = """
<aside class="sidebar widget-area" role="complementary">
  <section class="widget"><h2>Latest tweets</h2>
    <a class="twitter-timeline" data-height="600" href="https://twitter.com/NewsExample?ref_src=twsrc%5Etfw">Tweets by NewsExample</a>
    <script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>
    <blockquote class="twitter-tweet"><p>From the sidebar</p>&mdash; News (@NewsExample)
      <a href="https://twitter.com/NewsExample/status/1100000000000000003">May 1, 2019</a></blockquote>
  </section>
</aside>"""

CHROME_FOOTER = """
<footer class="site-footer" role="contentinfo">
  <ul class="footer-links"><li><a href="/about">About</a></li><li><a href="/privacy">Privacy</a></li></ul>
  <p>Follow us: <a href="https://twitter.com/NewsExample">@NewsExample</a>, see our post
     https://twitter.com/NewsExample/status/1100000000000000004 and <a href="https://t.co/FooterCode">t.co/FooterCode</a></p>
</footer>
<section id="comments" class="comments-area"><ol class="comment-list"><li class="comment">
  <article class="comment-body"><p>Source: <a href="https://twitter.com/troll/status/1100000000000000005">here</a></p></article>
</li></ol></section>"""


def page(body: str, *, head: str = "", charset: str = "utf-8") -> str:
    """A whole article page with `body` inside the article's content."""
    meta = f'<meta charset="{charset}">' if charset else ""
    return (
        f"<!DOCTYPE html><html lang=\"en\"><head>{meta}<title>Camp escape | News Example</title>"
        '<meta name="twitter:card" content="summary_large_image"><meta name="twitter:site" content="@NewsExample">'
        f'<link rel="stylesheet" href="/static/site.css">{head}</head>'
        f'<body class="post-template-default single has-sidebar">{CHROME_HEADER}{ARTICLE_TOP}{body}'
        f"{ARTICLE_BOTTOM}{CHROME_SIDEBAR}{CHROME_FOOTER}</body></html>"
    )


def extract(html: str | bytes, **kw) -> ExtractResult:
    data = html.encode("utf-8") if isinstance(html, str) else html
    return find_embeds(parse_html(data, base_url=kw.pop("base_url", BASE), **kw))


def summary(result: ExtractResult) -> list[tuple[str, list[str]]]:
    return [(e.id or e.url, e.forms) for e in result.embeds]


# --------------------------------------------------------------------------------------------
# The seed case
# --------------------------------------------------------------------------------------------

SEED_BLOCKQUOTE = """<blockquote class="twitter-tweet"><p lang="en" dir="ltr">We spoke now with Jelal Ayaf, co-chair of
Ayn Issa camp. He told us:<br>– 859 people successfully escaped from the foreigners section, a few
others could be recaptured<br>– Sleeper cells emerged from inside &#39;open&#39; IDP section,
carrying out attacks, situation in camp very volatile
<a href="https://t.co/GKa1TV7NIJ">pic.twitter.com/GKa1TV7NIJ</a></p>&mdash; Rojava Information
Center (@RojavaIC) <a href="https://twitter.com/RojavaIC/status/1183419470331486208?ref_src=twsrc%5Etfw">October
13, 2019</a></blockquote>
<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>"""


def test_seed_blockquote_is_one_embed_with_its_photo_claimed():
    result = extract(page(SEED_BLOCKQUOTE))
    assert len(result.embeds) == 1
    embed = result.embeds[0]
    assert (embed.platform, embed.id, embed.forms, embed.author_handle) == (
        "twitter", "1183419470331486208", ["blockquote"], "RojavaIC")
    assert embed.url == "https://twitter.com/RojavaIC/status/1183419470331486208"
    assert embed.context.startswith("We spoke now with Jelal Ayaf, co-chair of Ayn Issa camp. He told us: – 859 people")
    assert embed.context.endswith("pic.twitter.com/GKa1TV7NIJ — Rojava Information Center (@RojavaIC) October 13, 2019")
    assert result.profiles == ["https://twitter.com/NewsExample"]


def test_seed_flattened_to_text_is_one_unresolved_pic():
    body = ("<p>“We spoke now with Jelal Ayaf, co-chair of Ayn Issa camp. He told us: 859 people successfully "
            "escaped from the foreigners section” pic.twitter.com/GKa1TV7NIJ — Rojava Information Center "
            "(@RojavaIC) October 13, 2019</p>")
    result = extract(page(body))
    assert summary(result) == [("https://pic.twitter.com/GKa1TV7NIJ", ["pic"])]
    embed = result.embeds[0]
    assert embed.id is None and embed.author_handle == "RojavaIC"
    assert "859 people successfully escaped" in embed.context


def test_pic_of_an_embedded_tweet_elsewhere_on_the_page_is_not_a_second_candidate():
    body = SEED_BLOCKQUOTE + "<p>Photo: pic.twitter.com/GKa1TV7NIJ and <a href=\"https://t.co/GKa1TV7NIJ\">here</a></p>"
    assert summary(extract(page(body))) == [("1183419470331486208", ["blockquote"])]
    # order does not matter: the claim is made for the whole page
    body = "<p>Photo: pic.twitter.com/GKa1TV7NIJ</p>" + SEED_BLOCKQUOTE
    assert summary(extract(page(body))) == [("1183419470331486208", ["blockquote"])]


# --------------------------------------------------------------------------------------------
# Every embed form, inside a full page with chrome (the chrome must add nothing)
# --------------------------------------------------------------------------------------------

FORM_CASES = {
    "blockquote-2014-no-ref-src": (
        '<blockquote class="twitter-tweet" lang="en"><p>RT <a href="https://twitter.com/someone">@someone</a> '
        'Big news - <a href="http://t.co/aB3dE5gH7j">http://t.co/aB3dE5gH7j</a></p>&mdash; A Shop (@ashop) '
        '<a href="https://twitter.com/ashop/status/436461658601713664">February 20, 2014</a></blockquote>'
        '<script async src="//platform.twitter.com/widgets.js" charset="utf-8"></script>',
        [("436461658601713664", ["blockquote"])],
    ),
    "blockquote-2019-ref-src-literal-dash": (
        '<blockquote class="twitter-tweet" data-lang="en" data-theme="dark" data-dnt="true" data-width="550">'
        '<p lang="en" dir="ltr">Roads closed <a href="https://twitter.com/hashtag/Syria?src=hash&amp;ref_src=twsrc%5Etfw">#Syria</a> '
        '<a href="https://t.co/Zx9Yw8Vu7T">https://t.co/Zx9Yw8Vu7T</a></p>— Reporter (@reporter_1) '
        '<a href="https://twitter.com/reporter_1/status/1183500000000000001?ref_src=twsrc%5Etfw">October 13, 2019</a></blockquote>',
        [("1183500000000000001", ["blockquote"])],
    ),
    "twitter-video-2015": (
        '<blockquote class="twitter-video" lang="en"><p>Shoot, edit and share video '
        '<a href="http://t.co/31JoMSabcd">pic.twitter.com/31JoMSabcd</a></p>&mdash; Twitter (@twitter) '
        '<a href="https://twitter.com/twitter/status/560070183650213889">January 27, 2015</a></blockquote>',
        [("560070183650213889", ["blockquote"])],
    ),
    "minimal-hand-made": (
        '<blockquote class="twitter-tweet"><a href="https://twitter.com/someone/status/1202020202020202020"></a></blockquote>',
        [("1202020202020202020", ["blockquote"])],
    ),
    "blockquote-x-com-2024": (
        '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Hello</p>&mdash; Someone (@someone) '
        '<a href="https://x.com/someone/status/1790000000000000000?ref_src=twsrc%5Etfw">May 13, 2024</a></blockquote>',
        [("1790000000000000000", ["blockquote"])],
    ),
    "blockquote-class-stripped-by-cms": (
        '<blockquote><p>Situation in camp very volatile <a href="https://t.co/StRiPpEd01">pic.twitter.com/StRiPpEd01</a></p>'
        '— Rojava Information Center (@RojavaIC) <a href="https://twitter.com/RojavaIC/status/1183419470331486299">October 13, 2019</a></blockquote>',
        [("1183419470331486299", ["blockquote"])],
    ),
    "rendered-widget-iframe": (
        '<div class="twitter-tweet twitter-tweet-rendered" style="display: flex; max-width: 550px;">'
        '<iframe id="twitter-widget-1" scrolling="no" frameborder="0" allowtransparency="true" allowfullscreen="true" '
        'title="Twitter Tweet" src="https://platform.twitter.com/embed/Tweet.html?dnt=false&amp;embedId=twitter-widget-1'
        '&amp;features=eyJ0ZndfZXhhbXBsZSI6eyJidWNrZXQiOiJvbiJ9fQ%3D%3D&amp;frame=false&amp;hideCard=false&amp;hideThread=false'
        '&amp;id=1581661660728950784&amp;lang=en&amp;origin=https%3A%2F%2Fnews.example%2F&amp;theme=dark&amp;width=550px" '
        'data-tweet-id="1581661660728950784"></iframe></div>',
        [("1581661660728950784", ["iframe"])],
    ),
    "hand-built-iframe": (
        '<iframe border=0 frameborder=0 height=250 width=550 '
        'src="https://platform.twitter.com/embed/Tweet.html?id=1581661660728950785&amp;dnt=true&amp;theme=dark"></iframe>',
        [("1581661660728950785", ["iframe"])],
    ),
    "lazy-iframe-data-src": (
        '<iframe src="about:blank" data-src="https://platform.twitter.com/embed/Tweet.html?id=1581661660728950786" class="lazyload"></iframe>',
        [("1581661660728950786", ["iframe"])],
    ),
    "data-tweet-id-placeholder": (
        '<div class="embed-tweet" data-tweet-id="1581661660728950787"></div>',
        [("1581661660728950787", ["script"])],
    ),
    "data-tweetid-wrapper-around-blockquote": (
        '<div class="tweet-wrapper" data-tweetid="1202020202020202021"><blockquote class="twitter-tweet">'
        '<a href="https://twitter.com/someone/status/1202020202020202021">June 1, 2019</a></blockquote></div>',
        [("1202020202020202021", ["blockquote"])],
    ),
    "amp-twitter": (
        '<amp-twitter width="375" height="472" layout="responsive" data-tweetid="1106603910196658177">'
        '<blockquote placeholder><p>Text</p>— Someone (@someone) '
        '<a href="https://twitter.com/someone/status/1106603910196658177">March 15, 2019</a></blockquote></amp-twitter>',
        [("1106603910196658177", ["amp"])],
    ),
    "wordpress-bare-url": (
        '<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
        '<div class="wp-block-embed__wrapper">\nhttps://twitter.com/someone/status/1202020202020202022\n</div></figure>',
        [("1202020202020202022", ["bare-url"])],
    ),
    "drupal-oembed-proxy": (
        '<div class="media-oembed"><iframe src="/media/oembed?url=https%3A//twitter.com/drupaldevdays/status/935643039741202432'
        '&amp;max_width=0&amp;max_height=0&amp;hash=HUV0yBLu6tFU8uz5" frameborder="0" allowtransparency width="550" '
        'height="500" class="media-oembed-content" title="Drupal Dev Days"></iframe></div>',
        [("935643039741202432", ["oembed-proxy"])],
    ),
    "ghost-embed-card": (
        '<!--kg-card-begin: embed--><figure class="kg-card kg-embed-card"><blockquote class="twitter-tweet">'
        '<p lang="en" dir="ltr">Ghost post</p>&mdash; Ghost (@Ghost) '
        '<a href="https://twitter.com/Ghost/status/1202020202020202023?ref_src=twsrc%5Etfw">December 4, 2019</a></blockquote>'
        '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script></figure><!--kg-card-end: embed-->',
        [("1202020202020202023", ["blockquote"])],
    ),
    "widgets-create-tweet-script": (
        '<div id="tweet-1"></div><script>window.twttr.widgets.createTweet("1202020202020202024", '
        'document.getElementById("tweet-1"), {theme: "dark"});</script>',
        [("1202020202020202024", ["script"])],
    ),
    "link-in-body": (
        '<p>As <a href="https://twitter.com/RojavaIC/status/1183419470331486208">the center reported</a>, '
        "hundreds escaped.</p>",
        [("1183419470331486208", ["link"])],
    ),
    "bare-url-in-text": (
        "<p>The statement (twitter.com/RojavaIC/status/1183419470331486208) was deleted later.</p>",
        [("1183419470331486208", ["bare-url"])],
    ),
    "tco-link-in-body": (
        '<p>A video circulated (<a href="https://t.co/AbC123xYz9">link</a>).</p>',
        [("https://t.co/AbC123xYz9", ["tco"])],
    ),
    "pic-x-com-text": (
        "<p>A photo shared online, pic.x.com/5xrYfslWJc, showed the gate.</p>",
        [("https://pic.twitter.com/5xrYfslWJc", ["pic"])],
    ),
}


@pytest.mark.parametrize("body, expected", FORM_CASES.values(), ids=list(FORM_CASES))
def test_every_embed_form_in_a_full_page(body, expected):
    result = extract(page(body))
    assert summary(result) == expected
    assert result.profiles == ["https://twitter.com/NewsExample"]
    for embed in result.embeds:
        assert embed.platform == "twitter"
        assert set(embed.forms) <= set(FORMS)
        if embed.id:
            assert embed.url == canonical_url(embed.id, embed.author_handle)


def test_blockquote_fields():
    body = FORM_CASES["blockquote-2019-ref-src-literal-dash"][0]
    (embed,) = extract(page(body)).embeds
    assert embed.author_handle == "reporter_1"
    assert embed.url == "https://twitter.com/reporter_1/status/1183500000000000001"
    assert embed.context == "Roads closed #Syria https://t.co/Zx9Yw8Vu7T — Reporter (@reporter_1) October 13, 2019"


def test_iframe_without_handle_gets_the_i_web_url():
    (embed,) = extract(page(FORM_CASES["hand-built-iframe"][0])).embeds
    assert embed.author_handle is None
    assert embed.url == "https://twitter.com/i/web/status/1581661660728950785"


def test_link_context_is_the_surrounding_sentence():
    (embed,) = extract(page(FORM_CASES["link-in-body"][0])).embeds
    assert embed.context == "As the center reported, hundreds escaped."
    assert embed.author_handle == "RojavaIC"


STATUS_URL_VARIANTS = {
    "plain": ("https://twitter.com/jack/status/20", "jack", "20"),
    "www": ("https://www.twitter.com/jack/status/20", "jack", "20"),
    "mobile": ("https://mobile.twitter.com/jack/status/20", "jack", "20"),
    "m": ("http://m.twitter.com/jack/status/20", "jack", "20"),
    "x.com": ("https://x.com/jack/status/20", "jack", "20"),
    "www.x.com": ("https://www.x.com/jack/status/20", "jack", "20"),
    "statuses": ("https://twitter.com/jack/statuses/20", "jack", "20"),
    "hashbang": ("https://twitter.com/#!/jack/status/20", "jack", "20"),
    "i-web": ("https://twitter.com/i/web/status/1641086480675225601", None, "1641086480675225601"),
    "i-status": ("https://x.com/i/status/1641086480675225601", None, "1641086480675225601"),
    "photo": ("https://twitter.com/SamuelSusla/status/1641086480675225601/photo/1", "SamuelSusla", "1641086480675225601"),
    "video": ("https://x.com/someone/status/1641086480675225601/video/2", "someone", "1641086480675225601"),
    "analytics": ("https://twitter.com/someone/status/1641086480675225601/analytics", "someone", "1641086480675225601"),
    "query": ("https://x.com/someone/status/1641086480675225601?s=20&t=AbCdEfGh", "someone", "1641086480675225601"),
    "fragment": ("https://twitter.com/someone/status/1641086480675225601#reply", "someone", "1641086480675225601"),
    "fxtwitter": ("https://fxtwitter.com/someone/status/1641086480675225601", "someone", "1641086480675225601"),
    "vxtwitter": ("https://vxtwitter.com/someone/status/1641086480675225601", "someone", "1641086480675225601"),
    "fixupx": ("https://fixupx.com/someone/status/1641086480675225601", "someone", "1641086480675225601"),
    "fixvx": ("https://fixvx.com/someone/status/1641086480675225601", "someone", "1641086480675225601"),
    "nitter": ("https://nitter.net/someone/status/1641086480675225601", "someone", "1641086480675225601"),
    "max-handle": ("https://twitter.com/abcdefghij_1234/status/2023205364368351634", "abcdefghij_1234", "2023205364368351634"),
}


@pytest.mark.parametrize("url, handle, tweet_id", STATUS_URL_VARIANTS.values(), ids=list(STATUS_URL_VARIANTS))
def test_status_url_variants_as_links_and_as_text(url, handle, tweet_id):
    assert parse_status_url(url) == (handle, tweet_id)
    result = extract(page(f'<p>See <a href="{url}">this post</a>.</p>'))
    assert summary(result) == [(tweet_id, ["link"])]
    assert result.embeds[0].author_handle == handle
    text = url.replace("&", "&amp;")
    assert summary(extract(page(f"<p>See {text} for the post.</p>"))) == [(tweet_id, ["bare-url"])]


@pytest.mark.parametrize("url", [
    "https://twitter.com/intent/tweet?url=https%3A%2F%2Ftwitter.com%2Fa%2Fstatus%2F20",
    "https://twitter.com/intent/retweet?tweet_id=20",
    "https://twitter.com/share?url=https://news.example/x",
    "https://twitter.com/jack",
    "https://twitter.com/hashtag/status",
    "https://twitter.com/abcdefghijklmnop/status/20",  # 16 characters: not a handle
    "https://twitter.com/jack/status/12345678901234567890",  # 20 digits: not an id
    "https://twitter.com/jack/status/0",
    "https://notx.com/jack/status/20",
    "https://x.com.evil.example/jack/status/20",
    "https://web.archive.org/web/2019/https://twitter.com/jack/status/20",
    "https://twitter.com/jack/status/20abc",
    "javascript:alert('twitter.com/jack/status/20')",
])
def test_not_a_status_url(url):
    body = f'<p>See <a href="{url}">this</a>.</p>'
    assert extract(page(body)).embeds == []


def test_quoted_tweet_link_inside_a_blockquote_is_not_a_separate_post():
    body = ('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">This is wrong, see '
            '<a href="https://twitter.com/other/status/1183400000000000000?ref_src=twsrc%5Etfw">'
            'twitter.com/other/status/1183400000000000000</a> and https://twitter.com/third/status/1183400000000000001 '
            '<a href="https://t.co/QuOtEd0001">https://t.co/QuOtEd0001</a></p>&mdash; Critic (@critic) '
            '<a href="https://twitter.com/critic/status/1183419470331486300?ref_src=twsrc%5Etfw">October 13, 2019</a></blockquote>')
    result = extract(page(body))
    assert summary(result) == [("1183419470331486300", ["blockquote"])]
    assert result.embeds[0].author_handle == "critic"


def test_duplicates_merge_with_forms_in_order_of_appearance():
    link = '<p>Earlier, <a href="https://x.com/RojavaIC/status/1183419470331486208?s=20">the center said</a> so.</p>'
    result = extract(page(SEED_BLOCKQUOTE + link))
    assert summary(result) == [("1183419470331486208", ["blockquote", "link"])]
    assert result.embeds[0].context.startswith("We spoke now")  # the first non-empty context
    result = extract(page(link + SEED_BLOCKQUOTE + link))
    assert summary(result) == [("1183419470331486208", ["link", "blockquote"])]


def test_merge_takes_the_author_from_a_later_sighting():
    body = FORM_CASES["hand-built-iframe"][0] + (
        '<p>Also <a href="https://twitter.com/someone/status/1581661660728950785">here</a>.</p>')
    (embed,) = extract(page(body)).embeds
    assert embed.forms == ["iframe", "link"]
    assert embed.author_handle == "someone"
    assert embed.url == "https://twitter.com/someone/status/1581661660728950785"


def test_embeds_come_in_page_order():
    body = (FORM_CASES["link-in-body"][0] + FORM_CASES["amp-twitter"][0] + FORM_CASES["tco-link-in-body"][0]
            + FORM_CASES["wordpress-bare-url"][0] + FORM_CASES["blockquote-x-com-2024"][0])
    assert [e.id or e.url for e in extract(page(body)).embeds] == [
        "1183419470331486208", "1106603910196658177", "https://t.co/AbC123xYz9",
        "1202020202020202022", "1790000000000000000"]


def test_a_page_full_of_chrome_has_no_embeds_but_records_the_timeline():
    result = extract(page("<p>No social media in this story.</p>"))
    assert result.embeds == []
    assert result.profiles == ["https://twitter.com/NewsExample"]


def test_status_link_in_footer_is_chrome_and_in_body_is_a_post():
    footer_link = '<a href="https://twitter.com/NewsExample/status/1100000000000000004">our post</a>'
    html = page("<p>Nothing here.</p>").replace("</footer>\n<section", f"{footer_link}</footer>\n<section")
    assert extract(html).embeds == []
    assert summary(extract(page(f"<p>See {footer_link}.</p>"))) == [("1100000000000000004", ["link"])]


def test_timeline_profiles_are_canonical_and_deduplicated():
    body = ('<a class="twitter-timeline" href="https://x.com/RojavaIC?ref_src=twsrc%5Etfw">Tweets by RojavaIC</a>'
            "<a class='twitter-timeline' href='https://twitter.com/NewsExample'>again</a>"
            '<a class="twitter-timeline" href="https://twitter.com/NewsExample/lists/syria?ref_src=x">List</a>')
    result = extract(page(body))
    assert result.embeds == []
    assert result.profiles == [
        "https://twitter.com/RojavaIC", "https://twitter.com/NewsExample", "https://twitter.com/NewsExample/lists/syria"]


# --------------------------------------------------------------------------------------------
# Chrome
# --------------------------------------------------------------------------------------------

def _first(html: str, xpath: str):
    doc = parse_html(html.encode(), base_url=BASE)
    return doc, doc.root.xpath(xpath)[0]


@pytest.mark.parametrize("html, chrome", [
    ("<header><a id='t' href='#'>x</a></header>", True),
    ("<nav><ul><li><a id='t'>x</a></li></ul></nav>", True),
    ("<footer><p><a id='t'>x</a></p></footer>", True),
    ("<div class='site-header'><a id='t'>x</a></div>", True),
    ("<div id='sidebar'><a id='t'>x</a></div>", True),
    ("<div class='share-buttons'><a id='t'>x</a></div>", True),
    ("<ul class='social-links'><li><a id='t'>x</a></li></ul>", True),
    ("<div role='navigation'><a id='t'>x</a></div>", True),
    ("<div class='navbar navbar-expand'><a id='t'>x</a></div>", True),
    ("<section id='comments'><article class='comment-body'><a id='t'>x</a></article></section>", True),
    ("<aside class='widget-area'><a id='t'>x</a></aside>", True),  # an aside outside the article
    ("<article><header><h1>T</h1></header><blockquote id='t'>x</blockquote></article>", False),
    ("<main><div class='entry-content'><p><a id='t'>x</a></p></div></main>", False),
    ("<article><aside class='pullquote'><blockquote id='t'>x</blockquote></aside></article>", False),
    ("<article><aside class='sidebar'><a id='t'>x</a></aside></article>", True),  # marked sidebar anyway
    ("<div class='has-sidebar layout'><article><p><a id='t'>x</a></p></article></div>", False),
    ("<div class='post-content'><div class='social-embed'><a id='t'>x</a></div></div>", False),
    ("<div><p><a id='t'>x</a></p></div>", False),
])
def test_is_chrome(html, chrome):
    doc, el = _first(f"<html><body class='single has-sidebar'>{html}</body></html>", "//*[@id='t']")
    assert is_chrome(el) is chrome
    assert doc.is_chrome(el) is chrome and doc.is_chrome(el) is chrome  # cached answer agrees


# --------------------------------------------------------------------------------------------
# Decoding and the Document
# --------------------------------------------------------------------------------------------

CAFE_BODY = '<p>Caf\u00e9 “quoted” \u2014 <a href="https://twitter.com/caf\u00e9/status/20">x</a> https://twitter.com/jack/status/20</p>'


def test_cp1252_page_declared_in_meta():
    html = page(CAFE_BODY, charset="windows-1252").encode("cp1252")
    doc = parse_html(html, base_url=BASE)
    assert doc.title == "Camp escape | News Example"
    (embed,) = find_embeds(doc).embeds
    assert embed.context == "Café “quoted” — x https://twitter.com/jack/status/20"


def test_meta_in_http_equiv_form():
    html = page(CAFE_BODY, charset="").replace(
        "<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">')
    (embed,) = extract(html.encode("cp1252")).embeds
    assert embed.context.startswith("Café “quoted” —")


def test_utf8_page_with_bom():
    (embed,) = extract(b"\xef\xbb\xbf" + page(CAFE_BODY, charset="").encode("utf-8")).embeds
    assert embed.context.startswith("Café “quoted” —")


def test_utf16_page_with_bom():
    (embed,) = extract(page(CAFE_BODY, charset="").encode("utf-16")).embeds
    assert embed.id == "20" and embed.context.startswith("Café")


@pytest.mark.parametrize("content_type", [
    "text/html; charset=utf-8",  # says utf-8, the bytes are cp1252
    "text/html; charset=ISO-8859-1",  # the other way round is tested below
    "text/html; charset=x-no-such-charset",
    "text/html; charset=",
    "text/html",
    None,
])
def test_wrong_or_unknown_header_charset_on_a_cp1252_page(content_type):
    html = page(CAFE_BODY, charset="windows-1252").encode("cp1252")
    (embed,) = extract(html, content_type=content_type).embeds
    assert embed.context.startswith("Café “quoted” —")


def test_header_says_latin1_but_the_page_is_utf8():
    html = page(CAFE_BODY, charset="").encode("utf-8")
    (embed,) = extract(html, content_type="text/html; charset=iso-8859-1").embeds
    assert embed.context.startswith("Café “quoted” —")


def test_unknown_meta_charset_falls_back():
    html = page(CAFE_BODY, charset="x-klingon").encode("cp1252")
    (embed,) = extract(html).embeds
    assert embed.context.startswith("Café “quoted” —")


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00" * 10, b"<!-- only a comment -->", bytes(range(256)),
                                  b"\xff\xfe\x00<", b"<html><body><blockquote class='twitter-tweet'><a href='",
                                  b"<p>twitter.com/a/status/1\x00</p>"])
def test_parse_html_never_raises(data):
    doc = parse_html(data, base_url=BASE)
    assert isinstance(doc, Document) and doc.root is not None
    find_embeds(doc)
    find_requisites(doc)


def test_base_href_and_title():
    html = ('<html><head><title>\n  A   title </title><base href="https://cdn.news.example/sub/"></head>'
            '<body><img src="pic.jpg"><a href="/x">x</a></body></html>')
    doc = parse_html(html.encode(), base_url=BASE)
    assert doc.title == "A title"
    assert doc.base_url == "https://cdn.news.example/sub/"
    assert doc.absolute("pic.jpg") == "https://cdn.news.example/sub/pic.jpg"
    assert find_requisites(doc) == ["https://cdn.news.example/sub/pic.jpg"]
    doc = parse_html(b'<head><base href="javascript:x"></head>', base_url=BASE)
    assert doc.base_url == BASE and doc.title is None


@pytest.mark.parametrize("href, expected", [
    ("/a/b.png", "https://news.example/a/b.png"),
    ("img/x.jpg", "https://news.example/2019/10/14/img/x.jpg"),
    ("../x.jpg", "https://news.example/2019/10/x.jpg"),
    ("/a/./b/../c.png", "https://news.example/a/c.png"),
    ("//cdn.example/x.js", "https://cdn.example/x.js"),
    ("  https://t.co/abc \n", "https://t.co/abc"),
    ("https://twi\nter.com/x", "https://twiter.com/x"),
    ("?page=2", "https://news.example/2019/10/14/camp-escape?page=2"),
    ("HTTPS://Example.COM/x", "https://Example.COM/x"),
    ("javascript:void(0)", None),
    ("JavaScript:alert(1)", None),
    ("data:image/png;base64,iVBORw0KGgo=", None),
    ("mailto:desk@news.example", None),
    ("ftp://files.example/x", None),
    ("http://[::1", None),
    ("https://", None),
    ("http://host:99999/x", None),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_absolute(href, expected):
    assert parse_html(b"<p>x</p>", base_url=BASE).absolute(href) == expected
    assert absolute_url(href, BASE) == expected


# --------------------------------------------------------------------------------------------
# Requisites and CSS
# --------------------------------------------------------------------------------------------

REQUISITE_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>R</title>
<link rel="stylesheet" href="/css/site.css"><link rel="Stylesheet preload" href="/css/print.css" media="print">
<link rel="shortcut icon" href="/favicon.ico"><link rel="icon" type="image/png" href="/icon-32.png">
<link rel="apple-touch-icon" href="/apple.png"><link rel="canonical" href="/canonical">
<link rel="alternate" type="application/rss+xml" href="/feed"><link rel="preconnect" href="https://fonts.example">
<style>@import "/css/imported.css"; @import url('/css/imported2.css');
  .hero { background: url(/img/hero.jpg) } .x { background-image: url("data:image/png;base64,AAAA") }
  /* .old { background: url(/img/commented-out.png) } */</style>
<script src="/js/app.js"></script><script>var inline = "<img src='/not/a/requisite.png'>";</script>
</head><body>
<img src="/img/a.jpg" srcset="/img/a-320.jpg 320w, /img/a-640.jpg 640w,/img/a-1280.jpg 1280w" alt="">
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="/img/lazy.jpg">
<picture><source srcset="https://img.example/w_100,h_50/b.webp 1x, https://img.example/w_200,h_100/b.webp 2x" type="image/webp">
<img src="/img/b.jpg"></picture>
<video poster="/img/poster.jpg" src="/video/v.mp4"></video>
<input type="image" src="/img/submit.png"><input type="text" src="/img/not-an-image-input.png">
<div style="background: URL( '/img/inline-bg.png' )">x</div>
<a href="/img/linked.jpg">not fetched</a><iframe src="https://player.example/embed/1"></iframe>
<img src="/img/a.jpg#again">
</body></html>"""


def test_find_requisites():
    doc = parse_html(REQUISITE_PAGE.encode(), base_url="https://news.example/story/")
    assert find_requisites(doc) == [
        "https://news.example/css/site.css",
        "https://news.example/css/print.css",
        "https://news.example/favicon.ico",
        "https://news.example/icon-32.png",
        "https://news.example/apple.png",
        "https://news.example/css/imported.css",
        "https://news.example/css/imported2.css",
        "https://news.example/img/hero.jpg",
        "https://news.example/js/app.js",
        "https://news.example/img/a.jpg",
        "https://news.example/img/a-320.jpg",
        "https://news.example/img/a-640.jpg",
        "https://news.example/img/a-1280.jpg",
        "https://img.example/w_100,h_50/b.webp",
        "https://img.example/w_200,h_100/b.webp",
        "https://news.example/img/b.jpg",
        "https://news.example/img/poster.jpg",
        "https://news.example/img/submit.png",
        "https://news.example/img/inline-bg.png",
    ]


def test_css_urls():
    css = """@import "reset.css"; @import url(theme.css) screen; @IMPORT 'print.css' print;
    body { background: url(  "../img/bg.png"  ) no-repeat, url('https://cdn.example/a.svg#icon'); }
    .logo { background-image: url(data:image/svg+xml;base64,PHN2Zz4=); }
    @font-face { src: url(//fonts.example/f.woff2) format("woff2"), url(/f.woff) format("woff"); }
    .again { background: url(../img/bg.png) } .bad { background: url(javascript:alert(1)) }
    /* url(commented.png) */"""
    assert css_urls(css, "https://news.example/css/site.css") == [
        "https://news.example/css/reset.css",
        "https://news.example/css/theme.css",
        "https://news.example/css/print.css",
        "https://news.example/img/bg.png",
        "https://cdn.example/a.svg",
        "https://fonts.example/f.woff2",
        "https://news.example/f.woff",
    ]
    assert css_urls("", "https://news.example/") == []
    assert css_urls("p { color: red }", "https://news.example/") == []


def test_srcset_urls():
    assert srcset_urls("a.jpg 1x, b.jpg 2x") == ["a.jpg", "b.jpg"]
    assert srcset_urls("a.jpg, b.jpg 2x") == ["a.jpg", "b.jpg"]
    assert srcset_urls("a.jpg,b.jpg 2x") == ["a.jpg,b.jpg"]  # a comma inside a URL is part of it (WHATWG)
    assert srcset_urls("  /w_1,h_2/a.jpg 100w ,  /b.jpg  ") == ["/w_1,h_2/a.jpg", "/b.jpg"]
    assert srcset_urls("a.jpg (max-width: 10px, x) 1x, b.jpg") == ["a.jpg", "b.jpg"]
    assert srcset_urls("") == [] and srcset_urls(" , ,") == []


# --------------------------------------------------------------------------------------------
# Public helpers and the registry
# --------------------------------------------------------------------------------------------

def test_parse_status_url_and_canonical_url():
    assert parse_status_url("twitter.com/RojavaIC/status/1183419470331486208") == ("RojavaIC", "1183419470331486208")
    assert parse_status_url("  https://x.com/i/web/status/20?s=20 ") == (None, "20")
    assert parse_status_url("https://twitter.com/jack") is None
    assert parse_status_url("") is None
    assert canonical_url("20", "jack") == "https://twitter.com/jack/status/20"
    assert canonical_url("20", None) == "https://twitter.com/i/web/status/20"
    assert canonical_url("20", "i") == "https://twitter.com/i/web/status/20"


def test_registry():
    assert twitter in PLATFORMS
    assert platform_for("twitter") is twitter and twitter.name == "twitter"
    with pytest.raises(KeyError):
        platform_for("myspace")


# --------------------------------------------------------------------------------------------
# The raw-marker shortcuts must never change the answer
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    '<p>See <a title="a > b" href="https://twitter.com/u/status/20">this</a>.</p>',
    '<p>See <a title="a < b" href="https://twitter.com/u/status/20">this</a>.</p>',
    '<p>See <a data-x=\'{"a":">"}\' href=https://twitter.com/u/status/20>this</a>.</p>',
    '<!-- <p> --> twitter.com/u/status/20 <script>if (a<b) {}</script>',
    '<p title="x>y">twitter.com/u/status/20</p>',
    '<p>1 < 2 and twitter.com/u/status/20</p>',
    SEED_BLOCKQUOTE + '<p>and <a href="https://twitter.com/u/status/20">a link</a></p>',
    '<blockquote class="twitter-tweet"><p>unclosed <a href="https://t.co/AAAA">pic.twitter.com/AAAA</a></p>'
    '<a href="https://twitter.com/u/status/20">d</a></div><p>outside twitter.com/u/status/21</p>',
])
def test_shortcuts_find_what_a_full_scan_finds(body):
    doc = parse_html(page(body).encode(), base_url=BASE)
    full = parse_html(page(body).encode(), base_url=BASE)
    assert twitter.detect(doc) == twitter.detect(full, exhaustive=True)
    assert any(e.id == "20" for e in twitter.detect(doc) if hasattr(e, "forms"))


_URLS = st.sampled_from([
    "https://twitter.com/a/status/20", "https://x.com/b/status/21?s=20", "twitter.com/c/status/22", "https://t.co/AbCd1",
    "pic.twitter.com/AbCd1", "pic.x.com/XyZ9", "https://twitter.com/intent/tweet?url=x", "/status/23", "t.co/Q",
])
_ATTR = st.lists(st.one_of(_URLS, st.sampled_from(["<", ">", "&lt;", "&gt;", " ", "a", "&quot;", "'"])), max_size=5).map("".join)
_TEXT = st.lists(st.one_of(_URLS, st.sampled_from([" ", "word", "&lt;", "&gt;", "\n", " — A (@a) "])), max_size=5).map("".join)


@st.composite
def _element(draw, depth=0):
    """A well-formed element whose attributes, text and comments hold URLs and angle brackets."""
    attr = draw(_ATTR).replace('"', "&quot;")
    kind = draw(st.sampled_from(["a", "p", "div", "blockquote", "tweet", "script", "comment", "iframe", "footer", "text"]))
    inner = "".join(draw(st.lists(_element(depth + 1), max_size=2))) if depth < 3 else ""
    text = draw(_TEXT)
    return {
        "a": f'<a title="{attr}" href="{draw(_URLS)}">{text}</a>',
        "p": f'<p data-x="{attr}">{text}{inner}</p>',
        "div": f"<div class='{attr.replace(chr(39), '&#39;')}'>{inner}{text}</div>",
        "blockquote": f"<blockquote>{text}{inner}</blockquote>",
        "tweet": f'<blockquote class="twitter-tweet">{inner}<p>{text}</p>&mdash; A (@a) <a href="{draw(_URLS)}">d</a></blockquote>',
        "script": f"<script>var s = '{text.replace(chr(39), '')}' < 1;</script>",
        "comment": f"<!-- {text.replace('--', '')} -->",
        "iframe": f'<iframe title="{attr}" src="/media/oembed?url={draw(_URLS)}"></iframe>',
        "footer": f"<footer>{inner}{text}</footer>",
        "text": text,
    }[kind]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_element(), max_size=6).map("".join))
def test_shortcuts_agree_with_a_full_scan_on_well_formed_pages(body):
    html = page(body).encode()
    fast = twitter.detect(parse_html(html, base_url=BASE))
    full = twitter.detect(parse_html(html, base_url=BASE), exhaustive=True)
    assert fast == full


# --------------------------------------------------------------------------------------------
# Raw-page shortcuts added for speed: each must give the answer a full scan of the tree gives
# --------------------------------------------------------------------------------------------

# Site JS as themes inline it: comparisons (a "<" inside a script), share URLs, a status check.
INLINE_JS = ("<script>var nets={twitter:'https://twitter.com/intent/tweet?url=',x:'https://x.com/u/status/20'};"
             "for(var i=0;i<9;i++){if(xhr.status===200&&n<1){}}</script>")
PLAIN_BODY = "<p>No social media in this story, only <a href='/other'>a link</a>.</p>" + INLINE_JS


def test_a_page_calling_for_no_tree_query_is_never_parsed():
    """Share and follow buttons, twitter:card tags, a timeline, a tag manager's iframe, inline JS
    with twitter URLs: none of it can be a post, and the raw page says so without a parse."""
    html = (f'<html><head><meta name="twitter:card" content="summary">{INLINE_JS}</head><body>'
            '<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-X" height="0"></iframe></noscript>'
            f"{CHROME_HEADER.replace('x.com/NewsExample/status/1100000000000000001', 'x.com/NewsExample')}"
            f"{ARTICLE_TOP}{PLAIN_BODY}</div></article></main>"
            '<a class="twitter-timeline" href="https://twitter.com/NewsExample">Tweets</a></body></html>').encode()
    doc = parse_html(html, base_url=BASE)
    found = twitter.detect(doc)
    assert [(type(i).__name__, i.url) for i in found] == [("Profile", "https://twitter.com/NewsExample")]
    assert not doc.parsed
    full = parse_html(html, base_url=BASE)
    assert twitter.detect(full, exhaustive=True) == found and full.parsed


def test_lazy_document_reads_title_and_base_from_the_tree_when_asked():
    html = ('<html><head><TITLE> A  title </TITLE><BASE HREF="https://cdn.news.example/sub/"></head>'
            "<body><p>x</p></body></html>").encode()
    doc = parse_html(html, base_url=BASE)
    assert not doc.parsed
    assert doc.base_url == "https://cdn.news.example/sub/" and doc.parsed  # a <base> in any case needs the tree
    assert doc.title == "A title"
    doc = parse_html(b"<html><head><title>t</title></head><body><p>x</p></body></html>", base_url=BASE)
    assert doc.base_url == BASE and not doc.parsed  # no <base> at all: known from the raw page
    assert doc.absolute("/a") == "https://news.example/a" and not doc.parsed
    assert doc.title == "t" and doc.parsed


def test_document_built_by_hand_from_a_tree():
    tree = parse_html(page(SEED_BLOCKQUOTE).encode(), base_url=BASE).root
    doc = Document(root=tree, base_url=BASE, title="T")
    assert doc.parsed and doc.title == "T" and doc.base_url == BASE
    assert [e.id for e in find_embeds(doc).embeds] == ["1183419470331486208"]


_LITERALS = [b"tw", b"twitter", b"twitter-", b"tweet", b"data-tweet", b"status", b"/status", b"x.com", b"pic.x.com/",
             b"t.co/", b"aa", b"aaa", b"TW", b"Twitter", b"t.co//@", b"statustatus", b"/@", b"/users/", b"redd", b"reddit-"]


def _naive(hay: bytes, needle: bytes) -> list[int]:
    return [i for i in range(len(hay)) if hay.startswith(needle, i)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["ab", "AB", "b", "ba", "abab", "status", "s", "t.co/", "/", "/@", "@", "x", "é",
                                 "\u212a", "\u017f", "\x00", "<"]), max_size=40).map("".join),
       st.lists(st.sampled_from([b"ab", b"abab", b"ba", b"b", b"status", b"statustatus", b"t.co/", b"/@", b"/", b"x.com",
                                 b"k", b"s", b"A"]), min_size=1, max_size=6))
def test_literal_scanner_finds_every_occurrence_of_every_literal(text, literals):
    """One pass finds what a separate scan per literal finds, in any ASCII case, overlapping and
    nested occurrences included; non-ASCII bytes never fold into ASCII letters (the Kelvin sign
    is not `k`, the long s is not `s`)."""
    source = text.encode()
    found = LiteralScanner(literals).scan(source)
    low = source.lower()
    for literal in {lit.lower() for lit in literals}:
        if literal in found:
            assert found[literal] == _naive(low, literal)
        else:  # dropped: it starts with a shorter literal, and is read off that one's hits
            assert any(literal.startswith(kept) for kept in found)


def test_every_platform_literal_is_found_by_the_one_scan():
    """A page holding each platform's literals: the first lookup scans once, and every later
    lookup of a marker holding one of them costs no scan of its own."""
    markers = [literal for platform in PLATFORMS for literal in platform.LITERALS]
    doc = parse_html(b" ".join(markers + [b"twitter-tweet", b"/status/1", b"pic.twitter.com/x"]), base_url=BASE)
    for marker in markers + [b"twitter-", b"data-tweet", b"/status", b"pic.twitter.com/", b"</blockquote"]:
        assert doc.hits(marker, ci=True) == _naive(doc.source.lower(), marker.lower())
        assert doc.hits(marker) == _naive(doc.source, marker)
    assert doc.scans == 1
    doc.hits(b"no platform looks for this")
    assert doc.scans == 2


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["tw", "TW", "Tw", "itter", "twitter-tweet", "data-tweet-id", "/status", "STATUS",
                                 "x.com", "pic.", "t.co/", "a", "aa", " ", "<", "é"]), max_size=30).map("".join),
       st.lists(st.tuples(st.sampled_from(_LITERALS), st.booleans()), max_size=8))
def test_hits_read_off_an_earlier_literal_equal_a_scan(text, lookups):
    """`Document.hits` answers from the hits of a literal already looked up that occurs in the
    new one; it must find exactly what a scan finds, overlapping occurrences included."""
    doc = parse_html(text.encode(), base_url=BASE)
    for literal, ci in lookups:
        hay, needle = (doc.source.lower(), literal.lower()) if ci else (doc.source, literal)
        assert doc.hits(literal, ci=ci) == _naive(hay, needle)


@pytest.mark.parametrize("body, expected", [
    # The blockquote's own end tag is not where it ends: the </div> closes it first.
    ('<div><blockquote class="twitter-tweet"><p>Quote</div><p>See <a href="https://twitter.com/u/status/20">x</a></p>'
     "</blockquote>", [("20", ["link"])]),
    # Not the class token twitter-tweet: a plain blockquote, whose link is the article's.
    ('<blockquote class="twitter-tweets"><p>See <a href="https://twitter.com/u/status/20">x</a></p></blockquote>',
     [("20", ["link"])]),
    # A fake <script> in a textarea does not hide the markup after it.
    ("<textarea>x<b><script>if (a<b) {}</textarea><p>See twitter.com/u/status/20 now.</p><script>y()</script>",
     [("20", ["bare-url"])]),
    # Tag and attribute names and hosts are case-insensitive.
    ('<IFRAME SRC="https://platform.TWITTER.com/embed/Tweet.html?id=20"></IFRAME>', [("20", ["iframe"])]),
    ('<DIV CLASS="embed" DATA-TWEET-ID="20"></DIV>', [("20", ["script"])]),
    ('<AMP-TWITTER DATA-TWEETID="20" LAYOUT="responsive"></AMP-TWITTER>', [("20", ["amp"])]),
    # A status URL in inline JS (which also compares with "<") is no post; the link after it is.
    (INLINE_JS + '<p><a href="https://x.com/u/status/21">x</a></p>', [("21", ["link"])]),
    # Bare URLs in text: right after a <p> (read with a //p/text() query), or after a <br> or in a
    # table cell (where the raw page cannot tell the text's element: the whole-tree text query).
    ("<p>See twitter.com/u/status/20 now.</p>", [("20", ["bare-url"])]),
    ("<p>See <br> twitter.com/u/status/20 now.</p>", [("20", ["bare-url"])]),
    ("<table><tr><td>twitter.com/u/status/20</td></tr></table>", [("20", ["bare-url"])]),
    ("<ul><li>x.com/u/status/20</li></ul><p>and t.co/AbCd1</p>", [("20", ["bare-url"]), ("https://t.co/AbCd1", ["tco"])]),
    # Class-stripped embeds: found whatever blockquote close tags the raw page shows before them.
    ('<blockquote><p>Text</p>\u2014 Name (@handle) <a href="https://twitter.com/handle/status/20">d</a></blockquote>',
     [("20", ["blockquote"])]),
    ('</blockquote><blockquote><p>Text</p>\u2014 Name (@handle) <a href="https://twitter.com/handle/status/20">d</a>'
     "</blockquote>", [("20", ["blockquote"])]),
    ('<blockquote><script>var s = "</blockquote>";</script><p>Text</p>\u2014 Name (@handle) '
     '<a href="https://twitter.com/handle/status/20">d</a></blockquote>', [("20", ["blockquote"])]),
    # A "<a" in an attribute value is no <a> tag: this hit is in an iframe.
    ('<iframe title="<a" src="/media/oembed?url=https://twitter.com/u/status/20"></iframe>', [("20", ["oembed-proxy"])]),
    # An oEmbed proxy iframe whose URL has no "twitter", only an escaped "status".
    ('<iframe src="/media/oembed?url=https%3A%2F%2Fnitter.net%2Fu%2Fstatus%2F20"></iframe>', [("20", ["oembed-proxy"])]),
])
def test_raw_shortcuts_on_tricky_markup(body, expected):
    # In a full page (whose chrome calls for most queries anyway) and alone (where only this does).
    for html in (page(body).encode(), f"<html><body><article>{body}</article></body></html>".encode()):
        assert summary(extract(html)) == expected
        fast, full = parse_html(html, base_url=BASE), parse_html(html, base_url=BASE)
        assert twitter.detect(fast) == twitter.detect(full, exhaustive=True)


_TRICKY = st.sampled_from([
    INLINE_JS, "<script>if (a < b) { s = 'twitter.com/a/status/20'; }</script>", "<script><!-- a<b --></script>",
    "<style>.twitter-tweet{margin:0} a<b</style>", "<textarea>x<b><script>a<b</textarea>", "<title>t<script></title>",
    "<svg><script>a<b</script></svg>", "<!-- <script> -->", "<!-- <blockquote class='twitter-tweet'> -->", "</div>",
    "<div>", "<p>", "</blockquote>", "<table><tr><td>", "</td></tr></table>", "<IFRAME SRC='https://platform.TWITTER.com/"
    "embed/Tweet.html?id=22'></IFRAME>", "<DIV DATA-TWEET-ID='23'></DIV>", "<BLOCKQUOTE CLASS='twitter-tweet'>",
    "<blockquote class='twitter-tweet'><p>q <a href='https://t.co/AbCd1'>pic.twitter.com/AbCd1</a></p>",
    "&mdash; A (@a) <a href='https://twitter.com/a/status/24'>d</a></blockquote>", "<amp-twitter data-tweetid='25'>",
    "</amp-twitter>", "<div class='twitter-tweet'><iframe data-tweet-id='26'></iframe></div>",
    "<script>twttr.widgets.createTweet('27', el)</script>", "<a href='https://x.com/b/status/28'>l</a>",
    " twitter.com/c/status/29 ", "<footer>", "</footer>", "<base href='https://twitter.com/'>",
    "<a href='/d/status/30'>rel</a>", "<iframe title='<a' src='/media/oembed?url=https://x.com/e/status/31'></iframe>",
    "<iframe title='x>y <a' src='https://platform.twitter.com/embed/Tweet.html?id=32'></iframe>",
])


@pytest.mark.parametrize("html, kinds", [
    (b'<p>x <a href="https://twitter.com/u/status/1">y</a></p>', {"a"}),
    (b'<p>x</p><iframe src="https://twitter.com/u/status/1"></iframe>', {"iframe"}),
    (b'<p>x</p><iframe title="<a" src="https://twitter.com/u/status/1"></iframe>', {"unknown"}),
    (b'<p>x</p><iframe title="x>y <a" src="https://twitter.com/u/status/1"></iframe>', {"unknown"}),
    (b"<p>see twitter.com/u/status/1</p>", {"text"}),
    (b"<script>if (a<b) {} var u = 'twitter.com/u/status/1';</script>", {"tag"}),
    (b"<script><!-- a<b --> var u = 'twitter.com/u/status/1';</script>", {"text"}),  # unsure: not "tag"
    (b"<textarea>x<b><script>a<b</textarea><p>twitter.com/u/status/1</p><script>y</script>", {"text"}),
    (b"<svg><script>a<b twitter.com/u/status/1</script></svg>", {"unknown"}),
    (b'<!-- <script> a<b --> <p>twitter.com/u/status/1</p>', {"text"}),
])
def test_where_a_raw_hit_sits(html, kinds):
    assert parse_html(html, base_url=BASE).where(b"/status") == kinds


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_element(), _TRICKY), max_size=8).map("".join))
def test_shortcuts_agree_with_a_full_scan_on_tricky_pages(body):
    """Scripts holding "<", fake tags in raw text, unbalanced markup, upper-case names: whatever
    the raw-page shortcuts skip, a full scan of the tree must find nothing more."""
    html = page(body).encode()
    fast = twitter.detect(parse_html(html, base_url=BASE))
    full = twitter.detect(parse_html(html, base_url=BASE), exhaustive=True)
    assert fast == full


# --------------------------------------------------------------------------------------------
# Properties: no input makes parsing or extraction raise
# --------------------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from([
    "<blockquote class=\"twitter-tweet\">", "</blockquote>", "<blockquote>", "<p>", "</p>", "<a href=\"", "\">", "</a>",
    "<iframe src=\"", "<amp-twitter data-tweetid=\"", "<div data-tweet-id=\"", "<header>", "</header>", "<footer>",
    "<aside class=\"pullquote\">", "<article>", "<script>", "</script>", "<style>", "</style>", "<!--", "-->", "<base href=\"",
    "https://twitter.com/a/status/", "x.com/i/web/status/", "https://t.co/", "pic.twitter.com/", "/media/oembed?url=",
    "https://platform.twitter.com/embed/Tweet.html?id=", "twttr.widgets.createTweet(\"", "&mdash; A (@a) ", "&#0;", "&amp;",
    "<img srcset=\"", "<link rel=\"stylesheet\" href=\"", "url(", ")", "@import '", "<meta charset=\"", "utf-16", "\"", "'",
    "<", ">", "/", " ", "\n", "\u2014", "\ufeff", "\x00", "1183419470331486208", "99999999999999999999", "GKa1TV7NIJ",
])
_HTMLISH = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=8)), max_size=40).map("".join)
_ENCODINGS = st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"])
_CONTENT_TYPES = st.one_of(st.none(), st.sampled_from(["text/html", "text/html; charset=utf-8", "text/html; charset=bogus",
                                                       "text/html; charset=utf-16le", "text/html; charset=\"shift_jis\""]),
                           st.text(max_size=30))


def _run_all(data: bytes, content_type: str | None) -> None:
    doc = parse_html(data, base_url=BASE, content_type=content_type)
    result = find_embeds(doc)
    for embed in result.embeds:
        assert embed.platform == "twitter" and embed.forms and set(embed.forms) <= set(FORMS)
        assert embed.id is None or (embed.id.isdigit() and 1 <= len(embed.id) <= 19)
    for url in find_requisites(doc):
        assert url.startswith(("http://", "https://"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), _CONTENT_TYPES)
def test_arbitrary_bytes_never_raise(data, content_type):
    _run_all(data, content_type)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HTMLISH, _ENCODINGS, _CONTENT_TYPES)
def test_arbitrary_htmlish_text_never_raises(text, encoding, content_type):
    _run_all(text.encode(encoding, "replace"), content_type)
    _run_all(page(text).encode(encoding, "replace"), content_type)


def _reference_context(doc: Document, el, needle, width: int = 200) -> str:
    """What `Document.context` returns, by definition: the block's whole visible text, sliced."""
    block = el
    while block.tag not in ("p", "div", "blockquote", "section", "body", "li"):
        block = block.getparent()
    text = doc.text(block)
    if len(text) <= width:
        return text
    at = text.find(needle) if needle else -1
    start = max(0, at - width // 3) if at >= 0 else 0
    return text[start : start + width].strip()


_WORDS = st.sampled_from(["alpha", "beta", "  ", "\n\n   ", "gamma delta", "é", "x" * 50, "words " * 30])
_INLINE = st.sampled_from(["b", "i", "span", "em"])


@st.composite
def _context_pages(draw):
    """A paragraph-ish block with nested inline markup, comments, scripts and line breaks around one
    element holding a unique needle."""
    def chunk(depth: int) -> str:
        kind = draw(st.integers(0, 5 if depth < 4 else 1))
        if kind <= 1:
            return draw(_WORDS)
        if kind == 2:
            return "<br>" if draw(st.booleans()) else "<!-- hidden words -->"
        if kind == 3:
            return "<script>var hidden = 'script words';</script>"
        tag = draw(_INLINE)
        return f"<{tag}>" + "".join(chunk(depth + 1) for _ in range(draw(st.integers(0, 3)))) + f"</{tag}>"
    before = "".join(chunk(0) for _ in range(draw(st.integers(0, 12))))
    after = "".join(chunk(0) for _ in range(draw(st.integers(0, 12))))
    block = draw(st.sampled_from(["p", "div", "li"]))
    return f"<html><body><{block}>{before}<a href='https://n.example/x'>NEEDLE here</a>{after}</{block}></body></html>"


@settings(max_examples=200, deadline=None)
@given(_context_pages(), st.sampled_from([40, 100, 200]))
def test_context_reads_only_near_text_but_equals_the_whole_block_definition(html, width):
    doc = parse_html(html.encode(), base_url=BASE)
    link = doc.root.find(".//a")
    assert doc.context(link, "NEEDLE here", width) == _reference_context(doc, link, "NEEDLE here", width)
    block = link.getparent()
    assert doc.context(block, None, width) == _reference_context(doc, block, None, width)


def test_context_on_a_thousand_nested_blocks_is_linear():
    """Each of a thousand nested divs cites a tweet: every context is read near its link, not from
    the whole subtree below it (which made this page quadratic: a minute and more)."""
    n = 1000
    page = "<html><body><article>" + "".join(
        f"<div>words {'lorem ipsum ' * 40} see https://twitter.com/u/status/{10**17 + i} and " for i in range(n)
    ) + "</div>" * n + "</article></body></html>"
    doc = parse_html(page.encode(), base_url=BASE)
    embeds = find_embeds(doc).embeds
    assert len(embeds) == n
    assert not doc._texts  # no block's whole text was ever read (`Document.text` caches what it reads)
    assert all("see https://twitter.com/u/status/" in e.context and len(e.context) <= 200 for e in embeds)


# Drupal core Media renders every oEmbed provider's post as an iframe to its own proxy, the post
# URL in the query with the colon (and `@`) percent-encoded (social-embeds.md, Drupal).
_PROXIED = {
    "twitter": ("https%3A//twitter.com/drupaldevdays/status/935643039741202432", "935643039741202432"),
    "youtube": ("https%3A//www.youtube.com/watch%3Fv%3DeiHXASgRTcA", "eiHXASgRTcA"),
    "instagram": ("https%3A//www.instagram.com/p/CxYzAbCdEfG/", "CxYzAbCdEfG"),
    "facebook": ("https%3A//www.facebook.com/facebook/posts/10153231379946729", "10153231379946729"),
    "tiktok": ("https%3A//www.tiktok.com/%40scout2015/video/6718335390845095173", "6718335390845095173"),
    "threads": ("https%3A//www.threads.net/%40zuck/post/C8Zzk9OxxSX", "C8Zzk9OxxSX"),
    "reddit": ("https%3A//www.reddit.com/r/news/comments/abc123/some_title/", "abc123"),
    "bluesky": ("https%3A//bsky.app/profile/jay.bsky.team/post/3l6oveex3ii2l", "jay.bsky.team/3l6oveex3ii2l"),
}


def _drupal_media(url: str) -> str:
    return (f'<div class="field--name-field-media-oembed-video"><iframe src="/media/oembed?url={url}&amp;max_width=0'
            '&amp;max_height=0&amp;hash=Xq3" class="media-oembed-content" width="550" height="400"></iframe></div>')


@pytest.mark.parametrize("platform", sorted(_PROXIED))
def test_cms_oembed_proxy_iframes_name_their_post(platform):
    url, post_id = _PROXIED[platform]
    doc = parse_html(page("<p>As posted:</p>" + _drupal_media(url)).encode(), base_url=BASE)
    assert [(e.platform, e.id, e.forms) for e in find_embeds(doc).embeds] == [(platform, post_id, ["oembed-proxy"])]


def test_cms_oembed_proxies_of_other_things_and_in_chrome_are_not_posts():
    body = (_drupal_media("https%3A//vimeo.com/76979871") + _drupal_media("https%3A//www.instagram.com/newsexample/")
            + "<footer>" + _drupal_media(_PROXIED["reddit"][0]) + "</footer>")
    assert find_embeds(parse_html(page(body).encode(), base_url=BASE)).embeds == []


def test_a_page_repeating_a_marker_a_hundred_thousand_times_falls_back_to_per_marker_scans():
    """The one-pass scan gives up past `_SCAN_LIMIT` matches (each costs far more than a `find`);
    the markers are then looked up one by one, with the same answers."""
    filler = "<p>" + "tw status " * 60_000 + "</p>"
    doc = parse_html(page(filler + SEED_BLOCKQUOTE).encode(), base_url=BASE)
    assert [e.id for e in find_embeds(doc).embeds] == ["1183419470331486208"]
    assert doc.scans > 1  # the shared scan stopped; markers were scanned for one by one
    assert doc.hits(b"status") == _naive(doc.source, b"status")


def test_thousands_of_one_word_links_in_one_block():
    """Every link's context reads a few dozen neighbouring pieces, not the whole block."""
    links = "".join(f'<a href="https://twitter.com/u/status/{10**17 + i % 50}">x</a>' for i in range(5000))
    embeds = find_embeds(parse_html(page(f"<div>{links}</div>").encode(), base_url=BASE)).embeds
    assert len(embeds) == 50 and all(e.forms == ["link"] and e.context.startswith("xxxx") for e in embeds)


def test_status_outside_tweet_urls_calls_for_no_tree_query():
    """`status` in a site's scripts and in other sites' URLs is no tweet: the tree is never built."""
    body = ('<p>Outages were reported on <a href="https://downdetector.com/status/facebook/map/">Downdetector</a> and '
            "https://status.example.com/incidents/1.</p>"
            '<script>var u={"loginStatus":false,"subscriberStatus":"none"}; if (xhr.status < 400) go();</script>')
    doc = parse_html(f"<html><body><article>{body}</article></body></html>".encode(), base_url=BASE)
    assert twitter.detect(doc) == [] and not doc.parsed
    # the same words in a tweet's URL still count, entity-escaped and percent-encoded ones too
    for url in ("https://twitter.com/u/status/20", "https:&#47;&#47;twitter.com&#47;u&#47;status&#47;20",
                "/media/oembed?url=https%3A%2F%2Fxcancel.com%2Fu%2Fstatus%2F20"):
        tag = f'<iframe src="{url}"></iframe>' if "oembed" in url else f'<a href="{url}">tweet</a>'
        assert [e.id for e in find_embeds(parse_html(page(f"<p>{tag}</p>").encode(), base_url=BASE)).embeds] == ["20"]
