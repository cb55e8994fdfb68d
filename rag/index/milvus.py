"""The index in Milvus: the same builds as ``rag.index.store``, kept as collections.

``--store`` (``RAG_STORE``) names the Milvus: a Milvus Lite folder ending in ``.db`` (embedded
in the process by ``milvus-lite``: laptops and tests; one process at a time) or
``http://host:19530`` (Milvus Standalone or Distributed, or ``milvus-lite server``, which several
app replicas and ``rag index`` share). The same ``pymilvus`` client code serves both.

Collections (``P`` is ``rag_`` and the index folder's name, so ``rag_index`` by default; ``B``
a build's name, ``bYYYYmmddTHHMMSS_pid_ns``)::

    P__builds          one row per complete build (its manifest) and the row CURRENT (its name)
    P__B__chunks       id, article_id, start, end, n_tokens, language, text, vector (FLAT, IP)
    P__B__sentences    id, article_id, start, end, language, vector (FLAT, IP)
    P__B__articles     id, location, language, source, published (what filters use)
    P__B__texts        each article's text and record (title, byline, furniture ...), in parts
    P__B__files        the source files (relpath, sha256, size) and which articles each holds

A build is written into its own collections, flushed, its manifest row is added and then the
row CURRENT is replaced: one upsert, so a build killed at any moment leaves the previous one
complete and in use; its leftovers are dropped by a later build (after an hour, so a build
running elsewhere is not touched). Builds other than the two newest are dropped the same way.

Queries read the build in use into memory (:meth:`MilvusStore.open` gives the same
``Index`` as the FAISS store: rankings are identical) and every replica notices a new CURRENT
within :data:`POLL_SECONDS`. What a corpus too large for one replica's memory would need:
docs/scale.md.

Milvus Lite is a pure-Python rewrite with differences from the server that this module
avoids: searches always name ``output_fields``; nothing relies on a score's sign.
"""

from __future__ import annotations

import calendar
import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import (
    IndexCorruptError,
    IndexMissingError,
    IndexWriteError,
    RagError,
)
from rag.index.store import FORMAT, BuildContent, Index, check_compatible
from rag.types import Article, Chunk, Sentence

LOG = logging.getLogger(__name__)

CURRENT = "CURRENT"
PARTS = ("chunks", "sentences", "articles", "texts", "files")
TEXT_PART = 16_000  # characters per row of an article's text: at most 64,000 bytes of UTF-8
VARCHAR = 65_535  # Milvus's largest VARCHAR, in bytes
ROWS_PER_INSERT = 2_000
BYTES_PER_INSERT = 8 << 20  # well below gRPC's message limit
POLL_SECONDS = 1.0  # how often ``current`` asks Milvus which build is in use
ASK_TIMEOUT = 5.0  # seconds that question of ``current`` may take
DOWN_SECONDS = 10.0  # when Milvus did not answer it, how long before it is asked again
LEFTOVER_SECONDS = 3_600  # collections of a build that never completed are dropped after this
_BUILD_NAME = re.compile(r"^b(\d{8}T\d{6})_\d+_\d+$")

_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def collection_prefix(index_dir: Path) -> str:
    """``rag_`` and the index folder's name, in the letters Milvus allows: "index" -> "rag_index"."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", Path(index_dir).name) or "index"
    return f"rag_{name}"[:120]


def _quiet_pymilvus() -> None:
    """pymilvus logs every failed call with a traceback, and Milvus Lite's in-process server logs
    one for each call it does not implement (pymilvus asks for a timestamp when it creates a
    collection, then does without); this module reports failures itself."""
    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
    logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("pymilvus"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def _client(uri: str) -> Any:
    """One client per URI per process (a Milvus Lite folder can be opened by one process only)."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(uri)
        if client is not None:
            return client
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise RagError(
                "the Milvus store needs pymilvus and milvus-lite: pip install -e '.[scale]'"
            ) from None
        _quiet_pymilvus()
        try:
            if "://" not in uri:
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
                _check_free(uri)
            client = MilvusClient(uri=uri, timeout=30)
        except RagError:
            raise
        except Exception as e:  # pymilvus and milvus-lite raise many kinds
            raise RagError(_unreachable(uri, e)) from None
        _quiet_pymilvus()
        _CLIENTS[uri] = client
        return client


def close_clients() -> None:
    """Close this process's Milvus clients and its Milvus Lite servers (a Milvus Lite folder is
    then free for another process)."""
    with _CLIENTS_LOCK:
        for uri, client in _CLIENTS.items():
            try:
                client.close()
                if "://" not in uri:
                    from milvus_lite.server_manager import server_manager_instance

                    server_manager_instance.release_server(uri)
            except Exception:  # noqa: BLE001 - closing what is already gone
                pass
        _CLIENTS.clear()


def _check_free(folder: str) -> None:
    """Raise ``RagError`` when another process holds the Milvus Lite folder (its LOCK file)."""
    lock = Path(folder) / "LOCK"
    if not lock.exists():
        return
    with open(lock, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RagError(_unreachable(folder, RuntimeError("locked"))) from None
        fcntl.flock(f, fcntl.LOCK_UN)


def _unreachable(uri: str, err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    if "://" not in uri and ("lock" in text.casefold() or "DataDirLocked" in type(err).__name__):
        return (
            f"the Milvus Lite folder {uri} is open in another process (the app, or another rag command): "
            "a Milvus Lite folder serves one process at a time. To share it, serve it with "
            f"`milvus-lite server --data-dir {uri} --port 19530` and use --store http://127.0.0.1:19530"
        )
    if "://" in uri:
        return f"cannot reach Milvus at {uri} ({text[:200]}): start it, or check --store / RAG_STORE"
    return f"cannot open the Milvus Lite folder {uri} ({text[:200]})"


def _schema(part: str, dim: int) -> tuple[Any, Any]:
    """Schema and index parameters of one of a build's collections (or of ``builds``). Rows of a
    build are numbered 0..n-1 by their primary key ``id``, so they are read back in ranges."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    text = {"datatype": DataType.VARCHAR, "max_length": VARCHAR}
    if part == "builds":
        schema.add_field("name", DataType.VARCHAR, max_length=VARCHAR, is_primary=True)
        schema.add_field("value", **text)
    else:
        schema.add_field("id", DataType.INT64, is_primary=True)
    vector_dim = 2  # Milvus needs a vector field in every collection; only chunks and sentences search theirs
    if part in ("chunks", "sentences"):
        schema.add_field("article_id", **text)
        schema.add_field("start", DataType.INT64)
        schema.add_field("end", DataType.INT64)
        schema.add_field("language", DataType.VARCHAR, max_length=64)
        if part == "chunks":
            schema.add_field("n_tokens", DataType.INT64)
            schema.add_field("text", **text)
        vector_dim = dim
    elif part != "builds":
        fields = {
            "articles": ("article_id", "location", "language", "source", "published"),
            "texts": ("article_id", "data"),
            "files": ("kind", "relpath", "sha256", "article_id", "location"),
        }[part]
        for name in fields:
            schema.add_field(name, **text)
        if part == "texts":
            schema.add_field("part", DataType.INT64)
        if part == "files":
            schema.add_field("size", DataType.INT64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=vector_dim)
    index = MilvusClient.prepare_index_params()
    index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    return schema, index


_NO_VECTOR = [0.0, 0.0]


def _clip(value: str | None, limit: int = 4_000) -> str:
    """A scalar field's value: "" for None, cut to ``limit`` characters (filters read a prefix)."""
    return (value or "")[:limit]


def _rows(manifest: dict, part: str) -> int:
    """How many rows the manifest counts in a part of its build (0 when it does not say)."""
    rows = manifest.get("rows")
    return int(rows.get(part, 0)) if isinstance(rows, dict) else 0


class MilvusStore:
    """Builds kept in Milvus, with the interface of ``rag.index.store.FaissStore``."""

    kind = "milvus"

    def __init__(self, uri: str, index_dir: Path) -> None:
        self.uri = uri
        self.index_dir = Path(index_dir)
        self.prefix = collection_prefix(self.index_dir)
        self._current: tuple[float, str | None] | None = None  # (when asked, answer)
        self._loaded: set[str] = set()

    # --- names ------------------------------------------------------------------------------------

    @property
    def builds_collection(self) -> str:
        return f"{self.prefix}__builds"

    def collection(self, build: str, part: str) -> str:
        return f"{self.prefix}__{build}__{part}"

    def describe(self) -> str:
        return f"Milvus {self.uri}, collections {self.prefix}__*"

    @property
    def client(self) -> Any:
        return _client(self.uri)

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A Milvus call; a failure becomes ``RagError`` saying what was being done."""
        try:
            return fn(*args, **kwargs)
        except RagError:
            raise
        except Exception as e:
            text = " ".join(str(e).split())[:300] or type(e).__name__
            raise RagError(f"Milvus at {self.uri} failed to {what} ({text})") from None

    # --- reading --------------------------------------------------------------------------------------

    def _row(self, key: str) -> str | None:
        """The ``value`` of a row of the builds collection, None when there is none."""
        client = self.client
        builds = self.builds_collection
        if not self._call("list collections", client.has_collection, builds, timeout=ASK_TIMEOUT):
            return None
        self._load(builds)
        rows = self._call(
            "read the build list",
            client.query,
            builds,
            ids=[key],
            output_fields=["value"],
            timeout=ASK_TIMEOUT,
        )
        return rows[0]["value"] if rows else None

    def current(self) -> str | None:
        """The build in use; asked of Milvus at most every :data:`POLL_SECONDS`. When Milvus does
        not answer, the last answer stands (a replica keeps serving the build it holds) and Milvus
        is asked again after a while; with no answer yet, the failure is raised."""
        now = time.monotonic()
        if self._current is not None and now - self._current[0] < POLL_SECONDS:
            return self._current[1]
        try:
            name = self._row(CURRENT) or None
        except RagError as e:
            if self._current is None:
                raise
            LOG.warning("%s; still serving build %s", e, self._current[1])
            self._current = (now + DOWN_SECONDS, self._current[1])
            return self._current[1]
        self._current = (now, name)
        return name

    def identity(self, name: str) -> tuple[str, None]:
        return name, None  # a Milvus build is never rewritten under its name

    def _manifest_of(self, name: str) -> dict:
        raw = self._row(name)
        if raw is None:
            raise IndexCorruptError(
                f"the index in {self.describe()} names build {name!r}, which is missing: "
                "run `rag index --full`"
            )
        try:
            manifest = json.loads(raw)
        except ValueError as e:
            raise IndexCorruptError(
                f"the manifest of the index in {self.describe()} is damaged ({e}): run `rag index --full`"
            ) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise IndexCorruptError(
                f"build {name!r} in {self.describe()} has no rag-news manifest: run `rag index --full`"
            )
        return manifest

    def manifest(self, *, verify: bool = True) -> dict:
        """The manifest of the build in use; ``verify``: its collections exist and hold the rows it
        counts. Raises IndexMissingError / IndexCorruptError."""
        self._current = None
        name = self.current()
        if name is None:
            raise IndexMissingError(f"no index in {self.describe()}: run `rag index` to build it")
        manifest = self._manifest_of(name)
        if verify:
            self._verify(name, manifest)
        return manifest

    def _verify(self, name: str, manifest: dict) -> None:
        rows = manifest.get("rows")
        if not isinstance(rows, dict) or any(not isinstance(rows.get(p), int) for p in PARTS):
            raise IndexCorruptError(
                f"the manifest of build {name!r} in {self.describe()} counts no rows: run `rag index --full`"
            )
        client = self.client
        for part in PARTS:
            collection = self.collection(name, part)
            if not self._call("list collections", client.has_collection, collection):
                raise IndexCorruptError(
                    f"collection {collection} is missing from the index in {self.describe()}: "
                    "run `rag index --full` to rebuild the index"
                )
            got = self._count(collection)
            if got != rows[part]:
                raise IndexCorruptError(
                    f"collection {collection} holds {got} rows, its manifest says {rows[part]}: "
                    "run `rag index --full` to rebuild the index"
                )

    def _count(self, collection: str) -> int:
        self._load(collection)
        rows = self._call("count rows", self.client.query, collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    def _scan(self, collection: str, fields: list[str], n: int) -> Iterator[dict]:
        """Rows 0..n-1 of a build's collection, with ``fields``, in ranges of ids."""
        self._load(collection)
        client = self.client
        step = 4_000
        for first in range(0, n, step):
            yield from self._call(
                f"read {collection}",
                client.query,
                collection,
                filter=f"id >= {first} and id < {first + step}",
                output_fields=["id", *fields],
                limit=step,
            )

    def _load(self, collection: str) -> None:
        """Milvus searches only loaded collections; one opened by another process starts released."""
        if collection not in self._loaded:
            self._call(f"load {collection}", self.client.load_collection, collection)
            self._loaded.add(collection)

    def sources(self) -> dict[str, str] | None:
        """relpath -> sha256 of the files of the build in use, without loading vectors; None if no index."""
        try:
            manifest = self.manifest(verify=False)
        except IndexMissingError:
            return None
        name = self.current()
        files = self._scan(
            self.collection(name, "files"), ["kind", "relpath", "sha256"], _rows(manifest, "files")
        )
        return {r["relpath"]: r["sha256"] for r in files if r["kind"] == "source"}

    def open(self, *, model_id: str | None = None, verified: bool = False) -> Index:
        """Read the build in use into memory: the same :class:`Index` as ``Index.open`` gives."""
        manifest = self.manifest(verify=not verified)
        name = self.current()
        check_compatible(manifest, model_id=model_id, where=Path(self.describe()))
        parts: dict[str, list[str]] = {}
        texts = self._scan(
            self.collection(name, "texts"), ["article_id", "part", "data"], _rows(manifest, "texts")
        )
        for row in texts:
            parts.setdefault(row["article_id"], []).append((row["part"], row["data"]))  # type: ignore[arg-type]
        articles: dict[str, Article] = {}
        for aid in sorted(parts):
            record = json.loads("".join(data for _, data in sorted(parts[aid])))  # type: ignore[misc]
            record["furniture"] = tuple(tuple(r) for r in record["furniture"])
            articles[aid] = Article(**record)
        sentences, sentence_vectors = self._records(name, manifest, "sentences", articles)
        chunks, chunk_vectors = self._records(name, manifest, "chunks", articles)
        sources: dict[str, str] = {}
        links: list[tuple[str, str, str]] = []
        for r in self._scan(
            self.collection(name, "files"),
            ["kind", "relpath", "sha256", "article_id", "location"],
            _rows(manifest, "files"),
        ):
            if r["kind"] == "source":
                sources[r["relpath"]] = r["sha256"]
            else:
                links.append((r["relpath"], r["article_id"], r["location"]))
        counts = manifest.get("counts", {})
        if len(articles) != counts.get("articles") or len(chunks) != counts.get("chunks"):
            raise IndexCorruptError(
                f"the index in {self.describe()} is inconsistent (records and manifest disagree): "
                "run `rag index --full`"
            )
        return Index.assemble(
            self.index_dir,
            manifest,
            articles,
            sentences,
            chunks,
            chunk_vectors,
            sentence_vectors,
            sources,
            sorted(links),
            build=name,
        )

    def _records(
        self, name: str, manifest: dict, part: str, articles: dict[str, Article]
    ) -> tuple[list[Any], np.ndarray]:
        """Sentences or chunks in id order, their text cut from their article, and their vectors."""
        fields = ["article_id", "start", "end", "vector"] + (["n_tokens"] if part == "chunks" else [])
        scan = self._scan(self.collection(name, part), fields, _rows(manifest, part))
        rows = sorted(scan, key=lambda r: r["id"])
        if [r["id"] for r in rows] != list(range(len(rows))):
            raise IndexCorruptError(
                f"the {part} of the index in {self.describe()} are not numbered 0..n-1: "
                "run `rag index --full`"
            )
        out: list[Any] = []
        for r in rows:
            article = articles.get(r["article_id"])
            if article is None:
                raise IndexCorruptError(
                    f"the {part} of the index in {self.describe()} name an article it does not hold: "
                    "run `rag index --full`"
                )
            text = article.text[r["start"] : r["end"]]
            if part == "chunks":
                out.append(Chunk(r["article_id"], r["start"], r["end"], text, r["n_tokens"], r["id"]))
            else:
                out.append(Sentence(r["article_id"], r["start"], r["end"], text))
        dim = int(manifest["model"]["dim"])
        vectors = (
            np.asarray([r["vector"] for r in rows], dtype=np.float32)
            if rows
            else np.zeros((0, dim), np.float32)
        )
        return out, np.ascontiguousarray(vectors)

    # --- writing --------------------------------------------------------------------------------------

    def write(self, content: BuildContent, manifest: dict) -> str:
        """Write a complete build into new collections and make it current with one upsert.
        A failure drops what was written and raises ``IndexWriteError``; the build in use stays."""
        name = (
            time.strftime("b%Y%m%dT%H%M%S", time.gmtime())
            + f"_{os.getpid()}_{time.time_ns() % 1_000_000:06d}"
        )
        dim = int(manifest["model"]["dim"])
        client = self.client
        try:
            self._ensure_builds()
            rows = {}
            for part in PARTS:
                collection = self.collection(name, part)
                schema, index = _schema(part, dim)
                self._call(
                    f"create {collection}",
                    client.create_collection,
                    collection,
                    schema=schema,
                    index_params=index,
                )
                rows[part] = self._insert(collection, self._rows(part, content))
                self._call(f"flush {collection}", client.flush, collection)
            manifest = dict(manifest, rows=rows, store={"kind": "milvus", "prefix": self.prefix})
            record = {"name": name, "value": json.dumps(manifest, ensure_ascii=False), "vector": _NO_VECTOR}
            self._call("record the build", client.insert, self.builds_collection, [record])
            self._call("record the build", client.flush, self.builds_collection)
            self._set_current(name)
        except RagError as e:
            self._drop_build(name)
            raise IndexWriteError(
                f"cannot write the new index into {self.describe()} ({e}); the index in use is unchanged"
            ) from None
        return name

    def _set_current(self, name: str) -> None:
        client = self.client
        row = {"name": CURRENT, "value": name, "vector": _NO_VECTOR}
        self._call("switch to the new build", client.upsert, self.builds_collection, [row])
        self._call("switch to the new build", client.flush, self.builds_collection)
        self._current = None

    def _ensure_builds(self) -> None:
        client = self.client
        if self._call("list collections", client.has_collection, self.builds_collection):
            return
        schema, index = _schema("builds", 0)
        self._call(
            "create the build list",
            client.create_collection,
            self.builds_collection,
            schema=schema,
            index_params=index,
        )

    def _insert(self, collection: str, rows: Iterable[dict]) -> int:
        """Insert rows in batches of at most ROWS_PER_INSERT rows and BYTES_PER_INSERT bytes of text."""
        client = self.client
        batch: list[dict] = []
        size = n = 0
        for row in rows:
            batch.append(row)
            size += sum(len(v) for v in row.values() if isinstance(v, str))
            if len(batch) >= ROWS_PER_INSERT or size >= BYTES_PER_INSERT:
                self._call(f"insert into {collection}", client.insert, collection, batch)
                n += len(batch)
                batch, size = [], 0
        if batch:
            self._call(f"insert into {collection}", client.insert, collection, batch)
            n += len(batch)
        return n

    def _rows(self, part: str, content: BuildContent) -> Iterator[dict]:
        language = {a.id: a.language for a in content.articles}
        if part == "chunks":
            for i, (c, v) in enumerate(zip(content.chunks, content.chunk_vectors, strict=True)):
                yield {
                    "id": i,
                    "article_id": c.article_id,
                    "start": c.start,
                    "end": c.end,
                    "language": language.get(c.article_id, "und")[:64],
                    "n_tokens": c.n_tokens,
                    "text": c.text[
                        :TEXT_PART
                    ],  # for inspection and Milvus-side search; read back from the article
                    "vector": np.asarray(v, dtype=np.float32).tolist(),
                }
        elif part == "sentences":
            for i, (s, v) in enumerate(zip(content.sentences, content.sentence_vectors, strict=True)):
                yield {
                    "id": i,
                    "article_id": s.article_id,
                    "start": s.start,
                    "end": s.end,
                    "language": language.get(s.article_id, "und")[:64],
                    "vector": np.asarray(v, dtype=np.float32).tolist(),
                }
        elif part == "articles":
            for i, a in enumerate(content.articles):
                yield {
                    "id": i,
                    "article_id": a.id,
                    "location": _clip(a.location),
                    "language": a.language,
                    "source": _clip(a.source),
                    "published": _clip(a.published, 32),
                    "vector": _NO_VECTOR,
                }
        elif part == "texts":
            row = 0
            for a in content.articles:
                record = {
                    "id": a.id,
                    "location": a.location,
                    "title": a.title,
                    "text": a.text,
                    "language": a.language,
                    "published": a.published,
                    "byline": a.byline,
                    "source": a.source,
                    "url": a.url,
                    "title_kind": a.title_kind,
                    "furniture": [list(r) for r in a.furniture],
                }
                data = json.dumps(record, ensure_ascii=False)
                for k in range(0, max(len(data), 1), TEXT_PART):
                    yield {
                        "id": row,
                        "article_id": a.id,
                        "part": k // TEXT_PART,
                        "data": data[k : k + TEXT_PART],
                        "vector": _NO_VECTOR,
                    }
                    row += 1
        else:
            files = [
                ("source", rel, sha, size, "", "") for rel, (sha, size) in sorted(content.sources.items())
            ]
            files += [("link", rel, "", 0, aid, location) for rel, aid, location in content.source_articles]
            for i, (kind, rel, sha, size, aid, location) in enumerate(files):
                yield {
                    "id": i,
                    "kind": kind,
                    "relpath": rel,
                    "sha256": sha,
                    "article_id": aid,
                    "location": location,
                    "size": size,
                    "vector": _NO_VECTOR,
                }

    # --- pruning ----------------------------------------------------------------------------------------

    def _builds(self) -> tuple[list[str], dict[str, set[str]]]:
        """(complete builds, oldest first; every build that has collections -> their names)."""
        client = self.client
        names = self._call("list collections", client.list_collections)
        by_build: dict[str, set[str]] = {}
        for collection in names:
            head, _, rest = collection.partition("__")
            build, _, part = rest.partition("__")
            if head == self.prefix and part in PARTS:
                by_build.setdefault(build, set()).add(collection)
        complete = []
        if self.builds_collection in names:
            rows = self._call(
                "read the build list",
                client.query,
                self.builds_collection,
                filter='name != "CURRENT"',
                output_fields=["name"],
            )
            complete = sorted(r["name"] for r in rows)
        return complete, by_build

    def _drop_build(self, name: str) -> None:
        """Drop a build's collections and its manifest row; best effort (used on the way out of a failure)."""
        client = self.client
        for part in PARTS:
            try:
                client.drop_collection(self.collection(name, part))
            except Exception:  # noqa: BLE001 - a collection that was never made
                pass
        try:
            client.delete(self.builds_collection, ids=[name])
        except Exception:  # noqa: BLE001
            pass

    def prune(self, keep: int = 2) -> None:
        """Drop all but the ``keep`` newest complete builds (never the one in use), and the
        collections of builds that never completed and are older than LEFTOVER_SECONDS."""
        self._current = None
        in_use = self.current()
        complete, by_build = self._builds()
        doomed = [b for b in complete[:-keep] if b != in_use]
        now = time.time()
        for build in by_build:
            if build in complete or build == in_use:
                continue
            match = _BUILD_NAME.match(build)
            started = calendar.timegm(time.strptime(match.group(1), "%Y%m%dT%H%M%S")) if match else 0
            if now - started > LEFTOVER_SECONDS:
                doomed.append(build)
        for build in doomed:
            LOG.info("dropping old build %s from %s", build, self.describe())
            self._drop_build(build)
