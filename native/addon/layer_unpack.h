// The layer applier as JavaScript sees it: openLayerApplier(dir, options) → a
// handle whose apply(entries) and finish() run on libuv's thread pool, one
// batch at a time, while JavaScript parses the next batch of the tar stream.
#pragma once

#include <napi.h>

namespace tsc {

void InitLayerUnpack(Napi::Env env, Napi::Object exports);

}  // namespace tsc
