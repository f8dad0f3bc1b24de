"""IR -> the source of a standalone Python module that needs only NumPy.

The module is the export template beside this file, three parts of real, linted Python
(`TEMPLATE_FILES`: the algorithm and protocol, the estimators, the self-test) appended in order,
with its marked lines filled in (`fill_template`). Each instruction becomes one line: the op
table's printed form (`OpInfo.text`) where that is already NumPy code over the template's
helpers, else the op's entry in `NUMPY_FORMS`; `missing_renderings` lists the ops whose line
would call a name the template does not define (a test keeps it empty). The generated module
holds the algorithm as readable NumPy code (`setup`, `predict`, `learn` over memory arrays `s`,
`v`, `m`), the same algorithm as data (`ALGORITHM_JSON`, the project's JSON program format,
which `amlz verify` parses without running the file), the project's SplitMix64 generator in pure
Python, the evaluation protocol of the task kernel (`run_protocol`), scikit-learn compatible
estimators, metadata and self-test vectors.

Bit-for-bit agreement with the interpreter: sums accumulate left to right (`np.cumsum`), std is
the one-pass formula, min/max/heaviside/index conversion follow the interpreter's NaN choices,
and scalar transcendental functions call `math` (libm, as numba does) with IEEE results instead of
Python exceptions. Only libm itself can differ between machines, hence `verify`'s tolerance.
"""

from __future__ import annotations

import ast
import base64
import builtins
import inspect
import pprint
import re
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources

import numpy as np

from ..errors import AmlzError
from ..ir.ops import OPS, Op, OpInfo, op_info
from ..ir.program import COMPONENTS, MemorySpec, Program
from ..ir.serialize import dumps

# Format 2 embeds the program as data (ALGORITHM_JSON); format 1 files cannot be verified.
FORMAT_VERSION = 2

# The regressor treats a prediction whose magnitude exceeds DIVERGENCE_FACTOR times the largest
# absolute training target (at least 1) as diverged.
DIVERGENCE_FACTOR = 1e6


class ExportError(AmlzError, ValueError):
    """A program that cannot be exported (e.g. an op without a rendering)."""


# The NumPy line of each op whose printed form (`OpInfo.text`) is not already NumPy code over
# the template's helpers. Placeholders: {out}, {in1}, {in2} (memory references such as s[3],
# v[2], m[1]) and {act}, {f0}, {f1}, {f2} (data as exact literals); F is the feature size, rng
# the generator. Every other op is rendered from its printed form.
NUMPY_FORMS: dict[Op, str] = {
    Op.NO_OP: "pass  # NoOp",
    Op.SCALAR_RECIPROCAL_OP: "{out} = 1.0 / {in1}",
    Op.SCALAR_HEAVYSIDE_OP: "{out} = 1.0 if {in1} >= 0.0 else 0.0",
    Op.VECTOR_HEAVYSIDE_OP: "{out} = heaviside({in1})",
    Op.MATRIX_HEAVYSIDE_OP: "{out} = heaviside({in1})",
    Op.SCALAR_BROADCAST_OP: "{out} = {in1}",
    Op.VECTOR_RECIPROCAL_OP: "{out} = 1.0 / {in1}",
    Op.VECTOR_ABS_OP: "{out} = np.abs({in1})",
    Op.VECTOR_OUTER_PRODUCT_OP: "{out} = np.outer({in1}, {in2})",
    Op.MATRIX_RECIPROCAL_OP: "{out} = 1.0 / {in1}",
    Op.MATRIX_VECTOR_PRODUCT_OP: "{out} = matvec({in1}, {in2})",
    Op.VECTOR_COLUMN_BROADCAST_OP: "{out} = {in1}[:, None]",
    Op.VECTOR_ROW_BROADCAST_OP: "{out} = {in1}[None, :]",
    Op.MATRIX_TRANSPOSE_OP: "{out} = {in1}.T",
    Op.MATRIX_ABS_OP: "{out} = np.abs({in1})",
    Op.SCALAR_MIN_OP: "{out} = {in2} if {in2} < {in1} else {in1}",
    Op.SCALAR_MAX_OP: "{out} = {in2} if {in1} < {in2} else {in1}",
    Op.VECTOR_CONST_SET_OP: "{out}[index({f0}, F)] = {f1}",
    Op.MATRIX_CONST_SET_OP: "{out}[index({f0}, F), index({f1}, F)] = {f2}",
    Op.SCALAR_UNIFORM_SET_OP: "{out} = rng.uniform({f0}, {f1})",
    Op.VECTOR_UNIFORM_SET_OP: "{out} = draws(rng.uniform, {f0}, {f1}, F)",
    Op.MATRIX_UNIFORM_SET_OP: "{out} = draws(rng.uniform, {f0}, {f1}, (F, F))",
    Op.SCALAR_GAUSSIAN_SET_OP: "{out} = rng.gaussian({f0}, {f1})",
    Op.VECTOR_GAUSSIAN_SET_OP: "{out} = draws(rng.gaussian, {f0}, {f1}, F)",
    Op.MATRIX_GAUSSIAN_SET_OP: "{out} = draws(rng.gaussian, {f0}, {f1}, (F, F))",
}

# Names a component's lines may use besides the template's own: its parameters.
COMPONENT_PARAMETERS = ("s", "v", "m", "rng", "F")

# The parts of the template, in the order the exported module holds them; each later part starts
# with a `part_header` block (its docstring and imports) that the module does not hold.
TEMPLATE_FILES = (
    "export_template.py",
    "export_template_estimators.py",
    "export_template_selftest.py",
)
_LINE_MARK = re.compile(r"^(?P<code>.*?)  # export: (?P<name>\w+)$")
_BEGIN, _END = "# export-begin: ", "# export-end: "


def rendering(op: int) -> str:
    """The line template of op number `op`: its `NUMPY_FORMS` entry, else its printed form."""
    info = op_info(op)
    return NUMPY_FORMS.get(info.op, info.text)


@cache
def template_parts() -> tuple[str, ...]:
    """The text of each of `TEMPLATE_FILES` (shipped in the package)."""
    files = resources.files(__package__)
    return tuple(files.joinpath(name).read_text(encoding="utf-8") for name in TEMPLATE_FILES)


def template_source() -> str:
    """The template of the exported module: its parts appended in order (still marked)."""
    return "".join(template_parts())


def _top_level(part: str) -> list[ast.stmt]:
    return ast.parse(part).body


@cache
def template_names() -> frozenset[str]:
    """Names the template defines at module level (functions, classes, constants, imports)."""
    names = set()
    for node in (node for part in template_parts() for node in _top_level(part)):
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return frozenset(names)


@cache
def template_imports() -> str:
    """The exported module's imports: every absolute top-level import of the template's parts
    (not `__future__`, not the parts' imports of each other or of the package), the standard
    library's first, one statement a line, as isort orders them."""
    groups: tuple[set[str], set[str]] = (set(), set())
    for node in (node for part in template_parts() for node in _top_level(part)):
        if isinstance(node, ast.Import) or (
            isinstance(node, ast.ImportFrom) and node.level == 0 and node.module != "__future__"
        ):
            module = node.names[0].name if isinstance(node, ast.Import) else node.module
            third_party = module.split(".")[0] not in sys.stdlib_module_names
            groups[third_party].add(ast.unparse(node))
    return "\n".join("\n".join(sorted(g)) + "\n" for g in groups if g)


def _unknown_names(line: str) -> set[str]:
    known = template_names() | set(COMPONENT_PARAMETERS) | set(dir(builtins))
    used = {n.id for n in ast.walk(ast.parse(line)) if isinstance(n, ast.Name)}
    return used - known


def missing_renderings() -> list[int]:
    """Op numbers of `ir.ops.OPS` whose rendered line would use a name that neither the template
    nor the component's parameters define (empty when every op renders)."""
    missing = []
    for info in OPS:
        if _unknown_names(_render(info, (0, 0, 0), "0.0", ("0.0",) * 3)):
            missing.append(int(info.op))
    return missing


def fill_template(template: str, fills: Mapping[str, str]) -> str:
    """`template` with each `# export: NAME` line replaced by `fills[NAME]` and each
    `# export-begin: NAME` ... `# export-end: NAME` block by `fills[NAME]` (a block's text ends
    with a newline, or is empty). Every mark must have a fill and every fill a mark."""
    out: list[str] = []
    used: set[str] = set()
    block = None
    for line in template.splitlines(keepends=True):
        text = line.rstrip("\n")
        if block is not None:
            if text == _END + block:
                block = None
            continue
        if text.startswith(_BEGIN):
            block = text[len(_BEGIN) :]
            out.append(fills[block])
            used.add(block)
        elif mark := _LINE_MARK.match(text):
            out.append(fills[mark["name"]] + "\n")
            used.add(mark["name"])
        else:
            out.append(line)
    if block is not None:
        raise ExportError(f"export template: block {block!r} is not closed")
    if set(fills) - used:
        raise ExportError(f"export template: no mark for {sorted(set(fills) - used)}")
    return "".join(out)


def _literal(x: float) -> str:
    """An exact Python literal for a float64 value (inf and NaN included)."""
    x = float(x)
    if x != x:
        return "NAN"
    if x in (float("inf"), float("-inf")):
        return "INF" if x > 0 else "-INF"
    return repr(x)


def _f32_literal(x: float) -> str:
    """A float32 data value: its short decimal form wrapped in f32() when that reads better."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return _literal(x)
    plain = repr(x)
    short = repr(float(np.format_float_positional(np.float32(x), unique=True, trim="0")))
    if short != plain and float(np.float32(float(short))) == x:
        return f"f32({short})"
    return plain


def render_instruction(op: int, in1: int, in2: int, out: int, act, f0, f1, f2) -> str:
    """One line of NumPy code for one instruction (ExportError for an op without rendering)."""
    info = op_info(op)
    fs = (_f32_literal(f0), _f32_literal(f1), _f32_literal(f2))
    line = _render(info, (in1, in2, out), _literal(act), fs)
    unknown = _unknown_names(line)
    if unknown:
        raise ExportError(
            f"op {op} ({info.name}) has no NumPy rendering: {line!r} uses {sorted(unknown)}"
        )
    return line


def _render(info: OpInfo, addresses: Sequence[int], act: str, fs: Sequence[str]) -> str:
    """The op's line with memory references `<kind>[<address>]` and the given data literals."""
    kinds = (("in1", info.in1), ("in2", info.in2), ("out", info.out))
    refs = {f: f"{kind}[{int(a)}]" for (f, kind), a in zip(kinds, addresses, strict=True) if kind}
    return rendering(info.op).format(**refs, act=act, f0=fs[0], f1=fs[1], f2=fs[2])


def render_component(program: Program, name: str) -> str:
    """`def <name>(s, v, m, rng, F):` with one line per instruction of that component."""
    k = COMPONENTS.index(name)
    lo, hi = int(program.bounds[k]), int(program.bounds[k + 1])
    doc = {
        "setup": "Setup: runs once on the zeroed memory.",
        "predict": "Predict: v[0] holds the features, s[0] is 0; leaves the prediction in s[1].",
        "learn": "Learn: v[0] holds the features, s[0] the label.",
    }[name]
    lines = [f"def {name}(s, v, m, rng, F):", f'    """{doc}"""']
    for row in range(lo, hi):
        op, a, b, c = (int(x) for x in program.code[row])
        act, f0, f1, f2 = (float(x) for x in program.data[row])
        lines.append("    " + render_instruction(op, a, b, c, act, f0, f1, f2))
    return "\n".join(lines) + "\n"


def _rng_source() -> str:
    """The project's SplitMix64 class and its constants, copied from `amlz_compile.rng`."""
    from .. import rng

    consts = "\n".join(
        f"{name} = {getattr(rng, name)!r}"
        for name in ("MASK64", "GAMMA", "MUL1", "MUL2", "TWO_PI", "INV_2_53")
    )
    return consts + "\n\n\n" + inspect.getsource(rng.SplitMix64)


def encode_array(arr) -> dict:
    """An exact, compact embedding of a float64 or int32 array (base64 of little-endian bytes)."""
    arr = np.asarray(arr)
    dtype = "<i4" if arr.dtype.kind in "iu" else "<f8"
    data = np.ascontiguousarray(arr, dtype=dtype)
    return {
        "dtype": dtype,
        "shape": list(data.shape),
        "b64": base64.b64encode(data.tobytes()).decode("ascii"),
    }


def decode_array(blob: Mapping) -> np.ndarray:
    """Inverse of `encode_array`."""
    raw = base64.b64decode(blob["b64"])
    return np.frombuffer(raw, dtype=blob["dtype"]).reshape(blob["shape"]).copy()


def program_summary(program: Program) -> str:
    """The readable form of the program (the project's text format when available)."""
    try:
        from ..ir.text import format_program

        return format_program(program)
    except ImportError:  # pragma: no cover - text format always ships
        lines = []
        for name in COMPONENTS:
            lines.append(f"def {name.capitalize()}():")
            for ins in program.component(name):
                info = ins.info
                fields = {}
                for f, kind in (("in1", info.in1), ("in2", info.in2), ("out", info.out)):
                    if kind is not None:
                        fields[f] = f"{kind}{getattr(ins, f)}"
                lines.append(
                    "  " + info.text.format(**fields, act=ins.act, f0=ins.f0, f1=ins.f1, f2=ins.f2)
                )
        return "\n".join(lines)


def text_constant(text: str) -> str:
    """Python source for `text` as one string constant: a parenthesised run of literals, one
    per line, each its exact `repr` (what `ast.literal_eval` reads back)."""
    lines = text.splitlines(keepends=True) or [""]
    return "(\n" + "".join(f"    {line!r}\n" for line in lines) + ")"


def render_module(
    program: Program,
    *,
    metadata: Mapping | None = None,
    self_tests: Sequence[Mapping] = (),
    memory: MemorySpec | None = None,
) -> str:
    """The full source of the standalone module for `program` (already simplified, if wanted).

    `memory` gives the address counts (default: the smallest that fits the program);
    `self_tests` are cases built by `amlz_compile.export.make_self_tests`. The program is also
    embedded as data (`ALGORITHM_JSON`, `ir.serialize.dumps`), which `verify` reads back.
    """
    missing = missing_renderings()
    if missing:
        raise ExportError(f"ops without a NumPy rendering: {missing}")
    need = program.required_memory()
    if memory is None:
        memory = need
    program.check_fits(memory)
    meta = dict(metadata or {})
    meta.setdefault("format_version", FORMAT_VERSION)
    text = program_summary(program).rstrip()
    indented = "\n".join(("    " + line) if line.strip() else "" for line in text.splitlines())
    components = "\n\n".join(render_component(program, name) for name in COMPONENTS)
    fills = {
        "template_note": "",
        "part_header": "",
        "imports": template_imports(),
        "algorithm": indented.replace("\\", "\\\\").replace('"""', '\\"\\"\\"'),
        "format_version": f"FORMAT_VERSION = {FORMAT_VERSION}",
        "metadata": "METADATA = " + pprint.pformat(meta, width=96, sort_dicts=True),
        "memory": "N_SCALARS, N_VECTORS, N_MATRICES = "
        f"{memory.scalars}, {memory.vectors}, {memory.matrices}",
        "algorithm_json": "ALGORITHM_JSON = " + text_constant(dumps(program)),
        "rng": _rng_source(),
        "components": components,
        "divergence_factor": f"DIVERGENCE_FACTOR = {DIVERGENCE_FACTOR!r}",
        "self_tests": "SELF_TESTS = " + pprint.pformat(list(self_tests), width=96, sort_dicts=True),
    }
    return fill_template(template_source(), fills)
