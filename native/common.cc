#include "common.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <atomic>
#include <cstdlib>

namespace d2r {

namespace {

// Atomic because worker threads may load the addon in their own environments.
std::atomic<int64_t> liveTensors{0};
std::atomic<int64_t> liveBytes{0};

Napi::TypeError argError(const Napi::CallbackInfo& info, size_t i, const char* expected) {
  return Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + ": expected " + expected);
}

void finalizeBox(Napi::BasicEnv env, TensorBox* box) {
  releaseBox(env, box);
  delete box;
}

}  // namespace

HandleCounts liveHandleCounts() {
  return {liveTensors.load(std::memory_order_relaxed), liveBytes.load(std::memory_order_relaxed)};
}

void releaseBox(Napi::BasicEnv env, TensorBox* box) {
  if (!box->tensor.defined()) return;
  liveTensors.fetch_sub(1, std::memory_order_relaxed);
  liveBytes.fetch_sub(box->bytes, std::memory_order_relaxed);
  if (box->reportedBytes != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -box->reportedBytes);
    box->reportedBytes = 0;
  }
  box->tensor = at::Tensor();
}

Napi::Value wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  auto* box = new TensorBox{std::move(tensor), 0, 0};
  box->bytes = static_cast<int64_t>(box->tensor.numel()) * box->tensor.element_size();
  liveTensors.fetch_add(1, std::memory_order_relaxed);
  liveBytes.fetch_add(box->bytes, std::memory_order_relaxed);
  // Report the bytes this handle keeps alive so V8 feels native memory pressure.
  // Views over-count their base; that only makes collection a little eager.
  if (box->tensor.device().is_cpu()) {
    box->reportedBytes = box->bytes;
    if (box->reportedBytes != 0) Napi::MemoryManagement::AdjustExternalMemory(env, box->reportedBytes);
  }
  return Napi::External<TensorBox>::New(env, box, finalizeBox);
}

Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  auto out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(i, wrap(env, tensors[i]));
  return out;
}

bool isMissing(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}

bool isTensorArg(const Napi::CallbackInfo& info, size_t i) {
  return i < info.Length() && info[i].IsExternal();
}

static at::Tensor& tensorFromValue(const Napi::CallbackInfo& info, Napi::Value v, size_t i) {
  if (!v.IsExternal()) throw argError(info, i, "a tensor handle");
  auto* box = v.As<Napi::External<TensorBox>>().Data();
  if (!box->tensor.defined()) {
    throw Napi::Error::New(info.Env(), "argument " + std::to_string(i) + ": the tensor was disposed");
  }
  return box->tensor;
}

at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length()) throw argError(info, i, "a tensor handle");
  return tensorFromValue(info, info[i], i);
}

c10::optional<at::Tensor> optionalTensorArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return tensorArg(info, i);
}

std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw argError(info, i, "an array of tensor handles");
  auto arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) out.push_back(tensorFromValue(info, arr.Get(k), i));
  return out;
}

std::vector<int64_t> intListArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) throw argError(info, i, "an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) throw argError(info, i, "an array of integers");
    out[k] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

c10::optional<std::vector<int64_t>> optionalIntListArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return intListArg(info, i);
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw argError(info, i, "an integer");
  return info[i].As<Napi::Number>().Int64Value();
}

double doubleArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throw argError(info, i, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool boolArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsBoolean()) throw argError(info, i, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string stringArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString()) throw argError(info, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

at::Scalar scalarArg(const Napi::CallbackInfo& info, size_t i) {
  if (i < info.Length() && info[i].IsBoolean()) return at::Scalar(info[i].As<Napi::Boolean>().Value());
  double v = doubleArg(info, i);
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    return at::Scalar(static_cast<int64_t>(v));
  }
  return at::Scalar(v);
}

at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i) {
  int64_t code = intArg(info, i);
  if (code < 0 || code >= static_cast<int64_t>(at::ScalarType::NumOptions)) {
    throw Napi::RangeError::New(info.Env(), "unknown dtype code " + std::to_string(code));
  }
  return static_cast<at::ScalarType>(code);
}

at::Device deviceArg(const Napi::CallbackInfo& info, size_t i) {
  return at::Device(stringArg(info, i));
}

at::TensorOptions optionsArg(const Napi::CallbackInfo& info, size_t dtypeIndex, size_t deviceIndex) {
  auto options = at::TensorOptions().dtype(isMissing(info, dtypeIndex) ? at::kFloat : dtypeArg(info, dtypeIndex));
  if (!isMissing(info, deviceIndex)) options = options.device(deviceArg(info, deviceIndex));
  return options;
}

}  // namespace d2r

static Napi::Object init(Napi::Env env, Napi::Object exports) {
#if defined(__GLIBC__)
  // Opt-in: D2R_MMAP_THRESHOLD=<bytes> pins glibc's mmap threshold. glibc raises
  // it as large blocks are freed; in some allocation patterns (several live
  // multi-MB temporaries per step) the heap then grows without bound. Pinning
  // it keeps memory flat but costs page faults on every large tensor (measured
  // 1.5x slower training steps), so the default leaves glibc as it is.
  if (const char* threshold = std::getenv("D2R_MMAP_THRESHOLD")) {
    long bytes = std::atol(threshold);
    if (bytes > 0) mallopt(M_MMAP_THRESHOLD, static_cast<int>(bytes));
  }
#endif
  d2r::registerCreation(env, exports);
  d2r::registerMath(env, exports);
  d2r::registerShape(env, exports);
  d2r::registerNn(env, exports);
  d2r::registerAutograd(env, exports);
  d2r::registerRuntime(env, exports);
  return exports;
}

NODE_API_MODULE(d2r_native, init)
