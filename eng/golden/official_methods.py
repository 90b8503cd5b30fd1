#!/usr/bin/python3
"""Golden cases written by following each method's OFFICIAL code, operation by operation (our own script; the
authors' files were read, not copied), on inputs unlike those of feature_methods.py and logit_methods.py: K = 7,
batches of 1, 3, 5 and 9, non-square maps, tiny and large magnitudes, odd channel counts, options away from the
defaults. Where a method's official code and our reading of the paper could differ, these values decide.

Sources (repository @ commit: file), one per method (see docs/methods/<name>.md for the deliberate differences):
  kd, dkd        megvii-research/mdistiller @ a08d46f10d6102bd6e3f258ca5ac880b020ea259: mdistiller/distillers/{KD,DKD}.py
  LS on kd/dkd   sunshangquan/logit-standardization-KD @ f6e5aa5172bad618e801163c3385322eea673754:
                 mdistiller/distillers/{KD,DKD}.py, tools/train.py (T = 2, kd_weight 9, DKD alpha/beta x 9)
  sdd            shicaiwei123/SDD-CVPR2024 @ e412036c6b7b67d8ed25418d2dedad223ab49a71: mdistiller/distillers/{KD,SDD_DKD}.py
                 (sdd_kd_loss, multi_dkd), mdistiller/models/cifar/utils.py (SPP), models/cifar/resnet.py (patch logits)
  tfd, tfd+      lilujunai/Teacher-free-Distillation @ 3427f9889c9a0755d974f5b5f2a934973f477a0f: train_kd.py (train, intra_fd)
  fitnet, at,    megvii-research/mdistiller @ a08d46f10d: mdistiller/distillers/{FitNet,_common,AT,OFD}.py
  ofd            (the partial L2 also as clovaai/overhaul-distillation @ 76344a84a7ce23c894f41a2e05b866c9b73fd85a:
                 CIFAR-100/distiller.py; both forms are computed and must agree)
  mgd            yzd-v/MGD @ 2c9da0b28625eb948db57afc02c824452c3910fe: cls/mmcls/distillation/losses/mgd.py (channel
                 masks), det/mmdet/distillation/losses/mgd.py (spatial masks)
  matching       KaiyuYue/mgd @ 910a636fa0c9adb47711c961822e5f25d95c9241: mgd/builder.py (MGDistiller, SMDistiller),
                 cls/main_mgd.py (loss = CE + KD + d / batch / loss_factor, 20000-image matching pass)

Each method case holds the tensors of a `distill check` input file and the float64 reference (from the float32
inputs): loss.<term>, loss.total, grad.student.<name>, grad.method.<name>. The "matching_steps" cases hold the
official matching statistics (track_running_stats) and the assignment update_flow computes on the integer costs
int(1e5 * cost) it hands its solver (solved here exhaustively: the problems are small).

Run: /usr/bin/python3 eng/golden/official_methods.py   (writes tests/Fixtures/official_methods.json)
"""
import itertools
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc, f32, method_case, method_reference, rand, write_fixture  # noqa: E402


def normal_cdf(x):
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


# ------------------------------------------------------------------------------------------ kd, dkd, LS
# mdistiller KD.py / DKD.py; the LS repository's copies add `normalize` in front (logit_stand).


def ls_normalize(logit):
    mean = logit.mean(dim=-1, keepdims=True)
    stdv = logit.std(dim=-1, keepdims=True)
    return (logit - mean) / (1e-7 + stdv)


def kd_loss(s_in, t_in, temperature, logit_stand=False):
    s = ls_normalize(s_in) if logit_stand else s_in
    t = ls_normalize(t_in) if logit_stand else t_in
    log_pred_student = F.log_softmax(s / temperature, dim=1)
    pred_teacher = F.softmax(t / temperature, dim=1)
    loss = F.kl_div(log_pred_student, pred_teacher, reduction="none").sum(1).mean()
    return loss * temperature ** 2


def gt_mask(logits, target):
    return torch.zeros_like(logits).scatter_(1, target.reshape(-1).unsqueeze(1), 1).bool()


def other_mask(logits, target):
    return torch.ones_like(logits).scatter_(1, target.reshape(-1).unsqueeze(1), 0).bool()


def cat_mask(t, m1, m2):
    return torch.cat([(t * m1).sum(dim=1, keepdims=True), (t * m2).sum(1, keepdims=True)], dim=1)


def dkd_parts(s, t, target, temperature, reduction):
    """TCKD and NCKD as DKD.py computes them (kl_div with `reduction`), each x T^2 / target.shape[0]."""
    gt, other = gt_mask(s, target), other_mask(s, target)
    ps = cat_mask(F.softmax(s / temperature, dim=1), gt, other)
    pt = cat_mask(F.softmax(t / temperature, dim=1), gt, other)
    tckd = F.kl_div(torch.log(ps), pt, reduction=reduction) * temperature ** 2 / target.shape[0]
    pt2 = F.softmax(t / temperature - 1000.0 * gt, dim=1)
    ls2 = F.log_softmax(s / temperature - 1000.0 * gt, dim=1)
    nckd = F.kl_div(ls2, pt2, reduction=reduction) * temperature ** 2 / target.shape[0]
    return tckd, nckd


def dkd_loss(s_in, t_in, target, alpha, beta, temperature, logit_stand=False):
    s = ls_normalize(s_in) if logit_stand else s_in
    t = ls_normalize(t_in) if logit_stand else t_in
    tckd, nckd = dkd_parts(s, t, target, temperature, "sum")
    return alpha * tckd + beta * nckd


def kd_method(p, epoch, T=4.0, ce=0.1, w=0.9, ls=False):
    s, t, y = p["student.logits"], p["teacher.logits"], p["labels"]
    return {"ce": ce * F.cross_entropy(s, y), "kd": w * kd_loss(s, t, T, ls)}


def dkd_method(p, epoch, alpha=1.0, beta=8.0, T=4.0, ce=1.0, warmup=20, ls=False):
    s, t, y = p["student.logits"], p["teacher.logits"], p["labels"]
    return {"ce": ce * F.cross_entropy(s, y), "dkd": min(epoch / warmup, 1.0) * dkd_loss(s, t, y, alpha, beta, T, ls)}


# ------------------------------------------------------------------------------------------------- sdd
# SPP (models/cifar/utils.py), the patch logits of models/cifar/resnet.py, sdd_kd_loss (KD.py), multi_dkd (SDD_DKD.py).


def spp(x, m):
    x4 = F.adaptive_avg_pool2d(x, (4, 4))
    x2 = F.adaptive_avg_pool2d(x4, (2, 2))
    x1 = F.adaptive_avg_pool2d(x4, (1, 1))
    flat = [torch.flatten(v, start_dim=2, end_dim=3) for v in (x1, x2, x4)]
    return torch.cat(flat[: {"[1,2,4]": 3, "[1,2]": 2}[m]], dim=2)


def patch_score(x, weight, bias, m, classes):
    x_spp = spp(x, m).permute((2, 0, 1))
    n, b, c = x_spp.shape
    score = F.linear(torch.reshape(x_spp, (n * b, c)), weight, bias)
    return torch.reshape(score, (n, b, classes)).permute((1, 2, 0))  # B x K x N


def sdd_region_weights(out_t, target, regions):
    """The four masks of sdd_kd_loss / multi_dkd: 1 where the region agrees with the global prediction about
    being right (gt_lt, gw_lw), 2 where it does not (gt_lw, gw_lt); the global rows 0..B-1 are never complementary."""
    b = target.shape[0]
    target_r = target.repeat(regions)
    pred = torch.argmax(out_t, dim=1)
    glob = pred[0:b]
    g_true, g_false = (glob == target).repeat(regions), (glob != target).repeat(regions)
    gt_lw = (pred != target_r).clone()
    gt_lw[g_false] = False
    gt_lw[0:b] = False
    gw_lt = (pred == target_r).clone()
    gw_lt[g_true] = False
    gw_lt[0:b] = False
    gw_lw = (pred != target_r).clone()
    gw_lw[g_true] = False
    gt_lt = (pred == target_r).clone()
    gt_lt[g_false] = False
    index = torch.zeros(out_t.shape[0], dtype=out_t.dtype)
    index[gw_lw] = 1.0
    index[gt_lt] = 1.0
    index[gw_lt] = 2.0
    index[gt_lw] = 2.0
    assert int(gt_lt.sum() + gw_lw.sum() + gt_lw.sum() + gw_lt.sum()) == target_r.shape[0]
    return index


def to_rows(multi):
    m = multi.permute(2, 0, 1)
    return torch.reshape(m, (m.shape[0] * m.shape[1], m.shape[2]))


def sdd_method(p, epoch, base="kd", m="[1,2]", T=4.0, ce=0.1, w=0.9, alpha=1.0, beta=8.0, warmup=20, ls=False):
    y = p["labels"]
    k = p["student.logits"].shape[1]
    patch_s = patch_score(p["student.stage3"], p["student.head.weight"], p["student.head.bias"], m, k)
    with torch.no_grad():
        patch_t = patch_score(p["teacher.stage3"], p["teacher.head.weight"], p["teacher.head.bias"], m, k)
    out_s, out_t = to_rows(patch_s), to_rows(patch_t)
    regions = patch_t.shape[2]
    target_r = y.repeat(regions)
    index = sdd_region_weights(out_t, y, regions)
    # Logit standardisation is ours to combine with SDD (neither repository does): each region row is z-scored
    # as the LS repository's normalize does, before the SDD loss; the teacher's predictions are unaffected.
    ss, tt = (ls_normalize(out_s), ls_normalize(out_t)) if ls else (out_s, out_t)
    if base == "kd":
        loss_kd = F.kl_div(F.log_softmax(ss / T, dim=1), F.softmax(tt / T, dim=1), reduction="none") * T ** 2
        loss_kd = torch.where(torch.isnan(loss_kd), torch.zeros_like(loss_kd), loss_kd)
        loss = torch.sum(torch.sum(loss_kd, dim=1) * index) / target_r.shape[0]
        return {"ce": ce * F.cross_entropy(p["student.logits"], y), "sdd": w * loss}
    tckd, nckd = dkd_parts(ss, tt, target_r, T, "none")
    rows = alpha * torch.sum(tckd, dim=1) + beta * torch.sum(nckd, dim=1)
    loss = torch.sum(rows * index)
    return {"ce": ce * F.cross_entropy(p["student.logits"], y), "sdd": min(epoch / warmup, 1.0) * loss}


# ---------------------------------------------------------------------------------------------- tfd, tfd+
# train_kd.py: kd_mode tfd / tfd+ over rb1..rb3 (post-ReLU stage outputs), loss = cls + min(1, epoch/20) * kd_loss.


def intra_fd(f_s):
    _, indices = torch.sort(F.normalize(f_s, p=2, dim=(2, 3)).mean([0, 2, 3]), dim=0, descending=True)
    f_s = torch.index_select(f_s, 1, indices)
    c = f_s.shape[1]
    return F.mse_loss(f_s[:, 0:c // 2, :, :], f_s[:, c // 2:c, :, :])


def tfd_method(p, epoch, with_kd=False, l_inter=0.0005, l_intra=0.0008, kd_w=1.0, warmup=20.0):
    rb1, rb2, rb3 = p["student.stage1"], p["student.stage2"], p["student.stage3"]
    r12, r13, r23 = rb1.shape[2] // rb2.shape[2], rb1.shape[2] // rb3.shape[2], rb2.shape[2] // rb3.shape[2]
    c1, c2 = rb1.shape[1], rb2.shape[1]
    # train_kd.py writes the ResNet-20 widths (0:16, 0:16, 0:32): the shallower map's channel count.
    inter = (F.mse_loss(F.avg_pool2d(rb1, r12), rb2[:, 0:c1].detach()) + F.mse_loss(F.avg_pool2d(rb1, r13), rb3[:, 0:c1].detach())
             + F.mse_loss(F.avg_pool2d(rb2, r23), rb3[:, 0:c2].detach())) / 3
    intra = (intra_fd(rb1) + intra_fd(rb2) + intra_fd(rb3)) / 3
    factor = min(1, epoch / warmup)
    s = p["student.logits"]
    terms = {"ce": F.cross_entropy(s, p["labels"]), "tfd_intra": factor * (intra * l_intra), "tfd_inter": factor * (inter * l_inter)}
    if with_kd:
        kd = F.kl_div(F.log_softmax(s / 4, dim=1), F.softmax(p["teacher.logits"].detach() / 4, dim=1), reduction="batchmean") * 4 * 4 * kd_w
        terms["kd"] = factor * kd
    return terms


# --------------------------------------------------------------------------------------------------- fitnet
# FitNet.py with ConvReg (_common.py): the kind of regressor is chosen on the heights only.


def fitnet_method(p, epoch, weight=100.0, ce=1.0):
    fs, ft = p["student.stage2"], p["teacher.stage2"]
    s_h, t_h = fs.shape[2], ft.shape[2]
    w, b = p["method.regressor.0.weight"], p["method.regressor.0.bias"]
    if s_h == 2 * t_h:
        x = F.conv2d(fs, w, b, stride=2, padding=1)
    elif s_h * 2 == t_h:
        x = F.conv_transpose2d(fs, w, b, stride=2, padding=1)
    elif s_h >= t_h:
        x = F.conv2d(fs, w, b)  # kernel (1 + s_H - t_H, 1 + s_W - t_W)
    else:
        raise ValueError("no regressor")
    x = F.batch_norm(x, None, None, p["method.regressor.1.weight"], p["method.regressor.1.bias"], training=True, momentum=0.1, eps=1e-5)
    x = F.relu(x)
    return {"ce": ce * F.cross_entropy(p["student.logits"], p["labels"]), "hint": weight * F.mse_loss(x, ft)}


# ------------------------------------------------------------------------------------------------------- at
# AT.py: single_stage_at_loss pools the larger map to (t_H, t_H) / (s_H, s_H) (square), summed over the stages.


def at_map(feat, p):
    return F.normalize(feat.pow(p).mean(1).reshape(feat.size(0), -1))


def single_stage_at_loss(f_s, f_t, p):
    s_h, t_h = f_s.shape[2], f_t.shape[2]
    if s_h > t_h:
        f_s = F.adaptive_avg_pool2d(f_s, (t_h, t_h))
    elif s_h < t_h:
        f_t = F.adaptive_avg_pool2d(f_t, (s_h, s_h))
    return (at_map(f_s, p) - at_map(f_t, p)).pow(2).mean()


def at_method(p, epoch, stages, power=2.0, weight=1000.0, ce=1.0):
    loss = sum([single_stage_at_loss(p[f"student.{s}"], p[f"teacher.{s}"], power) for s in stages])
    return {"ce": ce * F.cross_entropy(p["student.logits"], p["labels"]), "at": weight * loss}


# ------------------------------------------------------------------------------------------------------ mgd
# MGDLoss.forward / get_dis_loss: align (1x1 conv with bias) when channels differ, mask, generation, sum MSE / N.


def mgd_mask(kind, n, c, h, w, lam):
    mat = torch.rand((n, c, 1, 1) if kind == "channel" else (n, 1, h, w), dtype=torch.float64)
    return torch.where(mat < lam, 0, 1) if kind == "channel" else torch.where(mat > 1 - lam, 0, 1)


def mgd_method(p, epoch, alpha=7e-5, ce=1.0):
    preds_s, preds_t = p["student.stage3"], p["teacher.stage3"]
    if "method.align.weight" in p:
        preds_s = F.conv2d(preds_s, p["method.align.weight"], p["method.align.bias"])
    n = preds_t.shape[0]
    masked = torch.mul(preds_s, p["random.mask"])
    x = F.conv2d(masked, p["method.generation.0.weight"], p["method.generation.0.bias"], padding=1)
    new_fea = F.conv2d(F.relu(x), p["method.generation.2.weight"], p["method.generation.2.bias"], padding=1)
    dis = F.mse_loss(new_fea, preds_t, reduction="sum") / n
    return {"ce": ce * F.cross_entropy(p["student.logits"], p["labels"]), "mgd": dis * alpha}


# ------------------------------------------------------------------------------------------------------ ofd
# OFD.py: margins from the teacher's BN before ReLU (computed in double, stored as float32), connectors
# conv1x1 + BN (training mode), feat_loss with its three masked terms, |.|.mean(0).sum(), / 2^(n-1-i).


def margin_from_bn(weight, bias):
    margins = []
    for s, m in zip(weight.tolist(), bias.tolist()):
        s = abs(s)
        if normal_cdf(-m / s) > 0.001:
            margins.append(-s * math.exp(-((m / s) ** 2) / 2) / math.sqrt(2 * math.pi) / normal_cdf(-m / s) + m)
        else:
            margins.append(-3 * s)
    return f32(torch.tensor(margins, dtype=torch.float64))


def ofd_feat_loss(source, target, margin):
    loss = ((source - margin) ** 2 * ((source > margin) & (target <= margin)).to(source.dtype)
            + (source - target) ** 2 * ((source > target) & (target > margin) & (target <= 0)).to(source.dtype)
            + (source - target) ** 2 * (target > 0).to(source.dtype))
    return torch.abs(loss).mean(dim=0).sum()


def partial_l2(source, target, margin):
    """clovaai's distillation_loss (also KaiyuYue/mgd's): the same distance written with max(target, margin)."""
    target = torch.max(target, margin)
    loss = F.mse_loss(source, target, reduction="none")
    return (loss * ((source > target) | (target > 0)).to(source.dtype)).sum()


def ofd_method(p, epoch, stages, weight=1e-3, ce=1.0):
    n = len(stages)
    b = p["student.logits"].shape[0]
    total = 0
    for i, st in enumerate(stages):
        s = F.conv2d(p[f"student.{st}.preact"], p[f"method.connectors.{i}.0.weight"])
        s = F.batch_norm(s, None, None, p[f"method.connectors.{i}.1.weight"], p[f"method.connectors.{i}.1.bias"], training=True, momentum=0.1, eps=1e-5)
        t = F.adaptive_avg_pool2d(p[f"teacher.{st}.preact"], s.shape[-2:]).detach()
        margin = margin_from_bn(p[f"teacher.{st}.bn.weight"], p[f"teacher.{st}.bn.bias"]).reshape(1, -1, 1, 1)
        d = ofd_feat_loss(s, t, margin)
        check = partial_l2(s, t, margin) / b
        assert abs(d.item() - check.item()) <= 1e-12 * max(1.0, abs(d.item())), (d.item(), check.item())
        total = total + d / 2 ** (n - i - 1)
    return {"ce": ce * F.cross_entropy(p["student.logits"], p["labels"]), "ofd": weight * total}


# ------------------------------------------------------------------------------------------------- matching
# builder.py MGDistiller.forward with the reducers amp / sp / rd, SMDistiller.sm; main_mgd.py's total.


def stacked_groups(t_feat, margins, guided, sc, shave):
    t, m = [], []
    tc = t_feat.shape[1]
    for c in range(0, tc, sc):
        if c == (tc // sc) * sc and shave:
            continue
        t.append(t_feat[:, guided[c:c + sc], :, :])
        m.append(margins[:, guided[c:c + sc], :, :])
    return torch.stack(t, dim=2), torch.stack(m, dim=2)


def reduce_amp(t_feat, s_feat, margins, guided, shave, draws):
    b, sc, h, w = s_feat.shape
    groups = t_feat.shape[1] // sc
    t, m = stacked_groups(t_feat, margins, guided, sc, shave)
    t = t.reshape(b, sc, groups, -1)
    m = m.reshape(1, sc, groups, -1)
    t = t.gather(2, torch.argmax(torch.abs(t), dim=2).unsqueeze(2))
    return t.reshape(b, sc, h, w), m.mean(dim=2).reshape(1, sc, 1, 1)


def reduce_sp(t_feat, s_feat, margins, guided, shave, draws):
    _, sc, h, w = s_feat.shape
    t, m = stacked_groups(t_feat, margins, guided, sc, shave)
    return F.adaptive_max_pool3d(t, (1, h, w)).squeeze(2), F.adaptive_max_pool3d(m, (1, 1, 1)).squeeze(2)


def reduce_rd(t_feat, s_feat, margins, guided, shave, draws):
    b, sc, h, w = s_feat.shape
    groups = t_feat.shape[1] // sc
    t, m = stacked_groups(t_feat, margins, guided, sc, shave)
    t = t.reshape(b, sc, groups, -1).permute(0, 1, 3, 2)
    m = m.reshape(1, sc, groups, -1).permute(0, 1, 3, 2)
    t_mask, m_mask = draws  # torch.randint(0, groups, (b, sc, h*w, 1)) and (1, sc, 1, 1)
    return t.gather(3, t_mask).reshape(b, sc, h, w), m.gather(3, m_mask).reshape(1, sc, 1, 1)


def reduce_sm(t_feat, s_feat, margins, guided, shave, draws):
    ind = guided[:s_feat.shape[1]]
    return t_feat[:, ind, :, :], margins[:, ind, :, :]


def matching_method(p, epoch, stages, ignore, guided, reducer, shave, draws=None, loss_factor=1e4, with_kd=False, batch_size=None):
    n = len(stages)
    factors = [2 ** (n - i - 1) for i in range(n)]
    fn = {"amp": reduce_amp, "sp": reduce_sp, "rd": reduce_rd, "sm": reduce_sm}[reducer]
    loss_distill = 0
    kept = 0
    for i, st in enumerate(stages):
        if i in ignore:
            continue
        margins = margin_from_bn(p[f"teacher.{st}.bn.weight"], p[f"teacher.{st}.bn.bias"]).reshape(1, -1, 1, 1)
        s = F.batch_norm(p[f"student.{st}.preact"], None, None, p[f"method.norms.{kept}.weight"], p[f"method.norms.{kept}.bias"], training=True, momentum=0.1, eps=1e-5)
        t, m = fn(p[f"teacher.{st}.preact"], s, margins, guided[i], shave, None if draws is None else draws[i])
        loss_distill = loss_distill + partial_l2(s, t.detach(), m) / factors[i]
        kept += 1
    s_out, y = p["student.logits"], p["labels"]
    terms = {"ce": F.cross_entropy(s_out, y)}
    batch = batch_size or s_out.shape[0]
    terms["mgd_match"] = loss_distill / batch / loss_factor
    if with_kd:
        T = 1.5
        terms["kd"] = F.kl_div(F.log_softmax(s_out / T, dim=1), F.softmax(p["teacher.logits"] / T, dim=1).detach(), reduction="batchmean") * T ** 2
    return terms


def assignment_input(guided, sc, groups):
    """Our buffer layout [C_s, G]: student channel j takes guided[k * C_s + j] for k < G."""
    return torch.stack([guided[k * sc:(k + 1) * sc] for k in range(groups)], 1)


def running_cost(batches):
    """track_running_stats summed over the batches, divided by the images seen (update_flow)."""
    adj, images = 0, 0
    for s_feat, t_feat in batches:
        b, tc = t_feat.shape[0:2]
        sc = s_feat.shape[1]
        t = F.normalize(t_feat.reshape(b, tc, -1), p=2, dim=2)
        s = F.normalize(s_feat.reshape(b, sc, -1), p=2, dim=2)
        adj = adj + (2 - 2 * torch.bmm(s, t.transpose(1, 2))).sum(dim=0)
        images += b
    return adj, images


def brute_force_assignment(cost_int, rows, sc):
    """The optimum LinearSumAssignment finds for the first `rows` rows of a square integer cost (the rest are
    SMDistiller's constant padding rows, which take the left-over columns in any order). The G stacked copies of
    a student channel (row r is channel r % sc) are interchangeable, so the optimum is unique up to their order:
    checked."""
    n = len(cost_int)
    best, best_perm, optima = None, None, set()
    for perm in itertools.permutations(range(n), rows):
        total = sum(cost_int[r][perm[r]] for r in range(rows))
        canonical = tuple(tuple(sorted(perm[r] for r in range(j, rows, sc))) for j in range(sc))
        if best is None or total < best:
            best, best_perm, optima = total, perm, {canonical}
        elif total == best:
            optima.add(canonical)
    assert len(optima) == 1, "ambiguous optimum"
    return list(best_perm)


def update_flow(adj, images, sparse, shave):
    sc, tc = adj.shape
    if sparse:
        padded = torch.full((tc, tc), 1e10, dtype=torch.float64)
        padded[:sc, :tc] = adj
        cost = padded / images
        cols = tc
    else:
        cost = torch.cat([adj for _ in range(tc // sc)], 0) / images if sc != tc else adj / images
        cols = cost.shape[0] if shave else cost.shape[1]
    rows = cost.shape[0]
    ints = [[int(1e5 * cost[r][c].item()) for c in range(cols)] for r in range(cols)]
    return brute_force_assignment(ints, sc if sparse else rows, sc)


# ---------------------------------------------------------------------------------------------------- cases


def logits(b, k, scale_s=2.0, scale_t=3.0, teacher=True):
    p = {"student.logits": rand(b, k, scale=scale_s), "labels": torch.randint(0, k, (b,))}
    if teacher:
        p["teacher.logits"] = rand(b, k, scale=scale_t)
    return p


def conv(prefix, cin, cout, kh, kw=None, bias=True, transpose=False):
    kw = kw or kh
    shape = (cin, cout, kh, kw) if transpose else (cout, cin, kh, kw)
    out = {f"method.{prefix}.weight": rand(*shape, scale=1.0 / math.sqrt(cin * kh * kw))}
    if bias:
        out[f"method.{prefix}.bias"] = rand(cout, scale=0.1)
    return out


def bn(prefix, c, gamma_scale=0.3):
    return {f"{prefix}.weight": f32(1 + gamma_scale * torch.randn(c, dtype=torch.float64)), f"{prefix}.bias": rand(c, scale=0.2)}


def build_cases():
    torch.manual_seed(7)
    cases = []

    def case(name, method, options, epoch, inputs, fn, **kw):
        cases.append((name, method, options, epoch, inputs, fn, kw))

    # KD: K = 7; a batch of 5 with large logits, a batch of 1 with a tiny student at T = 1 (the ImageNet weights).
    # (Tiny logits on both sides would make KL a difference of nearly equal numbers: ill-conditioned in float32.)
    case("kd_b5_k7_large", "kd", {}, 1, logits(5, 7, 12.0, 20.0), kd_method)
    case("kd_b1_k7_tiny_t1", "kd", {"temperature": 1, "ce_weight": 0.5, "kd_weight": 0.5}, 1, logits(1, 7, 1e-3, 3.0), kd_method, T=1.0, ce=0.5, w=0.5)
    # LS on KD as tools/train.py sets it (T = 2, kd_weight 9): shifted and scaled logits, which LS removes.
    p = logits(9, 7)
    p["student.logits"] = f32(p["student.logits"] * 0.05 + 3.0)
    p["teacher.logits"] = f32(p["teacher.logits"] * 25.0 - 40.0)
    case("kd_ls_b9_k7_scaled", "kd", {"temperature": 2, "kd_weight": 9, "logit_standardization": True}, 1, p, kd_method, T=2.0, w=9.0, ls=True)
    # DKD: the warm-up at epoch 3; LS with alpha, beta x 9 and T = 2; a tiny student at T = 1 past a 1-epoch warm-up.
    case("dkd_b7_k7_epoch3", "dkd", {}, 3, logits(7, 7, 4.0, 5.0), dkd_method)
    p = logits(6, 7, 0.5, 30.0)
    case("dkd_ls_b6_k7", "dkd", {"alpha": 9, "beta": 72, "temperature": 2, "logit_standardization": True}, 30, p, dkd_method, alpha=9.0, beta=72.0, T=2.0, ls=True)
    case("dkd_b3_k7_t1_tiny", "dkd", {"alpha": 0.5, "beta": 0.5, "temperature": 1, "warmup": 1}, 2, logits(3, 7, 1e-2, 2.0), dkd_method, alpha=0.5, beta=0.5, T=1.0, warmup=1)

    # SDD: non-square and non-divisible maps (8x6, 5x5, 3x7), K = 7, both bases, LS (ours on top of SDD).
    def sdd_inputs(b, cs, ct, h, w, scale=1.0):
        p = logits(b, 7)
        p.update({"student.stage3": rand(b, cs, h, w, scale=scale).relu(), "teacher.stage3": rand(b, ct, h, w, scale=scale).relu(),
                  "student.head.weight": rand(7, cs, scale=0.7), "student.head.bias": rand(7, scale=0.2),
                  "teacher.head.weight": rand(7, ct, scale=0.7), "teacher.head.bias": rand(7, scale=0.2)})
        with torch.no_grad():  # some labels are the teacher's global prediction, so all four masks occur
            pred = F.linear(p["teacher.stage3"].mean((2, 3)), p["teacher.head.weight"], p["teacher.head.bias"]).argmax(1)
            p["labels"] = torch.where(torch.arange(b) % 3 != 2, pred, p["labels"])
        return p

    case("sdd_kd_m124_8x6", "sdd", {"scales": [1, 2, 4]}, 1, sdd_inputs(5, 7, 9, 8, 6), sdd_method, m="[1,2,4]")
    case("sdd_kd_m12_5x5_t2", "sdd", {"scales": [1, 2], "temperature": 2, "complementary_weight": 2}, 1, sdd_inputs(3, 5, 6, 5, 5, 3.0), sdd_method, T=2.0)
    case("sdd_dkd_m124_3x7_epoch7", "sdd", {"base": "dkd", "scales": [1, 2, 4]}, 7, sdd_inputs(3, 6, 4, 3, 7), sdd_method, base="dkd", m="[1,2,4]", ce=1.0)
    case("sdd_kd_ls_m12", "sdd", {"scales": [1, 2], "logit_standardization": True}, 1, sdd_inputs(5, 4, 6, 4, 4, 5.0), sdd_method, ls=True)

    # Tf-FD: three post-ReLU stages with even channel counts (train_kd.py splits C in halves), non-square maps.
    p = logits(3, 7, teacher=False)
    p.update({"student.stage1": rand(3, 4, 8, 12, scale=2.0).relu(), "student.stage2": rand(3, 6, 4, 6, scale=2.0).relu(), "student.stage3": rand(3, 8, 2, 3, scale=2.0).relu()})
    case("tfd_nonsquare_epoch7", "tfd", {}, 7, p, tfd_method)
    p = logits(5, 7)
    p.update({"student.stage1": rand(5, 2, 8, 8, scale=0.01).relu(), "student.stage2": rand(5, 4, 4, 4, scale=0.01).relu(), "student.stage3": rand(5, 10, 2, 2, scale=0.01).relu()})
    case("tfdplus_readme_lambdas_epoch40", "tfd+", {"lambda_inter": 0.005, "lambda_intra": 0.0004}, 40, p, tfd_method, with_kd=True, l_inter=0.005, l_intra=0.0004)

    # FitNets: every ConvReg kind on non-square maps, a batch of 1.
    for name, b, (hs, ws), (ht, wt), (kh, kw), transpose in (("stride2_8x6", 1, (8, 6), (4, 3), (3, 3), False), ("transpose_3x5", 3, (3, 5), (6, 10), (4, 4), True),
                                                            ("valid_5x7", 5, (5, 7), (3, 4), (3, 4), False)):
        p = logits(b, 7)
        p.update({"student.stage2": rand(b, 5, hs, ws, scale=3.0).relu(), "teacher.stage2": rand(b, 3, ht, wt, scale=0.5).relu()})
        p.update(conv("regressor.0", 5, 3, kh, kw, transpose=transpose))
        p.update({"method." + k: v for k, v in bn("regressor.1", 3).items()})
        case(f"fitnet_{name}", "fitnet", {"weight": 50} if b == 5 else {}, 1, p, fitnet_method, weight=50.0 if b == 5 else 100.0)

    # AT: the student larger, the teacher larger, and an equal non-square stage; p = 4 with tiny values.
    p = logits(3, 7)
    p.update({"student.stage1": rand(3, 3, 8, 8), "teacher.stage1": rand(3, 5, 4, 4, scale=4.0), "student.stage2": rand(3, 5, 3, 3, scale=10.0),
              "teacher.stage2": rand(3, 7, 6, 6), "student.stage3": rand(3, 4, 3, 5), "teacher.stage3": rand(3, 9, 3, 5)})
    case("at_three_stages", "at", {}, 1, p, at_method, stages=["stage1", "stage2", "stage3"])
    p = logits(5, 7)
    p.update({"student.stage1": rand(5, 3, 4, 4, scale=0.01), "teacher.stage1": rand(5, 6, 2, 2, scale=0.02), "student.stage2": rand(5, 3, 2, 6, scale=0.01),
              "teacher.stage2": rand(5, 6, 2, 6, scale=0.01)})
    case("at_p4_tiny", "at", {"p": 4, "weight": 500}, 1, p, at_method, stages=["stage1", "stage2"], power=4.0, weight=500.0)

    # MGD: channel masks through an align conv (5 -> 7 channels, 3x5 maps, a large teacher); spatial masks at 0.75.
    p = logits(3, 7)
    p.update({"student.stage3": rand(3, 5, 3, 5).relu(), "teacher.stage3": rand(3, 7, 3, 5, scale=10.0).relu(), "random.mask": mgd_mask("channel", 3, 7, 3, 5, 0.15).double()})
    p.update(conv("align", 5, 7, 1))
    p.update(conv("generation.0", 7, 7, 3))
    p.update(conv("generation.2", 7, 7, 3))
    case("mgd_channel_align_3x5", "mgd", {}, 1, p, mgd_method)
    p = logits(5, 7)
    p.update({"student.stage3": rand(5, 7, 4, 2, scale=0.1), "teacher.stage3": rand(5, 7, 4, 2, scale=0.1), "random.mask": mgd_mask("spatial", 5, 7, 4, 2, 0.75).double()})
    p.update(conv("generation.0", 7, 7, 3))
    p.update(conv("generation.2", 7, 7, 3))
    case("mgd_spatial_075", "mgd", {"mask": "spatial", "mask_ratio": 0.75, "alpha": 2e-5}, 1, p, mgd_method, alpha=2e-5)

    # OFD: three stages (pooled teacher maps, a non-square one), negative gammas and the -3|gamma| branch.
    def ofd_inputs(b, spec):
        p = logits(b, 7)
        for i, (st, cs, ct, hs, ws, ht, wt) in enumerate(spec):
            p[f"student.{st}.preact"] = rand(b, cs, hs, ws, scale=2.0)
            p[f"teacher.{st}.preact"] = rand(b, ct, ht, wt, scale=1.5, shift=-0.3)
            p.update(bn(f"teacher.{st}.bn", ct, gamma_scale=0.8))
            p.update(conv(f"connectors.{i}.0", cs, ct, 1, bias=False))
            p.update({"method." + k: v for k, v in bn(f"connectors.{i}.1", ct).items()})
        return p

    spec = [("stage1", 3, 5, 6, 6, 6, 6), ("stage2", 4, 6, 3, 3, 6, 6), ("stage3", 6, 8, 2, 4, 4, 8)]
    p = ofd_inputs(3, spec)
    p["teacher.stage2.bn.bias"][1] = 5.0  # Phi(-beta/|gamma|) < 0.001: margin -3|gamma|
    p["teacher.stage3.bn.weight"][0] = -0.7
    case("ofd_three_stages", "ofd", {"stages": ["stage1", "stage2", "stage3"]}, 1, p, ofd_method, stages=["stage1", "stage2", "stage3"])
    spec = [("stage1", 2, 3, 4, 4, 4, 4), ("stage2", 5, 9, 3, 5, 3, 5)]
    p = ofd_inputs(5, spec)
    p = {k: v for k, v in p.items() if ".stage1." not in k}  # only the stage the method reads: check refuses other tensors
    p = {k.replace("connectors.1.", "connectors.0."): v for k, v in p.items() if "connectors.0." not in k}
    case("ofd_stage2_only_w1e4", "ofd", {"stages": ["stage2"], "weight": 1e-4}, 1, p, ofd_method, stages=["stage2"], weight=1e-4)

    # Matching: C_t = 7 over C_s = 3 (G = 2, teacher channel 6 shaved), a second stage 4 over 8; stage1 ignored
    # (divisors 4, 2, 1 over three stages); the sparse reducer with KD.
    for reducer in ("amp", "sp", "rd", "sm"):
        b = 3
        p = logits(b, 7)
        shapes = {"stage2": (3, 7, 3, 5), "stage3": (4, 8, 2, 3)}
        guided, draws, assignment = {}, {}, {}
        for st in ("stage1", "stage2", "stage3"):
            ct = shapes.get(st, (2, 4, 0, 0))[1]
            p.update(bn(f"teacher.{st}.bn", ct, gamma_scale=0.6))
        for j, (st, (cs, ct, h, w)) in enumerate(shapes.items()):
            i = j + 1
            p[f"student.{st}.preact"] = rand(b, cs, h, w, scale=1.5, shift=0.2)
            p[f"teacher.{st}.preact"] = rand(b, ct, h, w, scale=2.0, shift=-0.5)
            p.update({"method." + k: v for k, v in bn(f"norms.{j}", cs).items()})
            g = 1 if reducer == "sm" else ct // cs
            guided[i] = torch.randperm(ct if reducer == "sm" else g * cs)
            p[f"method.assignment{j}"] = assignment_input(guided[i], cs, g)
            if reducer == "rd":
                t_mask, m_mask = torch.randint(0, g, (b, cs, h * w, 1)), torch.randint(0, g, (1, cs, 1, 1))
                draws[i] = (t_mask, m_mask)
                p[f"random.choice{j}"] = t_mask.reshape(b, cs, h, w)
                p[f"random.margin{j}"] = m_mask.reshape(cs)
        p = {k: v for k, v in p.items() if not k.startswith("teacher.stage1.")}  # drawn, then left out: stage1 is ignored
        opts = {"stages": ["stage1", "stage2", "stage3"], "ignore_stages": ["stage1"], "reducer": reducer, "match_images": 0}
        opts |= {"with_kd": True} if reducer == "sm" else {}
        case(f"matching_{reducer}_shave", "matching", opts, 1, p, matching_method, stages=["stage1", "stage2", "stage3"], ignore=[0], guided=guided,
             reducer=reducer, shave=True, draws=draws or None, with_kd=reducer == "sm")
    return cases


def matching_steps():
    """update_flow's assignments for dense (G = 2, shaved) and sparse matching on two batches of statistics."""
    torch.manual_seed(8)
    out = {}
    for name, sc, tc, h, w in (("c3_t7_shave", 3, 7, 3, 5), ("c3_t6", 3, 6, 2, 2)):
        batches = [(rand(b, sc, h, w), rand(b, tc, h, w)) for b in (2, 3)]
        adj, images = running_cost(batches)
        dense = update_flow(adj, images, sparse=False, shave=tc % sc != 0)
        sparse = update_flow(adj, images, sparse=True, shave=False)
        g = tc // sc
        out[name] = {
            "batches": [{"student": enc(s.float()), "teacher": enc(t.float())} for s, t in batches],
            "cost": enc(adj / images),
            "groups": [[dense[k * sc + j] for k in range(g)] for j in range(sc)],
            "sparse": [[sparse[j]] for j in range(sc)],
        }
    return out


def main():
    methods = {}
    for name, method, options, epoch, inputs, fn, kw in build_cases():
        methods[name] = method_case(method, options, epoch, inputs)
        methods[name]["expected"] = method_reference(fn, inputs, epoch, kw)
    write_fixture("official_methods.json", {"methods": methods, "matching_steps": matching_steps()})


if __name__ == "__main__":
    main()
