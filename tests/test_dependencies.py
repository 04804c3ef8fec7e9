"""Every third-party import is declared in pyproject.toml, and the locks agree with the declarations."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Import names that are this repository's own code, not distributions.
LOCAL = {"survey", "app", "helpers", "conftest", "tests", "benchmarks", "scripts"}


def canonical(name: str) -> str:
    """Return a distribution name in its normalized form (PEP 503): Flask_WTF -> flask-wtf."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(specs: list) -> set[str]:
    """Return the normalized distribution names of requirement strings (group includes are resolved)."""
    names = set()
    for spec in specs:
        if isinstance(spec, dict):  # PEP 735: {include-group = "bench"}
            names |= group(spec["include-group"])
        else:
            names.add(canonical(Requirement(spec).name))
    return names


def group(name: str) -> set[str]:
    """Return the distributions of a dependency group of pyproject.toml."""
    return declared(PYPROJECT["dependency-groups"][name])


RUNTIME = declared(PYPROJECT["project"]["dependencies"])


def python_files(*paths: Path) -> list[Path]:
    """Return the .py files at the given paths (files, or directories searched recursively)."""
    files: list[Path] = []
    for path in paths:
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def third_party_imports(files: list[Path]) -> dict[str, set[str]]:
    """Return {top-level import name: files importing it} for absolute imports outside the stdlib and this repo.

    Imports inside functions count too (e.g. kaleido, imported only when a chart is drawn).
    """
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path))
    return found


@cache
def distributions() -> dict[str, set[str]]:
    """Return {import name: normalized names of the installed distributions providing it}."""
    return {
        module: {canonical(dist) for dist in dists}
        for module, dists in importlib.metadata.packages_distributions().items()
    }


def undeclared(files: list[Path], allowed: set[str]) -> list[str]:
    """Return one line per third-party import whose distribution is not among `allowed`."""
    problems = []
    for module, where in sorted(third_party_imports(files).items()):
        dists = distributions().get(module)
        if not dists:
            problems.append(f"{module} (imported by {', '.join(sorted(where))}) is not installed")
        elif not dists & allowed:
            problems.append(f"{module} (imported by {', '.join(sorted(where))}) comes from {', '.join(sorted(dists))}")
    return problems


def test_app_imports_are_runtime_dependencies():
    """What survey/ and app.py import is in [project.dependencies], so `make run` installs it."""
    assert undeclared(python_files(ROOT / "survey", ROOT / "app.py", ROOT / "gunicorn.conf.py"), RUNTIME) == []


def test_test_imports_are_declared():
    """What tests/ import is in the test group (or a runtime dependency)."""
    assert undeclared(python_files(ROOT / "tests"), RUNTIME | group("test")) == []


def test_benchmark_imports_are_declared():
    """What benchmarks/ and scripts/ import is in the bench group (or a runtime dependency)."""
    assert undeclared(python_files(ROOT / "benchmarks", ROOT / "scripts"), RUNTIME | group("bench")) == []


def test_the_check_catches_an_undeclared_import(tmp_path):
    """A module importing a package that is installed but not declared (or not installed at all) is reported."""
    module = tmp_path / "views.py"
    module.write_text("import os\nfrom survey import db\nimport pytest\n\ndef f():\n    import no_such_package_xyz\n")
    problems = undeclared([module], RUNTIME)
    assert len(problems) == 2
    assert problems[0].startswith("no_such_package_xyz (imported by ") and problems[0].endswith("is not installed")
    assert problems[1].startswith("pytest (imported by ") and problems[1].endswith("comes from pytest")
    assert undeclared([module], RUNTIME | {"pytest"}) == [problems[0]]


def test_import_names_map_to_distribution_names():
    """Import names that differ from their distribution's name are mapped, not guessed."""
    mapping = distributions()
    assert "pyyaml" in mapping["yaml"]
    assert "flask-wtf" in mapping["flask_wtf"]
    assert "pyyaml" in RUNTIME and "flask-wtf" in RUNTIME


def pins(lock: str) -> dict[str, Version]:
    """Return {normalized name: pinned version} of a lock file compiled by `make lock`."""
    found = {}
    for line in (ROOT / lock).read_text().splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if match:
            found[canonical(match.group(1))] = Version(match.group(2))
    return found


def requirements(specs: list) -> list[Requirement]:
    """Return the requirements of a list of specs, group includes resolved."""
    found = []
    for spec in specs:
        if isinstance(spec, dict):
            found += requirements(PYPROJECT["dependency-groups"][spec["include-group"]])
        else:
            found.append(Requirement(spec))
    return found


@pytest.mark.parametrize(
    ("lock", "specs"),
    [
        ("requirements.txt", PYPROJECT["project"]["dependencies"]),
        (
            "requirements-dev.txt",
            [{"include-group": name} for name in ("test", "bench", "dev")],
        ),
    ],
)
def test_locks_satisfy_pyproject(lock, specs):
    """Each declared dependency is pinned in its lock at a version its bounds allow (`make lock` after an edit)."""
    pinned = pins(lock)
    wrong = [
        f"{req}: {pinned.get(canonical(req.name), 'not pinned')}"
        for req in requirements(specs)
        if canonical(req.name) not in pinned or pinned[canonical(req.name)] not in req.specifier
    ]
    assert wrong == []


def test_locks_agree_on_shared_versions():
    """A package in both locks has the same version, so `make test` tests what `make run` installs."""
    runtime, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    differ = {name: (runtime[name], dev[name]) for name in runtime.keys() & dev.keys() if runtime[name] != dev[name]}
    assert differ == {}
