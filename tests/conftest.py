"""Shared fixtures: a copy of the seed articles, settings pointing at temp folders,
and the fake embedder (deterministic, no model) for fast tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR, Settings

SEED_DIR = PROJECT_DIR / "articles"
SHARED_DIR = PROJECT_DIR.parent / "shared"

# An article whose text carries HTML and script: the app must show it as text, never run it.
INJECTION = """Harbour festival: <script>window.__pwned=1</script> organisers report record crowds

Published: 2026-01-20
By Test Reporter, Injection Daily

The Busan harbour festival drew 41,000 visitors on its opening night, the organisers said \
<img src=x onerror="window.__pwned=1">.
The mayor called the event {{ value }} and ${1+1} a success, and promised <b>bold</b> plans for next year.
"""


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
    from rag.embed import FakeEmbedder

    return FakeEmbedder()


# --- indexes of the seed articles shared by the retrieval and answer tests (added with rag.pipeline) ---


@pytest.fixture(scope="session")
def fake_seed_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of an index of the five seed articles built once per session with the fake embedder."""
    from rag.embed import FakeEmbedder
    from rag.indexer import build_index

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
    from rag.indexer import build_index

    root = tmp_path_factory.mktemp("model-seed")
    articles = root / "articles"
    shutil.copytree(SEED_DIR, articles)
    settings = Settings(articles_dir=articles, index_dir=root / "index")
    build_index(settings)
    return settings
