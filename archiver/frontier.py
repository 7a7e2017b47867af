"""The crawl frontier: which URLs to visit, in what state, and when; stored, never in memory.

Every URL the crawl knows is one row (`frontier` table, migration 4 in `archiver.index`):

    queued ──claim──> in_progress ──> done | failed (reason, attempts; next_at: retry, NULL: final)
                                          | blocked (robots.txt; the verdict and its record kept)
    failed with a next_at is claimable again once due; a claim counts one attempt.

Kinds: `seed` (from the seeds file, not yet sniffed: a feed, a sitemap or an article),
`sitemap` (named by a sitemap index), `article`. Listings (seed, sitemap) are read once per
pass; articles once, unless `--recapture-after` says again.

Interruption. A claim is a lease (`lease_owner`, `lease_until`). With SQLite the archive lock
guarantees a single writer, so a starting crawl reclaims *every* in_progress row: its owner is
dead. An article the index recorded since its claim was captured (the index commit is the
moment of truth) and is settled `done` without a refetch; the rest go back to `queued`.

A later step puts the frontier and the index on PostgreSQL for several machines: the same
`Frontier` protocol, with `claim` as

    UPDATE frontier SET state = 'in_progress', attempts = attempts + 1, lease_owner = $owner,
           lease_until = now() + $lease
    WHERE pk = (SELECT pk FROM frontier WHERE state IN ('queued', 'failed') AND next_at <= now()
                AND host = $host ORDER BY priority, next_at, pk LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING ...

and `reclaim(expired_only=True)` run periodically (leases renewed by live workers), since
there no lock proves the other writers dead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Optional, Protocol

if TYPE_CHECKING:
    from archiver.index import Index

LISTING_PRIORITY = 0  # feeds and sitemaps first: they tell what else there is
ARTICLE_PRIORITY = 10  # + depth: listed articles before the links found in them


@dataclass(frozen=True)
class NewURL:
    """A URL to queue: from the seeds file, a listing, or a link in an article."""

    url: str
    host: str
    kind: str = "article"  # seed | sitemap | article
    depth: int = 0
    via: Optional[str] = None
    published: Optional[str] = None

    @property
    def priority(self) -> int:
        return LISTING_PRIORITY if self.kind != "article" else ARTICLE_PRIORITY + self.depth


@dataclass(frozen=True)
class Item:
    """A claimed row: the worker owns it until it settles it (or its lease runs out)."""

    pk: int
    url: str
    host: str
    kind: str
    depth: int
    priority: int
    via: Optional[str]
    published: Optional[str]
    pass_id: int
    attempts: int  # this claim included


class Frontier(Protocol):
    """Queue storage for the crawl; SQLite now, PostgreSQL later (see the module docstring)."""

    def add(self, urls: Iterable[NewURL], *, pass_id: int, recapture_before: Optional[str] = None) -> int:
        """Queue new URLs (and listings not yet read this pass); returns how many were queued."""

    def requeue(self, *, state: str, pass_id: int, kind: Optional[str] = None,
                done_before: Optional[str] = None) -> int:
        """Queue again every row in `state` (blocked rows under --ignore-robots; recaptures)."""

    def claim(self, host: str, *, owner: str) -> Optional[Item]:
        """Take the next due row of `host` under a lease, or None."""

    def settle(self, item: Item, state: str, **facts) -> None:
        """End a claim: done, failed (reason, next_at), blocked (reason, robots...) or queued."""

    def postpone(self, host: str, until: float) -> int:
        """Make no row of `host` due before unix time `until` (a push-back that outlives a run)."""

    def reclaim(self, *, expired_only: bool = False, max_attempts: Optional[int] = None) -> dict:
        """Take back rows a dead worker left in_progress."""

    def due_hosts(self) -> list[str]:
        """Hosts with a row due now."""

    def next_due(self) -> Optional[float]:
        """Unix time of the earliest row waiting, due or not; None when nothing waits."""

    def counts(self) -> dict:
        """Rows by state and kind, for progress and `archiver status`."""

    def start_run(self, *, seeds: Optional[str], options: dict) -> dict:
        """Record a run; {"pk", "pass", "resumed"}."""

    def finish_run(self, run: dict, *, state: str, summary: dict) -> None:
        """Store a run's summary (`finished` or `interrupted`)."""


class SQLiteFrontier:
    """The frontier in the archive's own index database (all SQL lives in `archiver.index`).

    `index` is the Archive's (lock-serialised) Index, so frontier writes and article commits
    share one connection and one writer.
    """

    def __init__(self, index: "Index", *, owner: str = "local", lease: float = 3600.0):
        self.index = index
        self.owner = owner
        self.lease = lease

    def add(self, urls: Iterable[NewURL], *, pass_id: int, recapture_before: Optional[str] = None) -> int:
        rows = [{"url": u.url, "host": u.host, "kind": u.kind, "depth": u.depth, "priority": u.priority,
                 "via": u.via, "published": u.published} for u in urls]
        if not rows:
            return 0
        return self.index.frontier_add(rows, pass_id=pass_id, now=time.time(), recapture_before=recapture_before)

    def requeue(self, *, state: str, pass_id: int, kind: Optional[str] = None,
                done_before: Optional[str] = None) -> int:
        return self.index.frontier_requeue(state=state, pass_id=pass_id, now=time.time(), kind=kind,
                                           done_before=done_before)

    def claim(self, host: str, *, owner: Optional[str] = None) -> Optional[Item]:
        row = self.index.frontier_claim(host, owner=owner or self.owner, now=time.time(), lease=self.lease)
        if row is None:
            return None
        return Item(pk=row["pk"], url=row["url"], host=row["host"], kind=row["kind"], depth=row["depth"],
                    priority=row["priority"], via=row["via"], published=row["published"],
                    pass_id=row["pass"], attempts=row["attempts"])

    def settle(self, item: Item, state: str, **facts) -> None:
        self.index.frontier_finish(item.pk, state=state, **facts)

    def postpone(self, host: str, until: float) -> int:
        return self.index.frontier_postpone(host, until)

    def reclaim(self, *, expired_only: bool = False, max_attempts: Optional[int] = None) -> dict:
        return self.index.frontier_reclaim(now=time.time(), expired_only=expired_only, max_attempts=max_attempts)

    def due_hosts(self) -> list[str]:
        return self.index.frontier_due_hosts(time.time())

    def next_due(self) -> Optional[float]:
        return self.index.frontier_next_due()

    def counts(self) -> dict:
        return self.index.frontier_counts()

    def start_run(self, *, seeds: Optional[str], options: dict) -> dict:
        return self.index.run_start(seeds=seeds, options=options)

    def finish_run(self, run: dict, *, state: str, summary: dict) -> None:
        self.index.run_finish(run["pk"], state=state, summary=summary)
