"""The "Articles" panel of the chat app: add article files from the browser, see what the index
holds, remove an article; and the token check that guards every change to the articles folder.

    panel = articles_panel(pipeline, settings, token=token, update=update,
                           refresh=refresh, status_outputs=[status, language, outlet])
    update_btn.click(panel.gate(run_update), [panel.token], outputs)   # "Update index", guarded

The work is done by plain functions that tests call without a browser:

    outcome = add_files(pipeline, settings, [("ferry.txt", "/tmp/…/ferry.txt")], given_token,
                        token=token, update=update)
    outcome = remove_file(pipeline, settings, "ferry.txt", given_token, token=token, update=update)
    outcome.level, outcome.notice, outcome.html   # "info" | "warning", a short line, the details

Files are checked and saved by ``rag.present.library`` (the messages of ``rag index``), then the
index is updated incrementally by ``rag.present.chat.update_index`` in the request's own thread:
other users keep getting answers from the index in use until the new one is written and swapped
in. Changes run one at a time (one Gradio concurrency group, and the index's build lock). A wrong
token is checked in each handler, so a request made without the page changes nothing either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.data_classes import FileData, ListFiles

from rag.config import Settings
from rag.errors import RagError
from rag.present import library
from rag.present.chat import BackgroundUpdate, esc, language_name, update_index

if TYPE_CHECKING:
    from rag.query.pipeline import Pipeline

LOG = logging.getLogger(__name__)

HEADERS = ["Title", "Outlet", "Date", "Language", "File"]
CHANGES = "rag-articles"  # the Gradio concurrency group of every change to the articles or the index
NO_FILES = "Choose or drop one or more files first."


@dataclass(frozen=True)
class Outcome:
    """What a change did: a notice (``gr.Info`` or ``gr.Warning`` by ``level``) and the details."""

    level: str  # "info" or "warning"
    notice: str
    html: str = ""
    changed: bool = False  # whether the articles folder changed


def named_files(payload: ListFiles | FileData | None) -> list[tuple[str, str]]:
    """The uploads as (original name, temporary path) pairs: the name the browser gave, which
    ``rag.present.library`` checks, rather than Gradio's cleaned copy of it. Set as the drop zone's
    ``preprocess`` (a subclass of ``gr.File`` would make Gradio write a ``.pyi`` file next to this one)."""
    if payload is None:
        return []
    items = list(payload) if isinstance(payload, ListFiles) else [payload]
    return [(f.orig_name or Path(f.path).name, f.path) for f in items]


# ---------------------------------------------------------------------------
# The work, without Gradio's UI


def _wait_for(update: BackgroundUpdate | None, say: Callable[[str], None]) -> None:
    if update is not None and update.running:
        say("Waiting for the index update running in the background …")
        update.join()


def _index(
    pipeline: Pipeline, settings: Settings, update: BackgroundUpdate | None, say: Callable[[str], None]
) -> tuple[bool, str]:
    """Update the index now, after the update running in the background if one is; (whether it is up
    to date with the folder, the summary)."""
    _wait_for(update, say)
    try:
        summary = update_index(pipeline, settings, update)
    except Exception:  # the files are saved; `rag index` or "Update index" indexes them later
        LOG.exception("updating the index after a change of the articles failed")
        return False, "Index not updated: an unexpected error (logged); press Update index to retry."
    return summary.startswith("Index updated") and "could not be loaded" not in summary, summary


def add_files(
    pipeline: Pipeline,
    settings: Settings,
    files: Sequence[tuple[str, str]] | None,
    given: object,
    *,
    token: str | None,
    update: BackgroundUpdate | None = None,
    say: Callable[[str], None] = LOG.info,
) -> Outcome:
    """Save the uploads that can be indexed into the articles folder and update the index."""
    if not library.token_ok(token, given):
        return Outcome("warning", library.TOKEN_REFUSED)
    if not files:
        return Outcome("warning", NO_FILES)
    say(f"Checking {len(files)} file(s) …")
    try:
        result = library.save_uploads(files, settings.articles_dir)
    except RagError as e:
        return Outcome("warning", f"Nothing saved: {e}")
    parts = []
    if result.added:
        names = ", ".join(f"<code>{esc(n)}</code>" for n in result.added)
        parts.append(
            f'<p class="rag-added">Added to <code>{esc(settings.articles_dir.name)}/</code>: {names}</p>'
        )
    if result.refused:
        items = "".join(f"<li>{esc(str(r))}</li>" for r in result.refused)
        parts.append(f'<div class="rag-refused"><b>Not added</b><ul>{items}</ul></div>')
    notice = result.summary()
    ok = not result.refused
    if result.added:
        say(f"Indexing {len(result.added)} new file(s) …")
        indexed, summary = _index(pipeline, settings, update, say)
        parts.append(f'<p class="rag-index-summary">{esc(summary)}</p>')
        notice += " " + ("The index is updated." if indexed else summary)
        ok = ok and indexed
    return Outcome("info" if ok else "warning", notice, "".join(parts), bool(result.added))


def remove_file(
    pipeline: Pipeline,
    settings: Settings,
    relpath: str | None,
    given: object,
    *,
    token: str | None,
    update: BackgroundUpdate | None = None,
    say: Callable[[str], None] = LOG.info,
) -> Outcome:
    """Move an indexed file into the index's trash folder and update the index."""
    if not library.token_ok(token, given):
        return Outcome("warning", library.TOKEN_REFUSED)
    if not relpath:
        return Outcome("warning", "Pick the article to remove first.")
    try:
        dest = library.remove_article(
            relpath, settings.articles_dir, library.trash_dir(settings.index_dir), pipeline.index.sources
        )
    except RagError as e:
        return Outcome("warning", str(e))
    indexed, summary = _index(pipeline, settings, update, say)
    rel = str(relpath).split("#", 1)[0]
    where = f"Removed {rel}: moved to {dest} (move it back to restore it)."
    html = f'<p class="rag-removed">{esc(where)}</p><p class="rag-index-summary">{esc(summary)}</p>'
    return Outcome("info" if indexed else "warning", where if indexed else f"{where} {summary}", html, True)


def table_rows(pipeline: Pipeline) -> list[list[str]]:
    return [
        [r.title, r.outlet, r.date, language_name(r.language) if r.language != "und" else "unknown", r.file]
        for r in library.indexed_articles(pipeline.index)
    ]


def file_choices(pipeline: Pipeline) -> list[str]:
    return sorted(pipeline.index.sources)


def change_options() -> dict[str, Any]:
    """Event options of every change: one at a time, in their own queue slot (questions keep theirs)."""
    return {"concurrency_limit": 1, "concurrency_id": CHANGES, "api_visibility": "private"}


def _out(html: str) -> str:
    return f'<div class="rag-upload-out">{html}</div>'


def _notify(outcome: Outcome) -> None:
    (gr.Info if outcome.level == "info" else gr.Warning)(outcome.notice)


# ---------------------------------------------------------------------------
# The panel


@dataclass
class ArticlesPanel:
    """The panel's token field (hidden when no token is needed) and the check for other handlers."""

    token: gr.Textbox
    expected: str | None
    lock: dict[str, Any] = field(default_factory=lambda: change_options())

    def gate(self, fn: Callable[[], Any]) -> Callable[..., Any]:
        """``fn`` (a handler without inputs) run only when the token field holds the token; else a
        notice and no output changes."""

        def gated(given: str | None = None) -> Any:
            if not library.token_ok(self.expected, given):
                gr.Warning(library.TOKEN_REFUSED)
                return gr.skip()
            return fn()

        return gated


def articles_panel(
    pipeline: Pipeline,
    settings: Settings,
    *,
    token: str | None = None,
    update: BackgroundUpdate | None = None,
    refresh: Callable[[], tuple] | None = None,
    status_outputs: Sequence[gr.components.Component] = (),
) -> ArticlesPanel:
    """Build the collapsible "Articles" panel inside the current ``gr.Blocks``. ``refresh`` gives
    new values for ``status_outputs`` (the status line, the filters) after a change."""
    status_outputs = list(status_outputs)

    def status_values() -> tuple:
        return tuple(refresh()) if refresh is not None and status_outputs else ()

    def listing() -> tuple[Any, Any]:
        return gr.update(value=table_rows(pipeline)), gr.update(choices=file_choices(pipeline), value=None)

    def on_add(
        files: list[tuple[str, str]],
        given: str | None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple:
        step = iter((0.1, 0.4, 0.7))
        outcome = add_files(
            pipeline,
            settings,
            files,
            given,
            token=token,
            update=update,
            say=lambda text: progress(next(step, 0.9), desc=text),
        )
        _notify(outcome)
        if not outcome.html:
            return gr.skip()
        progress(1.0, desc="Done")
        return (_out(outcome.html), *listing(), None, *status_values())  # the drop zone emptied

    def ask_remove(pick: str | None, given: str | None) -> tuple[Any, Any]:
        if not library.token_ok(token, given):
            gr.Warning(library.TOKEN_REFUSED)
            return gr.skip()
        if not pick:
            gr.Warning("Pick the article to remove first.")
            return gr.skip()
        shown = (
            f"Remove <code>{esc(pick)}</code> from the index? The file is moved to "
            f"<code>{esc(settings.index_dir.name)}/{library.TRASH}/</code>, not deleted."
        )
        if pick.endswith(".jsonl"):
            shown += " It is a feed: all of its articles go."
        return gr.update(visible=True), f'<p class="rag-confirm">{shown}</p>'

    def on_remove(pick: str | None, given: str | None, progress: gr.Progress = gr.Progress()) -> tuple:  # noqa: B008
        progress(0.3, desc="Removing and updating the index …")
        outcome = remove_file(pipeline, settings, pick, given, token=token, update=update)
        _notify(outcome)
        if not outcome.changed:
            return gr.skip()
        return (_out(outcome.html), *listing(), gr.update(visible=False), *status_values())

    def on_select(evt: gr.SelectData) -> Any:
        row = evt.row_value if isinstance(evt.row_value, list | tuple) else None
        if not row or len(row) < len(HEADERS):
            return gr.skip()
        return gr.update(value=str(row[-1]).split("#", 1)[0])

    lock = change_options()
    quick: dict[str, Any] = {"queue": False, "show_progress": "hidden", "api_visibility": "private"}
    need = token is not None
    with gr.Accordion("Articles", open=False, elem_id="rag-articles") as box:
        gr.HTML(
            f'<p class="rag-limits">Add articles: {esc(library.limits_text())} '
            "Files are saved into the articles folder and indexed at once; the chat keeps answering "
            "meanwhile.</p>"
            + ('<p class="rag-limits">This app is reachable from other machines: changes need the '
               "upload token it printed at start.</p>" if need else "")
        )  # fmt: skip
        token_box = gr.Textbox(
            label="Upload token",
            type="password",
            visible=need,
            max_lines=1,
            placeholder="printed by the app at start (upload token: …)",
            elem_id="rag-token",
        )
        files = gr.File(
            file_count="multiple", label="Drop or choose article files", type="filepath", elem_id="rag-upload"
        )
        files.preprocess = named_files  # type: ignore[method-assign]
        add_btn = gr.Button("Add to index", variant="primary", elem_id="rag-add")
        result = gr.HTML("", elem_id="rag-upload-result")
        table = gr.Dataframe(
            value=table_rows(pipeline),
            headers=HEADERS,
            interactive=False,
            wrap=True,
            column_widths=["33%", "14%", "14%", "13%", "26%"],
            label="Indexed articles (click a row to pick it for removal)",
            elem_id="rag-article-list",
        )
        with gr.Row(equal_height=True):
            pick = gr.Dropdown(
                file_choices(pipeline), value=None, label="File to remove", scale=3, elem_id="rag-remove-pick"
            )
            remove_btn = gr.Button("Remove …", variant="stop", scale=1, elem_id="rag-remove")
        with gr.Column(visible=False, elem_id="rag-remove-confirm") as confirm:
            confirm_text = gr.HTML("")
            with gr.Row():
                yes = gr.Button("Yes, remove it", variant="stop", elem_id="rag-remove-yes", min_width=160)
                no = gr.Button("Cancel", elem_id="rag-remove-no", min_width=120)

    changed = [result, table, pick]
    add_btn.click(
        on_add, [files, token_box], [*changed, files, *status_outputs], show_progress="full", **lock
    )
    remove_btn.click(ask_remove, [pick, token_box], [confirm, confirm_text], **quick)
    yes.click(
        on_remove, [pick, token_box], [*changed, confirm, *status_outputs], show_progress="full", **lock
    )
    no.click(lambda: gr.update(visible=False), None, [confirm], **quick)
    table.select(on_select, None, [pick], **quick)
    box.expand(listing, None, [table, pick], **quick)
    return ArticlesPanel(token=token_box, expected=token)
