// Random state, threads, devices and version facts.
#include "common.h"

#include <ATen/Parallel.h>
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/csrc/api/include/torch/version.h>

namespace d2r {
namespace {

Napi::Value manualSeed(const Napi::CallbackInfo& info) {
  // at::manual_seed seeds the CPU generator and every CUDA generator that exists.
  at::manual_seed(static_cast<uint64_t>(intArg(info, 0)));
  return info.Env().Undefined();
}
// The CPU generator's state as a uint8 tensor, for checkpoints that resume exactly.
Napi::Value getRngState(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(info.Env(), gen.get_state());
}
Napi::Value setRngState(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(tensorArg(info, 0));
  return info.Env().Undefined();
}
Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  int64_t n = intArg(info, 0);
  if (n < 1) throw Napi::RangeError::New(info.Env(), "setNumThreads: expected a positive count, got " + std::to_string(n));
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}
Napi::Value getNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}
Napi::Value cudaIsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::hasCUDA() && at::detail::getCUDAHooks().getNumGPUs() > 0);
}
Napi::Value cudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0);
}
// memory() -> { numTensors, numBytes }: the live handles and the bytes they view.
Napi::Value memory(const Napi::CallbackInfo& info) {
  auto counts = liveHandleCounts();
  auto out = Napi::Object::New(info.Env());
  out.Set("numTensors", Napi::Number::New(info.Env(), static_cast<double>(counts.numTensors)));
  out.Set("numBytes", Napi::Number::New(info.Env(), static_cast<double>(counts.numBytes)));
  return out;
}
Napi::Value version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TORCH_VERSION);
}

}  // namespace

void registerRuntime(Napi::Env env, Napi::Object exports) {
  D2R_EXPORT("manualSeed", manualSeed);
  D2R_EXPORT("getRngState", getRngState);
  D2R_EXPORT("setRngState", setRngState);
  D2R_EXPORT("setNumThreads", setNumThreads);
  D2R_EXPORT("getNumThreads", getNumThreads);
  D2R_EXPORT("cudaIsAvailable", cudaIsAvailable);
  D2R_EXPORT("cudaDeviceCount", cudaDeviceCount);
  D2R_EXPORT("memory", memory);
  D2R_EXPORT("version", version);
}

}  // namespace d2r
