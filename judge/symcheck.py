"""symcheck: the judge's sympy step, run in a worker process that can be stopped.

    ask(('diff', a, b, tol), seconds)    -> (verdict, cpu)   is a - b zero?
    ask(('ratio', a, b, sign), seconds)  -> (verdict, cpu)   is a / b a nonzero (positive) constant?

a and b are mathvalue trees (never raw text); the worker rebuilds them with mathvalue.to_sympy. verdict is True,
False or TIMEOUT; cpu is the CPU time the worker spent. Why a process: sympy's simplify can run for minutes or
eat memory on an unlucky input, and a Python thread cannot be stopped. The rules:
  - time: `seconds` is CPU time of the worker on this check, so a verdict does not depend on how busy the
    machine is. Starting a worker (importing sympy) is not part of it: ask waits for a started worker first.
    A CPU-time alarm (ITIMER_PROF) in the worker answers TIMEOUT and ends the worker mid-check; if no answer
    comes within a wall-clock backstop (stuck in C code, or starved), the caller kills the worker.
  - threads: each caller takes its own worker from a small idle pool, so no two threads share a pipe.
  - no orphans: a worker exits when its parent process is gone (a watchdog thread polls os.getppid(), so this
    holds mid-simplify and after SIGKILL); an interrupted caller (KeyboardInterrupt) kills the worker it was
    using; at exit the idle ones are killed; a forked child forgets its parent's workers.
  - memory: the worker caps its address space at WORKER_MEMORY; running out is an error, which is "not equal".
Errors of any kind (sympy's own, a crash, no way to start a Python subprocess) give False, never an exception.
Tested by tests/test_judge.py (python -m pytest tests/test_judge.py -q -k "worker or caller or threads").
"""
import atexit
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time

TIMEOUT = 'timeout'        # the verdict of a check that ran out of time
MAX_IDLE_WORKERS = 4       # started workers kept for the next call (each holds sympy in memory)
START_TIMEOUT = 120.0      # wall-clock seconds a new worker may take to import sympy, on a very busy machine
WALL_FACTOR = 10           # backstop: a check may take WALL_FACTOR x its CPU seconds + WALL_SLACK of wall clock
WALL_SLACK = 10.0
WORKER_MEMORY = 2 << 30    # bytes of address space a sympy worker may use
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the repository: judge/ is a package in it
# The worker imports judge.mathvalue: it starts in the repository (python -c puts its working directory on the path).
_BOOT = 'from judge.symcheck import _worker_main; _worker_main()'


# ----------------------------------------------------------------------------------------------------------
# Messages: length-prefixed pickles over pipes (both ends are this module, and only trees cross).
def _write_msg(fd, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(struct.pack('<I', len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd, n, deadline):
    buf = b''
    while len(buf) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError('worker did not answer in time')
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise EOFError('worker pipe closed')
        buf += chunk
    return buf


def _read_msg(fd, deadline=None):
    (n,) = struct.unpack('<I', _read_exact(fd, 4, deadline))
    return pickle.loads(_read_exact(fd, n, deadline))


# ----------------------------------------------------------------------------------------------------------
# The caller's side: a pool of started workers.
class _Worker:
    def __init__(self):
        """Start a worker and wait until it has imported sympy (raises if it cannot start)."""
        self.proc = subprocess.Popen([sys.executable, '-c', _BOOT, str(os.getpid())], bufsize=0,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     close_fds=True, cwd=ROOT)
        try:
            if _read_msg(self.proc.stdout.fileno(), time.monotonic() + START_TIMEOUT) != 'ready':
                raise EOFError('worker failed to start')
        except BaseException:
            self.close()
            raise

    def close(self):
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except Exception:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except Exception:
                pass


_lock = threading.Lock()
_idle = []                 # started workers nobody is using
_owner = os.getpid()       # the process these workers belong to


def _forget_workers():
    """In a forked child: the parent's workers are not ours to use or kill."""
    global _lock, _idle, _owner
    _lock, _idle, _owner = threading.Lock(), [], os.getpid()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_forget_workers)


def _checkout():
    with _lock:
        if os.getpid() != _owner:
            _forget_workers()
        while _idle:
            w = _idle.pop()
            if w.proc.poll() is None:
                return w
    return _Worker()


def _checkin(w):
    with _lock:
        if os.getpid() == _owner and len(_idle) < MAX_IDLE_WORKERS and w.proc.poll() is None:
            _idle.append(w)
            return
    w.close()


@atexit.register
def _shutdown():
    with _lock:
        workers, _idle[:] = list(_idle), []
    for w in workers:
        w.close()


def ask(request, seconds):
    """Run one check with `seconds` of worker CPU time. Returns (True | False | TIMEOUT, CPU seconds spent)."""
    if not seconds > 0:        # nothing left (a nan would pass `seconds <= 0` and break the worker's CPU timer)
        return TIMEOUT, 0.0
    try:
        w = _checkout()        # a started worker: its start-up is not part of the check's time
    except TimeoutError:       # not started within START_TIMEOUT: the machine is overwhelmed
        return TIMEOUT, 0.0
    except Exception:          # no worker can start here (no sympy, no subprocesses): no symbolic step
        return False, 0.0
    try:
        _write_msg(w.proc.stdin.fileno(), (request, seconds))
        reply = _read_msg(w.proc.stdout.fileno(), time.monotonic() + WALL_FACTOR * seconds + WALL_SLACK)
    except TimeoutError:       # no answer by the wall-clock backstop: stop it the hard way
        w.close()
        return TIMEOUT, seconds
    except Exception:          # the worker died (a crash): not equal
        w.close()
        return False, 0.0
    except BaseException:      # KeyboardInterrupt, SystemExit: the caller stops, and so does its worker
        w.close()
        raise
    if reply[0] == TIMEOUT:
        w.close()              # it ended itself after answering; reap it
    else:
        _checkin(w)
    return reply


# ----------------------------------------------------------------------------------------------------------
# The worker's side: runs in the subprocess.
def _sympy_check(kind, a, b, extra):
    """'diff': is a - b zero (within tol for constants)? 'ratio': is a / b constant (positive for 'pos')?"""
    import sympy as sp
    from judge.mathvalue import to_sympy
    sa, sb = to_sympy(a), to_sympy(b)
    if kind == 'diff':
        d = sa - sb
        if d == 0:
            return True
        if not d.free_symbols:                             # constants: 30 digits beat float cancellation
            va, vb = complex(sp.N(sa, 30)), complex(sp.N(sb, 30))
            return abs(va - vb) <= extra * max(abs(va), abs(vb)) + 1e-25
        if sp.simplify(d) == 0:
            return True
        return d.equals(0) is True
    r = sp.simplify(sa / sb)
    if r.free_symbols or r == 0 or r.is_finite is not True:
        return False
    return r.is_positive is True if extra == 'pos' else True


_checking = False          # (worker) a check is running: the CPU alarm ends it
_reply_fd = None           # (worker) where replies go
_t0 = 0.0                  # (worker) CPU time when the current check began


def _on_cpu_alarm(signum, frame):
    """SIGPROF: the check has used its CPU seconds. Answer TIMEOUT and end the worker on the spot (an exception
    could be swallowed by sympy's own try/except; the caller starts a fresh worker next time)."""
    if _checking:
        _write_msg(_reply_fd, (TIMEOUT, time.process_time() - _t0))
        os._exit(0)


def _watch_parent(parent_pid):
    """Exit the worker as soon as the process that started it is gone (it is then re-parented)."""
    while os.getppid() == parent_pid:
        time.sleep(0.2)
    os._exit(0)


def _worker_main():
    global _checking, _reply_fd, _t0
    threading.Thread(target=_watch_parent, args=(int(sys.argv[1]),), daemon=True).start()
    try:
        import resource
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = WORKER_MEMORY if hard == resource.RLIM_INFINITY else min(WORKER_MEMORY, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass
    signal.signal(signal.SIGPROF, _on_cpu_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)            # Ctrl-C is for the caller, which then ends this worker
    _reply_fd = os.dup(1)
    os.dup2(2, 1)              # a stray print must not corrupt the reply channel
    import sympy  # noqa: F401  (the slow part of starting)
    _write_msg(_reply_fd, 'ready')
    while True:
        try:
            request, seconds = _read_msg(0)
        except EOFError:
            return             # the parent closed the pipe
        _t0, _checking = time.process_time(), True
        signal.setitimer(signal.ITIMER_PROF, seconds)
        try:
            verdict = bool(_sympy_check(*request))
        except Exception:      # MemoryError, RecursionError, sympy's own errors: not equal
            verdict = False
        _checking = False      # from here on the alarm does nothing
        signal.setitimer(signal.ITIMER_PROF, 0)
        _write_msg(_reply_fd, (verdict, time.process_time() - _t0))
