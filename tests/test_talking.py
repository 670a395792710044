"""experiments/talking.py: the paired statistics by hand, and a toy study that finishes, resumes and pairs seeds."""
import json
import math

import pytest

import train
from experiments import talking
from lab import flags


def test_paired_statistics_by_hand():
    d = talking.paired([0.01, 0.03])
    sd = math.sqrt(((0.01 - 0.02) ** 2 + (0.03 - 0.02) ** 2) / 1)
    assert d["n"] == 2 and d["mean"] == pytest.approx(0.02) and d["sd"] == pytest.approx(sd)
    half = 12.706 * sd / math.sqrt(2)                  # t_0.975 with 1 degree of freedom
    assert d["ci95"] == pytest.approx([0.02 - half, 0.02 + half])
    assert d["mde80"] == pytest.approx((12.706 + 1.376) * sd / math.sqrt(2))
    eight = talking.paired([0.0, 0.02, 0.01, 0.03, -0.01, 0.02, 0.01, 0.04])
    assert eight["ci95"][0] < eight["mean"] < eight["ci95"][1]
    assert talking.t_quantile(talking.T_975, 7) == 2.365 and talking.t_quantile(talking.T_975, 13) == 2.179


@pytest.mark.slow
def test_toy_study_pairs_seeds_and_resumes(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results.json"
    argv = ["--world", "redo", "--steps", "1", "--seeds", "0,1", "--eval_n", "8", "--train_n", "8",
            "--questions_per_step", "2", "--arms", "grpo,ilr,grpo-tokens", "--results", str(results),
            "--out", str(tmp_path / "runs"), "--extra", "--group_size 2 --val_n 8 --max_new_tokens 40"]
    summary = talking.main(argv)
    runs = json.loads(results.read_text())["runs"]
    # per seed: grpo for each agent, ilr, grpo-tokens for each agent
    assert sorted(runs) == sorted(f"redo/{arm}/seed{s}" for s in (0, 1) for arm in
                                  ("grpo-tiny-strong", "grpo-tiny-weak", "ilr", "grpo-tokens-tiny-strong",
                                   "grpo-tokens-tiny-weak"))
    cfg = talking.Config(world="redo", seeds="0,1", arms="grpo,ilr,grpo-tokens")
    assert sorted(talking.design(cfg, ["tiny-strong", "tiny-weak"])) == sorted(runs)   # the whole design ran
    left = [int(line.rsplit(", ", 1)[1].split()[0]) for line in capsys.readouterr().out.splitlines()
            if line.startswith("[talking]")]
    assert left == list(range(9, -1, -1))       # counted over the design, grpo-tokens runs not yet planned included
    # grpo and ilr of one seed saw the same questions: the same --seed and --questions_per_step
    for s in (0, 1):
        ilr, alone = runs[f"redo/ilr/seed{s}"]["argv"], runs[f"redo/grpo-tiny-strong/seed{s}"]["argv"]
        assert ilr[ilr.index("--seed") + 1] == alone[alone.index("--seed") + 1] == str(s)
        assert ilr[ilr.index("--questions_per_step") + 1] == alone[alone.index("--questions_per_step") + 1] == "2"
        tok = runs[f"redo/grpo-tokens-tiny-strong/seed{s}"]["argv"]
        assert int(tok[tok.index("--questions_per_step") + 1]) > 2     # ILR generates more tokens per question
    d = summary["diffs"]["ilr - grpo"]["tiny-strong"]
    assert d["n"] == 2 and d["diffs"][0] == pytest.approx(runs["redo/ilr/seed0"]["after"][0] -
                                                            runs["redo/grpo-tiny-strong/seed0"]["after"][0])
    assert set(json.loads(results.read_text())["initial"]["redo"]) == {"eval_n", "tiny-strong", "tiny-weak"}
    assert (tmp_path / "results.png").exists() and "ilr - grpo" in (tmp_path / "results.md").read_text()

    # a second call finds every run done: nothing runs again
    def no_run(*args):
        raise AssertionError("a finished run ran again")
    monkeypatch.setattr(talking, "one_run", no_run)
    talking.main(argv)
    # an interrupted study continues: drop one finished run from the file, and only that one runs
    kept = json.loads(results.read_text())
    ilr_tokens = kept["runs"]["redo/ilr/seed1"]["tokens_per_step"]     # runs are deterministic: the redone ILR run
    del kept["runs"]["redo/ilr/seed1"], kept["runs"]["redo/grpo-tokens-tiny-weak/seed1"]   # counts the same tokens
    results.write_text(json.dumps(kept))
    ran = []
    monkeypatch.setattr(talking, "one_run", lambda argv, folder: ran.append(folder) or
                        {"after": [0.5, 0.5], "tokens_per_step": ilr_tokens, "minutes": 0.0})
    talking.main(argv)
    assert [p.split("runs/")[1] for p in ran] == ["redo/ilr/seed1", "redo/grpo-tokens-tiny-weak/seed1"]
    # the same results file with other settings: refused, naming the run, before anything runs
    with pytest.raises(SystemExit, match="other settings"):
        talking.main([a if a != "1" else "2" for a in argv[:4]] + argv[4:])


def test_arms_on_fewer_seeds_are_compared_on_the_seeds_all_finished():
    agents = ["a", "b"]
    runs = {f"w/grpo-{a}/seed{s}": {"after": [0.5 + 0.1 * s]} for a in agents for s in range(3)}
    runs.update({f"w/ilr/seed{s}": {"after": [0.6 + 0.1 * s, 0.5 + 0.1 * s]} for s in range(3)})   # +0.1, 0
    runs.update({f"w/ilr-lam0/seed{s}": {"after": [0.5 + 0.1 * s + 0.02 * s, 0.4]} for s in range(2)})
    summary = talking.summarise({"runs": runs, "initial": {}}, "w", agents)
    c = summary["common"]
    assert c["seeds"] == [0, 1] and list(c["diffs"]) == ["ilr-lam0", "ilr"]     # ARMS order: lambda 0 before 1
    assert c["diffs"]["ilr"] == pytest.approx({"a": 0.1, "b": 0.0})
    assert c["diffs"]["ilr-lam0"] == pytest.approx({"a": 0.01, "b": (-0.1 - 0.2) / 2})
    assert summary["diffs"]["ilr - grpo"]["a"]["n"] == 3 and summary["diffs"]["ilr-lam0 - grpo"]["a"]["n"] == 2
    assert "on the seeds every arm finished (0, 1)" in talking.report(summary, "w", agents)


def test_every_arm_passes_train_checks():
    for arm, extra in talking.ARMS.items():   # a typo in an arm's flags would stop a study midway
        argv = talking.base_flags(talking.Config(), 0, "table.jsonl") + ["--agents", "tiny-strong,tiny-weak"]
        cfg = flags.parse(train.Config, argv + (extra or []), choices=train.CHOICES)
        train.check(cfg, world=1)
