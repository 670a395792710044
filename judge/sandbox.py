"""Run model-written Python against MBPP-style asserts in a throw-away child process; judge it HERE.

    run_tests(code, tests, setup) -> RunResult(passed, status, detail, seconds, stdout, stderr)

The verdict is decided in this process. Each `assert` is parsed with `ast` and evaluated here, with the
real builtins; only the parts that need the program (`f(3)`, a name it defines) are computed by the
child (sandbox_child.py), which sends back their VALUES as plain data (None, bool, int, float, complex,
str, bytes, bytearray, range, list, tuple, dict, set, frozenset; deque, Fraction, Decimal), read here
within bounds on bytes, sizes and hash collisions (so no answer costs the evaluator minutes or
gigabytes). The expected values never leave this process, and any other value (an object whose
__eq__ always says True) fails: nothing the program does inside its own process turns a wrong answer
into a pass. The policy for asserts other than `f(x) == literal`: sandbox_plan.py; the verdict:
sandbox_verdict.py.

Contained (Linux): the child has its own folder work/, session and process group, and rlimits on
memory, CPU time, file size and open files. Before the first untrusted line it drops all capabilities
and asks the kernel for Landlock (5.13+: writes only under work/; reads only the Python installation
and system libraries, so not the data set nor our /proc; 6.12+: no signal to a process outside it) and
seccomp (x86_64, aarch64: no fork, exec, socket, ptrace, pidfd, SysV IPC, keyrings, message queues,
memfd, or chmod/chown/utime/xattr of any file; signals, priorities and scheduling only for itself; no
signal-driven I/O, whose F_SETOWN and F_SETSIG could aim any signal at the evaluator). The whole group
is SIGKILLed at the end, and the folder removed without recursion, however deep or chmod'ed its tree.
isolation() lists the layers this machine gives; a missing one is warned about once.
Not contained: CPU and memory of parallel runs add up; a layer the kernel lacks is absent (no Landlock:
the program reads and writes what this user can; no seccomp: it can start processes that outlive the
run, signal the evaluator, and use the network). The parent's work on the values is bounded by their
size and hash collisions, not by a clock: an assert that asks for heavy exact arithmetic on them (the
sum of thousands of Fractions) costs what it costs. Files in work/ count against RLIMIT_FSIZE one by
one, not in number (on a tmpfs /tmp they are memory). A process running as root is not a security
boundary, locked down or not: a kernel bug or a gap in these lists is one step from the machine. Where a
boundary is needed, run the evaluator in a container or VM (gVisor, Firecracker, nsjail) as a separate
unprivileged user.

Run: python -m judge sandbox (one example of each status). More notes: tests/test_sandbox.py.
"""
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass

from .sandbox_plan import make_plan
from .sandbox_verdict import VALUE_BYTES, read_records, verdict

STATUSES = ("passed", "failed", "error", "memory", "timeout", "crashed")
CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sandbox_child.py")
WANTED_LAYERS = ("capabilities", "landlock", "seccomp")


@dataclass
class RunResult:
    passed: bool     # True only when every test ran and held
    status: str      # one of STATUSES
    detail: str      # one short line: which test failed (and what the program returned), the exception, the signal
    seconds: float   # wall time from start to kill
    stdout: str = ""  # the program's output, first max_output characters
    stderr: str = ""  # tracebacks land here, first max_output characters


def run_tests(code: str, tests: list[str], setup: str = "", timeout: float = 5.0, memory_mb: int = 512,
              file_mb: int = 16, max_output: int = 2000) -> RunResult:
    """Run `code`, then `setup`, then the `tests` (asserts) in a child process; judge the asserts here.

    timeout: wall-clock seconds for the whole child (interpreter start-up, ~30 ms, included).
    memory_mb: address-space limit (RLIMIT_AS); file_mb: size limit of any file it writes.
    """
    return _run(code, tests, setup, timeout, memory_mb, file_mb, max_output)[0]


def run_batch(jobs, timeout: float = 5.0, memory_mb: int = 512, workers: int | None = None) -> list[RunResult]:
    """Run many (code, tests) or (code, tests, setup) jobs, `workers` children at a time; results in job order.

    Threads are enough: each thread only waits on its own child process. Default workers =
    min(4, cpu count); memory in use can reach workers * memory_mb.
    """
    from concurrent.futures import ThreadPoolExecutor
    jobs = [tuple(j) for j in jobs]
    for i, j in enumerate(jobs):
        if len(j) not in (2, 3):
            raise ValueError(f"run_batch: job {i} must be (code, tests) or (code, tests, setup), got {len(j)} items")
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_tests, j[0], j[1], j[2] if len(j) == 3 else "", timeout, memory_mb)
                   for j in jobs]
        return [f.result() for f in futures]


def isolation() -> list[str]:
    """The lock-down layers the kernel gives a child on this machine (see the module docstring)."""
    return _run("", [], "", 5.0, 512, 16, 0)[1]


# ----------------------------------------------------------------------------- the child process

_warned = False


def _run(code, tests, setup, timeout, memory_mb, file_mb, max_output) -> tuple[RunResult, list[str]]:
    global _warned
    if isinstance(tests, str) or not all(isinstance(t, str) for t in tests):
        raise TypeError("run_tests: tests must be a list of strings, one assert each "
                        f"(got {type(tests).__name__}); wrap a single test as [test]")
    if not isinstance(code, str) or not isinstance(setup, str):
        raise TypeError("run_tests: code and setup must be strings")
    if timeout <= 0 or memory_mb < 32 or file_mb < 1:
        raise ValueError(f"run_tests: need timeout > 0, memory_mb >= 32 (the interpreter needs ~20 MB), "
                         f"file_mb >= 1; got timeout={timeout}, memory_mb={memory_mb}, file_mb={file_mb}")
    plan = make_plan(code, setup, list(tests))
    base = tempfile.mkdtemp(prefix="ilr-sandbox-")
    try:
        work, job_path, results = (os.path.join(base, k) for k in ("work", "job.json", "results"))
        os.mkdir(work)
        open(results, "wb").close()
        job = {"steps": plan.steps, "work": work, "results": results, "memory_bytes": memory_mb * 2**20,
               "cpu_seconds": int(timeout) + 1, "file_bytes": file_mb * 2**20, "value_bytes": VALUE_BYTES}
        with open(job_path, "w") as f:
            json.dump(job, f)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
               # one thread per numeric library: threads count against the memory limit too
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        start = time.monotonic()
        with open(os.path.join(base, "stdout"), "wb") as out, open(os.path.join(base, "stderr"), "wb") as err:
            proc = subprocess.Popen([sys.executable, "-I", CHILD, job_path], cwd=work, env=env,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        try:
            finished = _wait_for_exit(proc.pid, start + timeout)
        finally:  # also on KeyboardInterrupt: never leave a child group behind
            _kill_group(proc.pid)  # the leader is a zombie (or alive, on timeout): its pgid is still ours
            proc.wait()            # reap the leader only now
        seconds = time.monotonic() - start
        layers, records = read_records(results, plan.steps)
        status, detail = verdict(plan, records, finished, proc.returncode, timeout)
        if layers is not None and not _warned and not set(WANTED_LAYERS) <= set(layers):
            _warned = True
            warnings.warn(f"sandbox: this machine gives the child only {layers or 'no'} of {list(WANTED_LAYERS)}; "
                          "see judge/sandbox.py for what is then not contained", RuntimeWarning, stacklevel=3)
        result = RunResult(status == "passed", status, detail, seconds,
                           _read_capped(os.path.join(base, "stdout"), max_output),
                           _read_capped(os.path.join(base, "stderr"), max_output))
        return result, layers or []
    finally:
        _remove_tree(base)


def _wait_for_exit(pid: int, deadline: float) -> bool:
    """Poll until the child exits (True) or the deadline passes (False), WITHOUT reaping it."""
    delay = 0.0005
    while True:
        # WNOWAIT leaves the zombie in place: its pid (= our pgid) cannot be reused until we reap it
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(2 * delay, 0.02)  # fast answers for fast programs, ~50 polls/s for slow ones


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # nothing left in the group (the zombie leader does not count)


def _remove_tree(top: str) -> None:
    """Delete `top` and everything in it, whatever the child built there; never raises.

    Not shutil.rmtree: it recurses once per level, so a 1,500-level tree raised RecursionError (and left the
    tree behind), and it gives up on directories chmod'ed to 000. Here there is no recursion and no long path:
    each subdirectory is moved into one flat folder of ours, the attic (top/attic/N), and cleared from there,
    so no path is longer than top/attic/N/name and one directory is open at a time. Directories get mode 700
    first (the child may have taken our permissions away); symbolic links are unlinked, never followed. What
    still cannot go (a mount point, an immutable file: both need privileges the child dropped) is warned about.
    """
    global _cleanup_warned
    try:
        os.chmod(top, 0o700)
        attic = tempfile.mkdtemp(dir=top)  # a name nothing in top had
    except OSError:
        attic = None  # top is gone already, or not ours to change
    if attic is not None:
        numbers, pending, stuck = itertools.count(), [top], []
        while pending:
            folder = pending.pop()
            _clear_folder(folder, attic, numbers, pending)
            if folder != top:
                try:
                    os.rmdir(folder)
                except OSError:
                    stuck.append(folder)  # something in it could not go yet: try again at the end
        for folder in [*reversed(stuck), attic, top]:  # the deepest first
            try:
                os.rmdir(folder)
            except OSError:
                pass
    if os.path.lexists(top) and not _cleanup_warned:
        _cleanup_warned = True
        warnings.warn(f"sandbox: could not remove all of {top}", RuntimeWarning, stacklevel=3)


_cleanup_warned = False


def _clear_folder(folder: str, attic: str, numbers, pending: list) -> None:
    """Unlink every non-directory in `folder`; move every directory to attic/N and add it to `pending`."""
    try:
        os.chmod(folder, 0o700)
    except OSError:
        pass
    failed = set()
    while True:  # in batches, listing afresh each time: a directory changed while listed may skip entries
        try:
            with os.scandir(folder) as listing:
                batch = list(itertools.islice((e for e in listing if e.path != attic and e.path not in failed), 1000))
        except OSError:
            return
        if not batch:
            return
        for entry in batch:
            is_dir = False
            try:
                is_dir = entry.is_dir(follow_symlinks=False)  # a symbolic link is not: it is unlinked
                if is_dir:
                    moved = os.path.join(attic, str(next(numbers)))
                    os.chmod(entry.path, 0o700)  # moving a directory rewrites its "..": needs write permission
                    os.rename(entry.path, moved)
                    pending.append(moved)
                else:
                    os.unlink(entry.path)
            except OSError:
                failed.add(entry.path)
                if is_dir:
                    pending.append(entry.path)  # could not be moved: cleared where it is, removed before folder


def _read_capped(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return ""
    text = data[:limit].decode("utf-8", errors="replace")
    return text + "...[truncated]" if len(data) > limit else text


# ----------------------------------------------------------------------------- demo

def _demo() -> None:
    square = "def square(x):\n    return x * x\n"
    cases = [
        ("passes", square, ["assert square(3) == 9", "assert square(-2) == 4"]),
        ("wrong answer", square, ["assert square(3) == 9", "assert square(2) == 5"]),
        ("lying __eq__", "class Yes:\n    def __eq__(self, other):\n        return True\n"
                         "def square(x):\n    return Yes()\n", ["assert square(3) == 9"]),
        ("exception", "def square(x):\n    return x * y\n", ["assert square(3) == 9"]),
        ("infinite loop", "while True:\n    pass\n", []),
        ("huge allocation", "x = bytearray(8 * 2**30)\n", []),
        ("segfault", "import ctypes\nctypes.string_at(0)\n", []),
        ("fork loop", "import os\nwhile True:\n    os.fork()\n", []),
    ]
    print("lock-down layers on this machine:", isolation())
    results = run_batch([(code, tests) for _, code, tests in cases], timeout=2.0, memory_mb=256)
    for (what, _, _), r in zip(cases, results):
        print(f"{what:16s} {r.status:8s} {r.seconds:5.2f} s  {r.detail}")
