"""check: one verdict on one answer, whatever kind of question it answers.  Training rewards and evaluation scores
both ask this one function, so "is this answer right?" is decided in one place.

    check(text, question)   -> Verdict(correct, status, answer, timed_out, detail)
    kind(question)          -> 'code' | 'choice' | 'math'       raises ValueError when the question cannot be scored
    scorable(question)      -> bool                              kind() without the exception

A question is a plain dict (tasks/__init__.py): {"answer", "tests"?, "choices"?, "meta"?}. Its kind decides the
judge, in this order:
  code    "tests" (MBPP asserts): the program in the text (extract_code) runs in the sandbox against them;
          status is the sandbox's ('passed', 'failed', 'error', 'memory', 'timeout', 'crashed'), answer the program
  choice  "choices" (option texts, choices[0] is option A): the chosen letter (extract_choice) against the gold
          letter; the math extractor would read '(B) ... \\boxed{4}' as 4, the choice extractor reads B
  math    otherwise: the final answer (extract_answer) against the gold under the equivalence policy (grade)
A check that runs out of time is correct=False with status 'timeout' and timed_out=True: a loop counts it apart from
'wrong', because it says nothing about the answer.
"""
from dataclasses import dataclass

from .codeextract import extract_code
from .mathjudge import grade, grade_choice
from .sandbox import run_tests

# The labels of multiple-choice options, by position: option i is LETTERS[i]. Ten is the most any benchmark has.
LETTERS = "ABCDEFGHIJ"
KINDS = ("code", "choice", "math")


@dataclass(frozen=True)
class Verdict:
    correct: bool
    status: str             # 'correct', 'wrong', 'timeout', 'no_answer', or the code sandbox's status
    answer: str | None      # the extracted answer, the chosen letter, or the program; None: the text has none
    timed_out: bool         # the check ran out of time (correct is False, but the answer was not judged wrong)
    detail: str = ""        # code: why it failed (which test, what it returned, the exception)


def kind(question: dict) -> str:
    """How check() judges this question: 'code', 'choice' or 'math'. Raises ValueError saying what is missing or
    malformed, so a loader or train.py can refuse data it cannot score before any work."""
    if not isinstance(question, dict):
        raise ValueError(f"a question is a dict, got {type(question).__name__}")
    tests = question.get("tests")
    if tests:
        if isinstance(tests, str) or not all(isinstance(t, str) and t.strip() for t in tests):
            raise ValueError(f"question {question.get('id')!r}: 'tests' must be a list of assert lines")
        return "code"
    choices = question.get("choices")
    if choices:
        if not 2 <= len(choices) <= len(LETTERS):
            raise ValueError(f"question {question.get('id')!r}: {len(choices)} choices; 2 to {len(LETTERS)} can be "
                             f"labelled {LETTERS}")
        if str(question.get("answer")).strip() not in LETTERS[:len(choices)]:
            raise ValueError(f"question {question.get('id')!r}: the gold answer {question.get('answer')!r} is not "
                             f"one of the option letters {LETTERS[:len(choices)]}")
        return "choice"
    gold = question.get("answer")
    if isinstance(gold, bool) or not isinstance(gold, (str, int, float)) or not str(gold).strip():
        raise ValueError(f"question {question.get('id')!r} has no gold answer (answer={gold!r}), no 'tests' and no "
                         f"'choices': there is nothing to judge an answer against")
    return "math"


def scorable(question: dict) -> bool:
    """True when check() can judge answers to this question (kind() says why not)."""
    try:
        kind(question)
    except ValueError:
        return False
    return True


def check(text: str, question: dict, code_timeout: float = 5.0) -> Verdict:
    """The verdict on one model answer `text` to `question` (see the module docstring for the three kinds).
    code_timeout: wall-clock seconds the sandbox gives one program."""
    text = text if isinstance(text, str) else ""
    how = kind(question)
    if how == "code":
        code = extract_code(text)
        if not code.strip():    # nothing to run: the model gave no program
            return Verdict(False, "no_answer", None, False, "no program in the answer")
        setup = (question.get("meta") or {}).get("test_setup", "")
        r = run_tests(code, question["tests"], setup, code_timeout)
        return Verdict(r.passed, r.status, code, r.status == "timeout", r.detail)
    if how == "choice":
        v = grade_choice(text, question["answer"], labels=LETTERS[:len(question["choices"])])
    else:
        v = grade(text, question["answer"])
    return Verdict(v.correct, v.status, v.answer, v.timed_out)
