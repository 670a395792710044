"""GRPO by hand: batched sampling over a KV cache, token log-probs, group advantages, the clipped loss.

Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath) for one policy pi_theta:
  for each question q, sample G completions o_1..o_G from pi_old, score them with rewards r_1..r_G, and set
      A_k = r_k - mean(r)                 (optionally divided by std(r); a flag, see group_advantages)
  for every token t of completion k, with ratio rho = pi_theta(o_k,t | q, o_k,<t) / pi_old(o_k,t | ...):
      l_k,t = -min(rho * A_k, clip(rho, 1 - eps_low, 1 + eps_high) * A_k) + beta * KL_k3(pi_theta || pi_ref)
  and aggregate l over tokens and completions (three ways, see `aggregate`).
With one optimizer update per batch, pi_old = pi_theta, so rho = 1 and the logged loss is ~0 (for centred
advantages) while the gradient is -A * grad log pi: watch reward, KL and clip fraction, not the loss.

What lives here, in this order (train.py calls these):
  group_advantages mean-centred (optionally std-scaled) advantages; zero-std groups give 0 and are counted
  grpo_loss        per-token clipped surrogate + k3 KL, aggregated by `aggregate`
  token_logprobs   log pi(token) for the completion tokens only, chunked: never a full-vocab float32 log_softmax
  generate         G samples per prompt: one shared prefill, sampling, per-row stop, finished rows dropped
  forward_step     the ONE call that hands a KV cache to a Hugging Face model (its keyword changed in 5.24)

Try it: python grpo.py  (advantages, clipping and the three aggregations on made-up numbers).
"""
import inspect
from dataclasses import dataclass

import torch
from torch.utils.checkpoint import checkpoint

# ----------------------------------------------------------------------------------------------------------------
# Advantages and loss


def group_advantages(rewards: torch.Tensor, scale_by_std: bool = False, eps: float = 1e-6):
    """rewards (B, G) -> advantages (B, G), zero_std (B,) bool.

    A = r - mean(r) per group. Dividing by std (the original GRPO) weights easy and hard questions equally but
    inflates tiny reward differences; Dr. GRPO argues against it, so it is off by default (flag). A group whose
    rewards are all equal carries no signal: its advantages are exactly 0, and it is flagged so it can be counted.
    """
    mean = rewards.mean(-1, keepdim=True)
    std = rewards.std(-1, keepdim=True, unbiased=False)
    zero_std = std.squeeze(-1) < eps
    adv = rewards - mean
    if scale_by_std:
        adv = adv / (std + eps)
    adv = torch.where(zero_std[:, None], torch.zeros_like(adv), adv)
    return adv, zero_std


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
              eps_low: float = 0.2, eps_high: float = 0.2, ref_logp: torch.Tensor | None = None,
              kl_coef: float = 0.0):
    """Per-token GRPO loss (N, T) and statistics.  logp, old_logp, ref_logp, mask: (N, T); advantages: (N,) one
    per sequence, or (N, T) one per token (train.py's per-turn credit gives each turn of a conversation its own).

    KL uses the k3 estimator KL ~ exp(ref - logp) - (ref - logp) - 1 (unbiased, always >= 0). Used directly as a
    loss, the gradient of k3 is that of the FORWARD KL(ref || pi), not the reverse KL(pi || ref) that the
    objective names; the k2 estimator (0.5 (logp - ref)^2) would give the reverse-KL gradient. We keep k3 as
    GRPO's paper does, and say so here.
    """
    A = advantages[:, None] if advantages.dim() == 1 else advantages                # (N, 1) or (N, T)
    ratio = torch.exp(logp - old_logp)                                              # (N, T)
    surr1 = ratio * A
    surr2 = ratio.clamp(1 - eps_low, 1 + eps_high) * A
    loss = -torch.min(surr1, surr2)                                                 # (N, T)
    m = mask.float()
    n = m.sum().clamp(min=1)
    stats = {"clip_frac": ((surr2 < surr1).float() * m).sum() / n,   # tokens where the clip is active
             "ratio": (ratio.detach() * m).sum() / n}
    if ref_logp is not None and kl_coef > 0:
        d = ref_logp - logp
        kl = torch.exp(d) - d - 1                                                   # (N, T) k3
        loss = loss + kl_coef * kl
        stats["kl"] = (kl.detach() * m).sum() / n
    return loss * m, {k: float(v) for k, v in stats.items()}


AGGREGATIONS = ("token-mean", "seq-mean", "constant")


def aggregate(token_loss: torch.Tensor, mask: torch.Tensor, how: str, step_tokens: float, step_seqs: float,
              max_len: int) -> torch.Tensor:
    """Reduce a micro-batch's per-token loss (N, T) to the scalar whose gradient the optimizer step needs.

    The totals are those of the WHOLE optimizer step (all micro-batches, all ranks), so that summing the
    micro-batches' gradients (and DDP's mean over ranks, which train.py undoes) gives exactly:
      token-mean: sum of all token losses / all tokens in the step      (DAPO, TRL and verl default)
      seq-mean  : mean over sequences of (mean over that sequence's tokens)  (DeepSeekMath's form for one answer;
                  in ILR a "sequence" is what train.credit makes it: a whole conversation or one turn)
      constant  : sum of all token losses / (sequences * max_len)       (Dr. GRPO: no length bias)
    """
    if how == "token-mean":
        return token_loss.sum() / step_tokens
    if how == "seq-mean":
        per_seq = token_loss.sum(-1) / mask.sum(-1).clamp(min=1)                    # (N,)
        return per_seq.sum() / step_seqs
    if how == "constant":
        return token_loss.sum() / (step_seqs * max_len)
    raise ValueError(f"unknown loss aggregation {how!r}; choose one of {AGGREGATIONS}")


# ----------------------------------------------------------------------------------------------------------------
# Log-probabilities


def token_logprobs(model, tokens: torch.Tensor, attention_mask: torch.Tensor, start: int,
                   temperature: float = 1.0, chunk: int = 1024) -> torch.Tensor:
    """log pi(tokens[:, t] | tokens[:, <t]) for t = start .. L-1.  tokens (N, L) -> (N, L - start) float32.

    Only completion positions go through the LM head, in chunks of `chunk` positions, each under activation
    checkpointing: the (chunk, V) float32 logits exist one chunk at a time, in the forward AND the backward pass.
    log p = logit[target] - logsumexp(logits); no log_softmax over the whole vocabulary is ever kept.
    """
    hidden = model.get_decoder()(input_ids=tokens, attention_mask=attention_mask,
                                 position_ids=positions(attention_mask)).last_hidden_state   # (N, L, H)
    h = hidden[:, start - 1:-1, :]                   # (N, L - start, H): the state before each target token
    targets = tokens[:, start:]                      # (N, L - start)
    head = model.get_output_embeddings()
    N, T, H = h.shape
    flat_h, flat_y = h.reshape(N * T, H), targets.reshape(N * T)

    def piece(h_c, y_c):
        logits = head(h_c).float() / temperature                                    # (c, V)
        return logits.gather(-1, y_c[:, None]).squeeze(-1) - logits.logsumexp(-1)   # (c,)

    out = []
    for i in range(0, N * T, chunk):
        h_c, y_c = flat_h[i:i + chunk], flat_y[i:i + chunk]
        out.append(checkpoint(piece, h_c, y_c, use_reentrant=False) if torch.is_grad_enabled() else piece(h_c, y_c))
    return torch.cat(out).view(N, T)


class TokenLogprobs(torch.nn.Module):
    """token_logprobs as a module, so DistributedDataParallel can wrap it (DDP syncs gradients of what it wraps)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens, attention_mask, start: int, temperature: float = 1.0):
        return token_logprobs(self.model, tokens, attention_mask, start, temperature)


# ----------------------------------------------------------------------------------------------------------------
# Sampling


_CACHE_KEYWORD: dict = {}


def forward_step(model, input_ids, attention_mask, position_ids, cache):
    """Logits of the LAST position only, extending `cache` in place.  input_ids: (B, T) -> logits (B, V).

    transformers 5.24 renamed forward(past_key_values=) to forward(cache=), and 5.17 silently ignores cache=;
    we ask the model's signature which keyword it has. This is the only function that passes a cache.
    """
    key = _CACHE_KEYWORD.get(type(model))
    if key is None:   # looked up once per model class: inspect costs more than a tiny model's decode step
        key = _CACHE_KEYWORD[type(model)] = ("cache" if "cache" in inspect.signature(model.forward).parameters
                                             else "past_key_values")
    out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                use_cache=True, logits_to_keep=1, **{key: cache})
    return out.logits[:, -1, :]                                                     # (B, V)


@dataclass
class Rollout:
    """Prompts and completions in one right-aligned block.  N = prompts * G rows, row i*G + k = sample k of prompt i.

    tokens[:, :P] are the left-padded prompts, tokens[:, P:] the right-padded completions.
    """
    tokens: torch.Tensor          # (N, P + T) long
    attention_mask: torch.Tensor  # (N, P + T) long: 1 on real prompt and completion tokens, 0 on padding
    loss_mask: torch.Tensor       # (N, P + T) float: 1 on completion tokens (the stop token included), else 0
    lengths: torch.Tensor         # (N,) completion lengths, stop token included
    truncated: torch.Tensor       # (N,) bool: hit max_new_tokens without a stop token
    prompt_len: int               # P: the column where completions start

    @property
    def completions(self) -> torch.Tensor:                                          # (N, T)
        return self.tokens[:, self.prompt_len:]


def left_pad(prompts: list[list[int]], pad_id: int):
    """ids (B, P) left-padded, mask (B, P), and position ids (B, P) that start at 0 on each row's first real token."""
    P = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), P), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), P), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, P - len(p):] = torch.tensor(p, dtype=torch.long)
        mask[i, P - len(p):] = 1
    return ids, mask, positions(mask)


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids from an attention mask: cumsum - 1, pads clamped to 0. Left padding would shift them otherwise."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def sample_next(logits: torch.Tensor, temperature: float, top_p: float, generator=None) -> torch.Tensor:
    """One token per row from logits (B, V): greedy when temperature == 0, else temperature + nucleus sampling."""
    if temperature == 0:
        return logits.argmax(-1)                                                    # (B,)
    probs = torch.softmax(logits.float() / temperature, dim=-1)                     # (B, V)
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        # Drop a token when the mass BEFORE it already reaches top_p; the most likely token always stays.
        drop = (sorted_p.cumsum(-1) - sorted_p) >= top_p
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_p)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)             # (B,)


@torch.no_grad()   # no_grad, not inference_mode: the ids we return are used later in autograd-tracked forwards
def generate(model, prompts: list[list[int]], max_new_tokens: int, eos_ids: list[int], pad_id: int,
             num_samples: int = 1, temperature: float = 1.0, top_p: float = 1.0, drop_every: int = 8,
             generator: torch.Generator | None = None, progress=None) -> Rollout:
    """Sample `num_samples` completions for each prompt (token-id lists, already chat-templated).

    temperature=0 is greedy. The G samples of a prompt share one prefill: the prompt's KV cache is computed once
    and repeated G times. Every `drop_every` steps the finished rows leave the batch (each drop copies the cache,
    so dropping every step costs about what it saves). Call with model.eval(); under DDP pass the unwrapped module.
    """
    from transformers import DynamicCache
    device, G = next(model.parameters()).device, num_samples
    ids, mask, pos = (t.to(device) for t in left_pad(prompts, pad_id))             # (B, P) each
    B, P = ids.shape
    cache = DynamicCache(config=model.config)
    logits = forward_step(model, ids, mask, pos, cache)                             # (B, V) prefill, once per prompt
    if G > 1:
        cache.batch_repeat_interleave(G)                                            # (B*G, heads, P, d) per layer
        logits, mask = logits.repeat_interleave(G, 0), mask.repeat_interleave(G, 0)
    N = B * G
    prompt_ids, prompt_mask = ids.repeat_interleave(G, 0), mask                     # (N, P) each
    out = torch.full((N, max_new_tokens), pad_id, dtype=torch.long, device=device)  # (N, T) completions
    lengths = torch.zeros(N, dtype=torch.long, device=device)
    done = torch.zeros(N, dtype=torch.bool, device=device)
    eos = torch.tensor(eos_ids, device=device)
    rows = torch.arange(N, device=device)         # rows[j] = which output row the j-th live batch row writes to
    next_pos = pos[:, -1].repeat_interleave(G) + 1                                  # (N,) position of the next token
    for t in range(max_new_tokens):
        tok = sample_next(logits, temperature, top_p, generator)                    # (n_live,)
        live = ~done[rows]
        tok = torch.where(live, tok, torch.full_like(tok, pad_id))                  # finished rows just idle
        out[rows, t] = tok
        lengths[rows] += live.long()
        done[rows] |= live & torch.isin(tok, eos)
        if progress is not None:
            progress.update(1)
        if bool(done.all()) or t == max_new_tokens - 1:
            break
        if (t + 1) % drop_every == 0 and bool(done[rows].any()):
            keep = (~done[rows]).nonzero().squeeze(-1)                              # (n_live',) batch rows to keep
            cache.batch_select_indices(keep)
            rows, tok, mask, next_pos = rows[keep], tok[keep], mask[keep], next_pos[keep]
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)               # (n_live, P + t + 1)
        logits = forward_step(model, tok[:, None], mask, next_pos[:, None], cache)  # (n_live, V)
        next_pos = next_pos + 1
    T = int(lengths.max())
    out = out[:, :T]
    comp_mask = (torch.arange(T, device=device)[None, :] < lengths[:, None]).long()  # (N, T)
    return Rollout(tokens=torch.cat([prompt_ids, out], 1),
                   attention_mask=torch.cat([prompt_mask, comp_mask], 1),
                   loss_mask=torch.cat([torch.zeros_like(prompt_mask), comp_mask], 1).float(),
                   lengths=lengths, truncated=~done, prompt_len=P)


if __name__ == "__main__":
    # A worked example on made-up numbers (a whole step on a model: notebooks/5_grpo_step.ipynb).
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])              # (B=2 questions, G=4)
    adv, zero_std = group_advantages(rewards)
    print(f"rewards {rewards.tolist()}\nadvantages {adv.tolist()}  (zero-std groups: {zero_std.tolist()})")
    logp = torch.log(torch.tensor([[0.5, 0.4, 0.9], [0.2, 0.6, 0.6]]))             # (N=2 completions, T=3)
    old = torch.log(torch.tensor([[0.4, 0.4, 0.6], [0.2, 0.9, 0.6]]))
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])                         # the 2nd completion is shorter
    loss, stats = grpo_loss(logp, old, torch.tensor([1.0, -1.0]), mask)
    print(f"ratios {torch.exp(logp - old).tolist()}\nclipped token losses {loss.tolist()}  (clip_frac "
          f"{stats['clip_frac']:.2f})")
    for how in AGGREGATIONS:
        print(f"{how:10s} {float(aggregate(loss, mask, how, float(mask.sum()), 2.0, 3)):+.4f}")
