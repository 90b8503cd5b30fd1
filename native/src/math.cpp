// Pointwise math: unary, binary (tensor and scalar), in-place updates for optimizers, clamp, einsum.
#include <vector>

#include "common.h"

using dt::T;
using dt::wrap;

namespace {

const char* unary_name(int32_t op) {
  static const char* names[] = {"neg", "abs", "exp", "log", "log1p", "sqrt", "rsqrt", "sigmoid", "tanh", "sign",
                                "relu", "relu6", "gelu", "gelu", "silu", "hardswish", "hardsigmoid", "floor",
                                "ceil", "round", "reciprocal", "sin", "cos", "logical_not", "isnan", "isfinite",
                                "erf", "square", "expm1", "log2"};
  return op >= 0 && op <= DT_LOG2 ? names[op] : "unary";
}

const char* binary_name(int32_t op) {
  static const char* names[] = {"add", "sub", "mul", "div", "pow", "minimum", "maximum", "eq", "ne", "lt", "le",
                                "gt", "ge", "matmul", "bmm", "logical_and", "logical_or", "remainder",
                                "floor_divide", "atan2", "rsub", "rdiv", "rpow"};
  return op >= 0 && op <= DT_RPOW ? names[op] : "binary";
}

at::Tensor unary(int32_t op, const at::Tensor& x) {
  switch (op) {
    case DT_NEG: return x.neg();
    case DT_ABS: return x.abs();
    case DT_EXP: return x.exp();
    case DT_LOG: return x.log();
    case DT_LOG1P: return x.log1p();
    case DT_SQRT: return x.sqrt();
    case DT_RSQRT: return x.rsqrt();
    case DT_SIGMOID: return x.sigmoid();
    case DT_TANH: return x.tanh();
    case DT_SIGN: return x.sign();
    case DT_RELU: return x.relu();
    case DT_RELU6: return at::hardtanh(x, 0.0, 6.0);  // what torch.nn.functional.relu6 computes
    case DT_GELU: return at::gelu(x, "none");
    case DT_GELU_TANH: return at::gelu(x, "tanh");
    case DT_SILU: return at::silu(x);
    case DT_HARDSWISH: return at::hardswish(x);
    case DT_HARDSIGMOID: return at::hardsigmoid(x);
    case DT_FLOOR: return x.floor();
    case DT_CEIL: return x.ceil();
    case DT_ROUND: return x.round();
    case DT_RECIPROCAL: return x.reciprocal();
    case DT_SIN: return x.sin();
    case DT_COS: return x.cos();
    case DT_LOGICAL_NOT: return x.logical_not();
    case DT_ISNAN: return x.isnan();
    case DT_ISFINITE: return x.isfinite();
    case DT_ERF: return x.erf();
    case DT_SQUARE: return x.square();
    case DT_EXPM1: return x.expm1();
    case DT_LOG2: return x.log2();
  }
  throw std::invalid_argument("unknown unary op " + std::to_string(op));
}

at::Tensor binary(int32_t op, const at::Tensor& a, const at::Tensor& b, const at::Scalar& alpha) {
  switch (op) {
    case DT_ADD: return at::add(a, b, alpha);
    case DT_SUB: return at::sub(a, b, alpha);
    case DT_MUL: return at::mul(a, b);
    case DT_DIV: return at::div(a, b);
    case DT_POW: return at::pow(a, b);
    case DT_MINIMUM: return at::minimum(a, b);
    case DT_MAXIMUM: return at::maximum(a, b);
    case DT_EQ: return at::eq(a, b);
    case DT_NE: return at::ne(a, b);
    case DT_LT: return at::lt(a, b);
    case DT_LE: return at::le(a, b);
    case DT_GT: return at::gt(a, b);
    case DT_GE: return at::ge(a, b);
    case DT_MATMUL: return at::matmul(a, b);
    case DT_BMM: return at::bmm(a, b);
    case DT_LOGICAL_AND: return at::logical_and(a, b);
    case DT_LOGICAL_OR: return at::logical_or(a, b);
    case DT_REMAINDER: return at::remainder(a, b);
    case DT_FLOOR_DIVIDE: return at::div(a, b, "floor");
    case DT_ATAN2: return at::atan2(a, b);
  }
  throw std::invalid_argument(std::string("binary op ") + binary_name(op) + " has no tensor-tensor form");
}

at::Tensor binary_scalar(int32_t op, const at::Tensor& a, const at::Scalar& s) {
  switch (op) {
    case DT_ADD: return at::add(a, s);
    case DT_SUB: return at::sub(a, s);
    case DT_MUL: return at::mul(a, s);
    case DT_DIV: return at::div(a, s);
    case DT_POW: return at::pow(a, s);
    case DT_EQ: return at::eq(a, s);
    case DT_NE: return at::ne(a, s);
    case DT_LT: return at::lt(a, s);
    case DT_LE: return at::le(a, s);
    case DT_GT: return at::gt(a, s);
    case DT_GE: return at::ge(a, s);
    case DT_REMAINDER: return at::remainder(a, s);
    case DT_FLOOR_DIVIDE: return at::div(a, s, "floor");
    case DT_RSUB: return at::rsub(a, s);
    case DT_RDIV: return at::reciprocal(a).mul(s);
    case DT_RPOW: return at::pow(s, a);
    case DT_MINIMUM: return at::clamp_max(a, s);
    case DT_MAXIMUM: return at::clamp_min(a, s);
  }
  throw std::invalid_argument(std::string("binary op ") + binary_name(op) + " has no tensor-scalar form");
}

}  // namespace

extern "C" {

int32_t dt_unary(int32_t op, dt_tensor t, dt_tensor* out) { return dt::guard(unary_name(op), [&] { *out = wrap(unary(op, T(t))); }, t); }

int32_t dt_unary_(int32_t op, dt_tensor t) {
  return dt::guard("unary_", [&] {
    auto& x = T(t);
    switch (op) {
      case DT_ZERO_: x.zero_(); break;
      case DT_RELU_: x.relu_(); break;
      case DT_NEG_: x.neg_(); break;
      case DT_SQRT_: x.sqrt_(); break;
      case DT_EXP_: x.exp_(); break;
      case DT_SIGMOID_: x.sigmoid_(); break;
      default: throw std::invalid_argument("unknown in-place unary op " + std::to_string(op));
    }
  }, t);
}

int32_t dt_binary(int32_t op, dt_tensor a, dt_tensor b, dt_scalar alpha, dt_tensor* out) {
  return dt::guard(binary_name(op), [&] { *out = wrap(binary(op, T(a), T(b), dt::to_scalar(alpha))); }, a, b);
}

int32_t dt_binary_scalar(int32_t op, dt_tensor a, dt_scalar b, dt_tensor* out) {
  return dt::guard(binary_name(op), [&] { *out = wrap(binary_scalar(op, T(a), dt::to_scalar(b))); }, a);
}

int32_t dt_binary_(int32_t op, dt_tensor a, dt_tensor b, dt_scalar alpha) {
  return dt::guard("in-place binary", [&] {
    auto& x = T(a);
    switch (op) {
      case DT_ADD_: x.add_(T(b), dt::to_scalar(alpha)); break;
      case DT_SUB_: x.sub_(T(b), dt::to_scalar(alpha)); break;
      case DT_MUL_: x.mul_(T(b)); break;
      case DT_DIV_: x.div_(T(b)); break;
      case DT_COPY_: x.copy_(T(b)); break;
      case DT_MAXIMUM_: at::maximum_out(x, x, T(b)); break;
      default: throw std::invalid_argument("unknown in-place binary op " + std::to_string(op));
    }
  }, a, b);
}

int32_t dt_binary_scalar_(int32_t op, dt_tensor a, dt_scalar b) {
  return dt::guard("in-place binary", [&] {
    auto& x = T(a);
    auto s = dt::to_scalar(b);
    switch (op) {
      case DT_ADD_: x.add_(s); break;
      case DT_SUB_: x.sub_(s); break;
      case DT_MUL_: x.mul_(s); break;
      case DT_DIV_: x.div_(s); break;
      default: throw std::invalid_argument("unknown in-place scalar op " + std::to_string(op));
    }
  }, a);
}

int32_t dt_fill_(dt_tensor t, dt_scalar value) { return dt::guard("fill_", [&] { T(t).fill_(dt::to_scalar(value)); }, t); }

int32_t dt_ternary_(int32_t op, dt_tensor a, dt_tensor t1, dt_tensor t2, dt_scalar value) {
  return dt::guard(op == DT_ADDCDIV_ ? "addcdiv_" : "addcmul_", [&] {
    switch (op) {
      case DT_ADDCMUL_: T(a).addcmul_(T(t1), T(t2), dt::to_scalar(value)); break;
      case DT_ADDCDIV_: T(a).addcdiv_(T(t1), T(t2), dt::to_scalar(value)); break;
      default: throw std::invalid_argument("unknown ternary op " + std::to_string(op));
    }
  }, a, t1, t2);
}

int32_t dt_lerp_(dt_tensor a, dt_tensor end, dt_tensor weight_or_null, dt_scalar weight) {
  return dt::guard("lerp_", [&] {
    if (weight_or_null) T(a).lerp_(T(end), T(weight_or_null));
    else T(a).lerp_(T(end), dt::to_scalar(weight));
  }, a, end);
}

int32_t dt_clamp(dt_tensor t, int32_t has_min, dt_scalar min, int32_t has_max, dt_scalar max, int32_t in_place,
                 dt_tensor* out) {
  return dt::guard("clamp", [&] {
    dt::optional<at::Scalar> lo = has_min ? dt::optional<at::Scalar>(dt::to_scalar(min)) : dt::nullopt;
    dt::optional<at::Scalar> hi = has_max ? dt::optional<at::Scalar>(dt::to_scalar(max)) : dt::nullopt;
    if (in_place) T(t).clamp_(lo, hi);
    else *out = wrap(T(t).clamp(lo, hi));
  }, t);
}

int32_t dt_einsum(const char* equation, const dt_tensor* list, int32_t count, dt_tensor* out) {
  try {
    *out = wrap(at::einsum(equation, dt::tensors(list, count)));
    return DT_OK;
  } catch (const std::exception& e) {
    return dt::fail_list((std::string("einsum '") + equation + "'").c_str(), e.what(), list, count);
  }
}

}  // extern "C"
