"""Find the article files in a folder and turn each into cleaned ``Article`` records.

    scan_folder(folder) -> ([SourceFile], [IngestError])   # cheap: stat + SHA-256, no parsing
    load_source(src)    -> ([Article], [IngestError])      # read, decode, extract, clean, metadata

File types (:data:`SUPPORTED`): ``.txt`` and ``.md`` are one article each (Markdown
markup is reduced to its text: heading marks, emphasis, link and image syntax);
``.html``/``.htm`` go through ``trafilatura`` for the main text (no scripts, menus,
sidebars) and its metadata (title, date, author, site name, canonical URL); a
``.jsonl`` feed holds one article per line, ``{"title": ..., "text": ...}`` required,
``url``, ``published``, ``source``, ``byline``/``author``, ``language`` optional.

Rules and choices:

* ``scan_folder`` walks the folder recursively, sorted by relative path. Hidden
  files and folders (name starting with ".") are skipped, and so is a
  ``README.md`` at the folder's root: it describes the folder, it is not an
  article. Any other file with an unsupported extension, a file that cannot be
  read and a file over :data:`MAX_BYTES` is reported as an ``IngestError``
  rather than skipped silently. Symbolic links to files are followed, links to
  folders are not (no loops). A missing folder raises ``IngestError``.
* Text must be UTF-8 (a UTF-8 or UTF-16 byte-order mark is honoured); HTML may
  declare another charset in a ``<meta charset>``. A file with NUL bytes is
  binary. Errors name the file, and for feeds the line, and say what is wrong:
  "empty file", "contains only whitespace", "not UTF-8 text: byte 0xe9 at
  offset 12 ...", "binary file", "too little text after removing page debris".
* ``Article.text`` is ``rag.index.clean.clean_text`` of the file's text; every later
  offset refers to it. ``Article.id`` is :func:`article_id` of that text, so the
  same article saved twice has one id. The headline, when the text starts with
  one, stays in the text (it can be cited); for HTML the page title is put back
  in front of the main text when trafilatura left it out. A feed line's text is
  taken as given (cleaned), its title is not added to the text.
* ``Article.location`` is the relative path, ``relpath#L<n>`` for line n of a
  feed; a feed line's URL goes to ``Article.url``.
* Metadata: a feed line's own fields first, then trafilatura's (HTML), then
  what ``rag.index.meta`` finds in the text. The language is the feed's
  ``language`` field when it is a two-letter code, else ``rag.index.language``.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from rag.errors import IngestError
from rag.index.clean import clean_text
from rag.index.language import detect_language, script_counts
from rag.index.meta import extract_metadata, parse_date
from rag.types import Article

LOG = logging.getLogger(__name__)

SUPPORTED = (".txt", ".md", ".html", ".htm", ".jsonl")
MAX_BYTES = 50 * 1024 * 1024
MIN_LETTERS = 10  # an article needs at least this many letters after cleaning
ROOT_SKIP = ("readme.md",)  # at the folder's root only, compared case-insensitively
_HTML = (".html", ".htm")


@dataclass(frozen=True)
class SourceFile:
    """A file of the articles folder: ``relpath`` (POSIX, relative to the folder), the
    absolute ``path``, the SHA-256 of its bytes and its size in bytes."""

    relpath: str
    path: Path
    sha256: str
    size: int


def article_id(text: str) -> str:
    """First 16 hex digits of the SHA-256 of the (cleaned) text:
    ``article_id("abc") == "ba7816bf8f01cfea"``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _supported_list() -> str:
    return ", ".join(SUPPORTED)


def _os_reason(err: OSError) -> str:
    if isinstance(err, PermissionError):
        return "cannot read file: permission denied"
    if isinstance(err, IsADirectoryError):
        return "cannot read file: it is a directory"
    return f"cannot read file: {err.strerror or err}"


def _hash_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def scan_folder(folder: Path) -> tuple[list[SourceFile], list[IngestError]]:
    """The article files under ``folder`` (sorted by relative path) and the files
    that cannot be used. Raises ``IngestError`` when ``folder`` is missing or not a folder."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise IngestError(str(folder), "articles folder does not exist")
    if not folder.is_dir():
        raise IngestError(str(folder), "articles folder is not a directory")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise IngestError(str(folder), "cannot read the articles folder: permission denied")
    root = folder.resolve()
    found: list[SourceFile] = []
    errors: list[IngestError] = []

    def on_walk_error(err: OSError) -> None:
        rel = Path(err.filename).resolve().relative_to(root).as_posix() if err.filename else str(root)
        errors.append(IngestError(rel, f"cannot read folder: {err.strerror or err}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        for name in filenames:
            if name.startswith("."):
                continue
            path = here / name
            rel = path.relative_to(root).as_posix()
            if here == root and name.lower() in ROOT_SKIP:
                continue
            ext = path.suffix.lower()
            if ext not in SUPPORTED:
                kind = f"unsupported file type {ext}" if ext else "unsupported file type (no extension)"
                errors.append(IngestError(rel, f"{kind}; supported: {_supported_list()}"))
                continue
            try:
                st = path.stat()
                if not stat.S_ISREG(st.st_mode):
                    errors.append(IngestError(rel, "not a regular file"))
                    continue
                if st.st_size > MAX_BYTES:
                    errors.append(
                        IngestError(rel, f"file too large ({st.st_size:,} bytes; at most {MAX_BYTES:,})")
                    )
                    continue
                digest = _hash_file(path)
            except FileNotFoundError:
                errors.append(IngestError(rel, "cannot read file: broken link or file vanished"))
                continue
            except OSError as err:
                errors.append(IngestError(rel, _os_reason(err)))
                continue
            found.append(SourceFile(relpath=rel, path=path, sha256=digest, size=st.st_size))
    found.sort(key=lambda s: s.relpath)
    errors.sort(key=lambda e: e.location)
    LOG.debug("scanned %s: %d files, %d problems", root, len(found), len(errors))
    return found, errors


# ---------------------------------------------------------------- decoding


def _declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first 4 KB, if Python knows it."""
    m = re.search(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", data[:4096], re.IGNORECASE)
    if not m:
        return None
    try:
        return codecs.lookup(m.group(1).decode("ascii")).name
    except LookupError:
        return None


def decode_bytes(data: bytes, location: str, *, html: bool = False) -> str:
    """``data`` as text, or ``IngestError`` saying why it is not usable text."""
    if not data:
        raise IngestError(location, "empty file (0 bytes)")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise IngestError(location, f"not valid UTF-16 text: bad bytes at offset {err.start}") from None
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise IngestError(location, f"binary file (NUL byte at offset {at}); expected UTF-8 text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if html and (charset := _declared_charset(data)) and charset != "utf-8":
            try:
                return data.decode(charset)
            except UnicodeDecodeError:
                pass
        bad = data[err.start]
        raise IngestError(
            location,
            f"not UTF-8 text: byte 0x{bad:02x} at offset {err.start} cannot be decoded; "
            "save the file as UTF-8",
        ) from None


# ---------------------------------------------------------------- loading


def _letters(text: str) -> int:
    return sum(script_counts(text).values())


def _check_usable(cleaned: str, raw: str, location: str) -> None:
    if not raw.strip():
        raise IngestError(location, "contains only whitespace")
    n = _letters(cleaned)
    if n < MIN_LETTERS:
        what = "no text" if not cleaned.strip() else f"only {n} letters"
        raise IngestError(
            location,
            f"too little text after removing page debris ({what}; an article needs at least {MIN_LETTERS})",
        )


def _article(
    raw: str,
    cleaned: str,
    location: str,
    filename: str,
    *,
    title: str | None = None,
    published: str | None = None,
    byline: str | None = None,
    source: str | None = None,
    url: str | None = None,
    language: str | None = None,
) -> Article:
    meta = extract_metadata(raw, cleaned, filename)
    return Article(
        id=article_id(cleaned),
        location=location,
        title=title or meta["title"] or filename,
        text=cleaned,
        language=language or detect_language(cleaned),
        published=published or meta["published"],
        byline=byline or meta["byline"],
        source=source or meta["source"],
        url=url,
    )


def load_source(src: SourceFile) -> tuple[list[Article], list[IngestError]]:
    """Read one file of the folder: its articles and what went wrong. A problem with
    the whole file gives no article and one error; a feed keeps its good lines."""
    try:
        with open(src.path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return [], [IngestError(src.relpath, "cannot read file: it no longer exists")]
    except OSError as err:
        return [], [IngestError(src.relpath, _os_reason(err))]
    ext = Path(src.relpath).suffix.lower()
    try:
        if ext == ".jsonl":
            return _load_jsonl(src, data)
        text = decode_bytes(data, src.relpath, html=ext in _HTML)
        if not text.strip():
            raise IngestError(src.relpath, "contains only whitespace")
        if ext in _HTML:
            return [_load_html(src, text)], []
        if ext == ".md":
            text = markdown_to_text(text)
        cleaned = clean_text(text)
        _check_usable(cleaned, text, src.relpath)
        return [_article(text, cleaned, src.relpath, src.relpath)], []
    except IngestError as err:
        return [], [err]


def _load_html(src: SourceFile, html: str) -> Article:
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            # No guessing from copyright years or free text: only dates the page states.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as err:  # lxml/trafilatura failures on odd markup: one message, not a traceback
        LOG.debug("trafilatura failed on %s", src.relpath, exc_info=True)
        reason = f"could not parse the HTML page ({type(err).__name__}: {err})"
        raise IngestError(src.relpath, reason) from None
    if doc is None or not (doc.text or "").strip():
        raise IngestError(src.relpath, "no article text found in the HTML page")
    raw = doc.text
    cleaned = clean_text(raw)
    title = " ".join((doc.title or "").split()) or None
    if title and not cleaned.startswith(title):
        cleaned = clean_text(f"{title}\n\n{raw}")
    _check_usable(cleaned, raw, src.relpath)
    published = parse_date(doc.date) if doc.date else None
    return _article(
        raw,
        cleaned,
        src.relpath,
        src.relpath,
        title=title,
        published=published,
        byline=" ".join((doc.author or "").split()) or None,
        source=doc.sitename or None,
        url=doc.url or None,
    )


def _optional_str(obj: dict, key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise IngestError(where, f"'{key}' must be a string, got {type(value).__name__}")
    return " ".join(value.split()) or None


def _load_jsonl(src: SourceFile, data: bytes) -> tuple[list[Article], list[IngestError]]:
    if not data:
        raise IngestError(src.relpath, "empty file (0 bytes)")
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise IngestError(src.relpath, f"binary file (NUL byte at offset {at}); expected UTF-8 JSON lines")
    if not data.strip():
        raise IngestError(src.relpath, "contains only whitespace")
    articles: list[Article] = []
    errors: list[IngestError] = []
    offset = 0
    for n, line_bytes in enumerate(data.split(b"\n"), start=1):
        where = f"{src.relpath} line {n}"
        start, offset = offset, offset + len(line_bytes) + 1
        if n == 1 and line_bytes.startswith(codecs.BOM_UTF8):
            line_bytes = line_bytes[len(codecs.BOM_UTF8) :]
        if not line_bytes.strip():
            continue
        try:
            try:
                line = line_bytes.decode("utf-8")
            except UnicodeDecodeError as err:
                raise IngestError(
                    where,
                    f"not UTF-8 text: byte 0x{line_bytes[err.start]:02x} at offset {start + err.start} "
                    "cannot be decoded",
                ) from None
            articles.append(_feed_article(src, line, n, where))
        except IngestError as err:
            errors.append(err)
    if not articles and not errors:
        errors.append(IngestError(src.relpath, "contains only whitespace"))
    return articles, errors


def _feed_article(src: SourceFile, line: str, n: int, where: str) -> Article:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise IngestError(where, f"not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(obj, dict):
        got = type(obj).__name__
        raise IngestError(where, f'not a JSON object (got {got}); expected {{"title": ..., "text": ...}}')
    for key in ("title", "text"):
        if key not in obj:
            raise IngestError(where, f"missing '{key}'")
        if not isinstance(obj[key], str):
            raise IngestError(where, f"'{key}' must be a string, got {type(obj[key]).__name__}")
        if not obj[key].strip():
            raise IngestError(where, f"'{key}' is empty")
    raw = obj["text"]
    cleaned = clean_text(raw)
    _check_usable(cleaned, raw, where)
    published_raw = _optional_str(obj, "published", where)
    published = parse_date(published_raw) if published_raw else None
    if published_raw and published is None:
        LOG.warning("%s: 'published' value %r is not a date; ignored", where, published_raw)
    language = _optional_str(obj, "language", where)
    if language is not None:
        language = language.lower().split("-")[0].split("_")[0]
        if not re.fullmatch(r"[a-z]{2}", language):
            LOG.warning("%s: 'language' %r is not an ISO 639-1 code; detecting instead", where, language)
            language = None
    return _article(
        raw,
        cleaned,
        f"{src.relpath}#L{n}",
        src.relpath,
        title=" ".join(obj["title"].split()),
        published=published,
        byline=_optional_str(obj, "byline", where) or _optional_str(obj, "author", where),
        source=_optional_str(obj, "source", where),
        url=_optional_str(obj, "url", where),
        language=language,
    )


# ---------------------------------------------------------------- markdown

_MD_IMAGE_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK_RE = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$", re.MULTILINE)
_MD_EMPHASIS_RE = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_QUOTE_RE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_MD_RULE_RE = re.compile(r"^[ \t]{0,3}(?:[-*_][ \t]*){3,}$", re.MULTILINE)


def markdown_to_text(md: str) -> str:
    """Markdown reduced to its text: ``"## Title\\n**Bold** [link](http://x)"`` ->
    ``"Title\\nBold link"``. Only the common inline and block marks; no full Markdown parser."""
    text = _MD_IMAGE_RE.sub("", md)
    text = _MD_LINK_RE.sub(r"\1", text)
    text = _MD_HEADING_RE.sub(r"\1", text)
    text = _MD_EMPHASIS_RE.sub(r"\2", text)
    text = _MD_QUOTE_RE.sub("", text)
    return _MD_RULE_RE.sub("", text)
