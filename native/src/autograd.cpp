// Autograd: requires-grad, gradients, backward, torch.autograd.grad, grad and inference modes, and the
// gradient-reversal function CTKD needs.
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include "common.h"

using dt::opt;
using dt::T;
using dt::wrap;

namespace {

// Identity forward; backward returns -scale * grad (Ganin & Lempitsky's reversal layer, scaled).
struct GradientReversal : public torch::autograd::Function<GradientReversal> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, double scale) {
    ctx->saved_data["scale"] = scale;
    return x.view_as(x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const double scale = ctx->saved_data["scale"].toDouble();
    return {grads[0] * (-scale), at::Tensor()};
  }
};

std::vector<at::Tensor> grad_list(const dt_tensor* list, int32_t count) {
  std::vector<at::Tensor> v(static_cast<size_t>(count));
  if (list)
    for (int32_t i = 0; i < count; i++) v[i] = opt(list[i]);
  return v;
}

}  // namespace

extern "C" {

int32_t dt_set_requires_grad(dt_tensor t, int32_t requires_grad) {
  return dt::guard("requires_grad_", [&] { T(t).set_requires_grad(requires_grad != 0); }, t);
}

int32_t dt_is_leaf(dt_tensor t, int32_t* leaf) { return dt::guard("is_leaf", [&] { *leaf = T(t).is_leaf() ? 1 : 0; }, t); }

int32_t dt_get_grad(dt_tensor t, dt_tensor* out) {
  return dt::guard("grad", [&] {
    const auto& g = T(t).grad();
    *out = g.defined() ? wrap(g) : nullptr;
  }, t);
}

int32_t dt_set_grad(dt_tensor t, dt_tensor grad_or_null) {
  return dt::guard("set_grad", [&] { T(t).mutable_grad() = opt(grad_or_null); }, t, grad_or_null);
}

int32_t dt_retain_grad(dt_tensor t) { return dt::guard("retain_grad", [&] { T(t).retain_grad(); }, t); }

int32_t dt_backward(const dt_tensor* tensors, int32_t count, const dt_tensor* grad_outputs, int32_t retain_graph,
                    int32_t create_graph) {
  try {
    auto outputs = dt::tensors(tensors, count);
    auto grads = grad_list(grad_outputs, count);
    dt::optional<bool> retain = retain_graph ? dt::optional<bool>(true) : dt::nullopt;
    torch::autograd::backward(outputs, grads, retain, create_graph != 0);
    return DT_OK;
  } catch (const std::exception& e) {
    return dt::fail_list("backward", e.what(), tensors, count);
  }
}

int32_t dt_autograd_grad(const dt_tensor* outputs, int32_t output_count, const dt_tensor* grad_outputs,
                         const dt_tensor* inputs, int32_t input_count, int32_t retain_graph, int32_t create_graph,
                         int32_t allow_unused, dt_tensor* outs) {
  try {
    auto o = dt::tensors(outputs, output_count);
    auto i = dt::tensors(inputs, input_count);
    auto g = grad_list(grad_outputs, output_count);
    dt::optional<bool> retain = retain_graph ? dt::optional<bool>(true) : dt::nullopt;
    auto result = torch::autograd::grad(o, i, g, retain, create_graph != 0, allow_unused != 0);
    for (size_t k = 0; k < result.size(); k++) outs[k] = result[k].defined() ? wrap(result[k]) : nullptr;
    return DT_OK;
  } catch (const std::exception& e) {
    return dt::fail_list("autograd.grad", e.what(), inputs, input_count);
  }
}

int32_t dt_grad_enabled(int32_t* enabled) { return dt::guard("grad_enabled", [&] { *enabled = at::GradMode::is_enabled() ? 1 : 0; }); }

int32_t dt_set_grad_enabled(int32_t enabled) { return dt::guard("set_grad_enabled", [&] { at::GradMode::set_enabled(enabled != 0); }); }

int32_t dt_inference_mode_enter(dt_guard* guard) {
  return dt::guard("inference_mode", [&] { *guard = reinterpret_cast<dt_guard>(new c10::InferenceMode(true)); });
}

int32_t dt_guard_free(dt_guard guard) {
  return dt::guard("inference_mode_exit", [&] { delete reinterpret_cast<c10::InferenceMode*>(guard); });
}

int32_t dt_is_inference_mode(int32_t* enabled) {
  return dt::guard("is_inference_mode", [&] { *enabled = c10::InferenceMode::is_enabled() ? 1 : 0; });
}

int32_t dt_gradient_reversal(dt_tensor t, double scale, dt_tensor* out) {
  return dt::guard("gradient_reversal", [&] { *out = wrap(GradientReversal::apply(T(t), scale)); }, t);
}

}  // extern "C"
