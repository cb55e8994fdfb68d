"""The articles folder as the app changes it: files uploaded from the browser saved into it,
indexed articles removed from it, the list of what the index holds, and the upload token.

    result = save_uploads([("ferry.txt", "/tmp/gradio/…/ferry.txt")], settings.articles_dir)
    result.added            # ["ferry.txt"]: written into the articles folder, to be indexed
    result.refused          # [Refused("x.bin", "unsupported file type .bin; supported: …")]
    remove_article("ferry.txt", settings.articles_dir, trash_dir(settings.index_dir), index.sources)
    indexed_articles(index) # one ArticleRow per (file, article) the index lists
    token_ok(expected, given)

No Gradio here (``rag.present.manage`` builds the panel around these functions). Every upload is
checked by the code ``rag index`` reads files with (``rag.index.ingest``): its type, size,
encoding, binary content, emptiness and, for a feed, every line, so a refused file gets the
message ``rag index`` would print. A file is written only when all of it can be indexed, and
only as a plain file name inside the articles folder, atomically (a hidden temporary file there,
which ``rag index`` skips, then a link to the final name, which never replaces a file).

A removed file is not deleted: it is moved into ``<index>/removed/<time>/`` with its folders.

Uploads and removals change the articles folder, so when the app is reachable from other
machines they need a token (:func:`resolve_token`): the app prints it at start.
"""

from __future__ import annotations

import datetime as dt
import errno
import hmac
import os
import secrets
import shutil
import unicodedata
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import IngestError
from rag.index import ingest
from rag.present.render import nice_date, shown_title
from rag.types import Article

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # per file (``rag index`` itself reads files of up to 50 MB)
MAX_UPLOAD_FILES = 20  # per upload
# What Gradio itself accepts into its temporary folder before our checks run: bigger is refused there.
GRADIO_MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NAME_BYTES = 200  # file systems allow 255; room for the hidden temporary name
ACCEPTED = ingest.SUPPORTED
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
TRASH = "removed"  # folder of the index folder that removed articles are moved into
TOKEN_REFUSED = "Wrong or missing upload token: nothing was changed. The app printed the token at start."


# ---------------------------------------------------------------------------
# The upload token


def needs_token(host: str, *, share: bool = False) -> bool:
    """Whether changing the articles from the browser needs a token: the app is bound to an
    address other machines can reach (or shared through a public link)."""
    return share or host.strip().lower() not in LOOPBACK


def resolve_token(
    host: str, flag: str | None = None, env: Mapping[str, str] | None = None, *, share: bool = False
) -> tuple[str | None, bool]:
    """The token that uploads, removals and "Update index" need, and whether it was made up here
    (the app then prints it). ``flag`` (``--token``) first, then ``RAG_TOKEN``; a token that is set
    is always required. Else none on a loopback address, a random one on any other."""
    env = os.environ if env is None else env
    for given in (flag, env.get("RAG_TOKEN")):
        if given is not None and given.strip():
            return given.strip(), False
    if not needs_token(host, share=share):
        return None, False
    return secrets.token_urlsafe(18), True


def token_ok(expected: str | None, given: object) -> bool:
    """Whether ``given`` is the token (compared in constant time); always True when none is needed."""
    if expected is None:
        return True
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8"))


# ---------------------------------------------------------------------------
# Uploads


@dataclass(frozen=True)
class Refused:
    """A file that was not saved, and why (``rag index``'s wording where it has one)."""

    name: str
    reason: str

    def __str__(self) -> str:
        sep = " " if self.reason.startswith("line ") else ": "  # "feed.jsonl line 3: ...", as rag index
        return f"{self.name}{sep}{self.reason}"


@dataclass
class UploadResult:
    added: list[str] = field(default_factory=list)  # names written into the articles folder
    refused: list[Refused] = field(default_factory=list)
    articles: int = 0  # articles in the files added (a feed holds several)

    def summary(self) -> str:
        """'Added 2 files (2 articles); refused 1.' or 'No file added; refused 3.'"""
        if self.added:
            what = f"Added {len(self.added)} file(s) ({self.articles} article(s))"
        else:
            what = "No file added"
        return what + (f"; refused {len(self.refused)}." if self.refused else ".")


def limits_text() -> str:
    """The upload limits in words, as the panel states them."""
    return (
        f"{', '.join(ACCEPTED)} files; at most {MAX_UPLOAD_FILES} files per upload and "
        f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB per file. UTF-8 text; a .jsonl feed holds one "
        '{"title": ..., "text": ...} object per line.'
    )


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the name of a file saved at the root of the articles folder, or None.

    >>> name_problem("../../x.txt")
    'the name has a folder part ("../../x.txt"); only a plain file name is accepted'
    """
    shown = ingest.shown_name(name)[:80]
    if not name or not name.strip():
        return "the file has no name"
    if "\x00" in name or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        return "the name contains control characters; rename the file"
    if "/" in name or "\\" in name or name in (".", "..") or os.path.isabs(name):
        return f'the name has a folder part ("{shown}"); only a plain file name is accepted'
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "the name is not valid UTF-8 text; rename it"
    if name.startswith("."):
        return 'hidden file name (starts with "."): `rag index` skips such files; rename it'
    if name != name.strip():
        return "the name starts or ends with a space; rename it"
    if size > MAX_NAME_BYTES:
        return f"the name is too long ({size} bytes; at most {MAX_NAME_BYTES})"
    ext = Path(name).suffix.lower()
    if ext not in ACCEPTED:
        kind = f"unsupported file type {ext}" if ext else "unsupported file type (no extension)"
        return f"{kind}; supported: {', '.join(ACCEPTED)}"
    if name.lower() in ingest.ROOT_SKIP:
        return "a README.md at the folder's root describes the folder and is not indexed; rename the file"
    return None


def save_uploads(files: Iterable[tuple[str, str | Path]], articles_dir: Path) -> UploadResult:
    """Save the uploaded ``files`` ((original name, temporary path) pairs) that can be indexed into
    ``articles_dir``; the others are refused with the reason. Never overwrites a file, never writes
    outside ``articles_dir``, never leaves a partial file."""
    files = list(files)
    result = UploadResult()
    if len(files) > MAX_UPLOAD_FILES:
        result.refused = [
            Refused(
                ingest.shown_name(str(name)),
                f"too many files at once ({len(files)}; at most {MAX_UPLOAD_FILES}); nothing saved",
            )
            for name, _ in files
        ]
        return result
    folder = Path(articles_dir).expanduser()
    if not folder.is_dir():
        raise IngestError(str(folder), "articles folder does not exist")
    root = folder.resolve()
    for name, temp in files:
        name = str(name)
        try:
            n_articles = _save_one(name, Path(temp), root)
        except IngestError as e:
            result.refused.append(Refused(ingest.shown_name(name), e.reason))
        else:
            result.added.append(name)
            result.articles += n_articles
    return result


def _save_one(name: str, temp: Path, root: Path) -> int:
    """Check one upload and link it into ``root`` under ``name``; its number of articles."""
    if problem := name_problem(name):
        raise IngestError(name, problem)
    final = root / name
    if final.parent != root:  # name_problem refuses folder parts: never reached
        raise IngestError(name, "the name has a folder part; only a plain file name is accepted")
    if os.path.lexists(final):
        raise IngestError(
            name, f"{name} already exists in the articles folder; remove it first or rename the file"
        )
    try:
        size = temp.stat().st_size
    except OSError as e:
        raise IngestError(name, f"the upload cannot be read ({e.strerror or e})") from None
    if size > MAX_UPLOAD_BYTES:
        raise IngestError(name, f"file too large ({size:,} bytes; at most {MAX_UPLOAD_BYTES:,} per upload)")
    staged = root / f".upload-{uuid.uuid4().hex}{Path(name).suffix.lower()}"
    try:
        try:
            shutil.copyfile(temp, staged)
        except OSError as e:
            raise IngestError(name, f"could not be saved ({e.strerror or e})") from None
        src, error = ingest._source_file(staged, name)  # rag index's checks of type, size and kind
        if error is not None:
            raise error
        assert src is not None
        articles, errors = ingest.load_source(src)
        if errors:
            reason = "; ".join(_reason(e, name) for e in errors[:5]) + _more(errors, 5)
            if articles:  # a feed with good and bad lines: all of it or nothing
                reason += (
                    f" (the other {len(articles)} line(s) are fine; fix these and upload the file again)"
                )
            raise IngestError(name, reason)
        try:
            os.link(staged, final)  # fails when the name exists: never replaces a file
        except FileExistsError:
            raise IngestError(
                name, f"{name} already exists in the articles folder; remove it first or rename the file"
            ) from None
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV):
                raise IngestError(name, f"could not be saved ({e.strerror or e})") from None
            # A file system without hard links: the name was free a moment ago.
            if os.path.lexists(final):
                raise IngestError(
                    name, f"{name} already exists in the articles folder; remove it first or rename the file"
                ) from None
            os.replace(staged, final)
        return len(articles)
    finally:
        staged.unlink(missing_ok=True)


def _reason(err: IngestError, name: str) -> str:
    """An error of ``load_source`` without the file name the caller puts first ("line 3: ...")."""
    where = err.location.removeprefix(name).strip()
    return f"{where}: {err.reason}" if where else err.reason


def _more(errors: list, shown: int) -> str:
    return f"; and {len(errors) - shown} more" if len(errors) > shown else ""


# ---------------------------------------------------------------------------
# Removing


def trash_dir(index_dir: Path) -> Path:
    """Where removed articles go: ``<index>/removed``."""
    return Path(index_dir) / TRASH


def remove_article(relpath: str, articles_dir: Path, trash: Path, indexed: Collection[str]) -> Path:
    """Move the indexed file ``relpath`` (a path relative to ``articles_dir`` that ``indexed``, the
    index's sources, lists) into ``trash/<time>/relpath``; returns where it went. Anything else, a
    file outside the folder, a link or a folder, is an ``IngestError`` and nothing moves."""
    rel = str(relpath or "").split("#", 1)[0]  # "feed.jsonl#L3" names its feed
    if rel not in indexed:
        raise IngestError(rel or "(none)", "not a file of the index; nothing was removed")
    root = Path(articles_dir).expanduser().resolve()
    path = root / rel
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not path.resolve().is_relative_to(root):
        raise IngestError(rel, "not inside the articles folder; nothing was removed")
    if path.is_symlink() or not path.is_file():
        what = "no longer exists" if not os.path.lexists(path) else "is not a plain file"
        raise IngestError(rel, f"{what} in the articles folder; nothing was removed")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-%f")
    dest = Path(trash) / stamp / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(path, dest)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise IngestError(rel, f"could not be moved ({e.strerror or e}); nothing was removed") from None
        shutil.move(str(path), str(dest))  # the index on another file system
    return dest


# ---------------------------------------------------------------------------
# The list of indexed articles


@dataclass(frozen=True)
class ArticleRow:
    """One article the index holds, as the panel lists it."""

    title: str  # marked when it is a stand-in (no headline)
    outlet: str  # or "unknown"
    date: str  # as precise as known: "19 January 2026", "January 2026", "2026"; or "unknown"
    language: str  # the code, "und" when unknown
    file: str  # the file's path in the articles folder (a feed: "feed.jsonl#L3")
    relpath: str  # the file to remove for this article
    article_id: str


def indexed_articles(index: object) -> list[ArticleRow]:
    """The articles of an ``Index`` (or a ``Pipeline``'s), one row per file and article, by file."""
    index = getattr(index, "index", index)
    articles: Mapping[str, Article] = index.articles
    rows = []
    for relpath, article_id, location in index.source_articles:
        a = articles.get(article_id)
        if a is None:
            continue
        rows.append(
            ArticleRow(
                title=shown_title(a.title, a.title_kind, a.location),
                outlet=a.source or "unknown",
                date=nice_date(a.published) or "unknown",
                language=a.language or "und",
                file=location or relpath,
                relpath=relpath,
                article_id=article_id,
            )
        )
    return sorted(rows, key=lambda r: (r.relpath, r.file))
