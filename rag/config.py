"""One settings object, built and validated in one place, passed in explicitly.

``Settings()`` gives the defaults: ``articles/`` and ``index/`` in the current folder (the
project's bundled articles when run from the project, as ``./run.sh`` does), the multilingual
e5-small model and chunks of at most 400 tokens with 40 tokens of overlap (inside e5's
512-token window; eval/NOTES.md, "Chunks of 400 tokens"). ``threshold`` None means the reader's
calibrated threshold (:func:`reader_threshold`, :data:`DEFAULT_THRESHOLD` for the shipped
reader); 0 never abstains. ``reader`` is the manifest of the extractive reader (``rag.query.reader``).
``Settings.from_env()`` applies the ``RAG_*`` environment variables on top; the CLI
applies its flags on top of that. A bad value raises ``ConfigError`` with a message meant for a person.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent

DEFAULT_MODEL = "multilingual-e5-small"
MINILM_MODEL = "all-MiniLM-L6-v2"


def default_cache_dir() -> Path:
    """Where converted models live: outside the repository, shared by clones."""
    if env := os.environ.get("RAG_CACHE_DIR"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rag-news"


def check_threshold(value: object, what: str = "the abstention threshold", *, shown: object = None) -> float:
    """``value`` as a float from 0 to 1 inclusive, else ``ConfigError`` naming ``what``."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1  # NaN fails
    if not ok:
        got = shown if shown is not None else value
        raise ConfigError(f"{what} must be a number from 0 to 1 (0 never abstains), got {got!r}")
    return float(value)  # type: ignore[arg-type]


READER_MANIFEST = Path(__file__).resolve().parent / "models" / "reader-v1.json"


def reader_thresholds(manifest: Path = READER_MANIFEST) -> tuple[float, float]:
    """The abstention thresholds fitted for a reader (``eval/fit_reading.py``): for a question and an
    answer sentence in the same language (the manifest's ``threshold``) and in two languages
    (``threshold_other_language``, the first when absent). 0.5, the calibrated probability's even
    odds, when the manifest cannot be read: loading the reader then says why."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        same = check_threshold(data["threshold"])
        return same, check_threshold(data.get("threshold_other_language", same))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ConfigError):
        return 0.5, 0.5


def reader_threshold(manifest: Path = READER_MANIFEST) -> float:
    """The same-language abstention threshold of :func:`reader_thresholds`."""
    return reader_thresholds(manifest)[0]


DEFAULT_THRESHOLD = reader_threshold()


def check_store(value: object) -> str:
    """``value`` as a store: "faiss", an http(s):// or tcp:// Milvus URI, or a Milvus Lite path
    ending in ".db" (made absolute, so every process of a deployment names the same one)."""
    text = str(value).strip() if isinstance(value, str | Path) else ""
    if text.casefold() == "faiss":
        return "faiss"
    if "://" in text:
        scheme, _, rest = text.partition("://")
        if scheme.casefold() in ("http", "https", "tcp") and rest.strip("/"):
            return text.rstrip("/")
    elif text.endswith(".db") and Path(text).name != ".db":
        return str(Path(text).expanduser().resolve())
    raise ConfigError(
        "the store must be faiss (the index folder, the default), a Milvus Lite folder ending in .db "
        f"(e.g. index/milvus.db) or a Milvus URI (e.g. http://localhost:19530), got {value!r}"
    )


@dataclass(frozen=True)
class Settings:
    articles_dir: Path = field(default_factory=lambda: Path.cwd() / "articles")
    index_dir: Path = field(default_factory=lambda: Path.cwd() / "index")
    cache_dir: Path = field(default_factory=default_cache_dir)
    model: str = DEFAULT_MODEL
    chunk_tokens: int = 400
    chunk_overlap: int = 40
    batch_size: int = 32
    encoding: str = "cl100k_base"
    threshold: float | None = None  # abstain below this confidence; None: the calibrated default
    reader: Path = READER_MANIFEST  # the reader's manifest (rag.query.reader); its weights lie beside it
    # Where builds live (rag.index.store.open_store): "faiss" (the index folder), or Milvus: a Milvus
    # Lite folder whose name ends in ".db" (embedded, one process at a time) or http://host:19530.
    store: str = "faiss"

    def __post_init__(self) -> None:
        object.__setattr__(self, "store", check_store(self.store))
        for name in ("articles_dir", "index_dir", "cache_dir", "reader"):
            object.__setattr__(self, name, Path(getattr(self, name)).expanduser())
        if not isinstance(self.model, str) or not self.model.strip():
            raise ConfigError("model must be a model name or folder, not empty")
        if not 16 <= self.chunk_tokens <= 8192:
            raise ConfigError(f"chunk size must be between 16 and 8192 tokens, got {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap < self.chunk_tokens // 2:
            raise ConfigError(
                f"chunk overlap must be at least 0 and less than half the chunk size "
                f"({self.chunk_tokens // 2}), got {self.chunk_overlap}"
            )
        if not 1 <= self.batch_size <= 4096:
            raise ConfigError(f"batch size must be between 1 and 4096, got {self.batch_size}")
        if self.encoding not in ("cl100k_base", "o200k_base"):
            raise ConfigError(f"token encoding must be cl100k_base or o200k_base, got {self.encoding!r}")
        if self.threshold is not None:
            object.__setattr__(self, "threshold", check_threshold(self.threshold))

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``RAG_ARTICLES_DIR``, ``RAG_INDEX_DIR``, ``RAG_MODEL``,
        ``RAG_CHUNK_TOKENS``, ``RAG_CHUNK_OVERLAP``, ``RAG_THRESHOLD``, ``RAG_READER``, ``RAG_STORE``, then
        ``overrides`` (None values ignored)."""
        values: dict[str, object] = {}
        env = {
            "articles_dir": "RAG_ARTICLES_DIR",
            "index_dir": "RAG_INDEX_DIR",
            "model": "RAG_MODEL",
            "chunk_tokens": "RAG_CHUNK_TOKENS",
            "chunk_overlap": "RAG_CHUNK_OVERLAP",
            "threshold": "RAG_THRESHOLD",
            "reader": "RAG_READER",
            "store": "RAG_STORE",
        }
        for name, var in env.items():
            if (raw := os.environ.get(var)) is not None and raw != "":
                if name.startswith("chunk_"):
                    try:
                        values[name] = int(raw)
                    except ValueError:
                        raise ConfigError(f"{var} must be a whole number, got {raw!r}") from None
                elif name == "threshold":
                    try:
                        number = float(raw)
                    except ValueError:
                        number = math.nan  # reported below, naming the variable
                    values[name] = check_threshold(number, var, shown=raw)
                else:
                    values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    @property
    def feedback_file(self) -> Path:
        """Where 👍/👎 on answers are kept (``rag.present.feedback``): ``feedback.jsonl`` in the index
        folder, the app's state; building the index (also ``rag index --full``) only replaces and
        prunes ``builds/`` beside it and never touches this file."""
        return self.index_dir / "feedback.jsonl"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
