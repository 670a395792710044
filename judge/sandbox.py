"""Run model-written Python against MBPP-style asserts in a throw-away child process.

MBPP grades a program by running it and then its `assert` lines: the reward is 1 when every assert
holds. The program is written by a model, so it may loop forever, allocate 50 GB, crash the
interpreter, fork in a loop or write where it should not. run_tests() runs it where none of that can
hang, crash or pollute the evaluator:

    run_tests(code, tests, setup) -> RunResult(passed, status, detail, seconds, stdout, stderr)

One call, step by step:
  1. A fresh folder base/ (mkdtemp, deleted afterwards):
         base/job.json      the code, setup, tests and limits
         base/work/         the child's cwd, HOME and TMPDIR: the only place it may write
         base/stdout, base/stderr   its output, read back capped at max_output characters
         base/report.json   written by the driver after the last test, with a random nonce
  2. Start `python -I sandbox.py --child base/job.json` with
         start_new_session=True   own session and process group (pgid = child pid): one killpg
                                  reaches every process it starts, and it has no terminal
         env = PATH, HOME, TMPDIR, LANG, *_NUM_THREADS=1: nothing of the parent's environment
         -I                       ignore PYTHON* variables and the user's site-packages
         stdin = /dev/null, every other parent fd closed (close_fds, the default)
  3. The driver (_child_main, same file) before it runs any untrusted line:
       - sets resource limits (soft = hard, and resource.setrlimit is then disabled):
           RLIMIT_AS = memory_mb         a huge allocation raises MemoryError -> status "memory"
           RLIMIT_CPU = timeout + 1 s    a backstop for the wall clock; SIGXCPU -> "timeout"
                                         (hard = soft + 1 s: at soft == hard the kernel sends SIGKILL)
           RLIMIT_FSIZE = file_mb        every file, stdout included; SIGXFSZ ignored, so an
                                         over-long write raises OSError instead of killing it
           RLIMIT_NOFILE = 64, RLIMIT_CORE = 0 (no core files)
           RLIMIT_NPROC = the user's current threads + 32: stops even a ctypes fork loop, but only
                                         for non-root users (the kernel never applies it to uid 0)
       - installs the reliability guard (_install_guard): no fork / exec / spawn / subprocess /
         kill / setsid / chdir / sockets; open() for writing, os.open with write flags, remove,
         rename, mkdir, ... raise PermissionError unless the path resolves inside work/
       - runs the code, then the setup, then each test in turn in one namespace with
         __name__ = "solution" (so a model's `if __name__ == "__main__":` demo, often reading
         input(), does not run), and stops at the first failure
  4. The parent waits `timeout` seconds of wall clock, then SIGKILLs the whole process group
     (also when the child finished: grandchildren die too). It kills while the dead leader's
     zombie still pins the group id (waitid WNOWAIT), so the id cannot have been reused.

Status (RunResult.status):
  passed   every assert held                 failed   an assert in the tests was false
  error    exception, syntax error, exit()   memory   MemoryError (RLIMIT_AS)
  timeout  wall clock or CPU limit           crashed  killed by a signal (segfault, abort)
"passed" needs the driver's report with the right nonce, so os._exit(0) or exec() in the middle
of the program cannot fake a pass.

Why the limits are set in the driver and not in preexec_fn: preexec_fn runs between fork and exec
and can deadlock when the parent has threads (run_batch uses a thread pool). Setting them as the
driver's first lines is equivalent: nothing untrusted has run yet.

This is a guard against ACCIDENTS of model-written code, not a security boundary against a
program that tries to escape. It does not protect against:
  - ctypes / cffi / C extensions: calling libc directly (fork, kill, unlink, setsid, connect)
    skips every Python-level guard, and so does reloading `posix` through importlib
  - reading: the program can read any file the evaluator's user can, including
    /proc/<evaluator pid>/environ (the environment we did not pass it)
  - the network, if the machine has one, from C code (Python's socket.socket is refused)
  - fork loops as root done through ctypes: RLIMIT_NPROC does not bind uid 0, so only the
    timeout and the final killpg bound them; a process that calls setsid() in C leaves the group
    and survives the killpg
  - machine-wide resources: each run may use a whole core; the number of files in work/ is not
    capped (each file is); memory adds up over parallel runs (workers * memory_mb)
Namespaces (`unshare --user --map-root-user --net`) were tried: they work on this machine and cut
the network, but they do not make RLIMIT_NPROC bind root, they stop no writes without a mount
namespace set-up, and Ubuntu 24.04 blocks unprivileged user namespaces by default (AppArmor), which
a CI runner may well be. Left out to keep this simple; a container or VM is the tool for real isolation.

Timing: a child costs ~30-100 ms (interpreter start-up included). All 500 MBPP test-split reference
solutions pass; the slowest (task 123, a brute-force amicable-number sum) takes ~3.7 s on a busy
2-core machine, so keep timeout >= 5 s for MBPP (the default).

Run: python sandbox.py            (runs one example of each status and prints the results)
Test: pytest tests/test_sandbox.py
"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

STATUSES = ("passed", "failed", "error", "memory", "timeout", "crashed")


@dataclass
class RunResult:
    passed: bool     # True only when every test ran and held
    status: str      # one of STATUSES
    detail: str      # one short line: which test failed, the exception, the signal
    seconds: float   # wall time from start to kill
    stdout: str = ""  # the program's output, first max_output characters
    stderr: str = ""  # tracebacks land here, first max_output characters


# ----------------------------------------------------------------------------- parent side

def run_tests(code: str, tests: list[str], setup: str = "", timeout: float = 5.0, memory_mb: int = 512,
              file_mb: int = 16, max_output: int = 2000) -> RunResult:
    """Run `code`, then `setup`, then each assert in `tests` in a sandboxed child process.

    timeout: wall-clock seconds for the whole child (interpreter start-up, ~30 ms, included).
    memory_mb: address-space limit (RLIMIT_AS); file_mb: size limit of any file it writes.
    """
    if isinstance(tests, str) or not all(isinstance(t, str) for t in tests):
        raise TypeError("run_tests: tests must be a list of strings, one assert each "
                        f"(got {type(tests).__name__}); wrap a single test as [test]")
    if not isinstance(code, str) or not isinstance(setup, str):
        raise TypeError("run_tests: code and setup must be strings")
    if timeout <= 0 or memory_mb < 32 or file_mb < 1:
        raise ValueError(f"run_tests: need timeout > 0, memory_mb >= 32 (the interpreter needs ~20 MB), "
                         f"file_mb >= 1; got timeout={timeout}, memory_mb={memory_mb}, file_mb={file_mb}")

    base = tempfile.mkdtemp(prefix="ilr-sandbox-")
    try:
        work = os.path.join(base, "work")
        os.mkdir(work)
        paths = {k: os.path.join(base, k) for k in ("job.json", "stdout", "stderr", "report.json")}
        nonce = secrets.token_hex(16)
        job = {"code": code, "setup": setup, "tests": list(tests), "work": work,
               "report": paths["report.json"], "nonce": nonce,
               "memory_bytes": memory_mb * 2**20, "cpu_seconds": int(timeout) + 1,
               "file_bytes": file_mb * 2**20}
        with open(paths["job.json"], "w") as f:
            json.dump(job, f)

        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
               # one thread per numeric library: threads count against the memory limit too
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        start = time.monotonic()
        with open(paths["stdout"], "wb") as out, open(paths["stderr"], "wb") as err:
            proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__), "--child", paths["job.json"]],
                                    cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    start_new_session=True)
        try:
            finished = _wait_for_exit(proc.pid, start + timeout)
        finally:  # also on KeyboardInterrupt: never leave a child group behind
            _kill_group(proc.pid)  # the leader is a zombie (or alive, on timeout): its pgid is still ours
            proc.wait()            # reap the leader only now
        seconds = time.monotonic() - start

        status, detail = _classify(finished, proc.returncode, _read_report(paths["report.json"], nonce), timeout)
        return RunResult(status == "passed", status, detail, seconds,
                         _read_capped(paths["stdout"], max_output), _read_capped(paths["stderr"], max_output))
    finally:
        shutil.rmtree(base, ignore_errors=True)


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


def _read_report(path: str, nonce: str) -> dict | None:
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and report.get("nonce") == nonce else None


def _classify(finished: bool, returncode: int, report: dict | None, timeout: float) -> tuple[str, str]:
    if not finished:
        return "timeout", f"still running after {timeout:g} s wall clock; killed"
    if report is not None:
        return report["status"], report["detail"]
    if returncode < 0:
        sig = -returncode
        if sig == signal.SIGXCPU:
            return "timeout", "CPU time limit (RLIMIT_CPU) exceeded"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return "crashed", f"killed by {name}"
    return "error", f"exited with code {returncode} before the tests finished"


def _read_capped(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return ""
    text = data[:limit].decode("utf-8", errors="replace")
    return text + "...[truncated]" if len(data) > limit else text


# ----------------------------------------------------------------------------- child side (the driver)

def _child_main(job_path: str) -> None:
    import builtins
    with open(job_path) as f:
        job = json.load(f)
    _set_limits(job)
    # Opened before the guard and before any untrusted line: the program can neither block the report
    # (by using up file descriptors) nor write it (the path is outside work/).
    report_fd = os.open(job["report"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    real_exit = os._exit
    _install_guard(job["work"])

    status, detail = _run_program(job["code"], job["setup"], job["tests"], builtins)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os.write(report_fd, json.dumps({"nonce": job["nonce"], "status": status, "detail": detail[:500]}).encode())
    real_exit(0)  # not sys.exit: do not wait for threads the program may have left running


def _run_program(code: str, setup: str, tests: list[str], builtins) -> tuple[str, str]:
    import traceback
    namespace = {"__name__": "solution", "__builtins__": builtins}
    parts = [("the code", code), ("the test setup", setup)]
    parts += [(f"test {i + 1}/{len(tests)}", t) for i, t in enumerate(tests)]
    for where, source in parts:
        try:
            exec(compile(source, f"<{where}>", "exec"), namespace)
        except AssertionError:
            if where.startswith("test"):
                return "failed", f"{where} failed: {source.strip().splitlines()[0][:200] if source.strip() else ''}"
            traceback.print_exc()
            return "error", f"AssertionError in {where}"
        except MemoryError:
            return "memory", f"MemoryError in {where} (limit reached)"
        except SystemExit as e:
            return "error", f"{where} called exit({e.code!r}) before the tests finished"
        except BaseException as e:  # noqa: BLE001 - any exception of untrusted code is a result, not a crash
            try:
                traceback.print_exc()
            except Exception:
                pass
            return "error", f"{type(e).__name__} in {where}: {e}"[:300]
    return "passed", f"{len(tests)} tests passed"


def _set_limits(job: dict) -> None:
    import resource

    def limit(kind, value, hard=None):
        hard = value if hard is None else hard
        _, old_hard = resource.getrlimit(kind)
        if old_hard != resource.RLIM_INFINITY:  # never ask for more than we already have
            value, hard = min(value, old_hard), min(hard, old_hard)
        resource.setrlimit(kind, (value, hard))

    limit(resource.RLIMIT_AS, job["memory_bytes"])
    limit(resource.RLIMIT_CPU, job["cpu_seconds"], job["cpu_seconds"] + 1)  # SIGXCPU first, SIGKILL 1 s later
    limit(resource.RLIMIT_FSIZE, job["file_bytes"])
    limit(resource.RLIMIT_NOFILE, 64)
    limit(resource.RLIMIT_CORE, 0)
    if os.getuid() != 0:  # the kernel ignores RLIMIT_NPROC for root, and counting /proc costs time
        limit(resource.RLIMIT_NPROC, _tasks_of_user(os.getuid()) + 32)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # too-long writes raise OSError(EFBIG) instead of killing
    resource.setrlimit = resource.prlimit = _blocked("resource.setrlimit")


def _tasks_of_user(uid: int) -> int:
    """Threads of this user right now: RLIMIT_NPROC counts every one of them, not just ours."""
    count = 0
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            pass  # exited while we looked
    return count


def _blocked(name: str):
    def refuse(*args, **kwargs):
        raise PermissionError(f"sandbox: {name} is disabled while running tests")
    return refuse


# processes, signals to others, leaving the group or the folder: never needed by an MBPP solution
_NO_PROCESS = ("fork", "forkpty", "system", "popen", "execv", "execve", "execl", "execle", "execlp", "execlpe",
               "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
               "spawnvpe", "posix_spawn", "posix_spawnp", "kill", "killpg", "setsid", "setpgid", "setpgrp",
               "setuid", "setgid", "chdir", "fchdir", "chroot", "chmod", "fchmod", "lchmod", "chown", "fchown",
               "lchown", "_exit")
# functions that change the file system: allowed inside the work folder only (arg count = path arguments)
_PATH_CHANGERS = {"remove": 1, "unlink": 1, "rmdir": 1, "mkdir": 1, "mkfifo": 1, "mknod": 1, "truncate": 1,
                  "utime": 1, "rename": 2, "replace": 2, "link": 2, "symlink": 2}


def _install_guard(work: str) -> None:
    """Disable process creation, signals, sockets and writes outside `work` for the rest of this process."""
    import builtins
    import io
    import posix
    import socket
    import _posixsubprocess

    root = os.path.realpath(work)

    def inside(path) -> bool:
        if isinstance(path, int):
            return True  # an already open file descriptor
        full = os.path.realpath(os.path.join(root, os.fsdecode(os.fspath(path))))
        return full == root or full.startswith(root + os.sep)

    def no_dir_fd(name, kwargs):
        if any(kwargs.get(k) is not None for k in ("dir_fd", "src_dir_fd", "dst_dir_fd")):
            raise PermissionError(f"sandbox: {name} with dir_fd is disabled")

    def guard_paths(name, fn, n_paths):
        def guarded(*args, **kwargs):
            no_dir_fd(name, kwargs)
            for path in args[:n_paths]:
                if not inside(path):
                    raise PermissionError(f"sandbox: {name}({path!r}) is outside the work folder")
            return fn(*args, **kwargs)
        return guarded

    real_open, real_os_open = builtins.open, os.open
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and not inside(file):
            raise PermissionError(f"sandbox: open({file!r}, {mode!r}) writes outside the work folder")
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        no_dir_fd("os.open", kwargs)
        if flags & write_flags and not inside(path):
            raise PermissionError(f"sandbox: os.open({path!r}) for writing is outside the work folder")
        return real_os_open(path, flags, *args, **kwargs)

    builtins.open = io.open = guarded_open  # pathlib and tempfile go through io.open / os.open
    for module in (os, posix):  # `import posix` would otherwise hand back the originals
        for name in _NO_PROCESS:
            if hasattr(module, name):
                setattr(module, name, _blocked(f"os.{name}"))
        for name, n_paths in _PATH_CHANGERS.items():
            if hasattr(module, name):
                setattr(module, name, guard_paths(f"os.{name}", getattr(module, name), n_paths))
        module.open = guarded_os_open
    # subprocess (bound at its import as subprocess._fork_exec) and multiprocessing spawn through this
    _posixsubprocess.fork_exec = subprocess._fork_exec = _blocked("subprocess")
    shutil._use_fd_functions = False  # rmtree would otherwise use dir_fd calls, refused above

    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            raise PermissionError("sandbox: sockets are disabled while running tests")
    socket.socket = NoSocket


# ----------------------------------------------------------------------------- demo

def _demo() -> None:
    square = "def square(x):\n    return x * x\n"
    cases = [
        ("passes", square, ["assert square(3) == 9", "assert square(-2) == 4"]),
        ("wrong answer", square, ["assert square(3) == 9", "assert square(2) == 5"]),
        ("exception", "def square(x):\n    return x * y\n", ["assert square(3) == 9"]),
        ("infinite loop", "while True:\n    pass\n", []),
        ("huge allocation", "x = bytearray(8 * 2**30)\n", []),
        ("segfault", "import ctypes\nctypes.string_at(0)\n", []),
        ("fork loop", "import os\nwhile True:\n    os.fork()\n", []),
    ]
    results = run_batch([(code, tests) for _, code, tests in cases], timeout=2.0, memory_mb=256)
    for (what, _, _), r in zip(cases, results):
        print(f"{what:16s} {r.status:8s} {r.seconds:5.2f} s  {r.detail}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child_main(sys.argv[2])
    else:
        _demo()
