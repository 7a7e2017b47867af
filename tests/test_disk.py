"""Disks and processes (issue #6): disk full, torn WARC files, kills, two processes on one archive.

Every run is the real CLI in its own process. A full disk is simulated the way an unprivileged
test can: RLIMIT_FSIZE in the child (SIGXFSZ ignored), so any write past the limit fails with
EFBIG, exactly where ENOSPC would. The checks afterwards read every WARC to its end with warcio,
hold every index row against the bytes on disk, and run `archiver verify`.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from fixtureweb import FixtureWeb, Response, repeat_bytes
from twitterworld import SEED, SEED_BLOCKQUOTE, FakeTweet, TwitterWorld, Video, add_news_site, article_page
from warcread import index_rows

ROOT = Path(__file__).resolve().parents[1]
SMALL = "https://news.example/2019/10/14/isis-prisoners-escape"
BIG = "https://news.example/2019/10/15/gallery"
THIRD = "https://news.example/2019/10/16/later"
GALLERY = [FakeTweet(id=f"15000000000000001{i:02d}", handle=f"u{i}", name=f"U {i}", text=f"photo {i}",
                     photos=[f"Gallery{i}"]) for i in range(6)]


def blockquote(t: FakeTweet) -> str:
    return (f'<blockquote class="twitter-tweet"><p>{t.text}</p>&mdash; {t.name} (@{t.handle}) '
            f'<a href="{t.permalink}">October 15, 2019</a></blockquote>')


def serve(web: FixtureWeb, url: str, body: str, **behaviour) -> None:
    web.add(url, body=article_page(body), headers=[("Content-Type", "text/html; charset=utf-8")], **behaviour)


def gallery_web(web: FixtureWeb) -> None:
    """SMALL cites the seed tweet; BIG six tweets with a 300 kB photo each (~2 MB of WARC)."""
    TwitterWorld(web, [SEED, *GALLERY])
    add_news_site(web)
    for t in GALLERY:
        body = repeat_bytes(300_000, chunk=50_000, seed=int(t.id[-2:]))
        web.route(t.photo_url(t.photos[0]).split("?")[0],
                  lambda r, body=body: Response(200, body, headers=[("Content-Type", "image/jpeg")]))
    serve(web, SMALL, SEED_BLOCKQUOTE)
    serve(web, BIG, "".join(blockquote(t) for t in GALLERY))
    serve(web, THIRD, "<p>nothing cited</p>")


def file_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, like ENOSPC
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def archiver(web: FixtureWeb | None, *args: str, limit: int | None = None, timeout: float = 120,
             **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(web.env() if web else {})}
    return subprocess.run([sys.executable, "-m", "archiver", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=file_limit(limit) if limit else None, **kw)


def start(web: FixtureWeb, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **web.env()}
    return subprocess.Popen([sys.executable, "-m", "archiver", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def warc_paths(archive: Path) -> list[Path]:
    return sorted((archive / "warcs").glob("*.warc.gz*"))


def read_to_end(path: Path) -> list[str]:
    """Every record's type, each read whole: warcio raises on a torn record or trailing garbage."""
    types = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            rec.content_stream().read()
            types.append(rec.rec_type)
    return types


def assert_index_within_files(archive: Path) -> int:
    """No index row points past the end of its file (closed, or still `.open`); returns the row count."""
    rows = index_rows(archive, "SELECT warc, warc_offset, warc_length FROM records")
    sizes = {p.name.removesuffix(".open"): p.stat().st_size for p in warc_paths(archive)}
    for warc, offset, length in rows:
        assert warc in sizes, warc
        assert offset + length <= sizes[warc], (warc, offset, length, sizes[warc])
    for name, size, sha256 in index_rows(archive, "SELECT name, size, sha256 FROM warc_files"):
        path = archive / "warcs" / name
        assert path.stat().st_size == size and hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    return len(rows)


def assert_verified(archive: Path) -> None:
    proc = archiver(None, "verify", "--archive", str(archive))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and stderr.rstrip("\n").endswith(errors[0]), stderr
    return errors[0]


# --- disk full ------------------------------------------------------------------------------------


def test_disk_full_mid_warc_stops_cleanly_and_next_run_continues(web, tmp_path):
    gallery_web(web)
    archive = tmp_path / "a"
    limit = 1_000_000

    proc = archiver(web, "capture", SMALL, BIG, THIRD, "--archive", str(archive), limit=limit)

    assert proc.returncode == 2, proc.stderr
    error = one_error_line(proc.stderr)
    assert error.startswith("error: cannot write WARC record to ") and "EFBIG" in error
    assert f"captured {SMALL}" in proc.stderr  # the first article was done before the disk filled
    assert web.hits(THIRD) == 0  # the run stopped there
    paths = warc_paths(archive)
    assert paths
    for path in paths:  # every file ends on a complete record
        assert path.stat().st_size <= limit
        assert read_to_end(path)[0] == "warcinfo"
    assert assert_index_within_files(archive) > 0
    assert index_rows(archive, "SELECT url, error FROM articles") == [(SMALL, None)]  # BIG never committed
    assert_verified(archive)

    # space again: the same command finishes the job
    proc = archiver(web, "capture", SMALL, BIG, THIRD, "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr
    assert not list((archive / "warcs").glob("*.open"))
    for path in warc_paths(archive):
        read_to_end(path)
    assert_index_within_files(archive)
    assert sorted(index_rows(archive, "SELECT url FROM articles WHERE error IS NULL")) == [(SMALL,), (BIG,), (THIRD,)]
    assert_verified(archive)


def test_disk_full_on_the_index_stops_cleanly_and_next_run_continues(web, tmp_path):
    gallery_web(web)
    archive = tmp_path / "a"
    proc = archiver(web, "capture", SMALL, "--archive", str(archive), limit=60_000)  # the schema alone is bigger
    assert proc.returncode == 2
    assert one_error_line(proc.stderr).startswith("error: cannot write index ")
    for path in warc_paths(archive):
        read_to_end(path)

    proc = archiver(web, "capture", SMALL, "--archive", str(archive))
    assert proc.returncode == 0, proc.stderr
    assert_index_within_files(archive)
    assert_verified(archive)


# --- torn and unclosed files ----------------------------------------------------------------------


def member_bounds(data: bytes) -> list[tuple[int, int]]:
    """(offset, end) of each gzip member of a WARC."""
    out, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        end = len(data) - len(d.unused_data)
        out.append((pos, end))
        pos = end
    return out


@pytest.mark.parametrize("tail", ["half a member", "a member cut in its header", "zeros", "garbage"])
def test_torn_open_file_is_cut_back_closed_and_reported(web, tmp_path, tail):
    TwitterWorld(web, [SEED])
    serve(web, SMALL, SEED_BLOCKQUOTE)
    serve(web, THIRD, "<p>nothing cited</p>")
    archive = tmp_path / "a"
    proc = archiver(web, "capture", SMALL, "--archive", str(archive), "--no-requisites")
    assert proc.returncode == 0, proc.stderr
    (path,) = warc_paths(archive)
    good = path.read_bytes()
    rows_before = assert_index_within_files(archive)
    # as if killed while writing one more record: the file never got its final name
    start, end = max(member_bounds(good), key=lambda b: b[1] - b[0])
    torn = {"half a member": good[start:start + (end - start) // 2],
            "a member cut in its header": good[start:start + 7],
            "zeros": b"\0" * 4096,
            "garbage": os.urandom(5000)}[tail]
    open_path = path.with_name(path.name + ".open")
    path.rename(open_path)
    open_path.write_bytes(good + torn)

    proc = archiver(web, "capture", THIRD, "--archive", str(archive), "--no-requisites")

    assert proc.returncode == 0, proc.stderr
    assert f"recovered {path.name}" in proc.stderr  # reported
    assert not open_path.exists() and path.read_bytes() == good  # torn tail cut, nothing else written to it
    paths = warc_paths(archive)
    assert len(paths) == 2  # the new run wrote a file of its own
    for p in paths:
        read_to_end(p)
    assert assert_index_within_files(archive) > rows_before
    assert_verified(archive)


def test_killed_mid_transfer_then_recovered(web, tmp_path):
    """SIGKILL while a large video streams in: the next start keeps what was written, closes the
    file, and the same capture then succeeds."""
    video = Video("1300000000000000000", variants=[(2176000, "1280x720", False)])
    clip = FakeTweet(id="1300000000000000001", handle="clip", name="Clip", text="watch", video=video, tco="ClipCode01")
    TwitterWorld(web, [SEED, clip])
    mp4 = video.variant_urls()[0][2]
    slow = {"on": True}

    def video_route(req):
        if slow["on"]:  # 50 MB at 64 kB a tenth of a second: minutes, unless killed
            return Response(200, repeat_bytes(50_000_000), headers=[("Content-Type", "video/mp4")],
                            drip=0.1, drip_size=1 << 16)
        return Response(200, repeat_bytes(3_000_000), headers=[("Content-Type", "video/mp4")])

    web.route(mp4.split("?")[0], video_route)
    serve(web, SMALL, SEED_BLOCKQUOTE)
    serve(web, BIG, blockquote(clip))
    archive = tmp_path / "a"
    proc = start(web, "capture", SMALL, BIG, "--archive", str(archive), "--no-requisites")
    try:
        wait_for(lambda: web.hits(mp4.split("?")[0]) > 0 or proc.poll() is not None)
        time.sleep(0.5)  # some of the body is in
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    (open_path,) = (archive / "warcs").glob("*.warc.gz.open")
    # the first article was committed while the file was open: its rows point inside it
    assert index_rows(archive, "SELECT url FROM articles") == [(SMALL,)]
    assert assert_index_within_files(archive) > 0
    kept = read_to_end(open_path)
    assert kept[0] == "warcinfo" and "response" in kept

    slow["on"] = False
    proc2 = archiver(web, "capture", BIG, "--archive", str(archive), "--no-requisites")
    assert proc2.returncode == 0, proc2.stderr
    closed = open_path.with_name(open_path.name.removesuffix(".open"))
    assert f"recovered {closed.name}" in proc2.stderr
    assert not list((archive / "warcs").glob("*.open")) and read_to_end(closed) == kept
    assert sorted(index_rows(archive, "SELECT url FROM articles WHERE error IS NULL")) == [(SMALL,), (BIG,)]
    assert_index_within_files(archive)
    assert_verified(archive)


# --- two processes ---------------------------------------------------------------------------------


def test_second_process_on_the_same_archive_is_refused(web, tmp_path):
    TwitterWorld(web, [SEED])
    serve(web, SMALL, SEED_BLOCKQUOTE, drip=0.05, drip_size=16)  # ~2 kB page: several seconds
    serve(web, THIRD, "<p>nothing cited</p>")
    archive = tmp_path / "a"
    first = start(web, "capture", SMALL, "--archive", str(archive), "--no-requisites")
    try:
        wait_for(lambda: web.hits(SMALL) > 0 or first.poll() is not None)  # it holds the lock by now
        assert first.poll() is None
        files = [(p.name, p.stat().st_size) for p in warc_paths(archive)]

        second = archiver(web, "capture", THIRD, "--archive", str(archive), "--no-requisites", timeout=30)

        assert first.poll() is None  # the first was still running all along
        assert second.returncode == 2
        assert one_error_line(second.stderr) == (
            f"error: another archiver process is writing to {archive}; wait for it to finish")
        assert web.hits(THIRD) == 0  # it fetched nothing, and wrote nothing
        assert [p.name for p in warc_paths(archive)] == [name for name, _ in files]
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert f"twitter\t{SEED.id}" in out
    assert not list((archive / "warcs").glob("*.open"))
    assert_index_within_files(archive)
    assert_verified(archive)

    # once the first is done, the second goes through
    second = archiver(web, "capture", THIRD, "--archive", str(archive), "--no-requisites")
    assert second.returncode == 0, second.stderr
