"""Embed replay assets (issue #4): what a tweet embed loads in a browser, captured without one.

An archived article shows its embedded tweets only if replay can answer every request the embed
makes: widgets.js, the `Tweet.html` iframe document and the scripts and styles it references,
the `tweet-result` JSON in the form the embed asks for it, and each image and video it shows.
Parameters made at run time by the embed's JS (`sessionId`, `features`, the chunk hashes) never
match what a capturer without a browser guesses; the replay rules (`replay_rules.py`) bridge them
by tweet id. Because ReplayWeb.page silently shows a *neighbouring* tweet when one is missing
(warc-and-replay.md §4.3), the capture checks per embed that every URL it needs has a complete
200 in the archive and says which do not (`ArticleResult.problems`).

Scope: tweets the article *embeds* (blockquote, iframe, amp, data-id / script forms), never plain
links; only when the article's requisites are captured (`--no-requisites` leaves out the page's
look, and an embed is part of it: without widgets.js no blockquote ever becomes an embed).
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from archiver import extract
from archiver.fetch import fetch_all
from archiver.models import ArticleResult, Embed, Post, RecordRef
from archiver.platforms.syndication import SYNDICATION_ENDPOINT, all_video_variants, syndication_token
from archiver.warc import clean_target_uri

if TYPE_CHECKING:
    from archiver.capture import Archive
    from archiver.fetch import FetchResult

log = logging.getLogger(__name__)

# Forms that render as an embed (widgets.js or an iframe turns them into Tweet.html); `link`,
# `tco`, `pic` and `bare-url` are references, shown as text.
EMBED_FORMS = frozenset({"blockquote", "iframe", "amp", "script", "oembed-proxy"})
WIDGETS_JS = "https://platform.twitter.com/widgets.js"
TWEET_HTML = "https://platform.twitter.com/embed/Tweet.html"
# react-tweet, a port of the embed's rendering, asks every photo and video poster at `small`
# (fit to 680 px): the embed is at most 550 px wide, so that is the size it shows.
EMBED_PHOTO_SIZE = "small"
# widgets.js build id (`<hash>:<ms>`), as in real iframe URLs; replay rules ignore it.
WIDGETS_VERSION = "2615f7e52b7e0:1702314776716"

# The feature flags the embed sends (social-embeds.md §4.1), as tweet-result's `features`
# (`name:value;...`) and as Tweet.html's `features` (base64 JSON of `{name: {bucket, version}}`).
_FLAGS: tuple[tuple[str, str], ...] = (
    ("tfw_timeline_list", ""), ("tfw_follower_count_sunset", "true"), ("tfw_tweet_edit_backend", "on"),
    ("tfw_refsrc_session", "on"), ("tfw_fosnr_soft_interventions_enabled", "on"),
    ("tfw_show_birdwatch_pivots_enabled", "on"), ("tfw_show_business_verified_badge", "on"),
    ("tfw_duplicate_scribes_to_settings", "on"), ("tfw_use_profile_image_shape_enabled", "on"),
    ("tfw_show_blue_verified_badge", "on"), ("tfw_legacy_timeline_sunset", "true"),
    ("tfw_show_gov_verified_badge", "on"), ("tfw_show_business_affiliate_badge", "on"),
    ("tfw_tweet_edit_frontend", "on"),
)
TWEET_RESULT_FEATURES = ";".join(f"{name}:{value}" for name, value in _FLAGS)


def _bucket(value: str) -> Any:
    return [] if value == "" else True if value == "true" else value


TWEET_HTML_FEATURES = base64.b64encode(json.dumps(
    {name: {"bucket": _bucket(value), "version": None} for name, value in _FLAGS}, separators=(",", ":")
).encode()).decode()


# --- URLs the embed requests ---------------------------------------------------------------


def tweet_html_url(tweet_id: str, *, origin: str, session_id: str, widget: int = 0, lang: str = "en") -> str:
    """The iframe URL widgets.js builds for a blockquote (params sorted, as it writes them)."""
    query = urlencode([
        ("dnt", "false"), ("embedId", f"twitter-widget-{widget}"), ("features", TWEET_HTML_FEATURES),
        ("frame", "false"), ("hideCard", "false"), ("hideThread", "false"), ("id", tweet_id), ("lang", lang),
        ("origin", origin), ("sessionId", session_id), ("theme", "light"), ("widgetsVersion", WIDGETS_VERSION),
        ("width", "550px"),
    ])
    return f"{TWEET_HTML}?{query}"


def embed_tweet_result_url(tweet_id: str, lang: str = "en") -> str:
    """tweet-result as the embed asks it: `features` before `token` (the snapshot's plain form has none)."""
    query = urlencode([("id", tweet_id), ("lang", lang), ("features", TWEET_RESULT_FEATURES),
                       ("token", syndication_token(tweet_id))])
    return f"{SYNDICATION_ENDPOINT}?{query}"


def sized_media_url(url: str, size: str = EMBED_PHOTO_SIZE) -> str:
    """`…/media/KEY.jpg` → `…/media/KEY?format=jpg&name=small`, as the embed builds it."""
    parts = urlsplit(url)
    stem, dot, ext = parts.path.rpartition(".")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if dot and "/" not in ext and ext:
        path = stem
        query["format"] = ext
    elif "format" in query:
        path = parts.path
    else:
        return url
    query["name"] = size
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict]:
    if isinstance(value, dict):
        value = list(value.values())
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None


def embed_media_urls(tweet: dict) -> list[str]:
    """Every image and MP4 the embed of this tweet-result may show, in the forms it asks for.

    The author's avatar as given (`_normal`), photos and video posters at `small`, every IMAGE
    binding of a card (the embed picks one by card type and width at run time), and every MP4
    variant (pywb keeps the lexically smallest `src`, ReplayWeb.page the largest W×H: §4.3); the
    same for the quoted tweet and the replied-to parent shown with it.
    """
    urls: list[str] = []
    for t in (tweet, _dict(tweet.get("quoted_tweet")), _dict(tweet.get("parent"))):
        if not t:
            continue
        user = _dict(t.get("user"))
        urls.append(_str(user.get("profile_image_url_https")))
        urls.append(_str(_dict(_dict(user.get("highlighted_label")).get("badge")).get("url")))
        for item in _list(t.get("mediaDetails")):
            media = _str(item.get("media_url_https"))
            urls.append(sized_media_url(media) if media else None)
        for photo in _list(t.get("photos")):
            url = _str(photo.get("url"))
            urls.append(sized_media_url(url) if url else None)
        urls.append(_str(_dict(t.get("video")).get("poster")))
        for value in _dict(_dict(t.get("card")).get("binding_values")).values():
            urls.append(_str(_dict(_dict(value).get("image_value")).get("url")))
        urls.extend(all_video_variants(t))
    return list(dict.fromkeys(u for u in urls if u))


def referenced_assets(body: bytes, base_url: str, content_type: Optional[str] = None) -> list[str]:
    """Scripts and styles an embed document loads (`script src`, stylesheet / preload links)."""
    doc = extract.parse_html(body, base_url=base_url, content_type=content_type)
    found: list[str] = []
    for el in doc.root.iter("script", "link"):
        if el.tag == "script":
            href = el.get("src")
        elif set((el.get("rel") or "").lower().split()) & {"stylesheet", "preload", "modulepreload"}:
            href = el.get("href")
        else:
            continue
        url = doc.absolute(href)
        if url and url.startswith(("https://", "http://")):
            found.append(url.split("#", 1)[0])
    return list(dict.fromkeys(found))


# --- completeness ---------------------------------------------------------------------------


def complete_200(ref: RecordRef) -> bool:
    """A record replay can serve as the answer: a whole 200 response, or a revisit of one."""
    return ref.record_type in ("response", "revisit") and ref.http_status == 200 and not ref.truncated


def missing_urls(needed: Iterable[str], present: Callable[[str], bool]) -> list[str]:
    """The needed URLs without a complete 200 in the archive, in order, once each."""
    return [u for u in dict.fromkeys(needed) if not present(u)]


@dataclass
class EmbedPlan:
    """One embedded tweet: the URLs its embed requests, and whether tweet-result must be a 200."""

    embed: Embed
    post: Post
    widget: int
    tweet_html: str = ""
    tweet_result: str = ""
    assets: list[str] = field(default_factory=list)  # scripts, styles, fonts of Tweet.html
    media: list[str] = field(default_factory=list)

    @property
    def needed(self) -> list[str]:
        """What must have a 200: a tweet that is gone is right to answer tweet-result with 404."""
        result = [self.tweet_result] if self.post.status == "available" else []
        widgets = [WIDGETS_JS] if set(self.embed.forms) & {"blockquote", "script"} else []
        return [*widgets, self.tweet_html, *self.assets, *result, *self.media]

    @property
    def urls(self) -> list[str]:
        """Everything fetched for this embed, needed or not."""
        return [self.tweet_html, *self.assets, self.tweet_result, *self.media]


# --- capture --------------------------------------------------------------------------------


def embedded_posts(result: ArticleResult) -> list[tuple[Embed, Post]]:
    """(embed, post) for each tweet shown as an embed, in page order; `failed` ones wait for a retry."""
    posts = {(p.platform, p.id): p for p in result.posts}
    out = []
    for embed in result.embeds:
        post = posts.get(embed.key)
        if embed.platform == "twitter" and post and set(embed.forms) & EMBED_FORMS and post.status != "failed":
            out.append((embed, post))
    return out


def capture_embed_assets(archive: Archive, result: ArticleResult) -> list[str]:
    """Capture what each embedded tweet's embed loads; return `embed <id>: missing <url> (why)` lines."""
    if not archive.config.requisites:
        return []
    embedded = embedded_posts(result)
    if not embedded:
        return []
    fetcher = archive.fetcher
    origin = result.article.final_url or result.article.url
    session_id = secrets.token_hex(20)  # one per page load, as widgets.js makes it
    plans = [EmbedPlan(embed, post, n) for n, (embed, post) in enumerate(embedded)]
    for plan in plans:
        plan.tweet_html = tweet_html_url(plan.post.id, origin=origin, session_id=session_id, widget=plan.widget)
        plan.tweet_result = embed_tweet_result_url(plan.post.id)
    this_run = _records_by_url(result)
    # 1. the documents: each Tweet.html and tweet-result (and widgets.js if the page lacked it)
    first = [p.tweet_html for p in plans] + [p.tweet_result for p in plans]
    needs_widgets = any(WIDGETS_JS in p.needed for p in plans)
    if needs_widgets and not any(complete_200(r) for r in this_run.get(WIDGETS_JS, [])):
        first.append(WIDGETS_JS)  # the article did not reference it itself: blockquotes need it
    fetched = fetch_all(fetcher, first, want_body=lambda u: u != WIDGETS_JS)
    if WIDGETS_JS in fetched:
        result.requisites.extend(fetched[WIDGETS_JS].records)

    # 2. what they name: Tweet.html's scripts and styles, then the fonts of those styles, the media
    for plan in plans:
        page = fetched[plan.tweet_html]
        if page.ok and page.body:
            plan.assets = referenced_assets(page.body, page.final_url, page.content_type)
        plan.media = embed_media_urls(_tweet_json(fetched[plan.tweet_result], plan.post))
    assets = fetch_all(fetcher, _new([u for p in plans for u in p.assets], fetched, this_run),
                         want_body=lambda u: urlsplit(u).path.endswith(".css"))
    fetched.update(assets)
    fonts: dict[str, list[str]] = {}
    for url, res in assets.items():
        if res.ok and res.body and "css" in (res.content_type or "").lower():
            fonts[url] = extract.css_urls(res.body.decode("utf-8", "replace"), res.final_url)
    for plan in plans:
        plan.assets += [u for a in plan.assets for u in fonts.get(a, []) if u not in plan.assets]
    wanted = _new([u for p in plans for u in p.assets + p.media], fetched, this_run)
    fetched.update(fetch_all(fetcher, wanted, want_body=lambda u: False))

    # 3. evidence goes with the post; what is still missing is reported per embed
    for plan in plans:
        for url in plan.urls:
            if url in fetched:
                plan.post.records.extend(r for r in fetched[url].records if r not in plan.post.records)
    present = _presence(archive, this_run, fetched)
    problems = []
    for plan in plans:
        for url in missing_urls(plan.needed, present):
            res = fetched.get(url)
            why = (res.error or f"HTTP {res.status}") if res is not None else "not captured"
            problems.append(f"embed {plan.post.id}: missing {url} ({why})")
    log.debug("embed assets of %d tweet(s): %d URL(s), %d missing", len(plans), len(fetched), len(problems))
    return problems


def _tweet_json(res: FetchResult, post: Post) -> dict:
    """The Tweet the embed will render: its own tweet-result answer, else the snapshot's."""
    for data in (res.json() if res.ok else None, post.data):
        if isinstance(data, dict) and (data.get("__typename") == "Tweet" or data.get("user")):
            return data
    return {}


def _new(urls: list[str], fetched: dict, this_run: dict[str, list[RecordRef]]) -> list[str]:
    """URLs not fetched yet in this run: the snapshot's best MP4 is not downloaded twice."""
    return [u for u in dict.fromkeys(urls)
            if u not in fetched and not any(complete_200(r) for r in this_run.get(u, []))]


def _records_by_url(result: ArticleResult) -> dict[str, list[RecordRef]]:
    refs = result.article.records + result.requisites + [r for p in result.posts for r in p.records]
    out: dict[str, list[RecordRef]] = {}
    for ref in refs:
        out.setdefault(ref.url, []).append(ref)
    return out


def _presence(archive: Archive, this_run: dict[str, list[RecordRef]], fetched: dict) -> Callable[[str], bool]:
    """A URL is present if fetched whole now (redirects followed), or a 200 of it is in the archive."""

    def present(url: str) -> bool:
        res = fetched.get(url)
        if res is not None and res.ok and res.status == 200:
            return True
        uri = clean_target_uri(url)
        if any(complete_200(r) for r in this_run.get(uri, [])):
            return True
        return any(complete_200(r) for r in archive.index.records_for_url(uri))

    return present
