"""train.py on benchmark data: a tiny multiple-choice set and MBPP each train for a step end to end; data the reward
cannot score is refused before any model is loaded.

The data are hand-written JSONL files in a temporary $ILR_DATA_DIR, laid out as train.py reads --data NAME:
<ILR_DATA_DIR>/<name>/test.jsonl in the benchmark's local schema (tasks/schemas.py). The agent is the tiny world's
tiny-strong alone (single-agent GRPO): it knows neither letters nor Python, so only the plumbing is tested, from
the rows through the prompts, the reward (judge.check: the option letter, or the program in the code sandbox) and
the update to the log.
"""
import json

import pytest

import judge
import train
from lab import flags

ONE_STEP = ["--agents", "tiny-strong", "--steps", "1", "--questions_per_step", "2", "--group_size", "2",
            "--max_new_tokens", "16", "--val_n", "2", "--eval_data", ""]

# ARC-Challenge's local schema: one field per option label, the labels in `label`, the key in `answer`. The
# options of "a + b" are a + b .. a + b + 3, turned so that the right one sits at letter (a + b) % 4.
SUMS = [(1, 2), (2, 2), (3, 1), (2, 5), (4, 4), (6, 1), (3, 3), (5, 4), (7, 2), (1, 1), (8, 1), (2, 9)]
ARC_ROWS = [{"id": f"sum{a}{b}", "question": f"What is {a} + {b}?", "label": ["A", "B", "C", "D"],
             "answer": "ABCD"[(a + b) % 4], **{"ABCD"[(a + b + k) % 4]: str(a + b + k) for k in range(4)}}
            for a, b in SUMS]

# MBPP's local schema (the full set's test split): the task text, the reference code and three asserts.
MBPP_ROWS = [
    {"task_id": 1, "text": "Write a function to add two numbers.", "code": "def add(a, b):\n    return a + b",
     "test_list": ["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(-1, 1) == 0"]},
    {"task_id": 2, "text": "Write a function to double a number.", "code": "def double(x):\n    return 2 * x",
     "test_list": ["assert double(2) == 4", "assert double(0) == 0", "assert double(-3) == -6"]},
    {"task_id": 3, "text": "Write a function to reverse a string.", "code": "def rev(s):\n    return s[::-1]",
     "test_list": ["assert rev('abc') == 'cba'", "assert rev('') == ''", "assert rev('aa') == 'aa'"]},
    {"task_id": 4, "text": "Write a function to find the largest item of a list.",
     "code": "def largest(xs):\n    return max(xs)",
     "test_list": ["assert largest([1, 3, 2]) == 3", "assert largest([5]) == 5", "assert largest([-1, -2]) == -1"]},
    {"task_id": 5, "text": "Write a function to check whether a number is even.",
     "code": "def is_even(n):\n    return n % 2 == 0",
     "test_list": ["assert is_even(2)", "assert not is_even(3)", "assert is_even(0)"]},
]
for row in MBPP_ROWS:
    row.update(test_setup_code="", challenge_test_list=[])


def write_data(root, name: str, rows: list[dict]) -> None:
    """rows as <root>/<name>/test.jsonl, where tasks.sources looks for --data NAME."""
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data folder as $ILR_DATA_DIR (tasks.sources.data_dir reads the variable at every call)."""
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("ILR_DATA_DIR", str(root))
    return root


@pytest.fixture
def verdicts(monkeypatch):
    """Every reward verdict of the run, with the kind of question it judged (train.py calls judge.check)."""
    seen, check = [], judge.check

    def recorded(text, question, *args):
        seen.append((judge.kind(question), check(text, question, *args)))
        return seen[-1][1]
    monkeypatch.setattr(judge, "check", recorded)
    return seen


def run(argv: list[str]) -> dict:
    return train.main(flags.parse(train.Config, argv, choices=train.CHOICES))


def step_rows(out_dir) -> list[dict]:
    rows = [json.loads(line) for line in (out_dir / "log.jsonl").read_text().splitlines()]
    return [r for r in rows if "step" in r]


def test_the_hand_written_rows_are_right():
    """The files are fit to train on: every reference program passes its own asserts in the sandbox, and every
    gold letter labels the option that is the sum."""
    for row in MBPP_ROWS:
        assert judge.run_tests(row["code"], row["test_list"]).passed, row["task_id"]
    for row in ARC_ROWS:
        a, b = (int(x) for x in row["question"][len("What is "):-1].split(" + "))
        assert row[row["answer"]] == str(a + b)


def test_multiple_choice_trains_a_step(data_dir, tmp_path, verdicts):
    write_data(data_dir, "arc_challenge", ARC_ROWS)
    out = tmp_path / "run"
    run(ONE_STEP + ["--data", "arc_challenge", "--out_dir", str(out)])
    assert [r["step"] for r in step_rows(out)] == [0]
    assert [k for k, _ in verdicts] == ["choice"] * 2 * 2      # questions_per_step x group_size answers
    assert (out / "final" / "agent0" / "config.json").exists()


def test_mbpp_trains_a_step_through_the_code_sandbox(data_dir, tmp_path, verdicts):
    write_data(data_dir, "mbpp", MBPP_ROWS)
    out = tmp_path / "run"
    run(ONE_STEP + ["--data", "mbpp", "--out_dir", str(out)])
    assert [r["step"] for r in step_rows(out)] == [0]
    assert [k for k, _ in verdicts] == ["code"] * 2 * 2
    # what tiny-strong wrote ran as a program: the statuses are the sandbox's ('no_answer': an empty completion)
    statuses = [v.status for _, v in verdicts]
    assert set(statuses) <= set(judge.STATUSES) | {"no_answer"} and set(statuses) & set(judge.STATUSES), statuses


def _no_model(*args, **kwargs):
    raise AssertionError("a model was loaded for data that cannot be scored")


@pytest.mark.parametrize("name, rows, refusal, message", [
    # the loader keeps the row (a list of strings), but a blank assert is no test: train.py's judge.kind check
    ("mbpp", MBPP_ROWS[:4] + [{**MBPP_ROWS[4], "test_list": ["assert is_even(2)", "   "]}], SystemExit,
     "the reward cannot score this data"),
    # math rows whose gold answers are all empty: the loader skips each, and a file with none left is refused
    ("math500", [{"problem": f"What is {k} + 1?", "answer": " ", "unique_id": f"test/{k}.json"} for k in range(5)],
     ValueError, "empty gold answer"),
])
def test_data_the_reward_cannot_score_is_refused_before_any_model(data_dir, tmp_path, monkeypatch, name, rows,
                                                                   refusal, message):
    write_data(data_dir, name, rows)
    monkeypatch.setattr(train, "make_learners", _no_model)
    monkeypatch.setattr(train.models, "load", _no_model)
    with pytest.raises(refusal, match=message):
        run(ONE_STEP + ["--data", name, "--out_dir", str(tmp_path / "run")])
