"""Mastodon statuses: detection in a parsed page (top section), capture (bottom section).

Markup and URL forms follow shared/docs/social-embeds.md section 6 "Mastodon".

Post ids (issue #3): `<host>/<status id>`, e.g. `mastodon.social/112233`. A status id is only
meaningful on the instance that issued it (the same toot has another id on every server that
federated it), so the host is part of the id. Hosts are lower-cased.

Which URLs are Mastodon statuses. Any server can run Mastodon, so the host says little, and
`/@user/123` is a common shape elsewhere. The rule:

* embed markup (`iframe.mastodon-embed`, an iframe whose src is `/@user/<id>/embed` or
  `/users/<user>/statuses/<id>/embed`, `blockquote.mastodon-embed` / `data-embed-url`) counts
  on any host, with any numeric id;
* a link or bare URL counts only if its path is exactly `/@<user>/<id>` or
  `/users/<user>/statuses/<id>` (an optional trailing slash, query or fragment), its host is not
  one where that shape means something else (medium.com, youtube.com, tiktok.com, ...), and its
  id is a snowflake of 16 to 19 digits (every status since Mastodon 2.0, Oct 2017), or the host
  is a known instance (a short list, a name containing `mastodon`/`mstdn`, or a host embedded
  by markup on the same page), where older short ids are accepted too.

So `medium.com/@user/123abc`, `example.com/@shop/42`, `tiktok.com/@u/video/<id>`, profiles
(`/@user`), `/@user/<id>/embed` as a plain link's neighbour pages, and share buttons are not posts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, NamedTuple, Optional
from urllib.parse import urlencode

import lxml.html
from lxml import etree

from archiver.models import Embed, Media, Post, RecordRef
from archiver.platforms import scan
from archiver.platforms.base import Detected
from archiver.platforms.common import decide, has_html, iso_utc_ms, route

if TYPE_CHECKING:
    from archiver.extract import Document
    from archiver.fetch import Fetcher

name = "mastodon"
LITERALS = (b"/@", b"/users/", b"status", b"mastodon-embed", b"data-embed-url")

# =============================================================================================
# Detection. Public: name, detect, parse_status_url, canonical_url.
# =============================================================================================

_HOSTNAME = r"(?P<host>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{1,62})"
_USER = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?(?:@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63})?"
_PATH = r"/(?:@(?P<user>" + _USER + r")|users/(?P<user2>[A-Za-z0-9_.-]{1,64})/statuses)/(?P<id>[0-9]{1,19})"
_STATUS_HREF = re.compile(r"https?://" + _HOSTNAME + _PATH + r"/?(?:[?#]|$)", re.A)
_EMBED_SRC = re.compile(r"https?://" + _HOSTNAME + _PATH + r"(?P<embed>/embed)?/?(?:[?#]|$)", re.A)
# In running text the scheme is required: a bare `host/@user/1` is too weak a signal.
_IN_TEXT = re.compile(r"(?<![\w.@/-])https?://" + _HOSTNAME + _PATH + r"/?(?![\w/@.-]*[\w/@])", re.A)

MIN_LINK_ID_DIGITS = 16
# Hosts where /@name/<digits> is not a Mastodon status (or is another platform's post).
_NOT_MASTODON = frozenset({
    "medium.com", "youtube.com", "youtu.be", "tiktok.com", "threads.net", "threads.com", "instagram.com",
    "twitter.com", "x.com", "bsky.app", "substack.com", "github.com", "vimeo.com", "twitch.tv", "soundcloud.com",
    "linkedin.com", "facebook.com", "reddit.com", "t.me", "pinterest.com", "dev.to", "hashnode.com", "flipboard.com",
})
_KNOWN_INSTANCES = frozenset({
    "mastodon.social", "mastodon.online", "mstdn.social", "mas.to", "hachyderm.io", "fosstodon.org",
    "infosec.exchange", "social.coop", "mastodon.world", "masto.ai", "journa.host", "newsie.social",
    "mastodon.art", "techhub.social", "mastodon.cloud", "mstdn.jp", "pawoo.net", "chaos.social",
    "mastodon.green", "sciencemastodon.com", "mastodon.sdf.org", "toot.community", "social.vivaldi.net",
})

_BLOCKQUOTE_PART = "//blockquote[contains(@class, 'mastodon-embed') or @data-embed-url]"
_URL_PARTS = scan.url_parts(
    "//iframe[contains(@src, '/embed') or contains(@data-src, '/embed') or contains(@class, 'mastodon-embed')]",
    "//a/@href[contains(., '/@') or contains(., '/users/')]",
    "/descendant::text()[contains(., '/@') or contains(., '/users/')]",
)
# What a hit starts: a status URL's path (a profile link such as medium.com/@user calls for no tree
# query), or the blockquote's class or attribute.
_SIGNS: scan.Signs = (
    (b"/@", scan.regex_sign(re.compile(rb"(?P<url>/@[A-Za-z0-9_][A-Za-z0-9_.@-]{0,320}/[0-9])"))),
    (b"/users/", scan.regex_sign(re.compile(rb"(?P<url>/users/[A-Za-z0-9_.-]{1,64}/statuses/[0-9])"))),
    (b"mastodon-embed", scan.regex_sign(re.compile(rb"(?P<blockquote>mastodon-embed)"))),
    (b"data-embed-url", scan.regex_sign(re.compile(rb"(?P<blockquote>data-embed-url)"))),
)
_MARKUP_PARTS: scan.MarkupParts = (("blockquote", _BLOCKQUOTE_PART),)
_QUERIES = scan.Queries((b"/@", b"/users/"), _SIGNS, _MARKUP_PARTS, _URL_PARTS)


class StatusRef(NamedTuple):
    host: str
    user: Optional[str]
    status_id: str

    @property
    def post_id(self) -> str:
        return f"{self.host}/{self.status_id}"


def _ref(m: re.Match) -> Optional[StatusRef]:
    host = m.group("host").lower().rstrip(".")
    if _denied(host) or not 0 < int(m.group("id")) < 2**63:
        return None
    return StatusRef(host, m.group("user") or m.group("user2"), m.group("id"))


def _denied(host: str) -> bool:
    return any(host == d or host.endswith("." + d) for d in _NOT_MASTODON)


def _known(host: str, page_hosts: set[str]) -> bool:
    return host in _KNOWN_INSTANCES or host in page_hosts or any(
        word in host for word in ("mastodon", "mstdn", "masto."))


def parse_status_url(url: str, *, embed: bool = False) -> Optional[StatusRef]:
    """(host, user, status id) of a status URL of the exact shapes above, else None.

    `embed=True` also accepts the `/embed` suffix of embed markup. The id-length rule for plain
    links is applied by the detector, which knows the page's instances.

    >>> parse_status_url("https://mastodon.social/@Gargron/112233445566778899").post_id
    'mastodon.social/112233445566778899'
    """
    m = (_EMBED_SRC if embed else _STATUS_HREF).match((url or "").strip())
    return _ref(m) if m else None


def canonical_url(post_id: str, handle: str | None = None) -> str:
    """https://<host>/@<user>/<id>; without a user the web app's /web/statuses/<id> route."""
    host, _, status_id = post_id.partition("/")
    if handle:
        return f"https://{host}/@{handle.lstrip('@')}/{status_id}"
    return f"https://{host}/web/statuses/{status_id}"


def detect(doc: Document, *, exhaustive: bool = False) -> Iterable[Detected]:
    """Every Mastodon status embedded or linked in the article body (chrome excluded).

    `exhaustive=True` runs every tree query whatever the raw markers say (same answer; for tests).
    """
    state = _Scan(doc)
    state.run(_QUERIES.nodes(doc, exhaustive))
    return state.results()


class _Scan(scan.Pass):
    """One pass: embeds are taken as found, plain links wait for the page's instances."""

    def __init__(self, doc: Document):
        super().__init__(doc)
        self.found: list[tuple[Embed, bool]] = []  # (embed, needs the link rule)
        self.instances: set[str] = set()  # hosts embedded by markup on this page

    def results(self) -> list[Detected]:
        out = []
        for embed, is_link in self.found:
            host, _, status_id = embed.id.partition("/")
            if is_link and len(status_id) < MIN_LINK_ID_DIGITS and not _known(host, self.instances):
                continue
            out.append(embed)
        return out

    def post(self, ref: Optional[StatusRef], form: str, context: str, is_link: bool) -> None:
        if ref is None:
            return
        if not is_link:
            self.instances.add(ref.host)
        self.found.append((Embed(platform=name, id=ref.post_id, url=canonical_url(ref.post_id, ref.user),
                                 forms=[form], context=context, author_handle=ref.user), is_link))

    def element(self, el) -> None:
        if self.skip(el):
            return
        if el.tag == "blockquote":
            self.blockquote(el)
            return
        m = _EMBED_SRC.match(scan.frame_src(self.doc, el))
        if m and (m.group("embed") or "mastodon-embed" in (el.get("class") or "")):
            self.post(_ref(m), "iframe", self.doc.context(el), is_link=False)

    def blockquote(self, el) -> None:
        """blockquote.mastodon-embed (Mastodon 4.3+): `data-embed-url`, else its status link."""
        m = _EMBED_SRC.match(self.doc.absolute(el.get("data-embed-url")) or "")
        is_embed = "mastodon-embed" in (el.get("class") or "").split()
        if not m and not is_embed:
            return  # some other widget's data-embed-url
        self.containers.add(el)
        if not m:
            for a in scan.ANCHORS(el):
                m = _EMBED_SRC.match(self.doc.absolute(a.get("href")) or "")
                if m:
                    break
        if m:
            self.post(_ref(m), "blockquote", self.doc.context(el), is_link=False)

    def anchor(self, a) -> None:
        if self.skip(a):
            return
        m = _STATUS_HREF.match(self.doc.absolute(a.get("href")) or "")
        if m:
            self.post(_ref(m), "link", scan.link_context(self.doc, a), is_link=True)

    def text(self, node) -> None:
        el = scan.text_owner(node)
        if el is None or not scan.running_text(el) or self.skip(el):
            return
        for m in _IN_TEXT.finditer(node):
            self.post(_ref(m), "bare-url", self.doc.context(el, m.group()), is_link=True)


# =============================================================================================
# Capture: resolve, snapshot. Every request goes through fetcher.fetch so it is recorded.
# =============================================================================================

_MEDIA_KINDS = {"image": "photo", "gifv": "gif", "video": "video", "audio": "video"}


def api_url(post_id: str) -> str:
    host, _, status_id = post_id.partition("/")
    return f"https://{host}/api/v1/statuses/{status_id}"


def oembed_url(post_id: str, page_url: str) -> str:
    host = post_id.partition("/")[0]
    return f"https://{host}/api/oembed?{urlencode({'url': page_url})}"


def resolve(embed: Embed, fetcher: Fetcher) -> tuple[Embed | None, list[RecordRef]]:
    """Every Mastodon form carries its id: nothing to follow."""
    return (embed if embed.id else None), []


def snapshot(embed: Embed, fetcher: Fetcher) -> Post:
    """The Status JSON, the oEmbed and the status page, all recorded; status from all three.

    The page `/@user/<id>` is rendered by the server (404 for a missing status, like the API),
    so it votes; the user-less `/web/statuses/<id>` is an app shell and is only kept.
    """
    post_id = embed.id
    api_res = fetcher.fetch(api_url(post_id))
    api = route(api_res)
    data = api.data if isinstance(api.data, dict) and api.data.get("id") is not None else None
    account = data.get("account") if data and isinstance(data.get("account"), dict) else {}
    handle = embed.author_handle or account.get("acct")
    page_url = canonical_url(post_id, handle)
    oembed_res = fetcher.fetch(oembed_url(post_id, page_url))
    page_res = fetcher.fetch(page_url)
    oembed = route(oembed_res)
    post = Post(platform=name, id=post_id, url=page_url, author_handle=handle)
    post.records = api_res.records + oembed_res.records + page_res.records
    routes = [("api", api, data is not None and api.status == 200),
              ("oembed", oembed, has_html(oembed))]
    if handle:
        routes.append(("page", route(page_res), False))
    post.status, post.status_reason = decide(routes)
    if data is not None and api.status == 200:
        post.data = data
        _read_status(post, data)
    elif routes[1][2]:
        post.data = {"oembed": oembed.data}
        post.author_name = oembed.data.get("author_name")
    return post


def _read_status(post: Post, data: dict) -> None:
    """Author, plain text, time, media (originals) and relations from a Status entity."""
    host = post.id.partition("/")[0]
    account = data.get("account") if isinstance(data.get("account"), dict) else {}
    post.author_handle = account.get("acct") or post.author_handle
    post.author_name = account.get("display_name") or None
    post.text = plain_text(data.get("content") or "")
    post.created_at = iso_utc_ms(data.get("created_at"))
    if isinstance(data.get("url"), str) and data["url"].startswith(("https://", "http://")):
        post.url = data["url"]
    media: list[Media] = []
    for item in data.get("media_attachments") or []:
        if not isinstance(item, dict):
            continue
        kind = _MEDIA_KINDS.get(item.get("type") or "")
        url = item.get("url") or item.get("remote_url")
        if kind and url:
            media.append(Media(url=url, kind=kind))
        if kind and kind != "photo" and item.get("preview_url"):
            media.append(Media(url=item["preview_url"], kind="poster"))
    card = data.get("card") if isinstance(data.get("card"), dict) else {}
    if card.get("image"):
        media.append(Media(url=card["image"], kind="card"))
    if account.get("avatar"):
        media.append(Media(url=account["avatar"], kind="avatar"))
    post.media = list({m.url: m for m in media}.values())
    if data.get("in_reply_to_id"):
        post.related.append(("reply_to", name, f"{host}/{data['in_reply_to_id']}"))
    quote = data.get("quote") if isinstance(data.get("quote"), dict) else {}
    quoted = quote.get("quoted_status") if isinstance(quote.get("quoted_status"), dict) else {}
    if quoted.get("id"):
        post.related.append(("quotes", name, f"{host}/{quoted['id']}"))


def plain_text(content: str) -> str:
    """Mastodon's `content` HTML as plain text: paragraphs as blank lines, <br> as newlines."""
    if not content.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(content, create_parent="div")
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]+>", "", content).strip()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for p in root.iter("p"):
        p.tail = "\n\n" + (p.tail or "")
    text = root.text_content()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.split("\n"))).strip()

