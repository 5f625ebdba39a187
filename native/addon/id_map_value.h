// A user namespace's id map as JavaScript gives it: [{ containerId, hostId, size }].
#pragma once

#include <napi.h>

#include "addon/path_in_container.h"

namespace tsc {

// Anything but an array is no map (ids are the host's).
inline IdMap id_map_of(const Napi::Value& value) {
  IdMap map;
  if (!value.IsArray()) return map;
  auto list = value.As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list.Get(i);
    if (!item.IsObject()) continue;
    auto o = item.As<Napi::Object>();
    auto num = [&](const char* key) { return static_cast<uint64_t>(o.Get(key).As<Napi::Number>().Int64Value()); };
    map.push_back({num("containerId"), num("hostId"), num("size")});
  }
  return map;
}

}  // namespace tsc
