// Loss functions with PyTorch's reductions (batchmean for kl_div as torch.nn.functional.kl_div does it).
#include "common.h"

using dt::opt;
using dt::T;
using dt::wrap;

namespace {
int64_t aten_reduction(int32_t reduction) {
  switch (reduction) {
    case DT_REDUCTION_NONE: return at::Reduction::None;
    case DT_REDUCTION_MEAN: return at::Reduction::Mean;
    case DT_REDUCTION_SUM: return at::Reduction::Sum;
  }
  throw std::invalid_argument("reduction code " + std::to_string(reduction) + " is not one of none, mean, sum");
}
}  // namespace

extern "C" {

int32_t dt_cross_entropy(dt_tensor x, dt_tensor target, dt_tensor weight, int32_t reduction, int64_t ignore_index,
                         double label_smoothing, dt_tensor* out) {
  return dt::guard("cross_entropy", [&] { *out = wrap(at::cross_entropy_loss(T(x), T(target), opt(weight), aten_reduction(reduction), ignore_index,
                                              label_smoothing)); }, x, target);
}

int32_t dt_nll_loss(dt_tensor x, dt_tensor target, dt_tensor weight, int32_t reduction, int64_t ignore_index,
                    dt_tensor* out) {
  return dt::guard("nll_loss", [&] { *out = wrap(at::nll_loss_nd(T(x), T(target), opt(weight), aten_reduction(reduction), ignore_index)); }, x, target);
}

int32_t dt_kl_div(dt_tensor x, dt_tensor target, int32_t reduction, int32_t log_target, dt_tensor* out) {
  return dt::guard("kl_div", [&] {
    const auto& in = T(x);
    if (reduction == DT_REDUCTION_BATCHMEAN) {
      auto sum = at::kl_div(in, T(target), at::Reduction::Sum, log_target != 0);
      *out = wrap(in.dim() != 0 ? sum / in.size(0) : sum);
    } else {
      *out = wrap(at::kl_div(in, T(target), aten_reduction(reduction), log_target != 0));
    }
  }, x, target);
}

int32_t dt_pointwise_loss(int32_t op, dt_tensor x, dt_tensor target, int32_t reduction, double beta, dt_tensor* out) {
  static const char* names[] = {"mse_loss", "l1_loss", "smooth_l1_loss"};
  return dt::guard(op >= 0 && op <= DT_SMOOTH_L1 ? names[op] : "loss", [&] {
    const auto& a = T(x);
    const auto& b = T(target);
    if (a.sizes() != b.sizes())
      throw std::invalid_argument("input and target shapes differ (PyTorch would broadcast with a warning; Distill refuses)");
    switch (op) {
      case DT_MSE: *out = wrap(at::mse_loss(a, b, aten_reduction(reduction))); break;
      case DT_L1: *out = wrap(at::l1_loss(a, b, aten_reduction(reduction))); break;
      case DT_SMOOTH_L1: *out = wrap(at::smooth_l1_loss(a, b, aten_reduction(reduction), beta)); break;
      default: throw std::invalid_argument("unknown loss " + std::to_string(op));
    }
  }, x, target);
}

int32_t dt_bce_with_logits(dt_tensor x, dt_tensor target, dt_tensor weight, dt_tensor pos_weight, int32_t reduction,
                           dt_tensor* out) {
  return dt::guard("binary_cross_entropy_with_logits", [&] { *out = wrap(at::binary_cross_entropy_with_logits(T(x), T(target), opt(weight), opt(pos_weight),
                                                            aten_reduction(reduction))); }, x, target);
}

}  // extern "C"
