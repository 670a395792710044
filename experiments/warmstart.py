"""Warm start of the two tiny models: supervised training on flawed solutions, then on flawed Idea3 discussions.

Phase 1 (solve): next-token loss on question -> worked solution, the flawed kind of step written wrong 70% of the
time (tasks/tinyworld.py). Phase 2 (discuss): the same model continues on whole Idea3 conversations built by
idea3.py's own prompt and turn functions, so training and use see the same tokens:
    [question] own solution [analysis prompt: the peer's solution] analysis [fusion prompt] fusion
with the loss on the three own turns. The peer's solution comes from the other model's flaw (60%), no flaw (20%)
or the same flaw (20%), so a verdict must come from checking, not from knowing the peer. An eighth of each
phase-2 batch stays plain solving so the solver does not drift; phase 3 (polish) continues both kinds of rows,
a quarter solving, at half the rate. Each model applies ITS OWN flaw wherever it computes: solving, re-doing
a peer's line in the analysis, working a step out again in the fusion.

    python -m experiments.warmstart              # build what is missing, then measure sharing vs fusion (T=1, 500 test)
    python -m experiments.warmstart --rebuild    # retrain the tokenizer and both models from scratch
The committed weights in assets/tinyworld/ come from this recipe: --rebuild on a fresh clone reproduced them bit for
bit (25.6 min on 2 cores). The measurement is saved beside them (measured.json).
"""
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass

import torch

import idea3
from tasks import tinyworld as tw

SOLVE_STEPS = {"tiny-strong": 1200, "tiny-weak": 800}    # phase 1: batches of 64 solutions, lr 3e-3
DISCUSS_STEPS = {"tiny-strong": 600, "tiny-weak": 1000}  # phase 2: batches of 32 rows, 7/8 conversations, lr 2e-3
POLISH_STEPS = {"tiny-strong": 500, "tiny-weak": 500}    # phase 3: the same rows, 3/4 conversations, lr 1e-3
# Measured (T=1, 500 test problems): with 400 phase-2 steps at lr 1e-3 the fusions were worse than the first
# solutions. With 600 phase-1 steps tiny-strong never learned plain arithmetic (its cosine schedule decayed too
# soon: 24% right at T=1 on problems without its flawed step, after all three phases); with 1200 it gets 85%.
# Without phase 3, tiny-weak's competitive analyses said "No difference." where its opponent's lines differed.
# Where the 26 minutes go: a step is compute-bound (matrix multiplies 65% of it, building the rows 2-4%): tiny-strong
# 0.34 s per solving batch and 0.53 s per conversation batch, tiny-weak 0.21 / 0.35 s. Cheaper recipes measured
# worse (T=1, 500 test problems; sharing -> fusion cooperating / competing on problems with the own flaw):
#   10.2 min (phase 1 at 32 rows, phases 2-3 at 16, fewer steps): tiny-weak never learned to solve (sharing 0.08);
#   11.5 min (the same, tiny-weak's phase 1 at 48 rows): tiny-strong 0.09 -> 0.15 / 0.12, tiny-weak 0.19 -> 0.39 /
#     0.41, but on all 500 problems fusion fell below sharing for both, and both solved worse alone;
#   11.8 min (one mixed phase from scratch, 16 rows, 3/4 conversations): neither model learned arithmetic (0.07).
PEER_FLAWS = (("other", 0.6), ("none", 0.2), ("same", 0.2))


def other_flaw(flaw: str) -> str:
    return "carry" if flaw == "borrow" else "borrow"


def reply(tokenizer, text: str) -> list[int]:
    """An assistant turn's ids, closed by the end-of-turn token the model must learn to emit."""
    return tokenizer.encode(text, add_special_tokens=False) + [tokenizer.eos_token_id]


def solve_row(tokenizer, p: dict, flaw: str, rng: random.Random, world: dict = tw.WORLDS["redo"]):
    """(ids, labels) for question -> flawed solution; labels -100 outside the reply."""
    prompt = idea3.first_turn(tokenizer, idea3.solo_messages(tw.as_question(p, 0, "warm")))
    own = reply(tokenizer, tw.write_solution(p, flaw, rng, world["flaw_rate"]))
    return prompt + own, [-100] * len(prompt) + own


def discussion_row(tokenizer, p: dict, flaw: str, rng: random.Random, mode: str | None = None,
                   world: dict = tw.WORLDS["redo"]):
    """(ids, labels) for one whole Idea3 conversation of an agent with this flaw, in the given (or a random) mode.
    The world says how often a step of the flawed kind slips when solving or fusing (flaw_rate) and when checking
    (check_rate), and how a peer's line is checked (redo or inverse)."""
    mode = mode or rng.choice(("cooperate", "compete"))
    kind = rng.choices([k for k, _ in PEER_FLAWS], [w for _, w in PEER_FLAWS])[0]
    peer_flaw = {"other": other_flaw(flaw), "none": None, "same": flaw}[kind]
    rate = world["flaw_rate"]
    own_text, peer_text = tw.write_solution(p, flaw, rng, rate), tw.write_solution(p, peer_flaw, rng, rate)
    analysis = tw.write_analysis(own_text, peer_text, mode, flaw, rng, world["check_rate"], world["check"])
    fusion = tw.write_fusion(p, own_text, peer_text, analysis, mode, flaw, rng, rate)
    ids = idea3.first_turn(tokenizer, idea3.solo_messages(tw.as_question(p, 0, "warm")))
    labels = [-100] * len(ids)
    for user, text in ((None, own_text), (idea3.analysis_prompt([peer_text], mode, "tiny"), analysis),
                       (idea3.fusion_prompt(mode, "tiny"), fusion)):
        if user is not None:
            glue = idea3.next_turn(tokenizer, user, closed=True)
            ids, labels = ids + glue, labels + [-100] * len(glue)
        own = reply(tokenizer, text)
        ids, labels = ids + own, labels + own
    return ids, labels


def collate(rows: list[tuple], pad_id: int):
    """Right-pad (ids, labels) rows: ids (B, T), labels (B, T) with -100 on padding."""
    T = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), T), pad_id)
    labels = torch.full((len(rows), T), -100)
    for i, (x, y) in enumerate(rows):
        ids[i, :len(x)], labels[i, :len(y)] = torch.tensor(x), torch.tensor(y)
    return ids, labels


def train_phase(model, tokenizer, name: str, steps: int, batch: int, lr: float, discuss: float, seed: int):
    """`steps` AdamW steps; each batch has a `discuss` fraction of conversations, the rest plain solutions, written
    the way the world of `name` has them (tasks/tinyworld.py WORLDS)."""
    flaw, world = tw.MODELS[name][2], tw.WORLDS[tw.world_of(name)]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.98))
    stream, rng, t0 = tw.train_problems(seed), random.Random(seed + 1), time.time()
    model.train()
    for s in range(steps):
        # Linear warm-up for 30 steps, then cosine to 10% of lr: the shape that converged fastest in probes.
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (s + 1) / 30) * (0.1 + 0.45 * (1 + math.cos(math.pi * s / steps)))
        n_talk = round(batch * discuss)
        rows = [discussion_row(tokenizer, next(stream), flaw, rng, world=world) for _ in range(n_talk)]
        rows += [solve_row(tokenizer, next(stream), flaw, rng, world) for _ in range(batch - n_talk)]
        # Two micro-batches of similar lengths waste less compute on padding than one batch padded to the longest.
        rows.sort(key=lambda r: len(r[0]))
        n_labels = sum(sum(t != -100 for t in y[1:]) for _, y in rows)
        opt.zero_grad(set_to_none=True)
        for part in (rows[:batch // 2], rows[batch // 2:]):
            ids, labels = collate(part, tokenizer.pad_token_id)
            n_part = int((labels[:, 1:] != -100).sum())
            loss = model(input_ids=ids, labels=labels).loss * n_part / n_labels   # mean over the whole batch
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if s % 100 == 0 or s == steps - 1:
            print(f"  {name} step {s:4d}/{steps}  loss {loss.item() * n_labels / n_part:.4f}  {time.time() - t0:5.0f}s",
                  flush=True)
    return model.eval()


def polish(model, tokenizer, name: str):
    """Phase 3: more conversations and solutions at a lower rate (a fresh optimizer, like every phase)."""
    print(f"warm-starting {name}: polishing ...", flush=True)
    return train_phase(model, tokenizer, name, POLISH_STEPS[name], batch=32, lr=1e-3, discuss=0.75, seed=2)


ADAPT_STEPS = {"inverse-strong": 400, "inverse-weak": 400}   # inverse world: batches of 32, 3/4 conversations, lr 1e-3
ADAPTED_FROM = {"inverse-strong": "tiny-strong", "inverse-weak": "tiny-weak"}


def build(rebuild: bool = False, names=("tiny-strong", "tiny-weak")) -> None:
    """Build the tokenizer and any missing model of `names` under assets/tinyworld/.
    The redo world's models are trained from scratch (solve, discuss, polish); the inverse world's are adapted from
    them (the same rows written the inverse world's way: a fine-tune is cheaper than a rebuild and keeps the
    arithmetic the models already learned)."""
    from transformers import AutoTokenizer
    tok_dir = os.path.join(tw.ASSETS, "tokenizer")
    if rebuild or not os.path.exists(os.path.join(tok_dir, "tokenizer.json")):
        tw.build_tokenizer(tok_dir)
    tokenizer = AutoTokenizer.from_pretrained(tok_dir)
    for name in names:
        out = os.path.join(tw.ASSETS, name)
        if not rebuild and os.path.exists(os.path.join(out, "config.json")):
            continue
        t0 = time.time()
        torch.manual_seed(0)
        arch, overrides, flaw = tw.MODELS[name]
        world = tw.WORLDS[tw.world_of(name)]
        if name in ADAPTED_FROM:
            import models
            build(False, (ADAPTED_FROM[name],))   # adapt what is committed; --rebuild retrains only this world
            model, _ = models.load(ADAPTED_FROM[name])
            print(f"adapting {ADAPTED_FROM[name]} to the {tw.world_of(name)} world as {name} ...", flush=True)
            train_phase(model, tokenizer, name, ADAPT_STEPS[name], batch=32, lr=1e-3, discuss=0.75, seed=3)
            steps = {"adapted_from": ADAPTED_FROM[name], "adapt_steps": ADAPT_STEPS[name]}
        else:
            print(f"warm-starting {name}: solving ...", flush=True)
            model = tw.new_model(arch, tokenizer, **overrides)
            train_phase(model, tokenizer, name, SOLVE_STEPS[name], batch=64, lr=3e-3, discuss=0.0, seed=0)
            print(f"warm-starting {name}: discussing ...", flush=True)
            train_phase(model, tokenizer, name, DISCUSS_STEPS[name], batch=32, lr=2e-3, discuss=0.875, seed=1)
            polish(model, tokenizer, name)
            steps = {"solve_steps": SOLVE_STEPS[name], "discuss_steps": DISCUSS_STEPS[name],
                     "polish_steps": POLISH_STEPS[name]}
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        with open(os.path.join(out, "world.json"), "w") as f:
            json.dump({"world": tw.world_of(name), "flaw": flaw, "flaw_rate": world["flaw_rate"],
                       "check": world["check"], "check_rate": world["check_rate"], "arch": arch, **steps,
                       "minutes": round((time.time() - t0) / 60, 1)}, f)


def line_rates(problems: list[dict], records: list[list[dict]], names: list[str]) -> dict:
    """What the discussion hands over, per agent, counted on lines of the agent's OWN flawed kind of step (the
    lines it rarely writes right alone). From evaluate.py's Idea3 records of cooperative episodes (one per problem):
      solve   its share line of that kind is right
      check   its check calls the peer's line right when the peer's line is right (and 'wrong' when wrong)
      adopt   the fusion writes the peer's line where the check said right and the own line differed
      reach   the fusion's line is right where the share's line was wrong (by adoption or by redoing)
      reach_adopted   of those same lines, the fusion's is right AND equal to the peer's line (adopted, or redone
                      to the same value: the two cannot be told apart)
    Each is a fraction with its count n."""
    out = {}
    for i, name in enumerate(names):
        flaw, c = tw.MODELS[name][2], {k: [0, 0] for k in ("solve", "check_right", "check_wrong", "adopt", "reach",
                                                             "reach_adopted")}
        for n, p in enumerate(problems):
            mine, peer = records[i][n]["turns"], records[1 - i][n]["turns"]
            own, theirs, fused = (tw.parse_lines(t) for t in (mine["share"], peer["share"], mine["fusion"]))
            checks = {int(k): verdict for k, *_, verdict in tw.CHECK.findall(mine["analysis"])}
            for k, line in enumerate(own):
                a, op, b, res = line
                if not tw.is_flaw_step(flaw, a, op, b):
                    continue
                truth = a + b if op == "+" else a - b
                c["solve"][0] += res == truth
                c["solve"][1] += 1
                if k < len(theirs) and theirs[k][:3] == line[:3] and k + 1 in checks:
                    peer_right = theirs[k][3] == truth
                    key = "check_right" if peer_right else "check_wrong"
                    c[key][0] += checks[k + 1] == ("right" if peer_right else "wrong")
                    c[key][1] += 1
                    if checks[k + 1] == "right" and theirs[k] != line and k < len(fused) \
                            and fused[k][:3] == line[:3]:
                        c["adopt"][0] += fused[k] == theirs[k]
                        c["adopt"][1] += 1
                if res != truth and k < len(fused) and fused[k][:3] == line[:3]:
                    c["reach"][0] += fused[k][3] == truth
                    c["reach"][1] += 1
                    if k < len(theirs) and theirs[k] == fused[k]:
                        c["reach_adopted"][0] += fused[k][3] == truth
                    c["reach_adopted"][1] += 1
        out[name] = {k: {"rate": v[0] / max(1, v[1]), "n": v[1]} for k, v in c.items()}
    return out


def measure(names=("tiny-strong", "tiny-weak"), n: int = 500, seed: int = 0) -> dict:
    """Sharing vs fusion accuracy of two tiny models, each with the other as its peer, per mode, at T=1 on n test
    problems, split by whether the problem contains the agent's own flawed kind of step; and the line rates of the
    cooperative episodes (line_rates). The episodes are evaluate.py's Idea3 protocol (evaluate.multi_agent)."""
    import evaluate
    import models
    agents = []
    for name in names:
        model, tok = models.load(name)
        agents.append(idea3.Agent(name, model, tok, models.eos_ids(model, tok), tok.pad_token_id))
    problems = tw.test_problems(n)
    questions = [tw.as_question(p, i, "test") for i, p in enumerate(problems)]
    table, rates = {}, {}
    for mode in ("cooperate", "compete"):
        cfg = evaluate.Config(protocol="idea3", idea3_mode=mode, samples=1, temperature=1.0, max_new_tokens=64)
        gens = [torch.Generator().manual_seed(seed + i) for i in range(len(agents))]
        records = evaluate.multi_agent(cfg, agents, questions, gens)          # per agent, one record per problem
        if mode == "cooperate":
            rates = line_rates(problems, records, list(names))
        for a, recs in zip(agents, records):
            has = [tw.has_flaw_step(p, tw.MODELS[a.name][2]) for p in problems]
            for stage, key in (("share", "first_correct"), ("fusion", "correct")):
                right = [r[key] for r in recs]
                table[f"{a.name} {mode} {stage}"] = {
                    "all": sum(right) / n,
                    "with own flaw": sum(r for r, h in zip(right, has) if h) / max(1, sum(has)),
                    "without": sum(r for r, h in zip(right, has) if not h) / max(1, n - sum(has))}
    return {"table": table, "rates": rates}


@dataclass
class Config:
    world: str = "redo"              # redo (tiny-strong, tiny-weak) | inverse (inverse-strong, inverse-weak)
    rebuild: bool = False            # retrain the tokenizer and both models from scratch (about 26 min on 2 cores)
    measure_n: int = 500             # held-out problems for the sharing-vs-fusion table (0 skips the measurement)


if __name__ == "__main__":
    from lab import flags
    cfg = flags.parse(Config, sys.argv[1:], __doc__.split("\n")[0], choices={"world": tuple(tw.WORLDS)})
    torch.set_num_threads(os.cpu_count() or 1)
    t0 = time.time()
    names = tw.WORLDS[cfg.world]["models"]
    build(cfg.rebuild, names)
    if not cfg.measure_n:
        sys.exit(0)
    print(f"built in {time.time() - t0:.0f}s; measuring sharing vs fusion (T=1, {cfg.measure_n} held-out problems) ...")
    measured = measure(names, cfg.measure_n)
    print(f"{'agent / mode / turn':32s} {'all':>6s} {'with own flaw':>14s} {'without':>8s}")
    for key, row in measured["table"].items():
        print(f"{key:32s} {row['all']:6.3f} {row['with own flaw']:14.3f} {row['without']:8.3f}")
    for name, r in measured["rates"].items():
        print(f"{name}: " + ", ".join(f"{k} {v['rate']:.2f} (n {v['n']})" for k, v in r.items()))
    path = os.path.join(tw.ASSETS, "measured.json" if cfg.world == "redo" else f"measured-{cfg.world}.json")
    with open(path, "w") as f:
        json.dump({"command": "python -m experiments.warmstart " + " ".join(sys.argv[1:]), **measured}, f, indent=1)
