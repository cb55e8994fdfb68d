"""Start the chat in a browser: ``python app.py`` (what ``./run.sh chat`` runs).

Builds the index of the articles folder on first run, before serving; on later runs it
serves the index it has at once and brings it up to date with new or changed files in the
background (the chat answers from the new index as soon as it is written). Loads the model
and the index once, and serves the chat on http://127.0.0.1:7860 to several users at once.
Everything the page shows and does lives in ``rag/present/chat.py``; this file only reads
flags and starts it.

    python app.py                          # ./articles, ./index, http://127.0.0.1:7860
    python app.py --port 8000 --articles ~/news --index ~/news-index
    python app.py --host 0.0.0.0           # reachable from other machines on the network
    python app.py --share                  # also a temporary public link (off by default)
    python app.py --host 0.0.0.0 --token s3cret   # the token that adding/removing articles needs

Adding, removing and re-indexing articles from the browser needs no token when the app listens on
127.0.0.1, localhost or ::1 (and is not shared); on any other address it needs a token: ``--token``,
else ``RAG_TOKEN``, else a random one printed at start ("upload token: ...").
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from rag.cli import configure_logging
from rag.config import Settings
from rag.errors import ConfigError, RagError

DEFAULT_PORT = 7860


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Chat with a folder of news articles in the browser.")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    p.add_argument(
        "--port", type=int, help=f"port (default {DEFAULT_PORT}, or RAG_PORT / GRADIO_SERVER_PORT)"
    )
    p.add_argument(
        "--share",
        action="store_true",
        help="also create a temporary public link through Gradio (off by default)",
    )
    p.add_argument("--articles", type=Path, help="articles folder (default ./articles, or RAG_ARTICLES_DIR)")
    p.add_argument("--index", type=Path, help="index folder (default ./index, or RAG_INDEX_DIR)")
    p.add_argument(
        "--model", help="embedding model: multilingual-e5-small (default), all-MiniLM-L6-v2, or a folder"
    )
    p.add_argument(
        "--store",
        help="where the index's builds live: faiss (the index folder, the default), a Milvus Lite folder "
        "ending in .db, or a Milvus URI such as http://localhost:19530 (or RAG_STORE)",
    )
    p.add_argument(
        "--no-update",
        action="store_true",
        help="serve the index as it is, with no update in the background (still built if there is none)",
    )
    p.add_argument(
        "--concurrency", type=int, default=4, help="questions answered at the same time (default 4)"
    )
    p.add_argument(
        "--token",
        help="token that adding/removing articles and 'Update index' need (default: RAG_TOKEN, else none on "
        "127.0.0.1, else a random one printed at start)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    return p.parse_args(argv)


def port_from_env() -> int:
    for var in ("RAG_PORT", "GRADIO_SERVER_PORT"):
        if raw := os.environ.get(var, "").strip():
            if not raw.isdigit() or not 0 < int(raw) < 65536:
                raise ConfigError(f"{var} must be a port number between 1 and 65535, got {raw!r}")
            return int(raw)
    return DEFAULT_PORT


def port_is_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be listened on now (checked before the model is loaded)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(args.verbose)
    from rag.present.chat import build_app, launch, open_pipeline
    from rag.present.library import resolve_token

    try:
        settings = Settings.from_env(
            articles_dir=args.articles, index_dir=args.index, model=args.model, store=args.store
        )
        port = args.port if args.port is not None else port_from_env()
        if not 0 < port < 65536 or not 1 <= args.concurrency <= 64:
            raise ConfigError("--port must be 1-65535 and --concurrency 1-64")
        if not port_is_free(args.host, port):
            raise ConfigError(f"cannot listen on {args.host}:{port} (in use?): choose another with --port")
        if args.token is not None and not args.token.strip():
            raise ConfigError("--token must not be empty")
        token, made_up = resolve_token(args.host, args.token, share=args.share)
        pipeline, update = open_pipeline(settings, update=not args.no_update)
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"note: listening on {args.host}: anyone who can reach this machine can use the chat", flush=True
        )
    if made_up:
        print(f"upload token: {token}  (adding or removing articles in the browser needs it)", flush=True)
    elif token is not None:
        print("upload token: the one set by --token or RAG_TOKEN", flush=True)
    app = build_app(pipeline, settings, concurrency=args.concurrency, update=update, token=token)
    if update is not None:
        update.start()
    try:
        launch(app, host=args.host, port=port, share=args.share)
    except OSError as e:
        print(
            f"error: cannot listen on {args.host}:{port} ({e}); choose another with --port", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
