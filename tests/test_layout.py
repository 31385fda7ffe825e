"""The layout's rules, read from the imports (stdlib ``ast``), so a change cannot quietly break them.

Data flows one way: ``core`` <- ``store`` <- {``pipeline``, ``sparql``, ``documents``,
``reconcile``} <- ``web`` <- ``cli``. The four middle wings never import each other or Flask;
only ``web/app.py`` imports the view modules; no module is over :data:`MAX_LINES` lines and no
modules import each other in a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "nhs_ai_workforce"
NAME = "nhs_ai_workforce"
MAX_LINES = 450

#: What each wing may import from the project (besides itself).
ALLOWED = {
    "core": set(),
    "store": {"core"},
    "pipeline": {"core", "store"},
    "sparql": {"core", "store"},
    "documents": {"core", "store"},
    "reconcile": {"core", "store"},
    "web": {"core", "store", "pipeline", "sparql", "documents", "reconcile"},
    "cli": {"core", "store", "pipeline", "sparql", "documents", "reconcile", "web"},
}
NO_FLASK = {"core", "store", "pipeline", "sparql", "documents", "reconcile"}

#: Breaches still being mended (test id -> why); each fails the suite as soon as it is mended
#: and not removed from here (strict xfail), so the list only shrinks.
MENDING: dict[str, str] = {
}



@pytest.fixture(autouse=True)
def _mending(request):
    reason = MENDING.get(request.node.name)
    if reason:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


def module_name(path: Path) -> str:
    parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def wing(module: str) -> str:
    """``core``, ``store``... or ``cli`` / ``__init__`` for the package's top-level modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> set[str]:
    """Every module of the project and every top-level package that ``path`` imports, anywhere in it."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {name for name in found if not name.startswith(NAME) or name in MODULES}


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(path): path for path in FILES}


def project_imports(path: Path) -> set[str]:
    return {name for name in imports(path) if name.startswith(NAME + ".") and name != module_name(path)}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_run_down(path):
    here = wing(module_name(path))
    allowed = ALLOWED.get(here, set(ALLOWED))
    upward = sorted(name for name in project_imports(path) if wing(name) not in allowed | {here})
    assert upward == [], f"{module_name(path)} ({here}) imports {upward}; {here} may import only {sorted(allowed)}"
    if here in NO_FLASK:
        assert not any(name == "flask" or name.startswith("flask.") for name in imports(path)), \
            f"{module_name(path)} imports Flask; only web/ may"


def test_only_the_app_factory_imports_views():
    web = PACKAGE / "web"
    views = {module_name(path) for path in web.glob("*.py") if "Blueprint(" in path.read_text()}
    assert views, "no view modules found: the test would pass vacuously"
    for path in FILES:
        wrong = sorted(project_imports(path) & views)
        if path != web / "app.py":
            assert wrong == [], f"{module_name(path)} imports the view(s) {wrong}; only web/app.py may"


def test_no_import_loops():
    graph = {module_name(path): project_imports(path) & set(MODULES) for path in FILES}
    loops = []
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                loops.append(" -> ".join([*trail[trail.index(target):], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert loops == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_are_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines; split it (limit {MAX_LINES})"


def test_the_rules_catch_a_wrong_import(tmp_path, monkeypatch):
    """The checker itself: an import from ``store`` up into ``sparql`` is caught."""
    fake = PACKAGE / "store" / "live.py"
    text = "from ..sparql import guard\nfrom ..core import settings\n"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: text if self == fake else _read(self))
    with pytest.raises(AssertionError, match="imports"):
        test_imports_only_run_down(fake)


_read = Path.read_text
