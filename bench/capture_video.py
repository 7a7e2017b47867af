"""Capture a tweet with a large video through the fixture web; compare with curl in the same run.

    python3 bench/capture_video.py [--size 1GB]

Reports, side by side over the same local HTTPS proxy:
  * the archiver (`archiver capture`, a subprocess): wall time, MB/s, peak RSS (from wait4);
  * `curl -o /dev/null`: the transfer limit;
  * `curl | gzip -6 > file`: the naive equivalent of the archiver's work.
Figures are ratios within one run, since the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fixtureweb import FixtureWeb, Response, repeat_bytes  # noqa: E402
from twitterworld import FakeTweet, TwitterWorld, Video, article_page  # noqa: E402

from archiver.config import parse_size  # noqa: E402


def run(cmd: list[str], env: dict, shell: bool = False) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd if not shell else " ".join(cmd), env=env, shell=shell,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-2000:])
        raise SystemExit(f"{cmd[0]} exited with {status}")
    return elapsed, usage.ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1GB", help="video size (default 1GB)")
    args = ap.parse_args()
    size = parse_size(args.size)
    work = Path(tempfile.mkdtemp(prefix="bench-video-"))
    body = repeat_bytes(size)
    video = Video("1500000000000000000", variants=[(2176000, "1280x720", False)])
    tweet = FakeTweet(id="1500000000000000001", handle="bench", name="Bench", text="a big video",
                      video=video, tco="BenchVideo1")
    with FixtureWeb(work / "web") as web:
        TwitterWorld(web, [tweet])
        video_url = video.variant_urls()[0][2]
        web.route(video_url.split("?")[0], lambda r: Response(200, body=body, headers=[("Content-Type", "video/mp4")]))
        blockquote = (f'<blockquote class="twitter-tweet"><p>a big video</p>&mdash; Bench (@bench) '
                      f'<a href="{tweet.permalink}">Oct 1, 2022</a></blockquote>')
        web.add("https://news.example/video", body=article_page(blockquote), headers=[("Content-Type", "text/html")])
        env = {**os.environ, **web.env()}
        curl = ["curl", "-sS", "--fail", "--proxy", web.proxy_url, "--cacert", web.ca_path, f"'{video_url}'"]

        t_curl, _ = run(curl + ["-o", "/dev/null"], env, shell=True)
        t_naive, _ = run(curl + ["|", "gzip", "-6", ">", str(work / "naive.gz")], env, shell=True)
        archiver = [sys.executable, "-m", "archiver", "-q", "capture", "https://news.example/video",
                    "--archive", str(work / "archive"), "--no-requisites"]
        t_arch, rss = run(archiver, env)

    stored = sum(f.stat().st_size for f in (work / "archive" / "warcs").glob("*.warc.gz"))
    mb = size / 1e6
    print(f"payload: {mb:.0f} MB through the fixture web's HTTPS proxy")
    print(f"curl -o /dev/null      {t_curl:7.2f} s  {mb / t_curl:7.1f} MB/s  (the limit)")
    print(f"curl | gzip -6         {t_naive:7.2f} s  {mb / t_naive:7.1f} MB/s  (naive pipeline)")
    print(f"archiver capture       {t_arch:7.2f} s  {mb / t_arch:7.1f} MB/s  peak RSS {rss / 1024:.0f} MB, "
          f"WARC {stored / 1e6:.0f} MB")
    print(f"archiver vs naive: {t_naive / t_arch:.2f}x faster; vs curl limit: {t_curl / t_arch:.2f} of it")
    print(f"targets: peak RSS < 150 MB: {'met' if rss / 1024 < 150 else 'MISSED'}; "
          f">= 2x naive: {'met' if t_naive / t_arch >= 2 else 'MISSED'}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
