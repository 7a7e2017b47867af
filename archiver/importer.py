"""`archiver import` and `archiver reindex`: other tools' WARC and ARC files into an archive, and
an archive's record index rebuilt from its own files.

Both read files with `archiver.warcread` (verify's careful reader: every problem with its file
and offset, never an exception), so a file from wget, Heritrix, warcprox, browsertrix or pywb,
WARC/1.0 or 1.1 or ARC, damaged or not, yields whatever records it still holds.

Importing copies a file into DIR/warcs/ under a name made here (`imported-<stem>.warc.gz`, see
`warcread.stored_name`), never one taken from the input. A file that already is one gzip member
per record with nothing else in it is copied byte for byte; any other (uncompressed, whole-file
gzip, damaged, trailing garbage) is re-framed: each complete record its own gzip member, record
bytes unchanged, so that every index row's offset and length address exactly one record and
`replay`, `package` and `verify` can use the copy like a file of our own. The original's name,
size and sha256 are kept in the index's `imported_files` table.

Both take the archive lock `capture` takes, so no capture writes meanwhile.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from archiver import extract
from archiver.errors import ArchiveLocked, StorageError, UsageError
from archiver.index import Index, timestamp
from archiver.models import Article, ArticleResult, FileRows, ImportedFile, Post, RebuildOutcome, RecordRef
from archiver.verify import ERROR, NOTE, Problem, _Block, _Rec, warc_paths
from archiver.warc import OPEN_SUFFIX, fsync_dir
from archiver.warcread import Scan, needs_reframing, record_ref, reframe, scan, stored_name, unindexable

__all__ = ["ACCEPTED_SUFFIXES", "FileImport", "ImportReport", "ReindexReport", "archive_lock", "import_files",
           "reindex"]

ACCEPTED_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc")
PAGE_MAX = 16 * 2**20  # payload bytes of one HTML page held in memory to look for posts in it
DECODED_MAX = 64 * 2**20  # and once its Content-Encoding is undone
INFO_MAX = 64 * 2**10  # a warcinfo block, read for its `software` field
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEMP_PREFIX = ".importing-"  # in warcs/ while copying; never listed as a WARC file (warc_paths)
_READ = 1 << 20

Finding = Callable[[Problem], None]


@contextmanager
def archive_lock(archive_dir: Path) -> Iterator[None]:
    """Hold the archive's writer lock: the file and flock `archiver.capture.Archive` uses, so an
    import or reindex and a capture exclude each other (and no `.open` file is being written)."""
    try:
        (archive_dir / "warcs").mkdir(parents=True, exist_ok=True)
        lock = open(archive_dir / ".lock", "a+")  # noqa: SIM115 - closed below, releasing the lock
    except OSError as e:
        raise StorageError(f"archive folder {archive_dir} is not writable: {e.strerror or e}") from None
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ArchiveLocked(f"another archiver process is writing to {archive_dir}; wait for it to finish") from None
        yield
    finally:
        lock.close()


# --------------------------------------------------------------------------- import


@dataclass
class FileImport:
    """What became of one file given to `archiver import`."""

    source: str  # as given
    stored: str | None = None  # its copy's name in DIR/warcs/, when imported
    format: str | None = None  # what its bytes are: warc.gz, warc, arc.gz, arc
    reframed: bool = False
    read: int = 0  # records read whole
    indexed: int = 0
    already: str | None = None  # the archive file already holding it, when skipped for that
    skipped: str | None = None  # why it was not imported
    software: str | None = None
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)  # see Index.record_import

    def summary(self) -> str:
        trouble = f", {len(self.problems)} problem(s)" if self.problems else ""
        if self.stored is None:
            return f"not imported: {self.source} ({self.skipped or 'see above'}{trouble})"
        how = ", re-framed one record per gzip member" if self.reframed else ""
        return (f"imported {self.source} as warcs/{self.stored} ({self.format}{how}): "
                f"{self.indexed} of {self.read} complete record(s) indexed{trouble}")


@dataclass
class ImportReport:
    files: list[FileImport] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for f in self.files for p in f.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        imported = [f for f in self.files if f.stored]
        notes = sum(len(f.notes) for f in self.files)
        queued = len({(p["platform"], p["id"]) for f in self.files for p in f.posts if p["queued"]})
        text = (f"{len(self.files)} file(s): {len(imported)} imported, "
                f"{sum(f.indexed for f in self.files)} record(s) indexed, {len(self.problems)} problem(s)")
        text += f", {notes} note(s)" if notes else ""
        return text + (f"; {queued} post(s) queued for capture" if queued else "")


def accepted(path: Path) -> bool:
    name = path.name.lower().removesuffix(OPEN_SUFFIX)
    return name.endswith(ACCEPTED_SUFFIXES)


def check_sources(archive_dir: Path, sources: list[Path]) -> list[Path]:
    """The files to import, once each; UsageError (nothing imported) for any that cannot be."""
    if not sources:
        raise UsageError("give at least one WARC or ARC file to import")
    if archive_dir.exists() and not archive_dir.is_dir():
        raise UsageError(f"{archive_dir} is not a folder")
    warc_dir = (archive_dir / "warcs").resolve()
    out: dict[Path, Path] = {}
    for path in sources:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        if not accepted(path):
            raise UsageError(f"{path}: not a WARC or ARC file name (.warc, .warc.gz, .arc, .arc.gz, "
                             "optionally .open)")
        if path.resolve().parent == warc_dir:
            raise UsageError(f"{path} is already in the archive's warcs/ folder; `archiver reindex` indexes it")
        out.setdefault(path.resolve(), path)
    return list(out.values())


def import_files(archive_dir: Path | str, sources: list[Path | str], *, queue_posts: bool = False,
                 on_finding: Finding | None = None,
                 on_file: Callable[[FileImport], None] | None = None) -> ImportReport:
    """Import each file into the archive (created if need be); see the module docstring.

    `queue_posts`: look in every 200 text/html response for the posts it cites (archiver.extract)
    and record the page as an article captured by another tool, with its citations; a cited post
    the archive does not hold is added with status `failed`, reason "not yet captured", which is
    what `capture` and rechecks retry. Problems in a file never stop the others; UsageError or
    StorageError (locked, not writable) before anything is imported.
    """
    archive_dir = Path(archive_dir)
    paths = check_sources(archive_dir, [Path(s) for s in sources])
    report = ImportReport()
    with archive_lock(archive_dir):
        _remove_leftovers(archive_dir / "warcs")
        with Index(archive_dir / "index.sqlite3") as index:
            for path in paths:
                result = _FileImporter(archive_dir, index, path, queue_posts, on_finding).run()
                report.files.append(result)
                if on_file is not None:
                    on_file(result)
    return report


def _remove_leftovers(warc_dir: Path) -> None:
    """Copies an import that died left half-written (we hold the lock: no import is running)."""
    for path in warc_dir.glob(_TEMP_PREFIX + "*"):
        try:
            path.unlink()
        except OSError:
            pass


@dataclass
class _Page:
    """A page found in a file that cites posts."""

    record_id: str
    url: str
    date: str | None
    title: str | None
    embeds: list
    profiles: list[str]


class _FileImporter:
    """One file: copy it into warcs/, read the copy, re-frame it if need be, index it."""

    def __init__(self, archive_dir: Path, index: Index, source: Path, queue_posts: bool,
                 on_finding: Finding | None):
        self.warc_dir = archive_dir / "warcs"
        self.index = index
        self.source = source
        self.queue_posts = queue_posts
        self.on_finding = on_finding
        self.result = FileImport(source=str(source))
        self.pages: list[_Page] = []
        self.temps: list[Path] = []

    def run(self) -> FileImport:
        try:
            self._run()
        except OSError as e:
            self._add(None, f"cannot import: {e.strerror or e}" + (f" ({e.filename})" if e.filename else ""))
        except StorageError as e:
            self._add(None, f"cannot import: {e}")
        except Exception as e:  # noqa: BLE001 - one file's surprise must not stop the others
            self._add(None, f"could not import this file ({type(e).__name__}: {e})")
        finally:
            for temp in self.temps:
                try:
                    temp.unlink()
                except OSError:
                    pass
        return self.result

    # ---- findings

    def _add(self, offset: int | None, message: str, level: str = ERROR, label: str | None = None) -> None:
        self._relay(Problem(label or str(self.source), offset, message, level))

    def _relay(self, finding: Problem) -> None:
        (self.result.notes if finding.level == NOTE else self.result.problems).append(finding)
        if self.on_finding is not None:
            self.on_finding(finding)

    # ---- the steps

    def _run(self) -> None:
        res = self.result
        if self.source.name.endswith(OPEN_SUFFIX):
            self._add(None, "not closed (.open): the tool writing it had not finished it, or crashed; "
                            "its complete records are imported")
        copy, source_sha256, source_size = self._copy_in()
        found = scan(copy, label=str(self.source), keep=self._keep, on_record=self._on_record,
                     on_finding=self._relay)
        res.format = found.format
        complete = [r for r in found.records if r.complete and r.intact]
        res.read = len(complete)
        if not complete:
            res.skipped = "no complete record in it"
            self._add(None, f"{res.skipped}: nothing imported")
            return
        already = self.index.file_with_sha256(source_sha256)
        if already is not None:
            res.already = already
            res.skipped = f"already in the archive as warcs/{already} (same sha256)"
            self._add(None, f"{res.skipped}: not imported again", NOTE)
            self._queue_held(found)
            return
        wanted = self._indexable(found)
        if not wanted:
            res.skipped = "every indexable record in it is already in the archive, or none is indexable"
            self._add(None, f"{res.skipped}: not imported", NOTE)
            self._queue_held(found)
            return
        reframed = needs_reframing(found)
        name = self._unique_name(("arc" if found.arc else "warc") + ".gz" if reframed else found.format)
        stored = self._reframe(found, name) if reframed else found
        final = self.warc_dir / name
        os.rename(stored.path, final)
        fsync_dir(self.warc_dir)
        self.temps = [t for t in self.temps if t != stored.path]
        refs = [record_ref(r, name) for r in stored.records
                if r.complete and r.intact and r.record_id in wanted]
        pages = self._articles(found, {ref.record_id: ref for ref in refs})
        imported = ImportedFile(name=name, size=stored.size or 0, sha256=stored.sha256 or "",
                                source_name=self.source.name, source_size=source_size, source_sha256=source_sha256,
                                format=found.format, reframed=stored is not found, software=res.software,
                                problems=len(res.problems))
        try:
            res.indexed, res.posts = self.index.record_import(imported, refs, pages)
        except BaseException:
            final.unlink()  # the index never learnt of it: leave no unindexed copy behind
            raise
        res.stored, res.reframed = name, stored is not found

    def _copy_in(self) -> tuple[Path, str, int]:
        """Copy the source into warcs/ under a temporary name, hashing it on the way: everything
        after reads the copy, so a source still growing cannot disagree with what is indexed."""
        suffix = ".gz.part" if self.source.name.lower().removesuffix(OPEN_SUFFIX).endswith(".gz") else ".part"
        fd, temp = tempfile.mkstemp(dir=self.warc_dir, prefix=_TEMP_PREFIX, suffix=suffix)
        self.temps.append(Path(temp))
        sha, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, open(self.source, "rb") as src:
            while data := src.read(_READ):
                sha.update(data)
                size += len(data)
                out.write(data)
            out.flush()
            os.fsync(out.fileno())
        return Path(temp), sha.hexdigest(), size

    def _indexable(self, found: Scan) -> set[str]:
        """Ids of the records to index: complete, intact, with a type and an id not seen before
        (in this file, or in the archive); says why about each other complete record."""
        first: dict[str, _Rec] = {}
        for rec in found.records:
            if not rec.complete:
                continue  # the scan said what is wrong with it
            why = unindexable(rec)
            if why is not None:
                self._add(rec.offset, f"{rec.name}: not indexed: {why}")
            elif rec.record_id in first:
                self._add(rec.offset, f"{rec.name}: WARC-Record-ID {rec.record_id} is also the id of the record "
                                      f"at {first[rec.record_id].offset}: not indexed")
            else:
                first[rec.record_id] = rec
        known = self.index.record_locations(first)
        if known:
            rid = next(iter(known))
            warc, offset = known[rid]
            self._add(first[rid].offset, f"{len(known)} record(s) already in the archive (same record id) are not "
                                         f"indexed again: {rid} is in warcs/{warc} at {offset}", NOTE)
        return {rid for rid in first if rid not in known}

    def _unique_name(self, fmt: str) -> str:
        base = stored_name(self.source, fmt)
        stem, _, ext = base.partition(".")
        for n in range(1, 10_000):
            name = base if n == 1 else f"{stem}-{n}.{ext}"
            taken = any((self.warc_dir / c).exists() for c in (name, name + OPEN_SUFFIX))
            if not taken and not self.index.file_name_known(name):
                return name
        raise StorageError(f"no free name for {base} in {self.warc_dir}")

    def _reframe(self, found: Scan, name: str) -> Scan:
        fd, temp = tempfile.mkstemp(dir=self.warc_dir, prefix=_TEMP_PREFIX, suffix=".gz.part")
        self.temps.append(Path(temp))
        with os.fdopen(fd, "wb") as out:
            count = reframe(found, out)
            out.flush()
            os.fsync(out.fileno())
        label = str(self.warc_dir / name)
        stored = scan(temp, label=label)
        for finding in stored.problems:  # would be our bug: say so rather than index a bad copy
            self._relay(finding)
        why = []
        if not found.gzipped:
            why.append("it is not gzipped")
        if found.shared_at:
            why.append(f"{len(found.shared_at)} of its gzip members hold several records (a whole-file gzip?), "
                       f"the first at {found.shared_at[0]}")
        if found.problems:
            why.append("what is unreadable in it (above) is not carried over")
        self._add(None, f"stored re-framed as warcs/{name}, {count} record(s) each in its own gzip member, "
                        f"record bytes unchanged: {'; '.join(why)}", NOTE)
        return stored

    # ---- pages and the posts they cite (--queue-posts)

    def _keep(self, rec: _Rec, status: int | None, content_type: str | None) -> int:
        if rec.rtype == "warcinfo":
            return INFO_MAX
        if self.queue_posts and rec.rtype == "response" and status == 200 and _mime(content_type) in HTML_TYPES:
            return PAGE_MAX
        return 0

    def _on_record(self, rec: _Rec, block: _Block) -> None:
        if rec.rtype == "warcinfo":
            if block.kept and self.result.software is None:
                self.result.software = _software(block.kept)
            return
        if not (self.queue_posts and rec.rtype == "response" and rec.http_status == 200
                and _mime(rec.http_content_type) in HTML_TYPES and (rec.uri or "").startswith(("http:", "https:"))):
            return
        if block.kept is None:
            self._add(rec.offset, f"{rec.name}: page longer than {PAGE_MAX} bytes: posts not looked for", NOTE)
            return
        body = _decode(block.kept, block.http_content_encoding)
        if isinstance(body, str):
            self._add(rec.offset, f"{rec.name}: {body}: posts not looked for", NOTE)
            return
        try:
            doc = extract.parse_html(body, base_url=rec.uri, content_type=rec.http_content_type)
            found = extract.find_embeds(doc)
        except Exception as e:  # noqa: BLE001 - an odd page must not stop the import
            self._add(rec.offset, f"{rec.name}: could not look for posts ({type(e).__name__}: {e})", NOTE)
            return
        if found.embeds or found.profiles:
            self.pages.append(_Page(rec.record_id or "", rec.uri, rec.date, doc.title, found.embeds,
                                    found.profiles))

    def _queue_held(self, found: Scan) -> None:
        """--queue-posts for a file whose records the archive already holds (imported before
        without it, say): its pages are recorded all the same, linked to the rows already there."""
        if not self.pages:
            return
        held = self.index.record_locations(page.record_id for page in self.pages)
        refs = {rec.record_id: record_ref(rec, held[rec.record_id][0]) for rec in found.records
                if rec.complete and rec.intact and rec.record_id in held}
        pages = self._articles(found, refs)
        if pages:
            _, self.result.posts = self.index.record_import(None, [], pages)

    def _articles(self, found: Scan, refs: dict[str, RecordRef]) -> list[ArticleResult]:
        """The pages as articles captured by another tool, citing their posts."""
        out = []
        for page in self.pages:
            ref = refs.get(page.record_id)
            if ref is None:
                continue  # its record is not indexed (damaged, or already in the archive)
            try:
                fetched = timestamp(page.date) if page.date else None
            except ValueError:
                fetched = None
            article = Article(url=page.url, final_url=page.url, http_status=200, title=page.title,
                              fetched_at=fetched, records=[] if found.arc else [ref])
            reason = f"not yet captured: cited by {page.url}, imported from {self.source.name}"
            posts = [Post(platform=e.platform, id=e.id, url=e.url, status="failed", status_reason=reason)
                     for e in page.embeds if e.id is not None]
            out.append(ArticleResult(article=article, embeds=page.embeds, posts=posts, profiles=page.profiles))
        if out and found.arc:
            self._add(None, "pages in ARC records are recorded as articles but not linked to their records "
                            "(`archiver package` copies article records into WARC files)", NOTE)
        return out


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _software(block: bytes) -> str | None:
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "software" and value.strip():
            return value.strip()[:200]
    return None


def _decode(body: bytes, encoding: str | None) -> bytes | str:
    """The page with its Content-Encoding undone (bytes), or why it could not be (str)."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip", "deflate"):
                wbits = 47 if coding != "deflate" or body[:1] == b"\x78" else -15  # auto gzip/zlib, raw deflate
                inflate = zlib.decompressobj(wbits)
                body = inflate.decompress(body, DECODED_MAX)
                if inflate.unconsumed_tail:
                    return f"page inflates past {DECODED_MAX} bytes"
            elif coding == "br":
                try:
                    import brotli
                except ImportError:
                    return "page is brotli-compressed and no brotli module is installed"
                body = brotli.decompress(body)
            elif coding != "identity":
                return f"unknown Content-Encoding {coding!r}"
        except Exception as e:  # noqa: BLE001 - zlib.error, brotli.error, ...
            return f"Content-Encoding {coding} cannot be undone ({e})"
    return body


# --------------------------------------------------------------------------- reindex


@dataclass
class ReindexReport:
    files: int = 0
    records: int = 0  # rows the records table now holds from the files
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    outcome: RebuildOutcome | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        o = self.outcome or RebuildOutcome()
        removed = sum(o.removed.values())
        text = (f"{self.files} file(s), {self.records} record(s) indexed ({o.inserted} new, {o.updated} corrected, "
                f"{o.unchanged} unchanged; {removed} row(s) removed): {len(self.problems)} problem(s)")
        return text + (f", {len(self.notes)} note(s)" if self.notes else "")


def reindex(archive_dir: Path | str, *, on_finding: Finding | None = None) -> ReindexReport:
    """Rebuild the index's `records` and `warc_files` tables from DIR/warcs/ (see Index.rebuild_records).

    Every WARC and ARC file is read through; each complete, intact record with a type and an id
    gets its row (offsets as `capture` writes them). A `.open` file (a capture that crashed: none
    runs, we hold its lock) has its complete records indexed under its closed name, and no
    warc_files row. Raises UsageError when there is no archive, StorageError when it is locked.
    """
    archive_dir = Path(archive_dir)
    warc_dir = archive_dir / "warcs"
    if not warc_dir.is_dir() and not (archive_dir / "index.sqlite3").exists():
        raise UsageError(f"no archive at {archive_dir}: neither a warcs/ folder nor an index")
    report = ReindexReport()

    def add(finding: Problem) -> None:
        (report.notes if finding.level == NOTE else report.problems).append(finding)
        if on_finding is not None:
            on_finding(finding)

    with archive_lock(archive_dir), Index(archive_dir / "index.sqlite3") as index:
        outcome = index.rebuild_records(_file_rows(warc_dir, report, add))
    report.outcome = outcome
    report.records = outcome.inserted + outcome.updated + outcome.unchanged
    for rid, warc, offset, first, first_offset in outcome.duplicates:
        add(Problem(str(warc_dir / warc), offset, f"record {rid} is also at warcs/{first}:{first_offset} "
                                                  "(indexed there): this copy is not indexed"))
    for name, size, sha, new_size, new_sha in outcome.changed_files:
        add(Problem(str(warc_dir / name), None, f"changed since it was closed: the index recorded {size} byte(s), "
                                               f"sha256 {sha}; it is now {new_size} byte(s), sha256 {new_sha}, "
                                               "which the rebuilt index records"))
    for name, size, sha in outcome.dropped_files:
        add(Problem(str(warc_dir / name), None, f"the index listed it as closed ({size} byte(s), sha256 {sha}), "
                                               "but no such closed file is in warcs/: its row is removed"))
    for name, count in sorted(outcome.removed.items()):
        add(Problem(str(warc_dir / name), None, f"{count} index row(s) named records found in no file: removed"
                                               + (f", with {outcome.removed_links} article/post link(s) in all"
                                                  if outcome.removed_links else "")))
    return report


def _file_rows(warc_dir: Path, report: ReindexReport, add: Finding) -> Iterator[FileRows]:
    """Each file's rows, read as the rebuild asks for them (inside its transaction)."""
    for path in warc_paths(warc_dir):
        name = path.name.removesuffix(OPEN_SUFFIX)
        closed = not path.name.endswith(OPEN_SUFFIX)
        found = scan(path, on_finding=add,
                     open_note="its complete records are indexed; it gets no warc_files row, as it was never closed")
        report.files += 1
        refs: list[RecordRef] = []
        members: set[int] = set()
        for rec in found.records:
            if not rec.complete:
                continue
            why = unindexable(rec)
            if why is None and found.gzipped and rec.offset in members:
                why = ("it shares its gzip member with the record before it, and an index row can only address "
                       "a member's first record (`archiver import` a copy to re-frame the file)")
            if why is not None:
                add(Problem(found.label, rec.offset, f"{rec.name}: not indexed: {why}"))
                continue
            members.add(rec.offset)
            refs.append(record_ref(rec, name))
        mtime = None
        try:
            mtime = timestamp(datetime.fromtimestamp(path.stat().st_mtime, timezone.utc))
        except OSError:
            pass
        yield FileRows(name=name, records=refs, size=found.size if closed else None,
                       sha256=found.sha256 if closed else None, closed_at=mtime)
