// PyTorch's own files: TorchScript modules (torch::jit::load) and torch.save
// archives read by libtorch's unpickler (no Python, no code execution). The
// TypeScript side (src/io/torchArchive.ts) checks the zip structure and the
// pickle's opcodes before any bytes reach this file; what is checked here is
// what only the unpickled result can tell: each tensor must lie inside the
// bytes its storage record really holds.
#include "common.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <cstring>
#include <map>
#include <stdexcept>

namespace d2r {

namespace {

// ---- TorchScript modules ----------------------------------------------------------

using ScriptHandle = Napi::External<torch::jit::Module>;

Napi::Value wrapModule(Napi::Env env, const torch::jit::Module& module) {
  return ScriptHandle::New(env, new torch::jit::Module(module), [](Napi::Env, torch::jit::Module* m) { delete m; });
}

torch::jit::Module& moduleArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsExternal()) throw Napi::TypeError::New(info.Env(), "expected a TorchScript module handle as argument " + std::to_string(i));
  return *info[i].As<ScriptHandle>().Data();
}

// scriptForward(module, input) -> logits; a model that returns anything but one tensor is refused.
Napi::Value scriptForward(const Napi::CallbackInfo& info) {
  checkArgCount(info, 2, "scriptForward");
  auto& module = moduleArg(info, 0);
  auto out = module.forward({tensorArg(info, 1)});
  if (!out.isTensor()) {
    throw std::invalid_argument("the TorchScript module's forward returned " + out.type()->str() +
                                "; d2r needs a classifier whose forward returns the logits as one tensor");
  }
  return wrap(info.Env(), out.toTensor());
}

Napi::Value scriptTrain(const Napi::CallbackInfo& info) {
  checkArgCount(info, 2, "scriptTrain");
  moduleArg(info, 0).train(boolArg(info, 1));
  return info.Env().Undefined();
}

// Moves parameters and buffers in place (set_data), so handles on them stay valid.
Napi::Value scriptTo(const Napi::CallbackInfo& info) {
  checkArgCount(info, 2, "scriptTo");
  moduleArg(info, 0).to(at::Device(stringArg(info, 1)));
  return info.Env().Undefined();
}

template <typename List>
Napi::Array namedTensors(Napi::Env env, const List& list) {
  auto out = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& item : list) {
    auto pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::String::New(env, item.name));
    pair.Set(1u, wrap(env, item.value));
    out.Set(i++, pair);
  }
  return out;
}

// scriptMembers(module) -> { parameters, buffers, children }: the module's own
// members (not recursive), each [name, handle]. Tensor handles are the module's
// own tensors (same autograd identity), so gradients and in-place updates are shared.
Napi::Value scriptMembers(const Napi::CallbackInfo& info) {
  checkArgCount(info, 1, "scriptMembers");
  auto env = info.Env();
  auto& module = moduleArg(info, 0);
  auto children = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& child : module.named_children()) {
    auto pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::String::New(env, child.name));
    pair.Set(1u, wrapModule(env, child.value));
    children.Set(i++, pair);
  }
  auto out = Napi::Object::New(env);
  out.Set("parameters", namedTensors(env, module.named_parameters(false)));
  out.Set("buffers", namedTensors(env, module.named_buffers(false)));
  out.Set("children", children);
  return out;
}

// ---- torch.save archives ------------------------------------------------------------

// Reads from the caller's bytes, never past them (libtorch's MemoryReadAdapter does not check).
class BoundedReadAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  BoundedReadAdapter(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t size() const override { return size_; }
  size_t read(uint64_t pos, void* buf, size_t n, const char* what = "") const override {
    if (pos >= size_) return 0;
    size_t count = std::min<uint64_t>(n, size_ - pos);
    std::memcpy(buf, data_ + pos, count);
    return count;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

// a * b + c, or false on overflow (all non-negative).
bool mulAdd(uint64_t a, uint64_t b, uint64_t c, uint64_t& out) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b + c;
  if (r > UINT64_MAX) return false;
  out = static_cast<uint64_t>(r);
  return true;
}

// The bytes the tensor's view reaches in its storage: its last element's end.
bool viewEndBytes(const at::Tensor& t, uint64_t& end) {
  if (t.storage_offset() < 0) return false;
  uint64_t last = static_cast<uint64_t>(t.storage_offset());
  for (int64_t d = 0; d < t.dim(); ++d) {
    int64_t size = t.sizes()[d], stride = t.strides()[d];
    if (size < 0 || stride < 0) return false;
    if (size == 0) {
      end = 0;
      return true;
    }
    if (!mulAdd(static_cast<uint64_t>(size - 1), static_cast<uint64_t>(stride), last, last)) return false;
  }
  return mulAdd(last + 1, static_cast<uint64_t>(t.element_size()), 0, end);
}

struct RecordSizes {
  std::map<const void*, uint64_t> bytes;
};

void checkTensor(const at::Tensor& t, const RecordSizes& records, const std::string& where) {
  uint64_t end = 0;
  if (!viewEndBytes(t, end)) throw std::invalid_argument(where + ": the tensor's declared sizes, strides or offset are invalid");
  if (end == 0) return;
  const void* data = t.storage().data();
  auto record = records.bytes.find(data);
  uint64_t available = record == records.bytes.end() ? 0 : record->second;
  if (end > available || t.storage().nbytes() > available) {
    throw std::invalid_argument(where + ": the tensor declares " + std::to_string(std::max<uint64_t>(end, t.storage().nbytes())) +
                                " bytes but its storage record holds " + std::to_string(available));
  }
}

// The unpickled value as JS: tensors as handles, string-keyed dicts as
// { kind: 'dict', entries: [[key, value]] } (checked down to `depth` levels),
// anything else as { kind: <type> }. The TypeScript side decides what it accepts.
Napi::Value describe(Napi::Env env, const c10::IValue& value, const RecordSizes& records, int depth, const std::string& where) {
  if (value.isTensor()) {
    checkTensor(value.toTensor(), records, where);
    return wrap(env, value.toTensor());
  }
  auto out = Napi::Object::New(env);
  if (value.isGenericDict() && depth > 0) {
    out.Set("kind", "dict");
    auto entries = Napi::Array::New(env);
    uint32_t i = 0;
    for (const auto& item : value.toGenericDict()) {
      auto pair = Napi::Array::New(env, 2);
      if (!item.key().isString()) {
        pair.Set(0u, env.Null());
        pair.Set(1u, env.Null());
      } else {
        std::string key = item.key().toStringRef();
        pair.Set(0u, Napi::String::New(env, key));
        pair.Set(1u, describe(env, item.value(), records, depth - 1, key));
      }
      entries.Set(i++, pair);
    }
    out.Set("entries", entries);
    return out;
  }
  out.Set("kind", value.type()->str());
  return out;
}

// scriptLoad(bytes, device | null) -> module, from the file's bytes as
// src/models/torchScript.ts read and checked them (not from the path again).
Napi::Value scriptLoad(const Napi::CallbackInfo& info) {
  checkArgCount(info, 2, "scriptLoad");
  auto bytes = typedArrayArg(info, 0);
  auto* base = static_cast<const uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
  // The loaded module copies every record it keeps, so the bytes may go once it returns.
  auto module = torch::jit::load(std::make_shared<BoundedReadAdapter>(base, bytes.ByteLength()), optionalDeviceArg(info, 1));
  return wrapModule(info.Env(), module);
}

// pickleLoad(archive, pickle, depth) -> the description above of `pickle`
// (the archive's data.pkl as checked and adapted by src/io/pickle.ts),
// its storages read from the archive.
Napi::Value pickleLoad(const Napi::CallbackInfo& info) {
  checkArgCount(info, 3, "pickleLoad");
  auto bytes = typedArrayArg(info, 0);
  auto pickle = typedArrayArg(info, 1);
  int depth = static_cast<int>(intArg(info, 2));
  auto* base = static_cast<const uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
  caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BoundedReadAdapter>(base, bytes.ByteLength()));
  size_t pickleSize = pickle.ByteLength();
  size_t position = 0;
  auto* pickleBytes = static_cast<const char*>(pickle.ArrayBuffer().Data()) + pickle.ByteOffset();
  auto read = [&](char* buffer, size_t length) -> size_t {
    size_t count = std::min(length, pickleSize - position);
    if (count > 0) std::memcpy(buffer, pickleBytes + position, count);
    position += count;
    return count;
  };
  RecordSizes records;
  auto readRecord = [&](const std::string& key) -> at::DataPtr {
    std::string name = "data/" + key;
    if (!reader.hasRecord(name)) throw std::invalid_argument("the pickle names a storage record '" + name + "' the archive does not have");
    auto record = reader.getRecord(name);
    records.bytes[std::get<0>(record).get()] = std::get<1>(record);
    return std::move(std::get<0>(record));
  };
  torch::jit::Unpickler unpickler(read, nullptr, nullptr, readRecord, at::Device(at::kCPU));
  unpickler.set_version(reader.version());
  auto value = unpickler.parse_ivalue();
  return describe(info.Env(), value, records, depth, "data.pkl");
}

// pickleSave(names, tensors) -> the bytes of a torch.save archive holding the dict name -> tensor.
Napi::Value pickleSave(const Napi::CallbackInfo& info) {
  checkArgCount(info, 2, "pickleSave");
  auto names = info[0].As<Napi::Array>();
  auto tensors = tensorListArg(info, 1);
  if (names.Length() != tensors.size()) throw std::invalid_argument("pickleSave: expected one name per tensor");
  c10::Dict<std::string, at::Tensor> dict;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    dict.insert(names.Get(i).As<Napi::String>().Utf8Value(), tensors[i].detach().to(at::kCPU).contiguous());
  }
  auto bytes = torch::jit::pickle_save(c10::IValue(dict));
  auto buffer = Napi::ArrayBuffer::New(info.Env(), bytes.size());
  if (!bytes.empty()) std::memcpy(buffer.Data(), bytes.data(), bytes.size());
  return buffer;
}

}  // namespace

void registerTorchScript(Napi::Env env, Napi::Object exports) {
  D2R_EXPORT("scriptLoad", scriptLoad);
  D2R_EXPORT("scriptForward", scriptForward);
  D2R_EXPORT("scriptTrain", scriptTrain);
  D2R_EXPORT("scriptTo", scriptTo);
  D2R_EXPORT("scriptMembers", scriptMembers);
  D2R_EXPORT("pickleLoad", pickleLoad);
  D2R_EXPORT("pickleSave", pickleSave);
}

}  // namespace d2r
