"""Checks on the library's source that linters do not make."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

RAG = Path(__file__).resolve().parent.parent / "rag"


def module_level_names(source: str) -> Counter[str]:
    """How often each name is bound at the top level of a module: assignments, functions, classes."""
    names: Counter[str] = Counter()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            names.update(n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] += 1
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] += 1
    return names


def test_module_level_names_finds_a_rebinding():
    names = module_level_names("_YEAR = 1\ndef f(): pass\n_YEAR = 2\nclass C: pass\n")
    assert names == Counter({"_YEAR": 2, "f": 1, "C": 1})


@pytest.mark.parametrize("path", sorted(RAG.rglob("*.py")), ids=lambda p: str(p.relative_to(RAG)))
def test_no_module_constant_is_bound_twice(path):
    # A second `_YEAR = ...` further down a long module silently replaces the first for every function
    # that reads it (this happened twice in the short-answer rules the reader replaced); ruff flags a
    # redefined function, not a constant.
    twice = {name: n for name, n in module_level_names(path.read_text(encoding="utf-8")).items() if n > 1}
    assert not twice, f"{path.name} binds these names more than once at module level: {twice}"


def _rag_imports(path: Path) -> set[str]:
    """The ``rag`` modules and packages a module imports, anywhere in it (also inside functions)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rag":
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "rag")
    return out


@pytest.mark.parametrize(
    ("side", "never"),
    [
        ("index", ("rag.query", "rag.present", "rag.cli", "rag.evaluate")),
        ("query", ("rag.present", "rag.cli", "rag.evaluate")),
        ("present", ("rag.cli", "rag.evaluate")),
    ],
)
def test_each_side_imports_only_what_lies_below_it(side, never):
    # The layout README's "How it works" draws: the index side knows nothing of questions, the query
    # side nothing of how answers are shown.
    for path in sorted((RAG / side).glob("*.py")):
        wrong = {m for m in _rag_imports(path) if m.startswith(never)}
        assert not wrong, f"rag/{side}/{path.name} imports {sorted(wrong)}"


def test_the_top_level_holds_only_the_shared_records_and_the_entry_points():
    top = {p.name for p in RAG.glob("*.py")}
    assert top == {"__init__.py", "cli.py", "config.py", "errors.py", "evaluate.py", "metrics.py", "types.py"}
