"""`amlz evolve`, `amlz resume` and `amlz presets`: runs into run directories, with a live
display, a summary, and signals that stop a run with a checkpoint."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import __version__
from ..errors import UsageError
from .choices import BackendChoice, Flow
from .reporting import user_errors


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
    from ..cli_progress import print_json
    from ..ir.text import format_program
    from ..passes import simplify_program

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
        from ..metrics import format_metrics

        print(f"final tasks:  {format_metrics(result.final_metrics)}", file=out)
    print("\nthe discovered algorithm (simplified):\n", file=out)
    print(format_program(simplify_program(result.best_program)).rstrip(), file=out)
    print(
        f"\nrun directory: {run.path}  (best.txt, best.json, hall_of_fame.json, progress.jsonl)"
        f"\nexport it:     amlz export {run / 'best.json'} -o algorithm.py",
        file=out,
    )


def _run_with_display(run, mode: str, title: str, meta: dict, go) -> Any:
    from ..cli_progress import Display, RunRecorder
    from ..search.stopping import SearchInterrupted

    display = Display(mode)
    recorder = RunRecorder(run, display, meta)
    display.start(title)
    received: list[int] = []
    try:
        with _stop_on_signals(received):
            result = go(recorder)
    except KeyboardInterrupt as exc:
        from ..search.checkpoint import CHECKPOINT_NAME

        display.stop()
        name = signal.Signals(received[0]).name if received else "SIGINT"
        if isinstance(exc, SearchInterrupted) and exc.checkpoint and exc.wrote:
            where = f"wrote a final checkpoint, {exc.checkpoint}"
        elif isinstance(exc, SearchInterrupted) and exc.checkpoint:
            where = f"the final evaluation was skipped; the checkpoint is {exc.checkpoint}"
        elif (Path(run.checkpoint_dir) / CHECKPOINT_NAME).exists():
            where = f"the last checkpoint is in {run.checkpoint_dir}"
        else:  # stopped at once before the first checkpoint: nothing to resume
            typer.echo(f"interrupted by {name} before any checkpoint was written", err=True)
            raise typer.Exit(128 + (received[0] if received else signal.SIGINT)) from None
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
    from ..search.stopping import request_stop

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
    with user_errors():
        mode = _display_mode(quiet, as_json)
        named = {
            "search.population_size": population_size,
            "search.tournament_size": tournament_size,
            "search.mutate_prob": mutate_prob,
            "search.max_train_steps": max_train_steps,
            "max_experiments": max_experiments,
            "sufficient_fitness": sufficient_fitness,
        }
        from ..search.overrides import build_config, build_data_config

        if data is not None:
            if seed is None:
                seed = int(time.time_ns() % (1 << 31)) or 1
            cfg, label = build_data_config(data, target, task, seed, preset, config,
                                           settings or [], named)  # fmt: skip
        else:
            cfg, label = build_config(preset, config, settings or [], named)
        cfg = cfg.with_absolute_paths()  # the run directory's config works from anywhere
        from ..search.data_config import mixed_data_note

        data_note = mixed_data_note(cfg)
        if data_note and mode != "json":
            typer.echo(f"note: {data_note}", err=True)
        if seed is None:
            seed = cfg.seed if cfg.seed else int(time.time_ns() % (1 << 31)) or 1
        from ..rundir import RunDir
        from ..search.experiment import run_search
        from ..search.options import SearchOptions
        from ..search.run import check_run_memory

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
    with user_errors():
        mode = _display_mode(quiet, as_json)
        from ..rundir import RunDir
        from ..search.experiment import resume_search
        from ..search.options import check_run_limits

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


def presets(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """List the presets `amlz evolve --preset` accepts."""
    with user_errors():
        from ..search.presets import get_preset, preset_names

        rows = []
        for name in preset_names():
            p = get_preset(name)
            rows.append({"name": name, "description": p.get("description", "")})
        if as_json:
            typer.echo(json.dumps(rows))
            return
        for row in rows:
            typer.echo(f"{row['name']:18s} {row['description']}")
