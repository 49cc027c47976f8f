// Views and shape manipulation.
#include "common.h"

namespace d2r {
namespace {

Napi::Value reshape(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).reshape(intListArg(info, 1)));
}
Napi::Value view(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).view(intListArg(info, 1)));
}
Napi::Value permute(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).permute(intListArg(info, 1)));
}
Napi::Value transpose(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).transpose(intArg(info, 1), intArg(info, 2)));
}
Napi::Value unsqueeze(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).unsqueeze(intArg(info, 1)));
}
Napi::Value squeeze(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  if (isMissing(info, 1)) return wrap(info.Env(), t.squeeze());
  return wrap(info.Env(), t.squeeze(intArg(info, 1)));
}
Napi::Value expand(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).expand(intListArg(info, 1)));
}
Napi::Value repeat(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).repeat(intListArg(info, 1)));
}
Napi::Value narrow(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).narrow(intArg(info, 1), intArg(info, 2), intArg(info, 3)));
}
// slice(t, dim, start, end, step): Python's t[..., start:end:step, ...]
Napi::Value slice(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).slice(intArg(info, 1), intArg(info, 2), intArg(info, 3), intArg(info, 4)));
}
Napi::Value select(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).select(intArg(info, 1), intArg(info, 2)));
}
Napi::Value flip(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).flip(intListArg(info, 1)));
}
Napi::Value flatten(const Napi::CallbackInfo& info) {
  return wrap(info.Env(), tensorArg(info, 0).flatten(intArg(info, 1), intArg(info, 2)));
}
// split(t, sizes: number | number[], dim)
Napi::Value split(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  if (info.Length() > 1 && info[1].IsArray()) {
    return wrapList(info.Env(), t.split_with_sizes(intListArg(info, 1), intArg(info, 2)));
  }
  return wrapList(info.Env(), t.split(intArg(info, 1), intArg(info, 2)));
}
Napi::Value chunk(const Napi::CallbackInfo& info) {
  return wrapList(info.Env(), tensorArg(info, 0).chunk(intArg(info, 1), intArg(info, 2)));
}
// pad(t, pads, mode, value): pads are PyTorch's (last dim first) pairs.
Napi::Value pad(const Napi::CallbackInfo& info) {
  auto& t = tensorArg(info, 0);
  auto pads = intListArg(info, 1);
  auto mode = stringArg(info, 2);
  if (mode == "constant") return wrap(info.Env(), at::constant_pad_nd(t, pads, doubleArg(info, 3)));
  if (pads.size() == 4 && mode == "reflect") return wrap(info.Env(), at::reflection_pad2d(t, pads));
  if (pads.size() == 4 && mode == "replicate") return wrap(info.Env(), at::replication_pad2d(t, pads));
  if (pads.size() == 2 && mode == "reflect") return wrap(info.Env(), at::reflection_pad1d(t, pads));
  if (pads.size() == 2 && mode == "replicate") return wrap(info.Env(), at::replication_pad1d(t, pads));
  throw Napi::Error::New(info.Env(), "pad: mode '" + mode + "' with " + std::to_string(pads.size()) +
                                         " pad values is not supported (constant: any; reflect/replicate: 2 or 4)");
}

}  // namespace

void registerShape(Napi::Env env, Napi::Object exports) {
  D2R_EXPORT("reshape", reshape);
  D2R_EXPORT("view", view);
  D2R_EXPORT("permute", permute);
  D2R_EXPORT("transpose", transpose);
  D2R_EXPORT("unsqueeze", unsqueeze);
  D2R_EXPORT("squeeze", squeeze);
  D2R_EXPORT("expand", expand);
  D2R_EXPORT("repeat", repeat);
  D2R_EXPORT("narrow", narrow);
  D2R_EXPORT("slice", slice);
  D2R_EXPORT("select", select);
  D2R_EXPORT("flip", flip);
  D2R_EXPORT("flatten", flatten);
  D2R_EXPORT("split", split);
  D2R_EXPORT("chunk", chunk);
  D2R_EXPORT("pad", pad);
}

}  // namespace d2r
