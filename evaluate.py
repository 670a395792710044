"""Solo evaluation, the paper's test-time protocol: every model answers ALONE, with ordinary chain of thought.

    accuracy = (1/n) sum_q  1[ judge(extract(model's answer to q), gold_q) ]         greedy (the paper's protocol)
    mean@k   = (1/n) sum_q  (1/k) sum_j 1[ sample j of q is right ]                  sampled at temperature T
    pass@k   = (1/n) sum_q  1[ any of the k samples of q is right ]

The pieces live in files named for them: judge.py (extract an answer, decide equivalence), benchmarks.py (load the
paper's benchmarks), sandbox.py (run MBPP code against its tests). This file prompts the model, generates in
batches with grpo.generate, judges, and reports.

Prompt (a choice the paper does not spell out; ours): the question followed by
"Please reason step by step, and put your final answer within \\boxed{}." (the Qwen2.5-Math convention), as one
user turn through the model's chat template. Tiny-world models see only the question: that is all they know.

Run:
    python evaluate.py --model tiny-strong --benchmarks tinyworld
    python evaluate.py --model smollm2 --benchmarks gsm8k,math500 --limit 20
    python evaluate.py --model Qwen/Qwen2.5-7B-Instruct --benchmarks math5 --device cuda --samples 4 --temperature 0.6
"""
import dataclasses

import torch
from tqdm import tqdm

import grpo
import models
import tinyworld
from judge import grade

COT = "Please reason step by step, and put your final answer within \\boxed{}."


def solo_messages(question: str, benchmark: str = "") -> list[dict]:
    """The single user turn a model answers alone."""
    if benchmark == "tinyworld":
        return tinyworld.messages(question)
    return [{"role": "user", "content": f"{question}\n{COT}"}]


def encode_chat(tokenizer, messages: list[dict]) -> list[int]:
    """Chat-templated prompt ids. Rendered to text first: the template already holds every special token."""
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tokenizer.encode(text, add_special_tokens=False)


def tinyworld_examples(n: int = 500) -> list[dict]:
    """The tiny world's held-out problems in the benchmark format {id, question, answer, benchmark}."""
    return [{"id": f"tiny-{i}", "question": p["question"], "answer": str(p["answer"]), "benchmark": "tinyworld"}
            for i, p in enumerate(tinyworld.test_problems(n))]


def as_dict(example) -> dict:
    """benchmarks.Example (a dataclass) or an already plain dict -> dict."""
    return dataclasses.asdict(example) if dataclasses.is_dataclass(example) else example


@torch.no_grad()
def solo_eval(model, tokenizer, examples: list[dict], max_new_tokens: int = 512, temperature: float = 0.0,
              samples: int = 1, top_p: float = 1.0, batch_size: int = 64, seed: int = 0,
              show_progress: bool = True) -> list[dict]:
    """Answer every example alone and judge it. Returns one record per (example, sample)."""
    was_training = model.training
    model.eval()
    eos, pad = models.eos_ids(model, tokenizer), tokenizer.pad_token_id
    gen = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    examples = [as_dict(ex) for ex in examples]
    records = []
    bar = tqdm(total=len(examples), desc="solo eval", disable=not show_progress, leave=False)
    for i in range(0, len(examples), batch_size):
        batch = examples[i:i + batch_size]
        prompts = [encode_chat(tokenizer, solo_messages(ex["question"], ex.get("benchmark", ""))) for ex in batch]
        r = grpo.generate(model, prompts, max_new_tokens, eos, pad, num_samples=samples, temperature=temperature,
                          top_p=top_p, generator=gen)
        texts = tokenizer.batch_decode(r.completions, skip_special_tokens=True)
        for j, text in enumerate(texts):
            ex = batch[j // samples]
            verdict = grade(text, ex["answer"])
            records.append({"id": ex["id"], "benchmark": ex.get("benchmark", ""), "sample": j % samples,
                            "completion": text, "extracted": verdict.answer, "gold": ex["answer"],
                            "correct": verdict.correct, "truncated": bool(r.truncated[j]),
                            "length": int(r.lengths[j])})
        bar.update(len(batch))
    bar.close()
    model.train(was_training)
    return records


def accuracy(records: list[dict]) -> float:
    """mean@k over all records (for greedy, k = 1: plain accuracy)."""
    return sum(r["correct"] for r in records) / max(1, len(records))
