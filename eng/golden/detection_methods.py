#!/usr/bin/python3
"""Golden cases for the distillation methods on detection steps: a detector's outputs [B, L, K + 5] (which no method
here reads), FPN maps per level and the ground-truth boxes as `distill check` takes them (boxes [B, M, 4], box_labels,
box_crowd, box_counts, image_sizes). Each reference follows the official code of its method, rewritten here:

* fgd: yzd-v/FGD mmdet/distillation/losses/fgd.py (FeatureLoss.forward: the boxes scaled by W / img_w and H / img_h in
  float32, floor / ceil, inclusive slices, 1 / area with the max over boxes, the background normalised per image;
  get_attention, get_fea_loss, get_mask_loss, spatial_pool, get_rela_loss) summed over the levels as the distiller
  sums its per-level losses. The distiller passes gt_bboxes, which in mmdet hold no crowd boxes (those go to
  gt_bboxes_ignore), so crowd boxes are dropped before the masks are built.
* mgd: yzd-v/MGD det/mmdet/distillation/losses/mgd.py (get_dis_loss with the spatial mask where(u > 1 - lambda, 0, 1),
  align 1x1 with bias, generation conv3x3-ReLU-conv3x3), one module per FPN level; no logit term on detection.
* skd_det: the Structured KD authors' FCOS extension (irfanICMLL/structure_knowledge_distillation issue #27): the
  pair-wise CriterionSDcos_no of the cvpr_19 branch's utils/criterion.py (Cos_Attn_no: the HW x HW cosine matrix
  energy / (|q_i| |q_j|), no epsilon; MSELoss mean) on every FPN level, and CriterionKD on each level's class logits
  (softmax over the classes at each location, KLDivLoss with its default element mean, times T^2), levels summed.
* cwd: pppppM/mmdetection-distiller mmdet/distillation/losses/cwd.py (ChannelWiseDivergence: softmax over H*W of
  teacher / tau, sum of -p_T log_softmax(student / tau) * tau^2, times the weight, / (C * N), C the student's
  channels before its align conv), one per FPN level.

Every case also carries the detection task's terms as a training step sums them before the method's: FCOS's focal,
GIoU box and centerness losses (fcos.py's reference of the official loss.py) over the CPU-sized pair's levels (strides
4, 8, 16 and their scale ranges, centre sampling 1.5) of an input of the largest image size, the levels `distill check`
uses when the file gives no levels.strides. Inputs float32; references in float64 from them.

Run: /usr/bin/python3 eng/golden/detection_methods.py   (writes tests/Fixtures/detection_methods.json)
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc, f32, method_case, method_reference, rand, write_fixture  # noqa: E402
from fcos import SCENE_RANGES, assign, fcos_loss, level_sizes  # noqa: E402

SCENE_STRIDES = [4, 8, 16]


# ---------------------------------------------------------------------------------------------- FGD (fgd.py)


def fgd_masks(gt_bboxes, img_shapes, n, h, w, dtype):
    """FeatureLoss.forward's Mask_fg / Mask_bg on an H x W level: per image, boxes (float32 as mmdet gives them) scaled
    to the grid, floor / ceil to ints, cells [hmin, hmax] x [wmin, wmax] (Python slices clip at the end) set to the max
    of what is there and 1 / ((hmax + 1 - hmin) (wmax + 1 - wmin)); background 1 off the boxes, divided by its sum."""
    mask_fg = torch.zeros(n, h, w, dtype=dtype)
    mask_bg = torch.ones(n, h, w, dtype=dtype)
    for i in range(n):
        boxes = gt_bboxes[i].to(torch.float32)
        img_h, img_w = img_shapes[i]
        scaled = torch.ones_like(boxes)
        scaled[:, 0] = boxes[:, 0] / img_w * w
        scaled[:, 2] = boxes[:, 2] / img_w * w
        scaled[:, 1] = boxes[:, 1] / img_h * h
        scaled[:, 3] = boxes[:, 3] / img_h * h
        wmin, wmax = torch.floor(scaled[:, 0]).int(), torch.ceil(scaled[:, 2]).int()
        hmin, hmax = torch.floor(scaled[:, 1]).int(), torch.ceil(scaled[:, 3]).int()
        area = 1.0 / (hmax.view(1, -1) + 1 - hmin.view(1, -1)) / (wmax.view(1, -1) + 1 - wmin.view(1, -1))
        for j in range(len(boxes)):
            cells = mask_fg[i][hmin[j]:hmax[j] + 1, wmin[j]:wmax[j] + 1]
            mask_fg[i][hmin[j]:hmax[j] + 1, wmin[j]:wmax[j] + 1] = torch.maximum(cells, area[0][j].to(dtype))
        mask_bg[i] = torch.where(mask_fg[i] > 0, 0, 1)
        if torch.sum(mask_bg[i]):
            mask_bg[i] /= torch.sum(mask_bg[i])
    return mask_fg, mask_bg


def fgd_attention(preds, temp):
    """get_attention: spatial H*W*softmax(mean_c |x| / T) [N, H, W], channel C*softmax(mean_hw |x| / T) [N, C]."""
    n, c, h, w = preds.shape
    value = torch.abs(preds)
    fea_map = value.mean(axis=1, keepdim=True)
    s_att = (h * w * F.softmax((fea_map / temp).view(n, -1), dim=1)).view(n, h, w)
    channel_map = value.mean(axis=2, keepdim=False).mean(axis=2, keepdim=False)
    c_att = c * F.softmax(channel_map / temp, dim=1)
    return s_att, c_att


def fgd_fea_loss(preds_s, preds_t, mask_fg, mask_bg, c_t, s_t):
    """get_fea_loss: both maps times sqrt of the teacher's attentions and of each mask; summed squares / N."""
    mask_fg, mask_bg = mask_fg.unsqueeze(dim=1), mask_bg.unsqueeze(dim=1)
    c_t = c_t.unsqueeze(dim=-1).unsqueeze(dim=-1)
    s_t = s_t.unsqueeze(dim=1)
    fea_t = torch.mul(torch.mul(preds_t, torch.sqrt(s_t)), torch.sqrt(c_t))
    fea_s = torch.mul(torch.mul(preds_s, torch.sqrt(s_t)), torch.sqrt(c_t))
    fg = F.mse_loss(torch.mul(fea_s, torch.sqrt(mask_fg)), torch.mul(fea_t, torch.sqrt(mask_fg)), reduction="sum") / len(mask_fg)
    bg = F.mse_loss(torch.mul(fea_s, torch.sqrt(mask_bg)), torch.mul(fea_t, torch.sqrt(mask_bg)), reduction="sum") / len(mask_bg)
    return fg, bg


def fgd_mask_loss(c_s, c_t, s_s, s_t):
    """get_mask_loss: L1 of the channel and of the spatial attentions, each / N."""
    return torch.sum(torch.abs(c_s - c_t)) / len(c_s) + torch.sum(torch.abs(s_s - s_t)) / len(s_s)


def fgd_spatial_pool(x, p, prefix):
    """spatial_pool: context [N, C, 1, 1] = x [N, 1, C, HW] @ softmax_hw(conv_mask(x)) [N, 1, HW, 1]."""
    batch, channel, height, width = x.size()
    input_x = x.view(batch, channel, height * width).unsqueeze(1)
    context_mask = F.conv2d(x, p[prefix + ".weight"], p[prefix + ".bias"]).view(batch, 1, height * width)
    context_mask = F.softmax(context_mask, dim=2).unsqueeze(-1)
    return torch.matmul(input_x, context_mask).view(batch, channel, 1, 1)


def fgd_channel_add(x, p, prefix):
    """channel_add_conv: conv1x1 C -> C/2, LayerNorm([C/2, 1, 1]), ReLU, conv1x1 C/2 -> C."""
    y = F.conv2d(x, p[prefix + ".0.weight"], p[prefix + ".0.bias"])
    y = F.layer_norm(y, list(y.shape[1:]), p[prefix + ".1.weight"], p[prefix + ".1.bias"], eps=1e-5)
    return F.conv2d(F.relu(y), p[prefix + ".3.weight"], p[prefix + ".3.bias"])


def fgd_rela_loss(preds_s, preds_t, p, level):
    """get_rela_loss: each map plus its GcBlock's channel term; summed squares / N."""
    pre = f"method.levels.{level}."
    out_s = preds_s + fgd_channel_add(fgd_spatial_pool(preds_s, p, pre + "conv_mask_s"), p, pre + "channel_add_conv_s")
    out_t = preds_t + fgd_channel_add(fgd_spatial_pool(preds_t, p, pre + "conv_mask_t"), p, pre + "channel_add_conv_t")
    return F.mse_loss(out_s, out_t, reduction="sum") / len(out_s)


def gt_boxes(p):
    """The distiller's gt_bboxes per image: the first box_counts[i] rows, crowd boxes left out (mmdet's gt_bboxes_ignore)."""
    out = []
    for i in range(p["boxes"].shape[0]):
        k = int(p["box_counts"][i])
        keep = p["box_crowd"][i, :k] == 0
        out.append(p["boxes"][i, :k][keep])
    return out


def fgd(p, epoch, levels, temp=0.8, alpha=1.6e-3, beta=8e-4, gamma=8e-4, lam=8e-6):
    boxes = gt_boxes(p)
    shapes = [(int(r[0]), int(r[1])) for r in p["image_sizes"]]
    fg = bg = att = rela = 0
    for i, tap in enumerate(levels):
        preds_s, preds_t = p["student." + tap], p["teacher." + tap]
        if f"method.levels.{i}.align.weight" in p:
            preds_s = F.conv2d(preds_s, p[f"method.levels.{i}.align.weight"], p[f"method.levels.{i}.align.bias"])
        n, c, h, w = preds_s.shape
        s_t, c_t = fgd_attention(preds_t, temp)
        s_s, c_s = fgd_attention(preds_s, temp)
        mask_fg, mask_bg = fgd_masks(boxes, shapes, n, h, w, preds_s.dtype)
        f, b = fgd_fea_loss(preds_s, preds_t, mask_fg, mask_bg, c_t, s_t)
        fg, bg = fg + f, bg + b
        att = att + fgd_mask_loss(c_s, c_t, s_s, s_t)
        rela = rela + fgd_rela_loss(preds_s, preds_t, p, i)
    return {"fgd_fg": alpha * fg, "fgd_bg": beta * bg, "fgd_att": gamma * att, "fgd_glob": lam * rela}


# ---------------------------------------------------------------------------------------------- MGD, CWD per level


def mgd(p, epoch, levels, alpha=2e-5):
    total = 0
    for i, tap in enumerate(levels):
        preds_s, preds_t = p["student." + tap], p["teacher." + tap]
        if f"method.aligns.{i}.weight" in p:
            preds_s = F.conv2d(preds_s, p[f"method.aligns.{i}.weight"], p[f"method.aligns.{i}.bias"])
        masked = torch.mul(preds_s, p[f"random.mask.{i}"])
        new = F.conv2d(masked, p[f"method.generations.{i}.0.weight"], p[f"method.generations.{i}.0.bias"], padding=1)
        new = F.conv2d(F.relu(new), p[f"method.generations.{i}.2.weight"], p[f"method.generations.{i}.2.bias"], padding=1)
        total = total + F.mse_loss(new, preds_t, reduction="sum") / preds_t.shape[0] * alpha
    return {"mgd": total}


def cwd(p, epoch, levels, tau=1.0, weight=5.0):
    total = 0
    for i, tap in enumerate(levels):
        preds_s, preds_t = p["student." + tap], p["teacher." + tap]
        n, c, h, w = preds_s.shape
        if f"method.aligns.{i}.weight" in p:
            preds_s = F.conv2d(preds_s, p[f"method.aligns.{i}.weight"], p[f"method.aligns.{i}.bias"])
        softmax_t = F.softmax(preds_t.reshape(-1, w * h) / tau, dim=1)
        loss = torch.sum(-softmax_t * F.log_softmax(preds_s.reshape(-1, w * h) / tau, dim=1)) * tau ** 2
        total = total + weight * loss / (c * n)
    return {"cwd": total}


def cos_attn_no(x):
    """Cos_Attn_no.forward: [B, HW, HW] = bmm(x^T, x) / bmm(|x_i|, |x_j|)."""
    m_batchsize, c, width, height = x.size()
    proj_query = x.view(m_batchsize, -1, width * height).permute(0, 2, 1)
    proj_key = x.view(m_batchsize, -1, width * height)
    q_norm = proj_query.norm(2, dim=2)
    nm = torch.bmm(q_norm.view(m_batchsize, width * height, 1), q_norm.view(m_batchsize, 1, width * height))
    energy = torch.bmm(proj_query, proj_key)
    return energy / nm


def skd_det(p, epoch, pair_taps, logit_taps, temperature=1.0):
    pair = sum(F.mse_loss(cos_attn_no(p["student." + t]), cos_attn_no(p["teacher." + t])) for t in pair_taps)
    pixel = sum(F.kl_div(F.log_softmax(p["student." + t] / temperature, dim=1), F.softmax(p["teacher." + t] / temperature, dim=1))
                * temperature * temperature for t in logit_taps)
    return {"pair": pair, "pixel": pixel}


# ---------------------------------------------------------------------------------------------- cases


def det_inputs(b, k, boxes, crowd, sizes):
    """A detector's outputs [b, L, K + 5] for both nets (L: the scene levels of the largest image size; class logits,
    non-negative distances as the ReLU gives, centerness logits) and the padded box tensors."""
    m = max(1, max(len(x) for x in boxes))
    t = torch.zeros(b, m, 4, dtype=torch.float64)
    labels = torch.zeros(b, m, dtype=torch.int64)
    crowds = torch.zeros(b, m, dtype=torch.int64)
    for i, (bx, cr) in enumerate(zip(boxes, crowd)):
        if bx:
            t[i, :len(bx)] = torch.tensor(bx, dtype=torch.float64)
            crowds[i, :len(cr)] = torch.tensor(cr, dtype=torch.int64)
            labels[i, :len(bx)] = torch.randint(0, k, (len(bx),))
    height, width = max(h for h, _ in sizes), max(w for _, w in sizes)
    locations = sum(h * w for h, w in level_sizes(height, width, SCENE_STRIDES))

    def outputs(scale):
        return torch.cat([rand(b, locations, k, scale=2 * scale, shift=-1.0), f32(torch.rand(b, locations, 4, dtype=torch.float64) * 4 * scale),
                          rand(b, locations, 1, scale=scale)], 2)
    return {"student.logits": outputs(1.0), "teacher.logits": outputs(2.0),
            "boxes": f32(t), "box_labels": labels, "box_crowd": crowds,
            "box_counts": torch.tensor([len(x) for x in boxes], dtype=torch.int64),
            "image_sizes": torch.tensor(sizes, dtype=torch.int64)}


def task_terms(p):
    """The detection task's weighted terms (weight 1) on the file's outputs and boxes, as `distill check` adds them."""
    sizes = p["image_sizes"].tolist()
    images = [(p["boxes"][i, :n].float(), p["box_labels"][i, :n], p["box_crowd"][i, :n] != 0) for i, n in enumerate(p["box_counts"].tolist())]
    _, labels, regs, _ = assign(images, max(h for h, _ in sizes), max(w for _, w in sizes), SCENE_STRIDES, SCENE_RANGES, 1.5)
    focal, box, ctr, _, _ = fcos_loss(p["student.logits"], labels, regs, "giou")
    return {"focal": focal, "box": box, "centerness": ctr}


def with_task(fn):
    """A method's reference preceded by the task's terms, as a training step orders them."""
    def step(p, epoch, **kw):
        return task_terms(p) | fn(p, epoch, **kw)
    return step


def conv_params(prefix, cin, cout, k, scale=1.0):
    return {f"method.{prefix}.weight": rand(cout, cin, k, k, scale=scale / math.sqrt(cin * k * k)),
            f"method.{prefix}.bias": rand(cout, scale=0.1)}


def fgd_level_params(i, cs, c):
    """One level's parameters, every one non-zero (the official init zeroes the last convs; a zero there would leave
    the first conv and the LayerNorm without gradient, so the case sets them all)."""
    p = conv_params(f"levels.{i}.align", cs, c, 1) if cs != c else {}
    for side in ("s", "t"):
        p |= conv_params(f"levels.{i}.conv_mask_{side}", c, 1, 1, scale=2.0)
        p |= conv_params(f"levels.{i}.channel_add_conv_{side}.0", c, c // 2, 1)
        p[f"method.levels.{i}.channel_add_conv_{side}.1.weight"] = f32(1 + 0.2 * torch.randn(c // 2, 1, 1, dtype=torch.float64))
        p[f"method.levels.{i}.channel_add_conv_{side}.1.bias"] = rand(c // 2, 1, 1, scale=0.1)
        p |= conv_params(f"levels.{i}.channel_add_conv_{side}.3", c // 2, c, 1, scale=0.5)
    return p


def check_hand_values():
    """methods.md's hand-derived FGD values: the 4 x 4 mask of box (8, 8, 40, 24) in a 64 x 64 image, the attentions."""
    fg, bg = fgd_masks([torch.tensor([[8.0, 8.0, 40.0, 24.0]])], [(64, 64)], 1, 4, 4, torch.float64)
    assert torch.allclose(fg[0, :3, :], torch.full((3, 4), 1 / 12, dtype=torch.float64), rtol=1e-7) and fg[0, 3].sum() == 0
    assert torch.equal(bg[0, 3], torch.full((4,), 0.25, dtype=torch.float64)) and bg[0, :3].sum() == 0
    s, c = fgd_attention(torch.tensor([[[[1.0, 3.0]], [[1.0, 1.0]]]], dtype=torch.float64), 0.5)
    assert torch.allclose(s.reshape(-1), torch.tensor([0.238406, 1.761594], dtype=torch.float64), atol=1e-6)
    assert torch.allclose(c.reshape(-1), torch.tensor([1.761594, 0.238406], dtype=torch.float64), atol=1e-6)


def build_cases():
    torch.manual_seed(1414)
    cases = []
    levels = ["fpn.p2", "fpn.p3"]

    # FGD on two levels (8 x 8 and 4 x 4 of a 32 x 32 batch), equal channels: image 0 of 30 x 28 before padding (boxes
    # scaled by the un-padded size, as the official code does) with two overlapping boxes, a crowd box and one on the
    # border; image 1 with one box reaching the image's end. Defaults of the FCOS recipe, then T 0.5 and other weights.
    p = det_inputs(2, 3, [[[2.5, 3.1, 13.7, 17.2], [9.2, 6.4, 21.9, 20.3], [0.6, 21.5, 6.2, 29.4], [24.3, 1.2, 27.8, 9.6]], [[17.4, 10.8, 32.0, 32.0]]],
                   [[0, 0, 1, 0], [0]], [(30, 28), (32, 32)])
    for i, (h, c) in enumerate(((8, 8), (4, 8))):
        p[f"student.{levels[i]}"] = rand(2, c, h, h)
        p[f"teacher.{levels[i]}"] = rand(2, c, h, h, scale=1.5)
        p |= fgd_level_params(i, c, c)
    cases.append(("fgd_two_levels_fcos_defaults", "fgd", {}, p, fgd, {"levels": levels}))
    cases.append(("fgd_two_levels_temp_0_5", "fgd", {"temperature": 0.5, "alpha_fgd": 1e-3, "beta_fgd": 5e-4, "gamma_fgd": 5e-4, "lambda_fgd": 5e-6}, p, fgd,
                  {"levels": levels, "temp": 0.5, "alpha": 1e-3, "beta": 5e-4, "gamma": 5e-4, "lam": 5e-6}))

    # FGD with an align conv (4 -> 8 channels), named taps, an image without boxes (background 1 / (H W) everywhere).
    p = det_inputs(2, 2, [[[4.2, 4.7, 19.1, 12.3]], []], [[0], []], [(24, 24), (24, 20)])
    p["student.fpn.p3"] = rand(2, 4, 6, 6)
    p["teacher.fpn.p3"] = rand(2, 8, 6, 6, scale=2.0)
    p |= fgd_level_params(0, 4, 8)
    cases.append(("fgd_align_and_an_image_without_boxes", "fgd", {"student_taps": ["fpn.p3"], "teacher_taps": ["fpn.p3"]}, p, fgd, {"levels": ["fpn.p3"]}))

    # MGD's detection preset on two levels (spatial masks at 0.65, alpha 2e-5), level 1 through an align conv.
    p = det_inputs(2, 3, [[[2.0, 2.0, 10.0, 10.0]], [[5.0, 5.0, 20.0, 30.0]]], [[0], [0]], [(32, 32), (32, 32)])
    for i, (h, cs) in enumerate(((8, 6), (4, 4))):
        p[f"student.{levels[i]}"] = rand(2, cs, h, h)
        p[f"teacher.{levels[i]}"] = rand(2, 6, h, h)
        if cs != 6:
            p |= conv_params(f"aligns.{i}", cs, 6, 1)
        p |= conv_params(f"generations.{i}.0", 6, 6, 3) | conv_params(f"generations.{i}.2", 6, 6, 3)
        p[f"random.mask.{i}"] = torch.where(torch.rand(2, 1, h, h) > 1 - 0.65, 0, 1).to(torch.float64)
    opts = {"student_taps": levels, "teacher_taps": levels, "mask": "spatial", "mask_ratio": 0.65, "alpha": 2e-5}
    cases.append(("mgd_fpn_levels", "mgd", opts, p, mgd, {"levels": levels}))

    # CWD's detection preset (cross-entropy form, tau 1, weight 5) on two levels, level 1 through an align conv.
    p = det_inputs(2, 3, [[[2.0, 2.0, 10.0, 10.0]], [[5.0, 5.0, 20.0, 30.0]]], [[0], [0]], [(32, 32), (32, 32)])
    for i, (h, cs) in enumerate(((8, 6), (4, 4))):
        p[f"student.{levels[i]}"] = rand(2, cs, h, h, scale=2.0)
        p[f"teacher.{levels[i]}"] = rand(2, 6, h, h, scale=3.0)
        if cs != 6:
            p |= conv_params(f"aligns.{i}", cs, 6, 1)
    opts = {"student_taps": levels, "teacher_taps": levels, "tau": 1, "weight": 5, "form": "ce"}
    cases.append(("cwd_fpn_levels_ce", "cwd", opts, p, cwd, {"levels": levels}))

    # SKD on FCOS with its defaults (every FPN level the file gives, cls_logits.pN of the same levels): student maps of
    # 6 channels against the teacher's 8 (the similarity matrices need the same H x W only), 3 classes.
    p = det_inputs(2, 3, [[[2.0, 2.0, 10.0, 10.0]], [[5.0, 5.0, 20.0, 30.0]]], [[0], [0]], [(32, 32), (32, 32)])
    for tap, h in (("p2", 4), ("p3", 2)):
        p[f"student.fpn.{tap}"] = rand(2, 6, h, h)
        p[f"teacher.fpn.{tap}"] = rand(2, 8, h, h, scale=1.5)
        p[f"student.cls_logits.{tap}"] = rand(2, 3, h, h, scale=2.0)
        p[f"teacher.cls_logits.{tap}"] = rand(2, 3, h, h, scale=3.0)
    cases.append(("skd_det_fcos_defaults", "skd_det", {}, p, skd_det, {"pair_taps": levels, "logit_taps": ["cls_logits.p2", "cls_logits.p3"]}))
    cases.append(("skd_det_temperature_2_pair_weight_0_5", "skd_det", {"temperature": 2, "pair_weight": 0.5}, p,
                  lambda q, e: {"pair": skd_det(q, e, levels, [])["pair"] * 0.5, "pixel": skd_det(q, e, [], ["cls_logits.p2", "cls_logits.p3"], 2.0)["pixel"]}, {}))
    return cases


def main():
    check_hand_values()
    fixture = {}
    for name, method, options, inputs, fn, kw in build_cases():
        fixture[name] = method_case(method, options, 1, inputs)
        # The outputs' gradient is the task's alone (none of these methods reads them).
        fixture[name]["expected"] = method_reference(with_task(fn), inputs, 1, kw, torch.float64)
    write_fixture("detection_methods.json", fixture)


if __name__ == "__main__":
    main()
