"""robots.txt for the crawl: fetched once per origin through the Fetcher, parsed with protego.

Fetched through the Fetcher, so the exchange is in the WARC (a decision can be shown with its
evidence: `frontier.robots_record` is the record id of the robots.txt response consulted), and
through the HostGate, so it counts against the host like any request. RFC 9309 rules:

* 2xx: the rules apply to our User-Agent (protego matches its product token, `embed-archiver`);
  `Crawl-delay` becomes the host's minimum gap between requests (capped, see MAX_CRAWL_DELAY),
  never lower than `--delay`;
* 4xx other than 429 (no robots.txt, or it is forbidden): everything is allowed;
* 5xx, 429 or no answer: the site is *unavailable*, nothing may be fetched; the caller puts the
  URL back with a next-attempt time and the verdict is asked again after `UNAVAILABLE_RETRY`.

A verdict is kept for a day (RFC 9309 says at most 24 hours), per process.

Robots rules are applied to what the crawler chooses to visit: seeds, the feeds' and sitemaps'
entries, links followed with `--depth`. An article's stylesheets, images and the posts it embeds
are part of the page as its readers see it, fetched as a browser would, without asking.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional
from urllib.parse import urlsplit

from protego import Protego

from archiver.errors import BlockedURL
from archiver.fetch import Fetcher, check_url, retry_after_seconds
from archiver.hosts import HostGate
from archiver.models import RecordRef

TTL = 24 * 3600.0
UNAVAILABLE_RETRY = 60.0  # seconds before asking an unavailable robots.txt again
MAX_CRAWL_DELAY = 60.0  # a larger Crawl-delay is taken as this (one request a minute)
MAX_ROBOTS_BYTES = 500 * 1024  # RFC 9309: parse at least 500 KiB


@dataclass(frozen=True)
class Verdict:
    """What robots.txt says about one URL."""

    allowed: bool
    robots: str  # allowed | disallowed | unavailable (and `ignored`, set by the crawl)
    reason: Optional[str] = None  # for disallowed and unavailable
    record_id: Optional[str] = None  # WARC-Record-ID of the robots.txt response
    retry_in: Optional[float] = None  # unavailable: seconds until it is worth asking again


@dataclass
class _Rules:
    parser: Optional[Protego]  # None: allow all (4xx) or unavailable
    unavailable: Optional[str]  # why, when unavailable
    record_id: Optional[str]
    robots_url: str
    expires: float


class RobotsCache:
    """robots.txt verdicts per origin (scheme, host, port), fetched on first need."""

    def __init__(self, fetcher: Fetcher, gate: HostGate, *, user_agent: str, base_delay: float = 0.0,
                 on_records: Optional[Callable[[list[RecordRef]], None]] = None,
                 unavailable_retry: float = UNAVAILABLE_RETRY):
        self.fetcher = fetcher
        self.unavailable_retry = unavailable_retry
        self.gate = gate
        self.user_agent = user_agent
        self.base_delay = base_delay
        self.on_records = on_records
        self._rules: dict[str, _Rules] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def check(self, url: str) -> Verdict:
        """The verdict for `url`; may fetch robots.txt (and raise HostBackedOff from the gate)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        rules = self._rules_for(origin, (parts.hostname or "").lower())
        if rules.unavailable:
            left = max(1.0, rules.expires - time.monotonic())
            return Verdict(False, "unavailable", f"{rules.robots_url} unavailable: {rules.unavailable}",
                           rules.record_id, retry_in=left)
        if rules.parser is None or rules.parser.can_fetch(url, self.user_agent):
            return Verdict(True, "allowed", None, rules.record_id)
        return Verdict(False, "disallowed", f"disallowed by {rules.robots_url} for {self._token()}", rules.record_id)

    def _token(self) -> str:
        return self.user_agent.split("/", 1)[0].split()[0] if self.user_agent else "*"

    def _rules_for(self, origin: str, host: str) -> _Rules:
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch per origin, however many workers ask at once
            rules = self._rules.get(origin)
            if rules is None or rules.expires <= time.monotonic():
                rules = self._rules[origin] = self._fetch(origin, host)
            return rules

    def _fetch(self, origin: str, host: str) -> _Rules:
        robots_url = origin + "/robots.txt"
        try:
            check_url(robots_url, allow_private=self.fetcher.config.allow_private)
        except BlockedURL:  # the URL itself will be refused, with the reason, when fetched
            return _Rules(None, None, None, robots_url, time.monotonic() + TTL)
        res = self.fetcher.fetch(robots_url)
        if self.on_records and res.records:
            self.on_records(res.records)
        record = res.response.record_id if res.response else None
        now = time.monotonic()
        status = res.status
        if status is not None and 200 <= status < 300 and not res.truncated:
            text = (res.body or b"")[:MAX_ROBOTS_BYTES].decode("utf-8", "replace")
            parser = Protego.parse(text)
            delay = parser.crawl_delay(self.user_agent)
            if delay is not None:
                self.gate.set_delay(host, max(self.base_delay, min(float(delay), MAX_CRAWL_DELAY)))
            return _Rules(parser, None, record, robots_url, now + TTL)
        if status is not None and 400 <= status < 500 and status != 429:
            return _Rules(None, None, record, robots_url, now + TTL)
        why = res.error or f"HTTP {status}"
        wait = retry_after_seconds(_header(res.headers, "retry-after")) if status in (429, 503) else None
        return _Rules(None, why, record, robots_url, now + max(self.unavailable_retry, wait or 0.0))


def _header(headers: list[tuple[str, str]], name: str) -> Optional[str]:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None
