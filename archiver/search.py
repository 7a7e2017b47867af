"""Turning what a person types into a safe FTS5 query, and printing search and show results.

The SQL lives in `Index.search` / `Index.post`; this module holds the parts that are about
people: query text and terminal output.

Query rules (`archiver search TEXT`, README "Searching and inspecting"):

* Words are matched whole, case- and (Latin) accent-insensitively, all of them (implicit AND):
  `859 people` finds posts holding both words, anywhere.
* `"a phrase"` matches the words in that order; `word*` matches a prefix; uppercase `AND`, `OR`,
  `NOT` between terms are operators (`NOT` excludes: `storm NOT surge`).
* Everything else is literal: each word is wrapped in an FTS5 string, so punctuation never
  reaches the FTS5 parser (`co-chair`, `@RojavaIC`, `U.S.`, `50%`, a stray `"`). Punctuation
  then separates words as it does in the index: `co-chair` is the phrase "co chair",
  `@RojavaIC` the word rojavaic (which matches the handle and mentions alike).
* Text using FTS5-only syntax (`NEAR(a b, 5)`, column filters such as `author_name: smith`,
  `^initial`, parentheses with operators) is handed to FTS5 as written; if FTS5 rejects it, the
  words are searched as above instead, without the column names and `NEAR` (a note is logged).
"""

from __future__ import annotations

import re
from typing import Any, Optional

OPERATORS = frozenset({"AND", "OR", "NOT"})
FTS_COLUMNS = ("text", "author_handle", "author_name")

# Syntax the lenient translation does not reproduce; only then is raw FTS5 worth a try.
_FTS_ONLY = re.compile(
    r"\bNEAR\s*\("
    r"|(?:^|[\s(])-?(?:\{[^}]*\}|" + "|".join(FTS_COLUMNS) + r")\s*:"
    r"|(?:^|[\s(])\^\S"
    r"|\(.*\b(?:AND|OR|NOT)\b.*\)",
)
# FTS5-only syntax that is dropped, not searched for, when FTS5 rejected the query it was in.
_FTS_DECORATION = re.compile(
    r"\bNEAR\s*\(|(?:^|(?<=[\s(]))-?(?:\{[^}]*\}|" + "|".join(FTS_COLUMNS) + r")\s*:"
)
_PLATFORM = re.compile(r"[a-z][a-z0-9_.-]*")
_POST_ID = re.compile(r"[^\s/:?#]+")


def _searchable(term: str) -> bool:
    """Whether `term` holds a token character (letter or digit), i.e. is more than punctuation.
    Punctuation-only terms would be empty FTS5 strings, which match nothing."""
    return any(ch.isalnum() for ch in term)


def _fts_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def plain_query(text: str) -> Optional[str]:
    """The lenient translation of `text` into FTS5 (rules in the module docstring), or None when
    it holds nothing searchable. The result is always valid FTS5: every term is a string."""
    text = text.replace("\x00", " ")  # FTS5 reads the query as a C string: NUL would end it
    # `author_name:` or `NEAR(` only get here from text FTS5 rejected (see fts_candidates):
    # the words they qualified are still wanted, the syntax words themselves are not.
    text = _FTS_DECORATION.sub(" ", text)
    items: list[tuple[str, str]] = []  # ("term", fts) or ("op", AND/OR/NOT)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == '"':
            end = text.find('"', i + 1)
            if end == -1:  # a stray quote is punctuation
                i += 1
                continue
            phrase, i = text[i + 1:end], end + 1
            star = i < n and text[i] == "*"
            i += star
            if _searchable(phrase):
                items.append(("term", _fts_string(phrase) + ("*" if star else "")))
            continue
        end = i
        while end < n and not text[end].isspace() and text[end] != '"':
            end += 1
        word, i = text[i:end], end
        if word in OPERATORS:
            items.append(("op", word))
            continue
        star = word.endswith("*")
        word = word.rstrip("*")
        if _searchable(word):
            items.append(("term", _fts_string(word) + ("*" if star else "")))
    out: list[str] = []
    for k, (kind, value) in enumerate(items):
        if kind == "op":
            between_terms = out and out[-1] not in OPERATORS and k + 1 < len(items) and items[k + 1][0] == "term"
            # A dangling or doubled operator is a word someone is looking for (Portland OR).
            out.append(value if between_terms else _fts_string(value))
        else:
            out.append(value)
    return " ".join(out) or None


def fts_candidates(text: str) -> list[str]:
    """FTS5 queries to try in order: `text` as written when it uses FTS5-only syntax, then the
    lenient translation. Empty when nothing in `text` can match."""
    text = text.replace("\x00", " ")
    lenient = plain_query(text)
    if lenient is None:  # not a letter or digit in it: no FTS5 query could match either
        return []
    return [text, lenient] if _FTS_ONLY.search(text) and text != lenient else [lenient]


def parse_post_ref(arg: str) -> tuple[str, str]:
    """`PLATFORM:ID` (`twitter:1763178225473523712`, `x:...`), or a tweet URL, as (platform, id).

    Raises ValueError with a message fit for a user when `arg` is neither.
    """
    value = arg.strip()
    if value.lower().startswith(("http://", "https://")) or "/status" in value:
        from archiver.platforms.twitter import parse_status_url

        parsed = parse_status_url(value)
        if parsed is None:
            raise ValueError(f"not a post URL this archiver knows: {arg!r}; give PLATFORM:ID")
        return "twitter", parsed[1]
    platform, sep, post_id = value.partition(":")
    platform = platform.strip().lower()
    post_id = post_id.strip()
    if not sep or not _PLATFORM.fullmatch(platform) or not _POST_ID.fullmatch(post_id):
        raise ValueError(f"expected PLATFORM:ID (e.g. twitter:1763178225473523712), got {arg!r}")
    return platform, post_id


# -- terminal output --------------------------------------------------------------------------

def _one_line(text: Optional[str]) -> str:
    return " ".join((text or "").split())


def format_hit(row: dict[str, Any]) -> str:
    """One tab-separated line: platform, id, @author, status, created_at, snippet."""
    author = f"@{row['author_handle']}" if row.get("author_handle") else "-"
    snippet = row.get("snippet")
    if snippet is None:  # no text query (filters only): the start of the text
        snippet = _one_line(row.get("text"))
        snippet = snippet if len(snippet) <= 120 else snippet[:119] + "…"
    return "\t".join([row["platform"], row["id"], author, row["status"], row.get("created_at") or "-",
                      _one_line(snippet) or "-"])


def format_post(post: dict[str, Any]) -> str:
    """`archiver show` output: the post, then its history, citing articles, media and records."""
    lines: list[str] = []
    add = lines.append
    author = " ".join(filter(None, [post.get("author_name"), f"(@{post['author_handle']})" if post.get("author_handle") else None]))
    add(f"{post['platform']}:{post['id']}  {post['url']}")
    add(f"author:          {author or '-'}")
    add(f"created:         {post.get('created_at') or '-'}")
    status = post["status"] + (f" ({post['status_reason']})" if post.get("status_reason") else "")
    add(f"status:          {status}")
    add(f"first captured:  {post['first_captured']}")
    add(f"last checked:    {post['last_checked']}")
    add(f"last changed:    {post['changed_at']}")
    if post.get("text") is not None:
        add("")
        lines.extend("    " + line for line in post["text"].splitlines() or [""])
    add("")
    add(f"status history ({len(post['status_history'])}):")
    for h in post["status_history"]:
        add(f"  {h['checked_at']}  {h['status']}" + (f"  {h['reason']}" if h.get("reason") else ""))
    add(f"cited by ({len(post['articles'])}):")
    for a in post["articles"]:
        title = f"  {a['title']!r}" if a.get("title") else ""
        add(f"  {a['url']}{title}  [{', '.join(a.get('forms') or [])}]  first seen {a['first_seen']}")
        if a.get("context"):
            add(f"      \"{_one_line(a['context'])}\"")
    for key, label in (("related", "related"), ("related_by", "related by")):
        if post.get(key):
            add(f"{label} ({len(post[key])}):")
            for r in post[key]:
                add(f"  {r['relation']}  {r['platform']}:{r['id']}  {r.get('url') or '-'}"
                    + (f"  {r['status']}" if r.get("status") else ""))
    add(f"media ({len(post['media'])}):")
    for m in post["media"]:
        state = "captured" if m["captured"] else "not captured"
        digest = f"sha256:{m['sha256']}" if m.get("sha256") else "-"
        size = f"{m['size']} bytes" if m.get("size") is not None else ""
        add(f"  {m['kind']:<9} {state:<12}  {digest}  {size}".rstrip())
        add(f"            {m['url']}" + (f"  ({m['error']})" if m.get("error") else ""))
    add(f"WARC records ({len(post['records'])}):")
    for r in post["records"]:
        status = r.get("http_status") if r.get("http_status") is not None else "-"
        add(f"  {r['warc']}  offset {r['offset']}  length {r['length']}  {r['record_type']} {status}"
            f"  {r['date']}")
        add(f"      {r['url']}" + (f"  (truncated: {r['truncated']})" if r.get("truncated") else ""))
    return "\n".join(lines)
