// The diff of a directory as a tar stream, for commit: layerDiff(dir, fd, options) walks
// `dir` on libuv's thread pool, resolving every path inside it (openat2 RESOLVE_IN_ROOT),
// and writes a tar of its whole tree to the file descriptor `fd`. With `whiteouts`, the
// directory is an overlay upper layer: its whiteouts and opaque directories become the
// image format's `.wh.` entries.
#pragma once

#include <napi.h>

namespace tsc {

void InitLayerDiff(Napi::Env env, Napi::Object exports);

}  // namespace tsc
