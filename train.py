"""Train a policy with GRPO on verifiable questions: one flat loop, one CPU, one GPU, or many through torchrun.

This is single-agent GRPO, the paper's main baseline and the inner loop of ILR. Every step:
  1. take `questions_per_step` questions (the same global batch on every rank; each rank keeps its slice)
  2. sample G completions per question with grpo.generate (policy in eval mode, unwrapped from DDP)
  3. reward each completion: 1 if the judge finds its \\boxed{} answer equal to the gold answer, else 0,
     plus `format_reward` if it wrote a parsable answer at all (0 by default)
  4. advantages A = r - mean(r) within each question's group (grpo.group_advantages)
  5. one optimizer step on the clipped surrogate (+ k3 KL to the frozen initial policy if kl_coef > 0),
     accumulated over micro-batches, aggregated over the whole step (grpo.aggregate), DDP-averaged across ranks
With updates_per_batch = 1 the policy that sampled is the one being updated, so the ratio is exactly 1 and the
logged loss is ~0 while the gradient is not: read reward, accuracy, KL and clip fraction to see progress.

The embedded default needs no network: the tiny world's strong model (tinyworld.py), whose warm start forgets
the borrow in subtraction 70% of the time. It measures held-out accuracy (greedy, the paper's protocol, and
sampled at T=1), trains for at most `max_minutes`, and measures again.

Run:
    torchrun --standalone --nproc_per_node=1 train.py                       # the tiny world, ~6 min on 2 CPU cores
    torchrun --standalone --nproc_per_node=2 train.py --max_minutes 1       # two processes (gloo on CPU)
    torchrun --standalone --nproc_per_node=8 train.py --model Qwen/Qwen2.5-1.5B-Instruct --data math_train \\
        --eval_data math500 --max_new_tokens 1024 --questions_per_step 64 --micro_batch 16 --dtype bfloat16
Every field of Config is a flag: --name value (booleans: --name true/false).
"""
import contextlib
import copy
import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass

import torch
import torch.distributed as dist

import evaluate
import grpo
import models
from tasks import tinyworld
from judge import grade


@dataclass
class Config:
    model: str = "tiny-strong"       # policy: tiny-strong | tiny-weak | smollm2 | a hub id | a local folder
    data: str = "tinyworld"          # training questions: tinyworld, or a benchmarks.py name (math_train, gsm8k ...)
    eval_data: str = "tinyworld"     # held-out questions for the before/after accuracy; "" skips evaluation
    eval_n: int = 500                # how many held-out questions (the first eval_n)
    eval_samples: int = 4            # samples per question for the T=1 accuracy (mean@k)
    max_minutes: float = 5.0         # wall-clock budget for the GRPO loop, evaluation excluded (0 = none)
    steps: int = 100_000             # at most this many optimizer steps
    questions_per_step: int = 16     # questions per optimizer step, over all ranks (divisible by world size)
    group_size: int = 8              # G: completions sampled per question
    micro_batch: int = 64            # completions per forward/backward pass (memory knob; the math is unchanged)
    max_new_tokens: int = 64         # completion budget; a completion that hits it is "truncated" (reward as is)
    temperature: float = 1.0         # sampling temperature of the rollouts (and of the log-probs in the loss)
    top_p: float = 1.0               # nucleus sampling of the rollouts
    lr: float = 1e-4                 # AdamW learning rate (constant after warm-up; 2e-4 collapsed here)
    warmup_steps: int = 5            # linear learning-rate warm-up
    weight_decay: float = 0.0        # AdamW weight decay
    grad_clip: float = 1.0           # clip the global gradient norm (0 = off)
    eps_low: float = 0.2             # ratio clip below: 1 - eps_low
    eps_high: float = 0.2            # ratio clip above: 1 + eps_high (DAPO's clip-higher uses 0.28)
    kl_coef: float = 0.0             # beta of the k3 KL to the frozen initial policy (0 = no reference model)
    loss_agg: str = "seq-mean"       # token-mean | seq-mean (DeepSeekMath, the paper's presumed form) | constant
    scale_adv_by_std: bool = False   # divide advantages by the group's std (original GRPO) or not (Dr. GRPO)
    skip_zero_std: bool = False      # drop groups with equal rewards from the loss normaliser (they carry no signal)
    updates_per_batch: int = 1       # optimizer steps per batch of rollouts (> 1: PPO-style reuse, ratio != 1)
    format_reward: float = 0.0       # added to the reward when the completion has a parsable final answer
    seed: int = 0                    # seeds the question stream, the initialisation and the sampling
    dtype: str = "float32"           # float32 | bfloat16 | float16 for the policy weights
    device: str = "auto"             # auto (cuda if available), cpu, cuda
    log_every: int = 1               # console line every N steps (the JSONL log gets every step)
    sample_every: int = 20           # print one sampled completion every N steps (0 = never)
    out_dir: str = "runs/grpo"       # JSONL log and the final Hugging Face checkpoint go here
    save: bool = True                # write the final checkpoint


def parse_args(argv: list[str]) -> Config:
    """--field value for every Config field; unknown flags and bad values are errors that name the field."""
    cfg, fields = Config(), {f.name: f for f in dataclasses.fields(Config)}
    if len(argv) % 2:
        sys.exit(f"flags come in pairs --name value; got {argv}")
    for flag, value in zip(argv[::2], argv[1::2]):
        name = flag.lstrip("-").replace("-", "_")
        if not flag.startswith("--") or name not in fields:
            sys.exit(f"unknown flag {flag!r}; known: {', '.join('--' + n for n in fields)}")
        kind = type(getattr(cfg, name))
        try:
            parsed = {"true": True, "false": False}[value.lower()] if kind is bool else kind(value)
        except (ValueError, KeyError):
            sys.exit(f"--{name} expects a {kind.__name__}, got {value!r}")
        setattr(cfg, name, parsed)
    if cfg.loss_agg not in grpo.AGGREGATIONS:
        sys.exit(f"--loss_agg must be one of {grpo.AGGREGATIONS}, got {cfg.loss_agg!r}")
    return cfg


# ----------------------------------------------------------------------------------------------------------------
# Data: the same global batch on every rank, drawn from one seeded stream


def question_stream(cfg: Config):
    """Endless training questions {id, question, answer, benchmark}, identical on every rank."""
    if cfg.data == "tinyworld":
        for i, p in enumerate(tinyworld.train_problems(cfg.seed)):
            yield {"id": f"train-{i}", "question": p["question"], "answer": str(p["answer"]), "benchmark": "tinyworld"}
    from tasks import benchmarks
    rows = [evaluate.as_dict(r) for r in benchmarks.load_benchmark(cfg.data)]
    rng = random.Random(cfg.seed)
    while True:                                   # epochs over a shuffled copy
        order = rows[:]
        rng.shuffle(order)
        yield from order


def eval_examples(cfg: Config) -> list[dict]:
    if cfg.eval_data == "tinyworld":
        return evaluate.tinyworld_examples(cfg.eval_n)
    from tasks import benchmarks
    return [evaluate.as_dict(r) for r in benchmarks.load_benchmark(cfg.eval_data, limit=cfg.eval_n)]


def held_out_accuracy(cfg, model, tok, examples, rank, world):
    """Greedy accuracy and T=1 mean@k on this rank's shard, summed over ranks."""
    shard = examples[rank::world]
    greedy = evaluate.solo_eval(model, tok, shard, cfg.max_new_tokens, temperature=0.0, show_progress=rank == 0)
    sampled = evaluate.solo_eval(model, tok, shard, cfg.max_new_tokens, temperature=1.0, samples=cfg.eval_samples,
                                 seed=cfg.seed + rank, show_progress=rank == 0)
    counts = torch.tensor([sum(r["correct"] for r in greedy), len(greedy),
                           sum(r["correct"] for r in sampled), len(sampled)], dtype=torch.float64)
    if world > 1:
        dist.all_reduce(counts)
    return float(counts[0] / counts[1]), float(counts[2] / counts[3])


# ----------------------------------------------------------------------------------------------------------------
# The update: micro-batches, one aggregate over the whole step, DDP-averaged gradients


def policy_update(cfg: Config, policy, optimizer, batch: dict, world: int, ref_model=None) -> dict:
    """One optimizer step on this rank's rollouts.

    batch: tokens, attention_mask, loss_mask (N, L); advantages (N,); prompt_len P; old_logp (N, L - P) or None.
    `policy` is a grpo.TokenLogprobs, DDP-wrapped when world > 1: DDP averages gradients over ranks, so each rank
    divides the step totals by `world`, making the update equal to one process holding the whole global batch.
    """
    P = batch["prompt_len"]
    mask = batch["loss_mask"][:, P:]                                                 # (N, T) completion tokens
    # Totals of the whole step over all ranks, so every micro-batch is normalised by the same numbers.
    totals = torch.tensor([mask.sum(), (mask.sum(-1) > 0).sum()], dtype=torch.float64)
    if world > 1:
        dist.all_reduce(totals)
    step_tokens, step_seqs = float(totals[0]) / world, float(totals[1]) / world
    step_tokens, step_seqs = max(step_tokens, 1e-8), max(step_seqs, 1e-8)   # an all-skipped step: zero loss
    N, stats = mask.shape[0], {"clip_frac": 0.0, "kl": 0.0, "loss": 0.0}
    starts = list(range(0, N, cfg.micro_batch))
    for i in starts:
        sl = slice(i, i + cfg.micro_batch)
        last = i == starts[-1]
        # Only the last micro-batch all-reduces gradients; the others accumulate locally.
        with policy.no_sync() if (world > 1 and not last) else contextlib.nullcontext():
            logp = policy(batch["tokens"][sl], batch["attention_mask"][sl], P, cfg.temperature)     # (n, T)
            old = batch["old_logp"][sl] if batch.get("old_logp") is not None else logp.detach()
            ref = None
            if ref_model is not None:
                with torch.no_grad():
                    ref = grpo.token_logprobs(ref_model, batch["tokens"][sl], batch["attention_mask"][sl], P,
                                              temperature=cfg.temperature)
            token_loss, s = grpo.grpo_loss(logp, old, batch["advantages"][sl], mask[sl], cfg.eps_low, cfg.eps_high,
                                           ref, cfg.kl_coef)
            loss = grpo.aggregate(token_loss, mask[sl], cfg.loss_agg, step_tokens, step_seqs, cfg.max_new_tokens)
            loss.backward()
        w = float(mask[sl].sum()) / max(float(mask.sum()), 1.0)
        stats["clip_frac"] += s["clip_frac"] * w
        stats["kl"] += s.get("kl", 0.0) * w
        stats["loss"] += float(loss.detach())
    params = [p for p in policy.parameters() if p.requires_grad]
    norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else float("inf"))
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    stats["grad_norm"] = float(norm)
    return stats


# ----------------------------------------------------------------------------------------------------------------
# Rewards


def rewards_for(texts: list[str], golds: list[str], format_reward: float):
    """(reward, correct) per completion. The judge extracts the last \\boxed{} answer and checks equivalence."""
    out = []
    for text, gold in zip(texts, golds):
        v = grade(text, gold)
        out.append((float(v.correct) + (format_reward if v.answer is not None else 0.0), v.correct))
    return out


# ----------------------------------------------------------------------------------------------------------------
# Main loop


def main(cfg: Config) -> dict:
    world, rank = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))
    device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if cfg.device == "auto" else cfg.device))
    if world > 1:
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cpu":   # share the cores: N processes x N threads each would oversubscribe them
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    if cfg.questions_per_step % world:
        sys.exit(f"--questions_per_step {cfg.questions_per_step} must be divisible by the {world} processes")
    master = rank == 0
    log = print if master else (lambda *a, **k: None)
    torch.manual_seed(cfg.seed)

    model, tok = models.load(cfg.model, dtype=getattr(torch, cfg.dtype), device=device)
    eos, pad = models.eos_ids(model, tok), tok.pad_token_id
    ref_model = copy.deepcopy(model).eval().requires_grad_(False) if cfg.kl_coef > 0 else None
    policy = grpo.TokenLogprobs(model)
    if world > 1:
        policy = torch.nn.parallel.DistributedDataParallel(policy, device_ids=[device] if device.type == "cuda" else None)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / max(1, cfg.warmup_steps)))
    gen = torch.Generator(device=device).manual_seed(cfg.seed * 1000 + rank)   # each rank samples differently
    stream = question_stream(cfg)
    if master:
        os.makedirs(cfg.out_dir, exist_ok=True)
        logf = open(os.path.join(cfg.out_dir, "log.jsonl"), "w")
        logf.write(json.dumps({"config": dataclasses.asdict(cfg), "world": world}) + "\n")
    log(f"{cfg.model}: {models.num_params(model) / 1e6:.2f}M parameters on {device} x {world} | "
        f"{cfg.questions_per_step} questions x G={cfg.group_size} per step | loss {cfg.loss_agg} | lr {cfg.lr}")

    result = {}
    examples = eval_examples(cfg) if cfg.eval_data else []
    if examples:
        g0, s0 = held_out_accuracy(cfg, model, tok, examples, rank, world)
        result.update(greedy_before=g0, sampled_before=s0)
        log(f"before GRPO | held-out accuracy: greedy {g0:.3f} | sampled T=1 mean@{cfg.eval_samples} {s0:.3f} "
            f"({len(examples)} questions)")

    t_start = time.time()
    for step in range(cfg.steps):
        if cfg.max_minutes and time.time() - t_start > 60 * cfg.max_minutes:
            break
        t0 = time.time()
        # 1. the global batch, identical on every rank; this rank keeps every world-th question
        questions = [next(stream) for _ in range(cfg.questions_per_step)][rank::world]
        prompts = [evaluate.encode_chat(tok, evaluate.solo_messages(q["question"], q["benchmark"]))
                   for q in questions]
        # 2. rollouts with the plain model (never through DDP), in eval mode (no dropout)
        model.eval()
        r = grpo.generate(model, prompts, cfg.max_new_tokens, eos, pad, num_samples=cfg.group_size,
                          temperature=cfg.temperature, top_p=cfg.top_p, generator=gen)
        t_gen = time.time() - t0
        # 3. rewards and 4. advantages
        texts = tok.batch_decode(r.completions, skip_special_tokens=True)
        golds = [q["answer"] for q in questions for _ in range(cfg.group_size)]
        scored = rewards_for(texts, golds, cfg.format_reward)
        rewards = torch.tensor([s[0] for s in scored]).view(-1, cfg.group_size)            # (B, G)
        correct = torch.tensor([float(s[1]) for s in scored])
        adv, zero_std = grpo.group_advantages(rewards, cfg.scale_adv_by_std)
        loss_mask = r.loss_mask.clone()
        if cfg.skip_zero_std:   # equal-reward groups leave the normaliser too (they are still computed)
            loss_mask[zero_std.repeat_interleave(cfg.group_size)] = 0
        batch = {"tokens": r.tokens, "attention_mask": r.attention_mask, "loss_mask": loss_mask,
                 "advantages": adv.view(-1).to(device), "prompt_len": r.prompt_len, "old_logp": None}
        # 5. the update (with more than one update per batch, freeze the sampling policy's log-probs first)
        model.train()
        if cfg.updates_per_batch > 1:
            with torch.no_grad():
                batch["old_logp"] = grpo.token_logprobs(model, r.tokens, r.attention_mask, r.prompt_len,
                                                        cfg.temperature)
        for _ in range(cfg.updates_per_batch):
            stats = policy_update(cfg, policy, optimizer, batch, world, ref_model)
        sched.step()

        # logging: sums over ranks, so the line describes the global batch
        m = torch.tensor([float(rewards.sum()), float(correct.sum()), float(zero_std.sum()), float(r.lengths.sum()),
                          float(r.truncated.sum()), float(r.lengths.numel()), float(zero_std.numel())],
                         dtype=torch.float64)
        if world > 1:
            dist.all_reduce(m)
        n = m[5]
        dt = time.time() - t0
        row = {"step": step, "reward": float(m[0] / n), "acc": float(m[1] / n), "frac_zero_std": float(m[2] / m[6]),
               "len": float(m[3] / n), "trunc": float(m[4] / n), "kl": stats["kl"], "clip_frac": stats["clip_frac"],
               "grad_norm": stats["grad_norm"], "loss": stats["loss"], "tok_per_s": float(m[3]) / dt,
               "gen_s": t_gen, "step_s": dt, "lr": sched.get_last_lr()[0], "minutes": (time.time() - t_start) / 60}
        if master:
            logf.write(json.dumps(row) + "\n")
            logf.flush()
            if step % cfg.log_every == 0:
                log(f"step {step:4d} | reward {row['reward']:.3f} | acc {row['acc']:.3f} | zero_std "
                    f"{row['frac_zero_std']:.2f} | len {row['len']:5.1f} trunc {row['trunc']:.2f} | kl {row['kl']:.4f} "
                    f"| clip {row['clip_frac']:.3f} | gnorm {row['grad_norm']:.3f} | {row['tok_per_s']:6.0f} tok/s "
                    f"| {dt:.2f}s (gen {t_gen:.2f}s)")
            if cfg.sample_every and step % cfg.sample_every == 0:
                log(f"  sample | Q: {questions[0]['question']}\n  A (reward {rewards[0, 0]:.2f}, gold "
                    f"{questions[0]['answer']}): " + texts[0].strip().replace("\n", " | "))
    result["steps"], result["minutes"] = step + 1, (time.time() - t_start) / 60

    if examples:
        g1, s1 = held_out_accuracy(cfg, model, tok, examples, rank, world)
        result.update(greedy_after=g1, sampled_after=s1)
        log(f"after GRPO  | held-out accuracy: greedy {g1:.3f} | sampled T=1 mean@{cfg.eval_samples} {s1:.3f}")
        log(f"change      | greedy {g1 - result['greedy_before']:+.3f} | sampled {s1 - result['sampled_before']:+.3f}"
            f"  after {result['steps']} steps, {result['minutes']:.1f} min")
    if master:
        if cfg.save:
            out = os.path.join(cfg.out_dir, "final")
            model.save_pretrained(out)
            tok.save_pretrained(out)
            log(f"saved {out} (load it with models.load({out!r}))")
        logf.write(json.dumps({"result": result}) + "\n")
        logf.close()
    if world > 1:
        dist.destroy_process_group()
    return result


if __name__ == "__main__":
    main(parse_args(sys.argv[1:]))
