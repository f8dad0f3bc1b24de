"""The package's import direction: each module imports only layers below its own (or its own
package), read from the source with `ast` (imports inside functions included).

    errors, atomic <- limits, rng, fitness, run_lock, the package root <- ir
       <- algorithms, passes, backends, tasks <- tiering <- evaluate <- metrics
       <- search, export, learner, effective <- rundir <- cli_progress <- bench, estimators <- cli

The benchmarks sit above everything they measure: nothing but the CLI imports `bench`.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "amlz_compile"

LAYERS = {
    "errors": 0,
    "atomic": 0.5,
    "": 1, "__version__": 1, "limits": 1, "rng": 1, "fitness": 1, "run_lock": 1,
    "ir": 2,
    "algorithms": 3, "passes": 3, "backends": 3, "tasks": 3,
    "tiering": 4,
    "evaluate": 5,
    "metrics": 5.5,
    "search": 6, "export": 6, "export_runner": 6, "learner": 6, "effective": 6,
    "rundir": 7,
    "cli_progress": 8,
    "bench": 9, "estimators": 9,
    "cli": 10,
}  # fmt: skip

# Upward imports that are part of the design, each with its reason.
ALLOWED = {
    ("amlz_compile", "amlz_compile.estimators"): "the package root hands out the search "
    "estimators on first use (`__getattr__`), so `import amlz_compile` stays light",
}


def _module(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.with_suffix("").relative_to(package.parent).parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, package: Path = PACKAGE) -> set[str]:
    """Every amlz_compile module `path` imports, as absolute dotted names."""
    module = _module(path, package)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module is None:
                found.update(f"{target}.{alias.name}" for alias in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "amlz_compile"}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(package: Path = PACKAGE) -> list[str]:
    """Imports of modules in the same or a higher layer than the importing module's."""
    wrong = []
    for path in sorted(package.rglob("*.py")):
        here = _layer(_module(path, package))
        for target in _imports(path, package):
            if (_module(path, package), target) in ALLOWED:
                continue
            there = _layer(target)
            if there != here and LAYERS[there] >= LAYERS[here]:
                wrong.append(f"{_module(path, package)} imports {target} ({here} -> {there})")
    return wrong


def test_every_module_has_a_layer():
    missing = {_layer(_module(p)) for p in PACKAGE.rglob("*.py")} - set(LAYERS)
    assert not missing, f"add these to LAYERS: {sorted(missing)}"


def test_imports_go_down_the_layers():
    wrong = violations()
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_an_upward_import_is_caught(tmp_path):
    """A module of `ir` importing the search (relatively, inside a function) is reported, and
    a module importing the benchmarks from below them too."""
    ir = tmp_path / "amlz_compile" / "ir"
    ir.mkdir(parents=True)
    (ir / "program.py").write_text(
        "from .ops import OPS\n\ndef f():\n    from ..search import config\n"
    )
    (ir / "ops.py").write_text("from ..errors import AmlzError\n")
    search = tmp_path / "amlz_compile" / "search"
    search.mkdir()
    (search / "kernels.py").write_text("import amlz_compile.bench.llvm\n")
    assert violations(tmp_path / "amlz_compile") == [
        "amlz_compile.ir.program imports amlz_compile.search (ir -> search)",
        "amlz_compile.search.kernels imports amlz_compile.bench.llvm (search -> bench)",
    ]
