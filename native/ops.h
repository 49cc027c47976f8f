// What the generated op functions (native/ops.generated.cc) call besides ATen:
// helpers for ops whose body is more than one expression. Their definitions
// live in tensors.cc, optim.cc, runtime.cc and distributed.cc.
#pragma once

#include "common.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/api/include/torch/version.h>

// Only references to it cross this header (native/torchscript.cc has the full type).
namespace torch::jit {
struct Module;
}  // namespace torch::jit

namespace d2r {

// ---- tensors.cc ---------------------------------------------------------------
at::TensorOptions tensorOptions(at::ScalarType dtype, const c10::optional<at::Device>& device);
// A new CPU tensor holding a copy of the typed array's bytes (their count must fit shape and dtype).
at::Tensor tensorFromBytes(Napi::Env env, const Napi::TypedArray& bytes, const std::vector<int64_t>& shape, at::ScalarType dtype);
Napi::Value tensorToBuffer(Napi::Env env, const at::Tensor& t);
// The value of a one-element tensor as a JS number or boolean.
Napi::Value tensorItem(Napi::Env env, const at::Tensor& t);
// The given dims, or every dim when none are given.
std::vector<int64_t> dimsOrAll(const at::Tensor& t, const c10::optional<std::vector<int64_t>>& dims);
at::OptionalIntArrayRef optionalDims(const c10::optional<std::vector<int64_t>>& dims);
// clamp with scalar bounds when neither bound is a tensor, else with tensor bounds.
at::Tensor clampTo(const at::Tensor& t, const c10::optional<TensorOrScalarArg>& lo, const c10::optional<TensorOrScalarArg>& hi);
at::Tensor padTensor(const at::Tensor& t, const std::vector<int64_t>& pads, const std::string& mode, double value);

// ---- optim.cc ---------------------------------------------------------------------
struct SgdHyper {
  double lr, momentum, dampening, weightDecay;
  bool nesterov;
};
// PyTorch's SGD for each parameter; with momentum, firstStep copies the direction
// into the (fresh) buffers instead of blending it in.
void sgdStep(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, const std::vector<at::Tensor>& buffers,
             const SgdHyper& h, bool firstStep);
struct AdamHyper {
  double lr, beta1, beta2, eps, weightDecay;
  bool decoupled, amsgrad;
};
// PyTorch's Adam (decoupled: AdamW) for each parameter at its own step count (from 1).
void adamStep(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, const std::vector<at::Tensor>& expAvgs,
              const std::vector<at::Tensor>& expAvgSqs, const std::vector<at::Tensor>& maxExpAvgSqs, const std::vector<int64_t>& steps,
              const AdamHyper& h);

// ---- runtime.cc ------------------------------------------------------------------
at::Tensor cpuRngState();
void setCpuRngState(const at::Tensor& state);
void setThreadCount(int64_t n);
bool cudaAvailable();
int64_t cudaCount();
// { numTensors, numBytes } of the live handles.
Napi::Value memoryValue(Napi::Env env);

// ---- distributed.cc ------------------------------------------------------------------
// One c10d process group per process. A collective that fails because of a peer
// throws a JS Error with `distributed: true` and `failedRanks`.
Napi::Value distInit(Napi::Env env, const std::string& backend, int64_t rank, int64_t worldSize, const std::string& host, int64_t port,
                     int64_t timeoutMs, const std::string& interface);
void distAllReduce(Napi::Env env, at::Tensor& t, const std::string& op);
void distBroadcast(Napi::Env env, at::Tensor& t, int64_t src);
void distBroadcastFlat(Napi::Env env, const std::vector<at::Tensor>& tensors, int64_t src);
std::vector<at::Tensor> distAllGather(Napi::Env env, const at::Tensor& t);
void distBarrier(Napi::Env env);
void distAverageGradients(Napi::Env env, const std::vector<at::Tensor>& params);
// The sum of t over ranks, differentiable: its backward sums the gradient over ranks.
at::Tensor distAllReduceSum(Napi::Env env, const at::Tensor& t);
void distDestroy();
// { rank, worldSize, backend } of the group, or null without one.
Napi::Value distState(Napi::Env env);
// The backends this build can create.
Napi::Value distBackends(Napi::Env env);

// ---- torchscript.cc ------------------------------------------------------------------
std::vector<std::string> stringListArg(const Napi::CallbackInfo& info, size_t i);
torch::jit::Module& scriptModuleArg(const Napi::CallbackInfo& info, size_t i);
Napi::Value scriptLoad(Napi::Env env, Napi::TypedArray bytes, c10::optional<at::Device> device);
at::Tensor scriptForward(torch::jit::Module& module, const at::Tensor& input);
void scriptTrain(torch::jit::Module& module, bool mode);
void scriptTo(torch::jit::Module& module, const std::string& device);
Napi::Value scriptSave(Napi::Env env, torch::jit::Module& module);
// { parameters, buffers, children } of the module itself, each [name, handle].
Napi::Value scriptMembers(Napi::Env env, torch::jit::Module& module);
Napi::Value pickleLoad(Napi::Env env, Napi::TypedArray archive, Napi::TypedArray pickle, int64_t depth);
Napi::Value pickleSave(Napi::Env env, const std::vector<std::string>& names, const std::vector<at::Tensor>& tensors);

}  // namespace d2r
