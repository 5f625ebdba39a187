// Which kind of namespace an nsfs fd stands for, without a lookup through /proc.
#pragma once

#include <napi.h>

namespace tsc {

// namespaceType(fd) → "mnt", "net", "pid", "ipc", "uts", "user", "cgroup", "time", or null when
// fd is not a namespace (ioctl NS_GET_NSTYPE).
void InitNamespaceType(Napi::Env env, Napi::Object exports);

}  // namespace tsc
