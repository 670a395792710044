"""Training curves from a run's log.jsonl, as a PNG: people would rather look than read JSON lines.

    python -m lab.plots runs/ilr                # writes runs/ilr/curves.png
Per agent: the reward before and after calibration, the accuracy of the first (solo) answer and of the final
(fused) answer, each smoothed over `window` steps; and the cooperation ratio. Needs matplotlib (in
requirements.txt); train.py calls curves() at the end of every run.
"""
import json
import os
import sys


def read_log(path: str) -> tuple[dict, list[dict]]:
    """(config, step rows) of a log.jsonl (a run folder or the file itself). train.py only appends: a resumed run
    writes {"resumed_at": s} and then steps s, s+1, ... again, so every row of step >= s written before that line is
    dropped (also the ones beyond a lowered --steps); a line cut short by a crash is skipped."""
    if os.path.isdir(path):
        path = os.path.join(path, "log.jsonl")
    config, rows = {}, {}
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "config" in r:
                config = r["config"]
            elif "resumed_at" in r:   # what the interrupted run wrote after its checkpoint is not the run's
                rows = {k: v for k, v in rows.items() if k < r["resumed_at"]}
            elif "step" in r:
                rows[r["step"]] = r
    return config, [rows[k] for k in sorted(rows)]


def smooth(values: list[float], window: int) -> list[float]:
    """Trailing mean over `window` values."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def curves(run: str, out: str | None = None, window: int = 10) -> str:
    """Write the PNG of a run's curves and return its path."""
    from matplotlib.figure import Figure   # no pyplot: no backend switch, safe inside notebooks
    config, rows = read_log(run)
    agents = [a.strip() for a in config.get("agents", "agent").split(",")]
    steps = [r["step"] for r in rows]
    fig = Figure(figsize=(14, 3.6))
    axes = fig.subplots(1, 3)
    for i, name in enumerate(agents):
        color = f"C{i}"
        axes[0].plot(steps, smooth([r[f"{i}/R"] for r in rows], window), color=color, label=f"{name} R")
        if f"{i}/Rbar" in rows[0] and len(agents) > 1:
            axes[0].plot(steps, smooth([r[f"{i}/Rbar"] for r in rows], window), color=color, ls="--",
                         label=f"{name} calibrated")
        axes[1].plot(steps, smooth([r[f"{i}/first"] for r in rows], window), color=color, ls=":",
                     label=f"{name} first answer")
        axes[1].plot(steps, smooth([r[f"{i}/final"] for r in rows], window), color=color,
                     label=f"{name} final answer")
    axes[2].plot(steps, smooth([r.get("coop", 0.0) for r in rows], window), color="k")
    for ax, title in zip(axes, ("reward", "training accuracy (sampled)", "cooperation ratio")):
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    out = out or os.path.join(run if os.path.isdir(run) else os.path.dirname(run), "curves.png")
    fig.savefig(out, dpi=110)
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python -m lab.plots RUN_FOLDER [OUT.png]")
    print(curves(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
