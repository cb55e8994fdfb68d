"""Ten users at once: start the chat app (real model, seed articles, index built first), send ten
questions at the same moment from ten ``gradio_client`` threads, check every answer, print the
app's start to its first answer, wall time, latencies and the app's peak memory.

    .venv/bin/python bench/concurrency.py             # app.py in a subprocess, a fresh index in a temp folder
    .venv/bin/python bench/concurrency.py --url http://127.0.0.1:7860   # an app already running

Each answer must quote the expected article and contain the expected phrase; the exit status
is 1 when one does not. ``tests/test_app_concurrency.py`` asserts the same ten answers (no
timings there). The app answers ``--concurrency`` (default 4) questions at a time; the rest wait
in Gradio's queue, so the wall time shows queueing as well as the 2-core CPU.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    question: str
    phrases: tuple[str, ...]  # one of them must appear in the answer text
    sources: tuple[str, ...]  # the first citation's file is one of these


YONHAP = "2026-01-19-yonhap-lee-meloni-trade.txt"
AJP = "2026-01-19-ajp-lee-meloni-mous.txt"
GERMAN = "2026-01-19-gipfeltreffen-lee-meloni.de.txt"
INDUSTRY = "2026-01-lee-meloni-industrial-cooperation.txt"
HERALD = "korea-herald-2023-yoon-mattarella-summit.txt"

# Questions from eval/questions.jsonl (and the app's examples) that the pipeline answers: this
# measures serving, not answer quality (``rag eval`` does that).
QUESTIONS = (
    Case("Who visited Seoul in January 2026?", ("Meloni",), (AJP, YONHAP, INDUSTRY, GERMAN)),
    Case("Wie viele Absichtserklärungen wurden unterzeichnet?", ("drei",), (GERMAN,)),
    Case("멜로니 총리의 딸은 무엇의 팬인가요?", ("K-pop",), (AJP, YONHAP)),
    Case(
        "Which Italian president held a summit with President Yoon Suk Yeol in Seoul?",
        ("Mattarella",),
        (HERALD,),
    ),
    Case(
        "How large was the trade volume between South Korea and Italy in 2024?", ("12.6 billion",), (YONHAP,)
    ),
    Case("On which day of the week did Meloni arrive in South Korea?", ("Saturday",), (YONHAP,)),
    Case("In which year will South Korea and Italy mark 140 years of relations?", ("2024",), (HERALD,)),
    Case(
        "Wann trafen sich Lee Jae-myung und Giorgia Meloni zu ihrem Gipfeltreffen?",
        ("19. Januar", "January 19"),
        (GERMAN, AJP),
    ),
    Case("Which period will the new Korea-Italy bilateral roadmap cover?", ("2026-2030",), (INDUSTRY,)),
    Case(
        "Welchen Rang hat Südkorea unter Italiens Handelspartnern in Asien?", ("fourth-largest",), (YONHAP,)
    ),
)


def check(case: Case, result: object) -> str | None:
    """None when ``result`` (the app's /ask JSON) answers ``case`` correctly, else what is wrong."""
    if not isinstance(result, dict):
        return f"not an answer: {result!r:.200}"
    if "error" in result:
        return f"error: {result['error']}"
    if result.get("abstained") or not result.get("sentences"):
        return "no answer (abstained)"
    text = " ".join(s["text"] for s in result["sentences"])
    if not any(p.casefold() in text.casefold() for p in case.phrases):
        return f"none of {case.phrases} in the answer {text!r:.200}"
    location = result["sentences"][0]["citation"]["location"]
    if Path(location.split("#")[0]).name not in case.sources:
        return f"cites {location}, expected one of {case.sources}"
    return None


def ask_all(
    url: str, cases: tuple[Case, ...] = QUESTIONS
) -> tuple[float, list[tuple[Case, float, str | None]]]:
    """Every case asked at the same moment from its own client thread; (wall seconds, per case
    (case, latency seconds, problem or None))."""
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in cases]  # connected before the clock starts
    start = threading.Barrier(len(cases) + 1)
    results: list[tuple[Case, float, str | None] | None] = [None] * len(cases)

    def run(i: int) -> None:
        start.wait()
        t0 = time.perf_counter()
        try:
            out = clients[i].predict(cases[i].question, api_name="/ask")
            problem = check(cases[i], out)
        except Exception as e:  # a failed request is a result to report, not a crash
            problem = f"request failed: {type(e).__name__}: {e}"
        results[i] = (cases[i], time.perf_counter() - t0, problem)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return wall, [r for r in results if r is not None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with status {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"the app did not answer on {url} within {timeout:.0f} s")


def peak_mb(pid: int) -> float:
    """The peak resident memory of a running process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="an app already running (default: start app.py in a subprocess)")
    p.add_argument("--concurrency", type=int, default=4, help="the app's --concurrency (default 4)")
    args = p.parse_args()

    proc = tmp = None
    url = args.url
    try:
        if url is None:
            tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            cmd = [
                sys.executable, str(PROJECT_DIR / "app.py"), "--port", str(port),
                "--articles", str(PROJECT_DIR / "articles"), "--index", str(tmp / "index"),
                "--concurrency", str(args.concurrency),
            ]  # fmt: skip
            rag = Path(sys.executable).parent / "rag"
            t0 = time.perf_counter()
            subprocess.run(
                [str(rag), "index", str(PROJECT_DIR / "articles"), "--index", str(tmp / "index")],
                check=True, capture_output=True,
            )  # fmt: skip
            print(f"index built in {time.perf_counter() - t0:.1f} s (not part of the start-up below)")
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=PROJECT_DIR)
            wait_until_up(url, proc)
            up = time.perf_counter() - t0
            ask_all(url, QUESTIONS[:1])
            first = time.perf_counter() - t0
            print(f"app start to first answer: {first:.1f} s (serving after {up:.1f} s) on {url}")
        else:
            ask_all(url, QUESTIONS[:1])  # warm-up: first-request costs are not what this measures
        wall, results = ask_all(url)
        if proc is not None:
            print(f"app peak memory (VmHWM) after {len(results) + 1} questions: {peak_mb(proc.pid):.0f} MB")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{len(results)} questions at once, app concurrency {args.concurrency}: wall time {wall:.2f} s")
    print(f"{'latency':>8}  {'ok':<4} question")
    for case, latency, problem in sorted(results, key=lambda r: r[1]):
        print(f"{latency:7.2f}s  {'ok' if problem is None else 'FAIL':<4} {case.question}")
        if problem:
            print(f"          {problem}")
    lat = sorted(r[1] for r in results)
    print(f"latency: min {lat[0]:.2f} s, median {lat[len(lat) // 2]:.2f} s, max {lat[-1]:.2f} s")
    failed = sum(1 for r in results if r[2] is not None)
    print(f"{len(results) - failed}/{len(results)} correct")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
