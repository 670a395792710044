"""Where a benchmark's rows come from: the SOURCES table, local JSONL files under the data folder, the hub.

Each reader yields (row, where) pairs, `where` being "<file> line N" or "<hub id> (<config>, <split>) row N", so
that a row the mapper cannot use is reported with its place. Every way a file or a hub copy can be unusable (no
such file, not UTF-8, not one JSON object per line, a Git LFS pointer, offline, gated) stops with a message that
says what to do. benchmarks.load_benchmark decides which reader a `source` argument means.

Use: data_dir() is the data folder ($ILR_DATA_DIR, default ../shared/data beside this repository). The readers
(underscored: only tasks/benchmarks.py, which imports them, calls them) work like this:
    _read_jsonl(_local_path("gsm8k", None, "test"))   # <data folder>/gsm8k/test.jsonl, or FileNotFoundError saying why
    _read_hub("gsm8k", *_hub_target("gsm8k", "hf", None), "hf")   # openai/gsm8k (main, test), via `datasets`
No command line of its own: `python -m tasks` says where every benchmark loads from.
"""
import json
import os

# name -> (folder under the data root, default local split, (hub id, config, split) or None)     rows of local copy
SOURCES = {
    "gsm8k": ("gsm8k", "test", ("openai/gsm8k", "main", "test")),                                     # 1319
    "math500": ("math500", "test", ("HuggingFaceH4/MATH-500", None, "test")),                          # 500
    "minerva_math": ("minerva_math", "test", ("math-ai/minervamath", None, "test")),                   # 272
    "olympiadbench": ("olympiadbench", "test", ("Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train")),  # 675
    "aime24": ("aime24", "test", ("HuggingFaceH4/aime_2024", None, "train")),                          # 30
    "aime25": ("aime25", "test", ("math-ai/aime25", None, "test")),                                    # 30
    "amc23": ("amc23", "test", ("math-ai/amc23", None, "test")),                                       # 40
    "mbpp": ("mbpp", "test", ("google-research-datasets/mbpp", "full", "test")),                       # 500
    "arc_challenge": ("arc_challenge", "test", ("allenai/ai2_arc", "ARC-Challenge", "test")),          # 1172
    "mmlu_stem": ("mmlu_stem", "test", ("cais/mmlu", "all", "test")),                                  # 3018
    "gpqa": ("gpqa", "test", ("Idavidrein/gpqa", "gpqa_diamond", "train")),                            # not shipped
    "math_train": ("math", "train", None),                                                             # 11998 used
}
DEFAULT_DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared",
                                "data")


def data_dir() -> str:
    return os.environ.get("ILR_DATA_DIR") or DEFAULT_DATA_DIR


def _local_path(name: str, source: str | None, split: str) -> str:
    folder = SOURCES[name][0]
    if source is None:
        root = data_dir()
        path = os.path.join(root, folder, f"{split}.jsonl")
        if os.path.isfile(path):
            return path
        origin = "ILR_DATA_DIR" if os.environ.get("ILR_DATA_DIR") else "the default: ../shared/data beside the repo"
        hint = ""
        if name == "gpqa":
            hint = (" GPQA is gated and not shipped: accept its terms on huggingface.co/datasets/Idavidrein/gpqa "
                    "and use source='hf', or save the rows as JSONL there.")
        elif SOURCES[name][2] is not None:
            hint = f" Or load {SOURCES[name][2][0]} from the Hugging Face hub with source='hf'."
        raise FileNotFoundError(f"benchmark {name!r}: no file {path} (data folder {root}, from {origin}). "
                                f"Point to your copy with ILR_DATA_DIR=/path/to/data or "
                                f"source='/path/to/{split}.jsonl'.{hint}")
    if os.path.isfile(source):
        return source
    tried = [os.path.join(source, f"{split}.jsonl"), os.path.join(source, folder, f"{split}.jsonl")]
    for path in tried:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"benchmark {name!r}: source {source!r} is not a file and neither {tried[0]} nor "
                            f"{tried[1]} exists. Pass a .jsonl file, a folder holding {split}.jsonl, or a data root.")


def _read_jsonl(path: str):
    """Yield (row, "<path> line N") for every non-blank line; a line that is not one JSON object is an error."""
    with open(path, "rb") as f:  # bytes, so that a bad byte is reported with its line instead of mid-iteration
        for lineno, raw in enumerate(f, 1):
            where = f"{path} line {lineno}"
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")  # utf-8-sig: drop a leading BOM
            except UnicodeDecodeError as e:
                raise ValueError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                hint = ""
                if lineno == 1 and line.lstrip().startswith("["):
                    hint = "; the file looks like one JSON array: write one JSON object per line instead"
                elif line.startswith("version https://git-lfs"):
                    hint = "; this is a Git LFS pointer, not the data: fetch the real file (git lfs pull)"
                raise ValueError(f"{where}: not valid JSON ({e.msg}, column {e.colno}){hint}") from None
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected a JSON object {{...}}, got a JSON {type(row).__name__}"
                                 + ("; write one JSON object per line" if isinstance(row, list) else ""))
            yield row, where


def _read_hub(name: str, hub_id: str, config: str | None, split: str, source: str):
    try:
        import datasets
    except ImportError as e:
        raise ImportError("source='hf' needs the `datasets` package (pip install datasets)") from e
    try:
        rows = datasets.load_dataset(hub_id, config, split=split)
    except Exception as e:  # offline, gated, renamed: say so and point at the local route
        how = "" if source == "hf" else f" (no path {source!r} exists, so it was read as a hub id)"
        raise RuntimeError(f"benchmark {name!r}: could not load {hub_id} (config {config}, split {split}) from the "
                           f"Hugging Face hub{how}: {type(e).__name__}: {e}. Offline (HF_DATASETS_OFFLINE=1) or "
                           f"gated? Use a local JSONL copy with source='/path/to/file.jsonl' or ILR_DATA_DIR.") from e
    for i, row in enumerate(rows):
        yield dict(row), f"{_hub_name(hub_id, config, split)} row {i}"


def _hub_name(hub_id: str, config: str | None, split: str) -> str:
    return f"{hub_id} ({config or 'default'}, {split})"


def _hub_target(name: str, source: str, split: str | None) -> tuple[str, str | None, str]:
    default = SOURCES[name][2]
    if source == "hf":
        if default is None:
            raise ValueError(f"benchmark {name!r} has no default hub copy; pass source='owner/name[:config]'")
        return default[0], default[1], split or default[2]
    hub_id, _, config = source.partition(":")
    if default is not None and hub_id == default[0]:
        return hub_id, config or default[1], split or default[2]
    return hub_id, config or None, split or "test"
