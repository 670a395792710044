"""bench: speed measurements (speed is measured here, never in tests). Run each from the repository root:

    python -m bench.bench_generate    generated tokens/s: grpo.generate against Hugging Face generate
    python -m bench.bench_ilr         what the discussion costs: an ILR step beside a single-agent GRPO step
    python -m bench.bench_irt         irt.fit and update_abilities at ILR's size (2 agents x 8 samples x 12,000)
    python -m bench.bench_judge       judged answers per second on MATH-500's gold answers
    python -m bench.gpu_check         the prepared one-GPU check (generation, ILR step, DDP vs FSDP, torchrun)
Every one takes --help. Nothing outside bench/ imports them.
"""
