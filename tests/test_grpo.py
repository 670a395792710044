"""token_logprobs, group_advantages and the GRPO loss against float64 references written from the formulas."""
import pytest
import torch

import grpo
from tasks import tinyworld


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    tok = tinyworld.build_tokenizer(str(tmp_path_factory.mktemp("tok")))
    torch.manual_seed(0)
    return tinyworld.new_model("qwen2", tok, hidden_size=64, num_hidden_layers=2, intermediate_size=128), tok


def naive_logprobs(model, tokens, mask, start):
    logits = model(input_ids=tokens, attention_mask=mask, position_ids=grpo.positions(mask)).logits.float()
    logp = torch.log_softmax(logits, -1)[:, start - 1:-1]                            # (N, T, V): what we avoid
    return logp.gather(-1, tokens[:, start:, None]).squeeze(-1)


@pytest.mark.parametrize("chunk", [5, 1024])
def test_token_logprobs_match_naive_values_and_grads(tiny, chunk):
    model, tok = tiny
    prompts = [tok.encode("Mia has 3 pens."), tok.encode("Tom has 12 coins. He finds 3 more.")]
    ids, mask, _ = grpo.left_pad(prompts, tok.pad_token_id)
    comp = torch.randint(3, len(tok), (2, 6))
    tokens, full_mask = torch.cat([ids, comp], 1), torch.cat([mask, torch.ones_like(comp)], 1)
    start = ids.shape[1]
    ours = grpo.token_logprobs(model, tokens, full_mask, start, chunk=chunk)
    ref = naive_logprobs(model, tokens, full_mask, start)
    assert ours.shape == (2, 6)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)
    # Gradients through the chunked, checkpointed head equal the naive ones.
    w = torch.randn(2, 6)
    g1 = torch.autograd.grad((ours * w).sum(), model.model.embed_tokens.weight)[0]
    g2 = torch.autograd.grad((ref * w).sum(), model.model.embed_tokens.weight)[0]
    torch.testing.assert_close(g1, g2, atol=1e-5, rtol=1e-4)
    # Temperature divides the logits before the softmax.
    hot = grpo.token_logprobs(model, tokens, full_mask, start, temperature=2.0, chunk=chunk)
    logits = model(input_ids=tokens, attention_mask=full_mask,
                   position_ids=grpo.positions(full_mask)).logits.float()[:, start - 1:-1] / 2.0
    ref_hot = torch.log_softmax(logits, -1).gather(-1, tokens[:, start:, None]).squeeze(-1)
    torch.testing.assert_close(hot, ref_hot, atol=1e-5, rtol=0)


def test_group_advantages():
    r = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.3]])
    adv, zero = grpo.group_advantages(r)
    torch.testing.assert_close(adv[0], torch.tensor([0.5, -0.5, -0.5, 0.5]))
    assert torch.equal(adv[1], torch.zeros(4)) and zero.tolist() == [False, True, False]
    torch.testing.assert_close(adv[2], torch.tensor([-0.075, -0.075, -0.075, 0.225]))
    adv_s, _ = grpo.group_advantages(r, scale_by_std=True)
    torch.testing.assert_close(adv_s[0], torch.tensor([1.0, -1.0, -1.0, 1.0]), atol=1e-4, rtol=0)
    assert torch.equal(adv_s[1], torch.zeros(4))                # no 0/0 on a zero-std group


def reference_loss(logp, old, adv, mask, el, eh, ref, beta, how, step_tokens, step_seqs, max_len):
    """Float64, loop-by-loop, straight from the formulas in grpo.py's docstring."""
    total = 0.0
    for i in range(logp.shape[0]):
        seq = 0.0
        for t in range(logp.shape[1]):
            if mask[i, t] == 0:
                continue
            rho = torch.exp(logp[i, t] - old[i, t])
            l = -torch.minimum(rho * adv[i], torch.clamp(rho, 1 - el, 1 + eh) * adv[i])
            if beta:
                d = ref[i, t] - logp[i, t]
                l = l + beta * (torch.exp(d) - d - 1)
            seq = seq + l
        if how == "seq-mean":
            total = total + seq / mask[i].sum()
        else:
            total = total + seq
    if how == "token-mean":
        return total / step_tokens
    if how == "seq-mean":
        return total / step_seqs
    return total / (step_seqs * max_len)


@pytest.mark.parametrize("how", grpo.AGGREGATIONS)
@pytest.mark.parametrize("beta", [0.0, 0.05])
def test_loss_matches_float64_reference(how, beta):
    g = torch.Generator().manual_seed(1)
    N, T = 5, 7
    logp = -torch.rand(N, T, generator=g, dtype=torch.float64) * 3
    old = logp + torch.randn(N, T, generator=g, dtype=torch.float64) * 0.3          # ratios on both sides of the clip
    ref = logp + torch.randn(N, T, generator=g, dtype=torch.float64) * 0.2
    adv = torch.randn(N, generator=g, dtype=torch.float64)
    lengths = torch.tensor([7, 3, 5, 1, 6])
    mask = (torch.arange(T)[None] < lengths[:, None]).double()
    step_tokens, step_seqs, max_len = 40.0, 9.0, 8        # totals of a (pretend) larger optimizer step
    lp = logp.clone().requires_grad_(True)
    token_loss, stats = grpo.grpo_loss(lp, old, adv, mask, 0.2, 0.28, ref, beta)
    ours = grpo.aggregate(token_loss, mask, how, step_tokens, step_seqs, max_len)
    lp_ref = logp.clone().requires_grad_(True)
    want = reference_loss(lp_ref, old, adv, mask, 0.2, 0.28, ref, beta, how, step_tokens, step_seqs, max_len)
    torch.testing.assert_close(ours, want, atol=1e-12, rtol=1e-10)
    g_ours, = torch.autograd.grad(ours, lp)
    g_ref, = torch.autograd.grad(want, lp_ref)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-12, rtol=1e-10)
    assert 0 < stats["clip_frac"] < 1


def test_ratio_one_gradient_is_minus_advantage_times_grad_logp():
    logp = -torch.rand(3, 4, dtype=torch.float64)
    adv = torch.tensor([1.5, -0.5, 0.0], dtype=torch.float64)
    mask = torch.ones(3, 4, dtype=torch.float64)
    lp = logp.clone().requires_grad_(True)
    tl, _ = grpo.grpo_loss(lp, logp.detach(), adv, mask)
    loss = grpo.aggregate(tl, mask, "token-mean", 12.0, 3.0, 4)
    assert abs(float(loss.detach()) - float(-adv.sum() * 4 / 12)) < 1e-12      # rho = 1: the loss is just -mean(A)
    g, = torch.autograd.grad(loss, lp)
    torch.testing.assert_close(g, (-adv[:, None] / 12).expand(3, 4))


def test_clip_zeroes_gradient_past_the_right_side():
    old = torch.zeros(4, 1, dtype=torch.float64)
    # log ratios: far above 1+eh, far below 1-el, inside, inside
    lp = torch.tensor([[0.5], [-0.5], [0.05], [-0.05]], dtype=torch.float64, requires_grad=True)
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    mask = torch.ones(4, 1, dtype=torch.float64)
    tl, _ = grpo.grpo_loss(lp, old, adv, mask, eps_low=0.2, eps_high=0.2)
    g, = torch.autograd.grad(tl.sum(), lp)
    assert g[0, 0] == 0 and g[1, 0] == 0            # A>0 past 1+eps, A<0 below 1-eps: clipped, no gradient
    assert g[2, 0] < 0 and g[3, 0] > 0              # inside the trust region: the gradient flows
    # On the wrong side the clip does NOT apply: A<0 with a large ratio still gets (a big) gradient.
    lp2 = torch.tensor([[0.5]], dtype=torch.float64, requires_grad=True)
    tl2, _ = grpo.grpo_loss(lp2, torch.zeros(1, 1, dtype=torch.float64), torch.tensor([-1.0], dtype=torch.float64),
                            torch.ones(1, 1, dtype=torch.float64))
    g2, = torch.autograd.grad(tl2.sum(), lp2)
    assert g2[0, 0] > 1.0


def test_unknown_aggregation_is_a_clear_error():
    with pytest.raises(ValueError, match="token-mean"):
        grpo.aggregate(torch.zeros(1, 1), torch.ones(1, 1), "mean", 1, 1, 1)
