"""Extraction speed: `archiver extract` over a few hundred varied news-sized pages, next to a bare
`lxml.html.fromstring` parse of the same pages (the practical limit). Target: >= half its rate.

    python3 bench/extract_speed.py [--pages 300] [--seed 1]

Pages are generated (deterministically) in the shapes real news sites have: a large head with
inline scripts and styles, navigation and footers with hundreds of links and share buttons,
article text with tweet blockquotes, bare status links, t.co links and other platforms' embeds,
comment sections; sizes from about 60 KB to 400 KB, averaging about 200 KB.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lxml.html

from archiver import extract

WORDS = ("the of and to in a is that for on with as by was at from it an be this are have has were "
         "minister said forces camp prisoners escape report sources government official statement "
         "border attack civilians region military withdrawal sanctions video footage people").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def tweet_blockquote(rng: random.Random) -> str:
    tid = rng.randrange(10**17, 2 * 10**18)
    handle = f"user{rng.randrange(10**4)}"
    code = "".join(rng.choice("abcdefghijkLMNOP0123456789") for _ in range(10))
    return (f'<blockquote class="twitter-tweet" data-width="550"><p lang="en" dir="ltr">{sentence(rng, 25)} '
            f'<a href="https://t.co/{code}">pic.twitter.com/{code}</a></p>&mdash; Some One (@{handle}) '
            f'<a href="https://twitter.com/{handle}/status/{tid}?ref_src=twsrc%5Etfw">March 3, 2024</a>'
            f'</blockquote><script async src="https://platform.twitter.com/widgets.js"></script>')


def other_embed(rng: random.Random) -> str:
    return rng.choice([
        f'<iframe src="https://www.youtube.com/embed/{"".join(rng.choice("abcdefghijkXYZ_-019") for _ in range(11))}"></iframe>',
        '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/Cabc123/"></blockquote>',
        f'<p>Read <a href="https://x.com/i/status/{rng.randrange(10**17, 2 * 10**18)}">this post</a>.</p>',
        f'<p>Source: https://twitter.com/agency/status/{rng.randrange(10**17, 2 * 10**18)}</p>',
        f'<p>Link: <a href="https://t.co/{rng.randrange(10**9)}">t.co</a></p>',
    ])


def page(rng: random.Random, target: int) -> bytes:
    head = ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>" + sentence(rng, 8) + "</title>"]
    head += [f'<link rel="stylesheet" href="/css/s{i}.css">' for i in range(rng.randrange(3, 12))]
    head.append("<script>" + ("var cfg={a:1,b:[1,2,3],c:'" + "x" * 200 + "'};" * rng.randrange(20, 120)) + "</script>")
    head.append("<style>" + ".c{color:red;margin:0 auto}" * rng.randrange(100, 800) + "</style></head><body>")
    nav = ['<header class="site-header"><nav>'] + [
        f'<li class="menu-item"><a class="nav-link" href="/section/{i}"><span>{rng.choice(WORDS)}</span></a></li>'
        for i in range(rng.randrange(80, 400))] + [
        '<a href="https://twitter.com/intent/tweet?url=x">Share</a>',
        '<a class="twitter-follow-button" href="https://twitter.com/news">Follow</a></nav></header>']
    body = ["<main><article><h1>" + sentence(rng, 10) + "</h1>"]
    footer = ["<footer>"] + [f'<a href="/f/{i}">{rng.choice(WORDS)}</a>' for i in range(rng.randrange(50, 300))]
    footer.append('<a href="https://twitter.com/news/status/1000000000000000001">latest</a></footer>')
    comments = ['<section class="comments">'] + [
        f'<div class="comment"><p>{sentence(rng, 30)}</p></div>' for _ in range(rng.randrange(0, 40))] + ["</section>"]
    tail = "".join(footer) + "".join(comments) + "</body></html>"
    size = sum(map(len, head + nav)) + len(tail)
    embeds = rng.choice([0, 0, 1, 2, 3, 5])
    while size < target:
        # real pages are element-dense: wrappers, classes, data attributes, inline links, images
        chunk = (f'<div class="row block-{rng.randrange(99)}" data-track="p{rng.randrange(999)}">'
                 f'<div class="col"><p class="para">{sentence(rng, rng.randrange(5, 15))} '
                 f'<a href="/story/{rng.randrange(10**6)}" class="inline-link">{rng.choice(WORDS)}</a> '
                 f'<span class="hl">{sentence(rng, rng.randrange(3, 10))}</span> <em>{rng.choice(WORDS)}</em></p>'
                 f'<img src="/img/{rng.randrange(10**5)}.jpg" alt="" loading="lazy" width="640" height="360">'
                 f'</div></div>')
        if embeds and rng.random() < 0.05:
            chunk += tweet_blockquote(rng)
            embeds -= 1
        elif rng.random() < 0.01:
            chunk += other_embed(rng)
        body.append(chunk)
        size += len(chunk)
    body.append("</article></main>")
    return ("".join(head + nav + body) + tail).encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pages = [page(rng, int(rng.triangular(60_000, 400_000, 150_000))) for _ in range(args.pages)]
    mean_kb = statistics.mean(map(len, pages)) / 1000

    def bare() -> None:
        for data in pages:
            lxml.html.fromstring(data)

    def ours() -> int:
        found = 0
        for i, data in enumerate(pages):
            doc = extract.parse_html(data, base_url=f"https://news.example/{i}")
            found += len(extract.find_embeds(doc).embeds)
        return found

    # Interleaved rounds, best of each: the machine is shared and noisy.
    bare_t, ours_t, found = [], [], 0
    for _ in range(3):
        t = time.process_time(); bare(); bare_t.append(time.process_time() - t)
        t = time.process_time(); found = ours(); ours_t.append(time.process_time() - t)
    bare_rate, ours_rate = len(pages) / min(bare_t), len(pages) / min(ours_t)
    print(f"{len(pages)} pages, mean {mean_kb:.0f} KB, {found} posts found")
    print(f"bare lxml.html.fromstring   {bare_rate:7.1f} pages/s (CPU time, best of 3)")
    print(f"parse_html + find_embeds    {ours_rate:7.1f} pages/s  ratio {ours_rate / bare_rate:.2f}"
          f"  (target >= 0.5: {'met' if ours_rate / bare_rate >= 0.5 else 'MISSED'})")

    with tempfile.TemporaryDirectory() as tmp:
        for i, data in enumerate(pages):
            Path(tmp, f"p{i:04d}.html").write_bytes(data)
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "archiver", "extract", tmp], capture_output=True, check=True)
        wall = time.perf_counter() - t
    print(f"`archiver extract DIR` (whole CLI, files, JSON out, start-up included): "
          f"{len(pages) / wall:.1f} pages/s, {len(out.stdout.splitlines())} lines")


if __name__ == "__main__":
    main()
