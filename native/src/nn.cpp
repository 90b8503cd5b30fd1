// Functional layers: convolutions, normalisations, activations, pooling, resampling, attention.
#include <cmath>

#include "common.h"

using dt::opt;
using dt::T;
using dt::wrap;

namespace {
at::IntArrayRef pair(const int64_t* v) { return at::IntArrayRef(v, 2); }
}  // namespace

extern "C" {

int32_t dt_conv2d(dt_tensor x, dt_tensor w, dt_tensor b, const int64_t* stride, const int64_t* padding,
                  const int64_t* dilation, int64_t groups, dt_tensor* out) {
  return dt::guard("conv2d", [&] { *out = wrap(at::conv2d(T(x), T(w), opt(b), pair(stride), pair(padding), pair(dilation), groups)); }, x, w);
}

int32_t dt_conv_transpose2d(dt_tensor x, dt_tensor w, dt_tensor b, const int64_t* stride, const int64_t* padding,
                            const int64_t* output_padding, int64_t groups, const int64_t* dilation, dt_tensor* out) {
  return dt::guard("conv_transpose2d", [&] { *out = wrap(at::conv_transpose2d(T(x), T(w), opt(b), pair(stride), pair(padding), pair(output_padding),
                                            groups, pair(dilation))); }, x, w);
}

int32_t dt_linear(dt_tensor x, dt_tensor w, dt_tensor b, dt_tensor* out) {
  return dt::guard("linear", [&] { *out = wrap(at::linear(T(x), T(w), opt(b))); }, x, w);
}

int32_t dt_batch_norm(dt_tensor x, dt_tensor w, dt_tensor b, dt_tensor running_mean, dt_tensor running_var,
                      int32_t training, double momentum, double eps, dt_tensor* out) {
  return dt::guard("batch_norm", [&] { *out = wrap(at::batch_norm(T(x), opt(w), opt(b), opt(running_mean), opt(running_var), training != 0,
                                      momentum, eps, /*cudnn_enabled=*/true)); }, x, w);
}

int32_t dt_layer_norm(dt_tensor x, const int64_t* normalized_shape, int32_t count, dt_tensor w, dt_tensor b,
                      double eps, dt_tensor* out) {
  return dt::guard("layer_norm", [&] { *out = wrap(at::layer_norm(T(x), dt::ints(normalized_shape, count), opt(w), opt(b), eps)); }, x, w);
}

int32_t dt_group_norm(dt_tensor x, int64_t groups, dt_tensor w, dt_tensor b, double eps, dt_tensor* out) {
  return dt::guard("group_norm", [&] { *out = wrap(at::group_norm(T(x), groups, opt(w), opt(b), eps)); }, x, w);
}

int32_t dt_leaky_relu(dt_tensor x, double slope, dt_tensor* out) {
  return dt::guard("leaky_relu", [&] { *out = wrap(at::leaky_relu(T(x), slope)); }, x);
}

int32_t dt_softmax(int32_t op, dt_tensor x, int64_t dim, dt_tensor* out) {
  return dt::guard(op == DT_LOG_SOFTMAX ? "log_softmax" : "softmax", [&] {
    switch (op) {
      case DT_SOFTMAX: *out = wrap(at::softmax(T(x), dim)); break;
      case DT_LOG_SOFTMAX: *out = wrap(at::log_softmax(T(x), dim)); break;
      default: throw std::invalid_argument("unknown softmax op " + std::to_string(op));
    }
  }, x);
}

int32_t dt_dropout(dt_tensor x, double p, int32_t training, dt_tensor* out) {
  return dt::guard("dropout", [&] { *out = wrap(at::dropout(T(x), p, training != 0)); }, x);
}

int32_t dt_max_pool2d(dt_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding,
                      const int64_t* dilation, int32_t ceil_mode, dt_tensor* out) {
  return dt::guard("max_pool2d", [&] { *out = wrap(at::max_pool2d(T(x), pair(kernel), pair(stride), pair(padding), pair(dilation), ceil_mode != 0)); }, x);
}

int32_t dt_avg_pool2d(dt_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding,
                      int32_t ceil_mode, int32_t count_include_pad, int64_t divisor, dt_tensor* out) {
  return dt::guard("avg_pool2d", [&] {
    dt::optional<int64_t> div = divisor > 0 ? dt::optional<int64_t>(divisor) : dt::nullopt;
    *out = wrap(at::avg_pool2d(T(x), pair(kernel), pair(stride), pair(padding), ceil_mode != 0, count_include_pad != 0,
                               div));
  }, x);
}

int32_t dt_adaptive_pool2d(int32_t op, dt_tensor x, const int64_t* output_size, dt_tensor* out) {
  return dt::guard(op == DT_ADAPTIVE_MAX ? "adaptive_max_pool2d" : "adaptive_avg_pool2d", [&] {
    switch (op) {
      case DT_ADAPTIVE_AVG: *out = wrap(at::adaptive_avg_pool2d(T(x), pair(output_size))); break;
      case DT_ADAPTIVE_MAX: *out = wrap(std::get<0>(at::adaptive_max_pool2d(T(x), pair(output_size)))); break;
      default: throw std::invalid_argument("unknown adaptive pool op " + std::to_string(op));
    }
  }, x);
}

int32_t dt_interpolate(dt_tensor x, int32_t mode, const int64_t* size, const double* scale, int32_t align_corners,
                       dt_tensor* out) {
  return dt::guard(mode == DT_BILINEAR ? "interpolate (bilinear)" : "interpolate (nearest)", [&] {
    const auto& in = T(x);
    if (in.dim() != 4) throw std::invalid_argument("interpolate expects a 4-d input [N, C, H, W]");
    // As torch.nn.functional.interpolate: either an output size, or scale factors handed to the kernel
    // (recompute_scale_factor unset), which then sizes the output as floor(input * scale).
    at::OptionalIntArrayRef out_size;
    dt::optional<at::ArrayRef<double>> scales;
    if (size) out_size = at::IntArrayRef(size, 2);
    else scales = at::ArrayRef<double>(scale, 2);
    switch (mode) {
      case DT_NEAREST: *out = wrap(at::upsample_nearest2d(in, out_size, scales)); break;
      case DT_BILINEAR:
        *out = wrap(at::upsample_bilinear2d(in, out_size, align_corners > 0, scales));
        break;
      default: throw std::invalid_argument("unknown interpolation mode " + std::to_string(mode));
    }
  }, x);
}

int32_t dt_one_hot(dt_tensor t, int64_t num_classes, dt_tensor* out) {
  return dt::guard("one_hot", [&] { *out = wrap(at::one_hot(T(t), num_classes)); }, t);
}

int32_t dt_embedding(dt_tensor weight, dt_tensor indices, int64_t padding_idx, dt_tensor* out) {
  return dt::guard("embedding", [&] { *out = wrap(at::embedding(T(weight), T(indices), padding_idx)); }, weight, indices);
}

int32_t dt_cosine_similarity(dt_tensor a, dt_tensor b, int64_t dim, double eps, dt_tensor* out) {
  return dt::guard("cosine_similarity", [&] { *out = wrap(at::cosine_similarity(T(a), T(b), dim, eps)); }, a, b);
}

int32_t dt_normalize(dt_tensor x, double p, int64_t dim, double eps, dt_tensor* out) {
  // As torch.nn.functional.normalize: x / max(||x||_p, eps) along dim, with the same autograd graph.
  return dt::guard("normalize", [&] {
    const auto& in = T(x);
    auto denom = in.norm(p, dim, /*keepdim=*/true).clamp_min(eps).expand_as(in);
    *out = wrap(in / denom);
  }, x);
}

int32_t dt_attention(dt_tensor q, dt_tensor k, dt_tensor v, dt_tensor mask, double dropout_p, int32_t is_causal,
                     double scale, dt_tensor* out) {
  // The math path of scaled dot-product attention, which every libtorch from 1.13 on computes alike.
  return dt::guard("scaled_dot_product_attention", [&] {
    const auto& Q = T(q);
    const auto& K = T(k);
    const double s = scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(Q.size(-1)));
    auto scores = at::matmul(Q, K.transpose(-2, -1)) * s;
    if (is_causal) {
      auto causal = at::ones({Q.size(-2), K.size(-2)}, Q.options().dtype(at::kBool)).triu(1);
      scores = scores.masked_fill(causal, -std::numeric_limits<double>::infinity());
    }
    if (mask) {
      const auto& m = T(mask);
      scores = m.scalar_type() == at::kBool ? scores.masked_fill(m.logical_not(), -std::numeric_limits<double>::infinity())
                                            : scores + m;
    }
    auto weights = at::softmax(scores, -1);
    if (dropout_p > 0) weights = at::dropout(weights, dropout_p, true);
    *out = wrap(at::matmul(weights, T(v)));
  }, q, k, v);
}

}  // extern "C"
