"""The run directory: everything one `amlz evolve` run leaves behind, written safely.

    RUN_DIR/
      run.json            how the run was started (command options, seed, amlz version, status)
      config.json         the full experiment config (what `--config` accepts)
      checkpoints/        checkpoint.json, rewritten atomically (what `amlz resume` reads), and
                          checkpoint.prev.json, the one before it (read if the last is damaged)
      progress.jsonl      one JSON object per event (progress, new best, experiment, checkpoint)
      best.txt, best.json the best algorithm so far (text form and JSON, with fitness metadata)
      hall_of_fame.json   the best algorithm per simplified size (and hall_of_fame.txt)
      result.json         the final result (when the run ends)
      fitness.png         fitness over time (when matplotlib, the `plots` extra, is installed)
      run.lock            the writer's lock (see `run_lock`): one process writes a run at a time

A non-empty directory is never overwritten unless the caller passes `force` (then only the files
above are replaced); resuming appends to it. Every file is replaced atomically.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .atomic import atomic_file, atomic_write_text
from .errors import AmlzError
from .ir.program import Program
from .run_lock import LOCK_NAME, RunLock
from .search.checkpoint import CHECKPOINT_NAME, PREVIOUS_NAME

RUN_FILES = (
    "run.json",
    "config.json",
    "progress.jsonl",
    "best.txt",
    "best.json",
    "hall_of_fame.json",
    "hall_of_fame.txt",
    "result.json",
    "fitness.png",
)
CHECKPOINT_SUBDIR = "checkpoints"
HALL_OF_FAME_SIZE = 50


class RunDirError(AmlzError, ValueError):
    """A run directory that cannot be used (not empty, not a run directory, unreadable)."""


def _json_safe(obj: Any) -> Any:
    """Plain JSON values: non-finite floats as strings, numpy values as Python ones."""
    if isinstance(obj, Mapping):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        try:
            obj = obj.item()
        except (TypeError, ValueError):
            return str(obj)
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def dumps(obj: Any) -> str:
    """One-line JSON of `obj` (safe for any value the CLI logs)."""
    return json.dumps(_json_safe(obj), separators=(",", ":"))


class RunDir:
    """Paths and writers of one run directory (see the module docstring for the layout)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._hof: dict[int, dict] | None = None
        self.lock = RunLock(self.path)

    # -- paths --------------------------------------------------------------------------------
    def __truediv__(self, name: str) -> Path:
        return self.path / name

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / CHECKPOINT_SUBDIR

    @property
    def checkpoint_file(self) -> Path:
        return self.checkpoint_dir / CHECKPOINT_NAME

    def has_checkpoint(self) -> bool:
        """Whether there is a checkpoint to resume (the last one, or the one before it)."""
        return self.checkpoint_file.is_file() or (self.checkpoint_dir / PREVIOUS_NAME).is_file()

    # -- life cycle ---------------------------------------------------------------------------
    @classmethod
    def create(cls, path: str | os.PathLike, *, force: bool = False) -> RunDir:
        """A fresh run directory; RunDirError if it exists and is not empty (unless `force`,
        which removes only the run files of the layout, nothing else)."""
        run = cls(path)
        p = run.path
        if p.exists() and not p.is_dir():
            raise RunDirError(f"{p} exists and is not a directory")
        if p.is_dir() and any(f.name != LOCK_NAME for f in p.iterdir()):
            if force and (run.is_run_dir() or (p / LOCK_NAME).exists()):
                run.lock.acquire()  # a live run is never replaced, even with force
            if not force:
                hint = "amlz resume" if run.is_run_dir() else "another --out"
                raise RunDirError(
                    f"run directory {p} is not empty; use {hint}, or --force to replace its "
                    "run files"
                )
            for name in RUN_FILES:
                (p / name).unlink(missing_ok=True)
            shutil.rmtree(p / CHECKPOINT_SUBDIR, ignore_errors=True)
        try:
            run.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(f"cannot create run directory {p}: {exc.strerror or exc}") from exc
        run.lock.acquire()
        return run

    @classmethod
    def open(cls, path: str | os.PathLike) -> RunDir:
        """An existing run directory (for resume); RunDirError if it has no checkpoint."""
        run = cls(path)
        if not run.path.is_dir():
            raise RunDirError(f"no run directory at {run.path}")
        if not run.has_checkpoint():
            raise RunDirError(
                f"{run.path} has no checkpoint ({CHECKPOINT_SUBDIR}/checkpoint.json): "
                "nothing to resume"
            )
        run.lock.acquire()
        return run

    def close(self) -> None:
        """Release the writer's lock (process exit releases it too)."""
        self.lock.release()

    def is_run_dir(self) -> bool:
        return (self.path / "run.json").is_file() or self.has_checkpoint()

    # -- writers ------------------------------------------------------------------------------
    def write_json(self, name: str, obj: Any) -> Path:
        path = self.path / name
        atomic_write_text(path, json.dumps(_json_safe(obj), indent=2) + "\n")
        return path

    def read_json(self, name: str) -> Any:
        path = self.path / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise RunDirError(f"cannot read {path}: {exc}") from exc

    def log(self, record: Mapping[str, Any]) -> None:
        """Append one JSON line to progress.jsonl (flushed, so a crash keeps what was logged)."""
        with open(self.path / "progress.jsonl", "a", encoding="utf-8") as fh:
            fh.write(dumps(record) + "\n")
            fh.flush()

    def read_log(self) -> list[dict]:
        """The progress log's records (a torn last line, from a crash, is skipped)."""
        path = self.path / "progress.jsonl"
        if not path.is_file():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def write_best(self, program: Program, meta: Mapping[str, Any]) -> None:
        """best.txt and best.json, each replaced atomically."""
        from .ir.serialize import save_program

        meta = _json_safe(dict(meta))
        save_program(program, self.path / "best.json", meta)
        save_program(program, self.path / "best.txt", meta)

    # -- hall of fame -------------------------------------------------------------------------
    def _load_hof(self) -> dict[int, dict]:
        if self._hof is None:
            doc = self.read_json("hall_of_fame.json") or {}
            self._hof = {int(e["size"]): e for e in doc.get("entries", [])}
        return self._hof

    def hall_of_fame(self) -> list[dict]:
        """Entries sorted by simplified size: size, fitness, canonical_key, program (JSON)."""
        return [self._load_hof()[k] for k in sorted(self._load_hof())]

    def offer(self, program: Program, fitness: float, meta: Mapping[str, Any]) -> bool:
        """Add `program` to the hall of fame if it is the fittest of its simplified size."""
        from .ir.serialize import program_to_dict
        from .ir.text import format_program
        from .passes import canonical_key, simplify_program

        if fitness is None or not math.isfinite(float(fitness)):
            return False
        simple = simplify_program(program)
        size = len(simple)
        hof = self._load_hof()
        old = hof.get(size)
        if old is not None and not float(fitness) > float(old["fitness"]):
            return False
        hof[size] = {
            "size": size,
            "fitness": float(fitness),
            "canonical_key": canonical_key(simple),
            **_json_safe(dict(meta)),
            "program": program_to_dict(simple),
            "text": format_program(simple),
        }
        if len(hof) > HALL_OF_FAME_SIZE:  # keep the fittest sizes
            worst = min(hof, key=lambda k: hof[k]["fitness"])
            del hof[worst]
        entries = self.hall_of_fame()
        self.write_json("hall_of_fame.json", {"entries": entries})
        lines = []
        for e in entries:
            lines.append(
                f"# size {e['size']}  fitness {e['fitness']:.6f}  key {e['canonical_key']}"
            )
            lines.append(e["text"].rstrip())
            lines.append("")
        atomic_write_text(self.path / "hall_of_fame.txt", "\n".join(lines))
        return True

    # -- plot ---------------------------------------------------------------------------------
    def plot(self) -> Path | None:
        """fitness.png from progress.jsonl (None when matplotlib is missing or nothing logged)."""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return None
        records = [r for r in self.read_log() if r.get("kind") == "progress"]
        if not records:
            return None
        t = [r.get("elapsed", 0.0) for r in records]
        best = [r.get("best_search_fitness") for r in records]
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(t, best, label="best search fitness")
        sel = [(r.get("elapsed", 0.0), r.get("best_select_fitness")) for r in records]
        sel = [(a, b) for a, b in sel if isinstance(b, int | float)]
        if sel:
            ax.step(*zip(*sel, strict=True), where="post", label="best select fitness")
        ax.set_xlabel("elapsed (s)")
        ax.set_ylabel("fitness")
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)
        path = self.path / "fitness.png"
        try:
            with atomic_file(path, "wb") as fh:
                fig.savefig(fh, format="png", dpi=100)
        finally:
            plt.close(fig)
        return path
