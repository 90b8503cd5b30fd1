// Data parallelism through libtorch's c10d: TCPStore rendezvous, ProcessGroupGloo collectives that wait for
// their result, and a batch normalisation whose statistics and backward sums are all-reduced over the ranks.
// Built with the collectives only when CMake found Gloo's headers (DT_WITH_GLOO); otherwise every export
// but dt_distributed_available reports that this build has no data-parallel support.
#include "common.h"

#ifdef DT_WITH_GLOO
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#endif

using dt::T;
using dt::wrap;

namespace {

constexpr const char* kNoGloo = "built without data-parallel support (install libgloo-dev and rebuild)";

#ifdef DT_WITH_GLOO

struct Store {
  c10::intrusive_ptr<c10d::Store> store;
};

struct Group {
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  int rank;
  int world;
};

Group& G(dt_process_group pg) {
  if (!pg) throw std::invalid_argument("the process group is null (already disposed?)");
  return *reinterpret_cast<Group*>(pg);
}

// Gloo exchanges raw memory: every tensor must be a dense, contiguous CPU tensor.
void check_tensor(const at::Tensor& t, const char* what) {
  if (!t.defined()) throw std::invalid_argument(std::string(what) + " is undefined");
  if (t.layout() != at::kStrided || !t.is_contiguous())
    throw std::invalid_argument(std::string(what) + " must be dense and contiguous (shape " + dt::shape_of(t) + ")");
}

// Waits for every work item; the first failure (a timeout, a closed peer) becomes the error, after the rest
// were waited for, so no work item outlives the call that queued it.
void wait_all(std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
  std::exception_ptr first;
  for (auto& w : works) {
    try {
      w->wait();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

void all_reduce(Group& g, std::vector<at::Tensor>& list, int32_t op) {
  c10d::AllreduceOptions opts;
  switch (op) {
    case 0: case 1: opts.reduceOp = c10d::ReduceOp::SUM; break;
    case 2: opts.reduceOp = c10d::ReduceOp::MAX; break;
    case 3: opts.reduceOp = c10d::ReduceOp::MIN; break;
    default: throw std::invalid_argument("unknown reduce op " + std::to_string(op));
  }
  for (size_t i = 0; i < list.size(); i++) {
    check_tensor(list[i], ("tensor " + std::to_string(i)).c_str());
    if (op == 1 && !at::isFloatingType(list[i].scalar_type()))
      throw std::invalid_argument("average needs floating tensors; tensor " + std::to_string(i) + " is " +
                                  std::string(c10::toString(list[i].scalar_type())));
  }
  // ProcessGroupGloo reads a list as replicas of one tensor: one work item per tensor reduces them separately.
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& t : list) {
    std::vector<at::Tensor> one{t};
    works.push_back(g.pg->allreduce(one, opts));
  }
  wait_all(works);
  if (op == 1)
    for (auto& t : list) t.div_(g.world);
}

std::string where(const Group& g) {
  return " (rank " + std::to_string(g.rank) + " of " + std::to_string(g.world) + ")";
}

// Runs a collective; its error names the collective and this rank.
template <typename Body>
int32_t collective(const char* op, dt_process_group pg, Body&& body) noexcept {
  std::string name = op;
  try {
    if (pg) name += where(G(pg));
  } catch (...) {
  }
  return dt::guard(name.c_str(), std::forward<Body>(body));
}

// Training-mode batch normalisation over every rank's batch. Forward: per-channel count, sum and sum of squares
// (from this rank's biased mean and variance, in float64) are all-reduced to the global mean and variance.
// Backward: the per-channel sums of dy and dy * (x - mean) are all-reduced, and the input gradient uses the
// global count; the weight and bias gradients stay local (the data-parallel gradient average combines them).
struct SyncBatchNormFn : public torch::autograd::Function<SyncBatchNormFn> {
  static std::vector<int64_t> reduce_dims(const at::Tensor& x) {
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < x.dim(); d++) dims.push_back(d);
    return dims;
  }
  static std::vector<int64_t> channel_shape(const at::Tensor& x) {
    std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
    shape[1] = x.size(1);
    return shape;
  }

  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, at::Tensor running_mean, at::Tensor running_var,
                            double momentum, double eps, c10::intrusive_ptr<c10d::ProcessGroupGloo> pg) {
    const auto dims = reduce_dims(x);
    const int64_t channels = x.size(1);
    const double local_count = static_cast<double>(x.numel() / std::max<int64_t>(channels, 1));
    at::Tensor var, mean;
    std::tie(var, mean) = at::var_mean(x, dims, /*unbiased=*/false);
    auto mean_d = mean.to(at::kDouble);
    auto var_d = var.to(at::kDouble);
    // [count, sum, sum of squares] per channel, summed over ranks.
    auto stats = at::cat({at::full({1}, local_count, mean_d.options()), mean_d * local_count,
                          (var_d + mean_d * mean_d) * local_count});
    std::vector<at::Tensor> list{stats};
    std::vector<c10::intrusive_ptr<c10d::Work>> works{pg->allreduce(list)};
    wait_all(works);
    const double count = stats[0].item<double>();
    auto g_mean = stats.slice(0, 1, 1 + channels) / count;
    auto g_var = (stats.slice(0, 1 + channels) / count - g_mean * g_mean).clamp_min(0);
    if (running_mean.defined()) {
      running_mean.mul_(1 - momentum).add_((g_mean * momentum).to(running_mean.scalar_type()));
    }
    if (running_var.defined()) {
      const double unbias = count > 1 ? count / (count - 1) : 1.0;
      running_var.mul_(1 - momentum).add_((g_var * (momentum * unbias)).to(running_var.scalar_type()));
    }
    const auto shape = channel_shape(x);
    auto mean_x = g_mean.to(x.scalar_type()).view(shape);
    auto invstd = (g_var + eps).rsqrt().to(x.scalar_type()).view(shape);
    auto scale = weight.defined() ? invstd * weight.view(shape) : invstd;
    auto y = (x - mean_x) * scale;
    if (bias.defined()) y = y + bias.view(shape);
    ctx->save_for_backward({x, weight, mean_x, invstd});
    ctx->saved_data["count"] = count;
    ctx->saved_data["pg"] = c10::IValue::make_capsule(c10::intrusive_ptr<torch::CustomClassHolder>(pg));
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const double count = ctx->saved_data["count"].toDouble();
    auto pg = c10::static_intrusive_pointer_cast<c10d::ProcessGroupGloo>(ctx->saved_data["pg"].toCapsule());
    const auto& dy = grads[0];
    const auto dims = reduce_dims(x);
    const auto shape = channel_shape(x);
    auto xmu = x - mean;
    auto sum_dy = dy.sum(dims, false, at::kDouble);
    auto sum_dy_xmu = (dy * xmu).sum(dims, false, at::kDouble);
    at::Tensor grad_x, grad_weight, grad_bias;
    if (weight.defined() && ctx->needs_input_grad(1))
      grad_weight = (sum_dy_xmu * invstd.view({-1}).to(at::kDouble)).to(weight.scalar_type());
    if (ctx->needs_input_grad(2)) grad_bias = sum_dy.to(dy.scalar_type());
    if (ctx->needs_input_grad(0)) {
      const int64_t channels = x.size(1);
      auto combined = at::cat({sum_dy, sum_dy_xmu});
      std::vector<at::Tensor> list{combined};
      std::vector<c10::intrusive_ptr<c10d::Work>> works{pg->allreduce(list)};
      wait_all(works);
      auto mean_dy = (combined.slice(0, 0, channels) / count).to(x.scalar_type()).view(shape);
      auto mean_dy_xmu = (combined.slice(0, channels) / count).to(x.scalar_type()).view(shape);
      auto scale = weight.defined() ? invstd * weight.view(shape) : invstd;
      grad_x = (dy - mean_dy - xmu * invstd * invstd * mean_dy_xmu) * scale;
    }
    return {grad_x, grad_weight, grad_bias, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

#endif  // DT_WITH_GLOO

}  // namespace

extern "C" {

int32_t dt_distributed_available(int32_t* available) {
#ifdef DT_WITH_GLOO
  *available = 1;
#else
  *available = 0;
#endif
  return DT_OK;
}

#ifdef DT_WITH_GLOO

int32_t dt_store_tcp_new(const char* host, int32_t port, int32_t is_server, int32_t world_size, int64_t timeout_ms,
                         dt_store* out) {
  const std::string name = std::string("TCPStore rendezvous at ") + (host ? host : "(null)") + ":" +
                           std::to_string(port) + (is_server ? " (server)" : " (client)");
  return dt::guard(name.c_str(), [&] {
    if (!host) throw std::invalid_argument("the host is null");
    if (port < 1 || port > 65535) throw std::invalid_argument("the port must be 1 to 65535");
    if (world_size < 1) throw std::invalid_argument("the world size must be at least 1");
    if (timeout_ms < 1) throw std::invalid_argument("the timeout must be positive");
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = is_server != 0;
    opts.numWorkers = static_cast<size_t>(world_size);
    opts.waitWorkers = true;
    opts.timeout = std::chrono::milliseconds(timeout_ms);
    auto s = new Store{c10::make_intrusive<c10d::TCPStore>(std::string(host), opts)};
    *out = reinterpret_cast<dt_store>(s);
  });
}

int32_t dt_store_free(dt_store store) {
  return dt::guard("store_free", [&] { delete reinterpret_cast<Store*>(store); });
}

int32_t dt_pg_gloo_new(dt_store store, int32_t rank, int32_t world_size, int64_t timeout_ms, const char* device_host,
                       dt_process_group* out) {
  const std::string name = "ProcessGroupGloo (rank " + std::to_string(rank) + " of " + std::to_string(world_size) + ")";
  return dt::guard(name.c_str(), [&] {
    if (!store) throw std::invalid_argument("the store is null");
    if (world_size < 1 || rank < 0 || rank >= world_size)
      throw std::invalid_argument("the rank must be 0 to world size - 1");
    if (timeout_ms < 1) throw std::invalid_argument("the timeout must be positive");
    auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeout_ms));
    // Like torch.distributed: GLOO_SOCKET_IFNAME names the interface; else the given host's address; else
    // this machine's hostname (falling back to loopback).
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname && *ifname)
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (device_host && *device_host)
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(device_host));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    opts->threads = 2;
    auto& s = *reinterpret_cast<Store*>(store);
    auto g = new Group{c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, rank, world_size, opts), rank, world_size};
    *out = reinterpret_cast<dt_process_group>(g);
  });
}

int32_t dt_pg_free(dt_process_group pg) {
  return dt::guard("process_group_free", [&] { delete reinterpret_cast<Group*>(pg); });
}

int32_t dt_pg_allreduce(dt_process_group pg, const dt_tensor* tensors, int32_t count, int32_t op) {
  return collective("all_reduce", pg, [&] {
    auto list = dt::tensors(tensors, count);
    all_reduce(G(pg), list, op);
  });
}

int32_t dt_pg_broadcast(dt_process_group pg, const dt_tensor* tensors, int32_t count, int32_t root) {
  return collective("broadcast", pg, [&] {
    auto& g = G(pg);
    if (root < 0 || root >= g.world) throw std::invalid_argument("root rank " + std::to_string(root) + " is out of range");
    auto list = dt::tensors(tensors, count);
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.rootTensor = 0;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (size_t i = 0; i < list.size(); i++) {
      check_tensor(list[i], ("tensor " + std::to_string(i)).c_str());
      std::vector<at::Tensor> one{list[i]};
      works.push_back(g.pg->broadcast(one, opts));
    }
    wait_all(works);
  });
}

int32_t dt_pg_allgather(dt_process_group pg, dt_tensor input, dt_tensor* outs) {
  return collective("all_gather", pg, [&] {
    auto& g = G(pg);
    auto& x = T(input);
    check_tensor(x, "the input");
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int i = 0; i < g.world; i++) outputs[0].push_back(at::empty_like(x));
    std::vector<at::Tensor> inputs{x};
    std::vector<c10::intrusive_ptr<c10d::Work>> works{g.pg->allgather(outputs, inputs)};
    wait_all(works);
    for (int i = 0; i < g.world; i++) outs[i] = wrap(outputs[0][static_cast<size_t>(i)]);
  });
}

int32_t dt_pg_barrier(dt_process_group pg) {
  return collective("barrier", pg, [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works{G(pg).pg->barrier()};
    wait_all(works);
  });
}

int32_t dt_sync_batch_norm(dt_process_group pg, dt_tensor x, dt_tensor weight, dt_tensor bias, dt_tensor running_mean,
                           dt_tensor running_var, double momentum, double eps, dt_tensor* out) {
  std::string name = "sync_batch_norm";
  try {
    if (pg) name += where(G(pg));
  } catch (...) {
  }
  return dt::guard(name.c_str(), [&] {
    auto& input = T(x);
    if (input.dim() < 2) throw std::invalid_argument("the input needs at least 2 dimensions [N, C, ...]");
    auto& g = G(pg);
    *out = wrap(SyncBatchNormFn::apply(input, dt::opt(weight), dt::opt(bias), dt::opt(running_mean),
                                       dt::opt(running_var), momentum, eps, g.pg));
  }, x, weight);
}

#else  // DT_WITH_GLOO

int32_t dt_store_tcp_new(const char*, int32_t, int32_t, int32_t, int64_t, dt_store*) { return dt::fail("TCPStore rendezvous", kNoGloo); }
int32_t dt_store_free(dt_store store) { return DT_OK; }
int32_t dt_pg_gloo_new(dt_store, int32_t, int32_t, int64_t, const char*, dt_process_group*) { return dt::fail("ProcessGroupGloo", kNoGloo); }
int32_t dt_pg_free(dt_process_group pg) { return DT_OK; }
int32_t dt_pg_allreduce(dt_process_group, const dt_tensor*, int32_t, int32_t) { return dt::fail("all_reduce", kNoGloo); }
int32_t dt_pg_broadcast(dt_process_group, const dt_tensor*, int32_t, int32_t) { return dt::fail("broadcast", kNoGloo); }
int32_t dt_pg_allgather(dt_process_group, dt_tensor, dt_tensor*) { return dt::fail("all_gather", kNoGloo); }
int32_t dt_pg_barrier(dt_process_group) { return dt::fail("barrier", kNoGloo); }
int32_t dt_sync_batch_norm(dt_process_group, dt_tensor, dt_tensor, dt_tensor, dt_tensor, dt_tensor, double, double, dt_tensor*) {
  return dt::fail("sync_batch_norm", kNoGloo);
}

#endif  // DT_WITH_GLOO

}  // extern "C"
