// Random state, threads, devices and the live-handle counts.
#include "ops.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <stdexcept>

namespace d2r {

// The CPU generator's state as a uint8 tensor, for checkpoints that resume exactly.
at::Tensor cpuRngState() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void setCpuRngState(const at::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void setThreadCount(int64_t n) {
  if (n < 1) throw std::invalid_argument("setNumThreads: expected a positive count, got " + std::to_string(n));
  at::set_num_threads(static_cast<int>(n));
}

bool cudaAvailable() { return at::hasCUDA() && at::detail::getCUDAHooks().getNumGPUs() > 0; }

int64_t cudaCount() { return at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0; }

Napi::Value memoryValue(Napi::Env env) {
  auto counts = liveHandleCounts();
  auto out = Napi::Object::New(env);
  out.Set("numTensors", Napi::Number::New(env, static_cast<double>(counts.numTensors)));
  out.Set("numBytes", Napi::Number::New(env, static_cast<double>(counts.numBytes)));
  return out;
}

}  // namespace d2r
