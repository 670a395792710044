"""symcheck: the sympy step of the judge, in a persistent worker process that is killed at a deadline.

    ask(('diff', a, b, tol), deadline)     -> True | False | None   is a - b zero? (None: failed or out of time)
    ask(('ratio', a, b, sign), deadline)   -> True | False | None   is a / b a nonzero (positive) constant?

a and b are mathvalue trees. Why a process: sympy's simplify can run for minutes or eat memory on an unlucky
input, and a Python thread cannot be stopped; signal.alarm works only in the main thread. So the check runs in
a worker (`python -c` that runs _worker_main), a plain subprocess (not multiprocessing: it also works from threads,
forked children and daemonic pool workers), talking length-prefixed pickles over its stdin/stdout:
  - a caller that runs past its deadline kills the worker and gets None; the next call starts a fresh one;
  - each concurrent caller takes its own worker from a small idle pool (lock-protected), so threads never
    share a pipe; a forked child forgets its parent's workers (os.register_at_fork and a pid check);
  - the deadline includes a cold start (~0.5 s to import sympy); a worker that is still starting when the
    deadline passes is kept for the next call instead of being killed;
  - the worker caps its address space at WORKER_MEMORY and exits when its stdin closes, so interpreter exit
    never waits for it (an atexit hook also kills idle ones).
Only trees from mathparse (never raw text) cross the pipe, and they are rebuilt with mathvalue.to_sympy.
"""
import atexit
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time

MAX_IDLE_WORKERS = 2
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # the repository: judge/ is a package in it
# The worker imports judge.mathvalue, so it starts with the repository on its path, from any working directory.
_BOOT = f'import sys; sys.path.insert(0, {ROOT!r}); from judge.symcheck import _worker_main; _worker_main()'
WORKER_MEMORY = 2 << 30    # bytes of address space a sympy worker may use


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


class _Worker:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, '-c', _BOOT], bufsize=0,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     close_fds=True)
        self.ready = False

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


def ask(request, deadline):
    """Send one check to a worker; its reply, or None when it failed or ran past the deadline (time.monotonic())."""
    if time.monotonic() >= deadline:
        return None
    try:
        w = _checkout()
    except OSError:            # cannot start a Python subprocess here: no symbolic step
        return None
    try:
        if not w.ready:
            if _read_msg(w.proc.stdout.fileno(), deadline) != ('ready',):
                raise EOFError('worker failed to start')
            w.ready = True
        _write_msg(w.proc.stdin.fileno(), request)
        reply = _read_msg(w.proc.stdout.fileno(), deadline)
    except TimeoutError:
        if w.ready:
            w.close()          # busy with a check that runs too long: kill it, a fresh one starts lazily
        else:
            _checkin(w)        # still importing sympy: keep it for the next call
        return None
    except Exception:
        w.close()
        return None
    _checkin(w)
    return reply


def _sympy_check(kind, a, b, extra):
    """Runs in the worker. 'diff': is a - b zero (within tol for constants); 'ratio': is a / b constant?"""
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


def _worker_main():
    try:
        import resource
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = WORKER_MEMORY if hard == resource.RLIM_INFINITY else min(WORKER_MEMORY, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass
    out = os.dup(1)
    os.dup2(2, 1)              # a stray print must not corrupt the reply channel
    import sympy  # noqa: F401  (the slow part of starting)
    _write_msg(out, ('ready',))
    while True:
        try:
            request = _read_msg(0)
        except EOFError:
            return             # the parent went away
        try:
            reply = _sympy_check(*request)
        except Exception:      # MemoryError, RecursionError, sympy's own errors: not equal
            reply = None
        _write_msg(out, reply)


