"""`archiver verify` (issue #4): a clean capture verifies; each kind of damage is found where it is."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtureweb import FixtureWeb
from twitterworld import SEED, SEED_BLOCKQUOTE, TwitterWorld, article_page, media_bytes
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter
from warcread import read_records

from archiver.cli import cli
from archiver.index import Index
from archiver.verify import verify_archive, verify_file
from archiver.warc import WarcSink

ARTICLE = "https://news.example/2019/10/14/isis-prisoners-escape"
PHOTO = SEED.photo_url("EGxSeedPhoto1")
PHOTO_BYTES = media_bytes("/media/EGxSeedPhoto1")
MOVED_AVATAR = "https://pbs.twimg.com/moved/avatar.jpg"


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, fixtureweb_ca) -> Path:
    """Two real captures of one article through the fixture web, made once for the module.

    The article is served chunked (stored de-chunked); the avatar redirects, so its bytes are
    at another URL than its media row's; the second capture is all revisits, so media sha256s
    are checked both directly and through a revisit's original.
    """
    archive = tmp_path_factory.mktemp("pristine") / "archive"
    with FixtureWeb(tmp_path_factory.mktemp("fixtureweb"), ca=fixtureweb_ca) as web:
        TwitterWorld(web, [SEED])
        web.add(ARTICLE, body=article_page(SEED_BLOCKQUOTE), chunked=True,
                headers=[("Content-Type", "text/html; charset=utf-8")])
        web.add(SEED.avatar_orig, status=302, headers=[("Location", MOVED_AVATAR)])
        web.add(MOVED_AVATAR, body=media_bytes("moved avatar"), headers=[("Content-Type", "image/jpeg")])
        for _ in range(2):
            result = CliRunner().invoke(cli, ["capture", ARTICLE, "--no-requisites", "--archive", str(archive)],
                                        env=web.env(), catch_exceptions=False)
            assert result.exit_code == 0, result.output
    assert len(warcs(archive)) == 2
    with Index(archive / "index.sqlite3") as index:
        avatar = next(m for m in index.post("twitter", SEED.id)["media"] if m["kind"] == "avatar")
    assert avatar["url"] == SEED.avatar_orig and avatar["captured"]
    assert avatar["sha256"] == hashlib.sha256(media_bytes("moved avatar")).hexdigest()
    return archive


@pytest.fixture
def archive(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the pristine archive, to damage."""
    return Path(shutil.copytree(pristine, tmp_path / "archive"))


def warcs(archive: Path) -> list[Path]:
    return sorted((archive / "warcs").glob("*.warc.gz"))


def verify(archive: Path, *args: str):
    result = CliRunner().invoke(cli, ["verify", "--archive", str(archive), *args], catch_exceptions=False)
    assert "Traceback" not in result.output and "could not finish" not in result.output, result.output
    return result


def lines_at(result, path: Path, offset: int | None = None) -> list[str]:
    """stdout lines about `path` (at `offset`, or about the whole file when offset is None)."""
    prefix = f"{path}: " if offset is None else f"{path}:{offset}: "
    return [line for line in result.stdout.splitlines() if line.startswith(prefix)]


def offsets_in(result, path: Path) -> set[int]:
    out = set()
    for line in result.stdout.splitlines():
        if line.startswith(f"{path}:") and not line.startswith(f"{path}: "):
            out.add(int(line[len(str(path)) + 1:].split(":", 1)[0]))
    return out


def member(archive: Path, url: str, rtype: str = "response") -> tuple[Path, int, int]:
    """(file, offset, length) of the gzip member the index names for `url`."""
    with Index(archive / "index.sqlite3") as index:
        ref = next(r for r in index.records_for_url(url) if r.record_type == rtype)
    return archive / "warcs" / ref.warc, ref.offset, ref.length


def flip(path: Path, at: int, mask: int = 0x01) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= mask
    path.write_bytes(bytes(data))


def sql(archive: Path, statement: str, *params) -> None:
    conn = sqlite3.connect(archive / "index.sqlite3")
    try:
        with conn:
            assert conn.execute(statement, params).rowcount >= 1
    finally:
        conn.close()


def sha1_label(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def gz_record(rtype: str, uri: str, block: bytes, *, content_length: int | None = None,
              extra: list[tuple[str, str]] = (), content_type: str = "text/plain") -> bytes:
    """One WARC record as its own gzip member, written by hand so it can lie on purpose."""
    fields = [("WARC-Type", rtype), ("WARC-Record-ID", f"<urn:uuid:00000000-0000-4000-8000-{len(block):012d}>"),
              ("WARC-Date", "2024-01-01T00:00:00.000000Z"), ("WARC-Target-URI", uri),
              ("Content-Type", content_type), *extra,
              ("Content-Length", str(len(block) if content_length is None else content_length))]
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return gzip.compress(head.encode() + block + b"\r\n\r\n")


ENTITY = b"a chunked body, " * 8
CHUNKED_HTTP = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"%x\r\n%s\r\n0\r\n\r\n" % (len(ENTITY), ENTITY))


# ----------------------------------------------------------------------------- a clean archive


def test_clean_capture_verifies(pristine: Path):
    result = verify(pristine)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    total = sum(len(read_records(p)) for p in warcs(pristine))
    assert result.stderr.strip().splitlines()[-1] == f"2 file(s), {total} record(s) checked: 0 problem(s)"
    report = verify_archive(pristine)
    assert report.ok and report.files == 2 and report.records == total and not report.notes
    assert all(not list(verify_file(p)) for p in warcs(pristine))
    # FILE arguments: only those files (and the index rows about them)
    one = verify(pristine, str(warcs(pristine)[1]))
    assert one.exit_code == 0 and "1 file(s)" in one.stderr


# ----------------------------------------------------------------------------- one flipped byte


def _in_stored_payload(data: bytes, start: int, length: int) -> int:
    return data.index(PHOTO_BYTES, start, start + length) + 1000  # stored member: the bytes are verbatim


def _in_compressed_html(data: bytes, start: int, length: int) -> int:
    return start + length // 2


def _in_warc_header(data: bytes, start: int, length: int) -> int:
    return data.index(b"WARC-Date: ", start, start + length) + 15  # a digit of the year


def _in_gzip_trailer(data: bytes, start: int, length: int) -> int:
    return start + length - 6  # inside the CRC-32


@pytest.mark.parametrize("url,where,expected", [
    (PHOTO, _in_stored_payload, "WARC-Payload-Digest mismatch"),
    (ARTICLE, _in_compressed_html, "gzip"),
    (PHOTO, _in_warc_header, "gzip CRC-32 mismatch"),  # no digest covers WARC headers: the CRC does
    (ARTICLE, _in_gzip_trailer, "gzip CRC-32 mismatch"),
], ids=["stored-media-payload", "compressed-html", "warc-header", "gzip-trailer"])
def test_one_flipped_byte_is_found_at_its_member(archive: Path, url, where, expected):
    path, start, length = member(archive, url)
    flip(path, where(path.read_bytes(), start, length))
    result = verify(archive)
    assert result.exit_code == 1
    here = lines_at(result, path, start)
    assert any(expected in line for line in here), result.stdout
    assert offsets_in(result, path) == {start}  # nothing else in the file is blamed
    assert any("it changed since" in line for line in lines_at(result, path))  # and the file's sha256
    assert "problem(s)" in result.stderr and "0 problem(s)" not in result.stderr


def test_damaged_media_payload_also_fails_its_index_sha256(archive: Path):
    path, start, length = member(archive, PHOTO)
    flip(path, _in_stored_payload(path.read_bytes(), start, length))
    here = lines_at(verify(archive), path, start)
    assert any("media sha256 in the index" in line for line in here)
    assert any("WARC-Block-Digest mismatch" in line for line in here)


def test_every_sampled_byte_flip_is_found(archive: Path):
    """A sweep over a whole file: each flip is reported at its own member, except in a gzip
    header's MTIME/XFL/OS bytes, which only the file's sha256 covers (tested above)."""
    path = warcs(archive)[1]
    members = [(r["offset"], r["length"]) for r in read_records(path)]
    original = path.read_bytes()
    for at in range(0, len(original), 17):
        start = next(s for s, n in members if s <= at < s + n)
        if 4 <= at - start <= 9:
            continue
        damaged = bytearray(original)
        damaged[at] ^= 0xFF
        path.write_bytes(damaged)
        found = list(verify_file(path))
        assert any(p.offset == start and p.level == "error" for p in found), (at, [str(p) for p in found])
        assert not any("could not finish" in p.message for p in found)


# ----------------------------------------------------------------------------- the index


def test_wrong_index_offset_is_reported(archive: Path):
    path, start, _ = member(archive, PHOTO)
    sql(archive, "UPDATE records SET warc_offset = warc_offset + 7 WHERE url = ? AND record_type = 'response'", PHOTO)
    result = verify(archive)
    assert result.exit_code == 1
    [line] = lines_at(result, path, start + 7)
    assert "no gzip member starts at this offset" in line and f"that record is at offset {start}" in line
    assert result.stdout.count("\n") == 1


def test_index_row_naming_another_record_is_reported(archive: Path):
    path, start, _ = member(archive, PHOTO)
    _, request_at, request_len = member(archive, PHOTO, "request")
    sql(archive, "UPDATE records SET warc_offset = ?, warc_length = ? WHERE url = ? AND record_type = 'response'",
        request_at, request_len, PHOTO)
    [line] = lines_at(verify(archive), path, request_at)
    assert f"(it is at offset {start})" in line


def test_media_sha256_mismatch_is_reported(archive: Path):
    sql(archive, "UPDATE media SET sha256 = ? WHERE url = ?", "0" * 64, PHOTO)
    result = verify(archive)
    assert result.exit_code == 1
    path, start, _ = member(archive, PHOTO)
    [line] = lines_at(result, path, start)
    assert "media sha256 in the index (" + "0" * 64 in line
    assert hashlib.sha256(PHOTO_BYTES).hexdigest() in line


def test_whole_file_sha256_mismatch_is_reported(archive: Path):
    path = warcs(archive)[0]
    sql(archive, "UPDATE warc_files SET sha256 = ? WHERE name = ?", "f" * 64, path.name)
    result = verify(archive)
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(f"{path}: sha256 is {hashlib.sha256(path.read_bytes()).hexdigest()}")


def test_missing_file_is_reported(archive: Path):
    path = warcs(archive)[0]
    path.unlink()
    result = verify(archive)
    assert result.exit_code == 1
    assert any("missing: the index recorded it closed" in line for line in lines_at(result, path))


# ----------------------------------------------------------------------------- broken files


def test_truncated_file_is_reported_at_its_last_member(archive: Path):
    path = warcs(archive)[-1]
    last_at, last_len = read_records(path)[-1]["offset"], read_records(path)[-1]["length"]
    path.write_bytes(path.read_bytes()[:last_at + last_len // 2])
    result = verify(archive)
    assert result.exit_code == 1
    [line] = lines_at(result, path, last_at)
    assert "file ends inside this gzip member" in line
    assert any("size is" in line for line in lines_at(result, path))


def test_trailing_garbage_is_reported(archive: Path):
    path = warcs(archive)[0]
    size = path.stat().st_size
    path.write_bytes(path.read_bytes() + b"\x00garbage\n")
    result = verify(archive)
    assert result.exit_code == 1
    [line] = lines_at(result, path, size)
    assert "9 byte(s) of trailing data that are not a gzip member" in line


def test_content_length_past_end_of_file(tmp_path: Path):
    good = gz_record("resource", "urn:x:1", b"fine")
    path = tmp_path / "cl.warc.gz"
    path.write_bytes(good + gz_record("resource", "urn:x:2", b"short", content_length=100))
    [problem] = [p for p in verify_file(path) if p.level == "error"]
    assert problem.offset == len(good)
    assert "Content-Length 100 runs past the end of the file: only 9 of its block bytes are there" in problem.message
    # the same in an uncompressed WARC, at the record's own offset
    plain = tmp_path / "cl.warc"
    first = gzip.decompress(good)
    plain.write_bytes(first + gzip.decompress(gz_record("resource", "urn:x:2", b"short", content_length=100)))
    [problem] = list(verify_file(plain))
    assert problem.offset == len(first) and "runs past the end of the file" in problem.message


def test_open_file_reported_and_its_complete_records_checked(tmp_path: Path):
    archive = tmp_path / "archive"
    archive.mkdir()
    Index(archive / "index.sqlite3").close()
    sink = WarcSink(archive / "warcs", software="test")
    sink.write_resource("urn:test:a", b"first", "text/plain")
    sink.write_resource("urn:test:b", b"second", "text/plain")
    sink.flush()  # not closed: the file keeps its .open name, as after a crash
    [path] = (archive / "warcs").glob("*.open")
    size = path.stat().st_size
    with open(path, "ab") as fh:  # a torn record, as a crash mid-write leaves
        fh.write(gz_record("resource", "urn:test:c", b"x" * 5000)[:60])
    report = verify_archive(archive)
    assert report.records == 3 and not report.ok
    assert [(p.offset, p.message.split(":")[0]) for p in report.problems] == [
        (None, "not closed (.open)"),
        (size, "file ends inside this gzip member, 60 byte(s) into it; the rest is missing")]
    assert all(p.file == str(path) for p in report.problems)


# ----------------------------------------------------------------------------- other tools' WARCs


def _warcio_file(path: Path, *, gzip_members: bool = True) -> None:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gzip_members, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "warcio"}))
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")],
                                protocol="HTTP/1.1")
        chunked = CHUNKED_HTTP.split(b"\r\n\r\n", 1)[1]
        writer.write_record(writer.create_warc_record("http://example.com/c", "response",
                                                      payload=io.BytesIO(chunked), http_headers=http))


@pytest.mark.parametrize("gzip_members", [True, False], ids=["warc.gz", "warc"])
def test_warcio_chunked_payload_digest_accepted_with_a_note(tmp_path: Path, gzip_members: bool):
    path = tmp_path / ("w.warc.gz" if gzip_members else "w.warc")
    _warcio_file(path, gzip_members=gzip_members)
    assert [r["h"].get_header("WARC-Payload-Digest") for r in read_records(path)][1] == sha1_label(
        CHUNKED_HTTP.split(b"\r\n\r\n", 1)[1])  # warcio's convention: the raw chunked bytes
    [note] = list(verify_file(path))
    assert note.level == "note" and "warcio's convention" in note.message
    result = CliRunner().invoke(cli, ["verify", "--archive", str(tmp_path / "none"), str(path)])
    assert result.exit_code == 0 and result.stdout == ""
    assert "warcio's convention" in result.stderr and "0 problem(s), 1 note(s)" in result.stderr


def test_spec_chunked_payload_digest_accepted_and_wrong_one_refused(tmp_path: Path):
    path = tmp_path / "spec.warc.gz"
    http_type = "application/http; msgtype=response"
    path.write_bytes(
        gz_record("response", "http://example.com/spec", CHUNKED_HTTP, content_type=http_type,
                  extra=[("WARC-Payload-Digest", sha1_label(ENTITY))])
        + gz_record("response", "http://example.com/bad", CHUNKED_HTTP, content_type=http_type,
                    extra=[("WARC-Payload-Digest", sha1_label(b"something else"))]))
    found = list(verify_file(path))
    [note] = [p for p in found if p.level == "note"]
    assert note.offset == 0 and "de-chunked entity (the WARC 1.1 convention)" in note.message
    [error] = [p for p in found if p.level == "error"]
    assert error.offset > 0 and "WARC-Payload-Digest mismatch (chunked)" in error.message
    assert sha1_label(ENTITY) in error.message  # says what the de-chunked entity hashes to


def test_json_output(archive: Path):
    path, start, length = member(archive, ARTICLE)
    flip(path, _in_gzip_trailer(path.read_bytes(), start, length))
    result = verify(archive, "--json")
    assert result.exit_code == 1
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"file": str(path), "offset": start, "level": "error",
            "message": rows[0]["message"]} == rows[0] and "CRC-32" in rows[0]["message"]


def test_nothing_to_verify_is_a_usage_error(tmp_path: Path):
    result = CliRunner().invoke(cli, ["verify", "--archive", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no archive" in result.stderr
