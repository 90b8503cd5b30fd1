/*
 * distill_torch.h: the C ABI between libtorch and Distill.Torch. The only header the managed side mirrors.
 *
 * Rules (DEVELOPERS.md): C exports only; fixed-width integers; every export returns a status
 * (DT_OK or DT_ERROR); on DT_ERROR the message is kept in a thread-local string read with
 * dt_last_error; no C++ exception crosses this boundary. Handles are opaque pointers owned by the
 * caller and released with dt_tensor_free / dt_generator_free / dt_guard_free.
 */
#ifndef DISTILL_TORCH_H
#define DISTILL_TORCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DT_BUILDING_SHIM)
#define DT_API __attribute__((visibility("default")))
#else
#define DT_API
#endif

/* Bump when any signature or enum value below changes; the managed loader refuses a mismatch. */
#define DT_ABI_VERSION 10

#define DT_OK 0
#define DT_ERROR 1

typedef struct dt_tensor_s* dt_tensor;
typedef struct dt_generator_s* dt_generator;
typedef struct dt_guard_s* dt_guard;
typedef struct dt_store_s* dt_store;
typedef struct dt_process_group_s* dt_process_group;

/* Our dtype enum: stable across libtorch versions (ScalarType values are not part of our ABI). */
enum dt_dtype {
  DT_FLOAT32 = 0, DT_FLOAT64 = 1, DT_FLOAT16 = 2, DT_BFLOAT16 = 3,
  DT_INT64 = 4, DT_INT32 = 5, DT_UINT8 = 6, DT_BOOL = 7, DT_INT8 = 8, DT_INT16 = 9
};
/* DT_META: shapes and dtypes only, no data (libtorch's meta device; tests use it to find tensors made on the wrong device). */
enum dt_device_type { DT_CPU = 0, DT_CUDA = 1, DT_META = 2 };

/* A Python-like scalar: kind says whether f, i or the boolean in i is meant (type promotion depends on it). */
enum dt_scalar_kind { DT_SCALAR_FLOAT = 0, DT_SCALAR_INT = 1, DT_SCALAR_BOOL = 2 };
typedef struct dt_scalar { double f; int64_t i; int32_t kind; int32_t pad_; } dt_scalar;

/* ---- core.cpp: runtime, lifetime, metadata, data transfer -------------------------------------- */
DT_API int32_t dt_abi_version(int32_t* version);
DT_API int32_t dt_torch_version(const char** version);
DT_API int32_t dt_last_error(const char** message);
DT_API int32_t dt_get_num_threads(int32_t* threads);
DT_API int32_t dt_set_num_threads(int32_t threads);
/* The C allocator's policy for large blocks (glibc's mallopt): blocks of at least mmap_threshold bytes are mapped
   fresh from the kernel and unmapped on free, and the heap's free top is given back once it exceeds
   trim_threshold bytes. Tensors are large, short-lived and of recurring sizes: the defaults (a threshold that grows
   only as blocks are freed, a trim threshold of twice it) make every training step fault its activations' pages in
   again. A value <= 0 leaves that setting alone. *applied is 1 when the C library took both (glibc), 0 when it has no
   such settings. */
DT_API int32_t dt_set_allocator_policy(int64_t mmap_threshold, int64_t trim_threshold, int32_t* applied);
/* ---- allocator.cpp: the tensor block cache -------------------------------------------------------------------------
   Makes libtorch's CPU tensors of 1 MiB or more come from a cache of mapped blocks that keeps freed blocks for the next
   request of the same size class (at most 12.5 % larger), within twice the high-water mark of live bytes; smaller
   tensors keep libtorch's own allocator. *applied is 1 when libtorch took the allocator. */
DT_API int32_t dt_use_tensor_cache(int32_t* applied);
/* The cache's bytes handed out, bytes kept for reuse, high-water mark of live bytes, requests served from the cache
   and requests that mapped a new block. */
DT_API int32_t dt_tensor_cache_stats(int64_t* live, int64_t* cached, int64_t* peak, int64_t* hits, int64_t* misses);
/* Unmaps every cached block and restarts the high-water mark from what is live. */
DT_API int32_t dt_tensor_cache_trim(void);
DT_API int32_t dt_cuda_is_available(int32_t* available);
DT_API int32_t dt_cuda_device_count(int32_t* count);
/* Facts about CUDA device `index` from the CUDA driver (libcuda.so.1, opened at run time, so a CPU-only
   build answers too): name (NUL-terminated, cut to capacity), total memory in bytes, compute capability.
   DT_ERROR names why (no driver, index out of range). */
DT_API int32_t dt_cuda_device_info(int32_t index, char* name, int32_t name_capacity, int64_t* total_memory,
                                   int32_t* major, int32_t* minor);
/* Whether convolutions (cuDNN) and matrix products (cuBLAS) may use TF32 on Ampere and later GPUs
   (torch.backends.cudnn.allow_tf32 / torch.backends.cuda.matmul.allow_tf32; libtorch's defaults: 1 and 0). */
DT_API int32_t dt_cuda_set_allow_tf32(int32_t cudnn, int32_t cublas);
/* Waits for every kernel queued on CUDA device `index` (a no-op when CUDA is not available). */
DT_API int32_t dt_cuda_synchronize(int32_t index);
DT_API int32_t dt_manual_seed(uint64_t seed);
/* The default CPU generator's full state (a UInt8 tensor), for checkpoints that resume bit-exact. */
DT_API int32_t dt_global_rng_get_state(dt_tensor* out);
DT_API int32_t dt_global_rng_set_state(dt_tensor state);
/* CUDA device `index`'s default generator state (torch.cuda.get_rng_state / set_rng_state); DT_ERROR without CUDA. */
DT_API int32_t dt_cuda_rng_get_state(int32_t index, dt_tensor* out);
DT_API int32_t dt_cuda_rng_set_state(int32_t index, dt_tensor state);

DT_API int32_t dt_tensor_free(dt_tensor t);
DT_API int32_t dt_tensor_info(dt_tensor t, int32_t* dtype, int32_t* device_type, int32_t* device_index,
                              int32_t* ndim, int32_t* requires_grad);
DT_API int32_t dt_tensor_sizes(dt_tensor t, int64_t* sizes, int64_t* strides, int32_t capacity);
DT_API int32_t dt_tensor_numel(dt_tensor t, int64_t* numel);
DT_API int32_t dt_tensor_from_data(const void* data, int64_t nbytes, const int64_t* sizes, int32_t ndim,
                                   int32_t dtype, dt_tensor* out);
DT_API int32_t dt_tensor_copy_to(dt_tensor t, void* dst, int64_t nbytes);
DT_API int32_t dt_tensor_data_ptr(dt_tensor t, void** ptr);
/* non_blocking: the copy may overlap with host work (host to CUDA from pinned memory, CUDA to CUDA). */
DT_API int32_t dt_tensor_to(dt_tensor t, int32_t dtype, int32_t device_type, int32_t device_index,
                            int32_t copy, int32_t non_blocking, dt_tensor* out);
/* A copy of a CPU tensor in page-locked host memory (needs a CUDA build with a GPU; DT_ERROR otherwise). */
DT_API int32_t dt_tensor_pin_memory(dt_tensor t, dt_tensor* out);
DT_API int32_t dt_tensor_is_pinned(dt_tensor t, int32_t* pinned);
DT_API int32_t dt_tensor_same(dt_tensor a, dt_tensor b, int32_t* same);
/* t.set_data(source): t keeps its identity (and autograd leaf status) but takes source's storage, dtype and device. */
DT_API int32_t dt_tensor_set_data(dt_tensor t, dt_tensor source);

/* ---- factories.cpp ------------------------------------------------------------------------------ */
DT_API int32_t dt_generator_new(uint64_t seed, dt_generator* out);
DT_API int32_t dt_generator_free(dt_generator g);
DT_API int32_t dt_generator_seed(dt_generator g, uint64_t seed);
DT_API int32_t dt_generator_get_state(dt_generator g, dt_tensor* out);
DT_API int32_t dt_generator_set_state(dt_generator g, dt_tensor state);

DT_API int32_t dt_empty(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type,
                        int32_t device_index, dt_tensor* out);
DT_API int32_t dt_full(const int64_t* sizes, int32_t ndim, dt_scalar value, int32_t dtype, int32_t device_type,
                       int32_t device_index, dt_tensor* out);
DT_API int32_t dt_arange(dt_scalar start, dt_scalar end, dt_scalar step, int32_t dtype, int32_t device_type,
                         int32_t device_index, dt_tensor* out);
DT_API int32_t dt_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t device_type,
                           int32_t device_index, dt_tensor* out);
DT_API int32_t dt_eye(int64_t n, int64_t m, int32_t dtype, int32_t device_type, int32_t device_index, dt_tensor* out);
enum dt_random_op { DT_RAND = 0, DT_RANDN = 1 };
DT_API int32_t dt_random(int32_t op, const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type,
                         int32_t device_index, dt_generator gen, dt_tensor* out);
DT_API int32_t dt_randint(int64_t low, int64_t high, const int64_t* sizes, int32_t ndim, int32_t dtype,
                          int32_t device_type, int32_t device_index, dt_generator gen, dt_tensor* out);
DT_API int32_t dt_randperm(int64_t n, int32_t dtype, int32_t device_type, int32_t device_index, dt_generator gen,
                           dt_tensor* out);
/* In-place fills used by initialisers: uniform_(a, b), normal_(mean=a, std=b), bernoulli_(p=a), and
   random_() (integers over the dtype's range, as torch.Tensor.random_ with no bounds). */
enum dt_random_fill_op { DT_FILL_UNIFORM = 0, DT_FILL_NORMAL = 1, DT_FILL_BERNOULLI = 2, DT_FILL_RANDOM = 3 };
DT_API int32_t dt_random_(int32_t op, dt_tensor t, double a, double b, dt_generator gen);

/* ---- shape.cpp ---------------------------------------------------------------------------------- */
enum dt_shape_list_op { DT_VIEW = 0, DT_RESHAPE = 1, DT_PERMUTE = 2, DT_EXPAND = 3, DT_REPEAT = 4, DT_FLIP = 5,
                        DT_SQUEEZE_DIMS = 6 };
DT_API int32_t dt_shape_list(int32_t op, dt_tensor t, const int64_t* values, int32_t count, dt_tensor* out);
enum dt_shape_int_op { DT_TRANSPOSE = 0, DT_NARROW = 1, DT_SELECT = 2, DT_SLICE = 3, DT_FLATTEN = 4,
                       DT_SQUEEZE = 5, DT_SQUEEZE_ALL = 6, DT_UNSQUEEZE = 7, DT_CONTIGUOUS = 8, DT_CLONE = 9,
                       DT_DETACH = 10, DT_ALIAS = 11, DT_CONTIGUOUS_CHANNELS_LAST = 12 };
/* DT_ALIAS: a second handle to the same tensor (same storage, same autograd identity), released separately.
   DT_CONTIGUOUS_CHANNELS_LAST: a 4-d tensor with NHWC strides (at::MemoryFormat::ChannelsLast), itself when it has them. */
DT_API int32_t dt_shape_int(int32_t op, dt_tensor t, int64_t a, int64_t b, int64_t c, int64_t d, dt_tensor* out);
enum dt_split_op { DT_SPLIT = 0, DT_CHUNK = 1 };
DT_API int32_t dt_split(int32_t op, dt_tensor t, int64_t size_or_chunks, int64_t dim, dt_tensor* outs,
                        int64_t capacity, int64_t* count);
enum dt_join_op { DT_CAT = 0, DT_STACK = 1 };
DT_API int32_t dt_join(int32_t op, const dt_tensor* tensors, int32_t count, int64_t dim, dt_tensor* out);
enum dt_index_op { DT_INDEX_SELECT = 0, DT_GATHER = 1 };
DT_API int32_t dt_index(int32_t op, dt_tensor t, int64_t dim, dt_tensor index, dt_tensor* out);
enum dt_scatter_op { DT_SCATTER = 0, DT_SCATTER_ADD = 1 };
DT_API int32_t dt_scatter(int32_t op, dt_tensor t, int64_t dim, dt_tensor index, dt_tensor src, dt_tensor* out);
/* In place: t.index_copy_(dim, index, src) (memory banks and queues). */
DT_API int32_t dt_index_copy_(dt_tensor t, int64_t dim, dt_tensor index, dt_tensor src);
DT_API int32_t dt_scatter_value(dt_tensor t, int64_t dim, dt_tensor index, dt_scalar value, dt_tensor* out);
DT_API int32_t dt_masked_fill(dt_tensor t, dt_tensor mask, dt_scalar value, int32_t in_place, dt_tensor* out);
DT_API int32_t dt_masked_select(dt_tensor t, dt_tensor mask, dt_tensor* out);
DT_API int32_t dt_where(dt_tensor condition, dt_tensor a, dt_tensor b, dt_tensor* out);
enum dt_pad_mode { DT_PAD_CONSTANT = 0, DT_PAD_REFLECT = 1, DT_PAD_REPLICATE = 2, DT_PAD_CIRCULAR = 3 };
DT_API int32_t dt_pad(dt_tensor t, const int64_t* pads, int32_t count, int32_t mode, double value, dt_tensor* out);

/* ---- math.cpp ----------------------------------------------------------------------------------- */
enum dt_unary_op {
  DT_NEG = 0, DT_ABS = 1, DT_EXP = 2, DT_LOG = 3, DT_LOG1P = 4, DT_SQRT = 5, DT_RSQRT = 6, DT_SIGMOID = 7,
  DT_TANH = 8, DT_SIGN = 9, DT_RELU = 10, DT_RELU6 = 11, DT_GELU = 12, DT_GELU_TANH = 13, DT_SILU = 14,
  DT_HARDSWISH = 15, DT_HARDSIGMOID = 16, DT_FLOOR = 17, DT_CEIL = 18, DT_ROUND = 19, DT_RECIPROCAL = 20,
  DT_SIN = 21, DT_COS = 22, DT_LOGICAL_NOT = 23, DT_ISNAN = 24, DT_ISFINITE = 25, DT_ERF = 26, DT_SQUARE = 27,
  DT_EXPM1 = 28, DT_LOG2 = 29
};
DT_API int32_t dt_unary(int32_t op, dt_tensor t, dt_tensor* out);
/* In-place variants of a subset (zero_ is DT_NEG..? no: see dt_unary_ for the accepted ops). */
enum dt_unary_inplace_op { DT_ZERO_ = 0, DT_RELU_ = 1, DT_NEG_ = 2, DT_SQRT_ = 3, DT_EXP_ = 4, DT_SIGMOID_ = 5 };
DT_API int32_t dt_unary_(int32_t op, dt_tensor t);

enum dt_binary_op {
  DT_ADD = 0, DT_SUB = 1, DT_MUL = 2, DT_DIV = 3, DT_POW = 4, DT_MINIMUM = 5, DT_MAXIMUM = 6,
  DT_EQ = 7, DT_NE = 8, DT_LT = 9, DT_LE = 10, DT_GT = 11, DT_GE = 12, DT_MATMUL = 13, DT_BMM = 14,
  DT_LOGICAL_AND = 15, DT_LOGICAL_OR = 16, DT_REMAINDER = 17, DT_FLOOR_DIVIDE = 18, DT_ATAN2 = 19,
  DT_RSUB = 20, DT_RDIV = 21, DT_RPOW = 22
};
/* alpha scales b for DT_ADD / DT_SUB (a + alpha * b), as torch.add does; ignored otherwise. */
DT_API int32_t dt_binary(int32_t op, dt_tensor a, dt_tensor b, dt_scalar alpha, dt_tensor* out);
/* Tensor-scalar form; DT_RSUB / DT_RDIV / DT_RPOW compute scalar - t, scalar / t, scalar ** t. */
DT_API int32_t dt_binary_scalar(int32_t op, dt_tensor a, dt_scalar b, dt_tensor* out);
enum dt_inplace_op { DT_ADD_ = 0, DT_SUB_ = 1, DT_MUL_ = 2, DT_DIV_ = 3, DT_COPY_ = 4, DT_MAXIMUM_ = 5 };
DT_API int32_t dt_binary_(int32_t op, dt_tensor a, dt_tensor b, dt_scalar alpha);
DT_API int32_t dt_binary_scalar_(int32_t op, dt_tensor a, dt_scalar b);
DT_API int32_t dt_fill_(dt_tensor t, dt_scalar value);
/* a += value * t1 * t2 (addcmul_) or a += value * t1 / t2 (addcdiv_). */
enum dt_ternary_inplace_op { DT_ADDCMUL_ = 0, DT_ADDCDIV_ = 1 };
DT_API int32_t dt_ternary_(int32_t op, dt_tensor a, dt_tensor t1, dt_tensor t2, dt_scalar value);
DT_API int32_t dt_lerp_(dt_tensor a, dt_tensor end, dt_tensor weight_or_null, dt_scalar weight);
DT_API int32_t dt_clamp(dt_tensor t, int32_t has_min, dt_scalar min, int32_t has_max, dt_scalar max,
                        int32_t in_place, dt_tensor* out);
DT_API int32_t dt_einsum(const char* equation, const dt_tensor* tensors, int32_t count, dt_tensor* out);

/* ---- reduce.cpp --------------------------------------------------------------------------------- */
/* Reductions over dims (count 0 = all dims). dtype -1 keeps torch's default result type. */
enum dt_reduce_op { DT_SUM = 0, DT_MEAN = 1, DT_AMAX = 2, DT_AMIN = 3, DT_LOGSUMEXP = 4, DT_ALL = 5, DT_ANY = 6,
                    DT_PROD = 7 };
DT_API int32_t dt_reduce(int32_t op, dt_tensor t, const int64_t* dims, int32_t count, int32_t keepdim,
                         int32_t dtype, dt_tensor* out);
enum dt_moment_op { DT_VAR = 0, DT_STD = 1 };
DT_API int32_t dt_moment(int32_t op, dt_tensor t, const int64_t* dims, int32_t count, int32_t unbiased,
                         int32_t keepdim, dt_tensor* out);
DT_API int32_t dt_norm(dt_tensor t, double p, const int64_t* dims, int32_t count, int32_t keepdim, dt_tensor* out);
enum dt_indexed_reduce_op { DT_MAX_DIM = 0, DT_MIN_DIM = 1 };
DT_API int32_t dt_reduce_indexed(int32_t op, dt_tensor t, int64_t dim, int32_t keepdim, dt_tensor* values,
                                 dt_tensor* indices);
enum dt_arg_op { DT_ARGMAX = 0, DT_ARGMIN = 1 };
/* has_dim 0 reduces the flattened tensor, as torch.argmax(t) does. */
DT_API int32_t dt_arg(int32_t op, dt_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim, dt_tensor* out);
DT_API int32_t dt_topk(dt_tensor t, int64_t k, int64_t dim, int32_t largest, int32_t sorted, dt_tensor* values,
                       dt_tensor* indices);
DT_API int32_t dt_sort(dt_tensor t, int64_t dim, int32_t descending, int32_t stable, dt_tensor* values,
                       dt_tensor* indices);
DT_API int32_t dt_cumsum(dt_tensor t, int64_t dim, dt_tensor* out);

/* ---- nn.cpp: functional layers ------------------------------------------------------------------ */
/* Optional tensors are passed as NULL. Pairs (stride, padding, ...) are int64_t[2]. */
DT_API int32_t dt_conv2d(dt_tensor x, dt_tensor w, dt_tensor b, const int64_t* stride, const int64_t* padding,
                         const int64_t* dilation, int64_t groups, dt_tensor* out);
DT_API int32_t dt_conv_transpose2d(dt_tensor x, dt_tensor w, dt_tensor b, const int64_t* stride,
                                   const int64_t* padding, const int64_t* output_padding, int64_t groups,
                                   const int64_t* dilation, dt_tensor* out);
DT_API int32_t dt_linear(dt_tensor x, dt_tensor w, dt_tensor b, dt_tensor* out);
DT_API int32_t dt_batch_norm(dt_tensor x, dt_tensor w, dt_tensor b, dt_tensor running_mean, dt_tensor running_var,
                             int32_t training, double momentum, double eps, dt_tensor* out);
DT_API int32_t dt_layer_norm(dt_tensor x, const int64_t* normalized_shape, int32_t count, dt_tensor w, dt_tensor b,
                             double eps, dt_tensor* out);
DT_API int32_t dt_group_norm(dt_tensor x, int64_t groups, dt_tensor w, dt_tensor b, double eps, dt_tensor* out);
DT_API int32_t dt_leaky_relu(dt_tensor x, double slope, dt_tensor* out);
enum dt_softmax_op { DT_SOFTMAX = 0, DT_LOG_SOFTMAX = 1 };
DT_API int32_t dt_softmax(int32_t op, dt_tensor x, int64_t dim, dt_tensor* out);
DT_API int32_t dt_dropout(dt_tensor x, double p, int32_t training, dt_tensor* out);
/* kernel, stride, padding, dilation: int64_t[2]. */
DT_API int32_t dt_max_pool2d(dt_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding,
                             const int64_t* dilation, int32_t ceil_mode, dt_tensor* out);
/* divisor 0 means none. */
DT_API int32_t dt_avg_pool2d(dt_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding,
                             int32_t ceil_mode, int32_t count_include_pad, int64_t divisor, dt_tensor* out);
enum dt_adaptive_op { DT_ADAPTIVE_AVG = 0, DT_ADAPTIVE_MAX = 1 };
DT_API int32_t dt_adaptive_pool2d(int32_t op, dt_tensor x, const int64_t* output_size, dt_tensor* out);
enum dt_interp_mode { DT_NEAREST = 0, DT_BILINEAR = 1 };
/* size NULL: scale (double[2]) is used. align_corners: 0/1, or -1 for unset (nearest). */
DT_API int32_t dt_interpolate(dt_tensor x, int32_t mode, const int64_t* size, const double* scale,
                              int32_t align_corners, dt_tensor* out);
DT_API int32_t dt_one_hot(dt_tensor t, int64_t num_classes, dt_tensor* out);
DT_API int32_t dt_embedding(dt_tensor weight, dt_tensor indices, int64_t padding_idx, dt_tensor* out);
DT_API int32_t dt_cosine_similarity(dt_tensor a, dt_tensor b, int64_t dim, double eps, dt_tensor* out);
DT_API int32_t dt_normalize(dt_tensor x, double p, int64_t dim, double eps, dt_tensor* out);
/* softmax(q k^T * scale + mask) v with dropout p; is_causal masks the upper triangle; scale <= 0: 1/sqrt(E). */
DT_API int32_t dt_attention(dt_tensor q, dt_tensor k, dt_tensor v, dt_tensor mask, double dropout_p,
                            int32_t is_causal, double scale, dt_tensor* out);

/* ---- loss.cpp ------------------------------------------------------------------------------------ */
enum dt_reduction { DT_REDUCTION_NONE = 0, DT_REDUCTION_MEAN = 1, DT_REDUCTION_SUM = 2, DT_REDUCTION_BATCHMEAN = 3 };
DT_API int32_t dt_cross_entropy(dt_tensor x, dt_tensor target, dt_tensor weight, int32_t reduction,
                                int64_t ignore_index, double label_smoothing, dt_tensor* out);
DT_API int32_t dt_nll_loss(dt_tensor x, dt_tensor target, dt_tensor weight, int32_t reduction, int64_t ignore_index,
                           dt_tensor* out);
DT_API int32_t dt_kl_div(dt_tensor x, dt_tensor target, int32_t reduction, int32_t log_target, dt_tensor* out);
enum dt_pointwise_loss { DT_MSE = 0, DT_L1 = 1, DT_SMOOTH_L1 = 2 };
DT_API int32_t dt_pointwise_loss(int32_t op, dt_tensor x, dt_tensor target, int32_t reduction, double beta,
                                 dt_tensor* out);
DT_API int32_t dt_bce_with_logits(dt_tensor x, dt_tensor target, dt_tensor weight, dt_tensor pos_weight,
                                  int32_t reduction, dt_tensor* out);

/* ---- autograd.cpp -------------------------------------------------------------------------------- */
DT_API int32_t dt_set_requires_grad(dt_tensor t, int32_t requires_grad);
DT_API int32_t dt_is_leaf(dt_tensor t, int32_t* leaf);
/* *out is NULL when the tensor has no gradient. */
DT_API int32_t dt_get_grad(dt_tensor t, dt_tensor* out);
DT_API int32_t dt_set_grad(dt_tensor t, dt_tensor grad_or_null);
DT_API int32_t dt_retain_grad(dt_tensor t);
/* grad_outputs may be NULL, or hold NULL entries (implicit ones for scalars). */
DT_API int32_t dt_backward(const dt_tensor* tensors, int32_t count, const dt_tensor* grad_outputs,
                           int32_t retain_graph, int32_t create_graph);
/* outs[i] is NULL for an unused input when allow_unused is set. */
DT_API int32_t dt_autograd_grad(const dt_tensor* outputs, int32_t output_count, const dt_tensor* grad_outputs,
                                const dt_tensor* inputs, int32_t input_count, int32_t retain_graph,
                                int32_t create_graph, int32_t allow_unused, dt_tensor* outs);
DT_API int32_t dt_grad_enabled(int32_t* enabled);
DT_API int32_t dt_set_grad_enabled(int32_t enabled);
/* Inference mode is an RAII guard in libtorch: enter returns it, free leaves it (same thread, LIFO). */
DT_API int32_t dt_inference_mode_enter(dt_guard* guard);
DT_API int32_t dt_guard_free(dt_guard guard);
DT_API int32_t dt_is_inference_mode(int32_t* enabled);
/* Identity forward; backward multiplies the incoming gradient by -scale (CTKD's gradient reversal). */
DT_API int32_t dt_gradient_reversal(dt_tensor t, double scale, dt_tensor* out);

/* ---- image.cpp: decoding for class-per-folder data sets ---------------------------------------------- */
/* Decodes PNG/JPEG/BMP/... bytes to a UInt8 tensor [H, W, C] in RGB order (C = 1 for channels 1, 3 for
   channels 3, the file's own for channels 0). DT_ERROR names the problem (not an image, no OpenCV). */
DT_API int32_t dt_image_decode(const uint8_t* data, int64_t length, int32_t channels, dt_tensor* out);
/* Encodes a UInt8 [H, W, C] RGB (or [H, W, 1] grey) tensor as PNG bytes into a UInt8 1-d tensor (tests write images). */
DT_API int32_t dt_image_encode_png(dt_tensor image, dt_tensor* out);

/* ---- distributed.cpp: c10d rendezvous and Gloo collectives for data-parallel training ------------------ */
/* 1 when the shim was built with Gloo (libgloo-dev's headers); without it every other export below fails with
   "built without data-parallel support". */
DT_API int32_t dt_distributed_available(int32_t* available);
/* A TCPStore at host:port; the server (rank 0) waits until world_size clients joined. timeout_ms bounds the
   rendezvous and every later store access. Released with dt_store_free. */
DT_API int32_t dt_store_tcp_new(const char* host, int32_t port, int32_t is_server, int32_t world_size,
                                int64_t timeout_ms, dt_store* out);
DT_API int32_t dt_store_free(dt_store store);
/* A Gloo process group over the store (which it keeps alive). Its transport binds to GLOO_SOCKET_IFNAME when
   set, else to device_host's address when given, else to this machine's hostname. timeout_ms bounds every
   collective. Released with dt_pg_free. */
DT_API int32_t dt_pg_gloo_new(dt_store store, int32_t rank, int32_t world_size, int64_t timeout_ms,
                              const char* device_host, dt_process_group* out);
DT_API int32_t dt_pg_free(dt_process_group pg);
/* Collectives over dense contiguous CPU tensors; each waits for its result and fails with the c10d error
   (timeout, closed peer). op: 0 sum, 1 average (sum, then divided by the world size), 2 max, 3 min. */
DT_API int32_t dt_pg_allreduce(dt_process_group pg, const dt_tensor* tensors, int32_t count, int32_t op);
DT_API int32_t dt_pg_broadcast(dt_process_group pg, const dt_tensor* tensors, int32_t count, int32_t root);
/* outs receives world-size new tensors, rank r's input at index r. */
DT_API int32_t dt_pg_allgather(dt_process_group pg, dt_tensor input, dt_tensor* outs);
DT_API int32_t dt_pg_barrier(dt_process_group pg);
/* Training-mode batch normalisation of x [N, C, ...] with statistics over every rank's batch (all-reduced in
   float64), running statistics updated with momentum (the variance unbiased with the global count); its
   backward all-reduces the per-channel sums of dy and dy * (x - mean). weight, bias, running_mean and
   running_var may be NULL. */
DT_API int32_t dt_sync_batch_norm(dt_process_group pg, dt_tensor x, dt_tensor weight, dt_tensor bias,
                                  dt_tensor running_mean, dt_tensor running_var, double momentum, double eps,
                                  dt_tensor* out);

#ifdef __cplusplus
}
#endif

#endif /* DISTILL_TORCH_H */
