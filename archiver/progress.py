"""What a crawl shows while it runs and when a pass ends; also the text of `archiver status`.

On a terminal: one status line redrawn in place (articles done/queued/failed, posts by status,
bytes written, rate, the hosts being fetched), with messages printed above it. Not on a
terminal (cron, systemd, a pipe): plain log lines, one every `every` seconds, so a journal
stays readable.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from datetime import datetime
from typing import IO, Optional

from archiver.models import STATUSES


def human_bytes(n: Optional[float]) -> str:
    n = float(n or 0)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def human_seconds(s: Optional[float]) -> str:
    s = max(0, int(round(s or 0)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def when(iso: Optional[str]) -> str:
    """An ISO 8601 UTC time, with how far from now."""
    if not iso:
        return "-"
    delta = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() - time.time()
    return f"{iso} (in {human_seconds(delta)})" if delta > 0 else f"{iso} (due)"


def posts_text(by_status: dict) -> str:
    parts = [f"{by_status[s]} {s}" for s in STATUSES if by_status.get(s)]
    parts += [f"{n} {s}" for s, n in sorted(by_status.items()) if s not in STATUSES and n]
    return ", ".join(parts) or "none"


def snapshot_text(snap: dict) -> str:
    """One line: what the crawl has done and is doing."""
    text = (f"pass {snap['pass']} · articles {snap['done']} done, {snap['queued']} queued"
            f"{', %d failed' % snap['failed'] if snap['failed'] else ''}"
            f"{', %d blocked' % snap['blocked'] if snap['blocked'] else ''}"
            f" · posts {posts_text(snap['posts'])} · {human_bytes(snap['bytes'])}"
            f" · {snap['rate']:.1f} articles/s")
    hosts = snap.get("hosts") or []
    if hosts:
        text += " · " + ", ".join(hosts[:3]) + (f" +{len(hosts) - 3}" if len(hosts) > 3 else "")
    backed = snap.get("backed_off") or []
    if backed:
        text += " · backed off: " + ", ".join(f"{b['host']} {human_seconds(b['seconds'])}" for b in backed[:3])
    return text


def summary_lines(s: dict) -> list[str]:
    """The end-of-pass summary (also what `archiver status` shows for the last run)."""
    a, lst = s["articles"], s["listings"]
    lines = [
        f"pass {s['pass']} {'(resumed) ' if s.get('resumed') else ''}{s['state']} in {human_seconds(s['seconds'])}: "
        f"{a['captured']} article(s) captured, {a['failed']} failed, {a['retrying']} to retry, "
        f"{a['blocked']} blocked by robots.txt",
        f"  feeds and sitemaps: {lst['read']} read, {lst['failed']} failed, {lst['urls']} URL(s) listed; "
        f"{s['links']} link(s) queued",
        f"  posts: {posts_text(s['posts'])}; media {s['media']['captured']}/{s['media']['found']} captured",
        f"  {human_bytes(s['bytes'])} written, {s['rate']:.2f} articles/s; "
        f"left: {s['left']['queued']} queued, next due {when(s['left']['next_due_at'])}",
    ]
    for b in s.get("backed_off") or []:
        lines.append(f"  host {b['host']}: {b['why']}, {b['most_failures']} failure(s) in a row at worst"
                     + (f", backed off {human_seconds(b['seconds'])} more" if b["seconds"] else ""))
    for f in s.get("failures") or []:
        lines.append(f"  failed: {f['url']}: {f['reason']}")
    return lines


def status_lines(status: dict) -> list[str]:
    """`archiver status`: the frontier, its failures, the busiest hosts, the last runs."""
    f = status["frontier"]
    st = f["by_state"]
    lines = [f"archive {status['archive']}" + (" (a crawl or capture is running now)" if status["running"] else "")]
    if not f["total"]:
        lines.append("frontier: empty (no crawl has run here)")
    else:
        lines.append(f"frontier: {f['total']} URL(s): {st['done']} done, {st['queued']} queued, "
                     f"{st['in_progress']} in progress, {st['failed']} failed ({f['retrying']} to retry), "
                     f"{st['blocked']} blocked by robots.txt")
        for kind, states in sorted(f["by_kind"].items()):
            lines.append(f"  {kind}: " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
        if f["next_due_at"] is not None:
            lines.append(f"  next due: {when(f['next_due_at'])}")
    for label, rows in (("failed", status["failures"]), ("blocked", status["blocked"])):
        if rows:
            lines.append(f"{label}, by reason:")
            lines += [f"  {r['count']:6d}  {r['reason']}" for r in rows]
    if status["hosts"]:
        lines.append("hosts with URLs waiting: " + ", ".join(f"{h['host']} {h['waiting']}" for h in status["hosts"]))
    runs = status["runs"]
    if not runs:
        lines.append("last run: none")
    for run in runs[:1]:
        lines.append(f"last run #{run['pk']} (pass {run['pass']}): {run['state']}, started {run['started_at']}"
                     + (f", ended {run['finished_at']}" if run["finished_at"] else ""))
        if run["summary"]:
            lines += ["  " + line for line in summary_lines(run["summary"])]
    return lines


class Progress:
    """Progress output for one crawl, on `stream` (stderr)."""

    def __init__(self, stream: Optional[IO[str]] = None, *, tty: Optional[bool] = None, every: float = 15.0,
                 refresh: float = 0.25):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = every if not self.tty else refresh
        self._last = 0.0
        self._shown = ""
        self._lock = threading.RLock()  # re-entrant: a signal handler may print mid-redraw

    def show(self, snap: dict, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        text = snapshot_text(snap)
        with self._lock:
            if self.tty:
                width = max(20, shutil.get_terminal_size((120, 20)).columns - 1)
                self._shown = text[:width]
                self.stream.write("\r\x1b[K" + self._shown)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def line(self, text: str) -> None:
        """A message, printed above the status line."""
        with self._lock:
            if self.tty and self._shown:
                self.stream.write("\r\x1b[K" + text + "\n" + self._shown)
            else:
                self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self.tty and self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            self._shown = ""

    def handler(self, fmt: str = "%(message)s") -> logging.Handler:
        """A logging handler that prints through `line`, so log messages and the status line mix."""
        progress = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                try:
                    progress.line(self.format(record))
                except Exception:  # noqa: BLE001 - logging must never break the crawl
                    self.handleError(record)

        h = _Handler()
        h.setFormatter(logging.Formatter(fmt))
        return h
