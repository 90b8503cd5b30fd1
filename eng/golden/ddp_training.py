"""Golden values for data-parallel training against real PyTorch DistributedDataParallel (tests/Fixtures/ddp_training.safetensors).

Two CPU processes (torch.multiprocessing spawn) join a Gloo process group on 127.0.0.1 at a free port and wrap the
same tiny network in DistributedDataParallel with its defaults (broadcast_buffers=True, 25 MB buckets):
    Conv2d(3, 4, 3, padding=1, bias=False) -> BatchNorm2d(4) -> ReLU -> AdaptiveAvgPool2d(1) -> Flatten -> Linear(4, 3)
Plain BatchNorm2d: each rank normalises with its own batch; DDP copies rank 0's buffers to the others before each
forward. Each rank takes its own fixed batch of 4 images (3x6x6) and labels per step and runs STEPS steps of
    zero_grad, cross_entropy (mean over the rank's batch), backward (DDP averages the gradients), SGD step
with SGD(lr 0.1, momentum 0.9, weight_decay 1e-4). Recorded: the initial state (init.*), the per-rank batches
(x.<step>.<rank>, y.<step>.<rank>) and rank 0's state after the steps (final.*): parameters, running statistics and
num_batches_tracked. The script checks that rank 1's parameters equal rank 0's bit for bit.
Run with Debian's /usr/bin/python3 (PyTorch 1.13).
"""
import os
import socket
import tempfile

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from golden_common import fixtures_dir
from safetensors_io import read_safetensors, write_safetensors

WORLD, STEPS, BATCH = 2, 4, 4
LR, MOMENTUM, WEIGHT_DECAY = 0.1, 0.9, 1e-4


def model():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def inputs():
    """The initial state (BatchNorm's affine values moved off 1 and 0 so they matter) and every rank's batches."""
    torch.manual_seed(0)
    net = model()
    with torch.no_grad():
        net[1].weight.copy_(torch.rand(4) + 0.5)
        net[1].bias.copy_(torch.randn(4) * 0.1)
    tensors = {f"init.{k}": v.clone() for k, v in net.state_dict().items()}
    for step in range(STEPS):
        for rank in range(WORLD):
            tensors[f"x.{step}.{rank}"] = torch.randn(BATCH, 3, 6, 6) * 2 + 0.5
            tensors[f"y.{step}.{rank}"] = torch.randint(0, 3, (BATCH,))
    return tensors


def worker(rank, port, tensors, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    net = model()
    # Rank 1 starts from other weights: DDP's constructor must broadcast rank 0's.
    if rank == 0:
        net.load_state_dict({k[len("init."):]: v for k, v in tensors.items() if k.startswith("init.")})
    ddp = DistributedDataParallel(net)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    for step in range(STEPS):
        optimizer.zero_grad()
        loss = F.cross_entropy(ddp(tensors[f"x.{step}.{rank}"]), tensors[f"y.{step}.{rank}"])
        loss.backward()
        optimizer.step()
    write_safetensors(os.path.join(out, f"rank{rank}.safetensors"), {k: v.detach().clone() for k, v in net.state_dict().items()})
    dist.barrier()
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    assert dist.is_gloo_available()
    tensors = inputs()
    with tempfile.TemporaryDirectory() as out:
        mp.spawn(worker, args=(free_port(), tensors, out), nprocs=WORLD, join=True)
        ranks = [read_safetensors(os.path.join(out, f"rank{r}.safetensors"))[0] for r in range(WORLD)]
    for name, value in ranks[0].items():
        if "running" not in name and "num_batches" not in name:
            assert torch.equal(value, ranks[1][name]), name
        tensors[f"final.{name}"] = value
    path = os.path.join(fixtures_dir(), "ddp_training.safetensors")
    write_safetensors(path, tensors, {"format": "pt", "source": "eng/golden/ddp_training.py"})
    print(f"{len(tensors)} tensors -> {path}")


if __name__ == "__main__":
    main()
