#!/usr/bin/python3
"""PyTorch eager beside Distill's DetStep (benchmarks/Distill.Benchmarks/DetStep.cs): FCOS training steps of the CPU-sized
pair (eng/golden/fcos.py's scene(): det_scene_teacher at 16/32/64/128 with 2 blocks a stage, det_scene_student at
8/16/32/64 with 1; 1x96x96 input, 10 classes, FPN P2-P4 32 wide, 2-conv GroupNorm(8) towers) with the detection
methods' criteria as eng/golden/detection_methods.py ports them from the official code. The batch is the 16 scenes
Distill writes to the --scenes file (normalised float32 images and their boxes, labels, crowd flags and sizes), so both
sides train on the same images and boxes. SGD lr 0.01 momentum 0.9 weight decay 1e-4, clip_grad_norm_ 35 over every
trained parameter. The task term on every training row: fcos.py's assign (centre sampling radius 1.5, the scene scale
ranges, crowd locations ignored) at every step, then fcos_loss (focal, GIoU weighted by the centerness targets,
centerness BCE).

Rows (ROWS): teacher FCOS step; teacher inference (eval, no-grad); student FCOS step; student + fgd (P2-P4, T 0.8,
alpha 1.6e-3, beta 8e-4, gamma 8e-4, lambda 8e-6); + mgd (P2-P4, spatial masks at 0.65, alpha 2e-5); + cwd (P2-P4,
cross-entropy form, tau 1, weight 5); + skd_det (pair-wise on P2-P4 and pixel-wise KL on cls_logits.p2-p4, T 1,
weights 1).

Glue written here because the golden criteria take one dict of tensors (the step's maps as "student.<tap>" and
"teacher.<tap>", the padded boxes as "boxes", "box_crowd", "box_counts", "image_sizes", the method's weights as
"method.<name>", MGD's masks as "random.mask.<level>"): the GcBlocks (FGD) and generation convs (MGD) are nn modules in
the student's optimizer whose parameters are passed in that dict, and the dict is built at every step from the taps
the forward fills; MGD's masks are drawn at every step as the official get_dis_loss draws them.

Modes: `STEPS --scenes FILE --rounds R` times R rounds and prints one JSON object; `STEPS --scenes FILE --serve`
builds everything, prints {"ready": ...} (with the positive locations the assignment gives the batch, which Distill
compares with its own), then for each line "round" on stdin times one round and prints a JSON line, and for "end"
prints the peak RSS and exits. A round times every row in ROWS order: one untimed step, then STEPS timed steps;
images/s = STEPS x 16 / seconds, of wall time and (key ROW/cpu) of the process's CPU time.

Usage: det_step_bench.py STEPS --scenes FILE [--threads N] (--rounds R | --serve)
"""
import argparse
import base64
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

here = os.path.dirname(os.path.abspath(__file__))
# The golden modules are copied beside this script in the benchmark's output; in the repository they are in eng/golden.
sys.path[:0] = [here, os.path.join(here, "..", "..", "eng", "golden")]
from fcos import SCENE_RANGES, assign, fcos_loss, scene  # noqa: E402
from detection_methods import cwd, fgd, mgd, skd_det  # noqa: E402
from step_bench_common import run, time_round  # noqa: E402

CLASSES, STRIDES, RADIUS = 10, [4, 8, 16], 1.5
LEVELS = ["fpn.p2", "fpn.p3", "fpn.p4"]
LOGITS = ["cls_logits.p2", "cls_logits.p3", "cls_logits.p4"]
ROWS = ["teacher", "teacher_inference", "student", "fgd", "mgd", "cwd", "skd_det"]


def teacher():
    return scene([16, 32, 64, 128], 2, CLASSES)


def student():
    return scene([8, 16, 32, 64], 1, CLASSES)


def load_scenes(path):
    """The batch Distill exported: images [B, C, H, W] float32, per image (boxes, labels, crowd), the padded box tensors
    the golden criteria read, and the input's height and width."""
    with open(path) as f:
        doc = json.load(f)
    shape = doc["shape"]
    x = torch.from_numpy(np.frombuffer(base64.b64decode(doc["images"]), dtype="<f4").copy()).reshape(shape)
    images = []
    for t in doc["targets"]:
        boxes = torch.tensor(t["boxes"], dtype=torch.float32).reshape(-1, 4)
        images.append((boxes, torch.tensor(t["labels"], dtype=torch.int64), torch.tensor(t["crowd"], dtype=torch.bool)))
    m = max(1, max(len(b) for b, _, _ in images))
    padded = {"boxes": torch.zeros(len(images), m, 4), "box_crowd": torch.zeros(len(images), m, dtype=torch.int64),
              "box_counts": torch.tensor([len(b) for b, _, _ in images]), "image_sizes": torch.tensor([t["size"] for t in doc["targets"]])}
    for i, (b, _, c) in enumerate(images):
        padded["boxes"][i, :len(b)] = b
        padded["box_crowd"][i, :len(c)] = c.to(torch.int64)
    return x, images, padded, shape[2], shape[3]


def gc_block(c):
    """FGD's GcBlock parts as the official FeatureLoss makes them: conv_mask (Kaiming normal, fan in), channel_add_conv
    (conv1x1 C -> C/2, LayerNorm, ReLU, conv1x1 C/2 -> C, the last conv zero)."""
    mask = nn.Conv2d(c, 1, 1)
    nn.init.kaiming_normal_(mask.weight, mode="fan_in", nonlinearity="relu")
    nn.init.zeros_(mask.bias)
    add = nn.Sequential(nn.Conv2d(c, c // 2, 1), nn.LayerNorm([c // 2, 1, 1]), nn.ReLU(inplace=True), nn.Conv2d(c // 2, c, 1))
    nn.init.zeros_(add[3].weight)
    nn.init.zeros_(add[3].bias)
    return mask, add


def sgd(params):
    return torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)


class Bench:
    def __init__(self, scenes):
        torch.manual_seed(0)
        self.x, self.images, self.padded, self.height, self.width = load_scenes(scenes)
        self.frozen = teacher().eval()
        for p in self.frozen.parameters():
            p.requires_grad_(False)
        self.steps = {"teacher": self.train_step(teacher(), None), "teacher_inference": self.teacher_inference}
        for row in ROWS[2:]:
            self.steps[row] = self.train_step(student(), None if row == "student" else row)

    def positives(self):
        _, labels, _, _ = assign(self.images, self.height, self.width, STRIDES, SCENE_RANGES, RADIUS)
        return int((labels > 0).sum())

    def teacher_inference(self):
        with torch.no_grad():
            self.frozen(self.x, {})

    def train_step(self, model, method):
        """One detector (its own weights and optimizer, as a fresh run) and its method's modules."""
        c = 32  # the FPN width of both scene detectors
        modules = nn.ModuleDict()
        if method == "fgd":
            for i in range(len(LEVELS)):
                ms, adds = gc_block(c)
                mt, addt = gc_block(c)
                modules[str(i)] = nn.ModuleDict({"conv_mask_s": ms, "conv_mask_t": mt, "channel_add_conv_s": adds, "channel_add_conv_t": addt})
            prefix = "method.levels."
        elif method == "mgd":
            for i in range(len(LEVELS)):
                modules[str(i)] = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(c, c, 3, padding=1))
            prefix = "method.generations."
        weights = {prefix + n: p for n, p in modules.named_parameters()} if len(modules) else {}
        params = list(model.parameters()) + list(modules.parameters())
        opt = sgd(params)
        x, images, padded, height, width, frozen = self.x, self.images, self.padded, self.height, self.width, self.frozen
        needs_teacher = method is not None

        def step():
            tt = {}
            if needs_teacher:
                with torch.no_grad():
                    frozen(x, tt)
            st = {}
            out = model(x, st)
            _, labels, regs, _ = assign(images, height, width, STRIDES, SCENE_RANGES, RADIUS)
            cls_loss, reg_loss, ctr_loss = fcos_loss(out, labels, regs, "giou")[:3]
            loss = cls_loss + reg_loss + ctr_loss
            if method is not None:
                p = dict(weights)
                p.update(padded)
                for tap in LEVELS + (LOGITS if method == "skd_det" else []):
                    p["student." + tap], p["teacher." + tap] = st[tap], tt[tap]
                if method == "fgd":
                    terms = fgd(p, 1, LEVELS)
                elif method == "mgd":
                    for i, tap in enumerate(LEVELS):
                        n, _, h, w = st[tap].shape
                        p[f"random.mask.{i}"] = torch.where(torch.rand((n, 1, h, w)) > 1 - 0.65, 0, 1).to(st[tap].dtype)
                    terms = mgd(p, 1, LEVELS)
                elif method == "cwd":
                    terms = cwd(p, 1, LEVELS)
                else:
                    terms = skd_det(p, 1, LEVELS, LOGITS)
                loss = loss + sum(terms.values())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 35)
            opt.step()

        return step

    def round(self, steps):
        """Per row: images/s of wall time, and images per second of the process's CPU time (every thread's)."""
        return time_round(self.steps, ROWS, self.x.shape[0], steps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("steps", type=int)
    parser.add_argument("--scenes", required=True)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bench = Bench(args.scenes)
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": int(bench.x.shape[0]), "steps": args.steps, "rows": ROWS,
            "positives": bench.positives()}
    run(lambda: bench.round(args.steps), info, args.rounds, args.serve)


if __name__ == "__main__":
    main()
