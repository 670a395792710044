"""What the discussion costs: an ILR step (share, analyse, fuse, for every agent) beside a single-agent GRPO step on
the same questions, in one process.

For each of `--repeats` alternating rounds, on the same B questions x G samples: idea3.run_episodes with one agent
(single-agent GRPO's rollout) and with all agents (the three Idea3 stages), then one GRPO forward/backward per agent
over the episodes. Prints generated tokens, generated tokens/s, seconds per stage, and update seconds; the ratio
"ILR / single" says how many times more generation and update time a discussion costs. Compare ratios, not absolute
numbers, and run nothing else on the machine meanwhile (two CPU-heavy processes on 2 cores slow each other 3-6x).

    python -m bench.bench_ilr                                    # tiny-strong + tiny-weak on the tiny world
    python -m bench.bench_ilr --agents smollm2,tiny-weak --questions 2 --group_size 4 --max_new_tokens 64
    python -m bench.bench_ilr --agents smollm2,smollm2 --device cuda --questions 16 --max_new_tokens 256
"""
import sys
import time
from dataclasses import dataclass

import torch

import grpo
import idea3
import models
from lab import flags
from tasks import tinyworld


def update_seconds(agents, episodes) -> float:
    """One forward + backward of the GRPO loss per agent over its episodes (advantages 1: only the cost matters)."""
    t0 = time.time()
    for a, ep in zip(agents, episodes):
        a.model.train()
        dev = next(a.model.parameters()).device
        logp = grpo.token_logprobs(a.model, ep.tokens.to(dev), ep.attention_mask.to(dev), ep.start)
        mask = ep.loss_mask[:, ep.start:].to(dev)
        loss, _ = grpo.grpo_loss(logp, logp.detach(), torch.ones(logp.shape[0], device=dev), mask)
        grpo.aggregate(loss, mask, "token-mean", float(mask.sum()), float(mask.shape[0]), 1).backward()
        a.model.zero_grad(set_to_none=True)
        if dev.type == "cuda":
            torch.cuda.synchronize()
    return time.time() - t0


@dataclass
class Config:
    agents: str = "tiny-strong,tiny-weak"  # comma list of models (two or more)
    questions: int = 8               # questions per step
    group_size: int = 8              # G
    max_new_tokens: int = 64         # per turn (train.py's default)
    repeats: int = 3                 # alternating rounds after one warm-up round
    device: str = "auto"             # auto (cuda if available) | cpu | cuda
    dtype: str = "float32"           # float32 | bfloat16 | float16


def main():
    args = flags.parse(Config, sys.argv[1:], __doc__.split("\n")[0])
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    agents = []
    for name in args.agents.split(","):
        model, tok = models.load(name, dtype=getattr(torch, args.dtype), device=args.device)
        agents.append(idea3.Agent(name, model, tok, models.eos_ids(model, tok), tok.pad_token_id))
    qs = [tinyworld.as_question(p, i, "bench") for i, p in enumerate(tinyworld.test_problems(args.questions))]
    if not any(a.name.startswith("tiny") for a in agents):   # real models get the ordinary math prompt
        qs = [{**q, "benchmark": "bench"} for q in qs]
    t = args.max_new_tokens
    settings = idea3.Settings(args.group_size, 1.0, 1.0, {"share": t, "analysis": t, "fusion": t}, 4 * t)
    totals = {"single": [0, 0.0, 0.0], "ilr": [0, 0.0, 0.0]}   # generated tokens, generation s, update s
    stages = {}
    for r in range(args.repeats + 1):
        for kind, group in (("single", agents[:1]), ("ilr", agents)):
            gens = [torch.Generator(args.device).manual_seed(r * 10 + i) for i in range(len(group))]
            t0 = time.time()
            eps = idea3.run_episodes(group, qs, ["cooperate"] * len(qs), settings, gens)
            gen_s = time.time() - t0
            upd_s = update_seconds(group, eps)
            if r == 0:
                continue   # warm-up
            tokens = sum(int(v.sum()) for ep in eps for v in ep.lengths.values())
            for i, (x, y) in enumerate(zip(totals[kind], (tokens, gen_s, upd_s))):
                totals[kind][i] = x + y
            if kind == "ilr":
                for ep in eps:
                    for s, sec in ep.seconds.items():
                        stages[s] = stages.get(s, 0.0) + sec
    n = args.repeats
    print(f"{args.agents} | {args.questions} questions x G={args.group_size} | up to {t} tokens per turn | "
          f"{args.device} | mean of {n} rounds")
    print(f"{'':8s} {'tokens':>8s} {'gen s':>7s} {'tok/s':>7s} {'update s':>9s}")
    for kind, (tok_n, g, u) in totals.items():
        print(f"{kind:8s} {tok_n / n:8.0f} {g / n:7.2f} {tok_n / g:7.0f} {u / n:9.2f}")
    s, i = totals["single"], totals["ilr"]
    print(f"ILR / single: {i[0] / s[0]:.2f}x tokens, {i[1] / s[1]:.2f}x generation time, {i[2] / s[2]:.2f}x update "
          f"time | ILR generation by stage (s, all agents): " +
          ", ".join(f"{k} {v / n:.2f}" for k, v in stages.items()))


if __name__ == "__main__":
    main()
