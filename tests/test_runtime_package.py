"""Where the native runtime is found: the repository's top-level `runtime/` is its one source
(no copy inside the package, no symlink), read from there in a checkout, and shipped inside the
wheel as `amlz_compile/runtime/`, where the installed package finds it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from amlz_compile.backends.llvm.runtime import RUNTIME_FILE, runtime_ir, runtime_path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "runtime" / RUNTIME_FILE


def test_the_checkout_reads_the_top_level_runtime():
    assert SOURCE.is_file() and not SOURCE.is_symlink()
    assert not (ROOT / "amlz_compile" / "runtime").exists()  # no second copy in the package
    assert Path(str(runtime_path())).resolve() == SOURCE.resolve()
    assert runtime_ir() == SOURCE.read_text(encoding="utf-8")


FIND = """
import amlz_compile
from amlz_compile.backends.llvm.runtime import runtime_ir, runtime_path
from amlz_compile.backends.llvm.engine import Engine
print(amlz_compile.__file__)
print(runtime_path())
print(len(runtime_ir()))
"""


@pytest.mark.slow
def test_an_installed_wheel_finds_the_runtime(tmp_path):
    """Build a wheel from a copy of the project, install it into a throwaway venv and locate
    the runtime from outside any checkout."""
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("amlz_compile", "runtime"):
        shutil.copytree(ROOT / name, project / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, project / name)
    wheels = tmp_path / "wheels"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(project)], check=True,
                   env=env, cwd=tmp_path)  # fmt: skip
    (wheel,) = wheels.glob("amlz_compile-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, env=env, cwd=tmp_path)  # fmt: skip
    out = subprocess.run([str(python), "-c", FIND], check=True, env=env, cwd=tmp_path,
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    package, found, size = Path(out[0]).parent, Path(out[1]), int(out[2])
    assert package.is_relative_to(venv)
    assert found == package / "runtime" / RUNTIME_FILE
    assert size == len(SOURCE.read_text(encoding="utf-8"))
