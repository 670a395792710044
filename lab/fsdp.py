"""FSDP2 for the agents (train.py --fsdp): each GPU keeps 1/world of every weight, gradient and AdamW moment.

DDP keeps a whole model and its optimizer on every GPU: 4 (fp32 weight) + 4 (gradient) + 8 (AdamW's two moments)
= 16 bytes per parameter, 235 GB for Qwen2.5-14B, three 80 GB GPUs' worth. Fully sharded data parallelism (ZeRO-3;
here PyTorch's own FSDP2, torch.distributed.fsdp.fully_shard) cuts each of those tensors into `world` pieces, one
per rank, and puts a layer back together only while that layer runs:

    forward    all-gather layer l's weights in the compute dtype -> run layer l -> free them    (layer by layer)
    backward   all-gather layer l again -> its gradients -> reduce-scatter them (mean over ranks, fp32) -> free
    step       AdamW on the local shard only: 16 / world bytes per parameter per GPU, plus one layer at a time whole

The mean in the reduce-scatter is the mean DDP's all-reduce takes, so train.policy_update's normalisation (step
totals divided by world) holds unchanged. How this repository uses it (bytes per GPU: `python -m lab.fsdp`):

  shard        fully_shard(each decoder layer), then fully_shard(grpo.TokenLogprobs(model)): the root is the module
               whose forward the loss calls (the one DDP wraps), so the embedding, final norm and LM head, which
               token_logprobs reaches through model.get_decoder() and model.get_output_embeddings(), are gathered
               by the root's forward like the layers are by theirs. Weights stay float32 (the master copy AdamW
               updates); MixedPrecisionPolicy gathers them in `compute_dtype` (train.py passes --dtype) and
               reduce-scatters gradients in float32.
  speaking     the Idea3 rollout. Generation needs whole weights: a decode step is one tiny forward, and with
               sharded layers each step would all-gather the whole model again (29 GB for 14B in bf16, per token).
               Worse, it hangs (tried on CPU): each rank decodes its own questions and stops when its rows are
               done, so ranks make different numbers of forward calls, and every all-gather is a collective that
               all ranks must join.
               So an agent's full weights are gathered once when it starts speaking (one collective, same order on
               every rank) and freed when the next agent speaks: one agent whole at a time, which is what lets the
               14B pairs fit (the memory plan).
  whole        the same gather, up front, for code that loops over agents itself (self-ranking, evaluation).
  full_state   checkpoints: the whole float32 weights and optimizer state, gathered to rank 0's CPU, so that the
               checkpoint is an ordinary Hugging Face folder plus a trainer.pt that any world size can resume.
Not sharded: the frozen reference of --kl_coef > 0 stays one whole copy per GPU, in --dtype.

Gradient accumulation: DDP skips the all-reduce on all but the last micro-batch (no_sync). FSDP2's equivalent,
set_requires_gradient_sync(False), keeps an UNSHARDED float32 gradient on every GPU until the last micro-batch
(59 GB for 14B): the very memory sharding saves. So under --fsdp every micro-batch reduce-scatters its gradients
into the sharded .grad, which accumulates there. The sum over micro-batches of the ranks' means is the mean of the
sums: the update is the same; the cost is one reduce-scatter per micro-batch (usually 1-2 per step: a rank holds
questions_per_step / world x G conversations).

Run:  python -m lab.fsdp                      the memory plan: GB per GPU for the paper's three pairs on 8 GPUs
      python -m pytest tests/test_fsdp.py      CPU, 2 processes: the sharded step equals one process, and more
"""
import contextlib
import warnings
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import (StateDictOptions, get_model_state_dict,
                                                     get_optimizer_state_dict, set_optimizer_state_dict)
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FSDPModule, MixedPrecisionPolicy, fully_shard

import grpo

# token_logprobs returns torch.cat(...).view(N, T); FSDP2 warns that an in-place op on a returned view would skip
# its backward hook. Nothing in train.py writes into the log-probs in place, so the warning is noise here.
warnings.filterwarnings("ignore", message=r"FSDP2-wrapped module .* returned a view tensor")


def shard(model, compute_dtype: torch.dtype = torch.float32) -> FSDPModule:
    """grpo.TokenLogprobs(model), fully sharded over all ranks of the default process group.

    model: a Hugging Face causal LM in float32 on this rank's device (the master weights). compute_dtype: what
    forward and backward run in (bfloat16 on GPU; float32 on CPU, where the tests compare results exactly).
    Build the optimizer AFTER this call: fully_shard replaces every parameter by its DTensor shard.
    """
    device = next(model.parameters()).device
    mesh = init_device_mesh(device.type, (dist.get_world_size(),))
    mp = MixedPrecisionPolicy(param_dtype=compute_dtype, reduce_dtype=torch.float32)
    for layer in model.get_decoder().layers:   # one all-gather unit per decoder layer
        fully_shard(layer, mesh=mesh, mp_policy=mp)
    policy = fully_shard(grpo.TokenLogprobs(model), mesh=mesh, mp_policy=mp)   # the rest: embeddings, norm, head
    # FSDP2 takes the first module to run forward as the root. Generation (and self-ranking before any training)
    # calls the inner model's layers first, which would make layer 0 a root of its own; name the root now.
    policy._get_fsdp_state()._lazy_init()
    return policy


def is_sharded(policy) -> bool:
    return isinstance(policy, FSDPModule)


def _units(policy) -> list:
    """The FSDP modules of one agent: the root (TokenLogprobs) and its decoder layers."""
    return [m for m in policy.modules() if isinstance(m, FSDPModule)] if is_sharded(policy) else []


def gather(policy) -> None:
    """All-gather this agent's full weights (in the compute dtype) and keep them until `free`. Collective."""
    units = _units(policy)
    for m in units:
        if m is not policy:   # else a layer would reshard after its first decode step (the root never does)
            m.set_reshard_after_forward(False, recurse=False)
    handles = [m.unshard(async_op=True) for m in units]   # all in flight at once, then wait
    for h in handles:
        if h is not None:
            h.wait()


def free(policy) -> None:
    """Back to shards: drop the gathered weights, layers again reshard after each training forward."""
    for m in _units(policy):
        m.reshard()
        if m is not policy:
            m.set_reshard_after_forward(True, recurse=False)


@contextlib.contextmanager
def whole(learners: list):
    """Within: every listed agent has its full weights on every rank (a no-op for agents that are not sharded)."""
    for a in learners:
        gather(a.policy)
    try:
        yield
    finally:
        for a in learners:
            free(a.policy)


def one_by_one(learners: list):
    """Yield the learners in order, each whole while the caller works with it, freed before the next."""
    for a in learners:
        with whole([a]):
            yield a


@contextlib.contextmanager
def speaking(learners: list):
    """For idea3.run_episodes: an agent's full weights are gathered when its model is first called and freed when
    another agent's model is called, so at most one agent is whole per GPU.

    The gather happens inside a forward pre-hook on each agent's model (idea3.Dialogue.say calls grpo.generate on
    agent.model; train.py's loss never calls agent.model's own forward, only its decoder and head). It is a
    collective, so every rank must call the agents' models in the same order: run_episodes does, every rank
    running every stage for every agent (share 0, 1, analysis 0, 1, fusion 0, 1), each at least one prefill.
    """
    current = [None]

    def hook_for(a):
        def swap(module, args):
            if current[0] is not a:
                if current[0] is not None:
                    free(current[0].policy)
                gather(a.policy)
                current[0] = a
        return swap

    sharded = [a for a in learners if is_sharded(a.policy)]
    handles = [a.model.register_forward_pre_hook(hook_for(a)) for a in sharded]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
        if current[0] is not None:
            free(current[0].policy)


# ----------------------------------------------------------------------------------------------------------------
# Checkpoints


FULL = StateDictOptions(full_state_dict=True, cpu_offload=True)   # whole tensors, on rank 0's CPU only


def full_state(learners: list, optimizer: bool = True) -> list[dict] | None:
    """Per agent {"model": full state dict, "optimizer": full optimizer state dict or None}, keyed by parameter
    name, on rank 0 (the other ranks get empty dicts). Collective: every rank calls it. None when no agent is
    sharded (DDP, or one process): the checkpoint then holds the models' own tensors, as before --fsdp existed."""
    if not any(is_sharded(a.policy) for a in learners):
        return None
    return [{"model": get_model_state_dict(a.model, options=FULL),
             "optimizer": get_optimizer_state_dict(a.model, a.optimizer, options=FULL) if optimizer else None}
            for a in learners]


def load_optimizer(learner, state: dict) -> None:
    """Put a full optimizer state dict (from full_state) into the agent's sharded optimizer: each rank keeps its
    slice of every moment. Every rank passes the whole dict (train.py's restore reads trainer.pt on every rank)."""
    set_optimizer_state_dict(learner.model, learner.optimizer, optim_state_dict=state,
                             options=StateDictOptions(full_state_dict=True))


def bytes_per_rank(learner) -> dict:
    """Bytes this rank holds for one agent: weights, gradients, optimizer state (local shards only)."""
    def local(t):
        t = t.to_local() if hasattr(t, "to_local") else t
        return t.numel() * t.element_size()
    params = list(learner.model.parameters())
    return {"weights": sum(local(p) for p in params),
            "gradients": sum(local(p.grad) for p in params if p.grad is not None),
            "optimizer": sum(local(v) for s in learner.optimizer.state.values() for v in s.values()
                             if torch.is_tensor(v) and v.dim() > 0)}


# ----------------------------------------------------------------------------------------------------------------
# The memory plan: bytes per GPU from the model shapes (python -m lab.fsdp prints it for the paper's pairs)


@dataclass
class Shape:
    """What memory depends on, from a model's config.json."""
    name: str
    params: float
    layers: int
    hidden: int
    intermediate: int
    kv_heads: int
    head_dim: int
    vocab: int
    tied: bool = False

    @classmethod
    def of(cls, model) -> "Shape":
        c = model.config
        return cls(type(model).__name__, sum(p.numel() for p in model.parameters()), c.num_hidden_layers,
                   c.hidden_size, c.intermediate_size, c.num_key_value_heads,
                   getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads, c.vocab_size,
                   c.tie_word_embeddings)


PAPER = {"llama8b": Shape("Llama-3.1-8B", 8.03e9, 32, 4096, 14336, 8, 128, 128256),   # the public config.json
         "qwen7b": Shape("Qwen2.5-7B", 7.62e9, 28, 3584, 18944, 4, 128, 152064),
         "qwen14b": Shape("Qwen2.5-14B", 14.77e9, 48, 5120, 13824, 8, 128, 152064)}


def layer_activation_bytes(s: Shape, b: int = 2) -> float:
    """Bytes one decoder layer saves for the backward, per token (b bytes per element: 2 for bf16).

    b (8H + 3 kv d + 4I): the two norms' inputs and outputs, q, k, v and the rotated q and k, the attention
    output, the residual, the MLP's gate, up, act(gate) and their product; plus 5H bytes in bf16 (RMSNorm
    computes in float32). SDPA keeps no (L, L) attention matrix, so nothing grows with L^2.
    """
    extra = 5 * s.hidden if b == 2 else 0
    return b * (8 * s.hidden + 3 * s.kv_heads * s.head_dim + 4 * s.intermediate) + extra


def activation_bytes(s: Shape, tokens: int, b: int = 2, checkpointing: bool = False) -> float:
    """Peak bytes of activations for one forward + backward over `tokens` tokens (one micro-batch).

    Without checkpointing every layer's activations are kept; with it only each layer's input (b H), and the
    backward recomputes one layer at a time (its activations exist again, one layer's worth). Outside the
    layers (b + 4) H per token: the final norm, whose float32 output the chunked LM head reads.
    tests/test_fsdp.py checks the saved bytes against tiny models, float32 and bfloat16: within 8%.
    """
    layer, outside = layer_activation_bytes(s, b), (b + 4) * s.hidden
    if checkpointing:
        return tokens * (s.layers * b * s.hidden + outside + layer)
    return tokens * (s.layers * layer + outside)


def kv_cache_bytes(s: Shape, tokens: int, b: int = 2) -> float:
    """Keys and values of every layer for `tokens` tokens (all rows together)."""
    return tokens * 2 * s.layers * s.kv_heads * s.head_dim * b


def layer_params(s: Shape) -> float:
    return (s.params - s.vocab * s.hidden * (1 if s.tied else 2)) / s.layers


def root_bytes(s: Shape) -> float:
    """The root unit (embeddings, final norm, LM head) stays whole from forward to backward: bf16 weights and
    bf16 gradients, 4 bytes per parameter (the per-layer units: bf16 weights, bf16 + float32 gradients, 8)."""
    return 4 * s.vocab * s.hidden * (1 if s.tied else 2)


def per_gpu(agents: list[Shape], world: int, rows: int, seq: int, micro_batch: int, checkpointing: bool,
            sharded: bool = True) -> dict:
    """Bytes on one GPU in the two phases of an ILR step, float32 master weights and AdamW, bf16 compute.

    rows: conversations per rank per agent (questions_per_step / world x G); seq: tokens per conversation.
    Rollout: one agent whole in bf16 at a time (speaking) with its KV cache. Update: one agent at a time, its
    gradients, its embeddings + head whole with their bf16 gradients, ~2 layers gathered with their float32
    gradients for the reduce-scatter, the activations of one micro-batch, and one float32 logits chunk of
    the LM head (1024 positions, ~3 copies in its backward).
    """
    w = world if sharded else 1
    out = {"weights": sum(4 * a.params for a in agents) / w, "adamw": sum(8 * a.params for a in agents) / w,
           "grads": max(4 * a.params for a in agents) / w}
    out["rollout_whole"] = max(2 * a.params for a in agents) if sharded else 0.0
    out["kv_cache"] = max(kv_cache_bytes(a, rows * seq) for a in agents)
    out["gathered"] = max(root_bytes(a) + 2 * 8 * layer_params(a) if sharded else 0.0 for a in agents)
    out["activations"] = max(activation_bytes(a, micro_batch * seq, 2, checkpointing) for a in agents)
    out["logits"] = max(3 * 1024 * a.vocab * 4 for a in agents)
    out["rollout_peak"] = out["weights"] + out["adamw"] + out["rollout_whole"] + out["kv_cache"]
    out["update_peak"] = out["weights"] + out["adamw"] + out["grads"] + out["gathered"] + out["activations"] + \
        out["logits"]
    return out


if __name__ == "__main__":
    GB = 1e9
    pairs = [("llama8b", "qwen7b"), ("llama8b", "qwen14b"), ("qwen7b", "qwen14b")]
    print("GB per GPU, 8 GPUs, 8 questions x G=8 per step (8 conversations per rank per agent), 4400 tokens each")
    print(f"{'pair':28s} {'setup':34s} {'weights':>7s} {'AdamW':>6s} {'grads':>6s} {'whole':>6s} {'KV':>5s} "
          f"{'gather':>6s} {'activ':>6s} {'logits':>6s} {'rollout':>7s} {'update':>7s}")
    for pair in pairs:
        shapes = [PAPER[p] for p in pair]
        for label, kw in (("DDP, micro_batch 1", dict(sharded=False, micro_batch=1, checkpointing=False)),
                          ("--fsdp, micro_batch 1", dict(micro_batch=1, checkpointing=False)),
                          ("--fsdp --grad_checkpointing, mb 8", dict(micro_batch=8, checkpointing=True)),
                          ("--fsdp --grad_checkpointing, mb 4", dict(micro_batch=4, checkpointing=True))):
            r = per_gpu(shapes, 8, rows=8, seq=4400, **kw)
            print(f"{' + '.join(s.name for s in shapes):28s} {label:34s} " + " ".join(
                f"{r[k] / GB:{n}.1f}" for k, n in (("weights", 7), ("adamw", 6), ("grads", 6), ("rollout_whole", 6),
                                                   ("kv_cache", 5), ("gathered", 6), ("activations", 6),
                                                   ("logits", 6), ("rollout_peak", 7), ("update_peak", 7))))
