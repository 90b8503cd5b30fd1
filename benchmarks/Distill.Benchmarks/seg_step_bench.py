#!/usr/bin/python3
"""PyTorch eager beside Distill's SegStep (benchmarks/Distill.Benchmarks/SegStep.cs): segmentation training steps of the
scene pair (eng/golden/segmentation_models.py: scene_teacher, scene_student, 1x64x64 input, 11 classes, 8x8 logits and
an aux head) with the dense methods' criteria as eng/golden/dense_methods.py and eng/golden/skd.py port them from the
official code. Batch 32 of fixed random images and masks (11 classes, about 5% ignored as 255), SGD lr 0.05 momentum
0.9 weight decay 5e-4. The task term on every row: pixel CE (ignore 255) on the logits resized bilinearly with
align_corners=True to 64x64, plus 0.4 x the same CE on the aux logits.

Rows (ROWS): teacher CE step; teacher inference (eval, no-grad); student CE step; student + cwd (logit maps, channel
KL, tau 4, weight 3); + mgd (stage4, 1x1 align to the teacher's width, spatial mask 0.75, alpha 2e-5, + the
distiller's CWD term on the logits, weight 3); + tfd (stages 2-4, lambda_intra 8e-4, lambda_inter 5e-4, no warm-up,
no teacher); + kd (CIRKD pixel KD, T 1, weights 1); + skd (pixel 10, pair 0.5 on the context maps, holistic 0.1; then
the discriminator's own SGD step, lr 4e-4 momentum 0.9 weight decay 5e-4, on the WGAN loss + 10 x gradient penalty,
all times 0.1).

Glue written here because the golden modules take their method weights from a dict of tensors (mgd_dis_loss reads
p["method.align.weight"] ...): the align and generator convs are nn.Conv2d modules in the student's optimizer, passed
to mgd_dis_loss as that dict; tfd's golden wrapper divides by its epoch warm-up, so the bench calls intra_fd and
inter_fd directly with the factor 1 of the segmentation preset (warmup 0).

Modes: `STEPS --rounds R` times R rounds and prints one JSON object; `STEPS --serve` builds everything, prints
{"ready": ...}, then for each line "round" on stdin times one round and prints a JSON line, and for "end" prints the
peak RSS and exits (SegmentationBench.cs interleaves its rounds with this process's that way). A round times every row
in ROWS order: one untimed step, then STEPS timed steps; images/s = STEPS x 32 / seconds, of wall time and (key
ROW/cpu) of the process's CPU time.

Usage: seg_step_bench.py STEPS [--threads N] (--rounds R | --serve)
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
# The golden modules are copied beside this script in the benchmark's output; in the repository they are in eng/golden.
sys.path[:0] = [here, os.path.join(here, "..", "..", "eng", "golden")]
from segmentation_models import FORWARD  # noqa: E402
from dense_methods import criterion_cwd, criterion_kd_pixels, inter_fd, intra_fd, mgd_dis_loss, seg_distiller_logit_loss  # noqa: E402
from skd import Discriminator, adv_d, gradient_penalty, pair_wise, pixel_wise  # noqa: E402
from step_bench_common import run, time_round  # noqa: E402

BATCH, CLASSES, SIZE, IGNORE = 32, 11, 64, 255
ROWS = ["teacher_ce", "teacher_inference", "student_ce", "cwd", "mgd", "tfd", "kd", "skd"]


def make_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, 1, SIZE, SIZE, generator=g)
    masks = torch.randint(0, CLASSES, (BATCH, SIZE, SIZE), generator=g)
    masks[torch.rand(BATCH, SIZE, SIZE, generator=g) < 0.05] = IGNORE
    return x, masks


def seg_ce(logits, masks):
    up = F.interpolate(logits, size=masks.shape[1:], mode="bilinear", align_corners=True)
    return F.cross_entropy(up, masks, ignore_index=IGNORE)


def task_loss(logits, taps, masks):
    return seg_ce(logits, masks) + 0.4 * seg_ce(taps["aux_logits"], masks)


def sgd(params):
    return torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=5e-4)


class Bench:
    def __init__(self):
        torch.manual_seed(0)
        self.x, self.masks = make_data()
        self.teacher = FORWARD["scene_teacher"][0]()
        self.frozen = FORWARD["scene_teacher"][0]().eval()
        for p in self.frozen.parameters():
            p.requires_grad_(False)
        self.teacher_opt = sgd(self.teacher.parameters())
        self.steps = {"teacher_ce": self.teacher_ce, "teacher_inference": self.teacher_inference}
        for row in ROWS[2:]:
            self.steps[row] = self.student_step(row)

    def teacher_ce(self):
        logits, taps = self.teacher(self.x)
        loss = task_loss(logits, taps, self.masks)
        self.teacher_opt.zero_grad()
        loss.backward()
        self.teacher_opt.step()

    def teacher_inference(self):
        with torch.no_grad():
            self.frozen(self.x)

    def student_step(self, method):
        """One student (its own weights and optimizer, as a fresh run) and its method's modules."""
        student = FORWARD["scene_student"][0]()
        extra, own = [], None
        if method == "mgd":
            cs, ct = student.backbone.channels[3], self.frozen.backbone.channels[3]
            mods = {"align": nn.Conv2d(cs, ct, 1), "generation.0": nn.Conv2d(ct, ct, 3, padding=1), "generation.2": nn.Conv2d(ct, ct, 3, padding=1)}
            extra = [p for m in mods.values() for p in m.parameters()]
            params = {f"method.{k}.{n}": p for k, m in mods.items() for n, p in m.named_parameters()}
        if method == "skd":
            disc = Discriminator(CLASSES, 8, 64)
            own = torch.optim.SGD([p for p in disc.parameters() if p.requires_grad], lr=4e-4, momentum=0.9, weight_decay=5e-4)
        opt = sgd(list(student.parameters()) + extra)
        masks, x = self.masks, self.x

        def step():
            t = tt = None
            if method not in ("student_ce", "tfd"):
                with torch.no_grad():
                    t, tt = self.frozen(x)
            s, st = student(x)
            loss = task_loss(s, st, masks)
            if method == "cwd":
                loss = loss + 3.0 * criterion_cwd(s, t, "channel", "kl", 4.0)
            elif method == "mgd":
                b, _, h, w = st["stage4"].shape
                mat = torch.rand((b, 1, h, w))
                mat = torch.where(mat > 1 - 0.75, 0, 1).to(s.dtype)
                loss = loss + mgd_dis_loss(params, st["stage4"], tt["stage4"], mat, 2e-5) + seg_distiller_logit_loss(s, t, 3.0)
            elif method == "tfd":
                maps = [st[f"stage{i}"] for i in (2, 3, 4)]
                pairs = [inter_fd(maps[i], maps[j]) for i in range(3) for j in range(i + 1, 3)]
                loss = loss + sum(intra_fd(f) for f in maps) / 3 * 0.0008 + sum(pairs) / len(pairs) * 0.0005
            elif method == "kd":
                loss = loss + criterion_kd_pixels(s, t, 1.0)
            elif method == "skd":
                loss = loss + 10.0 * pixel_wise(s, t) + 0.5 * pair_wise(st["context"], tt["context"]) + 0.1 * (-disc(s)[0].mean())
            opt.zero_grad()
            loss.backward()
            opt.step()
            if own is not None:
                own.zero_grad()
                sd = s.detach()
                d_out_t = disc(t)  # the official D step's order: D(T), D(S), then the penalty's D(x_hat)
                d_loss = 0.1 * adv_d(disc(sd), d_out_t, "wgan-gp")
                alpha = torch.rand(sd.shape[0], 1, 1, 1)
                d_loss = d_loss + 0.1 * gradient_penalty(disc, sd, t, alpha, 10.0)
                d_loss.backward()
                own.step()

        return step

    def round(self, steps):
        """Per row: images/s of wall time, and images per second of the process's CPU time (every thread's)."""
        return time_round(self.steps, ROWS, BATCH, steps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("steps", type=int)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    bench = Bench()
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": BATCH, "steps": args.steps, "rows": ROWS}
    run(lambda: bench.round(args.steps), info, args.rounds, args.serve)


if __name__ == "__main__":
    main()
