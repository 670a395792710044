"""lab/fsdp.py and train.py --fsdp on CPU (gloo, 2 processes): the sharded ILR step equals one process for two
agents; checkpoints written from shards are ordinary Hugging Face folders and resume exactly (optimizer state
included); generation with gathered weights samples what the plain model samples; each rank holds 1/world of the
weights and optimizer state; activation checkpointing keeps the gradients."""
import json
import os
import shutil
import socket

import pytest
import torch
import torch.distributed as dist

import grpo
import harness
import idea3
import models
import tasks
import train
from lab import flags, fsdp
from stand_ins import AGENTS, fixed_episodes, load_agents, token_rewards



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setup(rank: int, world: int, port: int) -> None:
    """What torchrun gives each process; train.main reads it and starts the process group itself."""
    os.environ.update(WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port), HF_HUB_OFFLINE="1")
    torch.set_num_threads(1)


# ----------------------------------------------------------------------------------------------------------------
# The whole ILR step through train.main: 1 process (DDP code, nothing to sync) against 2 processes with --fsdp


RUN = ["--agents", ",".join(AGENTS), "--questions_per_step", "2", "--group_size", "2", "--max_new_tokens", "40",
       "--sample_every", "0", "--steps", "2", "--save_every", "1", "--interaction", "compete", "--warmup_steps", "0",
       "--micro_batch", "1", "--grad_clip", "0.03", "--kl_coef", "0.1", "--updates_per_batch", "2",
       "--eval_data", "tinyworld", "--eval_n", "4", "--eval_samples", "0"]


def _train_worker(rank, world, port, out_dir, episodes, ids, argv):
    setup(rank, world, port)
    idea3.run_episodes = fixed_episodes(episodes, ids)
    train.rewards_of = token_rewards
    # SGD with momentum: the update is linear in the gradients (so 1 and 2 processes agree to float rounding;
    # Adam would magnify rounding in near-zero gradients), and it has optimizer state for the resume to restore.
    torch.optim.AdamW = lambda params, lr, weight_decay, betas: torch.optim.SGD(params, lr=0.1, momentum=0.9)
    train.main(flags.parse(train.Config, argv + ["--out_dir", out_dir], choices=train.CHOICES))


def weights(folder):
    return [models.load(os.path.join(folder, f"agent{i}"))[0].state_dict() for i in range(len(AGENTS))]


def assert_same(a, b, atol=2e-6):
    for i in range(len(a)):
        assert a[i].keys() == b[i].keys()
        for k in a[i]:
            torch.testing.assert_close(a[i][k], b[i][k], atol=atol, rtol=1e-4, msg=f"agent {i} {k}")


def log_rows(out_dir):
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        return [json.loads(r) for r in f]


@pytest.mark.slow
def test_fsdp_step_checkpoint_and_resume_match_one_process(tmp_path):
    cfg = flags.parse(train.Config, RUN, choices=train.CHOICES)
    pool, _ = tasks.pools(cfg.data, cfg.val_n, cfg.seed)
    qs = [q for s in range(cfg.steps) for q in tasks.step_questions(pool, s, cfg.questions_per_step, cfg.seed)]
    settings = idea3.Settings(2, 1.0, 1.0, {"share": 40, "analysis": 40, "fusion": 40})
    episodes = idea3.run_episodes(load_agents(), qs, ["compete"] * len(qs), settings,
                                  [torch.Generator().manual_seed(s) for s in (3, 4)])
    ids = [q["id"] for q in qs]

    def run(world, name, extra=()):
        harness.spawn(_train_worker, args=(world, free_port(), str(tmp_path / name), episodes, ids,
                                           RUN + list(extra)), nprocs=world)
        return tmp_path / name

    one = run(1, "one")
    two = run(2, "fsdp", ["--fsdp", "--grad_checkpointing"])
    start = [models.load(name)[0].state_dict() for name in AGENTS]
    ckpt = os.path.join("checkpoints", "step-000001")
    # 1. the checkpoint written from shards is an ordinary Hugging Face folder holding the trained weights
    assert_same(weights(two / ckpt), weights(one / ckpt))
    assert max((weights(one / ckpt)[i][k] - start[i][k]).abs().max().item() for i in (0, 1)
               for k in start[i]) > 1e-4, "the step did not change the weights: nothing was tested"
    # 2. two steps (clipping, KL, two updates per batch, micro-batches, momentum): the same weights and log
    final = weights(two / "final")
    assert_same(final, weights(one / "final"))
    rows = {w: [r for r in log_rows(d) if "step" in r] for w, d in (("one", one), ("two", two))}
    for a, b in zip(rows["one"], rows["two"]):
        for key in ("0/grad_norm", "1/grad_norm", "0/R", "1/Rbar"):   # (kl, clip_frac: means of rank means)
            assert a[key] == pytest.approx(b[key], rel=1e-4, abs=1e-7), (a["step"], key)
    assert max(r[f"{i}/grad_norm"] for r in rows["one"] for i in (0, 1)) > 0.03, "--grad_clip 0.03 never clipped"
    assert rows["one"][1]["0/kl"] > 0, "the KL term was 0: its gradient was not tested"
    greedy = {w: [[acc[0] for acc in r["result"][when]] for when in ("before", "after")
                  for r in log_rows(d) if "result" in r] for w, d in (("one", one), ("two", two))}
    assert greedy["one"] == greedy["two"], "solo accuracy with gathered weights differs from the plain model's"
    # 3. the optimizer state was saved whole, by parameter name, and the run resumed from it ends where it ended
    state = torch.load(two / ckpt / "trainer.pt", weights_only=False)
    assert set(state["optimizers"][0]["state"]) <= set(start[0])
    assert all(float(s["momentum_buffer"].abs().sum()) > 0 for s in state["optimizers"][0]["state"].values())
    shutil.rmtree(two / "final")   # as if killed after the step-1 checkpoint
    run(2, "fsdp", ["--fsdp", "--grad_checkpointing", "--resume"])
    assert_same(weights(two / "final"), final, atol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# Generation with gathered weights, and what each rank holds


SETTINGS = idea3.Settings(2, 1.0, 1.0, {"share": 30, "analysis": 30, "fusion": 30})


def rollout(agents, question, seed):
    """One Idea3 discussion of one question (share, analysis, fusion for both agents), as train.py runs it."""
    gens = [torch.Generator().manual_seed(seed + i) for i in range(len(agents))]
    return [ep.tokens for ep in idea3.run_episodes(agents, [question], ["cooperate"], SETTINGS, gens)]


def _shard_worker(rank, world, port, questions, out_path):
    setup(rank, world, port)
    dist.init_process_group("gloo")
    cfg = train.Config(agents=",".join(AGENTS), fsdp=True)
    learners = train.make_learners(cfg, torch.device("cpu"), world, None)
    # The rollout: each rank discusses its own question (other lengths, other stops); one agent whole at a time.
    with fsdp.speaking(learners):
        tokens = rollout(learners, questions[rank], seed=rank)
    sharded = all(type(p).__name__ == "DTensor" for a in learners for p in a.model.parameters())
    # Bytes per rank: after a backward (gradients) and an AdamW step (its two moments).
    held = []
    for a in learners:
        tokens_in = tokens[0][:1, :12]
        (-a.policy(tokens_in, torch.ones_like(tokens_in), 6).sum()).backward()
        grads = fsdp.bytes_per_rank(a)["gradients"]
        a.optimizer.step()
        held.append({**fsdp.bytes_per_rank(a), "gradients": grads})
    if rank == 0:
        torch.save({"tokens": tokens, "sharded": sharded, "held": held}, out_path)
    dist.destroy_process_group()


@pytest.mark.slow
def test_generation_under_fsdp_and_bytes_per_rank(tmp_path):
    agents, questions, world = load_agents(), tasks.load_questions("tinyworld", 2), 2
    harness.spawn(_shard_worker, args=(world, free_port(), questions, str(tmp_path / "r0.pt")), nprocs=world)
    got = torch.load(tmp_path / "r0.pt")
    assert got["sharded"], "after generation the weights must be shards again"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # as in the workers: the same summation order, the same floats, the same samples
    try:
        want = rollout(agents, questions[0], seed=0)   # rank 0's discussion, by the plain models
    finally:
        torch.set_num_threads(threads)
    for tokens, plain in zip(got["tokens"], want):
        assert torch.equal(tokens, plain)
    for a, held in zip(agents, got["held"]):   # the memory plan's formulas: 4, 4 and 8 bytes per parameter / world
        plan = fsdp.per_gpu([fsdp.Shape.of(a.model)], world, rows=1, seq=1, micro_batch=1, checkpointing=False)
        print(f"{a.name}: {models.num_params(a.model)} parameters; rank 0 of {world} holds {held} bytes")
        for key, formula in (("weights", "weights"), ("gradients", "grads"), ("optimizer", "adamw")):
            assert abs(held[key] - plan[formula]) <= 0.01 * plan[formula], key


# ----------------------------------------------------------------------------------------------------------------
# Activation checkpointing; the activation formula of the memory plan; flags


def saved_bytes_per_token(model, checkpointing: bool) -> float:
    """Bytes the forward of grpo.token_logprobs saves for the backward, per token (from two lengths' difference)."""
    if checkpointing:
        models.checkpoint_layers(model)
    model.train()

    def saved(L, n=2):
        tokens = torch.randint(3, 400, (n, L), generator=torch.Generator().manual_seed(L))
        storages = {}

        def pack(t):
            storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            grpo.token_logprobs(model, tokens, torch.ones_like(tokens), L - 8)
        return sum(storages.values())
    return (saved(256) - saved(128)) / (2 * 128)


@pytest.mark.parametrize("arch, dims", [("qwen2", dict(hidden_size=128, intermediate_size=512, num_attention_heads=4,
                                                       num_key_value_heads=2)),
                                        ("llama", dict(hidden_size=64, intermediate_size=1024, num_attention_heads=2,
                                                       num_key_value_heads=1))])
def test_activation_formula_matches_the_saved_tensors(arch, dims):
    from tasks import tinyworld
    tok = models.load("tiny-strong")[1]
    for dtype, b in ((torch.float32, 4), (torch.bfloat16, 2)):
        for ckpt in (False, True):
            torch.manual_seed(0)
            model = tinyworld.new_model(arch, tok, num_hidden_layers=4, **dims).to(dtype)
            shape = fsdp.Shape.of(model)
            want = fsdp.activation_bytes(shape, 1, b, ckpt)
            if ckpt:   # the saved part only; the recomputed layer exists later, in the backward
                want -= fsdp.layer_activation_bytes(shape, b)
            got = saved_bytes_per_token(model, ckpt)
            assert abs(got - want) <= 0.08 * want, (dtype, ckpt, got, want)


def test_grad_checkpointing_gives_the_same_gradients():
    grads, calls = {}, {}
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(3, 400, (3, 20), generator=g)
    mask = torch.ones_like(tokens)
    mask[0, :4] = 0   # a left-padded row
    for ckpt in (False, True):
        a = train.make_learners(train.Config(agents="tiny-strong", grad_checkpointing=ckpt), torch.device("cpu"),
                                1, None)[0]
        a.model.train()
        n = [0]
        a.model.get_decoder().layers[0].self_attn.register_forward_hook(lambda *_: n.__setitem__(0, n[0] + 1))
        logp = a.policy(tokens, mask, 8)                               # grpo.token_logprobs, chunked LM head
        (logp * torch.linspace(-1, 1, logp.shape[1])).sum().backward()
        grads[ckpt] = {k: p.grad.clone() for k, p in a.model.named_parameters()}
        calls[ckpt] = n[0]
    assert calls == {False: 1, True: 2}, "with checkpointing the backward recomputes each layer once more"
    for k in grads[False]:
        torch.testing.assert_close(grads[True][k], grads[False][k], atol=1e-6, rtol=1e-5)


def test_fsdp_flag_needs_torchrun(monkeypatch):
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(SystemExit, match="--fsdp shards over torchrun"):
        train.check(flags.parse(train.Config, ["--fsdp"], choices=train.CHOICES), world=1)
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    train.check(flags.parse(train.Config, ["--fsdp", "--grad_checkpointing"], choices=train.CHOICES), world=2)
