"""The `amlz` command line (Typer): evolve, resume, show, eval, export, verify, bench, tasks.

This package is the only code that knows about the terminal. It imports nothing heavy at
start-up (numba, llvmlite and the search load inside the commands that need them), so
`amlz --help` is fast. Every error a user can cause, bad usage included, ends with one
`error: ...` line and exit status 1, never a traceback; set AMLZ_DEBUG=1 to see tracebacks.
`main` is the console entry point `amlz`.
"""

from .app import app, main

__all__ = ["app", "main"]
