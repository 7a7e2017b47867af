"""`archiver crawl` and `archiver status` end to end against the fixture news sites (tests/newssite.py).

Everything is asserted on what the fixture web's own log saw (which URLs, when each request
started and ended), on the WARC files and on the index: never on how long something took.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.capture import Archive
from archiver.config import Config
from archiver.crawl import CrawlOptions, crawl
from archiver.hosts import CDN_HOSTS
from archiver.warc import WarcSink
from fixtureweb import FixtureWeb
from newssite import COURIER, DAILY, GAZETTE, HERALD, HOSTS, NewsSite

ROOT = Path(__file__).resolve().parents[1]


# --- helpers ---------------------------------------------------------------------------------------


def crawl_cmd(archive: Path, seeds: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "archiver", "crawl", str(seeds), "--archive", str(archive), "--json", *args]


def env_for(web: FixtureWeb) -> dict[str, str]:
    env = {**os.environ, **web.env()}
    env.pop("CURL_CA_BUNDLE", None)
    return env


def run_crawl(web: FixtureWeb, archive: Path, seeds: Path, *args: str, timeout: float = 300):
    return subprocess.run(crawl_cmd(archive, seeds, *args), env=env_for(web), capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def summaries(proc) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def status_json(archive: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "archiver", "status", "--json", "--archive", str(archive)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def db(archive: Path) -> sqlite3.Connection:
    conn = sqlite3.connect((archive / "index.sqlite3").resolve().as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def write_seeds(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seeds.txt"
    path.write_text(text)
    return path


def gets(log, url: str) -> int:
    return sum(1 for e in log if e.method == "GET" and e.url == url)


def max_in_flight(entries) -> int:
    """Most requests the server was answering at once, from its own start and end times."""
    events = []
    for e in entries:
        events.append((e.time, 1))
        events.append((e.end if e.end is not None else float("inf"), -1))
    events.sort(key=lambda ev: (ev[0], ev[1]))  # an end before a start at the same instant
    n = most = 0
    for _, step in events:
        n += step
        most = max(most, n)
    return most


def by_host(log) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for e in log:
        out[urlsplit(e.url).hostname].append(e)
    return out


def record_id_at(archive: Path, warc: str, offset: int, length: int) -> str:
    with open(archive / "warcs" / warc, "rb") as fh:
        fh.seek(offset)
        member = fh.read(length)
    data = zlib.decompressobj(31).decompress(member)
    rec = next(iter(ArchiveIterator(io.BytesIO(data))))
    return rec.rec_headers.get_header("WARC-Record-ID")


def read_every_warc(archive: Path) -> int:
    """Read every record of every WARC file through warcio; returns how many."""
    files = sorted((archive / "warcs").glob("*.warc.gz"))
    assert files
    count = 0
    for path in files:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                rec.content_stream().read()
                count += 1
    return count


# --- one pass over 200 articles ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_crawl(tmp_path_factory, fixtureweb_ca):
    """Two passes of `archiver crawl` over the four sites (200 articles, 20 ms latency)."""
    with FixtureWeb(tmp_path_factory.mktemp("web"), ca=fixtureweb_ca) as web:
        site = NewsSite(web, articles=200, latency=0.02)
        root = tmp_path_factory.mktemp("crawl")
        seeds = write_seeds(root, site.seeds_text())
        archive = root / "archive"
        first = run_crawl(web, archive, seeds)
        first_log = web.log
        web.clear_log()
        second = run_crawl(web, archive, seeds)
        yield SimpleNamespace(site=site, archive=archive, seeds=seeds, first=first, log=first_log,
                              second=second, log2=web.log, errors=list(web.errors))


def test_one_pass_captures_everything_allowed_and_nothing_disallowed(big_crawl):
    run, site = big_crawl, big_crawl.site
    assert run.first.returncode == 0, run.first.stderr[-3000:]
    assert not run.errors
    for story in site.allowed:
        assert gets(run.log, story.url) == 1, story.url
    assert not [e.url for e in run.log if "/private/" in e.url]
    for host in HOSTS:
        assert gets(run.log, f"https://{host}/robots.txt") == 1
        # a site's stylesheet and logo: once a pass, linked to every article (as wget -p does)
        assert gets(run.log, f"https://{host}/static/site.css") == 1
        assert gets(run.log, f"https://{host}/img/logo.png") == 1
    # no requests for the articles' off-site or /extra/ links: --depth 0
    assert not [e.url for e in run.log if "/extra/" in e.url or "elsewhere.example" in e.url]

    with db(run.archive) as conn:
        articles = {r["url"]: r for r in conn.execute("SELECT url, error, http_status FROM articles")}
        assert set(articles) == {s.url for s in site.allowed}
        assert all(r["error"] is None and r["http_status"] == 200 for r in articles.values())
        requisites = Counter(r[0] for r in conn.execute(
            "SELECT a.url FROM articles a JOIN article_records ar ON ar.article_pk = a.pk JOIN records r"
            " ON r.pk = ar.record_pk WHERE ar.role = 'requisite' AND r.record_type IN ('response', 'revisit')"))
        # each article is linked to its stylesheet and logo (and widgets.js with a tweet), for replay
        assert all(requisites[s.url] == (3 if s.tweet else 2) for s in site.allowed)
        posts = dict(conn.execute("SELECT post_id, status FROM posts").fetchall())
    cited = {s.tweet.id: s.tweet for s in site.allowed if s.tweet}
    assert set(posts) == set(cited)
    expected = {"available": "available", "gone": "deleted", "protected": "protected"}
    assert all(posts[i] == expected[t.state] for i, t in cited.items())

    [summary] = summaries(run.first)
    assert summary["state"] == "finished" and summary["exit_code"] == 0
    assert summary["articles"] == {"captured": len(site.allowed), "failed": 0, "retrying": 0,
                                   "blocked": len(site.disallowed)}
    assert summary["listings"]["read"] == 6  # feed, atom, index, 2 sitemaps, courier sitemap
    assert summary["posts"]["available"] == sum(1 for t in cited.values() if t.state == "available")
    assert summary["bytes"] > 0 and summary["left"]["queued"] == 0
    assert "pass 1 finished" in run.first.stderr


def test_never_more_than_one_request_in_flight_per_host(big_crawl):
    hosts = by_host(big_crawl.log)
    assert set(HOSTS) <= set(hosts)
    assert {"cdn.syndication.twimg.com", "publish.twitter.com", "pbs.twimg.com"} <= set(hosts)
    for host, entries in hosts.items():
        assert all(e.end is not None for e in entries), host
        limit = 4 if host in CDN_HOSTS else 1
        assert max_in_flight(entries) <= limit, host
    # and the crawl did use several hosts at once (per-host politeness, not one at a time overall)
    assert max_in_flight(big_crawl.log) > 1


def test_frontier_records_kinds_and_robots_decisions(big_crawl):
    site = big_crawl.site
    with db(big_crawl.archive) as conn:
        rows = {r["url"]: dict(r) for r in conn.execute("SELECT * FROM frontier")}
        robots_ids = {r[0] for r in conn.execute(
            "SELECT record_id FROM records WHERE url LIKE '%/robots.txt' AND record_type IN ('response', 'revisit')")}
    detected = {url: r["detected"] for url, r in rows.items() if r["detected"]}
    assert detected[f"https://{DAILY}/feed.xml"] == "rss"
    assert detected[f"https://{HERALD}/latest"] == "atom"
    assert detected[f"https://{GAZETTE}/sitemap_index.xml"] == "sitemapindex"
    assert detected[f"https://{GAZETTE}/sitemap-news.xml"] == "urlset"
    assert detected[f"https://{GAZETTE}/sitemap-archive.xml.gz"] == "urlset"
    assert detected[f"https://{COURIER}/sitemap"] == "urlset"
    direct = next(s for s in site.allowed if s.host == COURIER)
    assert detected[direct.url] == "html" and rows[direct.url]["kind"] == "article"
    for story in site.allowed:
        row = rows[story.url]
        assert row["state"] == "done" and row["robots"] == "allowed" and row["attempts"] == 1
        assert row["robots_record"] in robots_ids
    for story in site.disallowed:
        row = rows[story.url]
        assert row["state"] == "blocked" and row["robots"] == "disallowed"
        assert "robots.txt" in row["reason"] and row["robots_record"] in robots_ids
    news = [s for s in site.newer(GAZETTE)]
    assert all(rows[s.url]["published"] == s.published.strftime("%Y-%m-%dT%H:%M:%SZ") for s in news)


def test_second_pass_reads_listings_again_but_fetches_no_article(big_crawl):
    run, site = big_crawl, big_crawl.site
    assert run.second.returncode == 0, run.second.stderr[-3000:]
    [summary] = summaries(run.second)
    assert summary["pass"] == 2 and not summary["resumed"]
    assert summary["articles"]["captured"] == 0 and summary["listings"]["read"] == 6
    urls = {e.url for e in run.log2}
    assert not urls & {s.url for s in site.stories}
    assert f"https://{DAILY}/feed.xml" in urls and f"https://{GAZETTE}/sitemap-archive.xml.gz" in urls


def test_status_reports_the_frontier_and_last_run(big_crawl):
    site = big_crawl.site
    report = status_json(big_crawl.archive)
    assert report["running"] is False
    f = report["frontier"]
    assert f["by_kind"]["article"]["done"] == len(site.allowed)
    assert f["by_kind"]["article"]["blocked"] == len(site.disallowed)
    assert f["by_state"]["queued"] == 0 and f["by_state"]["in_progress"] == 0
    assert sum(r["count"] for r in report["blocked"]) == len(site.disallowed)  # one reason per robots.txt
    assert all("/robots.txt for embed-archiver" in r["reason"] for r in report["blocked"])
    last = report["runs"][0]
    assert last["pass"] == 2 and last["state"] == "finished" and last["summary"]["exit_code"] == 0
    assert report["runs"][1]["summary"]["articles"]["captured"] == len(site.allowed)
    text = subprocess.run([sys.executable, "-m", "archiver", "status", "--archive", str(big_crawl.archive)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert text.returncode == 0
    assert f"{len(site.allowed)} done" in text.stdout and "last run #2 (pass 2): finished" in text.stdout


# --- interruption ------------------------------------------------------------------------------------


def test_killed_at_random_points_then_resumed_captures_each_article_once(web, tmp_path):
    site = NewsSite(web, articles=200, latency=0.02)
    seeds = write_seeds(tmp_path, site.seeds_text())
    archive = tmp_path / "archive"
    rng = random.Random(20240305)
    env = env_for(web)
    finished_early = 0
    for n in range(8):
        seen = len(web.log)
        proc = subprocess.Popen(crawl_cmd(archive, seeds), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=ROOT)
        # Random points: two kills by time (start-up, recovery, robots.txt, listings), the others
        # after a random number of article requests of this run, plus up to 30 ms (so also while
        # a page is fetched, its embeds captured, its WARC records written or its index commit).
        if n in (1, 5):
            deadline = time.monotonic() + rng.uniform(0.2, 1.2)
            wanted = None
        else:
            deadline = time.monotonic() + 60
            wanted = rng.randint(1, 14)
        extra = rng.uniform(0, 0.03)
        while time.monotonic() < deadline and proc.poll() is None:
            if wanted is not None and sum(1 for e in web.log[seen:] if e.url in site.by_url) >= wanted:
                time.sleep(extra)
                break
            time.sleep(0.002)
        if proc.poll() is not None:
            finished_early += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert finished_early == 0  # each run was killed mid-way
    with db(archive) as conn:
        done_before = {r[0] for r in conn.execute("SELECT url FROM frontier WHERE state = 'done' AND kind = 'article'")}
    web.clear_log()

    final = run_crawl(web, archive, seeds)
    assert final.returncode == 0, final.stderr[-3000:]
    [summary] = summaries(final)
    assert summary["state"] == "finished"
    # nothing captured before the last kill was fetched again
    assert not {e.url for e in web.log} & done_before

    assert not list((archive / "warcs").glob("*.open"))
    assert read_every_warc(archive) > 0
    with db(archive) as conn:
        # the index agrees with the WARC files: every row names a record that is there, with that id
        for row in conn.execute("SELECT record_id, warc, warc_offset, warc_length FROM records"):
            assert record_id_at(archive, row["warc"], row["warc_offset"], row["warc_length"]) == row["record_id"]
        files = {r["name"] for r in conn.execute("SELECT name FROM warc_files")}
        assert files == {p.name for p in (archive / "warcs").glob("*.warc.gz")}
        # every allowed article captured, exactly once: one article row, one page response in it
        articles = {r["url"]: r["error"] for r in conn.execute("SELECT url, error FROM articles")}
        assert articles == {s.url: None for s in site.allowed}
        pages = Counter(r[0] for r in conn.execute(
            "SELECT a.url FROM articles a JOIN article_records ar ON ar.article_pk = a.pk"
            " JOIN records r ON r.pk = ar.record_pk"
            " WHERE ar.role = 'page' AND r.url = a.url AND r.record_type IN ('response', 'revisit')"))
        assert pages == Counter({s.url: 1 for s in site.allowed})
        states = Counter(r[0] for r in conn.execute("SELECT state FROM frontier WHERE kind = 'article'"))
        assert states == Counter({"done": len(site.allowed), "blocked": len(site.disallowed)})
        runs = conn.execute("SELECT state FROM crawl_runs ORDER BY pk").fetchall()
    assert [r[0] for r in runs] == ["interrupted"] * (len(runs) - 1) + ["finished"]
    verify = subprocess.run([sys.executable, "-m", "archiver", "verify", "--archive", str(archive)],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]


def test_ctrl_c_stops_after_articles_in_progress_and_the_next_run_resumes(web, tmp_path):
    site = NewsSite(web, articles=40, latency=0.05, tweet_every=0)
    seeds = write_seeds(tmp_path, site.seeds_text())
    archive = tmp_path / "archive"
    proc = subprocess.Popen(crawl_cmd(archive, seeds, "--workers", "2"), env=env_for(web), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen = threading.Event()

    def watch():
        while not seen.is_set():
            if any(e.url in site.by_url for e in web.log):
                seen.set()
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert seen.wait(60)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "stopping after the articles in progress" in err
    [first] = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert first["state"] == "interrupted" and first["exit_code"] == 1
    with db(archive) as conn:
        assert conn.execute("SELECT count(*) FROM frontier WHERE state = 'in_progress'").fetchone()[0] == 0

    again = run_crawl(web, archive, seeds)
    assert again.returncode == 0, again.stderr[-2000:]
    [second] = summaries(again)
    assert second["pass"] == first["pass"] and second["resumed"] is True
    assert first["articles"]["captured"] + second["articles"]["captured"] == len(site.allowed)
    assert second["listings"]["read"] < 6  # listings read before the stop are not read again


def test_open_warc_left_by_a_kill_is_recovered_when_the_archive_opens(tmp_path):
    archive = tmp_path / "archive"
    sink = WarcSink(archive / "warcs", software="test")
    for i in range(3):
        sink.write_resource(f"https://a.example/{i}", b"x" * 5000, "text/plain")
    sink.flush()
    open_path = sink._file.open_path
    whole = open_path.read_bytes()
    with open(open_path, "ab") as fh:
        fh.write(whole[:40])  # the start of a gzip member: a record torn by the kill
    os.close(sink._file.fd)
    with Archive(Config(archive=archive)) as arch:
        files = arch.index.warc_files()
    [path] = list((archive / "warcs").iterdir())
    assert path.name.endswith(".warc.gz") and path.read_bytes() == whole
    assert [f["name"] for f in files] == [path.name] and files[0]["size"] == len(whole)
    assert read_every_warc(archive) == 4  # warcinfo + 3 resources


# --- scope, filters, robots --------------------------------------------------------------------------


def test_depth_follows_same_site_links_only(web, tmp_path):
    site = NewsSite(web, articles=8, latency=0.0, tweet_every=0, private_every=0)
    seeds = write_seeds(tmp_path, f"https://{DAILY}/feed.xml\n")
    daily = site.of(DAILY)
    proc = run_crawl(web, tmp_path / "d0", seeds)
    assert proc.returncode == 0, proc.stderr
    assert not [e.url for e in web.log if "/extra/" in e.url]

    web.clear_log()
    proc = run_crawl(web, tmp_path / "d1", seeds, "--depth", "1")
    assert proc.returncode == 0, proc.stderr
    urls = [e.url for e in web.log]
    assert {s.extra_url for s in daily} <= set(urls)
    assert not [u for u in urls if "/extra/deeper-" in u]  # depth 2
    assert not [u for u in urls if "elsewhere.example" in u]  # another site
    assert all(gets(web.log, s.url) == 1 for s in daily)  # a sibling link is not a second fetch
    with db(tmp_path / "d1") as conn:
        row = conn.execute("SELECT depth, via, state FROM frontier WHERE url = ?", (daily[0].extra_url,)).fetchone()
    assert row["depth"] == 1 and row["via"] == daily[0].url and row["state"] == "done"

    web.clear_log()
    proc = run_crawl(web, tmp_path / "d2", seeds, "--depth", "2", "--exclude", r"deeper-more-0$",
                     "--include", r"^https://www\.daily\.example/")
    assert proc.returncode == 0, proc.stderr
    urls = {e.url for e in web.log}
    assert f"https://{DAILY}/extra/deeper-more-4" in urls
    assert f"https://{DAILY}/extra/deeper-more-0" not in urls


def test_since_keeps_only_newer_listed_articles(web, tmp_path):
    site = NewsSite(web, articles=40, latency=0.0, tweet_every=0, private_every=0)
    seeds = write_seeds(tmp_path, site.seeds_text())
    cutoff = site.stories[20].published
    proc = run_crawl(web, tmp_path / "a", seeds, "--since", cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert proc.returncode == 0, proc.stderr
    fetched = {e.url for e in web.log}
    direct = next(s for s in site.stories if s.host == COURIER)
    for story in site.stories:
        wanted = story.published >= cutoff or story is direct  # a seed is never filtered
        assert (story.url in fetched) == wanted, story.url
    # the index's archive sitemap has lastmod 2024-03-05, after the cutoff: it is read
    assert f"https://{GAZETTE}/sitemap-archive.xml.gz" in fetched


def test_ignore_robots_fetches_everything_and_records_the_decision(web, tmp_path):
    site = NewsSite(web, articles=20, latency=0.0, tweet_every=0)
    seeds = write_seeds(tmp_path, site.seeds_text())
    proc = run_crawl(web, tmp_path / "a", seeds, "--ignore-robots")
    assert proc.returncode == 0, proc.stderr
    assert not [e.url for e in web.log if e.url.endswith("/robots.txt")]
    assert all(gets(web.log, s.url) == 1 for s in site.stories)
    with db(tmp_path / "a") as conn:
        robots = {r[0] for r in conn.execute("SELECT robots FROM frontier")}
    assert robots == {"ignored"}


def test_crawl_delay_spaces_requests_to_that_host(web, tmp_path):
    NewsSite(web, articles=12, latency=0.0, tweet_every=0, private_every=0, crawl_delay={COURIER: 0.3})
    seeds = write_seeds(tmp_path, f"https://{COURIER}/sitemap\nhttps://{DAILY}/feed.xml\n")
    proc = run_crawl(web, tmp_path / "a", seeds)
    assert proc.returncode == 0, proc.stderr
    courier = [e for e in web.log if urlsplit(e.url).hostname == COURIER and not e.url.endswith("/robots.txt")]
    assert len(courier) == 6  # sitemap, 3 articles, their stylesheet and logo (once a pass)
    starts = sorted(e.time for e in courier)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.3 - 0.05  # the server sees starts a little jittered by the proxy hop


# --- failures ----------------------------------------------------------------------------------------


def test_retry_after_pushes_back_that_host_only(web, tmp_path):
    site = NewsSite(web, articles=24, latency=0.0, tweet_every=0, private_every=0)
    for story in site.of(HERALD):
        web.add(story.url, status=429, headers=[("Retry-After", "600")], body=b"slow down")
    seeds = write_seeds(tmp_path, site.seeds_text())
    archive = tmp_path / "a"
    proc = run_crawl(web, archive, seeds)
    assert proc.returncode == 1, proc.stderr  # worth another run
    herald_pages = [e for e in web.log if e.url in {s.url for s in site.of(HERALD)}]
    assert len(herald_pages) == 1  # one 429, then the host waits; the rest of the crawl goes on
    others = [s for s in site.stories if s.host != HERALD]
    assert all(gets(web.log, s.url) == 1 for s in others)
    [summary] = summaries(proc)
    assert summary["articles"]["captured"] == len(others)
    assert summary["left"]["queued"] == len(site.of(HERALD))
    assert [b["host"] for b in summary["backed_off"]] == [HERALD]
    assert summary["backed_off"][0]["why"] == "Retry-After"
    with db(archive) as conn:
        rows = conn.execute("SELECT state, next_at, reason, attempts FROM frontier WHERE host = ? AND kind = 'article'",
                            (HERALD,)).fetchall()
    assert {r["state"] for r in rows} <= {"queued", "failed"}
    assert all(r["next_at"] > time.time() + 500 for r in rows)  # Retry-After: 600
    failed = [r for r in rows if r["state"] == "failed"]
    assert len(failed) == 1 and "HTTP 429" in failed[0]["reason"] and failed[0]["attempts"] == 1
    report = status_json(archive)
    assert report["frontier"]["retrying"] == 1 and report["runs"][0]["summary"]["exit_code"] == 1


def test_a_failing_host_is_backed_off_exponentially_and_reported(web, tmp_path, monkeypatch):
    site = NewsSite(web, articles=24, latency=0.0, tweet_every=0, private_every=0)
    for story in site.of(DAILY):
        web.add(story.url, status=503, body=b"down")
    for key, value in web.env().items():
        monkeypatch.setenv(key, value)
    config = Config(archive=tmp_path / "a", retries=0, backoff=0.01)
    options = CrawlOptions(seeds=(f"https://{DAILY}/feed.xml", f"https://{HERALD}/latest"),
                           host_backoff=0.2, gate_wait=0.5, retry_wait=600, pass_wait=0.5)
    result = crawl(config, options)
    [summary] = result.summaries
    assert result.exit_code == 1
    daily_pages = [e for e in web.log if e.url in {s.url for s in site.of(DAILY)}]
    assert 2 <= len(daily_pages) < len(site.of(DAILY))  # backed off, not hammered
    assert all(gets(web.log, s.url) == 1 for s in site.of(HERALD))
    [backed] = summary["backed_off"]
    assert backed["host"] == DAILY and backed["most_failures"] >= 2
    assert summary["articles"]["retrying"] == len(daily_pages)


def test_every_runs_passes_and_passes_stops(web, tmp_path):
    site = NewsSite(web, articles=8, latency=0.0, tweet_every=0, private_every=0)
    seeds = write_seeds(tmp_path, site.seeds_text())
    proc = run_crawl(web, tmp_path / "a", seeds, "--every", "1s", "--passes", "2")
    assert proc.returncode == 0, proc.stderr
    first, second = summaries(proc)
    assert (first["pass"], second["pass"]) == (1, 2)
    assert first["articles"]["captured"] == len(site.stories) and second["articles"]["captured"] == 0
    assert gets(web.log, f"https://{DAILY}/feed.xml") == 2


def test_usage_errors_exit_2(web, tmp_path):
    archive = tmp_path / "a"
    good = write_seeds(tmp_path, "https://www.daily.example/feed.xml\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("https://ok.example/\nnot-a-url\n")
    cases = [
        [str(tmp_path / "missing.txt")],
        [str(bad)],
        [str(good), "--include", "(unclosed"],
        [str(good), "--since", "someday"],
        [str(good), "--every", "soon"],
        [str(good), "--passes", "2"],
    ]
    for args in cases:
        proc = subprocess.run([sys.executable, "-m", "archiver", "crawl", *args, "--archive", str(archive)],
                              env=env_for(web), capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert proc.returncode == 2, (args, proc.stderr)
    assert "not-a-url" in subprocess.run(
        [sys.executable, "-m", "archiver", "crawl", str(bad), "--archive", str(archive)],
        capture_output=True, text=True, timeout=60, cwd=ROOT).stderr
    proc = subprocess.run([sys.executable, "-m", "archiver", "status", "--archive", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and "no archive index" in proc.stderr
    assert not web.log


# --- incremental -------------------------------------------------------------------------------------


def test_articles_already_archived_are_not_fetched_until_recapture_after(web, tmp_path):
    site = NewsSite(web, articles=8, latency=0.0, tweet_every=0, private_every=0)
    seeds = write_seeds(tmp_path, f"https://{DAILY}/feed.xml\n")
    archive = tmp_path / "a"
    daily = site.of(DAILY)
    captured = subprocess.run([sys.executable, "-m", "archiver", "capture", daily[0].url, "--archive", str(archive)],
                              env=env_for(web), capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert captured.returncode == 0, captured.stderr
    web.clear_log()
    proc = run_crawl(web, archive, seeds)
    assert proc.returncode == 0, proc.stderr
    assert gets(web.log, daily[0].url) == 0  # `archiver capture` took it: the crawl does not again
    assert all(gets(web.log, s.url) == 1 for s in daily[1:])
    with db(archive) as conn:
        row = conn.execute("SELECT state, reason FROM frontier WHERE url = ?", (daily[0].url,)).fetchone()
    assert tuple(row) == ("done", "in the archive already")

    web.clear_log()
    proc = run_crawl(web, archive, seeds, "--recapture-after", "1h")
    assert proc.returncode == 0 and not [e for e in web.log if e.url in site.by_url]
    time.sleep(2.1)  # done_at has a one-second resolution
    web.clear_log()
    proc = run_crawl(web, archive, seeds, "--recapture-after", "1s")
    assert proc.returncode == 0, proc.stderr
    assert all(gets(web.log, s.url) == 1 for s in daily)
    assert summaries(proc)[0]["articles"]["captured"] == len(daily)


def test_progress_redraws_one_line_on_a_terminal_and_logs_lines_otherwise():
    from archiver.progress import Progress, snapshot_text

    snap = {"pass": 3, "done": 12, "queued": 40, "failed": 1, "blocked": 2, "posts": {"available": 5, "deleted": 1},
            "bytes": 2_500_000, "rate": 1.5, "hosts": ["a.example", "b.example", "c.example", "d.example"],
            "backed_off": [{"host": "x.example", "seconds": 90}]}

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    progress = Progress(term)
    progress.show(snap, force=True)
    progress.line("failed: https://a.example/x: HTTP 503")
    progress.close()
    out = term.getvalue()
    assert out.startswith("\r\x1b[K") and "failed: https://a.example/x: HTTP 503\n" in out
    assert "articles 12 done, 40 queued, 1 failed, 2 blocked" in out  # cut to the terminal's width
    text = snapshot_text(snap)
    assert "posts 5 available, 1 deleted · 2.5 MB · 1.5 articles/s" in text
    assert "a.example, b.example, c.example +1" in text and "backed off: x.example 1m30s" in text

    plain = io.StringIO()
    progress = Progress(plain, every=3600)
    progress.show(snap, force=True)
    progress.show(snap)  # throttled: one line per `every` seconds off a terminal
    assert plain.getvalue().count("\n") == 1 and "\r" not in plain.getvalue()
