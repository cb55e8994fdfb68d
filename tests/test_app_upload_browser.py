"""Adding and removing articles in a real browser: headless Chromium (Debian's, never downloaded)
drives the "Articles" panel of the app served in-process, with the real multilingual model.

* Three new articles dropped on the page are indexed while ten ``/ask`` clients keep asking:
  no request fails, and the next question about a new article is answered from it.
* Bad files (binary, empty, 50 MB, malformed JSONL, a name "../../x.txt") each get a message;
  nothing is written, the index build stays the same.
* Bound with a token, a wrong token changes nothing; the right one removes an article (moved
  into the index's trash folder).

Each step saves a screenshot to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR, Settings
from rag.index.store import current_build

from .test_app_browser import ANSWER_TIMEOUT_MS, free_port, shot

pytestmark = pytest.mark.browser

UPDATE_TIMEOUT_MS = 300_000
CLIENTS = 10

GLACIER = """Svalbard station logs longest sea-ice season in a decade

Published: 2026-02-10

The Arctic research station at Ny-Ålesund recorded 212 days of sea ice in the fjord last winter, \
the longest season in ten years, its scientists said on Tuesday. The station's director, Ingrid \
Halvorsen, said the team would keep its sensors in the water until the ice breaks up in May.
"""

VIOLIN = """# Cremona workshop restores a 1715 violin

A workshop in Cremona has finished restoring a violin made by Antonio Stradivari in 1715. The \
restoration took fourteen months, and the instrument will be played in public for the first time \
at a concert on 3 March, the city's violin museum said.
"""

BATTERY = """<html><head><title>Daejeon start-up shows battery that charges in nine minutes</title>
<meta name="date" content="2026-02-12"></head><body><article>
<h1>Daejeon start-up shows battery that charges in nine minutes</h1>
<p>A start-up from Daejeon presented an electric-scooter battery that charges fully in nine minutes. \
The company, Hanbit Cells, said the battery keeps 90 percent of its capacity after 3,000 charges, \
and that it will sell the first packs to delivery firms in Seoul this autumn.</p>
</article></body></html>
"""

NEW = {"svalbard-sea-ice.txt": GLACIER, "cremona-violin.md": VIOLIN, "daejeon-battery.html": BATTERY}


def load_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_concurrency_upload", PROJECT_DIR / "bench" / "concurrency.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """The seed articles and their index (real model), and the pipeline over them."""
    from rag.index.indexer import build_index
    from rag.query.pipeline import Pipeline

    tmp = tmp_path_factory.mktemp("upload")
    settings = Settings(articles_dir=tmp / "box" / "articles", index_dir=tmp / "box" / "index")
    shutil.copytree(PROJECT_DIR / "articles", settings.articles_dir)
    build_index(settings)
    return settings, Pipeline.from_settings(settings)


def serve(seed, token: str | None = None):
    from rag.present import chat

    settings, pipeline = seed
    app = chat.build_app(pipeline, settings, token=token)
    port = free_port()
    chat.launch(app, host="127.0.0.1", port=port, block=False, quiet=True)
    return app, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def served(seed):
    app, url = serve(seed)
    try:
        yield url
    finally:
        app.close()


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#rag-question textarea", timeout=60_000)
    page.click("#rag-articles button.label-wrap")
    page.wait_for_selector("#rag-upload", state="visible")
    return context, page


def payload(name: str, data: str | bytes, mime: str = "text/plain") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data.encode("utf-8") if isinstance(data, str) else data}


def add(page, files: list[dict]) -> str:
    """Drop ``files`` on the panel, press "Add to index", wait for the result; returns its text."""
    out = page.locator("#rag-upload-result .rag-upload-out")
    before = out.inner_text() if out.count() else ""
    page.locator("#rag-upload input[type=file]").set_input_files(files)
    page.wait_for_function(
        "n => document.querySelectorAll('#rag-upload tbody tr').length >= n",
        arg=len(files),
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.click("#rag-add")
    page.wait_for_function(
        "before => { const o = document.querySelector('#rag-upload-result .rag-upload-out');"
        " return o && o.innerText.trim() && o.innerText !== before; }",
        arg=before,
        timeout=UPDATE_TIMEOUT_MS,
    )
    return out.inner_text()


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_three_articles_added_while_ten_clients_ask(browser, served, seed):
    """Acceptance 3: no request fails during the upload and the update; the new articles answer."""
    from gradio_client import Client

    settings, pipeline = seed
    bench = load_bench()
    build = pipeline.index.build_id
    clients = [Client(served, verbose=False) for _ in range(CLIENTS)]
    stop = threading.Event()
    results: list[tuple[float, str | None, bool]] = []  # (seconds, problem, answered from the new build)
    lock = threading.Lock()

    def keep_asking(i: int) -> None:
        n = 0
        while not stop.is_set():
            case = bench.QUESTIONS[(i + n) % len(bench.QUESTIONS)]
            n += 1
            t0 = time.perf_counter()
            try:
                problem = bench.check(case, clients[i].predict(case.question, api_name="/ask"))
            except Exception as e:
                problem = f"request failed: {type(e).__name__}: {e}"
            with lock:
                results.append((time.perf_counter() - t0, problem, pipeline.index.build_id != build))

    threads = [threading.Thread(target=keep_asking, args=(i,)) for i in range(CLIENTS)]
    context, page = open_page(browser, served)
    try:
        for t in threads:
            t.start()
        while len(results) < CLIENTS:  # every client has asked once before the upload
            time.sleep(0.2)
        asked_before = len(results)
        t0 = time.perf_counter()
        text = add(
            page,
            [payload(n, d, "text/html" if n.endswith(".html") else "text/plain") for n, d in NEW.items()],
        )
        update_seconds = time.perf_counter() - t0
        time.sleep(2)  # the clients ask again, now on the new index
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    shot(page, "upload-01-three-added")
    failed = [r[1] for r in results if r[1] and r[1].startswith(("request failed", "error"))]
    on_new = sum(r[2] for r in results)
    print(
        f"\nupload of 3 articles: {update_seconds:.1f} s in the browser; {len(results)} requests from "
        f"{CLIENTS} clients ({asked_before} before the upload, {on_new} on the new build), {len(failed)} "
        f"failed, {sum(1 for r in results if r[1])} not answered as before; "
        f"slowest {max(r[0] for r in results):.2f} s"
    )
    assert "Added to" in text and all(n in text for n in NEW), text
    assert "Index updated: added 3" in text, text
    assert failed == []
    assert [r[1] for r in results if r[1]] == []  # and the seed questions were answered as before
    assert any(r[2] for r in results)  # some requests were answered from the new build
    assert set(NEW) <= set(pipeline.index.sources)

    listed = page.locator("#rag-article-list").inner_text()
    assert "Svalbard station logs longest sea-ice season" in listed and "daejeon-battery.html" in listed

    client = clients[0]
    for question, phrase, file in [
        (
            "How many days of sea ice did the Ny-Ålesund station record last winter?",
            "212 days",
            "svalbard-sea-ice.txt",
        ),
        (
            "How long did the restoration of the 1715 Stradivari violin take?",
            "fourteen months",
            "cremona-violin.md",
        ),
        (
            "After how many charges does the Hanbit Cells battery keep 90 percent of its capacity?",
            "3,000",
            "daejeon-battery.html",
        ),
    ]:
        out = client.predict(question, api_name="/ask")
        assert not out.get("abstained") and out["sentences"], (question, out)
        assert phrase in " ".join(s["text"] for s in out["sentences"]), (question, out)
        assert out["sentences"][0]["citation"]["location"] == file
    context.close()


def test_bad_uploads_get_a_message_each_and_change_nothing(browser, served, seed, tmp_path):
    """Acceptance 4, in the browser."""
    settings, pipeline = seed
    box = settings.articles_dir.parent
    before, build = tree(box / "articles"), current_build(settings.index_dir)
    manifest = (settings.index_dir / "builds" / build / "manifest.json").read_bytes()
    outside = set(box.parent.rglob("*"))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (bad / "empty.txt").write_bytes(b"")
    (bad / "huge.txt").write_bytes(b"word " * (50 * 1024 * 1024 // 5))
    (bad / "feed.jsonl").write_bytes(b'{"title": "Harbour", "text": "unterminated\n')
    context, page = open_page(browser, served)
    # Playwright sends a 50 MB file only from disk, and a name with a folder part only as a buffer.
    text = add(page, [str(bad / n) for n in ("photo.txt", "empty.txt", "huge.txt", "feed.jsonl")])
    shot(page, "upload-02-bad-files")
    assert "Not added" in text and "Added to" not in text
    for words in (
        "photo.txt: binary file (NUL byte at offset 8); expected UTF-8 text",
        "empty.txt: empty file (0 bytes)",
        "huge.txt: file too large (52,428,800 bytes; at most 10,485,760 per upload)",
        "feed.jsonl line 1: not valid JSON (Unterminated string starting at column 30)",
    ):
        assert words in text, (words, text)
    page.wait_for_function("!document.querySelector('#rag-upload tbody tr')")  # emptied after each add
    text = add(page, [payload("../../x.txt", GLACIER.replace("212", "213"))])
    shot(page, "upload-03-folder-name")
    assert "../../x.txt: the name has a folder part" in text, text
    assert tree(box / "articles") == before
    assert set(box.parent.rglob("*")) == outside  # nothing new anywhere near the articles folder
    assert not (box.parent / "x.txt").exists() and not (box / "x.txt").exists()
    assert current_build(settings.index_dir) == build
    assert (settings.index_dir / "builds" / build / "manifest.json").read_bytes() == manifest
    context.close()


def test_with_a_token_a_wrong_one_changes_nothing_and_the_right_one_removes(browser, seed):
    settings, pipeline = seed
    app, url = serve(seed, token="s3cret-token")
    rel = "cremona-violin.md"
    try:
        context, page = open_page(browser, url)
        token = page.locator("#rag-token input")
        assert token.is_visible()
        before, build = tree(settings.articles_dir), current_build(settings.index_dir)

        token.fill("wrong")
        page.locator("#rag-upload input[type=file]").set_input_files([payload("new.txt", GLACIER)])
        page.wait_for_selector("#rag-upload .file-preview", timeout=ANSWER_TIMEOUT_MS)
        page.click("#rag-add")
        page.get_by_text("Wrong or missing upload token").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
        shot(page, "upload-04-wrong-token")
        page.click("#rag-update")  # "Update index" is guarded by the same token
        page.wait_for_function(
            "[...document.querySelectorAll('.toast-message-text')]"
            ".filter(t => t.innerText.includes('Wrong or missing upload token')).length >= 2",
            timeout=ANSWER_TIMEOUT_MS,
        )
        assert tree(settings.articles_dir) == before and current_build(settings.index_dir) == build

        page.locator("#rag-article-list").get_by_text(rel).first.click()
        page.wait_for_function(
            f"document.querySelector('#rag-remove-pick input').value === {rel!r}", timeout=ANSWER_TIMEOUT_MS
        )
        page.click("#rag-remove")
        page.wait_for_timeout(1000)
        assert not page.locator("#rag-remove-yes").is_visible()  # refused before asking
        token.fill("s3cret-token")
        page.click("#rag-remove")
        page.locator("#rag-remove-yes").wait_for(state="visible")
        shot(page, "upload-05-confirm-remove")
        page.click("#rag-remove-yes")
        page.wait_for_function(
            "(document.querySelector('#rag-upload-result .rag-upload-out') || {innerText: ''})"
            ".innerText.includes('Removed')",
            timeout=UPDATE_TIMEOUT_MS,
        )
        shot(page, "upload-06-removed")
        assert not (settings.articles_dir / rel).exists() and rel not in pipeline.index.sources
        assert list((settings.index_dir / "removed").rglob(rel))
        assert rel not in page.locator("#rag-article-list").inner_text()
        context.close()
    finally:
        app.close()
