"""The SQLite index and the JSONL/CSV export, against real database files."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from archiver.errors import StorageError
from archiver.export import EXPORT_FIELDS, export_csv, export_jsonl
from archiver.index import SCHEMA_VERSION, Index
from archiver.models import Article, ArticleResult, Embed, Media, Post, RecordRef

T1 = "2024-03-01T10:00:00Z"
T2 = "2024-03-08T10:00:00Z"
T3 = "2024-03-15T10:00:00Z"
WARC1 = "archiver-20240301100000000-00000-host.warc.gz"
WARC2 = "archiver-20240308100000000-00000-host.warc.gz"

ARTICLE_A = "https://news.example.com/2024/03/01/storm-coverage"
ARTICLE_B = "https://www.example.org/politics/reactions-to-the-storm"
TWEET_URL = "https://twitter.com/weatherdesk/status/1763178225473523712"
QUOTED_URL = "https://twitter.com/nws/status/1763100000000000001"
PHOTO_URL = "https://pbs.twimg.com/media/GHk1aXbXoAAvY3x.jpg?name=orig"
VIDEO_URL = "https://video.twimg.com/ext_tw_video/1763178/pu/vid/1280x720/abc.mp4"
SHA_PHOTO = "9f2b5c6e0d4a7b1c3e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5"
SHA_VIDEO = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"


def ref(url: str, warc: str = WARC1, offset: int = 0, length: int = 1000, *, record_type: str = "response",
        digest: str | None = "sha1:2EGUBY4JNXQ6IVCCHQHNHDHFDQHQZTQS", status: int | None = 200,
        content_type: str | None = "text/html; charset=utf-8", truncated: str | None = None,
        date: str = "2024-03-01T10:00:01Z") -> RecordRef:
    return RecordRef(url=url, warc=warc, offset=offset, length=length, record_type=record_type,
                     record_id=f"<urn:uuid:{uuid.uuid4()}>", date=date, payload_digest=digest,
                     http_status=status, content_type=content_type, truncated=truncated)


def tweet(**overrides) -> Post:
    values = dict(
        platform="twitter", id="1763178225473523712", url=TWEET_URL, status="available",
        author_handle="weatherdesk", author_name="Weather Desk ☔", text="Storm surge update: 1.8 m at Pier 9 — stay safe",
        created_at="2024-03-01T09:41:12Z",
        media=[Media(PHOTO_URL, "photo", SHA_PHOTO, 183_442, True),
               Media(VIDEO_URL, "video", SHA_VIDEO, 4_801_122, True)],
        records=[ref("https://cdn.syndication.twimg.com/tweet-result?id=1763178225473523712&token=x",
                     offset=5000, length=2100, content_type="application/json"),
                 ref(PHOTO_URL, offset=7100, length=183_900, content_type="image/jpeg", digest="sha1:PHOTO"),
                 ref(VIDEO_URL, offset=191_000, length=4_802_000, content_type="video/mp4", digest="sha1:VIDEO")],
        related=[("quotes", "twitter", "1763100000000000001")],
        data={"id_str": "1763178225473523712", "favorite_count": 12, "text": "Storm surge update"},
    )
    values.update(overrides)
    return Post(**values)


def quoted_tweet(**overrides) -> Post:
    values = dict(
        platform="twitter", id="1763100000000000001", url=QUOTED_URL, status="available",
        author_handle="NWS", author_name="National Weather Service", text="Coastal flood warning in effect",
        created_at="2024-03-01T06:00:00Z",
        records=[ref("https://cdn.syndication.twimg.com/tweet-result?id=1763100000000000001&token=y",
                     offset=4_993_000, length=1800, content_type="application/json", digest="sha1:QUOTED")],
    )
    values.update(overrides)
    return Post(**values)


def result_a(posts: list[Post] | None = None) -> ArticleResult:
    article = Article(url=ARTICLE_A, final_url=ARTICLE_A + "?amp=0", http_status=200, title="Storm coverage",
                      fetched_at=T1, records=[ref("http://news.example.com/2024/03/01/storm-coverage",
                                                  offset=0, length=400, status=301, digest="sha1:EMPTY"),
                                              ref(ARTICLE_A, offset=400, length=4600)])
    return ArticleResult(
        article=article,
        embeds=[Embed("twitter", "1763178225473523712", TWEET_URL, ["blockquote", "script"],
                      "The weather desk warned residents", "weatherdesk")],
        posts=[tweet(), quoted_tweet()] if posts is None else posts,
        profiles=["https://twitter.com/weatherdesk"],
        requisites=[ref("https://news.example.com/static/site.css", offset=4_995_000, length=900,
                        content_type="text/css", digest="sha1:CSS")],
    )


def result_b(posts: list[Post] | None = None, now_warc: str = WARC2) -> ArticleResult:
    article = Article(url=ARTICLE_B, final_url=ARTICLE_B, http_status=200, title="Reactions",
                      fetched_at=T2, records=[ref(ARTICLE_B, now_warc, 0, 3000, date="2024-03-08T10:00:01Z")])
    return ArticleResult(
        article=article,
        embeds=[Embed("X", "1763178225473523712", TWEET_URL.replace("twitter.com", "x.com"), ["iframe"]),
                Embed("twitter", None, "https://t.co/AbCdEf123", ["tco"], "as reported https://t.co/AbCdEf123")],
        posts=[tweet(records=[ref("https://cdn.syndication.twimg.com/tweet-result?id=1763178225473523712",
                                  now_warc, 3000, 2200, content_type="application/json",
                                  date="2024-03-08T10:00:02Z")])] if posts is None else posts,
    )


@pytest.fixture
def index(tmp_path: Path):
    with Index(tmp_path / "index.sqlite3") as idx:
        yield idx


def raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


# -- opening and migrations -------------------------------------------------------------------

def test_migrations_are_recorded_and_idempotent(tmp_path: Path):
    path = tmp_path / "index.sqlite3"
    with Index(path) as idx:
        assert idx.schema_version == SCHEMA_VERSION
        idx.record_warc_file(WARC1, 10, "ab" * 32, closed_at=T1)
    with Index(path) as idx:  # second open: nothing re-applied, data kept
        assert idx.schema_version == SCHEMA_VERSION
        assert len(idx.warc_files()) == 1
        assert idx.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert idx.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert idx.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    conn = raw(path)
    versions = [r["version"] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"posts", "post_status_history", "media", "articles", "citations", "profile_refs", "records",
            "article_records", "post_records", "related_posts", "warc_files", "schema_migrations"} <= tables
    indexes = [r["name"] for r in conn.execute("PRAGMA index_list(records)")]
    assert any("payload_digest" in name for name in indexes)
    conn.close()


def test_open_errors_are_storage_errors(tmp_path: Path):
    with pytest.raises(StorageError, match="does not exist"):
        Index(tmp_path / "missing" / "index.sqlite3")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database, just some text " * 200)
    with pytest.raises(StorageError, match="junk.sqlite3"):
        Index(junk)
    with pytest.raises(StorageError, match="directory"):
        Index(tmp_path)


def test_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "index.sqlite3"
    Index(path).close()
    conn = raw(path)
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', ?)", (SCHEMA_VERSION + 1, T1))
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="newer"):
        Index(path)


# -- record_article ---------------------------------------------------------------------------

def test_round_trip_two_articles_and_a_quoted_post(index: Index):
    index.record_article(result_a(), now=T1)
    index.record_article(result_b(), now=T2)

    p = index.post("twitter", "1763178225473523712")
    assert p["url"] == TWEET_URL
    assert p["author_name"] == "Weather Desk ☔"
    assert p["status"] == "available"
    assert p["first_captured"] == T1 and p["last_checked"] == T2
    assert p["data"]["favorite_count"] == 12
    assert [a["url"] for a in p["articles"]] == [ARTICLE_A, ARTICLE_B]
    assert p["articles"][0]["forms"] == ["blockquote", "script"]
    assert p["articles"][0]["context"] == "The weather desk warned residents"
    assert p["articles"][1]["forms"] == ["iframe"]
    assert [(m["url"], m["sha256"], m["captured"]) for m in p["media"]] == [
        (PHOTO_URL, SHA_PHOTO, True), (VIDEO_URL, SHA_VIDEO, True)]
    assert len(p["records"]) == 4  # three from article A's capture, one from article B's
    assert p["related"] == [{"relation": "quotes", "platform": "twitter", "id": "1763100000000000001",
                             "url": QUOTED_URL, "status": "available"}]
    assert [h["status"] for h in p["status_history"]] == ["available"]  # unchanged status: no new row

    # Same post looked up by its X spelling.
    assert index.post("X", "1763178225473523712")["id"] == "1763178225473523712"

    q = index.post("twitter", "1763100000000000001")
    assert q["articles"] == []  # quoted, not cited
    assert q["related_by"] == [{"relation": "quotes", "platform": "twitter",
                                "id": "1763178225473523712", "url": TWEET_URL}]
    assert index.post("twitter", "999") is None

    # Unresolved t.co embed and profile reference are kept with their article.
    conn = index.conn
    unresolved = conn.execute("SELECT * FROM citations WHERE post_id IS NULL").fetchall()
    assert [(r["platform"], r["url"]) for r in unresolved] == [("twitter", "https://t.co/AbCdEf123")]
    assert json.loads(unresolved[0]["forms"]) == ["tco"]
    assert [r[0] for r in conn.execute("SELECT url FROM profile_refs")] == ["https://twitter.com/weatherdesk"]
    roles = dict(conn.execute(
        "SELECT r.url, ar.role FROM article_records ar JOIN records r ON r.pk = ar.record_pk"
        " JOIN articles a ON a.pk = ar.article_pk WHERE a.url = ?", (ARTICLE_A,)).fetchall())
    assert roles == {"http://news.example.com/2024/03/01/storm-coverage": "page", ARTICLE_A: "page",
                     "https://news.example.com/static/site.css": "requisite"}

    s = index.stats()
    assert s["articles"] == 2 and s["posts"] == 2
    assert s["posts_by_status"]["available"] == 2 and s["posts_by_status"]["deleted"] == 0
    assert s["media"] == 2 and s["media_captured"] == 2
    assert s["records"] == 9


def test_available_then_deleted_keeps_what_was_known(index: Index):
    index.record_article(result_a(), now=T1)
    gone = Post(platform="twitter", id="1763178225473523712", url=TWEET_URL, status="deleted",
                status_reason="tombstone: This Post was deleted by the Post author.",
                records=[ref("https://cdn.syndication.twimg.com/tweet-result?id=1763178225473523712",
                             WARC2, 0, 800, status=404, content_type="application/json",
                             date="2024-03-15T10:00:01Z")])
    index.record_article(result_a(posts=[gone]), now=T3)

    p = index.post("twitter", "1763178225473523712")
    assert p["status"] == "deleted"
    assert p["status_reason"].startswith("tombstone")
    assert p["first_captured"] == T1
    assert p["last_checked"] == T3
    assert p["author_handle"] == "weatherdesk" and p["text"].startswith("Storm surge")
    assert p["data"]["favorite_count"] == 12
    assert [(h["status"], h["checked_at"]) for h in p["status_history"]] == [("available", T1), ("deleted", T3)]
    assert p["status_history"][1]["reason"].startswith("tombstone")
    assert len(p["media"]) == 2  # an empty media list says nothing new
    assert len(p["records"]) == 4
    assert index.stats()["posts_by_status"]["deleted"] == 1


def test_media_replaced_but_captured_sha256_kept(index: Index):
    index.record_article(result_a(), now=T1)
    recheck = tweet(media=[Media(PHOTO_URL, "photo", None, None, False, "timeout after 20s"),
                           Media(VIDEO_URL.replace("1280x720", "640x360"), "video", None, None, False, "HTTP 403")],
                    records=[])
    index.record_article(result_a(posts=[recheck]), now=T2)
    media = index.post("twitter", "1763178225473523712")["media"]
    assert media == [
        {"url": PHOTO_URL, "kind": "photo", "sha256": SHA_PHOTO, "size": 183_442, "captured": True,
         "error": "timeout after 20s"},
        {"url": VIDEO_URL.replace("1280x720", "640x360"), "kind": "video", "sha256": None, "size": None,
         "captured": False, "error": "HTTP 403"},
    ]


def test_failure_mid_transaction_writes_nothing(tmp_path: Path):
    path = tmp_path / "index.sqlite3"
    with Index(path) as idx:
        broken = quoted_tweet(id=None)  # violates posts.post_id NOT NULL after the article row is written
        with pytest.raises(sqlite3.IntegrityError):
            idx.record_article(result_a(posts=[tweet(), broken]), now=T1)
        assert idx.stats()["articles"] == 0
        assert not idx.conn.in_transaction
        # The connection is still usable afterwards.
        idx.record_article(result_a(), now=T1)
        assert idx.stats()["articles"] == 1
    conn = raw(path)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 2
    conn.close()


def test_failure_on_first_write_leaves_empty_index(tmp_path: Path):
    path = tmp_path / "index.sqlite3"
    with Index(path) as idx:
        with pytest.raises(sqlite3.IntegrityError):
            idx.record_article(result_a(posts=[quoted_tweet(id=None)]), now=T1)
    conn = raw(path)
    for table in ("articles", "records", "article_records", "posts", "citations", "profile_refs"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    conn.close()


# -- records and revisits ---------------------------------------------------------------------

def test_lookup_payload_ignores_truncated_and_non_200(index: Index):
    digest = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"
    truncated = ref(PHOTO_URL, offset=0, digest=digest, truncated="length", date="2024-03-01T00:00:00Z")
    not_found = ref(PHOTO_URL, offset=100, digest=digest, status=404, date="2024-03-01T00:00:01Z")
    request = ref(PHOTO_URL, offset=200, digest=digest, record_type="request", status=None,
                  date="2024-03-01T00:00:02Z")
    good = ref(PHOTO_URL, WARC1, offset=300, length=5555, digest=digest, date="2024-03-01T00:00:03Z")
    later = ref(PHOTO_URL, WARC2, offset=900, digest=digest, date="2024-03-08T00:00:00Z")
    article = Article(url=ARTICLE_A, records=[later, truncated, not_found, request, good])
    index.record_article(ArticleResult(article=article), now=T1)

    found = index.lookup_payload(digest)
    assert found == good
    assert (found.warc, found.offset, found.length) == (WARC1, 300, 5555)
    assert index.lookup_payload("sha1:NOPE") is None
    only_bad = ref(VIDEO_URL, digest="sha1:BAD", truncated="time")
    index.record_article(ArticleResult(article=Article(url=ARTICLE_B, records=[only_bad])), now=T1)
    assert index.lookup_payload("sha1:BAD") is None


def test_records_for_url_point_to_given_offsets(index: Index):
    index.record_article(result_a(), now=T1)
    index.record_article(result_a(), now=T2)  # same article again: new records appended
    refs = index.records_for_url(PHOTO_URL)
    assert [(r.warc, r.offset, r.length, r.content_type) for r in refs] == [
        (WARC1, 7100, 183_900, "image/jpeg"), (WARC1, 7100, 183_900, "image/jpeg")]
    assert len({r.record_id for r in refs}) == 2
    assert index.records_for_url("https://nothing.example/") == []


def test_same_record_is_linked_once(index: Index):
    result = result_a()
    index.record_article(result, now=T1)
    index.record_article(result, now=T2)  # identical record ids: no duplicates
    assert index.stats()["records"] == 7
    assert len(index.post("twitter", "1763178225473523712")["records"]) == 3


def test_warc_files_upsert(index: Index):
    index.record_warc_file(WARC1, 1_000_123, "a" * 64, closed_at=T1)
    index.record_warc_file(WARC2, 52, "b" * 64, closed_at="2024-03-08T11:00:00+01:00")
    index.record_warc_file(WARC1, 1_000_124, "c" * 64, closed_at=T2)
    assert index.warc_files() == [
        {"name": WARC1, "size": 1_000_124, "sha256": "c" * 64, "closed_at": T2},
        {"name": WARC2, "size": 52, "sha256": "b" * 64, "closed_at": "2024-03-08T10:00:00Z"},
    ]
    assert index.stats()["warc_files"] == 2
    assert index.stats()["warc_bytes"] == 1_000_176


# -- export -----------------------------------------------------------------------------------

def test_export_jsonl(index: Index):
    index.record_article(result_a(), now=T1)
    index.record_article(result_b(), now=T2)
    out = io.StringIO()
    assert export_jsonl(index, out) == 2
    text = out.getvalue()
    assert "☔" in text  # ensure_ascii=False
    rows = [json.loads(line) for line in text.splitlines()]
    assert [tuple(r) for r in rows] == [EXPORT_FIELDS, EXPORT_FIELDS]
    assert set(EXPORT_FIELDS) == {
        "platform", "id", "url", "status", "status_reason", "author_handle", "author_name", "text",
        "created_at", "articles", "media", "records", "captured_at", "last_checked"}
    first, second = rows
    assert first["id"] == "1763178225473523712" and isinstance(second["id"], str)
    assert first["platform"] == "twitter"
    assert first["created_at"] == "2024-03-01T09:41:12Z"
    assert first["articles"] == [ARTICLE_A, ARTICLE_B]
    assert first["media"] == [
        {"url": PHOTO_URL, "kind": "photo", "sha256": SHA_PHOTO, "captured": True},
        {"url": VIDEO_URL, "kind": "video", "sha256": SHA_VIDEO, "captured": True}]
    assert first["records"][1] == {"url": PHOTO_URL, "warc": WARC1, "offset": 7100, "length": 183_900}
    assert first["records"][-1]["warc"] == WARC2 and first["records"][-1]["offset"] == 3000
    assert first["captured_at"] == T1 and first["last_checked"] == T2
    assert second["id"] == "1763100000000000001" and second["articles"] == []
    assert second["status_reason"] is None


def test_export_csv(index: Index):
    odd_url = "https://pbs.twimg.com/media/a;b|c.jpg"
    post = tweet(media=[Media(odd_url, "photo", None, None, False, "HTTP 404"),
                        Media(PHOTO_URL, "photo", SHA_PHOTO, 10, True)],
                 text='line one\nline "two", with comma')
    index.record_article(result_a(posts=[post, quoted_tweet()]), now=T1)
    out = io.StringIO(newline="")
    assert export_csv(index, out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == 2
    assert tuple(rows[0]) == EXPORT_FIELDS
    first = rows[0]
    assert first["id"] == "1763178225473523712"
    assert first["text"] == 'line one\nline "two", with comma'
    assert first["status_reason"] == ""
    assert first["articles"] == ARTICLE_A
    assert first["media"].split(";") == [
        "https://pbs.twimg.com/media/a%3Bb%7Cc.jpg|photo||0", f"{PHOTO_URL}|photo|{SHA_PHOTO}|1"]
    records = [r.split("|") for r in first["records"].split(";")]
    assert records[1] == [PHOTO_URL, WARC1, "7100", "183900"]
    assert [len(r) for r in records] == [4, 4, 4]
    assert first["captured_at"] == T1 and first["last_checked"] == T1
    assert rows[1]["articles"] == "" and rows[1]["media"] == ""


def test_export_filters(index: Index):
    index.record_article(result_a(), now=T1)
    # Recheck at T2 finds the quoted post unchanged and the main post deleted.
    gone = Post(platform="twitter", id="1763178225473523712", url=TWEET_URL, status="deleted")
    index.record_article(result_a(posts=[gone, quoted_tweet()]), now=T2)
    changed = [r["id"] for r in index.iter_posts(changed_since="2024-03-05")]
    assert changed == ["1763178225473523712"]
    assert [r["id"] for r in index.iter_posts(changed_since=T1)] == ["1763178225473523712", "1763100000000000001"]
    out = io.StringIO()
    assert export_jsonl(index, out, status="deleted") == 1
    assert json.loads(out.getvalue())["author_handle"] == "weatherdesk"
    # A new article citing the unchanged quoted post marks it changed.
    cite_quoted = ArticleResult(article=Article(url=ARTICLE_B, http_status=200),
                                embeds=[Embed("twitter", "1763100000000000001", QUOTED_URL, ["link"])],
                                posts=[quoted_tweet(records=[])])
    index.record_article(cite_quoted, now=T3)
    assert [r["id"] for r in index.iter_posts(changed_since=T3)] == ["1763100000000000001"]
