"""train.py --resume and the Rasch cache: a resume uses the run's own table and never writes the shared cache from
trained weights; the held-out questions cannot change under a resume; the cache name tells apart runs that would
rank differently (token budget, the split of train and validation questions)."""
import os

import pytest

import irt
import train
from lab import flags

SMALL = ["--agents", "tiny-strong,tiny-weak", "--questions_per_step", "2", "--group_size", "2",
         "--max_new_tokens", "32", "--train_n", "8", "--val_n", "8", "--sample_every", "0", "--log_every", "1",
         "--rank_samples", "2"]


def run(argv):
    return train.main(flags.parse(train.Config, argv, choices=train.CHOICES))


def cache_files(root):
    folder = os.path.join(root, "rasch")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


@pytest.mark.slow
def test_resume_uses_the_runs_own_table_and_leaves_the_cache_alone(tmp_path):
    out = str(tmp_path / "run")
    run(SMALL + ["--steps", "2", "--save_every", "1", "--eval_data", "", "--out_dir", out])
    own = irt.RaschModel.load(os.path.join(out, "rasch.jsonl"))
    (cached,) = cache_files(tmp_path)
    os.remove(os.path.join(tmp_path, "rasch", cached))          # another machine, or a cleaned folder
    run(SMALL + ["--steps", "3", "--save_every", "1", "--eval_data", "", "--out_dir", out, "--resume"])
    assert cache_files(tmp_path) == [], "a resume self-ranked its trained agents into the shared cache"
    again = irt.RaschModel.load(os.path.join(out, "rasch.jsonl"))
    assert list(again.difficulty) == list(own.difficulty), "the resumed run ranked the questions again"


@pytest.mark.slow
def test_resume_refuses_other_held_out_questions(tmp_path):
    out = str(tmp_path / "run")
    run(SMALL + ["--steps", "2", "--save_every", "1", "--eval_n", "4", "--eval_samples", "0", "--interaction",
                 "cooperate", "--out_dir", out])
    with pytest.raises(SystemExit, match="--eval_n"):
        run(SMALL + ["--steps", "3", "--save_every", "1", "--eval_n", "8", "--eval_samples", "0", "--interaction",
                     "cooperate", "--out_dir", out, "--resume"])


@pytest.mark.slow
def test_cache_name_counts_the_token_budget_and_the_split(tmp_path):
    base = SMALL[:SMALL.index("--train_n")] + ["--steps", "1", "--save_every", "0", "--eval_data", "",
                                               "--sample_every", "0", "--rank_samples", "2"]
    run(base + ["--train_n", "8", "--val_n", "8", "--out_dir", str(tmp_path / "a")])
    # the same 16 questions in all, split otherwise: once a crash in RaschModel.load, now a table of its own
    run(base + ["--train_n", "12", "--val_n", "4", "--out_dir", str(tmp_path / "b")])
    run(base + ["--train_n", "8", "--val_n", "8", "--max_new_tokens", "24", "--out_dir", str(tmp_path / "c")])
    names = cache_files(tmp_path)
    assert len(names) == 3, names
    assert any("-T24-" in n for n in names) and any("-T32-" in n for n in names)
