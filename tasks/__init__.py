"""tasks: where questions come from.

    tinyworld.py    the offline tiny world: word problems, worked solutions with a systematic flaw, Idea3 turns in
                    the tiny format (two worlds: checks that redo a line, or check it by the inverse operation), its
                    tokenizer and the tiny model architectures (trained by experiments/warmstart.py)
    benchmarks.py   the paper's benchmarks (GSM8K, MATH-500, ... MBPP) from local JSONL files or the hub;
                    schemas.py maps each benchmark's rows to one Example, sources.py finds and reads the rows
and here, what train.py and evaluate.py ask of them: questions as plain dicts
    {"id", "question", "answer", "benchmark", "tests"?, "choices"?, "meta"?}   (ids unique strings)
load_questions(name) for evaluation, pools(name) for training (a finite training pool and a validation pool for the
abilities), and step_questions(pool, step) for the order of training: it depends only on (seed, step), so a resumed
run continues exactly where it stopped.
"""
import dataclasses
import functools
import random

from . import benchmarks, tinyworld

NAMES = ("tinyworld",) + tuple(benchmarks.BENCHMARKS)


def load_questions(name: str, limit: int = 0) -> list[dict]:
    """Held-out questions of a benchmark (the tiny world: its test problems), the first `limit` (0 = all)."""
    if name == "tinyworld":
        return [tinyworld.as_question(p, i, "test") for i, p in enumerate(tinyworld.test_problems(limit or 500))]
    return [dataclasses.asdict(e) for e in benchmarks.load_benchmark(name, limit=limit or None)]


def pools(name: str, val_n: int, seed: int) -> tuple[list[dict], list[dict]]:
    """(training questions, validation questions). The tiny world has its own disjoint splits; for a benchmark, a
    seeded sample of val_n questions is held back from training."""
    if name == "tinyworld":
        return ([tinyworld.as_question(p, i, "train") for i, p in enumerate(tinyworld.train_split())],
                [tinyworld.as_question(p, i, "val") for i, p in enumerate(tinyworld.validation_problems(val_n))])
    rows = load_questions(name)
    random.Random(seed).shuffle(rows)
    if len(rows) <= val_n:
        raise SystemExit(f"--data {name} has {len(rows)} questions, too few to hold back --val_n {val_n}")
    return rows[val_n:], rows[:val_n]


@functools.lru_cache(maxsize=4)
def _epoch_order(size: int, seed: int, epoch: int) -> list[int]:
    return random.Random(seed * 7919 + epoch).sample(range(size), size)


def step_questions(pool: list[dict], step: int, n: int, seed: int) -> list[dict]:
    """The n questions of training step `step`: consecutive slices of a seeded shuffle of the pool, reshuffled
    every epoch."""
    return [pool[_epoch_order(len(pool), seed, j // len(pool))[j % len(pool)]] for j in range(step * n, (step + 1) * n)]
