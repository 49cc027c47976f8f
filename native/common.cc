#include "common.h"

#include <ATen/ScalarOps.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <atomic>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace d2r {

namespace {

constexpr int64_t kSmallestReportedBytes = 4096;

// Atomic because worker threads may load the addon in their own environments.
std::atomic<int64_t> liveTensors{0};
std::atomic<int64_t> liveBytes{0};

Napi::TypeError argError(const Napi::CallbackInfo& info, size_t i, const char* expected) {
  return Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + ": expected " + expected);
}

// ---- the slab of boxes -------------------------------------------------------------
// Chunks of boxes that never move (a reference into a box stays valid while
// other boxes are made), a free list threaded through the free slots, and a
// mutex because worker threads share the slab. A handle is the BigInt
// (generation << 32 | index), never a pointer, so a stale handle can be told
// apart from the box's next owner. Generations start at 1: 0n is never live.
constexpr uint32_t kChunkBits = 12;
constexpr uint32_t kChunkSize = 1u << kChunkBits;
constexpr uint32_t kMaxChunks = 1u << 18;  // 2^30 live handles at most
constexpr uint32_t kNoSlot = UINT32_MAX;

std::mutex slabMutex;
std::atomic<TensorBox*> chunks[kMaxChunks];
uint32_t slotsMade = 0;
uint32_t freeHead = kNoSlot;
// What a stale handle (disposed, or collected and its slot reused) reads: no tensor.
TensorBox emptyBox;

TensorBox* allocateBox() {
  std::lock_guard<std::mutex> lock(slabMutex);
  if (freeHead != kNoSlot) {
    TensorBox* box = &chunks[freeHead >> kChunkBits].load(std::memory_order_relaxed)[freeHead & (kChunkSize - 1)];
    freeHead = box->nextFree;
    return box;
  }
  uint32_t index = slotsMade;
  uint32_t chunk = index >> kChunkBits;
  if (chunk >= kMaxChunks) throw std::runtime_error("too many live tensor handles");
  TensorBox* boxes = chunks[chunk].load(std::memory_order_relaxed);
  if (boxes == nullptr) {
    boxes = new TensorBox[kChunkSize];
    for (uint32_t k = 0; k < kChunkSize; ++k) {
      boxes[k].index = (chunk << kChunkBits) | k;
      boxes[k].generation.store(1, std::memory_order_relaxed);
    }
    chunks[chunk].store(boxes, std::memory_order_release);
  }
  ++slotsMade;
  return &boxes[index & (kChunkSize - 1)];
}

void freeBox(TensorBox* box) {
  uint32_t next = box->generation.load(std::memory_order_relaxed) + 1;
  box->generation.store(next == 0 ? 1 : next, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(slabMutex);
  box->nextFree = freeHead;
  freeHead = box->index;
}

uint64_t packedHandle(const TensorBox* box) {
  return (static_cast<uint64_t>(box->generation.load(std::memory_order_relaxed)) << 32) | box->index;
}

// The live box a packed handle names, or the empty box for a stale handle.
TensorBox* boxFromPacked(uint64_t packed) {
  auto index = static_cast<uint32_t>(packed);
  auto generation = static_cast<uint32_t>(packed >> 32);
  if ((index >> kChunkBits) >= kMaxChunks) return &emptyBox;
  TensorBox* boxes = chunks[index >> kChunkBits].load(std::memory_order_acquire);
  if (boxes == nullptr) return &emptyBox;
  TensorBox* box = &boxes[index & (kChunkSize - 1)];
  return box->generation.load(std::memory_order_relaxed) == generation ? box : &emptyBox;
}

// Drops the tensor and its counts; the slot and the weak reference are the caller's.
void releaseTensor(Napi::BasicEnv env, TensorBox* box) {
  liveTensors.fetch_sub(1, std::memory_order_relaxed);
  liveBytes.fetch_sub(box->bytes, std::memory_order_relaxed);
  if (box->reportedBytes != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -box->reportedBytes);
    box->reportedBytes = 0;
  }
  box->tensor = at::Tensor();
}

// Weak references whose finalizer ran during a collection. Deleting a
// reference is not a basic (GC-safe) call, so the next wrap on the same
// thread (the environment's thread, where its finalizers run) deletes them.
thread_local std::vector<std::pair<napi_env, napi_ref>> finalizedRefs;

void deleteFinalizedRefs() {
  for (auto& [refEnv, ref] : finalizedRefs) napi_delete_reference(refEnv, ref);
  finalizedRefs.clear();
}

// A plain function pointer, not node-addon-api's templated finalizer, which
// allocates and frees a record of its own for every handle. Runs only for
// tensors nobody disposed (dispose deletes the weak reference).
void finalizeBox(Napi::node_addon_api_basic_env env, void* data, void* /*hint*/) {
  TensorBox* box = boxFromPacked(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data)));
  if (box == &emptyBox) return;
  if (box->tensor.defined()) releaseTensor(Napi::BasicEnv(env), box);
  finalizedRefs.emplace_back(const_cast<napi_env>(static_cast<const napi_env__*>(env)), box->ref);
  box->ref = nullptr;
  freeBox(box);
}

}  // namespace

HandleCounts liveHandleCounts() {
  return {liveTensors.load(std::memory_order_relaxed), liveBytes.load(std::memory_order_relaxed)};
}

void releaseBox(Napi::Env env, TensorBox* box) {
  if (box == &emptyBox || !box->tensor.defined()) return;
  releaseTensor(env, box);
  if (box->ref != nullptr) {
    napi_delete_reference(env, box->ref);
    box->ref = nullptr;
  }
  freeBox(box);
}

Napi::Value wrap(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Null();
  if (!finalizedRefs.empty()) deleteFinalizedRefs();
  TensorBox* box = allocateBox();
  box->tensor = std::move(tensor);
  box->bytes = static_cast<int64_t>(box->tensor.numel()) * box->tensor.element_size();
  box->reportedBytes = 0;
  liveTensors.fetch_add(1, std::memory_order_relaxed);
  liveBytes.fetch_add(box->bytes, std::memory_order_relaxed);
  // Report the bytes this handle keeps alive so V8 feels native memory pressure.
  // Views over-count their base; that only makes collection a little eager.
  // Tensors under a page are not reported: their bytes are fewer than the
  // handle's own bookkeeping, and each report is a call into the isolate.
  if (box->bytes >= kSmallestReportedBytes && box->tensor.device().is_cpu()) {
    box->reportedBytes = box->bytes;
    Napi::MemoryManagement::AdjustExternalMemory(env, box->reportedBytes);
  }
  napi_value handle;
  napi_status status = napi_create_bigint_uint64(env, packedHandle(box), &handle);
  if (status != napi_ok) {
    releaseBox(env, box);
    NAPI_THROW_IF_FAILED(env, status, Napi::Value());
  }
  return Napi::Value(env, handle);
}

void collectWhenUnreachable(Napi::Env env, Napi::Object owner, TensorBox* box) {
  if (!finalizedRefs.empty()) deleteFinalizedRefs();
  if (box == &emptyBox || !box->tensor.defined() || box->ref != nullptr) return;
  void* data = reinterpret_cast<void*>(static_cast<uintptr_t>(packedHandle(box)));
  NAPI_THROW_IF_FAILED_VOID(env, napi_add_finalizer(env, owner, data, finalizeBox, nullptr, &box->ref));
}

Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  auto out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(i, wrap(env, tensors[i]));
  return out;
}

void checkArgCount(const Napi::CallbackInfo& info, size_t count, const char* op) {
  if (info.Length() < count) {
    throw Napi::TypeError::New(info.Env(), std::string(op) + ": expected " + std::to_string(count) + " arguments, got " +
                                               std::to_string(info.Length()));
  }
}

bool isMissing(const Napi::CallbackInfo& info, size_t i) {
  return i >= info.Length() || info[i].IsUndefined() || info[i].IsNull();
}

// One Node-API call: napi_get_value_bigint_uint64 fails for anything but a BigInt.
static TensorBox* boxIfHandle(const Napi::CallbackInfo& info, napi_value v) {
  uint64_t packed = 0;
  bool lossless = false;
  if (napi_get_value_bigint_uint64(info.Env(), v, &packed, &lossless) != napi_ok) return nullptr;
  return lossless ? boxFromPacked(packed) : &emptyBox;
}

static TensorBox* boxFromValue(const Napi::CallbackInfo& info, Napi::Value v, size_t i) {
  TensorBox* box = boxIfHandle(info, v);
  if (box == nullptr) throw argError(info, i, "a tensor handle");
  return box;
}

static at::Tensor& tensorFromBox(const Napi::CallbackInfo& info, TensorBox* box, size_t i) {
  if (!box->tensor.defined()) {
    throw Napi::Error::New(info.Env(), "argument " + std::to_string(i) + ": the tensor was disposed");
  }
  return box->tensor;
}

static at::Tensor& tensorFromValue(const Napi::CallbackInfo& info, Napi::Value v, size_t i) {
  return tensorFromBox(info, boxFromValue(info, v, i), i);
}

TensorBox* boxArg(const Napi::CallbackInfo& info, size_t i) { return boxFromValue(info, info[i], i); }

at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i) { return tensorFromValue(info, info[i], i); }

c10::optional<at::Tensor> optionalTensorArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return tensorArg(info, i);
}

static at::Scalar scalarFromNumber(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    return at::Scalar(static_cast<int64_t>(v));
  }
  return at::Scalar(v);
}

at::Scalar scalarArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (v.IsNumber()) return scalarFromNumber(v.As<Napi::Number>().DoubleValue());
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  throw argError(info, i, "a number");
}

at::Tensor operandArg(const Napi::CallbackInfo& info, size_t i, const at::Device& device) {
  Napi::Value v = info[i];
  if (TensorBox* box = boxIfHandle(info, v)) return tensorFromBox(info, box, i);
  if (!v.IsNumber() && !v.IsBoolean()) throw argError(info, i, "a tensor handle or a number");
  auto t = c10::scalar_to_tensor(scalarArg(info, i), device);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

c10::optional<at::Tensor> optionalOperandArg(const Napi::CallbackInfo& info, size_t i, const at::Device& device) {
  if (isMissing(info, i)) return c10::nullopt;
  return operandArg(info, i, device);
}

TensorOrScalarArg tensorOrScalarArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (TensorBox* box = boxIfHandle(info, v)) return {true, tensorFromBox(info, box, i), at::Scalar()};
  if (!v.IsNumber() && !v.IsBoolean()) throw argError(info, i, "a tensor handle or a number");
  return {false, at::Tensor(), scalarArg(info, i)};
}

c10::optional<TensorOrScalarArg> optionalTensorOrScalarArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return tensorOrScalarArg(info, i);
}

std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw argError(info, i, "an array of tensor handles");
  auto arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) out.push_back(tensorFromValue(info, arr.Get(k), i));
  return out;
}

c10::optional<std::vector<at::Tensor>> optionalTensorListArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return tensorListArg(info, i);
}

std::vector<int64_t> intListArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw argError(info, i, "an array of integers");
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
  if (!info[i].IsNumber()) throw argError(info, i, "an integer");
  return info[i].As<Napi::Number>().Int64Value();
}

c10::optional<int64_t> optionalIntArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return intArg(info, i);
}

double doubleArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw argError(info, i, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

bool boolArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsBoolean()) throw argError(info, i, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string stringArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) throw argError(info, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i) {
  int64_t code = intArg(info, i);
  if (code < 0 || code >= static_cast<int64_t>(at::ScalarType::NumOptions)) {
    throw Napi::RangeError::New(info.Env(), "unknown dtype code " + std::to_string(code));
  }
  return static_cast<at::ScalarType>(code);
}

c10::optional<at::Device> optionalDeviceArg(const Napi::CallbackInfo& info, size_t i) {
  if (isMissing(info, i)) return c10::nullopt;
  return at::Device(stringArg(info, i));
}

int64_t reductionArg(const Napi::CallbackInfo& info, size_t i) {
  auto r = stringArg(info, i);
  if (r == "none") return at::Reduction::None;
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  throw Napi::RangeError::New(info.Env(), "reduction must be 'none', 'mean' or 'sum', got '" + r + "'");
}

Napi::Object objectArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsObject()) throw argError(info, i, "an object");
  return info[i].As<Napi::Object>();
}

Napi::TypedArray typedArrayArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsTypedArray()) throw argError(info, i, "a typed array");
  return info[i].As<Napi::TypedArray>();
}

Napi::Value intListValue(Napi::Env env, at::IntArrayRef values) {
  auto out = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) out.Set(i, Napi::Number::New(env, static_cast<double>(values[i])));
  return out;
}

}  // namespace d2r

static Napi::Object init(Napi::Env env, Napi::Object exports) {
#if defined(__GLIBC__)
  // glibc serves blocks above its mmap threshold (128 KiB at start, raised as
  // large blocks are freed) from fresh pages, and returns the heap's free top
  // above the trim threshold (128 KiB) to the system: either way the next
  // step's activations fault their pages in again. Which one a run gets
  // depends on its first frees, so the same training step ran 77 or 143
  // images/s from run to run. Pinning both high keeps tensors in the heap and
  // the heap's pages mapped (131-141 images/s). D2R_MMAP_THRESHOLD=<bytes>
  // sets another mmap threshold (1048576 keeps the resident set flat in the
  // pattern docs/memory.md names, at a cost in speed); 0 leaves glibc as it is.
  long mmapThreshold = 256L << 20;
  const char* threshold = std::getenv("D2R_MMAP_THRESHOLD");
  if (threshold != nullptr && *threshold != '\0') {  // set and not empty
    char* end = nullptr;
    errno = 0;
    mmapThreshold = std::strtol(threshold, &end, 10);
    if (end == threshold || *end != '\0' || errno != 0 || mmapThreshold < 0 || mmapThreshold > INT_MAX) {
      throw Napi::Error::New(env, std::string("D2R_MMAP_THRESHOLD: expected a whole number of bytes from 0 (glibc's defaults) to ") +
                                      std::to_string(INT_MAX) + ", got '" + threshold + "'");
    }
  }
  if (mmapThreshold > 0) {
    mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmapThreshold));
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
#endif
  d2r::registerOps(env, exports);
  return exports;
}

NODE_API_MODULE(d2r_native, init)
