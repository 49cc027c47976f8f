// Autograd: gradient flags, backward, functional grad, grad mode.
#include "common.h"

#include <torch/csrc/autograd/autograd.h>

namespace d2r {
namespace {

Napi::Value requiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorArg(info, 0).requires_grad());
}
Napi::Value setRequiresGrad(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).requires_grad_(boolArg(info, 1));
  return info.Env().Undefined();
}
Napi::Value isLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorArg(info, 0).is_leaf());
}
Napi::Value retainGrad(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).retain_grad();
  return info.Env().Undefined();
}
// grad(t): a new handle to t.grad, or null.
Napi::Value grad(const Napi::CallbackInfo& info) { return wrap(info.Env(), tensorArg(info, 0).grad()); }
// setGrad(t, g | null)
Napi::Value setGrad(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  t.mutable_grad() = isMissing(info, 1) ? at::Tensor() : tensorArg(info, 1);
  return info.Env().Undefined();
}
// setData(t, other): swaps the data under a leaf (Module.to(device), loading weights).
Napi::Value setData(const Napi::CallbackInfo& info) {
  tensorArg(info, 0).set_data(tensorArg(info, 1));
  return info.Env().Undefined();
}
// backward(t, gradient | null, retainGraph, createGraph)
Napi::Value backward(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  auto gradient = optionalTensorArg(info, 1);
  t.backward(gradient.value_or(at::Tensor()), boolArg(info, 2), boolArg(info, 3));
  return info.Env().Undefined();
}
// autogradGrad(outputs[], inputs[], gradOutputs[] | null, retainGraph, createGraph, allowUnused)
Napi::Value autogradGrad(const Napi::CallbackInfo& info) {
  auto outputs = tensorListArg(info, 0);
  auto inputs = tensorListArg(info, 1);
  std::vector<at::Tensor> gradOutputs;
  if (!isMissing(info, 2)) gradOutputs = tensorListArg(info, 2);
  bool createGraph = boolArg(info, 4);
  auto grads = torch::autograd::grad(outputs, inputs, gradOutputs, boolArg(info, 3) || createGraph, createGraph,
                                     boolArg(info, 5));
  return wrapList(info.Env(), grads);
}
Napi::Value isGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}
Napi::Value setGradEnabled(const Napi::CallbackInfo& info) {
  at::GradMode::set_enabled(boolArg(info, 0));
  return info.Env().Undefined();
}

}  // namespace

void registerAutograd(Napi::Env env, Napi::Object exports) {
  D2R_EXPORT("requiresGrad", requiresGrad);
  D2R_EXPORT("setRequiresGrad", setRequiresGrad);
  D2R_EXPORT("isLeaf", isLeaf);
  D2R_EXPORT("retainGrad", retainGrad);
  D2R_EXPORT("grad", grad);
  D2R_EXPORT("setGrad", setGrad);
  D2R_EXPORT("setData", setData);
  D2R_EXPORT("backward", backward);
  D2R_EXPORT("autogradGrad", autogradGrad);
  D2R_EXPORT("isGradEnabled", isGradEnabled);
  D2R_EXPORT("setGradEnabled", setGradEnabled);
}

}  // namespace d2r
