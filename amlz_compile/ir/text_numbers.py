"""Numbers in the text and JSON forms of programs: printed so that parsing gives back the same bits.

* `act` (float64) prints as Python's shortest repr (`0.01`, `1e-10`, `-0.0`);
* `f0..f2` hold float32 values and print as the shortest float32 decimal (`0.1`, not
  `0.10000000149011612`), in the same notation;
* `inf`, `-inf`, `nan` (the default quiet NaN) and `-nan` (the same with its sign bit set) print as
  words; any other NaN prints its float64 bit pattern, `nan(0x7ff8000000000001)`.

Parsing also accepts the reference's own printouts (6 significant digits, `-nan`).
"""

from __future__ import annotations

import math
import re
import struct

import numpy as np

_QNAN_BITS = 0x7FF8000000000000
_NEG_QNAN_BITS = 0xFFF8000000000000
_NUMBER = re.compile(
    r"[+-]?(?:nan\(0x[0-9a-f]{16}\)|nan|inf(?:inity)?|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)",
    re.IGNORECASE,
)


def _bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def _from_bits(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def _format_nan(x: float) -> str:
    bits = _bits(x)
    if bits == _QNAN_BITS:
        return "nan"
    if bits == _NEG_QNAN_BITS:
        return "-nan"
    return f"nan(0x{bits:016x})"


def format_float64(x: float) -> str:
    """Shortest text that parses back to exactly `x` (Python repr; NaNs as described above)."""
    x = float(x)
    return _format_nan(x) if math.isnan(x) else repr(x)


def _f32_bits_equal(a: float, b: float) -> bool:
    return np.float32(a).tobytes() == np.float32(b).tobytes()


def format_float32(x: float) -> str:
    """Shortest text that parses back to the float32 value `x` (same notation as float64)."""
    x = float(x)
    if math.isnan(x):
        return _format_nan(x)
    text = repr(float(str(np.float32(x))))  # float32-shortest digits, Python's notation
    return text if _f32_bits_equal(float(text), x) else repr(x)


def parse_number(token: str) -> float:
    """Parse one number of the text form (also the C++ printout); ValueError when malformed."""
    tok = token.strip()
    if not _NUMBER.fullmatch(tok):
        raise ValueError(f"malformed number {token!r}")
    low = tok.lower()
    sign = -1.0 if low.startswith("-") else 1.0
    body = low.lstrip("+-")
    if body.startswith("nan("):
        value = _from_bits(int(body[4:-1], 16))
        if not math.isnan(value):
            raise ValueError(f"nan(...) bit pattern {body[4:-1]} is not a NaN")
        return -value if sign < 0 else value
    if body == "nan":
        return _from_bits(_NEG_QNAN_BITS if sign < 0 else _QNAN_BITS)
    return float(tok)
