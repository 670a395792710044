"""sandbox.run_tests: every way a model-written program can go wrong ends as a status, never as harm to us."""
import json
import os
import time

import pytest

from conftest import SHARED_DATA
from judge.sandbox import STATUSES, run_batch, run_tests

SQUARE = "def square(x):\n    return x * x\n"


def test_passing_code_passes():
    r = run_tests(SQUARE, ["assert square(3) == 9", "assert square(-2) == 4"])
    assert r.passed and r.status == "passed", r
    assert r.seconds < 5


def test_false_assert_fails_and_names_the_test():
    r = run_tests(SQUARE, ["assert square(3) == 9", "assert square(2) == 5"])
    assert not r.passed and r.status == "failed"
    assert "test 2/2" in r.detail and "square(2) == 5" in r.detail


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


def test_infinite_loop_times_out_within_bound():
    start = time.monotonic()
    r = run_tests("while True:\n    pass\n", ["assert True"], timeout=1.0)
    elapsed = time.monotonic() - start
    assert r.status == "timeout" and not r.passed
    assert 1.0 <= r.seconds and elapsed < 3.0, elapsed  # killed right after the deadline


def test_huge_allocation_fails_cleanly():
    r = run_tests("x = bytearray(8 * 2**30)\n", ["assert len(x) > 0"], memory_mb=256)
    assert r.status == "memory" and not r.passed, r
    assert run_tests(SQUARE, ["assert square(2) == 4"]).passed  # and the evaluator carries on


def test_crashes_are_crashed():
    assert run_tests("import os\nos.abort()\n", ["assert True"]).status == "crashed"
    r = run_tests("import ctypes\nctypes.string_at(0)\n", ["assert True"])
    assert r.status == "crashed" and "SIGSEGV" in r.detail


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a killed orphan may stay a zombie if pid 1 does not reap


def test_fork_loop_and_subprocess_are_refused():
    r = run_tests("import os\nwhile True:\n    os.fork()\n", ["assert True"], timeout=3.0)
    assert r.status == "error" and "fork" in r.detail and r.seconds < 3.0
    r = run_tests("import subprocess\nsubprocess.run(['echo', 'hi'])\n", ["assert True"])
    assert r.status == "error" and "subprocess" in r.detail


def test_grandchildren_die_with_the_group():
    # ctypes skips the Python-level guard: the final killpg must still end the grandchild
    code = ("import ctypes, time\npid = ctypes.CDLL(None).fork()\n"
            "if pid == 0:\n    time.sleep(60)\nprint(pid, flush=True)\n")
    r = run_tests(code, ["assert True"])
    assert r.passed, r
    grandchild = int(r.stdout.split()[0])
    deadline = time.monotonic() + 2.0
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


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


def test_writes_inside_the_folder_work_and_the_folder_is_removed():
    code = ("import os, pathlib, tempfile, shutil\nopen('a.txt', 'w').write('hi')\n"
            "pathlib.Path('d').mkdir()\npathlib.Path('d/b.txt').write_text('x')\nshutil.rmtree('d')\n"
            "tempfile.NamedTemporaryFile().write(b'x')\nprint(os.getcwd())\n")
    r = run_tests(code, ["assert open('a.txt').read() == 'hi'", "assert not os.path.exists('d')"])
    assert r.passed, r
    assert not os.path.exists(r.stdout.strip())


def test_parent_environment_is_not_visible(monkeypatch):
    monkeypatch.setenv("ILR_SANDBOX_SECRET", "hunter2")
    tests = ["import os", "assert 'ILR_SANDBOX_SECRET' not in os.environ",
             "assert os.environ['HOME'] == os.getcwd()"]
    r = run_tests("", tests)
    assert r.passed, r
    # and the check itself can fail: a test that insists on the variable does
    assert run_tests("", ["import os", "assert 'ILR_SANDBOX_SECRET' in os.environ"]).status == "failed"


def test_exit_cannot_fake_a_pass():
    for code in ("import os\nos._exit(0)\n", "import sys\nsys.exit(0)\n", "exit()\n"):
        r = run_tests(code, ["assert False"])
        assert r.status == "error" and not r.passed, (code, r)


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


def test_real_mbpp_reference_solutions_pass():
    path = os.path.join(SHARED_DATA, "mbpp", "test.jsonl")
    if not os.path.exists(path):
        pytest.skip(f"no MBPP copy at {path}")
    with open(path) as f:
        rows = [json.loads(line) for _, line in zip(range(6), f)]
    results = run_batch([(r["code"], r["test_list"], r["test_setup_code"]) for r in rows], workers=2)
    assert all(res.passed for res in results), [(r["task_id"], res.detail) for r, res in zip(rows, results)]
    # the same tests against another task's solution must fail
    wrong = run_tests(rows[1]["code"], rows[0]["test_list"], rows[0]["test_setup_code"])
    assert not wrong.passed and wrong.status in ("failed", "error")
