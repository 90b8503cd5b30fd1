// Runtime queries, error text, tensor lifetime, metadata and host data transfer.
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstring>
#include <mutex>

#include "common.h"

namespace dt {

namespace {
thread_local std::string last_error;
}

void set_error(std::string message) { last_error = std::move(message); }

std::string clean_message(const char* what) {
  std::string s = what ? what : "";
  // libtorch appends "\nException raised from ... (most recent call first):" and a frame list.
  auto cut = s.find("\nException raised from");
  if (cut != std::string::npos) s.erase(cut);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

at::ScalarType to_scalar_type(int32_t dtype) {
  switch (dtype) {
    case DT_FLOAT32: return at::kFloat;
    case DT_FLOAT64: return at::kDouble;
    case DT_FLOAT16: return at::kHalf;
    case DT_BFLOAT16: return at::kBFloat16;
    case DT_INT64: return at::kLong;
    case DT_INT32: return at::kInt;
    case DT_UINT8: return at::kByte;
    case DT_BOOL: return at::kBool;
    case DT_INT8: return at::kChar;
    case DT_INT16: return at::kShort;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(dtype));
}

int32_t from_scalar_type(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return DT_FLOAT32;
    case at::kDouble: return DT_FLOAT64;
    case at::kHalf: return DT_FLOAT16;
    case at::kBFloat16: return DT_BFLOAT16;
    case at::kLong: return DT_INT64;
    case at::kInt: return DT_INT32;
    case at::kByte: return DT_UINT8;
    case at::kBool: return DT_BOOL;
    case at::kChar: return DT_INT8;
    case at::kShort: return DT_INT16;
    default: throw std::invalid_argument(std::string("dtype ") + c10::toString(type) + " is not supported by Distill");
  }
}

at::Device to_device(int32_t device_type, int32_t device_index) {
  switch (device_type) {
    case DT_CPU: return at::Device(at::kCPU);
    case DT_CUDA: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index));
    case DT_META: return at::Device(at::kMeta);
  }
  throw std::invalid_argument("unknown device type code " + std::to_string(device_type));
}

at::Scalar to_scalar(const dt_scalar& s) {
  switch (s.kind) {
    case DT_SCALAR_INT: return at::Scalar(s.i);
    case DT_SCALAR_BOOL: return at::Scalar(s.i != 0);
    default: return at::Scalar(s.f);
  }
}

at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index) {
  return at::TensorOptions().dtype(to_scalar_type(dtype)).device(to_device(device_type, device_index));
}

std::string shape_of(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

int32_t fail_list(const char* op, const char* what, const dt_tensor* list, int32_t count) {
  std::string shapes;
  for (int32_t i = 0; i < count; i++) shapes += (i ? ", " : "") + (list[i] ? shape_of(T(list[i])) : "none");
  set_error(std::string(op) + " (shapes " + shapes + "): " + clean_message(what));
  return DT_ERROR;
}

std::vector<at::Tensor> tensors(const dt_tensor* list, int32_t count) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; i++) v.push_back(opt(list[i]));
  return v;
}

}  // namespace dt

using dt::T;
using dt::wrap;

namespace {
// The visible CUDA devices through c10's device guard for CUDA (registered when libtorch_cuda loads). This,
// Context::hasCUDA and Context::defaultGenerator(Device) are the same from 1.13 through 2.x, where
// CUDAHooksInterface's getNumGPUs / getDefaultCUDAGenerator were renamed.
int32_t cuda_count() {
  if (!at::globalContext().hasCUDA() || !c10::impl::hasDeviceGuardImpl(at::kCUDA)) return 0;
  return static_cast<int32_t>(c10::impl::getDeviceGuardImpl(at::kCUDA)->deviceCount());
}
}  // namespace

extern "C" {

int32_t dt_abi_version(int32_t* version) {
  *version = DT_ABI_VERSION;
  return DT_OK;
}

int32_t dt_torch_version(const char** version) {
  static const std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                               "." + std::to_string(TORCH_VERSION_PATCH);
  *version = v.c_str();
  return DT_OK;
}

int32_t dt_last_error(const char** message) {
  *message = dt::last_error.c_str();
  return DT_OK;
}

int32_t dt_get_num_threads(int32_t* threads) { return dt::guard("get_num_threads", [&] { *threads = at::get_num_threads(); }); }
int32_t dt_set_num_threads(int32_t threads) { return dt::guard("set_num_threads", [&] { at::set_num_threads(threads); }); }

int32_t dt_set_allocator_policy(int64_t mmap_threshold, int64_t trim_threshold, int32_t* applied) {
  return dt::guard("set_allocator_policy", [&] {
    *applied = 0;
#if defined(__GLIBC__)
    auto ok = true;
    if (mmap_threshold > 0) {
      if (mmap_threshold > INT32_MAX) throw std::invalid_argument("mmap_threshold " + std::to_string(mmap_threshold) + " does not fit mallopt's int");
      ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold)) == 1 && ok;
    }
    if (trim_threshold > 0) {
      if (trim_threshold > INT32_MAX) throw std::invalid_argument("trim_threshold " + std::to_string(trim_threshold) + " does not fit mallopt's int");
      ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) == 1 && ok;
    }
    if (!ok) throw std::runtime_error("mallopt refused the allocator policy (mmap_threshold " + std::to_string(mmap_threshold) + ", trim_threshold " + std::to_string(trim_threshold) + ")");
    *applied = 1;
#endif
  });
}


int32_t dt_cuda_is_available(int32_t* available) {
  return dt::guard("cuda_is_available", [&] { *available = at::globalContext().hasCUDA() ? 1 : 0; });
}

int32_t dt_cuda_device_count(int32_t* count) {
  return dt::guard("cuda_device_count", [&] {
    *count = cuda_count();
  });
}

int32_t dt_cuda_device_info(int32_t index, char* name, int32_t name_capacity, int64_t* total_memory, int32_t* major,
                            int32_t* minor) {
  return dt::guard("cuda_device_info", [&] {
    // The driver API through dlopen: no CUDA headers or libraries at build time, so a CPU-only shim answers too.
    static void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!driver) throw std::runtime_error("no CUDA driver (libcuda.so.1 does not load)");
    using init_fn = int (*)(unsigned);
    using count_fn = int (*)(int*);
    using get_fn = int (*)(int*, int);
    using name_fn = int (*)(char*, int, int);
    using mem_fn = int (*)(size_t*, int);
    using attr_fn = int (*)(int*, int, int);
    auto sym = [](const char* n) {
      void* f = dlsym(driver, n);
      if (!f) throw std::runtime_error(std::string("the CUDA driver has no ") + n);
      return f;
    };
    auto check = [](int status, const char* what) {
      if (status != 0) throw std::runtime_error(std::string(what) + " failed with CUDA driver error " + std::to_string(status));
    };
    check(reinterpret_cast<init_fn>(sym("cuInit"))(0), "cuInit");
    int n = 0;
    check(reinterpret_cast<count_fn>(sym("cuDeviceGetCount"))(&n), "cuDeviceGetCount");
    if (index < 0 || index >= n)
      throw std::out_of_range("CUDA device " + std::to_string(index) + " does not exist (the driver sees " +
                              std::to_string(n) + ")");
    int device = 0;
    check(reinterpret_cast<get_fn>(sym("cuDeviceGet"))(&device, index), "cuDeviceGet");
    if (name && name_capacity > 0) {
      check(reinterpret_cast<name_fn>(sym("cuDeviceGetName"))(name, name_capacity, device), "cuDeviceGetName");
      name[name_capacity - 1] = 0;
    }
    size_t bytes = 0;
    check(reinterpret_cast<mem_fn>(sym("cuDeviceTotalMem_v2"))(&bytes, device), "cuDeviceTotalMem");
    *total_memory = static_cast<int64_t>(bytes);
    auto attr = reinterpret_cast<attr_fn>(sym("cuDeviceGetAttribute"));
    check(attr(major, 75, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)");
    check(attr(minor, 76, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)");
  });
}

int32_t dt_cuda_set_allow_tf32(int32_t cudnn, int32_t cublas) {
  return dt::guard("cuda_set_allow_tf32", [&] {
    at::globalContext().setAllowTF32CuDNN(cudnn != 0);
    at::globalContext().setAllowTF32CuBLAS(cublas != 0);
  });
}

int32_t dt_cuda_synchronize(int32_t index) {
  return dt::guard("cuda_synchronize", [&] {
    if (!at::globalContext().hasCUDA()) return;
    // A device-to-host copy waits for everything queued before it on the current stream, which is the only
    // stream Distill uses; the same call on every libtorch version.
    (void)at::zeros({1}, at::TensorOptions().device(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index))))
        .to(at::kCPU);
  });
}

int32_t dt_manual_seed(uint64_t seed) {
  return dt::guard("manual_seed", [&] {
    // As torch.manual_seed: the default CPU generator and every CUDA device's default generator.
    auto cpu = at::detail::getDefaultCPUGenerator();
    {
      std::lock_guard<std::mutex> lock(cpu.mutex());
      cpu.set_current_seed(seed);
    }
    {
      for (int32_t i = 0, n = cuda_count(); i < n; i++) {
        auto gen = at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(i)));
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_current_seed(seed);
      }
    }
  });
}

int32_t dt_global_rng_get_state(dt_tensor* out) {
  return dt::guard("rng_get_state", [&] {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = wrap(at::Tensor(gen.get_state()));
  });
}

int32_t dt_global_rng_set_state(dt_tensor state) {
  return dt::guard("rng_set_state", [&] {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(T(state));
  }, state);
}

int32_t dt_cuda_rng_get_state(int32_t index, dt_tensor* out) {
  return dt::guard("cuda_rng_get_state", [&] {
    if (index < 0 || index >= cuda_count()) throw std::out_of_range("CUDA device " + std::to_string(index) + " is not available");
    auto gen = at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index)));
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = wrap(at::Tensor(gen.get_state()));
  });
}

int32_t dt_cuda_rng_set_state(int32_t index, dt_tensor state) {
  return dt::guard("cuda_rng_set_state", [&] {
    if (index < 0 || index >= cuda_count()) throw std::out_of_range("CUDA device " + std::to_string(index) + " is not available");
    auto gen = at::globalContext().defaultGenerator(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index)));
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(T(state));
  }, state);
}

int32_t dt_tensor_set_data(dt_tensor t, dt_tensor source) {
  return dt::guard("set_data", [&] { T(t).set_data(T(source)); }, t, source);
}

int32_t dt_tensor_free(dt_tensor t) { return dt::guard("tensor_free", [&] { delete reinterpret_cast<at::Tensor*>(t); }); }

int32_t dt_tensor_info(dt_tensor t, int32_t* dtype, int32_t* device_type, int32_t* device_index, int32_t* ndim,
                       int32_t* requires_grad) {
  return dt::guard("tensor_info", [&] {
    const auto& x = T(t);
    *dtype = dt::from_scalar_type(x.scalar_type());
    switch (x.device().type()) {
      case at::kCPU: *device_type = DT_CPU; *device_index = -1; break;
      case at::kCUDA: *device_type = DT_CUDA; *device_index = x.device().index(); break;
      case at::kMeta: *device_type = DT_META; *device_index = -1; break;
      default: throw std::invalid_argument("the tensor is on device " + x.device().str() + ", which Distill does not support");
    }
    *ndim = static_cast<int32_t>(x.dim());
    *requires_grad = x.requires_grad() ? 1 : 0;
  });
}

int32_t dt_tensor_sizes(dt_tensor t, int64_t* sizes, int64_t* strides, int32_t capacity) {
  return dt::guard("tensor_sizes", [&] {
    const auto& x = T(t);
    if (capacity < x.dim()) throw std::invalid_argument("capacity below the tensor's dimension count");
    for (int64_t i = 0; i < x.dim(); i++) {
      if (sizes) sizes[i] = x.size(i);
      if (strides) strides[i] = x.stride(i);
    }
  });
}

int32_t dt_tensor_numel(dt_tensor t, int64_t* numel) { return dt::guard("tensor_numel", [&] { *numel = T(t).numel(); }); }

int32_t dt_tensor_from_data(const void* data, int64_t nbytes, const int64_t* sizes, int32_t ndim, int32_t dtype,
                            dt_tensor* out) {
  return dt::guard("from_data", [&] {
    auto t = at::empty(dt::ints(sizes, ndim), at::TensorOptions().dtype(dt::to_scalar_type(dtype)));
    const int64_t expected = t.numel() * static_cast<int64_t>(t.element_size());
    if (expected != nbytes)
      throw std::invalid_argument("the data holds " + std::to_string(nbytes) + " bytes but shape " +
                                  dt::shape_of(t) + " needs " + std::to_string(expected));
    if (nbytes > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(nbytes));
    *out = wrap(std::move(t));
  });
}

int32_t dt_tensor_copy_to(dt_tensor t, void* dst, int64_t nbytes) {
  return dt::guard("copy_to", [&] {
    auto x = T(t).detach().to(at::kCPU).contiguous();
    const int64_t have = x.numel() * static_cast<int64_t>(x.element_size());
    if (have != nbytes)
      throw std::invalid_argument("the destination holds " + std::to_string(nbytes) + " bytes but the tensor has " +
                                  std::to_string(have));
    if (nbytes > 0) std::memcpy(dst, x.data_ptr(), static_cast<size_t>(nbytes));
  }, t);
}

int32_t dt_tensor_data_ptr(dt_tensor t, void** ptr) { return dt::guard("data_ptr", [&] { *ptr = T(t).data_ptr(); }, t); }

int32_t dt_tensor_to(dt_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t copy,
                     int32_t non_blocking, dt_tensor* out) {
  return dt::guard("to", [&] {
    const auto& x = T(t);
    auto type = dtype < 0 ? x.scalar_type() : dt::to_scalar_type(dtype);
    auto device = device_type < 0 ? x.device() : dt::to_device(device_type, device_index);
    *out = wrap(x.to(device, type, non_blocking != 0, copy != 0));
  }, t);
}

int32_t dt_tensor_pin_memory(dt_tensor t, dt_tensor* out) {
  return dt::guard("pin_memory", [&] {
    if (!at::globalContext().hasCUDA())
      throw std::runtime_error("pinned host memory needs a CUDA build of libtorch and a GPU (cuda is not available)");
    *out = wrap(T(t).pin_memory());
  }, t);
}

int32_t dt_tensor_is_pinned(dt_tensor t, int32_t* pinned) {
  return dt::guard("is_pinned", [&] {
    *pinned = at::globalContext().hasCUDA() && T(t).is_cpu() && T(t).is_pinned() ? 1 : 0;
  }, t);
}

int32_t dt_tensor_same(dt_tensor a, dt_tensor b, int32_t* same) { return dt::guard("same", [&] { *same = T(a).is_same(T(b)) ? 1 : 0; }); }

}  // extern "C"
