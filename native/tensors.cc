// Helpers behind op table entries whose body is more than one expression:
// data transfer, dims, clamp bounds and padding modes.
#include "ops.h"

#include <ATen/ScalarOps.h>
#include <cstring>
#include <stdexcept>

namespace d2r {

at::TensorOptions tensorOptions(at::ScalarType dtype, const c10::optional<at::Device>& device) {
  auto options = at::TensorOptions().dtype(dtype);
  if (device) options = options.device(*device);
  return options;
}

at::Tensor tensorFromBytes(Napi::Env env, const Napi::TypedArray& bytes, const std::vector<int64_t>& shape, at::ScalarType dtype) {
  auto tensor = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t expected = static_cast<size_t>(tensor.numel()) * tensor.element_size();
  if (bytes.ByteLength() != expected) {
    throw Napi::RangeError::New(env, "fromBuffer: shape " + std::string(c10::str(at::IntArrayRef(shape))) + " of " +
                                         std::string(c10::toString(dtype)) + " needs " + std::to_string(expected) +
                                         " bytes, got " + std::to_string(bytes.ByteLength()));
  }
  auto* base = static_cast<uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
  if (expected > 0) std::memcpy(tensor.data_ptr(), base, expected);
  return tensor;
}

Napi::Value tensorToBuffer(Napi::Env env, const at::Tensor& t) {
  auto tensor = t.detach().to(at::kCPU).contiguous();
  size_t bytes = static_cast<size_t>(tensor.numel()) * tensor.element_size();
  auto buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), tensor.data_ptr(), bytes);
  return buffer;
}

Napi::Value tensorItem(Napi::Env env, const at::Tensor& t) {
  if (t.numel() != 1) {
    throw Napi::Error::New(env, "item(): the tensor has " + std::to_string(t.numel()) +
                                    " elements; only a one-element tensor converts to a number");
  }
  auto s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
  if (s.isIntegral(false)) return Napi::Number::New(env, static_cast<double>(s.toLong()));
  return Napi::Number::New(env, s.toDouble());
}

std::vector<int64_t> dimsOrAll(const at::Tensor& t, const c10::optional<std::vector<int64_t>>& dims) {
  if (dims) return *dims;
  std::vector<int64_t> all(t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) all[i] = i;
  return all;
}

at::OptionalIntArrayRef optionalDims(const c10::optional<std::vector<int64_t>>& dims) {
  if (dims) return at::IntArrayRef(*dims);
  return c10::nullopt;
}

namespace {
c10::optional<at::Tensor> boundTensor(const c10::optional<TensorOrScalarArg>& bound, const at::Device& device) {
  if (!bound) return c10::nullopt;
  if (bound->isTensor) return bound->tensor;
  auto t = c10::scalar_to_tensor(bound->scalar, device);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}
}  // namespace

at::Tensor clampTo(const at::Tensor& t, const c10::optional<TensorOrScalarArg>& lo, const c10::optional<TensorOrScalarArg>& hi) {
  bool anyTensor = (lo && lo->isTensor) || (hi && hi->isTensor);
  if (!anyTensor) {
    c10::optional<at::Scalar> loScalar, hiScalar;
    if (lo) loScalar = lo->scalar;
    if (hi) hiScalar = hi->scalar;
    return at::clamp(t, loScalar, hiScalar);
  }
  return at::clamp(t, boundTensor(lo, t.device()), boundTensor(hi, t.device()));
}

at::Tensor padTensor(const at::Tensor& t, const std::vector<int64_t>& pads, const std::string& mode, double value) {
  if (mode == "constant") return at::constant_pad_nd(t, pads, value);
  if (pads.size() == 4 && mode == "reflect") return at::reflection_pad2d(t, pads);
  if (pads.size() == 4 && mode == "replicate") return at::replication_pad2d(t, pads);
  if (pads.size() == 2 && mode == "reflect") return at::reflection_pad1d(t, pads);
  if (pads.size() == 2 && mode == "replicate") return at::replication_pad1d(t, pads);
  throw std::invalid_argument("pad: mode '" + mode + "' with " + std::to_string(pads.size()) +
                              " pad values is not supported (constant: any; reflect/replicate: 2 or 4)");
}

}  // namespace d2r
