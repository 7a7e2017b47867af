"""One static HTML page per captured post, stored in the WARC as a `resource` record (issue #4).

Why: a post's evidence is a JSON answer, an oEmbed blob and some media files. A reader of the
archive (or of a WACZ in ReplayWeb.page) needs one page that shows the post as it was, with its
status and the articles that cite it, even when the platform's own embed no longer renders.

The page is rendered from the captured data only. Post text, names and URLs come from a
platform we do not control, so everything is escaped with `html.escape`, only `http(s)` URLs ever
become an `href`/`src`/`poster`, there is no JavaScript and no external stylesheet. `<img>` and
`<video>` point at the ORIGINAL media URLs (`https://pbs.twimg.com/...`, as captured), so a replay
tool rewrites them to the archived copies like any other page's images.

URL scheme: `https://posts.embed-archiver.invalid/<platform>/<id>` (`post_page_url`).
`.invalid` is reserved by RFC 2606 / RFC 6761 §6.4 and never resolves, so the URL can never
collide with a real capture nor leak a live request, yet it is an ordinary `https` page URL:

* pywb serves `urn:` targets at `/<coll>/<ts>id_/urn:...` (docs/warc-and-replay.md §1.7), but
  its `WbUrl` skips all scheme handling for them;
* wabac.js / ReplayWeb.page: `ArchiveRequest` only accepts bare `http:`/`https:` URLs without a
  timestamp prefix; `makeHeadInsert` derives wombat's host from `new URL(url).host`, which is empty
  for a `urn:` (the scheme is then guessed from the referrer); and the UI's location bar
  (`item.ts` `navigateTo`) replays only `http://`/`https://` input, anything else becomes a
  page-list search. An `https` URL takes the same path as every page those tools are tested on.
* SURT keys agree for it in cdxj-indexer/pywb (`invalid,embed-archiver,posts)/twitter/<id>`) and
  warcio.js, so the WACZ index finds it. Checked with pywb 2.10: after `wb-manager add
  --unpack-wacz`, the page replays at `id_` and `mp_`, its images rewritten to `im_` archived copies.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import datetime, timezone
from typing import Optional
from urllib.parse import quote, urlsplit

from archiver import __version__
from archiver.index import Index, normalize_platform
from archiver.models import ArticleResult, Post
from archiver.warc import WarcSink

__all__ = ["POST_PAGE_HOST", "POST_PAGE_TYPE", "post_page_url", "render_post_page", "write_post_pages",
           "post_page_title"]

log = logging.getLogger(__name__)

POST_PAGE_HOST = "posts.embed-archiver.invalid"
POST_PAGE_TYPE = "text/html; charset=utf-8"

_STATUS_CLASS = {"available": "ok", "protected": "warn", "suspended": "gone", "deleted": "gone",
                 "unavailable": "warn", "failed": "warn"}
# Tokens linkified in twitter text: URLs (trailing punctuation left out), @mentions, #hashtags.
_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}»”’])"
    r"|(?<![\w@/])@(?P<mention>\w{1,15})(?!\w)"
    r"|(?<![\w#&/])#(?P<tag>\w*[^\W\d]\w*)"
)
_HANDLE = re.compile(r"\w{1,50}")
# Controls, spaces and bidi overrides: never in a URL we link to (an RLO would disguise it).
_UNSAFE_URL = re.compile("[\x00-\x20\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_CSS = """
body{margin:0;background:#f5f8fa;color:#0f1419;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:600px;margin:24px auto;padding:0 12px}
.banner{border-radius:8px;padding:8px 12px;margin-bottom:12px;font-size:14px;background:#e8f5fd}
.banner.ok{background:#e6f4ea}.banner.warn{background:#fff4e5}.banner.gone{background:#fde8e8}
.card{background:#fff;border:1px solid #cfd9de;border-radius:12px;padding:12px 16px}
.quoted{margin:12px 0 0;border:1px solid #cfd9de;border-radius:12px;padding:10px 12px}
.author{display:flex;gap:10px;align-items:center}.avatar{width:48px;height:48px;border-radius:50%;object-fit:cover}
.name{font-weight:700}.handle,.meta,.note{color:#536471}.meta,.note{font-size:14px}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:10px 0}
.media{display:grid;gap:4px;margin:8px 0}.media img,.media video{width:100%;border-radius:8px;background:#000}
a{color:#1d6fa5}h2{font-size:16px;margin:16px 0 4px}ul{margin:4px 0;padding-left:20px}
code{font-size:12px;overflow-wrap:anywhere}
"""


def post_page_url(platform: str, id: str) -> str:
    """The stable URL of a post's page: `https://posts.embed-archiver.invalid/<platform>/<id>`."""
    return f"https://{POST_PAGE_HOST}/{quote(normalize_platform(platform), safe='')}/{quote(str(id), safe='')}"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _http_url(url: object) -> Optional[str]:
    """`url` if it is an absolute http(s) URL safe to put in an attribute (once escaped), else None."""
    if not isinstance(url, str) or not url or _UNSAFE_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _link(url: object, text: object, cls: str = "") -> str:
    """An `<a>` for a safe http(s) URL; anything else is shown as escaped text, never a link."""
    safe = _http_url(url)
    label = _e(text)
    if safe is None:
        return f'<span class="{cls}">{label}</span>' if cls else label
    klass = f' class="{cls}"' if cls else ""
    return f'<a{klass} href="{_e(safe)}">{label}</a>'


def _linkify(text: str, platform: str) -> str:
    """Escaped text with URLs (and, for twitter, @mentions and #hashtags) as links."""
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        if m.group("url") is None and platform != "twitter":
            continue
        out.append(_e(text[pos:m.start()]))
        if m.group("url"):
            out.append(_link(m.group("url"), m.group("url")))
        elif m.group("mention"):
            out.append(_link(f"https://twitter.com/{m.group('mention')}", m.group(0)))
        else:
            out.append(_link(f"https://twitter.com/hashtag/{quote(m.group('tag'), safe='')}", m.group(0)))
        pos = m.end()
    out.append(_e(text[pos:]))
    return "".join(out)


def _when(value: Optional[str]) -> str:
    """ISO 8601 time as `2019-10-13 16:02:11 UTC` in a `<time>` element (the raw value if unparsable)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        shown = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        shown = value
    return f'<time datetime="{_e(value)}">{_e(shown)}</time>'


def _first_words(text: Optional[str], n: int = 12) -> str:
    words = (text or "").split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")


def post_page_title(post: Post) -> str:
    """`Name (@handle): first words…`, or the status when there is no text (pages.jsonl titles too)."""
    who = post.author_name or (f"@{post.author_handle}" if post.author_handle else f"{post.platform} post {post.id}")
    if post.author_name and post.author_handle:
        who = f"{post.author_name} (@{post.author_handle})"
    words = _first_words(post.text)
    return f"{who}: {words}" if words else f"{who} [{post.status}]"


def _media_html(post: Post) -> str:
    """Images and `<video>`s at their original URLs; each video takes the next `poster` as poster."""
    posters = [m for m in post.media if m.kind == "poster" and _http_url(m.url)]
    parts, notes = [], []
    for m in post.media:
        src = _http_url(m.url)
        if m.kind in ("avatar", "poster"):
            continue
        if src is None:
            notes.append(f"<li>{_e(m.kind)}: unsafe or non-http URL not shown</li>")
            continue
        if m.kind in ("video", "gif", "hls"):
            poster = posters.pop(0).url if posters else None
            attrs = ' controls preload="metadata"' + (' loop muted' if m.kind == "gif" else "")
            if poster:
                attrs += f' poster="{_e(poster)}"'
            parts.append(f'<video{attrs} src="{_e(src)}">{_link(src, "video file")}</video>')
        else:
            parts.append(f'<img src="{_e(src)}" alt="{_e(m.kind)}">')
        if not m.captured:
            notes.append(f"<li>{_e(m.kind)} not captured: {_e(m.error or 'unknown error')}</li>")
    parts += [f'<img src="{_e(p.url)}" alt="video poster">' for p in posters]  # posters left over
    body = f'<div class="media">{"".join(parts)}</div>' if parts else ""
    return body + (f'<ul class="note">{"".join(notes)}</ul>' if notes else "")


def _card(post: Post, *, quoted: dict[str, Post], depth: int) -> str:
    """The post itself: author, text, media, time; the quoted post nested once, else linked."""
    avatar = next((m.url for m in post.media if m.kind == "avatar" and _http_url(m.url)), None)
    handle = post.author_handle if post.author_handle and _HANDLE.fullmatch(post.author_handle) else None
    head = [f'<img class="avatar" src="{_e(avatar)}" alt="">' if avatar else ""]
    who = f'<bdi class="name">{_e(post.author_name)}</bdi> ' if post.author_name else ""
    if handle:
        who += _link(f"https://twitter.com/{handle}" if post.platform == "twitter" else None, f"@{handle}", "handle")
    elif post.author_handle:
        who += f'<bdi class="handle">@{_e(post.author_handle)}</bdi>'
    head.append(f"<div>{who or '<span class=note>author unknown</span>'}</div>")
    text = (f'<p class="text" dir="auto">{_linkify(post.text, post.platform)}</p>' if post.text
            else '<p class="note">No text was captured.</p>')
    meta = f'<p class="meta">{_link(post.url, post.url)} {_when(post.created_at)}</p>'
    nested = []
    for relation, platform, rel_id in post.related:
        other = quoted.get(rel_id)
        if other is not None and normalize_platform(other.platform) != normalize_platform(platform):
            other = None
        label = "Quoting" if relation == "quotes" else "Replying to"
        page = _link(post_page_url(platform, rel_id), "archived page")
        if relation == "quotes" and other is not None and depth == 0:
            nested.append(f'<blockquote class="quoted"><p class="note">{label}:</p>'
                          f'{_card(other, quoted=quoted, depth=1)}</blockquote>')
        else:
            original = other.url if other is not None else None
            nested.append(f'<p class="note">{label} {_e(platform)} post {_e(rel_id)}: {page}'
                          + (f" · {_link(original, 'original')}" if original else "") + "</p>")
    return (f'<div class="author">{"".join(head)}</div>{text}{_media_html(post)}{meta}{"".join(nested)}')


def render_post_page(post: Post, *, quoted: dict[str, Post], citing: list[str], captured_at: str) -> str:
    """The self-contained HTML page for one post (pure; `quoted` maps post id -> Post captured alongside)."""
    status_class = _STATUS_CLASS.get(post.status, "warn")
    reason = f" — {_e(post.status_reason)}" if post.status_reason else ""
    banner = (f'<p class="banner {status_class}">Archived {_e(post.platform)} post {_e(post.id)} · '
              f"status: <strong>{_e(post.status)}</strong>{reason} · captured {_when(captured_at)}</p>")
    cites = "".join(f"<li>{_link(u, u)}</li>" for u in dict.fromkeys(citing))
    cited = (f"<h2>Cited by</h2><ul>{cites}</ul>" if cites
             else '<h2>Cited by</h2><p class="note">No article in this archive cites it directly.</p>')
    files = "".join(
        f"<li>{_e(m.kind)} {'captured' if m.captured else 'not captured'}: <code>{_e(m.url)}</code>"
        + (f" sha256 <code>{_e(m.sha256)}</code>" if m.sha256 else "") + "</li>"
        for m in post.media)
    files_html = f"<h2>Media files</h2><ul>{files}</ul>" if files else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="und"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="embed-archiver/{_e(__version__)}">'
        f"<title>{_e(post_page_title(post))}</title><style>{_CSS}</style></head>\n"
        f'<body><main data-platform="{_e(post.platform)}" data-id="{_e(post.id)}">{banner}'
        f'<article class="card">{_card(post, quoted=quoted, depth=0)}</article>'
        f"{cited}{files_html}"
        '<p class="note">Rendered by embed-archiver from the captured data; images and videos load '
        "from their archived copies when replayed.</p></main></body></html>\n"
    )


def _captured_at(post: Post, fallback: Optional[str]) -> str:
    """When the post's evidence was captured: its latest record's WARC-Date, to the second."""
    dates = sorted(r.date for r in post.records if r.date)
    if dates:
        return dates[-1][:19] + "Z"
    return fallback or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_post_pages(sink: WarcSink, index: Index, result: ArticleResult) -> None:
    """Render and store one page per post of `result`, adding each page's RecordRef to `post.records`.

    Citing articles are this article (for the posts it cites) plus those the index already knows.
    A rendering bug is recorded in `result.problems` and never stops the capture; storage errors
    propagate like every other WARC write.
    """
    article_url = result.article.url
    cited = {(normalize_platform(e.platform), str(e.id)) for e in result.embeds if e.id is not None}
    by_id = {str(p.id): p for p in result.posts}
    for post in result.posts:
        key = (normalize_platform(post.platform), str(post.id))
        known = index.post(*key)
        citing = [a["url"] for a in (known or {}).get("articles", [])]
        if key in cited:
            citing.append(article_url)
        try:
            body = render_post_page(post, quoted=by_id, citing=citing,
                                    captured_at=_captured_at(post, result.article.fetched_at))
        except Exception as exc:  # a page is a convenience; the evidence records are already written
            log.warning("post page for %s:%s not rendered: %s", post.platform, post.id, exc)
            result.problems.append(f"post page {post.platform}:{post.id}: {exc}")
            continue
        ref = sink.write_resource(post_page_url(*key), body.encode("utf-8"), POST_PAGE_TYPE)
        post.records.append(ref)
