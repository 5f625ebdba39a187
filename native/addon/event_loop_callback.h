// Calling JavaScript from a libuv callback (a pidfd, a seccomp listener or a
// terminal became readable). An exception thrown there is the program's, as in
// any event handler: it goes to 'uncaughtException'. Left to propagate, it
// would cross libuv and end the process (and it is thrown, too, when the
// callback fires while Node tears its environment down).
#pragma once

#include <napi.h>

#include <initializer_list>

namespace tsc {

inline void call_from_event_loop(const Napi::FunctionReference& callback, const std::initializer_list<napi_value>& args) {
  if (callback.IsEmpty()) return;
  Napi::Env env = callback.Env();
  try {
    callback.MakeCallback(env.Global(), args);
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
  }
}

}  // namespace tsc
