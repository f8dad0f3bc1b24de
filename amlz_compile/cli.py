"""The `amlz` command line (Typer): evolve, resume, show, eval, export, verify, bench, tasks.

This is the only module that knows about the terminal. It imports nothing heavy at start-up
(numba, llvmlite and the search load inside the commands that need them), so `amlz --help` is
fast. Every error a user can cause, bad usage included, ends with one `error: ...` line and exit
status 1, never a traceback; set AMLZ_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .errors import AmlzError, UsageError
from .limits import ENV_VAR, parse_size

app = typer.Typer(
    name="amlz",
    help="AutoML-Zero in Python: evolve ML algorithms, simplify, JIT-compile and export them.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class BackendChoice(StrEnum):
    auto = "auto"
    interp = "interp"
    jit = "jit"


class ShowFormat(StrEnum):
    text = "text"
    python = "python"
    json = "json"


class Flow(StrEnum):
    reference = "reference"
    fast = "fast"


# -- errors -----------------------------------------------------------------------------------


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
def _errors() -> Iterator[None]:
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


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (a checkpoint fallback, a dataset note) as one `warning: ...` line on stderr."""
    typer.echo(f"warning: {message}", err=True)


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
    warnings.showwarning = _warning_line
    if memory_limit is not None:
        with _errors():
            parse_size(memory_limit)
        os.environ[ENV_VAR] = memory_limit  # worker processes read it too


# -- algorithm files --------------------------------------------------------------------------


def load_algorithm(spec: str) -> tuple[Any, dict]:
    """(program, metadata) from a text/JSON file, a run directory (its best.json) or the name
    of a built-in algorithm (`linear`, `neural_net`, ...)."""
    from .ir.serialize import load_program_meta

    path = Path(spec)
    if path.is_dir():
        best = path / "best.json"
        if not best.is_file():
            raise UsageError(f"{path} is a directory without best.json (not a run directory)")
        path = best
    if path.is_file():
        return load_program_meta(path)
    from .algorithms import builtin_meta, builtin_names, load_builtin

    name = spec.strip().removeprefix("builtin:")
    key = name.lower().replace("-", "_")
    if key in builtin_names():
        return load_builtin(key), {**builtin_meta(key), "source": f"builtin:{key}"}
    raise UsageError(
        f"no algorithm file {spec!r} (give a .txt/.json file, a run directory, or a built-in: "
        f"{', '.join(builtin_names())})"
    )


# -- evolve / resume --------------------------------------------------------------------------


def _parse_value(raw: str) -> Any:
    """A --set value: JSON when it parses (numbers, true/false/null, lists, objects), else text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw
    except RecursionError:
        from .search.config import ConfigError

        raise ConfigError(f"--set value nested too deeply: {raw[:40]}...") from None


def apply_setting(config: dict, assignment: str) -> None:
    """Apply `key=value` to an experiment config dict.

    Keys are dotted paths (`search.population_size`, `search.fec.num_train_examples`,
    `search.search_tasks.0.num_train`); a bare search-config field (`population_size`) means
    `search.<field>`. Unknown keys are reported when the config is validated.
    """
    from .search.config import ConfigError, SearchConfig

    if "=" not in assignment:
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    key, raw = assignment.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    parts = key.split(".")
    fields = {f for f in SearchConfig.__dataclass_fields__}
    if parts[0] not in config and parts[0] in fields:
        parts = ["search", *parts]
    target: Any = config
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(target, list):
            if not part.isdigit() or int(part) >= len(target):
                raise ConfigError(f"--set {key}: {where} is not an index of a {len(target)}-list")
            target = target[int(part)]
        elif isinstance(target, dict):
            if target.get(part) is None:
                target[part] = {}
            target = target[part]
        else:
            raise ConfigError(f"--set {key}: {where} is not a mapping")
    last = parts[-1]
    value = _parse_value(raw)
    if isinstance(target, list):
        if not last.isdigit() or int(last) >= len(target):
            raise ConfigError(f"--set {key}: {last} is not an index of a {len(target)}-list")
        target[int(last)] = value
    elif isinstance(target, dict):
        target[last] = value
    else:
        raise ConfigError(f"--set {key}: cannot set a field of {type(target).__name__}")


def build_config(
    preset: str | None,
    config_file: Path | None,
    settings: list[str],
    named: dict[str, Any],
) -> tuple[Any, str]:
    """The validated ExperimentConfig from a preset or file plus overrides, and its label."""
    from .search.config import ConfigError
    from .search.experiment_config import ExperimentConfig, load_config
    from .search.presets import get_preset

    if preset and config_file:
        raise ConfigError("give either --preset or --config, not both")
    if config_file is not None:
        base = load_config(str(config_file)).to_dict()
        label = base.get("name") or config_file.stem
    else:
        base = get_preset(preset or "demo")
        label = base.get("name") or preset or "demo"
    for key, value in named.items():
        if value is not None:
            apply_setting(base, f"{key}={json.dumps(value)}")
    for assignment in settings:
        apply_setting(base, assignment)
    return ExperimentConfig.from_dict(base), str(label)


def build_data_config(
    data: Path,
    target: str | None,
    task: str,
    seed: int,
    preset: str | None,
    config_file: Path | None,
    settings: list[str],
    named: dict[str, Any],
) -> tuple[Any, str]:
    """The ExperimentConfig for `evolve --data`: search, select and final tasks from the file,
    then the same overrides as `build_config`."""
    from .search.config import ConfigError
    from .search.data_config import data_file_config
    from .search.experiment_config import ExperimentConfig

    if preset or config_file:
        raise ConfigError("--data makes its own experiment: give it without --preset/--config "
                          "and adjust it with --set")  # fmt: skip
    base, _ = data_file_config(str(data), target=target, problem=task, seed=seed)
    for key, value in named.items():
        if value is not None:
            apply_setting(base, f"{key}={json.dumps(value)}")
    for assignment in settings:
        apply_setting(base, assignment)
    return ExperimentConfig.from_dict(base), f"{base['name']}-{data.stem}"


def _display_mode(quiet: bool, as_json: bool) -> str:
    if quiet and as_json:
        raise UsageError("--quiet and --json exclude each other")
    if as_json:
        return "json"
    if quiet:
        return "quiet"
    return "rich" if sys.stdout.isatty() else "plain"


def _summary(run, result, mode: str) -> None:
    """Print the outcome: the discovered algorithm and where the files are."""
    from .cli_progress import print_json
    from .ir.text import format_program
    from .passes import simplify_program

    if mode == "json":
        print_json(
            {
                "kind": "result",
                "run_dir": str(run.path),
                "best": str(run / "best.txt") if result.best_program is not None else None,
                "stopped": result.stopped,
                "individuals": result.individuals,
                "elapsed": result.elapsed,
                "search_fitness": result.search_fitness,
                "select_fitness": result.select_fitness,
                "final_fitness": result.final_fitness,
                "final_metrics": result.final_metrics,
                "seed": result.seed,
            }
        )
        return
    out = sys.stdout
    if mode != "quiet":
        print(
            f"\nstopped: {result.stopped} after {result.individuals:,} individuals in "
            f"{result.elapsed:.1f} s (seed {result.seed})",
            file=out,
        )
    if result.best_program is None:
        print("no candidate was found (the run stopped before the first experiment ended)")
        return
    print(
        f"fitness: search {result.search_fitness:.6f}  select {result.select_fitness:.6f}  "
        f"final {result.final_fitness:.6f}"
        if result.final_fitness is not None
        else f"fitness: search {result.search_fitness}  select {result.select_fitness}",
        file=out,
    )
    if result.final_metrics:
        from .metrics import format_metrics

        print(f"final tasks:  {format_metrics(result.final_metrics)}", file=out)
    print("\nthe discovered algorithm (simplified):\n", file=out)
    print(format_program(simplify_program(result.best_program)).rstrip(), file=out)
    print(
        f"\nrun directory: {run.path}  (best.txt, best.json, hall_of_fame.json, progress.jsonl)"
        f"\nexport it:     amlz export {run / 'best.json'} -o algorithm.py",
        file=out,
    )


def _run_with_display(run, mode: str, title: str, meta: dict, go) -> Any:
    from .cli_progress import Display, RunRecorder
    from .search.stopping import SearchInterrupted

    display = Display(mode)
    recorder = RunRecorder(run, display, meta)
    display.start(title)
    received: list[int] = []
    try:
        with _stop_on_signals(received):
            result = go(recorder)
    except KeyboardInterrupt as exc:
        display.stop()
        name = signal.Signals(received[0]).name if received else "SIGINT"
        if isinstance(exc, SearchInterrupted) and exc.checkpoint and exc.wrote:
            where = f"wrote a final checkpoint, {exc.checkpoint}"
        elif isinstance(exc, SearchInterrupted) and exc.checkpoint:
            where = f"the final evaluation was skipped; the checkpoint is {exc.checkpoint}"
        else:
            where = f"the last checkpoint is in {run.checkpoint_dir}"
        typer.echo(
            f"interrupted by {name}; {where} (continue with: amlz resume {run.path})", err=True
        )
        raise typer.Exit(128 + (received[0] if received else signal.SIGINT)) from None
    finally:
        display.stop()
        run.close()
    with contextlib.suppress(Exception):
        run.plot()
    return result


@contextlib.contextmanager
def _stop_on_signals(received: list[int]) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP ask the run to stop at its next epoch with a final checkpoint;
    a second signal stops at once (the last periodic checkpoint stays)."""
    from .search.stopping import request_stop

    def handler(signum, frame):
        received.append(signum)
        if len(received) > 1:
            raise KeyboardInterrupt
        request_stop()
        typer.echo(
            f"\n{signal.Signals(signum).name}: stopping after this epoch with a checkpoint "
            "(send it again to stop at once)",
            err=True,
        )

    names = ("SIGINT", "SIGTERM", "SIGHUP")
    sigs = [getattr(signal, n) for n in names if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in sigs}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _default_out(label: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{label}-{stamp}"


@app.command()
def evolve(
    preset: Annotated[
        str | None,
        typer.Option(
            "--preset",
            "-p",
            help="A preset: demo (default), linear, nonlinear, "
            "projected-binary, baseline (see `amlz presets`).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="An experiment config file (.json or .toml)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (default: the preset's, else time-based).")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", help="Stop after this many seconds.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes for the islands.")] = 1,
    islands: Annotated[int, typer.Option(help="Populations that migrate individuals.")] = 1,
    backend: Annotated[
        BackendChoice | None, typer.Option(help="Evaluation backend (default: the config's).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Run directory (default runs/NAME-TIME).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace the run files of a non-empty --out directory.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Progress and result as JSON lines on stdout.")
    ] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            "-s",
            help="Override any config field: key=value (JSON value), "
            "e.g. search.population_size=100 or max_experiments=2. Repeatable.",
        ),
    ] = None,
    population_size: Annotated[int | None, typer.Option(help="search.population_size")] = None,
    tournament_size: Annotated[int | None, typer.Option(help="search.tournament_size")] = None,
    mutate_prob: Annotated[float | None, typer.Option(help="search.mutate_prob")] = None,
    max_train_steps: Annotated[
        int | None, typer.Option(help="search.max_train_steps (budget per experiment)")
    ] = None,
    max_experiments: Annotated[
        int | None, typer.Option(help="Search experiments to run (0 = until solved).")
    ] = None,
    sufficient_fitness: Annotated[
        float | None, typer.Option(help="Stop once the select fitness is above this.")
    ] = None,
    max_individuals: Annotated[
        int | None, typer.Option(help="Stop after this many individuals in all.")
    ] = None,
    flow: Annotated[
        Flow,
        typer.Option(
            help="reference: the C++ driver; fast: dedup, early select, restart on stagnation."
        ),
    ] = Flow.reference,
    patience: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="fast flow: end an experiment after this many individuals without a 10% cut "
            "of its best error (default 100000; 0 = never).",
        ),
    ] = None,
    runner: Annotated[
        str, typer.Option(help="Where islands run: auto, local, process or ray.")
    ] = "auto",
    checkpoint_every: Annotated[float, typer.Option(help="Seconds between checkpoints.")] = 30.0,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="A .csv or .npz table: search, select and final tasks are all made from it.",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(help="--data: the target column, a header name or an index (default last)."),
    ] = None,
    task: Annotated[
        str,
        typer.Option(help="--data: regression, classification or auto (from the target)."),
    ] = "auto",
) -> None:
    """Evolve algorithms: a preset, a config file or a data file, run into a run directory."""
    with _errors():
        mode = _display_mode(quiet, as_json)
        named = {
            "search.population_size": population_size,
            "search.tournament_size": tournament_size,
            "search.mutate_prob": mutate_prob,
            "search.max_train_steps": max_train_steps,
            "max_experiments": max_experiments,
            "sufficient_fitness": sufficient_fitness,
        }
        if data is not None:
            if seed is None:
                seed = int(time.time_ns() % (1 << 31)) or 1
            cfg, label = build_data_config(data, target, task, seed, preset, config,
                                           settings or [], named)  # fmt: skip
        else:
            cfg, label = build_config(preset, config, settings or [], named)
        cfg = cfg.with_absolute_paths()  # the run directory's config works from anywhere
        from .search.data_config import mixed_data_note

        data_note = mixed_data_note(cfg)
        if data_note and mode != "json":
            typer.echo(f"note: {data_note}", err=True)
        if seed is None:
            seed = cfg.seed if cfg.seed else int(time.time_ns() % (1 << 31)) or 1
        from .rundir import RunDir
        from .search.experiment import run_search
        from .search.options import SearchOptions
        from .search.run import check_run_memory

        search_options = SearchOptions(  # checks the options before touching --out
            seed=seed,
            time_limit=time_limit,
            islands=islands,
            workers=workers,
            runner=runner,
            backend=backend.value if backend else None,
            flow=flow.value,
            max_individuals=max_individuals,
            checkpoint_every_s=checkpoint_every,
            patience=patience,
        )
        check_run_memory(cfg, islands)
        run = RunDir.create(out or _default_out(label), force=force)
        options = {
            "preset": preset,
            "config_file": str(config) if config else None,
            "seed": seed,
            "time_limit": time_limit,
            "workers": workers,
            "islands": islands,
            "backend": backend.value if backend else None,
            "flow": flow.value,
            "runner": runner,
            "max_individuals": max_individuals,
            "patience": patience,
        }
        run.write_json("config.json", cfg.to_dict())
        run.write_json(
            "run.json",
            {"amlz_version": __version__, "label": label, "argv": sys.argv[1:], **options},
        )
        meta = {"run": str(run.path), "label": label, "seed": seed}
        title = f"amlz evolve {label} (seed {seed}) -> {run.path}"

        def go(recorder):
            return run_search(
                cfg, search_options, checkpoint_dir=run.checkpoint_dir, on_event=recorder
            )

        result = _run_with_display(run, mode, title, meta, go)
        _summary(run, result, mode)
        if data_note and mode != "json":
            print(f"note: {data_note}")


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="The run directory to continue.")],
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            help="Stop after this many more seconds (default: the run's own time limit, "
            "counted in all).",
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    max_individuals: Annotated[
        int | None,
        typer.Option(
            help="Stop after this many individuals in all (default: the run's own limit)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines on stdout.")] = False,
    checkpoint_every: Annotated[float, typer.Option(help="Seconds between checkpoints.")] = 30.0,
    backend: Annotated[
        BackendChoice | None,
        typer.Option(
            help="Evaluation backend from now on (default: the run's); results are "
            "the same on every backend."
        ),
    ] = None,
) -> None:
    """Continue a run from its checkpoint, exactly where it stopped, to its own budget."""
    with _errors():
        mode = _display_mode(quiet, as_json)
        from .rundir import RunDir
        from .search.experiment import resume_search
        from .search.options import check_run_limits

        check_run_limits(time_limit, max_individuals, checkpoint_every)
        run = RunDir.open(run_dir)
        info = run.read_json("run.json")
        info = info if isinstance(info, dict) else {}
        label = info.get("label", run.path.name)
        runner = info.get("runner") or "auto"
        meta = {"run": str(run.path), "label": label, "seed": info.get("seed")}
        run.log({"kind": "resumed", "time": time.time(), "argv": sys.argv[1:]})

        def go(recorder):
            return resume_search(
                run.checkpoint_dir,
                time_limit=time_limit,
                max_individuals=max_individuals,
                workers=workers,
                runner=runner,
                checkpoint_every_s=checkpoint_every,
                on_event=recorder,
                backend=backend.value if backend else None,
                budget={k: info.get(k) for k in ("time_limit", "max_individuals")},
            )

        title = f"amlz resume {label} -> {run.path}"
        result = _run_with_display(run, mode, title, meta, go)
        _summary(run, result, mode)


@app.command()
def presets(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """List the presets `amlz evolve --preset` accepts."""
    with _errors():
        from .search.presets import get_preset, preset_names

        rows = []
        for name in preset_names():
            p = get_preset(name)
            rows.append({"name": name, "description": p.get("description", "")})
        if as_json:
            typer.echo(json.dumps(rows))
            return
        for row in rows:
            typer.echo(f"{row['name']:18s} {row['description']}")


# -- show / export / verify -------------------------------------------------------------------


@app.command()
def show(
    algo: Annotated[
        str, typer.Argument(help="Algorithm file (text or JSON), run directory or built-in name.")
    ],
    simplify: Annotated[bool, typer.Option("--simplify", help="Simplify first.")] = False,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="Output form.")] = (
        ShowFormat.text
    ),
) -> None:
    """Print an algorithm (readable text, NumPy code or JSON)."""
    with _errors():
        program, meta = load_algorithm(algo)
        if simplify:
            from .passes import simplify_program

            before = len(program)
            program = simplify_program(program)
            meta = {**meta, "simplified_from": before}
        if fmt is ShowFormat.text:
            from .ir.text import format_program

            typer.echo(format_program(program, meta).rstrip())
        elif fmt is ShowFormat.json:
            from .ir.serialize import dumps

            typer.echo(dumps(program, meta).rstrip())
        else:
            from .backends.numpy_export import render_component
            from .ir.program import COMPONENTS

            typer.echo("\n\n".join(render_component(program, c).rstrip() for c in COMPONENTS))


@app.command()
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
    with _errors():
        from .export import check_self_test_features, export_algorithm, verify_file

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


@app.command()
def verify(
    file: Annotated[Path, typer.Argument(help="An exported .py file.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Check that an exported module's code computes the algorithm it embeds (exit 1 if not).

    The file is read as data; its code runs only in a separate Python process, as running any
    .py file does, and its outputs are compared with the interpreter's.
    """
    with _errors():
        from .export import verify_file

        result = verify_file(file)
        if as_json:
            typer.echo(json.dumps({"ok": result.ok, "cases": result.cases,
                                   "format_version": result.format_version,
                                   "message": result.message}))  # fmt: skip
        else:
            typer.echo(("ok: " if result.ok else "FAILED: ") + result.message)
        if not result.ok:
            raise typer.Exit(1)


# -- eval -------------------------------------------------------------------------------------

_KIND_DEFAULTS = {
    "projected_binary": {"features": 16, "num_train": 200, "num_valid": 100},
}


def task_specs(
    tasks: str,
    *,
    features: int | None,
    num_tasks: int | None,
    train: int | None,
    valid: int | None,
    epochs: int | None,
    dataset: str | None,
    path: str | None,
    eval_type: str | None,
    data_seed: int | None,
) -> list[dict]:
    """Task spec dicts from a kind name (with options) or a JSON/TOML file of specs."""
    from .tasks import TaskError

    overrides = {
        "features": features,
        "num_tasks": num_tasks,
        "num_train": train,
        "num_valid": valid,
        "epochs": epochs,
        "dataset": dataset,
        "path": path,
        "eval_type": eval_type,
        "data_seeds": [data_seed] if data_seed is not None else None,
    }
    file = Path(tasks)
    if file.is_file() or file.suffix.lower() in (".json", ".toml"):
        if not file.is_file():
            raise TaskError(f"task file {file} does not exist")
        text = file.read_text(encoding="utf-8")
        try:
            if file.suffix.lower() == ".toml":
                import tomllib

                doc: Any = tomllib.loads(text)
            else:
                doc = json.loads(text)
        except ValueError as exc:
            raise TaskError(f"cannot parse task file {file}: {exc}") from exc
        except RecursionError:
            raise TaskError(f"cannot parse task file {file}: nested too deeply") from None
        if isinstance(doc, dict) and "tasks" in doc:
            doc = doc["tasks"]
        specs = [doc] if isinstance(doc, dict) else doc
        if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
            raise TaskError(f"{file} must hold a task spec, a list of them or {{'tasks': [...]}}")
        if not specs:
            raise TaskError(f"{file} holds no task specs (give at least one)")
        return [{**s, **{k: v for k, v in overrides.items() if v is not None}} for s in specs]
    kind = tasks.strip().lower().replace("-", "_")
    spec: dict[str, Any] = {"kind": kind, "features": 4, "num_train": 1000, "num_valid": 100,
                            "num_tasks": 10}  # fmt: skip
    if kind in ("projected_binary", "projected"):
        spec.update({"kind": "projected_binary", "features": 16, "num_train": 200,
                     "num_valid": 100, "num_tasks": 1, "dataset": "digits"})  # fmt: skip
    spec.update({k: v for k, v in overrides.items() if v is not None})
    return [spec]


@app.command(name="eval")
def eval_(
    algo: Annotated[str, typer.Argument(help="Algorithm file, run directory or built-in name.")],
    tasks: Annotated[
        str,
        typer.Option(
            "--tasks",
            "-t",
            help="A task kind (linear, affine, nonlinear, "
            "projected-binary, zeros, ones, increment, ...) or a JSON/TOML task file.",
        ),
    ],
    features: Annotated[int | None, typer.Option(help="Feature size F.")] = None,
    num_tasks: Annotated[int | None, typer.Option(help="Number of tasks.")] = None,
    train: Annotated[int | None, typer.Option(help="Training examples per task.")] = None,
    valid: Annotated[int | None, typer.Option(help="Validation examples per task.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the algorithm's random ops.")] = 0,
    data_seed: Annotated[
        int | None, typer.Option(help="First data seed of the tasks (default: reference's).")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option(help="projected-binary data: digits, cifar10, mnist, npz, csv.")
    ] = None,
    path: Annotated[str | None, typer.Option(help="Dataset file or directory.")] = None,
    eval_type: Annotated[str | None, typer.Option(help="rms or accuracy.")] = None,
    backend: Annotated[BackendChoice, typer.Option(help="Evaluation backend.")] = (
        BackendChoice.auto
    ),
    combination: Annotated[
        str, typer.Option(help="Task fitness combination: mean or median.")
    ] = "mean",
    max_abs_error: Annotated[float, typer.Option(help="Early-stop error bound.")] = 100.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Evaluate an algorithm on tasks: fitness and per-task fitness."""
    with _errors():
        program, _ = load_algorithm(algo)
        specs = task_specs(
            tasks, features=features, num_tasks=num_tasks, train=train, valid=valid,
            epochs=epochs, dataset=dataset, path=path, eval_type=eval_type, data_seed=data_seed,
        )  # fmt: skip
        report = evaluate_program(
            program, specs, seed=seed, backend=backend.value, combination=combination,
            max_abs_error=max_abs_error,
        )  # fmt: skip
        if as_json:
            typer.echo(json.dumps(report))
            return
        typer.echo(f"fitness {report['fitness']:.6f} ({report['combination']} over "
                   f"{len(report['per_task'])} task(s), backend {report['backend']})")  # fmt: skip
        from .metrics import format_metrics

        typer.echo(f"metrics {format_metrics(report['metrics'])} (last epoch's validation)")
        for t in report["per_task"]:
            typer.echo(f"  {t['name']:32s} {t['eval_type']:8s} {t['fitness']:.6f}  "
                       f"{format_metrics(t['metrics']) or 'failed'}")  # fmt: skip


def evaluate_program(
    program,
    specs: list[dict],
    *,
    seed: int = 0,
    backend: str = "interp",
    combination: str = "mean",
    max_abs_error: float = 100.0,
) -> dict:
    """Fitness of `program` on the tasks of `specs` (the evaluation protocol, no search caches)."""
    from .evaluate import Evaluator, available_backends
    from .tasks import build_collection

    if backend == "auto" and "auto" not in available_backends():
        backend = "interp"  # no cost model registered: the interpreter is the reference
    tasks = build_collection(specs)
    if not tasks:
        raise UsageError("no tasks to evaluate on (give at least one task spec)")
    F = tasks[0].features
    memory = program.required_memory(F)
    program.check_fits(memory)
    wanted = {"backend": backend, "combination": combination, "max_abs_error": max_abs_error}
    params = inspect.signature(Evaluator).parameters
    evaluator = Evaluator(tasks, memory, **{k: v for k, v in wanted.items() if k in params})
    detail = evaluator.evaluate_detailed(program, seed)
    if isinstance(detail, dict):
        fitness, per_task_fit = detail["fitness"], detail["per_task"]
    elif isinstance(detail, tuple) and not hasattr(detail, "fitness"):
        fitness, per_task_fit = detail[0], detail[1]
    else:
        fitness, per_task_fit = detail.fitness, detail.per_task
    from .evaluate import task_seeds as evaluation_task_seeds
    from .metrics import combine_metrics, task_metrics

    per_task = []
    for i, (t, f, s) in enumerate(
        zip(tasks, per_task_fit, evaluation_task_seeds(seed, len(tasks)), strict=True)
    ):
        m = task_metrics(program, t, memory.with_features(t.features), int(s),
                         max_abs_error=max_abs_error)  # fmt: skip
        per_task.append({"name": t.name, "index": i, "eval_type": t.eval_type,
                         "fitness": float(f), "metrics": m})  # fmt: skip
    return {
        "fitness": float(fitness),
        "metrics": combine_metrics([t["metrics"] for t in per_task]),
        "per_task": per_task,
        "combination": combination,
        "backend": backend,
        "features": F,
        "memory": {
            "scalars": memory.scalars,
            "vectors": memory.vectors,
            "matrices": memory.matrices,
        },  # fmt: skip
        "seed": seed,
    }


# -- bench / tasks ----------------------------------------------------------------------------


@app.command()
def bench(
    only: Annotated[
        str | None, typer.Option(help="Comma-separated benchmark keys (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    list_keys: Annotated[bool, typer.Option("--list", help="List the keys and exit.")] = False,
) -> None:
    """Measure throughput and latency (what `python -m amlz_compile.bench` prints)."""
    with _errors():
        from . import bench as bench_mod

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


@app.command(name="tasks")
def tasks_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """The task kinds and data sources, with what each needs."""
    with _errors():
        from .tasks import describe_task_kinds

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


if __name__ == "__main__":
    main()
