"""Initial models: NO_OP, RANDOM, LINEAR, NEURAL_NET and the damaged NN
(docs/semantics.md#initial-models).

Hard-coded models are padded with NO_OPs to the experiment's init sizes (never truncated).
RANDOM starts from the NO_OP model and is randomised by the compiled code with the search
stream (`mutate.random_rows`), so initialisation draws come in the reference's order.
"""

from __future__ import annotations

from ..ir.ops import Op
from ..ir.program import COMPONENTS, Program
from ..ir.program import Instruction as I  # noqa: N817
from .config import ConfigError, SearchConfig

NO_OP = I(Op.NO_OP)

# The memory each hard-coded model needs (scalars, vectors, matrices).
REQUIRED_MEMORY = {
    "no_op": (2, 1, 0),
    "random": (2, 1, 0),
    "linear": (4, 3, 0),
    "neural_net": (5, 9, 2),
    "damaged_neural_net": (5, 9, 2),
}


def _pad(instructions: list[I], size: int) -> list[I]:
    return list(instructions) + [NO_OP] * max(0, size - len(instructions))


def linear_algorithm(sizes: tuple[int, int, int] = (0, 0, 0), lr: float = 0.01) -> Program:
    """Reference LINEAR_ALGORITHM: s1 = dot(v1, v0); SGD on v1 with learning rate s2."""
    setup = [I(Op.SCALAR_CONST_SET_OP, out=2, act=lr)]
    predict = [I(Op.VECTOR_INNER_PRODUCT_OP, 1, 0, 1)]
    learn = [
        I(Op.SCALAR_DIFF_OP, 0, 1, 3),
        I(Op.SCALAR_PRODUCT_OP, 2, 3, 3),
        I(Op.SCALAR_VECTOR_PRODUCT_OP, 3, 0, 2),
        I(Op.VECTOR_SUM_OP, 1, 2, 1),
    ]
    return Program(_pad(setup, sizes[0]), _pad(predict, sizes[1]), _pad(learn, sizes[2]))


def neural_net_algorithm(
    sizes: tuple[int, int, int] = (0, 0, 0),
    lr: float = 0.01,
    first_init_scale: float = 0.1,
    final_init_scale: float = 0.1,
    damaged: bool = False,
) -> Program:
    """Reference NEURAL_NET_ALGORITHM (two layers, ReLU, backprop); `damaged` drops the two
    Gaussian initialisations (INTEGRATION_TEST_DAMAGED_NEURAL_NET_ALGORITHM)."""
    setup = [
        I(
            Op.VECTOR_GAUSSIAN_SET_OP, out=2, f0=0.0, f1=final_init_scale
        ),  # v2 = gaussian(0, final scale)
        I(
            Op.MATRIX_GAUSSIAN_SET_OP, out=0, f0=0.0, f1=first_init_scale
        ),  # m0 = gaussian(0, first scale)
        I(Op.SCALAR_CONST_SET_OP, out=3, act=lr),  # s3 = lr
    ]
    if damaged:
        setup = setup[2:]
    predict = [
        I(Op.MATRIX_VECTOR_PRODUCT_OP, 0, 0, 3),  # v3 = dot(m0, v0)
        I(Op.VECTOR_SUM_OP, 3, 1, 3),  # v3 = v3 + v1
        I(Op.VECTOR_MAX_OP, 3, 5, 4),  # v4 = maximum(v3, v5)
        I(Op.VECTOR_INNER_PRODUCT_OP, 4, 2, 1),  # s1 = dot(v4, v2)
        I(Op.SCALAR_SUM_OP, 1, 2, 1),  # s1 = s1 + s2
    ]
    learn = [
        I(Op.SCALAR_DIFF_OP, 0, 1, 4),  # s4 = s0 - s1
        I(Op.SCALAR_PRODUCT_OP, 3, 4, 4),  # s4 = s3 * s4
        I(Op.SCALAR_SUM_OP, 2, 4, 2),  # s2 = s2 + s4
        I(Op.SCALAR_VECTOR_PRODUCT_OP, 4, 4, 6),  # v6 = s4 * v4
        I(Op.VECTOR_SUM_OP, 2, 6, 2),  # v2 = v2 + v6
        I(Op.SCALAR_VECTOR_PRODUCT_OP, 4, 2, 7),  # v7 = s4 * v2
        I(Op.VECTOR_HEAVYSIDE_OP, 3, 0, 8),  # v8 = heaviside(v3)
        I(Op.VECTOR_PRODUCT_OP, 8, 7, 7),  # v7 = v8 * v7
        I(Op.VECTOR_SUM_OP, 1, 7, 1),  # v1 = v1 + v7
        I(Op.VECTOR_OUTER_PRODUCT_OP, 7, 0, 1),  # m1 = outer(v7, v0)
        I(Op.MATRIX_SUM_OP, 0, 1, 0),  # m0 = m0 + m1
    ]
    return Program(_pad(setup, sizes[0]), _pad(predict, sizes[1]), _pad(learn, sizes[2]))


def no_op_algorithm(sizes: tuple[int, int, int] = (0, 0, 0)) -> Program:
    """Reference NO_OP_ALGORITHM: each component holds its init size of NO_OPs."""
    return Program([NO_OP] * sizes[0], [NO_OP] * sizes[1], [NO_OP] * sizes[2])


def model_by_name(name: str, sizes: tuple[int, int, int] = (0, 0, 0)) -> Program:
    """A hard-coded model padded to `sizes` ("random" gives the NO_OP start it is built from)."""
    if name in ("no_op", "random"):
        return no_op_algorithm(sizes)
    if name == "linear":
        return linear_algorithm(sizes)
    if name == "neural_net":
        return neural_net_algorithm(sizes)
    if name == "damaged_neural_net":
        return neural_net_algorithm(sizes, damaged=True)
    raise ConfigError(f"unknown initial model {name!r}")


def initial_template(config: SearchConfig) -> Program:
    """The program every slot starts from before (for RANDOM) randomisation: the config's
    `initial_program` when it has one, else its built-in initial population."""
    if config.initial_program is not None:
        return _from_document(config)
    name = config.initial_population
    need = REQUIRED_MEMORY[name]
    m = config.memory
    if any(a < b for a, b in zip((m.scalars, m.vectors, m.matrices), need, strict=True)):
        raise ConfigError(
            f"initial_population {name!r} needs memory of at least {need[0]} scalars, "
            f"{need[1]} vectors, {need[2]} matrices (config has {m.scalars}/{m.vectors}/"
            f"{m.matrices})"
        )
    program = model_by_name(name, config.init_sizes)
    program.check_fits(m.with_features(1))
    return program


def _from_document(config: SearchConfig) -> Program:
    """The config's initial_program, padded with NO_OPs to the init sizes, checked against the
    config's memory."""
    from ..ir.program import ProgramError
    from ..ir.serialize import program_from_dict

    program = program_from_dict(config.initial_program)
    sizes = config.init_sizes
    parts = [_pad(list(program.component(n)), k) for n, k in zip(COMPONENTS, sizes,
                                                                   strict=True)]  # fmt: skip
    program = Program(*parts)
    try:
        program.check_fits(config.memory.with_features(1))
    except ProgramError as exc:
        raise ConfigError(f"initial_program does not fit the config's memory: {exc}") from None
    return program
