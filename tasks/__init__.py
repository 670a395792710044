"""tasks: where questions come from.

    tinyworld.py    the offline tiny world: word problems, worked solutions with a systematic flaw, Idea3 turns in
                    the tiny format, its tokenizer and the two tiny model architectures
    warmstart.py    supervised warm start of the two tiny models (solving and discussing); the committed weights in
                    assets/tinyworld/ come from it
    benchmarks.py   the paper's benchmarks (GSM8K, MATH-500, ... MBPP) from local JSONL files or the hub
"""
