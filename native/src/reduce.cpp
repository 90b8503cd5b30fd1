// Reductions: sums and means over dims, moments, norms, max/min with indices, arg-reductions, topk, sort.
#include "common.h"

using dt::T;
using dt::wrap;

namespace {
const char* reduce_name(int32_t op) {
  static const char* names[] = {"sum", "mean", "amax", "amin", "logsumexp", "all", "any", "prod"};
  return op >= 0 && op <= DT_PROD ? names[op] : "reduce";
}

// all/any/prod accept one dim at a time in libtorch 1.13: reduce the listed dims one by one, highest first.
at::Tensor reduce_each(const at::Tensor& x, std::vector<int64_t> dims, bool keepdim,
                       at::Tensor (*one)(const at::Tensor&, int64_t, bool)) {
  for (auto& d : dims) d = c10::maybe_wrap_dim(d, x.dim());
  std::sort(dims.rbegin(), dims.rend());
  at::Tensor r = x;
  for (auto d : dims) r = one(r, d, keepdim);
  return r;
}
}  // namespace

extern "C" {

int32_t dt_reduce(int32_t op, dt_tensor t, const int64_t* dims, int32_t count, int32_t keepdim, int32_t dtype,
                  dt_tensor* out) {
  return dt::guard(reduce_name(op), [&] {
    const auto& x = T(t);
    const bool keep = keepdim != 0;
    auto d = dt::ints(dims, count);
    dt::optional<at::ScalarType> type =
        dtype < 0 ? dt::nullopt : dt::optional<at::ScalarType>(dt::to_scalar_type(dtype));
    std::vector<int64_t> all_dims;
    if (count == 0) {
      for (int64_t i = 0; i < x.dim(); i++) all_dims.push_back(i);
    } else {
      all_dims.assign(d.begin(), d.end());
    }
    switch (op) {
      case DT_SUM: *out = wrap(count == 0 && !keep ? x.sum(type) : x.sum(all_dims, keep, type)); break;
      case DT_MEAN: *out = wrap(count == 0 && !keep ? x.mean(type) : x.mean(all_dims, keep, type)); break;
      case DT_AMAX: *out = wrap(x.amax(all_dims, keep)); break;
      case DT_AMIN: *out = wrap(x.amin(all_dims, keep)); break;
      case DT_LOGSUMEXP: *out = wrap(x.logsumexp(all_dims, keep)); break;
      case DT_ALL:
        *out = wrap(count == 0 && !keep ? x.all() : reduce_each(x, all_dims, keep, [](const at::Tensor& a, int64_t i, bool k) { return a.all(i, k); }));
        break;
      case DT_ANY:
        *out = wrap(count == 0 && !keep ? x.any() : reduce_each(x, all_dims, keep, [](const at::Tensor& a, int64_t i, bool k) { return a.any(i, k); }));
        break;
      case DT_PROD:
        *out = wrap(count == 0 && !keep ? x.prod(type) : reduce_each(x, all_dims, keep, [](const at::Tensor& a, int64_t i, bool k) { return a.prod(i, k); }));
        break;
      default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
    }
  }, t);
}

int32_t dt_moment(int32_t op, dt_tensor t, const int64_t* dims, int32_t count, int32_t unbiased, int32_t keepdim,
                  dt_tensor* out) {
  return dt::guard(op == DT_STD ? "std" : "var", [&] {
    const auto& x = T(t);
    at::OptionalIntArrayRef d = count == 0 ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(dt::ints(dims, count));
    dt::optional<int64_t> correction = unbiased ? 1 : 0;
    switch (op) {
      case DT_VAR: *out = wrap(at::var(x, d, correction, keepdim != 0)); break;
      case DT_STD: *out = wrap(at::std(x, d, correction, keepdim != 0)); break;
      default: throw std::invalid_argument("unknown moment " + std::to_string(op));
    }
  }, t);
}

int32_t dt_norm(dt_tensor t, double p, const int64_t* dims, int32_t count, int32_t keepdim, dt_tensor* out) {
  return dt::guard("norm", [&] {
    const auto& x = T(t);
    if (count == 0 && !keepdim) *out = wrap(at::norm(x, p));
    else {
      std::vector<int64_t> all_dims(dims, dims + count);
      if (count == 0)
        for (int64_t i = 0; i < x.dim(); i++) all_dims.push_back(i);
      *out = wrap(at::norm(x, p, all_dims, keepdim != 0));
    }
  }, t);
}

int32_t dt_reduce_indexed(int32_t op, dt_tensor t, int64_t dim, int32_t keepdim, dt_tensor* values,
                          dt_tensor* indices) {
  return dt::guard(op == DT_MIN_DIM ? "min" : "max", [&] {
    std::tuple<at::Tensor, at::Tensor> r;
    switch (op) {
      case DT_MAX_DIM: r = T(t).max(dim, keepdim != 0); break;
      case DT_MIN_DIM: r = T(t).min(dim, keepdim != 0); break;
      default: throw std::invalid_argument("unknown indexed reduction " + std::to_string(op));
    }
    *values = wrap(std::get<0>(r));
    *indices = wrap(std::get<1>(r));
  }, t);
}

int32_t dt_arg(int32_t op, dt_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim, dt_tensor* out) {
  return dt::guard(op == DT_ARGMIN ? "argmin" : "argmax", [&] {
    dt::optional<int64_t> d = has_dim ? dt::optional<int64_t>(dim) : dt::nullopt;
    switch (op) {
      case DT_ARGMAX: *out = wrap(T(t).argmax(d, keepdim != 0)); break;
      case DT_ARGMIN: *out = wrap(T(t).argmin(d, keepdim != 0)); break;
      default: throw std::invalid_argument("unknown arg reduction " + std::to_string(op));
    }
  }, t);
}

int32_t dt_topk(dt_tensor t, int64_t k, int64_t dim, int32_t largest, int32_t sorted, dt_tensor* values,
                dt_tensor* indices) {
  return dt::guard("topk", [&] {
    auto r = T(t).topk(k, dim, largest != 0, sorted != 0);
    *values = wrap(std::get<0>(r));
    *indices = wrap(std::get<1>(r));
  }, t);
}

int32_t dt_sort(dt_tensor t, int64_t dim, int32_t descending, int32_t stable, dt_tensor* values, dt_tensor* indices) {
  return dt::guard("sort", [&] {
    auto r = T(t).sort(stable != 0, dim, descending != 0);
    *values = wrap(std::get<0>(r));
    *indices = wrap(std::get<1>(r));
  }, t);
}

int32_t dt_cumsum(dt_tensor t, int64_t dim, dt_tensor* out) { return dt::guard("cumsum", [&] { *out = wrap(T(t).cumsum(dim)); }, t); }

}  // extern "C"
