#!/usr/bin/python3
"""PyTorch eager beside Distill's KdStep (benchmarks/Distill.Benchmarks/KdStep.cs): KD steps (resnet32x4 teacher in
eval + no-grad -> resnet8x4 student, KD T=4 weight 0.9 + CE 0.1) and, with --ce, plain CE steps of the student;
batch 64 of random 3x32x32, SGD lr 0.05 momentum 0.9 wd 5e-4. WARMUP untimed steps, then STEPS timed steps between
two synchronisations (on CUDA). Prints JSON. The end-to-end benchmark (EndToEnd.cs) runs it on the CPU with
--threads and --ce; eng/gpu/run.sh on the device with --device and --warmup 5.

With --bf16, also KD steps with a bfloat16 teacher (a .to(torch.bfloat16) copy, and torch.autocast).
With --teacher it also times the teacher's no-grad forward alone on the same batch (the share of the KD step that a
soft-label store saves).

With --only KIND (kd, kd-bf16, store or ce; the peak-RSS benchmark, RssBench.cs) it times nothing: it runs STEPS steps of
that one kind in this fresh process and prints its resident memory (/proc/self/status) after torch is loaded, after
the step's objects are built, after the first step and its peak over the steps (the peak is reset once set up), and
with --every E also the RSS every E steps. The store kind mirrors Distill's SoftLabelStep: 640 random uint8 images, 2
recorded crop (padding 4) + flip draws each with the teacher's logits on them (computed once at set-up, then the
teacher is dropped), and each step replays one draw per image of the next shuffled batch before the student's KD step.

Usage: kd_step_bench.py STEPS [--device DEVICE] [--threads N] [--warmup N] [--ce] [--bf16] [--teacher]
       kd_step_bench.py STEPS --only KIND [--threads N] [--every E]
"""
import argparse
import copy
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F


def status_mib(field):
    """A field of /proc/self/status (VmRSS: resident now, VmHWM: peak resident) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


loaded_rss = status_mib("VmRSS")

here = os.path.dirname(os.path.abspath(__file__))
# models.py is copied beside this script in the benchmark's output; in the repository it is eng/golden/models.py.
sys.path[:0] = [here, os.path.join(here, "..", "..", "eng", "golden")]
from models import RefResNet  # noqa: E402  (eng/golden/models.py: the reference networks of the model goldens)

parser = argparse.ArgumentParser()
parser.add_argument("steps", type=int)
parser.add_argument("--device", default="cpu")
parser.add_argument("--threads", type=int)
parser.add_argument("--warmup", type=int, default=1)
parser.add_argument("--ce", action="store_true", help="also time plain CE steps of the student")
parser.add_argument("--bf16", action="store_true",
                    help="also time KD steps with a bfloat16 teacher: a teacher.to(torch.bfloat16) copy fed bfloat16 images, "
                         "and the float32 teacher under torch.autocast(bfloat16)")
parser.add_argument("--teacher", action="store_true", help="also time the teacher's no-grad forward alone")
parser.add_argument("--only", choices=["kd", "kd-bf16", "store", "ce"], help="run only this step and print its resident memory")
parser.add_argument("--every", type=int, default=0, help="with --only: also sample the RSS every this many steps")
args = parser.parse_args()
device = torch.device(args.device)
if args.threads:
    torch.set_num_threads(args.threads)
torch.manual_seed(0)
teacher = RefResNet("cifar", [32, 64, 128, 256], [5, 5, 5], False, 100).to(device).eval()
for p in teacher.parameters():
    p.requires_grad_(False)
student = RefResNet("cifar", [32, 64, 128, 256], [1, 1, 1], False, 100).to(device)
opt = torch.optim.SGD(student.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
x = torch.randn(64, 3, 32, 32).to(device)
y = torch.randint(0, 100, (64,)).to(device)


def kd_step():
    with torch.no_grad():
        t, _ = teacher(x)
    s, _ = student(x)
    kd = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16
    loss = 0.1 * F.cross_entropy(s, y) + 0.9 * kd
    opt.zero_grad()
    loss.backward()
    opt.step()


teacher16 = None


def kd_step_bf16():
    # A bfloat16 copy of the teacher (as Distill's teacher.precision: bf16): images cast in, logits cast back.
    global teacher16
    if teacher16 is None:
        teacher16 = copy.deepcopy(teacher).to(torch.bfloat16)
    with torch.no_grad():
        t, _ = teacher16(x.to(torch.bfloat16))
    kd_loss_step(t.float())


def kd_step_autocast():
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        t, _ = teacher(x)
    kd_loss_step(t.float())


def kd_loss_step(t):
    s, _ = student(x)
    kd = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16
    loss = 0.1 * F.cross_entropy(s, y) + 0.9 * kd
    opt.zero_grad()
    loss.backward()
    opt.step()


def ce_step():
    s, _ = student(x)
    loss = F.cross_entropy(s, y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def teacher_step():
    with torch.no_grad():
        teacher(x)


def synchronize():
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def images_per_second(step):
    for _ in range(args.warmup):
        step()
    synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    synchronize()
    return args.steps * 64 / (time.perf_counter() - start)


STORE_IMAGES, STORE_DRAWS = 640, 2  # SoftLabelStep.Images, SoftLabelStep.Draws


def build_store():
    """The soft-label store's step (as SoftLabelStep): random images, recorded draws, the teacher's logits on each draw."""
    global teacher
    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (STORE_IMAGES, 3, 32, 32), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 100, (STORE_IMAGES,), generator=g)
    # Per image and draw: the crop's top and left in the 4-padded image, and the flip.
    draws = torch.stack([torch.randint(0, 9, (STORE_IMAGES, STORE_DRAWS), generator=g),
                         torch.randint(0, 9, (STORE_IMAGES, STORE_DRAWS), generator=g),
                         torch.randint(0, 2, (STORE_IMAGES, STORE_DRAWS), generator=g)], 2)

    def replay(index, draw):
        padded = F.pad(pixels[index].float() / 255, (4, 4, 4, 4))
        images = []
        for image, i, d in zip(padded, index.tolist(), draw.tolist()):
            top, left, flip = draws[i, d].tolist()
            crop = image[:, top:top + 32, left:left + 32]
            images.append(crop.flip(2) if flip else crop)
        return (torch.stack(images) - 0.5) / 0.25

    logits = torch.empty(STORE_IMAGES, STORE_DRAWS, 100)
    with torch.no_grad():
        for d in range(STORE_DRAWS):
            for start in range(0, STORE_IMAGES, 64):
                index = torch.arange(start, start + 64)
                logits[index, d] = teacher(replay(index, torch.full((64,), d)))[0]
    teacher = None  # the step reads only the stored logits
    batches = []

    def store_step():
        if not batches:
            batches.extend(torch.randperm(STORE_IMAGES, generator=g).split(64))
        index = batches.pop()
        draw = torch.randint(0, STORE_DRAWS, (64,), generator=g)
        images = replay(index, draw)
        t = logits[index, draw]
        s, _ = student(images)
        kd = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16
        loss = 0.1 * F.cross_entropy(s, labels[index]) + 0.9 * kd
        opt.zero_grad()
        loss.backward()
        opt.step()

    return store_step


def measure_rss(kind):
    """Runs STEPS steps of KIND alone and reports this process's resident memory around them."""
    step = {"kd": kd_step, "kd-bf16": kd_step_bf16, "ce": ce_step}.get(kind) or build_store()
    setup_peak, setup = status_mib("VmHWM"), status_mib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS: from here it is the steps' peak
    samples = []
    for i in range(1, args.steps + 1):
        step()
        if i == 1:
            first = status_mib("VmRSS")
        if args.every and i % args.every == 0:
            samples.append(status_mib("VmRSS"))
    return {"kind": kind, "steps": args.steps, "loaded_mib": loaded_rss, "setup_mib": setup, "setup_peak_mib": setup_peak,
            "first_step_mib": first, "peak_mib": status_mib("VmHWM"), "samples_mib": samples, "every": args.every,
            "anon_mib": status_mib("RssAnon"), "file_mib": status_mib("RssFile"),
            "torch": torch.__version__, "threads": torch.get_num_threads()}


if args.only:
    print(json.dumps(measure_rss(args.only)))
    sys.exit(0)

result = {"kd_images_per_second": images_per_second(kd_step)}
if args.ce:
    result["ce_images_per_second"] = images_per_second(ce_step)
if args.bf16:
    result["kd_bf16_images_per_second"] = images_per_second(kd_step_bf16)
    result["kd_autocast_images_per_second"] = images_per_second(kd_step_autocast)
if args.teacher:
    result["teacher_images_per_second"] = images_per_second(teacher_step)
result.update({"steps": args.steps, "batch": 64, "torch": torch.__version__, "device": str(device),
               "cudnn_allow_tf32": torch.backends.cudnn.allow_tf32,
               "matmul_allow_tf32": torch.backends.cuda.matmul.allow_tf32,
               "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
print(json.dumps(result))
