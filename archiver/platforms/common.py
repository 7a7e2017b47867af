"""What every platform's snapshot shares: reading an endpoint's answer and deciding a status from it.

Statuses follow the same rules as for tweets (README, "Post status"): a usable answer from any
public endpoint means `available`; `deleted` needs every route to say 404/410; retries that ran
out without an answer mean `failed`, the only state worth trying again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

from archiver.fetch import RETRY_STATUSES
from archiver.platforms.syndication import RouteResult

if TYPE_CHECKING:
    from archiver.fetch import FetchResult

GONE = frozenset({404, 410})


def route(res: "FetchResult") -> RouteResult:
    """What one endpoint said; `status=None` when retries ran out without a usable answer."""
    if res.status is None or res.status in RETRY_STATUSES or res.truncated:
        return RouteResult(status=None, data=None, error=res.error or f"HTTP {res.status}")
    return RouteResult(status=res.status, data=res.json(), error=res.error)


def decide(routes: Sequence[tuple[str, RouteResult, bool]]) -> tuple[str, Optional[str]]:
    """(status, reason) from (route name, result, usable) triples; `usable` = the answer holds the post."""
    if any(usable for _name, _r, usable in routes):
        return "available", None
    evidence = "; ".join(f"{name} {r.status if r.status is not None else (r.error or 'no answer')}"
                         for name, r, _u in routes)
    answered = [r for _n, r, _u in routes if r.status is not None]
    if routes and len(answered) == len(routes) and all(r.status in GONE for r in answered):
        return "deleted", evidence
    if any(r.status is None for _n, r, _u in routes):
        return "failed", evidence
    if any(r.status in (401, 403) for r in answered):
        return "protected", evidence
    return "unavailable", evidence
