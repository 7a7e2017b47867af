"""Seeds files, sniffing feeds and sitemaps by content, and what they list (archiver.seeds)."""

from __future__ import annotations

import gzip

import pytest

from archiver.crawl import Scope, since_timestamp
from archiver.errors import UsageError
from archiver.seeds import Entry, is_recent, normalize_url, parse_date, parse_listing, read_seeds, sniff


def test_seeds_file_comments_blanks_duplicates(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text(
        "\ufeff# my seeds\n"
        "\n"
        "https://News.Example:443/feed   # the feed\n"
        "   https://news.example/2024/story#comments\n"
        "https://news.example/feed\n"
        "http://other.example\n",
        encoding="utf-8",
    )
    seeds = read_seeds(path)
    assert [s.url for s in seeds] == [
        "https://news.example/feed",
        "https://news.example/2024/story",  # a fragment is not a comment, and is dropped
        "http://other.example/",
    ]
    assert [s.line for s in seeds] == [3, 4, 6]


def test_seeds_file_names_every_bad_line(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text("https://ok.example/\nftp://files.example/x\nnot a url\nhttps://bad.example:99999/\n")
    with pytest.raises(UsageError) as err:
        read_seeds(path)
    text = str(err.value)
    assert "line 2" in text and "line 3" in text and "line 4" in text and "line 1" not in text
    with pytest.raises(UsageError):
        read_seeds(tmp_path / "missing.txt")


@pytest.mark.parametrize("body, kind", [
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel/></rss>', "rss"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- generator -->\n<feed xmlns="http://www.w3.org/2005/Atom"/>', "atom"),
    (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', "rdf"),
    (b'<?xml version="1.0"?>\n<?xml-stylesheet href="s.xsl"?>\n<urlset xmlns="x"/>', "urlset"),
    (b'  <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></sitemapindex>', "sitemapindex"),
    (gzip.compress(b'<?xml version="1.0"?><urlset/>'), "urlset"),
    (b"<!DOCTYPE html>\n<html><head><title>rss feed</title></head></html>", "html"),
    (b'<?xml version="1.0"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"/>', "html"),
    (b"", "html"),
    (b"plain text mentioning <rss>", "html"),
])
def test_sniff_by_root_element(body, kind):
    assert sniff(body) == kind


def test_rss_items_links_guids_and_dates():
    body = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<item><title>a</title><link>/2024/a</link><pubDate>Tue, 05 Mar 2024 10:00:00 +0100</pubDate></item>
<item><guid>https://news.example/2024/b</guid><dc:date>2024-03-06T08:00:00Z</dc:date></item>
<item><guid isPermaLink="false">not-a-link</guid></item>
<item><link>javascript:alert(1)</link></item>
<item><link>https://news.example/2024/a</link></item>
</channel></rss>"""
    listing = parse_listing(body, "https://news.example/feed")
    assert listing.kind == "rss"
    assert listing.entries == [
        Entry("https://news.example/2024/a", "2024-03-05T09:00:00Z"),
        Entry("https://news.example/2024/b", "2024-03-06T08:00:00Z"),
    ]


def test_atom_alternate_links_relative_to_the_feed():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<entry><link rel="self" href="https://news.example/entry/1.atom"/><link rel="alternate" type="text/html"
  href="/2024/one"/><published>2024-03-01T12:00:00+02:00</published><updated>2024-03-02T00:00:00Z</updated></entry>
<entry><link href="https://news.example/2024/two"/><updated>2024-03-03T00:00:00Z</updated></entry>
</feed>"""
    listing = parse_listing(body, "https://news.example/atom")
    assert listing.kind == "atom"
    assert listing.entries == [
        Entry("https://news.example/2024/one", "2024-03-01T10:00:00Z"),
        Entry("https://news.example/2024/two", "2024-03-03T00:00:00Z"),
    ]


def test_news_sitemap_prefers_publication_date_and_index_lists_sitemaps():
    news = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://news.example/a</loc><lastmod>2024-03-09</lastmod>
<news:news><news:publication_date>2024-03-01T09:00:00+00:00</news:publication_date></news:news></url>
<url><loc>https://news.example/b</loc><lastmod>2024-03</lastmod></url>
<url><loc> https://news.example/c </loc></url>
</urlset>"""
    listing = parse_listing(news, "https://news.example/sitemap-news.xml")
    assert listing.entries == [
        Entry("https://news.example/a", "2024-03-01T09:00:00Z"),
        Entry("https://news.example/b", "2024-03-01T00:00:00Z"),
        Entry("https://news.example/c", None),
    ]
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://news.example/s1.xml</loc><lastmod>2024-03-02</lastmod></sitemap>
<sitemap><loc>https://news.example/s2.xml.gz</loc></sitemap></sitemapindex>"""
    listing = parse_listing(gzip.compress(index), "https://news.example/sitemap_index.xml")
    assert listing.kind == "sitemapindex" and listing.entries == []
    assert [e.url for e in listing.sitemaps] == ["https://news.example/s1.xml", "https://news.example/s2.xml.gz"]


def test_broken_xml_is_read_leniently_and_entities_are_not_expanded():
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY boom "https://evil.example/">]>
<rss><channel><item><link>https://news.example/a?x=1&y=2</link></item>
<item><link>&boom;page</link></item><item><link>https://news.example/b</link></item>"""
    urls = [e.url for e in parse_listing(body, "https://news.example/feed").entries]
    assert "https://news.example/b" in urls
    assert not any("evil.example" in u for u in urls)


def test_dates_and_since():
    assert parse_date("Mon, 14 Oct 2019 10:00:00 GMT") == "2019-10-14T10:00:00Z"
    assert parse_date("2019-10-14T10:00:00.123+02:00") == "2019-10-14T08:00:00Z"
    assert parse_date("2019-10-14 10:00:00") == "2019-10-14T10:00:00Z"
    assert parse_date("2019") == "2019-01-01T00:00:00Z"
    assert parse_date("yesterday") is None and parse_date("2019-13-40") is None
    assert since_timestamp("2024-03-05") == "2024-03-05T00:00:00Z"
    assert since_timestamp("2024-03-05T12:00:00+01:00") == "2024-03-05T11:00:00Z"
    assert since_timestamp("7d", now=86400 * 10) == "1970-01-04T00:00:00Z"
    with pytest.raises(UsageError):
        since_timestamp("last tuesday")
    assert is_recent(Entry("u", "2024-03-06T00:00:00Z"), "2024-03-05T00:00:00Z")
    assert not is_recent(Entry("u", "2024-03-04T00:00:00Z"), "2024-03-05T00:00:00Z")
    assert is_recent(Entry("u", None), "2024-03-05T00:00:00Z")  # undated: kept


def test_url_normalization():
    assert normalize_url("HTTPS://News.Example:443/a?b=1#frag") == "https://news.example/a?b=1"
    assert normalize_url("http://news.example:8080") == "http://news.example:8080/"


def test_scope_same_site_include_exclude():
    scope = Scope()
    page = "https://www.news.example/2024/a"
    assert scope.linked("https://news.example/2024/b", page)  # www. ignored
    assert scope.linked("https://www.news.example/2024/c", page)
    assert not scope.linked("https://blog.news.example/x", page)  # a sub-domain is another site
    assert not scope.linked("https://other.example/x", page)
    assert scope.listed("https://other.example/x")  # feeds may list any host
    scope = Scope(include=[r"^https://(www\.)?news\.example/20\d\d/"], exclude=[r"/video/"])
    assert scope.linked("https://news.example/2024/b", page)
    assert not scope.linked("https://news.example/about", page)
    assert not scope.linked("https://news.example/2024/video/x", page)
    assert not scope.listed("https://news.example/2024/video/x")
    with pytest.raises(UsageError):
        Scope(include=["(unclosed"])
