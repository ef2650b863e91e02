"""Production code never imports the developer tools (``main_image.dev``) at module level.

A module outside ``plugins/main_image/dev/`` may import ``main_image.dev`` only inside a
function (the handler of a developer subcommand such as ``main-image generate``), so that
importing the pipeline, the DAGs or the service never loads the generator or the emulator
runner.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "main_image"
DEV = PACKAGE / "dev"


def imported_modules(node: ast.AST, module: str) -> list[str]:
    """The absolute module names an import statement names (relative ones resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")[: -node.level]
            name = ".".join([*base, node.module] if node.module else base)
        else:
            name = node.module or ""
        return [name] + [f"{name}.{alias.name}" for alias in node.names]
    return []


def module_level_imports(tree: ast.Module, module: str) -> list[tuple[int, str]]:
    """Imports executed when the module is imported: at the top, or in a top-level if/try/with
    or a class body; not inside a function)."""
    found: list[tuple[int, str]] = []
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        found.extend((node.lineno, name) for name in imported_modules(node, module))
        pending.extend(ast.iter_child_nodes(node))
    return found


def dev_imports(source: str, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(source)
    return [
        (line, name)
        for line, name in module_level_imports(tree, module)
        if name == "main_image.dev" or name.startswith("main_image.dev.")
    ]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_production_module_imports_dev_at_module_level() -> None:
    modules = [path for path in PACKAGE.rglob("*.py") if DEV not in path.parents]
    assert len(modules) > 5, "the package was not found"
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
        for path in modules
        for line, name in dev_imports(path.read_text(encoding="utf-8"), module_name(path))
    ]
    assert offenders == [], "production code imports main_image.dev at module level"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from main_image.dev.generate import generate\n", True),
        ("import main_image.dev.bq_emulator as emu\n", True),
        ("from main_image import dev\n", True),
        ("try:\n    from main_image.dev import sample\nexcept ImportError:\n    pass\n", True),
        ("if True:\n    import main_image.dev\n", True),
        ("from .dev import demo\n", True),
        ("def f():\n    from main_image.dev.generate import generate\n", False),
        ("class C:\n    def m(self):\n        import main_image.dev\n", False),
        ("class C:\n    import main_image.dev\n", True),
        ("from main_image.devices import x\nimport main_image.loader\n", False),
    ],
)
def test_the_scan_tells_module_level_from_lazy_imports(source: str, expected: bool) -> None:
    assert bool(dev_imports(source, "main_image.cli")) is expected
