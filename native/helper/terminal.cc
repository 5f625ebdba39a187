#include "helper/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/control_channel.h"
#include "common/setup_error.h"
#include "common/unique_fd.h"
#include "helper/mount_api.h"
#include "helper/path_in_root.h"

namespace tsc {

namespace {

// The pty multiplexer of every devpts instance is this character device.
constexpr unsigned kPtmxMajor = 5, kPtmxMinor = 2;

// The master of a new pty of the devpts instance behind /dev/ptmx: in the
// container's first process the instance that populate_dev mounted, in an
// exec'd process the container's own.
int open_master() {
  const std::string step = "allocate a terminal";
  StepScope allocating(StepId::AllocateTerminal);
  // O_NONBLOCK: whatever the container may have put at /dev/ptmx (a FIFO,
  // say) cannot stall the setup; and the master stays non-blocking for its
  // reader, which drives it from an event loop and must never wait on a full
  // input queue.
  UniqueFd fd(check(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK), step));
  struct stat st;
  check(fstat(fd.get(), &st), step);
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(kPtmxMajor, kPtmxMinor)) {
    throw SetupError{step + " (/dev/ptmx is not the pty multiplexer)", ENOTTY};
  }
  int unlock = 0;
  check(ioctl(fd.get(), TIOCSPTLCK, &unlock), step);
  return fd.release();
}

// The peer through the master itself (TIOCGPTPEER), never by its /dev/pts
// path: no name the container controls can stand in for it.
int open_peer(int master) {
  return static_cast<int>(
      check(ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC), "open the terminal's peer"));
}

// /dev/console is the terminal too, as in every OCI runtime: programs that
// write to the console (init systems, getty, kernel-style loggers) reach the
// caller. The peer's node is bound over an empty file that populate_dev made
// while /dev was being built; a /dev mounted by the user may lack it, and then
// it is made here.
void bind_console(int peer) {
  const std::string step = "bind /dev/console";
  UniqueFd tree(clone_tree(peer, "", false, step));
  UniqueFd root(check(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), step));
  attach_in_root(tree.release(), root.get(), "/dev/console", ResolveOptions{CreateAs::File, true}, step);
}

}  // namespace

void attach_terminal(const Plan& plan, int send_fd) {
  UniqueFd master(open_master());
  UniqueFd peer(open_peer(master.get()));
  struct winsize size = {};
  size.ws_col = plan.tty_columns;
  size.ws_row = plan.tty_rows;
  check(ioctl(master.get(), TIOCSWINSZ, &size), "set the terminal's size");
  // The first process opened the pty as (the container's) root; the program
  // runs as the container's user, who must own its terminal, as on a login.
  if (geteuid() != plan.uid) {
    check(fchown(peer.get(), plan.uid, static_cast<gid_t>(-1)), "give the terminal to the container's user");
  }
  // The process is a session leader without one (enter_new_session): this
  // terminal becomes its controlling terminal, so ^C, ^Z and SIGWINCH reach
  // its foreground process group.
  check(ioctl(peer.get(), TIOCSCTTY, 0), "make the terminal the controlling terminal");
  if (plan.tty_console) bind_console(peer.get());
  for (int fd = 0; fd < 3; fd++) check(dup2(peer.get(), fd), "connect stdio to the terminal");
  int rc = send_message(send_fd, "terminal", master.get());
  if (rc < 0) throw SetupError{"send the terminal", -rc};
}

}  // namespace tsc
