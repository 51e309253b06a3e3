"""The layout of web/ (README, "Architecture"): feature packages that do not import each other,
one shared layer beneath them, the demo out of the request path, and a shallow import graph.

Plain Python over `ast`: each module's imports of the project's own modules, as Python runs them
(an import inside `if TYPE_CHECKING:` is for the type checker only and never runs)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
#: What every feature may use; it imports no feature.
SHARED = "core"
#: The command line and the app's assembly, above every feature.
ENTRY_POINTS = {"web", "web.__main__", "web.commands", "web.app"}
#: Longest chain of imports a module's loading runs, counted in modules (issue 13: was ten).
MAX_DEPTH = 7
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    module_name(path): path
    for folder in ("web", "models")
    for path in (ROOT / folder).rglob("*.py")
    if "migrations" not in path.parts
}


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(name: str, *, at_load: bool) -> set[str]:
    """The project modules `name` imports: at_load, only those that run when it is loaded
    (not inside a function); else every one, wherever it is."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if at_load and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, *([node.module] if node.module else [])])
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    found.add(f"{base}.{alias.name}")
                elif base in MODULES:
                    found.add(base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    found.discard(name)
    return found


def package_of(name: str) -> str | None:
    """The feature or shared package a web module belongs to (None for the entry points)."""
    parts = name.split(".")
    return parts[1] if parts[0] == "web" and name not in ENTRY_POINTS else None


def test_every_package_says_what_it_holds():
    for init in WEB.glob("*/__init__.py"):
        tree = ast.parse(init.read_text())
        assert ast.get_docstring(tree), f"{init.relative_to(ROOT)} needs a docstring"


def test_no_feature_imports_another_and_the_shared_layer_imports_none():
    crossing = []
    for name in MODULES:
        mine = package_of(name)
        if mine is None:
            continue
        for target in imports(name, at_load=False):
            theirs = package_of(target)
            if theirs is None and target.startswith("web"):
                crossing.append(f"{name} imports the entry point {target}")
            elif theirs not in (None, mine, SHARED):
                crossing.append(f"{name} imports {target}")
            elif mine == SHARED and theirs not in (None, SHARED):
                crossing.append(f"{name} (shared) imports {target}")
    assert crossing == []


def test_the_demo_is_imported_only_by_the_command_line():
    importers = {
        name
        for name in MODULES
        if any(t.startswith("web.demo") for t in imports(name, at_load=False))
        and not name.startswith("web.demo")
    }
    assert importers <= {"web.commands"}


def test_imports_run_when_a_module_loads_except_in_the_command_line():
    """An import inside a function hides a dependency from this graph: only the command line
    loads what one command needs, when it runs."""
    deferred = {
        name: sorted(imports(name, at_load=False) - imports(name, at_load=True))
        for name in MODULES
        if name not in {"web.__main__", "web.commands"}
    }
    assert {name: found for name, found in deferred.items() if found} == {}


@cache
def chain(name: str, seen: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The longest chain of imports loading `name` runs (a cycle ends a chain)."""
    longest: tuple[str, ...] = ()
    for target in sorted(imports(name, at_load=True) - seen):
        found = chain(target, seen | {name})
        if len(found) > len(longest):
            longest = found
    return (name, *longest)


def test_the_import_graph_is_at_most_seven_levels_deep():
    """Counted as Python loads modules: the longest chain of imports that loading any one
    module runs, in modules, through models. The command line defers its imports (it loads
    what one command needs, the app included, when it runs), so the app heads the longest
    chains. The flat layout measured ten this way: web.app -> web.invitations -> web.signup ->
    web.membership -> web.teams -> web.errors -> web.render -> web.access -> web.vouching ->
    models.invitations."""
    deepest = max((chain(name) for name in MODULES), key=len)
    assert len(deepest) <= MAX_DEPTH, " -> ".join(deepest)


def test_no_module_is_over_three_hundred_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in WEB.rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_templates_mirror_the_feature_packages():
    features = {p.name for p in WEB.iterdir() if (p / "__init__.py").exists()} - {SHARED}
    folders = {p.name for p in (ROOT / "templates").iterdir() if p.is_dir()}
    # Every template folder belongs to a feature (or holds the shared macros and errors).
    assert folders - features <= {"macros", "errors", "emails"}, folders - features
