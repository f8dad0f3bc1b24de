"""What an algorithm is: the op table, instructions, programs, and their text and JSON forms."""

from .ops import OPS, NUM_OPS, Op, OpInfo, op_by_name, op_info
from .program import (
    COMPONENTS,
    MemorySpec,
    Instruction,
    NO_OP,
    Program,
    ProgramError,
)

__all__ = [
    "COMPONENTS",
    "NO_OP",
    "NUM_OPS",
    "OPS",
    "Instruction",
    "MemorySpec",
    "Op",
    "OpInfo",
    "Program",
    "ProgramError",
    "op_by_name",
    "op_info",
]
