#!/usr/bin/python3
"""Golden values for Distill.NN: layers (default init, forward, gradients, buffers), optimizers and
schedulers, and a PyTorch-written safetensors state dict. Computed by PyTorch 1.13 (python3-torch).

Run: /usr/bin/python3 eng/golden/nn_modules.py
Writes tests/Fixtures/nn_modules.json and tests/Fixtures/pytorch_small_net.safetensors.
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import write_safetensors  # noqa: E402  (our own 20-line writer)
from golden_common import enc  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Fixtures")
OUT = {"layers": {}, "optimizers": {}, "schedulers": {}}


def layer(name, seed, make, input_shape, train=True, input_dtype=torch.float32, input_fn=None):
    """Records a layer built right after manual_seed(seed): its initial state, a forward, and gradients."""
    torch.manual_seed(seed)
    m = make()
    m.train(train)
    initial = {k: enc(v) for k, v in m.state_dict().items()}
    torch.manual_seed(seed + 1000)
    if input_fn is not None:
        x = input_fn()
    else:
        x = torch.randn(*input_shape, dtype=input_dtype)
    floating = x.is_floating_point()
    if floating:
        x.requires_grad_(True)
    y = m(x)
    g = torch.randn(y.shape)
    y.backward(g)
    OUT["layers"][name] = {
        "seed": seed,
        "initial_state": initial,
        "input": enc(x),
        "output": enc(y),
        "grad_output": enc(g),
        "input_grad": enc(x.grad) if floating else None,
        "param_grads": {k: enc(p.grad) for k, p in m.named_parameters() if p.grad is not None},
        "final_state": {k: enc(v) for k, v in m.state_dict().items()},
    }


layer("conv2d", 1, lambda: nn.Conv2d(3, 8, 3, stride=2, padding=1), (2, 3, 9, 9))
layer("conv2d_groups_nobias", 2, lambda: nn.Conv2d(4, 8, 3, padding=1, groups=2, bias=False), (1, 4, 5, 5))
layer("conv_transpose2d", 3, lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), (1, 4, 4, 4))
layer("linear", 4, lambda: nn.Linear(6, 5), (3, 6))
layer("batchnorm2d_train", 5, lambda: nn.BatchNorm2d(3), (4, 3, 5, 5))
layer("batchnorm2d_cumulative", 6, lambda: nn.BatchNorm2d(3, momentum=None), (4, 3, 2, 2))
layer("batchnorm1d_eval", 7, lambda: nn.BatchNorm1d(5), (4, 5), train=False)
layer("layernorm", 8, lambda: nn.LayerNorm(6), (2, 3, 6))
layer("groupnorm", 9, lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3))
layer("embedding_padding", 10, lambda: nn.Embedding(7, 4, padding_idx=2), None,
      input_fn=lambda: torch.tensor([[0, 2, 5], [2, 6, 1]]))
layer("transformer_prenorm_gelu", 12, lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                                                        batch_first=True, norm_first=True), (2, 5, 8))
layer("transformer_postnorm_relu", 13, lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=False), (5, 2, 8))
layer("sequential_cnn", 14, lambda: nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 6, 3, bias=False), nn.BatchNorm2d(6), nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3)),
    (2, 1, 8, 8))
layer("activations", 15, lambda: nn.Sequential(nn.GELU(), nn.SiLU(), nn.Hardswish(), nn.LeakyReLU(0.1), nn.Hardsigmoid(),
                                              nn.Tanh(), nn.Sigmoid(), nn.Identity()), (3, 7))


# ---- MultiheadAttention takes (q, k, v): a wrapper makes it self-attention; its state keys lose the "m." ----
class SelfAttention(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x, x, x, need_weights=False)[0]


layer("mha_batch_first", 11, lambda: SelfAttention(nn.MultiheadAttention(8, 2, batch_first=True)), (2, 5, 8))
rec = OUT["layers"]["mha_batch_first"]
for key in ("initial_state", "final_state", "param_grads"):
    rec[key] = {k[2:]: v for k, v in rec[key].items()}


# ---- optimizers: 12 steps on loss = sum(p * c_k) + 0.5 sum(p^2) ----
def trajectory(name, make, steps=12):
    torch.manual_seed(100)
    p1 = torch.randn(3, 4, requires_grad=True)
    p2 = torch.randn(5, requires_grad=True)
    start = [enc(p1), enc(p2)]
    coefficients = [(torch.randn(3, 4), torch.randn(5)) for _ in range(steps)]
    opt = make([p1, p2])
    after = []
    for c1, c2 in coefficients:
        opt.zero_grad()
        loss = (p1 * c1).sum() + (p2 * c2).sum() + 0.5 * ((p1 ** 2).sum() + (p2 ** 2).sum())
        loss.backward()
        opt.step()
        after.append([enc(p1), enc(p2)])
    OUT["optimizers"][name] = {
        "start": start,
        "coefficients": [[enc(a), enc(b)] for a, b in coefficients],
        "after": after,
    }


trajectory("sgd_plain", lambda ps: torch.optim.SGD(ps, lr=0.1))
trajectory("sgd_momentum_nesterov_wd", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True))
trajectory("sgd_momentum_dampening", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1))
trajectory("sgd_groups", lambda ps: torch.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.01, "weight_decay": 0.1}],
                                                    lr=0.1, momentum=0.9))
trajectory("adam_default", lambda ps: torch.optim.Adam(ps, lr=0.01))
trajectory("adam_wd_amsgrad", lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, amsgrad=True))
trajectory("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1))


# ---- schedulers: learning rate at epochs 0..29 ----
def schedule(name, make, epochs=30, lr=0.1):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
    s = make(opt)
    rates = []
    for _ in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    OUT["schedulers"][name] = rates


def warmup_cosine(warmup, total, start=0.0, minimum=0.0):
    def factor(e):
        if e < warmup:
            return start + (1 - start) * e / warmup
        return minimum + (1 - minimum) * (1 + math.cos(math.pi * min(e - warmup, total - warmup) / (total - warmup))) / 2
    return factor


sched = torch.optim.lr_scheduler
schedule("step", lambda o: sched.StepLR(o, 7, 0.5))
schedule("multistep", lambda o: sched.MultiStepLR(o, [5, 12, 12], 0.1))
schedule("cosine", lambda o: sched.CosineAnnealingLR(o, 10, 1e-3))
schedule("linear_warmup", lambda o: sched.LinearLR(o, 0.25, 1.0, 5))
schedule("polynomial", lambda o: sched.PolynomialLR(o, 20, 0.9))
schedule("one_cycle", lambda o: sched.OneCycleLR(o, 0.5, total_steps=30, cycle_momentum=False), epochs=30)
schedule("warmup_cosine", lambda o: sched.LambdaLR(o, warmup_cosine(5, 30, 0.1, 0.01)))


# ---- a state dict written by PyTorch, to be loaded strictly by Distill ----
class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.classifier = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(self.features(x), 2)
        return self.classifier(x.flatten(1))


torch.manual_seed(7)
net = SmallNet()
net.train()
with torch.no_grad():
    for _ in range(3):  # move the running statistics away from their initial values
        net(torch.randn(8, 1, 8, 8))
net.eval()
x = torch.randn(2, 1, 8, 8)
OUT["small_net"] = {"input": enc(x), "output": enc(net(x).detach())}
write_safetensors(os.path.join(FIXTURES, "pytorch_small_net.safetensors"), net.state_dict())

with open(os.path.join(FIXTURES, "nn_modules.json"), "w") as f:
    json.dump(OUT, f, separators=(",", ":"))
    f.write("\n")
print("wrote nn_modules.json and pytorch_small_net.safetensors", file=sys.stderr)
