#!/usr/bin/python3
"""Reads a safetensors file with our own Python reader and prints its tensors and metadata as JSON.
The Distill tests run it on files Distill wrote, to prove PyTorch-side readers see the same values."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402


tensors, metadata = read_safetensors(sys.argv[1])
print(json.dumps({"tensors": {k: enc(v) for k, v in tensors.items()}, "metadata": metadata}))
