"""A tiny offline world: arithmetic word problems, a tokenizer, and two small warm-started models.

Everything here runs without network on a 2-core CPU, so the whole ILR pipeline can be read, run and tested
before any real model is downloaded.

The problems
    "Mia has 68 coins. She finds 17 more. She gives away 29. How many coins does Mia have now?"
    2 or 3 add/subtract steps, every value (start, operands, every intermediate result) in 0..99.
    A worked solution is one line per step, then the answer in a box:
        68+17=85
        85-29=56
        The answer is \boxed{56}.
    The line format "a+b=c" (no spaces: fewer tokens) is deliberately machine-checkable: a later Idea3 corpus can
    analyse a peer's solution line by line ("85-29=66 is wrong: 85-29=56") and fuse two solutions, with the same tokens.

The systematic flaw (why GRPO has something to learn)
    RL sharpens what a model half knows; it cannot teach arithmetic from nothing (../shared/measured-facts.md).
    So each warm-start corpus is correct everywhere except one KIND of step, which is written wrong more often
    than right (FLAW_RATE = 0.7):
        "borrow": a - b where a's ones digit < b's ones digit; the flawed line forgets the borrow (a - b + 10).
        "carry" : a + b where the ones digits sum to 10 or more; the flawed line forgets the carry (a + b - 10).
    The error then propagates through the later steps, as a real slip would. A model trained on this corpus
    learns the arithmetic and also learns "forget the borrow with probability 0.7": greedy decoding is then
    wrong on every problem that contains such a step (about half of them), while sampling at T=1 is sometimes
    right. Rewarding right answers pushes that one choice past 0.5, and greedy accuracy jumps. The strong and
    the weak model have different flaws, so later a peer's solution can actually help.

The models (both tie input and output embeddings, fp32)
    tiny-strong: Qwen2 architecture, hidden 128, 4 layers, 4 heads / 2 KV heads, flaw "borrow"   (~1.0M params)
    tiny-weak  : Llama architecture, hidden 96, 4 layers, 4 heads / 2 KV heads,  flaw "carry"    (~0.55M params)
    Two families and two sizes, as in the paper's pairs (Llama-8B + Qwen-7B ...).

The tokenizer: byte-level BPE trained here on problems, solutions and a few words reserved for Idea3 turns;
every digit is its own token; ChatML-style chat template; EOS = <|im_end|>, PAD = <|pad|> (never equal to EOS).

Build (cached under assets/tinyworld/, about 5 minutes on 2 cores; the committed weights make it a no-op):
    python tinyworld.py            # build whatever is missing, then print held-out greedy accuracies
    python tinyworld.py --rebuild  # from scratch
"""
import argparse
import json
import math
import os
import random
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the repository (this file is in tasks/)
ASSETS = os.path.join(ROOT, "assets", "tinyworld")
FLAW_RATE = 0.7          # how often the flawed kind of step is written wrong in the warm-start corpus
TEST_SEED = 1234         # held-out problems come from this seed and are never trained on
SPECIALS = ["<|pad|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (  # ChatML, the format of Qwen and SmolLM2; {% generation %} marks assistant tokens for masks
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
NAMES = ["Mia", "Tom", "Ana", "Ben", "Lea", "Sam", "Ivy", "Max", "Zoe", "Leo", "Ada", "Kai"]
PRONOUN = {n: ("She" if n in {"Mia", "Ana", "Lea", "Ivy", "Zoe", "Ada"} else "He") for n in NAMES}
THINGS = ["apples", "coins", "stamps", "books", "shells", "marbles", "cards", "pens"]
ADD_VERBS = ["finds {} more", "buys {} more", "gets {} more", "is given {} more"]
SUB_VERBS = ["gives away {}", "loses {}", "sells {}", "uses {}"]
MODELS = {  # name -> (architecture, config overrides, flaw, warm-start steps)
    "tiny-strong": ("qwen2", dict(hidden_size=128, num_hidden_layers=4, intermediate_size=512), "borrow", 900),
    "tiny-weak": ("llama", dict(hidden_size=96, num_hidden_layers=4, intermediate_size=384), "carry", 1200),
}


# ----------------------------------------------------------------------------------------------------------------
# Problems and worked solutions

def make_problem(rng: random.Random) -> dict:
    """One word problem: {'question', 'start', 'ops': [(op, n), ...], 'answer'}; every value stays in 0..99."""
    while True:
        value = rng.randint(2, 99)
        start, ops = value, []
        for _ in range(rng.choice([2, 3])):
            op = rng.choice("+-")
            n = rng.randint(1, 99 - value) if op == "+" and value < 99 else rng.randint(1, max(1, value))
            if op == "+" and value + n > 99 or op == "-" and n > value:
                break
            value = value + n if op == "+" else value - n
            ops.append((op, n))
        if len(ops) >= 2:
            break
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    parts = [f"{name} has {start} {thing}."]
    for op, n in ops:
        verb = rng.choice(ADD_VERBS if op == "+" else SUB_VERBS).format(n)
        parts.append(f"{PRONOUN[name]} {verb}.")
    parts.append(f"How many {thing} does {name} have now?")
    return {"question": " ".join(parts), "start": start, "ops": ops, "answer": value}


def is_flaw_step(flaw: str, a: int, op: str, b: int) -> bool:
    """Is 'a op b' the kind of step this flaw gets wrong?"""
    if flaw == "borrow":
        return op == "-" and a % 10 < b % 10
    if flaw == "carry":
        return op == "+" and a % 10 + b % 10 >= 10
    return False


def has_flaw_step(problem: dict, flaw: str) -> bool:
    """Does the correct solution of this problem contain a step of the flawed kind?"""
    value = problem["start"]
    for op, n in problem["ops"]:
        if is_flaw_step(flaw, value, op, n):
            return True
        value = value + n if op == "+" else value - n
    return False


def write_solution(problem: dict, flaw: str | None = None, rng: random.Random | None = None,
                   flaw_rate: float = FLAW_RATE) -> str:
    """The worked solution; with a flaw, that kind of step is written wrong with probability flaw_rate.

    A wrong step propagates (the next line starts from the wrong value). If a wrong value would leave 0..99
    later on, that step is written correctly instead, so every line stays in the world's number range.
    """
    def run(slips: list[bool]) -> list[tuple[int, str, int, int]] | None:
        lines, value = [], problem["start"]
        for (op, n), slip in zip(problem["ops"], slips):
            result = value + n if op == "+" else value - n
            if slip and is_flaw_step(flaw, value, op, n):
                result += 10 if op == "-" else -10      # forgot the borrow / forgot the carry
            if not 0 <= result <= 99:
                return None
            lines.append((value, op, n, result))
            value = result
        return lines

    slips = [flaw is not None and rng is not None and rng.random() < flaw_rate for _ in problem["ops"]]
    lines = run(slips) or run([False] * len(slips))
    body = "\n".join(f"{a}{op}{b}={c}" for a, op, b, c in lines)
    return f"{body}\nThe answer is \\boxed{{{lines[-1][3]}}}."


def test_problems(n: int = 500) -> list[dict]:
    """The held-out problems (fixed seed). Training streams skip these questions."""
    rng, seen, out = random.Random(TEST_SEED), set(), []
    while len(out) < n:
        p = make_problem(rng)
        if p["question"] not in seen:
            seen.add(p["question"])
            out.append(p)
    return out


def train_problems(seed: int):
    """An endless stream of training problems that never repeats a held-out question."""
    held_out = {p["question"] for p in test_problems(2000)}
    rng = random.Random(seed)
    while True:
        p = make_problem(rng)
        if p["question"] not in held_out:
            yield p


def messages(question: str) -> list[dict]:
    """The chat a tiny model sees for a question (no system prompt: the tiny models only know this format)."""
    return [{"role": "user", "content": question}]


# ----------------------------------------------------------------------------------------------------------------
# Tokenizer and models

def build_tokenizer(path: str):
    """Train a byte-level BPE on the world's text, wrap it as a Hugging Face tokenizer, save it to path."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    corpus = []
    for _ in range(3000):
        p = make_problem(rng)
        corpus += [p["question"], write_solution(p, "borrow", rng), write_solution(p, "carry", rng)]
    # Words the Idea3 turns will need (share, analyse, fuse), so later corpora tokenize compactly.
    corpus += ["Peer solution: My solution: Analysis: the step is correct. This step is wrong, it should be. "
               "I agree. I disagree. We cooperate. We compete. Check each line. Final solution: refined answer"] * 50
    tok = Tokenizer(models.BPE())
    # Digits are split one per token (so arithmetic is done digit by digit), then bytes for everything else.
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    hf = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|pad|>", eos_token="<|im_end|>",
                                 bos_token=None, unk_token=None, chat_template=CHAT_TEMPLATE,
                                 padding_side="left", model_max_length=256)
    hf.save_pretrained(path)
    return hf


def new_model(arch: str, tokenizer, **overrides):
    """A freshly initialised Qwen2 or Llama causal LM sized for the tiny world (also used by the tests)."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM
    cfg = dict(vocab_size=len(tokenizer), hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
               num_key_value_heads=2, intermediate_size=512, max_position_embeddings=256, tie_word_embeddings=True,
               pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    cfg.update(overrides)
    if arch == "qwen2":
        return Qwen2ForCausalLM(Qwen2Config(**cfg))
    if arch == "llama":
        return LlamaForCausalLM(LlamaConfig(**cfg))
    raise ValueError(f"unknown tiny architecture {arch!r}; use 'qwen2' or 'llama'")


def sft_batch(tokenizer, problems: list[dict], flaw: str, rng: random.Random):
    """Right-padded ids and labels for supervised training; labels are -100 outside the assistant's reply."""
    rows = []
    for p in problems:
        prompt = tokenizer.apply_chat_template(messages(p["question"]), add_generation_prompt=True, tokenize=False)
        reply = write_solution(p, flaw, rng) + "<|im_end|>"
        p_ids, r_ids = tokenizer.encode(prompt), tokenizer.encode(reply)
        rows.append((p_ids + r_ids, [-100] * len(p_ids) + r_ids))
    T = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), T), tokenizer.pad_token_id)                          # (B, T)
    labels = torch.full((len(rows), T), -100)                                         # (B, T)
    for i, (x, y) in enumerate(rows):
        ids[i, :len(x)], labels[i, :len(y)] = torch.tensor(x), torch.tensor(y)
    return ids, labels


def warm_start(name: str, tokenizer, steps: int | None = None, batch: int = 64, lr: float = 3e-3, seed: int = 0):
    """Supervised training on flawed worked solutions; returns the trained model."""
    arch, overrides, flaw, default_steps = MODELS[name]
    steps = steps or default_steps
    torch.manual_seed(seed)
    model = new_model(arch, tokenizer, **overrides)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    stream, rng, t0 = train_problems(seed), random.Random(seed + 1), time.time()
    model.train()
    for step in range(steps):
        # Linear warm-up for 30 steps, then cosine to 10% of lr: the shape that converged fastest in probes.
        frac = step / steps
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / 30) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        ids, labels = sft_batch(tokenizer, [next(stream) for _ in range(batch)], flaw, rng)
        loss = model(input_ids=ids, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            print(f"  {name} step {step:4d}/{steps}  loss {loss.item():.4f}  {time.time() - t0:5.0f}s", flush=True)
    model.eval()
    return model


def build(rebuild: bool = False, names=tuple(MODELS)) -> None:
    """Build the tokenizer and any missing warm-start model under assets/tinyworld/."""
    from transformers import AutoTokenizer
    tok_dir = os.path.join(ASSETS, "tokenizer")
    if rebuild or not os.path.exists(os.path.join(tok_dir, "tokenizer.json")):
        build_tokenizer(tok_dir)
    tokenizer = AutoTokenizer.from_pretrained(tok_dir)
    for name in names:
        out = os.path.join(ASSETS, name)
        if rebuild or not os.path.exists(os.path.join(out, "config.json")):
            print(f"warm-starting {name} ...", flush=True)
            model = warm_start(name, tokenizer)
            model.generation_config.pad_token_id = tokenizer.pad_token_id
            model.save_pretrained(out)
            tokenizer.save_pretrained(out)
            with open(os.path.join(out, "world.json"), "w") as f:
                json.dump({"flaw": MODELS[name][2], "flaw_rate": FLAW_RATE, "arch": MODELS[name][0]}, f)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rebuild", action="store_true", help="retrain tokenizer and models from scratch")
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    t0 = time.time()
    build(args.rebuild)
    print(f"built in {time.time() - t0:.0f}s")
    # Where the accuracy goes: problems with the flawed kind of step versus the rest.
    import evaluate
    import models
    examples, problems = evaluate.tinyworld_examples(500), test_problems(500)
    for name in MODELS:
        model, tok = models.load(name)
        for temperature in (0.0, 1.0):
            recs = evaluate.solo_eval(model, tok, examples, 64, temperature=temperature, show_progress=False)
            flawed = [r["correct"] for r, p in zip(recs, problems) if has_flaw_step(p, MODELS[name][2])]
            clean = [r["correct"] for r, p in zip(recs, problems) if not has_flaw_step(p, MODELS[name][2])]
            print(f"{name:11s} T={temperature:.0f}: accuracy {evaluate.accuracy(recs):.3f} | on problems with a "
                  f"{MODELS[name][2]} step {sum(flawed) / len(flawed):.3f} ({len(flawed)}) | "
                  f"without {sum(clean) / len(clean):.3f} ({len(clean)})")
