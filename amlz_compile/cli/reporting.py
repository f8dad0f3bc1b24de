"""How errors and warnings reach the terminal: every error a user can cause ends with one
`error: ...` line and exit status 1, never a traceback (AMLZ_DEBUG=1 shows tracebacks);
warnings are one `warning: ...` line each."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import typer

from ..errors import AmlzError


def _user_error_types() -> tuple[type[BaseException], ...]:
    """Exception types that mean "the user gave something wrong": the project's own errors and
    the operating system's (a missing file, a full disk, a read-only directory)."""
    return (AmlzError, OSError)


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}"
    text = str(exc).strip() or type(exc).__name__
    return text


def debug_enabled() -> bool:
    """Whether AMLZ_DEBUG asks for tracebacks: set and not empty, `0`, `false`, `no` or `off`."""
    value = os.environ.get("AMLZ_DEBUG", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn user errors into `error: ...` and exit 1; KeyboardInterrupt into exit 130."""
    try:
        yield
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:
        if debug_enabled():
            raise
        if isinstance(exc, _user_error_types()):
            typer.echo(f"error: {_message(exc)}", err=True)
        else:
            typer.echo(
                f"error: internal error ({type(exc).__name__}: {_message(exc)}); "
                "set AMLZ_DEBUG=1 for the traceback",
                err=True,
            )
        raise typer.Exit(1) from None


def warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (a checkpoint fallback, a dataset note) as one `warning: ...` line on stderr."""
    typer.echo(f"warning: {message}", err=True)
