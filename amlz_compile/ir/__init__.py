"""What an algorithm is: the op table, instructions, programs, and their text and JSON forms."""

from .ops import NUM_OPS, OPS, Op, OpInfo, op_by_name, op_info
from .parse_error import ParseError
from .program import (
    COMPONENTS,
    NO_OP,
    Instruction,
    MemorySpec,
    Program,
    ProgramError,
)
from .serialize import (
    dumps,
    load_program,
    load_program_meta,
    loads,
    loads_meta,
    program_from_dict,
    program_to_dict,
    read_dict,
    save_program,
)
from .text import format_program, parse_program, parse_program_meta
from .text_instruction import format_instruction, parse_instruction

__all__ = [
    "COMPONENTS",
    "NO_OP",
    "NUM_OPS",
    "OPS",
    "Instruction",
    "MemorySpec",
    "Op",
    "OpInfo",
    "ParseError",
    "Program",
    "ProgramError",
    "dumps",
    "format_instruction",
    "format_program",
    "load_program",
    "load_program_meta",
    "loads",
    "loads_meta",
    "op_by_name",
    "op_info",
    "parse_instruction",
    "parse_program",
    "parse_program_meta",
    "program_from_dict",
    "program_to_dict",
    "read_dict",
    "save_program",
]
