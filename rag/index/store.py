"""The index on disk: a self-describing folder, written whole and swapped in atomically.

Layout of ``index/``::

    CURRENT                 name of the build in use (replaced atomically)
    builds/<build>/
        manifest.json       format version, model id and dimension, chunking
                            parameters, counts, languages, build time, file checksums
        index.sqlite        articles, source files, sentences, chunks (no pickle)
        chunks.faiss        one normalised vector per chunk (row i = chunk id i)
        sentences.faiss     one normalised vector per sentence (row i = sentence id i)
    cache/embeddings.sqlite vectors by (model id, sha256 of text), shared by builds
    .lock                   held by a running ``rag index``

A build is written into ``builds/.tmp-*`` and renamed; ``CURRENT`` is then
replaced with ``os.replace``. A build killed at any moment therefore leaves the
previous build complete and in use. Vectors are L2-normalised, so the inner
product of ``IndexFlatIP`` is the cosine.

``Index.open`` loads everything into memory (the corpora this tool is meant for
are thousands of chunks, not millions), checks the manifest and the checksums,
and refuses an index built with another format or model with a message that
says what to run.

Where builds live is a *store*: :class:`FaissStore` (this folder, the default) or
``rag.index.milvus.MilvusStore`` (collections in Milvus, ``--store`` / ``RAG_STORE``);
:func:`open_store` picks one from the settings. Both give the same :class:`Index`. The index
folder keeps the local state either way: the build lock, the embedding cache, feedback.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, IndexWriteError
from rag.types import Article, Chunk, Sentence

LOG = logging.getLogger(__name__)

FORMAT = "rag-news-index"
FORMAT_VERSION = 2  # 2: articles.title_kind and articles.furniture
CURRENT = "CURRENT"
BUILDS = "builds"

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, location TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL,
    language TEXT NOT NULL, published TEXT, byline TEXT, source TEXT, url TEXT,
    title_kind TEXT NOT NULL, furniture TEXT NOT NULL
);
CREATE TABLE sources (relpath TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL);
CREATE TABLE source_articles (
    relpath TEXT NOT NULL, article_id TEXT NOT NULL, location TEXT NOT NULL,
    PRIMARY KEY (relpath, location)
);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    text TEXT NOT NULL, n_tokens INTEGER NOT NULL
);
CREATE INDEX sentences_article ON sentences(article_id);
CREATE INDEX chunks_article ON chunks(article_id);
"""


def _article_row(a: Article) -> tuple:
    return (a.id, a.location, a.title, a.text, a.language, a.published, a.byline, a.source, a.url)


def _furniture(raw: str) -> tuple[tuple[int, int, str], ...]:
    """The ``furniture`` column (JSON ``[[start, end, role], ...]``) as ``Article.furniture``."""
    return tuple((int(s), int(e), str(role)) for s, e, role in json.loads(raw))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def current_build(index_dir: Path) -> str | None:
    """The name of the build in use, or None when there is none. Cheap: one small read."""
    try:
        name = (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise IndexCorruptError(f"cannot read {Path(index_dir) / CURRENT}: {e.strerror}") from None
    return name or None


def read_manifest(index_dir: Path) -> tuple[Path, dict]:
    """The folder of the build in use and its manifest. Raises IndexMissingError / IndexCorruptError."""
    index_dir = Path(index_dir)
    name = current_build(index_dir)
    if name is None:
        raise IndexMissingError(f"no index in {index_dir}: run `rag index` to build it")
    folder = index_dir / BUILDS / name
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(
            f"the index in {index_dir} names build {name!r}, which is missing: run `rag index --full`"
        ) from None
    except (OSError, ValueError) as e:
        raise IndexCorruptError(
            f"the manifest of the index in {index_dir} is damaged ({e}): run `rag index --full`"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexCorruptError(
            f"{folder / 'manifest.json'} is not a rag-news index manifest: run `rag index --full`"
        )
    return folder, manifest


def check_compatible(manifest: dict, *, model_id: str | None, where: Path) -> None:
    """Refuse an index of another format version or model, saying what to run."""
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index in {where} has format version {version}, this program reads version "
            f"{FORMAT_VERSION}: run `rag index --full` to rebuild it"
        )
    built_with = manifest.get("model", {}).get("id")
    if model_id is not None and built_with != model_id:
        raise IndexMismatchError(
            f"the index in {where} was built with model {built_with!r}, but the model configured now is "
            f"{model_id!r}: run `rag index` to rebuild it with the configured model, or configure "
            f"{built_with!r} again (--model / RAG_MODEL)"
        )


BUILD_FILES = ("index.sqlite", "chunks.faiss", "sentences.faiss")


def verify_build(folder: Path, manifest: dict, index_dir: Path) -> None:
    """Check every file of a build against the manifest's SHA-256 checksums: IndexCorruptError
    naming the first file that is missing or damaged, or a manifest that lists no checksums."""
    files = manifest.get("files")
    if not isinstance(files, dict) or any(not isinstance(files.get(name), str) for name in BUILD_FILES):
        raise IndexCorruptError(
            f"the manifest of the index in {index_dir} lists no checksums for its files, so damage "
            "cannot be detected: run `rag index --full` to rebuild the index"
        )
    for name in BUILD_FILES:
        path = folder / name
        try:
            digest = sha256_file(path)
        except FileNotFoundError:
            raise IndexCorruptError(
                f"{path} is missing: run `rag index --full` to rebuild the index"
            ) from None
        except OSError as e:
            raise IndexCorruptError(
                f"{path} cannot be read ({e.strerror}): run `rag index --full` to rebuild the index"
            ) from None
        if digest != files[name]:
            raise IndexCorruptError(
                f"{path} is damaged (its checksum does not match the manifest): "
                "run `rag index --full` to rebuild the index"
            )


@contextmanager
def _read_db(folder: Path, index_dir: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a build's database; damage becomes IndexCorruptError."""
    try:
        con = sqlite3.connect(f"file:{folder / 'index.sqlite'}?mode=ro", uri=True)
        try:
            yield con
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise IndexCorruptError(
            f"the database of the index in {index_dir} is damaged ({e}): run `rag index --full`"
        ) from None


@dataclass
class Index:
    """A loaded, read-only index build. Row i of each vector matrix belongs to id i."""

    folder: Path
    manifest: dict
    articles: dict[str, Article]
    sentences: list[Sentence]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sources: dict[str, str] = field(default_factory=dict)  # relpath -> sha256
    source_articles: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (relpath, article_id, location)
    _faiss: object = field(default=None, repr=False)
    _article_sentences: dict[str, range] = field(default_factory=dict, repr=False)
    build: str | None = None  # the build's name when it has no folder of its own (a Milvus build)

    @property
    def build_id(self) -> str:
        return self.build or self.folder.name

    @property
    def model_id(self) -> str:
        return self.manifest["model"]["id"]

    @classmethod
    def open(cls, index_dir: Path, *, model_id: str | None = None, verified: bool = False) -> Index:
        """Load the build in use, after :func:`verify_build` (skipped when the caller has just run
        it: ``verified``)."""
        import faiss

        index_dir = Path(index_dir)
        folder, manifest = read_manifest(index_dir)
        check_compatible(manifest, model_id=model_id, where=index_dir)
        if not verified:
            verify_build(folder, manifest, index_dir)
        with _read_db(folder, index_dir) as con:
            articles = {
                row[0]: Article(*row[:-1], furniture=_furniture(row[-1]))
                for row in con.execute(
                    "SELECT id, location, title, text, language, published, byline, source, url, title_kind, "
                    "furniture FROM articles ORDER BY id"
                )
            }
            sentences = [
                Sentence(a, s, e, t)
                for a, s, e, t in con.execute(
                    'SELECT article_id, start, "end", text FROM sentences ORDER BY id'
                )
            ]
            chunks = [
                Chunk(a, s, e, t, n, i)
                for i, a, s, e, t, n in con.execute(
                    'SELECT id, article_id, start, "end", text, n_tokens FROM chunks ORDER BY id'
                )
            ]
            sources = dict(con.execute("SELECT relpath, sha256 FROM sources"))
            source_articles = list(
                con.execute(
                    "SELECT relpath, article_id, location FROM source_articles ORDER BY relpath, location"
                )
            )
        try:
            chunk_index = faiss.read_index(str(folder / "chunks.faiss"))
            sentence_index = faiss.read_index(str(folder / "sentences.faiss"))
        except RuntimeError as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else "unreadable"
            raise IndexCorruptError(
                f"the vector file of the index in {index_dir} is damaged ({first}): run `rag index --full`"
            ) from None
        dim = manifest["model"]["dim"]
        if (
            chunk_index.ntotal != len(chunks)
            or sentence_index.ntotal != len(sentences)
            or chunk_index.d != dim
        ):
            raise IndexCorruptError(
                f"the index in {index_dir} is inconsistent (vectors and records disagree): "
                "run `rag index --full`"
            )
        return cls.assemble(
            folder,
            manifest,
            articles,
            sentences,
            chunks,
            _all_vectors(chunk_index),
            _all_vectors(sentence_index),
            sources,
            source_articles,
            chunk_index,
        )

    @classmethod
    def assemble(
        cls,
        folder: Path,
        manifest: dict,
        articles: dict[str, Article],
        sentences: list[Sentence],
        chunks: list[Chunk],
        chunk_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        sources: dict[str, str],
        source_articles: list[tuple[str, str, str]],
        chunk_index: object = None,
        build: str | None = None,
    ) -> Index:
        """An index from its records, as a store reads them (``chunk_index``: a FAISS index of
        ``chunk_vectors``, made here when None)."""
        if chunk_index is None:
            import faiss

            chunk_index = faiss.IndexFlatIP(chunk_vectors.shape[1] if chunk_vectors.ndim == 2 else 1)
            if len(chunk_vectors):
                chunk_index.add(np.ascontiguousarray(chunk_vectors, dtype=np.float32))
        index = cls(
            folder=folder,
            manifest=manifest,
            articles=articles,
            sentences=sentences,
            chunks=chunks,
            chunk_vectors=chunk_vectors,
            sentence_vectors=sentence_vectors,
            sources=sources,
            source_articles=source_articles,
            _faiss=chunk_index,
            build=build,
        )
        index._article_sentences = _ranges(sentences)
        return index

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k chunks nearest to a normalised query vector: (chunk id, cosine), best first."""
        if not self.chunks or k <= 0:
            return []
        q = np.ascontiguousarray(query_vector, dtype=np.float32).reshape(1, -1)
        scores, ids = self._faiss.search(q, min(k, len(self.chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def sentence_ids(self, article_id: str) -> range:
        """The ids of an article's sentences, in text order."""
        return self._article_sentences.get(article_id, range(0))

    def sentence_ids_in(self, chunk: Chunk) -> list[int]:
        """The ids of the sentences inside a chunk, in text order."""
        return [
            i
            for i in self.sentence_ids(chunk.article_id)
            if self.sentences[i].start >= chunk.start and self.sentences[i].end <= chunk.end
        ]


def _all_vectors(index: object) -> np.ndarray:
    n, d = index.ntotal, index.d  # type: ignore[attr-defined]
    if n == 0:
        return np.zeros((0, d), dtype=np.float32)
    return index.reconstruct_n(0, n)  # type: ignore[attr-defined]


def _ranges(sentences: Sequence[Sentence]) -> dict[str, range]:
    out: dict[str, range] = {}
    start = 0
    for i in range(1, len(sentences) + 1):
        if i == len(sentences) or sentences[i].article_id != sentences[start].article_id:
            out[sentences[start].article_id] = range(start, i)
            start = i
    return out


@dataclass
class BuildContent:
    """Everything a new build holds; ids are assigned by position when written."""

    articles: list[Article]
    sources: dict[str, tuple[str, int]]  # relpath -> (sha256, size)
    source_articles: list[tuple[str, str, str]]  # (relpath, article_id, location)
    sentences: list[Sentence]  # grouped by article, in text order
    chunks: list[Chunk]
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray


def write_build(index_dir: Path, content: BuildContent, manifest: dict) -> str:
    """Write a complete build and make it current atomically. Returns the build name.

    Order: a temp folder gets every file (fsynced), the manifest last; the folder
    is renamed into ``builds/``; ``CURRENT`` is replaced. A crash before the last
    step leaves the previous build current; the next build clears the leftovers. A write that
    fails (disk full, no permission) removes the partial build and raises ``IndexWriteError``.
    """
    index_dir = Path(index_dir)
    builds = index_dir / BUILDS
    name = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}-{time.time_ns() % 1_000_000:06d}"
    tmp = builds / f".tmp-{name}"
    try:
        builds.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        _write_files(tmp, content, manifest)
        os.rename(tmp, builds / name)
        _fsync_dir(builds)
        pointer = index_dir / f".{CURRENT}.tmp"
        with open(pointer, "w", encoding="utf-8") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer, index_dir / CURRENT)
        _fsync_dir(index_dir)
    except (OSError, sqlite3.Error, RuntimeError) as e:  # faiss reports a failed write as RuntimeError
        shutil.rmtree(tmp, ignore_errors=True)  # a renamed build that is not current is pruned later
        raise IndexWriteError(write_failure(index_dir, e)) from None
    return name


def write_failure(index_dir: Path, err: BaseException) -> str:
    """The message for a build that could not be written."""
    text = str(err).strip()
    reason = getattr(err, "strerror", None) or (text.splitlines()[-1] if text else type(err).__name__)
    return (
        f"cannot write the new index in {index_dir} ({reason}); the index in use is unchanged: "
        "free disk space (or fix the folder's permissions) and run `rag index` again"
    )


def _write_files(tmp: Path, content: BuildContent, manifest: dict) -> None:
    """Every file of a build into ``tmp``, fsynced, the manifest last."""
    import faiss

    db = sqlite3.connect(tmp / "index.sqlite")
    try:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (*_article_row(a), a.title_kind, json.dumps([list(r) for r in a.furniture]))
                for a in content.articles
            ],
        )
        db.executemany(
            "INSERT INTO sources VALUES (?,?,?)", [(r, s, n) for r, (s, n) in sorted(content.sources.items())]
        )
        db.executemany("INSERT INTO source_articles VALUES (?,?,?)", content.source_articles)
        db.executemany(
            "INSERT INTO sentences VALUES (?,?,?,?,?)",
            [(i, s.article_id, s.start, s.end, s.text) for i, s in enumerate(content.sentences)],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?)",
            [(i, c.article_id, c.start, c.end, c.text, c.n_tokens) for i, c in enumerate(content.chunks)],
        )
        db.commit()
    finally:
        db.close()
    dim = manifest["model"]["dim"]
    for fname, vectors in (
        ("chunks.faiss", content.chunk_vectors),
        ("sentences.faiss", content.sentence_vectors),
    ):
        flat = faiss.IndexFlatIP(dim)  # vectors are normalised: inner product == cosine
        if len(vectors):
            flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(flat, str(tmp / fname))
    manifest = dict(manifest)
    manifest["files"] = {f: sha256_file(tmp / f) for f in BUILD_FILES}
    (tmp / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    _fsync_tree(tmp)


def prune_builds(index_dir: Path, keep: int = 2) -> None:
    """Remove leftovers of killed builds and all but the ``keep`` newest complete builds.

    The build in use is never removed. Call only while holding the build lock.
    """
    builds = Path(index_dir) / BUILDS
    if not builds.is_dir():
        return
    in_use = current_build(index_dir)
    complete = sorted(p for p in builds.iterdir() if p.is_dir() and not p.name.startswith("."))
    doomed = [p for p in builds.iterdir() if p.name.startswith(".tmp-")]
    doomed += [p for p in complete[:-keep] if p.name != in_use]
    for p in doomed:
        shutil.rmtree(p, ignore_errors=True)
    stale_pointer = Path(index_dir) / f".{CURRENT}.tmp"
    stale_pointer.unlink(missing_ok=True)


def _fsync_tree(folder: Path) -> None:
    for p in folder.iterdir():
        with open(p, "rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_sources(index_dir: Path) -> dict[str, str] | None:
    """relpath -> sha256 of the files in the current build, without loading vectors; None if no index."""
    try:
        folder, _ = read_manifest(index_dir)
    except IndexMissingError:
        return None
    with _read_db(folder, index_dir) as con:
        return dict(con.execute("SELECT relpath, sha256 FROM sources"))


class FaissStore:
    """The builds in the index folder (the layout above): the default store.

    The interface every store has, used by ``rag index``, ``rag status``, the pipeline and the
    app: ``current`` (the build in use, cheap), ``identity`` (a build told apart from a rewrite
    of it), ``manifest`` (the build in use and its manifest, checked), ``sources``, ``open``,
    ``write``, ``prune`` and ``describe``.
    """

    kind = "faiss"

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)

    def describe(self) -> str:
        return str(self.index_dir.resolve())

    def current(self) -> str | None:
        return current_build(self.index_dir)

    def identity(self, name: str) -> tuple[str, int | None]:
        """The build's name and its manifest's modification time."""
        try:
            mtime = (self.index_dir / BUILDS / name / "manifest.json").stat().st_mtime_ns
        except OSError:
            mtime = None
        return name, mtime

    def manifest(self, *, verify: bool = True) -> dict:
        """The manifest of the build in use, after checking the build's files (``verify``)."""
        folder, manifest = read_manifest(self.index_dir)
        if verify:
            verify_build(folder, manifest, self.index_dir)
        return manifest

    def sources(self) -> dict[str, str] | None:
        return read_sources(self.index_dir)

    def open(self, *, model_id: str | None = None, verified: bool = False) -> Index:
        return Index.open(self.index_dir, model_id=model_id, verified=verified)

    def write(self, content: BuildContent, manifest: dict) -> str:
        return write_build(self.index_dir, content, manifest)

    def prune(self, keep: int = 2) -> None:
        prune_builds(self.index_dir, keep)


def open_store(settings: object) -> FaissStore:
    """The store ``settings.store`` names: :class:`FaissStore` on ``settings.index_dir`` for
    "faiss", else ``rag.index.milvus.MilvusStore`` on the Milvus URI (imported only then)."""
    where = getattr(settings, "store", "faiss")
    if where == "faiss":
        return FaissStore(settings.index_dir)  # type: ignore[attr-defined]
    from rag.index.milvus import MilvusStore

    return MilvusStore(where, settings.index_dir)  # type: ignore[attr-defined,return-value]


def _unit_or_zero(vec: np.ndarray) -> bool:
    norm = float(np.linalg.norm(vec.astype(np.float64)))  # NaN and inf fail both tests
    return abs(norm - 1.0) < 1e-3 or norm == 0.0


class EmbeddingCache:
    """Vectors by (model id, sha256 of text) in SQLite; each batch is committed as it is stored,
    so work done before a crash is not lost."""

    TABLE = (
        "CREATE TABLE IF NOT EXISTS vectors ("
        "model TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, key))"
    )

    def __init__(self, path: Path, model_id: str, dim: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.model_id, self.dim = path, model_id, dim
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError as e:
            LOG.warning("embedding cache %s is damaged (%s); starting a new one", path, e)
            path.unlink(missing_ok=True)
            self._db = self._open(path)

    @classmethod
    def _open(cls, path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path)
        db.execute(cls.TABLE)
        db.commit()
        return db

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors by key; a vector of the wrong size or length (damaged) counts as missing."""
        keys = list(dict.fromkeys(keys))
        out: dict[str, np.ndarray] = {}
        damaged = 0
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            for key, blob in self._db.execute(
                f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})",
                [self.model_id, *part],
            ):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self.dim,) and _unit_or_zero(vec):
                    out[key] = vec
                else:
                    damaged += 1
        if damaged:
            LOG.warning(
                "embedding cache: %d damaged vectors ignored; their texts are embedded again", damaged
            )
        return out

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [(self.model_id, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items]
        try:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?)", rows)
            self._db.commit()
        except sqlite3.OperationalError as e:  # "database or disk is full", a read-only folder
            self._db.rollback()
            raise IndexWriteError(write_failure(self.path.parent, e)) from None

    def close(self) -> None:
        self._db.close()
