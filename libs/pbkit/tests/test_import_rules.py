"""A service's rule modules know nothing of HTTP: only its views, deps, app and __main__ import the web layer.

Every `services/*/src/**/*.py` (migrations excluded) other than `views.py`, `deps.py`, `app.py` and
`__main__.py` is parsed, and each import of `fastapi`, `starlette`, `pbkit.web`, `pbkit.service` or
`pbkit.kit` is reported, in any form: `import x.y`, `from x import y`, `from pbkit import web`, imports
inside functions or `TYPE_CHECKING` blocks, and relative imports (resolved against the module's package,
so that `from . import views` from a rule module, which pulls in FastAPI through the views, is caught too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
WEB_MODULES = frozenset({"views.py", "deps.py", "app.py", "__main__.py"})
FORBIDDEN = ("fastapi", "starlette", "pbkit.web", "pbkit.service", "pbkit.kit")


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def _is_web_module_of_a_service(module: str) -> bool:
    """`pb_x.deals.views` and the like: a service's own web layer."""
    parts = module.split(".")
    return parts[0].startswith("pb_") and f"{parts[-1]}.py" in WEB_MODULES


def module_name(path: Path, src: Path) -> list[str]:
    """The dotted name of a module under a `src/` directory, as parts (a package's `__init__` is the package)."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _package_of(path: Path, src: Path) -> list[str]:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return parts[:-1]  # the package a module (or an __init__) stands in


def imported_modules(tree: ast.AST, package: list[str]) -> Iterator[tuple[int, str, str]]:
    """(line, the module each import names, the import as written) for every import in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            written = f"from {'.' * node.level}{node.module or ''} import {', '.join(a.name for a in node.names)}"
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield node.lineno, module, written
            for alias in node.names:  # `from pbkit import web`: the name may itself be a module
                yield node.lineno, f"{module}.{alias.name}", written


def violations_in(path: Path, src: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[tuple[int, str], None] = {}
    for line, module, written in imported_modules(tree, _package_of(path, src)):
        if _forbidden(module) or _is_web_module_of_a_service(module):
            found[(line, written)] = None
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    return [f"{shown}:{line}: {written}" for line, written in found]


def rule_modules(root: Path) -> Iterator[tuple[Path, Path]]:
    """(module, its src directory) for every rule module of every service under `root`."""
    for src in sorted(root.glob("services/*/src")):
        for path in sorted(src.rglob("*.py")):
            if "migrations" in path.relative_to(src).parts or path.name in WEB_MODULES:
                continue
            yield path, src


def violations(root: Path) -> list[str]:
    return [v for path, src in rule_modules(root) for v in violations_in(path, src)]


def test_rule_modules_of_every_service_import_no_web_layer():
    modules = list(rule_modules(REPO_ROOT))
    assert len({src for _, src in modules}) >= 5, "expected the rule modules of the five services"
    found = violations(REPO_ROOT)
    assert not found, "rule modules must not import the web layer:\n" + "\n".join(found)


def test_the_checker_catches_every_form_of_a_forbidden_import(tmp_path):
    src = tmp_path / "services" / "demo" / "src"
    package = src / "pb_demo" / "deals"
    package.mkdir(parents=True)
    (src / "pb_demo" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "service.py").write_text(
        "from __future__ import annotations\n"
        "\n"
        "from typing import TYPE_CHECKING\n"
        "import fastapi\n"                                    # 4
        "from fastapi.responses import JSONResponse\n"        # 5
        "import starlette.status as status\n"                 # 6
        "from pbkit import web\n"                             # 7
        "from pbkit.web.deps import Kit\n"                    # 8
        "from pbkit.kit import ServiceKit\n"                  # 9
        "from pbkit.service import create_app\n"              # 10
        "from . import views\n"                               # 11
        "from ..app import app\n"                             # 12
        "if TYPE_CHECKING:\n"
        "    from pbkit.web.problems import Problem\n"        # 14
        "\n"
        "def later():\n"
        "    import pbkit.web.auth\n"                         # 17
        "\n"
        "from pbkit.errors import Conflict\n"                 # allowed
        "from pbkit.commands import idempotent_command\n"     # allowed
        "from pbkit.webhooks import nothing\n"                # allowed: not pbkit.web
        "from .models import Deal\n"                          # allowed
        "import fastapi_helpers_of_nobody\n"                  # allowed: another package
    )
    (package / "views.py").write_text("from fastapi import APIRouter\nfrom pbkit.web.deps import Kit\n")  # allowed
    (src / "pb_demo" / "app.py").write_text("from fastapi import FastAPI\n")  # allowed
    (src / "pb_demo" / "migrations").mkdir()
    (src / "pb_demo" / "migrations" / "env.py").write_text("import fastapi\n")  # not a rule module

    found = violations(tmp_path)
    lines = sorted(int(v.split(":")[1]) for v in found)
    assert lines == [4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 17], found
    assert all(v.startswith(f"{package / 'service.py'}:") for v in found), found
    assert f"{package / 'service.py'}:7: from pbkit import web" in found
    assert f"{package / 'service.py'}:12: from ..app import app" in found


def test_the_checker_finds_nothing_in_a_clean_service(tmp_path):
    package = tmp_path / "services" / "clean" / "src" / "pb_clean"
    package.mkdir(parents=True)
    (package / "rules.py").write_text("from pbkit.errors import NotFound\nfrom pbkit.queries import where_given\n")
    assert violations(tmp_path) == []
