"""The one table of AutoML-Zero's 65 ops (reference numbers 0-64).

Every other module (text format, interpreter, passes, LLVM JIT, NumPy export, search) reads this
table; a backend renders each op by its number and a test fails if any op lacks a rendering.
What each op computes, and where this project departs from the official C++ code, is in
docs/semantics.md#op-table. The facts that passes, backends and the search need about an op are
all declared here, as `OpInfo` fields and as per-op numpy tables derived from them (readable
inside numba code); nothing else spells an op by its number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from ..errors import AmlzError

# Address kinds.
SCALAR = "s"
VECTOR = "v"
MATRIX = "m"


class Op(IntEnum):
    """Op numbers, identical to the reference enum and the paper's OPn."""

    NO_OP = 0
    SCALAR_SUM_OP = 1
    SCALAR_DIFF_OP = 2
    SCALAR_PRODUCT_OP = 3
    SCALAR_DIVISION_OP = 4
    SCALAR_ABS_OP = 5
    SCALAR_RECIPROCAL_OP = 6
    SCALAR_SIN_OP = 7
    SCALAR_COS_OP = 8
    SCALAR_TAN_OP = 9
    SCALAR_ARCSIN_OP = 10
    SCALAR_ARCCOS_OP = 11
    SCALAR_ARCTAN_OP = 12
    SCALAR_EXP_OP = 13
    SCALAR_LOG_OP = 14
    SCALAR_HEAVYSIDE_OP = 15
    VECTOR_HEAVYSIDE_OP = 16
    MATRIX_HEAVYSIDE_OP = 17
    SCALAR_VECTOR_PRODUCT_OP = 18
    SCALAR_BROADCAST_OP = 19
    VECTOR_RECIPROCAL_OP = 20
    VECTOR_NORM_OP = 21
    VECTOR_ABS_OP = 22
    VECTOR_SUM_OP = 23
    VECTOR_DIFF_OP = 24
    VECTOR_PRODUCT_OP = 25
    VECTOR_DIVISION_OP = 26
    VECTOR_INNER_PRODUCT_OP = 27
    VECTOR_OUTER_PRODUCT_OP = 28
    SCALAR_MATRIX_PRODUCT_OP = 29
    MATRIX_RECIPROCAL_OP = 30
    MATRIX_VECTOR_PRODUCT_OP = 31
    VECTOR_COLUMN_BROADCAST_OP = 32
    VECTOR_ROW_BROADCAST_OP = 33
    MATRIX_NORM_OP = 34
    MATRIX_COLUMN_NORM_OP = 35
    MATRIX_ROW_NORM_OP = 36
    MATRIX_TRANSPOSE_OP = 37
    MATRIX_ABS_OP = 38
    MATRIX_SUM_OP = 39
    MATRIX_DIFF_OP = 40
    MATRIX_PRODUCT_OP = 41
    MATRIX_DIVISION_OP = 42
    MATRIX_MATRIX_PRODUCT_OP = 43
    SCALAR_MIN_OP = 44
    VECTOR_MIN_OP = 45
    MATRIX_MIN_OP = 46
    SCALAR_MAX_OP = 47
    VECTOR_MAX_OP = 48
    MATRIX_MAX_OP = 49
    VECTOR_MEAN_OP = 50
    MATRIX_MEAN_OP = 51
    MATRIX_ROW_MEAN_OP = 52
    MATRIX_ROW_ST_DEV_OP = 53
    VECTOR_ST_DEV_OP = 54
    MATRIX_ST_DEV_OP = 55
    SCALAR_CONST_SET_OP = 56
    VECTOR_CONST_SET_OP = 57
    MATRIX_CONST_SET_OP = 58
    SCALAR_UNIFORM_SET_OP = 59
    VECTOR_UNIFORM_SET_OP = 60
    MATRIX_UNIFORM_SET_OP = 61
    SCALAR_GAUSSIAN_SET_OP = 62
    VECTOR_GAUSSIAN_SET_OP = 63
    MATRIX_GAUSSIAN_SET_OP = 64


NUM_OPS = 65


@dataclass(frozen=True)
class OpInfo:
    """Static facts about one op.

    `in1`/`in2`/`out` are address kinds ("s", "v", "m") or None when unused. `data` names the
    data fields the op reads ("act", "f0", "f1", "f2"). `text` is the readable form as a format
    template over {out}, {in1}, {in2}, {act}, {f0}, {f1}, {f2}. `cost` is the reference's
    compute-cost units (train budget). `random` is True when the op draws from the generator.
    `partial` is True when the op writes one element of its output (the const-set ops on
    vectors and matrices), so the rest of the output keeps its value. `commutes` is True when
    swapping in1 and in2 gives the same result bit for bit. `fold` is how constant folding
    evaluates the op on uniform constant inputs (see FOLD_* below), or None when it cannot.
    `algebra` is the arithmetic a two-input op computes (see ALGEBRA_* below; "" for the others),
    which the effective-program view's approximate rewrites (`x - x`, `x * 0`, `x + 0`) read.
    """

    op: Op
    in1: str | None
    in2: str | None
    out: str | None
    data: tuple[str, ...]
    text: str
    cost: int
    random: bool = False
    partial: bool = False
    commutes: bool = False
    fold: int = 0
    algebra: str = ""

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def arity(self) -> int:
        """Number of memory inputs (0, 1 or 2)."""
        return (self.in1 is not None) + (self.in2 is not None)

    @property
    def is_data_op(self) -> bool:
        """Ops 56-64: write constants or random values, read no memory."""
        return Op.SCALAR_CONST_SET_OP <= self.op <= Op.MATRIX_GAUSSIAN_SET_OP


S, V, M = SCALAR, VECTOR, MATRIX
_BIN = "{out} = {in1} {sym} {in2}"


# How constant folding treats an op whose inputs are uniform constants (every element equal).
FOLD_NONE = 0  # never folded (data ops, NoOp)
FOLD_MAP = 1  # elementwise (or a broadcast/transpose): the result is the op on one element
FOLD_MINMAX = 2  # elementwise min/max: folded only when the order of the operands cannot matter
FOLD_SUM = 3  # a sum of F equal terms in1 (a mean divides it by F)
FOLD_SUM_SQUARES = 4  # a sum of F equal terms in1 * in1 (norms)
FOLD_SUM_PRODUCTS = 5  # a sum of F equal terms in1 * in2 (dot and matrix products)
FOLD_SUM_AND_SQUARES = 6  # sums of in1 and of in1 * in1 (standard deviations)

# What a two-input op computes, as the effective-program view reads it (every two-input op has one).
ALGEBRA_SUM = "sum"  # in1 + in2, elementwise
ALGEBRA_DIFF = "diff"  # in1 - in2, elementwise
ALGEBRA_PRODUCT = "product"  # in1 * in2, elementwise (a scalar times each element included)
ALGEBRA_DIVISION = "division"  # in1 / in2, elementwise
ALGEBRA_BILINEAR = "bilinear"  # dot, outer and matrix products: linear in each input
ALGEBRA_MINMAX = "minmax"  # elementwise minimum or maximum

_COMMUTING = {1, 3, 23, 25, 27, 39, 41}
_PARTIAL = {57, 58}
_FOLD = {
    **dict.fromkeys(
        (
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            9,
            10,
            11,
            12,
            13,
            14,
            15,
            16,
            17,
            18,
            19,
            20,
            22,
            23,
            24,
            25,
            26,
            28,
            29,
            30,
            32,
            33,
            37,
            38,
            39,
            40,
            41,
            42,
        ),
        FOLD_MAP,
    ),  # fmt: skip
    **dict.fromkeys((44, 45, 46, 47, 48, 49), FOLD_MINMAX),
    **dict.fromkeys((50, 51, 52), FOLD_SUM),
    **dict.fromkeys((21, 34, 35, 36), FOLD_SUM_SQUARES),
    **dict.fromkeys((27, 31, 43), FOLD_SUM_PRODUCTS),
    **dict.fromkeys((53, 54, 55), FOLD_SUM_AND_SQUARES),
}
_ALGEBRA = {
    **dict.fromkeys((1, 23, 39), ALGEBRA_SUM),
    **dict.fromkeys((2, 24, 40), ALGEBRA_DIFF),
    **dict.fromkeys((3, 18, 25, 29, 41), ALGEBRA_PRODUCT),
    **dict.fromkeys((4, 26, 42), ALGEBRA_DIVISION),
    **dict.fromkeys((27, 28, 31, 43), ALGEBRA_BILINEAR),
    **dict.fromkeys((44, 45, 46, 47, 48, 49), ALGEBRA_MINMAX),
}


def _i(op, in1, in2, out, text, cost, data=(), random=False):
    return OpInfo(
        Op(op), in1, in2, out, tuple(data), text, cost, random,
        partial=op in _PARTIAL, commutes=op in _COMMUTING, fold=_FOLD.get(op, FOLD_NONE),
        algebra=_ALGEBRA.get(op, ""),
    )  # fmt: skip


OPS: tuple[OpInfo, ...] = (
    _i(0, None, None, None, "NoOp()", 3013921),
    _i(1, S, S, S, "{out} = {in1} + {in2}", 4703759),
    _i(2, S, S, S, "{out} = {in1} - {in2}", 5102027),
    _i(3, S, S, S, "{out} = {in1} * {in2}", 4418347),
    _i(4, S, S, S, "{out} = {in1} / {in2}", 3963916),
    _i(5, S, None, S, "{out} = abs({in1})", 3684352),
    _i(6, S, None, S, "{out} = 1 / {in1}", 4212086),
    _i(7, S, None, S, "{out} = sin({in1})", 7538523),
    _i(8, S, None, S, "{out} = cos({in1})", 7452807),
    _i(9, S, None, S, "{out} = tan({in1})", 7583203),
    _i(10, S, None, S, "{out} = arcsin({in1})", 9145616),
    _i(11, S, None, S, "{out} = arccos({in1})", 7673039),
    _i(12, S, None, S, "{out} = arctan({in1})", 9273978),
    _i(13, S, None, S, "{out} = exp({in1})", 11755929),
    _i(14, S, None, S, "{out} = log({in1})", 11627725),
    _i(15, S, None, S, "{out} = heaviside({in1}, 1.0)", 4057075),
    _i(16, V, None, V, "{out} = heaviside({in1}, 1.0)", 3965743),
    _i(17, M, None, M, "{out} = heaviside({in1}, 1.0)", 6728311),
    _i(18, S, V, V, "{out} = {in1} * {in2}", 3705015),
    _i(19, S, None, V, "{out} = bcast({in1})", 4165814),
    _i(20, V, None, V, "{out} = 1 / {in1}", 6311851),
    _i(21, V, None, S, "{out} = norm({in1})", 4810562),
    _i(22, V, None, V, "{out} = abs({in1})", 3713533),
    _i(23, V, V, V, "{out} = {in1} + {in2}", 4701519),
    _i(24, V, V, V, "{out} = {in1} - {in2}", 4165747),
    _i(25, V, V, V, "{out} = {in1} * {in2}", 4504555),
    _i(26, V, V, V, "{out} = {in1} / {in2}", 4556237),
    _i(27, V, V, S, "{out} = dot({in1}, {in2})", 4294617),
    _i(28, V, V, M, "{out} = outer({in1}, {in2})", 9833707),
    _i(29, S, M, M, "{out} = {in1} * {in2}", 5986302),
    _i(30, M, None, M, "{out} = 1 / {in1}", 24336141),
    _i(31, M, V, V, "{out} = dot({in1}, {in2})", 9310002),
    _i(32, V, None, M, "{out} = bcast({in1}, axis=0)", 10993088),
    _i(33, V, None, M, "{out} = bcast({in1}, axis=1)", 11087322),
    _i(34, M, None, S, "{out} = norm({in1})", 6422746),
    _i(35, M, None, V, "{out} = norm({in1}, axis=0)", 6682187),
    _i(36, M, None, V, "{out} = norm({in1}, axis=1)", 13351123),
    _i(37, M, None, M, "{out} = transpose({in1})", 9394756),
    _i(38, M, None, M, "{out} = abs({in1})", 4630926),
    _i(39, M, M, M, "{out} = {in1} + {in2}", 5579381),
    _i(40, M, M, M, "{out} = {in1} - {in2}", 5429452),
    _i(41, M, M, M, "{out} = {in1} * {in2}", 5475227),
    _i(42, M, M, M, "{out} = {in1} / {in2}", 18234378),
    _i(43, M, M, M, "{out} = matmul({in1}, {in2})", 14516296),
    _i(44, S, S, S, "{out} = minimum({in1}, {in2})", 3677265),
    _i(45, V, V, V, "{out} = minimum({in1}, {in2})", 3989956),
    _i(46, M, M, M, "{out} = minimum({in1}, {in2})", 5457728),
    _i(47, S, S, S, "{out} = maximum({in1}, {in2})", 4573695),
    _i(48, V, V, V, "{out} = maximum({in1}, {in2})", 3974229),
    _i(49, M, M, M, "{out} = maximum({in1}, {in2})", 5840952),
    _i(50, V, None, S, "{out} = mean({in1})", 4280443),
    _i(51, M, None, S, "{out} = mean({in1})", 4595196),
    _i(52, M, None, V, "{out} = mean({in1}, axis=1)", 9763956),
    _i(53, M, None, V, "{out} = std({in1}, axis=1)", 16766477),
    _i(54, V, None, S, "{out} = std({in1})", 5585730),
    _i(55, M, None, S, "{out} = std({in1})", 10640216),
    _i(56, None, None, S, "{out} = {act}", 3691108, ("act",)),
    _i(57, None, None, V, "{out}[{f0}] = {f1}", 3991421, ("f0", "f1")),
    _i(58, None, None, M, "{out}[{f0}, {f1}] = {f2}", 3693035, ("f0", "f1", "f2")),
    _i(59, None, None, S, "{out} = uniform({f0}, {f1})", 26610704, ("f0", "f1"), True),
    _i(60, None, None, V, "{out} = uniform({f0}, {f1}, n_features)", 57817372, ("f0", "f1"), True),
    _i(
        61,
        None,
        None,
        M,
        "{out} = uniform({f0}, {f1}, (n_features, n_features))",
        208339446,
        ("f0", "f1"),
        True,
    ),
    _i(62, None, None, S, "{out} = gaussian({f0}, {f1})", 20775635, ("f0", "f1"), True),
    _i(63, None, None, V, "{out} = gaussian({f0}, {f1}, n_features)", 77483018, ("f0", "f1"), True),
    _i(
        64,
        None,
        None,
        M,
        "{out} = gaussian({f0}, {f1}, (n_features, n_features))",
        277690384,
        ("f0", "f1"),
        True,
    ),
)

assert len(OPS) == NUM_OPS and all(info.op == i for i, info in enumerate(OPS))

# Address kinds as small integers, the one coding every array table and numba kernel uses:
# 0 = no address (the field is unused), 1 scalar, 2 vector, 3 matrix.
KIND_NONE = 0
KIND_CODES = {None: KIND_NONE, SCALAR: 1, VECTOR: 2, MATRIX: 3}
KIND_LETTERS = (None, SCALAR, VECTOR, MATRIX)


def _address_kinds() -> np.ndarray:
    codes = [[KIND_CODES[i.in1], KIND_CODES[i.in2], KIND_CODES[i.out]] for i in OPS]
    table = np.array(codes, dtype=np.int64)
    table.flags.writeable = False
    return table


# int64[65, 3]: the kind code (KIND_CODES) of in1, in2 and out for every op.
ADDRESS_KINDS = _address_kinds()


# The data row of an instruction, field by field (Program.data columns).
DATA_FIELD_NAMES = ("act", "f0", "f1", "f2")


def _data_fields() -> np.ndarray:
    table = np.array([[name in i.data for name in DATA_FIELD_NAMES] for i in OPS], dtype=np.bool_)
    table.flags.writeable = False
    return table


# bool[65, 4]: whether each op reads each data field (the others carry no meaning).
DATA_FIELDS = _data_fields()


class UnknownOpError(AmlzError, ValueError):
    """An op number or name that is not in the table."""


def op_info(op: int) -> OpInfo:
    """The table row of op number `op`; a clear error for numbers outside 0-64."""
    if not 0 <= int(op) < NUM_OPS:
        raise UnknownOpError(f"unknown op number {op} (valid: 0-{NUM_OPS - 1})")
    return OPS[int(op)]


def op_by_name(name: str) -> Op:
    """Op from its enum name, with or without the `_OP` suffix, case-insensitive."""
    key = name.strip().upper()
    if not key.endswith("_OP") and key != "NO_OP":
        key += "_OP"
    try:
        return Op[key]
    except KeyError:
        raise UnknownOpError(f"unknown op name {name!r}") from None


def _op_table(values, dtype) -> np.ndarray:
    table = np.array(values, dtype=dtype)
    table.flags.writeable = False
    return table


# Per-op tables (index: op number), for vectorised code and numba kernels.
RANDOM = _op_table([i.random for i in OPS], np.bool_)  # draws from the generator
PARTIAL_WRITE = _op_table([i.partial for i in OPS], np.bool_)  # writes one output element
COMMUTES = _op_table([i.commutes for i in OPS], np.bool_)
FOLD_CLASS = _op_table([i.fold for i in OPS], np.int64)
# The uniform-set ops: with not f0 < f1 they write the constant f0 and draw nothing.
UNIFORM_SET = _op_table(
    [i.op in (Op.SCALAR_UNIFORM_SET_OP, Op.VECTOR_UNIFORM_SET_OP, Op.MATRIX_UNIFORM_SET_OP)
     for i in OPS], np.bool_,
)  # fmt: skip
# The gaussian-set ops: draw from a normal distribution of mean f0 and deviation f1.
GAUSSIAN_SET = _op_table(
    [i.op in (Op.SCALAR_GAUSSIAN_SET_OP, Op.VECTOR_GAUSSIAN_SET_OP, Op.MATRIX_GAUSSIAN_SET_OP)
     for i in OPS], np.bool_,
)  # fmt: skip
# The const-set ops, which write data fields (act, or f1/f2 at an index from f0/f1).
CONST_SET = _op_table(
    [i.op in (Op.SCALAR_CONST_SET_OP, Op.VECTOR_CONST_SET_OP, Op.MATRIX_CONST_SET_OP)
     for i in OPS], np.bool_,
)  # fmt: skip
# Data ops read no memory and write constants or random values (the const-set, uniform-set and
# gaussian-set ops).
DATA_OP = _op_table([i.is_data_op for i in OPS], np.bool_)
# Ops with a matrix operand (in1, in2 or out): a program without them runs in the interpreter
# compiled without them (`backends.interp_machine`), which compiles in about half the time.
MATRIX_OPERAND = _op_table([MATRIX in (i.in1, i.in2, i.out) for i in OPS], np.bool_)


def _with_algebra(*algebras: str) -> frozenset[Op]:
    return frozenset(i.op for i in OPS if i.algebra in algebras)


# Ops by `OpInfo.algebra`, for the effective-program view's approximate rewrites.
SUM_OPS = _with_algebra(ALGEBRA_SUM)  # y = x + 0 copies x
DIFF_OPS = _with_algebra(ALGEBRA_DIFF)  # x - x is 0 for finite x; y = x - 0 copies x
DIVISION_OPS = _with_algebra(ALGEBRA_DIVISION)  # x / x is 1, 0 / x is 0 for finite nonzero x
PRODUCT_OPS = _with_algebra(ALGEBRA_PRODUCT)  # y = x * 1 copies x
MINMAX_OPS = _with_algebra(ALGEBRA_MINMAX)  # min(x, x) and max(x, x) copy x
# Zero when either input is zero and the other finite.
ZERO_ABSORBING_OPS = _with_algebra(ALGEBRA_PRODUCT, ALGEBRA_BILINEAR)
# The sum op of each address kind (in1 + in2 written to the same kind).
SUM_OP_OF_KIND = {i.out: i.op for i in OPS if i.algebra == ALGEBRA_SUM}
# The op that writes one constant to every element of an address of each kind: `s = c`, and
# for vectors and matrices a uniform set with f0 == f1 = c (which draws nothing).
FULL_CONSTANT_OP = {
    SCALAR: Op.SCALAR_CONST_SET_OP, VECTOR: Op.VECTOR_UNIFORM_SET_OP,
    MATRIX: Op.MATRIX_UNIFORM_SET_OP,
}  # fmt: skip


def uses_uniform_constant(op: int, f0: float, f1: float) -> bool:
    """True when a uniform-set op with low >= high writes the constant `low` and draws nothing.

    The reference's abseil rule: an empty open interval returns `lo` without consuming bits.
    Written so that numba compiles the same function (`ir.numeric`).
    """
    return UNIFORM_SET[op] and not (f0 < f1)


def float_to_index(f: float, F: int) -> int:
    """The reference's FloatToIndex, the element a const-set op writes: trunc(float32(F) *
    float32(f)), clamped to [0, F-1]; negative and NaN give 0 (numba twin in `ir.numeric`)."""
    p = np.float32(F) * np.float32(f)
    if not p >= 0.0:  # negative or NaN
        return 0
    if p >= F:
        return F - 1
    return int(p)


def draws(op: int, f0: float, f1: float) -> bool:
    """True when an instruction consumes the generator stream (numba twin in `ir.numeric`)."""
    return RANDOM[op] and not (UNIFORM_SET[op] and not (f0 < f1))


# Ops grouped by how the search randomises their parameters
# (docs/semantics.md#randomising-an-instruction).
DATA_OPS = tuple(i.op.value for i in OPS if i.is_data_op)
RANDOM_OPS = tuple(i.op.value for i in OPS if i.random)
ONE_INPUT_OPS = tuple(i.op.value for i in OPS if i.arity == 1)
TWO_INPUT_OPS = tuple(i.op.value for i in OPS if i.arity == 2)

# The reference scripts' op list for the demo (linear regression from scratch).
DEMO_OPS = tuple(
    int(o)
    for o in (
        Op.SCALAR_CONST_SET_OP, Op.VECTOR_INNER_PRODUCT_OP, Op.SCALAR_DIFF_OP,
        Op.SCALAR_PRODUCT_OP, Op.SCALAR_VECTOR_PRODUCT_OP, Op.VECTOR_SUM_OP,
    )
)  # fmt: skip
