// Shared helpers of the shim: handle conversion, our enums to ATen's, and the GUARD macro that turns
// every C++ exception into a status code plus a thread-local message naming the op and its inputs' shapes.
#pragma once

#include <ATen/ATen.h>
// TORCH_VERSION_MAJOR / MINOR / PATCH: the same header in Debian's 1.13 and in 2.x wheels.
#if __has_include(<torch/csrc/api/include/torch/version.h>)
#include <torch/csrc/api/include/torch/version.h>
#else
#include <torch/version.h>
#endif

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "distill_torch.h"

#define DT_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace dt {

// libtorch's optional: its own c10::optional class up to 2.3, std::optional (c10::optional an alias) from 2.4 on,
// where the alias may go away; every optional argument the shim hands to ATen is spelled dt::optional.
#if DT_TORCH_AT_LEAST(2, 4)
template <typename T>
using optional = std::optional<T>;
inline constexpr std::nullopt_t nullopt = std::nullopt;
#else
template <typename T>
using optional = c10::optional<T>;
inline constexpr c10::nullopt_t nullopt = c10::nullopt;
#endif

void set_error(std::string message);

inline at::Tensor& T(dt_tensor t) { return *reinterpret_cast<at::Tensor*>(t); }
inline at::Tensor opt(dt_tensor t) { return t ? *reinterpret_cast<at::Tensor*>(t) : at::Tensor(); }
inline dt_tensor wrap(at::Tensor t) { return reinterpret_cast<dt_tensor>(new at::Tensor(std::move(t))); }
inline at::IntArrayRef ints(const int64_t* v, int32_t n) { return at::IntArrayRef(v, static_cast<size_t>(n)); }

at::ScalarType to_scalar_type(int32_t dtype);
int32_t from_scalar_type(at::ScalarType type);
at::Device to_device(int32_t device_type, int32_t device_index);
at::Scalar to_scalar(const dt_scalar& s);
at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index);

// "[2, 3]" for a defined tensor, "undefined" otherwise.
std::string shape_of(const at::Tensor& t);
inline void describe(std::ostringstream&) {}
template <typename... Rest>
void describe(std::ostringstream& os, dt_tensor first, Rest... rest) {
  os << (os.tellp() > 0 ? " and " : "") << (first ? shape_of(T(first)) : std::string("none"));
  describe(os, rest...);
}

// Formats "op (shapes [a] and [b]): libtorch's message" without the C++ stack trace libtorch appends.
std::string clean_message(const char* what);
template <typename... Tensors>
int32_t fail(const char* op, const char* what, Tensors... inputs) {
  std::ostringstream shapes;
  describe(shapes, inputs...);
  std::string s = op;
  if (shapes.tellp() > 0) s += " (shapes " + shapes.str() + ")";
  set_error(s + ": " + clean_message(what));
  return DT_ERROR;
}

// For ops over a list of tensors (cat, stack, einsum): names every shape in the list.
int32_t fail_list(const char* op, const char* what, const dt_tensor* list, int32_t count);
std::vector<at::Tensor> tensors(const dt_tensor* list, int32_t count);

// Runs body; any exception becomes DT_ERROR with a message naming op and the listed input tensors.
// Every export goes through here, so no C++ exception ever reaches the managed caller.
template <typename Body, typename... Tensors>
int32_t guard(const char* op, Body&& body, Tensors... inputs) noexcept {
  try {
    body();
    return DT_OK;
  } catch (const std::exception& e) {
    try { return fail(op, e.what(), inputs...); } catch (...) { return DT_ERROR; }
  } catch (...) {
    try { return fail(op, "unknown native error", inputs...); } catch (...) { return DT_ERROR; }
  }
}

}  // namespace dt

