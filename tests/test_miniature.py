"""experiments/miniature.py at toy size: every variant of the paper's tables runs and lands in the summary files."""
import json

import pytest

from experiments import miniature


@pytest.mark.slow
def test_miniature_runs_every_variant_at_toy_size(tmp_path):
    out = tmp_path / "mini"
    summary = miniature.main(["--steps", "1", "--eval_n", "8", "--seeds", "0", "--sweep", "0.5", "--out", str(out),
                              "--extra", "--questions_per_step 2 --group_size 2 --train_n 16 --val_n 16 "
                                         "--rank_samples 2 --max_new_tokens 64"])
    want = {"ilr", "ilr-coop", "ilr-compete", "ilr-nocal", "grpo", "ratio-0.5"}
    assert set(summary["cells"]) == want
    for variant in want:
        for agent in miniature.AGENTS:
            cell = summary["cells"][variant][agent]
            assert 0 <= cell["after_mean"] <= 1 and cell["seeds"] == 1
        assert summary["cells"][variant]["tokens_per_run"] > 0
    assert json.loads((out / "results.json").read_text())["steps"] == 1
    assert "| ilr |" in (out / "results.md").read_text()
    again = miniature.main(["--steps", "1", "--eval_n", "8", "--seeds", "0", "--sweep", "0.5", "--out", str(out)])
    assert again["cells"]["ilr"] == summary["cells"]["ilr"]          # finished runs are read back, not redone
