"""`archiver import` and `archiver reindex` (issue #6): other tools' WARC and ARC files, damaged ones too."""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtureweb import FixtureWeb
from foreign_warcs import (BUILDERS, PAGE, TWEET_A, TWEET_B, Foreign, arc, browsertrix, heritrix, trailing_garbage,
                           warcprox, wget)
from twitterworld import SEED, SEED_BLOCKQUOTE, TwitterWorld, article_page
from warcio.archiveiterator import ArchiveIterator

from archiver.cli import cli
from archiver.importer import archive_lock
from archiver.index import Index
from archiver.verify import verify_archive
from archiver.warc import WarcSink
from archiver.warcread import arc_record_id

ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"
RECORD_COLUMNS = ("record_id", "url", "warc", "warc_offset", "warc_length", "record_type", "warc_date",
                  "payload_digest", "http_status", "content_type", "truncated")


# ----------------------------------------------------------------------------- helpers


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert "Traceback" not in result.output and "could not" not in result.stderr, result.output
    return result


def records(archive: Path, warc: str | None = None) -> list[dict]:
    conn = sqlite3.connect(archive / "index.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        sql = f"SELECT {', '.join(RECORD_COLUMNS)} FROM records"
        rows = conn.execute(sql + (" WHERE warc = ?" if warc else "") + " ORDER BY warc, warc_offset",
                            (warc,) if warc else ()).fetchall()
        return [dict(r) for r in rows]
    finally:
        conn.close()


def table(archive: Path, sql: str, *params) -> list[dict]:
    conn = sqlite3.connect(archive / "index.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def stored_files(archive: Path) -> list[Path]:
    return sorted(p for p in (archive / "warcs").iterdir())


def reread(path: Path, offset: int, length: int) -> tuple[str, str]:
    """(record id, target URI) of the one record the gzip member at offset/length holds."""
    raw = gzip.decompress(path.read_bytes()[offset:offset + length])
    if raw.startswith(b"WARC/"):
        head, _, rest = raw.partition(b"\r\n\r\n")
        fields = {k.strip().lower(): v.strip() for k, _, v in
                  (line.partition(":") for line in head.decode().split("\r\n")[1:])}
        assert len(raw) == len(head) + 4 + int(fields["content-length"]) + 4  # exactly one record
        return fields["warc-record-id"], fields.get("warc-target-uri", "").strip("<>")
    line, _, rest = raw.partition(b"\n")  # ARC: header line, block, newline
    length = int(line.split(b" ")[-1])
    assert len(rest) == length + 1
    return arc_record_id(line, hashlib.sha1(rest[:length]).hexdigest()), line.split(b" ")[0].decode()


def warcio_offsets(path: Path) -> list[int]:
    """Record offsets as warcio (an independent reader) finds them."""
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh, arc2warc=False)
        out = []
        for rec in it:
            rec.content_stream().read()
            out.append(it.get_record_offset())
    return out


def lines_about(result, path: Path) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]


def import_(archive: Path, *files: Path, queue: bool = False, env: dict | None = None):
    return run("import", "--archive", str(archive), *(["--queue-posts"] if queue else []), *map(str, files), env=env)


# ----------------------------------------------------------------------------- every corpus file


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_import_each_foreign_file(tmp_path: Path, build):
    f: Foreign = build(tmp_path / "in")
    archive = tmp_path / "archive"
    result = import_(archive, f.path)
    assert result.exit_code == (0 if f.clean else 1), result.stderr

    # what was said, and where
    about = lines_about(result, f.path)
    errors = [line for line in about if ": note: " not in line]
    notes = [line for line in about if ": note: " in line]
    for offset, words in f.problems:
        prefix = f"{f.path}: " if offset is None else f"{f.path}:{offset}: "
        assert any(line.startswith(prefix) and words in line for line in errors), (offset, words, about)
    expected_at = {offset for offset, _ in f.problems}
    for line in errors:  # nothing is blamed that was not expected, and nowhere else
        where = line[len(str(f.path)) + 1:].split(":", 1)[0]
        assert (None if where.startswith(" ") else int(where)) in expected_at, line
    for _, words in f.notes:
        assert any(words in line for line in notes), (words, notes)

    # the copy: a sanitised name inside warcs/, indexed record by record
    [stored] = stored_files(archive)
    assert re.fullmatch(r"imported-[A-Za-z0-9._-]+\.(warc|arc)\.gz", stored.name), stored.name
    rows = records(archive, stored.name)
    assert [r["url"] for r in rows] == f.urls
    assert [r["record_type"] for r in rows] == f.types
    for row in rows:
        assert reread(stored, row["warc_offset"], row["warc_length"]) == (row["record_id"], row["url"])
    assert warcio_offsets(stored) == [r["warc_offset"] for r in rows]
    [imp] = table(archive, "SELECT * FROM imported_files")
    assert imp["name"] == stored.name and imp["source_name"] == f.path.name
    assert imp["source_sha256"] == hashlib.sha256(f.path.read_bytes()).hexdigest()
    assert bool(imp["reframed"]) == f.reframed
    if not f.reframed:
        assert stored.read_bytes() == f.path.read_bytes()
    [wf] = table(archive, "SELECT * FROM warc_files")
    assert (wf["name"], wf["size"], wf["sha256"]) == (
        stored.name, stored.stat().st_size, hashlib.sha256(stored.read_bytes()).hexdigest())
    # what it holds now verifies: damage stayed behind, the record index matches the copy
    report = verify_archive(archive)
    assert report.ok, [str(p) for p in report.problems]
    assert "imported" in result.stderr.splitlines()[-2] or "imported" in result.stderr


def test_record_values_from_other_tools(tmp_path: Path):
    """Index rows say what the records say: brackets dropped, HTTP status and Content-Type, digests
    as written (a revisit keeps its original's), WARC-Truncated."""
    archive = tmp_path / "archive"
    folder = tmp_path / "in"
    assert import_(archive, wget(folder).path, heritrix(folder).path).exit_code == 0
    rows = {(r["record_type"], r["url"]): r for r in records(archive)}
    page = rows[("response", PAGE)]
    assert page["http_status"] == 200 and page["content_type"] == "text/html; charset=UTF-8"
    assert page["warc_date"] == "2019-10-14T12:00:00Z" and page["record_id"].startswith("<urn:uuid:")
    assert rows[("request", PAGE)]["http_status"] is None and rows[("request", PAGE)]["content_type"] is None
    dns = rows[("response", "dns:news.example")]
    assert dns["content_type"] == "text/dns" and dns["http_status"] is None and dns["payload_digest"]
    revisit = rows[("revisit", "https://news.example/2019/10/14/heritrix-page")]
    original = rows[("response", "https://news.example/2019/10/14/heritrix-page")]
    assert revisit["payload_digest"] == original["payload_digest"] and revisit["truncated"] is None
    assert revisit["http_status"] == 200
    assert rows[("warcinfo", "")]["content_type"] == "application/warc-fields"
    software = {r["source_name"]: r["software"] for r in table(archive, "SELECT * FROM imported_files")}
    assert software == {"news-wget.warc.gz": "Wget/1.21.3 (linux-gnu)",
                        "WEB-20191014120000000-00000-4242~crawler~8443.warc.gz":
                            "Heritrix/3.4.0-20200304 http://crawler.archive.org"}


# ----------------------------------------------------------------------------- names, duplicates, usage


def test_names_are_sanitised_unique_and_reimports_skipped(tmp_path: Path):
    folder = tmp_path / "in"
    source = wget(folder).path
    odd = folder / "..évil name;$(rm -rf ~)`x`.WARC.GZ"
    shutil.copy(source, odd)
    archive = tmp_path / "archive"
    first = import_(archive, odd)
    assert first.exit_code == 0
    [stored] = stored_files(archive)
    assert stored.name == "imported-vil_name_rm_-rf_x.warc.gz"
    again = import_(archive, odd, source)  # the same bytes, under any name
    assert again.exit_code == 0
    assert stored_files(archive) == [stored]
    assert again.stderr.count(f": note: already in the archive as warcs/{stored.name} (same sha256)") == 2
    other = folder / "x" / odd.name
    other.parent.mkdir()
    other.write_bytes(heritrix(tmp_path / "h").path.read_bytes())
    assert import_(archive, other).exit_code == 0
    assert {p.name for p in stored_files(archive)} == {stored.name, "imported-vil_name_rm_-rf_x-2.warc.gz"}
    assert not list((archive / "warcs").glob(".importing-*"))


def test_records_already_held_are_not_indexed_twice(tmp_path: Path):
    folder = tmp_path / "in"
    one = arc(folder)  # the same ARC records, uncompressed and gzipped: the same (synthesised) ids
    from foreign_warcs import arc_gz
    two = arc_gz(folder)
    archive = tmp_path / "archive"
    result = import_(archive, one.path, two.path)
    assert result.exit_code == 0
    assert "every indexable record in it is already in the archive" in result.stderr
    assert len(stored_files(archive)) == 1 and len(records(archive)) == 4


def test_not_a_warc(tmp_path: Path):
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"%PDF-1.4 not a WARC at all\n" * 10)
    archive = tmp_path / "archive"
    result = import_(archive, junk)
    assert result.exit_code == 1
    assert f"{junk}:0: not a WARC file" in result.stderr
    assert "nothing imported" in result.stderr
    assert stored_files(archive) == [] and records(archive) == []


def test_usage_errors(tmp_path: Path):
    archive = tmp_path / "archive"
    good = wget(tmp_path / "in").path
    (tmp_path / "notes.txt").write_text("x")
    cases = [([], "give at least one"), ([str(tmp_path / "missing.warc.gz")], "no such file"),
             ([str(tmp_path / "notes.txt")], "not a WARC or ARC file name")]
    for args, words in cases:
        result = run("import", "--archive", str(archive), *args)
        assert result.exit_code == 2 and words in result.stderr, result.stderr
    assert import_(archive, good).exit_code == 0
    [stored] = stored_files(archive)
    inside = run("import", "--archive", str(archive), str(stored))
    assert inside.exit_code == 2 and "archiver reindex" in inside.stderr
    with archive_lock(archive):  # a capture (or another import) is writing
        locked = import_(archive, trailing_garbage(tmp_path / "in").path)
        assert locked.exit_code == 2 and "another archiver process" in locked.stderr
        assert run("reindex", "--archive", str(archive)).exit_code == 2
    assert run("reindex", "--archive", str(tmp_path / "nowhere")).exit_code == 2


# ----------------------------------------------------------------------------- --queue-posts


def test_queue_posts_finds_the_tweets_a_page_cites(tmp_path: Path):
    folder = tmp_path / "in"
    archive = tmp_path / "archive"
    files = [wget(folder), heritrix(folder), warcprox(folder), browsertrix(folder), arc(folder)]
    result = import_(archive, *(f.path for f in files), queue=True)
    assert result.exit_code == 0, result.stderr
    listed = [line.split("\t") for line in result.stdout.splitlines()]
    assert {(p, i) for p, i, *_ in listed} == {("twitter", TWEET_A), ("twitter", TWEET_B)}
    assert all(status == "queued" for _, _, status, _, _ in listed)
    assert "2 post(s) queued for capture" in result.stderr
    with Index(archive / "index.sqlite3") as index:
        post = index.post("twitter", TWEET_A)
        assert post["status"] == "failed" and post["status_reason"].startswith("not yet captured: cited by")
        cited_by = {a["url"] for a in post["articles"]}
        # gzip-encoded (wget), raw chunked (Heritrix), stored de-chunked (browsertrix), ARC pages
        assert cited_by == {PAGE, "https://news.example/2019/10/14/heritrix-page",
                            "https://news.example/2019/10/14/browsed",
                            "http://news.example:80/1996/11/04/old-page.html"}
        assert {a["url"] for a in index.post("twitter", TWEET_B)["articles"]} == {
            PAGE, "https://news.example/2019/10/14/proxied"}
        assert [r["id"] for r in index.iter_posts(status="failed")] == [TWEET_A, TWEET_B]
    articles = table(archive, "SELECT a.url, a.title, a.fetched_at, count(ar.record_pk) AS n FROM articles a"
                              " LEFT JOIN article_records ar ON ar.article_pk = a.pk GROUP BY a.pk ORDER BY a.pk")
    assert articles[0] == {"url": PAGE, "title": "Prisoners escape", "fetched_at": "2019-10-14T12:00:00Z", "n": 1}
    assert [a["n"] for a in articles if a["url"].startswith("http://")] == [0]  # ARC records stay unlinked
    assert "pages in ARC records are recorded as articles but not linked" in result.stderr


def test_queue_posts_on_a_file_imported_before_without_it(tmp_path: Path):
    archive = tmp_path / "archive"
    f = wget(tmp_path / "in")
    assert import_(archive, f.path).stdout == ""
    again = import_(archive, f.path, queue=True)
    assert again.exit_code == 0 and "not imported again" in again.stderr
    assert {tuple(line.split("\t")[:3]) for line in again.stdout.splitlines()} == {
        ("twitter", TWEET_A, "queued"), ("twitter", TWEET_B, "queued")}
    assert len(stored_files(archive)) == 1 and len(records(archive)) == 6
    [article] = table(archive, "SELECT a.url, r.record_type FROM articles a JOIN article_records ar"
                               " ON ar.article_pk = a.pk JOIN records r ON r.pk = ar.record_pk")
    assert article == {"url": PAGE, "record_type": "response"}


def test_queued_posts_are_captured_by_recheck(tmp_path: Path, web: FixtureWeb):
    """The queue is real: `recheck --status failed` captures what an import found. A post the
    archive already held is reported with its status and left alone."""
    TwitterWorld(web, [SEED])
    archive = tmp_path / "archive"
    web.add(ARTICLE, body=article_page(SEED_BLOCKQUOTE), headers=[("Content-Type", "text/html; charset=utf-8")])
    folder = tmp_path / "in"
    first = import_(archive, warcprox(folder).path, queue=True)  # cites TWEET_B only
    assert first.stdout.split("\t")[:3] == ["twitter", TWEET_B, "queued"]
    assert run("capture", ARTICLE, "--no-requisites", "--archive", str(archive), env=web.env()).exit_code == 0
    result = import_(archive, wget(folder).path, queue=True)  # cites SEED (= TWEET_A) and TWEET_B
    rows = {tuple(line.split("\t")[:3]) for line in result.stdout.splitlines()}
    assert rows == {("twitter", TWEET_A, "available"), ("twitter", TWEET_B, "failed")}
    with Index(archive / "index.sqlite3") as index:
        seed = index.post("twitter", TWEET_A)
        assert seed["status"] == "available" and len(seed["status_history"]) == 1
        assert {a["url"] for a in seed["articles"]} == {ARTICLE, PAGE}
    TwitterWorld(web, [SEED])
    recheck = run("recheck", "--status", "failed", "--archive", str(archive), "--retries", "0", env=web.env())
    assert "rechecked 1 post(s)" in recheck.stderr, recheck.stderr
    with Index(archive / "index.sqlite3") as index:
        assert index.post("twitter", TWEET_B)["status"] != "failed"  # the platform answered about it


# ----------------------------------------------------------------------------- reindex


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory, fixtureweb_ca) -> Path:
    """Two real captures of one article (the second all revisits), made once for the module."""
    archive = tmp_path_factory.mktemp("captured") / "archive"
    with FixtureWeb(tmp_path_factory.mktemp("fixtureweb"), ca=fixtureweb_ca) as web:
        TwitterWorld(web, [SEED])
        web.add(ARTICLE, body=article_page(SEED_BLOCKQUOTE), chunked=True,
                headers=[("Content-Type", "text/html; charset=utf-8")])
        for _ in range(2):
            result = run("capture", ARTICLE, "--no-requisites", "--archive", str(archive), env=web.env())
            assert result.exit_code == 0, result.output
    return archive


@pytest.fixture
def archive(captured: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(captured, tmp_path / "archive"))


def _drop_index(archive: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (archive / f"index.sqlite3{suffix}").unlink(missing_ok=True)


def test_reindex_after_deleting_the_index_matches_the_capture(archive: Path):
    before = {r["record_id"]: r for r in records(archive)}
    files = table(archive, "SELECT name, size, sha256 FROM warc_files ORDER BY name")
    _drop_index(archive)
    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 0, result.stderr
    after = {r["record_id"]: r for r in records(archive)}
    for rid, row in before.items():  # same offsets, lengths, digests, types, URLs, statuses...
        assert after[rid] == row
    extra = [r for rid, r in after.items() if rid not in before]
    assert {r["record_type"] for r in extra} == {"warcinfo"}  # capture never indexes its warcinfo
    assert len(extra) == len(files)
    assert table(archive, "SELECT name, size, sha256 FROM warc_files ORDER BY name") == files
    assert result.stderr.strip().endswith(f"{len(files)} file(s), {len(after)} record(s) indexed "
                                          f"({len(after)} new, 0 corrected, 0 unchanged; 0 row(s) removed): 0 problem(s)")
    assert verify_archive(archive).ok


def test_reindex_keeps_articles_posts_and_their_links(archive: Path):
    with Index(archive / "index.sqlite3") as index:
        post = index.post("twitter", SEED.id)
        page_id = index.records_for_url(ARTICLE)[0].record_id
    conn = sqlite3.connect(archive / "index.sqlite3")
    with conn:  # a damaged index: a wrong offset, a row for a record that exists nowhere
        conn.execute("UPDATE records SET warc_offset = warc_offset + 7 WHERE record_id = ?", (page_id,))
        conn.execute("INSERT INTO records (record_id, url, warc, warc_offset, warc_length, record_type, warc_date)"
                     " VALUES ('<urn:uuid:00000000-0000-4000-8000-000000000000>', 'x', 'gone.warc.gz', 0, 1,"
                     " 'response', '2024-01-01T00:00:00Z')")
    conn.close()
    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 1
    assert "1 corrected" in result.stderr and "1 row(s) removed" in result.stderr
    assert f"{archive / 'warcs' / 'gone.warc.gz'}: 1 index row(s) named records found in no file: removed" in result.stderr
    with Index(archive / "index.sqlite3") as index:
        again = index.post("twitter", SEED.id)
        assert again["records"] == post["records"] and again["articles"] == post["articles"]
        assert again["media"] == post["media"] and again["status_history"] == post["status_history"]
    assert verify_archive(archive).ok


def test_reindex_reports_damage_and_indexes_an_open_file(archive: Path):
    warcs = sorted((archive / "warcs").glob("*.warc.gz"))
    last = warcs[-1]
    members = warcio_offsets(last)
    data = last.read_bytes()
    last.write_bytes(data[:members[-1] + 40])  # cut inside its last member
    sink = WarcSink(archive / "warcs", software="test")
    sink.write_resource("urn:test:a", b"first", "text/plain")
    sink.write_resource("urn:test:b", b"second", "text/plain")
    sink.flush()  # never closed, as after a crash
    [open_file] = (archive / "warcs").glob("*.open")
    with open(open_file, "ab") as fh:
        fh.write(gzip.compress(b"WARC/1.1\r\nWARC-Type: resource\r\n" + b"x" * 4000)[:50])
    torn_at = open_file.stat().st_size - 50
    result = run("reindex", "--archive", str(archive))
    assert result.exit_code == 1
    assert any(f"{last}:{members[-1]}: file ends inside this gzip member" in line
               for line in result.stderr.splitlines())
    assert f"{last}: changed since it was closed" in result.stderr
    assert f"{open_file}: not closed (.open)" in result.stderr and "it gets no warc_files row" in result.stderr
    assert f"{open_file}:{torn_at}: file ends inside this gzip member" in result.stderr
    closed_name = open_file.name.removesuffix(".open")
    assert [r["url"] for r in records(archive, closed_name)] == ["", "urn:test:a", "urn:test:b"]
    assert closed_name not in {r["name"] for r in table(archive, "SELECT name FROM warc_files")}
    assert members[-1] not in {r["warc_offset"] for r in records(archive, last.name)}
    assert table(archive, "SELECT size FROM warc_files WHERE name = ?", last.name) == [
        {"size": members[-1] + 40}]


def test_reindex_after_import_gives_the_same_rows(tmp_path: Path):
    """Imported copies read back to the same rows: ARC ids are stable, re-framed offsets exact."""
    archive = tmp_path / "archive"
    files = [build(tmp_path / "in") for build in BUILDERS]
    result = import_(archive, *(f.path for f in files))
    assert result.exit_code == 1  # the damaged ones say so
    before = records(archive)
    files_before = table(archive, "SELECT name, size, sha256 FROM warc_files ORDER BY name")
    _drop_index(archive)
    again = run("reindex", "--archive", str(archive))
    assert again.exit_code == 0, again.stderr  # what was imported is clean
    assert records(archive) == before
    assert table(archive, "SELECT name, size, sha256 FROM warc_files ORDER BY name") == files_before
