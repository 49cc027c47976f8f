// Elementwise math, reductions, indexing and linear algebra. Ops that share a
// signature are listed in tables and exported through one dispatcher each.
#include "common.h"

#include <ATen/ScalarOps.h>

namespace d2r {
namespace {

// A JS number becomes a "wrapped number" tensor, which takes part in type
// promotion exactly like a Python scalar does (int tensor + 1 stays int).
at::Tensor operand(const Napi::CallbackInfo& info, size_t i, const at::Device& device) {
  if (isTensorArg(info, i)) return tensorArg(info, i);
  auto t = c10::scalar_to_tensor(scalarArg(info, i), device);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

at::Device deviceOfFirstTensor(const Napi::CallbackInfo& info, size_t a, size_t b) {
  if (isTensorArg(info, a)) return tensorArg(info, a).device();
  if (isTensorArg(info, b)) return tensorArg(info, b).device();
  throw Napi::TypeError::New(info.Env(), "at least one operand must be a tensor");
}

// ---- unary -----------------------------------------------------------------
struct UnaryOp {
  const char* name;
  at::Tensor (*fn)(const at::Tensor&);
};
const UnaryOp kUnary[] = {
    {"neg", [](const at::Tensor& t) { return t.neg(); }},
    {"abs", [](const at::Tensor& t) { return t.abs(); }},
    {"sign", [](const at::Tensor& t) { return t.sign(); }},
    {"exp", [](const at::Tensor& t) { return t.exp(); }},
    {"log", [](const at::Tensor& t) { return t.log(); }},
    {"log1p", [](const at::Tensor& t) { return t.log1p(); }},
    {"sqrt", [](const at::Tensor& t) { return t.sqrt(); }},
    {"rsqrt", [](const at::Tensor& t) { return t.rsqrt(); }},
    {"square", [](const at::Tensor& t) { return t.square(); }},
    {"reciprocal", [](const at::Tensor& t) { return t.reciprocal(); }},
    {"relu", [](const at::Tensor& t) { return t.relu(); }},
    {"sigmoid", [](const at::Tensor& t) { return t.sigmoid(); }},
    {"tanh", [](const at::Tensor& t) { return t.tanh(); }},
    {"sin", [](const at::Tensor& t) { return t.sin(); }},
    {"cos", [](const at::Tensor& t) { return t.cos(); }},
    {"floor", [](const at::Tensor& t) { return t.floor(); }},
    {"ceil", [](const at::Tensor& t) { return t.ceil(); }},
    {"round", [](const at::Tensor& t) { return t.round(); }},
    {"logicalNot", [](const at::Tensor& t) { return t.logical_not(); }},
    {"isnan", [](const at::Tensor& t) { return t.isnan(); }},
    {"isinf", [](const at::Tensor& t) { return t.isinf(); }},
    {"isfinite", [](const at::Tensor& t) { return t.isfinite(); }},
    {"nonzero", [](const at::Tensor& t) { return t.nonzero(); }},
};

Napi::Value callUnary(const Napi::CallbackInfo& info) {
  auto* op = static_cast<const UnaryOp*>(info.Data());
  return wrap(info.Env(), op->fn(tensorArg(info, 0)));
}

// ---- binary (tensor or number on either side) -------------------------------
struct BinaryOp {
  const char* name;
  at::Tensor (*fn)(const at::Tensor&, const at::Tensor&);
};
const BinaryOp kBinary[] = {
    {"add", [](const at::Tensor& a, const at::Tensor& b) { return at::add(a, b); }},
    {"sub", [](const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }},
    {"mul", [](const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }},
    {"div", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); }},
    {"pow", [](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); }},
    {"remainder", [](const at::Tensor& a, const at::Tensor& b) { return at::remainder(a, b); }},
    {"floorDivide", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b, "floor"); }},
    {"maximum", [](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }},
    {"minimum", [](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }},
    {"eq", [](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); }},
    {"ne", [](const at::Tensor& a, const at::Tensor& b) { return at::ne(a, b); }},
    {"lt", [](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); }},
    {"le", [](const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); }},
    {"gt", [](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); }},
    {"ge", [](const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); }},
    {"logicalAnd", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); }},
    {"logicalOr", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); }},
    {"logicalXor", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_xor(a, b); }},
    {"matmul", [](const at::Tensor& a, const at::Tensor& b) { return at::matmul(a, b); }},
};

Napi::Value callBinary(const Napi::CallbackInfo& info) {
  auto* op = static_cast<const BinaryOp*>(info.Data());
  auto device = deviceOfFirstTensor(info, 0, 1);
  return wrap(info.Env(), op->fn(operand(info, 0, device), operand(info, 1, device)));
}

// ---- in place (self is updated; used by optimisers and bookkeeping) --------
struct InplaceOp {
  const char* name;
  void (*fn)(at::Tensor&, const at::Tensor&);
};
const InplaceOp kInplace[] = {
    {"add_", [](at::Tensor& a, const at::Tensor& b) { a.add_(b); }},
    {"sub_", [](at::Tensor& a, const at::Tensor& b) { a.sub_(b); }},
    {"mul_", [](at::Tensor& a, const at::Tensor& b) { a.mul_(b); }},
    {"div_", [](at::Tensor& a, const at::Tensor& b) { a.div_(b); }},
    {"copy_", [](at::Tensor& a, const at::Tensor& b) { a.copy_(b); }},
    {"fill_", [](at::Tensor& a, const at::Tensor& b) { a.fill_(b); }},
    {"maximum_", [](at::Tensor& a, const at::Tensor& b) { at::maximum_out(a, a, b); }},
    {"minimum_", [](at::Tensor& a, const at::Tensor& b) { at::minimum_out(a, a, b); }},
};

Napi::Value callInplace(const Napi::CallbackInfo& info) {
  auto* op = static_cast<const InplaceOp*>(info.Data());
  auto& self = tensorArg(info, 0);
  op->fn(self, operand(info, 1, self.device()));
  return info.Env().Undefined();
}

Napi::Value zero_(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).zero_();
  return info.Env().Undefined();
}
// self += alpha * other
Napi::Value addScaled_(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).add_(tensorArg(info, 1), scalarArg(info, 2));
  return info.Env().Undefined();
}
// self += value * t1 * t2
Napi::Value addcmul_(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).addcmul_(tensorArg(info, 1), tensorArg(info, 2), scalarArg(info, 3));
  return info.Env().Undefined();
}
// self += value * t1 / t2
Napi::Value addcdiv_(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).addcdiv_(tensorArg(info, 1), tensorArg(info, 2), scalarArg(info, 3));
  return info.Env().Undefined();
}
// self = self + weight * (end - self)
Napi::Value lerp_(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).lerp_(tensorArg(info, 1), scalarArg(info, 2));
  return info.Env().Undefined();
}
Napi::Value clamp_(const Napi::CallbackInfo& info) {
  auto& self = tensorArg(info, 0);
  auto lo = isMissing(info, 1) ? c10::optional<at::Tensor>() : c10::optional<at::Tensor>(operand(info, 1, self.device()));
  auto hi = isMissing(info, 2) ? c10::optional<at::Tensor>() : c10::optional<at::Tensor>(operand(info, 2, self.device()));
  self.clamp_(lo, hi);
  return info.Env().Undefined();
}

// ---- reductions over optional dims -----------------------------------------
struct ReduceOp {
  const char* name;
  at::Tensor (*fn)(const at::Tensor&, at::IntArrayRef, bool);
};
const ReduceOp kReduce[] = {
    {"sum", [](const at::Tensor& t, at::IntArrayRef d, bool k) { return at::sum(t, d, k); }},
    {"mean", [](const at::Tensor& t, at::IntArrayRef d, bool k) { return at::mean(t, d, k); }},
    {"amax", [](const at::Tensor& t, at::IntArrayRef d, bool k) { return at::amax(t, d, k); }},
    {"amin", [](const at::Tensor& t, at::IntArrayRef d, bool k) { return at::amin(t, d, k); }},
    {"logsumexp", [](const at::Tensor& t, at::IntArrayRef d, bool k) { return at::logsumexp(t, d, k); }},
    {"var", [](const at::Tensor& t, at::IntArrayRef d, bool k) { return at::var(t, d, true, k); }},
    {"std", [](const at::Tensor& t, at::IntArrayRef d, bool k) { return at::std(t, d, true, k); }},
};

std::vector<int64_t> allDims(const at::Tensor& t) {
  std::vector<int64_t> dims(t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) dims[i] = i;
  return dims;
}

// reduce(t, dims | null, keepdim): null reduces over every dim.
Napi::Value callReduce(const Napi::CallbackInfo& info) {
  auto* op = static_cast<const ReduceOp*>(info.Data());
  auto& t = tensorArg(info, 0);
  auto dims = isMissing(info, 1) ? allDims(t) : intListArg(info, 1);
  bool keepdim = !isMissing(info, 2) && boolArg(info, 2);
  return wrap(info.Env(), op->fn(t, dims, keepdim));
}

Napi::Value all(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  if (isMissing(info, 1)) return wrap(info.Env(), t.all());
  return wrap(info.Env(), t.all(intArg(info, 1), !isMissing(info, 2) && boolArg(info, 2)));
}
Napi::Value any(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  if (isMissing(info, 1)) return wrap(info.Env(), t.any());
  return wrap(info.Env(), t.any(intArg(info, 1), !isMissing(info, 2) && boolArg(info, 2)));
}
Napi::Value argmax(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  c10::optional<int64_t> dim;
  if (!isMissing(info, 1)) dim = intArg(info, 1);
  return wrap(info.Env(), at::argmax(t, dim, !isMissing(info, 2) && boolArg(info, 2)));
}
Napi::Value argmin(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  c10::optional<int64_t> dim;
  if (!isMissing(info, 1)) dim = intArg(info, 1);
  return wrap(info.Env(), at::argmin(t, dim, !isMissing(info, 2) && boolArg(info, 2)));
}
// maxDim(t, dim, keepdim) -> [values, indices]
Napi::Value maxDim(const Napi::CallbackInfo& info) {
  auto r = at::max(tensorArg(info, 0), intArg(info, 1), boolArg(info, 2));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value minDim(const Napi::CallbackInfo& info) {
  auto r = at::min(tensorArg(info, 0), intArg(info, 1), boolArg(info, 2));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
// norm(t, p, dims | null, keepdim); p may be Infinity.
Napi::Value norm(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  double p = doubleArg(info, 1);
  auto dims = optionalIntListArg(info, 2);
  bool keepdim = !isMissing(info, 3) && boolArg(info, 3);
  if (dims) return wrap(info.Env(), at::linalg_vector_norm(t, p, at::IntArrayRef(*dims), keepdim, c10::nullopt));
  return wrap(info.Env(), at::linalg_vector_norm(t, p, c10::nullopt, keepdim, c10::nullopt));
}
Napi::Value softmax(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::softmax(tensorArg(info, 0), intArg(info, 1)));
}
Napi::Value logSoftmax(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::log_softmax(tensorArg(info, 0), intArg(info, 1)));
}
Napi::Value cumsum(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::cumsum(tensorArg(info, 0), intArg(info, 1)));
}

// clamp(t, min | null, max | null); bounds are numbers or tensors.
Napi::Value clamp(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  if ((isMissing(info, 1) || !isTensorArg(info, 1)) && (isMissing(info, 2) || !isTensorArg(info, 2))) {
    c10::optional<at::Scalar> lo, hi;
    if (!isMissing(info, 1)) lo = scalarArg(info, 1);
    if (!isMissing(info, 2)) hi = scalarArg(info, 2);
    return wrap(info.Env(), at::clamp(t, lo, hi));
  }
  auto lo = isMissing(info, 1) ? c10::optional<at::Tensor>() : c10::optional<at::Tensor>(operand(info, 1, t.device()));
  auto hi = isMissing(info, 2) ? c10::optional<at::Tensor>() : c10::optional<at::Tensor>(operand(info, 2, t.device()));
  return wrap(info.Env(), at::clamp(t, lo, hi));
}

// where(cond, a, b); a and b are tensors or numbers.
Napi::Value where(const Napi::CallbackInfo& info) {
  auto& cond = tensorArg(info, 0);
  return wrap(info.Env(), at::where(cond, operand(info, 1, cond.device()), operand(info, 2, cond.device())));
}

Napi::Value sort(const Napi::CallbackInfo& info) {
  auto r = at::sort(tensorArg(info, 0), intArg(info, 1), boolArg(info, 2));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value topk(const Napi::CallbackInfo& info) {
  auto r = at::topk(tensorArg(info, 0), intArg(info, 1), intArg(info, 2), boolArg(info, 3), boolArg(info, 4));
  return wrapList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value gather(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::gather(tensorArg(info, 0), intArg(info, 1), tensorArg(info, 2)));
}
// scatter(t, dim, index, src tensor | number)
Napi::Value scatter(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  if (isTensorArg(info, 3)) return wrap(info.Env(), at::scatter(t, intArg(info, 1), tensorArg(info, 2), tensorArg(info, 3)));
  return wrap(info.Env(), at::scatter(t, intArg(info, 1), tensorArg(info, 2), scalarArg(info, 3)));
}
Napi::Value scatterAdd(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::scatter_add(tensorArg(info, 0), intArg(info, 1), tensorArg(info, 2), tensorArg(info, 3)));
}
Napi::Value indexSelect(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::index_select(tensorArg(info, 0), intArg(info, 1), tensorArg(info, 2)));
}
Napi::Value maskedSelect(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::masked_select(tensorArg(info, 0), tensorArg(info, 1)));
}
// maskedFill(t, mask, value tensor | number)
Napi::Value maskedFill(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  if (isTensorArg(info, 2)) return wrap(info.Env(), at::masked_fill(t, tensorArg(info, 1), tensorArg(info, 2)));
  return wrap(info.Env(), at::masked_fill(t, tensorArg(info, 1), scalarArg(info, 2)));
}
// indexCopy(t, dim, index, source): out of place, differentiable.
Napi::Value indexCopy(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::index_copy(tensorArg(info, 0), intArg(info, 1), tensorArg(info, 2), tensorArg(info, 3)));
}
// indexCopy_(t, dim, index, source): in place, for bookkeeping buffers.
Napi::Value indexCopy_(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).index_copy_(intArg(info, 1), tensorArg(info, 2), tensorArg(info, 3));
  return info.Env().Undefined();
}
Napi::Value cat(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::cat(tensorListArg(info, 0), intArg(info, 1)));
}
Napi::Value stack(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::stack(tensorListArg(info, 0), intArg(info, 1)));
}
Napi::Value oneHot(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::one_hot(tensorArg(info, 0), intArg(info, 1)));
}
Napi::Value allclose(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::allclose(tensorArg(info, 0), tensorArg(info, 1), doubleArg(info, 2), doubleArg(info, 3)));
}

template <typename Op>
void exportTable(Napi::Env env, Napi::Object exports, const Op* ops, size_t n,
                 Napi::Value (*dispatcher)(const Napi::CallbackInfo&)) {
  for (size_t i = 0; i < n; ++i) {
    exports.Set(ops[i].name, Napi::Function::New(env, dispatcher, ops[i].name, const_cast<Op*>(&ops[i])));
  }
}

}  // namespace

void registerMath(Napi::Env env, Napi::Object exports) {
  exportTable(env, exports, kUnary, std::size(kUnary), guarded<callUnary>);
  exportTable(env, exports, kBinary, std::size(kBinary), guarded<callBinary>);
  exportTable(env, exports, kInplace, std::size(kInplace), guarded<callInplace>);
  exportTable(env, exports, kReduce, std::size(kReduce), guarded<callReduce>);
  D2R_EXPORT("zero_", zero_);
  D2R_EXPORT("addScaled_", addScaled_);
  D2R_EXPORT("addcmul_", addcmul_);
  D2R_EXPORT("addcdiv_", addcdiv_);
  D2R_EXPORT("lerp_", lerp_);
  D2R_EXPORT("clamp_", clamp_);
  D2R_EXPORT("all", all);
  D2R_EXPORT("any", any);
  D2R_EXPORT("argmax", argmax);
  D2R_EXPORT("argmin", argmin);
  D2R_EXPORT("maxDim", maxDim);
  D2R_EXPORT("minDim", minDim);
  D2R_EXPORT("norm", norm);
  D2R_EXPORT("softmax", softmax);
  D2R_EXPORT("logSoftmax", logSoftmax);
  D2R_EXPORT("cumsum", cumsum);
  D2R_EXPORT("clamp", clamp);
  D2R_EXPORT("where", where);
  D2R_EXPORT("sort", sort);
  D2R_EXPORT("topk", topk);
  D2R_EXPORT("gather", gather);
  D2R_EXPORT("scatter", scatter);
  D2R_EXPORT("scatterAdd", scatterAdd);
  D2R_EXPORT("indexSelect", indexSelect);
  D2R_EXPORT("maskedSelect", maskedSelect);
  D2R_EXPORT("maskedFill", maskedFill);
  D2R_EXPORT("indexCopy", indexCopy);
  D2R_EXPORT("indexCopy_", indexCopy_);
  D2R_EXPORT("cat", cat);
  D2R_EXPORT("stack", stack);
  D2R_EXPORT("oneHot", oneHot);
  D2R_EXPORT("allclose", allclose);
}

}  // namespace d2r
