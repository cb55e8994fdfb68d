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


@pytest.mark.parametrize("path", sorted(RAG.glob("*.py")), ids=lambda p: p.name)
def test_no_module_constant_is_bound_twice(path):
    # A second `_YEAR = ...` further down a long module silently replaces the first for every function
    # that reads it (this happened twice in rag/spans.py); ruff flags a redefined function, not a constant.
    twice = {name: n for name, n in module_level_names(path.read_text(encoding="utf-8")).items() if n > 1}
    assert not twice, f"{path.name} binds these names more than once at module level: {twice}"
