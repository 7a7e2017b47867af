"""Command line: a thin click layer that builds a Config, calls the library and maps errors to exit codes."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import click

from archiver import __version__
from archiver.config import Config, default_archive_dir, parse_duration, parse_size
from archiver.errors import ArchiverError, ExitStatus, StorageError

log = logging.getLogger("archiver")


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s" if verbose else "%(message)s"))
    root = logging.getLogger("archiver")
    root.handlers[:] = [handler]
    root.setLevel(level)
    # propagation stays on: a host program (or pytest's caplog) may listen on the root logger


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="embed-archiver")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """Preserve social-media posts embedded in news articles as WARC files, with an index.

    Example: archiver capture https://news.example/2019/10/14/story
    """
    _setup_logging(verbose, quiet)


def archive_option(f):
    return click.option(
        "--archive",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Archive folder (default ./archive, or $ARCHIVER_ARCHIVE).",
    )(f)


class _Size(click.ParamType):
    name = "SIZE"

    def convert(self, value, param, ctx):
        try:
            return parse_size(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class _Duration(click.ParamType):
    name = "DURATION"

    def convert(self, value, param, ctx):
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _header(value: str) -> tuple[str, str]:
    name, sep, val = value.partition(":")
    if not sep or not name.strip():
        raise click.BadParameter(f"expected NAME:VALUE, got {value!r}", param_hint="--header")
    return name.strip(), val.strip()


def _warc_prefix(ctx, param, value: Optional[str]) -> Optional[str]:
    """--warc-prefix: a plain file name start, so WARC files land in DIR/warcs/ and nowhere else."""
    from archiver.warc import check_prefix

    try:
        return None if value is None else check_prefix(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _proxy_url(ctx, param, value: Optional[str]) -> Optional[str]:
    """--proxy: scheme://[user:password@]host:port; the password is never echoed back."""
    if value is None:
        return None
    from archiver.fetch import redact

    url = value if "://" in value else "http://" + value  # requests takes host:port as http
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
        ok = parts.scheme in ("http", "https", "socks4", "socks4a", "socks5", "socks5h") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise click.BadParameter(f"not a proxy URL: {redact(url)} (e.g. http://proxy.example:3128)")
    return value


def _valid_url(url: str) -> Optional[str]:
    """Why `url` cannot be captured, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
    except ValueError as exc:
        return f"malformed URL ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    return None


def _refused(url: str, allow_private: bool) -> Optional[str]:
    """Why `url` is refused before any request (a private address, a local name), or None."""
    from archiver.errors import BlockedURL
    from archiver.fetch import check_url

    try:
        check_url(url, allow_private=allow_private)
    except BlockedURL as exc:
        return exc.reason
    return None


# Options shared by the commands that capture (capture, crawl): how to fetch and how to write.
_CAPTURE_OPTIONS = (
    click.option("--proxy", callback=_proxy_url, help="Proxy URL for http and https (default: HTTP(S)_PROXY)."),
    click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False),
                 help="CA certificates (default: REQUESTS_CA_BUNDLE)."),
    click.option("--user-agent", help="User-Agent header (default names the project and a contact URL; "
                 "a crawl matches robots.txt rules on its first word)."),
    click.option("--header", "headers", multiple=True, help="Extra request header NAME:VALUE (repeatable)."),
    click.option("--cookies", type=click.Path(exists=True, dir_okay=False), help="Netscape cookies.txt to send."),
    click.option("--timeout", type=float, default=20.0, show_default=True, help="Connect and read timeout, seconds."),
    click.option("--max-time", type=_Duration(), default="15m", show_default=True, help="Total deadline per exchange."),
    click.option("--max-size", type=_Size(), default="2GB", show_default=True,
                 help="Per resource; larger ones are cut and marked WARC-Truncated."),
    click.option("--warc-max-size", type=_Size(), default="1GB", show_default=True, help="Rotate WARC files at this size."),
    click.option("--warc-prefix", default="archiver", show_default=True, callback=_warc_prefix,
                 help="WARC file name prefix (letters, digits, '.', '_', '-')."),
    click.option("--operator", help="Operator contact for the warcinfo record."),
    click.option("--no-requisites", is_flag=True, help="Do not capture the articles' stylesheets, images and scripts."),
    click.option("--allow-private", is_flag=True, help="Allow private, loopback and link-local addresses."),
    click.option("--record-credentials", is_flag=True, help="Keep Cookie/Authorization headers in WARC request records."),
)


def capture_options(f):
    for option in reversed(_CAPTURE_OPTIONS):
        f = option(f)
    return f


def _capture_config(archive: Optional[Path], *, user_agent, proxy, ca_bundle, headers, cookies, timeout, max_time,
                    max_size, warc_max_size, warc_prefix, operator, no_requisites, allow_private,
                    record_credentials, **extra) -> Config:
    """The Config of a capturing command from `capture_options` plus the command's own settings."""
    return Config(
        archive=archive or default_archive_dir(),
        **({"user_agent": user_agent} if user_agent else {}),
        proxy=proxy, ca_bundle=ca_bundle, headers=tuple(_header(h) for h in headers), cookies_file=cookies,
        timeout=timeout, max_time=max_time, max_size=max_size, warc_max_size=warc_max_size,
        warc_prefix=warc_prefix, operator=operator, requisites=not no_requisites, allow_private=allow_private,
        record_credentials=record_credentials, **extra,
    )


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("-i", "--input", "input_file", type=click.File("r"), help="Read URLs from FILE, one a line ('-' for stdin).")
@archive_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post on stdout.")
@capture_options
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True, help="Extra attempts on transient failures.")
@click.option("--per-host", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Requests in flight per host (a person asked for this page; crawls default to 1).")
def capture(urls, input_file, archive, as_json, retries, per_host, **fetching):
    """Capture articles and every post they cite into WARC files and the index.

    Example: archiver capture https://news.example/2019/10/14/story --json
    """
    from archiver.capture import capture as run_capture

    wanted = list(urls)
    if input_file is not None:
        wanted += [line.strip() for line in input_file if line.strip() and not line.lstrip().startswith("#")]
    if not wanted:
        raise click.UsageError("give at least one URL, or -i FILE")
    good, bad = [], 0
    for url in wanted:
        why = _valid_url(url) or _refused(url, fetching["allow_private"])
        if why:
            click.echo(f"error: {url!r}: {why}", err=True)
            bad += 1
        else:
            good.append(url)
    config = _capture_config(archive, retries=retries, per_host=per_host, **fetching)

    def on_post(post, result):
        if as_json:
            click.echo(json.dumps(_post_json(post, result), ensure_ascii=False))
        else:
            got = sum(1 for m in post.media if m.captured)
            author = f"@{post.author_handle}" if post.author_handle else "-"
            click.echo(f"{post.platform}\t{post.id}\t{author}\t{post.status}\tmedia {got}/{len(post.media)}")

    def on_article(result):
        art = result.article
        if art.error:
            click.echo(f"failed: {art.url}: {art.error}", err=True)
        else:
            click.echo(f"captured {art.url} ({len(result.posts)} posts)", err=True)
        for problem in result.problems:
            click.echo(f"problem: {problem}", err=True)

    summary = None
    if good:
        try:
            summary = run_capture(config, good, on_post=on_post, on_article=on_article)
        except StorageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(ExitStatus.USAGE)
        _print_summary(summary)
    if bad:
        sys.exit(ExitStatus.USAGE)
    sys.exit(ExitStatus.FAILURES if summary and summary.failed else ExitStatus.OK)


def _post_json(post, result) -> dict:
    return {
        "platform": post.platform,
        "id": post.id,
        "url": post.url,
        "status": post.status,
        "status_reason": post.status_reason,
        "author_handle": post.author_handle,
        "author_name": post.author_name,
        "text": post.text,
        "created_at": post.created_at,
        "article": result.article.url,
        "media": [{"url": m.url, "kind": m.kind, "sha256": m.sha256, "captured": m.captured} for m in post.media],
        "records": [{"url": r.url, "warc": r.warc, "offset": r.offset, "length": r.length} for r in post.records],
    }


def _print_summary(summary) -> None:
    arts = len(summary.results)
    failed_arts = sum(1 for r in summary.results if r.article.error)
    counts = summary.counts()
    media = [m for p in summary.posts for m in p.media]
    by_status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
    click.echo(
        f"{arts} article(s) ({failed_arts} failed), {len(summary.posts)} post(s): {by_status}; "
        f"media {sum(1 for m in media if m.captured)}/{len(media)} captured",
        err=True,
    )
    failures = summary.failures()  # e.g. "3 failed: 2 timeout, 1 HTTP 503"
    if failures:
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0])))
        click.echo(f"{sum(failures.values())} failed: {kinds}", err=True)


@cli.command()
@archive_option
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("--changed-since", metavar="DATE",
              help="Only posts whose status was first recorded or changed at or after this ISO 8601 date "
                   "(a recheck that found the same status does not count).")
def export(archive, fmt, changed_since):
    """Print one row per post held in the archive (JSON lines or CSV) to stdout.

    Example: archiver export --format csv > posts.csv
    """
    from archiver.export import export_csv, export_jsonl
    from archiver.index import Index, timestamp

    if changed_since is not None:
        try:
            timestamp(changed_since)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--changed-since") from None
    config = Config(archive=archive or default_archive_dir())
    if not config.index_path.exists():
        raise click.ClickException(f"no archive index at {config.index_path}")
    with Index(config.index_path) as index:
        writer = export_jsonl if fmt == "jsonl" else export_csv
        filters = {"status_changed_since": changed_since} if changed_since else {}
        writer(index, sys.stdout, **filters)


@cli.command()
@click.argument("sources", nargs=-1)
@click.option("--base-url", help="Resolve relative links in files and stdin against this URL.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@click.option("--proxy", callback=_proxy_url, help="Proxy for URL sources (default: HTTP(S)_PROXY).")
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="CA certificates for URL sources.")
@click.option("--user-agent", help="User-Agent for URL sources.")
@click.option("--timeout", type=float, default=20.0, show_default=True, help="Connect and read timeout, seconds.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0,
              help="Processes reading files in parallel (default 0: one per core). Output order is kept.")
def extract(sources, base_url, fmt, proxy, ca_bundle, user_agent, timeout, jobs):
    """List the posts found in pages, capturing nothing: files, folders, '-' (stdin) or URLs.

    One JSON line per post: source, platform, id, url, forms, context. Exit 0 when every
    input was read, whatever it held; 1 when one could not be read.

    Example: archiver extract saved-pages/ https://news.example/story --format table
    """
    from archiver.pages import default_jobs, embed_row, expand_sources, extract_pages, is_url

    sources = list(sources) or ["-"]
    fetcher = None
    if any(is_url(s) for s in sources):
        from archiver.fetch import Fetcher  # HTTP only when a source needs it: files start faster

        config = Config(**({"user_agent": user_agent} if user_agent else {}), proxy=proxy, ca_bundle=ca_bundle,
                        timeout=timeout, retries=2)
        fetcher = Fetcher(config, None)
    unread = 0
    for result in extract_pages(expand_sources(sources), base_url=base_url, fetcher=fetcher,
                                jobs=jobs or default_jobs()):
        if result.error:
            unread += 1
            click.echo(f"error: {result.source}: {result.error}", err=True)
            continue
        for embed in result.embeds:
            row = embed_row(result.source, embed)
            if fmt == "jsonl":
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(f"{result.source}\t{row['platform']}\t{row['id'] or '-'}\t{','.join(row['forms'])}\t{row['url']}")
    sys.exit(ExitStatus.FAILURES if unread else ExitStatus.OK)


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@archive_option
@click.option("--article", "articles", multiple=True, metavar="URL",
              help="Package only this article, its requisites and its posts (repeatable).")
@click.option("--title", help="Package title (default: the article's title, or a count).")
def package(out, archive, articles, title):
    """Write a WACZ 1.1.1 file (for ReplayWeb.page or pywb) and check it; exit 1 if a check fails.

    Example: archiver package story.wacz --article https://news.example/2019/10/14/story
    """
    from archiver.package import check_wacz, write_wacz

    config = Config(archive=archive or default_archive_dir())
    try:
        result = write_wacz(config.archive, out, articles=articles, title=title)
    except ArchiverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE)
    problems = check_wacz(out)
    for problem in problems:
        click.echo(f"check failed: {problem}", err=True)
    click.echo(f"wrote {out}: {len(result.pages)} page(s), {len(result.warcs)} WARC file(s)", err=True)
    sys.exit(ExitStatus.FAILURES if problems else ExitStatus.OK)


@cli.command()
@archive_option
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback lets the network read the archive.")
def replay(archive, port, host):
    """Serve the archive with pywb and print the URLs of its articles and post pages; Ctrl-C stops.

    Example: archiver replay --port 8080
    """
    from archiver.errors import UsageError
    from archiver.replay import is_loopback, serve

    archive_dir = archive or default_archive_dir()
    exposed = not is_loopback(host)

    def on_ready(server):
        targets = server.targets()
        click.echo(f"pywb serves {archive_dir} at {server.base_url}/ ({len(targets)} page(s), ready in "
                   f"{server.startup_seconds:.1f} s); Ctrl-C stops", err=True)
        if exposed:
            click.echo(f"WARNING: listening on {host}:{server.port}, NOT only on this machine: anyone who can "
                       "reach it can read the whole archive", err=True)
        for target in targets:
            click.echo(f"{target.replay_url}\t{target.label}")

    try:
        code = serve(archive_dir, host, port, on_ready=on_ready)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        return
    except ArchiverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE if isinstance(exc, UsageError) else ExitStatus.FAILURES)
    if code:
        click.echo(f"error: pywb exited with code {code} (see {archive_dir}/replay/pywb.log)", err=True)
        sys.exit(ExitStatus.FAILURES)


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@archive_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per problem or note on stdout.")
def verify(files, archive, as_json):
    """Re-read the archive's WARC files (or only FILES) and its index; report every mismatch.

    Checks each closed file's sha256, every gzip member's CRC, every record's digests, every
    index offset and media sha256. One `FILE:OFFSET: problem` line per problem on stdout, notes
    and a summary on stderr; exit 0 when all is sound, 1 when anything is wrong.

    Example: archiver verify --archive ./archive
    """
    from archiver.verify import verify_archive

    def show(finding):
        if as_json:
            click.echo(json.dumps(finding.as_dict(), ensure_ascii=False))
        else:
            click.echo(str(finding), err=finding.level == "note")

    try:
        report = verify_archive(archive or default_archive_dir(), list(files) or None, on_finding=show)
    except ArchiverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE)
    click.echo(report.summary(), err=True)
    sys.exit(ExitStatus.OK if report.ok else ExitStatus.FAILURES)


# -- searching and inspecting (issue #4) --------------------------------------------------------

from archiver.models import STATUSES  # noqa: E402


def _open_existing_index(archive: Optional[Path]):
    """The archive's Index, or exit 2: reading commands must not create an empty archive."""
    from archiver.index import Index

    config = Config(archive=archive or default_archive_dir())
    if not config.index_path.exists():
        click.echo(f"error: no archive index at {config.index_path} (see --archive)", err=True)
        sys.exit(ExitStatus.USAGE)
    try:
        return Index(config.index_path)
    except StorageError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE)


def _since(ctx, param, value: Optional[str]) -> Optional[str]:
    from archiver.index import timestamp

    if value is None:
        return None
    try:
        timestamp(value)
    except ValueError as exc:
        raise click.BadParameter(f"{exc} (e.g. 2019-10-14 or 2019-10-14T18:00:00+03:00)") from None
    return value


@cli.command("search")
@click.argument("text")
@archive_option
@click.option("--author", metavar="HANDLE", help="Only posts by this handle (any case, @ optional).")
@click.option("--status", type=click.Choice(STATUSES), help="Only posts whose current status is this.")
@click.option("--platform", help="Only posts from this platform (twitter; x is the same).")
@click.option("--since", metavar="DATE", callback=_since,
              help="Only posts created at or after this ISO 8601 date or time (UTC unless it has an offset).")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="At most N posts (0: all).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post, with the fields of `archiver export`.")
def search_cmd(text, archive, author, status, platform, since, limit, as_json):
    """Full-text search over the text and authors of archived posts, best match first.

    Words match whole and in any order, ignoring case and Latin accents; "a phrase" matches in
    order; word* is a prefix; AND, OR, NOT (uppercase) combine terms. Other punctuation is taken
    literally. An empty TEXT ('') lists the posts passing the filters, newest first.

    Example: archiver search '"prison break" Hasakah' --since 2019-10-01 --status deleted
    """
    from archiver.export import EXPORT_FIELDS
    from archiver.search import format_hit

    with _open_existing_index(archive) as index:
        try:
            hits = index.search(text, author=author, status=status, platform=platform, since=since,
                                limit=None if limit == 0 else limit)
        except StorageError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(ExitStatus.USAGE)
    for hit in hits:
        if as_json:
            click.echo(json.dumps({k: hit[k] for k in EXPORT_FIELDS}, ensure_ascii=False))
        else:
            click.echo(format_hit(hit))
    more = f" (the first {limit}; --limit 0 for all)" if limit and len(hits) == limit else ""
    click.echo(f"{len(hits)} post(s){more}", err=True)


@cli.command("show")
@click.argument("post", metavar="PLATFORM:ID")
@archive_option
@click.option("--json", "as_json", is_flag=True, help="Everything as one JSON object.")
def show_cmd(post, archive, as_json):
    """Everything the archive knows about one post: its data, status history, the articles
    citing it, its media with digests, and where each of its WARC records is.

    PLATFORM:ID is e.g. twitter:1763178225473523712 (a tweet URL works too). Exit 1 when the
    archive does not hold the post.

    Example: archiver show twitter:1763178225473523712 --json
    """
    from archiver.search import format_post, parse_post_ref

    try:
        platform, post_id = parse_post_ref(post)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="PLATFORM:ID") from None
    with _open_existing_index(archive) as index:
        found = index.post(platform, post_id)
        where = index.path
    if found is None:
        click.echo(f"no post {platform}:{post_id} in {where}", err=True)
        sys.exit(ExitStatus.FAILURES)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        click.echo(format_post(found))


# -- watching posts over time (issue #5) ----------------------------------------------------------


@cli.command("recheck")
@click.argument("posts", nargs=-1, metavar="[PLATFORM:ID]...")
@archive_option
@click.option("--older-than", type=_Duration(), metavar="DURATION",
              help="Only posts last checked longer ago than this (30s, 15m, 1h, 7d).")
@click.option("--before", metavar="DATE", callback=_since, help="Only posts last checked before this ISO 8601 date.")
@click.option("--platform", help="Only posts from this platform (twitter; x is the same).")
@click.option("--status", type=click.Choice(STATUSES), help="Only posts whose current status is this.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post checked on stdout.")
@click.option("--proxy", callback=_proxy_url, help="Proxy URL for http and https (default: HTTP(S)_PROXY).")
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), help="CA certificates (default: REQUESTS_CA_BUNDLE).")
@click.option("--user-agent", help="User-Agent header (default names the project and a contact URL).")
@click.option("--timeout", type=float, default=20.0, show_default=True, help="Connect and read timeout, seconds.")
@click.option("--retries", type=click.IntRange(0, 10), default=3, show_default=True, help="Extra attempts on transient failures.")
@click.option("--allow-private", is_flag=True, help="Allow private, loopback and link-local addresses.")
def recheck_cmd(posts, archive, older_than, before, platform, status, as_json, proxy, ca_bundle, user_agent,
                timeout, retries, allow_private):
    """Ask again whether the posts the archive holds are still online, and record what changed.

    Takes every post, or those matching the filters or named as PLATFORM:ID. Each answer goes
    into the WARC files like a capture's (identical ones as revisits). One line per post whose
    status changed on stdout: platform, id, @author, OLD → NEW, when it was last seen OLD, when
    it was checked now. A summary goes to stderr. A check that gets no answer keeps the known
    status and makes the exit code 1.

    Example: archiver recheck --older-than 7d
    """
    from archiver.errors import UsageError
    from archiver.recheck import recheck as run_recheck
    from archiver.search import parse_post_ref

    keys = []
    for arg in posts:
        try:
            keys.append(parse_post_ref(arg))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="PLATFORM:ID") from None
    config = Config(
        archive=archive or default_archive_dir(),
        **({"user_agent": user_agent} if user_agent else {}),
        proxy=proxy, ca_bundle=ca_bundle, timeout=timeout, retries=retries, allow_private=allow_private,
    )
    if not config.index_path.exists():
        click.echo(f"error: no archive index at {config.index_path} (see --archive)", err=True)
        sys.exit(ExitStatus.USAGE)

    def on_check(check):
        if as_json:
            click.echo(json.dumps(check.as_dict(), ensure_ascii=False))
        elif check.changed:
            author = f"@{check.author_handle}" if check.author_handle else "-"
            click.echo(f"{check.platform}\t{check.id}\t{author}\t{check.old_status} \u2192 {check.status}"
                       f"\t{check.last_seen}\t{check.checked_at}")
        if check.failed:
            click.echo(f"failed: {check.platform}:{check.id}: {check.reason} (kept {check.status}, "
                       f"last seen so {check.last_seen})", err=True)

    try:
        summary = run_recheck(config, older_than=older_than, before=before, platform=platform, status=status,
                              posts=keys, on_check=on_check)
    except (UsageError, StorageError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE)
    for platform_name, post_id, why in summary.skipped:
        click.echo(f"skipped: {platform_name}:{post_id}: {why}", err=True)
    if not summary.selected:
        why = ("every matching post was checked more recently" if older_than is not None or before is not None
               else "no post matches")
        click.echo(f"nothing to recheck: {why}", err=True)
        sys.exit(ExitStatus.OK)
    failed = sum(1 for c in summary.checks if c.failed)
    found = ", ".join(f"{n} {s}" for s, n in sorted(summary.counts().items())) or "none"
    click.echo(f"rechecked {len(summary.checks)} post(s): {len(summary.changed)} changed, "
               f"{len(summary.checks) - len(summary.changed) - failed} unchanged, {failed} failed"
               f"{' (status kept)' if failed else ''}; found {found}", err=True)
    sys.exit(ExitStatus.FAILURES if summary.failed else ExitStatus.OK)


# --- crawl and status (issue #5) ------------------------------------------------------------------


@cli.command()
@click.argument("seeds_file", metavar="SEEDS", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@archive_option
@click.option("--every", type=_Duration(), help="Keep running: start a pass every DURATION (30m, 1h, 7d).")
@click.option("--passes", type=click.IntRange(1), help="With --every: stop after N passes.")
@click.option("--since", metavar="DATE", help="Only feed and sitemap entries dated at or after DATE "
              "(ISO 8601, or a duration meaning that long ago: 7d); undated entries are kept.")
@click.option("--depth", type=click.IntRange(0, 20), default=0, show_default=True,
              help="Follow links in articles N levels deep, within scope.")
@click.option("--include", multiple=True, metavar="REGEX",
              help="Queue listed and linked URLs only if they match (repeatable; default: links on the same site).")
@click.option("--exclude", multiple=True, metavar="REGEX", help="Never queue URLs that match (repeatable).")
@click.option("--ignore-robots", is_flag=True, help="Do not fetch or obey robots.txt (the decision is still recorded).")
@click.option("--per-host", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Requests in flight per host (media CDN hosts take at least 4).")
@click.option("--delay", type=_Duration(), default="0s", show_default=True,
              help="Minimum gap between request starts on one host (robots.txt Crawl-delay raises it).")
@click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Articles captured at once, on different hosts.")
@click.option("--recapture-after", type=_Duration(), help="Capture an article again once this old (default: never).")
@click.option("--max-attempts", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Give a URL up after this many transient failures.")
@click.option("--retry-wait", type=_Duration(), default="5m", show_default=True,
              help="Wait before retrying a transient failure, doubled each attempt.")
@click.option("--json", "as_json", is_flag=True, help="Each pass's summary as a JSON line on stdout.")
@capture_options
@click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True,
              help="Quick extra attempts inside one fetch (seconds apart); longer waits go to the frontier.")
def crawl(seeds_file, archive, every, passes, since, depth, include, exclude, ignore_robots, per_host, delay,
          workers, recapture_after, max_attempts, retry_wait, as_json, retries, **fetching):
    """Crawl the articles that SEEDS lists, politely, resumably, into the archive.

    SEEDS is a file of article URLs, RSS/Atom feeds and XML sitemaps (sitemap indexes and news
    sitemaps too), one per line, '#' comments allowed; each is recognised by its content. Every
    article goes through the same capture as `archiver capture`. The queue lives in the archive's
    index: an interrupted crawl (Ctrl-C, kill, power loss) resumes where it stopped when run again.

    Exit 0 when everything reached a final state, 1 when something is worth another run
    (queued for retry, given up, a post `failed`, interrupted), 2 for unusable input.

    Example: archiver crawl seeds.txt --archive /data/archive --every 1h
    """
    import os
    import signal
    import threading

    from archiver.crawl import CrawlOptions, crawl as run_crawl, since_timestamp
    from archiver.progress import Progress, summary_lines

    try:
        since_iso = since_timestamp(since) if since else None
    except ArchiverError as exc:
        raise click.BadParameter(str(exc), param_hint="--since")
    if passes is not None and every is None:
        raise click.UsageError("--passes needs --every")
    config = _capture_config(archive, retries=retries, retry_after_max=10.0, per_host=per_host, delay=delay,
                             **fetching)
    options = CrawlOptions(
        seeds_file=str(seeds_file), since=since_iso, depth=depth, include=tuple(include), exclude=tuple(exclude),
        ignore_robots=ignore_robots, workers=workers, recapture_after=recapture_after, every=every, passes=passes,
        max_attempts=max_attempts, retry_wait=retry_wait,
    )
    progress = Progress(sys.stderr)
    root = logging.getLogger("archiver")
    if progress.tty:  # log lines print above the status line; per-article lines only with -v
        root.handlers[:] = [progress.handler()]
        if not click.get_current_context().find_root().params.get("verbose") and root.level < logging.WARNING:
            root.setLevel(logging.WARNING)
    stop = threading.Event()

    def on_signal(signum, _frame):
        if stop.is_set():
            os._exit(ExitStatus.FAILURES)  # asked twice: go now; the next run takes over
        stop.set()
        progress.line("stopping after the articles in progress (Ctrl-C again to quit now)")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def on_summary(summary):
        for line in summary_lines(summary):
            progress.line(line)
        if as_json:
            click.echo(json.dumps(summary, ensure_ascii=False))

    try:
        result = run_crawl(config, options, progress=progress, stop=stop, on_summary=on_summary)
    except ArchiverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE)
    if result.fatal is not None:
        click.echo(f"error: {result.fatal}", err=True)
    sys.exit(result.exit_code)


@cli.command()
@archive_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def status(archive, as_json):
    """What the archive's crawl has queued, done, failed and blocked, and how its last run went.

    Example: archiver status --archive /data/archive --json
    """
    from archiver.crawl import crawl_status
    from archiver.progress import status_lines

    try:
        report = crawl_status(archive or default_archive_dir())
    except ArchiverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        for line in status_lines(report):
            click.echo(line)


# --- importing other tools' WARCs, rebuilding the index (issue #6) ---------------------------------


def _show_finding(finding) -> None:
    click.echo(str(finding), err=True)


@cli.command("import")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@archive_option
@click.option("--queue-posts", is_flag=True,
              help="Record each 200 HTML page as an article and queue the posts it cites for capture.")
def import_cmd(files, archive, queue_posts):
    """Copy WARC or ARC files written by other tools into the archive and index their records.

    FILES are .warc, .warc.gz, .arc or .arc.gz (also .open), from wget, Heritrix, warcprox,
    browsertrix, pywb... Problems (`FILE:OFFSET: what`) and a summary go to stderr; with
    --queue-posts, one line per cited post on stdout: platform, id, status, URL, citing page.
    Exit 0 when every file read clean, 1 when problems were reported (the readable records
    were still imported), 2 for unusable input.

    Example: archiver import crawl.warc.gz old.arc.gz --queue-posts && archiver recheck --status failed
    """
    from archiver.importer import import_files

    shown: set[tuple[str, str]] = set()

    def on_file(result):
        click.echo(result.summary(), err=True)
        for post in result.posts:
            if (post["platform"], post["id"]) not in shown:
                shown.add((post["platform"], post["id"]))
                status = "queued" if post["queued"] else post["status"]
                click.echo(f"{post['platform']}\t{post['id']}\t{status}\t{post['url']}\t{post['article']}")

    try:
        report = import_files(archive or default_archive_dir(), list(files), queue_posts=queue_posts,
                              on_finding=_show_finding, on_file=on_file)
    except ArchiverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE)
    click.echo(report.summary(), err=True)
    sys.exit(ExitStatus.OK if report.ok else ExitStatus.FAILURES)


@cli.command("reindex")
@archive_option
def reindex_cmd(archive):
    """Rebuild the index's records and warc_files tables from the archive's WARC and ARC files.

    Articles, posts, citations, media and history stay (they live only in the index); records
    keep their links to them. Problems (`FILE:OFFSET: what`) and a summary go to stderr. Exit 0
    when every file read clean, 1 when problems were reported, 2 when there is no archive.

    Example: archiver reindex --archive ./archive
    """
    from archiver.importer import reindex

    try:
        report = reindex(archive or default_archive_dir(), on_finding=_show_finding)
    except ArchiverError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(ExitStatus.USAGE)
    click.echo(report.summary(), err=True)
    sys.exit(ExitStatus.OK if report.ok else ExitStatus.FAILURES)
