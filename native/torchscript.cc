// PyTorch's own files: TorchScript modules (torch::jit::load) and torch.save
// archives read by libtorch's unpickler (no Python, no code execution). The
// TypeScript side (src/io/torchArchive.ts) checks the zip structure and the
// pickle's opcodes before any bytes reach this file; what is checked here is
// what only the unpickled result can tell: each tensor must lie inside the
// bytes its storage record really holds.
#include "ops.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>

namespace d2r {

namespace {

// ---- TorchScript modules ----------------------------------------------------------

using ScriptHandle = Napi::External<torch::jit::Module>;

Napi::Value wrapModule(Napi::Env env, const torch::jit::Module& module) {
  return ScriptHandle::New(env, new torch::jit::Module(module), [](Napi::Env, torch::jit::Module* m) { delete m; });
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

}  // namespace

// { parameters, buffers, children }: the module's own members (not recursive),
// each [name, handle]. Tensor handles are the module's own tensors (same
// autograd identity), so gradients and in-place updates are shared.
Napi::Value scriptMembers(Napi::Env env, torch::jit::Module& module) {
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

namespace {

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

}  // namespace

// A module from the file's bytes as src/models/torchScript.ts read and checked
// them (not from the path again), its tensors on `device` (null: as saved).
Napi::Value scriptLoad(Napi::Env env, Napi::TypedArray bytes, c10::optional<at::Device> device) {
  auto* base = static_cast<const uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
  // The loaded module copies every record it keeps, so the bytes may go once it returns.
  auto module = torch::jit::load(std::make_shared<BoundedReadAdapter>(base, bytes.ByteLength()), device);
  return wrapModule(env, module);
}

// pickleLoad(archive, pickle, depth) -> the description above of `pickle`
// (the archive's data.pkl as checked and adapted by src/io/pickle.ts),
// its storages read from the archive.
Napi::Value pickleLoad(Napi::Env env, Napi::TypedArray bytes, Napi::TypedArray pickle, int64_t depth) {
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
  return describe(env, value, records, static_cast<int>(depth), "data.pkl");
}

// pickleSave(names, tensors) -> the bytes of a torch.save archive holding the dict name -> tensor.
Napi::Value pickleSave(Napi::Env env, const std::vector<std::string>& names, const std::vector<at::Tensor>& tensors) {
  if (names.size() != tensors.size()) throw std::invalid_argument("pickleSave: expected one name per tensor");
  c10::Dict<std::string, at::Tensor> dict;
  for (size_t i = 0; i < names.size(); ++i) dict.insert(names[i], tensors[i].detach().to(at::kCPU).contiguous());
  auto bytes = torch::jit::pickle_save(c10::IValue(dict));
  auto buffer = Napi::ArrayBuffer::New(env, bytes.size());
  if (!bytes.empty()) std::memcpy(buffer.Data(), bytes.data(), bytes.size());
  return buffer;
}

torch::jit::Module& scriptModuleArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsExternal()) throw Napi::TypeError::New(info.Env(), "expected a TorchScript module handle as argument " + std::to_string(i));
  return *info[i].As<ScriptHandle>().Data();
}

std::vector<std::string> stringListArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw Napi::TypeError::New(info.Env(), "expected an array of strings as argument " + std::to_string(i));
  auto array = info[i].As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (uint32_t k = 0; k < array.Length(); ++k) {
    Napi::Value v = array.Get(k);
    if (!v.IsString()) throw Napi::TypeError::New(info.Env(), "expected a string at index " + std::to_string(k) + " of argument " + std::to_string(i));
    out.push_back(v.As<Napi::String>().Utf8Value());
  }
  return out;
}

// The logits; a model that returns anything but one tensor is refused.
at::Tensor scriptForward(torch::jit::Module& module, const at::Tensor& input) {
  auto out = module.forward({input});
  if (!out.isTensor()) {
    throw std::invalid_argument("the TorchScript module's forward returned " + out.type()->str() +
                                "; d2r needs a classifier whose forward returns the logits as one tensor");
  }
  return out.toTensor();
}

void scriptTrain(torch::jit::Module& module, bool mode) { module.train(mode); }

// The archive torch::jit::Module::save writes (torch.jit.load reads it), as bytes:
// the caller writes them atomically.
Napi::Value scriptSave(Napi::Env env, torch::jit::Module& module) {
  std::ostringstream stream;
  module.save(stream);
  std::string bytes = stream.str();
  auto buffer = Napi::ArrayBuffer::New(env, bytes.size());
  if (!bytes.empty()) std::memcpy(buffer.Data(), bytes.data(), bytes.size());
  return buffer;
}

// Moves parameters and buffers in place (set_data), so handles on them stay valid.
void scriptTo(torch::jit::Module& module, const std::string& device) { module.to(at::Device(device)); }

}  // namespace d2r
