"""Packaging is declared in pyproject.toml; only the package list lives here, because it adds
the top-level `runtime/` folder (mapped by `[tool.setuptools.package-dir]`) to the packages
setuptools finds, which pyproject.toml's `packages.find` cannot express."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["amlz_compile", "amlz_compile.*"]), "amlz_compile.runtime"])
