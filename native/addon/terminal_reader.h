// A container process's terminal, seen from Node: the master end of its pty.
// Reading it is here, not in a tty.ReadStream: libuv takes a short read that
// comes with POLLHUP for the end of a stream, while a pty master hands out at
// most one line-discipline buffer (4095 bytes) per read and reports POLLHUP as
// soon as the program's side is closed, with more of its output queued behind.
// A ReadStream would drop that output. Writing needs nothing native
// (fs.writeSync on the non-blocking master); its window size does.
#pragma once

#include <napi.h>

namespace tsc {

// readTerminal(fd, onData(buffer), onEnd(errno)) → handle with pause(), resume()
// and close(): reads the master whenever it is readable, until it reads EIO
// (no process holds the terminal any more: errno 0 then) or fails (that
// errno). close() stops reading; the fd stays open, the caller closes it.
// setWindowSize(fd, columns, rows): TIOCSWINSZ; the kernel sends SIGWINCH to
// the terminal's foreground process group when the size changes.
void InitTerminal(Napi::Env env, Napi::Object exports);

}  // namespace tsc
