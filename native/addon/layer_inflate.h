// gunzip of a layer blob on libuv's thread pool, into buffers JavaScript hands in and reuses.
// Node's zlib streams give each output chunk a fresh Buffer: a pull's hundreds of megabytes
// of them keep V8's collector busy on the JavaScript thread. Here the output goes into the
// caller's buffers.
#pragma once

#include <napi.h>

namespace tsc {

void InitLayerInflate(Napi::Env env, Napi::Object exports);

}  // namespace tsc
