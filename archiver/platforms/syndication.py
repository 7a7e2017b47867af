"""X's key-less tweet endpoints: build their URLs, judge their answers, read their bodies.

Two public routes give a tweet without an API key (social-embeds.md §3-§4):
``cdn.syndication.twimg.com/tweet-result`` (full JSON, needs a token computed
like the browser does) and ``publish.twitter.com/oembed`` (author and HTML
only). Everything here is pure: the fetcher does the I/O and hands the parsed
answers back as :class:`RouteResult` values.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Optional
from urllib.parse import quote, urlencode, urljoin, urlsplit

import lxml.html

from archiver.jsnumber import js_number_to_string
from archiver.models import Media

PLATFORM = "twitter"
SYNDICATION_ENDPOINT = "https://cdn.syndication.twimg.com/tweet-result"
OEMBED_ENDPOINT = "https://publish.twitter.com/oembed"

# status_reason when syndication says `200 {}` but oEmbed has the post: almost
# certainly our token was rejected (react-tweet PR #128), which the caller should log.
TOKEN_SUSPECT = "syndication answered {} while oEmbed has the post (token rejected?)"

_TWEET_ID = re.compile(r"[0-9]{1,19}")
_TWITTER_HOSTS = {"twitter.com", "www.twitter.com", "mobile.twitter.com", "x.com", "www.x.com", "mobile.x.com"}
_TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504, 522, 524}


# --- URLs -------------------------------------------------------------------


def syndication_token(tweet_id: str) -> str:
    """The `token` publish.twitter.com's JS sends; without it syndication answers `{}`.

    ``((Number(id) / 1e15) * Math.PI).toString(36).replace(/(0+|\\.)/g, '')``:
    the id goes through an IEEE double on purpose, as in the browser.
    """
    if not _TWEET_ID.fullmatch(tweet_id):
        raise ValueError(f"not a tweet id: {tweet_id!r}")
    value = (float(int(tweet_id)) / 1e15) * 3.141592653589793  # Math.PI
    return js_number_to_string(value, 36).replace("0", "").replace(".", "")


def syndication_url(tweet_id: str, lang: str = "en") -> str:
    """The tweet-result URL, token included, for one tweet id."""
    query = urlencode({"id": tweet_id, "lang": lang, "token": syndication_token(tweet_id)})
    return f"{SYNDICATION_ENDPOINT}?{query}"


def canonical_tweet_url(tweet_url: str) -> str:
    """``https://twitter.com/<user>/status/<id>``: x.com, mobile and query variants folded."""
    parts = urlsplit(tweet_url.strip())
    if (parts.hostname or "").lower() not in _TWITTER_HOSTS:
        return tweet_url
    path = parts.fragment[1:] if parts.fragment.startswith("!/") else parts.path  # old #!/user/status/id
    return f"https://twitter.com{path.rstrip('/')}"


def oembed_url(tweet_url: str) -> str:
    """The publish.twitter.com oEmbed URL; it is asked with the twitter.com form of the post URL."""
    return f"{OEMBED_ENDPOINT}?url={quote(canonical_tweet_url(tweet_url), safe='')}"


# --- status -----------------------------------------------------------------


@dataclass(frozen=True)
class RouteResult:
    """What one endpoint finally answered, as the fetcher saw it after its retries."""

    status: Optional[int]  # HTTP status; None when retries were exhausted or the network failed
    data: object = None  # parsed JSON; None when the body was not JSON
    error: Optional[str] = None


def unwrap_tweet(data: object) -> object:
    """Peel GraphQL's ``TweetWithVisibilityResults`` wrapper, should syndication ever send it."""
    if isinstance(data, dict) and data.get("__typename") == "TweetWithVisibilityResults":
        return data.get("tweet", data)
    return data


def _is_transient(route: RouteResult) -> bool:
    return route.status is None or route.status in _TRANSIENT_HTTP


def _describe(name: str, route: RouteResult) -> str:
    """Short evidence string for status_reason, e.g. ``syndication 404`` or ``oEmbed: timeout``."""
    if route.status is None:
        return f"{name}: {route.error or 'no response'}"
    if route.status == 200 and route.data == {}:
        return f"{name} 200 {{}}"
    if route.status == 200 and route.data is None:
        return f"{name} 200 (not JSON)"
    detail = route.error
    if detail is None and isinstance(route.data, dict) and isinstance(route.data.get("error"), str):
        detail = route.data["error"]
    return f"{name} {route.status}" + (f": {detail}" if detail else "")


def _tombstone_text(data: dict) -> Optional[str]:
    tomb = data.get("tombstone")
    text = tomb.get("text") if isinstance(tomb, dict) else None
    if isinstance(text, dict):
        text = text.get("text")
    if not isinstance(text, str):
        return None
    return text.strip() or None


def _tombstone_status(text: Optional[str]) -> str:
    """Map tombstone wording to a status; wording only refines, `__typename` decided it is one."""
    low = (text or "").lower()
    if "suspended" in low:
        return "suspended"
    if "private" in low or "protected" in low or "limits who can view" in low:
        return "protected"
    if "deleted" in low or "no longer exists" in low:
        return "deleted"
    return "unavailable"  # age-restricted, withheld, rules violation, no text


_TEXTLESS = "TweetTombstone without text"
_DRIFT = "unexpected __typename %r from syndication"


def _typename(route: RouteResult) -> object:
    data = unwrap_tweet(route.data)
    return data.get("__typename") if isinstance(data, dict) else None


def _syndication_verdict(synd: RouteResult) -> Optional[tuple[str, Optional[str]]]:
    """A final status when syndication's 200 body settles it alone, else None."""
    data = unwrap_tweet(synd.data)
    if synd.status != 200 or not isinstance(data, dict) or not data:
        return None
    typename = data.get("__typename")
    if typename is None and "id_str" not in data:
        return None  # neither a tweet nor a tombstone: nothing to go on
    if typename in ("Tweet", None):
        user = data.get("user")
        if isinstance(user, dict) and user.get("screen_name"):
            return "available", None
        # react-tweet #129/#135: a suspended author's tweet comes back without `user`
        return "suspended", "syndication Tweet without user (author suspended)"
    if typename == "TweetTombstone":
        text = _tombstone_text(data)
        return _tombstone_status(text), text or _TEXTLESS
    return "unavailable", _DRIFT % typename


def decide_status(synd: RouteResult, oembed: RouteResult) -> tuple[str, Optional[str]]:
    """(status, status_reason) for one tweet from both routes' final answers (issue #2 table).

    Order of evidence:

    1. A syndication body that names the tweet settles it: a ``Tweet`` with a
       user is available; without a user the author is suspended; a
       ``TweetTombstone`` is suspended / protected / deleted by its text, else
       unavailable (age-restricted, withheld: oEmbed may still serve those, so
       an oEmbed 200 does not override). An unknown ``__typename`` (schema
       drift, e.g. ``TweetUnavailable``) counts as a text-less tombstone. Only
       an oEmbed 403 refines a text-less tombstone, to protected; a tombstone
       with its own wording (age-restricted…) keeps it, whatever oEmbed says.
    2. Otherwise syndication gave nothing usable (``{}``, 404, 4xx, not JSON,
       failure) and oEmbed decides if it can: 200 is available (after a
       syndication ``{}`` the reason is :data:`TOKEN_SUSPECT`), 403 protected.
    3. Both routes 404: deleted. A single 404 is not enough:
       with the other route failed the answer is ``failed`` so a retry can
       confirm; with the other route answering ``{}``/junk it is
       ``unavailable``, reason naming both.
    4. Any route that failed (no response, 408/429/5xx): ``failed``, the only
       retryable state. Both routes answered but said nothing: ``unavailable``.
    """
    verdict = _syndication_verdict(synd)
    if verdict is not None:
        if verdict[1] in (_TEXTLESS, _DRIFT % _typename(synd)) and oembed.status == 403:
            return "protected", f"{verdict[1]}; oEmbed 403"
        return verdict

    evidence = f"{_describe('syndication', synd)}; {_describe('oEmbed', oembed)}"
    if oembed.status == 200 and isinstance(oembed.data, dict) and (
        oembed.data.get("html") or oembed.data.get("author_name")
    ):
        if token_suspect(synd, oembed):
            return "available", TOKEN_SUSPECT
        return "available", f"from oEmbed ({_describe('syndication', synd)})"
    if oembed.status == 403:
        return "protected", _describe("oEmbed", oembed)
    if synd.status == 404 and oembed.status == 404:
        return "deleted", evidence
    if _is_transient(synd) or _is_transient(oembed):
        return "failed", evidence
    return "unavailable", evidence


def token_suspect(synd: RouteResult, oembed: RouteResult) -> bool:
    """True when syndication said ``200 {}`` but oEmbed served the post: our token is likely wrong."""
    return (
        synd.status == 200
        and synd.data == {}
        and oembed.status == 200
        and isinstance(oembed.data, dict)
        and bool(oembed.data.get("html") or oembed.data.get("author_name"))
    )


# --- the Tweet body -----------------------------------------------------------


@dataclass
class ParsedTweet:
    """The fields of a syndication ``Tweet`` the archiver keeps, media not yet captured."""

    id: str
    author_handle: Optional[str] = None
    author_name: Optional[str] = None
    text: Optional[str] = None
    created_at: Optional[str] = None  # YYYY-MM-DDTHH:MM:SS.sssZ, UTC
    quoted_id: Optional[str] = None
    parent_id: Optional[str] = None
    media: list[Media] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Canonical post URL (``i`` stands in for an unknown handle, as x.com accepts)."""
        return f"https://twitter.com/{self.author_handle or 'i'}/status/{self.id}"

    @property
    def related(self) -> list[tuple[str, str, str]]:
        """``Post.related`` entries: (relation, platform, id)."""
        out = []
        if self.quoted_id:
            out.append(("quotes", PLATFORM, self.quoted_id))
        if self.parent_id:
            out.append(("reply_to", PLATFORM, self.parent_id))
        return out


def _items(container: Any) -> list[dict]:
    """List of dicts from a field that 2026 bodies may send as ``{}``, a dict, or leave out."""
    if isinstance(container, list):
        return [x for x in container if isinstance(x, dict)]
    if isinstance(container, dict):  # `{}` or, defensively, an index-keyed object
        return [x for x in container.values() if isinstance(x, dict)]
    return []


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?\s*(Z|[+-]\d\d(?::?\d\d)?)?", re.I
)


def normalize_created_at(value: Any) -> Optional[str]:
    """ISO 8601 UTC with milliseconds (``2023-03-29T14:34:41.000Z``), like JS ``toISOString``.

    Accepts the syndication ISO form, other offsets or precisions, and the v1.1
    ``Wed Mar 29 14:34:41 +0000 2023`` form; anything else gives None. Parsed by
    hand because ``fromisoformat`` on Python 3.10 rejects ``Z`` and odd precisions.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _ISO.fullmatch(text)
    try:
        if match:
            year, month, day, hour, minute, second, frac, zone = match.groups()
            offset = timezone.utc
            if zone and zone.upper() != "Z":
                digits = zone[1:].replace(":", "").ljust(4, "0")
                minutes = int(digits[:2]) * 60 + int(digits[2:])
                offset = timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))
            micro = int((frac or "0")[:6].ljust(6, "0"))
            moment = datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=offset
            )
        else:
            moment = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return None
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")


def tweet_text(data: dict) -> Optional[str]:
    """The tweet text, HTML entities unescaped and t.co links expanded where entities say how."""
    text = data.get("text")
    if not isinstance(text, str):
        return None
    entities = _dict(data.get("entities"))
    expand: dict[str, str] = {}
    for entity in _items(entities.get("urls")) + _items(entities.get("media")):
        short, long = _str(entity.get("url")), _str(entity.get("expanded_url"))
        if short and long:
            expand.setdefault(short, long)
    return _TCO.sub(lambda m: expand.get(m.group(0), m.group(0)), html.unescape(text))


_PBS_MEDIA = re.compile(r"^(https://pbs\.twimg\.com/media/[^/?.:]+)(?:\.(\w+))?(?::\w+)?(?:\?(.*))?$")


def photo_orig_url(url: str) -> str:
    """``…/media/<key>.jpg`` (or ``:large``, ``?name=small``) → ``…/media/<key>?format=jpg&name=orig``."""
    match = _PBS_MEDIA.match(url.replace("http://", "https://", 1))
    if not match:
        return url
    base, ext, query = match.groups()
    if not ext and query:
        found = re.search(r"(?:^|&)format=(\w+)", query)
        ext = found.group(1) if found else None
    return f"{base}?format={ext or 'jpg'}&name=orig"


_AVATAR_SIZE = re.compile(r"_(?:normal|bigger|mini|reasonably_small|\d+x\d+)(?=(?:\.\w+)?$)")


def avatar_orig_url(url: str) -> str:
    """Profile image at original size: drop ``_normal``/``_bigger``/``_200x200``/``_400x400``."""
    return _AVATAR_SIZE.sub("", url, count=1)


_WXH = re.compile(r"/(\d+)x(\d+)/")


def _variants(item: dict) -> list[tuple[str, str, int]]:
    """(content_type, url, bitrate) of a mediaDetails item or of the 2026 top-level `video`."""
    out = []
    for v in _items(_dict(item.get("video_info")).get("variants")) or _items(item.get("variants")):
        url = _str(v.get("url")) or _str(v.get("src"))
        ctype = _str(v.get("content_type")) or _str(v.get("type")) or ""
        if url:
            bitrate = v.get("bitrate")
            out.append((ctype.lower(), url, int(bitrate) if isinstance(bitrate, (int, float)) else 0))
    return out


def _is_mp4(ctype: str, url: str) -> bool:
    return ctype == "video/mp4" or urlsplit(url).path.endswith(".mp4")


def best_mp4(variants: list[tuple[str, str, int]]) -> Optional[str]:
    """Highest bitrate, ties by W×H from the URL; HEVC only when nothing else is mp4 (§5)."""
    mp4s = [v for v in variants if _is_mp4(v[0], v[1])]
    avc = [v for v in mp4s if "/hevc/" not in v[1]] or mp4s

    def rank(v: tuple[str, str, int]) -> tuple[int, int]:
        size = _WXH.search(v[1])
        return v[2], int(size.group(1)) * int(size.group(2)) if size else 0

    return max(avc, key=rank)[1] if avc else None


def _video_items(data: dict) -> list[dict]:
    """mediaDetails videos/GIFs; failing those, the 2026 top-level ``video`` object."""
    items = [m for m in _items(data.get("mediaDetails")) if m.get("type") in ("video", "animated_gif")]
    video = data.get("video")
    if not items and isinstance(video, dict):
        items = [{"type": "video", "variants": video.get("variants"), "media_url_https": video.get("poster")}]
    return items


def all_video_variants(data: dict) -> list[str]:
    """Every mp4 variant URL of every video/GIF, HEVC included, exactly as listed (for replay)."""
    urls: list[str] = []
    for item in _video_items(data) + [_dict(data.get("video"))]:
        for ctype, url, _ in _variants(item):
            if _is_mp4(ctype, url) and url not in urls:
                urls.append(url)
    return urls


def _available(item: dict) -> bool:
    status = _dict(item.get("ext_media_availability")).get("status")
    return not (isinstance(status, str) and status.lower() == "unavailable")


def _card_image(data: dict) -> Optional[str]:
    """The biggest IMAGE binding of the card, preferring ``name=orig`` among equals."""
    best: Optional[tuple[int, int, str]] = None
    for value in _dict(_dict(data.get("card")).get("binding_values")).values():
        image = _dict(_dict(value).get("image_value"))
        url = _str(image.get("url"))
        if not url:
            continue
        w, h = image.get("width"), image.get("height")
        area = w * h if isinstance(w, int) and isinstance(h, int) else 0
        key = (area, int("name=orig" in url), url)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _video_media(item: dict) -> Optional[Media]:
    """The one file to keep for a video/GIF: best mp4, else the HLS playlist."""
    variants = _variants(item)
    mp4 = best_mp4(variants)
    if mp4:
        return Media(url=mp4, kind="gif" if item.get("type") == "animated_gif" else "video")
    hls = next((u for c, u, _ in variants if "mpegurl" in c or urlsplit(u).path.endswith(".m3u8")), None)
    return Media(url=hls, kind="hls") if hls else None


def tweet_media(data: dict) -> list[Media]:
    """Media a Tweet names, deduplicated, ordered photos/videos (as listed), posters, avatar, card.

    Items whose ``ext_media_availability`` is Unavailable are skipped
    (gallery-dl does the same): fetching them would only archive an error.
    """
    main: list[Optional[Media]] = []
    posters: list[Media] = []
    unavailable: set[str] = set()
    details = _items(data.get("mediaDetails"))
    videos = _video_items(data)
    fallback = [v for v in videos if v not in details]  # the 2026 top-level `video` object
    for item in details + fallback:
        url = _str(item.get("media_url_https"))
        if not _available(item):
            if url:
                unavailable.add(photo_orig_url(url))
        elif item.get("type") == "photo":
            main.append(Media(url=photo_orig_url(url), kind="photo") if url else None)
        elif item in videos:
            main.append(_video_media(item))
            if url:
                posters.append(Media(url=url, kind="poster"))
    for photo in _items(data.get("photos")):  # the same photos again, or the only list
        url = _str(photo.get("url"))
        if url and photo_orig_url(url) not in unavailable:
            main.append(Media(url=photo_orig_url(url), kind="photo"))
    tail: list[Optional[Media]] = list(posters)
    avatar = _str(_dict(data.get("user")).get("profile_image_url_https"))
    tail.append(Media(url=avatar_orig_url(avatar), kind="avatar") if avatar else None)
    card = _card_image(data)
    tail.append(Media(url=card, kind="card") if card else None)
    seen: set[str] = set()
    out = []
    for media in main + tail:
        if media is not None and media.url not in seen:
            seen.add(media.url)
            out.append(media)
    return out


def parse_tweet(data: dict) -> ParsedTweet:
    """Read a syndication ``Tweet`` body (or a ``quoted_tweet``) into a :class:`ParsedTweet`."""
    data = _dict(unwrap_tweet(data))
    user = _dict(data.get("user"))
    parent_id = _str(data.get("in_reply_to_status_id_str")) or _str(_dict(data.get("parent")).get("id_str"))
    return ParsedTweet(
        id=str(data.get("id_str") or ""),
        author_handle=_str(user.get("screen_name")),
        author_name=_str(user.get("name")),
        text=tweet_text(data),
        created_at=normalize_created_at(data.get("created_at")),
        quoted_id=_str(_dict(data.get("quoted_tweet")).get("id_str")),
        parent_id=parent_id,
        media=tweet_media(data),
    )


# --- oEmbed -------------------------------------------------------------------


def parse_oembed(data: dict) -> dict[str, Optional[str]]:
    """author_name, author_handle, text and date (as displayed) from an oEmbed answer.

    Used only when syndication gave nothing usable: the blockquote's ``<p>`` is
    the only text oEmbed carries, and the last link's text is the date.
    """
    author_url = _str(data.get("author_url"))
    handle = None
    if author_url:
        handle = urlsplit(author_url).path.strip("/").split("/")[0] or None
    out: dict[str, Optional[str]] = {
        "author_name": _str(data.get("author_name")),
        "author_handle": handle,
        "text": None,
        "date": None,
        "url": _str(data.get("url")),
    }
    markup = _str(data.get("html"))
    if not markup:
        return out
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    quote_el = root.find(".//blockquote")
    if quote_el is None:
        return out
    para = quote_el.find(".//p")
    if para is not None:
        for br in para.iter("br"):
            br.tail = "\n" + (br.tail or "")
        out["text"] = para.text_content().strip()
    links = quote_el.findall("a")  # direct children: the date link follows the <p>
    if links:
        out["date"] = links[-1].text_content().strip() or None
    return out


# --- HLS ----------------------------------------------------------------------

_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def _attrs(line: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _ATTR.findall(line.split(":", 1)[1] if ":" in line else "")}


def hls_media_urls(playlist_text: str, base_url: str) -> list[str]:
    """URLs to fetch next for an m3u8, absolute.

    Master playlist: the variant with the highest BANDWIDTH (ties by
    RESOLUTION), followed by its AUDIO group's rendition playlist, since X's
    newer HLS keeps audio apart. Media playlist: the EXT-X-MAP init segment,
    then every segment.
    """
    lines = [line.strip() for line in playlist_text.splitlines() if line.strip()]
    if any(line.startswith("#EXT-X-STREAM-INF") for line in lines):
        audio: dict[str, str] = {}
        best: Optional[tuple[tuple[int, int], str, Optional[str]]] = None
        pending: Optional[dict[str, str]] = None
        for line in lines:
            if line.startswith("#EXT-X-MEDIA:"):
                a = _attrs(line)
                if a.get("TYPE") == "AUDIO" and a.get("URI"):
                    audio.setdefault(a.get("GROUP-ID", ""), a["URI"])
            elif line.startswith("#EXT-X-STREAM-INF"):
                pending = _attrs(line)
            elif not line.startswith("#") and pending is not None:
                bandwidth = int(pending["BANDWIDTH"]) if pending.get("BANDWIDTH", "").isdigit() else 0
                w, _, h = pending.get("RESOLUTION", "").partition("x")
                rank = (bandwidth, int(w) * int(h) if w.isdigit() and h.isdigit() else 0)
                if best is None or rank > best[0]:
                    best = (rank, line, pending.get("AUDIO"))
                pending = None
        if best is None:
            return []
        urls = [urljoin(base_url, best[1])]
        if best[2] and best[2] in audio:
            urls.append(urljoin(base_url, audio[best[2]]))
        return urls
    urls = []
    for line in lines:
        if line.startswith("#EXT-X-MAP:"):
            uri = _attrs(line).get("URI")
            if uri:
                urls.append(urljoin(base_url, uri))
        elif not line.startswith("#"):
            urls.append(urljoin(base_url, line))
    return urls
