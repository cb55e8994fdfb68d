"""Shared fixtures: a copy of the seed articles, settings pointing at temp folders,
and the fake embedder (deterministic, no model) for fast tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR, Settings

SEED_DIR = PROJECT_DIR / "articles"
SHARED_DIR = PROJECT_DIR.parent / "shared"


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
