"""judge.check: one verdict for math, multiple-choice and code questions, and scorable() for refusing data early."""
import dataclasses
import importlib

import pytest

import judge
from judge import GradeResult, Verdict, check, kind, scorable

MATH = {"id": "m/0", "benchmark": "math500", "answer": "\\frac{1}{2}"}
CHOICE = {"id": "c/0", "benchmark": "arc_challenge", "answer": "B", "choices": ["one", "two", "three", "four"]}
CODE = {"id": "p/0", "benchmark": "mbpp", "answer": None, "meta": {"test_setup": "OFFSET = 0"},
        "tests": ["assert add(1, 2) == 3 + OFFSET", "assert add(-1, 1) == 0"]}


def test_math_verdicts():
    assert check("so \\boxed{0.5}", MATH) == Verdict(True, "correct", "0.5", False, "")
    assert check("so \\boxed{0.25}", MATH) == Verdict(False, "wrong", "0.25", False, "")
    assert check("I am not sure.", MATH) == Verdict(False, "no_answer", None, False, "")
    assert check(None, MATH).status == "no_answer"                      # a missing text is no answer, not a crash


def test_choice_questions_use_the_choice_extractor():
    text = "The answer is (B) because 2 + 2 = 4. \\boxed{4}"
    # The two extractors disagree on this text: the math one reads the box, the choice one the stated option.
    assert judge.grade(text, "B").answer == "4" and judge.extract_choice(text, list("ABCD")) == "B"
    v = check(text, CHOICE)
    assert v.correct and v.status == "correct" and v.answer == "B"
    assert check("\\boxed{C}", CHOICE) == Verdict(False, "wrong", "C", False, "")
    assert check("no idea", CHOICE).status == "no_answer"
    # The labels follow the number of choices: a fifth option is E (grade_choice's default labels stop at D).
    five = dict(CHOICE, answer="E", choices=["a", "b", "c", "d", "e"])
    assert check("The answer is E.", five).correct


def test_code_runs_in_the_sandbox():
    good = "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```\nprint(add(1, 2))"
    v = check(good, CODE)
    assert v.correct and v.status == "passed" and v.answer.startswith("def add") and not v.timed_out
    v = check("```python\ndef add(a, b):\n    return a - b\n```", CODE)
    assert not v.correct and v.status == "failed" and "add(1, 2)" in v.detail      # the record says why
    assert check("", CODE) == Verdict(False, "no_answer", None, False, "no program in the answer")


def test_a_time_out_is_not_correct_and_says_so(monkeypatch):
    v = check("```python\ndef add(a, b):\n    while True:\n        pass\n```", CODE, code_timeout=1.0)
    assert (v.correct, v.status, v.timed_out) == (False, "timeout", True)
    # A math check that runs out of CPU time (the judge's own budget; stood in for here, so no test waits on it).
    check_module = importlib.import_module("judge.check")   # the module: judge.check the attribute is the function
    monkeypatch.setattr(check_module, "grade", lambda text, gold: GradeResult("x^x^x", False, timed_out=True))
    v = check("\\boxed{x^x^x}", MATH)
    assert (v.correct, v.status, v.timed_out, v.answer) == (False, "timeout", True, "x^x^x")


def test_kind_and_scorable():
    assert [kind(q) for q in (MATH, CHOICE, CODE)] == ["math", "choice", "code"]
    assert kind({"answer": 42}) == "math" and all(scorable(q) for q in (MATH, CHOICE, CODE))
    bad = [({"id": "x", "answer": None}, "no gold answer"), ({"id": "x", "answer": "  "}, "no gold answer"),
           ({"id": "x", "answer": True}, "no gold answer"),
           (dict(CHOICE, answer="E"), "not one of the option letters ABCD"),
           (dict(CHOICE, choices=["only one"]), "1 choices"),
           (dict(CODE, tests="assert add(1, 2) == 3"), "list of assert lines")]
    for q, message in bad:
        assert not scorable(q)
        with pytest.raises(ValueError, match=message):
            kind(q)
        with pytest.raises(ValueError, match=message):           # check() refuses it the same way
            check("\\boxed{1}", q)


def test_verdict_is_frozen_and_exported():
    v = check("\\boxed{0.5}", MATH)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.correct = False
    assert judge.LETTERS == "ABCDEFGHIJ" and {"check", "Verdict", "scorable", "kind"} <= set(judge.__all__)
