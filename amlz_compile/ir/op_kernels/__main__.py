"""`python -m amlz_compile.ir.op_kernels`: rewrite ir/op_dispatch.py from the op table."""

from pathlib import Path

from . import dispatch_source

Path(__file__).resolve().parents[1].joinpath("op_dispatch.py").write_text(
    dispatch_source(), encoding="utf-8"
)
