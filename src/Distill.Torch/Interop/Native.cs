using System.Runtime.InteropServices;

namespace Distill.Torch.Interop;

/// <summary>
/// The P/Invoke surface of native/include/distill_torch.h. Every export returns a status; callers pass it
/// to <see cref="NativeStatus.Check"/>. Tensor arguments are <see cref="TensorHandle"/>s (the marshaller
/// keeps them alive for the call); optional tensors use <see cref="TensorHandle.Null"/>; lists are raw
/// handle arrays built by <see cref="HandleList"/>.
/// </summary>
internal static unsafe partial class Native
{
    internal const string Library = "distill_torch";

    // ---- core ----
    [LibraryImport(Library)] internal static partial int dt_abi_version(out int version);
    [LibraryImport(Library)] internal static partial int dt_torch_version(out byte* version);
    [LibraryImport(Library)] internal static partial int dt_last_error(out byte* message);
    [LibraryImport(Library)] internal static partial int dt_get_num_threads(out int threads);
    [LibraryImport(Library)] internal static partial int dt_set_num_threads(int threads);
    [LibraryImport(Library)] internal static partial int dt_tensor_cache_stats(out long live, out long cached, out long peak, out long hits, out long misses);
    [LibraryImport(Library)] internal static partial int dt_tensor_cache_trim();
    [LibraryImport(Library)] internal static partial int dt_cuda_is_available(out int available);
    [LibraryImport(Library)] internal static partial int dt_cuda_device_count(out int count);
    [LibraryImport(Library)] internal static partial int dt_cuda_device_info(int index, byte* name, int nameCapacity, out long totalMemory, out int major, out int minor);
    [LibraryImport(Library)] internal static partial int dt_cuda_synchronize(int index);
    [LibraryImport(Library)] internal static partial int dt_cuda_set_allow_tf32(int cudnn, int cublas);
    [LibraryImport(Library)] internal static partial int dt_cuda_rng_get_state(int index, out IntPtr state);
    [LibraryImport(Library)] internal static partial int dt_cuda_rng_set_state(int index, TensorHandle state);
    [LibraryImport(Library)] internal static partial int dt_manual_seed(ulong seed);
    [LibraryImport(Library)] internal static partial int dt_global_rng_get_state(out IntPtr state);
    [LibraryImport(Library)] internal static partial int dt_global_rng_set_state(TensorHandle state);
    [LibraryImport(Library)] internal static partial int dt_tensor_set_data(TensorHandle t, TensorHandle source);
    [LibraryImport(Library)] internal static partial int dt_tensor_free(IntPtr t);
    [LibraryImport(Library)] internal static partial int dt_tensor_info(TensorHandle t, out int dtype, out int deviceType, out int deviceIndex, out int ndim, out int requiresGrad);
    [LibraryImport(Library)] internal static partial int dt_tensor_sizes(TensorHandle t, long* sizes, long* strides, int capacity);
    [LibraryImport(Library)] internal static partial int dt_tensor_numel(TensorHandle t, out long numel);
    [LibraryImport(Library)] internal static partial int dt_tensor_from_data(void* data, long nbytes, long* sizes, int ndim, int dtype, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_tensor_copy_to(TensorHandle t, void* destination, long nbytes);
    [LibraryImport(Library)] internal static partial int dt_tensor_data_ptr(TensorHandle t, out IntPtr pointer);
    [LibraryImport(Library)] internal static partial int dt_tensor_to(TensorHandle t, int dtype, int deviceType, int deviceIndex, int copy, int nonBlocking, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_tensor_pin_memory(TensorHandle t, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_tensor_is_pinned(TensorHandle t, out int pinned);
    [LibraryImport(Library)] internal static partial int dt_tensor_same(TensorHandle a, TensorHandle b, out int same);

    // ---- factories ----
    [LibraryImport(Library)] internal static partial int dt_generator_new(ulong seed, out IntPtr generator);
    [LibraryImport(Library)] internal static partial int dt_generator_free(IntPtr generator);
    [LibraryImport(Library)] internal static partial int dt_generator_seed(GeneratorHandle generator, ulong seed);
    [LibraryImport(Library)] internal static partial int dt_generator_get_state(GeneratorHandle generator, out IntPtr state);
    [LibraryImport(Library)] internal static partial int dt_generator_set_state(GeneratorHandle generator, TensorHandle state);
    [LibraryImport(Library)] internal static partial int dt_empty(long* sizes, int ndim, int dtype, int deviceType, int deviceIndex, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_full(long* sizes, int ndim, NativeScalar value, int dtype, int deviceType, int deviceIndex, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_arange(NativeScalar start, NativeScalar end, NativeScalar step, int dtype, int deviceType, int deviceIndex, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_linspace(double start, double end, long steps, int dtype, int deviceType, int deviceIndex, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_eye(long n, long m, int dtype, int deviceType, int deviceIndex, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_random(int op, long* sizes, int ndim, int dtype, int deviceType, int deviceIndex, GeneratorHandle generator, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_randint(long low, long high, long* sizes, int ndim, int dtype, int deviceType, int deviceIndex, GeneratorHandle generator, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_randperm(long n, int dtype, int deviceType, int deviceIndex, GeneratorHandle generator, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_random_(int op, TensorHandle t, double a, double b, GeneratorHandle generator);

    // ---- shape ----
    [LibraryImport(Library)] internal static partial int dt_shape_list(int op, TensorHandle t, long* values, int count, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_shape_int(int op, TensorHandle t, long a, long b, long c, long d, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_split(int op, TensorHandle t, long sizeOrChunks, long dim, IntPtr* outs, long capacity, out long count);
    [LibraryImport(Library)] internal static partial int dt_join(int op, IntPtr* tensors, int count, long dim, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_index_copy_(TensorHandle t, long dim, TensorHandle index, TensorHandle source);
    [LibraryImport(Library)] internal static partial int dt_index(int op, TensorHandle t, long dim, TensorHandle index, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_scatter(int op, TensorHandle t, long dim, TensorHandle index, TensorHandle source, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_scatter_value(TensorHandle t, long dim, TensorHandle index, NativeScalar value, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_masked_fill(TensorHandle t, TensorHandle mask, NativeScalar value, int inPlace, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_masked_select(TensorHandle t, TensorHandle mask, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_where(TensorHandle condition, TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_pad(TensorHandle t, long* pads, int count, int mode, double value, out IntPtr result);

    // ---- math ----
    [LibraryImport(Library)] internal static partial int dt_unary(int op, TensorHandle t, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_unary_(int op, TensorHandle t);
    [LibraryImport(Library)] internal static partial int dt_binary(int op, TensorHandle a, TensorHandle b, NativeScalar alpha, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_binary_scalar(int op, TensorHandle a, NativeScalar b, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_binary_(int op, TensorHandle a, TensorHandle b, NativeScalar alpha);
    [LibraryImport(Library)] internal static partial int dt_binary_scalar_(int op, TensorHandle a, NativeScalar b);
    [LibraryImport(Library)] internal static partial int dt_fill_(TensorHandle t, NativeScalar value);
    [LibraryImport(Library)] internal static partial int dt_ternary_(int op, TensorHandle a, TensorHandle t1, TensorHandle t2, NativeScalar value);
    [LibraryImport(Library)] internal static partial int dt_lerp_(TensorHandle a, TensorHandle end, TensorHandle weightOrNull, NativeScalar weight);
    [LibraryImport(Library)] internal static partial int dt_clamp(TensorHandle t, int hasMin, NativeScalar min, int hasMax, NativeScalar max, int inPlace, out IntPtr result);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int dt_einsum(string equation, IntPtr* tensors, int count, out IntPtr result);

    // ---- reductions ----
    [LibraryImport(Library)] internal static partial int dt_reduce(int op, TensorHandle t, long* dims, int count, int keepdim, int dtype, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_moment(int op, TensorHandle t, long* dims, int count, int unbiased, int keepdim, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_norm(TensorHandle t, double p, long* dims, int count, int keepdim, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_reduce_indexed(int op, TensorHandle t, long dim, int keepdim, out IntPtr values, out IntPtr indices);
    [LibraryImport(Library)] internal static partial int dt_arg(int op, TensorHandle t, int hasDim, long dim, int keepdim, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_topk(TensorHandle t, long k, long dim, int largest, int sorted, out IntPtr values, out IntPtr indices);
    [LibraryImport(Library)] internal static partial int dt_sort(TensorHandle t, long dim, int descending, int stable, out IntPtr values, out IntPtr indices);
    [LibraryImport(Library)] internal static partial int dt_cumsum(TensorHandle t, long dim, out IntPtr result);

    // ---- nn ----
    [LibraryImport(Library)] internal static partial int dt_conv2d(TensorHandle x, TensorHandle w, TensorHandle b, long* stride, long* padding, long* dilation, long groups, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_conv_transpose2d(TensorHandle x, TensorHandle w, TensorHandle b, long* stride, long* padding, long* outputPadding, long groups, long* dilation, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_linear(TensorHandle x, TensorHandle w, TensorHandle b, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_batch_norm(TensorHandle x, TensorHandle w, TensorHandle b, TensorHandle runningMean, TensorHandle runningVar, int training, double momentum, double eps, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_layer_norm(TensorHandle x, long* normalizedShape, int count, TensorHandle w, TensorHandle b, double eps, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_group_norm(TensorHandle x, long groups, TensorHandle w, TensorHandle b, double eps, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_leaky_relu(TensorHandle x, double slope, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_softmax(int op, TensorHandle x, long dim, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_dropout(TensorHandle x, double p, int training, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_max_pool2d(TensorHandle x, long* kernel, long* stride, long* padding, long* dilation, int ceilMode, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_avg_pool2d(TensorHandle x, long* kernel, long* stride, long* padding, int ceilMode, int countIncludePad, long divisor, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_adaptive_pool2d(int op, TensorHandle x, long* outputSize, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_interpolate(TensorHandle x, int mode, long* size, double* scale, int alignCorners, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_one_hot(TensorHandle t, long numClasses, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_embedding(TensorHandle weight, TensorHandle indices, long paddingIdx, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_cosine_similarity(TensorHandle a, TensorHandle b, long dim, double eps, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_normalize(TensorHandle x, double p, long dim, double eps, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_attention(TensorHandle q, TensorHandle k, TensorHandle v, TensorHandle mask, double dropoutP, int isCausal, double scale, out IntPtr result);

    // ---- losses ----
    [LibraryImport(Library)] internal static partial int dt_cross_entropy(TensorHandle x, TensorHandle target, TensorHandle weight, int reduction, long ignoreIndex, double labelSmoothing, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_nll_loss(TensorHandle x, TensorHandle target, TensorHandle weight, int reduction, long ignoreIndex, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_kl_div(TensorHandle x, TensorHandle target, int reduction, int logTarget, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_pointwise_loss(int op, TensorHandle x, TensorHandle target, int reduction, double beta, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_bce_with_logits(TensorHandle x, TensorHandle target, TensorHandle weight, TensorHandle posWeight, int reduction, out IntPtr result);

    // ---- autograd ----
    [LibraryImport(Library)] internal static partial int dt_set_requires_grad(TensorHandle t, int requiresGrad);
    [LibraryImport(Library)] internal static partial int dt_is_leaf(TensorHandle t, out int leaf);
    [LibraryImport(Library)] internal static partial int dt_get_grad(TensorHandle t, out IntPtr grad);
    [LibraryImport(Library)] internal static partial int dt_set_grad(TensorHandle t, TensorHandle gradOrNull);
    [LibraryImport(Library)] internal static partial int dt_retain_grad(TensorHandle t);
    [LibraryImport(Library)] internal static partial int dt_backward(IntPtr* tensors, int count, IntPtr* gradOutputs, int retainGraph, int createGraph);
    [LibraryImport(Library)] internal static partial int dt_autograd_grad(IntPtr* outputs, int outputCount, IntPtr* gradOutputs, IntPtr* inputs, int inputCount, int retainGraph, int createGraph, int allowUnused, IntPtr* results);
    [LibraryImport(Library)] internal static partial int dt_grad_enabled(out int enabled);
    [LibraryImport(Library)] internal static partial int dt_set_grad_enabled(int enabled);
    [LibraryImport(Library)] internal static partial int dt_inference_mode_enter(out IntPtr guard);
    [LibraryImport(Library)] internal static partial int dt_guard_free(IntPtr guard);
    [LibraryImport(Library)] internal static partial int dt_is_inference_mode(out int enabled);
    [LibraryImport(Library)] internal static partial int dt_gradient_reversal(TensorHandle t, double scale, out IntPtr result);

    // ---- images ----
    [LibraryImport(Library)] internal static partial int dt_image_decode(byte* data, long length, int channels, out IntPtr result);
    [LibraryImport(Library)] internal static partial int dt_image_encode_png(TensorHandle image, out IntPtr result);

    // ---- distributed ----
    [LibraryImport(Library)] internal static partial int dt_distributed_available(out int available);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int dt_store_tcp_new(string host, int port, int isServer, int worldSize, long timeoutMs, out IntPtr store);
    [LibraryImport(Library)] internal static partial int dt_store_free(IntPtr store);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int dt_pg_gloo_new(IntPtr store, int rank, int worldSize, long timeoutMs, string? deviceHost, out IntPtr group);
    [LibraryImport(Library)] internal static partial int dt_pg_free(IntPtr group);
    [LibraryImport(Library)] internal static partial int dt_pg_allreduce(ProcessGroupHandle group, IntPtr* tensors, int count, int op);
    [LibraryImport(Library)] internal static partial int dt_pg_broadcast(ProcessGroupHandle group, IntPtr* tensors, int count, int root);
    [LibraryImport(Library)] internal static partial int dt_pg_allgather(ProcessGroupHandle group, TensorHandle input, IntPtr* outs);
    [LibraryImport(Library)] internal static partial int dt_pg_barrier(ProcessGroupHandle group);
    [LibraryImport(Library)] internal static partial int dt_sync_batch_norm(ProcessGroupHandle group, TensorHandle input, TensorHandle weight, TensorHandle bias, TensorHandle runningMean, TensorHandle runningVar, double momentum, double eps, out IntPtr result);
}
