"""What every platform's snapshot shares: reading an endpoint's answer and deciding a status from it,
following a short link, and the small readers of what endpoints say (strings, times, thumbnails).

Statuses follow the same rules as for tweets (README, "Post status"): a usable answer from any
public endpoint means `available`; `deleted` needs every route to say 404/410; retries that ran
out without an answer mean `failed`, the only state worth trying again.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Optional, Sequence

from archiver.errors import RETRY_STATUSES
from archiver.models import Embed, Media, Post, RecordRef
from archiver.platforms.syndication import RouteResult

if TYPE_CHECKING:
    from archiver.fetch import Fetcher, FetchResult

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


# --- the post page and an oEmbed answer about it (YouTube, TikTok, Meta) --------------------------


def fetch_page_and_oembed(post: Post, fetcher: Fetcher, oembed_url: str
                          ) -> tuple[FetchResult, RouteResult, RouteResult]:
    """(page fetch, page route, oEmbed route): the post page, then the oEmbed answer, both recorded on `post`."""
    page_res = fetcher.fetch(post.url)
    oembed_res = fetcher.fetch(oembed_url)
    post.records = page_res.records + oembed_res.records
    return page_res, route(page_res), route(oembed_res)


def json_object(r: RouteResult) -> Optional[dict]:
    """The JSON object of a 200 answer, else None."""
    return r.data if r.status == 200 and isinstance(r.data, dict) else None


def has_html(oembed: RouteResult) -> bool:
    """True if an oEmbed answer is a 200 JSON object with an `html`: it holds the post."""
    return oembed.status == 200 and isinstance(oembed.data, dict) and bool(oembed.data.get("html"))


def decide_with_page(page: RouteResult, page_usable: bool, oembed: RouteResult, oembed_usable: bool
                     ) -> tuple[str, Optional[str]]:
    """`decide` over the post page and oEmbed, where a 200 page that does not hold the post (a player
    shell, a login wall) is no evidence either way; its 404, 401/403 or lost answer is."""
    routes = [("oembed", oembed, oembed_usable)]
    if page_usable or page.status != 200:
        routes.insert(0, ("page", page, page_usable))
    return decide(routes)


def add_thumbnail(post: Post, url: Optional[str]) -> None:
    """The post's thumbnail, when `url` is an http(s) URL."""
    if url and url.startswith(("https://", "http://")):
        post.media.append(Media(url=url, kind="thumbnail"))


# --- short links -----------------------------------------------------------------------------------


def follow_short_link(embed: Embed, fetcher: Fetcher, platform: str,
                      parse: Callable[[str], Optional[tuple[Optional[str], str]]],
                      canonical_url: Callable[[str, Optional[str]], str]) -> tuple[Optional[Embed], list[RecordRef]]:
    """Follow a short or share link's redirects (each hop recorded) until a post URL, which is not
    fetched here; `parse` reads one as (handle or None, id). An embed with an id is kept as it is."""
    if embed.id is not None:
        return embed, []
    res = fetcher.fetch(embed.url, stop_at=lambda url: parse(url) is not None)
    parsed = parse(res.final_url)
    if parsed is None:
        return None, res.records
    handle, post_id = parsed
    return (
        Embed(platform=platform, id=post_id, url=canonical_url(post_id, handle), forms=list(embed.forms),
              context=embed.context, author_handle=handle or embed.author_handle),
        res.records,
    )


# --- reading fields --------------------------------------------------------------------------------


def stripped(value: object) -> Optional[str]:
    """A string field stripped; None when blank or not a string."""
    return value.strip() or None if isinstance(value, str) else None


def iso_utc(value: str | None) -> Optional[str]:
    """An ISO 8601 moment with an offset as UTC `YYYY-MM-DDTHH:MM:SSZ`; None for anything else
    (a bare date or a time without offset says the day, not the moment)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc_ms(value: object) -> Optional[str]:
    """An ISO 8601 time as `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC (the form tweets use), a time without
    offset taken as UTC; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip().replace("z", "Z"))  # nanoseconds: Python reads 6 digits
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
