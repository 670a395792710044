"""How fast is the answer judge? Judged answers per second on the real MATH-500 gold answers.

    python -m bench.bench_judge                 # 1 process, then --procs processes (default 2)
    python -m bench.bench_judge --procs 1 --repeat 5

Four workloads, each the 500 MATH-500 rows:
    self       is_equiv(answer, answer): the same string (the fast path)
    boxed      grade(solution, answer): extract the \\boxed answer from the full solution, judge it against the
               'answer' field (different spellings of the same answer: \\dfrac vs \\frac, spaces, ...)
    perturbed  is_equiv(p, answer) for three perturbations per answer: the first digit changed (when there is
               one), negated -(answer), and (answer)+1; all of these should be judged wrong
    cold       'perturbed' again with the parse cache cleared before each call (no reuse of parsed golds)
It prints answers/s per workload, how many verdicts were unexpected (a perturbation judged equal, or the same
answer judged different), how many checks ran out of time, and how many needed the sympy worker. With --procs N
the same pairs are split over N processes (fork) to show throughput on N cores. Timings are wall-clock on whatever
else the machine runs.
"""
import json
import multiprocessing
import os
import re
import sys
import time
from dataclasses import dataclass

import judge
from judge import mathjudge, symcheck
from lab import flags

DATA = os.environ.get('ILR_DATA_DIR', os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'shared', 'data'))


def perturb(answer):
    """Wrong answers close to the gold: a changed digit, the negation, the gold plus one."""
    out = []
    m = re.search(r'\d', answer)
    if m:
        d = str((int(m.group()) + 1) % 10)
        out.append(answer[:m.start()] + d + answer[m.end():])
    out += [f'({answer})+1'] if answer.strip() == '0' else [f'-({answer})', f'({answer})+1']   # -0 = 0
    return out


SYMBOLIC_CALLS = [0]


def _count_symbolic(ask):
    def counted(request, seconds):
        SYMBOLIC_CALLS[0] += 1
        return ask(request, seconds)
    return counted


def run(pairs, mode, expect):
    """Judge every pair; returns (seconds, unexpected verdicts, time-outs, sympy-worker calls)."""
    SYMBOLIC_CALLS[0] = 0
    wrong = timeouts = 0
    t0 = time.perf_counter()
    for pred, gold in pairs:
        if mode == 'cold':
            mathjudge._parse.cache_clear()
        status = judge.grade(pred, gold).status if mode == 'grade' else judge.equiv_status(pred, gold)
        wrong += (status == 'correct') != expect
        timeouts += status == 'timeout'
    return time.perf_counter() - t0, wrong, timeouts, SYMBOLIC_CALLS[0]


def _run_chunk(args):
    return run(*args)


@dataclass
class Config:
    data: str = os.path.join(DATA, "math500", "test.jsonl")  # MATH-500 test file (gold answers to perturb)
    procs: int = 2                   # also measure with this many processes
    repeat: int = 3                  # passes per workload (best pass is reported)


def main():
    args = flags.parse(Config, sys.argv[1:], __doc__.split("\n")[0])
    if not os.path.exists(args.data):
        sys.exit(f'MATH-500 not found at {args.data}: pass --data or set ILR_DATA_DIR')
    rows = [json.loads(line) for line in open(args.data)]
    symcheck.ask = _count_symbolic(symcheck.ask)
    workloads = {
        'self': ([(r['answer'], r['answer']) for r in rows], 'equiv', True),
        'boxed': ([(r['solution'], r['answer']) for r in rows], 'grade', True),
        'perturbed': ([(p, r['answer']) for r in rows for p in perturb(r['answer'])], 'equiv', False),
        'cold': ([(p, r['answer']) for r in rows for p in perturb(r['answer'])], 'cold', False),
    }
    print(f'{len(rows)} MATH-500 answers, python {sys.version.split()[0]}, {os.cpu_count()} cpus visible')
    print(f'{"workload":>10} {"pairs":>6} {"1 proc /s":>10} {f"{args.procs} procs /s":>11} '
          f'{"unexpected":>10} {"timeouts":>8} {"sympy calls":>11}')
    for name, (pairs, mode, expect) in workloads.items():
        best, wrong, timeouts, calls = float('inf'), 0, 0, 0
        for _ in range(args.repeat):
            dt, wrong, timeouts, calls = run(pairs, mode, expect)
            best = min(best, dt)
        par = float('nan')
        if args.procs > 1:
            chunks = [(pairs[i::args.procs], mode, expect) for i in range(args.procs)]
            with multiprocessing.get_context('fork').Pool(args.procs) as pool:
                pool.map(_run_chunk, chunks)                    # warm-up: parse caches, workers
                t0 = time.perf_counter()
                pool.map(_run_chunk, chunks)
                par = len(pairs) / (time.perf_counter() - t0)
        print(f'{name:>10} {len(pairs):>6} {len(pairs) / best:>10.0f} {par:>11.0f} {wrong:>10} {timeouts:>8} '
              f'{calls:>11}')


if __name__ == '__main__':
    main()
