#!/usr/bin/python3
"""Golden values for the segmentation task's loss (../shared/spec/dense.md §1.2): logits resized bilinearly to the
label size (F.interpolate, align_corners as given), then F.cross_entropy(ignore_index=255), the mean over the
non-ignored pixels; the loss and its gradient with respect to the (small) logit map, in float64. Masks hold about
a fifth ignored pixels (label 255).

Run: /usr/bin/python3 eng/golden/segmentation_task.py   (writes tests/Fixtures/segmentation_task.json)
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import enc, rand, write_fixture  # noqa: E402

torch.set_default_dtype(torch.float64)


def case(batch, classes, logit_size, mask_size, align_corners):
    logits = rand(batch, classes, *logit_size, scale=2.0).requires_grad_(True)
    masks = torch.randint(0, classes, (batch, *mask_size), dtype=torch.int64)
    masks[torch.rand(batch, *mask_size) < 0.2] = 255
    up = logits if tuple(logit_size) == tuple(mask_size) else \
        F.interpolate(logits, size=mask_size, mode="bilinear", align_corners=align_corners)
    loss = F.cross_entropy(up, masks, ignore_index=255)
    loss.backward()
    return {"logits": enc(logits), "masks": enc(masks), "align_corners": align_corners,
            "loss": loss.item(), "grad_logits": enc(logits.grad)}


def main():
    torch.manual_seed(13)
    cases = {
        "same_size": case(2, 5, (6, 7), (6, 7), True),
        "upsampled_align_corners": case(2, 4, (3, 4), (9, 11), True),
        "upsampled_no_align_corners": case(3, 3, (4, 4), (8, 10), False),
    }
    write_fixture("segmentation_task.json", cases)


if __name__ == "__main__":
    main()
