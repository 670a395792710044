"""tests/harness.py: a multi-process launch that hangs fails its test and leaves no process behind; an error in a
rank is raised as torch.multiprocessing.spawn raises it."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch.multiprocessing as mp

import harness

HANG = 60                  # seconds: only a hang takes this long, however busy the machine


def _gone(pid):
    """Has pid exited? (A zombie, dead but not yet reaped by its new parent, counts as exited.)"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _hang(rank, folder):
    """Rank 0 is done at once; rank 1 starts a child of its own, writes both pids, and never ends (SIGTERM too)."""
    if rank == 0:
        return
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    with open(os.path.join(folder, "pids.tmp"), "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    os.rename(os.path.join(folder, "pids.tmp"), os.path.join(folder, "pids"))   # whole, or not at all
    while True:
        time.sleep(1)


def test_a_hung_rank_fails_the_test_and_leaves_no_process(tmp_path):
    with pytest.raises(pytest.fail.Exception) as failed:
        harness.spawn(_hang, args=(str(tmp_path),), nprocs=2, timeout=15)
    message = str(failed.value)
    assert "test_a_hung_rank_fails_the_test_and_leaves_no_process" in message, message
    assert "rank 1" in message and "_hang" in message, message
    pids = tmp_path / "pids"
    if not pids.exists():      # rank 1 was killed before it got that far (a very busy machine): nothing to check
        return
    t0 = time.monotonic()
    for pid in map(int, pids.read_text().split()):       # the hung rank and the process it started
        while not _gone(pid):
            assert time.monotonic() - t0 < HANG, f"process {pid} outlived the failed launch"
            time.sleep(0.1)


def _fail_on_rank_1(rank):
    if rank == 1:
        raise ValueError("rank 1 failed on purpose")


def test_an_error_in_a_rank_is_raised():
    with pytest.raises(mp.ProcessRaisedException, match="rank 1 failed on purpose"):
        harness.spawn(_fail_on_rank_1, nprocs=2)
