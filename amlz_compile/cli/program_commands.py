"""The commands on one algorithm (`show`, `export`, `verify`; an algorithm is a file, a run
directory or a built-in name: `load_algorithm`) and the listings (`bench`, `tasks`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import UsageError
from .choices import BackendChoice, ShowFormat
from .reporting import user_errors
from .task_options import TaskOptions, with_task_options


def load_algorithm(spec: str) -> tuple[Any, dict]:
    """(program, metadata) from a text/JSON file, a run directory (its best.json) or the name
    of a built-in algorithm (`linear`, `neural_net`, ...)."""
    from ..ir.serialize import load_program_meta

    path = Path(spec)
    if path.is_dir():
        best = path / "best.json"
        if not best.is_file():
            raise UsageError(f"{path} is a directory without best.json (not a run directory)")
        path = best
    if path.is_file():
        return load_program_meta(path)
    from ..algorithms import builtin_meta, builtin_names, load_builtin

    name = spec.strip().removeprefix("builtin:")
    key = name.lower().replace("-", "_")
    if key in builtin_names():
        return load_builtin(key), {**builtin_meta(key), "source": f"builtin:{key}"}
    raise UsageError(
        f"no algorithm file {spec!r} (give a .txt/.json file, a run directory, or a built-in: "
        f"{', '.join(builtin_names())})"
    )


@with_task_options
def show(
    algo: Annotated[
        str, typer.Argument(help="Algorithm file (text or JSON), run directory or built-in name.")
    ],
    simplify: Annotated[bool, typer.Option("--simplify", help="Simplify first.")] = False,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="Output form.")] = (
        ShowFormat.text
    ),
    effective: Annotated[
        bool,
        typer.Option(
            "--effective",
            help="The effective program on --tasks (APPROXIMATE: never-written memory as 0, "
            "x - x as 0, instructions without effect on the fitness dropped).",
        ),
    ] = False,
    tasks: Annotated[
        list[str] | None,
        typer.Option(
            "--tasks",
            "-t",
            help="With --effective: a task kind or a JSON/TOML task file, as amlz eval takes "
            "(repeat for more).",
        ),
    ] = None,  # fmt: skip
    tolerance: Annotated[
        float, typer.Option(help="With --effective: the fitness change a drop may cause.")
    ] = 1e-9,
    against: Annotated[
        str | None,
        typer.Option(help="With --effective: the starting program of the diff (default: empty)."),
    ] = None,
    task_options: TaskOptions = TaskOptions(),
    backend: Annotated[BackendChoice, typer.Option(help="Evaluation backend.")] = (
        BackendChoice.interp
    ),
    as_json: Annotated[
        bool, typer.Option("--json", help="With --effective: one JSON object on stdout.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="With --effective: also write the view (.json: JSON, else text)."
        ),
    ] = None,
) -> None:
    """Print an algorithm (readable text, NumPy code or JSON), or its effective program."""
    with user_errors():
        program, meta = load_algorithm(algo)
        if effective:
            if simplify or fmt is not ShowFormat.text:
                raise UsageError("--effective prints its own form: drop --simplify/--format")
            show_effective(program, tasks or [], task_options, tolerance=tolerance,
                           against=against, backend=backend.value, as_json=as_json,
                           out=out)  # fmt: skip
            return
        given = [k for k, v in {"--tasks": tasks, "--against": against, "--json": as_json,
                                "--out": out}.items() if v]  # fmt: skip
        given += task_options.given()
        changed = {"--tolerance": tolerance != 1e-9,
                   "--backend": backend is not BackendChoice.interp}  # fmt: skip
        given += [name for name, differs in changed.items() if differs]
        if given:
            raise UsageError(f"{', '.join(given)}: only with --effective")
        if simplify:
            from ..passes import simplify_program

            before = len(program)
            program = simplify_program(program)
            meta = {**meta, "simplified_from": before}
        if fmt is ShowFormat.text:
            from ..ir.text import format_program

            typer.echo(format_program(program, meta).rstrip())
        elif fmt is ShowFormat.json:
            from ..ir.serialize import dumps

            typer.echo(dumps(program, meta).rstrip())
        else:
            from ..backends.numpy_export import render_component
            from ..ir.program import COMPONENTS

            typer.echo("\n\n".join(render_component(program, c).rstrip() for c in COMPONENTS))


def show_effective(
    program, tasks: list[str], task_options: TaskOptions, *, tolerance: float,
    against: str | None, backend: str, as_json: bool, out: Path | None,
) -> None:  # fmt: skip
    """`amlz show ALGO --effective`: the view of `effective.effective_program`, printed (text
    and diff, or JSON) and optionally written to `out`."""
    from ..effective import effective_program
    from ..tasks.spec_input import task_specs

    if not tasks:
        raise UsageError("--effective needs --tasks (a task kind or a task file, as amlz eval)")
    if out is not None and out.parent.exists() and not out.parent.is_dir():
        raise UsageError(f"{out.parent} is not a directory")
    specs = [spec for t in tasks for spec in task_specs(t, **task_options.spec_options())]
    start, label = None, None
    if against is not None:
        start, start_meta = load_algorithm(against)
        label = start_meta.get("source") or against
    view = effective_program(
        program, specs, tolerance, against=start, against_label=label, seed=task_options.seed,
        backend=backend, combination=task_options.combination,
        max_abs_error=task_options.max_abs_error,
    )  # fmt: skip
    doc = {**view.to_dict(), "task_specs": specs}
    text = view.text + "\n" + (view.diff or f"(no difference from {view.against})\n")
    if out is not None:
        from ..atomic import atomic_write_text

        body = json.dumps(doc, indent=1) + "\n" if out.suffix.lower() == ".json" else text
        atomic_write_text(out, body)
        typer.echo(f"wrote {out}", err=True)
    typer.echo(json.dumps(doc) if as_json else text.rstrip())


def export(
    algo: Annotated[str, typer.Argument(help="Algorithm file, run directory or built-in name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The .py file to write.")],
    no_simplify: Annotated[
        bool, typer.Option("--no-simplify", help="Export the program as is.")
    ] = False,
    features: Annotated[
        int, typer.Option(help="Feature size of the embedded self-test (any F works at fit).")
    ] = 4,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
    parents: Annotated[
        bool, typer.Option("--parents", help="Create missing parent directories (mkdir -p).")
    ] = False,
) -> None:
    """Write the algorithm as one standalone .py file that needs only NumPy, then verify it."""
    with user_errors():
        from ..export import export_algorithm, verify_file
        from ..export.write import check_self_test_features

        if output.suffix != ".py":
            raise UsageError(f"the output must be a .py file, got {output}")
        if output.parent.exists() and not output.parent.is_dir():
            raise UsageError(f"{output.parent} is not a directory")
        if not output.parent.exists() and not parents:
            raise UsageError(f"the directory {output.parent} does not exist; --parents creates it")
        if output.exists() and not force:
            raise UsageError(f"{output} exists; use --force to overwrite it")
        check_self_test_features(features)
        program, meta = load_algorithm(algo)
        keep = ("fitness", "search_fitness", "select_fitness", "final_fitness", "seed", "run",
                "label", "experiment", "name", "source", "description")  # fmt: skip
        info = {k: meta[k] for k in keep if k in meta}
        info["source_file"] = algo
        path = export_algorithm(
            program,
            output,
            metadata=info,
            simplify=not no_simplify,
            features=features,
            parents=parents,
        )
        result = verify_file(path)
        if not result.ok:
            raise UsageError(f"wrote {path}, but its self-test fails: {result.message}")
        typer.echo(f"wrote {path} ({result.message}); try: python {path}")


def verify(
    file: Annotated[Path, typer.Argument(help="An exported .py file.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Check that an exported module's code computes the algorithm it embeds (exit 1 if not).

    The file is read as data; its code runs only in a separate Python process, as running any
    .py file does, and its outputs are compared with the interpreter's.
    """
    with user_errors():
        from ..export import verify_file

        result = verify_file(file)
        if as_json:
            typer.echo(json.dumps({"ok": result.ok, "cases": result.cases,
                                   "format_version": result.format_version,
                                   "message": result.message}))  # fmt: skip
        else:
            typer.echo(("ok: " if result.ok else "FAILED: ") + result.message)
        if not result.ok:
            raise typer.Exit(1)


def bench(
    only: Annotated[
        str | None, typer.Option(help="Comma-separated benchmark keys (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    list_keys: Annotated[bool, typer.Option("--list", help="List the keys and exit.")] = False,
) -> None:
    """Measure throughput and latency (what `python -m amlz_compile.bench` prints)."""
    with user_errors():
        from .. import bench as bench_mod

        if list_keys:
            bench_mod.discover()
            typer.echo("\n".join(sorted(bench_mod.BENCHMARKS)))
            return
        keys = [k.strip() for k in (only or "").split(",") if k.strip()] or None
        if keys:
            bench_mod.discover()
            unknown = [k for k in keys if k not in bench_mod.BENCHMARKS]
            if unknown:
                raise UsageError(
                    f"unknown benchmark key(s) {unknown}; known: {sorted(bench_mod.BENCHMARKS)}"
                )
        results = bench_mod.run(keys)
        if as_json:
            typer.echo(json.dumps(results))
            return
        width = max((len(k) for k in results), default=10)
        for key, value in results.items():
            typer.echo(f"{key:{width}s}  {value}")


def tasks_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """The task kinds and data sources, with what each needs."""
    with user_errors():
        from ..tasks import describe_task_kinds

        info = describe_task_kinds()
        if as_json:
            typer.echo(json.dumps(info))
            return
        typer.echo('Task kinds (amlz eval --tasks KIND, or "kind" in a task spec):\n')
        for k in info["kinds"]:
            typer.echo(f"  {k['name']}  [{k['eval_type']}]")
            typer.echo(f"      {k['summary']}")
            typer.echo(f"      needs: {k['needs']}")
            if k.get("aliases"):
                typer.echo(f"      aliases: {k['aliases']}")
        typer.echo('\nData sources for projected_binary ("dataset", with "path" for files):\n')
        for s in info["sources"]:
            typer.echo(f"  {s['name']}")
            typer.echo(f"      {s['summary']}")
            typer.echo(f"      needs: {s['needs']}")
