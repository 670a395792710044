"""Checkpoints that survive a crash, and exact resume.

    out_dir/checkpoints/step-000040/agent0/      each agent as a Hugging Face folder (model + tokenizer)
    out_dir/checkpoints/step-000040/trainer.pt   optimizers, schedulers, RNG states, the next step, Rasch abilities
    out_dir/checkpoints/latest                   the name of the newest complete checkpoint

A checkpoint is written into step-XXXXXX.tmp and renamed when complete (a rename is atomic), and `latest` is
replaced the same way, so a crash while saving leaves the previous checkpoint whole. The two newest are kept.
Exact resume also needs the data and the sampling to continue where they stopped: train.py draws the questions of
step s from (seed, s) and reseeds the samplers from (seed, s, rank) at every step, so the step number is enough.
Under --fsdp each rank holds shards; lab.fsdp.full_state gathers whole weights and optimizer state onto rank 0
(`full` below), so the checkpoint is the same ordinary Hugging Face folder and trainer.pt either way.
"""
import os
import random
import shutil

import torch

from lab import fsdp

KEEP = 2


def save_agents(folder: str, agents: list, full: list | None = None) -> None:
    """Each agent (an object with .model and .tokenizer) as a Hugging Face folder, folder/agent0, agent1, ...
    full: lab.fsdp.full_state's gathered weights, written instead of the model's own (sharded) tensors."""
    for i, a in enumerate(agents):
        a.model.save_pretrained(os.path.join(folder, f"agent{i}"), state_dict=full[i]["model"] if full else None)
        a.tokenizer.save_pretrained(os.path.join(folder, f"agent{i}"))


def save(out_dir: str, step: int, agents: list, state: dict, full: list | None = None) -> str:
    """Write agents and `state` (picklable) as the checkpoint for `step` (`full`: see save_agents)."""
    root = os.path.join(out_dir, "checkpoints")
    final = os.path.join(root, f"step-{step:06d}")
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    save_agents(tmp, agents, full)
    rng = {"python": random.getstate(), "torch": torch.get_rng_state(),
           "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}
    torch.save({**state, "step": step, "rng": rng}, os.path.join(tmp, "trainer.pt"))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    with open(os.path.join(root, "latest.tmp"), "w") as f:
        f.write(os.path.basename(final))
    os.replace(os.path.join(root, "latest.tmp"), os.path.join(root, "latest"))
    for old in sorted(d for d in os.listdir(root) if d.startswith("step-") and not d.endswith(".tmp"))[:-KEEP]:
        shutil.rmtree(os.path.join(root, old), ignore_errors=True)
    return final


def latest(out_dir: str) -> str | None:
    """The newest complete checkpoint folder under out_dir, or None."""
    pointer = os.path.join(out_dir, "checkpoints", "latest")
    if not os.path.exists(pointer):
        return None
    with open(pointer) as f:
        path = os.path.join(out_dir, "checkpoints", f.read().strip())
    return path if os.path.exists(os.path.join(path, "trainer.pt")) else None


def trainer_state(config: dict, learners: list, result: dict, abilities=None, full: list | None = None) -> dict:
    """What a checkpoint holds besides the weights: the config, each agent's optimizer and scheduler, results.
    full (lab.fsdp.full_state): whole optimizer states keyed by parameter name, instead of the sharded ones."""
    return {"config": config, "result": result, "abilities": abilities,
            "optimizers": [f["optimizer"] for f in full] if full else [a.optimizer.state_dict() for a in learners],
            "schedulers": [a.scheduler.state_dict() for a in learners]}


def restore(path: str, config: dict, learners: list, may_change=()) -> dict:
    """Load trainer.pt into the learners' optimizers and schedulers and restore the RNG states. Refuses a
    checkpoint whose config differs from `config` outside the keys in `may_change`. Returns the state."""
    state = torch.load(os.path.join(path, "trainer.pt"), weights_only=False)
    changed = [k for k, v in state["config"].items() if config.get(k) != v and k not in may_change]
    if changed:
        raise SystemExit(f"--resume with other settings than the run had: {', '.join('--' + k for k in changed)}")
    for a, opt, sched in zip(learners, state["optimizers"], state["schedulers"]):
        if fsdp.is_sharded(a.policy):   # a full state saved under --fsdp (the config check above ensures it)
            fsdp.load_optimizer(a, opt)
        else:
            a.optimizer.load_state_dict(opt)
        a.scheduler.load_state_dict(sched)
    random.setstate(state["rng"]["python"])
    torch.set_rng_state(state["rng"]["torch"])
    if state["rng"]["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    return state
