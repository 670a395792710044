"""python -m judge PRED GOLD: the verdict on two math answers; no arguments: a short demo (judge.mathjudge.main).
python -m judge sandbox: one program of each sandbox status (judge.sandbox).

The command line lives here, not under `python -m judge.mathjudge`: the package imports mathjudge.py, and a module
that its package has already imported cannot also be run with -m without Python warning that it now exists twice.
"""
import sys

if sys.argv[1:2] == ["sandbox"]:
    from .sandbox import _demo
    _demo()
else:
    from .mathjudge import main
    main(sys.argv[1:])
