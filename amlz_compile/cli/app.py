"""The Typer app of the `amlz` command: the root options (--version, --memory-limit), the
commands (`run_commands`, `program_commands`, `eval_command`) and the console entry `main`."""

from __future__ import annotations

import os
import warnings
from typing import Annotated, Any

import typer

from .. import __version__
from ..limits import ENV_VAR, parse_size
from .eval_command import eval_
from .program_commands import bench, export, show, tasks_, verify
from .reporting import user_errors, warning_line
from .run_commands import evolve, presets, resume

app = typer.Typer(
    name="amlz",
    help="AutoML-Zero in Python: evolve ML algorithms, simplify, JIT-compile and export them.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"amlz-compile {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="Refuse work estimated to need more memory than this (e.g. 16G; default: "
            f"half the physical memory, or ${ENV_VAR}).",
        ),
    ] = None,
) -> None:
    """AutoML-Zero in Python: evolve ML algorithms, simplify, JIT-compile and export them."""
    warnings.showwarning = warning_line
    if memory_limit is not None:
        with user_errors():
            parse_size(memory_limit)
        os.environ[ENV_VAR] = memory_limit  # worker processes read it too


app.command()(evolve)
app.command()(resume)
app.command()(presets)
app.command()(show)
app.command()(export)
app.command()(verify)
app.command(name="eval")(eval_)
app.command()(bench)
app.command(name="tasks")(tasks_)


def _click_exceptions() -> Any:
    """Click's exception module: typer vendors its own copy of click in recent versions."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions


def main(argv: list[str] | None = None) -> None:
    """Console entry point `amlz`: usage errors too end in one `error:` line and exit 1."""
    click = _click_exceptions()
    try:
        code = app(args=argv, prog_name="amlz", standalone_mode=False)
    except click.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        code = 0
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        typer.echo(f"error: {exc.format_message()}{hint}", err=True)
        code = 1
    except typer.Abort:  # typer's own class: recent typer vendors click without `Abort`
        typer.echo("interrupted", err=True)
        code = 130
    except typer.Exit as exc:
        code = exc.exit_code
    if isinstance(code, int) and code:
        raise SystemExit(code)
