"""Markdown tables for RESULTS.md, generated from the results files (no hand-copied numbers).

    python examples/results_tables.py [RESULTS_DIR]      # default: examples/results

Prints one table per experiment that has a results.json in the new (repeated-seeds) format:
the Fig. 4 ladder, adaptation, backprop and projected binary. RESULTS.md pastes these tables;
a later step (issue #16) is to generate the whole file and test that it matches.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _ci(c: list, digits: int = 3) -> str:
    lo, hi = c
    hi_s = "inf" if hi is None or hi == float("inf") else f"{hi:.{digits}g}"
    return f"[{lo:.{digits}g}, {hi_s}]"


def _rate(s: dict) -> str:
    return f"{s['successes']}/{s['n']} = {s['rate']:.3g} {_ci(s['ci'])}"


def _score(s: dict, digits: int = 4) -> str:
    return f"{s['mean']:.{digits}g} {_ci(s['t_ci'], digits)} (n = {s['n']})"


def ladder(d: dict) -> list[str]:
    out = [
        "| task type | level | difficulty (RS programs per acceptable one) | evolution "
        "successes (95 % CI) | RS experiments of equal budget | RS programs acceptable | "
        "RS success rate at N (pooled) | evolution / RS (95 % CI) | CPU-s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in d["cells"].values():
        r, rel = c["random_search"], c["relative_success_rate"]
        diff = (
            f"{r['difficulty']:.3g}"
            if r["difficulty"]
            else f"> {r['difficulty_lower_95']:.3g} (95 %)"
        )
        ratio = f"{rel['ratio']:.3g}" if rel["ratio"] is not None else "undefined"
        out.append(
            f"| {c['kind']} | {c['level']} | {diff} | {_rate(c['evolution'])} | "
            f"{_rate(r['experiments'])} | {r['acceptable']}/{r['programs']} | "
            f"{rel['rs_rate_at_budget']:.3g} | {ratio} {_ci(rel['ci'])} | "
            f"{c['cpu_seconds']:.0f} |"
        )
    return out


def adaptation(d: dict) -> list[str]:
    out = [
        "| arm | epochs | initial NN | tuned NN (lr, init) | evolved, mean over seeds (95 % t CI)"
        " | evolved - tuned (95 % t CI) | seeds better / worse than tuned (paired p < 0.05) | "
        "learning-rate adaptation | CPU-s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, a in d["arms"].items():
        b = a["baselines_held_out"]
        t = a["tuned_network"]["best"]
        out.append(
            f"| {name} | {a['epochs']} | {b['neural_net (initial)']['mean']:.4f} | "
            f"{b['neural_net (tuned)']['mean']:.4f} ({t['learning_rate']}, {t['init_scale']}) | "
            f"{_score(a['evolved_held_out'])} | {_score(a['evolved_minus_tuned_across_seeds'])}"
            f" | {a['seeds_better_than_tuned_p05']} / {a['seeds_worse_than_tuned_p05']} | "
            f"{_rate(a['adaptation_emerged'])} | {a['cpu_seconds']:.0f} |"
        )
    return out


def backprop(d: dict) -> list[str]:
    hand = d["hand_written_final_mean_rms"]
    out = [
        "hand-written, mean RMS on the final tasks: "
        + ", ".join(
            f"`{k}` {v:.4g}" if v is not None else f"`{k}` inf (training diverges)"
            for k, v in hand.items()
        ),
        "",
        "| level | final mean RMS over seeds (95 % t CI, or median) | beats linear | within 5 % of "
        "backprop NN | CPU-s |",
        "|---|---|---|---|---|",
    ]
    for name, lv in d["levels"].items():
        rms = [r["final_mean_rms"] for r in lv["runs"]]
        if any(v is None for v in rms):  # a diverging program: RMS inf (null in JSON)
            finite = sorted(v for v in rms if v is not None)
            k = len(rms) - len(finite)
            median = sorted(finite + [float("inf")] * k)[len(rms) // 2]
            score = f"median {median:.4g}; {k} of {len(rms)} seeds diverge (RMS inf)"
        else:
            score = _score(lv["final_mean_rms"])
        out.append(
            f"| {name} | {score} | {_rate(lv['beats_linear'])} | "
            f"{_rate(lv['matches_backprop'])} | {lv['cpu_seconds']:.0f} |"
        )
    return out


def projected(d: dict) -> list[str]:
    out = [
        "| program | mean accuracy, held-out final tasks |",
        "|---|---|",
    ]
    for name, b in d["baselines"].items():
        t = b["best"]
        out.append(
            f"| {name} (tuned: lr {t['learning_rate']}, init {t['init_scale']}) | "
            f"{b['final_mean']:.4f} |"
        )
    out.append(f"| evolved, mean over seeds (95 % t CI) | {_score(d['evolved_final'])} |")
    out += [
        "",
        f"Seeds whose program beats tuned logistic regression (paired p < 0.05): "
        f"{_rate(d['beats_logistic'])}; the tuned 2-layer network: {_rate(d['beats_nn'])}.",
    ]
    return out


RENDER = {
    "evolution_vs_random_search": ladder,
    "adaptation_few_steps": adaptation,
    "backprop_from_scratch": backprop,
    "projected_binary_digits": projected,
}
NEW_FORMAT_KEY = {
    "evolution_vs_random_search": "cells",
    "adaptation_few_steps": "arms",
    "backprop_from_scratch": "levels",
    "projected_binary_digits": "runs",
}


def main(argv: list[str]) -> None:
    root = Path(argv[0]) if argv else HERE / "results"
    for name, render in RENDER.items():
        # The experiment's main run first, then further runs in its subfolders.
        paths = [root / name / "results.json", *sorted((root / name).glob("*/results.json"))]
        for path in paths:
            if not path.exists():
                continue
            d = json.loads(path.read_text("utf-8"))
            if NEW_FORMAT_KEY[name] not in d:
                continue
            where = path.parent.relative_to(root).as_posix()
            cpu = d.get("cpu_seconds", 0)
            print(f"### {where} (size {d['size']}, {cpu:.0f} CPU-s in all)\n")
            print("\n".join(render(d)) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
