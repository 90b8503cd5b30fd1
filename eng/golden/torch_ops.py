#!/usr/bin/python3
"""Golden values for Distill.Torch's op tests, computed by PyTorch 1.13 (Debian's python3-torch).

Run: /usr/bin/python3 eng/golden/torch_ops.py   (writes tests/Fixtures/torch_ops.json)

Each case records its inputs, every output, and, when some float input requires grad, the gradient
of sum(output_i * grad_output_i) with respect to each such input. Inputs whose name starts with
"buf_" (running statistics, targets) never require grad. The C# tests run the same op on the same
inputs through Distill.Torch and compare (float32: |a - b| <= 1e-6 + 1e-5 |b|; integers exactly).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_common import GradientScale, enc  # noqa: E402

torch.manual_seed(20261122)
CASES = {}


def case(name, fn, grad=True, **inputs):
    """Records fn(**inputs). fn returns a tensor or a tuple of tensors."""
    assert name not in CASES, name
    ins = {}
    for k, v in inputs.items():
        v = v.clone()
        if grad and v.is_floating_point() and not k.startswith("buf_"):
            v.requires_grad_(True)
        ins[k] = v
    recorded_inputs = {k: enc(v) for k, v in ins.items()}
    outs = fn(**ins)
    if not isinstance(outs, tuple):
        outs = (outs,)
    rec = {
        "inputs": recorded_inputs,
        "requires_grad": [k for k, v in ins.items() if v.requires_grad],
        "outputs": {f"out{i}": enc(o) for i, o in enumerate(outs)},
    }
    diff = [(i, o) for i, o in enumerate(outs) if o.requires_grad]
    if grad and diff:
        gouts = [torch.randn(o.shape, dtype=o.dtype) for _, o in diff]
        torch.autograd.backward([o for _, o in diff], gouts)
        rec["grad_outputs"] = {f"out{i}": enc(g) for (i, _), g in zip(diff, gouts)}
        rec["grads"] = {k: enc(v.grad) for k, v in ins.items() if v.requires_grad and v.grad is not None}
    CASES[name] = rec


def r(*shape):
    return torch.randn(*shape)


def seeded(seed, fn):
    def run(**kw):
        torch.manual_seed(seed)
        return fn(**kw)
    return run


# ---- factories (no inputs; random ones seeded: same libtorch generator, same numbers) ----
case("factories.arange_int", lambda: torch.arange(0, 10, 3))
case("factories.arange_float", lambda: torch.arange(0.5, 3.0, 0.25))
case("factories.linspace", lambda: torch.linspace(-1, 1, 7))
case("factories.eye", lambda: torch.eye(3, 4))
case("factories.full", lambda: torch.full((2, 3), 2.5))
case("factories.ones_int", lambda: torch.ones(2, 2, dtype=torch.int64))
case("factories.rand_seeded", seeded(7, lambda: torch.rand(3, 4)))
case("factories.randn_seeded", seeded(7, lambda: torch.randn(3, 4)))
case("factories.randint_seeded", seeded(11, lambda: torch.randint(0, 10, (6,))))
case("factories.randperm_seeded", seeded(13, lambda: torch.randperm(8)))
case("factories.generator_randn", lambda: torch.randn(5, generator=torch.Generator().manual_seed(123)))
case("factories.normal_fill", seeded(3, lambda: torch.empty(5).normal_(1.0, 2.0)))
case("factories.uniform_fill", seeded(3, lambda: torch.empty(5).uniform_(-2.0, 3.0)))

# ---- shape and indexing ----
x34 = r(3, 4)
x234 = r(2, 3, 4)
case("shape.view", lambda x: x.view(4, 3), x=x34)
case("shape.reshape_noncontiguous", lambda x: x.t().reshape(-1), x=x34)
case("shape.permute", lambda x: x.permute(2, 0, 1), x=x234)
case("shape.transpose", lambda x: x.transpose(0, 2), x=x234)
case("shape.flatten", lambda x: x.flatten(1), x=x234)
case("shape.squeeze_unsqueeze", lambda x: x.unsqueeze(1).unsqueeze(-1).squeeze(1), x=x34)
case("shape.squeeze_all", lambda x: x.squeeze(), x=r(1, 3, 1, 2))
case("shape.expand", lambda x: x.expand(3, 4, 5), x=r(4, 1))
case("shape.repeat", lambda x: x.repeat(2, 3), x=r(2, 2))
case("shape.narrow", lambda x: x.narrow(1, 1, 2), x=x34)
case("shape.slice_step", lambda x: x[:, 0:4:2], x=x34)
case("shape.select", lambda x: x.select(1, 2), x=x234)
case("shape.index_select", lambda x, buf_i: x.index_select(0, buf_i), x=x34, buf_i=torch.tensor([2, 0, 2]))
case("shape.gather", lambda x, buf_i: x.gather(1, buf_i), x=x34, buf_i=torch.tensor([[0, 3], [1, 1], [2, 0]]))
case("shape.scatter", lambda x, buf_i, s: x.scatter(1, buf_i, s), x=x34,
     buf_i=torch.tensor([[0, 3], [1, 2], [2, 0]]), s=r(3, 2))
case("shape.scatter_add", lambda x, buf_i, s: x.scatter_add(0, buf_i, s), x=x34,
     buf_i=torch.tensor([[0, 1, 2, 0], [2, 2, 1, 0]]), s=r(2, 4))
case("shape.scatter_value", lambda x, buf_i: x.scatter(1, buf_i, 0.5), x=x34, buf_i=torch.tensor([[0], [3], [1]]))
case("shape.masked_fill", lambda x, buf_m: x.masked_fill(buf_m, -1.5), x=x34, buf_m=x34 > 0.3)
case("shape.masked_select", lambda x, buf_m: x.masked_select(buf_m), x=x34, buf_m=x34 > 0)
case("shape.where", lambda buf_c, a, b: torch.where(buf_c, a, b), buf_c=x34 > 0, a=r(3, 4), b=r(1, 4))
case("shape.cat", lambda a, b: torch.cat([a, b], 1), a=r(2, 3), b=r(2, 2))
case("shape.stack", lambda a, b: torch.stack([a, b], 1), a=r(2, 3), b=r(2, 3))
case("shape.chunk", lambda x: x.chunk(3, 1), x=r(2, 7))
case("shape.split", lambda x: x.split(2, 0), x=r(5, 2))
case("shape.flip", lambda x: x.flip(0, 2), x=x234)
case("shape.pad_constant", lambda x: F.pad(x, (1, 2, 0, 1), value=0.5), x=r(1, 2, 3, 3))
case("shape.pad_reflect", lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), x=r(1, 2, 4, 4))
case("shape.pad_replicate", lambda x: F.pad(x, (1, 1, 2, 0), mode="replicate"), x=r(1, 1, 3, 3))
case("shape.contiguous_clone", lambda x: x.t().contiguous().clone() * 2, x=x34)

# ---- pointwise math ----
case("math.add_broadcast", lambda a, b: a + b, a=r(3, 1, 4), b=r(2, 4))
case("math.add_alpha", lambda a, b: torch.add(a, b, alpha=-0.5), a=r(3, 4), b=r(3, 4))
case("math.sub_mul_div", lambda a, b: (a - b) * a / (b.abs() + 1), a=r(3, 4), b=r(4))
case("math.scalar_ops", lambda a: (a + 2) * 3 - 1.5, a=r(5))
case("math.reverse_scalar_ops", lambda a: (2 - a) + 1 / (a.abs() + 1), a=r(5))
case("math.pow_scalar", lambda a: a.abs().pow(2.5), a=r(5))
case("math.pow_tensor", lambda a, b: a.abs().pow(b), a=r(5), b=r(5))
case("math.rpow", lambda a: torch.pow(2.0, a), a=r(5))
case("math.unary_chain", lambda a: a.neg().exp() + a.abs().log1p() + (a.abs() + 0.1).log() + (a.abs() + 0.1).sqrt()
     + (a.abs() + 0.1).rsqrt() + a.sigmoid() + a.tanh() + a.sign() + a.sin() + a.cos() + a.erf() + a.square()
     + a.expm1() + (a.abs() + 0.1).log2() + (a.abs() + 1).reciprocal(), a=r(6))
case("math.rounding", lambda a: torch.stack([(a * 3).floor(), (a * 3).ceil(), (a * 3).round()]), a=r(6))
case("math.minimum_maximum", lambda a, b: torch.minimum(a, b) + 2 * torch.maximum(a, b), a=r(3, 4), b=r(4))
case("math.clamp", lambda a: a.clamp(-0.5, 0.7), a=r(10))
case("math.clamp_min", lambda a: a.clamp(min=0.1), a=r(10))
case("math.matmul_2d", lambda a, b: a @ b, a=r(3, 4), b=r(4, 5))
case("math.matmul_batched_broadcast", lambda a, b: a @ b, a=r(2, 1, 3, 4), b=r(5, 4, 2))
case("math.matmul_vector", lambda a, b: a @ b, a=r(3, 4), b=r(4))
case("math.bmm", lambda a, b: torch.bmm(a, b), a=r(2, 3, 4), b=r(2, 4, 5))
case("math.einsum", lambda a, b: torch.einsum("bij,bjk->bik", a, b), a=r(2, 3, 4), b=r(2, 4, 2))
case("math.comparisons", lambda a, b: (a < b, a <= b, a > b, a >= b, a.eq(b), a.ne(b)),
     a=torch.tensor([1.0, 2.0, 3.0, 2.0]), b=torch.tensor([2.0, 2.0, 1.0, 5.0]))
case("math.logical", lambda buf_a, buf_b: (buf_a & buf_b, buf_a | buf_b, ~buf_a),
     buf_a=torch.tensor([True, False, True]), buf_b=torch.tensor([True, True, False]))
case("math.int_promotion", lambda buf_a: (buf_a + 2, buf_a * 0.5, buf_a // 2, buf_a % 3, buf_a / 2),
     buf_a=torch.tensor([-5, 3, 7]))
case("math.nan_checks", lambda buf_a: (buf_a.isnan(), buf_a.isfinite()),
     buf_a=torch.tensor([1.0, float("nan"), float("inf"), -2.0]))
case("math.atan2_remainder", lambda a, b: (torch.atan2(a, b), torch.remainder(a, b.abs() + 0.5)), a=r(5), b=r(5))


# ---- in-place updates (the optimizer's toolbox; no autograd) ----
def inplace(fn):
    def run(**kw):
        with torch.no_grad():
            return fn(**kw)
    return run


case("inplace.add_alpha", inplace(lambda p, g: p.add_(g, alpha=-0.1)), grad=False, p=r(5), g=r(5))
case("inplace.mul_scalar", inplace(lambda p: p.mul_(0.9)), grad=False, p=r(5))
case("inplace.addcmul", inplace(lambda p, a, b: p.addcmul_(a, b, value=0.01)), grad=False, p=r(5), a=r(5), b=r(5))
case("inplace.addcdiv", inplace(lambda p, a, b: p.addcdiv_(a, b.abs() + 1, value=-0.5)), grad=False, p=r(5), a=r(5), b=r(5))
case("inplace.lerp", inplace(lambda p, e: p.lerp_(e, 0.1)), grad=False, p=r(5), e=r(5))
case("inplace.copy_zero_fill", inplace(lambda p, s: torch.stack([p.copy_(s).clone(), p.zero_().clone(), p.fill_(3).clone()])),
     grad=False, p=r(4), s=r(4))
case("inplace.clamp_sqrt", inplace(lambda p: p.clamp_(min=0.2).sqrt_()), grad=False, p=r(6))

# ---- reductions ----
case("reduce.sum_all", lambda x: x.sum(), x=x234)
case("reduce.sum_dims_keepdim", lambda x: x.sum((0, 2), keepdim=True), x=x234)
case("reduce.mean_dim", lambda x: x.mean(1), x=x234)
case("reduce.std_unbiased", lambda x: x.std(1), x=x34)
case("reduce.var_biased", lambda x: x.var(0, unbiased=False, keepdim=True), x=x34)
case("reduce.std_all", lambda x: x.std(), x=x34)
case("reduce.max_dim", lambda x: x.max(1), x=x34)
case("reduce.min_dim_keepdim", lambda x: x.min(0, keepdim=True), x=x34)
case("reduce.max_all", lambda x: x.max(), x=x34)
case("reduce.amax", lambda x: x.amax((1, 2)), x=x234)
case("reduce.argmax_argmin", lambda x: (x.argmax(), x.argmax(1), x.argmin(0, keepdim=True)), x=x34)
case("reduce.topk", lambda x: x.topk(2, dim=1), x=x34)
case("reduce.topk_smallest", lambda x: x.topk(3, dim=0, largest=False), x=r(5, 2))
case("reduce.sort_descending", lambda x: x.sort(1, descending=True), x=x34)
case("reduce.cumsum", lambda x: x.cumsum(1), x=x34)
case("reduce.norm_p2_dim", lambda x: x.norm(2, dim=1), x=x34)
case("reduce.norm_p1_all", lambda x: x.norm(1), x=x34)
case("reduce.logsumexp", lambda x: x.logsumexp(1), x=x34 * 10)
case("reduce.prod", lambda x: x.prod(1), x=x34)
case("reduce.all_any", lambda buf_b: (buf_b.all(), buf_b.any(1)), buf_b=torch.tensor([[True, False], [True, True]]))

# ---- functional layers ----
img = r(2, 3, 7, 7)
case("nn.conv2d_stride_pad_bias", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), x=img, w=r(4, 3, 3, 3), b=r(4))
case("nn.conv2d_groups_dilation", lambda x, w: F.conv2d(x, w, None, padding=2, dilation=2, groups=2),
     x=r(1, 4, 6, 6), w=r(6, 2, 3, 3))
case("nn.conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     x=r(1, 3, 4, 4), w=r(3, 2, 3, 3), b=r(2))
case("nn.linear", lambda x, w, b: F.linear(x, w, b), x=r(4, 5), w=r(3, 5), b=r(3))
case("nn.batch_norm_train", lambda x, w, b, buf_m, buf_v: (F.batch_norm(x, buf_m, buf_v, w, b, True, 0.1, 1e-5), buf_m, buf_v),
     x=img, w=r(3), b=r(3), buf_m=r(3), buf_v=torch.rand(3) + 0.5)
case("nn.batch_norm_eval", lambda x, w, b, buf_m, buf_v: F.batch_norm(x, buf_m, buf_v, w, b, False, 0.1, 1e-5),
     x=img, w=r(3), b=r(3), buf_m=r(3), buf_v=torch.rand(3) + 0.5)
case("nn.layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), x=r(2, 3, 4), w=r(4), b=r(4))
case("nn.group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), x=r(2, 4, 3, 3), w=r(4), b=r(4))
act = r(12) * 4
case("nn.relu", lambda x: F.relu(x), x=act)
case("nn.relu6", lambda x: F.relu6(x), x=act)
case("nn.leaky_relu", lambda x: F.leaky_relu(x, 0.2), x=act)
case("nn.gelu", lambda x: F.gelu(x), x=act)
case("nn.gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), x=act)
case("nn.silu", lambda x: F.silu(x), x=act)
case("nn.hardswish", lambda x: F.hardswish(x), x=act)
case("nn.hardsigmoid", lambda x: F.hardsigmoid(x), x=act)
case("nn.softmax", lambda x: F.softmax(x, 1), x=x34 * 3)
case("nn.log_softmax", lambda x: F.log_softmax(x, 0), x=x34 * 3)
case("nn.max_pool2d_ceil", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), x=img)
case("nn.avg_pool2d_no_pad_count", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), x=img)
case("nn.adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), x=img)
case("nn.adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3)), x=img)
case("nn.interpolate_nearest_size", lambda x: F.interpolate(x, size=(5, 9), mode="nearest"), x=r(1, 2, 3, 4))
case("nn.interpolate_nearest_scale", lambda x: F.interpolate(x, scale_factor=2.0, mode="nearest"), x=r(1, 2, 3, 4))
case("nn.interpolate_bilinear", lambda x: F.interpolate(x, size=(6, 7), mode="bilinear", align_corners=False), x=r(1, 2, 3, 4))
case("nn.interpolate_bilinear_align", lambda x: F.interpolate(x, size=(6, 7), mode="bilinear", align_corners=True), x=r(1, 2, 3, 4))
case("nn.one_hot", lambda buf_i: F.one_hot(buf_i, 5), buf_i=torch.tensor([0, 3, 4, 1]))
case("nn.embedding", lambda w, buf_i: F.embedding(buf_i, w, padding_idx=1), w=r(5, 3), buf_i=torch.tensor([[0, 1], [4, 1]]))
case("nn.cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim=1), a=r(4, 6), b=r(4, 6))
case("nn.normalize", lambda x: F.normalize(x, p=2, dim=1), x=r(4, 6))


def attention_math(q, k, v, buf_mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    scores = scores.masked_fill(~buf_mask, float("-inf"))
    return torch.softmax(scores, -1) @ v


case("nn.attention_masked", attention_math, q=r(2, 3, 5, 4), k=r(2, 3, 6, 4), v=r(2, 3, 6, 2),
     buf_mask=torch.rand(5, 6) > 0.3)
case("nn.dropout_seeded", seeded(5, lambda x: F.dropout(x, 0.3, True)), x=r(4, 5))

# ---- losses ----
logits = r(6, 5) * 2
labels = torch.tensor([0, 4, 2, 2, 1, 3])
case("loss.cross_entropy", lambda x, buf_t: F.cross_entropy(x, buf_t), x=logits, buf_t=labels)
case("loss.cross_entropy_weight_ignore", lambda x, buf_t, buf_w: F.cross_entropy(x, buf_t, buf_w, ignore_index=2),
     x=logits, buf_t=labels, buf_w=torch.rand(5) + 0.5)
case("loss.cross_entropy_smoothing_sum", lambda x, buf_t: F.cross_entropy(x, buf_t, reduction="sum", label_smoothing=0.1),
     x=logits, buf_t=labels)
case("loss.cross_entropy_soft_targets", lambda x, buf_p: F.cross_entropy(x, buf_p),
     x=logits, buf_p=torch.softmax(r(6, 5), 1))
case("loss.cross_entropy_none_2d", lambda x, buf_t: F.cross_entropy(x, buf_t, reduction="none"),
     x=r(2, 4, 3, 3), buf_t=torch.randint(0, 4, (2, 3, 3)))
case("loss.nll", lambda x, buf_t: F.nll_loss(F.log_softmax(x, 1), buf_t), x=logits, buf_t=labels)
case("loss.kl_div_batchmean", lambda s, t: F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction="batchmean") * 16,
     s=logits, t=r(6, 5) * 2)
case("loss.kl_div_log_target_sum", lambda s, t: F.kl_div(F.log_softmax(s, 1), F.log_softmax(t, 1), reduction="sum", log_target=True),
     s=logits, t=r(6, 5))
case("loss.kl_div_none", lambda s, buf_t: F.kl_div(F.log_softmax(s, 1), buf_t, reduction="none"), s=logits,
     buf_t=torch.softmax(r(6, 5), 1))
case("loss.mse", lambda a, b: F.mse_loss(a, b), a=r(3, 4), b=r(3, 4))
case("loss.l1_sum", lambda a, b: F.l1_loss(a, b, reduction="sum"), a=r(3, 4), b=r(3, 4))
case("loss.smooth_l1_beta", lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), a=r(3, 4), b=r(3, 4))
case("loss.bce_with_logits_pos_weight", lambda x, buf_t, buf_pw: F.binary_cross_entropy_with_logits(x, buf_t, pos_weight=buf_pw),
     x=r(4, 3), buf_t=(torch.rand(4, 3) > 0.5).float(), buf_pw=torch.rand(3) + 0.5)


# ---- autograd ----
case("autograd.gradient_reversal", lambda x: GradientScale.apply(x, -0.7) * 3, x=r(5))


def gradient_penalty(x, w):
    out = torch.tanh(x @ w).sum()
    (g,) = torch.autograd.grad(out, x, create_graph=True)
    return ((g.norm(2, dim=1) - 1) ** 2).mean()


case("autograd.grad_create_graph_penalty", gradient_penalty, x=r(4, 3), w=r(3, 2))
case("shape.index_copy_", lambda x, buf_i, s: x.clone().index_copy_(0, buf_i, s), x=r(3, 4), buf_i=torch.tensor([2, 0]), s=r(2, 4))

out = {
    "generator": "eng/golden/torch_ops.py",
    "torch": torch.__version__,
    "cases": CASES,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Fixtures", "torch_ops.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {os.path.normpath(path)}", file=sys.stderr)
