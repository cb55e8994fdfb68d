"""Shared fixtures: a copy of the seed articles, settings pointing at temp folders,
the fake embedder and fake reader (deterministic, no model) for fast tests, and the real
pipeline (multilingual-e5-small and the shipped reader) for tests marked ``model``.

Tests marked ``model`` read with the reader whose manifest ``RAG_READER`` names (the shipped
``rag/models/reader-v1.json`` when unset), so a candidate reader can be tested before it ships."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR, READER_MANIFEST, Settings

SEED_DIR = PROJECT_DIR / "articles"
SHARED_DIR = PROJECT_DIR.parent / "shared"

# A Korean text of the seed story (no seed article is in Korean).
KOREAN = (
    "이재명 대통령은 19일 청와대에서 조르자 멜로니 이탈리아 총리와 정상회담을 가졌다. "
    "두 정상은 반도체와 인공지능(AI), 항공우주 분야의 협력을 강화하기로 합의했다! "
    "멜로니 총리는 “한국은 이탈리아의 중요한 파트너”라고 말했다. "
    "이탈리아 총리의 방한은 19년 만이다.\n\n"
    "양국은 이날 세 건의 양해각서(MOU)에 서명했다. 다음 회담은 로마에서 열릴까요? 아직 정해지지 않았다."
)

# An article whose text carries HTML and script: the app must show it as text, never run it.
INJECTION = """Harbour festival: <script>window.__pwned=1</script> organisers report record crowds

Published: 2026-01-20
By Test Reporter, Injection Daily

The Busan harbour festival drew 41,000 visitors on its opening night, the organisers said \
<img src=x onerror="window.__pwned=1">.
The mayor called the event {{ value }} and ${1+1} a success, and promised <b>bold</b> plans for next year.
"""


@pytest.fixture(autouse=True)
def _logging_as_pytest_set_it():
    """``rag.cli.configure_logging`` (run by tests that call ``rag.cli.main``) filters the root
    logger's handlers, pytest's capture among them: undo that after each test."""
    yield
    from rag.cli import _Shown

    for handler in logging.getLogger().handlers:
        for f in [f for f in handler.filters if isinstance(f, _Shown)]:
            handler.removeFilter(f)


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A private copy of the five seed articles that a test may change."""
    dest = tmp_path / "articles"
    shutil.copytree(SEED_DIR, dest)
    return dest


@pytest.fixture
def settings(tmp_path: Path, seed_dir: Path) -> Settings:
    return Settings(
        articles_dir=seed_dir, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache", model="fake"
    )


@pytest.fixture
def fake_embedder():
    from rag.index.embed import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture
def fake_reader():
    from rag.query.reader import FakeReader

    return FakeReader()


@pytest.fixture
def no_real_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Reader.load`` gives a ``FakeReader``: for fast tests of commands (``rag ask``, ``rag eval``)
    that build their own pipeline with ``Pipeline.from_settings`` and the fake embedder."""
    from rag.query.reader import FakeReader, Reader

    monkeypatch.setattr(Reader, "load", classmethod(lambda cls, *args, **kwargs: FakeReader()))


# --- indexes of the seed articles shared by the retrieval and answer tests ---


@pytest.fixture(scope="session")
def fake_seed_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the five seed articles built once per session with the fake embedder."""
    from rag.index.embed import FakeEmbedder
    from rag.index.indexer import build_index

    root = tmp_path_factory.mktemp("fake-seed")
    articles = root / "articles"
    shutil.copytree(SEED_DIR, articles)
    settings = Settings(
        articles_dir=articles, index_dir=root / "index", cache_dir=root / "cache", model="fake"
    )
    build_index(settings, embedder=FakeEmbedder())
    return settings


@pytest.fixture(scope="session")
def model_seed_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the seed articles built once per session with multilingual-e5-small
    (the converted model in the user cache is reused; the index and its embedding cache are new)."""
    from rag.index.indexer import build_index

    root = tmp_path_factory.mktemp("model-seed")
    articles = root / "articles"
    shutil.copytree(SEED_DIR, articles)
    settings = Settings(articles_dir=articles, index_dir=root / "index", reader=model_reader_manifest())
    build_index(settings)
    return settings


def model_reader_manifest() -> Path:
    """The reader the ``model`` tests use: ``RAG_READER`` when set, else the shipped one."""
    return Path(os.environ.get("RAG_READER") or READER_MANIFEST).expanduser()


@pytest.fixture(scope="session")
def model_pipeline(model_seed_index: Settings):
    """The real pipeline over ``model_seed_index`` (e5 and the reader loaded once per session), with
    the reader's own threshold."""
    from rag.query.pipeline import Pipeline

    return Pipeline.from_settings(model_seed_index)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
