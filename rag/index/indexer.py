"""Bring the index up to date with the articles folder: ``rag index``.

Incremental by default. Source files are compared by SHA-256 with those of the
build in use: unchanged files keep their articles, sentences and chunks; new and
changed files are read again; files that are gone are dropped. Vectors come from
the embedding cache (by model id and text hash) or, failing that, from the
previous build, so only text never embedded before with this model is embedded:
a rebuild after a chunking change embeds only the chunks that changed. When
nothing changed, nothing is loaded or written and the run takes well under a
second.

Identical cleaned text (the same article saved twice) is one article; every
file that holds it is recorded. A file that was indexed and now cannot be read
keeps its previous version, with a warning: bad input never loses data.

One build runs at a time (an exclusive lock on ``index/.lock``); the new build
is swapped in atomically by ``rag.index.store.write_build``.
"""

from __future__ import annotations

import fcntl
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, IngestError, RagError
from rag.index import ingest
from rag.index.chunking import chunk_sentences
from rag.index.sentences import split_sentences
from rag.index.store import (
    FORMAT,
    FORMAT_VERSION,
    BuildContent,
    EmbeddingCache,
    FaissStore,
    Index,
    open_store,
)
from rag.index.tokens import count_tokens, get_encoding
from rag.types import Article, Chunk, Sentence

LOG = logging.getLogger(__name__)
PROGRESS = logging.getLogger("rag.progress")  # shown by the CLI and the app even when not verbose

# Bump when cleaning, metadata or sentence splitting change what an unchanged file yields.
INGEST_VERSION = 5  # 5: furniture kept out of sentences; 4: title kinds; 3: pysbd rewrites kept
EMBED_GROUP = 256  # texts embedded between two cache commits
BIG_FILE = 1_000_000  # bytes: reading such a file is logged on its own
LOG_EVERY = 10.0  # seconds between two progress lines in a log


class Progress:
    """Progress of one long stage (``show``): a tqdm bar in a terminal (``bar``), else a line in
    the log (``rag.progress``) at the start, at most every :data:`LOG_EVERY` seconds, and at the
    end. A short stage shows nothing."""

    def __init__(self, what: str, total: int, unit: str, *, show: bool, bar: bool) -> None:
        self.what, self.total, self.unit, self.done, self.show = what, total, unit, 0, show
        self.t0 = self.last = time.monotonic()
        self.bar = None
        if show and bar:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=what, unit=unit)
        elif show:
            PROGRESS.info("%s: %s %ss", what, f"{total:,}", unit)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        if not self.show:
            return
        now = time.monotonic()
        if now - self.last >= LOG_EVERY and self.done < self.total:
            self.last = now
            rate = self.done / max(now - self.t0, 1e-9)
            left = (self.total - self.done) / max(rate, 1e-9)
            PROGRESS.info(
                "%s: %s of %s %ss (%d%%), about %s left",
                self.what,
                f"{self.done:,}",
                f"{self.total:,}",
                self.unit,
                100 * self.done // max(self.total, 1),
                _duration(left),
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.show:
            PROGRESS.info("%s: done in %s", self.what, _duration(time.monotonic() - self.t0))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@dataclass
class BuildReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    articles: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    seconds: float = 0.0
    wrote: bool = False
    build: str | None = None
    errors: list[IngestError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per file skipped and per note, as ``rag index`` and the app print them."""
        return [f"skipped {err}" for err in self.errors] + [f"note: {note}" for note in self.notes]

    def summary(self) -> str:
        files = (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, unchanged {self.unchanged}"
        )
        what = f"{self.articles} articles, {self.chunks} chunks" if self.wrote else "index already up to date"
        extra = f", {len(self.errors)} files with problems" if self.errors else ""
        return f"{files}; {what}; embedded {self.embedded} texts{extra}; {self.seconds:.1f} s"


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RagError(
                f"another `rag index` is already updating {index_dir}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def chunking_params(settings: Settings) -> dict:
    return {
        "encoding": settings.encoding,
        "max_tokens": settings.chunk_tokens,
        "overlap_tokens": settings.chunk_overlap,
        "ingest_version": INGEST_VERSION,
    }


def _previous(store: FaissStore, full: bool, notes: list[str], verified: bool) -> Index | None:
    """The build in use, when it can be reused; None means everything is read anew. ``verified``:
    its checksums were checked a moment ago, under the build lock."""
    if full:
        return None
    try:
        manifest = store.manifest(verify=False)
        if manifest.get("format_version") != FORMAT_VERSION:
            notes.append(f"index format {manifest.get('format_version')} is old: rebuilding from scratch")
            return None
        return store.open(verified=verified)
    except IndexMissingError:
        return None
    except (IndexCorruptError, IndexMismatchError) as e:
        notes.append(f"{e} -- rebuilding from scratch")
        return None


def kept_files(scan_errors: list[IngestError], indexed: dict[str, str]) -> dict[str, str]:
    """Indexed files that the scan could not use now (unreadable, grown too large, replaced by a
    link): relpath -> the SHA-256 indexed before. They keep their indexed version."""
    return {e.location: indexed[e.location] for e in scan_errors if e.location in indexed}


def pending_changes(settings: Settings) -> tuple[dict[str, list[str]], list[IngestError]]:
    """What ``rag index`` would do now, per file: {"added": [...], "updated": [...], "removed": [...],
    "unchanged": [...]}. Reads no article text beyond hashing the files."""
    sources, errors = ingest.scan_folder(settings.articles_dir)
    indexed = open_store(settings).sources() or {}
    now = {s.relpath: s.sha256 for s in sources} | kept_files(errors, indexed)
    out: dict[str, list[str]] = {"added": [], "updated": [], "removed": [], "unchanged": []}
    for rel, sha in now.items():
        key = "added" if rel not in indexed else "unchanged" if indexed[rel] == sha else "updated"
        out[key].append(rel)
    out["removed"] = sorted(set(indexed) - set(now))
    return out, errors


def build_index(
    settings: Settings,
    *,
    full: bool = False,
    embedder: object | None = None,
    progress: bool = False,
    executor: object | None = None,
) -> BuildReport:
    """Update (or with ``full``, rebuild) the index in ``settings.index_dir`` from
    ``settings.articles_dir``. ``embedder`` defaults to ``rag.index.embed.load_embedder(settings)``,
    loaded only when there is something to embed. ``progress``: progress bars when stderr is a
    terminal; long stages are logged (``rag.progress``) otherwise, and without ``progress``.
    ``executor``: reads, splits, chunks and embeds the new text elsewhere
    (``rag.index.distributed.RayExecutor``: ``rag index --ray``); what is reused and written is
    decided here either way, so both paths give the same build."""
    t0 = time.perf_counter()
    progress = progress and sys.stderr.isatty()
    report = BuildReport()
    store = open_store(settings)
    with build_lock(settings.index_dir):
        store.prune()
        sources, scan_errors = ingest.scan_folder(settings.articles_dir)
        report.errors.extend(scan_errors)
        params = chunking_params(settings)

        # Fast path: same files, same parameters, same model -> nothing to do, nothing loaded.
        verified = False
        if not full:
            try:
                manifest = store.manifest(verify=True)
                verified = True
                indexed = store.sources() or {}
            except (IndexMissingError, IndexCorruptError):
                manifest, indexed = None, {}
            now = {s.relpath: s.sha256 for s in sources} | kept_files(scan_errors, indexed)
            if (
                manifest is not None
                and manifest.get("format_version") == FORMAT_VERSION
                and manifest.get("chunking") == params
                and _model_matches(manifest, settings, embedder)
                and indexed == now
            ):
                report.unchanged = len(sources)
                report.articles = manifest["counts"]["articles"]
                report.chunks = manifest["counts"]["chunks"]
                report.seconds = time.perf_counter() - t0
                return report

        prev = _previous(store, full, report.notes, verified)
        if embedder is None:
            from rag.index.embed import load_embedder

            embedder = load_embedder(settings, show_progress=progress, questions=False)
        if prev is not None and prev.model_id != embedder.model_id:
            report.notes.append(
                f"model changed from {prev.model_id} to {embedder.model_id}: every text is embedded again"
            )
        same_chunking = prev is not None and prev.manifest.get("chunking") == params
        same_ingest = (
            prev is not None and prev.manifest.get("chunking", {}).get("ingest_version") == INGEST_VERSION
        )

        # 1. Articles per source file: reuse the unchanged, read the new and changed.
        prev_links: dict[
            str, list[tuple[str, str, str]]
        ] = {}  # relpath -> its (relpath, article id, location)
        prev_chunks: dict[str, list[Chunk]] = {}
        if prev is not None:
            for link in prev.source_articles:
                prev_links.setdefault(link[0], []).append(link)
            for c in prev.chunks:
                prev_chunks.setdefault(c.article_id, []).append(c)
        articles: dict[str, Article] = {}
        source_rows: dict[str, tuple[str, int]] = {}
        links: list[tuple[str, str, str]] = []

        def reuse(rel: str, sha: str, size: int, note: str | None = None) -> None:
            """Keep the articles the previous build has from this file."""
            if note:
                report.notes.append(f"{rel}: {note}; keeping the version indexed before")
            report.unchanged += 1
            source_rows[rel] = (sha, size)
            for link in prev_links.get(rel, []):
                links.append(link)
                articles.setdefault(link[1], prev.articles[link[1]])

        to_read = [
            s
            for s in sources
            if not (same_ingest and prev is not None and prev.sources.get(s.relpath) == s.sha256)
        ]
        big = sum(s.size for s in to_read) >= BIG_FILE
        # Read, split and chunked on the executor's workers: by file, and by article id (sentences, chunks).
        prepared = {p.source.relpath: p for p in executor.read(to_read)} if executor is not None else {}
        split_before = {
            aid: (p.sentences[aid], p.chunks[aid]) for p in prepared.values() for aid in p.sentences
        }
        reading = Progress("reading files", len(to_read), "file", show=big and not prepared, bar=progress)
        for src in sources:
            was = prev.sources.get(src.relpath) if prev is not None else None
            if was == src.sha256 and same_ingest:
                reuse(src.relpath, was, src.size)
                continue
            if src.relpath in prepared:
                got, errors = prepared[src.relpath].articles, prepared[src.relpath].errors
            else:
                if src.size >= BIG_FILE:
                    PROGRESS.info("reading %s (%.1f MB)", src.relpath, src.size / 1e6)
                got, errors = ingest.load_source(src)
            reading.update(1)
            report.errors.extend(errors)
            if not got and was is not None and errors:  # never lose data
                reuse(src.relpath, was, src.size, "could not be read now")
                continue
            if was is None:
                report.added += 1
            elif was == src.sha256:
                report.unchanged += 1  # same bytes, re-read because ingestion changed
            else:
                report.updated += 1
            source_rows[src.relpath] = (src.sha256, src.size)
            for a in got:
                links.append((src.relpath, a.id, a.location))
                articles.setdefault(a.id, a)
        reading.close()
        if prev is not None:
            for rel, was in kept_files(scan_errors, prev.sources).items():
                reuse(rel, was, 0, "cannot be used now")  # size unknown: the file cannot be read
            report.removed = len(set(prev.sources) - set(source_rows))

        # 2. Sentences and chunks, reused per article where the article and the parameters are unchanged.
        enc = get_encoding(settings.encoding)
        ordered = sorted(articles.values(), key=lambda a: (a.location, a.id))
        all_sentences: list[Sentence] = []
        all_chunks: list[Chunk] = []
        new_chunk_texts: set[str] = set()
        chars = sum(len(a.text) for a in ordered)
        splitting = Progress("sentences and chunks", chars, "character", show=chars >= BIG_FILE, bar=progress)
        for a in ordered:
            splitting.update(len(a.text))
            # The same cleaned text can come with other furniture (a caption found by the pair rule in
            # one raw page and not in another): split again then.
            old = prev.articles.get(a.id) if prev is not None else None
            known = old is not None and old.furniture == a.furniture
            before = split_before.get(a.id)
            if same_ingest and known:
                sents = [prev.sentences[i] for i in prev.sentence_ids(a.id)]
            elif before is not None:
                sents = before[0]
            else:
                sents = split_sentences(a.id, a.text, a.language, a.furniture)
            if same_chunking and known:
                chunks = prev_chunks.get(a.id, [])
            elif before is not None:
                chunks = before[1]
                new_chunk_texts.update(c.text for c in chunks)
            else:
                chunks = chunk_article(a, sents, settings, enc)
                new_chunk_texts.update(c.text for c in chunks)
            all_sentences.extend(sents)
            all_chunks.extend(chunks)

        splitting.close()

        # 3. Vectors: cache, then the previous build, then the model.
        chunk_vectors, sentence_vectors, embedded = _vectors(
            settings, embedder, prev, all_chunks, all_sentences, new_chunk_texts, report, progress, executor
        )
        report.embedded = embedded

        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": {"id": embedder.model_id, "dim": embedder.dim, "max_tokens": embedder.max_tokens},
            "chunking": params,
            "counts": {
                "articles": len(ordered),
                "sources": len(source_rows),
                "sentences": len(all_sentences),
                "chunks": len(all_chunks),
            },
            "languages": _languages(ordered),
            "articles_dir": str(settings.articles_dir),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_seconds": round(time.perf_counter() - t0, 3),
        }
        content = BuildContent(
            articles=ordered,
            sources=source_rows,
            source_articles=sorted(set(links)),
            sentences=all_sentences,
            chunks=all_chunks,
            sentence_vectors=sentence_vectors,
            chunk_vectors=chunk_vectors,
        )
        report.build = store.write(content, manifest)
        report.wrote = True
        store.prune()
        report.articles, report.chunks, report.sentences = len(ordered), len(all_chunks), len(all_sentences)
    report.seconds = time.perf_counter() - t0
    return report


def chunk_article(a: Article, sentences: list[Sentence], settings: Settings, enc: object) -> list[Chunk]:
    """An article's chunks with ``settings``' sizes, tokens counted with ``enc`` (``get_encoding``)."""
    return chunk_sentences(
        a.id,
        a.text,
        sentences,
        max_tokens=settings.chunk_tokens,
        overlap_tokens=settings.chunk_overlap,
        count=lambda t: count_tokens(t, enc),
        furniture=a.furniture,
    )


def _model_matches(manifest: dict, settings: Settings, embedder: object | None) -> bool:
    """Whether the index was built with the configured model, without loading the model."""
    built = manifest.get("model", {}).get("id", "")
    if embedder is not None:
        return built == embedder.model_id
    from rag.index.embed import model_id_for

    return built == model_id_for(settings)


def _languages(articles: list[Article]) -> dict[str, int]:
    out: dict[str, int] = {}
    for a in articles:
        out[a.language] = out.get(a.language, 0) + 1
    return dict(sorted(out.items()))


def _vectors(
    settings: Settings,
    embedder: object,
    prev: Index | None,
    chunks: list[Chunk],
    sentences: list[Sentence],
    new_chunk_texts: set[str],
    report: BuildReport,
    progress: bool,
    executor: object | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    cache = EmbeddingCache(
        settings.index_dir / "cache" / "embeddings.sqlite", embedder.model_id, embedder.dim
    )
    try:
        texts = [c.text for c in chunks] + [s.text for s in sentences]
        keys = [EmbeddingCache.key(t) for t in texts]
        found = cache.get_many(keys)
        if prev is not None and prev.model_id == embedder.model_id:
            recovered = []
            for c, v in zip(prev.chunks, prev.chunk_vectors, strict=True):
                k = EmbeddingCache.key(c.text)
                if k not in found:
                    found[k] = v
                    recovered.append((k, v))
            for s, v in zip(prev.sentences, prev.sentence_vectors, strict=True):
                k = EmbeddingCache.key(s.text)
                if k not in found:
                    found[k] = v
                    recovered.append((k, v))
            if recovered:
                cache.put_many(recovered)
        missing: dict[str, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if k not in found:
                missing.setdefault(k, t)
        for text in new_chunk_texts:
            n = embedder.count_tokens(text)
            if n > embedder.max_tokens:
                report.notes.append(
                    f"a chunk of {n} model tokens is longer than the model's window of "
                    f"{embedder.max_tokens} and will be truncated: lower --chunk-tokens "
                    f"(chunk starts {text[:60]!r})"
                )
        items = sorted(missing.items(), key=lambda kv: len(kv[1]))  # similar lengths together: less padding
        bar = Progress("embedding", len(items), "text", show=len(items) > EMBED_GROUP, bar=progress)

        def blocks() -> Iterator[tuple[list[str], np.ndarray]]:
            """(keys, vectors) per block embedded; each block is committed to the cache as it comes."""
            if executor is not None:  # from the workers, as they finish
                for rows, vecs in executor.embed_batches([t for _, t in items]):
                    yield [items[int(r)][0] for r in rows], vecs
                return
            for i in range(0, len(items), EMBED_GROUP):
                group = items[i : i + EMBED_GROUP]
                yield [k for k, _ in group], embedder.embed_documents([t for _, t in group])

        for group, vecs in blocks():
            cache.put_many(zip(group, vecs, strict=True))
            found.update(zip(group, vecs, strict=True))
            bar.update(len(group))
        bar.close()
        dim = embedder.dim
        matrix = (
            np.stack([found[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, dim), np.float32)
        )
        return matrix[: len(chunks)], matrix[len(chunks) :], len(items)
    finally:
        cache.close()
