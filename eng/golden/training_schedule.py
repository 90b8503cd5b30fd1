"""Golden values for the recipe's optimizer and schedule keys (tests/Fixtures/training_schedule.json).

A tiny student (Linear without bias -> BatchNorm1d -> ReLU -> Linear) and a method part (Linear) train for 6 of the
8 iterations of a run (4 epochs x 2 iterations) with the keys
    optimizer: adamw, betas [0.9, 0.99], weight_decay 0.05, no_weight_decay_on [bn, bias], method_lr_mult 2,
    schedule: poly (power 0.9), step_per: iteration, warmup_iters 2 (start factor 0.1), grad_clip 0.5
in the order Distill's trainer runs a step: zero_grad, loss, backward, clip_grad_norm_, optimizer.step, scheduler.step.
The parameter groups are built as Distill builds them: student with decay, student without, method with decay, method
without; the method's take lr x 2. The schedule is SequentialLR([LinearLR(0.1, 1, 2), PolynomialLR(6, 0.9)], [2]).
Recorded: the initial weights, the batches, every group's lr before each of the 8 steps, the total gradient norm
before clipping at each of the 6 steps, and the weights after them.
Run with Debian's /usr/bin/python3 (PyTorch 1.13).
"""
import torch
import torch.nn.functional as F
from torch import nn

from golden_common import enc, write_fixture

torch.manual_seed(0)
student = nn.Sequential(nn.Linear(4, 6, bias=False), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
method = nn.Linear(3, 3)
initial = {f"student.{k}": enc(v) for k, v in student.state_dict().items()}
initial.update({f"method.{k}": enc(v) for k, v in method.state_dict().items()})

STEPS, TOTAL, WARMUP, LR, MULT, CLIP = 6, 8, 2, 0.01, 2.0, 0.5
batches = [(torch.randn(8, 4) * 2, torch.randint(0, 3, (8,)), torch.randn(8, 3)) for _ in range(STEPS)]


def split(module):
    """(decayed, exempt): norm layers' parameters and every bias are exempt (no_weight_decay_on: [bn, bias])."""
    exempt = set()
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)) or name == "bias":
                exempt.add(p)
    params = list(module.parameters())
    return [p for p in params if p not in exempt], [p for p in params if p in exempt]


s_decay, s_exempt = split(student)
m_decay, m_exempt = split(method)
groups = [
    {"params": s_decay},
    {"params": s_exempt, "weight_decay": 0.0},
    {"params": m_decay, "lr": LR * MULT},
    {"params": m_exempt, "lr": LR * MULT, "weight_decay": 0.0},
]
optimizer = torch.optim.AdamW(groups, lr=LR, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.05)
sched = torch.optim.lr_scheduler
warmup = sched.LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=WARMUP)
poly = sched.PolynomialLR(optimizer, total_iters=TOTAL - WARMUP, power=0.9)
scheduler = sched.SequentialLR(optimizer, [warmup, poly], milestones=[WARMUP])

student.train()
rates, norms = [], []
parameters = [p for g in optimizer.param_groups for p in g["params"]]
for step in range(TOTAL):
    rates.append([g["lr"] for g in optimizer.param_groups])
    if step < STEPS:
        x, y, t = batches[step]
        optimizer.zero_grad()
        out = student(x)
        loss = F.cross_entropy(out, y) + F.mse_loss(method(out), t)
        loss.backward()
        norms.append(nn.utils.clip_grad_norm_(parameters, CLIP).item())
        optimizer.step()
    scheduler.step()

final = {f"student.{k}": enc(v) for k, v in student.state_dict().items()}
final.update({f"method.{k}": enc(v) for k, v in method.state_dict().items()})
write_fixture("training_schedule.json", {
    "initial": initial,
    "batches": [{"x": enc(x), "y": enc(y), "t": enc(t)} for x, y, t in batches],
    "rates": rates,
    "norms": norms,
    "final": final,
})
