"""Scheduled, polite, resumable crawls (issue #5): seeds -> frontier -> `capture_article`.

A pass: queue the seeds; workers take URLs from the frontier (`archiver.frontier`, in the
archive's database) and read them. A seed is fetched and sniffed (`archiver.seeds`): a feed or
sitemap queues the articles it lists (and a sitemap index its sitemaps); anything else is an
article. An article goes through `capture_article`, the pipeline `archiver capture` uses, with
the page this module fetched (not fetched twice), `resnapshot=False` (posts the archive already
holds in a final state are not fetched again). Static assets (a site's stylesheets, scripts,
fonts and logos; the tweet embed's scripts) are fetched once a pass and their records linked to
every article that uses them, as `wget -p` fetches a requisite once per run (`AssetCache`). With `--depth N` its links are queued
too, within scope. The pass ends when nothing is due, nothing is in progress and nothing is
due within `pass_wait`; its summary is stored in `crawl_runs`.

Scheduling. All fetches share one `HostGate` (`archiver.hosts`): per host, `--per-host`
requests in flight (1 by default; CDN hosts more) and `--delay` (or robots.txt Crawl-delay)
between request starts; platform API hosts go through it like any other. The scheduler hands a
worker the next due URL of a host that can start a request now and that no other worker is
queued for (`gate.idle(host)`: `ready_in(host) == 0`, nobody waiting), preferring hosts with the
fewest articles in progress. So a worker never starts by waiting on a busy host while another
host has work, and a host whose earlier articles have moved on to their embeds and media (other
hosts) gets its next article at once, staying busy: at most slots+3 of its articles are in
progress. A worker that finds nothing claimable sleeps until the gate says a host may have
become ready, a row becomes due, or a worker finishes.

Waiting is never done in a worker for long: fetch retries stay short (seconds, `Config`); a host
pushed back (Retry-After, or failing repeatedly: exponential back-off in the gate) for longer
than `gate_wait` raises `HostBackedOff`, and the URL goes back to the frontier with that time as
its next attempt. A URL that failed for a transient reason is retried after `retry_wait`,
doubled each attempt, up to `max_attempts`; a 404 is final.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import socket
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Optional
from urllib.parse import urlsplit

from archiver import extract
from archiver.capture import Archive, capture_article
from archiver.config import Config, parse_duration
from archiver.errors import BlockedURL, StorageError, UsageError
from archiver.fetch import RETRY_STATUSES, FetchResult, check_url, retry_after_seconds
from archiver.frontier import Frontier, Item, NewURL, SQLiteFrontier
from archiver.hosts import HostBackedOff, HostGate
from archiver.index import timestamp
from archiver.models import Post, RecordRef
from archiver.progress import Progress
from archiver.robots import RobotsCache
from archiver.seeds import LISTING_KINDS, is_recent, normalize_url, parse_listing, read_seeds, sniff

log = logging.getLogger(__name__)

# Links that cannot be articles, not followed with --depth.
_NOT_PAGES = re.compile(
    r"\.(?:jpe?g|png|gif|webp|avif|svg|ico|bmp|tiff?|mp[34]|m4[av]|mov|webm|avi|mkv|ogg|wav|flac|m3u8|ts|"
    r"pdf|zip|gz|tgz|bz2|xz|7z|rar|exe|dmg|apk|css|js|json|woff2?|ttf|otf|eot|docx?|xlsx?|pptx?)$",
    re.I,
)


@dataclass(frozen=True)
class CrawlOptions:
    """What to crawl and how; everything `archiver crawl` takes beyond the fetch Config."""

    seeds_file: Optional[str] = None
    seeds: tuple[str, ...] = ()  # more seed URLs (tests, library use)
    since: Optional[str] = None  # ISO 8601 UTC: listed entries dated before are skipped
    depth: int = 0  # links followed from articles
    include: tuple[str, ...] = ()  # regexes; when given, listed and linked URLs must match one
    exclude: tuple[str, ...] = ()  # regexes; matching URLs are never queued
    ignore_robots: bool = False
    workers: int = 8
    recapture_after: Optional[float] = None  # seconds; None: an article is captured once
    every: Optional[float] = None  # seconds between pass starts; None: one pass
    passes: Optional[int] = None  # stop after this many passes (with --every)
    max_attempts: int = 5
    retry_wait: float = 300.0  # first wait after a transient failure, doubled each attempt
    pass_wait: float = 60.0  # a pass waits for retries due within this long, no longer
    gate_wait: float = 15.0  # longest a worker waits for a pushed-back host
    host_backoff: float = 1.0  # first back-off of a failing host, doubled per failure
    host_backoff_max: float = 600.0
    max_sitemap_nesting: int = 3  # sitemap index -> sitemap index -> ...


def since_timestamp(text: str, *, now: Optional[float] = None) -> str:
    """`--since`: an ISO 8601 date or time (`2024-05-01`, `2024-05-01T12:00:00+02:00`), or a
    duration meaning that long ago (`7d`); returned as ISO 8601 UTC."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?\s*[a-zA-Z]+", text):
        seconds = parse_duration(text)
        return timestamp(datetime.fromtimestamp((now or time.time()) - seconds, timezone.utc))
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        text += "T00:00:00Z"
    try:
        return timestamp(text)
    except ValueError:
        raise UsageError(f"--since: not an ISO 8601 date or a duration: {text!r} (try 2024-05-01 or 7d)") from None


# --- scope ---------------------------------------------------------------------------------


def site_of(host: str) -> str:
    """The same-site key: the host name without a leading `www.`."""
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


class Scope:
    """Which URLs a crawl may queue besides its seeds.

    `--exclude` patterns (Python regexes, searched anywhere in the URL) drop URLs from feeds,
    sitemaps and links. With `--include`, such URLs must also match one include pattern;
    without, links are followed only to the same site as the page they are in (same host, a
    leading `www.` ignored; sub-domains are other sites), while feeds and sitemaps may list any
    host (they are the site's own word).
    """

    def __init__(self, include: Iterable[str] = (), exclude: Iterable[str] = ()):
        self.include = [self._compile(p, "--include") for p in include]
        self.exclude = [self._compile(p, "--exclude") for p in exclude]

    @staticmethod
    def _compile(pattern: str, option: str) -> re.Pattern:
        try:
            return re.compile(pattern)
        except re.error as exc:
            raise UsageError(f"{option} {pattern!r}: not a regular expression ({exc})") from None

    def listed(self, url: str) -> bool:
        """May a URL a feed or sitemap gives be queued?"""
        if any(p.search(url) for p in self.exclude):
            return False
        return not self.include or any(p.search(url) for p in self.include)

    def linked(self, url: str, page_url: str) -> bool:
        """May a link found in the article at `page_url` be followed?"""
        if any(p.search(url) for p in self.exclude):
            return False
        if self.include:
            return any(p.search(url) for p in self.include)
        return site_of(urlsplit(url).hostname or "") == site_of(urlsplit(page_url).hostname or "")


def page_links(page: FetchResult) -> list[str]:
    """The `<a href>` targets of a fetched page: absolute, http(s), fragment dropped, no files."""
    if not page.body:
        return []
    doc = extract.parse_html(page.body, base_url=page.final_url, content_type=page.content_type)
    out: dict[str, None] = {}
    for a in doc.root.iter("a"):
        url = doc.absolute(a.get("href"))
        if not url:
            continue
        url = normalize_url(url)
        if _NOT_PAGES.search(urlsplit(url).path):
            continue
        out[url] = None
    return list(out)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def iso(epoch: Optional[float]) -> Optional[str]:
    """Unix seconds (the frontier's scheduling times) as ISO 8601 UTC, for people and JSON."""
    return None if epoch is None else timestamp(datetime.fromtimestamp(epoch, timezone.utc))


# --- static assets, once a pass ----------------------------------------------------------------

_STATIC_TYPES = ("text/css", "javascript", "ecmascript", "font/", "image/", "application/font",
                 "application/x-font", "application/vnd.ms-fontobject")


class AssetCache:
    """The archive's Fetcher, answering a static asset fetched earlier in the pass from memory.

    A stylesheet, script, font or image that came back 200 and whole is not asked for again
    in the same pass: the caller gets the earlier result (its records, so the new article or
    post links the same WARC records; its body if one was read). A news site's CSS and logo,
    and the embed scripts every tweet loads, would otherwise be fetched once per article: more
    load on the site than the articles themselves. Pages, feeds, API answers and failures are
    never served from here. Two threads asking for the same URL at once: the second waits for
    the first's answer (and uses it if it is such an asset). Everything else is the wrapped
    Fetcher's.
    """

    MAX_ENTRIES = 20_000
    MAX_BODY = 1 << 20  # bodies kept in memory (stylesheets, mostly) up to this size

    def __init__(self, fetcher):
        self._fetcher = fetcher
        self._lock = threading.Lock()
        self._known: dict[str, FetchResult] = {}
        self._fetching: dict[str, threading.Event] = {}
        self.saved = 0  # requests not sent this pass

    def __getattr__(self, name: str):
        return getattr(self._fetcher, name)

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
            self.saved = 0

    def fetch(self, url: str, **kwargs) -> FetchResult:
        if not set(kwargs) <= {"want_body"}:  # extra headers, no redirects...: not a plain GET
            return self._fetcher.fetch(url, **kwargs)
        want = kwargs.get("want_body", True)
        while True:
            with self._lock:
                hit = self._known.get(url)
                if hit is not None and (hit.body is not None or not (want(hit) if callable(want) else want)):
                    self.saved += 1
                    return replace(hit, records=list(hit.records), redirects=list(hit.redirects))
                busy = self._fetching.get(url)
                if busy is None:
                    done = self._fetching[url] = threading.Event()
                    break
            busy.wait()
            if self._known.get(url) is None:  # not an asset (or it failed): our own request
                return self._fetcher.fetch(url, **kwargs)
        try:
            res = self._fetcher.fetch(url, **kwargs)
            ctype = (res.content_type or "").lower()
            if res.ok and res.status == 200 and any(t in ctype for t in _STATIC_TYPES):
                keep = res if res.body is None or len(res.body) <= self.MAX_BODY else replace(res, body=None)
                with self._lock:
                    if len(self._known) < self.MAX_ENTRIES:
                        self._known[url] = keep
            return res
        finally:
            with self._lock:
                del self._fetching[url]
            done.set()


# --- one pass's numbers -----------------------------------------------------------------------


class PassStats:
    """Counters of one run, shared by the workers; `summary()` is what `crawl_runs` stores."""

    MAX_FAILURES_LISTED = 20

    def __init__(self, run: dict, warc_dir: Path):
        self.run = run
        self.warc_dir = warc_dir
        self.started_at = timestamp()
        self.t0 = time.monotonic()
        self.bytes0 = warc_bytes(warc_dir)
        self.lock = threading.Lock()
        self.captured = self.failed = self.retrying = self.blocked = 0
        self.listings_read = self.listings_failed = self.urls_listed = self.links = 0
        self.worth_retry = 0  # failures a later run may fix
        self.posts: dict[tuple[str, str], Post] = {}
        self.failures: list[dict] = []
        self.stopped = False

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def article(self, posts: list[Post]) -> None:
        with self.lock:
            self.captured += 1
            for p in posts:
                self.posts[(p.platform, p.id)] = p

    def failure(self, url: str, reason: str, *, retry: bool) -> None:
        with self.lock:
            if len(self.failures) < self.MAX_FAILURES_LISTED:
                self.failures.append({"url": url, "reason": reason, "retry": retry})

    def posts_by_status(self) -> dict[str, int]:
        with self.lock:
            out: dict[str, int] = {}
            for p in self.posts.values():
                out[p.status] = out.get(p.status, 0) + 1
            return out

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.t0

    def summary(self, *, state: str, left: dict, backed_off: list[dict]) -> dict:
        with self.lock:
            media = [m for p in self.posts.values() for m in p.media]
            posts_failed = sum(1 for p in self.posts.values() if p.status == "failed")
            media_missing = sum(1 for m in media if not m.captured)
            failures = list(self.failures)
        seconds = self.seconds
        worth = self.worth_retry + posts_failed + media_missing + (1 if state != "finished" else 0)
        return {
            "run": self.run["pk"], "pass": self.run["pass"], "resumed": self.run["resumed"], "state": state,
            "started_at": self.started_at, "finished_at": timestamp(), "seconds": round(seconds, 3),
            "articles": {"captured": self.captured, "failed": self.failed, "retrying": self.retrying,
                         "blocked": self.blocked},
            "listings": {"read": self.listings_read, "failed": self.listings_failed, "urls": self.urls_listed},
            "links": self.links,
            "posts": self.posts_by_status(),
            "media": {"found": len(media), "captured": len(media) - media_missing},
            "bytes": warc_bytes(self.warc_dir) - self.bytes0,
            "rate": round(self.captured / seconds, 3) if seconds > 0 else 0.0,
            "left": left,
            "backed_off": backed_off,
            "failures": failures,
            "exit_code": 1 if worth else 0,
        }


def warc_bytes(warc_dir: Path) -> int:
    """Bytes in the archive's WARC files, open ones included (few files: they rotate at 1 GB)."""
    total = 0
    try:
        with os.scandir(warc_dir) as it:
            for entry in it:
                if ".warc" in entry.name:
                    try:
                        total += entry.stat().st_size
                    except OSError:
                        pass
    except OSError:
        pass
    return total


# --- the scheduler ----------------------------------------------------------------------------


class Scheduler:
    """Hands the next due URL of a ready host to an idle worker; runs in the pass's main thread.

    One dispatcher, so wake-ups (a gate slot freed, an article finished, rows queued) wake one
    thread, not every idle worker. Workers take items from `tasks` (None: the pass is over).
    """

    HOSTS_TTL = 2.0  # seconds a list of hosts with due rows is trusted
    # Articles of one host in progress at once, beyond its request slots: the others are past
    # their own host (embeds, media) while a new one starts there, so the host stays busy.
    EXTRA_PER_HOST = 3
    TICK = 0.25  # the dispatcher looks (and the progress display refreshes) at least this often

    def __init__(self, frontier: Frontier, gate: HostGate, *, stop: threading.Event, pass_wait: float,
                 budget: int = 8, threads: int = 32, owner: str = "local"):
        self.frontier = frontier
        self.gate = gate
        self.budget = budget  # articles in progress, not counting those waiting for a host
        self.stop = stop
        self.pass_wait = pass_wait
        self.owner = owner
        self.threads = threads
        self.tasks: queue.SimpleQueue = queue.SimpleQueue()
        self.active: dict[str, int] = {}  # articles in progress per host
        self.running = 0
        self._lock = threading.Lock()  # running and active: the dispatcher and finishing workers
        self._poke = threading.Event()
        self._hosts: list[str] = []
        self._hosts_at = float("-inf")
        self._last_pick: dict[str, float] = {}
        gate.subscribe(lambda _host: self._poke.set())

    def wake(self) -> None:
        """New rows were queued, or something else worth a look happened."""
        self._hosts_at = float("-inf")
        self._poke.set()

    def limit(self, host: str) -> int:
        return self.gate.slots(host) + self.EXTRA_PER_HOST

    def dispatch(self, on_tick: Optional[Callable[[], None]] = None) -> None:
        """Hand out items until the pass is over or `stop` is set; then release the workers."""
        try:
            while not self.stop.is_set():
                self._poke.clear()  # before looking: a wake-up from now on is not lost
                while self.running < self.threads:
                    item = self._pick()
                    if item is None:
                        break
                    self.tasks.put(item)
                timeout = self._idle()
                if timeout is None:
                    break
                if on_tick:
                    on_tick()
                self._poke.wait(min(timeout, self.TICK))
        finally:
            for _ in range(self.threads):
                self.tasks.put(None)

    def done(self, item: Item) -> None:
        """A worker settled `item`."""
        with self._lock:
            self.running -= 1
            left = self.active.get(item.host, 1) - 1
            if left > 0:
                self.active[item.host] = left
            else:
                self.active.pop(item.host, None)
        self._hosts_at = float("-inf")
        self._poke.set()

    def hosts_now(self) -> list[str]:
        with self._lock:
            return sorted(self.active, key=lambda h: -self.active[h])

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._hosts_at > self.HOSTS_TTL:
            self._hosts = self.frontier.due_hosts()
            self._hosts_at = now

    def _pick(self) -> Optional[Item]:
        if self.running - self.gate.waiting() >= self.budget:
            return None  # enough articles making progress; a release or a finish wakes us
        self._refresh()
        with self._lock:
            active = dict(self.active)
        ready = []
        for host in self._hosts:
            n = active.get(host, 0)
            if n < self.limit(host) and self.gate.idle(host):
                ready.append((n, self._last_pick.get(host, 0.0), host))
        ready.sort()
        for _n, _, host in ready:
            item = self.frontier.claim(host, owner=self.owner)
            if item is not None:
                self._last_pick[host] = time.monotonic()
                with self._lock:
                    self.active[host] = self.active.get(host, 0) + 1
                    self.running += 1
                return item
            self._hosts.remove(host)  # nothing due there after all
        return None

    def _idle(self) -> Optional[float]:
        """Seconds to sleep before looking again; None when the pass is over."""
        if self.running == 0:
            self._refresh(force=True)
        with self._lock:
            active = dict(self.active)
        waits = [self.gate.ready_in(h) for h in self._hosts if active.get(h, 0) < self.limit(h)]
        soonest = min(waits) if waits else None  # a host with due rows becomes ready
        if self.running == 0 or not waits:
            nd = self.frontier.next_due()
            if nd is not None and nd > time.time():
                later = nd - time.time()
                soonest = later if soonest is None else min(soonest, later)
        if self.running == 0 and (soonest is None or soonest > self.pass_wait):
            return None
        return max(soonest if soonest is not None else 1.0, 0.005)


# --- the crawler --------------------------------------------------------------------------------


class Crawler:
    """One archive's crawl: passes over its frontier with a pool of workers.

    `workers` bounds the articles making progress, not the threads: an article whose fetches
    wait behind a busy host (a rate-limited embed API, say) holds a thread, but new articles
    start on idle hosts meanwhile, up to THREADS_PER_WORKER times `workers` articles in
    progress. So one slow host does not stall a crawl of the others. (Waiting fetch threads
    are what the gate can count; an article with several waiting counts as several.)
    """

    THREADS_PER_WORKER = 4

    def __init__(self, archive: Archive, options: CrawlOptions, *, progress: Optional[Progress] = None,
                 stop: Optional[threading.Event] = None, frontier: Optional[Frontier] = None):
        self.archive = archive
        self.options = options
        self.progress = progress
        self.stop = stop or threading.Event()
        self.scope = Scope(options.include, options.exclude)
        config = archive.config
        self.gate = HostGate(config.per_host, config.delay, max(config.cdn_per_host, config.per_host),
                             max_wait=options.gate_wait, backoff_base=options.host_backoff,
                             backoff_max=options.host_backoff_max)
        archive.fetcher.gate = self.gate  # every fetch of this process, articles' embeds included
        self.frontier: Frontier = frontier or SQLiteFrontier(archive.index, owner=_owner())
        self.robots = RobotsCache(archive.fetcher, self.gate, user_agent=config.user_agent,
                                  base_delay=config.delay, on_records=self._index_records,
                                  unavailable_retry=min(options.retry_wait, 3600.0))
        self.stats: Optional[PassStats] = None
        self.scheduler: Optional[Scheduler] = None
        self.fatal: Optional[StorageError] = None  # the archive cannot be written: the crawl stops
        self.assets = AssetCache(archive.fetcher)
        archive.fetcher = self.assets  # type: ignore[assignment] # articles, their embeds, everything
        self._counts: dict = {}
        self._counts_at = float("-inf")

    # -- a pass --------------------------------------------------------------------------------

    def run_pass(self) -> dict:
        """One pass (or the rest of an interrupted one); returns its summary."""
        opts = self.options
        run = self.frontier.start_run(seeds=opts.seeds_file, options=_options_json(opts))
        self.stats = stats = PassStats(run, self.archive.config.warc_dir)
        self.assets.clear()  # a site's stylesheets, scripts and logos: fetched once a pass
        reclaimed = self.frontier.reclaim(max_attempts=opts.max_attempts)
        if any(reclaimed.values()):
            log.info("taken back from an interrupted run: %d done already, %d queued again, %d given up",
                     reclaimed["done"], reclaimed["queued"], reclaimed["failed"])
        if run["resumed"]:
            log.info("resuming pass %d", run["pass"])
        pass_id = run["pass"]
        if opts.ignore_robots:
            self.frontier.requeue(state="blocked", pass_id=pass_id)
        cutoff = self._recapture_before()
        if cutoff:
            self.frontier.requeue(state="done", kind="article", pass_id=pass_id, done_before=cutoff)
        seeds = [s.url for s in read_seeds(opts.seeds_file)] if opts.seeds_file else []
        seeds += [normalize_url(u) for u in opts.seeds]
        self.frontier.add([NewURL(u, host_of(u), kind="seed", via="seeds") for u in dict.fromkeys(seeds)],
                          pass_id=pass_id, recapture_before=cutoff)

        threads = max(1, opts.workers) * self.THREADS_PER_WORKER
        self.scheduler = sched = Scheduler(self.frontier, self.gate, stop=self.stop, pass_wait=opts.pass_wait,
                                           budget=max(1, opts.workers), threads=threads, owner=_owner())
        workers = [threading.Thread(target=self._work, name=f"crawl-{i}", daemon=True) for i in range(threads)]
        for w in workers:
            w.start()
        tick = (lambda: self.progress.show(self.snapshot())) if self.progress else None
        try:
            sched.dispatch(on_tick=tick)
            while any(w.is_alive() for w in workers):  # the articles in progress finish
                for w in workers:
                    w.join(timeout=0.25)
                    if tick:
                        tick()
        finally:
            stats.stopped = self.stop.is_set()
        state = "interrupted" if self.stop.is_set() else "finished"
        backed_off = self.gate.backed_off()
        for b in backed_off:  # the frontier remembers a push-back beyond this run (cron, restarts)
            if b["seconds"] > 0:
                self.frontier.postpone(b["host"], time.time() + b["seconds"])
        counts = self.frontier.counts()
        left = {"queued": counts["by_state"]["queued"] + counts["retrying"],
                "in_progress": counts["by_state"]["in_progress"], "next_due_at": iso(counts["next_due_at"])}
        summary = stats.summary(state=state, left=left, backed_off=backed_off)
        self.frontier.finish_run(run, state=state, summary=summary)
        if self.progress:
            self._counts_at = float("-inf")
            self.progress.show(self.snapshot(), force=True)
            self.progress.close()
        return summary

    def _recapture_before(self) -> Optional[str]:
        after = self.options.recapture_after
        if after is None:
            return None
        return timestamp(datetime.fromtimestamp(time.time() - after, timezone.utc))

    def snapshot(self) -> dict:
        """What the progress display shows."""
        now = time.monotonic()
        if now - self._counts_at > 2.0:
            self._counts = self.frontier.counts()
            self._counts_at = now
        st = self._counts["by_state"]
        stats = self.stats
        assert stats is not None
        return {
            "pass": stats.run["pass"], "done": stats.captured, "queued": st["queued"] + st["in_progress"],
            "failed": stats.failed + stats.retrying, "blocked": stats.blocked,
            "posts": stats.posts_by_status(), "bytes": warc_bytes(stats.warc_dir) - stats.bytes0,
            "rate": stats.captured / max(stats.seconds, 1e-9),
            "hosts": self.scheduler.hosts_now() if self.scheduler else [],
            "backed_off": [b for b in self.gate.backed_off() if b["seconds"]],
        }

    # -- workers -------------------------------------------------------------------------------

    def _work(self) -> None:
        sched = self.scheduler
        assert sched is not None
        while True:
            item = sched.tasks.get()
            if item is None:
                return
            try:
                self._visit(item)
            except HostBackedOff as exc:
                self._defer(item, exc)
            except StorageError as exc:  # the archive cannot take more: stop, nothing is lost
                log.error("error: %s; stopping the crawl", exc)
                self.fatal = exc
                self.stop.set()
                self._settle(item, "queued", next_at=time.time(), attempts=item.attempts - 1)
            except Exception as exc:  # noqa: BLE001 - one URL must not end the crawl
                log.exception("crawler error on %s", item.url)
                self._fail(item, f"crawler error: {type(exc).__name__}: {exc}", transient=True)
            finally:
                sched.done(item)

    def _settle(self, item: Item, state: str, **facts) -> None:
        self.frontier.settle(item, state, **facts)

    def _defer(self, item: Item, exc: HostBackedOff) -> None:
        """The URL waits for a host that is pushed back; not the URL's fault: no attempt counted."""
        self._settle(item, "queued", next_at=time.time() + exc.seconds, attempts=item.attempts - 1,
                     reason=f"waiting: {exc}")
        log.info("later: %s (%s)", item.url, exc)

    def _visit(self, item: Item) -> None:
        stats = self.stats
        assert stats is not None
        robots_facts: dict = {"robots": "ignored"} if self.options.ignore_robots else {}
        if not self.options.ignore_robots:
            verdict = self.robots.check(item.url)
            robots_facts = {"robots": verdict.robots, "robots_record": verdict.record_id}
            if verdict.robots == "unavailable":
                self._fail(item, verdict.reason or "robots.txt unavailable", transient=True,
                           wait=verdict.retry_in, **robots_facts)
                return
            if not verdict.allowed:
                self._settle(item, "blocked", next_at=None, reason=verdict.reason, **robots_facts)
                stats.add(blocked=1 if item.kind == "article" else 0)
                log.info("blocked by robots.txt: %s", item.url)
                return
        page = self.archive.fetcher.fetch(item.url)
        kind = item.kind
        if kind != "article":
            detected = sniff(page.body) if page.ok else None
            if detected in LISTING_KINDS:
                self._read_listing(item, page, detected, robots_facts)
                return
            if not page.ok:
                self._index_records(page.records)
                stats.add(listings_failed=1)
                self._fail_page(item, page, **robots_facts)
                return
            robots_facts["detected"] = "html"  # not a feed nor a sitemap: an article
        result = capture_article(self.archive, item.url, page=page, resnapshot=False)
        if not page.ok:
            self._fail_page(item, page, kind="article", said=True, **robots_facts)
            return
        found = 0
        if item.depth < self.options.depth:
            links = [u for u in page_links(page) if u != item.url and self.scope.linked(u, page.final_url)]
            found = self.frontier.add(
                [NewURL(u, host_of(u), depth=item.depth + 1, via=item.url) for u in links],
                pass_id=item.pass_id, recapture_before=self._recapture_before())
            stats.add(links=found)
            if found:
                self.scheduler.wake()
        self._settle(item, "done", kind="article", next_at=None, reason=None, posts=len(result.posts),
                     found=found, **robots_facts)
        stats.article(result.posts)
        problems = "".join(f"; {p}" for p in result.problems[:2])
        log.info("captured %s (%d posts)%s", item.url, len(result.posts), problems)

    def _read_listing(self, item: Item, page: FetchResult, kind: str, facts: dict) -> None:
        stats = self.stats
        assert stats is not None
        self._index_records(page.records)
        listing = parse_listing(page.body or b"", page.final_url, kind)
        since = self.options.since
        urls = [NewURL(e.url, host_of(e.url), depth=0, via=item.url, published=e.published)
                for e in listing.entries if is_recent(e, since) and self.scope.listed(e.url)]
        if listing.sitemaps and item.depth >= self.options.max_sitemap_nesting:
            log.warning("%s: sitemap index nested more than %d deep, not followed", item.url,
                        self.options.max_sitemap_nesting)
        elif listing.sitemaps:
            urls += [NewURL(e.url, host_of(e.url), kind="sitemap", depth=item.depth + 1, via=item.url,
                            published=e.published) for e in listing.sitemaps if is_recent(e, since)]
        queued = self.frontier.add(urls, pass_id=item.pass_id, recapture_before=self._recapture_before())
        self._settle(item, "done", next_at=None, reason=None, detected=kind, found=len(urls), **facts)
        stats.add(listings_read=1, urls_listed=len(listing.entries))
        if queued:
            self.scheduler.wake()
        log.info("read %s (%s): %d URL(s) listed, %d queued", item.url, kind,
                 len(listing.entries) + len(listing.sitemaps), queued)

    def _fail_page(self, item: Item, page: FetchResult, *, said: bool = False, **facts) -> None:
        transient, reason, wait = classify_failure(item.url, page, allow_private=self.archive.config.allow_private)
        self._fail(item, reason, transient=transient, wait=wait, said=said, **facts)

    def _fail(self, item: Item, reason: str, *, transient: bool, wait: Optional[float] = None, said: bool = False,
              **facts) -> None:
        """Settle a failure: retried later if transient and attempts are left, else final.
        `said`: the capture pipeline has warned about it already (the retry time is at INFO)."""
        stats = self.stats
        assert stats is not None
        is_article = facts.get("kind", item.kind) == "article"
        if transient and item.attempts < self.options.max_attempts:
            delay = min(86400.0, max(wait or 0.0, self.options.retry_wait * 2 ** (item.attempts - 1)))
            self._settle(item, "failed", next_at=time.time() + delay, reason=reason, **facts)
            stats.add(retrying=1 if is_article else 0, worth_retry=1)
            log.log(logging.INFO if said else logging.WARNING, "failed (attempt %d, next in %.0fs): %s: %s",
                    item.attempts, delay, item.url, reason)
        else:
            if transient:
                reason = f"gave up after {item.attempts} attempts: {reason}"
            self._settle(item, "failed", next_at=None, reason=reason, **facts)
            stats.add(failed=1 if is_article else 0, worth_retry=1 if transient else 0)
            if not said or transient:
                log.warning("failed: %s: %s", item.url, reason)
        stats.failure(item.url, reason, retry=transient)

    def _index_records(self, refs: list[RecordRef]) -> None:
        """Records of no article (robots.txt, feeds, sitemaps) go in the index too, after a flush."""
        if refs:
            self.archive.sink.flush()
            self.archive.index.add_records(refs)


def classify_failure(url: str, page: FetchResult, *, allow_private: bool = False) -> tuple[bool, str, Optional[float]]:
    """(worth another attempt later, reason, seconds to wait at least) for a page not fetched."""
    reason = page.error or f"HTTP {page.status}"
    if page.status in RETRY_STATUSES:
        wait = None
        for k, v in page.headers:
            if k.lower() == "retry-after":
                wait = retry_after_seconds(v)
        return True, reason, wait
    if page.status is None:
        try:
            check_url(page.final_url or url, allow_private=allow_private)
        except BlockedURL:
            return False, reason, None  # refused before sending: asking again changes nothing
        return True, reason, None
    if page.truncated in ("disconnect", "time"):
        return True, reason, None
    return False, reason, None


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _options_json(opts: CrawlOptions) -> dict:
    out = asdict(opts)
    out["seeds"] = list(opts.seeds)
    out["include"], out["exclude"] = list(opts.include), list(opts.exclude)
    return out


# --- entry point --------------------------------------------------------------------------------


@dataclass
class CrawlResult:
    summaries: list[dict] = field(default_factory=list)
    fatal: Optional[StorageError] = None

    @property
    def exit_code(self) -> int:
        if self.fatal is not None:
            return 2
        if not self.summaries:
            return 1
        return max(s["exit_code"] for s in self.summaries)


def crawl(config: Config, options: CrawlOptions, *, progress: Optional[Progress] = None,
          stop: Optional[threading.Event] = None,
          on_summary: Optional[Callable[[dict], None]] = None) -> CrawlResult:
    """Run passes over the archive's frontier: one, or one every `options.every` until `stop`
    is set (or `options.passes` are done). Raises UsageError for unusable seeds or patterns,
    StorageError (ArchiveLocked) when the archive cannot be opened."""
    stop = stop or threading.Event()
    if options.seeds_file:
        read_seeds(options.seeds_file)  # unusable seeds are a usage error before anything starts
    Scope(options.include, options.exclude)
    result = CrawlResult()
    with Archive(config) as archive:
        crawler = Crawler(archive, options, progress=progress, stop=stop)
        while True:
            started = time.monotonic()
            summary = crawler.run_pass()
            result.summaries.append(summary)
            if on_summary:
                on_summary(summary)
            if crawler.fatal is not None:
                result.fatal = crawler.fatal
                break
            if options.every is None or stop.is_set():
                break
            if options.passes is not None and len(result.summaries) >= options.passes:
                break
            pause = options.every - (time.monotonic() - started)
            if pause > 0:
                log.info("next pass in %.0fs", pause)
                if stop.wait(pause):
                    break
    return result


# --- status ---------------------------------------------------------------------------------------


def crawl_status(archive_dir: Path, *, runs: int = 5) -> dict:
    """What `archiver status` reports: the frontier by state and kind, failure and block
    reasons, hosts with the most waiting, the latest runs, and whether a writer holds the
    archive now. Reads only (a crawl may be running: SQLite WAL lets both go on)."""
    from archiver.index import Index

    archive_dir = Path(archive_dir)
    index_path = archive_dir / "index.sqlite3"
    if not index_path.is_file():
        raise UsageError(f"no archive index at {index_path}")
    with Index(index_path) as index:
        frontier = index.frontier_counts()
        for key in ("next_retry_at", "next_due_at"):
            frontier[key] = iso(frontier[key])
        hosts = [{**h, "next_at": iso(h["next_at"])} for h in index.frontier_hosts()]
        return {
            "archive": str(archive_dir),
            "running": _locked(archive_dir / ".lock"),
            "frontier": frontier,
            "failures": index.frontier_reasons("failed"),
            "blocked": index.frontier_reasons("blocked"),
            "hosts": hosts,
            "runs": index.runs(runs),
        }


def _locked(lock_path: Path) -> bool:
    """Whether a capture or crawl holds the archive lock now (without creating the lock file)."""
    import fcntl

    try:
        fh = open(lock_path, "r")
    except OSError:
        return False
    try:
        fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        fh.close()
    return False
