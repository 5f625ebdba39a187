#include "helper/devices.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/setup_error.h"
#include "common/unique_fd.h"
#include "helper/mount_api.h"
#include "helper/path_in_root.h"

namespace tsc {

namespace {

struct Device {
  const char* name;
  unsigned major, minor;
};

// The character devices every OCI runtime provides.
constexpr Device kDevices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

struct Symlink {
  const char* name;
  const char* target;
};

constexpr Symlink kSymlinks[] = {
    {"fd", "/proc/self/fd"},         {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},   {"ptmx", "pts/ptmx"},         {"core", "/proc/kcore"},
};

int open_dir(int mount_fd, const std::string& step) {
  return static_cast<int>(check(openat(mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), step));
}

// Each device is the host's node, bound onto an empty file: /dev itself is
// nodev, so that nodes made in it later cannot be opened.
void add_device(int dev_fd, const Device& device) {
  std::string step = std::string("create /dev/") + device.name;
  int file_fd = static_cast<int>(check(openat(dev_fd, device.name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666), step));
  close(file_fd);
  std::string host_path = std::string("/dev/") + device.name;
  UniqueFd source(clone_tree(AT_FDCWD, host_path, false, "bind " + host_path));
  struct stat st;
  if (fstat(source.get(), &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(device.major, device.minor)) {
    throw SetupError{step + " (the host's " + host_path + " is not that device)", EINVAL};
  }
  int target_fd = static_cast<int>(check(openat(dev_fd, device.name, O_PATH | O_NOFOLLOW | O_CLOEXEC), step));
  attach_mount(source.release(), target_fd, "bind " + host_path);
}

}  // namespace

// Mounts a fresh filesystem at a name in the /dev tmpfs.
static void mount_dev_filesystem(int dev_mount_fd, const char* name, const char* fstype, const FsOptions& options,
                                 unsigned attrs) {
  std::string step = std::string("mount /dev/") + name;
  StepScope mounting(StepId::Mount);
  attach_in_root(make_filesystem(fstype, options, attrs, step), dev_mount_fd, name,
                 ResolveOptions{CreateAs::Directory, true}, step);
}

void populate_dev(int dev_mount_fd, bool in_user_namespace, bool console_target, const FsOptions* shm_options) {
  {
    // The nodes and links are made through this fd, closed before the mounts below.
    UniqueFd dev(open_dir(dev_mount_fd, "open /dev"));
    for (const auto& device : kDevices) add_device(dev.get(), device);
    for (const auto& link : kSymlinks) {
      check(symlinkat(link.target, dev.get(), link.name), std::string("symlink /dev/") + link.name);
    }
    if (console_target) {
      // Made now, while this is the container's fresh /dev: the process's
      // terminal is bound over it once it exists (attach_terminal).
      int file_fd = static_cast<int>(
          check(openat(dev.get(), "console", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600), "create /dev/console"));
      close(file_fd);
    }
  }
  FsOptions pts_options = {{"newinstance", ""}, {"ptmxmode", "0666"}, {"mode", "0620"}};
  // gid 5 (tty) exists in every distribution; in a user namespace it may be unmapped.
  if (!in_user_namespace) pts_options.push_back({"gid", "5"});
  mount_dev_filesystem(dev_mount_fd, "pts", "devpts", pts_options, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  const unsigned locked_down = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (shm_options) mount_dev_filesystem(dev_mount_fd, "shm", "tmpfs", *shm_options, locked_down);
  try {
    mount_dev_filesystem(dev_mount_fd, "mqueue", "mqueue", {}, locked_down);
  } catch (const SetupError& e) {
    // mqueue takes the IPC namespace of the mounter and needs CAP_SYS_ADMIN over its owner: an
    // IPC namespace shared from another user namespace (a pod's) is not the container's to
    // mount. Its queues stay reachable through mq_open; /dev/mqueue is left out.
    if (e.err != EPERM) throw;
  }
}

}  // namespace tsc
