// Tensor factories, seeded generators and in-place random fills.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <mutex>

#include "common.h"

using dt::T;
using dt::wrap;

namespace {
at::Generator* G(dt_generator g) { return reinterpret_cast<at::Generator*>(g); }
dt::optional<at::Generator> opt_gen(dt_generator g) {
  if (!g) return dt::nullopt;
  return *G(g);
}
}  // namespace

extern "C" {

int32_t dt_generator_new(uint64_t seed, dt_generator* out) {
  return dt::guard("generator_new", [&] {
    auto* g = new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed));
    *out = reinterpret_cast<dt_generator>(g);
  });
}

int32_t dt_generator_free(dt_generator g) { return dt::guard("generator_free", [&] { delete G(g); }); }

int32_t dt_generator_seed(dt_generator g, uint64_t seed) {
  return dt::guard("generator_seed", [&] {
    std::lock_guard<std::mutex> lock(G(g)->mutex());
    G(g)->set_current_seed(seed);
  });
}

int32_t dt_generator_get_state(dt_generator g, dt_tensor* out) {
  return dt::guard("generator_get_state", [&] {
    std::lock_guard<std::mutex> lock(G(g)->mutex());
    *out = wrap(at::Tensor(G(g)->get_state()));
  });
}

int32_t dt_generator_set_state(dt_generator g, dt_tensor state) {
  return dt::guard("generator_set_state", [&] {
    std::lock_guard<std::mutex> lock(G(g)->mutex());
    G(g)->set_state(T(state));
  }, state);
}

int32_t dt_empty(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index,
                 dt_tensor* out) {
  return dt::guard("empty", [&] { *out = wrap(at::empty(dt::ints(sizes, ndim), dt::options(dtype, device_type, device_index))); });
}

int32_t dt_full(const int64_t* sizes, int32_t ndim, dt_scalar value, int32_t dtype, int32_t device_type,
                int32_t device_index, dt_tensor* out) {
  return dt::guard("full", [&] { *out = wrap(at::full(dt::ints(sizes, ndim), dt::to_scalar(value),
                                        dt::options(dtype, device_type, device_index))); });
}

int32_t dt_arange(dt_scalar start, dt_scalar end, dt_scalar step, int32_t dtype, int32_t device_type,
                  int32_t device_index, dt_tensor* out) {
  return dt::guard("arange", [&] { *out = wrap(at::arange(dt::to_scalar(start), dt::to_scalar(end), dt::to_scalar(step),
                                            dt::options(dtype, device_type, device_index))); });
}

int32_t dt_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t device_type, int32_t device_index,
                    dt_tensor* out) {
  return dt::guard("linspace", [&] { *out = wrap(at::linspace(start, end, steps, dt::options(dtype, device_type, device_index))); });
}

int32_t dt_eye(int64_t n, int64_t m, int32_t dtype, int32_t device_type, int32_t device_index, dt_tensor* out) {
  return dt::guard("eye", [&] { *out = wrap(at::eye(n, m, dt::options(dtype, device_type, device_index))); });
}

int32_t dt_random(int32_t op, const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type,
                  int32_t device_index, dt_generator gen, dt_tensor* out) {
  return dt::guard(op == DT_RAND ? "rand" : "randn", [&] {
    auto o = dt::options(dtype, device_type, device_index);
    auto s = dt::ints(sizes, ndim);
    switch (op) {
      case DT_RAND: *out = wrap(at::rand(s, opt_gen(gen), o)); break;
      case DT_RANDN: *out = wrap(at::randn(s, opt_gen(gen), o)); break;
      default: throw std::invalid_argument("unknown random op " + std::to_string(op));
    }
  });
}

int32_t dt_randint(int64_t low, int64_t high, const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type,
                   int32_t device_index, dt_generator gen, dt_tensor* out) {
  return dt::guard("randint", [&] { *out = wrap(at::randint(low, high, dt::ints(sizes, ndim), opt_gen(gen),
                                              dt::options(dtype, device_type, device_index))); });
}

int32_t dt_randperm(int64_t n, int32_t dtype, int32_t device_type, int32_t device_index, dt_generator gen,
                    dt_tensor* out) {
  return dt::guard("randperm", [&] { *out = wrap(at::randperm(n, opt_gen(gen), dt::options(dtype, device_type, device_index))); });
}

int32_t dt_random_(int32_t op, dt_tensor t, double a, double b, dt_generator gen) {
  return dt::guard("random_fill", [&] {
    switch (op) {
      case DT_FILL_UNIFORM: T(t).uniform_(a, b, opt_gen(gen)); break;
      case DT_FILL_NORMAL: T(t).normal_(a, b, opt_gen(gen)); break;
      case DT_FILL_BERNOULLI: T(t).bernoulli_(a, opt_gen(gen)); break;
      case DT_FILL_RANDOM: T(t).random_(opt_gen(gen)); break;
      default: throw std::invalid_argument("unknown random fill op " + std::to_string(op));
    }
  }, t);
}

}  // extern "C"
