"""Per-host politeness shared by every fetch of a process: slots, spacing and push-backs.

Each host gets at most `per_host` requests in flight and a minimum gap between request starts;
a host that answers 429/503 with Retry-After, or keeps failing, is pushed back on its own, so
the rest of the crawl goes on. Static media CDNs serve many clients by design and may take more
requests at once (`CDN_HOSTS`, `cdn_per_host`, 4 by default): they are built for browsers that
open six connections each, and a tweet's photos, avatar and video come from them. Platform API
hosts (cdn.syndication.twimg.com, publish.twitter.com) are *not* CDN hosts here: they are
rate-limited APIs and go through the gate like any news site.

Two knobs serve schedulers (`archiver.crawl`) and are off by default, so `archiver capture`
behaves as before:

* `max_wait`: a request whose host is pushed back further than this raises `HostBackedOff`
  instead of blocking the calling thread, so a crawl worker can hand its URL back to the
  frontier with a next-attempt time and pick work on another host.
* `backoff_base`: consecutive failures (connection errors, 429/5xx) push the host back
  exponentially, `backoff_base * 2**(failures-1)` seconds up to `backoff_max`; the first
  success resets it. `backed_off()` lists such hosts for progress displays and run summaries.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from archiver.errors import ArchiverError

# Hosts built to serve static files to many clients at once; a higher default slot count.
CDN_HOSTS = frozenset({"pbs.twimg.com", "video.twimg.com", "abs.twimg.com", "i.ytimg.com"})


class HostBackedOff(ArchiverError):
    """A host will not take requests for longer than the gate's `max_wait`."""

    def __init__(self, host: str, seconds: float):
        super().__init__(f"{host} is backed off for {seconds:.0f}s more")
        self.host = host
        self.seconds = seconds


@dataclass
class _Host:
    in_flight: int = 0
    waiting: int = 0  # threads blocked in acquire()
    next_start: float = 0.0  # monotonic time before which no request may start (spacing)
    blocked_until: float = 0.0  # monotonic; pushed back (Retry-After, failing) until then
    delay: Optional[float] = None  # per-host override (robots.txt Crawl-delay)
    failures: int = 0  # consecutive failures, for exponential back-off
    worst: int = 0  # most consecutive failures seen, for reports
    pushed: Optional[str] = None  # why next_start is in the future: "Retry-After" or "failing"
    cond: threading.Condition = field(default_factory=lambda: threading.Condition(threading.Lock()))


class HostGate:
    """Blocks a fetch until its host has a free slot and its spacing has passed."""

    def __init__(self, per_host: int = 1, delay: float = 0.0, cdn_per_host: int = 4, *,
                 max_wait: Optional[float] = None, backoff_base: float = 0.0, backoff_max: float = 600.0):
        self.per_host = max(1, per_host)
        self.cdn_per_host = max(self.per_host, cdn_per_host)
        self.delay = max(0.0, delay)
        self.max_wait = max_wait
        self.backoff_base = max(0.0, backoff_base)
        self.backoff_max = backoff_max
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str], None]] = []
        self._waiting = 0  # threads blocked in acquire(), over all hosts

    def _host(self, host: str) -> _Host:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = self._hosts[host] = _Host()
            return state

    def slots(self, host: str) -> int:
        return self.cdn_per_host if host in CDN_HOSTS else self.per_host

    def subscribe(self, callback: Callable[[str], None]) -> None:
        """Call `callback(host)` whenever a host may have become ready (a slot freed, a push-back).

        A scheduler waiting for "any host ready" wakes on it instead of polling. Called without
        any gate lock held; it must be quick and must not block.
        """
        self._listeners.append(callback)

    def _notify(self, host: str) -> None:
        for callback in self._listeners:
            callback(host)

    def acquire(self, host: str) -> None:
        """Wait for a slot on `host` and for its next permitted start; then take the slot.

        With `max_wait` set, raises HostBackedOff instead of waiting longer than that for a
        pushed-back host (a busy slot or the spacing between requests is always waited for).
        """
        state = self._host(host)
        with state.cond:
            state.waiting += 1
            with self._lock:
                self._waiting += 1
            try:
                while True:
                    now = time.monotonic()
                    if self.max_wait is not None and state.blocked_until - now > self.max_wait:
                        raise HostBackedOff(host, state.blocked_until - now)
                    wait = max(state.next_start, state.blocked_until) - now
                    if state.in_flight < self.slots(host) and wait <= 0:
                        break
                    state.cond.wait(timeout=wait if wait > 0 else None)
            finally:
                state.waiting -= 1
                with self._lock:
                    self._waiting -= 1
            state.in_flight += 1
            gap = state.delay if state.delay is not None else self.delay
            state.next_start = max(state.next_start, time.monotonic() + gap)

    def release(self, host: str, *, ok: bool = True) -> None:
        state = self._host(host)
        with state.cond:
            state.in_flight -= 1
            state.failures = 0 if ok else state.failures + 1
            state.worst = max(state.worst, state.failures)
            if not ok and self.backoff_base > 0:
                pause = min(self.backoff_max, self.backoff_base * 2 ** (state.failures - 1))
                until = time.monotonic() + pause
                if until > state.blocked_until:
                    state.blocked_until, state.pushed = until, "failing"
            state.cond.notify_all()
        self._notify(host)

    def push_back(self, host: str, seconds: float) -> None:
        """No request to `host` starts for `seconds` (Retry-After, back-off)."""
        state = self._host(host)
        with state.cond:
            until = time.monotonic() + max(0.0, seconds)
            if until > state.blocked_until:
                state.blocked_until, state.pushed = until, "Retry-After"
            state.cond.notify_all()
        self._notify(host)

    def set_delay(self, host: str, seconds: Optional[float]) -> None:
        """A host's own minimum gap (robots.txt Crawl-delay); None returns to the default."""
        self._host(host).delay = seconds

    def ready_in(self, host: str) -> float:
        """Seconds until `host` could start a request (0 if now); for schedulers picking work."""
        state = self._host(host)
        with state.cond:
            left = max(state.next_start, state.blocked_until) - time.monotonic()
            if state.in_flight >= self.slots(host):
                return max(0.0, left, 0.001)
            return max(0.0, left)

    def waiting(self) -> int:
        """Threads waiting for a host now, all hosts together."""
        with self._lock:
            return self._waiting

    def idle(self, host: str) -> bool:
        """Ready now (`ready_in == 0`) and nobody queued for it: a scheduler may start new work
        there without making anyone wait."""
        state = self._host(host)
        with state.cond:
            return (state.waiting == 0 and state.in_flight < self.slots(host)
                    and max(state.next_start, state.blocked_until) <= time.monotonic())

    def failures(self, host: str) -> int:
        return self._host(host).failures

    def backed_off(self) -> list[dict]:
        """Hosts pushed back now or that failed repeatedly: host, why, seconds left, failures."""
        now = time.monotonic()
        with self._lock:
            hosts = list(self._hosts.items())
        out = []
        for name, state in sorted(hosts):
            with state.cond:
                left = state.blocked_until - now
                pushed = state.pushed if left > 1.0 else None
                if pushed or state.worst >= 3:
                    out.append({"host": name, "why": pushed or "failed repeatedly", "seconds": round(max(0.0, left), 1),
                                "failures": state.failures, "most_failures": state.worst})
        return out
