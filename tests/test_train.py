"""train.py: two processes under DDP make the same update as one process on the same global batch; flags."""
import copy
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import grpo
from tasks import tinyworld
import train

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
    return {"tokens": tokens, "attention_mask": attn, "loss_mask": loss_mask, "advantages": adv, "prompt_len": P,
            "old_logp": None}


def rows(batch, sl):
    return {k: (v[sl] if torch.is_tensor(v) else v) for k, v in batch.items()}


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
    mp.spawn(worker, args=(2, str(tmp_path), batch, str(tmp_path / "ddp.pt")), nprocs=2, join=True)
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


def test_flags_parse_and_reject_bad_input():
    cfg = train.parse_args(["--lr", "3e-4", "--skip_zero_std", "true", "--model", "tiny-weak"])
    assert cfg.lr == 3e-4 and cfg.skip_zero_std is True and cfg.model == "tiny-weak"
    with pytest.raises(SystemExit, match="unknown flag"):
        train.parse_args(["--learning_rate", "1"])
    with pytest.raises(SystemExit, match="expects a float"):
        train.parse_args(["--lr", "fast"])
    with pytest.raises(SystemExit, match="loss_agg"):
        train.parse_args(["--loss_agg", "mean"])
