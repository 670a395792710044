"""How long irt.fit takes at ILR's size: 2 agents x 8 samples x 12,000 questions (a math_train-sized pool).

Simulated 0/1 responses (fixed seed; true abilities -0.2 and 0.6, difficulties N(0, 1.2^2)), fitted three ways:
    16 rows       each of the 16 sample rows as its own respondent (16 x 12,000 0/1 answers)
    pooled        the same rows pooled per agent: 2 binomial rows of 8 trials each, which is what train.py fits
                  (it prints the fitted gap between the two abilities beside the true 0.8)
    2000 x 20     the classic IRT shape: many respondents, few questions
and update_abilities on one training step's answers (2 agents x 64 questions x 8 samples), difficulties fixed.
Prints the best of --repeats wall-clock times; other work on the machine slows a run, so repeat before trusting one.

Run: python -m bench.bench_irt [--repeats 3] [--questions 12000]
"""
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

import irt
from lab import flags


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
