#!/usr/bin/python3
"""Golden values for Distill.NN.Data: PyTorch DataLoader's shuffled order for a seeded generator,
deterministic image operations (computed with torch ops the way torchvision's tensor transforms do),
and facts about the real Fashion-MNIST files.

Run: /usr/bin/python3 eng/golden/data_pipeline.py   (writes tests/Fixtures/data_pipeline.json)
"""
import gzip
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc  # noqa: E402

OUT = {}

# ---- loader order: the sampler's randperm follows the loader's base-seed draw on the same generator ----
orders = {}
for seed in (0, 42):
    loader = DataLoader(TensorDataset(torch.arange(10)), batch_size=3, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    orders[str(seed)] = [[int(v) for batch in loader for v in batch[0]] for _ in range(3)]
OUT["loader_orders"] = orders

# ---- image operations on a fixed 3x7x9 image ----
torch.manual_seed(3)
image = torch.rand(3, 7, 9)
OUT["image"] = enc(image)
mean, std = [0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762]
OUT["normalize"] = enc((image - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None])
OUT["resize_12x5"] = enc(F.interpolate(image[None], size=(12, 5), mode="bilinear", align_corners=False)[0])
OUT["resize_4x4"] = enc(F.interpolate(image[None], size=(4, 4), mode="bilinear", align_corners=False)[0])
OUT["pad_reflect_2"] = enc(F.pad(image[None], [2, 2, 2, 2], mode="reflect")[0])
OUT["pad_constant_3"] = enc(F.pad(image[None], [3, 3, 3, 3], value=0.0)[0])
OUT["flip"] = enc(image.flip(-1))
top, left = int(round((7 - 4) / 2.0)), int(round((9 - 6) / 2.0))
OUT["center_crop_4x6"] = enc(image[:, top:top + 4, left:left + 6])

# ---- Fashion-MNIST as Debian ships it ----
root = "/usr/share/datasets/fashion-mnist"
with gzip.open(os.path.join(root, "t10k-labels-idx1-ubyte.gz")) as f:
    labels = list(f.read()[8:])
with gzip.open(os.path.join(root, "t10k-images-idx3-ubyte.gz")) as f:
    raw = f.read()[16:]
OUT["fashion_test"] = {
    "count": len(labels),
    "first_labels": labels[:20],
    "first_image_sum": sum(raw[:784]),
    "last_image_sum": sum(raw[-784:]),
}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Fixtures", "data_pipeline.json")
with open(path, "w") as f:
    json.dump(OUT, f, separators=(",", ":"))
    f.write("\n")
print("wrote data_pipeline.json", file=sys.stderr)
