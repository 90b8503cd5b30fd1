#!/usr/bin/python3
"""Golden values for the logit methods, from our own PyTorch implementations written from
../shared/spec/methods.md (§3 KD, §4 logit standardisation, §14.1 DKD): every weighted loss term and
the gradient of their sum with respect to the student logits, on random logits with K = 100 and an
odd batch, and K = 10.

Run: /usr/bin/python3 eng/golden/logit_methods.py   (writes tests/Fixtures/logit_methods.json)
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc  # noqa: E402

torch.set_default_dtype(torch.float64)


def standardize(z):
    return (z - z.mean(1, keepdim=True)) / (z.std(1, keepdim=True) + 1e-7)


def kd_term(s, t, T):
    return F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1), reduction="sum") * T * T / s.shape[0]


def dkd_terms(s, t, y, T):
    gt = F.one_hot(y, s.shape[1]).to(s.dtype)
    ps, pt = F.softmax(s / T, 1), F.softmax(t / T, 1)
    bs = torch.stack([(ps * gt).sum(1), (ps * (1 - gt)).sum(1)], 1)
    bt = torch.stack([(pt * gt).sum(1), (pt * (1 - gt)).sum(1)], 1)
    tckd = F.kl_div(torch.log(bs), bt, reduction="sum") * T * T / s.shape[0]
    nckd = F.kl_div(F.log_softmax(s / T - 1000 * gt, 1), F.softmax(t / T - 1000 * gt, 1), reduction="sum") * T * T / s.shape[0]
    return tckd, nckd


def kd(s, t, y, T=4.0, ce=0.1, w=0.9, ls=False):
    ss, tt = (standardize(s), standardize(t)) if ls else (s, t)
    return {"ce": F.cross_entropy(s, y) * ce, "kd": kd_term(ss, tt, T) * w}


def dkd(s, t, y, alpha=1.0, beta=8.0, T=4.0, ce=1.0, warmup=20, epoch=20, ls=False):
    ss, tt = (standardize(s), standardize(t)) if ls else (s, t)
    tckd, nckd = dkd_terms(ss, tt, y, T)
    return {"ce": F.cross_entropy(s, y) * ce, "dkd": (alpha * tckd + beta * nckd) * min(epoch / warmup, 1.0)}


METHODS = {
    "kd": lambda s, t, y: kd(s, t, y),
    "kd_ls": lambda s, t, y: kd(s, t, y, T=2.0, ce=0.1, w=9.0, ls=True),
    "dkd": lambda s, t, y: dkd(s, t, y),
    "dkd_warmup_epoch5": lambda s, t, y: dkd(s, t, y, epoch=5),
    "dkd_ls": lambda s, t, y: dkd(s, t, y, alpha=9.0, beta=72.0, T=2.0, ls=True),
}

torch.manual_seed(2026)
INPUTS = {"b7_k100": (7, 100), "b4_k10": (4, 10)}
cases = {}
for input_name, (b, k) in INPUTS.items():
    s0 = torch.randn(b, k) * 3
    t0 = torch.randn(b, k) * 3
    y = torch.randint(0, k, (b,))
    for method, fn in METHODS.items():
        s = s0.clone().requires_grad_(True)
        terms = fn(s, t0, y)
        sum(terms.values()).backward()
        cases[f"{method}.{input_name}"] = {
            "student": enc(s0), "teacher": enc(t0), "labels": enc(y),
            "terms": {n: v.item() for n, v in terms.items()}, "grad_student": enc(s.grad),
        }

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Fixtures", "logit_methods.json")
with open(path, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(cases)} cases to logit_methods.json", file=sys.stderr)
