"""python -m tasks [NAME ...]: where every benchmark loads from, its rows and first example (tasks.benchmarks.main).

The command line lives here, not under `python -m tasks.benchmarks`: the package imports benchmarks.py, and a module
that its package has already imported cannot also be run with -m without Python warning that it now exists twice.
"""
import sys

from .benchmarks import main

sys.exit(main())
