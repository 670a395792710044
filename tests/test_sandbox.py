"""judge.sandbox: wrong code never passes, and nothing the code does reaches past its own folder.

Notes that do not fit the module docstring.

Why the parent judges. The old design let the child run the asserts and write "passed" into a report
with a nonce. Everything in the child's process belongs to the code under test, so a program could
replace builtins.exec or compile, replace the driver's json.dumps, empty the driver's list of tests
through sys._getframe, read the nonce from the job file and write the report itself, or return an
object whose __eq__ is always True. Now the child only sends values for the parts of each assert that
need the program; the expected values stay in the parent, which compares plain data with the real
operators. A value channel can still be written by the program, but writing "square(3) is 9" into it
is no better than a square() that returns 9. What remains forgeable is what plain Python would allow
too: `assert is_prime(7)` holds for a function that always returns True.

Layers (sandbox_child.lock_down), all before the first untrusted line:
  rlimits       RLIMIT_AS (MemoryError -> "memory"), RLIMIT_CPU = timeout + 1 s (SIGXCPU -> "timeout";
                hard = soft + 1: at soft == hard the kernel sends SIGKILL), RLIMIT_FSIZE (every file,
                stdout and the results too; SIGXFSZ ignored so a long write raises OSError),
                RLIMIT_NOFILE = 64, RLIMIT_CORE = 0, RLIMIT_NPROC for non-root users.
  capabilities  capset() to nothing: root without capabilities cannot mount, reboot, load modules,
                raise its hard limits, bypass file permissions or signal other users' processes.
  landlock      write, create, remove, truncate only under work/; read and execute only below the
                Python prefixes, sys.path, /lib, /usr/lib, /usr/local/lib, ld.so.cache, zoneinfo. So
                the data set (its expected answers), the job file and /proc (the parent's memory and
                environment) are out of reach, and _io.FileIO is refused by the kernel, not by Python.
  signal-scope  Landlock ABI 6 (Linux 6.12+): no signal to a process outside the child's domain. A
                second layer (a SIGIO path around it was reported upstream): seccomp below is primary.
  seccomp       EPERM for fork, vfork, clone without CLONE_THREAD (threads still work), execve,
                socket, ptrace, process_vm_*, pidfd_*, io_uring, unshare, setns, setpriority,
                ioprio_set; keyrings (add_key, request_key, keyctl) and POSIX message queues (mq_*),
                which outlive the run; memfd_create and memfd_secret (memory outside RLIMIT_AS);
                chmod, chown, utime and xattr calls of every kind (Landlock leaves metadata alone, so
                these reached any file of the user, the Python installation included). kill, tgkill,
                prlimit, sched_set* (sched_setattr too) only on itself. fcntl F_SETOWN, F_SETOWN_EX,
                F_SETSIG and O_ASYNC, ioctl FIOSETOWN, SIOCSPGRP, FIOASYNC: a file's owner gets a
                signal of the program's choice on I/O (SIGKILL for the evaluator). clone3 gets ENOSYS,
                so libc falls back to clone. Other ABIs (32-bit entry points, x32) are refused outright.
  guard         Python-level: os.fork, subprocess, open() outside work/ ... raise PermissionError with
                a message that says why. Not a boundary (a re-import gets around it); the layers are.
The limits are set in the child, not in preexec_fn: preexec_fn runs between fork and exec and can
deadlock when the parent has threads (run_batch uses a thread pool). Nothing untrusted has run yet.

Processes: with seccomp no process can be started, so none can outlive the run (setsid, double fork,
re-imported posix or _posixsubprocess, ctypes all end in EPERM). The parent still SIGKILLs the child's
process group after every run, while the dead leader's zombie pins the group id (waitid WNOWAIT).

Cleanup: the temporary folder goes with sandbox._remove_tree, not shutil.rmtree, which recursed once
per directory level (a 1,500-level tree: RecursionError out of run_tests, and the tree left behind).

Not contained, besides the module docstring's list: CPU time of parallel runs adds up; the number of
files in work/ is not capped (each file is); Landlock's read list includes all of sys.prefix, so a
data set stored inside the Python installation would be readable. Namespaces (unshare --user --net,
PID namespaces) were considered: they need root or unprivileged user namespaces (blocked by default
on Ubuntu 24.04), and the layers above already refuse what they would contain.

Timing: a child costs ~40-100 ms (interpreter start-up included). MBPP's slowest reference solution
(task 123, amicable numbers) takes ~3.7 s on a busy 2-core machine: keep timeout >= 5 s (the default).
"""
import ast
import json
import os
import socket
import subprocess
import sys
import time
import warnings

import pytest

from conftest import SHARED_DATA
from judge.codeextract import extract_code
from judge.sandbox import STATUSES, isolation, run_batch, run_tests

SQUARE = "def square(x):\n    return x * x\n"
WRONG = "def square(x):\n    return x + 1\n"  # right for no test below
SQUARE_TESTS = ["assert square(3) == 9", "assert square(4) == 16"]


@pytest.fixture(scope="module")
def layers():
    return isolation()


def needs(layers, *names):
    missing = [n for n in names if n not in layers]
    if missing:
        pytest.skip(f"this machine does not give the child {missing}")


# ----------------------------------------------------------------------------- statuses

def test_passing_code_passes():
    r = run_tests(SQUARE, ["assert square(3) == 9", "assert square(-2) == 4"])
    assert r.passed and r.status == "passed", r


def test_false_assert_fails_and_names_the_test_and_the_value():
    r = run_tests(SQUARE, ["assert square(3) == 9", "assert square(2) == 5"])
    assert not r.passed and r.status == "failed"
    assert "test 2/2" in r.detail and "square(2) == 5" in r.detail and "returned 4" in r.detail


def test_exceptions_and_syntax_errors_are_errors():
    r = run_tests("def square(x):\n    return x * y\n", ["assert square(3) == 9"])
    assert r.status == "error" and "NameError" in r.detail and "NameError" in r.stderr
    r = run_tests("def square(x:\n    return x\n", ["assert square(3) == 9"])
    assert r.status == "error" and "SyntaxError" in r.detail


def test_setup_runs_between_code_and_tests():
    box = "class Box:\n    def __init__(self, v):\n        self.v = v\n"
    r = run_tests(box, ["assert b.v == 7"], setup="b = Box(7)")
    assert r.passed, r
    assert run_tests("x = 1", ["assert b == 2"], setup="b = 3").status == "failed"


def test_infinite_loop_times_out():
    start = time.monotonic()
    r = run_tests("while True:\n    pass\n", ["assert True"], timeout=1.0)
    assert r.status == "timeout" and not r.passed
    assert r.seconds >= 1.0 and time.monotonic() - start < 60  # killed, not waited for


def test_huge_allocation_fails_cleanly():
    r = run_tests("x = bytearray(8 * 2**30)\n", ["assert len(x) > 0"], memory_mb=256)
    assert r.status == "memory" and not r.passed, r
    assert run_tests(SQUARE, ["assert square(2) == 4"]).passed  # and the evaluator carries on


def test_crashes_are_crashed():
    assert run_tests("import os\nos.abort()\n", ["assert True"]).status == "crashed"
    r = run_tests("import ctypes\nctypes.string_at(0)\n", ["assert True"])
    assert r.status == "crashed" and "SIGSEGV" in r.detail


def test_exit_cannot_fake_a_pass():
    for code in ("import os\nos._exit(0)\n", "import sys\nsys.exit(0)\n", "exit()\n"):
        r = run_tests(code, ["assert False"])
        assert r.status == "error" and not r.passed, (code, r)
    r = run_tests(WRONG + "import os\n", ["assert square(3) == 4", "assert os._exit(0)", "assert square(4) == 16"])
    assert r.status == "error" and not r.passed


def test_bad_arguments_are_explained():
    with pytest.raises(TypeError, match="list of strings"):
        run_tests(SQUARE, "assert square(2) == 4")
    with pytest.raises(ValueError, match="timeout"):
        run_tests(SQUARE, [], timeout=0)


def test_run_batch_keeps_order():
    jobs = [(SQUARE, ["assert square(2) == 4"]), (SQUARE, ["assert square(2) == 5"]),
            ("while True: pass", [], ""), (SQUARE, ["assert square(1) == 1"], "")]
    results = run_batch(jobs, timeout=1.0, workers=2)
    assert [r.status for r in results] == ["passed", "failed", "timeout", "passed"]
    assert all(r.status in STATUSES for r in results)


def test_threads_still_work():
    code = ("import threading\nout = []\nt = threading.Thread(target=lambda: out.append(1))\nt.start()\nt.join()\n")
    assert run_tests(code, ["assert out == [1]"]).passed


# ----------------------------------------------------------------------------- the assert policy

def test_truthiness_asserts():
    code = "import re\ndef is_even(n):\n    return n % 2 == 0\ndef match(s):\n    return re.match('a+b', s)\n"
    assert run_tests(code, ["assert is_even(4)", "assert not is_even(3)", "assert match('aab')",
                            "assert not match('b')"]).passed
    r = run_tests(code, ["assert is_even(3)"])
    assert r.status == "failed" and "is falsy" in r.detail


def test_tolerances_sets_and_shadowed_builtins():
    sphere = "import math\ndef volume(r):\n    return 4 / 3 * math.pi * r ** 3\n"
    assert run_tests(sphere, ["assert math.isclose(volume(10), 4188.790204786391, rel_tol=0.001)",
                              "assert abs(volume(1) - 4.18879) < 1e-5"]).passed
    assert run_tests(sphere, ["assert math.isclose(volume(10), 4000.0, rel_tol=0.001)"]).status == "failed"
    assert run_tests("def common(a, b):\n    return (x for x in a if x in b)\n",
                     ["assert set(common([1, 2, 3], [3, 2])) == set([2, 3])"]).passed
    # MBPP task 126 defines its own `sum`: the test calls the program's, not the builtin
    assert run_tests("def sum(a, b):\n    return a + b\n", ["assert sum(10, 15) == 25"]).passed


def test_subclasses_of_plain_types_compare_as_their_base():
    code = ("from collections import Counter, namedtuple\nP = namedtuple('P', 'x y')\n"
            "def count(s):\n    return Counter(s)\ndef point():\n    return P(1, 2)\n")
    assert run_tests(code, ["assert count('aab') == {'a': 2, 'b': 1}", "assert point() == (1, 2)"]).passed


STANDARD_VALUES = [  # (returns, right asserts, wrong asserts): standard types a correct program may return
    ("range(3)", ["assert f() == range(3)", "assert list(f()) == [0, 1, 2]", "assert 2 in f()"],
     ["assert f() == range(4)", "assert f() == [0, 1, 2]"]),
    ("deque([1, 2])", ["from collections import deque", "assert f() == deque([1, 2])", "assert list(f()) == [1, 2]"],
     ["from collections import deque", "assert f() == deque([2, 1])"]),
    ("Fraction(1, 3)", ["from fractions import Fraction", "assert f() == Fraction(1, 3)", "assert 3 * f() == 1"],
     ["from fractions import Fraction", "assert f() == Fraction(1, 4)"]),
    ("Decimal('1.5')", ["from decimal import Decimal", "assert f() == Decimal('1.5')", "assert f() == 1.5"],
     ["from decimal import Decimal", "assert f() == Decimal('1.6')"]),
    ("bytearray(b'ab')", ["assert f() == bytearray(b'ab')", "assert f() == b'ab'", "assert f().startswith(b'a')"],
     ["assert f() == b'ac'"]),
]


@pytest.mark.parametrize("returns, right, wrong", STANDARD_VALUES, ids=[v[0] for v in STANDARD_VALUES])
def test_standard_value_types_pass_when_right_and_fail_when_wrong(returns, right, wrong):
    code = ("from collections import deque\nfrom decimal import Decimal\nfrom fractions import Fraction\n"
            f"def f():\n    return {returns}\n")
    r = run_tests(code, right)
    assert r.passed, r
    r = run_tests(code, wrong)
    assert r.status == "failed", r


def test_standard_value_types_cannot_be_forged():
    # a subclass travels as its base, without its __eq__; and the expected Fraction(1, 3) is made here, so
    # patching the class in the child changes only the program's own values
    for code in ("from fractions import Fraction\nclass F(Fraction):\n    def __eq__(self, other):\n"
                 "        return True\ndef f():\n    return F(1, 4)\n",
                 "import fractions\nreal_new = fractions.Fraction.__new__\n"
                 "fractions.Fraction.__new__ = lambda cls, *a, **k: real_new(cls, 1, 4)\n"
                 "def f():\n    return fractions.Fraction(1, 4)\n"):
        r = run_tests(code, ["from fractions import Fraction", "assert f() == Fraction(1, 3)"])
        assert r.status == "failed" and "Fraction(1, 4)" in r.detail, r


def test_standard_values_too_large_to_judge_are_errors():
    cases = [("range(10**12)", "assert len(f()) == 10**12"), ("range(10**12)", "assert list(f()) == []"),
             ("10**12", "assert list(range(f())) == []"), ("10**12", "assert bytearray(f()) == b''"),
             ("Decimal('1e999999999')", "assert int(f()) == 1"),
             ("'1e999999999'", "assert int(Decimal(f())) == 1"), ("'1e-999999999'", "assert Fraction(f()) == 0"),
             ("Fraction(3, 2)", "assert f() ** 10**7 == 1")]
    for returns, test in cases:
        code = f"from decimal import Decimal\nfrom fractions import Fraction\ndef f():\n    return {returns}\n"
        r = run_tests(code, ["from decimal import Decimal", "from fractions import Fraction", test])
        assert r.status == "error" and ("too long" in r.detail or "too large" in r.detail), (test, r)


def test_tests_the_parent_cannot_judge_are_refused():
    loop = run_tests(SQUARE, ["for x in [1, 2]:\n    assert square(x) == x * x"])
    assert loop.status == "error" and "bad test" in loop.detail
    built = run_tests(SQUARE, ["assert square(3) == [x for x in range(10)][9]"])
    assert built.status == "error" and "bad test" in built.detail


def test_parent_environment_is_not_visible(monkeypatch):
    monkeypatch.setenv("ILR_SANDBOX_SECRET", "hunter2")
    tests = ["import os", "assert os.environ.get('ILR_SANDBOX_SECRET') is None",
             "assert os.environ['HOME'] == os.getcwd()"]
    r = run_tests("", tests)
    assert r.passed, r
    # and the check itself can fail: a test that insists on the variable does
    assert run_tests("", ["import os", "assert 'ILR_SANDBOX_SECRET' in os.environ.keys()"]).status == "failed"


# ----------------------------------------------------------------------------- forgeries: wrong code never passes

def _refused(code, tests=SQUARE_TESTS):
    r = run_tests(code, tests)
    assert not r.passed and r.status != "passed", r
    return r


def test_forgery_replacing_builtins_exec():
    _refused(WRONG + "import builtins\nbuiltins.exec = lambda *a, **k: None\nbuiltins.eval = lambda *a, **k: 9\n")


def test_forgery_replacing_builtins_compile():
    _refused(WRONG + "import builtins\nreal = compile\n"
                     "builtins.compile = lambda src, name, mode, *a, **k: real('True', name, mode)\n")


def test_forgery_replacing_json_dumps():
    code = WRONG + ("import json, sys\nfake = lambda obj, *a, **k: '[%d, \"value\", true]' % obj[0]\n"
                    "json.dumps = fake\nf = sys._getframe()\nwhile f:\n"
                    "    if 'dumps' in f.f_globals: f.f_globals['json'].dumps = fake\n    f = f.f_back\n")
    _refused(code)


def test_forgery_emptying_the_list_of_tests():
    code = WRONG + ("import sys\nf = sys._getframe()\nwhile f:\n    job = f.f_locals.get('job')\n"
                    "    if isinstance(job, dict):\n        job['steps'].clear()\n    f = f.f_back\n")
    r = _refused(code)
    assert r.status == "error"


def test_forgery_writing_the_report_then_abort():
    # the old trick (a report saying "passed") is garbage to the new parent; and full control of the
    # results channel, well-formed lines included, only lets the program say what square() returned
    forge = WRONG + ("import os, json, sys\nlines = {lines}\n"
                     "for fd in range(3, 64):\n    try:\n"
                     "        os.write(fd, ''.join(l + '\\n' for l in lines).encode())\n"
                     "    except OSError:\n        pass\n{end}\n")
    old = "[json.dumps({'nonce': '', 'status': 'passed', 'detail': ''})]"
    values = "[json.dumps(r) for r in ([0, 'ok'], [1, 'ok'], [2, 'value', square(3)], [3, 'value', square(4)])]"
    for lines in (old, values):
        for end in ("os.abort()", "del sys.modules['posix']\nimport posix\nposix.kill(os.getpid(), 9)"):
            r = _refused(forge.format(lines=lines, end=end))
            assert lines == old or r.status == "failed", r  # judged on the forged values: 10 is not 9


def test_forgery_an_object_whose_eq_always_holds():
    _refused("class Yes:\n    def __eq__(self, other):\n        return True\n"
             "def square(x):\n    return Yes()\n")
    _refused("class Yes(int):\n    def __eq__(self, other):\n        return True\n"
             "def square(x):\n    return Yes(x + 1)\n")
    r = _refused("class S(str):\n    def startswith(self, *a):\n        return True\n"
                 "def name():\n    return S('zz')\n", ["assert name().startswith('ab')"])
    assert r.status == "failed"


def test_forgery_replacing_the_builtins_the_assert_uses():
    code = ("import builtins, math\nbuiltins.abs = lambda x: 0\nbuiltins.set = lambda *a: {1}\n"
            "math.isclose = lambda *a, **k: True\ndef f(x):\n    return 0\n")
    for test in ("assert abs(f(1) - 1.5) < 1e-9", "assert math.isclose(f(1), 1.5)", "assert set(f(1)) == set([1])"):
        assert _refused(code, [test]).status in ("failed", "error")


def test_forgery_redefining_a_builtin_the_assert_wraps_around_the_result():
    r = _refused("def abs(x):\n    return 0\ndef f(x):\n    return 7\n", ["assert abs(f(1) - 1.5) < 1e-9"])
    assert r.status == "error" and "redefines `abs`" in r.detail


def test_forgery_reading_the_expected_answers_from_disk(layers, tmp_path):
    needs(layers, "landlock")
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"3": 9, "4": 16}))
    r = _refused(f"import json\nA = json.load(open({str(answers)!r}))\ndef square(x):\n    return A[str(x)]\n")
    assert "PermissionError" in r.detail


def test_forgery_reading_the_parents_memory(layers):
    needs(layers, "landlock")
    r = _refused(WRONG + "import os\nopen(f'/proc/{os.getppid()}/mem', 'rb')\n")
    assert "PermissionError" in r.detail


def test_a_huge_or_deep_value_is_an_error_not_a_crash_of_the_judge():
    assert _refused("def square(x):\n    return 'x' * (20 * 2**20)\n").status == "error"
    assert _refused("def square(x):\n    v = []\n    for _ in range(10000):\n        v = [v]\n    return v\n"
                    ).status == "error"


# ----------------------------------------------------------------------------- the judge's own work is bounded

M61 = 2**61 - 1  # ints hash to themselves mod this prime in every process: a program can make them collide


def _colliding(n: int) -> list[int]:
    """n different ints with one and the same hash (7)."""
    return [7 + k * M61 for k in range(1, n + 1)]


def test_values_with_one_hash_are_refused_before_anything_hashes_them():
    # a set of 100,000 such ints took the parent 68 s to decode (n**2 / 2 comparisons); now each container
    # is checked first, with at most COLLISIONS comparisons per item
    from judge.sandbox_verdict import COLLISIONS, decode
    bad = _colliding(COLLISIONS + 1)
    assert len({hash(x) for x in bad}) == 1
    for wire in ({"set": bad}, {"frozenset": bad}, {"tuple": bad}, {"iter": bad}, bad,
                 {"dict": [[x, 0] for x in bad]}, [{"tuple": [x]} for x in bad]):
        with pytest.raises(ValueError, match="same hash"):
            decode(wire)
    assert decode({"set": _colliding(COLLISIONS)}) == set(_colliding(COLLISIONS))
    assert decode([bad[0]] * 10_000) == [bad[0]] * 10_000  # repeats of one value count once
    assert decode({"set": list(range(50_000))}) == set(range(50_000))
    assert decode({"dict": [[-1, "a"], [-2, "b"]]}) == {-1: "a", -2: "b"}  # hash(-1) == hash(-2): fine


def test_the_hash_check_is_linear_in_comparisons():
    from judge.sandbox_verdict import COLLISIONS, _check_hashes
    comparisons = []

    class Key:  # every Key has the same hash, and counts how often it is compared
        def __init__(self, n):
            self.n = n

        def __hash__(self):
            return 7

        def __eq__(self, other):
            comparisons.append(1)
            return self.n == other.n

    with pytest.raises(ValueError, match="same hash"):
        _check_hashes([Key(n) for n in range(100_000)], "test")
    assert len(comparisons) <= COLLISIONS * (COLLISIONS + 1) // 2  # stopped at the (COLLISIONS + 1)th, not 5e9
    comparisons.clear()
    _check_hashes([Key(n % 3) for n in range(10_000)], "test")  # three values, repeated: 10,000 items, fine
    assert len(comparisons) <= 3 * 10_000


def test_a_program_sending_colliding_values_gets_an_error_not_a_slow_judge():
    from judge.sandbox_verdict import COLLISIONS
    code = (f"M = 2**61 - 1\ndef many():\n    return {{7 + k * M for k in range(1, 10_001)}}\n"
            f"def half(s):\n    return [7 + k * M for k in range(s, s + {COLLISIONS} - 4)]\n")
    for test in ("assert many() == {1}", "assert set(list(many())) == {1}", "assert len(many()) == 10_000"):
        r = run_tests(code, [test])
        assert r.status == "error" and "same hash" in r.detail, (test, r)
    # each half passes the check on its own; what the assert builds from them here is checked again
    both = "half(1) + half(100)"
    for test in (f"assert set({both}) == {{1}}", f"assert dict(zip({both}, {both})) == {{}}",
                 f"assert frozenset(half(1)).issubset(list(reversed({both})))"):
        r = run_tests(code, [test])
        assert r.status == "error" and "same hash" in r.detail, (test, r)
    assert run_tests(code, ["assert len(set(half(1))) == " + str(COLLISIONS - 4)]).passed


def test_values_too_large_for_the_judge_are_errors_and_are_not_parsed(tmp_path):
    from judge.sandbox_verdict import RESULTS_BYTES, VALUE_BYTES, read_records
    # 100,000 colliding ints are 2 MB of JSON: the child says it is too large instead of sending it
    r = run_tests("def many():\n    return [7 + k * (2**61 - 1) for k in range(1, 100_001)]\n",
                  ["assert set(many()) == {1}"])
    assert r.status == "error" and "OverflowError" in r.detail and f"{VALUE_BYTES:,}" in r.detail, r
    # and a forged line (the program can write to the channel) is refused by the parent unread
    steps = [["exec", "the code", ""], ["exec", "the test setup", ""], ["eval", "test 1/1", "f()"]]
    path = tmp_path / "results"
    long_line = json.dumps([2, "value", {"set": _colliding(VALUE_BYTES // 20)}])
    assert len(long_line) > VALUE_BYTES
    path.write_text('["seccomp"]\n[0, "ok"]\n[1, "ok"]\n' + long_line + "\n")
    layers, records = read_records(str(path), steps)
    assert layers == ["seccomp"] and records[2][:3] == [2, "error", "OverflowError"]
    # so is what lies past RESULTS_BYTES in all
    path.write_text('["seccomp"]\n[0, "ok"]\n' + "[1, " + " " * RESULTS_BYTES + '"ok"]\n')
    layers, records = read_records(str(path), steps)
    assert records[1][:3] == [1, "error", "OverflowError"] and len(records) == 2
    path.write_text(long_line + "\n")  # a first line that long is the program's: the channel is garbled
    assert read_records(str(path), steps) == (None, None)


# ----------------------------------------------------------------------------- escapes: nothing reaches outside

def test_writes_outside_the_folder_do_not_happen(tmp_path):
    target = tmp_path / "escaped.txt"
    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    attempts = [
        f"open({str(target)!r}, 'w').write('x')",
        f"import pathlib\npathlib.Path({str(target)!r}).write_text('x')",
        f"import os\nos.close(os.open({str(target)!r}, os.O_CREAT | os.O_WRONLY))",
        f"import os\nos.remove({str(keep)!r})",
        f"import os\nos.rename({str(keep)!r}, 'stolen.txt')",
        f"import os\nos.symlink({str(tmp_path)!r}, 'link')\nopen('link/escaped.txt', 'w').write('x')",
    ]
    for code in attempts:
        r = run_tests(code, ["assert True"])
        assert r.status == "error" and "PermissionError" in r.detail, (code, r)
    assert not target.exists()
    assert keep.read_text() == "mine"


def test_metadata_of_files_outside_cannot_change(layers, tmp_path):
    # Landlock governs writing, not chmod, chown, utime or extended attributes: through a fresh posix module
    # (the guard only blocks os.chmod) the child could chmod any file of this user, the Python installation too
    needs(layers, "seccomp")
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    os.chmod(victim, 0o644)
    os.utime(victim, (1_000_000_000, 1_000_000_000))
    before = os.stat(victim)
    fresh = "import os, sys\ndel sys.modules['posix']\nimport posix\n"
    for attempt in (f"posix.chmod({str(victim)!r}, 0o777)", f"posix.utime({str(victim)!r}, (0, 0))",
                    f"posix.chmod(posix.open({str(victim)!r}, os.O_RDONLY), 0o777)",  # fchmod of a read-only fd
                    f"posix.utime(posix.open({str(victim)!r}, os.O_RDONLY), (0, 0))",
                    f"posix.chown({str(victim)!r}, {os.getuid()}, {os.getgid()})",
                    f"os.setxattr({str(victim)!r}, 'user.ilr', b'x')"):
        r = run_tests(fresh + attempt, ["assert True"])
        assert r.status == "error" and "PermissionError" in r.detail, (attempt, r)
    after = os.stat(victim)
    assert (after.st_mode, after.st_mtime, after.st_ctime) == (before.st_mode, before.st_mtime, before.st_ctime)


def test_fileio_cannot_write_or_truncate(layers, tmp_path):
    needs(layers, "landlock")
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    for code in (f"import _io\n_io.FileIO({str(victim)!r}, 'w')",
                 f"import _io\n_io.FileIO({str(victim)!r}, 'r+').truncate(0)",
                 f"import sys\ndel sys.modules['posix']\nimport posix\nposix.truncate({str(victim)!r}, 0)",
                 f"import _io\n_io.FileIO({str(tmp_path / 'new.txt')!r}, 'x')"):
        r = run_tests(code, ["assert True"])
        assert r.status == "error" and "PermissionError" in r.detail, (code, r)
    assert victim.read_text() == "mine" and not (tmp_path / "new.txt").exists()


def test_writes_inside_the_folder_work_and_the_folder_is_removed():
    code = ("import os, pathlib, tempfile, shutil\nopen('a.txt', 'w').write('hi')\n"
            "pathlib.Path('d').mkdir()\npathlib.Path('d/b.txt').write_text('x')\nshutil.rmtree('d')\n"
            "tempfile.NamedTemporaryFile().write(b'x')\nprint(os.getcwd())\n")
    r = run_tests(code, ["assert open('a.txt').read() == 'hi'", "assert not os.path.exists('d')"])
    assert r.passed, r
    assert not os.path.exists(r.stdout.strip())


def test_any_tree_the_child_builds_is_removed(tmp_path):
    # shutil.rmtree recursed once per level: 1,500 levels raised RecursionError out of run_tests and left the
    # tree behind. The guard refuses chdir and chmod, a fresh posix module does not (the kernel may refuse chmod)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    code = ("import os, sys\nprint(os.getcwd(), flush=True)\ndel sys.modules['posix']\nimport posix\n"
            f"posix.symlink({str(outside)!r}, 'link')\n"
            "for _ in range(1500):\n    posix.mkdir('d' * 100)\n    posix.chdir('d' * 100)\n"
            "posix.close(posix.open('f', os.O_CREAT | os.O_WRONLY))\nposix.mkfifo('fifo')\n"
            f"posix.symlink({str(outside)!r}, 'link')\n"
            "for up in ('../' * 900, '../' * 300, '.'):\n    try:\n        posix.chmod(up, 0)\n"
            "    except OSError:\n        pass\n")
    r = run_tests(code, ["assert True"])
    assert r.passed, r
    assert not os.path.lexists(os.path.dirname(r.stdout.strip()))  # the whole temporary folder is gone
    assert (outside / "keep.txt").read_text() == "mine"  # and nothing through the links


def test_cleanup_removes_deep_and_locked_trees(tmp_path):
    # the same, without the child: paths far past PATH_MAX, directories with mode 000, links, a fifo
    from judge.sandbox import _remove_tree
    top = tmp_path / "top"
    top.mkdir()
    (tmp_path / "keep.txt").write_text("mine")
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for level in range(1500):
            os.mkdir("d" * 200, dir_fd=fd)
            os.symlink(str(tmp_path), "link", dir_fd=fd)
            with open(os.open("f", os.O_CREAT | os.O_WRONLY, dir_fd=fd), "w") as f:
                f.write("x")
            deeper = os.open("d" * 200, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            if level % 100 == 0:
                os.chmod(fd, 0)  # read, write and search taken away
            os.close(fd)
            fd = deeper
        os.mkfifo("fifo", dir_fd=fd)
    finally:
        os.close(fd)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing left behind to warn about
        _remove_tree(str(top))
    assert not os.path.lexists(top) and (tmp_path / "keep.txt").read_text() == "mine"
    _remove_tree(str(top))  # and a tree already gone is no error


def test_socket_cannot_connect_to_localhost(layers):
    needs(layers, "seccomp")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        for code in (f"import socket\nsocket.create_connection(('127.0.0.1', {port}))",
                     f"import _socket\ns = _socket.socket()\ns.connect(('127.0.0.1', {port}))"):
            r = run_tests(code, ["assert True"])
            assert r.status == "error" and "PermissionError" in r.detail, (code, r)
        listener.settimeout(0.2)
        with pytest.raises(socket.timeout):
            listener.accept()  # nobody knocked


def test_signals_cannot_reach_other_processes(layers):
    needs(layers, "seccomp")
    victim = subprocess.Popen(["sleep", "60"])
    try:
        for code in (f"import os, signal\nsignal.pidfd_send_signal(os.pidfd_open({victim.pid}), 9)",
                     f"import sys\ndel sys.modules['posix']\nimport posix\nposix.kill({victim.pid}, 19)",
                     f"import sys, importlib\nfor m in ('_signal', 'signal', 'posix', 'os'):\n    sys.modules.pop(m)\n"
                     f"import os, signal\nsignal.pidfd_send_signal(os.pidfd_open({victim.pid}), 9)",
                     "import sys\ndel sys.modules['posix']\nimport posix\nposix.kill(-1, 0)",  # 0: only asks
                     f"import resource\nresource.prlimit({victim.pid}, resource.RLIMIT_NOFILE, (1, 1))"):
            r = run_tests(code, ["assert True"])
            assert r.status == "error" and not r.passed, (code, r)
        with open(f"/proc/{victim.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] in ("S", "R")  # alive, not stopped
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


SIGIO_ATTACKS = {  # each names a victim as the owner of a file, so that I/O on it signals the victim
    "F_SETOWN": "fcntl.fcntl(r, fcntl.F_SETOWN, {pid})",
    "F_SETOWN to a group": "fcntl.fcntl(r, fcntl.F_SETOWN, -os.getpgid({pid}))",
    "F_SETOWN_EX": "fcntl.fcntl(r, 15, struct.pack('ii', 1, {pid}))",  # F_OWNER_PID
    "F_SETSIG": "fcntl.fcntl(r, 10, signal.SIGKILL)",
    "F_SETFL O_ASYNC": "fcntl.fcntl(r, fcntl.F_SETFL, os.O_ASYNC)",
    "ioctl FIOSETOWN": "fcntl.ioctl(a.fileno(), 0x8901, struct.pack('i', {pid}))",
    "ioctl SIOCSPGRP": "fcntl.ioctl(a.fileno(), 0x8902, struct.pack('i', {pid}))",
    "ioctl FIOASYNC": "fcntl.ioctl(a.fileno(), 0x5452, struct.pack('i', 1))",
}


def test_signal_driven_io_cannot_signal_the_evaluator_or_others(layers):
    # the owner of a file gets SIGIO (default action: terminate) or the F_SETSIG signal when it becomes readable;
    # found by a probe that SIGKILLed and SIGSTOPped the evaluator this way
    needs(layers, "seccomp")
    import signal
    received = []
    old_handler = signal.signal(signal.SIGUSR1, lambda *_: received.append(1))
    victim = subprocess.Popen(["sleep", "60"])
    prelude = "import fcntl, os, signal, socket, struct\nr, w = os.pipe()\na, b = socket.socketpair()\n"
    try:
        for name, attack in SIGIO_ATTACKS.items():
            r = run_tests(prelude + attack.format(pid=victim.pid), ["assert True"])
            assert r.status == "error" and "PermissionError" in r.detail, (name, r)
        # the whole attack on this process, with SIGUSR1 for SIGKILL so that a regression fails instead of killing
        # pytest: after the first refused step the program stops with an error, not a crash of the evaluator
        attack = ("fcntl.fcntl(r, fcntl.F_SETOWN, os.getppid())\nfcntl.fcntl(r, 10, signal.SIGUSR1)\n"
                  "fcntl.fcntl(r, fcntl.F_SETFL, os.O_ASYNC)\nos.write(w, b'x')\n"
                  f"fcntl.fcntl(a.fileno(), fcntl.F_SETFL, os.O_ASYNC)\n"
                  f"fcntl.ioctl(a.fileno(), 0x8901, struct.pack('i', {victim.pid}))\nb.send(b'x')\n")
        r = run_tests(prelude + attack, ["assert True"])
        assert r.status == "error" and "PermissionError" in r.detail, r
        # a program that uses pipes and non-blocking I/O still runs
        assert run_tests(prelude + "os.set_blocking(r, False)\nos.write(w, b'x')\nb.send(b'y')\n",
                         ["assert os.read(r, 1) == b'x'", "assert a.recv(1) == b'y'"]).passed
        time.sleep(0.2)  # a signal would have been delivered during the write already; this only lets it act
        assert received == [] and victim.poll() is None
        with open(f"/proc/{victim.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] in ("S", "R")  # alive, not stopped
    finally:
        signal.signal(signal.SIGUSR1, old_handler)
        victim.kill()
        victim.wait()


# raw system calls through ctypes, as a program can make them (the reliability guard never sees these)
SYSCALL = ("import ctypes, os, struct\nlibc = ctypes.CDLL(None, use_errno=True)\n"
           "def syscall(number, *args):\n"
           "    result = libc.syscall(*(ctypes.c_long(a) if isinstance(a, int) else a for a in (number, *args)))\n"
           "    if result < 0:\n        raise OSError(ctypes.get_errno(), 'refused')  # EPERM: PermissionError\n"
           "    return result\n")
NUMBERS = {"x86_64": {"sched_setattr": 314, "ioprio_set": 251, "add_key": 248, "keyctl": 250, "capset": 126},
           "aarch64": {"sched_setattr": 274, "ioprio_set": 30, "add_key": 217, "keyctl": 219, "capset": 91},
           }.get(os.uname().machine)


def _bystander() -> subprocess.Popen:
    """A process with no capabilities, like any of an ordinary user's: Linux lets a process change the
    scheduling of another of its user's only if the other holds no capability it lacks (so as root, pytest
    and a plain `sleep` would be out of the child's reach anyway, and the test would show nothing)."""
    code = (f"import ctypes, struct, time\nctypes.CDLL(None).syscall({NUMBERS['capset']}, "
            "struct.pack('Ii', 0x20080522, 0), bytes(24))\nprint('ready', flush=True)\ntime.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "ready\n"
    return process


def test_priorities_of_other_processes_cannot_be_changed(layers):
    # sched_setattr was missing: a probe set the evaluator and a bystander to SCHED_IDLE
    needs(layers, "seccomp")
    if NUMBERS is None:
        pytest.skip("system call numbers known for x86_64 and aarch64 only")
    victim = _bystander()
    idle = "struct.pack('IIQiIQQQ', 48, 5, 0, 0, 0, 0, 0, 0)"  # struct sched_attr (48 bytes): SCHED_IDLE
    try:
        before = [(os.sched_getscheduler(p), os.getpriority(os.PRIO_PROCESS, p)) for p in (victim.pid, os.getpid())]
        for pid in (victim.pid, "os.getppid()"):
            for attempt in (f"syscall({NUMBERS['sched_setattr']}, {pid}, {idle}, 0)",
                            f"os.sched_setscheduler({pid}, os.SCHED_IDLE, os.sched_param(0))",
                            f"os.sched_setparam({pid}, os.sched_param(0))",
                            f"os.setpriority(os.PRIO_PROCESS, {pid}, 19)",
                            f"syscall({NUMBERS['ioprio_set']}, 1, {pid}, 3 << 13)"):  # IOPRIO_CLASS_IDLE
                r = run_tests(SYSCALL + attempt, ["assert True"])
                assert r.status == "error" and "PermissionError" in r.detail, (attempt, r)
        after = [(os.sched_getscheduler(p), os.getpriority(os.PRIO_PROCESS, p)) for p in (victim.pid, os.getpid())]
        assert after == before
        # on itself it may (a library pinning its threads does no harm)
        assert run_tests(SYSCALL + f"syscall({NUMBERS['sched_setattr']}, 0, {idle}, 0)", ["assert True"]).passed
    finally:
        victim.kill()
        victim.wait()


def test_nothing_outlives_the_run_in_keyrings_or_message_queues(layers):
    needs(layers, "seccomp")
    if NUMBERS is None:
        pytest.skip("system call numbers known for x86_64 and aarch64 only")
    import ctypes
    name = f"/ilr-sandbox-test-{os.getpid()}".encode()
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        for attempt in (f"syscall({NUMBERS['add_key']}, b'user', b'ilr-sandbox-test', b'x', 1, -2)",  # process ring
                        f"syscall({NUMBERS['keyctl']}, 0, -4, 0)",  # KEYCTL_GET_KEYRING_ID of the user's keyring
                        f"q = libc.mq_open({name!r}, os.O_CREAT | os.O_RDWR, 0o600, None)\n"
                        "if q < 0:\n    raise OSError(ctypes.get_errno(), 'refused')"):
            r = run_tests(SYSCALL + attempt, ["assert True"])
            assert r.status == "error" and "PermissionError" in r.detail, (attempt, r)
    finally:
        libc.mq_unlink(name)  # in case the queue was made after all: it would outlive the test run too


def test_memfd_is_refused_and_ctypes_callbacks_still_work(layers):
    # a memfd's pages count against no rlimit of the child: a probe held 0.9 GB past the 512 MB limit
    needs(layers, "seccomp")
    r = run_tests("import os\nos.memfd_create('x')\n", ["assert True"])
    assert r.status == "error" and "PermissionError" in r.detail, r
    callback = ("import ctypes\nlibc = ctypes.CDLL(None)\nint_p = ctypes.POINTER(ctypes.c_int)\n"
                "CMP = ctypes.CFUNCTYPE(ctypes.c_int, int_p, int_p)\nvalues = (ctypes.c_int * 3)(3, 1, 2)\n"
                "libc.qsort(values, 3, 4, CMP(lambda a, b: a[0] - b[0]))\nsorted_values = list(values)\n")
    assert run_tests(callback, ["assert sorted_values == [1, 2, 3]"]).passed


def test_fork_loop_and_subprocess_are_refused():
    r = run_tests("import os\nwhile True:\n    os.fork()\n", ["assert True"], timeout=3.0)
    assert r.status == "error" and "fork" in r.detail
    r = run_tests("import subprocess\nsubprocess.run(['echo', 'hi'])\n", ["assert True"])
    assert r.status == "error" and "subprocess" in r.detail


def test_a_shell_through_a_fresh_posixsubprocess_does_not_run(layers, tmp_path):
    needs(layers, "seccomp")
    marker = tmp_path / "shell-ran"
    code = ("import sys\nfor m in ('_posixsubprocess', 'subprocess'):\n    sys.modules.pop(m, None)\n"
            f"import subprocess\nsubprocess.Popen(['/bin/sh', '-c', 'sleep 1; touch {marker}'], "
            "start_new_session=True)\n")
    r = run_tests(code, ["assert True"])
    assert r.status == "error" and "PermissionError" in r.detail, r
    time.sleep(1.5)
    assert not marker.exists()


def _processes_with(text: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            pass
    return found


FORKS = {  # each prints its job path first, then tries to leave a process behind
    "os.fork re-imported": "del sys.modules['posix']\nimport posix\npid = posix.fork()",
    "importlib.reload(posix)": "import importlib, posix\npid = importlib.reload(posix).fork()",
    "_imp.create_builtin": "import _imp, importlib.machinery\n"
                           "spec = importlib.machinery.ModuleSpec('posix', None)\n"
                           "pid = _imp.create_builtin(spec).fork()",
    "ctypes double fork + setsid": "import ctypes\nlibc = ctypes.CDLL(None)\npid = libc.fork()\n"
                                   "if pid == 0:\n    libc.setsid()\n    pid = libc.fork()\n"
                                   "    if pid != 0:\n        libc._exit(0)",
    "multiprocessing": "import multiprocessing\np = multiprocessing.Process(target=time.sleep, args=(30,))\n"
                       "p.start()\npid = p.pid",
}


@pytest.mark.parametrize("trick", FORKS)
def test_no_process_outlives_the_run(layers, trick):
    code = ("import sys, time\nprint(sys.argv[1], flush=True)\n" + FORKS[trick] + "\n"
            "if pid == 0:\n    time.sleep(30)\nif pid < 0:\n    raise OSError('fork failed')\n")
    r = run_tests(code, ["assert True"])
    job_path = r.stdout.split()[0]
    deadline = time.monotonic() + 5.0
    while _processes_with(job_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _processes_with(job_path), r
    if "seccomp" in layers:
        assert r.status == "error", r  # the kernel refused the fork itself


# ----------------------------------------------------------------------------- code extraction

def test_extract_code_joins_a_function_and_drops_its_usage_block():
    text = ("Here is the function:\n```python\ndef add(a, b):\n    return a + b\n```\n"
            "Usage:\n```python\nx = int(input())\nprint(add(x, my_list))\n```\n")
    code = extract_code(text)
    assert "def add" in code and "input" not in code and "my_list" not in code
    assert run_tests(code, ["assert add(2, 3) == 5"]).passed


def test_extract_code_unclosed_fence():
    code = extract_code("Sure!\n```python\ndef add(a, b):\n    return a + b\n")
    assert run_tests(code, ["assert add(2, 3) == 5"]).passed


def test_extract_code_capitalised_and_other_language_fences():
    text = "```bash\npip install nothing\n```\n```Python\nimport math\ndef area(r):\n    return math.pi * r * r\n```"
    code = extract_code(text)
    assert "pip" not in code and run_tests(code, ["assert math.isclose(area(1), 3.14159, rel_tol=1e-4)"]).passed


def test_extract_code_input_in_the_same_block_does_not_fail_a_correct_solution():
    text = ("```py\ndef add(a, b):\n    return a + b\n\ndef main():\n    a, b = map(int, input().split())\n"
            "    print(add(a, b))\n\nn = int(input())\nprint(add(n, 1))\nmain()\nprint(add(1, 1))\n```")
    code = extract_code(text)
    assert "print(add(1, 1))" in code and "main()" not in code.splitlines() and "n = int" not in code
    assert run_tests(code, ["assert add(2, 3) == 5"]).passed


def test_extract_code_later_version_wins_and_plain_text_is_kept():
    text = ("First try:\n```python\ndef add(a, b):\n    return a - b\n```\nFixed:\n```python\n"
            "def add(a, b):\n    return a + b\n```\n```\n>>> add(2, 3)\n5\n```")
    assert run_tests(extract_code(text), ["assert add(2, 3) == 5"]).passed
    assert extract_code("def f(x):\n    return x\n") == "def f(x):\n    return x\n"


# ----------------------------------------------------------------------------- real MBPP

@pytest.mark.slow
def test_real_mbpp_reference_solutions_pass_and_wrong_ones_fail():
    path = os.path.join(SHARED_DATA, "mbpp", "test.jsonl")
    if not os.path.exists(path):
        pytest.skip(f"no MBPP copy at {path}")
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    results = run_batch([(r["code"], r["test_list"] + r["challenge_test_list"], r["test_setup_code"]) for r in rows],
                        workers=2)
    failures = [(r["task_id"], res.status, res.detail) for r, res in zip(rows, results) if not res.passed]
    assert not failures, f"{len(rows) - len(failures)}/{len(rows)} pass; {failures[:5]}"
    # each task's tests against the next task's solution, and against a function of the right name that
    # returns the ultimate liar (equal to everything, truth unknowable): none may pass
    liar = ("class Liar:\n    def __eq__(self, other):\n        return True\n"
            "    def __bool__(self):\n        raise ValueError\n")
    jobs = [(rows[(i + 1) % len(rows)]["code"], r["test_list"], r["test_setup_code"])
            for i, r in enumerate(rows[:100])]
    for r in rows[:100]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in the reference code
            defined = {n.name for n in ast.walk(ast.parse(r["code"])) if isinstance(n, ast.FunctionDef)}
        called = {n.func.id for n in ast.walk(ast.parse(r["test_list"][0])) if isinstance(n, ast.Call)
                  and isinstance(n.func, ast.Name)}
        stubs = "".join(f"def {name}(*args, **kwargs):\n    return Liar()\n" for name in sorted(defined & called))
        jobs.append((liar + stubs, r["test_list"], r["test_setup_code"]))
    assert not [j for j, res in zip(jobs, run_batch(jobs, workers=2)) if res.passed]
