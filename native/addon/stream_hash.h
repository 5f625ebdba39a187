// A running SHA-256 whose updates run on libuv's thread pool: the image store hashes every
// blob it stores and every layer's uncompressed tar (the diff id), hundreds of megabytes per
// pull, and on Node's one JavaScript thread that work is what bounds a pull. The bytes are
// borrowed, not copied: JavaScript keeps them unchanged until the update settles.
#pragma once

#include <napi.h>

namespace tsc {

void InitStreamHash(Napi::Env env, Napi::Object exports);

}  // namespace tsc
