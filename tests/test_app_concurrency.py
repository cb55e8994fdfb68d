"""The served app under load and during an index swap, with the real model (no browser):
ten ``gradio_client`` users at once all get correct answers, and a ``rag index`` run while the
app serves is picked up without a restart and without failing a request in flight.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import threading
import time

import pytest

from rag.config import PROJECT_DIR, Settings

pytestmark = pytest.mark.model


def load_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_concurrency", PROJECT_DIR / "bench" / "concurrency.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(settings: Settings):
    from rag.present import chat
    from rag.query.pipeline import Pipeline

    app = chat.build_app(Pipeline.from_settings(settings), settings)
    port = free_port()
    chat.launch(app, host="127.0.0.1", port=port, block=False, quiet=True)
    return app, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """The seed articles and their index (real model) in a temp folder."""
    from rag.index.indexer import build_index

    tmp = tmp_path_factory.mktemp("concurrency")
    settings = Settings(articles_dir=tmp / "articles", index_dir=tmp / "index")
    shutil.copytree(PROJECT_DIR / "articles", settings.articles_dir)
    build_index(settings)
    return settings


def test_ten_users_at_once_all_get_correct_answers(seed):
    bench = load_bench()
    app, url = serve(seed)
    try:
        _wall, results = bench.ask_all(url)
    finally:
        app.close()
    assert len(results) == 10
    problems = [(case.question, problem) for case, _latency, problem in results if problem]
    assert problems == []


FERRY = """Ferry line opens between Mokpo and Jeju

Published: 2026-02-03

The new ferry line between Mokpo and Jeju, opened on Tuesday, carries 1,240 passengers a day, \
the operator said. Tickets are sold at both ports.
"""


def test_index_rebuilt_while_serving_is_used_without_restart_and_no_request_fails(seed, tmp_path):
    from gradio_client import Client

    bench = load_bench()
    settings = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "index")
    shutil.copytree(seed.articles_dir, settings.articles_dir)
    shutil.copytree(seed.index_dir, settings.index_dir)
    app, url = serve(settings)
    stop = threading.Event()
    during: list[str | None] = []

    def keep_asking() -> None:
        client = Client(url, verbose=False)
        case = bench.QUESTIONS[0]
        while not stop.is_set():
            try:
                during.append(bench.check(case, client.predict(case.question, api_name="/ask")))
            except Exception as e:
                during.append(f"request failed: {type(e).__name__}: {e}")

    background = threading.Thread(target=keep_asking)
    try:
        client = Client(url, verbose=False)
        question = "How many passengers a day does the new ferry between Mokpo and Jeju carry?"
        before = client.predict(question, api_name="/ask")
        assert "1,240" not in str(before)

        background.start()
        (settings.articles_dir / "ferry.txt").write_text(FERRY, encoding="utf-8")
        asked_before_swap = len(during)
        subprocess.run(
            [sys.executable, "-m", "rag.cli", "index", str(settings.articles_dir), "--index",
             str(settings.index_dir), "--no-progress"],
            cwd=PROJECT_DIR, check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        after = client.predict(question, api_name="/ask")
        time.sleep(1)  # let the background user ask once more on the new index
    finally:
        stop.set()
        if background.is_alive():
            background.join(timeout=120)
        app.close()

    assert not after.get("abstained") and after["sentences"], after
    assert "1,240" in " ".join(s["text"] for s in after["sentences"])
    assert after["sentences"][0]["citation"]["location"] == "ferry.txt"
    assert len(during) > asked_before_swap >= 0 and len(during) >= 2
    assert [p for p in during if p is not None] == []
