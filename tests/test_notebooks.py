"""The notebooks run top to bottom, headless, so that they cannot rot: each one is executed by nbclient in a fresh
python3 kernel, from the notebooks folder (as Jupyter would), offline. They are committed without outputs.

Needs requirements-dev.txt (nbclient, nbformat, ipykernel, matplotlib); skipped when those are missing. All seven take
about 1-2 minutes on 2 CPU cores. No timing is asserted: a busy machine only makes them slower.
"""
import glob
import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))


def test_notebooks_are_committed_without_outputs():
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    for path in NOTEBOOKS:
        with open(path) as f:
            nb = json.load(f)
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, \
                    f"{os.path.basename(path)}: save it with outputs and execution counts cleared"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):   # the kernel inherits this environment: never the hub
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": os.path.dirname(path)}})
    client.execute()   # raises CellExecutionError, with the cell and its traceback, if any cell fails
