"""The orchestrator: per article, fetch -> extract -> resolve -> snapshot -> media -> metadata -> index.

It is the only module that calls more than one stage; stages return values and never call
the next one. Each article is written to the index in one transaction, after the WARC records
it points at have been flushed to disk, so the index never points at records that are not there.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import platform as pyplatform
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Optional

import requests

from archiver import __version__, extract
from archiver.config import Config
from archiver.embeds import capture_embed_assets, embed_tweet_result_url
from archiver.errors import ArchiveLocked, StorageError
from archiver.fetch import Fetcher, FetchResult, fetch_all
from archiver.index import Index
from archiver.models import STATUSES, Article, ArticleResult, Embed, Media, Post, RecordRef
from archiver.platforms import platform_for
from archiver.postpage import write_post_pages
from archiver.warc import WarcSink, check_prefix, clean_target_uri, recover_open_files, unrecorded_closed_files

log = logging.getLogger(__name__)

SOFTWARE = (f"embed-archiver/{__version__} (requests/{requests.__version__}; "
            f"Python {pyplatform.python_version()})")
CSS_DEPTH = 2  # stylesheets imported by stylesheets
# What a check can conclude about a post; `failed` (retries ran out) is worth another try.
FINAL_STATUSES = frozenset(STATUSES) - {"failed"}


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _LockedIndex:
    """An Index whose every method call holds `lock`: calls on one SQLite connection must not
    overlap (a transaction belongs to the connection, not the thread), and several crawl workers
    share it. A generator method (`iter_posts`) holds the lock only while it is created."""

    def __init__(self, index: Index, lock: threading.RLock):
        self._index = index
        self._lock = lock

    def __getattr__(self, name: str):
        attr = getattr(self._index, name)
        if not callable(attr):
            return attr
        lock = self._lock

        @functools.wraps(attr)
        def locked(*args, **kwargs):
            with lock:
                return attr(*args, **kwargs)

        return locked


class Archive:
    """An open archive folder: its lock, WARC sink, index and fetcher, for one process."""

    def __init__(self, config: Config):
        self.config = config
        root = Path(config.archive)
        check_prefix(config.warc_prefix)  # before anything globs or writes with it (ValueError)
        try:
            config.warc_dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = open(root / ".lock", "a+")
        except OSError as exc:
            raise StorageError(f"archive folder {root} is not writable: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_file.close()
            raise ArchiveLocked(f"another archiver process is writing to {root}; wait for it to finish") from None
        # One SQLite connection shared by fetch threads (revisit originals) and crawl workers:
        # every call goes through the lock (re-entrant: callers may hold it around a few calls).
        self.index_lock = threading.RLock()
        self.index: Index = _LockedIndex(Index(config.index_path), self.index_lock)  # type: ignore[assignment]
        # `.open` files a killed process left: keep their complete records, close them (and
        # record a file it closed without recording: killed between rename and index write).
        for name, size, sha256 in recover_open_files(config.warc_dir):
            log.warning("recovered %s, left open by an interrupted run", name)
            self.index.record_warc_file(name, size, sha256)
        recorded = {f["name"] for f in self.index.warc_files()}
        for name, size, sha256 in unrecorded_closed_files(config.warc_dir, config.warc_prefix, recorded):
            log.warning("recorded %s, closed by an interrupted run", name)
            self.index.record_warc_file(name, size, sha256)
        info_operator = config.operator
        self.sink = WarcSink(
            config.warc_dir,
            prefix=config.warc_prefix,
            max_size=config.warc_max_size,
            software=SOFTWARE,
            operator=info_operator,
            lookup_digest=self._lookup_payload,
            on_close=self.index.record_warc_file,
        )
        self.fetcher = Fetcher(config, self.sink)

    def _lookup_payload(self, digest: str) -> Optional[RecordRef]:
        with self.index_lock:
            return self.index.lookup_payload(digest)

    def close(self) -> None:
        try:
            self.fetcher.close()
            self.sink.close()
        finally:
            self.index.close()
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class CaptureSummary:
    """What a run did, for the CLI's summary and exit code."""

    results: list[ArticleResult] = field(default_factory=list)

    @property
    def posts(self) -> list[Post]:
        return [p for r in self.results for p in r.posts]

    @property
    def failed(self) -> bool:
        """Something worth another try: an article, a post, or a media file not captured."""
        return (
            any(r.article.error for r in self.results)
            or any(p.status == "failed" for p in self.posts)
            or any(not m.captured for p in self.posts for m in p.media)
        )

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.posts:
            out[p.status] = out.get(p.status, 0) + 1
        return out

    def failures(self) -> dict[str, int]:
        """What `failed` counts, by kind of failure (`failure_kind`): so a summary can say why."""
        reasons = [r.article.error for r in self.results if r.article.error]
        reasons += [p.status_reason for p in self.posts if p.status == "failed"]
        reasons += [m.error for p in self.posts for m in p.media if not m.captured]
        out: dict[str, int] = {}
        for reason in reasons:
            kind = failure_kind(reason)
            out[kind] = out.get(kind, 0) + 1
        return out


# Error texts (fetch's, and the evidence platforms build from them) -> a short kind, first match wins.
_FAILURE_KINDS = (
    (re.compile(r"--max-time|timed out|time-?out", re.I), "timeout"),
    (re.compile(r"--max-size"), "too large"),
    (re.compile(r"redirect loop"), "redirect loop"),
    (re.compile(r"more than \d+ redirects"), "too many redirects"),
    (re.compile(r"^refused|[;:] refused"), "refused"),
    (re.compile(r"Retry-After"), "rate limited"),
    (re.compile(r"body cut short"), "cut short"),
    (re.compile(r"TLS error"), "TLS error"),
    (re.compile(r"connection failed"), "connection failed"),
    (re.compile(r"\bHTTP (\d{3})\b"), r"HTTP \1"),
)


def failure_kind(reason: Optional[str]) -> str:
    """`timeout`, `HTTP 503`, `redirect loop`, ...: what a failure's text says went wrong."""
    text = reason or ""
    for pattern, kind in _FAILURE_KINDS:
        m = pattern.search(text)
        if m:
            return m.expand(kind)
    return text.split(":", 1)[0].strip()[:40] or "unknown"


def capture(
    config: Config,
    urls: Iterable[str],
    *,
    on_post: Optional[Callable[[Post, ArticleResult], None]] = None,
    on_article: Optional[Callable[[ArticleResult], None]] = None,
) -> CaptureSummary:
    """Capture each article and every post it cites into the archive."""
    summary = CaptureSummary()
    with Archive(config) as archive:
        for url in urls:
            result = capture_article(archive, url)
            summary.results.append(result)
            if on_article:
                on_article(result)
            if on_post:
                for post in result.posts:
                    on_post(post, result)
    return summary


def capture_article(archive: Archive, url: str, *, resnapshot: bool = True,
                    page: Optional[FetchResult] = None) -> ArticleResult:
    """One article, end to end; every failure is recorded in the result, never raised.

    `resnapshot=False` is an incremental capture (crawls): a post the index already holds with a
    final status other than `failed` is not fetched again, nor are media files already held.
    The article's citation of it is still recorded, and it is in the result as the index knows
    it (records included), but its row is left as it is: it was not checked now (`archiver
    recheck` does that). Its embed assets are taken only if none were ever, and no new post page
    is written for it. `archiver capture` keeps True: an explicit capture always fetches again.

    `page` is the article already fetched by the caller (`fetcher.fetch(url)`): a crawl fetches
    it first to tell a feed from an article and to read its links, and does not fetch it twice.
    """
    fetcher = archive.fetcher
    article = Article(url=url, fetched_at=now_iso())
    result = ArticleResult(article=article)
    if page is None:
        log.info("fetching %s", url)
        page = fetcher.fetch(url)
    article.records = page.records
    article.final_url = page.final_url
    article.http_status = page.status
    if not page.ok or page.body is None:
        article.error = page.error or f"HTTP {page.status}"
        log.warning("%s: %s", url, article.error)
        _commit(archive, result)
        return result

    doc = extract.parse_html(page.body, base_url=page.final_url, content_type=page.content_type)
    refused: list[str] = []  # URLs never asked for (private address, not http): output and metadata
    article.title = doc.title
    found = extract.find_embeds(doc)
    result.profiles = list(found.profiles)
    if archive.config.requisites:
        result.requisites = _capture_requisites(fetcher, extract.find_requisites(doc), refused=refused)

    embeds, link_records = _resolve_short_links(fetcher, found.embeds)
    result.embeds = embeds
    held: dict[tuple[str, str], Post] = {}
    lookup = None if resnapshot else (lambda key: _held_post(archive, key, held))
    result.posts = _snapshot_posts(fetcher, embeds, link_records, held=lookup)
    fresh = [p for p in result.posts if (p.platform, p.id) not in held]
    _capture_media(fetcher, fresh, known=None if resnapshot else held_media(archive, fresh), refused=refused)
    if held:  # `replace` shares the lists, so requisites and problems land in `result`
        result.problems += capture_embed_assets(archive, replace(result, posts=[
            p for p in result.posts if (p.platform, p.id) not in held or not _embed_assets_taken(archive, p)]))
        write_post_pages(archive.sink, archive.index, replace(result, posts=fresh))
    else:
        result.problems += capture_embed_assets(archive, result)
        write_post_pages(archive.sink, archive.index, result)
    result.problems[:0] = refused
    _write_metadata(archive, result, page, refused)
    _commit(archive, result, held=held)
    return result


def _commit(archive: Archive, result: ArticleResult, held: Iterable[tuple[str, str]] = ()) -> None:
    archive.sink.flush()
    with archive.index_lock:  # crawl workers share the index
        archive.index.record_article(result, held=held)


def _held_post(archive: Archive, key: tuple[str, str], held: dict[tuple[str, str], Post]) -> Optional[Post]:
    """The index's copy of a post with a final status other than `failed` (remembered in `held`)."""
    if key not in held:
        with archive.index_lock:
            post = archive.index.held_post(*key)
        if post is None or post.status not in FINAL_STATUSES:
            return None
        held[key] = post
    return held[key]


def held_media(archive: Archive, posts: list[Post]) -> dict[str, tuple[Media, RecordRef]]:
    """Media of `posts` whose bytes the archive already holds (see `Index.held_media`)."""
    with archive.index_lock:
        return archive.index.held_media(m.url for p in posts for m in p.media)


def _embed_assets_taken(archive: Archive, post: Post) -> bool:
    """Whether an earlier capture asked for this tweet's embed form of tweet-result (replay
    serves Tweet.html and tweet-result by tweet id, whichever article they were taken with)."""
    if post.platform != "twitter":
        return True
    with archive.index_lock:
        return bool(archive.index.records_for_url(clean_target_uri(embed_tweet_result_url(post.id))))


# --- stages ------------------------------------------------------------------------------------


def _refusal(what: str, res: FetchResult) -> str:
    """`refused requisite URL [-> hop]: why` for a URL (or a redirect hop of it) check_url refused."""
    hop = f" -> {res.redirects[-1]}" if res.redirects else ""
    return f"refused {what} {res.url}{hop}: {(res.error or '').removeprefix('refused: ')}"


def _stylesheet(res: FetchResult) -> bool:
    """Only a stylesheet's body is read (for what it imports): a gallery's images stay on disk."""
    return "css" in (res.content_type or "").lower() or res.final_url.split("?")[0].endswith(".css")


def _capture_requisites(fetcher: Fetcher, urls: list[str],
                        refused: Optional[list[str]] = None) -> list[RecordRef]:
    """What `wget -p` takes: stylesheets (and what they import), images, scripts, icons.
    Refusals (private addresses, other schemes, also after a redirect) go to `refused`."""
    records: list[RecordRef] = []
    done: set[str] = set()
    todo = list(dict.fromkeys(urls))
    for _depth in range(CSS_DEPTH + 1):
        todo = [u for u in todo if u not in done]
        if not todo:
            break
        done.update(todo)
        fetched = fetch_all(fetcher, todo, want_body=lambda u: _stylesheet)
        todo = []
        for u, res in fetched.items():
            records.extend(res.records)
            if res.error:
                log.info("requisite %s: %s", u, res.error)
            if res.refused and refused is not None:
                refused.append(_refusal("requisite", res))
            ctype = (res.content_type or "").lower()
            if res.body and ("css" in ctype or res.final_url.split("?")[0].endswith(".css")):
                text = res.body.decode("utf-8", "replace")
                todo.extend(extract.css_urls(text, res.final_url))
    return records


def _resolve_short_links(fetcher: Fetcher, embeds: list[Embed]) -> tuple[list[Embed], dict[tuple[str, str], list[RecordRef]]]:
    """t.co and pic.twitter.com links become post ids (or are dropped when they lead elsewhere)."""
    merged: dict[tuple[str, str], Embed] = {}
    link_records: dict[tuple[str, str], list[RecordRef]] = {}
    for embed in embeds:
        if embed.id is None:
            platform = platform_for(embed.platform)
            resolved, records = platform.resolve(embed, fetcher)
            if resolved is None:
                log.info("%s does not lead to a post", embed.url)
                continue
            link_records.setdefault(resolved.key, []).extend(records)
            embed = resolved
        if embed.key in merged:
            known = merged[embed.key]
            known.forms.extend(f for f in embed.forms if f not in known.forms)
            known.context = known.context or embed.context
            known.author_handle = known.author_handle or embed.author_handle
        else:
            merged[embed.key] = embed
    return list(merged.values()), link_records


def _snapshot_posts(fetcher: Fetcher, embeds: list[Embed], link_records: dict,
                    held: Optional[Callable[[tuple[str, str]], Optional[Post]]] = None) -> list[Post]:
    """Each post once, then the posts they quote or reply to, one level deep. `held(key)` gives
    a post to take as it is instead of fetching it (incremental capture), or None."""
    posts: dict[tuple[str, str], Post] = {}
    for embed in embeds:
        post = (held and held(embed.key)) or platform_for(embed.platform).snapshot(embed, fetcher)
        post.records[:0] = link_records.get(embed.key, [])
        posts[(post.platform, post.id)] = post
    for post in list(posts.values()):
        for _relation, platform_name, post_id in post.related:
            if (platform_name, post_id) in posts:
                continue
            known = held and held((platform_name, post_id))
            if known:
                posts[(platform_name, post_id)] = known
                continue
            platform = platform_for(platform_name)
            ref = Embed(platform=platform_name, id=post_id, url=platform.canonical_url(post_id, None))
            posts[(platform_name, post_id)] = platform.snapshot(ref, fetcher)
    return list(posts.values())


def _capture_media(fetcher: Fetcher, posts: list[Post],
                   known: Optional[dict[str, tuple[Media, RecordRef]]] = None,
                   refused: Optional[list[str]] = None) -> None:
    """Every media file once per run; identical bytes already held become revisits.

    Files in `known` (held by the archive: rechecks, incremental captures) are not fetched
    again: they take the held hash and size, and the post links the record holding the bytes.
    """
    known = known or {}
    wanted = list(dict.fromkeys(m.url for p in posts for m in p.media if m.url not in known))
    fetched = fetch_all(fetcher, wanted, want_body=lambda u: u.split("?")[0].endswith(".m3u8"))
    for post in posts:
        for media in post.media:
            if media.url in known:
                have, ref = known[media.url]
                media.sha256, media.size, media.captured, media.error = have.sha256, have.size, True, None
                if ref not in post.records:
                    post.records.append(ref)
                continue
            res = fetched[media.url]
            post.records.extend(r for r in res.records if r not in post.records)
            _apply(media, res)
            if res.refused and refused is not None:
                refused.append(_refusal(f"{post.platform}:{post.id} media", res))
            if media.kind == "hls" and res.ok and res.body:
                _capture_hls(fetcher, post, media, res)


def _apply(media: Media, res: FetchResult) -> None:
    media.size, media.sha256 = res.size, res.sha256
    media.captured = res.ok
    media.error = None if res.ok else (res.error or f"HTTP {res.status}")


def _capture_hls(fetcher: Fetcher, post: Post, media: Media, res: FetchResult) -> None:
    from archiver.platforms.syndication import hls_media_urls

    urls = hls_media_urls(res.body.decode("utf-8", "replace"), res.final_url)
    for depth in range(2):  # master playlist -> media playlist -> segments
        fetched = fetch_all(fetcher, urls, want_body=lambda u: u.split("?")[0].endswith(".m3u8"))
        nxt: list[str] = []
        for u, r in fetched.items():
            post.records.extend(r.records)
            if not r.ok:
                media.captured = False
                media.error = f"HLS part {u}: {r.error or r.status}"
            if r.body and u.split("?")[0].endswith(".m3u8"):
                nxt.extend(hls_media_urls(r.body.decode("utf-8", "replace"), r.final_url))
        urls = nxt
        if not urls:
            break


def _write_metadata(archive: Archive, result: ArticleResult, page: FetchResult,
                    refused: Iterable[str] = ()) -> None:
    """One warc-fields record per article listing the posts found (never JSON at the article URL),
    and the URLs refused on the way (`refused: requisite URL: why`)."""
    fields: list[tuple[str, str]] = [("software", SOFTWARE), ("article", result.article.url)]
    if result.article.title:
        fields.append(("title", result.article.title))
    by_key = {(p.platform, p.id): p for p in result.posts}
    for embed in result.embeds:
        post = by_key.get(embed.key)
        status = post.status if post else "unknown"
        fields.append(("post", f"{embed.platform}:{embed.id} {status} {embed.url} forms={','.join(embed.forms)}"))
    for profile in result.profiles:
        fields.append(("profile", profile))
    for text in refused:
        fields.append(("refused", " ".join(text.removeprefix("refused ").split())))
    response = page.response
    ref = archive.sink.write_metadata(
        page.final_url, fields, concurrent_to=response.record_id if response else None
    )
    result.article.records.append(ref)
