"""What `amlz evolve` / `amlz resume` do with the search's events: log, keep files, display.

`RunRecorder` turns each event of `search.events` into one JSON record, appends it to the run
directory's progress log, keeps best.txt/best.json and the hall of fame current, and hands the
record to a display: a live rich table (terminal), plain lines (not a terminal), JSON lines
(`--json`) or nothing (`--quiet`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from .rundir import RunDir, dumps

MODES = ("rich", "plain", "json", "quiet")
PROGRESS_LOG_INTERVAL = 1.0  # seconds between progress records in progress.jsonl


def _rate(islands: list[dict], prefix: str) -> float | None:
    hits = misses = 0
    for isl in islands:
        s = isl.get("stats", {})
        hits += int(s.get(f"{prefix}_hits", 0) or 0)
        misses += int(s.get(f"{prefix}_misses", 0) or 0)
    return hits / (hits + misses) if hits + misses else None


def _tier(islands: list[dict]) -> dict:
    """Where full evaluations ran, summed over islands: the compiled share of the evaluated
    individuals (those dedup did not answer), compilations and their CPU seconds."""
    compiled = evaluated = compiles = 0
    seconds = 0.0
    for isl in islands:
        s = isl.get("stats", {})
        compiled += int(s.get("compiled_evaluations", 0) or 0)
        evaluated += int(s.get("individuals", 0) or 0) - int(s.get("dedup_hits", 0) or 0)
        compiles += int(s.get("compiles", 0) or 0)
        seconds += float(s.get("compile_seconds", 0.0) or 0.0)
    return {
        "compiled_share": compiled / evaluated if evaluated > 0 else None,
        "compiles": compiles,
        "compile_seconds": seconds,
    }


def _compiles(rec: Mapping[str, Any]) -> str:
    """'compiles N (S s)': how much compiling the search did."""
    return f"compiles {rec.get('compiles', 0):,} ({rec.get('compile_seconds', 0.0):.1f} s)"


def event_record(event: Any) -> dict:
    """A JSON-able record of one search event (programs as text)."""
    kind = getattr(event, "kind", type(event).__name__)
    if kind == "progress":
        islands = [
            {
                "island": p.island,
                "individuals": p.individuals,
                "individuals_per_s": p.individuals_per_s,
                "best_fitness": p.best_fitness,
                "mean_fitness": p.mean_fitness,
                "train_steps": p.train_steps,
                "fec_hit_rate": p.fec_hit_rate,
                "dedup_hit_rate": p.dedup_hit_rate,
                "stats": dict(p.stats),
            }
            for p in event.islands
        ]
        for isl in islands:
            isl["compiled_share"] = _tier([isl])["compiled_share"]
        return {
            "kind": kind,
            "time": time.time(),
            "experiment": event.experiment,
            "individuals": event.individuals,
            "individuals_per_s": event.individuals_per_s,
            "fec_hit_rate": _rate(islands, "fec"),
            "dedup_hit_rate": _rate(islands, "dedup"),
            **_tier(islands),
            "best_search_fitness": event.best_search_fitness,
            "best_select_fitness": event.best_select_fitness,
            "elapsed": event.elapsed,
            "remaining": event.remaining,
            "islands": [{k: v for k, v in i.items() if k != "stats"} for i in islands],
            "_islands_stats": [i["stats"] for i in islands],
        }
    if kind == "new_best":
        from .ir.text import format_program

        return {
            "kind": kind,
            "time": time.time(),
            "experiment": event.experiment,
            "search_fitness": event.search_fitness,
            "select_fitness": event.select_fitness,
            "elapsed": event.elapsed,
            "program": format_program(event.program),
        }
    if kind == "finished":
        r = event.result
        return {
            "kind": kind,
            "time": time.time(),
            "stopped": r.stopped,
            "experiments": r.experiments,
            "individuals": r.individuals,
            "elapsed": r.elapsed,
            "search_fitness": r.search_fitness,
            "select_fitness": r.select_fitness,
            "final_fitness": r.final_fitness,
            "final_metrics": r.final_metrics,
            "time_to_solution": r.time_to_solution,
            "seed": r.seed,
            "checkpoint": r.checkpoint,
        }
    out = {"kind": kind, "time": time.time()}
    for key, value in getattr(event, "__dict__", {}).items():
        if key != "kind":
            out[key] = value
    return out


def _fmt(x: float | None, spec: str = ".6f") -> str:
    return "-" if x is None else format(x, spec)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Display:
    """Shows records: rich live table, plain lines, JSON lines or nothing."""

    def __init__(self, mode: str, *, stream=None, min_interval: float = 2.0) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown display mode {mode!r}")
        self.mode = mode
        self.stream = stream or sys.stdout
        self.min_interval = min_interval
        self._last = 0.0
        self._live = None
        self._latest: dict | None = None
        self._window: list[tuple[float, int]] = []

    def start(self, title: str) -> None:
        self.title = title
        if self.mode == "rich":
            from rich.console import Console
            from rich.live import Live

            self._console = Console(file=self.stream)
            self._live = Live(
                self._table(None), console=self._console, refresh_per_second=4, transient=False
            )
            self._live.start()
        elif self.mode == "plain":
            print(title, file=self.stream, flush=True)

    def stop(self) -> None:
        if self._live is not None:
            if self._latest is not None:
                self._live.update(self._table(self._latest))
            self._live.stop()
            self._live = None

    def _table(self, rec: dict | None):
        from rich.table import Table

        t = Table(title=self.title, title_justify="left", expand=False)
        for col in ("island", "individuals", "indiv/s", "FEC", "dedup", "compiled", "best", "mean"):
            t.add_column(col, justify="right")
        if rec is None:
            t.caption = "starting (compiling kernels on first use)..."
            return t
        for isl in rec["islands"]:
            t.add_row(
                str(isl["island"]),
                f"{isl['individuals']:,}",
                f"{isl['individuals_per_s']:,.0f}",
                _fmt(isl["fec_hit_rate"], ".1%"),
                _fmt(isl["dedup_hit_rate"], ".1%"),
                _fmt(isl.get("compiled_share"), ".1%"),
                _fmt(isl["best_fitness"]),
                _fmt(isl["mean_fitness"]),
            )
        if len(rec["islands"]) > 1:
            t.add_row(
                "all",
                f"{rec['individuals']:,}",
                f"{rec['individuals_per_s']:,.0f}",
                _fmt(rec["fec_hit_rate"], ".1%"),
                _fmt(rec["dedup_hit_rate"], ".1%"),
                _fmt(rec.get("compiled_share"), ".1%"),
                _fmt(rec["best_search_fitness"]),
                "",
            )
        t.caption = (
            f"experiment {rec['experiment']}  elapsed {_duration(rec['elapsed'])}  "
            f"remaining {_duration(rec['remaining'])}  best select "
            f"{_fmt(rec['best_select_fitness'])}  individuals {rec['individuals']:,} "
            f"({rec['individuals_per_s']:,.0f}/s)  {_compiles(rec)}"
        )
        return t

    def _recent_rate(self, rec: Mapping[str, Any]) -> float:
        """Individuals/s over the last few seconds (the event's own figure at the start)."""
        now, count = float(rec["elapsed"]), int(rec["individuals"])
        self._window.append((now, count))
        while len(self._window) > 2 and now - self._window[1][0] >= 5.0:
            self._window.pop(0)
        t0, c0 = self._window[0]
        if now - t0 > 0.5 and count >= c0:
            return (count - c0) / (now - t0)
        return float(rec["individuals_per_s"])

    def show(self, rec: Mapping[str, Any]) -> None:
        kind = rec.get("kind")
        public = {k: v for k, v in rec.items() if not k.startswith("_")}
        if self.mode == "json":
            self.stream.write(dumps(public) + "\n")
            self.stream.flush()
            return
        if self.mode == "quiet":
            return
        if kind == "progress":
            rec = dict(rec)
            rec["individuals_per_s"] = self._recent_rate(rec)
            self._latest = rec
            if self._live is not None:
                self._live.update(self._table(self._latest))
                return
            now = time.monotonic()
            if now - self._last < self.min_interval:
                return
            self._last = now
            print(
                f"[{_duration(rec['elapsed'])}] exp {rec['experiment']} "
                f"individuals {rec['individuals']:,} ({rec['individuals_per_s']:,.0f}/s) "
                f"FEC hit {_fmt(rec['fec_hit_rate'], '.1%')} "
                f"dedup hit {_fmt(rec['dedup_hit_rate'], '.1%')} "
                f"compiled {_fmt(rec.get('compiled_share'), '.1%')} "
                f"best {_fmt(rec['best_search_fitness'])} "
                f"select {_fmt(rec['best_select_fitness'])} "
                f"remaining {_duration(rec['remaining'])}",
                file=self.stream,
                flush=True,
            )
        elif kind == "new_best":
            msg = (
                f"new best: select fitness {_fmt(rec['select_fitness'])} (search "
                f"{_fmt(rec['search_fitness'])}, experiment {rec['experiment']})"
            )
            if self._live is not None:
                self._live.console.print(msg)
            else:
                print(msg, file=self.stream, flush=True)


class RunRecorder:
    """The `on_event` callback of a CLI run: log, keep files current, display."""

    def __init__(self, run: RunDir, display: Display, meta: Mapping[str, Any]) -> None:
        self.run = run
        self.display = display
        self.meta = dict(meta)
        self.result = None
        previous = run.read_json("best.json") or {}
        # Once a candidate passed the select tasks, best.* holds kept candidates only.
        self.selected = (previous.get("meta") or {}).get("stage") == "select"
        self._search_best: tuple | None = None
        # Search bests not recorded yet: while a cold start's helper compiles the passes, the
        # search goes on and they are recorded, in order, once it is done (`_flush`).
        self._pending: list[tuple] = []
        self._held_progress: dict | None = None  # a thinned-out progress record, not yet logged
        self._progress_logged: float | None = None  # when the last one was (monotonic)

    def __call__(self, event: Any) -> None:
        rec = event_record(event)
        kind = rec["kind"]
        if kind == "progress":  # shown first: its bookkeeping may wait for the passes to compile
            self.display.show(rec)
        if kind != "progress":
            self._flush()
        if kind == "new_best":
            self._best(event)
        elif kind == "progress" and getattr(event, "best_program", None) is not None:
            self._search_progress(event)
        logged = {k: v for k, v in rec.items() if k != "_islands_stats"}
        self._log(logged)
        if kind == "finished":
            self.result = event.result
            self.run.write_json("result.json", logged)
        if kind != "progress":
            self.display.show(rec)

    def _log(self, rec: dict) -> None:
        """Append to the progress log. Progress records are thinned to one per
        PROGRESS_LOG_INTERVAL seconds (a small population makes hundreds a second); the latest
        one held back is written before any other record, so the log shows the state at every
        checkpoint, new best and experiment end."""
        now = time.monotonic()
        if rec["kind"] == "progress":
            last = self._progress_logged
            if last is not None and now - last < PROGRESS_LOG_INTERVAL:
                self._held_progress = rec
                return
            self._progress_logged = now
        elif self._held_progress is not None:
            self.run.log(self._held_progress)
        self._held_progress = None
        self.run.log(rec)

    def _search_progress(self, event: Any) -> None:
        """Before the first selected candidate, best.* follow the populations' best program;
        the hall of fame collects every population best (by search fitness). Both need the
        passes: while the warm-up helper compiles them, the bests wait (`_flush`)."""
        from .search.warm_up import later_kernels_compiling

        program, fitness = event.best_program, event.best_search_fitness
        key = (program, fitness)
        if key == self._search_best:
            return
        self._search_best = key
        self._pending.append((program, fitness, event.experiment, event.elapsed))
        if not later_kernels_compiling():
            self._flush()

    def _flush(self) -> None:
        """Record the search bests held back, in the order they came: each offered to the hall
        of fame and, before the first selected candidate, written to best.*. (Any event but
        progress flushes, so a run's files are complete at its end whatever the helper did.)"""
        from .passes import canonical_key

        pending, self._pending = self._pending, []
        for program, fitness, experiment, elapsed in pending:
            self.run.offer(program, fitness, {"search_fitness": fitness,
                                              "experiment": experiment})  # fmt: skip
            if self.selected:
                continue
            meta = {
                **self.meta,
                "stage": "search",
                "fitness": fitness,
                "search_fitness": fitness,
                "experiment": experiment,
                "elapsed": elapsed,
                "canonical_key": canonical_key(program),
            }
            self.run.write_best(program, meta)

    def _best(self, event: Any) -> None:
        from .passes import canonical_key

        self.selected = True
        meta = {
            **self.meta,
            "stage": "select",
            "fitness": event.select_fitness,
            "search_fitness": event.search_fitness,
            "select_fitness": event.select_fitness,
            "experiment": event.experiment,
            "elapsed": event.elapsed,
            "canonical_key": canonical_key(event.program),
        }
        self.run.write_best(event.program, meta)
        self.run.offer(
            event.program,
            event.search_fitness,
            {"search_fitness": event.search_fitness, "select_fitness": event.select_fitness,
             "experiment": event.experiment},
        )  # fmt: skip


def print_json(obj: Any, stream=None) -> None:
    """One JSON object on one line."""
    (stream or sys.stdout).write(json.dumps(json.loads(dumps(obj))) + "\n")
