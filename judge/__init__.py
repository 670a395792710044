"""judge: is this answer right?  The reward of every RL step and the score of every evaluation come from here.

    grade(completion, gold)         -> GradeResult(answer, correct, timed_out)    math: the last \\boxed{} (or ####,
                                       'answer is'); .status is 'correct', 'wrong', 'timeout' or 'no_answer'
    is_equiv(pred, gold)            -> bool                                 the equivalence policy (mathjudge.py)
    equiv_status(pred, gold)        -> 'correct' | 'wrong' | 'timeout'      the same, telling a time-out apart
    extract_answer(text)            -> str | None
    grade_choice(completion, gold)  -> GradeResult                          multiple choice: the chosen letter
    run_tests(code, tests, setup)   -> RunResult(passed, status, ...)       code: MBPP asserts in a child process
    extract_code(completion)        -> str                                  the program in a model's answer
    check(completion, question)     -> Verdict(correct, status, answer, timed_out, detail)   THE verdict: math,
                                       multiple choice or code, chosen by the question dict's fields (check.py)
    scorable(question)              -> bool                                 check() can judge it (kind() says why not)

Inside: mathextract.py (where the answer is), mathlex.py (text -> tokens), mathparse.py (tokens -> tree, never
eval), mathvalue.py (what a tree is worth), symcheck.py (sympy in a worker process), mathjudge.py (the policy),
codeextract.py (the program in an answer), check.py (one verdict for any question), and the code sandbox:
sandbox.py (run it), sandbox_plan.py (which parts of an assert the child computes), sandbox_child.py (the
locked-down child), sandbox_verdict.py (the parent judges).
"""
from .mathextract import extract_answer, extract_choice
from .mathjudge import (DEFAULT_TIMEOUT, GRADE_STATUSES, GradeResult, equiv_status, grade, grade_choice,
                        is_equiv)
from .codeextract import extract_code
from .sandbox import STATUSES, RunResult, isolation, run_batch, run_tests
from .check import KINDS, LETTERS, Verdict, check, kind, scorable

__all__ = ["DEFAULT_TIMEOUT", "GRADE_STATUSES", "GradeResult", "equiv_status", "extract_answer", "extract_choice",
           "grade", "grade_choice", "is_equiv", "extract_code", "STATUSES", "RunResult", "isolation", "run_batch",
           "run_tests", "KINDS", "LETTERS", "Verdict", "check", "kind", "scorable"]
