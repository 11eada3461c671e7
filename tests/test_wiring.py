"""How the parts reach each other: handed in, never through a module global; imports that
run one way (no circle inside bot/ and actions/, storage never reaching up)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from rasa_sdk.executor import ActionExecutor

from bot.brain.agent import Brain
from bot.services import UsesServices
from bot.storage import Database, handover_records
from bot.web.app import SERVICES
from tests.conftest import PROJECT, Service

PACKAGES = ("bot", "actions")
# What storage may import from the project: itself, and the commune's time.
STORAGE_MAY_IMPORT = ("bot.storage", "bot.local_time")
# A module-level name bound to one of these, empty, is state a module fills between calls.
EMPTY_STATE = (ast.Dict, ast.List, ast.Set)
CONTAINERS = {"dict", "list", "set", "defaultdict", "OrderedDict", "deque", "WeakValueDictionary"}


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT / package).rglob("*.py"):
            parts = list(path.relative_to(PROJECT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements run when the module is imported, inside `if` (TYPE_CHECKING too) and
    `try` blocks included: an import there is still an arrow between the modules."""
    statements = []
    for node in body:
        statements.append(node)
        if isinstance(node, ast.If | ast.Try):
            nested = node.body + node.orelse + getattr(node, "finalbody", [])
            for handler in getattr(node, "handlers", []):
                nested += handler.body
            statements.extend(_module_level(nested))
    return statements


def _imports(name: str, path: Path) -> set[str]:
    """The project modules `name` imports at module level (`from a import b` is an arrow to
    the module a.b when b is one, else to a)."""
    imported = set()
    for node in _module_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[: len(name.split(".")) - node.level + 1]
                if path.name != "__init__.py":
                    package = package[:-1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                imported.add(full if full in MODULES else base)
    return {module for module in imported if module in MODULES and module != name}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of `graph`, or [] when it has none."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str]:
        if module in path:
            return path[path.index(module) :] + [module]
        if module in done:
            return []
        path.append(module)
        for imported in sorted(graph[module]):
            found = visit(imported)
            if found:
                return found
        path.pop()
        done.add(module)
        return []

    for module in sorted(graph):
        found = visit(module)
        if found:
            return found
    return []


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_inside_bot_and_actions() -> None:
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    assert _cycle(graph) == []


def test_storage_imports_no_domain_package() -> None:
    reaching_up = {
        name: sorted(m for m in _imports(name, path) if not m.startswith(STORAGE_MAY_IMPORT))
        for name, path in MODULES.items()
        if name.startswith("bot.storage")
    }
    assert {name: up for name, up in reaching_up.items() if up} == {}


def test_a_module_name_says_its_job_without_its_folder() -> None:
    """`reminders.py` in three folders made every traceback and import ambiguous."""
    folders: dict[str, list[str]] = {}
    for name in MODULES:
        *package, last = name.split(".")
        if last != "__init__":
            folders.setdefault(last, []).append(".".join(package))
    assert {last: where for last, where in folders.items() if len(where) > 1} == {}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_keeps_no_state_of_its_own(name: str) -> None:
    """No `global` statement, no `current()` to fetch a shared object, no module-level
    variable starting empty (None, {}, [], set()) to be filled later: parts are handed in."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    globals_ = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Global)]
    assert globals_ == [], f"{name}: `global` at lines {globals_}"
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.name not in ("current", "set_current"), f"{name}: {node.name}()"
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            assert not _starts_empty(node.value), f"{name}:{node.lineno}: module-level state"


def _starts_empty(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant):
        return value.value is None
    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, EMPTY_STATE):
        return not value.elts  # type: ignore[attr-defined]
    if isinstance(value, ast.Call):
        called = value.func
        name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
        return name in CONTAINERS
    return False


async def test_the_app_hands_its_services_to_every_action(service: Service, brain: Brain) -> None:
    assert brain.actions is not None
    actions = [run.__self__ for run in brain.actions._executor.actions.values()]
    wired = [action for action in actions if isinstance(action, UsesServices)]
    assert len(wired) >= 30
    assert all(action._services is service.app[SERVICES] for action in wired)


async def test_an_action_runs_under_rasa_sdks_own_executor_with_the_environments_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url_for
) -> None:
    """What `rasa run actions` does: rasa_sdk registers the actions itself, without our
    services; the action opens them from the environment's settings."""
    monkeypatch.setenv("CITIZENBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CITIZENBOT_DATABASE_URL", database_url_for(tmp_path / "citizenbot.db"))
    monkeypatch.setenv("CITIZENBOT_CONTENT_DIR", str(PROJECT / "content"))
    executor = ActionExecutor()
    executor.register_package("actions")
    call = {
        "next_action": "action_request_human",
        "tracker": {"sender_id": "u-standalone", "latest_message": {"text": "gặp cán bộ"}},
        "domain": {},
    }
    result = await executor.run(call)
    opened = executor.actions["action_request_human"].__self__._services
    await opened.database.close()
    assert result is not None and "cán bộ" in result["responses"][0]["text"]
    assert opened.database.path == tmp_path / "citizenbot.db"
    database = Database(
        tmp_path / "citizenbot.db", url=database_url_for(tmp_path / "citizenbot.db")
    )
    await database.open()
    try:
        now = dt.datetime.now(dt.timezone.utc)
        waiting = await database.run(
            handover_records.open_for, "u-standalone", now, dt.timedelta(hours=1)
        )
    finally:
        await database.close()
    assert waiting is not None and waiting["reason"] == "asked"
