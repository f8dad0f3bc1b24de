"""Effective-program views of the stored discovered programs, for reading RESULTS.md.

    python examples/effective_views.py            # write every view (skips existing ones)
    python examples/effective_views.py --force    # recompute them all

For each stored program under examples/results/ listed in `PROGRAMS`, this writes
`<name>.effective.json` (`amlz_compile.effective.EffectiveView.to_dict()` plus the task specs
and the evaluation seed) and `<name>.effective.txt` (the readable view with its header) next to
it; `results_tables.py` (which only reads files) puts the text into RESULTS.md.

The view is APPROXIMATE (amlz_compile/effective/, docs/semantics.md#the-effective-program):
instructions are dropped or rewritten while the fitness on the given tasks stays within 1e-9
of the original's. The tasks are the ones the experiment chose the program on, rebuilt with the
experiment script's own spec functions from the settings in its results.json: the select tasks
where the experiment has them (projected_binary_digits, adaptation_few_steps,
linear_from_scratch), the search tasks otherwise (evolution_vs_random_search,
backprop_from_scratch: their best programs are the best by search fitness); the evaluation
seed is the experiment's. Not covered: `rerun_idle/` (earlier single runs with settings the
current scripts no longer build) and `own_data_vs_sklearn/` (tasks from a table split inside
the estimator).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from amlz_compile.effective import effective_program  # noqa: E402
from amlz_compile.ir.text import parse_program  # noqa: E402


def _module(name: str):
    return importlib.import_module(name)


def projected_tasks(res: dict, program: str) -> list[dict]:
    mod = _module("projected_binary_digits")
    st = res["settings"]
    setting = mod.SETTINGS[st.get("setting", "default")]
    return mod.experiment_config(st, setting)["select_tasks"]


def adaptation_tasks(res: dict, program: str) -> list[dict]:
    mod = _module("adaptation_few_steps")
    st = res["settings"]
    arm = program.split("_", 1)[0]
    return mod.experiment_config(st, st["epochs"] * mod.ARMS[arm])["select_tasks"]


def backprop_tasks(res: dict, program: str) -> list[dict]:
    mod = _module("backprop_from_scratch")
    st = res["settings"]
    spec = mod.task_spec(st["D"], st["num_train"], 1000)
    # runs before the option existed used the library default (unnormalised labels)
    spec["normalize_output"] = st.get("normalize_output", False)
    return [spec]


def ladder_tasks(res: dict, program: str) -> list[dict]:
    mod = _module("evolution_vs_random_search")
    kind, rest = program.split("_", 1)
    level = rest.removesuffix("_best_evolved.txt")
    cfg = mod.search_config(kind, level, res["settings"], random_search=False)
    return [t if isinstance(t, dict) else t.to_dict() for t in cfg.search_tasks]


def linear_tasks(res: dict, program: str) -> list[dict]:
    from amlz_compile.search.presets import get_preset

    return get_preset("demo")["select_tasks"]


ARMS = ["treatment_best.txt", "control_best.txt"]
# results directory -> (program files, the function giving their task specs)
PROGRAMS = {
    "projected_binary_digits": (["discovered.txt"], projected_tasks),
    "projected_binary_digits/budget_10k": (["discovered.txt"], projected_tasks),
    "projected_binary_digits/small": (["discovered.txt"], projected_tasks),
    "projected_binary_digits/noisy": (["discovered.txt"], projected_tasks),
    "adaptation_few_steps": (ARMS, adaptation_tasks),
    "adaptation_few_steps/budget_5k": (ARMS, adaptation_tasks),
    "backprop_from_scratch": (
        ["learn_best.txt", "predict_learn_best.txt", "whole_best.txt"],
        backprop_tasks,
    ),
    "backprop_from_scratch/budget_20k": (["learn_best.txt", "whole_best.txt"], backprop_tasks),
    "backprop_from_scratch/unnormalised": (["learn_best.txt", "whole_best.txt"], backprop_tasks),
    "evolution_vs_random_search": (
        [
            "linear_learn_best_evolved.txt",
            "linear_predict_learn_best_evolved.txt",
            "linear_whole_best_evolved.txt",
            "affine_learn_best_evolved.txt",
            "affine_predict_learn_best_evolved.txt",
        ],
        ladder_tasks,
    ),
    "evolution_vs_random_search/linear_500_seeds": (
        ["linear_learn_best_evolved.txt", "linear_predict_learn_best_evolved.txt"],
        ladder_tasks,
    ),
    "linear_from_scratch": (["discovered.txt"], linear_tasks),
    "linear_from_scratch/single_300s": (["discovered.txt"], linear_tasks),
}
SEEDS = {"evolution_vs_random_search": 0}  # the ladder judges programs with evaluation seed 0


def view_paths(program: Path) -> tuple[Path, Path]:
    stem = program.name.removesuffix(".txt")
    return program.with_name(f"{stem}.effective.json"), program.with_name(f"{stem}.effective.txt")


def write_view(rel: str, name: str, build, force: bool) -> None:
    program = RESULTS / rel / name
    json_path, text_path = view_paths(program)
    if not program.exists() or (json_path.exists() and text_path.exists() and not force):
        return
    res = json.loads((RESULTS / rel / "results.json").read_text("utf-8"))
    specs = build(res, name)
    seed = SEEDS.get(rel.split("/")[0], res.get("seed", 0))
    view = effective_program(parse_program(program.read_text("utf-8")), specs, seed=seed)
    data = {"program_file": name, **view.to_dict(), "task_specs": specs}
    json_path.write_text(json.dumps(data, indent=1) + "\n", "utf-8")
    text_path.write_text(view.text, "utf-8")
    print(f"{rel}/{name}: {len(view.original)} -> {len(view.program)} instructions, fitness "
          f"{view.fitness_before!r} -> {view.fitness_after!r}", flush=True)  # fmt: skip


def main(argv: list[str]) -> None:
    force = "--force" in argv
    only = [a for a in argv if not a.startswith("--")]
    for rel, (names, build) in PROGRAMS.items():
        if only and rel not in only:
            continue
        for name in names:
            write_view(rel, name, build, force)


if __name__ == "__main__":
    main(sys.argv[1:])
