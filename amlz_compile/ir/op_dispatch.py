"""Generated from the op table by `python -m amlz_compile.ir.op_kernels`; do not edit.

`run_op` runs one decoded instruction: the interpreter's single dispatch site.
"""

from numba import njit

from .op_kernels.data import (
    matrix_const_set_op,
    matrix_gaussian_set_op,
    matrix_uniform_set_op,
    no_op,
    scalar_const_set_op,
    scalar_gaussian_set_op,
    scalar_uniform_set_op,
    vector_const_set_op,
    vector_gaussian_set_op,
    vector_uniform_set_op,
)
from .op_kernels.elementwise import (
    matrix_abs_op,
    matrix_diff_op,
    matrix_division_op,
    matrix_heavyside_op,
    matrix_max_op,
    matrix_min_op,
    matrix_product_op,
    matrix_reciprocal_op,
    matrix_sum_op,
    scalar_abs_op,
    scalar_arccos_op,
    scalar_arcsin_op,
    scalar_arctan_op,
    scalar_broadcast_op,
    scalar_cos_op,
    scalar_diff_op,
    scalar_division_op,
    scalar_exp_op,
    scalar_heavyside_op,
    scalar_log_op,
    scalar_matrix_product_op,
    scalar_max_op,
    scalar_min_op,
    scalar_product_op,
    scalar_reciprocal_op,
    scalar_sin_op,
    scalar_sum_op,
    scalar_tan_op,
    scalar_vector_product_op,
    vector_abs_op,
    vector_diff_op,
    vector_division_op,
    vector_heavyside_op,
    vector_max_op,
    vector_min_op,
    vector_product_op,
    vector_reciprocal_op,
    vector_sum_op,
)
from .op_kernels.products import (
    matrix_matrix_product_op,
    matrix_transpose_op,
    matrix_vector_product_op,
    vector_column_broadcast_op,
    vector_outer_product_op,
    vector_row_broadcast_op,
)
from .op_kernels.reductions import (
    matrix_column_norm_op,
    matrix_mean_op,
    matrix_norm_op,
    matrix_row_mean_op,
    matrix_row_norm_op,
    matrix_row_st_dev_op,
    matrix_st_dev_op,
    vector_inner_product_op,
    vector_mean_op,
    vector_norm_op,
    vector_st_dev_op,
)
from .ops import Op


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def run_op(op, mem, a, b, c, F, dd, row, rng, tv, tm):
    """Run op `op` (see `op_kernels` for the arguments)."""
    if op == Op.NO_OP:
        no_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_SUM_OP:
        scalar_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_DIFF_OP:
        scalar_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_PRODUCT_OP:
        scalar_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_DIVISION_OP:
        scalar_division_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_ABS_OP:
        scalar_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_RECIPROCAL_OP:
        scalar_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_SIN_OP:
        scalar_sin_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_COS_OP:
        scalar_cos_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_TAN_OP:
        scalar_tan_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_ARCSIN_OP:
        scalar_arcsin_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_ARCCOS_OP:
        scalar_arccos_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_ARCTAN_OP:
        scalar_arctan_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_EXP_OP:
        scalar_exp_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_LOG_OP:
        scalar_log_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_HEAVYSIDE_OP:
        scalar_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_HEAVYSIDE_OP:
        vector_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_HEAVYSIDE_OP:
        matrix_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_VECTOR_PRODUCT_OP:
        scalar_vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_BROADCAST_OP:
        scalar_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_RECIPROCAL_OP:
        vector_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_NORM_OP:
        vector_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_ABS_OP:
        vector_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_SUM_OP:
        vector_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_DIFF_OP:
        vector_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_PRODUCT_OP:
        vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_DIVISION_OP:
        vector_division_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_INNER_PRODUCT_OP:
        vector_inner_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_OUTER_PRODUCT_OP:
        vector_outer_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_MATRIX_PRODUCT_OP:
        scalar_matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_RECIPROCAL_OP:
        matrix_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_VECTOR_PRODUCT_OP:
        matrix_vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_COLUMN_BROADCAST_OP:
        vector_column_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_ROW_BROADCAST_OP:
        vector_row_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_NORM_OP:
        matrix_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_COLUMN_NORM_OP:
        matrix_column_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_ROW_NORM_OP:
        matrix_row_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_TRANSPOSE_OP:
        matrix_transpose_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_ABS_OP:
        matrix_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_SUM_OP:
        matrix_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_DIFF_OP:
        matrix_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_PRODUCT_OP:
        matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_DIVISION_OP:
        matrix_division_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_MATRIX_PRODUCT_OP:
        matrix_matrix_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_MIN_OP:
        scalar_min_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_MIN_OP:
        vector_min_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_MIN_OP:
        matrix_min_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_MAX_OP:
        scalar_max_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_MAX_OP:
        vector_max_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_MAX_OP:
        matrix_max_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_MEAN_OP:
        vector_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_MEAN_OP:
        matrix_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_ROW_MEAN_OP:
        matrix_row_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_ROW_ST_DEV_OP:
        matrix_row_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_ST_DEV_OP:
        vector_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_ST_DEV_OP:
        matrix_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_CONST_SET_OP:
        scalar_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_CONST_SET_OP:
        vector_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_CONST_SET_OP:
        matrix_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_UNIFORM_SET_OP:
        scalar_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_UNIFORM_SET_OP:
        vector_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_UNIFORM_SET_OP:
        matrix_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_GAUSSIAN_SET_OP:
        scalar_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_GAUSSIAN_SET_OP:
        vector_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_GAUSSIAN_SET_OP:
        matrix_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)


@njit(cache=True, error_model="numpy", nogil=True, inline="always")
def run_op_without_matrices(op, mem, a, b, c, F, dd, row, rng, tv, tm):
    """`run_op` for the ops with no matrix operand (`ops.MATRIX_OPERAND`); any other op
    does nothing: only for programs without one."""
    if op == Op.NO_OP:
        no_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_SUM_OP:
        scalar_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_DIFF_OP:
        scalar_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_PRODUCT_OP:
        scalar_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_DIVISION_OP:
        scalar_division_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_ABS_OP:
        scalar_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_RECIPROCAL_OP:
        scalar_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_SIN_OP:
        scalar_sin_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_COS_OP:
        scalar_cos_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_TAN_OP:
        scalar_tan_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_ARCSIN_OP:
        scalar_arcsin_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_ARCCOS_OP:
        scalar_arccos_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_ARCTAN_OP:
        scalar_arctan_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_EXP_OP:
        scalar_exp_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_LOG_OP:
        scalar_log_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_HEAVYSIDE_OP:
        scalar_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_HEAVYSIDE_OP:
        vector_heavyside_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_HEAVYSIDE_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.SCALAR_VECTOR_PRODUCT_OP:
        scalar_vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.SCALAR_BROADCAST_OP:
        scalar_broadcast_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_RECIPROCAL_OP:
        vector_reciprocal_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_NORM_OP:
        vector_norm_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_ABS_OP:
        vector_abs_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_SUM_OP:
        vector_sum_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_DIFF_OP:
        vector_diff_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_PRODUCT_OP:
        vector_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_DIVISION_OP:
        vector_division_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_INNER_PRODUCT_OP:
        vector_inner_product_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_OUTER_PRODUCT_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.SCALAR_MATRIX_PRODUCT_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_RECIPROCAL_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_VECTOR_PRODUCT_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.VECTOR_COLUMN_BROADCAST_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.VECTOR_ROW_BROADCAST_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_NORM_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_COLUMN_NORM_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_ROW_NORM_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_TRANSPOSE_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_ABS_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_SUM_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_DIFF_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_PRODUCT_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_DIVISION_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_MATRIX_PRODUCT_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.SCALAR_MIN_OP:
        scalar_min_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_MIN_OP:
        vector_min_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_MIN_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.SCALAR_MAX_OP:
        scalar_max_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_MAX_OP:
        vector_max_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_MAX_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.VECTOR_MEAN_OP:
        vector_mean_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_MEAN_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_ROW_MEAN_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.MATRIX_ROW_ST_DEV_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.VECTOR_ST_DEV_OP:
        vector_st_dev_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_ST_DEV_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.SCALAR_CONST_SET_OP:
        scalar_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_CONST_SET_OP:
        vector_const_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_CONST_SET_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.SCALAR_UNIFORM_SET_OP:
        scalar_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_UNIFORM_SET_OP:
        vector_uniform_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_UNIFORM_SET_OP:  # noqa: SIM114 (one case per op)
        pass
    elif op == Op.SCALAR_GAUSSIAN_SET_OP:
        scalar_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.VECTOR_GAUSSIAN_SET_OP:
        vector_gaussian_set_op(mem, a, b, c, F, dd, row, rng, tv, tm)
    elif op == Op.MATRIX_GAUSSIAN_SET_OP:  # noqa: SIM114 (one case per op)
        pass
