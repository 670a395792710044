"""How the tests start several processes: spawn() is torch.multiprocessing.spawn that cannot hang the suite.

A rank that never exits (once: rank 1 stuck in the ProcessGroupGloo destructor after the test's work was done) made
mp.spawn(join=True) wait forever. spawn() waits at most `timeout` seconds of wall clock, which no healthy run comes
near even on a busy 2-core machine; past it, it prints each hung rank's Python stacks (stderr, so pytest shows them
under the test), kills each rank's whole process group (the rank and anything it started), and fails the test with a
message that names the test and the ranks that hung.
"""
import faulthandler
import os
import signal
import sys
import time

import pytest
import torch.multiprocessing as mp

# Wall-clock seconds a multi-process launch may take: 10x what the slowest one needs on 2 busy cores.
# ILR_TEST_SPAWN_TIMEOUT raises it for a slower machine.
SPAWN_TIMEOUT = float(os.environ.get("ILR_TEST_SPAWN_TIMEOUT", 300))
STACK_DUMP_WAIT = 2.0      # seconds given to the hung ranks to print their stacks before they are killed


def _in_own_group(rank, fn, args):
    """The entry point of each rank: a process group of its own (so that killing it spares pytest, which shares
    the group mp.spawn leaves its ranks in), and SIGUSR1 prints its Python stacks, so a hang shows where it is."""
    os.setpgid(0, 0)
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    fn(rank, *args)


def _kill_group(pid):
    """Kill the process group that rank `pid` leads, or the rank alone if it has not made its group yet."""
    try:
        os.killpg(pid, signal.SIGKILL) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass                   # already gone


def _test_name():
    return os.environ.get("PYTEST_CURRENT_TEST", "a test").rsplit(" ", 1)[0]   # drop the " (call)" phase


def spawn(fn, args=(), nprocs=1, timeout=None):
    """mp.spawn(fn, args, nprocs, join=True), bounded by `timeout` seconds (default SPAWN_TIMEOUT). An error in
    a rank is raised as mp.spawn raises it; a rank still running at the deadline fails the test."""
    timeout = SPAWN_TIMEOUT if timeout is None else timeout
    ctx = mp.start_processes(_in_own_group, args=(fn, args), nprocs=nprocs, join=False, start_method="spawn")
    deadline = time.monotonic() + timeout
    try:
        # join returns at each rank's exit (True once all have exited) and raises if one failed
        while not ctx.join(timeout=max(0.0, deadline - time.monotonic())):
            if time.monotonic() < deadline:
                continue
            hung = [(rank, p.pid) for rank, p in enumerate(ctx.processes) if p.is_alive()]
            if not hung:
                continue       # they all exited just now: the next join collects them
            for _, pid in hung:
                try:
                    os.kill(pid, signal.SIGUSR1)
                except ProcessLookupError:
                    pass
            time.sleep(STACK_DUMP_WAIT)
            for _, pid in hung:
                _kill_group(pid)
            ranks = ", ".join(f"rank {rank} (pid {pid})" for rank, pid in hung)
            pytest.fail(f"{_test_name()}: the {nprocs}-process run of {fn.__name__} was still running after "
                        f"{timeout:.0f} s; {ranks} hung and {'was' if len(hung) == 1 else 'were'} killed with "
                        f"{'its' if len(hung) == 1 else 'their'} process group (Python stacks in the stderr "
                        f"above; ILR_TEST_SPAWN_TIMEOUT raises the limit)", pytrace=False)
    finally:
        for p in ctx.processes:    # on any way out (a failure, Ctrl-C) no rank outlives the test
            if p.is_alive():
                _kill_group(p.pid)
            p.join()
