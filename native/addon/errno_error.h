// The addon's errno failures, shaped as Node's system errors are (code "EMFILE"...), with the
// step that failed.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstring>
#include <string>

namespace tsc {

inline Napi::Error errno_error(Napi::Env env, int err, const std::string& what) {
  Napi::Error error = Napi::Error::New(env, what + ": " + strerror(err));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", Napi::String::New(env, uv_err_name(-err)));
  error.Set("step", Napi::String::New(env, what));
  return error;
}

}  // namespace tsc
