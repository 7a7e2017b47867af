"""Rechecks: are the posts the archive holds still online? (issue #5)

A post's status is a finding with a date: `available` on the day of capture says nothing about
today. A recheck asks each selected post's platform again through the same `snapshot()` as a
capture, so the new evidence (syndication and oEmbed answers, tombstones, 404s) goes into the WARC
like any capture's; an answer identical to one already held becomes a `revisit` record, and media
files already held are not fetched again. The index then records the outcome per post:
`last_checked`, and a `post_status_history` row when the status changed.

Why these rules:

* A check whose retries ran out (`failed`) tells nothing about the post. It never replaces a known
  final status: the post stays e.g. `available`, its `last_checked` stays the last time it was
  seen so, and the attempt is noted in `last_error` / `last_error_at` (and its records kept). Such
  a run exits 1, and as `last_checked` did not move, the next `--older-than` run picks it again.
* Posts are committed in batches, each in one index transaction after its WARC records are
  flushed: an interrupted run keeps what it finished, and the index never points at records that
  are not on disk. A post is reported only after its batch is committed.
* A post whose status changed gets a new post page (`archiver.postpage`), drawn from what the
  archive holds about it with the new status, so replay shows when it was found gone. Unchanged
  posts get none (their page would differ only by its date).
* Only the posts themselves are rechecked: the posts they quote or reply to are held posts of
  their own and are rechecked when selected; no article is read again, no citation touched.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Optional

from archiver.capture import Archive, _capture_media, held_media
from archiver.config import Config
from archiver.errors import UsageError
from archiver.index import Index, normalize_platform, timestamp
from archiver.models import Article, ArticleResult, Embed, Post, RecordRef
from archiver.platforms import platform_for
from archiver.postpage import write_post_pages

__all__ = ["Check", "RecheckSummary", "recheck", "recheck_posts", "select_posts"]

log = logging.getLogger(__name__)

BATCH = 20  # posts per index transaction
WORKERS = 4  # posts snapshotted at once (the per-host gate still spaces requests to one host)


@dataclass
class Check:
    """One post's recheck: what the index held before, what the platform said, what is held now."""

    platform: str
    id: str
    url: str
    author_handle: Optional[str]
    old_status: str
    old_reason: Optional[str]
    last_seen: str  # when old_status was last confirmed (the previous last_checked)
    found: str  # what this check concluded; `failed` when retries ran out
    reason: Optional[str]  # its reason or error
    status: str  # the post's status in the index after this check
    checked_at: str
    records: list[RecordRef] = field(default_factory=list)  # the evidence this check wrote

    @property
    def changed(self) -> bool:
        return self.status != self.old_status

    @property
    def failed(self) -> bool:
        return self.found == "failed"

    def as_dict(self) -> dict:
        """The `archiver recheck --json` object."""
        return {
            "platform": self.platform, "id": self.id, "url": self.url, "author_handle": self.author_handle,
            "old_status": self.old_status, "old_reason": self.old_reason, "last_seen": self.last_seen,
            "found": self.found, "reason": self.reason, "status": self.status, "changed": self.changed,
            "checked_at": self.checked_at,
            "records": [{"url": r.url, "warc": r.warc, "offset": r.offset, "length": r.length,
                         "type": r.record_type} for r in self.records],
        }


@dataclass
class RecheckSummary:
    """What a recheck run did, for the CLI's summary and exit code."""

    selected: int = 0
    checks: list[Check] = field(default_factory=list)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (platform, id, why)

    @property
    def changed(self) -> list[Check]:
        return [c for c in self.checks if c.changed]

    @property
    def failed(self) -> bool:
        """Some check ran out of retries: worth running again."""
        return any(c.failed for c in self.checks)

    def counts(self) -> dict[str, int]:
        """Statuses found (`failed` for checks that got no answer)."""
        out: dict[str, int] = {}
        for c in self.checks:
            out[c.found] = out.get(c.found, 0) + 1
        return out


def select_posts(
    index: Index,
    *,
    older_than: Optional[float] = None,
    before: Optional[str] = None,
    platform: Optional[str] = None,
    status: Optional[str] = None,
    posts: Iterable[tuple[str, str]] = (),
    now: Optional[datetime] = None,
) -> list[dict]:
    """The posts a recheck takes (`Index.posts_due` rows), least recently checked first.

    `older_than` (seconds) and `before` (ISO 8601) both bound last_checked; `posts` limits the
    run to those (platform, id) pairs, each of which must be in the archive (UsageError if not).
    """
    cutoffs = []
    if older_than is not None:
        cutoffs.append(timestamp((now or datetime.now(timezone.utc)) - timedelta(seconds=older_than)))
    if before is not None:
        try:
            cutoffs.append(timestamp(before))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    keys = [(normalize_platform(p), str(i)) for p, i in posts]
    missing = [f"{p}:{i}" for p, i in keys if index.post(p, i) is None]
    if missing:
        raise UsageError(f"not in the archive: {', '.join(missing)}")
    return index.posts_due(checked_before=min(cutoffs) if cutoffs else None, platform=platform,
                           status=status, keys=keys or None)


def recheck(
    config: Config,
    *,
    older_than: Optional[float] = None,
    before: Optional[str] = None,
    platform: Optional[str] = None,
    status: Optional[str] = None,
    posts: Iterable[tuple[str, str]] = (),
    on_check: Optional[Callable[[Check], None]] = None,
) -> RecheckSummary:
    """Recheck the archive's posts that match the filters (all of them without any)."""
    with Archive(config) as archive:
        with archive.index_lock:
            rows = select_posts(archive.index, older_than=older_than, before=before, platform=platform,
                                status=status, posts=posts)
        return recheck_posts(archive, rows, on_check=on_check)


def recheck_posts(archive: Archive, rows: list[dict], *, on_check: Optional[Callable[[Check], None]] = None,
                  batch: int = BATCH) -> RecheckSummary:
    """Recheck these posts (`Index.posts_due` rows), committing every `batch` posts."""
    summary = RecheckSummary(selected=len(rows))
    todo = []
    for row in rows:
        try:
            platform_for(row["platform"])
        except KeyError:
            why = f"no platform plug-in called {row['platform']!r}"
            log.warning("%s:%s not rechecked: %s", row["platform"], row["id"], why)
            summary.skipped.append((row["platform"], row["id"], why))
            continue
        todo.append(row)
    for start in range(0, len(todo), batch):
        for check in _recheck_batch(archive, todo[start:start + batch]):
            summary.checks.append(check)
            if on_check:
                on_check(check)
    return summary


def _snapshot(row: dict, archive: Archive) -> Post:
    embed = Embed(platform=row["platform"], id=row["id"], url=row["url"], author_handle=row["author_handle"])
    return platform_for(row["platform"]).snapshot(embed, archive.fetcher)


def _recheck_batch(archive: Archive, rows: list[dict]) -> list[Check]:
    """Snapshot the posts, fetch media not held yet, draw pages of changed ones, commit once."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        posts = list(pool.map(lambda row: _snapshot(row, archive), rows))
    known = held_media(archive, posts)
    _capture_media(archive.fetcher, posts, known=known)
    old_ids = {ref.record_id for _media, ref in known.values()}
    changed = [p for p, row in zip(posts, rows) if p.status not in ("failed", row["status"])]
    if changed:
        for post in changed:
            _fill_from_index(archive, post)
        write_post_pages(archive.sink, archive.index,
                         ArticleResult(article=Article(url="", fetched_at=timestamp()), posts=changed))
    archive.sink.flush()
    with archive.index_lock:
        outcomes = archive.index.record_check(posts, now=timestamp())
    return [
        Check(platform=done["platform"], id=done["id"], url=post.url or row["url"],
              author_handle=post.author_handle or row["author_handle"],
              old_status=done["old_status"], old_reason=done["old_reason"], last_seen=done["last_seen"],
              found=post.status, reason=post.status_reason, status=done["status"], checked_at=done["checked_at"],
              records=[r for r in post.records if r.record_id not in old_ids])
        for row, post, done in zip(rows, posts, outcomes)
    ]


def _fill_from_index(archive: Archive, post: Post) -> None:
    """Fill in what the new snapshot did not say (a deleted post's text, author, media) from
    what the archive holds, for its post page; the index merges the same way, so nothing in the
    post's row changes because of it."""
    with archive.index_lock:
        known = archive.index.held_post(post.platform, post.id)
    if known is None:
        return
    for name in ("author_handle", "author_name", "text", "created_at", "data"):
        if getattr(post, name) is None:
            setattr(post, name, getattr(known, name))
    if not post.media:
        post.media = known.media
    if not post.related:
        post.related = known.related
