"""Benchmark irt.fit on the shape ILR has: 2 agents x 8 samples x 12000 questions (the issue's 16 x 12000).

Simulated 0/1 responses (fixed seed), fitted three ways: 16 sample rows as respondents, the same rows pooled per
agent (2 binomial rows, what the ILR wiring should use), and the classic 2000 x 20 shape. Also times the cheap
ability update on one training batch. Prints the best of --repeats wall-clock times; the machine is shared, so
treat a single run as provisional.

Run: python bench/bench_irt.py [--repeats 3] [--questions 12000]
"""
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import irt  # noqa: E402
from lab import flags  # noqa: E402


def best_time(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


@dataclass
class Config:
    repeats: int = 3                 # timed passes per case (the best is reported)
    questions: int = 12000           # questions in the ILR-shaped case (2 agents x 8 samples)


def main():
    args = flags.parse(Config, sys.argv[1:], __doc__.split("\n")[0])
    rng = np.random.default_rng(0)
    Q = args.questions
    gamma, d = np.array([-0.2, 0.6]), rng.normal(0.0, 1.2, Q)                   # 2 agents, Q questions
    p = irt.prob(gamma, d)                                                      # (2, Q)
    x = (rng.random((2, 8, Q)) < p[:, None, :]).reshape(16, Q).astype(float)   # (16, Q): 8 sample rows per agent
    groups = ["A"] * 8 + ["B"] * 8
    print(f"numpy {np.__version__}, {os.cpu_count()} cpus visible")

    t, m = best_time(lambda: irt.fit(x), args.repeats)
    print(f"{f'fit 16 rows x {Q} questions:':<36}{t:7.2f} s  ({m.n_iter} EM iterations, converged={m.converged})")
    t, m = best_time(lambda: irt.fit(x, groups=groups), args.repeats)
    print(f"{f'fit 2 agents x 8 pooled x {Q}:':<36}{t:7.2f} s  ({m.n_iter} EM iterations, converged={m.converged})"
          f"  agent gap {m.ability[1] - m.ability[0]:.3f} (true 0.800)")

    g2, d2 = rng.normal(0.0, 1.0, 2000), rng.normal(0.0, 1.0, 20)
    x2 = (rng.random((2000, 20)) < irt.prob(g2, d2)).astype(float)
    t, m2 = best_time(lambda: irt.fit(x2), args.repeats)
    print(f"{'fit 2000 rows x 20 questions:':<36}{t:7.2f} s  ({m2.n_iter} EM iterations)")

    ids = [str(j) for j in range(Q)]
    batch = ids[:64]                                                            # a training step: 64 questions
    s, n, _ = irt.to_counts(x[:, :64], groups)                                 # (2, 64) successes of 8 trials
    t, _ = best_time(lambda: m.update_abilities(batch, s, n, drift=0.05), args.repeats)
    print(f"{'update_abilities, 2 x 64 x 8:':<36}{1e3 * t:7.2f} ms")


if __name__ == "__main__":
    main()
