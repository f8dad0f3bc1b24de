"""What every op computes, written once: one small numba function per op, as the official C++
executor has one tiny function per op, grouped by what it does: `elementwise` (one scalar
function per meaning, applied to scalars, vectors and matrices), `reductions` (dots, norms,
means, standard deviations), `products` (outer, matrix products, transposes, broadcasts) and
`data` (the ops that read no memory).

Each function runs one decoded instruction on the interpreter's flat memory: `mem` holds
scalars, vectors and matrices (row-major) back to back, `a`, `b`, `c` are the offsets of in1,
in2 and out (unsigned, so indexing needs no negative-index wraparound; a const-set's `c`
already includes the element index), `F` the feature size, `dd[row]` the instruction's data
(act, f0, f1, f2), `rng` the generator state, `tv` / `tm` scratch for products that may alias
their inputs (F and F*F entries). The interpreter's dispatch (`ir.op_dispatch`) is generated
from the op table and calls these by name (`function_name`, `family`); constant folding runs
the same functions on one-element memory. What the ops mean, and the choices the reference
leaves open (summation order, NaN in min/max, the one-pass standard deviation), is in
docs/semantics.md#ops.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from ..ops import MATRIX_OPERAND, OPS, OpInfo

FAMILIES = ("elementwise", "reductions", "products", "data")


def function_name(info: OpInfo) -> str:
    """The name of op `info`'s function: its enum name in lower case."""
    return info.name.lower()


def family(info: OpInfo) -> str:
    """The module (of FAMILIES) that defines op `info`'s function; imports numba."""
    for name in FAMILIES:
        if hasattr(family_module(name), function_name(info)):
            return name
    raise LookupError(f"no function for {info.name} in ir/op_kernels")


def family_module(name: str) -> ModuleType:
    """The module of one family (imports numba)."""
    return import_module(f"{__name__}.{name}")


def dispatch_source() -> str:
    """The text of `ir/op_dispatch.py`: one `if` chain over the op table calling each op's
    function, and one over the ops with no matrix operand (numba cannot call through a run-time
    table of functions fast; LLVM turns a chain into one jump table). `python -m
    amlz_compile.ir.op_kernels` rewrites the file; a test checks that it is current."""
    lines = [
        '"""Generated from the op table by `python -m amlz_compile.ir.op_kernels`; do not edit.',
        "",
        "`run_op` runs one decoded instruction: the interpreter's single dispatch site.",
        '"""',
        "",
        "from numba import njit",
        "",
    ]
    for fam in sorted(FAMILIES):
        names = sorted(function_name(info) for info in OPS if family(info) == fam)
        lines += [f"from .op_kernels.{fam} import (", *(f"    {name}," for name in names), ")"]
    lines += [
        "from .ops import Op",
        "",
        "",
        '@njit(cache=True, error_model="numpy", nogil=True, inline="always")',
        "def run_op(op, mem, a, b, c, F, dd, row, rng, tv, tm):",
        '    """Run op `op` (see `op_kernels` for the arguments)."""',
    ]
    lines += _chain(OPS)
    lines += [
        "",
        "",
        '@njit(cache=True, error_model="numpy", nogil=True, inline="always")',
        "def run_op_without_matrices(op, mem, a, b, c, F, dd, row, rng, tv, tm):",
        '    """`run_op` for the ops with no matrix operand (`ops.MATRIX_OPERAND`); any other op',
        '    does nothing: only for programs without one."""',
    ]
    lines += _chain(OPS, skip=MATRIX_OPERAND)
    return "\n".join(lines) + "\n"


def _chain(infos, skip=None) -> list[str]:
    """An `if` chain over `infos` running each op by its function (an op in `skip`: nothing,
    so the chain keeps every case and LLVM the same jump table)."""
    lines = []
    for i, info in enumerate(infos):
        keyword = "if" if i == 0 else "elif"
        if skip is not None and skip[info.op]:
            lines.append(f"    {keyword} op == Op.{info.name}:  # noqa: SIM114 (one case per op)")
            lines.append("        pass")
            continue
        lines.append(f"    {keyword} op == Op.{info.name}:")
        lines.append(f"        {function_name(info)}(mem, a, b, c, F, dd, row, rng, tv, tm)")
    return lines
