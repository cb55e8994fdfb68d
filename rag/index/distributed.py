"""Indexing on Ray: ``rag index --ray [ADDRESS]`` reads files and embeds texts with Ray Data.

    with RayExecutor(settings, workers=2) as ray_exec:     # a local Ray on 2 CPUs
        prepared = ray_exec.read(sources)                  # [Prepared], in the order of ``sources``
        vectors = ray_exec.embed(["Seoul and Rome signed three MOUs."])   # (1, dim) float32

The work is the plain indexer's (``rag.index.indexer``), spread over worker processes:

- ``read``: one Ray Data row per file; a task reads it (``ingest.load_source``), splits each
  article into sentences (``split_sentences``) and chunks them (``chunk_sentences``). A bad
  file comes back as errors in its ``Prepared``, as ``load_source`` gives them.
- ``embed``: ``map_batches`` with a callable class on a pool of ``workers`` actors, each of which
  loads the embedder once (``load_embedder(settings, questions=False)``) and embeds whole blocks
  of texts with ``embed_documents``. ``embed_batches`` streams the blocks as they are done, so a
  caller can commit its embedding cache while the actors keep their model.

Choices and shortcuts:

- ``address`` None starts a local Ray of ``workers`` CPUs (``ray.init(address="local")``, so a
  ``RAY_ADDRESS`` in the environment is not used) and shuts it down in ``close``; an address
  (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``) connects to a running cluster, which is left
  running. A cluster must run this project's code and models (the same installation), as the
  local one does: nothing is shipped to it and nothing is downloaded.
- Before connecting, ``HOST:PORT`` is tried with a plain TCP connection: Ray itself waits minutes
  for an address where nothing answers. Any failure to start or reach Ray is a ``RagError`` with
  one line saying what to do.
- Offline: Ray's usage statistics are off and so is its ``uv run`` propagation
  (``RAY_ENABLE_UV_RUN_RUNTIME_ENV=0``, read when ``ray`` is imported, which this module does
  lazily); no runtime environment but a few environment variables is used, so a worker never
  installs anything. Workers load models with the Hugging Face hub offline.
- Quiet: Ray's own logs go to its session folder, not to the console (``log_to_driver=False``,
  its loggers at ERROR, Ray Data's console at WARNING). Ray Data's progress bars show only in a
  terminal, and only when ``progress`` is set; elsewhere its progress goes to its log file.
- ``IngestError`` does not survive pickling (its ``__init__`` takes two arguments), so errors cross
  from the workers as (location, reason) pairs and are rebuilt here. Records are sent pickled.
- An unexpected exception on a worker (a bug, not a bad file) is raised again here, as the plain
  indexer would raise it, with the worker's traceback as a note.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import sys
import time
import traceback
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import ConfigError, IngestError, RagError
from rag.index.ingest import SourceFile
from rag.types import Article, Chunk, Sentence

LOG = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0  # seconds to wait for a TCP answer at a cluster's address
BLOCK_TEXTS, BLOCK_CHARS = 512, 64_000  # texts sent to an embedding actor at once: at most so many
READ_BLOCKS_PER_WORKER = 8  # files are sent in about this many blocks per worker (fewer, bigger tasks)

# Set before ``ray`` is imported (its constants are read then); setdefault: the user may override.
_RAY_ENV = {
    "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",  # never wrap workers in `uv run` (it would sync packages)
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage report sent anywhere
}
_CONNECT_ADVICE = (
    "start one there with `ray start --head`, "
    "or run `rag index --ray` without an address to start a local one"
)
# Given to the workers of a cluster we connect to (a local Ray inherits this process's environment).
_WORKER_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


@dataclass
class Prepared:
    """One source file as the workers read it: its articles (in file order), the errors of the
    file or of some of its lines, and per article id its sentences and chunks (chunk ids -1)."""

    source: SourceFile
    articles: list[Article]
    errors: list[IngestError]
    sentences: dict[str, list[Sentence]]
    chunks: dict[str, list[Chunk]]


def prepare_source(src: SourceFile, settings: Settings) -> Prepared:
    """What the plain indexer computes for one file, in this process: ``load_source``, then
    ``split_sentences`` and ``chunk_sentences`` per article with ``settings``' chunk sizes."""
    from rag.index.indexer import chunk_article
    from rag.index.ingest import load_source
    from rag.index.sentences import split_sentences
    from rag.index.tokens import get_encoding

    enc = get_encoding(settings.encoding)
    articles, errors = load_source(src)
    sentences: dict[str, list[Sentence]] = {}
    chunks: dict[str, list[Chunk]] = {}
    for a in articles:
        if a.id in sentences:  # the same text twice in one feed: split once
            continue
        sents = split_sentences(a.id, a.text, a.language, a.furniture)
        sentences[a.id] = sents
        chunks[a.id] = chunk_article(a, sents, settings, enc)
    return Prepared(src, articles, errors, sentences, chunks)


# --- on the workers -------------------------------------------------------------------------


def _crash(err: BaseException) -> tuple[BaseException, str]:
    """An exception as it can cross to the driver: itself when it survives pickling, else a
    RuntimeError with its type and message; and its traceback as text."""
    text = "".join(traceback.format_exception(err))
    try:
        pickle.loads(pickle.dumps(err))
        return err, text
    except Exception:  # noqa: BLE001 - anything that does not round-trip is replaced
        return RuntimeError(f"{type(err).__name__}: {err}"), text


def _read_row(row: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """Ray Data map: one file (plain fields) -> its prepared records, pickled."""
    try:
        src = SourceFile(row["relpath"], Path(row["path"]), row["sha256"], int(row["size"]))
        p = prepare_source(src, settings)
        wire: dict[str, Any] = {
            "articles": p.articles,
            "errors": [(e.location, e.reason) for e in p.errors],
            "sentences": p.sentences,
            "chunks": p.chunks,
        }
    except Exception as err:  # noqa: BLE001 - raised again in the driver
        wire = {"crash": _crash(err)}
    return {"i": row["i"], "payload": pickle.dumps(wire, protocol=pickle.HIGHEST_PROTOCOL)}


class _EmbedActor:
    """Ray Data callable class: the embedder is loaded once per actor, in ``__init__``."""

    def __init__(self, settings: Settings) -> None:
        from rag.index.embed import load_embedder

        self.embedder = load_embedder(settings, questions=False)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed_documents([str(t) for t in batch["text"]])
        return {"i": np.asarray(batch["i"], dtype=np.int64), "vector": vectors}


def _embedder_dim(settings: Settings) -> int:
    from rag.index.embed import load_embedder

    return int(load_embedder(settings, questions=False).dim)


# --- in the driver --------------------------------------------------------------------------


def _unreachable(address: str) -> str | None:
    """Why nothing can be reached at ``address`` (None: something answers, or Ray finds it itself).

    >>> _unreachable("auto") is None
    True
    """
    if address in ("auto", "local"):
        return None
    client = address.startswith("ray://")
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or "]" in port:
        host, port = hostport, "10001" if client else "6379"
    host = host.strip("[]")
    try:
        number = int(port)
    except ValueError:
        return "it is not HOST:PORT"
    try:
        with socket.create_connection((host, number), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as err:
        return f"nothing answers at {host}:{number} ({err.strerror or err})"
    return None


def _portable(settings: Settings) -> Settings:
    """``settings`` with absolute paths, as workers (whose working folder may differ) need them."""
    model = settings.model
    if Path(model).expanduser().exists():
        model = str(Path(model).expanduser().resolve())
    return replace(
        settings,
        articles_dir=settings.articles_dir.resolve(),
        index_dir=settings.index_dir.resolve(),
        cache_dir=settings.cache_dir.resolve(),
        reader=settings.reader.resolve(),
        model=model,
    )


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class RayExecutor:
    """Reads and embeds on Ray (see the module docstring). ``workers`` is the number of CPUs of a
    local Ray, and the number of tasks and embedding actors at once on any Ray. Use it as a
    context manager, or call ``close``. ``progress``: Ray Data's progress bars, in a terminal only.

    Raises ``RagError`` when Ray cannot be started or reached, or is not installed.
    """

    def __init__(
        self, settings: Settings, address: str | None = None, workers: int = 2, *, progress: bool = True
    ) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(
                f"the number of Ray workers must be a whole number of at least 1, got {workers!r}"
            )
        self.settings = _portable(settings)
        self.address = address
        self.workers = workers
        self._dim: int | None = None
        self._shutdown = False  # whether close() calls ray.shutdown(): Ray was started or joined here
        for key, value in _RAY_ENV.items():
            os.environ.setdefault(key, value)
        try:
            import ray
            import ray.data
        except ImportError as err:
            raise RagError(f"Ray is not installed ({err}): run `pip install 'ray[data]'`") from None
        self._ray = ray
        t0 = time.perf_counter()
        if address is not None and (why := _unreachable(address)) is not None:
            raise RagError(f"cannot reach a Ray cluster at {address}: {why}; {_CONNECT_ADVICE}")
        if ray.is_initialized():
            LOG.info("using the Ray already started in this process")
        elif address is None:
            self._start_local(ray)
        else:
            self._connect(ray, address)
        self._configure_data(ray, progress)
        LOG.info("Ray ready in %.1f s (%s)", time.perf_counter() - t0, address or f"local, {workers} CPUs")

    def _start_local(self, ray: Any) -> None:
        try:
            ray.init(
                address="local",
                num_cpus=self.workers,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        except Exception as err:  # noqa: BLE001 - Ray raises many kinds; the user needs one line
            try:
                ray.shutdown()  # whatever it started before failing
            except Exception:  # noqa: BLE001 - the first error is the one to report
                pass
            raise RagError(
                f"could not start a local Ray ({_first_line(err)}); "
                "its logs are in /tmp/ray/session_latest/logs, or run `rag index` without --ray"
            ) from None
        self._shutdown = True

    def _connect(self, ray: Any, address: str) -> None:
        try:
            ray.init(
                address=address,
                log_to_driver=False,
                logging_level=logging.ERROR,
                runtime_env={"env_vars": dict(_WORKER_ENV)},
            )
        except Exception as err:  # noqa: BLE001 - as above
            raise RagError(
                f"cannot connect to the Ray cluster at {address} ({_first_line(err)}); {_CONNECT_ADVICE}"
            ) from None
        self._shutdown = True  # ray.shutdown() then only disconnects: the cluster keeps running

    @staticmethod
    def _configure_data(ray: Any, progress: bool) -> None:
        from ray.util.debug import log_once

        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = progress and sys.stdout.isatty() and sys.stderr.isatty()
        ctx.print_on_execution_start = False
        ctx.enable_auto_log_stats = False
        if not ctx.enable_progress_bars:
            log_once("ray_data_progress_manager_disabled")  # Ray Data would say at WARNING that they are off
        for handler in logging.getLogger("ray.data").handlers:
            if handler.name == "console":
                handler.setLevel(logging.WARNING)  # the INFO lines still go to Ray Data's log file

    # --- reading ---

    def read(self, sources: list[SourceFile]) -> list[Prepared]:
        """``prepare_source`` of every file on the workers, in the order of ``sources``."""
        if not sources:
            return []
        ray = self._ray
        rows = [
            {
                "i": i,
                "relpath": s.relpath,
                "path": str(Path(s.path).absolute()),
                "sha256": s.sha256,
                "size": s.size,
            }
            for i, s in enumerate(sources)
        ]
        blocks = min(len(rows), READ_BLOCKS_PER_WORKER * self.workers)
        ds = ray.data.from_items(rows, override_num_blocks=blocks).map(
            _read_row,
            fn_kwargs={"settings": self.settings},
            compute=ray.data.TaskPoolStrategy(size=min(self.workers, blocks)),
        )
        out: list[Prepared | None] = [None] * len(sources)
        for row in ds.iter_rows():
            i = int(row["i"])
            wire = pickle.loads(row["payload"])
            if "crash" in wire:
                err, text = wire["crash"]
                err.add_note(f"raised on a Ray worker while reading {sources[i].relpath}:\n{text}")
                raise err
            out[i] = Prepared(
                source=sources[i],
                articles=wire["articles"],
                errors=[IngestError(loc, reason) for loc, reason in wire["errors"]],
                sentences=wire["sentences"],
                chunks=wire["chunks"],
            )
        missing = [sources[i].relpath for i, p in enumerate(out) if p is None]
        if missing:
            raise RagError(
                f"Ray returned no result for {len(missing)} files (first: {missing[0]}); run again"
            )
        return out  # type: ignore[return-value]

    # --- embedding ---

    @property
    def dim(self) -> int:
        """The vector size of ``settings.model``: known here without a model for the fake and e5
        models, else asked of a worker (which loads the model, then exits)."""
        if self._dim is None:
            self._check_model()
        if self._dim is None:
            task = self._ray.remote(num_cpus=1, max_calls=1)(_embedder_dim)
            self._dim = int(self._ray.get(task.remote(self.settings)))
        return self._dim

    def _check_model(self) -> None:
        """Raise ``ModelError`` here, not in every actor, when the model is not on this machine. The
        e5 model is converted here if it was not yet (once, rather than by each actor at once)."""
        from rag.index.embed import E5_ALIASES, FAKE_ALIASES, model_id_for

        if self.settings.model.strip().casefold() in E5_ALIASES | FAKE_ALIASES:
            self._dim = _embedder_dim(self.settings)  # loads no torch for these two
        else:
            model_id_for(self.settings)

    def embed_batches(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(rows, vectors)`` per block of ``texts`` as the actors finish them, in no set order:
        ``vectors[k]`` is ``embed_documents`` of ``texts[rows[k]]``. The actors live, with their
        model, until the last block is taken."""
        import pyarrow as pa

        from rag.index.embed import batch_bounds

        texts = list(texts)
        if not texts:
            return
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("every text to embed must be a str")
        self._check_model()
        tables = [
            pa.table(
                {"i": pa.array(range(a, b), pa.int64()), "text": pa.array(texts[a:b], pa.large_string())}
            )
            for a, b in batch_bounds(texts, BLOCK_TEXTS, BLOCK_CHARS)
        ]
        ray = self._ray
        with warnings.catch_warnings():
            # max_restarts has no named parameter yet; passing it through **ray_remote_args is deprecated.
            warnings.simplefilter("ignore", DeprecationWarning)
            ds = ray.data.from_arrow(tables).map_batches(
                _EmbedActor,
                fn_constructor_kwargs={"settings": self.settings},
                batch_size=None,  # a whole block per call; the embedder makes its own model batches
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(tables))),
                num_cpus=1,  # Ray then gives torch one thread per actor
                # No restarts: a dead actor ends the run with its error. With restarts, Ray logs an
                # error for each actor, whose arguments Ray Data keeps in the object store.
                max_restarts=0,
            )
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            rows = np.asarray(batch["i"], dtype=np.int64)
            vectors = np.asarray(batch["vector"], dtype=np.float32).reshape(len(rows), -1)
            self._dim = vectors.shape[1]
            yield rows, vectors

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``embed_documents(texts)`` on the actors: float32 ``(len(texts), dim)``, rows in the order
        of ``texts``; ``(0, dim)`` for no texts. Each call starts the actors and loads the model in
        each: embed a build's texts in one call (or use ``embed_batches``)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out: np.ndarray | None = None
        seen = 0
        for rows, vectors in self.embed_batches(texts):
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            seen += len(rows)
        if out is None or seen != len(texts):
            raise RagError(f"Ray returned {seen} of {len(texts)} vectors; run again")
        return out

    # --- life ---

    def close(self) -> None:
        """Shut down the local Ray this executor started; a cluster it connected to keeps running
        (this process only disconnects)."""
        ray = getattr(self, "_ray", None)
        if ray is not None and self._shutdown and ray.is_initialized():
            ray.shutdown()
        self._shutdown = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class OnDemand:
    """A :class:`RayExecutor` started at the first file to read or text to embed: ``rag index
    --ray`` with nothing new to index (or only deletions) starts no Ray and reaches no cluster."""

    def __init__(self, settings: Settings, address: str | None = None, workers: int = 2) -> None:
        self.settings, self.address, self.workers = settings, address, workers
        self.executor: RayExecutor | None = None

    def _started(self) -> RayExecutor:
        if self.executor is None:
            self.executor = RayExecutor(self.settings, address=self.address, workers=self.workers)
        return self.executor

    def read(self, sources: list[SourceFile]) -> list[Prepared]:
        return self._started().read(sources) if sources else []

    def embed_batches(self, texts: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if texts:
            yield from self._started().embed_batches(texts)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()

    def __enter__(self) -> OnDemand:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
