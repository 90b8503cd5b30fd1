// Views, reshapes, joins, splits, indexing and padding.
#include <vector>

#include "common.h"

using dt::T;
using dt::wrap;

namespace {
const char* shape_list_name(int32_t op) {
  static const char* names[] = {"view", "reshape", "permute", "expand", "repeat", "flip", "squeeze"};
  return op >= 0 && op <= DT_SQUEEZE_DIMS ? names[op] : "shape_list";
}
const char* shape_int_name(int32_t op) {
  static const char* names[] = {"transpose", "narrow", "select", "slice", "flatten", "squeeze", "squeeze",
                                "unsqueeze", "contiguous", "clone", "detach", "alias", "contiguous(channels_last)"};
  return op >= 0 && op <= DT_CONTIGUOUS_CHANNELS_LAST ? names[op] : "shape_int";
}
}  // namespace

extern "C" {

int32_t dt_shape_list(int32_t op, dt_tensor t, const int64_t* values, int32_t count, dt_tensor* out) {
  return dt::guard(shape_list_name(op), [&] {
    const auto& x = T(t);
    auto v = dt::ints(values, count);
    switch (op) {
      case DT_VIEW: *out = wrap(x.view(v)); break;
      case DT_RESHAPE: *out = wrap(x.reshape(v)); break;
      case DT_PERMUTE: *out = wrap(x.permute(v)); break;
      case DT_EXPAND: *out = wrap(x.expand(v)); break;
      case DT_REPEAT: *out = wrap(x.repeat(v)); break;
      case DT_FLIP: *out = wrap(x.flip(v)); break;
      case DT_SQUEEZE_DIMS: {
        // squeeze over several dims (libtorch 1.13 has only the one-dim form): highest dim first.
        std::vector<int64_t> dims(v.begin(), v.end());
        for (auto& d : dims) d = c10::maybe_wrap_dim(d, x.dim());
        std::sort(dims.rbegin(), dims.rend());
        auto r = x;
        for (auto d : dims) r = r.squeeze(d);
        *out = wrap(r);
        break;
      }
      default: throw std::invalid_argument("unknown shape op " + std::to_string(op));
    }
  }, t);
}

int32_t dt_shape_int(int32_t op, dt_tensor t, int64_t a, int64_t b, int64_t c, int64_t d, dt_tensor* out) {
  return dt::guard(shape_int_name(op), [&] {
    const auto& x = T(t);
    switch (op) {
      case DT_TRANSPOSE: *out = wrap(x.transpose(a, b)); break;
      case DT_NARROW: *out = wrap(x.narrow(a, b, c)); break;
      case DT_SELECT: *out = wrap(x.select(a, b)); break;
      case DT_SLICE: *out = wrap(x.slice(a, b, c, d)); break;
      case DT_FLATTEN: *out = wrap(x.flatten(a, b)); break;
      case DT_SQUEEZE: *out = wrap(x.squeeze(a)); break;
      case DT_SQUEEZE_ALL: *out = wrap(x.squeeze()); break;
      case DT_UNSQUEEZE: *out = wrap(x.unsqueeze(a)); break;
      case DT_CONTIGUOUS: *out = wrap(x.contiguous()); break;
      case DT_CLONE: *out = wrap(x.clone()); break;
      case DT_DETACH: *out = wrap(x.detach()); break;
      case DT_ALIAS: *out = wrap(x); break;
      case DT_CONTIGUOUS_CHANNELS_LAST: *out = wrap(x.contiguous(at::MemoryFormat::ChannelsLast)); break;
      default: throw std::invalid_argument("unknown shape op " + std::to_string(op));
    }
  }, t);
}

int32_t dt_split(int32_t op, dt_tensor t, int64_t size_or_chunks, int64_t dim, dt_tensor* outs, int64_t capacity,
                 int64_t* count) {
  return dt::guard(op == DT_CHUNK ? "chunk" : "split", [&] {
    const auto& x = T(t);
    std::vector<at::Tensor> parts;
    switch (op) {
      case DT_SPLIT: parts = x.split(size_or_chunks, dim); break;
      case DT_CHUNK: parts = x.chunk(size_or_chunks, dim); break;
      default: throw std::invalid_argument("unknown split op " + std::to_string(op));
    }
    if (static_cast<int64_t>(parts.size()) > capacity)
      throw std::invalid_argument("split produced " + std::to_string(parts.size()) + " parts, more than the " +
                                  std::to_string(capacity) + " expected");
    for (size_t i = 0; i < parts.size(); i++) outs[i] = wrap(std::move(parts[i]));
    *count = static_cast<int64_t>(parts.size());
  }, t);
}

int32_t dt_join(int32_t op, const dt_tensor* list, int32_t count, int64_t dim, dt_tensor* out) {
  const char* name = op == DT_STACK ? "stack" : "cat";
  try {
    auto v = dt::tensors(list, count);
    switch (op) {
      case DT_CAT: *out = wrap(at::cat(v, dim)); break;
      case DT_STACK: *out = wrap(at::stack(v, dim)); break;
      default: throw std::invalid_argument("unknown join op " + std::to_string(op));
    }
    return DT_OK;
  } catch (const std::exception& e) {
    return dt::fail_list(name, e.what(), list, count);
  }
}

int32_t dt_index(int32_t op, dt_tensor t, int64_t dim, dt_tensor index, dt_tensor* out) {
  return dt::guard(op == DT_GATHER ? "gather" : "index_select", [&] {
    switch (op) {
      case DT_INDEX_SELECT: *out = wrap(T(t).index_select(dim, T(index))); break;
      case DT_GATHER: *out = wrap(T(t).gather(dim, T(index))); break;
      default: throw std::invalid_argument("unknown index op " + std::to_string(op));
    }
  }, t, index);
}

int32_t dt_scatter(int32_t op, dt_tensor t, int64_t dim, dt_tensor index, dt_tensor src, dt_tensor* out) {
  return dt::guard(op == DT_SCATTER_ADD ? "scatter_add" : "scatter", [&] {
    switch (op) {
      case DT_SCATTER: *out = wrap(T(t).scatter(dim, T(index), T(src))); break;
      case DT_SCATTER_ADD: *out = wrap(T(t).scatter_add(dim, T(index), T(src))); break;
      default: throw std::invalid_argument("unknown scatter op " + std::to_string(op));
    }
  }, t, index, src);
}

int32_t dt_index_copy_(dt_tensor t, int64_t dim, dt_tensor index, dt_tensor src) {
  return dt::guard("index_copy_", [&] { T(t).index_copy_(dim, T(index), T(src)); }, t, index, src);
}

int32_t dt_scatter_value(dt_tensor t, int64_t dim, dt_tensor index, dt_scalar value, dt_tensor* out) {
  return dt::guard("scatter", [&] { *out = wrap(T(t).scatter(dim, T(index), dt::to_scalar(value))); }, t, index);
}

int32_t dt_masked_fill(dt_tensor t, dt_tensor mask, dt_scalar value, int32_t in_place, dt_tensor* out) {
  return dt::guard("masked_fill", [&] {
    if (in_place) T(t).masked_fill_(T(mask), dt::to_scalar(value));
    else *out = wrap(T(t).masked_fill(T(mask), dt::to_scalar(value)));
  }, t, mask);
}

int32_t dt_masked_select(dt_tensor t, dt_tensor mask, dt_tensor* out) {
  return dt::guard("masked_select", [&] { *out = wrap(T(t).masked_select(T(mask))); }, t, mask);
}

int32_t dt_where(dt_tensor condition, dt_tensor a, dt_tensor b, dt_tensor* out) {
  return dt::guard("where", [&] { *out = wrap(at::where(T(condition), T(a), T(b))); }, condition, a, b);
}

int32_t dt_pad(dt_tensor t, const int64_t* pads, int32_t count, int32_t mode, double value, dt_tensor* out) {
  return dt::guard("pad", [&] {
    static const char* modes[] = {"constant", "reflect", "replicate", "circular"};
    if (mode < 0 || mode > DT_PAD_CIRCULAR) throw std::invalid_argument("unknown pad mode " + std::to_string(mode));
    dt::optional<double> fill = mode == DT_PAD_CONSTANT ? dt::optional<double>(value) : dt::nullopt;
    *out = wrap(at::pad(T(t), dt::ints(pads, count), modes[mode], fill));
  }, t);
}

}  // extern "C"
