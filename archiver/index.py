"""The SQLite metadata index: what was archived, where its WARC records are, and how posts changed.

The WARC files are the evidence; this index is the catalogue that makes them searchable
(datasette-friendly plain tables) and lets the writer emit revisit records. All SQL lives in
`Index`; the rest of the archiver passes `archiver.models` values in and gets dicts out.

Schema changes go in `MIGRATIONS` as a new numbered entry, never by editing an applied one:
each applied version is recorded in `schema_migrations` (and mirrored in PRAGMA user_version),
so old archives upgrade in place when opened. The crawl frontier will arrive that way too.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from archiver.errors import StorageError
from archiver.models import (STATUSES, ArticleResult, Embed, FileRows, ImportedFile, Media, Post,
                             RebuildOutcome, RecordRef)

log = logging.getLogger("archiver.index")

# Columns of one export row (issue contract, part 7), in output order.
EXPORT_FIELDS = (
    "platform", "id", "url", "status", "status_reason", "author_handle", "author_name", "text",
    "created_at", "articles", "media", "records", "captured_at", "last_checked",
)

# The full-text tokenizer (migration 2). unicode61 splits on Unicode spaces and punctuation, so
# Latin, Cyrillic, Greek, Arabic, Hebrew... all tokenize into words; remove_diacritics 2 folds
# Latin accents (café = cafe). Marks (M*) are token characters, not separators as by default:
# otherwise Arabic harakat, Hebrew points and Devanagari vowel signs cut words into letters.
# `trigram` was not chosen: a ~3x larger index, no accent folding before SQLite 3.45, nothing
# under 3 characters, and substring hits (war in software) that rank badly; its one gain,
# scripts written without spaces (Chinese, Japanese, Thai), is served by prefix queries (北京*).
FTS_TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"
# remove_diacritics 2 and the categories option need SQLite 3.27.
FTS_MIN_SQLITE = (3, 27, 0)

# (name, statements). Version = position + 1. Append only; never edit an applied entry.
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("initial schema", [
        """CREATE TABLE warc_files (
            name TEXT PRIMARY KEY,            -- file name inside DIR/warcs/
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL,             -- hex, of the closed file
            closed_at TEXT
        )""",
        """CREATE TABLE records (
            pk INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL UNIQUE,   -- <urn:uuid:...>
            url TEXT NOT NULL,
            warc TEXT NOT NULL,
            warc_offset INTEGER NOT NULL,     -- of the gzip member holding the record
            warc_length INTEGER NOT NULL,     -- compressed length of that member
            record_type TEXT NOT NULL,
            warc_date TEXT NOT NULL,
            payload_digest TEXT,
            http_status INTEGER,
            content_type TEXT,
            truncated TEXT                    -- WARC-Truncated value, NULL if complete
        )""",
        "CREATE INDEX records_url ON records(url)",
        "CREATE INDEX records_payload_digest ON records(payload_digest)",
        "CREATE INDEX records_warc ON records(warc, warc_offset)",
        """CREATE TABLE articles (
            pk INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,         -- as asked for
            final_url TEXT,
            title TEXT,
            fetched_at TEXT,
            http_status INTEGER,
            error TEXT,
            first_recorded TEXT NOT NULL,
            last_recorded TEXT NOT NULL
        )""",
        """CREATE TABLE article_records (
            article_pk INTEGER NOT NULL REFERENCES articles(pk) ON DELETE CASCADE,
            record_pk INTEGER NOT NULL REFERENCES records(pk) ON DELETE CASCADE,
            role TEXT NOT NULL,               -- page (incl. redirect hops) or requisite
            PRIMARY KEY (article_pk, record_pk)
        )""",
        "CREATE INDEX article_records_record ON article_records(record_pk)",
        """CREATE TABLE posts (
            pk INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,           -- lowercase, `twitter` for X
            post_id TEXT NOT NULL,
            url TEXT NOT NULL,
            author_handle TEXT,
            author_name TEXT,
            text TEXT,
            created_at TEXT,
            status TEXT NOT NULL,
            status_reason TEXT,
            first_captured TEXT NOT NULL,     -- first time the index recorded the post
            last_checked TEXT NOT NULL,
            changed_at TEXT NOT NULL,         -- last change of status/content/media/citations
            data TEXT,                        -- the platform's JSON, latest non-empty
            UNIQUE (platform, post_id)
        )""",
        "CREATE INDEX posts_first_captured ON posts(first_captured, pk)",
        "CREATE INDEX posts_changed_at ON posts(changed_at)",
        "CREATE INDEX posts_status ON posts(status)",
        """CREATE TABLE post_status_history (
            pk INTEGER PRIMARY KEY,
            post_pk INTEGER NOT NULL REFERENCES posts(pk) ON DELETE CASCADE,
            status TEXT NOT NULL,
            reason TEXT,
            checked_at TEXT NOT NULL
        )""",
        "CREATE INDEX post_status_history_post ON post_status_history(post_pk, pk)",
        """CREATE TABLE media (
            pk INTEGER PRIMARY KEY,
            post_pk INTEGER NOT NULL REFERENCES posts(pk) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            sha256 TEXT,                      -- hex, of the stored payload
            size INTEGER,
            captured INTEGER NOT NULL DEFAULT 0,
            error TEXT,                       -- of the latest attempt
            UNIQUE (post_pk, position)
        )""",
        "CREATE INDEX media_url ON media(url)",
        "CREATE INDEX media_sha256 ON media(sha256)",
        """CREATE TABLE post_records (
            post_pk INTEGER NOT NULL REFERENCES posts(pk) ON DELETE CASCADE,
            record_pk INTEGER NOT NULL REFERENCES records(pk) ON DELETE CASCADE,
            PRIMARY KEY (post_pk, record_pk)
        )""",
        "CREATE INDEX post_records_record ON post_records(record_pk)",
        """CREATE TABLE related_posts (
            post_pk INTEGER NOT NULL REFERENCES posts(pk) ON DELETE CASCADE,
            relation TEXT NOT NULL,           -- quotes, reply_to
            platform TEXT NOT NULL,
            post_id TEXT NOT NULL,
            PRIMARY KEY (post_pk, relation, platform, post_id)
        )""",
        "CREATE INDEX related_posts_target ON related_posts(platform, post_id)",
        """CREATE TABLE citations (
            pk INTEGER PRIMARY KEY,
            article_pk INTEGER NOT NULL REFERENCES articles(pk) ON DELETE CASCADE,
            platform TEXT NOT NULL,
            post_id TEXT,                     -- NULL for unresolved short links
            ref TEXT NOT NULL,                -- post_id, else url: the Embed.key
            url TEXT NOT NULL,
            forms TEXT NOT NULL DEFAULT '[]', -- JSON list of archiver.models.FORMS
            context TEXT,
            author_handle TEXT,               -- hint from the markup
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            UNIQUE (article_pk, platform, ref)
        )""",
        "CREATE INDEX citations_post ON citations(platform, post_id)",
        """CREATE TABLE profile_refs (
            article_pk INTEGER NOT NULL REFERENCES articles(pk) ON DELETE CASCADE,
            url TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            PRIMARY KEY (article_pk, url)
        )""",
    ]),
    ("full-text search over posts", [
        # External content: the text lives once, in `posts`; FTS5 keeps only its inverted index
        # and reads `posts` back for snippets. See FTS_TOKENIZE for the tokenizer choice.
        f"""CREATE VIRTUAL TABLE posts_fts USING fts5(
            text, author_handle, author_name,
            content = 'posts', content_rowid = 'pk',
            tokenize = "{FTS_TOKENIZE}"
        )""",
        # An external-content index must be told the old values to remove them exactly, hence
        # delete-then-insert on update. The WHEN clause skips rechecks that rewrite the same
        # text (every `_upsert_post` sets these columns), so the index does not churn.
        """CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
            INSERT INTO posts_fts (rowid, text, author_handle, author_name)
            VALUES (new.pk, new.text, new.author_handle, new.author_name);
        END""",
        """CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
            INSERT INTO posts_fts (posts_fts, rowid, text, author_handle, author_name)
            VALUES ('delete', old.pk, old.text, old.author_handle, old.author_name);
        END""",
        """CREATE TRIGGER posts_fts_update AFTER UPDATE OF text, author_handle, author_name ON posts
        WHEN old.text IS NOT new.text OR old.author_handle IS NOT new.author_handle
            OR old.author_name IS NOT new.author_name
        BEGIN
            INSERT INTO posts_fts (posts_fts, rowid, text, author_handle, author_name)
            VALUES ('delete', old.pk, old.text, old.author_handle, old.author_name);
            INSERT INTO posts_fts (rowid, text, author_handle, author_name)
            VALUES (new.pk, new.text, new.author_handle, new.author_name);
        END""",
        # Backfill whatever a version-1 archive already holds.
        "INSERT INTO posts_fts (posts_fts) VALUES ('rebuild')",
        # For `search --author` / `--since` without text, and a selective author filter with text.
        "CREATE INDEX posts_author_handle ON posts(author_handle COLLATE NOCASE)",
        "CREATE INDEX posts_created_at ON posts(created_at)",
    ]),
    ("failed checks kept apart from a post's status", [
        # A check that ran out of retries says nothing about the post: it must not replace a
        # known final status (`available` stays `available`, last_checked stays the last time it
        # was seen so). The attempt is kept here instead; both are NULL after a check that
        # reached a final state. See `Index.record_check`.
        "ALTER TABLE posts ADD COLUMN last_error TEXT",
        "ALTER TABLE posts ADD COLUMN last_error_at TEXT",
        "CREATE INDEX posts_last_checked ON posts(last_checked, pk)",
        "CREATE INDEX post_status_history_checked ON post_status_history(checked_at)",
    ]),
    ("crawl frontier and runs", [
        # The crawl's queue (archiver.frontier): one row per URL, whatever it turned out to be.
        # `next_at` is unix seconds (sub-second, for Retry-After); a row is due when it is
        # queued or failed-to-retry and next_at <= now; NULL means nothing is scheduled.
        """CREATE TABLE frontier (
            pk INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            host TEXT NOT NULL,               -- lower-case host name: the politeness key
            kind TEXT NOT NULL,               -- seed (not yet sniffed) | sitemap (from an index) | article
            state TEXT NOT NULL,              -- queued | in_progress | done | failed | blocked
            depth INTEGER NOT NULL DEFAULT 0, -- links followed from a seed's articles to reach it
            priority INTEGER NOT NULL DEFAULT 0,  -- lower first: listings before articles
            via TEXT,                         -- the seed, listing or page it was found in
            published TEXT,                   -- date the listing gave (pubDate, lastmod, ...)
            pass INTEGER,                     -- crawl pass that last queued it (listings: once a pass)
            attempts INTEGER NOT NULL DEFAULT 0,  -- claims since it was last queued
            next_at REAL,
            lease_owner TEXT,                 -- who claimed it, while in_progress
            lease_until REAL,                 -- unix seconds; an expired lease may be reclaimed
            reason TEXT,                      -- why it failed or is blocked (or how it was settled)
            robots TEXT,                      -- allowed | disallowed | ignored | unavailable
            robots_record TEXT,               -- WARC-Record-ID of the robots.txt response consulted
            detected TEXT,                    -- what a seed turned out to be: rss, atom, rdf, urlset, sitemapindex, html
            found INTEGER,                    -- URLs a listing gave, links an article added
            posts INTEGER,                    -- posts the article cites, at its last capture
            first_seen TEXT NOT NULL,
            last_attempt TEXT,
            done_at TEXT
        )""",
        "CREATE INDEX frontier_todo ON frontier(host, priority, next_at)"
        " WHERE state IN ('queued', 'failed') AND next_at IS NOT NULL",
        "CREATE INDEX frontier_due ON frontier(next_at) WHERE state IN ('queued', 'failed') AND next_at IS NOT NULL",
        "CREATE INDEX frontier_state ON frontier(state, kind)",
        # One row per `archiver crawl` run (a pass, or the part of one a resumed run finished).
        """CREATE TABLE crawl_runs (
            pk INTEGER PRIMARY KEY,
            pass INTEGER NOT NULL,            -- runs resuming an interrupted pass share its number
            started_at TEXT NOT NULL,
            finished_at TEXT,
            state TEXT NOT NULL,              -- running | finished | interrupted
            seeds TEXT,                       -- the seeds file
            options TEXT,                     -- JSON
            summary TEXT                      -- JSON, see archiver.crawl.PassStats.summary
        )""",
    ]),
    ("imported files", [
        # Where a WARC or ARC file that `archiver import` copied into warcs/ came from: the
        # original's name, size and sha256 (chain of custody: the copy may be re-framed, one gzip
        # member per record, so its own sha256 in warc_files can differ), what it was and what was
        # wrong with it. Not rebuilt by `archiver reindex`: no WARC file holds it.
        """CREATE TABLE imported_files (
            name TEXT PRIMARY KEY,            -- the copy, inside DIR/warcs/
            source_name TEXT NOT NULL,        -- the original's file name, no folder
            source_size INTEGER NOT NULL,
            source_sha256 TEXT NOT NULL,      -- hex, of the original as read
            format TEXT NOT NULL,             -- of the original: warc.gz, warc, arc.gz, arc
            reframed INTEGER NOT NULL,        -- 1: records re-framed one per gzip member
            software TEXT,                    -- as its warcinfo / ARC version block says
            problems INTEGER NOT NULL,        -- problems reported when it was read
            imported_at TEXT NOT NULL
        )""",
        "CREATE INDEX imported_files_source ON imported_files(source_sha256)",
    ]),
]

SCHEMA_VERSION = len(MIGRATIONS)

_RECORD_FIELDS = (
    "url", "warc", "warc_offset", "warc_length", "record_type", "record_id", "warc_date",
    "payload_digest", "http_status", "content_type", "truncated",
)
_RECORD_COLUMNS = ", ".join(_RECORD_FIELDS)


def normalize_platform(platform: str) -> str:
    """One spelling per platform, so X and twitter posts share keys."""
    p = platform.strip().lower()
    return "twitter" if p == "x" else p


def timestamp(value: str | datetime | None = None) -> str:
    """UTC `YYYY-MM-DDTHH:MM:SSZ`: one format so timestamps compare as strings in SQL."""
    if value is None:
        dt = datetime.now(timezone.utc)
    elif isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _str(value: Any) -> Optional[str]:
    """Ids as strings (platform code may hand ints), but keep None so NOT NULL still bites."""
    return None if value is None else str(value)


# The filters `posts_due` and `iter_posts` take: SQL over `posts`, and how a value becomes its parameter.
_POST_FILTERS = {
    "checked_before": ("last_checked < ?", timestamp),
    "changed_since": ("changed_at >= ?", timestamp),
    "status_changed_since": ("pk IN (SELECT post_pk FROM post_status_history WHERE checked_at >= ?)", timestamp),
    "status": ("status = ?", str),
    "platform": ("platform = ?", normalize_platform),
}


def _post_where(**filters: Any) -> tuple[str, list]:
    """(" WHERE ..." or "", parameters) for the filters given a value; they all combine."""
    clauses, params = [], []
    for name, value in filters.items():
        if value is not None:
            clause, convert = _POST_FILTERS[name]
            clauses.append(clause)
            params.append(convert(value))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _ref_from_row(row: sqlite3.Row) -> RecordRef:
    return RecordRef(
        url=row["url"], warc=row["warc"], offset=row["warc_offset"], length=row["warc_length"],
        record_type=row["record_type"], record_id=row["record_id"], date=row["warc_date"],
        payload_digest=row["payload_digest"], http_status=row["http_status"],
        content_type=row["content_type"], truncated=row["truncated"],
    )


class IndexReader:
    """The archive's SQLite catalogue opened read-only: `verify` must never change the evidence nor
    migrate it, and `replay` must never wait for a capture. `Index` adds writing to these reads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA busy_timeout = 5000")
        except sqlite3.Error as e:
            raise StorageError(f"cannot open index {self.path}: {e}") from e

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection; safe to call twice."""
        conn, self._conn = getattr(self, "_conn", None), None
        if conn is not None:
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError(f"index {self.path} is closed")
        return self._conn

    # -- reading: the archive as a whole (verify, replay, package) ----------------------------

    def integrity(self) -> list[str]:
        """SQLite's own quick check: the problems it reports (none when the file is sound)."""
        return [r[0] for r in self.conn.execute("PRAGMA quick_check") if r[0] != "ok"]

    def closed_files(self) -> dict[str, sqlite3.Row]:
        """Closed WARC files by name: their size and sha256 as recorded when they were closed."""
        return {r["name"]: r for r in self.conn.execute("SELECT name, size, sha256 FROM warc_files")}

    def records_in(self, name: str) -> list[sqlite3.Row]:
        """The records the index places in one WARC file, by offset."""
        return self.conn.execute(
            "SELECT record_id, url, warc_offset, warc_length, record_type, payload_digest FROM records"
            " WHERE warc = ? ORDER BY warc_offset", (name,)).fetchall()

    def record_files(self) -> dict[str, tuple[int, int]]:
        """Each WARC file the index points into: (records, first offset)."""
        return {r[0]: (r[1], r[2]) for r in self.conn.execute(
            "SELECT warc, count(*), min(warc_offset) FROM records GROUP BY warc")}

    def record(self, record_id: str) -> Optional[RecordRef]:
        row = self.conn.execute("SELECT * FROM records WHERE record_id = ?", (record_id,)).fetchone()
        return None if row is None else _ref_from_row(row)

    def captured_media(self) -> list[sqlite3.Row]:
        """Media captured whole, with their sha256 and their post."""
        return self.conn.execute(
            "SELECT m.post_pk, m.url, m.sha256, p.platform, p.post_id FROM media m JOIN posts p ON p.pk = m.post_pk"
            " WHERE m.captured = 1 AND m.sha256 IS NOT NULL ORDER BY p.pk, m.position").fetchall()

    def media_evidence(self) -> Iterator[sqlite3.Row]:
        """Payload-bearing records of posts with captured media: where a redirected media URL's
        bytes are (the fetcher links every hop to the post)."""
        return self.conn.execute(
            "SELECT pr.post_pk, r.record_id, r.record_type, r.payload_digest FROM post_records pr"
            " JOIN records r ON r.pk = pr.record_pk"
            " WHERE r.record_type IN ('response', 'resource', 'revisit') AND pr.post_pk IN"
            " (SELECT post_pk FROM media WHERE captured = 1 AND sha256 IS NOT NULL)")

    def articles(self, *, captured_only: bool = False) -> list[dict]:
        """Every article, in the order they were first recorded (only those read without an error
        with `captured_only`)."""
        where = " WHERE error IS NULL" if captured_only else ""
        return [dict(r) for r in self.conn.execute(
            f"SELECT pk, url, final_url, title FROM articles{where} ORDER BY first_recorded, pk")]

    def article_records(self, article_pk: int) -> list[RecordRef]:
        return [_ref_from_row(r) for r in self.conn.execute(
            "SELECT r.* FROM article_records ar JOIN records r ON r.pk = ar.record_pk"
            " WHERE ar.article_pk = ? ORDER BY r.warc_date, r.pk", (article_pk,))]

    def article_posts(self, article_pk: int) -> list[tuple[str, str]]:
        """Posts the article cites, then the posts those quote or reply to (captured with them)."""
        cited = [(r[0], r[1]) for r in self.conn.execute(
            "SELECT DISTINCT platform, post_id FROM citations WHERE article_pk = ? AND post_id IS NOT NULL"
            " ORDER BY pk", (article_pk,))]
        related = [(r[0], r[1]) for key in cited for r in self.conn.execute(
            "SELECT rp.platform, rp.post_id FROM related_posts rp JOIN posts p ON p.pk = rp.post_pk"
            " JOIN posts q ON q.platform = rp.platform AND q.post_id = rp.post_id"
            " WHERE p.platform = ? AND p.post_id = ?", key)]
        return list(dict.fromkeys(cited + related))

    def post_keys(self) -> list[dict]:
        """(platform, post_id, author_handle) of every post, in the order they were first captured."""
        return [dict(r) for r in self.conn.execute(
            "SELECT platform, post_id, author_handle FROM posts ORDER BY first_captured, pk")]


class Index(IndexReader):
    """The archive's SQLite catalogue. Use from one thread at a time; close() or use `with`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise StorageError(f"cannot open index {self.path}: folder {self.path.parent} does not exist")
        if self.path.is_dir():
            raise StorageError(f"cannot open index {self.path}: it is a directory")
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is exactly
            # what a method says it is. check_same_thread=False allows handing the object to
            # another thread; calls must still not overlap.
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise StorageError(f"cannot open index {self.path}: {e}") from e
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute("PRAGMA busy_timeout = 5000")  # readers (export) in other processes
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except StorageError:
            self._conn.close()
            raise
        except sqlite3.Error as e:
            self._conn.close()
            raise StorageError(f"cannot use index {self.path}: {e}") from e

    def __enter__(self) -> Index:
        return self

    @property
    def schema_version(self) -> int:
        """Highest migration applied to this file."""
        return self._applied_version()

    def _applied_version(self) -> int:
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        if not exists:
            return 0
        return self.conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]

    def _migrate(self) -> None:
        """Apply pending migrations in one transaction; re-checked under the write lock so two
        processes opening a new archive at once do not both apply them."""
        self._require_fts5()
        if self._applied_version() == SCHEMA_VERSION:
            return
        with self._transaction():
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current = self._applied_version()
            if current > SCHEMA_VERSION:
                raise StorageError(
                    f"index {self.path} has schema version {current}, newer than this archiver "
                    f"knows ({SCHEMA_VERSION}); upgrade embed-archiver"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                name, statements = MIGRATIONS[version - 1]
                for statement in statements:
                    self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, timestamp()),
                )
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _require_fts5(self) -> None:
        """Refuse early and plainly when this Python's SQLite cannot hold the search index:
        otherwise migration 2 fails with "no such module", and an upgraded archive would fail
        on its first write (the posts triggers feed posts_fts)."""
        version = sqlite3.sqlite_version
        if sqlite3.sqlite_version_info < FTS_MIN_SQLITE:
            raise StorageError(
                f"cannot use index {self.path}: SQLite {version} is too old for its full-text search "
                f"(needs {'.'.join(map(str, FTS_MIN_SQLITE))} or newer with FTS5); use a newer Python build"
            )
        try:
            self.conn.execute("SELECT fts5_source_id()").fetchone()
        except sqlite3.OperationalError:
            raise StorageError(
                f"cannot use index {self.path}: the SQLite {version} linked into this Python was built "
                "without FTS5, which the index's full-text search needs; use a Python whose sqlite3 "
                "module has FTS5 (python.org, Debian/Ubuntu and conda builds do)"
            ) from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT; rollback on any error. SQLite I/O-level failures (disk
        full, read-only, locked) become StorageError; anything else is re-raised as is."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StorageError(f"cannot write index {self.path}: {e}") from e
        try:
            yield
            conn.execute("COMMIT")
        except sqlite3.OperationalError as e:
            self._rollback()
            raise StorageError(f"cannot write index {self.path}: {e}") from e
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    # -- writing -----------------------------------------------------------------------------

    def record_article(self, result: ArticleResult, *, now: str | None = None,
                       held: Iterable[tuple[str, str]] = ()) -> None:
        """Write everything one article capture produced, all or nothing.

        `held` names (platform, id) of posts the capture took from the index instead of checking
        them (`capture_article(resnapshot=False)`): their rows are left as they are, since nothing
        was learned about them; new records (short-link hops) are linked, citations written.
        """
        ts = timestamp(now)
        not_checked = {(normalize_platform(p), _str(i)) for p, i in held}
        with self._transaction():
            article_pk = self._upsert_article(result, ts)
            for ref in result.article.records:
                self._link_article_record(article_pk, self._insert_record(ref), "page")
            for ref in result.requisites:
                self._link_article_record(article_pk, self._insert_record(ref), "requisite")
            for post in result.posts:
                key = (normalize_platform(post.platform), _str(post.id))
                pk = self._post_pk(*key) if key in not_checked else None
                if pk is not None:
                    self._link_post_records(pk, post.records)
                else:
                    self._upsert_post(post, ts)
            self._write_citations(article_pk, result.embeds, ts)
            for url in result.profiles:
                self.conn.execute(
                    "INSERT INTO profile_refs (article_pk, url, first_seen, last_seen) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (article_pk, url) DO UPDATE SET last_seen = excluded.last_seen",
                    (article_pk, url, ts, ts),
                )

    def record_check(self, posts: Iterable[Post], *, now: str | None = None) -> list[dict]:
        """Record a recheck of posts the index holds, all or nothing: status (with a history row
        when it changed), reason, last_checked, content and media as for a capture, and the new
        evidence records. Citations and articles are not touched: no article was read.

        A `failed` check keeps a known final status (see `_upsert_post`). Returns, per post in
        order, what the check did: platform, id, old_status, old_reason, last_seen (when the old
        status was last confirmed, the previous last_checked), status and status_reason (now
        held), found (what this check said, `failed` included), changed (status changed),
        checked_at. A post the index does not hold is added as a capture would add it, with
        old_status None.
        """
        ts = timestamp(now)
        out = []
        with self._transaction():
            for post in posts:
                key = (normalize_platform(post.platform), _str(post.id))
                before = self.conn.execute(
                    "SELECT status, status_reason, last_checked FROM posts WHERE platform = ? AND post_id = ?", key
                ).fetchone()
                pk = self._upsert_post(post, ts)
                after = self.conn.execute("SELECT status, status_reason FROM posts WHERE pk = ?", (pk,)).fetchone()
                old_status = before["status"] if before else None
                out.append({
                    "platform": key[0], "id": key[1],
                    "old_status": old_status,
                    "old_reason": before["status_reason"] if before else None,
                    "last_seen": before["last_checked"] if before else None,
                    "status": after["status"], "status_reason": after["status_reason"],
                    "found": post.status,
                    "changed": after["status"] != old_status,
                    "checked_at": ts,
                })
        return out

    def record_warc_file(self, name: str, size: int, sha256: str, closed_at: str | None = None) -> None:
        """Remember a closed WARC file's size and hash so `verify` can detect tampering or loss."""
        with self._transaction():
            self.conn.execute(
                "INSERT INTO warc_files (name, size, sha256, closed_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,"
                " closed_at = excluded.closed_at",
                (name, size, sha256, timestamp(closed_at)),
            )

    def _upsert_article(self, result: ArticleResult, ts: str) -> int:
        # The latest fetch's outcome (status, error) always wins; descriptive fields learned
        # earlier (title, final URL) survive a later failed fetch.
        a = result.article
        self.conn.execute(
            "INSERT INTO articles (url, final_url, title, fetched_at, http_status, error,"
            " first_recorded, last_recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET"
            " final_url = coalesce(excluded.final_url, final_url),"
            " title = coalesce(excluded.title, title),"
            " fetched_at = coalesce(excluded.fetched_at, fetched_at),"
            " http_status = excluded.http_status, error = excluded.error,"
            " last_recorded = excluded.last_recorded",
            (a.url, a.final_url, a.title, a.fetched_at, a.http_status, a.error, ts, ts),
        )
        return self.conn.execute("SELECT pk FROM articles WHERE url = ?", (a.url,)).fetchone()[0]

    def _insert_record(self, ref: RecordRef) -> int:
        # A record id is unique per WARC record, so re-linking the same record is a no-op.
        self.conn.execute(
            f"INSERT INTO records ({_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (record_id) DO NOTHING",
            (ref.url, ref.warc, ref.offset, ref.length, ref.record_type, ref.record_id, ref.date,
             ref.payload_digest, ref.http_status, ref.content_type, ref.truncated or None),
        )
        return self.conn.execute("SELECT pk FROM records WHERE record_id = ?", (ref.record_id,)).fetchone()[0]

    def _link_article_record(self, article_pk: int, record_pk: int, role: str) -> None:
        # First role wins: a page record that is also a requisite stays `page`.
        self.conn.execute(
            "INSERT OR IGNORE INTO article_records (article_pk, record_pk, role) VALUES (?, ?, ?)",
            (article_pk, record_pk, role),
        )

    def _upsert_post(self, post: Post, ts: str) -> int:
        """Insert or update one post. Status reflects the latest check that reached a final state;
        data fields are only overwritten by non-None values, so a failed recheck keeps what was known.

        A `failed` check of a post with a known final status leaves its status, reason, data and
        last_checked alone (it says nothing about the post) and is noted in last_error /
        last_error_at; its evidence records are still linked.
        """
        platform = normalize_platform(post.platform)
        post_id = _str(post.id)
        data = None if post.data is None else json.dumps(post.data, ensure_ascii=False, default=str)
        old = self._post_row(platform, post_id)
        if old is None:
            cur = self.conn.execute(
                "INSERT INTO posts (platform, post_id, url, author_handle, author_name, text, created_at,"
                " status, status_reason, first_captured, last_checked, changed_at, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (platform, post_id, post.url, post.author_handle, post.author_name, post.text,
                 post.created_at, post.status, post.status_reason, ts, ts, ts, data),
            )
            post_pk = cur.lastrowid
            self._append_history(post_pk, post, ts)
            self._replace_media(post_pk, post.media)
        elif post.status == "failed" and old["status"] != "failed":
            post_pk = old["pk"]  # no news about the post: only last_error (below) and the records
        else:
            post_pk = old["pk"]
            merged = {
                "url": post.url if post.url is not None else old["url"],
                "author_handle": post.author_handle if post.author_handle is not None else old["author_handle"],
                "author_name": post.author_name if post.author_name is not None else old["author_name"],
                "text": post.text if post.text is not None else old["text"],
                "created_at": post.created_at if post.created_at is not None else old["created_at"],
                "status": post.status,
                "status_reason": post.status_reason,
            }
            # `data` is deliberately not part of "changed": counters in it move on every check.
            changed = any(merged[k] != old[k] for k in merged)
            if post.status != old["status"]:
                self._append_history(post_pk, post, ts)
            if self._replace_media(post_pk, post.media):
                changed = True
            self.conn.execute(
                "UPDATE posts SET url = ?, author_handle = ?, author_name = ?, text = ?, created_at = ?,"
                " status = ?, status_reason = ?, last_checked = ?, changed_at = ?,"
                " data = coalesce(?, data) WHERE pk = ?",
                (merged["url"], merged["author_handle"], merged["author_name"], merged["text"],
                 merged["created_at"], merged["status"], merged["status_reason"], ts,
                 ts if changed else old["changed_at"], data, post_pk),
            )
        failed = post.status == "failed"
        self.conn.execute(
            "UPDATE posts SET last_error = ?, last_error_at = ? WHERE pk = ?",
            ((post.status_reason or "retries exhausted") if failed else None, ts if failed else None, post_pk),
        )
        self._link_post_records(post_pk, post.records)
        for relation, rel_platform, rel_id in post.related:
            self.conn.execute(
                "INSERT OR IGNORE INTO related_posts (post_pk, relation, platform, post_id) VALUES (?, ?, ?, ?)",
                (post_pk, relation, normalize_platform(rel_platform), _str(rel_id)),
            )
        return post_pk

    def _link_post_records(self, post_pk: int, refs: list[RecordRef]) -> None:
        for ref in refs:
            self.conn.execute(
                "INSERT OR IGNORE INTO post_records (post_pk, record_pk) VALUES (?, ?)",
                (post_pk, self._insert_record(ref)),
            )

    def _append_history(self, post_pk: int, post: Post, ts: str) -> None:
        self.conn.execute(
            "INSERT INTO post_status_history (post_pk, status, reason, checked_at) VALUES (?, ?, ?, ?)",
            (post_pk, post.status, post.status_reason, ts),
        )

    def _replace_media(self, post_pk: int, media: list[Media]) -> bool:
        """Replace a post's media list with the latest one; return whether it changed.

        An empty list says nothing new (e.g. a deleted or failed recheck), so it keeps the old
        rows. A file captured before but not this time keeps its sha256/size and captured=1
        (the payload is still in the WARCs); `error` always describes the latest attempt.
        """
        if not media:
            return False
        old_rows = self.conn.execute(
            "SELECT url, kind, sha256, size, captured, error FROM media WHERE post_pk = ? ORDER BY position",
            (post_pk,),
        ).fetchall()
        captured_before = {r["url"]: r for r in old_rows if r["captured"] and r["sha256"]}
        new_rows = []
        for m in media:
            sha256, size, captured = m.sha256, m.size, bool(m.captured)
            if not captured and m.url in captured_before:
                prev = captured_before[m.url]
                sha256, size, captured = prev["sha256"], prev["size"], True
            new_rows.append((m.url, m.kind, sha256, size, int(captured), m.error))
        if [tuple(r) for r in old_rows] == new_rows:
            return False
        self.conn.execute("DELETE FROM media WHERE post_pk = ?", (post_pk,))
        self.conn.executemany(
            "INSERT INTO media (post_pk, position, url, kind, sha256, size, captured, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(post_pk, i, *row) for i, row in enumerate(new_rows)],
        )
        return True

    def _write_citations(self, article_pk: int, embeds: list[Embed], ts: str) -> None:
        """One row per (article, Embed.key); duplicates within a page are merged. Rows are
        never deleted: an article once citing a post stays evidence even if it is edited."""
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for e in embeds:
            platform = normalize_platform(e.platform)
            post_id = _str(e.id)
            ref = post_id if post_id is not None else e.url
            row = merged.setdefault((platform, ref), {
                "platform": platform, "post_id": post_id, "ref": ref, "url": e.url,
                "forms": [], "context": "", "author_handle": None,
            })
            row["forms"] += [f for f in e.forms if f not in row["forms"]]
            row["context"] = row["context"] or e.context
            row["author_handle"] = row["author_handle"] or e.author_handle
        for row in merged.values():
            exists = self.conn.execute(
                "SELECT 1 FROM citations WHERE article_pk = ? AND platform = ? AND ref = ?",
                (article_pk, row["platform"], row["ref"]),
            ).fetchone()
            self.conn.execute(
                "INSERT INTO citations (article_pk, platform, post_id, ref, url, forms, context,"
                " author_handle, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (article_pk, platform, ref) DO UPDATE SET url = excluded.url,"
                " forms = excluded.forms, context = excluded.context,"
                " author_handle = coalesce(excluded.author_handle, author_handle),"
                " last_seen = excluded.last_seen",
                (article_pk, row["platform"], row["post_id"], row["ref"], row["url"],
                 json.dumps(row["forms"]), row["context"] or None, row["author_handle"], ts, ts),
            )
            if not exists and row["post_id"] is not None:
                # A new citing article changes the post's export row.
                self.conn.execute(
                    "UPDATE posts SET changed_at = ? WHERE platform = ? AND post_id = ?",
                    (ts, row["platform"], row["post_id"]),
                )

    # -- reading -----------------------------------------------------------------------------

    def lookup_payload(self, digest: str) -> RecordRef | None:
        """The earliest complete 200 response with this payload digest: the target of a revisit."""
        row = self.conn.execute(
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE payload_digest = ? AND record_type = 'response'"
            " AND http_status = 200 AND truncated IS NULL ORDER BY warc_date, pk LIMIT 1",
            (digest,),
        ).fetchone()
        return None if row is None else _ref_from_row(row)

    def records_for_url(self, url: str) -> list[RecordRef]:
        """Every record captured for a URL, oldest first."""
        rows = self.conn.execute(
            f"SELECT {_RECORD_COLUMNS} FROM records WHERE url = ? ORDER BY warc_date, pk", (url,)
        ).fetchall()
        return [_ref_from_row(r) for r in rows]

    def warc_files(self) -> list[dict]:
        """Closed WARC files with their recorded size and sha256, by name."""
        rows = self.conn.execute("SELECT name, size, sha256, closed_at FROM warc_files ORDER BY name")
        return [dict(r) for r in rows]

    def _post_row(self, platform: str, id: str) -> Optional[sqlite3.Row]:
        return self.conn.execute(
            "SELECT * FROM posts WHERE platform = ? AND post_id = ?", (normalize_platform(platform), _str(id))
        ).fetchone()

    def _post_pk(self, platform: str, id: str) -> Optional[int]:
        row = self._post_row(platform, id)
        return None if row is None else row["pk"]

    def posts_due(
        self,
        *,
        checked_before: str | None = None,
        platform: str | None = None,
        status: str | None = None,
        keys: Iterable[tuple[str, str]] | None = None,
    ) -> list[dict]:
        """Posts to recheck, least recently checked first: platform, id, url, author_handle,
        status, status_reason, last_checked. `checked_before` keeps posts last checked before that
        ISO 8601 time; `keys` limits them to those (platform, id) pairs; all filters combine."""
        where, params = _post_where(checked_before=checked_before, platform=platform, status=status)
        sql = ("SELECT platform, post_id AS id, url, author_handle, status, status_reason, last_checked"
               f" FROM posts{where} ORDER BY last_checked, pk")
        rows = [dict(r) for r in self.conn.execute(sql, params)]
        if keys is not None:
            wanted = {(normalize_platform(p), _str(i)) for p, i in keys}
            rows = [r for r in rows if (r["platform"], r["id"]) in wanted]
        return rows

    def held_post(self, platform: str, id: str) -> Post | None:
        """The post as the index holds it, as an `archiver.models.Post` (media, records, related
        and data included), for captures that take it from here instead of fetching it again."""
        row = self._post_row(platform, id)
        if row is None:
            return None
        pk = row["pk"]
        media = [
            Media(url=r["url"], kind=r["kind"], sha256=r["sha256"], size=r["size"], captured=bool(r["captured"]),
                  error=r["error"])
            for r in self.conn.execute(
                "SELECT url, kind, sha256, size, captured, error FROM media WHERE post_pk = ? ORDER BY position",
                (pk,))
        ]
        related = [(r[0], r[1], r[2]) for r in self.conn.execute(
            "SELECT relation, platform, post_id FROM related_posts WHERE post_pk = ? ORDER BY rowid", (pk,))]
        return Post(
            platform=row["platform"], id=row["post_id"], url=row["url"], status=row["status"],
            status_reason=row["status_reason"], author_handle=row["author_handle"],
            author_name=row["author_name"], text=row["text"], created_at=row["created_at"], media=media,
            records=self._post_records(pk), related=related,
            data=None if row["data"] is None else json.loads(row["data"]),
        )

    def held_media(self, urls: Iterable[str]) -> dict[str, tuple[Media, RecordRef]]:
        """Media files the archive already holds, by URL: the latest captured media row (hash and
        size) and the earliest complete 200 response stored at that very URL. A file is held only
        with both, so a post that reuses it can point at bytes `verify` and `package` will find."""
        from archiver.warc import clean_target_uri

        out: dict[str, tuple[Media, RecordRef]] = {}
        for url in dict.fromkeys(urls):
            m = self.conn.execute(
                "SELECT url, kind, sha256, size FROM media WHERE url = ? AND captured = 1 AND sha256 IS NOT NULL"
                " ORDER BY pk DESC LIMIT 1", (url,)
            ).fetchone()
            if m is None:
                continue
            r = self.conn.execute(
                f"SELECT {_RECORD_COLUMNS} FROM records WHERE url = ? AND record_type = 'response'"
                " AND http_status = 200 AND truncated IS NULL ORDER BY warc_date, pk LIMIT 1",
                (clean_target_uri(url),),
            ).fetchone()
            if r is not None:
                out[url] = (Media(url=url, kind=m["kind"], sha256=m["sha256"], size=m["size"], captured=True),
                            _ref_from_row(r))
        return out

    def post(self, platform: str, id: str) -> dict | None:
        """Everything known about one post, as JSON-ready values (records as RecordRef dicts)."""
        row = self._post_row(platform, id)
        if row is None:
            return None
        pk = row["pk"]
        out: dict[str, Any] = {
            "platform": row["platform"], "id": row["post_id"], "url": row["url"],
            "status": row["status"], "status_reason": row["status_reason"],
            "author_handle": row["author_handle"], "author_name": row["author_name"],
            "text": row["text"], "created_at": row["created_at"],
            "first_captured": row["first_captured"], "last_checked": row["last_checked"],
            "changed_at": row["changed_at"],
            "last_error": row["last_error"], "last_error_at": row["last_error_at"],
            "data": None if row["data"] is None else json.loads(row["data"]),
        }
        out["status_history"] = [dict(r) for r in self.conn.execute(
            "SELECT status, reason, checked_at FROM post_status_history WHERE post_pk = ? ORDER BY pk", (pk,)
        )]
        out["articles"] = [
            {**dict(r), "forms": json.loads(r["forms"])}
            for r in self.conn.execute(
                "SELECT a.url, a.final_url, a.title, a.fetched_at, c.forms, c.context, c.author_handle,"
                " c.first_seen, c.last_seen FROM citations c JOIN articles a ON a.pk = c.article_pk"
                " WHERE c.platform = ? AND c.post_id = ? ORDER BY c.first_seen, c.pk",
                (row["platform"], row["post_id"]),
            )
        ]
        out["media"] = [
            {**dict(r), "captured": bool(r["captured"])}
            for r in self.conn.execute(
                "SELECT url, kind, sha256, size, captured, error FROM media WHERE post_pk = ? ORDER BY position",
                (pk,),
            )
        ]
        out["records"] = [asdict(ref) for ref in self._post_records(pk)]
        out["related"] = [dict(r) for r in self.conn.execute(
            "SELECT r.relation, r.platform, r.post_id AS id, p.url, p.status FROM related_posts r"
            " LEFT JOIN posts p ON p.platform = r.platform AND p.post_id = r.post_id"
            " WHERE r.post_pk = ? ORDER BY r.relation, r.platform, r.post_id",
            (pk,),
        )]
        out["related_by"] = [dict(r) for r in self.conn.execute(
            "SELECT r.relation, p.platform, p.post_id AS id, p.url FROM related_posts r"
            " JOIN posts p ON p.pk = r.post_pk WHERE r.platform = ? AND r.post_id = ?"
            " ORDER BY p.first_captured, p.pk",
            (row["platform"], row["post_id"]),
        )]
        return out

    def _post_records(self, post_pk: int) -> list[RecordRef]:
        rows = self.conn.execute(
            f"SELECT {', '.join('r.' + c for c in _RECORD_FIELDS)}"
            " FROM post_records pr JOIN records r ON r.pk = pr.record_pk"
            " WHERE pr.post_pk = ? ORDER BY r.warc_date, r.pk",
            (post_pk,),
        ).fetchall()
        return [_ref_from_row(r) for r in rows]

    def iter_posts(
        self,
        *,
        changed_since: str | None = None,
        status: str | None = None,
        platform: str | None = None,
        status_changed_since: str | None = None,
    ) -> Iterator[dict]:
        """Export rows (`EXPORT_FIELDS`), ordered by first capture.

        `changed_since` keeps posts first captured or changed (status, reason, content, media,
        a new citing article) at or after that ISO 8601 time; new evidence records alone do not
        count, as every recheck adds some.

        `status_changed_since` (what `archiver export --changed-since` means) keeps posts whose
        status was first recorded or changed at or after that time, from the status history: a
        recheck that found the same status, a failed check, an edit or a new citation do not count.
        """
        where, params = _post_where(changed_since=changed_since, status_changed_since=status_changed_since,
                                    status=status, platform=platform)
        sql = f"SELECT * FROM posts{where} ORDER BY first_captured, pk"
        # A cursor of its own so the per-post queries below do not disturb the iteration.
        for row in self.conn.cursor().execute(sql, params):
            yield self._export_row(row)

    def _export_row(self, row: sqlite3.Row) -> dict:
        pk = row["pk"]
        articles = [r[0] for r in self.conn.execute(
            "SELECT a.url FROM citations c JOIN articles a ON a.pk = c.article_pk"
            " WHERE c.platform = ? AND c.post_id = ? GROUP BY a.pk ORDER BY min(c.first_seen), a.pk",
            (row["platform"], row["post_id"]),
        )]
        media = [
            {"url": r["url"], "kind": r["kind"], "sha256": r["sha256"], "captured": bool(r["captured"])}
            for r in self.conn.execute(
                "SELECT url, kind, sha256, captured FROM media WHERE post_pk = ? ORDER BY position", (pk,)
            )
        ]
        records = [
            {"url": ref.url, "warc": ref.warc, "offset": ref.offset, "length": ref.length}
            for ref in self._post_records(pk)
        ]
        return {
            "platform": row["platform"],
            "id": str(row["post_id"]),
            "url": row["url"],
            "status": row["status"],
            "status_reason": row["status_reason"],
            "author_handle": row["author_handle"],
            "author_name": row["author_name"],
            "text": row["text"],
            "created_at": row["created_at"],
            "articles": articles,
            "media": media,
            "records": records,
            "captured_at": row["first_captured"],
            "last_checked": row["last_checked"],
        }

    def search(
        self,
        text: str,
        *,
        author: str | None = None,
        status: str | None = None,
        platform: str | None = None,
        since: str | None = None,
        limit: int | None = 50,
        highlight: tuple[str, str] = ("[", "]"),
    ) -> list[dict]:
        """Posts whose text, author handle or author name match `text`, best match first (FTS5
        bm25; a hit in the handle or name weighs double, so a person's own posts come first).

        Each result is an export row (`EXPORT_FIELDS`) plus `snippet`: the text around the match,
        matched words wrapped in `highlight`. `text` follows `archiver.search.plain_query` rules
        (words, "phrases", prefix*, AND/OR/NOT; punctuation is literal, never a syntax error).
        Blank `text` lists the posts passing the filters, newest first, with `snippet` None.

        Filters: `author` is a handle, any case, `@` optional; `since` an ISO 8601 date or time
        compared with the post's `created_at` (a date means its start, UTC; posts without a
        creation time are left out); `status` and `platform` as in `iter_posts`.
        """
        from archiver.search import fts_candidates

        where, params = [], []
        if author is not None:
            where.append("p.author_handle = ? COLLATE NOCASE")
            params.append(author.strip().lstrip("@"))
        if status is not None:
            where.append("p.status = ?")
            params.append(status)
        if platform is not None:
            where.append("p.platform = ?")
            params.append(normalize_platform(platform))
        if since is not None:
            # created_at is `...:SSZ` or `...:SS.sssZ`; without its `Z` the bound sorts before
            # both spellings of the same second.
            where.append("p.created_at >= ?")
            params.append(timestamp(since)[:-1])
        filters = "".join(" AND " + w for w in where)
        limit_value = -1 if limit is None else int(limit)
        if not text.strip():
            rows = self.conn.execute(
                "SELECT p.*, NULL AS snippet FROM posts p WHERE 1" + filters
                + " ORDER BY p.created_at DESC, p.pk DESC LIMIT ?",
                (*params, limit_value),
            ).fetchall()
            return [{**self._export_row(r), "snippet": None} for r in rows]
        candidates = fts_candidates(text)
        ranked: list[int] = []
        for attempt, query in enumerate(candidates):
            try:
                ranked = self._search_ranked(query, filters, params, limit_value)
                break
            except sqlite3.OperationalError as e:
                # Any error from text taken as FTS5 (syntax, "unterminated string", "no such
                # column") means it was not FTS5 after all; the lenient form cannot fail so.
                if attempt + 1 < len(candidates):
                    log.info("not a valid FTS5 query (%s); searching for the words instead", e)
                    continue
                raise StorageError(f"cannot search index {self.path}: {e}") from e
        if not ranked:
            return []
        # Second pass, for the hits only: snippet() is costly, and SQLite evaluates it for every
        # match before sorting (+330 ms for a word in 200,000 of 1M posts, against 4 ms here).
        # A rowid lookup under MATCH costs ~0.3 ms though, so many hits take one pass instead.
        select = ("SELECT p.*, snippet(posts_fts, 0, ?, ?, '…', 24) AS snippet"
                  " FROM posts_fts JOIN posts p ON p.pk = posts_fts.rowid WHERE posts_fts MATCH ?")
        if len(ranked) <= 200:
            rows = self.conn.execute(
                select + f" AND posts_fts.rowid IN ({', '.join('?' * len(ranked))})", (*highlight, query, *ranked)
            )
        else:
            rows = self.conn.execute(select + filters, (*highlight, query, *params))
        wanted = set(ranked)
        by_pk = {r["pk"]: r for r in rows if r["pk"] in wanted}
        return [{**self._export_row(by_pk[pk]), "snippet": by_pk[pk]["snippet"]} for pk in ranked if pk in by_pk]

    def _search_ranked(self, query: str, filters: str, params: list, limit: int) -> list[int]:
        """Post pks matching the FTS5 `query` and the SQL `filters`, best first.

        bm25() as an expression rather than the `rank` column: FTS5 then neither sorts every
        match itself nor scores those the filters drop (twice as fast on common words). Posts
        are joined only when a filter needs them. Ties go to the latest captured.
        """
        if filters:
            sql = ("SELECT posts_fts.rowid FROM posts_fts JOIN posts p ON p.pk = posts_fts.rowid"
                   " WHERE posts_fts MATCH ?" + filters)
        else:
            sql = "SELECT rowid FROM posts_fts WHERE posts_fts MATCH ?"
        sql += " ORDER BY bm25(posts_fts, 1.0, 2.0, 2.0), posts_fts.rowid DESC LIMIT ?"
        return [r[0] for r in self.conn.execute(sql, (query, *params, limit))]

    def stats(self) -> dict:
        """Counts for `archiver stats` and end-of-run summaries."""
        def one(sql: str) -> int:
            return self.conn.execute(sql).fetchone()[0]

        by_status = {s: 0 for s in STATUSES}
        for r in self.conn.execute("SELECT status, count(*) FROM posts GROUP BY status"):
            by_status[r[0]] = r[1]
        return {
            "articles": one("SELECT count(*) FROM articles"),
            "articles_failed": one("SELECT count(*) FROM articles WHERE error IS NOT NULL"),
            "posts": one("SELECT count(*) FROM posts"),
            "posts_by_status": by_status,
            "media": one("SELECT count(*) FROM media"),
            "media_captured": one("SELECT count(*) FROM media WHERE captured = 1"),
            "records": one("SELECT count(*) FROM records"),
            "warc_files": one("SELECT count(*) FROM warc_files"),
            "warc_bytes": one("SELECT coalesce(sum(size), 0) FROM warc_files"),
        }

    # -- crawl frontier and runs (archiver.frontier, archiver.crawl) ---------------------------

    def frontier_add(self, entries: Iterable[dict], *, pass_id: int, now: float,
                     recapture_before: str | None = None) -> int:
        """Queue URLs, all in one transaction; returns how many were queued (new or again).

        Each entry: url, host, kind, and optionally depth, priority, via, published. A new
        article (or seed) the index already holds as an article (captured without error, not
        before `recapture_before`) is recorded `done` without a fetch. Known rows: a listing (seed, sitemap) is queued again
        once per pass; a done article only when captured before `recapture_before`.
        """
        ts = timestamp()
        queued = 0
        with self._transaction():
            for e in entries:
                row = self.conn.execute(
                    "SELECT pk, kind, state, pass, done_at FROM frontier WHERE url = ?", (e["url"],)
                ).fetchone()
                if row is None:
                    state, next_at, done_at, reason, kind = "queued", now, None, None, e["kind"]
                    if kind in ("article", "seed"):  # a seed may be an article `capture` took
                        held = self.conn.execute(
                            "SELECT last_recorded FROM articles WHERE url = ? AND error IS NULL", (e["url"],)
                        ).fetchone()
                        if held and (recapture_before is None or held[0] >= recapture_before):
                            state, next_at, done_at, reason = "done", None, held[0], "in the archive already"
                            kind = "article"
                    self.conn.execute(
                        "INSERT INTO frontier (url, host, kind, state, depth, priority, via, published, pass,"
                        " next_at, reason, first_seen, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (e["url"], e["host"], kind, state, e.get("depth", 0), e.get("priority", 0),
                         e.get("via"), e.get("published"), pass_id, next_at, reason, ts, done_at),
                    )
                    queued += state == "queued"
                    continue
                again = False
                if row["kind"] != "article":
                    if row["pass"] != pass_id and row["state"] not in ("queued", "in_progress"):
                        again = True
                    elif row["pass"] != pass_id:
                        self.conn.execute("UPDATE frontier SET pass = ? WHERE pk = ?", (pass_id, row["pk"]))
                elif (row["state"] == "done" and recapture_before is not None
                      and (row["done_at"] or "") < recapture_before):
                    again = True
                if again:
                    self._frontier_requeue(row["pk"], pass_id, now)
                    queued += 1
        return queued

    def _frontier_requeue(self, pk: int, pass_id: int, now: float) -> None:
        self.conn.execute(
            "UPDATE frontier SET state = 'queued', pass = ?, attempts = 0, next_at = ?, reason = NULL,"
            " lease_owner = NULL, lease_until = NULL WHERE pk = ?",
            (pass_id, now, pk),
        )

    def frontier_requeue(self, *, state: str, pass_id: int, now: float, kind: str | None = None,
                         done_before: str | None = None) -> int:
        """Queue again every row in `state` (of `kind`; done before `done_before`): blocked rows
        under --ignore-robots, articles due for recapture. Returns how many."""
        where, params = ["state = ?"], [state]
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if done_before is not None:
            where.append("done_at < ?")
            params.append(done_before)
        with self._transaction():
            cur = self.conn.execute(
                "UPDATE frontier SET state = 'queued', pass = ?, attempts = 0, next_at = ?, reason = NULL"
                f" WHERE {' AND '.join(where)}",
                (pass_id, now, *params),
            )
        return cur.rowcount

    def frontier_postpone(self, host: str, until: float) -> int:
        """No row of `host` is due before `until` (a Retry-After or back-off outliving the run)."""
        with self._transaction():
            return self.conn.execute(
                "UPDATE frontier SET next_at = max(next_at, ?) WHERE host = ? AND state IN ('queued', 'failed')"
                " AND next_at IS NOT NULL AND next_at < ?", (until, host, until)).rowcount

    def frontier_claim(self, host: str, *, owner: str, now: float, lease: float) -> dict | None:
        """Take the next due row of `host` (lowest priority, then oldest due), in_progress under a
        lease; None if the host has nothing due. One statement, so two claimers never get the
        same row (PostgreSQL: the inner SELECT gets FOR UPDATE SKIP LOCKED)."""
        with self._transaction():
            row = self.conn.execute(
                "UPDATE frontier SET state = 'in_progress', attempts = attempts + 1, lease_owner = ?,"
                " lease_until = ?, last_attempt = ? WHERE pk = ("
                " SELECT pk FROM frontier WHERE state IN ('queued', 'failed') AND next_at IS NOT NULL"
                " AND host = ? AND next_at <= ? ORDER BY priority, next_at, pk LIMIT 1)"
                " RETURNING pk, url, host, kind, depth, priority, via, published, pass, attempts",
                (owner, now + lease, timestamp(), host, now),
            ).fetchone()
        return None if row is None else dict(row)

    _FRONTIER_SETTABLE = frozenset({
        "state", "kind", "next_at", "reason", "robots", "robots_record", "detected", "found", "posts", "attempts",
    })

    def frontier_finish(self, pk: int, **fields: Any) -> None:
        """Settle a claimed row: `state` and any of reason, next_at, robots, robots_record,
        detected, kind, found, posts, attempts. The lease ends; `done` stamps done_at."""
        bad = set(fields) - self._FRONTIER_SETTABLE
        if bad:
            raise ValueError(f"not a settable frontier column: {sorted(bad)}")
        sets = [f"{name} = ?" for name in fields] + ["lease_owner = NULL", "lease_until = NULL"]
        params = list(fields.values())
        if fields.get("state") == "done":
            sets.append("done_at = ?")
            params.append(timestamp())
        with self._transaction():
            self.conn.execute(f"UPDATE frontier SET {', '.join(sets)} WHERE pk = ?", (*params, pk))

    def frontier_reclaim(self, *, now: float, expired_only: bool = False, max_attempts: int | None = None) -> dict:
        """Rows left in_progress by a process that died: every one (`expired_only=False`, safe when
        the archive lock proves no other writer), or those whose lease ran out.

        An article the index recorded (without error) since it was claimed was captured: it is
        settled `done`, not fetched again. Others are queued again, or `failed` once claimed
        `max_attempts` times (a URL that kills the crawler must not do it forever).
        """
        cond = "state = 'in_progress'" + (" AND lease_until < ?" if expired_only else "")
        params = (now,) if expired_only else ()
        out = {"done": 0, "queued": 0, "failed": 0}
        with self._transaction():
            rows = self.conn.execute(
                f"SELECT f.pk, f.kind, f.attempts, a.last_recorded FROM frontier f"
                f" LEFT JOIN articles a ON a.url = f.url AND a.error IS NULL AND a.last_recorded >= f.last_attempt"
                f" WHERE {cond.replace('state', 'f.state').replace('lease_until', 'f.lease_until')}",
                params,
            ).fetchall()
            for r in rows:
                if r["kind"] == "article" and r["last_recorded"] is not None:
                    self.conn.execute(
                        "UPDATE frontier SET state = 'done', done_at = ?, next_at = NULL, lease_owner = NULL,"
                        " lease_until = NULL, reason = 'recorded before the interruption' WHERE pk = ?",
                        (r["last_recorded"], r["pk"]),
                    )
                    out["done"] += 1
                elif max_attempts is not None and r["attempts"] >= max_attempts:
                    self.conn.execute(
                        "UPDATE frontier SET state = 'failed', next_at = NULL, lease_owner = NULL, lease_until = NULL,"
                        " reason = ? WHERE pk = ?",
                        (f"interrupted {r['attempts']} times while in progress", r["pk"]),
                    )
                    out["failed"] += 1
                else:
                    self.conn.execute(
                        "UPDATE frontier SET state = 'queued', next_at = ?, lease_owner = NULL, lease_until = NULL"
                        " WHERE pk = ?",
                        (now, r["pk"]),
                    )
                    out["queued"] += 1
        return out

    def frontier_due_hosts(self, now: float) -> list[str]:
        """Hosts with at least one row due now."""
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT host FROM frontier WHERE state IN ('queued', 'failed') AND next_at IS NOT NULL"
            " AND next_at <= ?", (now,))]

    def frontier_next_due(self) -> float | None:
        """The earliest next_at of any row waiting (due now or later), or None."""
        return self.conn.execute(
            "SELECT min(next_at) FROM frontier WHERE state IN ('queued', 'failed') AND next_at IS NOT NULL"
        ).fetchone()[0]

    def frontier_counts(self) -> dict:
        """Rows by state and by kind and state, and the failed ones waiting for a retry."""
        by_state: dict[str, int] = {s: 0 for s in ("queued", "in_progress", "done", "failed", "blocked")}
        by_kind: dict[str, dict[str, int]] = {}
        for r in self.conn.execute("SELECT kind, state, count(*) FROM frontier GROUP BY kind, state"):
            by_state[r[1]] = by_state.get(r[1], 0) + r[2]
            by_kind.setdefault(r[0], {})[r[1]] = r[2]
        retry = self.conn.execute(
            "SELECT count(*), min(next_at) FROM frontier WHERE state = 'failed' AND next_at IS NOT NULL").fetchone()
        return {"total": sum(by_state.values()), "by_state": by_state, "by_kind": by_kind,
                "retrying": retry[0], "next_retry_at": retry[1], "next_due_at": self.frontier_next_due()}

    def frontier_reasons(self, state: str, limit: int = 10) -> list[dict]:
        """The commonest reasons of rows in `state` (failed, blocked), with counts."""
        return [dict(r) for r in self.conn.execute(
            "SELECT reason, count(*) AS count, max(attempts) AS max_attempts FROM frontier WHERE state = ?"
            " GROUP BY reason ORDER BY count(*) DESC, reason LIMIT ?", (state, limit))]

    def frontier_hosts(self, limit: int = 10) -> list[dict]:
        """Hosts with the most rows still to do."""
        return [dict(r) for r in self.conn.execute(
            "SELECT host, count(*) AS waiting, min(next_at) AS next_at FROM frontier"
            " WHERE state IN ('queued', 'failed') AND next_at IS NOT NULL"
            " GROUP BY host ORDER BY count(*) DESC, host LIMIT ?", (limit,))]

    def frontier_row(self, url: str) -> dict | None:
        row = self.conn.execute("SELECT * FROM frontier WHERE url = ?", (url,)).fetchone()
        return None if row is None else dict(row)

    def frontier_rows(self, *, state: str | None = None, kind: str | None = None) -> list[dict]:
        where, params = [], []
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        sql = "SELECT * FROM frontier" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY pk"
        return [dict(r) for r in self.conn.execute(sql, params)]

    def add_records(self, refs: Iterable[RecordRef]) -> None:
        """Index records that belong to no article (robots.txt, feeds, sitemaps a crawl read);
        flush the WARC sink first, as for articles."""
        with self._transaction():
            for ref in refs:
                self._insert_record(ref)

    def run_start(self, *, seeds: str | None, options: dict) -> dict:
        """A new crawl run. It resumes the pass of the latest run when that one did not finish
        (killed: still `running`; stopped: `interrupted`), else starts the next pass."""
        with self._transaction():
            last = self.conn.execute("SELECT pk, pass, state FROM crawl_runs ORDER BY pk DESC LIMIT 1").fetchone()
            if last is not None and last["state"] == "running":
                self.conn.execute("UPDATE crawl_runs SET state = 'interrupted' WHERE pk = ?", (last["pk"],))
            resumed = last is not None and last["state"] != "finished"
            pass_id = last["pass"] if resumed else (last["pass"] + 1 if last is not None else 1)
            cur = self.conn.execute(
                "INSERT INTO crawl_runs (pass, started_at, state, seeds, options) VALUES (?, ?, 'running', ?, ?)",
                (pass_id, timestamp(), seeds, json.dumps(options, sort_keys=True)),
            )
        return {"pk": cur.lastrowid, "pass": pass_id, "resumed": resumed}

    def run_finish(self, pk: int, *, state: str, summary: dict) -> None:
        """Close a run (`finished`: its pass is complete; `interrupted`: stopped early)."""
        with self._transaction():
            self.conn.execute(
                "UPDATE crawl_runs SET state = ?, finished_at = ?, summary = ? WHERE pk = ?",
                (state, timestamp(), json.dumps(summary, sort_keys=True), pk),
            )

    def runs(self, limit: int = 5) -> list[dict]:
        """The latest crawl runs, newest first, options and summary parsed."""
        out = []
        for r in self.conn.execute("SELECT * FROM crawl_runs ORDER BY pk DESC LIMIT ?", (limit,)):
            row = dict(r)
            row["options"] = json.loads(row["options"]) if row["options"] else {}
            row["summary"] = json.loads(row["summary"]) if row["summary"] else None
            out.append(row)
        return out

    # -- importing and rebuilding (archiver.importer) ------------------------------------------

    def file_with_sha256(self, sha256: str) -> str | None:
        """The archive file that holds these exact bytes: a closed file with this sha256, or the
        copy of an imported file whose original had it."""
        row = self.conn.execute(
            "SELECT name FROM warc_files WHERE sha256 = ?"
            " UNION ALL SELECT name FROM imported_files WHERE source_sha256 = ? LIMIT 1",
            (sha256, sha256)).fetchone()
        return None if row is None else row[0]

    def file_name_known(self, name: str) -> bool:
        """Whether any row names a WARC file so called (a new file must not take its name)."""
        return self.conn.execute(
            "SELECT 1 FROM warc_files WHERE name = ? UNION ALL SELECT 1 FROM imported_files WHERE name = ?"
            " UNION ALL SELECT 1 FROM records WHERE warc = ? LIMIT 1", (name, name, name)).fetchone() is not None

    def record_locations(self, record_ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """(file, offset) of each of these record ids the index holds."""
        ids = list(dict.fromkeys(record_ids))
        found: dict[str, tuple[str, int]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            for r in self.conn.execute(
                    f"SELECT record_id, warc, warc_offset FROM records WHERE record_id IN ({', '.join('?' * len(part))})",
                    part):
                found[r[0]] = (r[1], r[2])
        return found

    def record_import(self, imported: ImportedFile | None, refs: list[RecordRef], pages: list[ArticleResult],
                      *, now: str | None = None) -> tuple[int, list[dict]]:
        """Index a file `archiver import` copied into warcs/, all or nothing: its warc_files and
        imported_files rows, its records (an id already indexed is left as it is), and the pages
        found in it that cite posts (`pages`, with `--queue-posts`). With `imported` None only the
        pages are recorded (their records must be indexed already).

        A page is an article captured by another tool: its row is added unless the article is
        known (then only last_recorded moves: what our own capture said stays), its page records
        are linked, its citations written. A cited post the index does not hold is added as
        `post.status` says (`failed`, "not yet captured"); a known post is left exactly as it is.
        Returns (records indexed, one dict per cited post: platform, id, url, article, status,
        queued: whether this import added it).
        """
        ts = timestamp(now)
        cited: list[dict] = []
        with self._transaction():
            if imported is not None:
                self._record_imported_file(imported, ts)
            indexed = 0
            for ref in refs:
                cur = self.conn.execute(
                    f"INSERT INTO records ({_RECORD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (record_id) DO NOTHING",
                    (ref.url, ref.warc, ref.offset, ref.length, ref.record_type, ref.record_id, ref.date,
                     ref.payload_digest, ref.http_status, ref.content_type, ref.truncated or None))
                indexed += cur.rowcount
            for result in pages:
                a = result.article
                self.conn.execute(
                    "INSERT INTO articles (url, final_url, title, fetched_at, http_status, error, first_recorded,"
                    " last_recorded) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (url) DO UPDATE SET last_recorded = excluded.last_recorded",
                    (a.url, a.final_url, a.title, a.fetched_at, a.http_status, a.error, ts, ts))
                article_pk = self.conn.execute("SELECT pk FROM articles WHERE url = ?", (a.url,)).fetchone()[0]
                for ref in a.records:
                    self._link_article_record(article_pk, self._insert_record(ref), "page")
                for post in result.posts:
                    known = self.conn.execute(
                        "SELECT status FROM posts WHERE platform = ? AND post_id = ?",
                        (normalize_platform(post.platform), _str(post.id))).fetchone()
                    if known is None:
                        self._upsert_post(post, ts)
                    cited.append({"platform": normalize_platform(post.platform), "id": _str(post.id),
                                  "url": post.url, "article": a.url,
                                  "status": post.status if known is None else known["status"],
                                  "queued": known is None})
                self._write_citations(article_pk, result.embeds, ts)
                for url in result.profiles:
                    self.conn.execute(
                        "INSERT INTO profile_refs (article_pk, url, first_seen, last_seen) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (article_pk, url) DO UPDATE SET last_seen = excluded.last_seen",
                        (article_pk, url, ts, ts))
        return indexed, cited

    def _record_imported_file(self, imported: ImportedFile, ts: str) -> None:
        self.conn.execute("INSERT INTO warc_files (name, size, sha256, closed_at) VALUES (?, ?, ?, ?)",
                          (imported.name, imported.size, imported.sha256, ts))
        self.conn.execute(
            "INSERT INTO imported_files (name, source_name, source_size, source_sha256, format, reframed,"
            " software, problems, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (imported.name, imported.source_name, imported.source_size, imported.source_sha256, imported.format,
             int(imported.reframed), imported.software, imported.problems, ts))

    def rebuild_records(self, files: Iterable[FileRows]) -> RebuildOutcome:
        """Replace the records and warc_files tables' content with what `files` hold, in one
        transaction (`files` may be a generator reading the WARC files as it goes).

        A record keeps its row (so articles and posts stay linked to it) when its id is found
        again, its values updated to what the file says; a row whose record is in no file any
        more is deleted with its links. The first copy of a record id wins. warc_files gets one
        row per closed file, keeping the close time the index had for that name. Everything else
        (articles, posts, citations, media, history, imports, frontier) is left alone.
        """
        out = RebuildOutcome()
        columns = [c for c in _RECORD_FIELDS if c != "record_id"]
        with self._transaction():
            old_files = {r["name"]: r for r in self.conn.execute("SELECT * FROM warc_files")}
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS reindex_seen"
                              " (record_id TEXT PRIMARY KEY, warc TEXT NOT NULL, warc_offset INTEGER NOT NULL)")
            self.conn.execute("DELETE FROM temp.reindex_seen")
            new_files: dict[str, tuple[int, str, str]] = {}
            for rows in files:
                if rows.size is not None and rows.sha256 is not None:
                    old = old_files.get(rows.name)
                    closed_at = old["closed_at"] if old is not None and old["closed_at"] else rows.closed_at
                    new_files[rows.name] = (rows.size, rows.sha256, closed_at or timestamp())
                    if old is not None and (old["size"], old["sha256"]) != (rows.size, rows.sha256):
                        out.changed_files.append((rows.name, old["size"], old["sha256"], rows.size, rows.sha256))
                for ref in rows.records:
                    first = self.conn.execute("SELECT warc, warc_offset FROM temp.reindex_seen WHERE record_id = ?",
                                              (ref.record_id,)).fetchone()
                    if first is not None:
                        out.duplicates.append((ref.record_id, ref.warc, ref.offset, first[0], first[1]))
                        continue
                    self.conn.execute("INSERT INTO temp.reindex_seen (record_id, warc, warc_offset) VALUES (?, ?, ?)",
                                      (ref.record_id, ref.warc, ref.offset))
                    values = (ref.url, ref.warc, ref.offset, ref.length, ref.record_type, ref.date,
                              ref.payload_digest, ref.http_status, ref.content_type, ref.truncated or None)
                    row = self.conn.execute(f"SELECT {', '.join(columns)} FROM records WHERE record_id = ?",
                                            (ref.record_id,)).fetchone()
                    if row is None:
                        self.conn.execute(f"INSERT INTO records ({', '.join(columns)}, record_id)"
                                          f" VALUES ({', '.join('?' * (len(columns) + 1))})", (*values, ref.record_id))
                        out.inserted += 1
                    elif tuple(row) != values:
                        self.conn.execute(f"UPDATE records SET {', '.join(c + ' = ?' for c in columns)}"
                                          " WHERE record_id = ?", (*values, ref.record_id))
                        out.updated += 1
                    else:
                        out.unchanged += 1
            gone = "SELECT pk FROM records WHERE record_id NOT IN (SELECT record_id FROM temp.reindex_seen)"
            out.removed = {r[0]: r[1] for r in self.conn.execute(
                f"SELECT warc, count(*) FROM records WHERE pk IN ({gone}) GROUP BY warc")}
            out.removed_links = sum(self.conn.execute(
                f"SELECT count(*) FROM {table} WHERE record_pk IN ({gone})").fetchone()[0]
                for table in ("article_records", "post_records"))
            self.conn.execute(f"DELETE FROM records WHERE pk IN ({gone})")
            out.dropped_files = [(n, r["size"], r["sha256"]) for n, r in sorted(old_files.items()) if n not in new_files]
            self.conn.execute("DELETE FROM warc_files")
            self.conn.executemany("INSERT INTO warc_files (name, size, sha256, closed_at) VALUES (?, ?, ?, ?)",
                                  [(n, *v) for n, v in sorted(new_files.items())])
            self.conn.execute("DELETE FROM temp.reindex_seen")
        return out
