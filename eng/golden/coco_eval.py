#!/usr/bin/python3
"""Golden values for the detection metrics (tests/Fixtures/detection_metrics.json).

An independent re-implementation, in numpy, of pycocotools' box evaluation (COCOeval with iouType='bbox':
computeIoU/bbIou, evaluateImg, accumulate, summarize) and of the VOC devkit's Python port (voc_eval, voc_ap), written
from reading that code step by step; pycocotools itself cannot be installed here. It runs on seeded random scenes
(>= 50 images, 3 categories with ground truth and one without, crowd regions, small/medium/large objects, annotation
areas that differ from the box area, tied scores, an image with more than 100 detections of a category) and writes
the inputs with the 12 summary numbers, the per-category APs and the per-class VOC APs (area and 11-point).

    /usr/bin/python3 eng/golden/coco_eval.py
"""
import numpy as np

from golden_common import write_fixture

EPS = np.spacing(1)


class CocoParams:
    def __init__(self, cat_ids, img_ids):
        # Built as pycocotools builds them (linspace, never arange).
        self.iou_thrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.rec_thrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.max_dets = [1, 10, 100]
        self.area_rng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.area_lbl = ['all', 'small', 'medium', 'large']
        self.cat_ids = sorted(set(cat_ids))
        self.img_ids = sorted(set(img_ids))


def box_iou(dt_boxes, gt_boxes, crowd):
    """bbIou: [D, G]; no +1; a crowd ground truth divides by the detection's area only."""
    out = np.zeros((len(dt_boxes), len(gt_boxes)))
    for g, G in enumerate(gt_boxes):
        ga = G[2] * G[3]
        for d, D in enumerate(dt_boxes):
            da = D[2] * D[3]
            w = min(D[2] + D[0], G[2] + G[0]) - max(D[0], G[0])
            if w <= 0:
                continue
            h = min(D[3] + D[1], G[3] + G[1]) - max(D[1], G[1])
            if h <= 0:
                continue
            inter = w * h
            union = da if crowd[g] else da + ga - inter
            out[d, g] = inter / union
    return out


def coco_evaluate(p, gts, dts):
    """gts: dicts {id, image_id, category_id, bbox, area, iscrowd}; dts: dicts {image_id, category_id, bbox, score}
    (ids 1..n, area w*h and iscrowd 0 given here as loadRes gives them). Returns (stats[12], precision, recall)."""
    for i, d in enumerate(dts):
        d['id'] = i + 1
        d['area'] = d['bbox'][2] * d['bbox'][3]
        d['iscrowd'] = 0
    for g in gts:
        g['ignore'] = bool(g['iscrowd'])
    by_gt, by_dt = {}, {}
    for g in gts:
        by_gt.setdefault((g['image_id'], g['category_id']), []).append(g)
    for d in dts:
        by_dt.setdefault((d['image_id'], d['category_id']), []).append(d)

    def compute_iou(img, cat):
        gt, dt = by_gt.get((img, cat), []), by_dt.get((img, cat), [])
        if len(gt) == 0 and len(dt) == 0:
            return []
        order = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in order][:p.max_dets[-1]]
        if len(gt) == 0 or len(dt) == 0:
            return []
        return box_iou([d['bbox'] for d in dt], [g['bbox'] for g in gt], [int(g['iscrowd']) for g in gt])

    ious = {(i, c): compute_iou(i, c) for i in p.img_ids for c in p.cat_ids}

    def evaluate_img(img, cat, rng, max_det):
        gt, dt = by_gt.get((img, cat), []), by_dt.get((img, cat), [])
        if len(gt) == 0 and len(dt) == 0:
            return None
        g_ignore = [1 if (g['ignore'] or g['area'] < rng[0] or g['area'] > rng[1]) else 0 for g in gt]
        gt_order = np.argsort(g_ignore, kind='mergesort')
        gt = [gt[i] for i in gt_order]
        g_ig = np.array([g_ignore[i] for i in gt_order])
        dt_order = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in dt_order[:max_det]]
        crowd = [int(g['iscrowd']) for g in gt]
        m_iou = ious[img, cat][:, gt_order] if len(ious[img, cat]) > 0 else ious[img, cat]
        T, G, D = len(p.iou_thrs), len(gt), len(dt)
        gtm, dtm, dt_ig = np.zeros((T, G)), np.zeros((T, D)), np.zeros((T, D))
        if len(m_iou) != 0:
            for ti, t in enumerate(p.iou_thrs):
                for di, d in enumerate(dt):
                    best, m = min([t, 1 - 1e-10]), -1
                    for gi in range(G):
                        if gtm[ti, gi] > 0 and not crowd[gi]:
                            continue
                        if m > -1 and g_ig[m] == 0 and g_ig[gi] == 1:
                            break
                        if m_iou[di, gi] < best:
                            continue
                        best, m = m_iou[di, gi], gi
                    if m == -1:
                        continue
                    dt_ig[ti, di] = g_ig[m]
                    dtm[ti, di] = gt[m]['id']
                    gtm[ti, m] = d['id']
        outside = np.array([d['area'] < rng[0] or d['area'] > rng[1] for d in dt]).reshape((1, D))
        dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(outside, T, 0)))
        return {'scores': [d['score'] for d in dt], 'dtm': dtm, 'dt_ig': dt_ig, 'g_ig': g_ig}

    # evalImgs ordered category, area range, image (as COCOeval.evaluate lists them).
    evals = [evaluate_img(i, c, a, p.max_dets[-1]) for c in p.cat_ids for a in p.area_rng for i in p.img_ids]

    T, R, K, A, M = len(p.iou_thrs), len(p.rec_thrs), len(p.cat_ids), len(p.area_rng), len(p.max_dets)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    I0, A0 = len(p.img_ids), len(p.area_rng)
    for k in range(K):
        for a in range(A):
            for m, max_det in enumerate(p.max_dets):
                E = [evals[k * A0 * I0 + a * I0 + i] for i in range(I0)]
                E = [e for e in E if e is not None]
                if len(E) == 0:
                    continue
                scores = np.concatenate([e['scores'][:max_det] for e in E])
                order = np.argsort(-scores, kind='mergesort')
                dtm = np.concatenate([e['dtm'][:, :max_det] for e in E], axis=1)[:, order]
                dt_ig = np.concatenate([e['dt_ig'][:, :max_det] for e in E], axis=1)[:, order]
                g_ig = np.concatenate([e['g_ig'] for e in E])
                npig = np.count_nonzero(g_ig == 0)
                if npig == 0:
                    continue
                tps = np.logical_and(dtm, np.logical_not(dt_ig))
                fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
                tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                    nd = len(tp)
                    rc = tp / npig
                    pr = (tp / (fp + tp + EPS)).tolist()
                    q = [0.0] * R
                    recall[t, k, a, m] = rc[-1] if nd else 0
                    for i in range(nd - 1, 0, -1):
                        if pr[i] > pr[i - 1]:
                            pr[i - 1] = pr[i]
                    for ri, pi in enumerate(np.searchsorted(rc, p.rec_thrs, side='left')):
                        if pi >= nd:
                            break
                        q[ri] = pr[pi]
                    precision[t, :, k, a, m] = np.array(q)

    def summarize(ap, iou_thr=None, area='all', max_dets=100):
        aind = [i for i, lbl in enumerate(p.area_lbl) if lbl == area]
        mind = [i for i, md in enumerate(p.max_dets) if md == max_dets]
        s = precision if ap else recall
        if iou_thr is not None:
            s = s[np.where(iou_thr == p.iou_thrs)[0]]
        s = s[:, :, :, aind, mind] if ap else s[:, :, aind, mind]
        return -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))

    stats = [summarize(1), summarize(1, .5), summarize(1, .75),
             summarize(1, area='small'), summarize(1, area='medium'), summarize(1, area='large'),
             summarize(0, max_dets=1), summarize(0, max_dets=10), summarize(0),
             summarize(0, area='small'), summarize(0, area='medium'), summarize(0, area='large')]
    return stats, precision, recall


def per_category(p, precision):
    """AP, AP50, AP75 of each category (area all, 100 detections); -1 without ground truth."""
    out = {}
    for k, c in enumerate(p.cat_ids):
        vals = []
        for sel in (slice(None), [0], [5]):
            s = precision[sel, :, k, 0, -1]
            vals.append(-1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1])))
        out[str(c)] = vals
    return out


def voc_ap(rec, prec, use_07_metric):
    if use_07_metric:
        ap = 0.
        for t in np.arange(0., 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.
        return float(ap)
    mrec = np.concatenate(([0.], rec, [1.]))
    mpre = np.concatenate(([0.], prec, [0.]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def voc_eval(gts, dts, cls, use_07_metric):
    """gts: {image: [(x1, y1, x2, y2, cls, difficult)]}; dts: [(image, x1, y1, x2, y2, score, cls)] (voc_eval for one class)."""
    recs, npos = {}, 0
    for img, objs in gts.items():
        R = [o for o in objs if o[4] == cls]
        bbox = np.array([o[:4] for o in R], dtype=float).reshape(-1, 4)
        difficult = np.array([o[5] for o in R], dtype=bool)
        npos += int(np.sum(~difficult))
        recs[img] = {'bbox': bbox, 'difficult': difficult, 'det': [False] * len(R)}
    if npos == 0:
        return -1.0
    mine = [d for d in dts if d[6] == cls]
    image_ids = [d[0] for d in mine]
    confidence = np.array([d[5] for d in mine], dtype=float)
    BB = np.array([d[1:5] for d in mine], dtype=float).reshape(-1, 4)
    order = np.argsort(-confidence, kind='mergesort')  # stable (the devkit's port leaves ties to quicksort)
    BB = BB[order, :]
    image_ids = [image_ids[x] for x in order]
    nd = len(image_ids)
    tp, fp = np.zeros(nd), np.zeros(nd)
    for d in range(nd):
        R = recs[image_ids[d]]
        bb = BB[d, :]
        ovmax = -np.inf
        BBGT = R['bbox']
        if BBGT.size > 0:
            ixmin = np.maximum(BBGT[:, 0], bb[0])
            iymin = np.maximum(BBGT[:, 1], bb[1])
            ixmax = np.minimum(BBGT[:, 2], bb[2])
            iymax = np.minimum(BBGT[:, 3], bb[3])
            iw = np.maximum(ixmax - ixmin + 1., 0.)
            ih = np.maximum(iymax - iymin + 1., 0.)
            inters = iw * ih
            uni = ((bb[2] - bb[0] + 1.) * (bb[3] - bb[1] + 1.) +
                   (BBGT[:, 2] - BBGT[:, 0] + 1.) * (BBGT[:, 3] - BBGT[:, 1] + 1.) - inters)
            overlaps = inters / uni
            ovmax = np.max(overlaps)
            jmax = np.argmax(overlaps)
        if ovmax > 0.5:
            if not R['difficult'][jmax]:
                if not R['det'][jmax]:
                    tp[d] = 1.
                    R['det'][jmax] = 1
                else:
                    fp[d] = 1.
        else:
            fp[d] = 1.
    fp = np.cumsum(fp)
    tp = np.cumsum(tp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return voc_ap(rec, prec, use_07_metric)


def random_scene(seed, n_images=60, size=400):
    """Ground truth with all three area ranges, crowd regions and annotation areas below the box area; noisy,
    duplicated and spurious detections with scores on a 0.001 grid (ties), one image with 130 of one category."""
    rng = np.random.RandomState(seed)
    cats = [1, 3, 7]          # with ground truth
    det_only = 9              # a category with detections only
    img_ids = [int(i) for i in rng.permutation(np.arange(100, 100 + 3 * n_images, 3))]
    gts, dts = [], []
    ann_id = 1
    for img in img_ids:
        for _ in range(rng.randint(0, 7)):
            side = float(rng.choice([rng.uniform(6, 30), rng.uniform(33, 95), rng.uniform(100, 200)]))
            w = round(side * rng.uniform(0.6, 1.4), 2)
            h = round(side * rng.uniform(0.6, 1.4), 2)
            x = round(rng.uniform(0, size - w), 2)
            y = round(rng.uniform(0, size - h), 2)
            crowd = int(rng.rand() < 0.1)
            area = round(w * h * rng.uniform(0.6, 1.0), 3)
            cat = int(rng.choice(cats))
            gts.append({'id': ann_id, 'image_id': img, 'category_id': cat, 'bbox': [x, y, w, h], 'area': area,
                        'iscrowd': crowd, 'difficult': int(rng.rand() < 0.1)})
            ann_id += 1
            for _ in range(rng.randint(0, 4)):  # 0-3 detections near each object, some of another category
                j = rng.normal(0, 0.08 * side, size=4)
                dc = cat if rng.rand() < 0.85 else int(rng.choice(cats + [det_only]))
                dts.append({'image_id': img, 'category_id': dc,
                            'bbox': [round(x + j[0], 2), round(y + j[1], 2), round(max(1.0, w + j[2]), 2),
                                     round(max(1.0, h + j[3]), 2)],
                            'score': round(float(rng.uniform(0.05, 1.0)), 3)})
        for _ in range(rng.randint(0, 4)):  # spurious
            w, h = round(rng.uniform(4, 150), 2), round(rng.uniform(4, 150), 2)
            dts.append({'image_id': img, 'category_id': int(rng.choice(cats + [det_only])),
                        'bbox': [round(rng.uniform(0, size - w), 2), round(rng.uniform(0, size - h), 2), w, h],
                        'score': round(float(rng.uniform(0.0, 0.7)), 3)})
    crowded = img_ids[0]
    for _ in range(130):
        w, h = round(rng.uniform(10, 60), 2), round(rng.uniform(10, 60), 2)
        dts.append({'image_id': crowded, 'category_id': 3,
                    'bbox': [round(rng.uniform(0, size - w), 2), round(rng.uniform(0, size - h), 2), w, h],
                    'score': round(float(rng.uniform(0.0, 1.0)), 3)})
    gts.append({'id': ann_id, 'image_id': crowded, 'category_id': 3, 'bbox': [50.0, 60.0, 40.0, 30.0], 'area': 1100.0,
                'iscrowd': 0, 'difficult': 0})
    perm = rng.permutation(len(dts))  # result files are in no particular order
    dts = [dts[i] for i in perm]
    return cats + [det_only], img_ids, gts, dts


def case(seed):
    cat_ids, img_ids, gts, dts = random_scene(seed)
    p = CocoParams(cat_ids, img_ids)
    stats, precision, _ = coco_evaluate(p, [dict(g) for g in gts], [dict(d) for d in dts])
    voc_gts = {i: [] for i in img_ids}
    for g in gts:
        x, y, w, h = g['bbox']
        voc_gts[g['image_id']].append((x, y, x + w, y + h, g['category_id'], bool(g['difficult'])))
    voc_dts = [(d['image_id'], d['bbox'][0], d['bbox'][1], d['bbox'][0] + d['bbox'][2], d['bbox'][1] + d['bbox'][3],
                d['score'], d['category_id']) for d in dts]
    voc = {str(c): [voc_eval(voc_gts, voc_dts, c, False), voc_eval(voc_gts, voc_dts, c, True)] for c in cat_ids}
    return {
        'categories': cat_ids,
        'images': [{'id': i, 'objects': [[g['bbox'][0], g['bbox'][1], g['bbox'][2], g['bbox'][3], g['category_id'],
                                          g['area'], g['iscrowd'], g['difficult']]
                                         for g in gts if g['image_id'] == i]} for i in img_ids],
        'detections': [[d['image_id'], d['bbox'][0], d['bbox'][1], d['bbox'][2], d['bbox'][3], d['score'],
                        d['category_id']] for d in dts],
        'stats': stats,
        'per_category': per_category(p, precision),
        'voc': voc,
    }


def main():
    p = CocoParams([1], [1])
    fixture = {
        'iou_thresholds': [float(v) for v in p.iou_thrs],
        'recall_thresholds': [float(v) for v in p.rec_thrs],
        'voc_eleven_points': [float(v) for v in np.arange(0., 1.1, 0.1)],
        'random': {str(seed): case(seed) for seed in (0, 1)},
    }
    for seed, c in fixture['random'].items():
        print(f"seed {seed}: {len(c['images'])} images, {sum(len(i['objects']) for i in c['images'])} objects, "
              f"{len(c['detections'])} detections; AP {c['stats'][0]:.6f} AP50 {c['stats'][1]:.6f} "
              f"APs/m/l {c['stats'][3]:.4f}/{c['stats'][4]:.4f}/{c['stats'][5]:.4f} VOC {c['voc']}")
    write_fixture('detection_metrics.json', fixture)


if __name__ == '__main__':
    main()
