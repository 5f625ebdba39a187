// The diff of a directory as a tar stream, for commit: layerDiff(dir, fd, options) walks
// `dir` on libuv's thread pool, resolving every path inside it (openat2 RESOLVE_IN_ROOT),
// and writes a tar of its whole tree to the file descriptor `fd`. With `whiteouts`, the
// directory is an overlay upper layer: its whiteouts and opaque directories become the
// image format's `.wh.` entries. Exact as unpacking is: modes, owners, xattrs of every
// entry (symlinks and device nodes too), mtimes to the nanosecond (pax), hard links as
// one file and links to it, and the root's own attributes as a "./" entry (with
// `baseRoot`, only when they differ from that directory's, the root below). Sockets are
// left out, as image tools leave them.
#pragma once

#include <napi.h>

namespace tsc {

void InitLayerDiff(Napi::Env env, Napi::Object exports);

}  // namespace tsc
