"""The package map holds: imports point down the layers, never in a circle.

Layers, top to bottom: the entry points at the top of ``bot`` (cli, practice, the old-name
re-exports), then ``bot.telegram``, then ``bot.services``, then ``bot.storage`` and
``bot.decks``, then ``bot.core``. ``bot.config`` and ``bot.logsetup`` are shared settings that any
layer above the core may read. Every import counts, including those inside functions and under
``TYPE_CHECKING``: a circle hidden behind a lazy import is still a circle for a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bot"

#: For each layer, the layers of ``bot`` its modules may import.
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "decks": {"core", "decks"},
    "storage": {"core", "storage"},
    "services": {"core", "decks", "storage", "services"},
    "telegram": {"core", "decks", "storage", "services", "telegram", "config", "logsetup"},
    "config": {"core", "decks"},
    "logsetup": set(),
}

#: Libraries that mean I/O, a database or Telegram; none of them belongs in the pure core.
NOT_IN_CORE = ("telegram", "sqlalchemy", "aiosqlite", "asyncpg", "aiohttp", "httpx", "sqlite3")
NOT_IN_CORE += ("socket", "subprocess", "urllib", "http", "shutil", "tempfile", "asyncio")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, at any depth of the file (functions, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # ``from bot.core import quiz`` imports the module bot.core.quiz.
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
GRAPH = {
    name: {imported for imported in imports_of(path) if imported in MODULES and imported != name}
    for name, path in MODULES.items()
}


def layer_of(module: str) -> str | None:
    """The layer a module of ``bot`` belongs to; None for the entry points at the top."""
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the package itself
    return parts[1] if parts[1] in ALLOWED else None


def test_the_bot_package_is_split_into_the_layers_of_the_map() -> None:
    for layer in ("core", "decks", "storage", "services", "telegram"):
        assert (PACKAGE / layer / "__init__.py").is_file(), layer
    loose = sorted(name for name in MODULES if name.count(".") == 1 and layer_of(name) is None)
    assert loose == [
        "bot.__main__",
        "bot.cards",
        "bot.cli",
        "bot.grading",
        "bot.practice",
    ]


@pytest.mark.parametrize("module", sorted(name for name in MODULES if layer_of(name)))
def test_a_module_imports_only_the_layers_below_it(module: str) -> None:
    layer = layer_of(module)
    assert layer is not None
    wrong = sorted(
        imported
        for imported in GRAPH[module]
        if imported != "bot" and layer_of(imported) not in ALLOWED[layer]
    )
    assert wrong == [], f"{module} ({layer}) may import only {sorted(ALLOWED[layer])}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_telegram_layer_imports_the_telegram_library(module: str) -> None:
    uses_telegram = any(
        name == "telegram" or name.startswith("telegram.") for name in imports_of(MODULES[module])
    )
    assert not uses_telegram or layer_of(module) == "telegram"


@pytest.mark.parametrize("module", sorted(name for name in MODULES if layer_of(name) == "core"))
def test_the_core_imports_no_io_database_or_telegram_library(module: str) -> None:
    bad = sorted(
        name
        for name in imports_of(MODULES[module])
        if any(name == lib or name.startswith(lib + ".") for lib in NOT_IN_CORE)
    )
    assert bad == []


@pytest.mark.parametrize("module", sorted(name for name in MODULES if layer_of(name) == "core"))
def test_the_core_opens_no_files(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    calls = [
        node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
    ]
    file_calls = {"open", "read_text", "write_text", "read_bytes", "write_bytes"}
    assert sorted(set(calls) & file_calls) == []


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` as a path that returns to its start, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        stack.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (circle := visit(start)):
            return circle
    return None


def test_there_are_no_import_circles() -> None:
    assert find_circle(GRAPH) is None


@pytest.mark.parametrize(
    ("graph", "has_circle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"b"}, "b": {"a"}}, True),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, False),
    ],
)
def test_the_circle_finder_finds_circles_and_only_circles(
    graph: dict[str, set[str]], has_circle: bool
) -> None:
    assert (find_circle(graph) is not None) == has_circle


def test_the_old_public_names_still_import() -> None:
    from bot.cards import load_deck
    from bot.grading import grade

    assert callable(load_deck)
    assert callable(grade)


#: A handler parses the update, calls a service and renders the reply; more than this many
#: lines means it is doing a service's or a renderer's work.
HANDLER_MAX_LINES = 30


def handlers_of(path: Path) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Functions that take a PTB ``update`` and ``context``: the handlers and their close kin."""
    return [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and {"update", "context"} <= {arg.arg for arg in node.args.args}
    ]


@pytest.mark.parametrize("module", sorted(name for name in MODULES if layer_of(name) == "telegram"))
def test_telegram_handlers_stay_short(module: str) -> None:
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in handlers_of(MODULES[module])
        if node.end_lineno is not None and node.end_lineno - node.lineno + 1 > HANDLER_MAX_LINES
    ]
    assert long == []


def test_the_handler_finder_sees_the_handlers() -> None:
    names = {node.name for node in handlers_of(MODULES["bot.telegram.group"])}
    assert "challenge_command" in names
