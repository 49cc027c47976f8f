// Fused multi-tensor optimiser steps: one native call updates every parameter
// of a group (the role of PyTorch's _foreach kernels), with PyTorch 1.13's
// single-tensor formulas op for op, so the results match torch.optim exactly.
#include "ops.h"

#include <cmath>
#include <stdexcept>

namespace d2r {

namespace {
void checkSameLength(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& other, const char* what) {
  if (other.size() != params.size()) {
    throw std::invalid_argument(std::string(what) + ": expected " + std::to_string(params.size()) + " tensors (one per parameter), got " +
                                std::to_string(other.size()));
  }
}
}  // namespace

void sgdStep(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, const std::vector<at::Tensor>& buffers,
             const SgdHyper& h, bool firstStep) {
  checkSameLength(params, grads, "sgdStep_ grads");
  if (h.momentum != 0) checkSameLength(params, buffers, "sgdStep_ momentum buffers");
  at::NoGradGuard noGrad;
  for (size_t i = 0; i < params.size(); ++i) {
    auto param = params[i];
    at::Tensor direction = h.weightDecay != 0 ? grads[i].add(param, h.weightDecay) : grads[i];
    if (h.momentum != 0) {
      auto buffer = buffers[i];
      if (firstStep) buffer.copy_(direction);
      else buffer.mul_(h.momentum).add_(direction, 1 - h.dampening);
      direction = h.nesterov ? direction.add(buffer, h.momentum) : buffer;
    }
    param.add_(direction, -h.lr);
  }
}

void adamStep(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, const std::vector<at::Tensor>& expAvgs,
              const std::vector<at::Tensor>& expAvgSqs, const std::vector<at::Tensor>& maxExpAvgSqs, const std::vector<int64_t>& steps,
              const AdamHyper& h) {
  checkSameLength(params, grads, "adamStep_ grads");
  checkSameLength(params, expAvgs, "adamStep_ exp_avg");
  checkSameLength(params, expAvgSqs, "adamStep_ exp_avg_sq");
  if (h.amsgrad) checkSameLength(params, maxExpAvgSqs, "adamStep_ max_exp_avg_sq");
  if (steps.size() != params.size()) throw std::invalid_argument("adamStep_: expected one step count per parameter");
  at::NoGradGuard noGrad;
  for (size_t i = 0; i < params.size(); ++i) {
    auto param = params[i];
    at::Tensor grad = grads[i];
    if (h.weightDecay != 0) {
      if (h.decoupled) param.mul_(1 - h.lr * h.weightDecay);
      else grad = grad.add(param, h.weightDecay);
    }
    auto expAvg = expAvgs[i];
    auto expAvgSq = expAvgSqs[i];
    expAvg.mul_(h.beta1).add_(grad, 1 - h.beta1);
    expAvgSq.mul_(h.beta2).addcmul_(grad, grad, 1 - h.beta2);
    double step = static_cast<double>(steps[i]);
    double biasCorrection1 = 1 - std::pow(h.beta1, step);
    double biasCorrection2Sqrt = std::sqrt(1 - std::pow(h.beta2, step));
    at::Tensor secondMoment = expAvgSq;
    if (h.amsgrad) {
      auto maxExpAvgSq = maxExpAvgSqs[i];
      at::maximum_out(maxExpAvgSq, maxExpAvgSq, expAvgSq);
      secondMoment = maxExpAvgSq;
    }
    auto denom = (secondMoment.sqrt() / biasCorrection2Sqrt).add_(h.eps);
    param.addcdiv_(expAvg, denom, -h.lr / biasCorrection1);
  }
}

}  // namespace d2r
