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
  rather than skipped silently. A symbolic link (to a file or a folder) that
  points outside the folder is reported and skipped; one that points inside is
  skipped quietly, its target being read under its own name, once. A name that
  is not UTF-8 is reported. A missing folder raises ``IngestError``.
* Text must be UTF-8 (a UTF-8 or UTF-16 byte-order mark is honoured); HTML may
  declare another charset in a ``<meta charset>``. A file with NUL bytes is
  binary. Errors name the file, and for feeds the line, and say what is wrong:
  "empty file", "contains only whitespace", "not UTF-8 text: byte 0xe9 at
  offset 12 ...", "binary file", "too little text after removing page debris".
* ``Article.text`` and ``Article.furniture`` (captions, photo credits, datelines:
  kept in the text, never quoted) are ``rag.index.clean.clean_article`` of the
  file's text; every later offset refers to that text. ``Article.id`` is
  :func:`article_id` of that text, so the same article saved twice has one id.
  The headline, when the text starts with one, stays in the text (it can be
  cited); for HTML the page title is put back in front of the main text when
  trafilatura left it out. A feed line's text is
  taken as given (cleaned), its title is not added to the text.
* ``Article.location`` is the relative path, ``relpath#L<n>`` for line n of a
  feed; a feed line's URL goes to ``Article.url``.
* Metadata: a feed line's own fields first, then trafilatura's (HTML), then
  what ``rag.index.meta`` finds in the text, the URL and the file name (see
  there). A feed's or page's title is a headline (``title_kind`` "headline");
  otherwise ``rag.index.meta`` says whether the text starts with one ("lead" or
  "file" when not). A page's site name counts as its outlet, except a bare host
  name not in ``NEWS_DOMAINS``; a feed line's dates never come from the feed's
  file name. A ``published`` of month or year precision ("2026-01", "2026") is
  kept as such. The language is the feed's ``language`` field when it is a
  two-letter code, else ``rag.index.language``.
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
from rag.index.clean import clean_article
from rag.index.language import detect_language, script_counts
from rag.index.meta import extract_metadata, parse_partial_date, site_outlet
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


def shown_name(name: str) -> str:
    """A file name as it can be printed: bytes that are not UTF-8 (kept by the file system as
    surrogate escapes) shown as ``\\xff``."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
    # An explicit stack, not os.walk: Python 3.11's os.walk recurses once per folder level.
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        here, prefix = stack.pop()
        try:
            with os.scandir(here) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as err:
            where = prefix.rstrip("/") or str(root)
            errors.append(IngestError(where, f"cannot read folder: {err.strerror or err}"))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            rel = prefix + name
            if not _is_utf8(name):
                errors.append(
                    IngestError(shown_name(rel), "the name is not valid UTF-8 text; rename it to index it")
                )
                continue
            path = here / name
            if entry.is_symlink():
                problem = _link_problem(path, root)
                if problem:
                    errors.append(IngestError(rel, problem))
                else:
                    LOG.info("%s: a link to %s, read there", rel, path.resolve().relative_to(root))
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append((path, rel + "/"))
                continue
            if not prefix and name.lower() in ROOT_SKIP:
                continue
            source, error = _source_file(path, rel)
            if source is not None:
                found.append(source)
            if error is not None:
                errors.append(error)
    found.sort(key=lambda s: s.relpath)
    errors.sort(key=lambda e: e.location)
    LOG.debug("scanned %s: %d files, %d problems", root, len(found), len(errors))
    return found, errors


def _link_problem(path: Path, root: Path) -> str | None:
    """Why a symbolic link in the folder is skipped with a message (None: it points inside the
    folder, whose walk reads its target under the target's own name, once)."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a loop of links
        return "symbolic link that cannot be followed (a loop or unreadable); skipped"
    if not target.is_relative_to(root):
        kind = "folder" if target.is_dir() else "file"
        return f"symbolic link to a {kind} outside the articles folder; skipped"
    if not target.exists():
        return "cannot read file: broken link or file vanished"
    return None


def _source_file(path: Path, rel: str) -> tuple[SourceFile | None, IngestError | None]:
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        kind = f"unsupported file type {ext}" if ext else "unsupported file type (no extension)"
        return None, IngestError(rel, f"{kind}; supported: {_supported_list()}")
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            return None, IngestError(rel, "not a regular file")
        if st.st_size > MAX_BYTES:
            return None, IngestError(rel, f"file too large ({st.st_size:,} bytes; at most {MAX_BYTES:,})")
        digest = _hash_file(path)
    except FileNotFoundError:
        return None, IngestError(rel, "cannot read file: broken link or file vanished")
    except OSError as err:
        return None, IngestError(rel, _os_reason(err))
    return SourceFile(relpath=rel, path=path, sha256=digest, size=st.st_size), None


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


def _check_usable(cleaned: str, raw: str, location: str, furniture: tuple = ()) -> None:
    """Enough letters of prose: furniture (a byline, a caption) alone is not an article."""
    if not raw.strip():
        raise IngestError(location, "contains only whitespace")
    n = _letters(cleaned) - sum(_letters(cleaned[start:end]) for start, end, _role in furniture)
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
    file_dates: bool = True,
    furniture: tuple[tuple[int, int, str], ...] = (),
) -> Article:
    stated = {"title": title, "published": published, "source": source, "url": url}
    meta = extract_metadata(raw, cleaned, filename, **stated, file_dates=file_dates, furniture=furniture)
    return Article(
        id=article_id(cleaned),
        location=location,
        title=meta["title"] or filename,
        title_kind=meta["title_kind"] or "file",
        text=cleaned,
        language=language or detect_language(cleaned),
        published=meta["published"],
        byline=byline or meta["byline"],
        source=meta["source"],
        url=url,
        furniture=furniture,
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
        cleaned, furniture = clean_article(text)
        _check_usable(cleaned, text, src.relpath, furniture)
        return [_article(text, cleaned, src.relpath, src.relpath, furniture=furniture)], []
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
    cleaned, furniture = clean_article(raw)
    title = " ".join((doc.title or "").split()) or None
    if title and not cleaned.startswith(title):
        cleaned, furniture = clean_article(f"{title}\n\n{raw}")
    _check_usable(cleaned, raw, src.relpath, furniture)
    published = parse_partial_date(doc.date) if doc.date else None
    return _article(
        raw,
        cleaned,
        src.relpath,
        src.relpath,
        title=title,
        published=published,
        byline=" ".join((doc.author or "").split()) or None,
        source=site_outlet(doc.sitename),
        url=doc.url or None,
        furniture=furniture,
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
        what = err.msg.removesuffix(" at")  # "Unterminated string starting at": its position follows
        raise IngestError(where, f"not valid JSON ({what} at column {err.colno})") from None
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
    cleaned, furniture = clean_article(raw)
    _check_usable(cleaned, raw, where, furniture)
    published_raw = _optional_str(obj, "published", where)
    published = parse_partial_date(published_raw) if published_raw else None
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
        file_dates=False,
        furniture=furniture,
    )


# ---------------------------------------------------------------- markdown

# Images, links and bold text: each pattern stops where its next attempt could start (link and
# image text hold no bracket, a link target no "](", bold text not its own marker), so no failed
# attempt reads past the next one's start: linear even on long lines with unclosed marks.
# A link target may hold one level of parentheses ("https://en.wikipedia.org/wiki/Seoul_(city)").
_MD_TARGET = r"\((?:[^()\]]|\](?!\()|\([^()\]]*\))*+\)"
_MD_IMAGE_RE = re.compile(r"!\[[^\[\]]*\]" + _MD_TARGET)
_MD_LINK_RE = re.compile(r"\[([^\[\]]+)\]" + _MD_TARGET)
_MD_EMPHASIS_RE = re.compile(
    r"\*\*(?=\S)((?:[^*\n]|\*(?!\*))++)(?<=\S)\*\*|__(?=\S)((?:[^_\n]|_(?!_))++)(?<=\S)__"
)
_MD_HEADING_RE = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*)$", re.MULTILINE)  # closing "#"s: _heading_text
_MD_QUOTE_RE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_MD_RULE_RE = re.compile(r"^[ \t]{0,3}(?:[-*_][ \t]*){3,}$", re.MULTILINE)


def _heading_text(m: re.Match) -> str:
    """A heading's text without its closing "#"s and the blanks around them, stripped in that order
    rather than by the pattern: three optional runs in a row at the end of a pattern are tried
    against each other at every position of a long line of blanks (cubic in its length)."""
    return m[1].rstrip(" \t").rstrip("#").rstrip(" \t")


def markdown_to_text(md: str) -> str:
    """Markdown reduced to its text: ``"## Title\\n**Bold** [link](http://x)"`` ->
    ``"Title\\nBold link"``. Only the common inline and block marks; no full Markdown parser.
    Marks inside a mark of the same kind keep the outer one as written, as CommonMark does:
    ``"**a **b**"`` -> ``"**a b"``, ``"[a [b](u)"`` -> ``"[a b"``."""
    text = _MD_IMAGE_RE.sub("", md)
    text = _MD_LINK_RE.sub(r"\1", text)
    text = _MD_HEADING_RE.sub(_heading_text, text)
    text = _MD_EMPHASIS_RE.sub(lambda m: m[1] if m[1] is not None else m[2], text)
    text = _MD_QUOTE_RE.sub("", text)
    return _MD_RULE_RE.sub("", text)
