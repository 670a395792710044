"""The paper's tables in miniature, on the tiny world: does interaction help, and which part of it?

Variants, all with the same step budget and seeds, each ending with every agent's held-out solo greedy accuracy:
    grpo          each agent trained ALONE with single-agent GRPO (the paper's baseline; here Dr. GRPO-style)
    ilr           both agents, Rasch-chosen modes, calibration on (the method)
    ilr-coop      pure cooperation             ilr-compete   pure competition
    ilr-nocal     ILR without perception calibration
    ratio-p       a fixed share p of the questions cooperates (paper Figure 3; p = 0 and 1 are ilr-compete and
                  ilr-coop, so only the inner points are run)
The five main variants run for every seed in --seeds, the sweep for --sweep_seeds. Every run writes its own folder
under --out; the summary (mean and spread per cell, generated tokens per run) goes to results.json, results.md and
results.png. A teaching experiment: whatever it shows is reported as measured.

    python -m experiments.miniature                                   # the committed results (36 min on 2 cores)
    python -m experiments.miniature --steps 1 --eval_n 8 --seeds 0 --sweep 0.5 --out /tmp/mini   # a toy run (the test)
Copies of the committed run's results.json, results.md and results.png are in assets/miniature/.
"""
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass

import train
from lab import flags, plots

AGENTS = ("tiny-strong", "tiny-weak")
MAIN = {"ilr": [], "ilr-coop": ["--interaction", "cooperate"], "ilr-compete": ["--interaction", "compete"],
        "ilr-nocal": ["--calibrate", "false"]}


def run(name: str, argv: list[str], out: str) -> dict:
    """One train.py run in this process; a folder that already holds a finished run is read instead."""
    folder = os.path.join(out, name)
    log = os.path.join(folder, "log.jsonl")
    if os.path.exists(log):
        with open(log) as f:
            last = json.loads(f.readlines()[-1])
        if "tokens" in last.get("result", {}):
            return last["result"]
    t0 = time.time()
    result = train.main(flags.parse(train.Config, argv + ["--out_dir", folder], choices=train.CHOICES))
    _, rows = plots.read_log(folder)
    result["tokens"] = sum(row["tokens"] for row in rows)                  # generated tokens, all agents
    result["run_minutes"] = (time.time() - t0) / 60
    with open(log, "a") as f:
        f.write(json.dumps({"result": result}) + "\n")
    return result


@dataclass
class Config:
    steps: int = 30                  # optimizer steps per run (every variant); 30 keeps the whole table near 40 min
    seeds: str = "0,1,2"             # seeds of the five main variants
    sweep: str = "0.2,0.4,0.6,0.8"   # inner cooperation ratios of the sweep
    sweep_seeds: str = "0"           # seeds of the sweep
    eval_n: int = 500                # held-out questions for the solo accuracy
    out: str = "runs/miniature"      # one folder per run, and the summary files
    extra: str = ""                  # more train.py flags for every run, e.g. '--lr 2e-4'


def main(argv=None):
    args = flags.parse(Config, argv, __doc__.split("\n")[0])
    seeds, sweep_seeds = [int(s) for s in args.seeds.split(",")], [int(s) for s in args.sweep_seeds.split(",")]
    os.makedirs(args.out, exist_ok=True)
    base = ["--steps", str(args.steps), "--eval_n", str(args.eval_n), "--eval_samples", "0", "--sample_every", "0",
            "--save_every", "0", "--rasch_table", os.path.join(args.out, "rasch.jsonl")] + args.extra.split()
    cells = {}   # variant -> agent -> list of (greedy before, greedy after) over seeds
    tokens = {}
    t0 = time.time()
    plan = [(f"{v}-seed{s}", v, s, list(AGENTS), MAIN[v]) for s in seeds for v in MAIN]   # (run, variant, ...)
    plan += [(f"grpo-{a}-seed{s}", "grpo", s, [a], []) for s in seeds for a in AGENTS]
    plan += [(f"ratio-{p}-seed{s}", f"ratio-{p}", s, list(AGENTS), ["--interaction", "ratio", "--coop_ratio", p])
             for p in args.sweep.split(",") if p for s in sweep_seeds]
    for name, variant, seed, agents, extra in plan:
        result = run(name, base + ["--seed", str(seed), "--agents", ",".join(agents)] + extra, args.out)
        for a, (g0, _), (g1, _) in zip(agents, result["before"], result["after"]):
            cells.setdefault(variant, {}).setdefault(a, []).append((g0, g1))
        tokens.setdefault(variant, []).append(result["tokens"])
        print(f"[miniature] {name} done ({(time.time() - t0) / 60:.1f} min so far)", flush=True)
    summary = {"command": "python -m experiments.miniature " + " ".join(argv if argv is not None else sys.argv[1:]),
               "steps": args.steps, "eval_n": args.eval_n, "minutes": (time.time() - t0) / 60, "cells": {}}
    for variant, per_agent in cells.items():
        summary["cells"][variant] = {
            a: {"before": statistics.mean(g0 for g0, _ in v), "after_mean": statistics.mean(g1 for _, g1 in v),
                "after_sd": statistics.stdev([g1 for _, g1 in v]) if len(v) > 1 else 0.0, "seeds": len(v),
                "after": [g1 for _, g1 in v]}
            for a, v in per_agent.items()}
        summary["cells"][variant]["tokens_per_run"] = statistics.mean(tokens[variant])
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    table = write_markdown(summary, os.path.join(args.out, "results.md"))
    print(table)
    try:
        plot(summary, os.path.join(args.out, "results.png"))
    except ImportError:
        print("pip install matplotlib for results.png")
    return summary


def write_markdown(summary: dict, path: str) -> str:
    lines = [f"Held-out solo greedy accuracy ({summary['eval_n']} tiny-world test problems) after "
             f"{summary['steps']} steps: mean +- sd over seeds (n = seeds). `{summary['command']}`, "
             f"{summary['minutes']:.0f} minutes.", "",
             "| variant | " + " | ".join(f"{a} (before -> after)" for a in AGENTS) + " | generated tokens per run |",
             "|---|" + "---|" * (len(AGENTS) + 1)]
    for variant, cell in summary["cells"].items():
        parts = [f"{cell[a]['before']:.3f} -> {cell[a]['after_mean']:.3f} +- {cell[a]['after_sd']:.3f} "
                 f"(n={cell[a]['seeds']})" for a in AGENTS]
        lines.append(f"| {variant} | " + " | ".join(parts) + f" | {cell['tokens_per_run']:.0f} |")
    text = "\n".join(lines) + "\n"
    with open(path, "w") as f:
        f.write(text)
    return text


def plot(summary: dict, path: str) -> None:
    from matplotlib.figure import Figure
    fig = Figure(figsize=(12, 3.8))
    axes = fig.subplots(1, 2)
    names = [v for v in summary["cells"] if not v.startswith("ratio")]
    ratios = sorted((float(v.split("-")[1]), v) for v in summary["cells"] if v.startswith("ratio"))
    for j, a in enumerate(AGENTS):
        means = [summary["cells"][v][a]["after_mean"] for v in names]
        sds = [summary["cells"][v][a]["after_sd"] for v in names]
        axes[0].bar([i + 0.4 * j for i in range(len(names))], means, 0.4, yerr=sds, label=a, capsize=3)
        xs = [0.0] + [p for p, _ in ratios] + [1.0]
        ys = [summary["cells"].get("ilr-compete", {}).get(a, {}).get("after_mean", float("nan"))] + \
             [summary["cells"][v][a]["after_mean"] for _, v in ratios] + \
             [summary["cells"].get("ilr-coop", {}).get(a, {}).get("after_mean", float("nan"))]
        axes[1].plot(xs, ys, "o-", label=f"{a}, fixed ratio p")
        if "ilr" in summary["cells"]:
            axes[1].axhline(summary["cells"]["ilr"][a]["after_mean"], color=f"C{j}", ls="--", label=f"{a}, IRT rule")
    axes[0].set_xticks([i + 0.2 for i in range(len(names))], names, rotation=20)
    axes[0].set_ylabel("held-out solo greedy accuracy")
    axes[0].legend()
    axes[1].set_xlabel("cooperation ratio p")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
