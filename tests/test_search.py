"""Full-text search (`Index.search`, `archiver search`) and `archiver show`, on real index files.

The archive is built the way a capture builds it, through `Index.record_article`, from articles
about the October 2019 events in north-east Syria: posts in English, French, German, Arabic and
Russian, by several authors, with every status.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.cli import cli
from archiver.index import EXPORT_FIELDS, MIGRATIONS, SCHEMA_VERSION, Index
from archiver.models import Article, ArticleResult, Embed, Media, Post, RecordRef
from archiver.search import fts_candidates, parse_post_ref, plain_query

T1 = "2019-10-14T08:00:00Z"
T2 = "2019-10-21T08:00:00Z"
WARC1 = "archiver-20191014080000000-00000-host.warc.gz"
WARC2 = "archiver-20191021080000000-00000-host.warc.gz"
ARTICLE_ESCAPE = "https://news.example/2019/10/14/isis-prisoners-escape"
ARTICLE_OFFENSIVE = "https://www.example.org/world/middle-east/turkish-offensive-live"
ARTICLE_REACTIONS = "https://presse.example.fr/international/syrie-reactions"
SHA_PHOTO = "4f9a0c1d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"

_offset = 0


def ref(url: str, warc: str = WARC1, *, length: int = 1500, record_type: str = "response",
        status: int | None = 200, content_type: str = "application/json", digest: str | None = None) -> RecordRef:
    """A record at the next free offset of `warc`, as the writer would hand it over."""
    global _offset
    _offset += length
    return RecordRef(url=url, warc=warc, offset=_offset - length, length=length, record_type=record_type,
                     record_id=f"<urn:uuid:{uuid.uuid4()}>", date=T1, payload_digest=digest or "sha1:" + "A" * 32,
                     http_status=status, content_type=content_type)


def tweet(post_id: str, handle: str | None, name: str | None, text: str | None, created_at: str | None,
          status: str = "available", reason: str | None = None, warc: str = WARC1, **extra) -> Post:
    url = f"https://twitter.com/{handle or 'i/web'}/status/{post_id}"
    records = [ref(f"https://cdn.syndication.twimg.com/tweet-result?id={post_id}&token=4", warc,
                   status=200 if status == "available" else 404)]
    return Post(platform="twitter", id=post_id, url=url, status=status, status_reason=reason,
                author_handle=handle, author_name=name, text=text, created_at=created_at, records=records,
                data={"id_str": post_id, "text": text} if text else None, **extra)


# Ids, so tests read as names.
ESCAPE, COCHAIR, TALABYAD, AFP, ARABIC, RUSSIAN, GERMAN, QUOTES, PROTECTED, SUSPENDED, MIDNIGHT = (
    "1183796528367763456", "1183811111111111111", "1183822222222222222", "1183833333333333333",
    "1183844444444444444", "1183855555555555555", "1183866666666666666", "1183877777777777777",
    "1183888888888888888", "1183899999999999999", "1183900000000000000",
)


def corpus() -> list[Post]:
    photo_url = "https://pbs.twimg.com/media/EG0abcdXkAAb1cD.jpg?name=orig"
    posts = [
        tweet(ESCAPE, "RojavaIC", "Rojava Information Center",
              "BREAKING: 859 people, including ISIS-affiliated foreigners, escaped Ain Issa camp after "
              "Turkish shelling hit the annex. #Rojava", "2019-10-13T18:02:11.000Z",
              media=[Media(photo_url, "photo", SHA_PHOTO, 245_118, True)],
              related=[("quotes", "twitter", TALABYAD)]),
        tweet(COCHAIR, "RojavaIC", "Rojava Information Center",
              "Our co-chair: the SDF cannot guard the prisons and fight on the front at the same time.",
              "2019-10-14T09:15:00.000Z"),
        tweet(TALABYAD, "Kurdistan24", "Kurdistan 24",
              "Turkish-backed groups enter Tal Abyad; civilians flee toward Hasakah. Via @RojavaIC",
              "2019-10-13T11:40:00.000Z", status="deleted", reason="tombstone: This Post was deleted by the Post author."),
        tweet(AFP, "afpfr", "AFP News Agency (Français)",
              "Syrie : près de 800 proches de jihadistes se sont échappés du camp d'Aïn Issa, selon l'administration kurde",
              "2019-10-13T19:30:00.000Z"),
        tweet(ARABIC, "SyriaNewsAr", "شبكة أخبار سوريا",
              "هروب مئات من عائلات داعش من مخيم عين عيسى بعد القصف التركي", "2019-10-13T20:05:00.000Z"),
        tweet(RUSSIAN, "rian_ru", "РИА Новости",
              "Курды заявили о побеге сотен родственников боевиков ИГ из лагеря Айн-Исса", "2019-10-13T21:00:00.000Z"),
        tweet(GERMAN, "tagesschau", "tagesschau",
              "Tausende Menschen fliehen aus Nordsyrien – die Lage in Raʾs al-ʿAin ist unübersichtlich.",
              "2019-10-14T06:00:00.000Z"),
        tweet(QUOTES, "StateDeptSpox", "Department Spokesperson",
              'He said: "We will not abandon them" — U.S. officials (@StateDept) confirm 50% of the '
              "troops left; C++ & co. #Syria", "2019-10-14T12:00:00.000Z"),
        tweet(PROTECTED, None, None, None, None, status="protected", reason="oEmbed 403"),
        tweet(SUSPENDED, "hawarnews_en", "Hawar News Agency English",
              "Sleeper cells attacked Qamishli market; three civilians killed.", "2019-10-11T10:10:00.000Z",
              status="suspended", reason="tombstone: This account has been suspended."),
        tweet(MIDNIGHT, "kurdishblogger", "Kurdish Blogger",
              "Midnight: convoy of US troops leaves Qamishli base", "2019-10-14T00:00:00.000Z"),
    ]
    # Background: several more authors, so counts and filters mean something.
    places = ["Qamishli", "Kobani", "Manbij", "Hasakah", "Raqqa", "Tal Tamr", "Ras al-Ain", "Derik"]
    for n in range(24):
        place = places[n % len(places)]
        posts.append(tweet(
            str(1184000000000000000 + n), f"reporter_{n % 6}", f"Field Reporter {n % 6}",
            f"Update {n}: situation in {place} remains tense, residents report artillery fire overnight.",
            f"2019-10-{10 + n % 12:02d}T{n % 24:02d}:30:00.000Z",
            status=["available", "available", "deleted", "unavailable"][n % 4],
        ))
    return posts


def results() -> list[ArticleResult]:
    posts = corpus()
    by_id = {p.id: p for p in posts}

    def article(url: str, title: str, ids: list[str], warc: str = WARC1) -> ArticleResult:
        page = Article(url=url, final_url=url, http_status=200, title=title, fetched_at=T1,
                       records=[ref(url, warc, length=48_000, content_type="text/html; charset=utf-8")])
        embeds = [Embed("twitter", i, by_id[i].url, ["blockquote", "script"], f"context for {i}", by_id[i].author_handle)
                  for i in ids]
        return ArticleResult(article=page, embeds=embeds, posts=[by_id[i] for i in ids])

    background = [p.id for p in posts[11:]]
    return [
        article(ARTICLE_ESCAPE, "ISIS families escape camp", [ESCAPE, COCHAIR, TALABYAD, ARABIC, RUSSIAN, PROTECTED]),
        article(ARTICLE_OFFENSIVE, "Turkish offensive: live", [ESCAPE, GERMAN, QUOTES, SUSPENDED, MIDNIGHT] + background),
        article(ARTICLE_REACTIONS, "Syrie : les réactions", [AFP, ESCAPE]),
    ]


def build(path: Path) -> Index:
    idx = Index(path)
    for r in results():
        idx.record_article(r, now=T1)
    return idx


@pytest.fixture
def index(tmp_path: Path):
    with build(tmp_path / "index.sqlite3") as idx:
        yield idx


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory):
    """One read-only archive for the query tests (and the property test)."""
    with build(tmp_path_factory.mktemp("search") / "index.sqlite3") as idx:
        yield idx


def ids(hits: list[dict]) -> set[str]:
    return {h["id"] for h in hits}


def fts_consistent(idx: Index) -> None:
    """FTS5's own check that the external-content index matches `posts` row for row."""
    idx.conn.execute("INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)")


# -- schema --------------------------------------------------------------------------------------

def test_fts_table_triggers_and_indexes(index: Index):
    assert MIGRATIONS[1][0] == "full-text search over posts"
    assert index.schema_version == SCHEMA_VERSION
    names = {r[0] for r in index.conn.execute("SELECT name FROM sqlite_master")}
    assert {"posts_fts", "posts_fts_insert", "posts_fts_update", "posts_fts_delete",
            "posts_author_handle", "posts_created_at"} <= names
    sql = index.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'posts_fts'").fetchone()[0]
    assert "content = 'posts'" in sql and "remove_diacritics 2" in sql
    assert index.conn.execute("SELECT count(*) FROM posts_fts").fetchone()[0] == 35  # content rows
    fts_consistent(index)


def test_migration_from_version_1_backfills(tmp_path: Path):
    """An archive written before search existed: schema 1 only, posts inserted as v1 code did."""
    path = tmp_path / "index.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for statement in MIGRATIONS[0][1]:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (1, ?, ?)", (MIGRATIONS[0][0], T1))
    conn.execute("PRAGMA user_version = 1")
    conn.executemany(
        "INSERT INTO posts (platform, post_id, url, author_handle, author_name, text, created_at, status,"
        " first_captured, last_checked, changed_at) VALUES ('twitter', ?, ?, ?, ?, ?, ?, 'available', ?, ?, ?)",
        [(p.id, p.url, p.author_handle, p.author_name, p.text, p.created_at, T1, T1, T1)
         for p in corpus() if p.text],
    )
    conn.commit()
    conn.close()

    with Index(path) as idx:
        assert idx.schema_version == SCHEMA_VERSION
        assert ids(idx.search("escaped")) == {ESCAPE}
        assert ids(idx.search("مخيم")) == {ARABIC}
        assert ids(idx.search("Information Center")) == {ESCAPE, COCHAIR}
        fts_consistent(idx)
        # And from now on the triggers keep it current.
        idx.record_article(results()[0], now=T2)
        assert ids(idx.search("escaped")) == {ESCAPE}
        fts_consistent(idx)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations")] == list(range(1, SCHEMA_VERSION + 1))
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


# -- finding posts ---------------------------------------------------------------------------------

def test_word_phrase_and_snippet(shared: Index):
    hits = shared.search("escaped")
    assert ids(hits) == {ESCAPE}
    hit = hits[0]
    assert tuple(k for k in hit if k != "snippet") == EXPORT_FIELDS
    assert "[escaped]" in hit["snippet"]
    assert hit["articles"] == [ARTICLE_ESCAPE, ARTICLE_OFFENSIVE, ARTICLE_REACTIONS]
    assert hit["media"][0]["sha256"] == SHA_PHOTO

    assert ids(shared.search('"859 people"')) == {ESCAPE}
    assert ids(shared.search('"people 859"')) == set()  # a phrase keeps its order
    assert ids(shared.search("people 859")) == {ESCAPE}  # bare words: all of them, any order
    assert ids(shared.search("ESCAPED camp")) == {ESCAPE}  # case-insensitive
    assert ids(shared.search("escaped Qamishli")) == set()
    assert ids(shared.search("esca*")) == {ESCAPE}
    assert shared.search("escaped", highlight=("<b>", "</b>"))[0]["snippet"].count("<b>escaped</b>") == 1


def test_author_handle_and_name(shared: Index):
    # The handle column and the @mention in Kurdistan24's text both count.
    assert ids(shared.search("RojavaIC")) == {ESCAPE, COCHAIR, TALABYAD}
    assert ids(shared.search("@RojavaIC")) == {ESCAPE, COCHAIR, TALABYAD}
    assert ids(shared.search("rojavaic")) == {ESCAPE, COCHAIR, TALABYAD}
    # ...and the author's own posts rank above a mention.
    assert shared.search("RojavaIC")[-1]["id"] == TALABYAD
    assert ids(shared.search("Information Center")) == {ESCAPE, COCHAIR}
    assert ids(shared.search('"Kurdistan 24"')) == {TALABYAD}
    assert ids(shared.search("rian_ru")) == {RUSSIAN}  # underscores split like punctuation, both sides
    assert ids(shared.search("Новости")) == {RUSSIAN}  # a Cyrillic author name
    assert len(shared.search("reporter_3")) == 4


def test_other_languages_and_accents(shared: Index):
    ras_al_ain = {str(1184000000000000000 + n) for n in (6, 14, 22)}
    assert ids(shared.search("Aïn")) == {AFP, ESCAPE} | ras_al_ain  # Ain Issa in English too: accents fold
    assert ids(shared.search('"Aïn Issa"')) == {AFP, ESCAPE}
    assert ids(shared.search("echappes")) == {AFP}
    assert ids(shared.search("ÉCHAPPÉS")) == {AFP}
    assert ids(shared.search("Syrie")) == {AFP}
    assert ids(shared.search("unubersichtlich")) == {GERMAN}
    assert ids(shared.search("Raʾs")) == {GERMAN}  # ʾ and ʿ are modifier letters: part of the word
    assert ids(shared.search("ʿAin")) == {GERMAN}
    assert ids(shared.search("مخيم")) == {ARABIC}
    assert ids(shared.search("عين عيسى")) == {ARABIC}
    assert ids(shared.search("داعش")) == {ARABIC}
    assert ids(shared.search("лагеря")) == {RUSSIAN}
    assert ids(shared.search("КУРДЫ")) == {RUSSIAN}
    assert ids(shared.search("Айн-Исса")) == {RUSSIAN}


def test_filters(shared: Index):
    assert ids(shared.search("Turkish", status="deleted")) == {TALABYAD}
    assert ids(shared.search("Turkish", status="available")) == {ESCAPE}
    assert ids(shared.search("camp", author="@ROJAVAIC")) == {ESCAPE}
    assert ids(shared.search("camp", author="afpfr")) == {AFP}
    assert ids(shared.search("camp", author="nobody")) == set()
    assert ids(shared.search("camp", platform="X")) == {ESCAPE, AFP}
    assert ids(shared.search("camp", platform="mastodon")) == set()
    assert ids(shared.search("killed", status="suspended")) == {SUSPENDED}
    # since: a date is its first second (UTC); the post at exactly midnight is in.
    assert ids(shared.search("Qamishli", since="2019-10-14")) >= {MIDNIGHT}
    assert SUSPENDED not in ids(shared.search("Qamishli", since="2019-10-14"))
    assert ids(shared.search("Qamishli", since="2019-10-14T00:00:01Z")) & {MIDNIGHT} == set()
    assert ids(shared.search("Qamishli", since="2019-10-14T02:00:00+02:00")) >= {MIDNIGHT}  # same instant
    assert ids(shared.search("camp", since="2019-10-13T19:00:00Z")) == {AFP}
    with pytest.raises(ValueError):
        shared.search("camp", since="last tuesday")


def test_filters_without_text_list_newest_first(shared: Index):
    hits = shared.search("", author="RojavaIC")
    assert [h["id"] for h in hits] == [COCHAIR, ESCAPE]
    assert hits[0]["snippet"] is None
    assert [h["id"] for h in shared.search("  ", status="protected")] == [PROTECTED]
    assert len(shared.search("", limit=None)) == 35
    assert len(shared.search("", limit=5)) == 5


def test_limit_and_order(shared: Index):
    assert len(shared.search("residents", limit=None)) == 24
    assert len(shared.search("residents")) == 24
    assert len(shared.search("residents", limit=3)) == 3
    assert shared.search("residents", limit=0) == []
    assert shared.search("residents", limit=5) == shared.search("residents", limit=5)  # stable


def test_many_hits(index: Index):
    """Past 200 hits the snippets come from one pass over the matches, not a lookup each."""
    filler = [tweet(str(1185000000000000000 + n), f"stringer_{n % 7}", "Stringer",
                    f"Shelling report {n}: artillery heard near the M4 highway, {'more ' * (n % 5)}to follow.",
                    f"2019-10-{10 + n % 12:02d}T06:00:00.000Z", warc=WARC2) for n in range(260)]
    index.record_article(ArticleResult(article=Article(url=ARTICLE_OFFENSIVE + "?page=2", http_status=200),
                                       posts=filler), now=T2)
    everything = index.search("artillery", limit=None)
    assert len(everything) == 260 + 24
    assert all("[artillery]" in h["snippet"] for h in everything)
    assert [h["id"] for h in index.search("artillery", limit=201)] == [h["id"] for h in everything[:201]]
    assert [h["id"] for h in index.search("artillery", limit=10)] == [h["id"] for h in everything[:10]]
    assert len(index.search("artillery", author="stringer_3", limit=None)) == 37


def test_fts_syntax_when_used(shared: Index):
    assert ids(shared.search("escaped OR fliehen")) == {ESCAPE, GERMAN}
    assert ids(shared.search("Turkish NOT shelling")) == {TALABYAD}
    assert ids(shared.search("Turkish AND shelling")) == {ESCAPE}
    assert ids(shared.search("author_name: Kurdistan")) == {TALABYAD}  # not the Kurdish Blogger's text
    assert ids(shared.search("author_handle: RojavaIC")) == {ESCAPE, COCHAIR}  # not the mention
    assert ids(shared.search("NEAR(ISIS camp, 5)")) == {ESCAPE}
    assert ids(shared.search("(escaped OR fliehen) AND camp")) == {ESCAPE}
    assert ids(shared.search("^Midnight")) == {MIDNIGHT}


def test_fts_syntax_error_falls_back_to_words(shared: Index, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO, logger="archiver"):
        # Looks like an FTS5 initial-token query, but FTS5 rejects `co-chair`; the words are
        # searched instead.
        hits = shared.search("^co-chair")
    assert ids(hits) == {COCHAIR}
    assert "not a valid FTS5 query" in caplog.text
    # A column filter FTS5 rejects: the filter is dropped, its words kept.
    assert ids(shared.search("text: co-chair")) == {COCHAIR}
    assert ids(shared.search("NEAR(co-chair SDF)")) == {COCHAIR}


PUNCTUATION = [
    "859 people", "co-chair", "@RojavaIC", '"unbalanced quote', 'He said: "We will not abandon them"',
    '"', '""', '"""', "'single'", "U.S.", "50%", "(@StateDept)", "C++ & co.", "#Syria", "#", "-", "--", "*",
    "^", ":", "text:", "{text}:", "NOT", "OR", "AND", "escaped OR", "NOT escaped", "OR OR escaped",
    "NEAR(", "NEAR(ISIS", "( escaped", "escaped )", "a + + b", "x:y", "Ras al-Ain", "Raʾs al-ʿAin",
    "‘curly’ “quotes”", "«guillemets»", "🙂🔥", "\\", "%_", "'; DROP TABLE posts; --", "\x00", "0\x00", "ـ",
    "a" * 2000, "escaped " * 200, "北京*", "   ", "\t\n",
]


@pytest.mark.parametrize("text", PUNCTUATION)
def test_punctuation_does_not_crash(shared: Index, text: str):
    shared.search(text)
    shared.search(text, status="available", since="2019-01-01")


def test_punctuation_is_literal(shared: Index):
    assert ids(shared.search("co-chair")) == {COCHAIR}
    assert ids(shared.search("U.S.")) == {QUOTES}
    assert ids(shared.search("50%")) == {QUOTES}
    assert ids(shared.search("(@StateDept)")) == {QUOTES}
    assert ids(shared.search('He said: "We will not abandon them"')) == {QUOTES}
    assert ids(shared.search('"unbalanced quote')) == set()
    assert ids(shared.search("C++ & co.")) == {QUOTES}
    assert ids(shared.search("#Syria")) == {QUOTES}
    assert ids(shared.search("Ras al-Ain")) == {str(1184000000000000000 + n) for n in (6, 14, 22)}
    assert shared.search("!!! ???") == []  # nothing searchable, nothing found
    assert ids(shared.search("Portland OR")) == set()  # a trailing OR is a word


_FRAGMENTS = st.sampled_from(['"', "*", "(", ")", ":", "^", "+", "-", ",", "{", "}", "AND", "OR", "NOT", "NEAR",
                              "NEAR(", "text:", "author_name:", "{text author_name}:", "escaped", "camp", "مخيم",
                              "é", "'", "\\", "%", " ", "@", "#", "0"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=40), st.lists(_FRAGMENTS, max_size=12).map(" ".join),
                 st.lists(_FRAGMENTS, max_size=12).map("".join)))
def test_any_text_is_a_valid_search(shared: Index, text: str):
    shared.search(text)


def test_query_translation():
    assert plain_query("co-chair") == '"co-chair"'
    assert plain_query('say "hi there" x*') == '"say" "hi there" "x"*'
    assert plain_query("a OR b NOT c AND d") == '"a" OR "b" NOT "c" AND "d"'
    assert plain_query("OR a OR OR b OR") == '"OR" "a" "OR" OR "b" "OR"'
    assert plain_query('he said "hi') == '"he" "said" "hi"'
    assert plain_query('!!! "..." --') is None
    assert plain_query("") is None
    assert fts_candidates("escaped camp") == ['"escaped" "camp"']
    assert fts_candidates("NEAR(a b)") == ["NEAR(a b)", '"a" "b)"']
    assert fts_candidates("???") == []
    assert fts_candidates("^:") == []  # FTS5-looking, but no term in it
    assert fts_candidates("text: co-chair") == ["text: co-chair", '"co-chair"']
    assert fts_candidates("context: war") == ['"context:" "war"']  # not a column of the index


# -- keeping the index current -------------------------------------------------------------------------

def test_changed_text_is_found_by_new_text_only(index: Index):
    first = results()[0]
    edited = next(p for p in first.posts if p.id == COCHAIR)
    edited.text = "Correction: the co-chair said the SDF will keep guarding the detention centres."
    edited.author_name = "RIC Rojava"
    index.record_article(first, now=T2)
    assert ids(index.search("prisons")) == set()
    assert ids(index.search("detention centres")) == {COCHAIR}
    assert ids(index.search('"RIC Rojava"')) == {COCHAIR}
    assert ids(index.search("Information Center")) == {ESCAPE}
    fts_consistent(index)


def test_recheck_without_text_keeps_it_searchable(index: Index):
    gone = Post(platform="twitter", id=ESCAPE, url="https://twitter.com/RojavaIC/status/" + ESCAPE,
                status="deleted", status_reason="tombstone: deleted")
    index.record_article(ArticleResult(article=Article(url=ARTICLE_ESCAPE, http_status=200), posts=[gone]), now=T2)
    hits = index.search("escaped")
    assert [(h["id"], h["status"]) for h in hits] == [(ESCAPE, "deleted")]
    assert ids(index.search("escaped", status="available")) == set()
    fts_consistent(index)


def test_deleted_rows_leave_the_index(index: Index):
    index.conn.execute("DELETE FROM posts WHERE post_id = ?", (ARABIC,))
    assert index.search("مخيم") == []
    fts_consistent(index)


# -- show ----------------------------------------------------------------------------------------------

def test_parse_post_ref():
    assert parse_post_ref("twitter:1183796528367763456") == ("twitter", "1183796528367763456")
    assert parse_post_ref(" X:20 ") == ("x", "20")
    assert parse_post_ref("https://x.com/RojavaIC/status/1183796528367763456?s=20") == ("twitter", "1183796528367763456")
    for bad in ["twitter", "twitter:", ":123", "1183796528367763456", "twitter:12 34", "tw itter:1",
                "https://example.com/foo", "twitter:a/b", ""]:
        with pytest.raises(ValueError):
            parse_post_ref(bad)


# -- command line ------------------------------------------------------------------------------------

@pytest.fixture
def archive(tmp_path: Path) -> Path:
    build(tmp_path / "index.sqlite3").close()
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_search_lines(archive: Path):
    result = run("search", "escaped camp", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    fields = lines[0].split("\t")
    assert fields[:5] == ["twitter", ESCAPE, "@RojavaIC", "available", "2019-10-13T18:02:11.000Z"]
    assert "[escaped]" in fields[5] and "[camp]" in fields[5]
    assert "1 post(s)" in result.stderr

    result = run("search", "@RojavaIC", "--status", "deleted", "--archive", str(archive))
    assert [line.split("\t")[:2] for line in result.stdout.splitlines()] == [["twitter", TALABYAD]]
    result = run("search", "", "--author", "rojavaic", "--archive", str(archive))
    assert [line.split("\t")[1] for line in result.stdout.splitlines()] == [COCHAIR, ESCAPE]
    assert "Our co-chair" in result.stdout  # the start of the text stands in for a snippet


def test_cli_search_json_and_limit(archive: Path):
    result = run("search", "residents", "--json", "--limit", "2", "--since", "2019-10-01", "--archive", str(archive))
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    assert all(tuple(r) == EXPORT_FIELDS for r in rows)
    assert "the first 2; --limit 0 for all" in result.stderr
    assert len(run("search", "residents", "--limit", "0", "--archive", str(archive)).stdout.splitlines()) == 24

    result = run("search", "مخيم", "--json", "--archive", str(archive))
    row = json.loads(result.stdout)
    assert row["text"].startswith("هروب") and row["author_name"] == "شبكة أخبار سوريا"
    assert row["articles"] == [ARTICLE_ESCAPE]
    assert "مخيم" in result.stdout  # UTF-8 as is, not \\u escapes

    for text in PUNCTUATION[:30]:
        assert run("search", "--archive", str(archive), "--", text).exit_code == 0, text


def test_cli_search_usage_errors(archive: Path, tmp_path: Path):
    assert run("search", "camp", "--since", "yesterday", "--archive", str(archive)).exit_code == 2
    assert run("search", "camp", "--status", "gone", "--archive", str(archive)).exit_code == 2
    assert run("search", "camp", "--limit", "-1", "--archive", str(archive)).exit_code == 2
    assert run("search", "--archive", str(archive)).exit_code == 2  # TEXT is required ('' lists all)
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    result = run("search", "camp", "--archive", str(empty))
    assert result.exit_code == 2 and "no archive index" in result.stderr
    assert not (empty / "index.sqlite3").exists()  # reading never creates an archive


def test_cli_show_text(archive: Path):
    result = run("show", f"twitter:{ESCAPE}", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Rojava Information Center (@RojavaIC)" in out
    assert "859 people" in out
    assert "status history (1):" in out and f"{T1}  available" in out
    for url in (ARTICLE_ESCAPE, ARTICLE_OFFENSIVE, ARTICLE_REACTIONS):
        assert url in out
    assert f"sha256:{SHA_PHOTO}" in out
    with Index(archive / "index.sqlite3") as idx:
        post = idx.post("twitter", ESCAPE)
    for record in post["records"]:
        assert f"{record['warc']}  offset {record['offset']}  length {record['length']}" in out
    assert f"quotes  twitter:{TALABYAD}" in out

    deleted = run("show", f"x:{TALABYAD}", "--archive", str(archive)).stdout
    assert "deleted (tombstone: This Post was deleted by the Post author.)" in deleted
    url_form = run("show", f"https://twitter.com/RojavaIC/status/{ESCAPE}", "--archive", str(archive))
    assert url_form.exit_code == 0 and url_form.stdout == out


def test_cli_show_json(archive: Path):
    result = run("show", f"twitter:{PROTECTED}", "--json", "--archive", str(archive))
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    with Index(archive / "index.sqlite3") as idx:
        assert shown == idx.post("twitter", PROTECTED)
    assert shown["status"] == "protected" and shown["text"] is None
    assert [a["url"] for a in shown["articles"]] == [ARTICLE_ESCAPE]
    assert shown["records"][0]["warc"] == WARC1 and isinstance(shown["records"][0]["offset"], int)
    assert run("show", f"twitter:{PROTECTED}", "--archive", str(archive)).exit_code == 0  # no text, no author


def test_cli_show_errors(archive: Path):
    result = run("show", "twitter:999", "--archive", str(archive))
    assert result.exit_code == 1 and "no post twitter:999" in result.stderr
    assert result.stdout == ""
    for bad in ("twitter", "1183796528367763456", "twitter:", "https://example.com/a/b"):
        result = run("show", bad, "--archive", str(archive))
        assert result.exit_code == 2, bad
        assert "PLATFORM:ID" in result.stderr
