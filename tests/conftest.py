"""Shared test set-up: no network, ever, and the repository root on sys.path."""
import os
import sys

# The hub is unreachable here and slow to fail: make every Hugging Face call local-only.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# Real benchmark data lives beside the checkout, never inside it; tests skip when it is absent.
SHARED_DATA = os.environ.get("ILR_DATA_DIR", os.path.join(os.path.dirname(ROOT), "shared", "data"))
