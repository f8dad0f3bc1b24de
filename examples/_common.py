"""Shared plumbing for the example scripts: size flags, output directory, JSON, plots.

Every example accepts `--size smoke|default|paper` (`--smoke` and `--paper` are short for the
first and last), `--seed N` (the base seed; seed i of an experiment with repeats is derived from
it), `--seeds N` (repeats, where the experiment has them) and `--out DIR`. Budgets are counted
in individuals (or training steps), never in wall time, so a run's numbers do not depend on how
busy the machine was. Results go to `DIR/results.json`, discovered
programs (simplified) to `DIR/*.txt`, and a plot to `DIR/*.png` when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = Path(__file__).resolve().parent
PROGRAMS = EXAMPLES / "programs"

try:  # run from a checkout without `pip install -e .`
    import amlz_compile  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the repository was installed
    sys.path.insert(0, str(ROOT))

from amlz_compile.ir.program import Program  # noqa: E402
from amlz_compile.ir.text import format_program, parse_program  # noqa: E402
from amlz_compile.passes import simplify_program  # noqa: E402

SIZES = ("smoke", "default", "paper")


def make_parser(doc: str, default_out: str) -> argparse.ArgumentParser:
    """The common command line: --size (or --smoke | --paper), --seed, --seeds, --out."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--smoke", action="store_true", help="seconds-long run (tests use it)")
    size.add_argument("--paper", action="store_true", help="the paper's size (hours to days)")
    size.add_argument("--size", choices=SIZES, default=None, help="smoke | default | paper")
    parser.add_argument("--seed", type=int, default=1, help="base random seed (default 1)")
    parser.add_argument(
        "--seeds", type=int, default=None, help="independent repeats (default: by size)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path(default_out), help=f"output directory ({default_out})"
    )
    return parser


def size_of(args: argparse.Namespace) -> str:
    if getattr(args, "size", None):
        return args.size
    return "smoke" if args.smoke else "paper" if args.paper else "default"


def seeds_of(args: argparse.Namespace, default: int) -> list[int]:
    """The experiment's independent seeds: `--seeds` (or `default`) of them, from `--seed`."""
    n = args.seeds if getattr(args, "seeds", None) else default
    return [args.seed * 1000 + i for i in range(n)]


def pick(size: str, table: dict[str, Any]) -> Any:
    """The entry of `table` for this size (keys smoke/default/paper)."""
    return table[size]


def simplified_text(program: Program) -> str:
    """The program after dead-code removal, constant folding and canonical renaming."""
    return format_program(simplify_program(program))


def load_program(name: str) -> Program:
    """A program text file shipped in examples/programs/ (`name` without .txt)."""
    return parse_program((PROGRAMS / f"{name}.txt").read_text("utf-8"))


def finite(x: Any) -> Any:
    """JSON-safe numbers: NaN/inf become None (strict JSON has no NaN)."""
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [finite(v) for v in x]
    return x


def thin(points: list, keep: int = 200) -> list:
    """At most `keep` evenly spaced points (first and last kept), to keep results.json small."""
    if len(points) <= keep:
        return list(points)
    step = (len(points) - 1) / (keep - 1)
    return [points[round(i * step)] for i in range(keep)]


def write_results(out: Path, results: dict[str, Any]) -> Path:
    """Write results.json (strict JSON) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    results = {**results, "cpu_seconds": time.process_time()}
    path = out / "results.json"
    path.write_text(json.dumps(finite(results), indent=2, sort_keys=False) + "\n", "utf-8")
    return path


def write_program(out: Path, name: str, program: Program, header: str = "") -> Path:
    """Write the simplified program as text (with an optional `# ...` comment header)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.txt"
    lines = [f"# {line}" for line in header.splitlines() if line.strip()]
    path.write_text("\n".join([*lines, simplified_text(program)]) + "\n", "utf-8")
    return path


def pyplot():
    """matplotlib.pyplot with a file-only backend, or None (with a note) when not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed; skipping the plot (pip install matplotlib)")
        return None
    return plt


class Clock:
    """Wall-clock seconds since creation."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def __call__(self) -> float:
        return time.perf_counter() - self.t0


def banner(title: str, size: str, seed: int) -> None:
    print(f"== {title} (size: {size}, seed: {seed})", flush=True)


def progress_curve() -> tuple[list[dict], Callable[[Any], None]]:
    """Progress points (seconds, individuals, best fitness) and the hook that records them."""
    curve: list[dict] = []

    def on_event(event: Any) -> None:
        if getattr(event, "kind", "") == "progress":
            curve.append(
                {
                    "seconds": event.elapsed,
                    "individuals": event.individuals,
                    "best_search_fitness": event.best_search_fitness,
                }
            )

    return curve, on_event
