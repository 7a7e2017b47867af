"""Full-text search latency on a million posts, against a LIKE scan of the same table.

    python3 bench/search.py [--posts 1000000] [--repeat 5] [--keep]

Builds a throwaway archive index (schema and triggers from `archiver.index.Index`, rows
inserted straight through SQL in batches: this measures search, not capture) with synthetic
posts: ~200-character texts drawn from a Zipf-distributed vocabulary (synthetic words, some
English, Arabic and Russian ones, @mentions, #hashtags, t.co links), several thousand authors
with a skewed posting count, statuses in realistic proportions and creation times over 2015-2024.

Then, for several kinds of query (rare word, common word, phrase, handle, and common words under
an author / status / since filter), it reports the median wall time of `Index.search` (top 50 by
bm25, built into export rows with snippets, the whole API path) next to the reference: the same
filters with `text LIKE '%word%'`, i.e. what the archive could do without FTS5. The reference is
given its best case (no ORDER BY, so it stops at the 50th hit); it is still a scan.
Figures are ratios within one run, since the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import bisect
import random
import shutil
import statistics
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.index import MIGRATIONS, Index  # noqa: E402
from archiver.search import fts_candidates  # noqa: E402

SEED = 20240301
AUTHORS = 5000
BATCH = 50_000
STATUS_WEIGHTS = {"available": 86, "deleted": 7, "suspended": 3, "protected": 2, "unavailable": 1.5, "failed": 0.5}
ENGLISH = (
    "the of and to in a is that for on said people were was with as at by from it have has are be this "
    "not an they after who their more than his will been two but had we one about year new police "
    "government forces city killed army border attack prison camp families children report world "
    "president minister officials security military group fighters civilians refugees women support "
    "water power strike protest election court judge rights journalists video footage photo statement "
    "confirmed reported according sources local international humanitarian crisis aid ceasefire "
    "negotiations troops withdrawal escape prisoners detained released arrested killed injured wounded "
    "hospital doctors emergency storm flood surge coast warning evacuate shelter residents update"
).split()
FOREIGN = (
    "الحسكة سوريا القامشلي الأكراد سجن هروب مخيم الهول قوات عائلات "
    "Сирия курды тюрьма побег лагерь беженцы армия граница заявление новости "
    "Kurdistanê Rojava şer gel çarşî Qamişlo"
).split()


def synthetic_vocabulary(rng: random.Random, size: int) -> list[str]:
    """Pronounceable distinct words of 3-12 letters, so token lengths look like prose."""
    onsets = "b c d f g h j k l m n p r s t v w z br ch cr dr fl gr kh pl sh st th tr".split()
    vowels = "a e i o u ai ea ou ie".split()
    codas = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "rk"]
    words: set[str] = set()
    while len(words) < size:
        word = "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                       for _ in range(rng.choice((1, 2, 2, 3))))
        if 3 <= len(word) <= 12:
            words.add(word)
    return sorted(words)


def build(path: Path, posts: int, rng: random.Random) -> dict:
    """Create the index at `path`; return timings and the facts queries are chosen from."""
    synthetic = synthetic_vocabulary(rng, 60_000)
    rng.shuffle(synthetic)  # frequency rank unrelated to spelling
    vocab = ENGLISH + FOREIGN + synthetic
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(vocab))]
    cum = list(accumulate(weights))
    pool = rng.choices(vocab, cum_weights=cum, k=2_000_000)
    firsts = "Amina Omar Layla Sarah John Maria Ahmed Olga Ivan Chen Fatima David Leila Jonas Anna".split()
    lasts = "Hassan Smith Ali Petrov Garcia Müller Khalil Nguyen Cohen Öztürk Brown Said Ivanova".split()
    handles = [f"{rng.choice(synthetic)}_{i}" if i % 3 else f"{rng.choice(synthetic).capitalize()}{i}"
               for i in range(AUTHORS)]
    names = [f"{rng.choice(firsts)} {rng.choice(lasts)}" for _ in range(AUTHORS)]
    author_cum = list(accumulate(1 / (i + 1) ** 0.8 for i in range(AUTHORS)))  # a few prolific accounts
    statuses = list(STATUS_WEIGHTS)
    status_cum = list(accumulate(STATUS_WEIGHTS.values()))
    start, span = 1420070400, 10 * 365 * 86400  # 2015-01-01 .. 2024-12-29
    extras = ["https://t.co/{}", "@{}", "#{}", "{}.", "{},", "({})", "“{}”", "{}!", "{}:"]
    total_chars = 0
    samples: list[str] = []

    def rows(first: int, count: int) -> list[tuple]:
        nonlocal total_chars
        out = []
        for n in range(first, first + count):
            k = rng.randint(18, 40)
            at = rng.randrange(len(pool) - k)
            words = pool[at:at + k]
            for _ in range(rng.randint(1, 4)):  # mentions, hashtags, links, punctuation
                j = rng.randrange(k)
                words[j] = rng.choice(extras).format(rng.choice(handles) if rng.random() < 0.3 else words[j])
            text = " ".join(words)
            total_chars += len(text)
            if len(samples) < 1000:
                samples.append(text)
            a = bisect.bisect_left(author_cum, rng.random() * author_cum[-1])
            status = statuses[bisect.bisect_left(status_cum, rng.random() * status_cum[-1])]
            created = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(start + rng.randrange(span)))
            post_id = str(1_000_000_000_000_000_000 + n)
            out.append(("twitter", post_id, f"https://twitter.com/{handles[a]}/status/{post_id}",
                        handles[a], names[a], text, created, status, created, created, created))
        return out

    insert = ("INSERT INTO posts (platform, post_id, url, author_handle, author_name, text, created_at,"
              " status, first_captured, last_checked, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    facts: dict = {}
    t0 = time.perf_counter()
    with Index(path) as idx:
        conn = idx.conn
        conn.execute("PRAGMA cache_size = -300000")  # 300 MB: the posts indexes take random keys
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # one checkpoint at the end, not one per batch
        # Bulk load the way migration 2 backfills an upgraded archive: rows first, then one FTS5
        # 'rebuild'. Per-row trigger inserts are slower; `trigger_us` measures them below.
        conn.execute("DROP TRIGGER posts_fts_insert")
        for first in range(0, posts, BATCH):
            batch = rows(first, min(BATCH, posts - first))
            conn.execute("BEGIN")
            conn.executemany(insert, batch)
            conn.execute("COMMIT")
            print(f"\r  {first + len(batch):>9,} posts", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        facts["insert_s"] = time.perf_counter() - t0
        t = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute(next(s for s in MIGRATIONS[1][1] if "TRIGGER posts_fts_insert" in s))
        conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('rebuild')")
        conn.execute("COMMIT")
        facts["rebuild_s"] = time.perf_counter() - t
        # What the triggers add to a capture: a further batch, inserted with them on.
        extra = rows(posts, 2_000)
        t = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(insert, extra)
        conn.execute("COMMIT")
        facts["trigger_insert_us"] = (time.perf_counter() - t) / len(extra) * 1e6
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        fts_bytes = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'posts_fts%'").fetchone()[0]
    facts["build_s"] = time.perf_counter() - t0
    # Query words picked by expected document frequency from their Zipf rank.
    words_per_post = 29

    def docs(rank: int) -> float:
        return posts * (1 - (1 - weights[rank] / cum[-1]) ** words_per_post)

    first_synthetic = len(ENGLISH) + len(FOREIGN)
    rank = {w: r for r, w in enumerate(vocab)}
    facts.update({
        "posts": posts + len(extra), "avg_chars": total_chars / (posts + len(extra)),
        "rare": next(vocab[r] for r in range(first_synthetic, len(vocab)) if docs(r) < 40),
        "mid": next(vocab[r] for r in range(first_synthetic, len(vocab)) if docs(r) < 3000),
        "common": "people",
        # Two fairly common words next to each other in some post: positions must be compared.
        "phrase": next(f"{a} {b}" for t in samples for a, b in zip(t.split(), t.split()[1:])
                       if rank.get(a, 0) > 100 and rank.get(b, 0) > 100 and docs(rank[a]) > posts / 1000
                       and docs(rank[b]) > posts / 1000),
        "author": handles[40],  # ~2,000 posts
        "handle": handles[1500],  # ~100 posts, and mentions
        "file_mb": sum(f.stat().st_size for f in path.parent.iterdir()) / 1e6,
        "fts_mb": fts_bytes / 1e6,
    })
    return facts


def median_ms(fn, repeat: int) -> float:
    fn()  # warm the page cache and the statement cache
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def like_reference(idx: Index, word: str, where: str, params: tuple, limit: int = 50) -> int:
    """The archive without FTS5: LIKE with the same filters, in its best case: no ordering, so
    the scan stops at the 50th hit. A common word is then found at once (any 50 posts, where
    FTS ranks every match); a rare one costs a scan of the whole table."""
    return len(idx.conn.execute(
        f"SELECT * FROM posts p WHERE (p.text LIKE ? {where}) LIMIT ?", (f"%{word}%", *params, limit)
    ).fetchall())


def ratio(reference: float, measured: float) -> str:
    r = reference / measured
    return f"{r:.0f}x" if r >= 10 else f"{r:.2f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per query (median reported)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary archive and print its path")
    args = ap.parse_args()
    rng = random.Random(SEED)
    work = Path(tempfile.mkdtemp(prefix="bench-search-"))
    try:
        path = work / "index.sqlite3"
        print(f"building {args.posts:,} posts in {work} ...", file=sys.stderr)
        facts = build(path, args.posts, rng)
        print(f"{facts['posts']:,} posts, {facts['avg_chars']:.0f} characters each on average, {AUTHORS:,} authors; "
              f"built in {facts['build_s']:.0f} s")
        print(f"  bulk insert without the FTS trigger {facts['insert_s']:.0f} s; FTS5 'rebuild' (what migration 2 "
              f"does to an upgraded archive) {facts['rebuild_s']:.0f} s; insert with the triggers "
              f"{facts['trigger_insert_us']:.0f} µs/post")
        print(f"  index file {facts['file_mb']:.0f} MB, of which the FTS5 index {facts['fts_mb']:.0f} MB")
        # (label, search text, search filters, LIKE word, extra SQL for the reference, its params)
        cases = [
            ("rare word", facts["rare"], {}, facts["rare"], "", ()),
            ("mid-frequency word", facts["mid"], {}, facts["mid"], "", ()),
            ("common word", facts["common"], {}, facts["common"], "", ()),
            ("two common words", f"{facts['common']} killed", {}, facts["common"], "AND p.text LIKE '%killed%'", ()),
            ("phrase", f'"{facts["phrase"]}"', {}, facts["phrase"], "", ()),
            ("prefix", facts["rare"][:4] + "*", {}, facts["rare"][:4], "", ()),
            ("@handle (author column)", "@" + facts["handle"], {}, facts["handle"], "OR p.author_handle LIKE ?",
             (f"%{facts['handle']}%",)),
            ("common word --author", facts["common"], {"author": facts["author"]}, facts["common"],
             "AND p.author_handle = ? COLLATE NOCASE", (facts["author"],)),
            ("common word --status suspended", facts["common"], {"status": "suspended"}, facts["common"],
             "AND p.status = 'suspended'", ()),
            ("mid word --since 2024-06-01", facts["mid"], {"since": "2024-06-01"}, facts["mid"],
             "AND p.created_at >= '2024-06-01T00:00:00'", ()),
            ("rare word --status deleted", facts["rare"], {"status": "deleted"}, facts["rare"],
             "AND p.status = 'deleted'", ()),
        ]
        print(f"\nmedian ms, top 50. FTS: Index.search (bm25 over all matches, export rows, snippets), "
              f"{args.repeat} runs. LIKE: same filters, first 50 found, {max(1, args.repeat // 3)} run(s)\n")
        print(f"{'query':<31} {'text':<24} {'matches':>8} {'hits':>4} {'FTS ms':>8} {'LIKE ms':>8} {'LIKE/FTS':>8}")
        with Index(path) as idx:
            like_runs = max(1, args.repeat // 3)
            for label, text, filters, word, extra, params in cases:
                matches = idx.conn.execute(
                    "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?", (fts_candidates(text)[-1],)
                ).fetchone()[0]
                hits = len(idx.search(text, **filters))
                fts = median_ms(lambda t=text, f=filters: idx.search(t, **f), args.repeat)
                like = median_ms(lambda w=word, e=extra, p=params: like_reference(idx, w, e, p), like_runs)
                print(f"{label:<31} {text[:24]:<24} {matches:>8,} {hits:>4} {fts:>8.1f} {like:>8.1f} "
                      f"{ratio(like, fts):>8}")
        print("\nmatches: posts the text matches, before filters. LIKE stops at any 50 hits, so a common word"
              "\nis quick for it; FTS scores every match to return the best 50, so its time grows with them.")
        if args.keep:
            print(f"\nkept {work}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
