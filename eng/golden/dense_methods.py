#!/usr/bin/python3
"""Golden cases for the distillation methods on segmentation steps: logit maps [B, K, h, w], masks [B, H, W] with
ignored pixels (255), and dense taps of equal H x W. Each reference follows the official code of its method:

* cwd: irfanICMLL/TorchDistiller SemSeg-distill utils/criterion.py (CriterionCWD: norm 'channel' / 'spatial' /
  'channel_mean', divergence 'kl' / 'mse'), and networks/kd_model.py's feature align (--cwd-feat: conv 1x1 without
  bias, InPlaceABNSync = BN + leaky ReLU 0.01, then ReLU);
* mgd: yzd-v/MGD seg/mmseg/distillation/losses/mgd.py (FeatureLoss.get_dis_loss, spatial mask, align 1x1 with bias,
  generation conv3x3-ReLU-conv3x3) and distillers/segmentation_distiller.py (use_logit: CWD on the logits, tau 4,
  weight 3, / (C * N));
* tfd: lilujunai/Teacher-free-Distillation train_kd.py (intra_fd, the inter-layer MSE against the detached deeper
  map; on maps of equal size the pooling is the identity and only the channel slice remains);
* kd on pixels: winycg/CIRKD losses/kd.py (CriterionKD: NHWC rows, KL batchmean over the B*h*w pixels, * T^2).

The task term is the segmentation task's: the logits resized bilinearly (align_corners=True) to the masks' size,
then cross-entropy with ignore_index 255, mean over the kept pixels, times the method's ce_weight.

Each case holds a `distill check` input file (float32) and the expected output computed in float64 from the
float32 inputs (golden_common.method_reference). Random draws (MGD's masks) are drawn here and recorded as
random.mask.

Run: /usr/bin/python3 eng/golden/dense_methods.py   (writes tests/Fixtures/dense_methods.json)
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import f32, method_case, method_reference, rand, write_fixture  # noqa: E402


def seg_ce(p, weight=1.0):
    """The segmentation task's term: bilinear resize with align_corners=True, CE ignoring 255."""
    logits, masks = p["student.logits"], p["masks"]
    up = F.interpolate(logits, size=masks.shape[1:], mode="bilinear", align_corners=True)
    return F.cross_entropy(up, masks, ignore_index=255) * weight


# ---------------------------------------------------------------------------------------------- official criteria


def criterion_cwd(preds_s, preds_t, norm_type="channel", divergence="kl", temperature=4.0):
    """CriterionCWD.forward, as in TorchDistiller (the temperature is 1 unless the divergence is kl)."""
    t = temperature if divergence == "kl" else 1.0
    n, c, h, w = preds_s.shape
    if norm_type == "channel":
        def normalize(x):
            return x.reshape((n, c, -1)).softmax(dim=-1)
    elif norm_type == "spatial":
        def normalize(x):
            return F.softmax(x, dim=1)
    else:  # channel_mean
        def normalize(x):
            return x.view(x.size(0), x.size(1), -1).mean(-1)
    norm_s = normalize(preds_s / t)
    norm_t = normalize(preds_t.detach() / t)
    if divergence == "kl":
        norm_s = norm_s.log()
        loss = F.kl_div(norm_s, norm_t, reduction="sum")
    else:
        loss = F.mse_loss(norm_s, norm_t, reduction="sum")
    if norm_type in ("channel", "channel_mean"):
        loss = loss / (n * c)
    else:
        loss = loss / (n * h * w)
    return loss * t ** 2


def cwd_feature_align(p, x):
    """kd_model.py's align for --cwd-feat: Conv2d(bias=False) -> InPlaceABNSync (BN, leaky_relu 0.01) -> ReLU."""
    x = F.conv2d(x, p["method.align.0.weight"])
    x = F.batch_norm(x, None, None, p["method.align.1.weight"], p["method.align.1.bias"], training=True, momentum=0.1, eps=1e-5)
    x = F.leaky_relu(x, 0.01)
    return F.relu(x)


def mgd_dis_loss(p, preds_s, preds_t, mat, alpha):
    """FeatureLoss.forward / get_dis_loss (mask given: where(u > 1 - lambda, 0, 1))."""
    if "method.align.weight" in p:
        preds_s = F.conv2d(preds_s, p["method.align.weight"], p["method.align.bias"])
    n = preds_t.shape[0]
    masked = torch.mul(preds_s, mat)
    new = F.conv2d(masked, p["method.generation.0.weight"], p["method.generation.0.bias"], padding=1)
    new = F.conv2d(F.relu(new), p["method.generation.2.weight"], p["method.generation.2.bias"], padding=1)
    return F.mse_loss(new, preds_t, reduction="sum") / n * alpha


def seg_distiller_logit_loss(logit_s, logit_t, weight=3.0):
    """SegmentationDistiller.forward_train's use_logit term (tau 4, KL form written out, / (C * N))."""
    n, c, h, w = logit_s.shape
    pt = F.softmax(logit_t.reshape(-1, w * h) / 4, dim=1)
    loss = torch.sum(pt * F.log_softmax(logit_t.reshape(-1, w * h) / 4, dim=1) - pt * F.log_softmax(logit_s.reshape(-1, w * h) / 4, dim=1)) * 4 ** 2
    return weight * loss / (c * n)


def intra_fd(f):
    """train_kd.py intra_fd (the bottom half as c - c//2 .. c, equal halves for even C as there)."""
    c = f.shape[1]
    order = torch.sort(F.normalize(f, p=2, dim=(2, 3)).mean([0, 2, 3]), dim=0, descending=True, stable=True).indices
    f = torch.index_select(f, 1, order)
    return F.mse_loss(f[:, 0:c // 2], f[:, c - c // 2:c])


def inter_fd(shallow, deep):
    """train_kd.py's inter-layer term: the shallower map pooled to the deeper one's size (identity here), the first
    min(C) channels, against the detached deeper map."""
    if shallow.shape[2:] != deep.shape[2:]:
        shallow = F.adaptive_avg_pool2d(shallow, deep.shape[2:])
    m = min(shallow.shape[1], deep.shape[1])
    return F.mse_loss(shallow[:, 0:m], deep[:, 0:m].detach())


def criterion_kd_pixels(pred, soft, temperature):
    """CIRKD CriterionKD: NHWC rows, KL batchmean over pixels, * T^2."""
    b, c, h, w = soft.size()
    scale_pred = pred.permute(0, 2, 3, 1).contiguous().view(-1, c)
    scale_soft = soft.permute(0, 2, 3, 1).contiguous().view(-1, c)
    p_s = F.log_softmax(scale_pred / temperature, dim=1)
    p_t = F.softmax(scale_soft / temperature, dim=1)
    return F.kl_div(p_s, p_t, reduction="batchmean") * temperature ** 2


# ---------------------------------------------------------------------------------------------- methods


def cwd(p, epoch, student_tap="logits", teacher_tap="logits", tau=4.0, weight=3.0, norm="channel", divergence="kl", align=False):
    s, t = p[f"student.{student_tap}"], p[f"teacher.{teacher_tap}"]
    if align:
        s = cwd_feature_align(p, s)
    return {"ce": seg_ce(p), "cwd": weight * criterion_cwd(s, t, norm, divergence, tau)}


def mgd(p, epoch, alpha=2e-5, logit_weight=3.0):
    terms = {"ce": seg_ce(p), "mgd": mgd_dis_loss(p, p["student.stage4"], p["teacher.stage4"].detach(), p["random.mask"], alpha)}
    if logit_weight:
        terms["cwd_logits"] = seg_distiller_logit_loss(p["student.logits"], p["teacher.logits"].detach(), logit_weight)
    return terms


def tfd(p, epoch, stages, with_kd=False, l_intra=0.0008, l_inter=0.0005, warmup=20, kd_w=1.0, T=4.0, iteration=None, warmup_iters=None):
    maps = [p[f"student.{s}"] for s in stages]
    # train_kd.py's min(1, epoch / 20); with a warm-up in iterations (ours, for segmentation schedules) the same ramp.
    factor = min(1.0, epoch / warmup) if warmup_iters is None else min(1.0, iteration / warmup_iters)
    pairs = [inter_fd(maps[i], maps[j]) for i in range(len(maps)) for j in range(i + 1, len(maps))]
    terms = {"ce": seg_ce(p),
             "tfd_intra": sum(intra_fd(f) for f in maps) / len(maps) * factor * l_intra,
             "tfd_inter": sum(pairs) / len(pairs) * factor * l_inter}
    if with_kd:
        terms["kd"] = criterion_kd_pixels(p["student.logits"], p["teacher.logits"].detach(), T) * factor * kd_w
    return terms


def kd(p, epoch, T=4.0, ce=0.1, w=0.9):
    return {"ce": seg_ce(p, ce), "kd": criterion_kd_pixels(p["student.logits"], p["teacher.logits"].detach(), T) * w}


# ---------------------------------------------------------------------------------------------- cases


def seg_inputs(b, k, h, mask_size, teacher=True):
    """Logit maps [b, k, h, h] (teacher ones at a larger scale) and masks [b, S, S] with about 10% ignored pixels."""
    p = {"student.logits": rand(b, k, h, h, scale=2.0)}
    if teacher:
        p["teacher.logits"] = rand(b, k, h, h, scale=3.0)
    masks = torch.randint(0, k, (b, mask_size, mask_size))
    p["masks"] = torch.where(torch.rand(b, mask_size, mask_size) < 0.1, torch.full_like(masks, 255), masks)
    return p


def conv_params(prefix, cin, cout, k, bias=True):
    p = {f"{prefix}.weight": rand(cout, cin, k, k, scale=1.0 / math.sqrt(cin * k * k))}
    if bias:
        p[f"{prefix}.bias"] = rand(cout, scale=0.1)
    return p


def method_params(p, params):
    p.update({"method." + n: v for n, v in params.items()})


def build_cases():
    torch.manual_seed(1313)
    cases = []

    def case(name, method, options, epoch, inputs, fn, **kw):
        cases.append((name, method, options, epoch, inputs, fn, kw))

    # The iteration of a case whose warm-up counts iterations (`distill check --iteration`).
    iterations = {"tfd_seg_warmup_iters_30_of_120": 30}

    logit_taps = {"student_tap": "logits", "teacher_tap": "logits"}

    # CWD on the logit maps: the official segmentation default (channel, kl, tau 4, weight 3) on scene-sized maps
    # (11 classes, 8 x 8 logits, 32 x 32 masks), then the criterion's other normalisations.
    case("cwd_logits_channel", "cwd", logit_taps, 1, seg_inputs(2, 11, 8, 32), cwd)
    case("cwd_logits_spatial_tau2", "cwd", logit_taps | {"norm": "spatial", "tau": 2}, 1, seg_inputs(3, 5, 6, 24), cwd, norm="spatial", tau=2.0)
    case("cwd_logits_channel_mean_mse", "cwd", logit_taps | {"norm": "channel_mean", "divergence": "mse"}, 1, seg_inputs(2, 5, 6, 12), cwd,
         norm="channel_mean", divergence="mse")
    case("cwd_logits_channel_mse", "cwd", logit_taps | {"divergence": "mse", "weight": 10}, 1, seg_inputs(2, 4, 5, 10), cwd, divergence="mse", weight=10.0)

    # CWD on features with TorchDistiller's align (6 -> 10 channels; one pair with equal channels is aligned too).
    for name, cs, ct, tau, weight in (("cwd_feat_conv_bn_relu", 6, 10, 8.0, 35.0), ("cwd_feat_conv_bn_relu_same", 6, 6, 4.0, 3.0)):
        p = seg_inputs(3, 5, 8, 16)
        p.update({"student.context": rand(3, cs, 8, 8), "teacher.context": rand(3, ct, 8, 8, scale=2.0).relu()})
        method_params(p, conv_params("align.0", cs, ct, 1, bias=False))
        p["method.align.1.weight"] = f32(1 + 0.2 * torch.randn(ct, dtype=torch.float64))
        p["method.align.1.bias"] = rand(ct, scale=0.1)
        opts = {"student_tap": "context", "teacher_tap": "context", "align": "conv_bn_relu", "tau": tau, "weight": weight}
        case(name, "cwd", opts, 1, p, cwd, student_tap="context", teacher_tap="context", tau=tau, weight=weight, align=True)

    # MGD on the last stage (align 6 -> 10 channels, spatial mask at lambda 0.75, alpha 2e-5) plus the distiller's CWD on
    # the logit maps (on by default); then equal channels without align and the logit term at another weight.
    for name, cs, logit_weight in (("mgd_seg", 6, None), ("mgd_seg_same_logit1_5", 10, 1.5)):
        b, h = 2, 8
        p = seg_inputs(b, 11, h, 32)
        p.update({"student.stage4": rand(b, cs, h, h).relu(), "teacher.stage4": rand(b, 10, h, h).relu()})
        mat = torch.rand((b, 1, h, h))
        p["random.mask"] = torch.where(mat > 1 - 0.75, 0, 1).to(torch.float64)
        if cs != 10:
            method_params(p, conv_params("align", cs, 10, 1))
        method_params(p, conv_params("generation.0", 10, 10, 3))
        method_params(p, conv_params("generation.2", 10, 10, 3))
        opts = {"student_tap": "stage4", "teacher_tap": "stage4", "mask": "spatial", "mask_ratio": 0.75, "alpha": 2e-5}
        if logit_weight is not None:
            opts["logit_cwd_weight"] = logit_weight
        case(name, "mgd", opts, 1, p, mgd, logit_weight=3.0 if logit_weight is None else logit_weight)

    # Tf-FD on a dilated backbone's stages (equal 8 x 8 maps, 4 / 6 / 9 channels), no teacher; tfd+ adds pixel KD.
    stages = ["stage2", "stage3", "stage4"]
    p = seg_inputs(2, 5, 8, 16, teacher=False)
    p.update({f"student.{s}": rand(2, c, 8, 8).relu() for s, c in zip(stages, (4, 6, 9))})
    case("tfd_seg_epoch5", "tfd", {"stages": stages}, 5, p, tfd, stages=stages)
    case("tfd_seg_warmup_iters_30_of_120", "tfd", {"stages": stages, "warmup_iters": 120}, 1, p, tfd, stages=stages, iteration=30, warmup_iters=120)
    p = seg_inputs(2, 5, 8, 16)
    p.update({f"student.{s}": rand(2, c, 8, 8).relu() for s, c in zip(stages, (4, 6, 8))})
    case("tfdplus_seg_epoch25", "tfd+", {"stages": stages}, 25, p, tfd, stages=stages, with_kd=True)

    # KD on pixels: CIRKD's recipe (T 1, task and KD weight 1) and our classification defaults on maps.
    case("kd_seg_cirkd", "kd", {"temperature": 1, "ce_weight": 1, "kd_weight": 1}, 1, seg_inputs(2, 11, 8, 32), kd, T=1.0, ce=1.0, w=1.0)
    case("kd_seg_default", "kd", {}, 1, seg_inputs(3, 7, 5, 20), kd)
    return cases, iterations


def main():
    fixture = {}
    cases, iterations = build_cases()
    for name, method, options, epoch, inputs, fn, kw in cases:
        fixture[name] = method_case(method, options, epoch, inputs)
        if name in iterations:
            fixture[name]["iteration"] = iterations[name]
        fixture[name]["expected"] = method_reference(fn, inputs, epoch, kw, torch.float64)
    write_fixture("dense_methods.json", fixture)


if __name__ == "__main__":
    main()
