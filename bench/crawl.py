"""Crawl throughput on the fixture news sites, against wget and against the politeness bound.

    python3 bench/crawl.py [--articles 200] [--latency 0.1] [--workers 8] [--repeat 3] [--skip-wget]

The fixture web (tests/fixtureweb.py, a local HTTPS forward proxy answering for every host)
serves the four sites of tests/newssite.py: a feed, an Atom feed, a sitemap index with a news
sitemap, a plain sitemap, robots.txt disallowing /private/, articles of which every fifth embeds
a tweet, and `--latency` seconds before every response (100 ms by default: a distant server).

Three figures:

* `archiver crawl` on the seeds file: wall time from process start to exit (Python start-up,
  robots.txt, listings, articles, their requisites and posts, index commits included), the
  median of `--repeat` runs on fresh archives; and its crawl phase, from the first request the
  server saw to the end of the last response (start-up and shutdown left out).
* wget: `wget --warc-file ... --page-requisites -i urls.txt` through the same proxy, on the
  article URLs the crawl captured: it fetches one URL after the other, as it always does.
  It does strictly less work (no feeds, no robots.txt, no tweets), so the ratio is conservative.
* the politeness bound: at most one request in flight per host, so no polite crawler finishes
  before the busiest host has answered all of its requests one after the other: that host's
  request count (from the server's own log of the crawl) times the latency.

Targets (issue #5): at least 3x faster than wget, within 1.3x of the bound. The machine is
shared and small (2 cores, the fixture server in this process): figures move between runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fixtureweb import FixtureWeb  # noqa: E402
from newssite import NewsSite  # noqa: E402


def env_for(web: FixtureWeb) -> dict[str, str]:
    env = {**os.environ, **web.env()}
    env.pop("CURL_CA_BUNDLE", None)
    return env


def run_crawl(web: FixtureWeb, work: Path, seeds: Path, workers: int) -> tuple[float, subprocess.CompletedProcess]:
    archive = work / "archive"
    shutil.rmtree(archive, ignore_errors=True)
    cmd = [sys.executable, "-m", "archiver", "-q", "crawl", str(seeds), "--archive", str(archive),
           "--workers", str(workers), "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env_for(web), capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - t0, proc


def run_wget(web: FixtureWeb, work: Path, urls: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    listing = work / "wget-urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    out = work / "wget-files"
    cmd = ["wget", "--quiet", "--page-requisites", "--input-file", str(listing), "--directory-prefix", str(out),
           "--warc-file", str(work / "wget"), "--ca-certificate", web.ca_path, "--tries", "1"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env_for(web), capture_output=True, text=True)
    return time.perf_counter() - t0, proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=200)
    ap.add_argument("--latency", type=float, default=0.1, help="seconds before every response")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3, help="crawl runs (the median is reported)")
    ap.add_argument("--skip-wget", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    try:
        with FixtureWeb(work / "web") as web:
            site = NewsSite(web, articles=args.articles, latency=args.latency)
            seeds = work / "seeds.txt"
            seeds.write_text(site.seeds_text())

            runs = []
            for _ in range(max(1, args.repeat)):
                web.clear_log()
                wall, proc = run_crawl(web, work, seeds, args.workers)
                if proc.returncode != 0:
                    print(proc.stderr[-3000:], file=sys.stderr)
                    print(f"archiver crawl exited {proc.returncode}", file=sys.stderr)
                    return 1
                log = web.log
                phase = max(e.end for e in log if e.end) - min(e.time for e in log)
                per_host = Counter(urlsplit(e.url).hostname for e in log)
                runs.append((wall, phase, per_host, len(log)))
            walls = sorted(r[0] for r in runs)
            ours = statistics.median(walls)
            phase = statistics.median(r[1] for r in runs)
            busiest, busiest_n = max((n, h) for r in runs for h, n in r[2].items())[::-1]
            per_host = runs[-1][2]
            bound = busiest_n * args.latency
            captured = [s.url for s in site.allowed]

            print(f"fixture: {args.articles} articles on 4 news hosts ({len(captured)} allowed by robots.txt), "
                  f"{sum(1 for s in site.stories if s.tweet)} embedding tweets, {args.latency * 1000:.0f} ms per response")
            print(f"archiver crawl --workers {args.workers}: {ours:6.2f} s wall (median of "
                  f"{', '.join(f'{w:.2f}' for w in walls)}), crawl phase {phase:.2f} s; {runs[-1][3]} requests, "
                  f"{len(captured) / ours:.1f} articles/s")
            print("  requests per host: " + ", ".join(f"{h} {n}" for h, n in per_host.most_common()))
            print(f"politeness bound: busiest host {busiest}: {busiest_n} requests x {args.latency * 1000:.0f} ms "
                  f"= {bound:.2f} s;  wall / bound = {ours / bound:.2f}x, crawl phase / bound = "
                  f"{phase / bound:.2f}x (target <= 1.3x)")

            if args.skip_wget or not shutil.which("wget"):
                print("wget: skipped")
                return 0
            web.clear_log()
            theirs, wproc = run_wget(web, work, captured)
            wlog = web.log
            print(f"wget -p -i (same article URLs, no feeds/robots/tweets): {theirs:6.2f} s  {len(wlog)} requests "
                  f"(exit {wproc.returncode})")
            print(f"speed-up over wget: {theirs / ours:.1f}x (target >= 3x); "
                  f"wget / bound of its own busiest host = "
                  f"{theirs / (Counter(urlsplit(e.url).hostname for e in wlog).most_common(1)[0][1] * args.latency):.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
