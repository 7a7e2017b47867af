"""`archiver capture` end to end against the fixture web: WARCs, index, export, exit codes."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archiver.cli import cli
from archiver.index import Index
from fixtureweb import Response
from twitterworld import (
    SEED,
    SEED_BLOCKQUOTE,
    FakeTweet,
    TwitterWorld,
    Video,
    add_news_site,
    article_page,
    media_bytes,
)
from warcread import assert_valid_headers, read_records, warcio_check

ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"
ROOT = Path(__file__).resolve().parents[1]
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def sha1_label(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def blockquote(t: FakeTweet) -> str:
    return (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{t.text}</p>&mdash; {t.name} '
            f'(@{t.handle}) <a href="{t.permalink}?ref_src=twsrc%5Etfw">October 13, 2019</a></blockquote>')


def serve_article(web, body: str, url: str = ARTICLE, **behaviour) -> bytes:
    page = article_page(body)
    web.add(url, body=page, headers=[("Content-Type", "text/html; charset=utf-8")], **behaviour)
    return page


def capture(web, archive: Path, *args: str):
    result = CliRunner().invoke(cli, ["capture", *args, "--archive", str(archive)], env=web.env(),
                                catch_exceptions=False)
    return result


def export_rows(archive: Path) -> dict[str, dict]:
    result = CliRunner().invoke(cli, ["export", "--archive", str(archive)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {r["id"]: r for r in rows}


def warc_files(archive: Path) -> list[Path]:
    return sorted((archive / "warcs").glob("*.warc.gz"))


def all_records(archive: Path) -> list[dict]:
    out = []
    for path in warc_files(archive):
        for rec in read_records(path):
            rec["file"] = path.name
            out.append(rec)
    return out


def responses_for(records: list[dict], url: str) -> list[dict]:
    return [r for r in records if r["type"] in ("response", "revisit") and r["h"].get_header("WARC-Target-URI") == url]


def record_at(archive: Path, warc: str, offset: int, length: int):
    """Decompress exactly [offset, offset+length) and parse the one record in it."""
    with open(archive / "warcs" / warc, "rb") as fh:
        fh.seek(offset)
        member = fh.read(length)
    data = zlib.decompressobj(31).decompress(member)
    rec = next(iter(ArchiveIterator(io.BytesIO(data))))
    return rec.rec_headers


def assert_archive_sound(archive: Path) -> list[dict]:
    """Every WARC passes warcio check and the WARC 1.1 header rules; no .open file is left."""
    files = warc_files(archive)
    assert files
    assert not list((archive / "warcs").glob("*.open"))
    for path in files:
        check = warcio_check(path)
        assert check.returncode == 0, check.stdout + check.stderr
    records = all_records(archive)
    for rec in records:
        assert_valid_headers(rec)
    return records


# --- the seed case ---------------------------------------------------------------------------


def test_seed_case_end_to_end_through_the_cli(web, tmp_path):
    TwitterWorld(web, [SEED])
    add_news_site(web)
    page = serve_article(web, "<p>Kurdish forces said:</p>" + SEED_BLOCKQUOTE)
    archive = tmp_path / "archive"
    env = {**os.environ, **web.env()}
    proc = subprocess.run([sys.executable, "-m", "archiver", "capture", ARTICLE, "--archive", str(archive)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"twitter\t{SEED.id}\t@RojavaIC\tavailable\tmedia 2/2"]
    assert "1 article(s)" in proc.stderr

    records = assert_archive_sound(archive)
    photo = SEED.photo_url("EGxSeedPhoto1")
    expected = {
        ARTICLE: page,
        photo: media_bytes("/media/EGxSeedPhoto1"),
        SEED.avatar_orig: media_bytes(SEED.avatar_orig.split("pbs.twimg.com")[1]),
        "https://news.example/static/site.css": None,
        "https://news.example/static/fonts.css": None,
        "https://news.example/fonts/x.woff2": media_bytes("https://news.example/fonts/x.woff2", 512),
        "https://news.example/img/bg.png": media_bytes("https://news.example/img/bg.png", 512),
        "https://news.example/img/lead-2x.jpg": media_bytes("https://news.example/img/lead-2x.jpg", 512),
        "https://news.example/favicon.ico": None,
        "https://news.example/static/app.js": None,
        "https://platform.twitter.com/widgets.js": None,
    }
    for url, body in expected.items():
        found = responses_for(records, url)
        assert found, f"no response record for {url}"
        rec = found[-1]
        assert rec["http"].get_statuscode() == "200"
        if body is not None:
            assert rec["content"] == body
            assert rec["h"].get_header("WARC-Payload-Digest") == sha1_label(body)
    # each response has its request, linked
    ids = {r["h"].get_header("WARC-Record-ID"): r for r in records}
    for rec in records:
        if rec["type"] == "request":
            assert ids[rec["h"].get_header("WARC-Concurrent-To")]["type"] in ("response", "revisit")

    # the post's data: syndication (with the JS token) and oEmbed, both recorded
    synd = [r for r in records if r["type"] == "response"
            and (r["h"].get_header("WARC-Target-URI") or "").startswith("https://cdn.syndication.twimg.com/tweet-result?")]
    assert len(synd) == 1 and json.loads(synd[0]["content"])["id_str"] == SEED.id
    assert any((r["h"].get_header("WARC-Target-URI") or "").startswith("https://publish.twitter.com/oembed?") for r in records)

    # chrome is not content: the footer's status link and the share/follow buttons are not posts
    assert web.hits("https://cdn.syndication.twimg.com/tweet-result?id=1000000000000000001") == 0
    assert web.hits("https://twitter.com/intent") == 0

    # the metadata record lists the post, as warc-fields, linked to the article's response
    meta = [r for r in records if r["type"] == "metadata"]
    assert len(meta) == 1
    assert meta[0]["h"].get_header("Content-Type") == "application/warc-fields"
    assert f"twitter:{SEED.id} available".encode() in meta[0]["content"]
    article_resp = responses_for(records, ARTICLE)[-1]
    assert meta[0]["h"].get_header("WARC-Concurrent-To") == article_resp["h"].get_header("WARC-Record-ID")

    # the index: one row per post, every field the export contract names
    rows = export_rows(archive)
    assert list(rows) == [SEED.id]
    row = rows[SEED.id]
    assert row["platform"] == "twitter" and row["status"] == "available" and row["status_reason"] is None
    assert row["author_handle"] == "RojavaIC" and row["author_name"] == "Rojava Information Center"
    assert "859 people successfully escaped" in row["text"]
    assert row["created_at"] == "2019-10-13T16:02:11.000Z"
    assert row["articles"] == [ARTICLE]
    assert row["url"] == SEED.permalink
    assert row["captured_at"] and row["last_checked"]
    media = {m["url"]: m for m in row["media"]}
    assert media[photo]["kind"] == "photo" and media[photo]["captured"] is True
    assert media[photo]["sha256"] == hashlib.sha256(media_bytes("/media/EGxSeedPhoto1")).hexdigest()
    assert media[SEED.avatar_orig]["kind"] == "avatar" and media[SEED.avatar_orig]["captured"] is True
    # the index's offsets land on the records they name
    urls = set()
    for ref in row["records"]:
        headers = record_at(archive, ref["warc"], ref["offset"], ref["length"])
        assert headers.get_header("WARC-Target-URI") == ref["url"]
        urls.add(ref["url"])
    assert photo in urls and SEED.avatar_orig in urls
    # closed WARC files are in the index with their size and sha256
    with Index(archive / "index.sqlite3") as index:
        files = {f["name"]: f for f in index.warc_files()}
    for path in warc_files(archive):
        assert files[path.name]["size"] == path.stat().st_size
        assert files[path.name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_json_output_and_csv_export(web, tmp_path):
    TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--json", "--no-requisites")
    assert result.exit_code == 0, result.output
    posts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(p["platform"], p["id"], p["status"]) for p in posts] == [("twitter", SEED.id, "available")]
    out = CliRunner().invoke(cli, ["export", "--archive", str(archive), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[0]["id"] == SEED.id and rows[0]["author_handle"] == "RojavaIC"
    assert SEED.photo_url("EGxSeedPhoto1") in rows[0]["media"]


def test_recapture_writes_revisits_not_copies(web, tmp_path):
    TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    archive = tmp_path / "a"
    assert capture(web, archive, ARTICLE, "--no-requisites").exit_code == 0
    assert capture(web, archive, ARTICLE, "--no-requisites").exit_code == 0
    records = assert_archive_sound(archive)
    photo = responses_for(records, SEED.photo_url("EGxSeedPhoto1"))
    assert [r["type"] for r in photo] == ["response", "revisit"]
    revisit = photo[1]["h"]
    assert revisit.get_header("WARC-Refers-To") == photo[0]["h"].get_header("WARC-Record-ID")
    assert revisit.get_header("WARC-Truncated") == "length"
    assert web.hits(SEED.photo_url("EGxSeedPhoto1")) == 2  # an explicit capture always fetches again


# --- video, quotes, replies ------------------------------------------------------------------


def test_video_quote_and_reply(web, tmp_path):
    video = Video("1200000000000000000", variants=[
        (832000, "640x360", False), (2176000, "1280x720", False), (2176000, "960x540", False),
        (10368000, "1920x1080", True)])
    hls_only = Video("1200000000000000099", variants=[], mp4=False)
    quoted = FakeTweet(id="1200000000000000002", handle="quoted", name="Quoted", text="the original")
    parent = FakeTweet(id="1200000000000000003", handle="parent", name="Parent", text="a question")
    vid = FakeTweet(id="1200000000000000001", handle="vid", name="Vid", text="watch", video=video, tco="VidCode001")
    quote = FakeTweet(id="1200000000000000004", handle="quoter", name="Quoter", text="look at this",
                      quoted=quoted.id)
    reply = FakeTweet(id="1200000000000000005", handle="replier", name="Replier", text="an answer",
                      parent=parent.id, video=hls_only, tco="HlsCode001")
    TwitterWorld(web, [video_t for video_t in (quoted, parent, vid, quote, reply)])
    serve_article(web, blockquote(vid) + blockquote(quote) + blockquote(reply))
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--no-requisites")
    assert result.exit_code == 0, result.output
    rows = export_rows(archive)
    assert set(rows) == {vid.id, quote.id, reply.id, quoted.id, parent.id}
    assert all(r["status"] == "available" for r in rows.values())
    # the quoted and parent posts are held, though the article does not cite them
    assert rows[quoted.id]["articles"] == [] and rows[parent.id]["author_handle"] == "parent"
    vid_media = {m["url"]: m for m in rows[vid.id]["media"]}
    urls = {u: size for _b, size, u in video.variant_urls()}
    best = next(u for u, size in urls.items() if size == "1280x720")
    assert vid_media[best]["kind"] == "video" and vid_media[best]["captured"]
    assert not any("/hevc/" in u for u in vid_media)
    assert video.poster in vid_media
    # no MP4: the HLS playlist and its segments
    reply_media = {m["kind"]: m for m in rows[reply.id]["media"]}
    assert reply_media["hls"]["captured"]
    records = assert_archive_sound(archive)
    assert any(r["h"].get_header("WARC-Target-URI", "").endswith("/seg1.ts") for r in records if r["type"] == "response")
    with Index(archive / "index.sqlite3") as index:
        related = index.post("twitter", quote.id)["related"]
        assert [(r["relation"], r["platform"], r["id"], r["status"]) for r in related] == [
            ("quotes", "twitter", quoted.id, "available")]


# --- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize("state,status,reason", [
    ("gone", "deleted", None),
    ("tombstone-deleted", "deleted", "deleted by the Post author"),
    ("protected", "protected", None),
    ("suspended", "suspended", "suspended account"),
    ("suspended-nouser", "suspended", None),
    ("age", "unavailable", "Age-restricted"),
])
def test_post_status_from_evidence(web, tmp_path, state, status, reason):
    t = FakeTweet(id="1300000000000000001", handle="gone", name="Gone", text="was here", state=state)
    TwitterWorld(web, [t])
    serve_article(web, blockquote(t))
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--no-requisites")
    assert result.exit_code == 0, result.output  # a deleted post is a finding, not a failure
    row = export_rows(archive)[t.id]
    assert row["status"] == status
    if reason:
        assert reason in row["status_reason"]
    # the responses that prove it are in the WARC
    prefixes = {r["url"].split("?")[0] for r in row["records"]}
    assert {"https://cdn.syndication.twimg.com/tweet-result", "https://publish.twitter.com/oembed"} <= prefixes


def test_wrong_token_would_mean_unusable_syndication(web, tmp_path):
    """The token is X's JS algorithm: the strict fake answers {} to anything else, and we get data."""
    TwitterWorld(web, [SEED], strict_token=True)
    serve_article(web, SEED_BLOCKQUOTE)
    archive = tmp_path / "a"
    assert capture(web, archive, ARTICLE, "--no-requisites").exit_code == 0
    assert export_rows(archive)[SEED.id]["text"].startswith("We spoke now")


# --- faults ------------------------------------------------------------------------------------


def test_transient_faults_are_retried(web, tmp_path):
    world = TwitterWorld(web, [SEED])
    page = article_page(SEED_BLOCKQUOTE)
    web.route(ARTICLE, lambda r: Response(503, body=b"busy") if r.attempt == 1 else Response(
        200, body=page, headers=[("Content-Type", "text/html")]))
    web.route("https://cdn.syndication.twimg.com/tweet-result", lambda r: Response(
        429, body=b"Rate limit exceeded", headers=[("Retry-After", "1"), ("Content-Type", "text/plain")])
        if r.attempt == 1 else world.syndication(r))
    photo = SEED.photo_url("EGxSeedPhoto1")
    web.route(photo.split("?")[0], lambda r: Response(reset=True) if r.attempt == 1 else world.media(r))
    web.route(SEED.avatar_orig, lambda r: Response(200, body=media_bytes("/x", 4096), cut_after=1000,
                                                   headers=[("Content-Type", "image/jpeg")])
              if r.attempt == 1 else world.media(r))
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--no-requisites")
    assert result.exit_code == 0, result.output
    row = export_rows(archive)[SEED.id]
    assert row["status"] == "available"
    assert all(m["captured"] for m in row["media"])
    # Retry-After was honoured: the second syndication request came at least a second later
    hits = [e.time for e in web.log if e.url.startswith("https://cdn.syndication.twimg.com/")]
    assert len(hits) == 2 and hits[1] - hits[0] >= 0.9
    records = assert_archive_sound(archive)
    statuses = [r["http"].get_statuscode() for r in responses_for(records, ARTICLE)]
    assert statuses == ["503", "200"]  # the failed attempt is evidence too
    avatar = responses_for(records, SEED.avatar_orig)
    assert avatar[0]["h"].get_header("WARC-Truncated") == "disconnect"
    assert len(avatar[0]["content"]) < 4096
    assert avatar[-1]["h"].get_header("WARC-Truncated") is None


def test_retries_exhausted_is_failed_and_exit_1(web, tmp_path):
    TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    web.add("https://cdn.syndication.twimg.com/tweet-result", status=503, body=b"down")
    web.add("https://publish.twitter.com/oembed", status=502, body=b"down")
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--no-requisites", "--retries", "1")
    assert result.exit_code == 1, result.output
    assert export_rows(archive)[SEED.id]["status"] == "failed"
    assert web.hits("https://cdn.syndication.twimg.com/") == 2


def test_body_cut_short_every_time_is_marked_truncated(web, tmp_path):
    world = TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    photo = SEED.photo_url("EGxSeedPhoto1")
    web.route(photo.split("?")[0], lambda r: Response(200, body=media_bytes("/y", 5000), cut_after=700,
                                                      headers=[("Content-Type", "image/jpeg")]))
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--no-requisites", "--retries", "1")
    assert result.exit_code == 1  # worth trying again
    row = export_rows(archive)[SEED.id]
    assert row["status"] == "available"
    assert {m["url"]: m["captured"] for m in row["media"]}[photo] is False
    records = assert_archive_sound(archive)
    cut = responses_for(records, photo)
    assert len(cut) == 2
    assert all(r["h"].get_header("WARC-Truncated") == "disconnect" for r in cut)
    assert all(len(r["content"]) < 5000 for r in cut)
    del world


def test_chunked_response_is_stored_dechunked(web, tmp_path):
    TwitterWorld(web, [SEED])
    page = serve_article(web, SEED_BLOCKQUOTE, chunked=True)
    archive = tmp_path / "a"
    assert capture(web, archive, ARTICLE, "--no-requisites").exit_code == 0
    records = assert_archive_sound(archive)  # warcio check agrees with the spec digest
    rec = responses_for(records, ARTICLE)[-1]
    http = rec["http"]
    assert http.get_header("Transfer-Encoding") is None
    assert http.get_header("X-Archiver-Transfer-Encoding") == "chunked"
    assert http.get_header("Content-Length") == str(len(page))
    assert rec["content"] == page
    assert rec["h"].get_header("WARC-Payload-Digest") == sha1_label(page)


def test_redirect_chain_recorded_hop_by_hop(web, tmp_path):
    TwitterWorld(web, [SEED])
    web.add("https://news.example/old", status=301, headers=[("Location", "http://news.example/mid")])
    web.add("http://news.example/mid", status=302, headers=[("Location", ARTICLE)])
    serve_article(web, SEED_BLOCKQUOTE)
    archive = tmp_path / "a"
    result = capture(web, archive, "https://news.example/old", "--no-requisites")
    assert result.exit_code == 0, result.output
    records = assert_archive_sound(archive)
    for url, code in (("https://news.example/old", "301"), ("http://news.example/mid", "302"), (ARTICLE, "200")):
        resp = responses_for(records, url)
        assert [r["http"].get_statuscode() for r in resp] == [code]
        assert any(r["type"] == "request" and r["h"].get_header("WARC-Target-URI") == url for r in records)
    assert export_rows(archive)[SEED.id]["articles"] == ["https://news.example/old"]


def test_redirect_loop_is_reported(web, tmp_path):
    web.add("https://news.example/a", status=302, headers=[("Location", "/b")])
    web.add("https://news.example/b", status=302, headers=[("Location", "/a")])
    archive = tmp_path / "a"
    result = capture(web, archive, "https://news.example/a")
    assert result.exit_code == 1
    assert "redirect loop" in result.stderr
    assert web.hits("https://news.example/a") == 1


@pytest.mark.parametrize("user_agent,code", [(None, "301"), (BROWSER_UA, "200")])
def test_tco_link_resolved_for_any_user_agent(web, tmp_path, user_agent, code):
    TwitterWorld(web, [SEED])
    serve_article(web, '<p>As the centre said <a href="https://t.co/GKa1TV7NIJ">https://t.co/GKa1TV7NIJ</a>.</p>')
    archive = tmp_path / "a"
    args = ["--no-requisites"] + (["--user-agent", user_agent] if user_agent else [])
    result = capture(web, archive, ARTICLE, *args)
    assert result.exit_code == 0, result.output
    row = export_rows(archive)[SEED.id]
    assert row["status"] == "available"
    records = assert_archive_sound(archive)
    assert [r["http"].get_statuscode() for r in responses_for(records, "https://t.co/GKa1TV7NIJ")] == [code]
    assert "https://t.co/GKa1TV7NIJ" in {r["url"] for r in row["records"]}
    if user_agent:
        sent = [e for e in web.log if e.url == "https://t.co/GKa1TV7NIJ"][0]
        assert sent.headers["User-Agent"] == user_agent


def test_private_addresses_never_fetched(web, tmp_path):
    TwitterWorld(web, [SEED])
    web.add("https://news.example/img/redir.jpg", status=302,
            headers=[("Location", "http://169.254.169.254/latest/user-data")])
    serve_article(web, SEED_BLOCKQUOTE + '<img src="http://169.254.169.254/latest/meta-data/">'
                  '<img src="/img/redir.jpg"><img src="http://[::1]/x.png"><img src="http://2130706433/y.png">')
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE)
    assert result.exit_code == 0, result.output
    assert web.hits("http://169.254.169.254") == 0
    assert not [h for h in web.hosts() if h.startswith(("169.254.", "[::1]", "2130706433", "127."))]
    records = assert_archive_sound(archive)
    assert [r["http"].get_statuscode() for r in responses_for(records, "https://news.example/img/redir.jpg")] == ["302"]


# --- usage -------------------------------------------------------------------------------------


def test_unusable_input_exits_2(web, tmp_path):
    assert capture(web, tmp_path / "a", "not-a-url").exit_code == 2
    assert capture(web, tmp_path / "a", "ftp://example.com/x").exit_code == 2
    assert CliRunner().invoke(cli, ["capture", "--no-such-option", ARTICLE]).exit_code == 2
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = capture(web, blocker / "archive", ARTICLE)
    assert result.exit_code == 2 and "not writable" in result.stderr


def test_urls_from_file_and_failed_article_exit_1(web, tmp_path):
    TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    web.add("https://news.example/missing", status=404, body=b"nope")
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# seeds\n{ARTICLE}\n\nhttps://news.example/missing\n")
    archive = tmp_path / "a"
    result = capture(web, archive, "-i", str(urls), "--no-requisites")
    assert result.exit_code == 1
    assert "HTTP 404" in result.stderr
    assert SEED.id in export_rows(archive)


def test_warc_rotation_records_every_closed_file(web, tmp_path):
    TwitterWorld(web, [SEED])
    add_news_site(web)
    serve_article(web, SEED_BLOCKQUOTE)
    archive = tmp_path / "a"
    assert capture(web, archive, ARTICLE, "--warc-max-size", "4KB").exit_code == 0
    files = warc_files(archive)
    assert len(files) > 3
    assert_archive_sound(archive)
    with Index(archive / "index.sqlite3") as index:
        recorded = {f["name"]: f for f in index.warc_files()}
    assert set(recorded) == {p.name for p in files}
    for path in files:
        assert recorded[path.name]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_readme_offline_demo_works(tmp_path):
    """README's offline walk-through: the demo fixture web, then a plain `archiver capture`."""
    demo = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fixtureweb_demo.py")],
                            stdout=subprocess.PIPE, text=True)
    try:
        env = dict(os.environ)
        for line in demo.stdout:
            if line.startswith("READY"):
                break
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                env[key] = value
        proc = subprocess.run([sys.executable, "-m", "archiver", "capture", ARTICLE, "--archive", str(tmp_path / "a")],
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert f"{SEED.id}\t@RojavaIC\tavailable" in proc.stdout
    finally:
        demo.terminate()
        demo.wait(10)


# --- fetch options -----------------------------------------------------------------------------


def test_proxy_and_ca_flags_instead_of_environment(web, tmp_path):
    TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    archive = tmp_path / "a"
    env = {k: "" for k in web.env()}  # no proxy, no CA bundle in the environment
    result = CliRunner().invoke(cli, ["capture", ARTICLE, "--archive", str(archive), "--no-requisites",
                                      "--proxy", web.proxy_url, "--ca-bundle", web.ca_path], env=env)
    assert result.exit_code == 0, result.output
    assert export_rows(archive)[SEED.id]["status"] == "available"


def test_cookies_and_headers_sent_but_credentials_not_recorded(web, tmp_path):
    TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    jar = tmp_path / "cookies.txt"
    jar.write_text("# Netscape HTTP Cookie File\n"
                   "news.example\tFALSE\t/\tTRUE\t0\tsession\tsecret-value\n")
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--no-requisites", "--cookies", str(jar),
                     "--header", "Authorization: Bearer hush", "--header", "X-Research: yes")
    assert result.exit_code == 0, result.output
    sent = [e for e in web.log if e.url == ARTICLE][0].headers
    assert sent["Cookie"] == "session=secret-value" and sent["X-Research"] == "yes"
    requests_ = [r for r in all_records(archive) if r["type"] == "request"]
    raw = b"".join(r["content"] for r in requests_) + b"".join(
        str(r["http"]).encode() for r in requests_)
    assert b"secret-value" not in raw and b"hush" not in raw
    assert b"X-Research: yes" in raw

    archive2 = tmp_path / "b"
    result = capture(web, archive2, ARTICLE, "--no-requisites", "--cookies", str(jar), "--record-credentials")
    assert result.exit_code == 0
    heads = [str(r["http"]) for r in all_records(archive2) if r["type"] == "request"]
    assert any("session=secret-value" in h for h in heads)


def test_max_size_cuts_and_marks_the_record(web, tmp_path):
    world = TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    photo = SEED.photo_url("EGxSeedPhoto1")
    big = media_bytes("/big", 300_000)
    web.route(photo.split("?")[0], lambda r: Response(200, body=big, headers=[("Content-Type", "image/jpeg")]))
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--no-requisites", "--max-size", "100KB")
    assert result.exit_code == 1
    records = assert_archive_sound(archive)
    rec = responses_for(records, photo)
    assert len(rec) == 1  # not retried: the size will not change
    assert rec[0]["h"].get_header("WARC-Truncated") == "length"
    assert rec[0]["content"] == big[:100_000]
    del world


def test_max_time_stops_a_dripping_server(web, tmp_path):
    TwitterWorld(web, [SEED])
    serve_article(web, SEED_BLOCKQUOTE)
    photo = SEED.photo_url("EGxSeedPhoto1")
    web.route(photo.split("?")[0], lambda r: Response(200, body=b"x" * 200, drip=0.1, drip_size=1,
                                                      headers=[("Content-Type", "image/jpeg")]))
    archive = tmp_path / "a"
    result = capture(web, archive, ARTICLE, "--no-requisites", "--max-time", "1s", "--retries", "0")
    assert result.exit_code == 1
    rec = responses_for(assert_archive_sound(archive), photo)
    assert rec[0]["h"].get_header("WARC-Truncated") == "time"
    assert 0 < len(rec[0]["content"]) < 200


def test_help_for_every_command():
    for args in (["--help"], ["capture", "--help"], ["export", "--help"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and "Example" in result.output or args == ["--help"]
