"""judge: is this answer right?  The reward of every RL step and the score of every evaluation come from here.

    grade(completion, gold)           -> GradeResult(answer, correct)   math: last \\boxed{} (or ####, 'answer is')
    is_equiv(pred, gold)              -> bool                           the equivalence policy (mathjudge.py)
    extract_answer(text)              -> str | None
    grade_choice(completion, gold)    -> GradeResult                    multiple choice: the chosen letter
    run_tests(code, tests, setup)     -> RunResult(passed, status, ...) code: MBPP asserts in a child process

Inside: mathlex.py (text -> tokens), mathparse.py (tokens -> tree, never eval), mathvalue.py (what a tree is worth),
symcheck.py (sympy in a killable worker process), mathjudge.py (extraction and the policy), sandbox.py (code).
"""
from .mathjudge import DEFAULT_TIMEOUT, GradeResult, extract_answer, extract_choice, grade, grade_choice, is_equiv
from .sandbox import STATUSES, RunResult, run_batch, run_tests

__all__ = ["DEFAULT_TIMEOUT", "GradeResult", "extract_answer", "extract_choice", "grade", "grade_choice", "is_equiv",
           "STATUSES", "RunResult", "run_batch", "run_tests"]
