"""The default install (`pip install .`, no extras) holds every package zhiku imports when a module
loads: each third-party module imported at the top of a module of ingest/, index/, answer/, app/
or eval/ must come from a distribution that the core dependencies of pyproject.toml require,
directly or through their own requirements. An import that only an extra provides (torch,
sentence-transformers, llama.cpp) belongs inside the function that needs it.

Checked against the installed metadata: the test venv holds the extras too, which is exactly how
a module-level ``import scipy`` once passed here while ``scripts/run.sh``'s plain install failed.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ingest", "index", "answer", "app", "eval")


def _name(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _closure(requirements: list[str]) -> set[str]:
    """Distributions installed by ``requirements`` (no extras), with everything they require."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = _name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = [Requirement(r) for r in metadata.requires(req.name) or []]
        except metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python: nothing it imports runs here
        for requirement in requires:
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement)
            # a dependency named with extras (`uvicorn[standard]`) brings those extras' requirements
            elif any(requirement.marker.evaluate({"extra": extra}) for extra in req.extras):
                todo.append(Requirement(str(requirement).split(";")[0]))
    return seen


def module_level_imports(source: str) -> set[str]:
    """Top-level names of the modules a file imports when it loads (not inside a def or class)."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for part in ("body", "orelse", "finalbody"):
                    visit(getattr(node, part, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    tree = ast.parse(source)
    # `if TYPE_CHECKING:` blocks never run
    visit([n for n in tree.body if not (isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))])
    return names


def test_module_level_imports_are_found_inside_a_file() -> None:
    source = (
        "import os, numpy.linalg\nfrom scipy import sparse\nfrom . import sibling\n"
        "try:\n    import orjson\nexcept ImportError:\n    orjson = None\n"
        "if TYPE_CHECKING:\n    import torch\n"
        "def f():\n    import sentence_transformers\n"
    )
    assert module_level_imports(source) == {"os", "numpy", "scipy", "orjson"}


def test_the_default_install_provides_every_module_level_import() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = _closure(project["dependencies"])
    providers = metadata.packages_distributions()
    ours = set(PACKAGES)
    missing = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in module_level_imports(path.read_text(encoding="utf-8")):
                if name in ours or name in sys.stdlib_module_names or name == "__future__":
                    continue
                dists = {_name(d) for d in providers.get(name, [])}
                if not dists & installed:
                    missing.append(f"{path.relative_to(ROOT)}: {name} ({', '.join(sorted(dists)) or 'not installed'})")
    assert not missing, "imported when a module loads but not in the default install:\n" + "\n".join(missing)
