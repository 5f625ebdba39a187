#include "addon/namespace_type.h"

#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace tsc {

namespace {

const char* name_of(int type) {
  switch (type) {
    case CLONE_NEWNS: return "mnt";
    case CLONE_NEWNET: return "net";
    case CLONE_NEWPID: return "pid";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUTS: return "uts";
    case CLONE_NEWUSER: return "user";
    case CLONE_NEWCGROUP: return "cgroup";
    case CLONE_NEWTIME: return "time";
    default: return nullptr;
  }
}

Napi::Value NamespaceType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "namespaceType(fd)");
  int type = ioctl(info[0].As<Napi::Number>().Int32Value(), NS_GET_NSTYPE);
  const char* name = type < 0 ? nullptr : name_of(type);
  return name ? Napi::Value(Napi::String::New(env, name)) : env.Null();
}

}  // namespace

void InitNamespaceType(Napi::Env env, Napi::Object exports) {
  exports.Set("namespaceType", Napi::Function::New(env, NamespaceType, "namespaceType"));
}

}  // namespace tsc
