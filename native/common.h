// Shared pieces of the native layer: the tensor handle, argument conversion and
// the single place where C++ exceptions become JavaScript errors.
#pragma once

#include <napi.h>
#include <ATen/ATen.h>

#include <c10/util/Optional.h>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace d2r {

// One JS handle owns exactly one native reference. dispose() drops it early;
// a finalizer on the Tensor object drops it for tensors nobody disposed.
//
// Boxes live in a slab of fixed slots, never moved, and a handle is a plain
// JS BigInt holding the slot's index and generation: not an External, which
// in Node 20 costs a heap object and a weak handle the collector must visit
// for every tensor. dispose() frees the slot at once (its generation moves
// on, so the old handle reads as disposed even after the slot is reused).
//
// A handle has no finalizer of its own. The TypeScript Tensor asks for one
// (collectWhenUnreachable) only once no memory scope holds it: a tensor
// inside tidy() is reachable from its scope until the scope disposes it, so a
// finalizer could never run for it, and the common case (an op in a scope)
// costs the collector nothing. The finalizer is a "basic" one (it touches no
// JS state), so Node runs it during garbage collection itself instead of
// deferring it to the event loop: a long synchronous loop frees collected
// tensors as it goes rather than only when it returns.
struct TensorBox {
  at::Tensor tensor;
  // Bytes counted for torch.memory() (numel x element size when wrapped).
  int64_t bytes = 0;
  // Bytes reported to V8 as external memory (CPU tensors only).
  int64_t reportedBytes = 0;
  // The weak reference of the owner's GC finalizer (collectWhenUnreachable); null if none.
  napi_ref ref = nullptr;
  // Bumped each time the slot is freed; the handle carries the value it was made with.
  std::atomic<uint32_t> generation{0};
  uint32_t index = 0;
  uint32_t nextFree = 0;
};

// Drops the box's reference and frees its slot (dispose); a second call, or a
// call with the shared empty box of a stale handle, does nothing.
void releaseBox(Napi::Env env, TensorBox* box);

// Live handle boxes and the bytes their tensors hold, for torch.memory().
struct HandleCounts {
  int64_t numTensors;
  int64_t numBytes;
};
HandleCounts liveHandleCounts();

// Wraps a tensor in a new JS handle (undefined tensors become null).
Napi::Value wrap(Napi::Env env, at::Tensor tensor);
// Frees the box's tensor when `owner` (the JS object holding the handle) is
// garbage collected, unless it was disposed before; a second call does nothing.
void collectWhenUnreachable(Napi::Env env, Napi::Object owner, TensorBox* box);
Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);

// Argument conversion for the generated functions (native/ops.generated.cc);
// each throws a JS TypeError naming the argument's position on bad input.
void checkArgCount(const Napi::CallbackInfo& info, size_t count, const char* op);
at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::Tensor> optionalTensorArg(const Napi::CallbackInfo& info, size_t i);
TensorBox* boxArg(const Napi::CallbackInfo& info, size_t i);
// A tensor, or a number as a "wrapped number" tensor on `device`, which takes
// part in type promotion exactly like a Python scalar (int tensor + 1 stays int).
at::Tensor operandArg(const Napi::CallbackInfo& info, size_t i, const at::Device& device);
c10::optional<at::Tensor> optionalOperandArg(const Napi::CallbackInfo& info, size_t i, const at::Device& device);
// A tensor or a plain scalar, for ops with a scalar overload of their own.
struct TensorOrScalarArg {
  bool isTensor;
  at::Tensor tensor;
  at::Scalar scalar;
};
TensorOrScalarArg tensorOrScalarArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<TensorOrScalarArg> optionalTensorOrScalarArg(const Napi::CallbackInfo& info, size_t i);
std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<std::vector<at::Tensor>> optionalTensorListArg(const Napi::CallbackInfo& info, size_t i);
std::vector<int64_t> intListArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<std::vector<int64_t>> optionalIntListArg(const Napi::CallbackInfo& info, size_t i);
int64_t intArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<int64_t> optionalIntArg(const Napi::CallbackInfo& info, size_t i);
double doubleArg(const Napi::CallbackInfo& info, size_t i);
bool boolArg(const Napi::CallbackInfo& info, size_t i);
std::string stringArg(const Napi::CallbackInfo& info, size_t i);
// JS numbers that are integral become integer scalars (as Python ints do), others doubles.
at::Scalar scalarArg(const Napi::CallbackInfo& info, size_t i);
at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::Device> optionalDeviceArg(const Napi::CallbackInfo& info, size_t i);
// 'none' | 'mean' | 'sum' as at::Reduction.
int64_t reductionArg(const Napi::CallbackInfo& info, size_t i);
Napi::Object objectArg(const Napi::CallbackInfo& info, size_t i);
Napi::TypedArray typedArrayArg(const Napi::CallbackInfo& info, size_t i);
bool isMissing(const Napi::CallbackInfo& info, size_t i);

// Return conversion.
Napi::Value intListValue(Napi::Env env, at::IntArrayRef values);

// Runs fn and turns any C++ exception (c10::Error included) into a JS Error with
// the original message. Every exported function goes through it.
using NativeFn = Napi::Value (*)(const Napi::CallbackInfo&);
template <NativeFn fn>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

// Adds every function of the op table to the exports (native/ops.generated.cc).
void registerOps(Napi::Env env, Napi::Object exports);

#define D2R_EXPORT(name, fn) exports.Set(name, Napi::Function::New<guarded<fn>>(env, name))

}  // namespace d2r
