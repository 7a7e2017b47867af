"""WACZ 1.1.1 packages of the archive, and the project's own (stricter) checks of a WACZ file.

A WACZ is what ReplayWeb.page opens from a single file or URL, and what pywb imports with
`wb-manager add --unpack-wacz`. We write it ourselves with `zipfile` + `cdxj_indexer` instead of
driving py-wacz's argparse `create`: we already know our pages (py-wacz's `--detect-pages` finds
none in a requests-made capture, docs/warc-and-replay.md §2.2), we control the ZIP method of
every entry (WARCs and `*.cdx.gz` must be STORED for HTTP range reads, which `wacz validate` does
not check, §2.3), and we can package a subset of the archive.

Layout: `archive/*.warc.gz` (STORED), `indexes/index.cdx.gz` (STORED: gzip blocks of sorted
CDXJ with SURT keys) + `indexes/index.idx` (one line per block), `pages/pages.jsonl` (each article,
and each post page as a page of its own), `datapackage.json` (sha256 and size of every other
entry) and `datapackage-digest.json`. Not a plain `index.cdxj`: pywb's `--unpack-wacz` ignores it.

With `articles`, only those articles, their requisites and their posts (the posts' records and
post pages included) are packaged, in one fresh WARC whose gzip members are copied byte for byte
from the source WARCs (offsets and lengths come from the index). It starts with a warcinfo of its
own, then the source files' warcinfo records (so copied `WARC-Warcinfo-ID`s still resolve); each
response brings its request record (`WARC-Concurrent-To`), each revisit the record it refers to.
Without `articles`, the archive's closed WARC files are packaged as they are.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterable, Optional, Sequence

from archiver import __version__
from archiver.errors import StorageError, UsageError
from archiver.index import Index
from archiver.models import Post, RecordRef
from archiver.postpage import post_page_title, post_page_url
from archiver.warc import CONFORMS_TO, OPEN_SUFFIX, WARC_FIELDS, record_digest, warc_date

__all__ = ["WACZ_VERSION", "PackageResult", "write_wacz", "check_wacz"]

log = logging.getLogger(__name__)

WACZ_VERSION = "1.1.1"
SOFTWARE = f"embed-archiver/{__version__}"
PAGES_PATH = "pages/pages.jsonl"
CDX_PATH, IDX_PATH = "indexes/index.cdx.gz", "indexes/index.idx"
_CHUNK = 1 << 20
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@dataclass
class PackageResult:
    """What `write_wacz` wrote: the file, its pages (as in pages.jsonl) and the WARC entries."""

    path: Path
    pages: list[dict] = field(default_factory=list)
    warcs: list[str] = field(default_factory=list)
    records: int = 0  # records copied into a fresh WARC (0 when whole files were packaged)


# --- selection -------------------------------------------------------------------------------


def _chosen_articles(index: Index, urls: Sequence[str]) -> list[dict]:
    """The articles named by URL (as asked for or as finally fetched), in that order; every one if none."""
    rows = index.articles()
    if not urls:
        return rows
    chosen = []
    for url in dict.fromkeys(urls):
        row = next((r for r in rows if url in (r["url"], r["final_url"])), None)
        if row is None:
            raise UsageError(f"no article {url} in the archive index")
        if row not in chosen:
            chosen.append(row)
    return chosen


def _rfc3339(warc_date_value: str) -> str:
    """A WARC-Date to the second, the precision of CDXJ timestamps."""
    return warc_date_value[:19] + "Z"


def _page(url: str, ref: RecordRef, title: str) -> dict:
    ts = _rfc3339(ref.date)
    return {"id": hashlib.sha1(f"{ts} {url}".encode()).hexdigest()[:24], "url": url, "ts": ts, "title": title}


def _article_page(article: dict, refs: list[RecordRef]) -> Optional[tuple[dict, RecordRef]]:
    """The article's latest 200 response (or revisit) at its final URL, as a page."""
    urls = [u for u in (article["final_url"], article["url"]) if u]
    hits = [r for r in refs if r.record_type in ("response", "revisit") and r.url in urls]
    best = [r for r in hits if r.http_status == 200] or hits
    if not best:
        return None
    ref = max(best, key=lambda r: (r.url == urls[0], r.date))
    return _page(ref.url, ref, article["title"] or article["url"]), ref


def _post_page(index: Index, key: tuple[str, str]) -> tuple[Optional[tuple[dict, RecordRef]], list[RecordRef]]:
    """(page of the post's latest post page record, or None; every record of the post)."""
    info = index.post(*key)
    if info is None:
        return None, []
    refs = [RecordRef(**r) for r in info["records"]]
    url = post_page_url(*key)
    pages = [r for r in refs if r.record_type == "resource" and r.url == url]
    if not pages:
        return None, refs
    post = Post(platform=info["platform"], id=info["id"], url=info["url"], status=info["status"],
                author_handle=info["author_handle"], author_name=info["author_name"], text=info["text"])
    ref = max(pages, key=lambda r: r.date)
    return (_page(url, ref, post_page_title(post)), ref), refs


# --- reading gzip members ----------------------------------------------------------------------


def _member(fh: BinaryIO, offset: int, want_all: bool = True) -> tuple[dict[str, str], int]:
    """WARC headers of the gzip member at `offset`, and its compressed length (0 if not read to the end).

    Output is decompressed in bounded steps and only its first 64 KiB kept, so a video record
    costs time, never memory.
    """
    fh.seek(offset)
    dec = zlib.decompressobj(31)
    head, used = b"", 0
    while not dec.eof:
        chunk = fh.read(64 * 1024)
        if not chunk:
            raise StorageError(f"gzip member at offset {offset} is cut short")
        used += len(chunk)
        data = dec.decompress(chunk, _CHUNK)
        while True:
            if len(head) < 65536:
                head += data[:65536]
            if dec.eof or not dec.unconsumed_tail:
                break
            data = dec.decompress(dec.unconsumed_tail, _CHUNK)
        if not want_all and b"\r\n\r\n" in head:
            break
    lines = head.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return headers, (used - len(dec.unused_data) if dec.eof else 0)


class _Selection:
    """Source records to copy, as (warc name, offset) -> length, grown to a replayable closure."""

    def __init__(self, warc_dir: Path, index: Index):
        self.warc_dir = warc_dir
        self.index = index
        self.members: dict[tuple[str, int], int] = {}
        self._files: dict[str, BinaryIO] = {}

    def path(self, name: str) -> Path:
        closed = self.warc_dir / name
        return closed if closed.exists() else self.warc_dir / (name + OPEN_SUFFIX)

    def fh(self, name: str) -> BinaryIO:
        if name not in self._files:
            try:
                self._files[name] = open(self.path(name), "rb")
            except OSError as e:
                raise StorageError(f"cannot read WARC file {name}: {e.strerror or e}") from e
        return self._files[name]

    def add(self, refs: Iterable[RecordRef]) -> None:
        for ref in refs:
            self.members[(ref.warc, ref.offset)] = ref.length

    def headers(self, name: str, offset: int) -> dict[str, str]:
        return _member(self.fh(name), offset, want_all=False)[0]

    def close_over(self) -> None:
        """Add revisits' originals, then responses' requests, then each source file's warcinfo."""
        for name, offset in list(self.members):
            refers_to = self.headers(name, offset).get("warc-refers-to")
            if refers_to:
                original = self.index.record(refers_to)
                if original is None:
                    log.warning("%s: record at %d refers to %s, which the index does not know", name, offset, refers_to)
                else:
                    self.add([original])
        for (name, offset), length in list(self.members.items()):
            nxt = offset + length
            if (name, nxt) in self.members or nxt >= self.path(name).stat().st_size:
                continue
            headers = self.headers(name, offset)
            if headers.get("warc-type") in ("response", "revisit"):
                req = self.headers(name, nxt)  # write_exchange puts the request right after its response
                if req.get("warc-type") == "request" and req.get("warc-concurrent-to") == headers.get("warc-record-id"):
                    self.members[(name, nxt)] = _member(self.fh(name), nxt)[1]
        for name in {n for n, _ in self.members}:
            headers, length = _member(self.fh(name), 0)
            if headers.get("warc-type") == "warcinfo":
                self.members[(name, 0)] = length

    def copy_to(self, out: BinaryIO) -> int:
        """Copy every selected member, in source order (requests stay right after responses)."""
        for (name, offset), length in sorted(self.members.items()):
            fh = self.fh(name)
            fh.seek(offset)
            remaining = length
            while remaining:
                data = fh.read(min(_CHUNK, remaining))
                if not data:
                    raise StorageError(f"{name} ends inside the record at offset {offset}")
                out.write(data)
                remaining -= len(data)
        return len(self.members)

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()


def _warcinfo(filename: str, articles: list[dict], source: Path) -> bytes:
    """One gzip member: the package WARC's own warcinfo, naming what was selected and from where."""
    fields = [("software", SOFTWARE), ("format", "WARC File Format 1.1"), ("conformsTo", CONFORMS_TO),
              ("description", f"records copied byte for byte from the archive {source.name}/warcs")]
    fields += [("article", a["url"]) for a in articles]
    body = "".join(f"{k}: {v}\r\n" for k, v in fields).encode("utf-8")
    head = [("WARC-Type", "warcinfo"), ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"),
            ("WARC-Date", warc_date()), ("WARC-Filename", filename), ("Content-Type", WARC_FIELDS),
            ("WARC-Block-Digest", record_digest(body)), ("Content-Length", str(len(body)))]
    record = b"WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head).encode("utf-8") + b"\r\n" + body + b"\r\n\r\n"
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    return comp.compress(record) + comp.flush()


# --- writing -----------------------------------------------------------------------------------


def _cdx_gz(paths: list[Path]) -> tuple[bytes, bytes]:
    """ZipNum index of the WARC files: (`index.cdx.gz` blocks of sorted CDXJ, `index.idx` lines).

    The form py-wacz writes: ReplayWeb.page loads only the blocks a lookup needs (via the `.idx`),
    and pywb's `wb-manager add --unpack-wacz` reads `.cdx`/`.cdx.gz` files (never `.cdxj`).
    """
    from cdxj_indexer.main import CDXJIndexer

    idx, blocks = io.StringIO(), io.BytesIO()
    CDXJIndexer(idx, [str(p) for p in paths], sort=True, compress=blocks, data_out_name="index.cdx.gz",
                digest_records=True).process_all()
    return blocks.getvalue(), idx.getvalue().encode("utf-8")


def _sha256_file(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while data := fh.read(_CHUNK):
            h.update(data)
            size += len(data)
    return "sha256:" + h.hexdigest(), size


def _resource(path: str, digest: str, size: int) -> dict:
    name = re.sub(r"[^-a-z0-9._/]", "-", os.path.basename(path).lower())  # frictionless name pattern
    return {"name": name, "path": path, "hash": digest, "bytes": size}


def write_wacz(archive_dir: Path, out: Path, *, articles: Sequence[str] = (),
               title: Optional[str] = None) -> PackageResult:
    """Package the archive (or only `articles`, by URL as asked or final) as a WACZ 1.1.1 at `out`.

    Raises UsageError for an unknown article, a missing index or an unwritable `out`, and
    StorageError for a WARC file that cannot be read.
    """
    archive_dir, out = Path(archive_dir), Path(out)
    index_path, warc_dir = archive_dir / "index.sqlite3", archive_dir / "warcs"
    if not index_path.is_file():
        raise UsageError(f"no archive index at {index_path}")
    if out.is_dir() or not out.parent.is_dir() or not os.access(out.parent, os.W_OK):
        raise UsageError(f"cannot write {out}: not a writable file path")
    with Index(index_path) as index:
        chosen = _chosen_articles(index, articles)
        selection = _Selection(warc_dir, index)
        pages = _select(index, chosen, selection, whole=not articles)
        work = Path(tempfile.mkdtemp(prefix=".wacz-", dir=out.parent))  # same disk as `out`
        try:
            if articles:
                warcs = [_subset_warc(work, selection, chosen, archive_dir)]
                copied = len(selection.members)
            else:
                warcs, copied = sorted(warc_dir.glob("*.warc.gz")) if warc_dir.is_dir() else [], 0
                if not warcs:
                    raise UsageError(f"no closed WARC files in {warc_dir}")
                names = {p.name for p in warcs}
                pages = [(p, ref) for p, ref in pages if ref.warc in names]  # still in an .open file
            listed = [p for p, _ in pages]
            _write_zip(out, work, warcs, listed, chosen if len(chosen) == 1 else [], title, len(chosen))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return PackageResult(path=out, pages=listed, warcs=[p.name for p in warcs], records=copied)


def _select(index: Index, chosen: list[dict], selection: _Selection, *, whole: bool) -> list[tuple[dict, RecordRef]]:
    """Add the chosen articles' and their posts' records to `selection`; return their pages."""
    pages: list[tuple[dict, RecordRef]] = []
    post_keys = [(r["platform"], r["post_id"]) for r in index.post_keys()] if whole else []
    for article in chosen:
        refs = index.article_records(article["pk"])
        selection.add(refs)
        page = _article_page(article, refs)
        if page:
            pages.append(page)
        else:
            log.info("article %s has no page record; not listed in pages.jsonl", article["url"])
        if not whole:
            post_keys += index.article_posts(article["pk"])
    for key in dict.fromkeys(post_keys):
        page, refs = _post_page(index, key)
        selection.add(refs)
        if page:
            pages.append(page)
    return pages


def _subset_warc(work: Path, selection: _Selection, chosen: list[dict], archive_dir: Path) -> Path:
    """A fresh WARC: its own warcinfo, then the selected members copied byte for byte."""
    name = f"embed-archiver-package-{datetime.now(timezone.utc).strftime('%Y%m%d%H%M%S')}.warc.gz"
    path = work / name
    try:
        selection.close_over()
        with open(path, "wb") as fh:
            fh.write(_warcinfo(name, chosen, archive_dir.resolve()))
            selection.copy_to(fh)
    finally:
        selection.close()
    return path


def _write_zip(out: Path, work: Path, warcs: list[Path], pages: list[dict], main: list[dict],
               title: Optional[str], n_articles: int) -> None:
    """Write the ZIP next to `out`, then rename it into place (a reader never sees half a WACZ)."""
    part = work / "package.wacz"
    resources = []
    with zipfile.ZipFile(part, "w", allowZip64=True) as zf:
        for path in warcs:
            arcname = f"archive/{path.name}"
            zf.write(path, arcname, compress_type=zipfile.ZIP_STORED)  # range reads need STORE
            resources.append(_resource(arcname, *_sha256_file(path)))
        header = {"format": "json-pages-1.0", "id": "pages", "title": "Articles and post pages"}
        cdx, idx = _cdx_gz(warcs)
        blobs = [(CDX_PATH, cdx, zipfile.ZIP_STORED), (IDX_PATH, idx, zipfile.ZIP_DEFLATED),
                 (PAGES_PATH, "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in [header, *pages]).encode(),
                  zipfile.ZIP_DEFLATED)]
        for arcname, data, method in blobs:
            zf.writestr(arcname, data, compress_type=method)
            resources.append(_resource(arcname, "sha256:" + hashlib.sha256(data).hexdigest(), len(data)))
        package = {"profile": "data-package", "resources": resources, "wacz_version": WACZ_VERSION,
                   "title": title or (main[0]["title"] if main and main[0]["title"] else
                                      f"embed-archiver: {n_articles} article(s), {len(pages)} page(s)"),
                   "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "software": SOFTWARE}
        main_page = next((p for p in pages if main and p["url"] in (main[0]["final_url"], main[0]["url"])), None)
        if main_page:
            package["mainPageUrl"], package["mainPageDate"] = main_page["url"], main_page["ts"]
        data = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
        zf.writestr("datapackage.json", data, compress_type=zipfile.ZIP_DEFLATED)
        digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
        zf.writestr("datapackage-digest.json", json.dumps(digest, indent=2), compress_type=zipfile.ZIP_DEFLATED)
    try:
        os.replace(part, out)
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror or e}") from e


# --- checking ----------------------------------------------------------------------------------


def _surt(url: str) -> str:
    import surt

    try:
        return surt.surt(url)
    except Exception:  # cdxj-indexer falls back the same way
        return url


def _index_lines(zf: zipfile.ZipFile, name: str) -> list[str]:
    data = zf.read(name)
    if name.endswith(".gz"):
        data = gzip.decompress(data)  # all the gzip blocks of a ZipNum index
    return [ln for ln in data.decode("utf-8").splitlines() if ln.strip() and not ln.startswith("!")]


def check_wacz(path: Path | str) -> list[str]:
    """Problems that make a WACZ unfit for range-based replay or not what it claims ([] if none).

    Stricter than `wacz validate`: pages present and non-empty, `archive/*` and `indexes/*.cdx.gz`
    STORED, every page URL in the CDXJ index, every listed hash and size right, nothing unlisted.
    """
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        return [f"not a readable ZIP file: {e}"]
    problems: list[str] = []
    with zf:
        infos = {i.filename: i for i in zf.infolist()}
        archives = [n for n in infos if n.startswith("archive/") and not n.endswith("/")]
        indexes = [n for n in infos if n.startswith("indexes/") and not n.endswith("/")]
        if not any(n.endswith((".warc", ".warc.gz")) for n in archives):
            problems.append("no WARC file in archive/")
        for name in archives + [n for n in indexes if n.endswith(".cdx.gz")]:
            if infos[name].compress_type != zipfile.ZIP_STORED:
                problems.append(f"{name} is compressed in the ZIP (must be STORED for range reads)")
        problems += _check_datapackage(zf, infos)
        pages = _check_pages(zf, infos, problems)
        cdx = [n for n in indexes if n.endswith((".cdxj", ".cdx", ".cdx.gz"))]
        if not cdx:
            problems.append("no CDXJ index in indexes/")
            return problems
        for name in (n for n in indexes if n.endswith(".idx")):
            problems += _check_idx(zf, infos, name)
        lines: list[str] = []
        for name in cdx:
            try:
                found = _index_lines(zf, name)
            except (OSError, EOFError, UnicodeDecodeError, zlib.error) as e:
                return problems + [f"{name} unreadable: {e}"]
            if found != sorted(found):
                problems.append(f"{name} is not sorted (replay tools binary-search it)")
            lines += found
        keys = set()
        for line in lines:
            key, _, rest = line.partition(" ")
            keys.add(key)
            try:
                entry = json.loads(rest.split(" ", 1)[1])
                member = infos.get(f"archive/{entry['filename']}")
                if member is None or int(entry["offset"]) + int(entry["length"]) > member.file_size:
                    problems.append(f"index entry points outside the WARCs: {line[:200]}")
            except (IndexError, KeyError, ValueError):
                problems.append(f"bad CDXJ line: {line[:200]}")
        for page in pages:
            if _surt(page["url"]) not in keys:
                problems.append(f"page URL not in the index: {page['url']}")
    return problems


def _check_idx(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], name: str) -> list[str]:
    """Every block an `.idx` names lies inside its `.cdx.gz` and has the digest it claims."""
    problems, target = [], None
    for line in zf.read(name).decode("utf-8", "replace").splitlines():
        try:
            if line.startswith("!meta"):
                target = "indexes/" + json.loads(line.split(" ", 2)[2])["filename"]
                continue
            entry = json.loads(line[line.index(" {") + 1:])
            if target not in infos:
                return [f"{name} names {target}, which is missing"]
            with zf.open(target) as fh:
                fh.seek(int(entry["offset"]))
                block = fh.read(int(entry["length"]))
            digest = "sha256:" + hashlib.sha256(block).hexdigest()
            if len(block) != int(entry["length"]) or entry.get("digest", digest) != digest:
                problems.append(f"{name}: block at {entry['offset']} does not match {target}")
        except (ValueError, KeyError, IndexError, TypeError):
            problems.append(f"{name}: bad line {line[:200]}")
    return problems


def _check_datapackage(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> list[str]:
    if "datapackage.json" not in infos:
        return ["datapackage.json missing"]
    raw = zf.read("datapackage.json")
    try:
        package = json.loads(raw)
    except ValueError as e:
        return [f"datapackage.json is not JSON: {e}"]
    problems = []
    if package.get("profile") != "data-package":
        problems.append("datapackage.json profile is not data-package")
    if package.get("wacz_version") != WACZ_VERSION:
        problems.append(f"wacz_version is {package.get('wacz_version')!r}, not {WACZ_VERSION}")
    listed = set()
    for res in package.get("resources") or []:
        name = res.get("path")
        listed.add(name)
        if name not in infos:
            problems.append(f"listed resource missing from the ZIP: {name}")
            continue
        h, size = hashlib.sha256(), 0
        with zf.open(name) as fh:
            while data := fh.read(_CHUNK):
                h.update(data)
                size += len(data)
        if res.get("hash") != "sha256:" + h.hexdigest():
            problems.append(f"hash mismatch for {name}")
        if res.get("bytes") != size:
            problems.append(f"size mismatch for {name}: listed {res.get('bytes')}, is {size}")
    for name in infos:
        if name not in listed | {"datapackage.json", "datapackage-digest.json"} and not name.endswith("/"):
            problems.append(f"{name} is not listed in datapackage.json")
    if "datapackage-digest.json" not in infos:
        problems.append("datapackage-digest.json missing")
    else:
        try:
            digest = json.loads(zf.read("datapackage-digest.json"))
        except ValueError:
            digest = {}
        if digest.get("hash") != "sha256:" + hashlib.sha256(raw).hexdigest():
            problems.append("datapackage-digest.json does not match datapackage.json")
    return problems


def _check_pages(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], problems: list[str]) -> list[dict]:
    if PAGES_PATH not in infos:
        problems.append(f"{PAGES_PATH} missing")
        return []
    pages = []
    lines = [ln for ln in zf.read(PAGES_PATH).decode("utf-8", "replace").splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except ValueError:
            problems.append(f"{PAGES_PATH} line {i + 1} is not JSON")
            continue
        if i == 0 and obj.get("format") == "json-pages-1.0":
            continue
        if i == 0:
            problems.append(f"{PAGES_PATH} has no json-pages-1.0 header line")
        if not isinstance(obj.get("url"), str) or not _RFC3339.match(str(obj.get("ts", ""))):
            problems.append(f"{PAGES_PATH} line {i + 1} lacks a url or an RFC 3339 ts")
            continue
        pages.append(obj)
    if not pages:
        problems.append(f"{PAGES_PATH} lists no pages")
    return pages
