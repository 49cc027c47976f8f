// Neural-network functionals: convolution, normalisation, pooling, losses.
#include "common.h"

namespace d2r {
namespace {

int64_t reductionArg(const Napi::CallbackInfo& info, size_t i) {
  auto r = stringArg(info, i);
  if (r == "none") return at::Reduction::None;
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  throw Napi::RangeError::New(info.Env(), "reduction must be 'none', 'mean' or 'sum', got '" + r + "'");
}

// conv2d(x, w, b | null, stride[2], padding[2], dilation[2], groups)
Napi::Value conv2d(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::conv2d(tensorArg(info, 0), tensorArg(info, 1), optionalTensorArg(info, 2),
                                     intListArg(info, 3), intListArg(info, 4), intListArg(info, 5), intArg(info, 6)));
}
Napi::Value linear(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::linear(tensorArg(info, 0), tensorArg(info, 1), optionalTensorArg(info, 2)));
}
// batchNorm(x, runningMean | null, runningVar | null, weight | null, bias | null, training, momentum, eps)
// Updates the running statistics in place when training, as PyTorch does.
Napi::Value batchNorm(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::batch_norm(tensorArg(info, 0), optionalTensorArg(info, 3), optionalTensorArg(info, 4),
                                         optionalTensorArg(info, 1), optionalTensorArg(info, 2), boolArg(info, 5),
                                         doubleArg(info, 6), doubleArg(info, 7), true));
}
// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
Napi::Value maxPool2d(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::max_pool2d(tensorArg(info, 0), intListArg(info, 1), intListArg(info, 2),
                                         intListArg(info, 3), intListArg(info, 4), boolArg(info, 5)));
}
// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad)
Napi::Value avgPool2d(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::avg_pool2d(tensorArg(info, 0), intListArg(info, 1), intListArg(info, 2),
                                         intListArg(info, 3), boolArg(info, 4), boolArg(info, 5)));
}
Napi::Value adaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::adaptive_avg_pool2d(tensorArg(info, 0), intListArg(info, 1)));
}
Napi::Value dropout(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::dropout(tensorArg(info, 0), doubleArg(info, 1), boolArg(info, 2)));
}
// crossEntropy(logits, target, reduction, labelSmoothing); target holds class indices.
Napi::Value crossEntropy(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::cross_entropy_loss(tensorArg(info, 0), tensorArg(info, 1), {}, reductionArg(info, 2),
                                                 -100, doubleArg(info, 3)));
}
Napi::Value nllLoss(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::nll_loss_nd(tensorArg(info, 0), tensorArg(info, 1), {}, reductionArg(info, 2), -100));
}
Napi::Value mseLoss(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::mse_loss(tensorArg(info, 0), tensorArg(info, 1), reductionArg(info, 2)));
}
// klDiv(input (log-probabilities), target, reduction, logTarget): 'batchmean' is done in TS.
Napi::Value klDiv(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), at::kl_div(tensorArg(info, 0), tensorArg(info, 1), reductionArg(info, 2), boolArg(info, 3)));
}

}  // namespace

void registerNn(Napi::Env env, Napi::Object exports) {
  D2R_EXPORT("conv2d", conv2d);
  D2R_EXPORT("linear", linear);
  D2R_EXPORT("batchNorm", batchNorm);
  D2R_EXPORT("maxPool2d", maxPool2d);
  D2R_EXPORT("avgPool2d", avgPool2d);
  D2R_EXPORT("adaptiveAvgPool2d", adaptiveAvgPool2d);
  D2R_EXPORT("dropout", dropout);
  D2R_EXPORT("crossEntropy", crossEntropy);
  D2R_EXPORT("nllLoss", nllLoss);
  D2R_EXPORT("mseLoss", mseLoss);
  D2R_EXPORT("klDiv", klDiv);
}

}  // namespace d2r
