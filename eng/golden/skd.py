#!/usr/bin/python3
"""Golden values for Structured KD (skd), written from the master branch of irfanICMLL/structure_knowledge_distillation:
utils/criterion.py (CriterionPixelWise, CriterionPairWiseforWholeFeatAfterPool with utils/utils.py sim_dis_compute,
CriterionAdv, CriterionAdvForG, CriterionAdditionalGP), networks/sagan_models.py (Discriminator, Self_Attn),
networks/spectral.py (SpectralNorm) and networks/kd_model.py (optimize_parameters: G forward, G backward, G step,
then D zero_grad, D(T), D(S), GP with D(x_hat), D backward, D step). Our own code following theirs line by line.

Two generalisations of their Discriminator, both documented in docs/methods/skd.md: the attention blocks take the
channels of the conv before them (their code hard-codes 256 and 512, i.e. conv_dim 64), and maps other than 65x65
get n = max(1, floor(log2 S) - 2) stride-2 convs with one attention block after the last (their forward needs 65x65).

Inputs and weights are float32 values; every expected value is computed in float64 from them (the C# tests run the
method in float64 for the comparison). Writes tests/Fixtures/skd.safetensors:
  pair65.*  the pair-wise term on 65x65 maps (3x3 nodes), student 1 channel, teacher 2, B 2: loss, grad of the student map
  d65.*     the official 65x65 layout (K 2, conv_dim 8): weights, input, the output and u, v after one and two forwards
  step.*    one training step on 8x8 logit maps (K 11, B 3, conv_dim 16): the student's terms (pixel, pair on 8x8 context maps,
            holistic) and their gradients, u and v after the G step's D forward, the D step's terms (wgan-gp: d_adv,
            d_gp, d_real, d_fake), the D parameters' gradients, u and v after the D step, and D's weights after
            torch.optim.SGD(lr 4e-4, momentum 0.9, weight decay 5e-4) steps once
  init.*    that discriminator as torch.manual_seed(8) initialises it (before the BN and gamma are perturbed)
  hinge.*   the same start with adv_loss hinge: the holistic term, d_adv and the D parameters' gradients
  check8.*, check65.*  what `distill check --method skd` must write (float32 values of the float64 reference) for the
            input files tests/Fixtures/skd_check_8x8.safetensors (the step.* maps, D and alpha plus masks [3, 32, 32]; --set
            d_conv_dim=16) and skd_check_65x65.safetensors (the official 65x65 layout, K 2, B 2, masks [2, 33, 33] to keep the
            file small; --set d_conv_dim=8):
            loss.ce (the segmentation task's term) and the three student terms, loss.total, the gradients of the total
            for the student's inputs (grad.student.logits, grad.student.context) and for D's parameters
            (grad.method.discriminator.*, from the holistic term), the D step's terms (loss.d_adv, loss.d_gp, loss.d_real,
            loss.d_fake) and the gradients of its loss (grad.own.discriminator.*). check*.rel32.<key> is the same
            reference run in float32: its largest deviation from float64 relative to the largest magnitude of the key,
            the float32 rounding the check's tolerance is reasoned from.

Run: /usr/bin/python3 eng/golden/skd.py
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dense_methods import seg_ce  # noqa: E402
from golden_common import fixtures_dir  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402


# --- networks/spectral.py: the power iteration swaps u and v with .data = (so a later backward reads the newest ones)
def l2normalize(v, eps=1e-12):
    return v / (v.norm() + eps)


class SpectralNorm(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module
        w = module.weight
        height = w.data.shape[0]
        width = w.view(height, -1).data.shape[1]
        u = nn.Parameter(w.data.new(height).normal_(0, 1), requires_grad=False)
        v = nn.Parameter(w.data.new(width).normal_(0, 1), requires_grad=False)
        u.data = l2normalize(u.data)
        v.data = l2normalize(v.data)
        w_bar = nn.Parameter(w.data)
        del self.module._parameters["weight"]
        self.module.register_parameter("weight_u", u)
        self.module.register_parameter("weight_v", v)
        self.module.register_parameter("weight_bar", w_bar)

    def forward(self, x):
        u, v, w = self.module.weight_u, self.module.weight_v, self.module.weight_bar
        height = w.data.shape[0]
        v.data = l2normalize(torch.mv(torch.t(w.view(height, -1).data), u.data))
        u.data = l2normalize(torch.mv(w.view(height, -1).data, v.data))
        sigma = u.dot(w.view(height, -1).mv(v))
        setattr(self.module, "weight", w / sigma.expand_as(w))
        return self.module.forward(x)


# --- networks/sagan_models.py
class SelfAttn(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.query_conv = nn.Conv2d(c, c // 8, 1)
        self.key_conv = nn.Conv2d(c, c // 8, 1)
        self.value_conv = nn.Conv2d(c, c, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        b, c, width, height = x.size()
        q = self.query_conv(x).view(b, -1, width * height).permute(0, 2, 1)
        k = self.key_conv(x).view(b, -1, width * height)
        attention = self.softmax(torch.bmm(q, k))
        v = self.value_conv(x).view(b, -1, width * height)
        out = torch.bmm(v, attention.permute(0, 2, 1)).view(b, c, width, height)
        return self.gamma * out + x


class Discriminator(nn.Module):
    """preprocess_GAN_mode 1 (BatchNorm2d on the input); layers created in their order (convs, last, attention, BN)."""

    def __init__(self, k, size, conv_dim):
        super().__init__()
        official = size == 65
        n = max(1, int(math.floor(math.log2(size))) - 2)
        self.n = n
        dims = [k] + [conv_dim * 2 ** i for i in range(n)]
        for i in range(n):
            setattr(self, f"l{i + 1}", nn.Sequential(SpectralNorm(nn.Conv2d(dims[i], dims[i + 1], 4, 2, 1)), nn.LeakyReLU(0.1)))
        self.last = nn.Sequential(nn.Conv2d(dims[-1], 1, 4))
        self.after = [2, 3] if official else [n - 1]
        for a, i in enumerate(self.after):
            setattr(self, f"attn{a + 1}", SelfAttn(dims[i + 1]))
        self.preprocess_additional = nn.BatchNorm2d(k)

    def forward(self, x):
        out = self.preprocess_additional(x)
        for i in range(self.n):
            out = getattr(self, f"l{i + 1}")(out)
            if i in self.after:
                out = getattr(self, f"attn{self.after.index(i) + 1}")(out)
        return [self.last(out)]


def ours(name):
    """Their state-dict key as Distill's: the SpectralNorm wrapper's ".module" level is not there."""
    return name.replace(".module.", ".")


def theirs(name):
    """Distill's key as theirs: the conv of a SpectralNorm wrapper (lN.0) sits under ".module"."""
    parts = name.split(".")
    return ".".join(parts[:2] + ["module"] + parts[2:]) if parts[0][0] == "l" and parts[0][1:].isdigit() else name


def perturb(d, g):
    """Non-trivial BN affine and attention gamma (0 at init would hide the attention), from generator g."""
    with torch.no_grad():
        d.preprocess_additional.weight.copy_(1 + 0.2 * torch.randn(d.preprocess_additional.weight.shape, generator=g))
        d.preprocess_additional.bias.copy_(0.1 * torch.randn(d.preprocess_additional.bias.shape, generator=g))
        for name, m in d.named_modules():
            if isinstance(m, SelfAttn):
                m.gamma.fill_(0.5 if name == "attn1" else -0.3)


def state(d, prefix):
    """Every parameter and buffer (float32 values) under prefix + Distill's key."""
    return {prefix + ours(k): v.detach().to(torch.float32).clone() if v.is_floating_point() else v.detach().clone() for k, v in d.state_dict().items()}


def vectors(d, prefix):
    return {prefix + ours(k): v.detach().clone() for k, v in d.state_dict().items() if k.endswith("weight_u") or k.endswith("weight_v")}


# --- utils/criterion.py and utils/utils.py
def pixel_wise(s, t):
    n, c, w, h = s.shape
    p_t = F.softmax(t.permute(0, 2, 3, 1).contiguous().view(-1, c), dim=1)
    log_q = nn.LogSoftmax(dim=1)(s.permute(0, 2, 3, 1).contiguous().view(-1, c))
    return torch.sum(-p_t * log_q) / w / h


def similarity(feat):
    tmp = ((((feat ** 2).sum(dim=1)) ** 0.5).reshape(feat.shape[0], 1, feat.shape[2], feat.shape[3]) + 1e-8).detach()
    feat = (feat / tmp).reshape(feat.shape[0], feat.shape[1], -1)
    return torch.einsum("icm,icn->imn", [feat, feat])


def pair_wise(f_s, f_t, scale=0.5):
    pw, ph = int(f_t.shape[2] * scale), int(f_t.shape[3] * scale)
    pool = nn.MaxPool2d(kernel_size=(pw, ph), stride=(pw, ph), padding=0, ceil_mode=True)
    s, t = pool(f_s), pool(f_t)
    err = ((similarity(t) - similarity(s)) ** 2) / ((t.shape[-1] * t.shape[-2]) ** 2) / t.shape[0]
    return err.sum()


def adv_d(d_out_s, d_out_t, kind):
    real, fake = d_out_t[0], d_out_s[0]
    if kind == "wgan-gp":
        return -torch.mean(real) + fake.mean()
    return torch.nn.ReLU()(1.0 - real).mean() + torch.nn.ReLU()(1.0 + fake).mean()


def gradient_penalty(d, s, t, alpha, lambda_gp):
    alpha = alpha.expand_as(t)
    interpolated = (alpha * t.data + (1 - alpha) * s.data).requires_grad_(True)
    out = d(interpolated)
    grad = torch.autograd.grad(outputs=out[0], inputs=interpolated, grad_outputs=torch.ones(out[0].size(), dtype=out[0].dtype),
                               retain_graph=True, create_graph=True, only_inputs=True)[0]
    grad = grad.view(grad.size(0), -1)
    norm = torch.sqrt(torch.sum(grad ** 2, dim=1))
    return lambda_gp * torch.mean((norm - 1) ** 2)


def f32rand(g, *shape, scale=1.0):
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(torch.float32)


def seg_masks(g, b, k, size):
    """Masks [b, size, size] of class indices with about 10% ignored pixels (255)."""
    masks = torch.randint(0, k, (b, size, size), generator=g)
    return torch.where(torch.rand(b, size, size, generator=g) < 0.1, torch.full_like(masks, 255), masks)


def write_check_input(name, inputs):
    path = os.path.join(fixtures_dir(), name)
    write_safetensors(path, {key: v.contiguous() for key, v in inputs.items()}, {"generator": "eng/golden/skd.py", "torch": torch.__version__})
    print(f"{len(inputs)} tensors -> {path} ({os.path.getsize(path)} bytes)")


def check_step(inputs, k, size, conv_dim, dtype):
    """One `distill check` step of skd at the defaults (ce 1, pixel 10, pair 0.5, holistic 0.1, wgan-gp, lambda_gp 10) in
    dtype: the task term and the student's terms, one backward (which also reaches D's parameters, as the official G
    backward does), then D's zero_grad and its step's loss on the detached maps, backward."""
    d = Discriminator(k, size, conv_dim)
    prefix = "method.discriminator."
    d.load_state_dict({theirs(key[len(prefix):]): v for key, v in inputs.items() if key.startswith(prefix)})
    d = d.to(dtype)
    d.train()
    s = inputs["student.logits"].to(dtype).requires_grad_(True)
    t = inputs["teacher.logits"].to(dtype)
    cs = inputs["student.context"].to(dtype).requires_grad_(True)
    ct = inputs["teacher.context"].to(dtype)
    terms = {"ce": seg_ce({"student.logits": s, "masks": inputs["masks"]}), "pixel": 10.0 * pixel_wise(s, t), "pair": 0.5 * pair_wise(cs, ct),
             "holistic": 0.1 * (-d(s)[0].mean())}
    total = sum(terms.values())
    total.backward()
    out = {f"loss.{name}": v.detach().reshape(()) for name, v in terms.items()}
    out["loss.total"] = total.detach().reshape(())
    out["grad.student.logits"] = s.grad
    out["grad.student.context"] = cs.grad
    params = [(name, p) for name, p in d.named_parameters() if p.requires_grad]
    out.update({"grad.method.discriminator." + ours(name): p.grad.detach().clone() for name, p in params})
    for _, p in params:
        p.grad = None
    d_out_t = d(t.detach())
    d_out_s = d(s.detach())
    d_adv = 0.1 * adv_d(d_out_s, d_out_t, "wgan-gp")
    d_gp = 0.1 * gradient_penalty(d, s, t, inputs["random.alpha"].to(dtype), 10.0)
    (d_adv + d_gp).backward()
    out.update({"loss.d_adv": d_adv.detach().reshape(()), "loss.d_gp": d_gp.detach().reshape(()),
                "loss.d_real": d_out_t[0].mean().detach().reshape(()), "loss.d_fake": d_out_s[0].mean().detach().reshape(())})
    out.update({"grad.own.discriminator." + ours(name): p.grad.detach().clone() for name, p in params})
    return out


def check_reference(inputs, k, size, conv_dim, prefix):
    """The expected `distill check` output (float32 values of the float64 reference) under prefix, and per key the
    float32 run's largest deviation relative to the largest magnitude (prefix + "rel32." + key)."""
    expected = check_step(inputs, k, size, conv_dim, torch.float64)
    single = check_step(inputs, k, size, conv_dim, torch.float32)
    out = {}
    for key, v in expected.items():
        scale = v.abs().max().clamp_min(1e-30)
        out[prefix + key] = v.to(torch.float32)
        out[prefix + "rel32." + key] = ((single[key].double() - v).abs().max() / scale).reshape(()).to(torch.float32)
    # (gradients that are zero analytically, as a key conv's bias under the softmax, are left out: noise over nothing)
    worst = max(((key, r) for key, r in out.items() if ".rel32." in key and out[key.replace("rel32.", "")].abs().max() > 1e-10), key=lambda e: e[1].item())
    print(f"{prefix}: {len(expected)} outputs, float32 vs float64 at most {worst[1].item():.2e} of the scale ({worst[0]})")
    return out


def main():
    out = {}
    g = torch.Generator().manual_seed(13)

    # Pair-wise on 65x65 maps: 3x3 nodes of up to 32x32 (the last row and column of patches are one pixel wide).
    fs, ft = f32rand(g, 2, 1, 65, 65), f32rand(g, 2, 2, 65, 65)
    s = fs.double().requires_grad_(True)
    loss = pair_wise(s, ft.double())
    loss.backward()
    out.update({"pair65.student": fs, "pair65.teacher": ft, "pair65.loss": loss.detach().reshape(()), "pair65.grad_student": s.grad})

    # The official 65x65 discriminator layout (conv_dim 8 keeps the fixture small): forward, u and v after two forwards.
    torch.manual_seed(65)
    d65 = Discriminator(2, 65, 8)
    perturb(d65, g)
    out.update(state(d65, "d65.param."))
    x65 = f32rand(g, 2, 2, 65, 65, scale=2.0)
    out["d65.input"] = x65
    d65 = d65.double()
    out["d65.out1"] = d65(x65.double())[0].detach()
    out.update(vectors(d65, "d65.after1."))
    out["d65.out2"] = d65(x65.double())[0].detach()
    out.update(vectors(d65, "d65.after2."))

    # One training step on 8x8 logit maps, K 11, B 3.
    k, b = 11, 3
    logits_s, logits_t = f32rand(g, b, k, 8, 8, scale=2.0), f32rand(g, b, k, 8, 8, scale=3.0)
    ctx_s, ctx_t = f32rand(g, b, 6, 8, 8), f32rand(g, b, 10, 8, 8)
    alpha = torch.rand(b, 1, 1, 1, generator=g).to(torch.float32)
    torch.manual_seed(8)
    d = Discriminator(k, 8, 16)
    out.update(state(d, "init."))
    perturb(d, g)
    start = state(d, "")
    out.update({"step.student": logits_s, "step.teacher": logits_t, "step.student_context": ctx_s, "step.teacher_context": ctx_t,
                "step.alpha": alpha})
    out.update({"step.d." + key: v for key, v in start.items()})

    for kind in ("wgan-gp", "hinge"):
        prefix = "step." if kind == "wgan-gp" else "hinge."
        torch.manual_seed(8)
        d = Discriminator(k, 8, 16)
        d.load_state_dict({theirs(key): v for key, v in start.items()})
        d = d.double()
        d.train()
        s = logits_s.double().requires_grad_(True)
        t = logits_t.double()
        cs = ctx_s.double().requires_grad_(True)
        ct = ctx_t.double()
        # G step: task loss (not here) + lambda_pi * pixel + lambda_pa * pair + lambda_d * adv_for_G; one backward.
        pixel = 10.0 * pixel_wise(s, t)
        pair = 0.5 * pair_wise(cs, ct)
        holistic = 0.1 * (-d(s)[0].mean())
        (pixel + pair + holistic).backward()
        if kind == "wgan-gp":
            out.update({"step.loss.pixel": pixel.detach().reshape(()), "step.loss.pair": pair.detach().reshape(()),
                        "step.grad.logits": s.grad, "step.grad.context": cs.grad})
            out.update(vectors(d, "step.after_g."))
        out[prefix + "loss.holistic"] = holistic.detach().reshape(())
        # D step: zero_grad, D(T), D(S), lambda_d * adv (+ lambda_d * lambda_gp * GP), backward, SGD step.
        opt = torch.optim.SGD([p for p in d.parameters() if p.requires_grad], lr=4e-4, momentum=0.9, weight_decay=5e-4)
        opt.zero_grad()
        d_out_t = d(t.detach())
        d_out_s = d(s.detach())
        d_adv = 0.1 * adv_d(d_out_s, d_out_t, kind)
        d_loss = d_adv
        out[prefix + "loss.d_adv"] = d_adv.detach().reshape(())
        if kind == "wgan-gp":
            d_gp = 0.1 * gradient_penalty(d, s, t, alpha.double(), 10.0)
            d_loss = d_loss + d_gp
            out.update({"step.loss.d_gp": d_gp.detach().reshape(()), "step.loss.d_real": d_out_t[0].mean().detach().reshape(()),
                        "step.loss.d_fake": d_out_s[0].mean().detach().reshape(())})
        d_loss.backward()
        for name, p in d.named_parameters():
            if p.requires_grad:
                out[prefix + "grad_d." + ours(name)] = p.grad.detach().clone()
        opt.step()
        if kind == "wgan-gp":
            out.update(vectors(d, "step.after_d."))
            for name, p in d.named_parameters():
                if p.requires_grad:
                    out["step.after_sgd." + ours(name)] = p.detach().clone()

    # `distill check` cases: the 8x8 step above with masks, and the official 65x65 layout. A generator of their own, so
    # every value above stays as it was.
    gc = torch.Generator().manual_seed(1965)
    masks8 = seg_masks(gc, b, k, 32)
    inputs8 = {"student.logits": logits_s, "teacher.logits": logits_t, "masks": masks8, "student.context": ctx_s, "teacher.context": ctx_t,
               "random.alpha": alpha}
    inputs8.update({"method.discriminator." + key: v for key, v in start.items()})
    write_check_input("skd_check_8x8.safetensors", inputs8)
    out.update(check_reference(inputs8, k, 8, 16, "check8."))

    torch.manual_seed(1965)
    d = Discriminator(2, 65, 8)
    perturb(d, gc)
    inputs65 = {"student.logits": f32rand(gc, 2, 2, 65, 65, scale=2.0), "teacher.logits": f32rand(gc, 2, 2, 65, 65, scale=3.0),
                "masks": seg_masks(gc, 2, 2, 33), "student.context": f32rand(gc, 2, 3, 9, 9), "teacher.context": f32rand(gc, 2, 5, 9, 9),
                "random.alpha": torch.rand(2, 1, 1, 1, generator=gc).to(torch.float32)}
    inputs65.update(state(d, "method.discriminator."))
    write_check_input("skd_check_65x65.safetensors", inputs65)
    out.update(check_reference(inputs65, 2, 65, 8, "check65."))

    path = os.path.join(fixtures_dir(), "skd.safetensors")
    write_safetensors(path, {key: v.contiguous() for key, v in out.items()}, {"generator": "eng/golden/skd.py", "torch": torch.__version__})
    print(f"{len(out)} tensors -> {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
