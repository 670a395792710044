"""Two tiny-world runs: one after the other with every core each, or side by side with cores / 2 threads each?

~1M-parameter models keep two cores only partly busy (small matrices, Python between kernels), so two runs side by
side may finish sooner than two in a row. Runs `train.py` (single-agent GRPO, no evaluation) in child processes:
    sequential: run A with all threads, then run B with all threads
    parallel:   A and B at once, each with half the threads
and prints the wall-clock ratio sequential / parallel (above 1: side by side is faster). Time it on a quiet machine.

    python -m bench.bench_parallel               # 10 ILR steps per run
    python -m bench.bench_parallel --steps 3     # a quick look
"""
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from lab import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Config:
    steps: int = 10                  # ILR steps per run
    agents: str = "tiny-strong,tiny-weak"   # the agents of both runs (one name: single-agent GRPO)
    cores: int = 0                   # threads for one run alone (0 = os.cpu_count())


def start(agents: str, seed: int, steps: int, threads: int, out: str) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    code = (f"import torch; torch.set_num_threads({threads}); import sys, train; from lab import flags; "
            f"train.main(flags.parse(train.Config, sys.argv[1:], choices=train.CHOICES))")
    argv = ["--agents", agents, "--seed", str(seed), "--interaction", "ratio", "--steps", str(steps),
            "--eval_data", "", "--sample_every", "0", "--save_every", "0", "--log_every", "1000", "--out_dir", out]
    return subprocess.Popen([sys.executable, "-c", code] + argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def main(argv=None) -> float:
    cfg = flags.parse(Config, argv, __doc__.split("\n")[0])
    cores = cfg.cores or os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        for seed in (0, 1):
            if start(cfg.agents, seed, cfg.steps, cores, os.path.join(tmp, f"seq{seed}")).wait() != 0:
                sys.exit(f"bench_parallel: the sequential run of seed {seed} failed")
        sequential = time.time() - t0
        t0 = time.time()
        procs = [start(cfg.agents, seed, cfg.steps, max(1, cores // 2), os.path.join(tmp, f"par{seed}"))
                 for seed in (0, 1)]
        if any(p.wait() != 0 for p in procs):
            sys.exit("bench_parallel: a parallel run failed")
        parallel = time.time() - t0
    print(f"two runs of {cfg.steps} steps ({cfg.agents}; seeds 0, 1): one after the other with {cores} threads "
          f"{sequential:.1f} s; side by side with {max(1, cores // 2)} each {parallel:.1f} s; "
          f"ratio {sequential / parallel:.2f} (above 1: side by side is faster)")
    return sequential / parallel


if __name__ == "__main__":
    main()
