"""The documentation in `docs/` is what the code cites: every `docs/<page>.md#<section>` link in
the repository names a heading that exists, no comment points to a semantics document outside
the repository, and docs/semantics.md has a row for every op of the table."""

from __future__ import annotations

import re
from pathlib import Path

from amlz_compile.ir.ops import OPS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCANNED = ("amlz_compile", "tests", "runtime", "docs", "examples", "README.md")
SUFFIXES = {".py", ".md", ".txt", ".ll"}

LINK = re.compile(r"docs/([\w-]+\.md)#([\w-]+)|\]\(([\w-]+\.md)#([\w-]+)\)")
# "semantics 4.4", "semantics section 6", "the semantics reference", "semantics page 2.3":
# sections of a document that is not in this repository.
OUTSIDE = re.compile(r"semantics (section|page|reference|\d)", re.IGNORECASE)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {
        _slug(line.lstrip("#"))
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }


def _files():
    for name in SCANNED:
        path = ROOT / name
        paths = [path] if path.is_file() else sorted(path.rglob("*"))
        for p in paths:
            if p.suffix in SUFFIXES and p.is_file() and "__pycache__" not in p.parts:
                yield p


def test_every_cited_section_exists():
    known = {page.name: anchors(page) for page in DOCS.glob("*.md")}
    missing = []
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in LINK.finditer(text):
            page = match.group(1) or match.group(3)
            section = match.group(2) or match.group(4)
            if page in known and section not in known[page]:
                missing.append(f"{path.relative_to(ROOT)}: {page}#{section}")
            elif page not in known and path.parent == DOCS:
                missing.append(f"{path.relative_to(ROOT)}: no page {page}")
    assert not missing, "links to sections that do not exist:\n" + "\n".join(missing)


def test_no_reference_to_an_outside_semantics_document():
    found = []
    for path in _files():
        if path in (DOCS / "semantics.md", Path(__file__).resolve()):
            continue
        for k, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines()):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{k + 1}: {line.strip()}")
    assert not found, "cite a docs/semantics.md section instead:\n" + "\n".join(found)


def test_semantics_has_a_row_for_every_op():
    text = (DOCS / "semantics.md").read_text(encoding="utf-8")
    for info in OPS:
        assert f"| {int(info.op)} | `{info.op.name}` |" in text, info.op.name


def test_the_slug_rule():
    assert _slug(" Setup, Predict and Learn") == "setup-predict-and-learn"
    assert _slug("Functional-equivalence cache") == "functional-equivalence-cache"
    assert "nan-and-inf" in anchors(DOCS / "semantics.md")


def _architecture_map() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Architecture", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def test_readme_map_names_every_top_level_module_and_only_real_files():
    """The package map in README.md names every module and package of amlz_compile/, and every
    file or folder it names exists."""
    block = _architecture_map()
    package = ROOT / "amlz_compile"
    entries = [
        f"{p.name}/" if p.is_dir() else p.name
        for p in package.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name not in ("__init__.py", "__main__.py"))
    ]
    unnamed = [e for e in entries if not re.search(rf"(?<![\w/]){re.escape(e)}", block)]
    assert not unnamed, f"README's package map does not name: {sorted(unnamed)}"
    tree = {p.name for p in package.rglob("*")} | {f"{p.name}/" for p in package.rglob("*")}
    tree |= {p.name for p in ROOT.iterdir()} | {f"{p.name}/" for p in ROOT.iterdir()}
    tree |= {p.name for p in DOCS.iterdir()} | {p.name for p in (ROOT / "runtime").iterdir()}
    named = set(re.findall(r"[\w-]+\.(?:py|ll|md)\b", block))
    named |= set(re.findall(r"^\s*([\w-]+/)", block, re.MULTILINE))
    assert not named - tree, f"README's package map names what does not exist: {named - tree}"
