"""Starting the app (``app.main`` and ``rag.present.chat.open_pipeline``): an index that exists is
served at once and brought up to date in the background, the new build swapped in when it is
written; an index that is missing or cannot be served is built first; the index lock is respected.

No server and no browser: ``launch`` is replaced by a function that plays the first users, and
the fake embedder and fake reader stand in for the models.
"""

from __future__ import annotations

import html
import re
import socket
import threading

import pytest

import app
from rag.index import indexer
from rag.index.store import current_build
from rag.present import chat

FERRY = (
    "Ferry line opens between Mokpo and Jeju\n\nPublished: 2026-02-03\n\n"
    "The new ferry line between Mokpo and Jeju carries 1,240 passengers a day, the operator said.\n"
)
FERRY_QUESTION = "How many passengers a day does the ferry between Mokpo and Jeju carry?"


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def locations(pipeline) -> set[str]:
    return {a.location for a in pipeline.index.articles.values()}


@pytest.fixture
def start(monkeypatch, settings, tmp_path, no_real_reader):
    """``start(*flags, on_serve=f)`` runs ``app.main`` on the test's folders; where the app would
    serve, ``f(pipeline, update)`` runs instead. Returns (exit code, pipeline, update)."""
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(app, "configure_logging", lambda verbose: None)

    def run(*flags: str, on_serve=lambda pipeline, update: None):
        seen: dict = {}
        real_build_app = chat.build_app

        def build_app(pipeline, settings_, **kwargs):
            seen["pipeline"], seen["update"] = pipeline, kwargs.get("update")
            return real_build_app(pipeline, settings_, **kwargs)

        def launch(served_app, **kwargs):
            on_serve(seen["pipeline"], seen["update"])
            return served_app

        monkeypatch.setattr(chat, "build_app", build_app)
        monkeypatch.setattr(chat, "launch", launch)
        argv = ["--articles", str(settings.articles_dir), "--index", str(settings.index_dir)]
        code = app.main([*argv, "--model", "fake", "--port", str(free_port()), *flags])
        return code, seen.get("pipeline"), seen.get("update")

    return run


def test_an_index_that_exists_is_served_at_once_and_updated_in_the_background(start, settings, monkeypatch):
    indexer.build_index(settings)
    (settings.articles_dir / "ferry.txt").write_text(FERRY, encoding="utf-8")
    serving = threading.Event()
    builds: list[str] = []
    real_build = indexer.build_index

    def build_index(settings_, **kwargs):
        before_serving = threading.current_thread() is threading.main_thread()
        builds.append("before serving" if before_serving else "in the background")
        if not before_serving:
            serving.wait()  # written only once the app serves
        return real_build(settings_, **kwargs)

    monkeypatch.setattr(indexer, "build_index", build_index)

    def on_serve(pipeline, update):
        try:
            assert "before serving" not in builds, "start-up waited for the update"
            assert "ferry.txt" not in locations(pipeline)  # the index it had
            status = text_of(chat.status_html(pipeline, settings, update=update))
            assert "Updating the index in the background (1 new file(s) in articles/)" in status
            assert chat.update_index(pipeline, settings, update).startswith(
                "The index is already being updated in the background"
            )
            assert "rag-error" not in chat.answer_question(pipeline, FERRY_QUESTION).html
        finally:
            serving.set()

    code, pipeline, update = start(on_serve=on_serve)
    assert code == 0 and builds == ["in the background"]
    update.join()
    assert "ferry.txt" in locations(pipeline)  # swapped in when written, before any question
    assert update.summary.startswith("Index updated: added 1")
    status = text_of(chat.status_html(pipeline, settings, update=update))
    assert "up to date" in status and "Updating" not in status
    assert "1,240 passengers" in text_of(chat.answer_question(pipeline, FERRY_QUESTION).html)


def recorder():
    """What the app serves at start-up: (a dict filled when it serves, the hook that fills it)."""
    served = {}

    def on_serve(pipeline, update):
        served["articles"], served["update"] = len(pipeline.index.articles), update

    return served, on_serve


def test_without_an_index_the_app_builds_it_before_serving(start, settings, capsys):
    served, on_serve = recorder()
    code, _, _ = start(on_serve=on_serve)
    out = capsys.readouterr().out
    assert code == 0 and served == {"articles": 5, "update": None}
    assert f"No index in {settings.index_dir} yet: indexing the 5 file(s) in" in out
    assert "before serving" in out and "Index ready: added 5" in out


def test_an_index_that_cannot_be_served_is_rebuilt_before_serving(start, settings, capsys):
    indexer.build_index(settings)
    damaged = settings.index_dir / "builds" / current_build(settings.index_dir)
    with open(damaged / "chunks.faiss", "ab") as f:
        f.write(b"damage")
    served, on_serve = recorder()
    code, pipeline, _ = start(on_serve=on_serve)
    out = capsys.readouterr().out
    assert code == 0 and served == {"articles": 5, "update": None}
    assert "chunks.faiss is damaged" in out and "rebuilding it before serving" in out
    assert pipeline.index.build_id != damaged.name


def test_no_update_serves_the_index_as_it_is(start, settings, monkeypatch):
    indexer.build_index(settings)
    (settings.articles_dir / "ferry.txt").write_text(FERRY, encoding="utf-8")
    monkeypatch.setattr(indexer, "build_index", lambda *a, **k: pytest.fail("updated with --no-update"))
    code, pipeline, update = start("--no-update")
    assert code == 0 and update is None and "ferry.txt" not in locations(pipeline)
    assert "1 new file(s)" in text_of(chat.status_html(pipeline, settings))


def test_while_another_rag_index_holds_the_lock_the_app_serves_and_its_build_is_used(start, settings):
    indexer.build_index(settings)
    (settings.articles_dir / "ferry.txt").write_text(FERRY, encoding="utf-8")
    with indexer.build_lock(settings.index_dir):  # a `rag index` running elsewhere
        code, pipeline, update = start()
        assert code == 0
        update.join()
        status = text_of(chat.status_html(pipeline, settings, update=update))
        assert "Index not updated: another `rag index` is already updating" in status
    indexer.build_index(settings)  # that other run writes its build
    assert "1,240 passengers" in text_of(chat.answer_question(pipeline, FERRY_QUESTION).html)
    status = text_of(chat.status_html(pipeline, settings, update=update))
    assert "Index not updated" not in status and "up to date" in status
