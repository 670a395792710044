"""ILR training: m agents discuss each question (Idea3), are rewarded on their own answers, calibrated against each
other, and each is updated with GRPO. One flat loop; one CPU, one GPU, or many processes through torchrun.

Every step, for the questions of this step (each rank runs whole episodes for its share of them):
  1. the modes: cooperate where the Rasch model says the agents are likely to fail, P(q) < 0.5, else compete
  2. Idea3 episodes: G paired discussions per question (idea3.run_episodes); episode k pairs the agents' k-th samples
  3. rewards per agent: R = 1[final answer right] + share_reward * 1[own first answer right] (+ format_reward)
  4. perception calibration across agents: Rbar = calibration.calibrate(R)             (m, B, G)
  5. advantages per agent and question (credit): the discussion turns get A = Rbar - mean_k Rbar; the share turn
     its own A_share = r - mean_k r, r = 1[own first answer right] (--credit turn; --credit episode gives the
     share the discussion's A, as the paper writes it)
  6. one GRPO update per agent on its own turns: L = L_share + lambda (L_analysis + L_fusion), each term
     normalised over its own tokens (clipped surrogate, optional k3 KL to the agent's initial copy)
  7. abilities re-estimated from the sharing turns' correctness (optional), logs, checkpoints
With one agent there is no discussion, R = 1[answer right], and this is single-agent GRPO, the paper's baseline (in
Dr. GRPO's form: no std scaling, no KL, unless --scale_adv_by_std / --kl_coef). With lambda = 0 an ILR step is
exactly that GRPO step on the share samples (tests/test_credit.py).
Read reward and accuracy, not the loss (grpo.py says why it is ~0).
Before the loop the agents rank the training and validation questions by answering each K times alone, and one
Rasch model is fitted to those answers (self-ranking, cached in runs/rasch/, copied to out_dir/rasch.jsonl).

Run (every Config field is a flag: python train.py --help; the default, ILR on the tiny world, took 5 min on 2 cores):
    torchrun --standalone --nproc_per_node=1 train.py
    torchrun --standalone --nproc_per_node=1 train.py --agents tiny-strong      # single-agent GRPO, same budget
    torchrun --standalone --nproc_per_node=2 train.py --interaction ratio --coop_ratio 0.4
    torchrun --standalone --nproc_per_node=8 train.py --data math_train --eval_data math500 --max_new_tokens 1024 \\
        --agents Qwen/Qwen2.5-7B-Instruct,meta-llama/Llama-3.1-8B-Instruct --peer_max_tokens 1024 --dtype bfloat16 \\
        --fsdp --grad_checkpointing --gen_batch 16       # sharded over the 8 GPUs; GB per GPU: python -m lab.fsdp
"""
import contextlib
import copy
import dataclasses
import gc
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.distributed as dist

import calibration
import evaluate
import grpo
import idea3
import irt
import models
import tasks
import judge
from lab import checkpoint, flags, fsdp, plots   # every fsdp.* call below is a no-op unless --fsdp


@dataclass
class Config:
    agents: str = "tiny-strong,tiny-weak"  # comma list: tiny-strong | tiny-weak | smollm2 | hub id | folder; one = GRPO
    data: str = "tinyworld"          # training questions: tinyworld (its train split) or a tasks.benchmarks name
    eval_data: str = "tinyworld"     # held-out questions for the before/after solo accuracy; "" skips it
    eval_n: int = 500                # how many held-out questions (the first eval_n)
    eval_samples: int = 4            # samples per question for the T=1 accuracy (mean@k); 0 skips it
    eval_before: bool = True         # measure the agents before training too (a study that did once turns it off)
    val_n: int = 500                 # validation questions for the abilities (benchmarks: held back from training)
    train_n: int = 0                 # use only the first N training questions (0 = the whole pool; small for tests)
    steps: int = 50                  # optimizer steps per agent (a budget in steps reproduces; 50: 3.8 min here)
    questions_per_step: int = 8      # questions per step over all ranks (divisible by the number of processes)
    group_size: int = 8              # G: episodes per question (each agent samples G first solutions)
    micro_batch: int = 64            # conversations per forward/backward pass (memory knob; the math is unchanged)
    gen_batch: int = 64              # questions per generate call in self-ranking and evaluation (x samples rows)
    max_new_tokens: int = 64         # token budget of each turn (tiny world: at most 48, 63 and 48 tokens)
    peer_max_tokens: int = 256       # a peer's text is cut to this many reader tokens (head and tail kept)
    interaction: str = "irt"         # irt (Rasch P < 0.5 cooperates) | cooperate | compete | ratio (a fixed share)
    coop_ratio: float = 0.5          # with --interaction ratio: the fraction of each step's questions that cooperate
    irt_rule: str = "mean"           # how the agents' P(q) combine into one mode: mean | min | max
    rank_samples: int = 4            # K: solo samples per agent per question for self-ranking
    rasch_table: str = ""            # a saved Rasch table; "" = runs/rasch/<agents, data, K, seed, weights>.jsonl
    update_abilities: bool = True    # re-estimate abilities from the sharing turns as training goes (difficulty fixed)
    ability_drift: float = 0.05      # how fast old evidence about an ability is forgotten (random-walk sd per step)
    share_reward: float = 0.5        # reward weight of the agent's own first answer (gives R more than two levels)
    format_reward: float = 0.0       # added when the final turn has a parsable answer at all
    calibrate: bool = True           # perception calibration (False: the ablation "without calibration")
    share_analyses: bool = False     # fusion also shows what the peers said about the agent's own solution
    train_turns: str = "all"         # turns that carry the gradient: all | a comma list of share, analysis, fusion
    credit: str = "turn"             # turn: the share by its own answer, the discussion by the final | episode: one A
    discussion_weight: float = 1.0   # lambda: loss = share term + lambda x (analysis + fusion terms), credit turn
    lr: float = 1e-4                 # AdamW learning rate (constant after warm-up; 2e-4 collapsed single-agent GRPO)
    warmup_steps: int = 5            # linear learning-rate warm-up
    weight_decay: float = 0.0        # AdamW weight decay
    grad_clip: float = 1.0           # clip each agent's gradient norm (0 = off)
    eps_low: float = 0.2             # ratio clip below: 1 - eps_low
    eps_high: float = 0.2            # ratio clip above: 1 + eps_high (DAPO's clip-higher uses 0.28)
    kl_coef: float = 0.0             # beta of the k3 KL to the agent's frozen initial copy (0 = no reference model)
    loss_agg: str = "seq-mean"       # token-mean | seq-mean (mean over sequences of their token mean) | constant
    scale_adv_by_std: bool = False   # divide advantages by the group's std (original GRPO) or not (Dr. GRPO)
    skip_zero_std: bool = False      # drop groups with equal rewards from the loss normaliser (they carry no signal)
    updates_per_batch: int = 1       # optimizer steps per batch of episodes (> 1: PPO-style reuse, ratio != 1)
    temperature: float = 1.0         # sampling temperature of the episodes (and of the log-probs in the loss)
    top_p: float = 1.0               # nucleus sampling of the episodes
    seed: int = 0                    # seeds the question order, the initialisation and the sampling
    dtype: str = "float32"           # float32 | bfloat16 | float16 for the weights (with --fsdp: of the compute)
    code_timeout: float = 5.0        # CPU seconds a generated program may run when code questions are rewarded
    fsdp: bool = False               # shard weights, gradients and AdamW state over ranks (FSDP2, lab/fsdp.py)
    grad_checkpointing: bool = False  # recompute decoder layers in the backward: less memory, ~1/3 more compute
    device: str = "auto"             # auto (cuda if available) | cpu | cuda
    log_every: int = 1               # console line every N steps (the JSONL log gets every step)
    sample_every: int = 25           # print one whole discussion every N steps (0 = never)
    save_every: int = 50             # checkpoint every N steps (0 = only the final models)
    resume: bool = False             # continue from the latest checkpoint in out_dir
    out_dir: str = "runs/ilr"        # log.jsonl, rasch.jsonl, checkpoints/ and final/ go here


CHOICES = {"interaction": irt.POLICIES, "irt_rule": irt.RULES, "loss_agg": grpo.AGGREGATIONS,
           "credit": ("turn", "episode"),
           "dtype": ("float32", "bfloat16", "float16"), "device": ("auto", "cpu", "cuda")}


def check(cfg: Config, world: int) -> None:
    """Refuse bad input before anything expensive, naming the flag and what it expects."""
    def need(ok, msg):
        if not ok:
            sys.exit(f"train.py: {msg}")
    names = [a.strip() for a in cfg.agents.split(",")]
    need(all(names), f"--agents {cfg.agents!r} has an empty name; give a comma list like tiny-strong,tiny-weak")
    for n in names:
        need(models.is_loadable(n), f"--agents: {n!r} is not a tiny-world name, smollm2, an existing folder or a "
                                    f"hub id (owner/name)")
    need(cfg.data in tasks.NAMES, f"--data {cfg.data!r} is unknown; use one of {tasks.NAMES}")
    need(not cfg.eval_data or cfg.eval_data in tasks.NAMES,
         f"--eval_data {cfg.eval_data!r} is unknown; use '' (no evaluation) or one of {tasks.NAMES}")
    for name in ("steps", "questions_per_step", "micro_batch", "gen_batch", "max_new_tokens", "peer_max_tokens",
                 "rank_samples", "updates_per_batch", "eval_n", "val_n"):
        need(getattr(cfg, name) >= 1, f"--{name} must be at least 1, got {getattr(cfg, name)}")
    need(cfg.group_size >= 2, f"--group_size must be at least 2 (got {cfg.group_size}): GRPO's advantage is the "
                              f"reward minus its group's mean, so a group of 1 always has advantage 0")
    need(cfg.temperature > 0 and math.isfinite(cfg.temperature), f"--temperature must be > 0 for training (got "
         f"{cfg.temperature}): the loss divides the logits by it; greedy evaluation is evaluate.py --temperature 0")
    need(0 < cfg.top_p <= 1, f"--top_p must be in (0, 1], got {cfg.top_p}")
    need(cfg.code_timeout > 0 and math.isfinite(cfg.code_timeout), f"--code_timeout must be a positive number of "
         f"seconds, got {cfg.code_timeout}")
    need(0 <= cfg.coop_ratio <= 1, f"--coop_ratio must be in [0, 1], got {cfg.coop_ratio}")
    need(cfg.lr > 0 and math.isfinite(cfg.lr), f"--lr must be a positive number, got {cfg.lr}")
    for name in ("kl_coef", "share_reward", "format_reward", "ability_drift", "grad_clip", "weight_decay",
                 "eps_low", "eps_high", "warmup_steps", "save_every", "sample_every", "log_every", "eval_samples",
                 "train_n", "discussion_weight"):
        value = getattr(cfg, name)
        need(value >= 0 and math.isfinite(value), f"--{name} must be a finite number >= 0, got {value}")
    try:
        idea3.trained_turns(cfg.train_turns)
    except ValueError as e:
        need(False, f"--{e}")
    need(cfg.eps_low < 1, f"--eps_low must be below 1 (the ratio is clipped below at 1 - eps_low), got {cfg.eps_low}")
    need(cfg.questions_per_step % world == 0, f"--questions_per_step {cfg.questions_per_step} must be divisible by "
                                              f"the {world} processes, so each runs whole episodes")
    need(cfg.device != "cuda" or torch.cuda.is_available(), "--device cuda, but torch sees no GPU; use --device cpu")
    need(not cfg.fsdp or "MASTER_ADDR" in os.environ, "--fsdp shards over torchrun's processes: torchrun "
         "--nproc_per_node=N train.py --fsdp (N = 1 runs the sharded code with nothing to shard it over)")


# ----------------------------------------------------------------------------------------------------------------
# Agents


@dataclass
class Learner(idea3.Agent):
    """An agent and what training it needs."""
    source: str = ""                 # what --agents named
    policy: torch.nn.Module = None   # grpo.TokenLogprobs(model): DDP-wrapped under torchrun, or FSDP-sharded
    optimizer: torch.optim.Optimizer = None
    scheduler: object = None
    reference: torch.nn.Module = None   # frozen initial copy for the KL term (kl_coef > 0)


def make_learners(cfg: Config, device, world: int, resume_from: str | None) -> list[Learner]:
    learners, compute = [], getattr(torch, cfg.dtype)
    weights = torch.float32 if cfg.fsdp else compute   # FSDP: float32 master weights, computes in --dtype
    for i, source in enumerate(a.strip() for a in cfg.agents.split(",")):
        model, tok = models.load(source, dtype=weights, device=device)
        reference = copy.deepcopy(model).to(compute).eval().requires_grad_(False) if cfg.kl_coef > 0 else None
        if resume_from:   # the trained weights; the reference stays the initial model
            model, tok = models.load(os.path.join(resume_from, f"agent{i}"), dtype=weights, device=device)
        if cfg.grad_checkpointing:   # each decoder layer recomputed in the backward
            models.checkpoint_layers(model)
        policy = fsdp.shard(model, compute) if cfg.fsdp else grpo.TokenLogprobs(model)
        if world > 1 and not cfg.fsdp:
            policy = torch.nn.parallel.DistributedDataParallel(
                policy, device_ids=[device] if device.type == "cuda" else None)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, cfg.warmup_steps)))
        learners.append(Learner(name=f"{i}:{source}", model=model, tokenizer=tok, eos_ids=models.eos_ids(model, tok),
                                pad_id=tok.pad_token_id, source=source, policy=policy, optimizer=opt,
                                scheduler=sched, reference=reference))
    return learners


def saved_rasch(cfg: Config, ids: list[str], resuming: bool) -> tuple[irt.RaschModel | None, str]:
    """The Rasch table of these questions and agents, if one is saved (checked against them before any model is
    loaded), and where a new one goes. Default place: runs/rasch/<agents>-<data>-<n>q<hash of the ids>-K<k>-
    T<max_new_tokens>-seed<s>-w<weights>.jsonl (w: models.weights_fingerprint of each agent, so retrained weights
    get a new table), shared by runs that would make the same one. A resumed run reads only its own copy
    (out_dir/rasch.jsonl): its agents are trained by now, so ranking them again would mix new difficulties with the
    run's abilities and leave a wrong table in the shared cache."""
    names = [a.strip() for a in cfg.agents.split(",")]
    agents = [f"{i}:{a}" for i, a in enumerate(names)]
    if resuming:
        own = os.path.join(cfg.out_dir, "rasch.jsonl")
        if not os.path.exists(own):
            sys.exit(f"train.py: --resume needs the run's own Rasch table {own}, and it is missing; restore it (it "
                     f"was written when the run started), or start a new run")
        path = own
    else:
        weights = "w" + "".join(models.weights_fingerprint(a) for a in names)
        which = hashlib.sha1("\n".join(ids).encode()).hexdigest()[:8]   # two splits of the same size differ here
        slug = "-".join([os.path.basename(a.rstrip("/")) for a in names] + [
            cfg.data, f"{len(ids)}q{which}", f"K{cfg.rank_samples}", f"T{cfg.max_new_tokens}", f"seed{cfg.seed}",
            weights])
        path = cfg.rasch_table or os.path.join(os.path.dirname(cfg.out_dir.rstrip("/")) or ".", "rasch",
                                               slug + ".jsonl")
    if not os.path.exists(path):
        return None, path
    try:
        table = irt.RaschModel.load(path, question_ids=ids)
    except ValueError as e:
        sys.exit(f"train.py: the Rasch table {path} does not fit these questions ({e}); delete it or point "
                 f"--rasch_table elsewhere")
    if table.respondent_ids != agents:
        sys.exit(f"train.py: {path} holds abilities of {table.respondent_ids}, not of --agents {agents}; "
                 f"delete it or point --rasch_table elsewhere")
    return table, path


def self_rank(cfg: Config, learners, train, val, rank: int, world: int, path: str) -> irt.RaschModel:
    """Self-ranking: each agent answers every training and validation question K times alone; one Rasch fit."""
    ids, agents = [q["id"] for q in train + val], [a.name for a in learners]
    with fsdp.whole(learners):   # --fsdp: generation needs whole weights (no AdamW state exists yet)
        successes = evaluate.self_rank(learners, train + val, cfg.rank_samples, cfg.max_new_tokens, cfg.seed,
                                       rank, world, batch_size=cfg.gen_batch)               # (m, Q) counts
    table = irt.fit(successes, [[cfg.rank_samples] * len(ids)] * len(agents), question_ids=ids,
                    respondent_ids=agents)
    if rank == 0:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        table.save(path)
    return table


# ----------------------------------------------------------------------------------------------------------------
# The update: micro-batches, one aggregate over the whole step, DDP-averaged gradients


def policy_update(cfg: Config, policy, optimizer, batch: dict, world: int, ref_model=None) -> dict:
    """One optimizer step on this rank's episodes of one agent.

    batch: tokens, attention_mask (N, L); advantages (N,) per sequence or (N, L) per token; parts, a list of
    (mask (N, L), weight, max_len): the loss is sum_p weight_p x aggregate(token losses on mask_p), each term with
    its own normaliser (one part: all trained tokens; credit turn: share, analysis, fusion); start (first trained
    column); old_logp (N, L - start) or None. DDP and FSDP average gradients over ranks, so each rank divides the
    step totals by `world`: the update equals one process holding the whole global batch. A non-finite gradient
    skips the step.
    """
    S = batch["start"]
    parts = [(m[:, S:], w, max_len) for m, w, max_len in batch["parts"]]             # each mask (N, T)
    mask = sum(m for m, _, _ in parts).clamp(max=1)                                 # (N, T) every trained token
    adv = batch["advantages"] if batch["advantages"].dim() == 1 else batch["advantages"][:, S:]
    totals = torch.tensor([[m.sum(), (m.sum(-1) > 0).sum()] for m, _, _ in parts], dtype=torch.float64)  # (P, 2)
    if world > 1:
        dist.all_reduce(totals)
    totals = (totals / world).clamp(min=1e-8).tolist()   # tokens and sequences of each part in the whole step
    N, stats = mask.shape[0], {"clip_frac": 0.0, "kl": 0.0, "loss": 0.0}
    starts = list(range(0, N, cfg.micro_batch))
    for i in starts:
        sl = slice(i, i + cfg.micro_batch)
        # DDP all-reduces only the last micro-batch's gradients; FSDP reduce-scatters every one (lab/fsdp.py)
        with policy.no_sync() if (world > 1 and not cfg.fsdp and i != starts[-1]) else contextlib.nullcontext():
            logp = policy(batch["tokens"][sl], batch["attention_mask"][sl], S, cfg.temperature)   # (n, T)
            old = batch["old_logp"][sl] if batch.get("old_logp") is not None else logp.detach()
            ref = None
            if ref_model is not None:
                with torch.no_grad():
                    ref = grpo.token_logprobs(ref_model, batch["tokens"][sl], batch["attention_mask"][sl], S,
                                              cfg.temperature)
            token_loss, s = grpo.grpo_loss(logp, old, adv[sl], mask[sl], cfg.eps_low, cfg.eps_high, ref,
                                           cfg.kl_coef)                                  # (n, T)
            loss = sum(w * grpo.aggregate(token_loss * m[sl], m[sl], cfg.loss_agg, tokens, seqs, max_len)
                       for (m, w, max_len), (tokens, seqs) in zip(parts, totals))
            loss.backward()
        w = float(mask[sl].sum()) / max(float(mask.sum()), 1.0)
        stats["clip_frac"] += s["clip_frac"] * w
        stats["kl"] += s.get("kl", 0.0) * w
        stats["loss"] += float(loss.detach())
    params = [p for p in policy.parameters() if p.requires_grad]
    norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else float("inf"))
    stats["skipped"] = float(not torch.isfinite(norm))
    if stats["skipped"]:   # a NaN/inf gradient would poison the weights: drop it, train.py counts it
        optimizer.zero_grad(set_to_none=True)
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    stats["grad_norm"] = float(norm)
    return stats


def credit(cfg: Config, ep: idea3.Episodes, Rbar: torch.Tensor, share_R: torch.Tensor, m: int):
    """Advantages and loss parts of one agent's episodes: what each trained token is credited with.

    episode: one advantage per conversation, A = Rbar - mean_k Rbar, on every trained token; one loss term.
    turn   : the share turn gets GRPO's advantage on its own reward (1[first answer right] + format), the analysis
             and fusion turns the calibrated final one; loss = L_share + lambda (L_analysis + L_fusion), each term
             normalised over its own tokens. lambda = 0 is single-agent GRPO on the share samples, exactly.
    Returns (advantages (N,) or (N, L), parts [(mask (N, L), weight, max_len)], A (B, G), zero_std (B,)) where A
    and zero_std are the discussion's (the share's under credit turn with one agent).
    """
    G, mask = Rbar.shape[-1], ep.loss_mask
    adv, zero_std = grpo.group_advantages(Rbar, cfg.scale_adv_by_std)                  # (B, G), (B,)
    if cfg.credit == "episode" or m == 1:
        if cfg.skip_zero_std:   # equal-reward groups leave the normaliser too
            mask = mask * (~zero_std).repeat_interleave(G)[:, None]
        turns = 1 if m == 1 else len(idea3.trained_turns(cfg.train_turns))
        return adv.view(-1), [(mask, 1.0, cfg.max_new_tokens * turns)], adv, zero_std
    adv_share, zero_share = grpo.group_advantages(share_R, cfg.scale_adv_by_std)       # (B, G), (B,)
    share = ep.turn == 1 + idea3.TURNS.index("share")                                  # (N, L) bool
    per_token = torch.where(share, adv_share.view(-1, 1), adv.view(-1, 1))             # (N, L)
    parts = []
    for k, stage in enumerate(idea3.TURNS, 1):
        zero = zero_share if stage == "share" else zero_std
        part = mask * (ep.turn == k)
        if cfg.skip_zero_std:
            part = part * (~zero).repeat_interleave(G)[:, None]
        parts.append((part, 1.0 if stage == "share" else cfg.discussion_weight, cfg.max_new_tokens))
    return per_token, parts, adv, zero_std


class Rewards(NamedTuple):
    """One agent's verdicts on its B x G episodes, each (B, G) (timeouts: a count)."""
    R: torch.Tensor          # the reward: 1[final right] + share_reward 1[first right] + format_reward 1[answer]
    final: torch.Tensor      # 1[final answer right]
    first: torch.Tensor      # 1[own first answer (the share turn) right]
    share_R: torch.Tensor    # the share turn's own reward under credit turn: 1[first right] + format_reward
    timeouts: torch.Tensor   # judge time-outs: they earn 0 and count as not right; counted for the log


def rewards_of(episodes: idea3.Episodes, questions: list[dict], G: int, cfg: Config, m: int) -> Rewards:
    """The verifiable reward of one agent's episodes, from judge.check (the same check evaluation uses)."""
    def verdicts(texts):
        return [judge.check(t, q, cfg.code_timeout) for t, q in zip(texts, (q for q in questions for _ in range(G)))]
    final = verdicts(episodes.final)
    first = verdicts(episodes.texts["share"]) if m > 1 else final
    right, first_right = (torch.tensor([float(v.correct) for v in vs]).view(-1, G) for vs in (final, first))
    fmt, fmt_first = (torch.tensor([float(v.answer is not None) for v in vs]).view(-1, G) for vs in (final, first))
    timeouts = torch.tensor([float(v.timed_out) for v in final + (first if m > 1 else [])]).sum()
    R = right + (cfg.share_reward * first_right if m > 1 else 0.0) + cfg.format_reward * fmt
    return Rewards(R, right, first_right, first_right + cfg.format_reward * fmt_first, timeouts)


# ----------------------------------------------------------------------------------------------------------------
# Modes, logs


def modes_for(cfg: Config, table, fixed: dict, questions: list[dict], m: int) -> list[str]:
    """One mode per question, the same on every rank: from the Rasch model (irt) or fixed per question."""
    if m == 1:
        return [irt.COMPETE] * len(questions)          # unused: one agent has no one to discuss with
    if cfg.interaction == "irt":
        return irt.choose_modes(table.prob([q["id"] for q in questions]), rule=cfg.irt_rule)
    return [fixed[q["id"]] for q in questions]


def sampler_seed(seed: int, step: int, rank: int, agent: int) -> int:
    """One integer per (seed, step, rank, agent), different for any two of them while step < 100,003, rank < 1,009
    and agent < 31 (mixed radix with prime bases): reseeding every step makes a resumed run sample exactly what the
    interrupted one would have. The rank is in it, so 2 processes sample other episodes than 1 process does; what
    2 processes reproduce exactly is the update on the same episodes (tests/test_train.py)."""
    return ((seed * 100_003 + step) * 1009 + rank) * 31 + agent


def global_sums(values: dict, world: int) -> dict:
    """Sum every value over the ranks (keys in a fixed order), so the log describes the whole global batch."""
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
    if world > 1:
        dist.all_reduce(t)
    return dict(zip(keys, t.tolist()))


def agent_sums(cfg: Config, i: int, ep, scored: Rewards, R, Rbar, adv, zero_std, stats: dict, sums: dict) -> dict:
    """What agent i's side of this step adds to the log: sums over this rank's episodes (step_row divides)."""
    adv_raw, _ = grpo.group_advantages(R, cfg.scale_adv_by_std)   # how far calibration changed the credit beyond
    out = {f"{i}/R": R.sum(), f"{i}/Rbar": Rbar.sum(), f"{i}/final": scored.final.sum(),   # a weight per question
           f"{i}/first": scored.first.sum(), f"{i}/adv_shift": calibration.credit_change(adv_raw, adv) * R.numel(),
           f"{i}/zero_std": zero_std.sum(), f"{i}/n": R.numel(), f"{i}/judge_timeouts": scored.timeouts,
           f"{i}/kl": stats["kl"], f"{i}/clip_frac": stats["clip_frac"], f"{i}/skipped": stats["skipped"],
           f"{i}/grad_norm": stats["grad_norm"] if math.isfinite(stats["grad_norm"]) else 0.0}
    for stage in ep.texts:
        out[f"{i}/len_{stage}"] = ep.lengths[stage].sum()
        out[f"{i}/trunc_{stage}"] = ep.truncated[stage].sum()
        out[f"gen_s_{stage}"] = sums.get(f"gen_s_{stage}", 0.0) + ep.seconds[stage]
    return out


def step_row(s: dict, step: int, m: int, G: int, world: int, table, seconds: dict) -> dict:
    """The JSONL row of one step from the global sums: means per episode, per question group, per rank."""
    tokens = sum(v for k, v in s.items() if "/len_" in k)
    row = {"step": step, "coop": s["coop"] / s["questions"], "tokens": tokens,
           "tok_per_s": tokens / seconds["step_s"], **seconds,
           **{k: v / world for k, v in s.items() if k.startswith("gen_s_")}}
    for i in range(m):
        n = s[f"{i}/n"]
        row.update({f"{i}/{k}": s[f"{i}/{k}"] / n for k in ("R", "Rbar", "final", "first", "adv_shift")})
        row.update({f"{i}/{k}": s[f"{i}/{k}"] / world for k in ("kl", "clip_frac", "grad_norm", "skipped")})
        row.update({k: v / n for k, v in s.items() if k.startswith((f"{i}/len_", f"{i}/trunc_"))})
        row[f"{i}/frac_zero_std"] = s[f"{i}/zero_std"] / (n / G)
        row[f"{i}/judge_timeouts"] = s[f"{i}/judge_timeouts"]
        if table is not None:
            row[f"{i}/ability"] = float(table.ability[i])
    return row


def console_line(row: dict, names: list[str]) -> str:
    """One line per step: 'step 12 | coop 0.38 | tiny-strong R 0.80->0.74 first 0.41 final 0.59 dA ...'."""
    agents = []
    for i, name in enumerate(names):
        r = {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith(f"{i}/")}
        said = (f"R {r['R']:.2f}->{r['Rbar']:.2f} first {r['first']:.2f} final {r['final']:.2f} dA "
                f"{r['adv_shift']:.3f}") if len(names) > 1 else f"acc {r['final']:.2f}"
        agents.append(f"{name.split(':', 1)[1][:12]} {said} zstd {r['frac_zero_std']:.2f} kl {r['kl']:.4f} "
                      f"gn {r['grad_norm']:.2f}")
    coop = f"coop {row['coop']:.2f} | " if len(names) > 1 else ""
    return (f"step {row['step']:4d} | {coop}" + " | ".join(agents) + f" | {row['step_s']:.1f}s (gen "
            f"{row['gen_s']:.1f}, upd {row['update_s']:.1f}) {row['tok_per_s']:.0f} tok/s")


def show_episode(learners, episodes, rewards, question: dict, mode: str) -> str:
    """The first episode of a question, every agent's turns, as text for the console."""
    lines = [f"  Q [{mode}]: {question['question']}  (gold {question['answer']})"]
    for i, (a, ep) in enumerate(zip(learners, episodes)):
        for stage, text in ((s, ep.texts[s][0]) for s in ("share", "analysis", "fusion") if s in ep.texts):
            lines.append(f"  {a.name} {stage:8s}| " + text.replace("\n", " | "))
        lines.append(f"  {a.name} reward {float(rewards[i][0, 0]):.2f}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# Main loop


def main(cfg: Config) -> dict:
    world, rank = int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("RANK", 0))
    check(cfg, world)
    device = models.pick_device(cfg.device)
    if world > 1 or cfg.fsdp:
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
            torch.cuda.set_device(device)
        # NCCL for GPU tensors; the step's small totals and log sums are CPU tensors, which NCCL refuses: gloo
        dist.init_process_group("cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo")
        if device.type == "cpu":   # share the cores: N processes x N threads each would oversubscribe them
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    master, log_path = rank == 0, os.path.join(cfg.out_dir, "log.jsonl")
    log = print if master else (lambda *a, **k: None)
    resume_from = checkpoint.latest(cfg.out_dir) if cfg.resume else None
    if cfg.resume and resume_from is None:
        sys.exit(f"train.py: --resume, but {cfg.out_dir} holds no complete checkpoint")
    if not cfg.resume and os.path.exists(log_path):
        sys.exit(f"train.py: {cfg.out_dir} already holds a run; continue it with --resume, or choose another "
                 f"--out_dir (nothing there was changed)")
    if master:
        os.makedirs(cfg.out_dir, exist_ok=True)
    torch.manual_seed(cfg.seed)
    train, val = tasks.pools(cfg.data, cfg.val_n, cfg.seed)
    train = train[:cfg.train_n or None]
    for q in train + val:   # the reward must be able to score every question, before any model is loaded
        try:
            judge.kind(q)
        except ValueError as e:
            sys.exit(f"train.py: --data {cfg.data}: the reward cannot score this data: {e}. Fix the data or choose "
                     f"another --data")
    ranked = len(cfg.agents.split(",")) > 1 and cfg.interaction == "irt"   # the Rasch model picks the modes
    table, rasch_path = saved_rasch(cfg, [q["id"] for q in train + val], resume_from is not None) if ranked else \
        (None, "")
    examples = tasks.load_questions(cfg.eval_data, cfg.eval_n) if cfg.eval_data else []   # bad data fails here
    learners = make_learners(cfg, device, world, resume_from)
    m, G, B = len(learners), cfg.group_size, cfg.questions_per_step // world
    if ranked and table is None:
        table = self_rank(cfg, learners, train, val, rank, world, rasch_path)
    if table is not None and master:
        table.save(os.path.join(cfg.out_dir, "rasch.jsonl"))   # the run's own copy (what --resume reads)
    fixed = {}
    if m > 1 and cfg.interaction != "irt":   # a fixed mode per training question; "ratio" is exact over the pool
        chosen = irt.choose_modes([[0.5] * len(train)], policy=cfg.interaction, seed=cfg.seed,
                                  ratio=cfg.coop_ratio if cfg.interaction == "ratio" else None)
        fixed = {q["id"]: mode for q, mode in zip(train, chosen)}
    per_turn = {"share": cfg.max_new_tokens, "analysis": cfg.max_new_tokens, "fusion": cfg.max_new_tokens}
    settings = idea3.Settings(G, cfg.temperature, cfg.top_p, per_turn, cfg.peer_max_tokens, cfg.share_analyses,
                              cfg.train_turns)

    start, result = 0, {}
    if resume_from:
        # the held-out questions may not change: "before" was measured on the first run's questions
        state = checkpoint.restore(resume_from, dataclasses.asdict(cfg), learners, may_change=(
            "steps", "resume", "log_every", "sample_every", "save_every", "out_dir"))
        if table is not None and state["abilities"] is not None:
            table = dataclasses.replace(table, ability=state["abilities"][0], ability_var=state["abilities"][1])
        start, result = state["step"], state["result"]
        log(f"resumed from {resume_from} at step {start}")
    if master:   # appended, never rewritten: a resume redoes the steps after its checkpoint, and readers of the
        logf = open(log_path, "a")   # log drop the rows written after it (lab/plots.read_log)
        logf.write(json.dumps({"resumed_at": start} if resume_from else
                              {"config": dataclasses.asdict(cfg), "world": world}) + "\n")
        logf.flush()
    log(f"agents: {', '.join(f'{a.name} ({models.num_params(a.model) / 1e6:.2f}M)' for a in learners)} on {device} "
        f"x {world} | {cfg.questions_per_step} questions x G={G} per step, {cfg.steps} steps | interaction "
        f"{cfg.interaction if m > 1 else '- (one agent: GRPO)'} | calibration {'on' if cfg.calibrate else 'off'}")
    if table is not None:
        coop = irt.choose_modes(table.prob([q["id"] for q in train]), rule=cfg.irt_rule).count("cooperate")
        log("abilities (Rasch, self-ranked): " + ", ".join(f"{a.name} {g:+.2f}" for a, g in zip(learners,
            table.ability)) + f" | training questions that cooperate: {coop / len(train):.2f}")

    def solo(a):                     # (greedy, T=1 mean@eval_samples) of one agent alone on the held-out questions
        return evaluate.solo_accuracy(a.model, a.tokenizer, examples, cfg.max_new_tokens, samples=cfg.eval_samples,
                                      seed=cfg.seed, rank=rank, world=world, batch_size=cfg.gen_batch)
    if examples and cfg.eval_before and "before" not in result:
        result["before"] = [solo(a) for a in fsdp.one_by_one(learners)]
        for a, (g, s) in zip(learners, result["before"]):
            log(f"before | {a.name}: held-out solo accuracy greedy {g:.3f}, T=1 mean@{cfg.eval_samples} {s:.3f}")

    t_start, skipped_in_a_row = time.time(), [0] * m
    for step in range(start, cfg.steps):
        t0 = time.time()
        # 1. the questions of this step and their modes (identical on every rank); this rank keeps its slice
        questions = tasks.step_questions(train, step, cfg.questions_per_step, cfg.seed)
        modes = modes_for(cfg, table, fixed, questions, m)
        mine = slice(rank * B, (rank + 1) * B)
        questions, modes = questions[mine], modes[mine]
        # 2. Idea3 episodes; samplers reseeded from (seed, step, rank, agent), so a resumed run samples the same
        gens = [torch.Generator(device).manual_seed(sampler_seed(cfg.seed, step, rank, i)) for i in range(m)]
        with fsdp.speaking(learners):   # --fsdp: each agent's weights are whole while it speaks (lab/fsdp.py)
            episodes = idea3.run_episodes(learners, questions, modes, settings, gens)
        t_gen = time.time() - t0
        # 3. rewards: each agent is judged on its own final answer (plus its own first answer)
        scored = [rewards_of(ep, questions, G, cfg, m) for ep in episodes]
        R = torch.stack([s.R for s in scored])                                       # (m, B, G)
        # 4. perception calibration: each agent's reward against the peers' rewards on the same question
        Rbar = calibration.calibrate(R) if cfg.calibrate else R                      # (m, B, G)
        sums, t_upd = {"coop": modes.count(irt.COOPERATE), "questions": len(modes)}, time.time()
        for i, (a, ep) in enumerate(zip(learners, episodes)):
            # 5. advantages within each question's group: per token (credit turn) or per conversation (episode)
            advantages, parts, adv, zero_std = credit(cfg, ep, Rbar[i], scored[i].share_R, m)
            batch = {"tokens": ep.tokens.to(device), "attention_mask": ep.attention_mask.to(device),
                     "advantages": advantages.to(device), "start": ep.start, "old_logp": None,
                     "parts": [(p.to(device), w, max_len) for p, w, max_len in parts]}
            # 6. the GRPO update of this agent, on its trained turns (--train_turns), one optimizer step
            a.model.train()
            if cfg.updates_per_batch > 1:   # freeze the sampling policy's log-probs for the ratio
                with torch.no_grad():
                    batch["old_logp"] = a.policy(batch["tokens"], batch["attention_mask"], ep.start, cfg.temperature)
            for _ in range(cfg.updates_per_batch):
                stats = policy_update(cfg, a.policy, a.optimizer, batch, world, a.reference)
            a.scheduler.step()
            skipped_in_a_row[i] = skipped_in_a_row[i] + 1 if stats["skipped"] else 0
            sums.update(agent_sums(cfg, i, ep, scored[i], R[i], Rbar[i], adv, zero_std, stats, sums))
        t_upd = time.time() - t_upd
        # 7. abilities from this step's sharing turns (solo answers), difficulties fixed
        if table is not None and cfg.update_abilities:
            ids = [q["id"] for q in tasks.step_questions(train, step, cfg.questions_per_step, cfg.seed)]
            right = torch.zeros(m, len(ids), dtype=torch.float64)
            right[:, mine] = torch.stack([s.first.sum(-1) for s in scored]).double()   # (m, B) of G trials
            if world > 1:
                dist.all_reduce(right)
            table = table.update_abilities(ids, right.numpy(), [[G] * len(ids)] * m, drift=cfg.ability_drift)

        # the log: sums over ranks, so a row describes the whole global batch
        row = step_row(global_sums(sums, world), step, m, G, world, table, seconds={
            "gen_s": t_gen, "update_s": t_upd, "step_s": time.time() - t0, "minutes": (time.time() - t_start) / 60})
        if master:
            logf.write(json.dumps(row) + "\n")
            logf.flush()
            if step % cfg.log_every == 0:
                log(console_line(row, [a.name for a in learners]))
            if cfg.sample_every and step % cfg.sample_every == 0:
                log(show_episode(learners, episodes, R, questions[0], modes[0]))
        if max(skipped_in_a_row) >= 5:
            sys.exit(f"train.py: non-finite gradients 5 steps in a row (step {step}); stopping without saving. "
                     f"Lower --lr, or check --temperature and --dtype.")
        if cfg.save_every and (step + 1) % cfg.save_every == 0 and step + 1 < cfg.steps:
            full = fsdp.full_state(learners)   # --fsdp: every rank gathers, rank 0 writes; else None
            if master:
                checkpoint.save(cfg.out_dir, step + 1, learners, checkpoint.trainer_state(dataclasses.asdict(cfg),
                    learners, result, None if table is None else (table.ability, table.ability_var), full), full)
            if world > 1:
                dist.barrier()
    result.update(steps=cfg.steps, minutes=(time.time() - t_start) / 60)

    if examples:
        result["after"] = [solo(a) for a in fsdp.one_by_one(learners)]
        log(f"\nheld-out solo accuracy on {len(examples)} questions ({cfg.steps} steps, {result['minutes']:.1f} min "
            f"of training):\n{'agent':28s} {'greedy before':>14s} {'after':>7s} {'change':>7s}   "
            f"{'T=1 before':>10s} {'after':>7s} {'change':>7s}")
        for a, (g0, s0), (g1, s1) in zip(learners, result.get("before", [(math.nan, math.nan)] * m), result["after"]):
            log(f"{a.name:28s} {g0:14.3f} {g1:7.3f} {g1 - g0:+7.3f}   {s0:10.3f} {s1:7.3f} {s1 - s0:+7.3f}")
    full = fsdp.full_state(learners, optimizer=False)   # --fsdp: every rank gathers the weights; else None
    if master:
        checkpoint.save_agents(os.path.join(cfg.out_dir, "final"), learners, full)
        log(f"saved {os.path.join(cfg.out_dir, 'final')} (agent0, agent1, ...: load with models.load(folder))")
        log(f"curves: {plots.curves(cfg.out_dir)}")   # matplotlib is in requirements.txt
        logf.write(json.dumps({"result": result}) + "\n")
        logf.close()
    if dist.is_initialized():   # every rank arrives, the DDP wrappers let go of the group, then it goes
        dist.barrier()
        for a in learners:
            a.policy = None
        del learners
        gc.collect()
        dist.destroy_process_group()
    return result


if __name__ == "__main__":
    main(flags.parse(Config, description=__doc__.split("\n")[0], choices=CHOICES))
