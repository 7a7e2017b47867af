"""Post pages (issue #4): pure rendering with hostile input, then a real capture through the fixture web."""

from __future__ import annotations

import io
import re
import zlib
from html.parser import HTMLParser
from pathlib import Path

from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archiver.cli import cli
from archiver.index import Index
from archiver.models import Media, Post
from archiver.postpage import POST_PAGE_HOST, post_page_url, render_post_page
from twitterworld import SEED, SEED_BLOCKQUOTE, FakeTweet, TwitterWorld, Video, article_page

ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"
CAPTURED = "2024-05-01T12:00:00Z"


class Tags(HTMLParser):
    """Every start tag with its attributes, as the browser's tokenizer would see them."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def attrs(self, tag: str, name: str) -> list[str]:
        return [a[name] for t, a in self.tags if t == tag and a.get(name) is not None]

    def urls(self) -> list[str]:
        return [v for _t, a in self.tags for k, v in a.items() if k in ("href", "src", "poster") and v is not None]


def tweet(**kw) -> Post:
    base = dict(platform="twitter", id="1183419470331486208", url=SEED.permalink, status="available",
                author_handle="RojavaIC", author_name="Rojava Information Center",
                text="Camp news #Rojava via @ANHA_English https://example.org/report?a=1&b=2.",
                created_at="2019-10-13T16:02:11.000Z",
                media=[Media(url="https://pbs.twimg.com/media/EGx1?format=jpg&name=orig", kind="photo", captured=True),
                       Media(url="https://video.twimg.com/ext_tw_video/1/pu/vid/avc1/1280x720/v.mp4?tag=12",
                             kind="video", captured=True),
                       Media(url="https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/poster.jpg", kind="poster",
                             captured=True),
                       Media(url="https://pbs.twimg.com/profile_images/1/RojavaIC.jpg", kind="avatar", captured=True)])
    base.update(kw)
    return Post(**base)


# --- pure rendering ------------------------------------------------------------------------------


def test_post_page_url_is_stable_and_reserved():
    assert post_page_url("twitter", "123") == "https://posts.embed-archiver.invalid/twitter/123"
    assert post_page_url("X", 123) == post_page_url("twitter", "123")
    assert post_page_url("twitter", "1/../2") == "https://posts.embed-archiver.invalid/twitter/1%2F..%2F2"
    assert POST_PAGE_HOST.endswith(".invalid")  # RFC 6761: never resolves, never a real capture


def test_fields_links_and_original_media_urls():
    post = tweet()
    page = render_post_page(post, quoted={}, citing=[ARTICLE, ARTICLE], captured_at=CAPTURED)
    tags = Tags(page)
    text = "".join(tags.text)
    for needle in ("Rojava Information Center", "@RojavaIC", "available", "2019-10-13 16:02:11 UTC",
                   "2024-05-01 12:00:00 UTC", "Camp news"):
        assert needle in text, needle
    assert tags.attrs("img", "src") == ["https://pbs.twimg.com/profile_images/1/RojavaIC.jpg",
                                        "https://pbs.twimg.com/media/EGx1?format=jpg&name=orig"]
    assert tags.attrs("video", "src") == [post.media[1].url]
    assert tags.attrs("video", "poster") == [post.media[2].url]
    hrefs = tags.attrs("a", "href")
    assert "https://twitter.com/hashtag/Rojava" in hrefs and "https://twitter.com/ANHA_English" in hrefs
    assert "https://example.org/report?a=1&b=2" in hrefs  # trailing full stop left out of the link
    assert hrefs.count(ARTICLE) == 1  # citing articles listed once
    assert SEED.permalink in hrefs
    assert tags.attrs("time", "datetime") == [CAPTURED, "2019-10-13T16:02:11.000Z"]  # capture, post
    assert "<script" not in page.lower() and not any(k.startswith("on") for _t, a in tags.tags for k in a)


def test_hostile_input_is_escaped_and_never_a_link():
    hostile = tweet(
        author_name='<script>alert(1)</script>"><img src=x onerror=alert(2)>',
        author_handle='x" onmouseover="alert(3)',
        text=('<script>alert(4)</script> see https://evil.example/"onmouseover="alert(5) and '
              "javascript:alert(6) \u202eRTL override \u05e9\u05dc\u05d5\u05dd @<b>x</b>"),
        url="javascript:alert(7)",
        status_reason="</p><script>alert(8)</script>",
        media=[Media(url="javascript:alert(9)", kind="photo"), Media(url='https://pbs.twimg.com/a".jpg', kind="photo"),
               Media(url="data:image/png;base64,AAAA", kind="avatar"),
               Media(url="https://ok.example/v.mp4\nx", kind="video")],
    )
    citing = ["javascript:alert(10)", "https://news.example/a?x=\"y\"", "https://news.example/\u202egpj.exe"]
    page = render_post_page(hostile, quoted={}, citing=citing, captured_at="<b>now</b>")
    tags = Tags(page)
    assert [t for t, _ in tags.tags].count("script") == 0 and "<script" not in page.lower()
    assert not any(k.startswith("on") for _t, a in tags.tags for k in a)
    for url in tags.urls():
        assert re.match(r"https?://", url), url
    assert "https://evil.example/" in tags.attrs("a", "href")  # the link stops at the quote
    assert 'https://pbs.twimg.com/a".jpg' in tags.attrs("img", "src")  # quote escaped inside the attribute
    assert 'https://news.example/a?x="y"' in tags.attrs("a", "href")
    assert not any("\u202e" in u for u in tags.urls())  # a bidi override never makes it into a link
    text = "".join(tags.text)
    assert "<script>alert(1)</script>" in text and "javascript:alert(7)" in text  # shown, as text
    assert "\u05e9\u05dc\u05d5\u05dd" in text and 'dir="auto"' in page  # RTL kept, isolated by the browser


def test_quoted_post_inside_or_linked():
    quoted = tweet(id="222", author_handle="quoted", author_name="Quoted Person", text="the original words",
                   url="https://twitter.com/quoted/status/222", media=[])
    post = tweet(related=[("quotes", "twitter", "222"), ("reply_to", "twitter", "333")])
    page = render_post_page(post, quoted={"222": quoted, post.id: post}, citing=[], captured_at=CAPTURED)
    inner = page.split('<blockquote class="quoted">', 1)[1].split("</blockquote>", 1)[0]
    assert "the original words" in inner and "Quoted Person" in inner
    assert post_page_url("twitter", "333") in Tags(page).attrs("a", "href")  # reply parent not captured: a link
    alone = render_post_page(post, quoted={}, citing=[], captured_at=CAPTURED)
    assert "<blockquote" not in alone and post_page_url("twitter", "222") in Tags(alone).attrs("a", "href")


def test_deleted_post_without_data():
    gone = Post(platform="twitter", id="5", url="https://twitter.com/i/web/status/5", status="deleted",
                status_reason="This Post was deleted by the Post author.")
    text = "".join(Tags(render_post_page(gone, quoted={}, citing=[], captured_at=CAPTURED)).text)
    assert "deleted" in text and "deleted by the Post author" in text and "No text was captured" in text


# --- end to end ------------------------------------------------------------------------------------


def record_at(archive: Path, warc: str, offset: int, length: int):
    with open(archive / "warcs" / warc, "rb") as fh:
        fh.seek(offset)
        data = zlib.decompressobj(31).decompress(fh.read(length))
    rec = next(iter(ArchiveIterator(io.BytesIO(data))))
    return rec.rec_headers, rec.content_stream().read()


def test_capture_stores_post_pages_as_resource_records(web, tmp_path):
    video = Video("1200000000000000000", variants=[(832000, "640x360", False)])
    quoted = FakeTweet(id="1200000000000000002", handle="quoted", name="Quoted", text="the quoted words")
    quoter = FakeTweet(id="1200000000000000004", handle="quoter", name="Quoter", text="look at this",
                       quoted=quoted.id, video=video, tco="VidCode001")
    TwitterWorld(web, [SEED, quoted, quoter])
    body = SEED_BLOCKQUOTE + (f'<blockquote class="twitter-tweet"><p>{quoter.text}</p>&mdash; Quoter (@quoter) '
                              f'<a href="{quoter.permalink}">date</a></blockquote>')
    web.add(ARTICLE, body=article_page(body), headers=[("Content-Type", "text/html; charset=utf-8")])
    archive = tmp_path / "a"
    result = CliRunner().invoke(cli, ["capture", ARTICLE, "--archive", str(archive), "--no-requisites"],
                                env=web.env(), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with Index(archive / "index.sqlite3") as index:
        for t in (SEED, quoter, quoted):
            url = post_page_url("twitter", t.id)
            refs = [r for r in index.post("twitter", t.id)["records"] if r["url"] == url]
            assert len(refs) == 1 and refs[0]["record_type"] == "resource"
            headers, content = record_at(archive, refs[0]["warc"], refs[0]["offset"], refs[0]["length"])
            assert headers.get_header("WARC-Type") == "resource"
            assert headers.get_header("WARC-Target-URI") == url
            assert headers.get_header("Content-Type") == "text/html; charset=utf-8"
            page = content.decode("utf-8")
            assert t.text.split()[0] in page
            tags = Tags(page)
            if t is SEED:
                assert SEED.photo_url("EGxSeedPhoto1") in tags.attrs("img", "src")
                assert SEED.avatar_orig in tags.attrs("img", "src")
                assert ARTICLE in tags.attrs("a", "href")
            if t is quoter:
                assert "the quoted words" in page.split('<blockquote class="quoted">', 1)[1]
                assert tags.attrs("video", "poster") == [video.poster]
            if t is quoted:  # captured because it is quoted; no article cites it directly
                assert ARTICLE not in tags.attrs("a", "href")
