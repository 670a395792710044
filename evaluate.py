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
import argparse
import dataclasses
import json
import os
import re
import sys

import torch
from tqdm import tqdm

import grpo
import models
from judge import run_tests
from tasks import tinyworld
from tasks.benchmarks import CODE as CODE_SETS, LETTERS, MATH_FIVE, MULTIPLE_CHOICE, load_benchmark
from judge import extract_answer, grade, grade_choice, is_equiv  # noqa: F401  (re-exported: evaluate.is_equiv)

COT = "Please reason step by step, and put your final answer within \\boxed{}."
CHOICE = "Please reason step by step, and put the letter of your final choice within \\boxed{}."
CODE = "Write the Python function in one ```python code block."


def solo_messages(question: str, benchmark: str = "") -> list[dict]:
    """The single user turn a model answers alone (math, multiple choice, or code)."""
    if benchmark == "tinyworld":
        return tinyworld.messages(question)
    suffix = CHOICE if benchmark in MULTIPLE_CHOICE else CODE if benchmark in CODE_SETS else COT
    return [{"role": "user", "content": f"{question}\n{suffix}"}]


def extract_code(text: str) -> str:
    """The last ```python (or bare ```) block of a completion; the whole text when there is none."""
    blocks = re.findall(r"```(?:python|py)?[ \t]*\n(.*?)```", text, flags=re.S)
    return blocks[-1] if blocks else text


def judge_one(text: str, ex: dict, code_timeout: float = 5.0) -> tuple[str | None, bool]:
    """(extracted answer, correct) for one completion: math via the judge, letters for choices, code in a sandbox."""
    if ex.get("benchmark") in MULTIPLE_CHOICE:
        v = grade_choice(text, ex["answer"], labels=LETTERS[:len(ex.get("choices") or "ABCD")])
        return v.answer, v.correct
    if ex.get("tests"):
        code = extract_code(text)
        result = run_tests(code, ex["tests"], (ex.get("meta") or {}).get("test_setup", ""), code_timeout)
        return result.status, result.passed
    v = grade(text, ex["answer"])
    return v.answer, v.correct


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
            extracted, correct = judge_one(text, ex)
            records.append({"id": ex["id"], "benchmark": ex.get("benchmark", ""), "sample": j % samples,
                            "completion": text, "extracted": extracted, "gold": ex["answer"],
                            "correct": correct, "truncated": bool(r.truncated[j]),
                            "length": int(r.lengths[j])})
        bar.update(len(batch))
    bar.close()
    model.train(was_training)
    return records


def accuracy(records: list[dict]) -> float:
    """mean@k over all records (for greedy, k = 1: plain accuracy)."""
    return sum(r["correct"] for r in records) / max(1, len(records))


def pass_at_k(records: list[dict]) -> float:
    """Fraction of questions with at least one correct sample."""
    by_q: dict = {}
    for r in records:
        by_q[r["id"]] = by_q.get(r["id"], False) or r["correct"]
    return sum(by_q.values()) / max(1, len(by_q))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Solo evaluation: each model answers alone (the paper's protocol).")
    ap.add_argument("--model", default="tiny-strong", help="tiny-strong | tiny-weak | smollm2 | hub id | folder")
    ap.add_argument("--benchmarks", default="tinyworld",
                    help="comma list: tinyworld, " + ", ".join(MATH_FIVE) + ", amc23, mbpp, arc_challenge, mmlu_stem, "
                         "gpqa; 'math5' = the paper's five math sets")
    ap.add_argument("--limit", type=int, default=None, help="first N questions of each benchmark")
    ap.add_argument("--samples", type=int, default=1, help="k samples per question (pass@k, mean@k)")
    ap.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (the paper's protocol)")
    ap.add_argument("--top_p", type=float, default=1.0)
    ap.add_argument("--max_new_tokens", type=int, default=1024)
    ap.add_argument("--batch_size", type=int, default=32, help="questions per generate() call")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="float32", help="float32 | bfloat16 | float16")
    ap.add_argument("--out", default="runs/eval/predictions.jsonl", help="every prediction, one JSON line each")
    args = ap.parse_args(argv)
    if args.samples > 1 and args.temperature == 0:
        sys.exit("--samples > 1 needs --temperature > 0: greedy samples are all the same")
    names = [n for b in args.benchmarks.split(",") for n in (MATH_FIVE if b == "math5" else (b,))]
    model, tok = models.load(args.model, dtype=getattr(torch, args.dtype), device=args.device)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    table = {}
    with open(args.out, "w") as f:
        for name in names:
            examples = tinyworld_examples(args.limit or 500) if name == "tinyworld" else load_benchmark(name,
                                                                                                        limit=args.limit)
            recs = solo_eval(model, tok, examples, args.max_new_tokens, args.temperature, args.samples, args.top_p,
                             args.batch_size)
            for r in recs:
                f.write(json.dumps({"model": args.model, **r}) + "\n")
            table[name] = (accuracy(recs), pass_at_k(recs), len(examples))
    k = args.samples
    print(f"\n{args.model} | {'greedy' if args.temperature == 0 else f'T={args.temperature}'} | {args.out}")
    print(f"{'benchmark':15s} {'n':>5s} {'mean@' + str(k) if k > 1 else 'accuracy':>9s}" + (f" {'pass@' + str(k):>8s}" if k > 1 else ""))
    for name, (acc, pk, n) in table.items():
        print(f"{name:15s} {n:5d} {100 * acc:9.2f}" + (f" {100 * pk:8.2f}" if k > 1 else ""))
    five = [table[n][0] for n in MATH_FIVE if n in table]
    if len(five) == len(MATH_FIVE):
        print(f"{'math5 average':15s} {'':5s} {100 * sum(five) / 5:9.2f}")
    return table


if __name__ == "__main__":
    main()
