"""Checkpoints that survive a crash, are checked before use, and resume exactly.

    out_dir/checkpoints/step-000040/agent0/      each agent as a Hugging Face folder (model + tokenizer)
    out_dir/checkpoints/step-000040/trainer.pt   optimizers, schedulers, RNG states, the next step, Rasch abilities
    out_dir/checkpoints/step-000040/SHA256SUMS   the sha256 of every other file in the folder (`sha256sum -c` reads it)
    out_dir/checkpoints/latest                   the name of the newest checkpoint (for people; latest() checks)

Crash safety: a checkpoint is written into step-XXXXXX.tmp and renamed when complete (a rename is atomic), so a crash
while saving leaves the previous checkpoint whole. The two newest are kept.
Damage: a disk or a copy can change bytes without any error. Flipped bytes in a weight file load silently and give
another run (or NaNs a step later), so latest() recomputes every checksum and uses the newest checkpoint that
matches its SHA256SUMS, warning about each newer one that does not; when none matches, it stops with what is wrong.
Safety: trainer.pt is loaded with torch.load(weights_only=True), which builds only tensors and plain data (numbers,
strings, lists, tuples, dicts) and refuses anything else, so a crafted file cannot run code when it is loaded. save()
therefore stores plain data only: RNG states as tensors, numpy arrays as tensors (tagged, turned back on restore).
Moving: nothing stored depends on where the run folder is (names and checksums are relative, and a changed out_dir
is not a changed setting), so a run folder can be moved or copied and resumed there.
Exact resume also needs the data and the sampling to continue where they stopped: train.py draws the questions of
step s from (seed, s) and reseeds the samplers from (seed, s, rank) at every step, so the step number is enough.
Under --fsdp each rank holds shards; lab.fsdp.full_state gathers whole weights and optimizer state onto rank 0
(`full` below), so the checkpoint is the same ordinary Hugging Face folder and trainer.pt either way.
"""
import hashlib
import os
import pickle
import random
import shutil
import sys

import numpy as np
import torch

from lab import fsdp

KEEP = 2
MANIFEST = "SHA256SUMS"
ALWAYS_MAY_CHANGE = ("out_dir",)   # where the run folder is: moving it is not a change of settings
_NUMPY = "__numpy_array__"         # the tag of a numpy array stored as a tensor


def save_agents(folder: str, agents: list, full: list | None = None) -> None:
    """Each agent (an object with .model and .tokenizer) as a Hugging Face folder, folder/agent0, agent1, ...
    full: lab.fsdp.full_state's gathered weights, written instead of the model's own (sharded) tensors."""
    for i, a in enumerate(agents):
        a.model.save_pretrained(os.path.join(folder, f"agent{i}"), state_dict=full[i]["model"] if full else None)
        a.tokenizer.save_pretrained(os.path.join(folder, f"agent{i}"))


def save(out_dir: str, step: int, agents: list, state: dict, full: list | None = None) -> str:
    """Write agents and `state` (tensors and plain data; numpy arrays are converted) as the checkpoint for `step`
    (`full`: see save_agents), with its checksum manifest. Returns the checkpoint folder."""
    root = os.path.join(out_dir, "checkpoints")
    final = os.path.join(root, f"step-{step:06d}")
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    save_agents(tmp, agents, full)
    torch.save(_plain({**state, "step": step, "rng": _rng_state()}, "state"), os.path.join(tmp, "trainer.pt"))
    write_manifest(tmp)   # last: a folder with a manifest that matches is a complete checkpoint
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    with open(os.path.join(root, "latest.tmp"), "w") as f:
        f.write(os.path.basename(final))
    os.replace(os.path.join(root, "latest.tmp"), os.path.join(root, "latest"))
    for old in _step_folders(root)[:-KEEP]:
        shutil.rmtree(os.path.join(root, old), ignore_errors=True)
    return final


def latest(out_dir: str) -> str | None:
    """The newest whole checkpoint folder under out_dir: the newest whose files all match its SHA256SUMS. None when
    out_dir holds no checkpoint at all. A damaged newer one is skipped with a printed warning; when checkpoints
    exist but none is whole, SystemExit says what is wrong with each."""
    root = os.path.join(out_dir, "checkpoints")
    names = _step_folders(root)[::-1]                      # newest first
    if not names:
        return None
    damaged = {}
    for name in names:
        problems = damage(os.path.join(root, name))
        if not problems:
            for bad, why in damaged.items():
                _warn(f"checkpoint: WARNING: {os.path.join(root, bad)} is damaged ({'; '.join(why[:3])}); "
                      f"resuming from the older {name} instead")
            return os.path.join(root, name)
        damaged[name] = problems
    raise SystemExit("checkpoint: no whole checkpoint in " + root + ": " + " | ".join(
        f"{name}: {'; '.join(why[:3])}" for name, why in damaged.items()) + ". Nothing can be resumed safely; "
        "start a new run (another --out_dir), or restore the folder from a backup")


def trainer_state(config: dict, learners: list, result: dict, abilities=None, full: list | None = None) -> dict:
    """What a checkpoint holds besides the weights: the config, each agent's optimizer and scheduler, results.
    full (lab.fsdp.full_state): whole optimizer states keyed by parameter name, instead of the sharded ones."""
    return {"config": config, "result": result, "abilities": abilities,
            "optimizers": [f["optimizer"] for f in full] if full else [a.optimizer.state_dict() for a in learners],
            "schedulers": [a.scheduler.state_dict() for a in learners]}


def restore(path: str, config: dict, learners: list, may_change=()) -> dict:
    """Load trainer.pt into the learners' optimizers and schedulers and restore the RNG states. Refuses a
    checkpoint whose config differs from `config` outside the keys in `may_change` (out_dir may always change),
    and a trainer.pt that does not match the manifest or holds anything but tensors and plain data. Returns the
    state, numpy arrays as they were saved."""
    problems = damage(path, only=("trainer.pt",))
    if problems:
        raise SystemExit(f"checkpoint: {path} cannot be restored: {'; '.join(problems)}")
    try:
        state = torch.load(os.path.join(path, "trainer.pt"), weights_only=True)
    except pickle.UnpicklingError as e:
        raise SystemExit(f"checkpoint: {path}/trainer.pt holds objects other than tensors and plain data, which "
                         f"are refused (loading them could run code): {str(e).splitlines()[-1][:300]}") from None
    state = _unplain(state)
    changed = [k for k, v in state["config"].items()
               if config.get(k) != v and k not in tuple(may_change) + ALWAYS_MAY_CHANGE]
    if changed:
        raise SystemExit(f"--resume with other settings than the run had: {', '.join('--' + k for k in changed)}")
    for a, opt, sched in zip(learners, state["optimizers"], state["schedulers"]):
        if fsdp.is_sharded(a.policy):   # a full state saved under --fsdp (the config check above ensures it)
            fsdp.load_optimizer(a, opt)
        else:
            a.optimizer.load_state_dict(opt)
        a.scheduler.load_state_dict(sched)
    _set_rng_state(state["rng"])
    return state


# ----------------------------------------------------------------------------------------------------------------
# Checksums


def write_manifest(folder: str) -> None:
    """Write folder/SHA256SUMS: one 'sha256  relative/path' line per file under folder, in sorted order."""
    lines = [f"{_sha256(os.path.join(folder, rel))}  {rel}\n" for rel in _files(folder)]
    with open(os.path.join(folder, MANIFEST), "w") as f:
        f.writelines(lines)


def damage(folder: str, only=None) -> list[str]:
    """What is wrong with a checkpoint folder: [] when every file matches its SHA256SUMS (only: check just these
    files). Missing, extra and changed files are each named."""
    manifest = os.path.join(folder, MANIFEST)
    if not os.path.exists(manifest):
        return [f"no {MANIFEST} (an incomplete checkpoint, or one written before checksums existed)"]
    expected = {}
    with open(manifest) as f:
        for line in f:
            digest, _, rel = line.rstrip("\n").partition("  ")
            expected[rel] = digest
    present = set(_files(folder))
    names = sorted(expected) if only is None else list(only)
    problems = [f"{rel} is missing" for rel in names if rel not in present]
    problems += [f"{rel} has changed" for rel in names if rel in present and _sha256(os.path.join(folder, rel))
                 != expected.get(rel)]
    if only is None:
        problems += [f"{rel} is not in {MANIFEST}" for rel in sorted(present - set(expected))]
    return problems


def _files(folder: str) -> list[str]:
    """Every file under folder except the manifest, as sorted '/'-separated relative paths."""
    out = []
    for here, _, files in os.walk(folder):
        for name in files:
            rel = os.path.relpath(os.path.join(here, name), folder).replace(os.sep, "/")
            if rel != MANIFEST:
                out.append(rel)
    return sorted(out)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _step_folders(root: str) -> list[str]:
    """The finished checkpoint folders under root (not the .tmp of an interrupted save), oldest first."""
    if not os.path.isdir(root):
        return []
    return sorted(d for d in os.listdir(root) if d.startswith("step-") and not d.endswith(".tmp")
                  and os.path.isdir(os.path.join(root, d)))


def _warn(message: str) -> None:
    """Print once per run: on rank 0 only under torchrun (every rank reaches the same verdict)."""
    if os.environ.get("RANK", "0") == "0":
        print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------------------------
# Plain data only (what torch.load(weights_only=True) accepts)


def _plain(x, where: str):
    """x with numpy arrays as tagged tensors and numpy scalars as numbers; anything that a weights_only load
    would refuse is a TypeError here, at save time, naming where it is."""
    if isinstance(x, np.ndarray):
        return {_NUMPY: torch.from_numpy(np.ascontiguousarray(x))}
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, dict):
        return {k: _plain(v, f"{where}[{k!r}]") for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v, f"{where}[{i}]") for i, v in enumerate(x))
    if x is None or isinstance(x, (bool, int, float, str, torch.Tensor, torch.dtype, torch.Size)):
        return x
    raise TypeError(f"checkpoint.save: {where} is a {type(x).__name__}; a checkpoint holds tensors and plain data "
                    f"only (so that loading it cannot run code): convert it to a tensor, number, string, list or dict")


def _unplain(x):
    """The inverse of _plain: tagged tensors back to numpy arrays."""
    if isinstance(x, dict):
        if set(x) == {_NUMPY}:
            return x[_NUMPY].numpy()
        return {k: _unplain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_unplain(v) for v in x)
    return x


def _rng_state() -> dict:
    """Python's, torch's and CUDA's random states, as tensors and numbers."""
    version, words, gauss = random.getstate()
    return {"python": {"version": version, "state": torch.tensor(words, dtype=torch.int64), "gauss": gauss},
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def _set_rng_state(rng: dict) -> None:
    py = rng["python"]
    random.setstate((py["version"], tuple(int(w) for w in py["state"].tolist()), py["gauss"]))
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
