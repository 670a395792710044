"""lab/checkpoint.py: a round trip restores optimizers, schedulers, RNG states and numpy abilities; trainer.pt is
loaded without running code; damaged bytes are found and the previous whole checkpoint is used; a moved run
folder resumes. (The whole train.py kill-and-resume run: test_train.py::test_sigkill_then_resume_gives_the_same_run.)"""
import hashlib
import os
import random
import shutil
import types

import numpy as np
import pytest
import torch

import models
from lab import checkpoint

CONFIG = {"agents": "tiny-weak", "lr": 1e-3, "steps": 10, "out_dir": "runs/x"}


def learners(n: int = 1, seed: int = 0) -> list:
    """Objects with what checkpoint.py asks of train.py's learners: model, tokenizer, policy, optimizer, scheduler;
    one AdamW step taken, so the optimizer has moments to save."""
    out = []
    for _ in range(n):
        model, tok = models.load("tiny-weak")
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 4))
        torch.manual_seed(seed)
        model(torch.randint(3, 20, (2, 6))).logits.float().pow(2).mean().backward()
        opt.step()
        sched.step()
        out.append(types.SimpleNamespace(model=model, tokenizer=tok, policy=model, optimizer=opt, scheduler=sched))
    return out


def save(out_dir, step: int, agents, config=CONFIG) -> str:
    abilities = (np.array([0.25, -0.25]), np.array([0.1, 0.2]))
    state = checkpoint.trainer_state(config, agents, {"before": [(0.5, 0.25)], "minutes": np.float64(1.5)},
                                     abilities)
    return checkpoint.save(str(out_dir), step, agents, state)


def flip(path, n: int = 64):
    """Invert n bytes in the middle of a file, as a bad disk or a broken copy might."""
    data = bytearray(open(path, "rb").read())
    middle = len(data) // 2
    data[middle:middle + n] = bytes(b ^ 0xFF for b in data[middle:middle + n])
    open(path, "wb").write(bytes(data))


def test_round_trip_restores_everything_and_loads_as_weights_only(tmp_path):
    agents = learners()
    random.seed(7)
    torch.manual_seed(7)
    path = save(tmp_path, 4, agents)
    after_save = (random.random(), torch.rand(3))
    fresh = learners(seed=1)
    state = checkpoint.restore(path, dict(CONFIG), fresh)
    assert (random.random(), *torch.rand(3).tolist()) == (after_save[0], *after_save[1].tolist())
    for a, b in zip(agents, fresh):
        for pa, pb in zip(a.optimizer.state.values(), b.optimizer.state.values()):
            torch.testing.assert_close(pa["exp_avg"], pb["exp_avg"])
        assert a.scheduler.state_dict() == b.scheduler.state_dict()
    assert state["step"] == 4 and state["result"] == {"before": [(0.5, 0.25)], "minutes": 1.5}
    ability, variance = state["abilities"]
    assert isinstance(ability, np.ndarray) and ability.tolist() == [0.25, -0.25] and variance.tolist() == [0.1, 0.2]
    torch.load(os.path.join(path, "trainer.pt"), weights_only=True)       # plain data only: no pickled objects
    written = open(os.path.join(path, "SHA256SUMS")).read()
    sha256sums(path)                                                       # the format `sha256sum -c` reads
    assert open(os.path.join(path, "SHA256SUMS")).read() == written and "  agent0/model.safetensors\n" in written
    assert checkpoint.latest(str(tmp_path)) == path


def test_state_that_a_safe_load_would_refuse_is_refused_at_save(tmp_path):
    state = dict(checkpoint.trainer_state(CONFIG, learners(), {}), extra={"table": object()})
    with pytest.raises(TypeError, match=r"state\['extra'\]\['table'\] is a object"):
        checkpoint.save(str(tmp_path), 2, learners(), state)


class RunsCode:
    """An object whose unpickling calls os.mkdir(marker): what a crafted trainer.pt could do with any function."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def sha256sums(folder):
    """SHA256SUMS as `sha256sum` writes it (what checkpoint.write_manifest writes), computed here independently."""
    lines = []
    for here, _, files in os.walk(folder):
        for name in files:
            rel = os.path.relpath(os.path.join(here, name), folder)
            if rel != "SHA256SUMS":
                lines.append(f"{hashlib.sha256(open(os.path.join(folder, rel), 'rb').read()).hexdigest()}  {rel}\n")
    open(os.path.join(folder, "SHA256SUMS"), "w").writelines(sorted(lines, key=lambda x: x.split("  ", 1)[1]))


def test_a_crafted_trainer_pt_runs_no_code(tmp_path):
    path = save(tmp_path, 2, learners())
    marker = str(tmp_path / "the-checkpoint-ran-code")
    torch.save({"config": CONFIG, "result": RunsCode(marker)}, os.path.join(path, "trainer.pt"))
    sha256sums(path)                 # the checksums match: only the safe load stands between the file and the code
    with pytest.raises(BaseException) as refused:
        checkpoint.restore(path, dict(CONFIG), learners())
    assert not os.path.exists(marker), "loading the checkpoint ran the code in it"
    assert refused.type is SystemExit and "objects other than tensors and plain data" in str(refused.value)


@pytest.mark.parametrize("damaged", ["agent0/model.safetensors", "trainer.pt", "agent0/config.json"])
def test_damaged_bytes_fall_back_to_the_previous_whole_checkpoint(tmp_path, capsys, damaged):
    agents = learners()
    older, newer = save(tmp_path, 2, agents), save(tmp_path, 4, agents)
    flip(os.path.join(newer, damaged), 64 if damaged != "agent0/config.json" else 1)
    assert checkpoint.latest(str(tmp_path)) == older
    err = capsys.readouterr().err
    assert "WARNING" in err and "step-000004" in err and f"{damaged} has changed" in err
    os.remove(os.path.join(older, "trainer.pt"))
    with pytest.raises(SystemExit, match=r"no whole checkpoint .*step-000004: .*step-000002: trainer.pt is missing"):
        checkpoint.latest(str(tmp_path))


def test_overwritten_weights_are_found(tmp_path):
    """A weight changed to another valid number loads without any error: only the checksum tells."""
    agents = learners()
    older, newer = save(tmp_path, 2, agents), save(tmp_path, 4, agents)
    with torch.no_grad():
        agents[0].model.model.layers[0].mlp.up_proj.weight[1, 2] += 1.0
    checkpoint.save_agents(newer, agents)                 # the same file names, other bytes, no error anywhere
    assert checkpoint.latest(str(tmp_path)) == older


def test_extra_and_unfinished_folders(tmp_path):
    agents = learners()
    path = save(tmp_path, 2, agents)
    os.makedirs(os.path.join(tmp_path, "checkpoints", "step-000004.tmp"))      # a save cut short: never a candidate
    assert checkpoint.latest(str(tmp_path)) == path
    open(os.path.join(path, "agent0", "adapter_model.safetensors"), "wb").write(b"x")   # a file nobody wrote
    with pytest.raises(SystemExit, match="adapter_model.safetensors is not in SHA256SUMS"):
        checkpoint.latest(str(tmp_path))
    assert checkpoint.latest(str(tmp_path / "empty")) is None


def test_a_moved_run_folder_resumes(tmp_path):
    agents = learners()
    save(tmp_path / "a" / "run", 2, agents, dict(CONFIG, out_dir=str(tmp_path / "a" / "run")))
    shutil.move(tmp_path / "a" / "run", tmp_path / "b")
    path = checkpoint.latest(str(tmp_path / "b"))
    assert path == str(tmp_path / "b" / "checkpoints" / "step-000002")
    state = checkpoint.restore(path, dict(CONFIG, out_dir=str(tmp_path / "b")), learners())   # out_dir may differ
    assert state["step"] == 2
    with pytest.raises(SystemExit, match="other settings than the run had: --lr"):
        checkpoint.restore(path, dict(CONFIG, lr=1.0), learners())
