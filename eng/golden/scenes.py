"""Independent PyTorch rendering of the segmentation scenes of dense spec §3.3 (draw order as specified there).

Prints, for base seed 1 and the test split (glyphs: all Fashion-MNIST test images), the first 8 bytes (hex) of the
SHA-256 of each pinned scene's float32 image and uint8 mask, which SceneSetTests pins.
Run: /usr/bin/python3 eng/golden/scenes.py
"""
import gzip
import hashlib

import numpy as np
import torch
import torch.nn.functional as F

ROOT = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def iou(a, b):
    (ya, xa, sa), (yb, xb, sb) = a, b
    ih = max(0, min(ya + sa, yb + sb) - max(ya, yb))
    iw = max(0, min(xa + sa, xb + sb) - max(xa, xb))
    inter = float(ih * iw)
    return inter / (sa * sa + sb * sb - inter)


def scene(glyphs, labels, seed, h=64, w=64, kmin=1, kmax=4, smin=20, smax=40):
    canvas, mask, _, _, _ = render(glyphs, labels, seed, h, w, kmin, kmax, smin, smax)
    return canvas, mask


def render(glyphs, labels, seed, h=64, w=64, kmin=1, kmax=4, smin=20, smax=40):
    """canvas, class mask, instance map (object number + 1), per object its alpha pixel count, accepted (glyph, s, y, x)."""
    g = torch.Generator().manual_seed(seed)
    level = np.float32(0.15) * torch.rand(1, generator=g).numpy()[0]
    noise = torch.randn(h, w, generator=g).numpy()
    canvas = np.clip(level + np.float32(0.05) * noise, np.float32(0), np.float32(1)).astype(np.float32)
    k = int(torch.randint(kmin, kmax + 1, (1,), generator=g))
    objects = []
    for _ in range(k):
        for _ in range(20):
            gi = int(torch.randint(0, len(glyphs), (1,), generator=g))
            s = int(torch.randint(smin, smax + 1, (1,), generator=g))
            y = int(torch.randint(0, h - s + 1, (1,), generator=g))
            x = int(torch.randint(0, w - s + 1, (1,), generator=g))
            if all(iou((o[2], o[3], o[1]), (y, x, s)) <= 0.3 for o in objects):
                objects.append((gi, s, y, x))
                break
    mask = np.zeros((h, w), np.uint8)
    instances = np.zeros((h, w), np.uint8)
    alpha_areas = []
    for n, (gi, s, y, x) in enumerate(objects):
        glyph = torch.from_numpy(glyphs[gi].astype(np.float32) / np.float32(255)).view(1, 1, 28, 28)
        v = F.interpolate(glyph, size=(s, s), mode="bilinear", align_corners=False)[0, 0].numpy()
        alpha = v > np.float32(0.125)
        canvas[y:y + s, x:x + s][alpha] = v[alpha]
        mask[y:y + s, x:x + s][alpha] = labels[gi] + 1
        instances[y:y + s, x:x + s][alpha] = n + 1
        alpha_areas.append(int(alpha.sum()))
    return canvas, mask, instances, alpha_areas, objects


def main():
    glyphs = idx(f"{ROOT}/t10k-images-idx3-ubyte.gz")
    labels = idx(f"{ROOT}/t10k-labels-idx1-ubyte.gz")
    for index in (0, 1, 1999):
        seed = 1 * 1_000_003 + 2 * 100_000 + index
        canvas, mask = scene(glyphs, labels, seed)
        print(index, hashlib.sha256(canvas.astype("<f4").tobytes()).hexdigest()[:16],
              hashlib.sha256(mask.tobytes()).hexdigest()[:16])


if __name__ == "__main__":
    main()
