"""Does talking teach?  ILR against single-agent GRPO, paired by seed, in the two tiny worlds.

The paper's claim: what a model learns in the discussion carries over to answering alone, so ILR beats GRPO. Arms,
each run by train.py for the same number of steps; seed s gives every arm the same questions in the same order
(tasks.step_questions(train, step, n, s)) and the same initial models. The sampling draws are seeded by (seed, step,
agent's index in its run), so an agent's first samples coincide across arms only where its index is the same (the
first agent); the second agent's draws differ between its ILR and GRPO runs:
    grpo          each agent alone, single-agent GRPO, the same questions per step (the paper's baseline)
    grpo-tokens   each agent alone, as many questions per step as make its generated tokens per step equal to what
                  the agent generates in ILR (share + analysis + fusion): the same compute, the same number of updates
    ilr           both agents, per-turn credit (--credit turn), lambda 1: the method
    ilr-lam0, ilr-lam0.5   the lambda sweep (lambda 0: the discussion carries no gradient)
    ilr-no-analysis, ilr-no-fusion   which discussion turn carries the gain: ILR with that turn's gradient removed
                  (--train_turns share,fusion / share,analysis; the turn is still said and read)
    ilr-nocal     ILR without perception calibration            (the paper's ablation)
    ilr-static    ILR with a fixed half of the questions cooperating, no Rasch model (the paper's "without dynamic
                  interaction")
The outcome is each agent's greedy accuracy alone on the 2,000 held-out problems after training. Per agent and seed
the paired difference d_s = acc(ilr, s) - acc(grpo, s); reported: the mean of d over n seeds, its 95% interval
(Student t, n - 1 degrees of freedom), and the smallest true difference the design detects with 80% power at the
5% level, (t_0.975 + t_0.80) x sd(d) / sqrt(n): a difference below it can hide in the noise of this design.

    python -m experiments.talking                                  # part 1: the inverse world (see the README)
    python -m experiments.talking --world redo                     # part 2: today's world
    python -m experiments.talking --world redo --arms ilr-lam0,ilr-lam0.5 --seeds 0,1,2,3            # part 3
    python -m experiments.talking --world redo --arms ilr-no-analysis,ilr-no-fusion --seeds 0,1,2,3  # part 4
    python -m experiments.talking --world redo --arms ilr-nocal,ilr-static --seeds 0,1,2,3           # part 5
    python -m experiments.talking --steps 1 --seeds 0,1 --eval_n 8 --train_n 16 --results /tmp/t.json  # a toy run

Every finished run's accuracies go into --results at once (a JSON file; the committed one is
assets/talking/results.json), so an interrupted study continues where it stopped and a fresh clone continues the
committed study; the initial models are measured once per world and reused by every arm and seed.
"""
import fcntl
import hashlib
import json
import math
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass

import torch

import evaluate
import models
import tasks
import train
from lab import flags, plots
from tasks import tinyworld

ARMS = {  # arm -> train.py flags beyond the common ones (None: one run per agent, alone)
    "grpo": None, "grpo-tokens": None,
    "ilr-lam0": ["--discussion_weight", "0"], "ilr-lam0.5": ["--discussion_weight", "0.5"],
    "ilr": [],                                                  # lambda 1 (reports list the arms in this order)
    "ilr-no-analysis": ["--train_turns", "share,fusion"], "ilr-no-fusion": ["--train_turns", "share,analysis"],
    "ilr-nocal": ["--calibrate", "false"],
    "ilr-static": ["--interaction", "ratio", "--coop_ratio", "0.5"],
}
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         11: 2.201, 12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}      # Student t quantiles by degrees of freedom
T_80 = {1: 1.376, 2: 1.061, 3: 0.978, 4: 0.941, 5: 0.920, 6: 0.906, 7: 0.896, 8: 0.889, 9: 0.883, 10: 0.879,
        11: 0.876, 12: 0.873, 15: 0.866, 20: 0.860, 30: 0.854}


@dataclass
class Config:
    world: str = "inverse"           # inverse (verifying is easier than solving) | redo (today's: checks redo a line)
    arms: str = "grpo,ilr,grpo-tokens"   # comma list of ARMS, run in this order within each seed
    seeds: str = "0,1,2,3,4,5,6,7"   # paired seeds: seed s gives every arm the same questions and sampling seed
    steps: int = 50                  # optimizer steps per run (every arm)
    questions_per_step: int = 8      # questions per step of ilr and grpo (grpo-tokens scales it by the token ratio)
    eval_n: int = 2000               # held-out problems for the greedy solo accuracy after training
    train_n: int = 0                 # only the first N training questions (0 = all 2,000; small for the toy run)
    results: str = "assets/talking/results.json"   # finished runs' accuracies (read at start, written after each
                                     # run) and beside it each world's Rasch table
    out: str = "runs/talking"        # run folders (logs, final models)
    extra: str = ""                  # more train.py flags for every run, e.g. '--lr 2e-4'


def t_quantile(table: dict, df: int) -> float:
    """A Student t quantile from the table: the nearest tabulated df at or below (conservative between rows)."""
    if df < 1:
        return float("nan")
    return table[max(k for k in table if k <= df)]


def paired(diffs: list[float]) -> dict:
    """Mean of paired differences, its 95% interval and the smallest difference detectable with 80% power."""
    n = len(diffs)
    mean = statistics.mean(diffs)
    sd = statistics.stdev(diffs) if n > 1 else float("nan")
    half = t_quantile(T_975, n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
    mde = (t_quantile(T_975, n - 1) + t_quantile(T_80, n - 1)) * sd / math.sqrt(n) if n > 1 else float("nan")
    return {"n": n, "mean": mean, "sd": sd, "ci95": [mean - half, mean + half], "mde80": mde, "diffs": diffs}


def load_results(path: str) -> dict:
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"runs": {}, "initial": {}}


def save_results(results: dict, path: str, runs=(), world: str | None = None) -> dict:
    """Merge this process's new entries (the run keys in `runs`, the initial accuracies of `world`) into the file
    as it is now, under a lock, and write it atomically: two studies sharing the file (one per world, say) keep
    each other's runs, and a kill while writing leaves the previous file whole. Returns the merged results."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merged = load_results(path)
        merged["runs"].update({k: results["runs"][k] for k in runs})
        if world is not None:
            merged["initial"][world] = results["initial"][world]
        with open(path + ".tmp", "w") as f:
            json.dump(merged, f, indent=1)
        os.replace(path + ".tmp", path)
    return merged


def initial_accuracy(agents: list[str], cfg: Config) -> dict:
    """Greedy solo accuracy of the initial models on the held-out problems, measured once per world (with the
    token budget the runs' own evaluation uses)."""
    questions = tasks.load_questions("tinyworld", cfg.eval_n)
    budget = flags.parse(train.Config, cfg.extra.split(), choices=train.CHOICES).max_new_tokens
    out = {}
    for name in agents:
        model, tok = models.load(name)
        out[name] = evaluate.solo_accuracy(model, tok, questions, max_new_tokens=budget, samples=0)[0]   # greedy
    return out


def rasch_path(cfg: Config, agents: list[str]) -> str:
    """One Rasch table per world and setting, shared by every seed and arm: made by the world's first ILR run
    (self-ranking with that run's seed) and read by the others; kept beside --results, so a study continued from
    a fresh clone ranks nothing again. Named by what changes it: the agents' weights, the training questions and
    the extra flags (a rebuilt model or a toy run gets a table of its own)."""
    key = "|".join([models.weights_fingerprint(a) for a in agents] + [str(cfg.train_n), cfg.extra])
    name = f"rasch-{cfg.world}-{hashlib.sha1(key.encode()).hexdigest()[:10]}.jsonl"
    return os.path.join(os.path.dirname(cfg.results) or ".", name)


def base_flags(cfg: Config, seed: int, table: str) -> list[str]:
    return ["--seed", str(seed), "--steps", str(cfg.steps), "--eval_n", str(cfg.eval_n), "--eval_samples", "0",
            "--eval_before", "false", "--sample_every", "0", "--save_every", "0", "--log_every", "10",
            "--train_n", str(cfg.train_n), "--rasch_table", table] + cfg.extra.split()


def settings(argv: list[str]) -> list[str]:
    """A run's flags without --rasch_table (a path derived from the others): what must match to reuse a run."""
    i = argv.index("--rasch_table")
    return argv[:i] + argv[i + 2:]


def one_run(argv: list[str], folder: str) -> dict:
    """A train.py run in this process, from scratch (a folder left by an interrupted run is cleared first).
    Returns its result: after-accuracies and the generated tokens per agent per step."""
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.time()
    result = train.main(flags.parse(train.Config, argv + ["--out_dir", folder], choices=train.CHOICES))
    return {"after": [g for g, _ in result["after"]], **training_summary(folder), "minutes": (time.time() - t0) / 60}


def training_summary(folder: str) -> dict:
    """What the study keeps of a run's log, per agent: generated tokens per step (share + analysis + fusion), the
    mean gradient norm, and how often its first (solo) answer was right over the last 10 training steps."""
    config, rows = plots.read_log(folder)
    episodes = config["questions_per_step"] * config["group_size"]            # per agent per step
    m = len(config["agents"].split(","))
    return {"tokens_per_step": [statistics.mean(episodes * sum(r.get(f"{i}/len_{s}", 0.0) for s in
                                                               ("share", "analysis", "fusion")) for r in rows)
                                for i in range(m)],
            "grad_norm": [statistics.mean(r[f"{i}/grad_norm"] for r in rows) for i in range(m)],
            "first_last10": [statistics.mean(r[f"{i}/first"] for r in rows[-10:]) for i in range(m)]}


def plan(cfg: Config, agents: list[str], results: dict):
    """(key, argv, folder) of every run not yet in the results, in order: for each seed, each arm."""
    table = rasch_path(cfg, agents)
    for seed in (int(s) for s in cfg.seeds.split(",")):
        base = base_flags(cfg, seed, table)
        for arm in cfg.arms.split(","):
            if ARMS[arm] is not None:
                yield (f"{cfg.world}/{arm}/seed{seed}", base + ["--agents", ",".join(agents),
                       "--questions_per_step", str(cfg.questions_per_step)] + ARMS[arm])
                continue
            for i, a in enumerate(agents):
                n = cfg.questions_per_step
                if arm == "grpo-tokens":   # match the tokens this agent generated per step in the ilr run
                    ilr, alone = (results["runs"].get(f"{cfg.world}/{k}/seed{seed}") for k in ("ilr", f"grpo-{a}"))
                    if ilr is None or alone is None:   # not run yet: they come first, the plan resumes after them
                        return
                    n = max(1, round(n * ilr["tokens_per_step"][i] / alone["tokens_per_step"][0]))
                yield (f"{cfg.world}/{arm}-{a}/seed{seed}" if arm == "grpo-tokens" else
                       f"{cfg.world}/grpo-{a}/seed{seed}", base + ["--agents", a, "--questions_per_step", str(n)])


def design(cfg: Config, agents: list[str]) -> list[str]:
    """The key of every run of the study, planned or not yet plannable (grpo-tokens waits for its seed's runs)."""
    return [f"{cfg.world}/{arm}/seed{s}" if ARMS[arm] is not None else f"{cfg.world}/{arm}-{a}/seed{s}"
            for s in dict.fromkeys(int(s) for s in cfg.seeds.split(","))
            for arm in dict.fromkeys(cfg.arms.split(","))
            for a in (agents if ARMS[arm] is None else [None])]


def summarise(results: dict, world: str, agents: list[str]) -> dict:
    """Per comparison (ilr and each other ILR arm against grpo and grpo-tokens) and agent: the paired differences
    over the seeds both runs finished; under "common", each ILR arm - grpo on the seeds every arm finished."""
    runs = {k: v for k, v in results["runs"].items() if k.startswith(world + "/")}

    def acc(arm: str, agent_index: int, seed: int):
        if arm in ("grpo", "grpo-tokens"):
            r = runs.get(f"{world}/{arm}-{agents[agent_index]}/seed{seed}")
            return None if r is None else r["after"][0]
        r = runs.get(f"{world}/{arm}/seed{seed}")
        return None if r is None else r["after"][agent_index]
    seeds = sorted({int(k.rsplit("seed", 1)[1]) for k in runs})
    found = {k.split("/")[1] for k in runs if not k.split("/")[1].startswith("grpo")}
    arms = [a for a in ARMS if a in found] + sorted(found - set(ARMS))
    out = {"initial": results["initial"].get(world, {}), "arms": {}, "diffs": {}}
    for arm in arms + ["grpo", "grpo-tokens"]:
        for i, a in enumerate(agents):
            values = [v for v in (acc(arm, i, s) for s in seeds) if v is not None]
            if values:
                out["arms"].setdefault(arm, {})[a] = {"n": len(values), "mean": statistics.mean(values),
                                                      "sd": statistics.stdev(values) if len(values) > 1 else 0.0}
    for arm in arms:
        for base in ("grpo", "grpo-tokens"):
            for i, a in enumerate(agents):
                pairs = [(acc(arm, i, s), acc(base, i, s)) for s in seeds]
                diffs = [x - y for x, y in pairs if x is not None and y is not None]
                if len(diffs) >= 2:
                    out["diffs"].setdefault(f"{arm} - {base}", {})[a] = paired(diffs)
    # every ILR arm against GRPO on the seeds all of them finished, so that arms run on fewer seeds compare fairly
    done = [s for s in seeds if all(acc(arm, i, s) is not None for arm in arms + ["grpo"] for i in range(len(agents)))]
    if len(arms) > 1 and len(done) >= 2:
        out["common"] = {"seeds": done, "diffs": {arm: {a: statistics.mean(acc(arm, i, s) - acc("grpo", i, s)
                                                                        for s in done)
                                                         for i, a in enumerate(agents)} for arm in arms}}
    return out


def report(summary: dict, world: str, agents: list[str]) -> str:
    lines = [f"world {world}: held-out greedy solo accuracy; initial " +
             ", ".join(f"{a} {summary['initial'].get(a, float('nan')):.3f}" for a in agents)]
    for arm, per in summary["arms"].items():
        lines.append(f"  {arm:16s} " + "  ".join(f"{a} {v['mean']:.3f} +- {v['sd']:.3f} (n {v['n']})"
                                               for a, v in per.items()))
    for name, per in summary["diffs"].items():
        for a, d in per.items():
            lines.append(f"  {name:30s} {a:15s} {d['mean']:+.4f}  95% [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
                         f"  detectable >= {d['mde80']:.4f}  (n {d['n']})")
    if "common" in summary:
        c = summary["common"]
        lines.append(f"  on the seeds every arm finished ({', '.join(map(str, c['seeds']))}), mean arm - grpo:")
        lines += [f"    {arm:24s} " + "  ".join(f"{a} {d:+.4f}" for a, d in per.items())
                  for arm, per in c["diffs"].items()]
    return "\n".join(lines)


def plot(results: dict, path: str) -> None:
    """Left: ILR - GRPO (same steps, same tokens) per world. Right: every ILR arm - GRPO (same steps), the lambda
    sweep and the ablations, per world. Points: mean paired difference per agent; bars: 95% intervals."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(13, 3.8))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
    ticks = {left: [], right: []}
    for world, spec in tinyworld.WORLDS.items():
        diffs = summarise(results, world, list(spec["models"]))["diffs"]
        sweep = [n for n in diffs if n.endswith(" - grpo")]
        for ax, names in ((left, [n for n in ("ilr - grpo", "ilr - grpo-tokens") if n in diffs]), (right, sweep)):
            for name in names:
                x = len(ticks[ax])
                for j, (a, d) in enumerate(diffs[name].items()):
                    lo, hi = d["ci95"]
                    ax.errorbar([x + 0.25 * j], [d["mean"]], yerr=[[d["mean"] - lo], [hi - d["mean"]]], fmt="o",
                                color=f"C{j}", capsize=4, label=a)
                ticks[ax].append((x + 0.125, f"{world}\n{name.replace(' - ', chr(10) + '- ')}"
                                  f"\n(n {min(d['n'] for d in diffs[name].values())})"))
    for ax, title in ((left, "ILR against GRPO"), (right, "each ILR arm against GRPO of the same steps")):
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xticks([t for t, _ in ticks[ax]], [n for _, n in ticks[ax]], fontsize=7)
        ax.set_title(title, fontsize=9)
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(dict(zip(labels, handles)).values(), dict(zip(labels, handles)).keys(), fontsize=7)
        ax.grid(alpha=0.3)
    left.set_ylabel("paired difference in solo accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> dict:
    cfg = flags.parse(Config, argv, __doc__.split("\n")[0], choices={"world": tuple(tinyworld.WORLDS)})
    arms = cfg.arms.split(",")
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        sys.exit(f"experiments.talking: --arms {','.join(unknown)} unknown; choose from {', '.join(ARMS)}")
    if "grpo-tokens" in arms and not {"grpo", "ilr"} <= set(arms[:arms.index("grpo-tokens")]):
        sys.exit("experiments.talking: grpo-tokens matches the tokens of the ilr and grpo runs of the same seed: put "
                 "grpo and ilr before it in --arms")
    agents = list(tinyworld.WORLDS[cfg.world]["models"])
    for a in agents:
        if not os.path.exists(os.path.join(models.local_folder(a), "config.json")):
            sys.exit(f"experiments.talking: the {cfg.world} world's model {a} is missing; build it with "
                     f"python -m experiments.warmstart --world {cfg.world}")
    results = load_results(cfg.results)
    if cfg.world not in results["initial"] or results["initial"][cfg.world].get("eval_n") != cfg.eval_n:
        results["initial"][cfg.world] = {"eval_n": cfg.eval_n, **initial_accuracy(agents, cfg)}
        results = save_results(results, cfg.results, world=cfg.world)
    t0 = time.time()
    while True:   # plan again after each run: grpo-tokens needs the token counts of the runs before it
        planned = list(plan(cfg, agents, results))
        for k, run_argv in planned:   # a finished run is reused only if it was made with the same settings
            if k in results["runs"] and settings(results["runs"][k]["argv"]) != settings(run_argv):
                sys.exit(f"experiments.talking: {k} in {cfg.results} was run with other settings "
                         f"({' '.join(settings(results['runs'][k]['argv']))}); give this study its own --results "
                         f"(and --out), or delete that run from the file")
        todo = [(k, run_argv) for k, run_argv in planned if k not in results["runs"]]
        if not todo:
            break
        k, run_argv = todo[0]
        results["runs"][k] = {"argv": run_argv, **one_run(run_argv, os.path.join(cfg.out, k))}
        results = save_results(results, cfg.results, runs=[k])
        left = sum(k not in results["runs"] for k in design(cfg, agents))
        print(f"[talking] {k}: after {results['runs'][k]['after']} ({(time.time() - t0) / 60:.1f} min, "
              f"{left} runs left)", flush=True)
    summary = summarise(results, cfg.world, agents)
    print(report(summary, cfg.world, agents))
    folder = os.path.dirname(cfg.results) or "."
    with open(os.path.join(folder, "results.md"), "w") as f:   # every world's summary, as text beside the JSON
        f.write("Written by `python -m experiments.talking` from results.json: greedy solo accuracy on the held-out "
                "problems after training; paired differences over seeds with 95% t-intervals and the smallest "
                "difference detectable with 80% power.\n\n```\n" + "\n\n".join(
                    report(summarise(results, w, list(spec["models"])), w, list(spec["models"]))
                    for w, spec in tinyworld.WORLDS.items() if w in results["initial"]) + "\n```\n")
    try:
        plot(results, os.path.join(folder, "results.png"))
    except ImportError:
        print("pip install matplotlib for the plot")
    return summary


if __name__ == "__main__":
    torch.set_num_threads(os.cpu_count() or 1)
    main()
