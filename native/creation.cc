// Tensor creation, metadata, data transfer and lifetime.
#include "common.h"

#include <cstring>

namespace d2r {
namespace {

Napi::Value zeros(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::zeros(intListArg(info, 0), optionsArg(info, 1, 2)));
}
Napi::Value ones(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::ones(intListArg(info, 0), optionsArg(info, 1, 2)));
}
Napi::Value empty(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::empty(intListArg(info, 0), optionsArg(info, 1, 2)));
}
Napi::Value full(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::full(intListArg(info, 0), scalarArg(info, 1), optionsArg(info, 2, 3)));
}
Napi::Value arange(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::arange(scalarArg(info, 0), scalarArg(info, 1), scalarArg(info, 2), optionsArg(info, 3, 4)));
}
Napi::Value rand(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::rand(intListArg(info, 0), optionsArg(info, 1, 2)));
}
Napi::Value randn(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::randn(intListArg(info, 0), optionsArg(info, 1, 2)));
}
Napi::Value randint(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::randint(intArg(info, 0), intArg(info, 1), intListArg(info, 2), optionsArg(info, 3, 4)));
}
Napi::Value randperm(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::randperm(intArg(info, 0), optionsArg(info, 1, 2)));
}
Napi::Value eye(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::eye(intArg(info, 0), optionsArg(info, 1, 2)));
}

// fromBuffer(typedArray, shape, dtype): copies the bytes into a new CPU tensor.
Napi::Value fromBuffer(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(info.Env(), "fromBuffer: expected a typed array");
  }
  auto array = info[0].As<Napi::TypedArray>();
  auto shape = intListArg(info, 1);
  auto dtype = dtypeArg(info, 2);
  auto tensor = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t expected = static_cast<size_t>(tensor.numel()) * tensor.element_size();
  if (array.ByteLength() != expected) {
    throw Napi::RangeError::New(info.Env(), "fromBuffer: shape " + std::string(c10::str(at::IntArrayRef(shape))) +
                                                " of " + std::string(c10::toString(dtype)) + " needs " +
                                                std::to_string(expected) + " bytes, got " +
                                                std::to_string(array.ByteLength()));
  }
  auto* base = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  if (expected > 0) std::memcpy(tensor.data_ptr(), base, expected);
  return wrap(info.Env(), tensor);
}

// toBuffer(t): a fresh ArrayBuffer holding the contiguous CPU bytes of t.
Napi::Value toBuffer(const Napi::CallbackInfo& info) {
  auto tensor = tensorArg(info, 0).detach().to(at::kCPU).contiguous();
  size_t bytes = static_cast<size_t>(tensor.numel()) * tensor.element_size();
  auto buffer = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), tensor.data_ptr(), bytes);
  return buffer;
}

Napi::Value item(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  if (t.numel() != 1) {
    throw Napi::Error::New(info.Env(), "item(): the tensor has " + std::to_string(t.numel()) +
                                           " elements; only a one-element tensor converts to a number");
  }
  auto s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
  if (s.isIntegral(false)) return Napi::Number::New(info.Env(), static_cast<double>(s.toLong()));
  return Napi::Number::New(info.Env(), s.toDouble());
}

Napi::Value shape(const Napi::CallbackInfo& info) {
  auto sizes = tensorArg(info, 0).sizes();
  auto out = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) out.Set(i, Napi::Number::New(info.Env(), static_cast<double>(sizes[i])));
  return out;
}
Napi::Value dtype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(tensorArg(info, 0).scalar_type()));
}
Napi::Value device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), tensorArg(info, 0).device().str());
}
Napi::Value isContiguous(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorArg(info, 0).is_contiguous());
}
Napi::Value isDisposed(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "expected a tensor handle");
  return Napi::Boolean::New(info.Env(), !info[0].As<Napi::External<TensorBox>>().Data()->tensor.defined());
}

Napi::Value dispose(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "expected a tensor handle");
  releaseBox(info.Env(), info[0].As<Napi::External<TensorBox>>().Data());
  return info.Env().Undefined();
}

Napi::Value clone(const Napi::CallbackInfo& info) { return wrap(info.Env(), tensorArg(info, 0).clone()); }
Napi::Value detach(const Napi::CallbackInfo& info) { return wrap(info.Env(), tensorArg(info, 0).detach()); }
Napi::Value contiguous(const Napi::CallbackInfo& info) { return wrap(info.Env(), tensorArg(info, 0).contiguous()); }
Napi::Value toDtype(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).to(dtypeArg(info, 1)));
}
Napi::Value toDevice(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).to(deviceArg(info, 1)));
}
// A new handle to the same tensor (shares storage and autograd identity).
Napi::Value alias(const Napi::CallbackInfo& info) { return wrap(info.Env(), tensorArg(info, 0)); }

}  // namespace

void registerCreation(Napi::Env env, Napi::Object exports) {
  D2R_EXPORT("zeros", zeros);
  D2R_EXPORT("ones", ones);
  D2R_EXPORT("empty", empty);
  D2R_EXPORT("full", full);
  D2R_EXPORT("arange", arange);
  D2R_EXPORT("rand", rand);
  D2R_EXPORT("randn", randn);
  D2R_EXPORT("randint", randint);
  D2R_EXPORT("randperm", randperm);
  D2R_EXPORT("eye", eye);
  D2R_EXPORT("fromBuffer", fromBuffer);
  D2R_EXPORT("toBuffer", toBuffer);
  D2R_EXPORT("item", item);
  D2R_EXPORT("shape", shape);
  D2R_EXPORT("dtype", dtype);
  D2R_EXPORT("device", device);
  D2R_EXPORT("isContiguous", isContiguous);
  D2R_EXPORT("isDisposed", isDisposed);
  D2R_EXPORT("dispose", dispose);
  D2R_EXPORT("clone", clone);
  D2R_EXPORT("detach", detach);
  D2R_EXPORT("contiguous", contiguous);
  D2R_EXPORT("toDtype", toDtype);
  D2R_EXPORT("toDevice", toDevice);
  D2R_EXPORT("alias", alias);
}

}  // namespace d2r
