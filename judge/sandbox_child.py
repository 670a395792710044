"""The child side of judge/sandbox.py: run untrusted code, send back VALUES, never a verdict.

Started by the parent as `python -I judge/sandbox_child.py JOB.json` and imports only the standard
library. Before the first untrusted line it sets resource limits, asks the kernel to lock the process
down (lock_down) and installs the reliability guard. Then it runs the job's steps in one namespace:
each step is a statement to execute, or an expression (e.g. `square(3)`) to evaluate (kind "eval"), or
one whose truth alone is wanted ("truth": `assert is_prime(7)`, so bool() is taken here). Each writes
one JSON line to the results file, opened before anything untrusted ran:

    [i, "ok"]   [i, "value", <plain encoding>]   [i, "opaque", type name]   [i, "error", exception name, message]

A value longer than job["value_bytes"] as JSON is sent as an OverflowError instead (the parent would not read it).

The first line lists the lock-down layers in force. The code under test can rewrite everything in this
process, this file included, so the parent reads these lines as data: a value, never "it passed".
"""
import builtins
import json
import os
import signal
import struct
import sys

PLAIN = (bool, int, float, complex, str, bytes, bytearray, range, list, tuple, dict, set, frozenset)
# value types of the standard library that travel too, by wire tag. Looked up when a value is sent, not imported
# here (start-up time): a program that returns a Fraction has imported fractions.
LIBRARY = {("collections", "deque"): "deque", ("fractions", "Fraction"): "fraction", ("decimal", "Decimal"): "decimal"}
MAX_DEPTH, MAX_ITEMS = 100, 100_000


def main(job_path: str) -> None:
    with open(job_path) as f:
        job = json.load(f)
    out = os.open(job["results"], os.O_WRONLY | os.O_APPEND)  # created by the parent, outside work/
    # taken now, before anything untrusted runs: the program may replace the module attributes and builtins
    real_exit, real_write, dumps = os._exit, os.write, json.dumps
    real_exec, real_eval, real_compile = exec, eval, compile
    set_limits(job)
    layers = lock_down(job["work"])
    install_guard(job["work"])
    real_write(out, (dumps(layers) + "\n").encode())

    # not "__main__": a model's `if __name__ == "__main__":` demo does not run
    namespace = {"__name__": "solution", "__builtins__": builtins}
    for i, (kind, where, source) in enumerate(job["steps"]):
        stop = False
        try:
            if kind == "exec":
                real_exec(real_compile(source, f"<{where}>", "exec"), namespace)
                record = [i, "ok"]
            else:
                value = real_eval(real_compile(source, f"<{where}>", "eval"), namespace)
                if kind == "truth":  # only its truth matters to the assert: a re.Match may answer for itself
                    value = bool(value)
                try:
                    record = [i, "value", encode(value)]
                except TypeError as e:  # the first value found that is not plain: its type's name
                    record = [i, "opaque", str(e)[:100]]
        except BaseException as e:  # noqa: BLE001 - an exception of untrusted code is a result, not a crash
            record = [i, "error", type(e).__name__[:100], _message(e)]
            stop = i < 2  # the code or the setup failed: the tests have nothing to run against
        try:
            line = dumps(record)
        except (ValueError, RecursionError) as e:  # e.g. an int of more than 4300 digits
            line = dumps([i, "error", type(e).__name__, f"cannot send the value back: {_message(e)}"])
        if len(line) > job["value_bytes"]:  # the parent would not parse it: say why (ASCII, so chars are bytes)
            line = dumps([i, "error", "OverflowError", f"the value takes {len(line):,} bytes as JSON; the judge "
                                                       f"reads at most {job['value_bytes']:,}"])
        try:
            real_write(out, (line + "\n").encode())
        except OSError:  # over RLIMIT_FSIZE: the parent finds the record missing
            break
        if stop:
            break
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    real_exit(0)  # not sys.exit: do not wait for threads the program may have left running


def _message(e: BaseException) -> str:
    try:
        import traceback
        traceback.print_exception(e)  # to the captured stderr, for whoever reads RunResult.stderr
    except BaseException:  # noqa: BLE001
        pass
    try:
        return (repr(e.code) if isinstance(e, SystemExit) else str(e))[:300]
    except BaseException:  # noqa: BLE001 - a __str__ that raises
        return ""


def encode(value):
    """JSON for a plain value: the builtin types in PLAIN and the LIBRARY types; TypeError for anything else.

    A subclass of a plain type (a namedtuple, Counter, IntEnum, numpy float) travels as its plain base,
    so its own __eq__ stays behind in this process. Iterators and dict views travel as their items, a range
    as its start, stop and step, a Fraction as two ints, a Decimal as its string.
    """
    kinds = {t: t.__name__ for t in PLAIN}
    for (module, name), tag in LIBRARY.items():
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type):
            kinds[cls] = tag
    return _encode(value, kinds, 0)


def _encode(value, kinds: dict, depth: int):
    if depth > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    if value is None:
        return None
    kind = next((t for t in type(value).__mro__ if t in kinds), None)
    if kind is None:
        if isinstance(value, (type({}.keys()), type({}.values()), type({}.items()))) or (
                hasattr(type(value), "__next__") and hasattr(type(value), "__iter__")):
            items = []
            for item in value:
                if len(items) == MAX_ITEMS:
                    raise ValueError(f"an iterator with more than {MAX_ITEMS} items")
                items.append(_encode(item, kinds, depth + 1))
            return {"iter": items}
        raise TypeError(type(value).__name__)
    tag = kinds[kind]
    if kind in (bool, int, float):
        return kind(value)
    if kind is str:
        return str.__str__(value)
    if kind in (bytes, bytearray):
        return {tag: bytes(value).hex()}
    if kind is complex:
        return {"complex": [complex(value).real, complex(value).imag]}
    if kind is range:
        return {"range": [value.start, value.stop, value.step]}
    if tag == "fraction":
        return {"fraction": [int(n) for n in kind.as_integer_ratio(value)]}  # the class's method, not an override
    if tag == "decimal":
        return {"decimal": kind.__str__(value)}
    if kind is dict:
        return {"dict": [[_encode(k, kinds, depth + 1), _encode(v, kinds, depth + 1)] for k, v in dict.items(value)]}
    items = [_encode(v, kinds, depth + 1) for v in value]
    return items if kind is list else {tag: items}  # tuple, set, frozenset, deque


# ----------------------------------------------------------------------------- limits

def set_limits(job: dict) -> None:
    import resource

    def limit(kind, value, hard=None):
        hard = value if hard is None else hard
        _, old_hard = resource.getrlimit(kind)
        if old_hard != resource.RLIM_INFINITY:  # never ask for more than we already have
            value, hard = min(value, old_hard), min(hard, old_hard)
        resource.setrlimit(kind, (value, hard))

    limit(resource.RLIMIT_AS, job["memory_bytes"])                          # MemoryError -> status "memory"
    limit(resource.RLIMIT_CPU, job["cpu_seconds"], job["cpu_seconds"] + 1)  # SIGXCPU first, SIGKILL 1 s later
    limit(resource.RLIMIT_FSIZE, job["file_bytes"])                         # every file it writes, stdout too
    limit(resource.RLIMIT_NOFILE, 64)
    limit(resource.RLIMIT_CORE, 0)
    if os.getuid() != 0:  # the kernel never applies RLIMIT_NPROC to root, and counting /proc costs time
        limit(resource.RLIMIT_NPROC, _tasks_of_user(os.getuid()) + 32)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # too-long writes raise OSError(EFBIG) instead of killing


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


# ----------------------------------------------------------------------------- lock-down (Linux)

# Syscall numbers (x86_64, aarch64); those from 424 on are the same everywhere. None: no such call.
NR = {"fork": (57, None), "vfork": (58, None), "execve": (59, 221), "execveat": (322, 281), "clone": (56, 220),
      "clone3": (435, 435), "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
      "kcmp": (312, 272), "tkill": (200, 130), "pidfd_open": (434, 434), "pidfd_getfd": (438, 438),
      "pidfd_send_signal": (424, 424), "setpriority": (141, 140), "ioprio_set": (251, 30),
      "migrate_pages": (256, 238), "move_pages": (279, 239), "socket": (41, 198), "unshare": (272, 97),
      "setns": (308, 268), "io_uring_setup": (425, 425), "io_uring_enter": (426, 426),
      "io_uring_register": (427, 427), "kill": (62, 129), "tgkill": (234, 131), "rt_sigqueueinfo": (129, 138),
      "rt_tgsigqueueinfo": (297, 240), "prlimit64": (302, 261), "sched_setaffinity": (203, 122),
      "sched_setscheduler": (144, 119), "sched_setparam": (142, 118), "capset": (126, 91),
      "shmget": (29, 194), "shmat": (30, 196), "shmctl": (31, 195), "semget": (64, 190), "semop": (65, 193),
      "semtimedop": (220, 192), "semctl": (66, 191), "msgget": (68, 186), "msgsnd": (69, 189),
      "msgrcv": (70, 188), "msgctl": (71, 187), "fcntl": (72, 25), "ioctl": (16, 29), "sched_setattr": (314, 274),
      "add_key": (248, 217), "request_key": (249, 218), "keyctl": (250, 219), "mq_open": (240, 180),
      "mq_unlink": (241, 181), "mq_timedsend": (242, 182), "mq_timedreceive": (243, 183), "mq_notify": (244, 184),
      "mq_getsetattr": (245, 185), "memfd_create": (319, 279), "memfd_secret": (447, 447), "chmod": (90, None),
      "fchmod": (91, 52), "fchmodat": (268, 53), "fchmodat2": (452, 452), "chown": (92, None), "fchown": (93, 55),
      "lchown": (94, None), "fchownat": (260, 54), "utime": (132, None), "utimes": (235, None),
      "futimesat": (261, None), "utimensat": (280, 88), "setxattr": (188, 5), "lsetxattr": (189, 6),
      "fsetxattr": (190, 7), "removexattr": (197, 14), "lremovexattr": (198, 15), "fremovexattr": (199, 16),
      "setxattrat": (463, 463), "removexattrat": (466, 466)}
ARCHES = {"x86_64": (0, 0xC000003E), "aarch64": (1, 0xC00000B7)}  # column in NR, AUDIT_ARCH_* value
# fcntl commands and ioctl requests that make the kernel signal a file's "owner" (the same on both ABIs)
F_SETFL, F_SETOWN, F_SETSIG, F_SETOWN_EX, O_ASYNC = 4, 8, 10, 15, 0o20000
FIOSETOWN, SIOCSPGRP, FIOASYNC = 0x8901, 0x8902, 0x5452
# no new process or program; no reaching other processes (signals, memory, priorities, System V IPC), the
# network or new namespaces; nothing that outlives the run (keys in the user's keyrings, POSIX message queues);
# no memory outside RLIMIT_AS (a memfd's pages count against no limit of ours: 0.9 GB past 512 MB was measured);
# no change to any file's metadata (mode, owner, times, extended attributes, ACLs): Landlock does not cover them,
# so the child could chmod any file of this user it can name or open for reading, the Python installation too
DENIED = ("fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "tkill",
          "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "setpriority", "ioprio_set", "migrate_pages",
          "move_pages", "socket", "unshare", "setns", "io_uring_setup", "io_uring_enter", "io_uring_register",
          "shmget", "shmat", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv",
          "msgctl", "add_key", "request_key", "keyctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
          "mq_notify", "mq_getsetattr", "memfd_create", "memfd_secret", "chmod", "fchmod", "fchmodat", "fchmodat2",
          "chown", "fchown", "lchown", "fchownat", "utime", "utimes", "futimesat", "utimensat", "setxattr",
          "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "setxattrat", "removexattrat")
# allowed only when the first argument, a pid, is 0 (this process, or its group of one) or our own pid
SELF_ONLY = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "prlimit64", "sched_setaffinity",
             "sched_setscheduler", "sched_setparam", "sched_setattr")


def lock_down(work: str) -> list[str]:
    """Have the kernel enforce what the guard only asks politely; returns the layers now in force.

    capabilities  all dropped (matters for root: no mount, reboot, raising limits, reading any file)
    landlock      files: write only under work/, read only the Python installation and system libraries;
    signal-scope  (Landlock ABI 6) no signal to a process outside this domain, SIGIO of an owned file included
    seccomp       no fork, exec, socket, ptrace, pidfd, SysV IPC, keyrings, POSIX message queues, memfd;
                  no chmod, chown, utime or xattr changes, on any file (Landlock leaves metadata alone);
                  signals, limits, priorities and scheduling only for this process;
                  no file owner (fcntl F_SETOWN, F_SETOWN_EX, F_SETSIG, O_ASYNC; ioctl FIOSETOWN, SIOCSPGRP,
                  FIOASYNC), which would let I/O send any signal to any process of this user
    """
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        return []
    machine = os.uname().machine
    column, arch = ARCHES.get(machine, (None, None))
    nr = {name: pair[column] for name, pair in NR.items() if column is not None and pair[column] is not None}
    layers = []

    def call(number, *args):  # every integer as a C long: the kernel reads whole registers
        return libc.syscall(*(ctypes.c_long(a) if isinstance(a, int) else a for a in (number, *args)))

    if "capset" in nr and call(nr["capset"], struct.pack("Ii", 0x20080522, 0), bytes(24)) == 0:  # version 3, self
        layers.append("capabilities")
    if libc.prctl(ctypes.c_int(38), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        return layers  # PR_SET_NO_NEW_PRIVS: required by both layers below
    layers += _landlock(call, work)
    if arch is not None:
        program = _seccomp_program(nr, arch, os.getpid())

        class Prog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
        prog = Prog(len(program) // 8, program)
        if libc.prctl(ctypes.c_int(22), ctypes.c_ulong(2), ctypes.byref(prog), ctypes.c_ulong(0),
                      ctypes.c_ulong(0)) == 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
            layers.append("seccomp")
    return layers


def _landlock(call, work: str) -> list[str]:
    """The file rules below, and from ABI 6 (Linux 6.12) signal scoping: no signal, SIGIO included, to a process
    outside this one's Landlock domain. Returns the layers in force: [], [landlock] or [landlock, signal-scope]."""
    abi = call(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        return []
    every = (1 << 13) - 1 | (abi >= 2) << 13 | (abi >= 3) << 14 | (abi >= 5) << 15  # all rights this kernel knows
    read = 1 | 4 | 8                                                          # execute, read file, read dir
    file_rights = 1 | 2 | 4 | 1 << 14 | 1 << 15                               # the rights a non-directory can carry
    # struct landlock_ruleset_attr: handled_access_fs, handled_access_net (none: seccomp refuses sockets), scoped
    # (ABI 6: LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL). Older kernels take the first field only.
    attr = struct.pack("QQQ", every, 0, 1 | 2) if abi >= 6 else struct.pack("Q", every)
    ruleset = call(444, attr, len(attr), 0)
    if ruleset < 0:
        return []
    # not sys.path: a .pth file (pip install -e) can put a project folder, and its data, on it
    readable = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, "/lib", "/lib64",
                "/usr/lib", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache", "/etc/localtime",
                "/usr/share/zoneinfo", "/dev/urandom", "/dev/zero"}
    rules = [(work, every), ("/dev/null", 2 | 4 | 1 << 14)] + [(p, read) for p in sorted(readable) if p]
    for path, rights in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue  # not on this machine
        try:
            if os.path.realpath(path) != "/":  # never the whole file system
                rights &= every if os.path.isdir(path) else file_rights & every
                call(445, ruleset, 1, struct.pack("=Qi", rights, fd), 0)  # LANDLOCK_RULE_PATH_BENEATH
        finally:
            os.close(fd)
    ok = call(446, ruleset, 0) == 0  # landlock_restrict_self
    os.close(ruleset)
    return (["landlock", "signal-scope"] if abi >= 6 else ["landlock"]) if ok else []


def _seccomp_program(nr: dict, arch: int, pid: int) -> bytes:
    """A classic-BPF filter: each instruction is (code, jump if true, jump if false, k)."""
    LOAD, IF_EQ, IF_GE, IF_SET, RETURN = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, eperm, enosys = 0x7FFF0000, 0x00050000 | 1, 0x00050000 | 38  # SECCOMP_RET_ALLOW, _ERRNO | errno
    prog = [(LOAD, 0, 0, 4), (IF_EQ, 1, 0, arch), (RETURN, 0, 0, eperm),  # another ABI (32-bit entry): refuse
            (LOAD, 0, 0, 0), (IF_GE, 0, 1, 0x40000000), (RETURN, 0, 0, eperm)]  # x32 numbers: refuse
    for name in DENIED:
        if name in nr:
            prog += [(IF_EQ, 0, 1, nr[name]), (RETURN, 0, 0, eperm)]
    for name in SELF_ONLY:  # args[0] is at offset 16 of struct seccomp_data (its low 32 bits: a pid_t)
        prog += [(IF_EQ, 0, 5, nr[name]), (LOAD, 0, 0, 16), (IF_EQ, 2, 0, 0), (IF_EQ, 1, 0, pid),
                 (RETURN, 0, 0, eperm), (RETURN, 0, 0, allow)]
    # signal-driven I/O: the kernel sends a file's "owner" SIGIO (or any signal: F_SETSIG, SIGKILL included) when
    # the file is ready, and the owner may be any process or group of this user, the evaluator too. So no owner
    # can be named and no signal chosen, and O_ASYNC is refused as well. Jumps count instructions: 0 = the next.
    prog += [(IF_EQ, 0, 9, nr["fcntl"]), (LOAD, 0, 0, 24),  # not fcntl: skip the 9 below; else load args[1], the cmd
             (IF_EQ, 6, 0, F_SETOWN), (IF_EQ, 5, 0, F_SETOWN_EX), (IF_EQ, 4, 0, F_SETSIG),  # -> EPERM
             (IF_EQ, 0, 2, F_SETFL), (LOAD, 0, 0, 32), (IF_SET, 1, 0, O_ASYNC),  # F_SETFL: args[2] are the flags
             (RETURN, 0, 0, allow), (RETURN, 0, 0, eperm)]
    prog += _refuse_arg(nr["ioctl"], 1, (FIOSETOWN, SIOCSPGRP, FIOASYNC))  # the same by ioctl (on a socketpair)
    prog += [(IF_EQ, 0, 4, nr["clone"]), (LOAD, 0, 0, 16), (IF_SET, 1, 0, 0x10000),  # clone: CLONE_THREAD only
             (RETURN, 0, 0, eperm), (RETURN, 0, 0, allow),
             (IF_EQ, 0, 1, nr["clone3"]), (RETURN, 0, 0, enosys),  # libc then falls back to clone
             (RETURN, 0, 0, allow)]
    return b"".join(struct.pack("HBBI", *instruction) for instruction in prog)


def _refuse_arg(number: int, arg: int, values: tuple) -> list:
    """Filter instructions: system call `number` gets EPERM when args[arg] (its low 32 bits) is one of `values`,
    and is allowed otherwise; any other call goes on to the instructions after these."""
    n = len(values)
    checks = [(0x15, n - i, 0, value) for i, value in enumerate(values)]  # IF_EQ: jump over the rest to EPERM
    return [(0x15, 0, n + 3, number), (0x20, 0, 0, 16 + 8 * arg), *checks,  # IF_EQ number, else skip it all; LOAD
            (0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0x00050000 | 1)]          # RETURN allow; RETURN EPERM


# ----------------------------------------------------------------------------- the reliability guard

def _blocked(name: str):
    def refuse(*args, **kwargs):
        raise PermissionError(f"sandbox: {name} is disabled while running tests")
    return refuse


# processes, signals to others, leaving the group or the folder: never needed by an MBPP solution
NO_PROCESS = ("fork", "forkpty", "system", "popen", "execv", "execve", "execl", "execle", "execlp", "execlpe",
              "execvp", "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
              "spawnvpe", "posix_spawn", "posix_spawnp", "kill", "killpg", "setsid", "setpgid", "setpgrp",
              "setuid", "setgid", "chdir", "fchdir", "chroot", "chmod", "fchmod", "lchmod", "chown", "fchown",
              "lchown", "_exit", "pidfd_open")
# functions that change the file system: allowed inside the work folder only (number of path arguments)
PATH_CHANGERS = {"remove": 1, "unlink": 1, "rmdir": 1, "mkdir": 1, "mkfifo": 1, "mknod": 1, "truncate": 1,
                 "utime": 1, "rename": 2, "replace": 2, "link": 2, "symlink": 2}


def install_guard(work: str) -> None:
    """Readable errors for the usual attempts (os.fork, subprocess, open outside work/).

    Not a boundary: re-importing a module or ctypes gets around it. lock_down() is what holds.
    """
    import io
    import posix
    import shutil
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
        for name in NO_PROCESS:
            if hasattr(module, name):
                setattr(module, name, _blocked(f"os.{name}"))
        for name, n_paths in PATH_CHANGERS.items():
            if hasattr(module, name):
                setattr(module, name, guard_paths(f"os.{name}", getattr(module, name), n_paths))
        module.open = guarded_os_open
    _posixsubprocess.fork_exec = _blocked("subprocess")  # subprocess and multiprocessing start processes here
    signal.pidfd_send_signal = _blocked("signal.pidfd_send_signal")
    shutil._use_fd_functions = False  # rmtree would otherwise use dir_fd calls, refused above


if __name__ == "__main__":
    main(sys.argv[1])
