#!/usr/bin/python3
"""Golden values for FCOS (src/Distill.NN/Detection/BoxOps.cs, src/Distill/Models/Detection,
src/Distill/Tasks/Detection), written by us from the official code's semantics (tianzhi0549/FCOS,
fcos_core/modeling/rpn/fcos/{fcos,loss,inference}.py, fcos_core/modeling/backbone/fpn.py,
fcos_core/layers/{iou_loss,sigmoid_focal_loss}.py) and, for the box ops, torchvision's ops/boxes.py and its CPU nms
kernel (torchvision is not installed here, so the reference ops are plain PyTorch):

* box ops: pairwise IoU and GIoU, greedy NMS (visit by decreasing score, drop a box whose IoU with a kept one is
  greater than the threshold) and class-wise NMS by the coordinate-offset trick, on random boxes;
* targets: locations (x = j*s + s//2), centre sampling (radius 1.5, region clipped to the box, strict containment),
  scale ranges (both ends inclusive), smallest (w+1)(h+1) area wins, regression targets over the stride; our crowd
  rule on top (a location that is not positive and lies inside a crowd box gets label -1: no focal term);
* losses: focal (the CPU formula: log p taken directly), the +1 IoU/GIoU loss weighted by the centerness targets over
  their sum, centerness BCE over N_pos; values and gradients with respect to the output on random inputs, and a
  batch without positives;
* inference: per level sigmoid, threshold, top-k by p*c, decode with the stride, clip (continuous: [0, W], [0, H]),
  sqrt score, class-wise NMS, best N per image;
* networks: parameter counts and state_dict keys of fcos_resnet50_fpn / fcos_resnet18_fpn (80 classes), and the
  CPU-sized pair filled by models.py's deterministic rule: output and tap summaries.

Run: /usr/bin/python3 eng/golden/fcos.py
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc, write_fixture  # noqa: E402
from models import deterministic_, summary  # noqa: E402
from segmentation_models import Backbone, rule_input  # noqa: E402

INF = 100000000
SCENE_RANGES = [[-1, 12], [12, 24], [24, INF]]
COCO_RANGES = [[-1, 64], [64, 128], [128, 256], [256, 512], [512, INF]]


# ---------------------------------------------------------------- box ops (torchvision semantics)
def box_area(b):
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def box_iou(a, b):
    lt = torch.max(a[:, None, :2], b[:, :2])
    rb = torch.min(a[:, None, 2:], b[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b) - inter
    return inter / union


def generalized_box_iou(a, b):
    lt = torch.max(a[:, None, :2], b[:, :2])
    rb = torch.min(a[:, None, 2:], b[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b) - inter
    iou = inter / union
    lti = torch.min(a[:, None, :2], b[:, :2])
    rbi = torch.max(a[:, None, 2:], b[:, 2:])
    whi = (rbi - lti).clamp(min=0)
    area_i = whi[..., 0] * whi[..., 1]
    return iou - (area_i - union) / area_i


def nms(boxes, scores, thr):
    order = torch.sort(scores, descending=True, stable=True)[1].tolist()
    areas = box_area(boxes).tolist()
    b = boxes.tolist()
    suppressed = [False] * len(order)
    keep = []
    for oi, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(i)
        for j in order[oi + 1:]:
            if suppressed[j]:
                continue
            w = max(0.0, min(b[i][2], b[j][2]) - max(b[i][0], b[j][0]))
            h = max(0.0, min(b[i][3], b[j][3]) - max(b[i][1], b[j][1]))
            inter = w * h
            union = areas[i] + areas[j] - inter
            # 0 / 0 is NaN in the kernel: never greater than the threshold
            if union > 0 and inter / union > thr:
                suppressed[j] = True
    return torch.tensor(keep, dtype=torch.int64)


def batched_nms(boxes, scores, idxs, thr):
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64)
    offsets = idxs.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, thr)


def random_boxes(n, extent=60.0):
    xy = torch.rand(n, 2, dtype=torch.float64) * extent
    wh = 4 + torch.rand(n, 2, dtype=torch.float64) * 30
    return torch.cat([xy, xy + wh], 1).float().double()


def box_ops_cases():
    cases = {}
    a, b = random_boxes(7), random_boxes(5)
    cases["pairwise"] = {"a": enc(a), "b": enc(b), "iou": enc(box_iou(a, b)), "giou": enc(generalized_box_iou(a, b))}
    for name, n, thr, classes in [("nms_05", 40, 0.5, None), ("nms_03", 60, 0.3, None), ("batched_06", 60, 0.6, 3), ("batched_04", 80, 0.4, 5)]:
        boxes = random_boxes(n, 40.0)
        scores = torch.rand(n, dtype=torch.float64).float().double()
        case = {"boxes": enc(boxes), "scores": enc(scores), "threshold": thr}
        if classes is None:
            case["keep"] = enc(nms(boxes, scores, thr))
        else:
            idxs = torch.randint(0, classes, (n,))
            case["categories"] = enc(idxs)
            case["keep"] = enc(batched_nms(boxes, scores, idxs, thr))
        cases[name] = case
    return cases


# ---------------------------------------------------------------- locations and targets (official loss.py)
def compute_locations_per_level(h, w, stride):
    shifts_x = torch.arange(0, w * stride, step=stride, dtype=torch.float32)
    shifts_y = torch.arange(0, h * stride, step=stride, dtype=torch.float32)
    shift_y, shift_x = torch.meshgrid(shifts_y, shifts_x, indexing="ij")
    return torch.stack((shift_x.reshape(-1), shift_y.reshape(-1)), dim=1) + stride // 2


def level_sizes(h, w, strides):
    out = []
    for s in strides:
        hh, ww = h, w
        while s > 1:
            hh, ww, s = (hh + 1) // 2, (ww + 1) // 2, s // 2
        out.append((hh, ww))
    return out


def get_sample_region(gt, strides, num_points_per, gt_xs, gt_ys, radius):
    num_gts = gt.shape[0]
    K = len(gt_xs)
    gt = gt[None].expand(K, num_gts, 4)
    center_x = (gt[..., 0] + gt[..., 2]) / 2
    center_y = (gt[..., 1] + gt[..., 3]) / 2
    center_gt = gt.new_zeros(gt.shape)
    beg = 0
    for level, n_p in enumerate(num_points_per):
        end = beg + n_p
        stride = strides[level] * radius
        xmin = center_x[beg:end] - stride
        ymin = center_y[beg:end] - stride
        xmax = center_x[beg:end] + stride
        ymax = center_y[beg:end] + stride
        center_gt[beg:end, :, 0] = torch.where(xmin > gt[beg:end, :, 0], xmin, gt[beg:end, :, 0])
        center_gt[beg:end, :, 1] = torch.where(ymin > gt[beg:end, :, 1], ymin, gt[beg:end, :, 1])
        center_gt[beg:end, :, 2] = torch.where(xmax > gt[beg:end, :, 2], gt[beg:end, :, 2], xmax)
        center_gt[beg:end, :, 3] = torch.where(ymax > gt[beg:end, :, 3], gt[beg:end, :, 3], ymax)
        beg = end
    left = gt_xs[:, None] - center_gt[..., 0]
    right = center_gt[..., 2] - gt_xs[:, None]
    top = gt_ys[:, None] - center_gt[..., 1]
    bottom = center_gt[..., 3] - gt_ys[:, None]
    return torch.stack((left, top, right, bottom), -1).min(-1)[0] > 0


def targets_for_image(locations, boxes, classes, crowd, sizes, strides, num_points, radius):
    xs, ys = locations[:, 0], locations[:, 1]
    keep = ~crowd
    bboxes, labels = boxes[keep], classes[keep] + 1
    if bboxes.shape[0] == 0:
        label = torch.zeros(len(locations), dtype=torch.int64)
        reg = torch.zeros(len(locations), 4)
    else:
        area = (bboxes[:, 2] - bboxes[:, 0] + 1) * (bboxes[:, 3] - bboxes[:, 1] + 1)
        l = xs[:, None] - bboxes[:, 0][None]
        t = ys[:, None] - bboxes[:, 1][None]
        r = bboxes[:, 2][None] - xs[:, None]
        b = bboxes[:, 3][None] - ys[:, None]
        reg = torch.stack([l, t, r, b], dim=2)
        if radius > 0:
            inside = get_sample_region(bboxes, strides, num_points, xs, ys, radius)
        else:
            inside = reg.min(dim=2)[0] > 0
        m = reg.max(dim=2)[0]
        cared = (m >= sizes[:, [0]]) & (m <= sizes[:, [1]])
        loc_area = area[None].repeat(len(locations), 1)
        loc_area[inside == 0] = INF
        loc_area[cared == 0] = INF
        min_area, inds = loc_area.min(dim=1)
        reg = reg[range(len(locations)), inds]
        label = labels[inds]
        label[min_area == INF] = 0
    cb = boxes[crowd]
    if cb.shape[0] > 0:
        d = torch.stack([xs[:, None] - cb[:, 0][None], ys[:, None] - cb[:, 1][None], cb[:, 2][None] - xs[:, None], cb[:, 3][None] - ys[:, None]], 2)
        in_crowd = (d.min(dim=2)[0] > 0).any(dim=1)
        label[in_crowd & (label == 0)] = -1
    return label, reg


def assign(images, height, width, strides, ranges, radius):
    sizes = level_sizes(height, width, strides)
    locs = [compute_locations_per_level(h, w, s) for (h, w), s in zip(sizes, strides)]
    num_points = [len(p) for p in locs]
    ranges_t = torch.cat([torch.tensor(r, dtype=torch.float32)[None].expand(n, 2) for r, n in zip(ranges, num_points)])
    stride_t = torch.cat([torch.full((n,), float(s)) for s, n in zip(strides, num_points)])
    locations = torch.cat(locs)
    labels, regs = [], []
    for boxes, classes, crowd in images:
        label, reg = targets_for_image(locations, boxes, classes, crowd, ranges_t, strides, num_points, radius)
        labels.append(label)
        regs.append(reg / stride_t[:, None])
    return locations, torch.stack(labels), torch.stack(regs), sizes


def scene_images():
    """Image 0: five objects (two overlapping, sizes 12-46 px) and a crowd box; image 1: a crowd box inside a large
    object (85 x 75 px, where centre sampling on P4 binds); image 2: none."""
    img0 = (torch.tensor([[10, 12, 30, 30], [20, 18, 66, 60], [60, 50, 94, 92.5], [3.5, 60, 19, 80], [40, 40, 52, 52]], dtype=torch.float32),
            torch.tensor([1, 0, 2, 1, 2]), torch.tensor([False, False, False, False, False]))
    img0 = (torch.cat([img0[0], torch.tensor([[70, 5, 90, 25]], dtype=torch.float32)]), torch.cat([img0[1], torch.tensor([0])]),
            torch.cat([img0[2], torch.tensor([True])]))
    img1 = (torch.tensor([[30, 30, 50, 56], [5, 20, 90, 95]], dtype=torch.float32), torch.tensor([2, 0]), torch.tensor([True, False]))
    img2 = (torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), torch.zeros(0, dtype=torch.bool))
    return [img0, img1, img2]


def enc_images(images):
    return [{"boxes": enc(b), "labels": enc(c), "crowd": enc(k)} for b, c, k in images]


# ---------------------------------------------------------------- losses (official loss.py, iou_loss.py, focal CPU)
def focal_cpu(logits, targets, gamma=2.0, alpha=0.25):
    num_classes = logits.shape[1]
    class_range = torch.arange(1, num_classes + 1, dtype=targets.dtype).unsqueeze(0)
    t = targets.unsqueeze(1)
    p = torch.sigmoid(logits)
    term1 = (1 - p) ** gamma * torch.log(p)
    term2 = p ** gamma * torch.log(1 - p)
    return -(t == class_range).to(logits) * term1 * alpha - ((t != class_range) * (t >= 0)).to(logits) * term2 * (1 - alpha)


def iou_loss(pred, target, weight, kind):
    pl, pt, pr, pb = pred.unbind(1)
    tl, tt, tr, tb = target.unbind(1)
    target_area = (tl + tr) * (tt + tb)
    pred_area = (pl + pr) * (pt + pb)
    w_i = torch.min(pl, tl) + torch.min(pr, tr)
    g_w = torch.max(pl, tl) + torch.max(pr, tr)
    h_i = torch.min(pb, tb) + torch.min(pt, tt)
    g_h = torch.max(pb, tb) + torch.max(pt, tt)
    ac = g_w * g_h + 1e-7
    inter = w_i * h_i
    union = target_area + pred_area - inter
    ious = (inter + 1.0) / (union + 1.0)
    gious = ious - (ac - union) / ac
    losses = {"iou": -torch.log(ious), "linear_iou": 1 - ious, "giou": 1 - gious}[kind]
    return (losses * weight).sum() if weight is not None else losses.sum()


def centerness_targets(reg):
    lr = reg[:, [0, 2]]
    tb = reg[:, [1, 3]]
    return torch.sqrt((lr.min(dim=-1)[0] / lr.max(dim=-1)[0]) * (tb.min(dim=-1)[0] / tb.max(dim=-1)[0]))


def fcos_loss(output, labels, regs, kind):
    k = output.shape[2] - 5
    cls = output[..., :k].reshape(-1, k)
    box = output[..., k:k + 4].reshape(-1, 4)
    ctr = output[..., k + 4].reshape(-1)
    labels = labels.reshape(-1)
    regs = regs.reshape(-1, 4).to(output.dtype)
    pos = torch.nonzero(labels > 0).squeeze(1)
    num_pos = max(float(pos.numel()), 1.0)
    cls_loss = focal_cpu(cls, labels.int()).sum() / num_pos
    if pos.numel() > 0:
        ct = centerness_targets(regs[pos])
        reg_loss = iou_loss(box[pos], regs[pos], ct, kind) / ct.sum().item()
        ctr_loss = F.binary_cross_entropy_with_logits(ctr[pos], ct, reduction="sum") / num_pos
        return cls_loss, reg_loss, ctr_loss, pos.numel(), ct.sum().item()
    return cls_loss, box[pos].sum(), ctr[pos].sum(), 0, 0.0


def loss_images():
    """A 48 x 48 batch: image 0 three objects (one crowd), image 1 two overlapping objects."""
    img0 = (torch.tensor([[4, 6, 20, 18], [22, 10, 46, 40], [30, 2, 44, 14]], dtype=torch.float32), torch.tensor([0, 2, 1]), torch.tensor([False, False, True]))
    img1 = (torch.tensor([[10, 10, 40, 44], [14, 20, 30, 34]], dtype=torch.float32), torch.tensor([1, 1]), torch.tensor([False, False]))
    return [img0, img1]


def loss_cases(strides):
    images = loss_images()
    _, labels, regs, sizes = assign(images, 48, 48, strides, SCENE_RANGES, 1.5)
    torch.manual_seed(3)
    b, l = labels.shape
    k = 3
    base = torch.cat([torch.randn(b, l, k, dtype=torch.float64) * 2 - 1, torch.rand(b, l, 4, dtype=torch.float64) * 4,
                      torch.randn(b, l, 1, dtype=torch.float64)], 2).float().double()
    cases = {"height": 48, "width": 48, "images": enc_images(images), "output": enc(base), "labels": enc(labels), "terms": {}}
    no_pos = torch.where(labels > 0, torch.zeros_like(labels), labels)
    for name, kind, lab in [("giou", "giou", labels), ("iou", "iou", labels), ("linear_iou", "linear_iou", labels), ("no_positives", "giou", no_pos)]:
        out = base.clone().requires_grad_(True)
        cls_loss, reg_loss, ctr_loss, npos, ctsum = fcos_loss(out, lab, regs, kind)
        (cls_loss + reg_loss + ctr_loss).backward()
        case = {"kind": kind, "cls": enc(cls_loss), "reg": enc(reg_loss), "ctr": enc(ctr_loss), "positives": npos, "centerness_sum": ctsum}
        if name in ("giou", "no_positives"):
            case["grad"] = enc(out.grad)
        cases["terms"][name] = case
    return cases


# ---------------------------------------------------------------- inference (official inference.py)
def post_process(output, sizes, strides, image_sizes, th, top_n, nms_th, per_image):
    k = output.shape[2] - 5
    results = []
    for i in range(output.shape[0]):
        boxes, scores, labels = [], [], []
        beg = 0
        for (h, w), s in zip(sizes, strides):
            n = h * w
            rows = output[i, beg:beg + n]
            locs = compute_locations_per_level(h, w, s)
            beg += n
            cls = rows[:, :k].sigmoid()
            c = rows[:, k + 4].sigmoid()
            cand = cls > th
            per_cls = (cls * c[:, None])[cand]
            nz = cand.nonzero()
            loc, klass = nz[:, 0], nz[:, 1]
            reg = rows[loc, k:k + 4] * s
            pts = locs[loc]
            if per_cls.numel() > top_n:
                per_cls, idx = per_cls.topk(top_n, sorted=False)
                klass, reg, pts = klass[idx], reg[idx], pts[idx]
            det = torch.stack([pts[:, 0] - reg[:, 0], pts[:, 1] - reg[:, 1], pts[:, 0] + reg[:, 2], pts[:, 1] + reg[:, 3]], 1)
            H, W = image_sizes[i]
            det = torch.stack([det[:, 0].clamp(0, W), det[:, 1].clamp(0, H), det[:, 2].clamp(0, W), det[:, 3].clamp(0, H)], 1)
            boxes.append(det)
            scores.append(per_cls.sqrt())
            labels.append(klass)
        boxes, scores, labels = torch.cat(boxes), torch.cat(scores), torch.cat(labels)
        keep = batched_nms(boxes.double(), scores.double(), labels, nms_th)[:per_image]
        results.append({"boxes": enc(boxes[keep]), "scores": enc(scores[keep]), "labels": enc(labels[keep])})
    return results


def inference_case(sizes, strides):
    torch.manual_seed(4)
    b, k = 2, 3
    l = sum(h * w for h, w in sizes)
    out = torch.cat([torch.randn(b, l, k) * 1.5 - 3, torch.rand(b, l, 4) * 3, torch.randn(b, l, 1)], 2)
    image_sizes = [(64, 64), (50, 60)]
    params = {"threshold": 0.05, "top_n": 30, "nms": 0.6, "per_image": 20}
    return {"height": 64, "width": 64, "output": enc(out), "image_sizes": image_sizes, **params,
            "detections": post_process(out, sizes, strides, image_sizes, params["threshold"], params["top_n"], params["nms"], params["per_image"])}


# ---------------------------------------------------------------- networks (official fcos.py, fpn.py)
class Fpn(nn.Module):
    def __init__(self, in_channels, channels, first, extra):
        super().__init__()
        self.names = []
        for i, c in enumerate(in_channels):
            name = f"p{first + i}"
            self.names.append(name)
            setattr(self, "lateral_" + name, nn.Conv2d(c, channels, 1))
            setattr(self, "output_" + name, nn.Conv2d(channels, channels, 3, 1, 1))
        self.extra = extra
        if extra:
            self.p6n, self.p7n = f"p{first + len(in_channels)}", f"p{first + len(in_channels) + 1}"
            setattr(self, self.p6n, nn.Conv2d(channels, channels, 3, 2, 1))
            setattr(self, self.p7n, nn.Conv2d(channels, channels, 3, 2, 1))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=1)
                nn.init.constant_(m.bias, 0)

    def forward(self, xs, taps):
        last = getattr(self, "lateral_" + self.names[-1])(xs[-1])
        results = [getattr(self, "output_" + self.names[-1])(last)]
        for x, name in zip(xs[:-1][::-1], self.names[:-1][::-1]):
            lateral = getattr(self, "lateral_" + name)(x)
            last = lateral + F.interpolate(last, size=(int(lateral.shape[-2]), int(lateral.shape[-1])), mode="nearest")
            results.insert(0, getattr(self, "output_" + name)(last))
        names = list(self.names)
        if self.extra:
            p6 = getattr(self, self.p6n)(results[-1])
            p7 = getattr(self, self.p7n)(F.relu(p6))
            results += [p6, p7]
            names += [self.p6n, self.p7n]
        for n, r in zip(names, results):
            taps[f"fpn.{n}"] = r
        return results, names


class Head(nn.Module):
    def __init__(self, channels, classes, levels, convs, groups, ctr_on_reg):
        super().__init__()
        cls_tower, bbox_tower = [], []
        for _ in range(convs):
            cls_tower += [nn.Conv2d(channels, channels, 3, 1, 1), nn.GroupNorm(groups, channels), nn.ReLU()]
            bbox_tower += [nn.Conv2d(channels, channels, 3, 1, 1), nn.GroupNorm(groups, channels), nn.ReLU()]
        self.cls_tower = nn.Sequential(*cls_tower)
        self.bbox_tower = nn.Sequential(*bbox_tower)
        self.cls_logits = nn.Conv2d(channels, classes, 3, 1, 1)
        self.bbox_pred = nn.Conv2d(channels, 4, 3, 1, 1)
        self.centerness = nn.Conv2d(channels, 1, 3, 1, 1)
        self.scales = nn.ModuleList([Scale() for _ in range(levels)])
        self.ctr_on_reg = ctr_on_reg
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.constant_(m.bias, 0)
        nn.init.constant_(self.cls_logits.bias, -math.log((1 - 0.01) / 0.01))

    def forward(self, xs, names, taps):
        outs = []
        for l, (x, name) in enumerate(zip(xs, names)):
            ct = self.cls_tower(x)
            bt = self.bbox_tower(x)
            logits = self.cls_logits(ct)
            box = F.relu(self.scales[l](self.bbox_pred(bt)))
            ctr = self.centerness(bt if self.ctr_on_reg else ct)
            taps[f"cls_tower.{name}"], taps[f"reg_tower.{name}"], taps[f"cls_logits.{name}"] = ct, bt, logits
            b, _, h, w = logits.shape
            outs.append(torch.cat([logits, box, ctr], 1).reshape(b, -1, h * w).permute(0, 2, 1))
        return torch.cat(outs, 1)


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.FloatTensor([1.0]))

    def forward(self, x):
        return x * self.scale


class Fcos(nn.Module):
    def __init__(self, backbone, classes, first, channels, extra, convs, groups):
        super().__init__()
        self.backbone = backbone
        self.fpn = Fpn(backbone.channels[1:], channels, first, extra)
        self.head = Head(channels, classes, 3 + (2 if extra else 0), convs, groups, True)

    def forward(self, x, taps):
        layers = self.backbone(x, taps)
        feats, names = self.fpn(layers[1:], taps)
        return self.head(feats, names, taps)


def full(depth, classes=80):
    blocks, bottleneck = {18: ([2, 2, 2, 2], False), 50: ([3, 4, 6, 3], True)}[depth]
    return Fcos(Backbone(3, "torchvision", 64, [64, 128, 256, 512], blocks, bottleneck, [False, False, False]), classes, 3, 256, True, 4, 32)


def scene(widths, blocks, classes=10):
    return Fcos(Backbone(1, "conv3x3", widths[0], widths, [blocks] * 4, False, [False, False, False]), classes, 2, 32, False, 2, 8)


def main():
    torch.manual_seed(0)
    out = {"box_ops": box_ops_cases()}

    strides = [4, 8, 16]
    images = scene_images()
    targets = {}
    for name, radius in [("radius_1_5", 1.5), ("radius_0", 0.0)]:
        locations, labels, regs, sizes = assign(images, 96, 96, strides, SCENE_RANGES, radius)
        targets[name] = {"radius": radius, "labels": enc(labels), "regression": enc(regs)}
    locations, _, _, sizes = assign(images, 96, 96, strides, SCENE_RANGES, 1.5)
    out["targets"] = {"height": 96, "width": 96, "strides": strides, "ranges": SCENE_RANGES, "sizes": sizes, "locations": enc(locations),
                      "images": enc_images(images), "cases": targets}
    # a non-square input: level sizes by ceil halving (60 x 90 -> 15 x 23, 8 x 12, 4 x 6)
    _, _, _, odd = assign(images[:1], 60, 90, strides, SCENE_RANGES, 1.5)
    out["targets"]["sizes_60x90"] = odd
    out["losses"] = loss_cases(strides)
    out["inference"] = inference_case(level_sizes(64, 64, strides), strides)

    counts = {}
    for depth in (50, 18):
        model = full(depth)
        sd = model.state_dict()
        counts[f"fcos_resnet{depth}_fpn"] = {"parameters": sum(p.numel() for p in model.parameters()),
                                            "keys": [[k, list(v.shape)] for k, v in sd.items()]}
    out["counts"] = counts

    forward = {}
    for name, build in [("det_scene_teacher", lambda: scene([16, 32, 64, 128], 2)), ("det_scene_student", lambda: scene([8, 16, 32, 64], 1))]:
        model = build()
        deterministic_(model)
        model.eval()
        entry = {"parameters": sum(p.numel() for p in model.parameters()), "keys": [[k, list(v.shape)] for k, v in model.state_dict().items()], "inputs": []}
        for shape in [(1, 1, 96, 96), (2, 1, 64, 80)]:
            taps = {}
            with torch.no_grad():
                y = model(rule_input(shape), taps)
            entry["inputs"].append({"input_shape": list(shape), "output": summary(y), "taps": {k: summary(v) for k, v in taps.items()}})
        forward[name] = entry
    out["forward"] = forward
    write_fixture("fcos.json", out)


if __name__ == "__main__":
    main()
