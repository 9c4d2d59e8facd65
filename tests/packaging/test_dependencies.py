"""Every package the service imports at run time is a declared dependency, declared once."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(spec).name.lower().replace("_", "-") for spec in project["dependencies"]]


def _imported_top_level_modules() -> set[str]:
    modules: set[str] = set()
    for path in (ROOT / "src" / "mrs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"mrs", "__future__"}


def test_every_run_time_import_is_a_declared_dependency() -> None:
    declared = set(_declared())
    distributions = packages_distributions()
    undeclared = {}
    for module in sorted(_imported_top_level_modules()):
        owners = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not owners & declared:
            undeclared[module] = sorted(owners)
    assert not undeclared, f"imported in src/ but not in [project.dependencies]: {undeclared}"


def test_no_dependency_is_listed_twice() -> None:
    declared = _declared()
    assert sorted({d for d in declared if declared.count(d) > 1}) == []
