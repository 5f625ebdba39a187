#include "helper/id_maps.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/setup_error.h"

namespace tsc {

namespace {

void write_map(pid_t pid, const char* file, const std::vector<IdMap>& map) {
  std::string text;
  for (const auto& m : map) {
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " + std::to_string(m.size) + "\n";
  }
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  std::string step = std::string("write ") + file;
  int fd = static_cast<int>(check(open(path.c_str(), O_WRONLY | O_CLOEXEC), step));
  // The kernel takes the whole map in one write.
  ssize_t n = write(fd, text.data(), text.size());
  int saved = errno;
  close(fd);
  if (n < 0) throw SetupError{step, saved};
}

}  // namespace

void write_id_maps(pid_t pid, const std::vector<IdMap>& uid_map, const std::vector<IdMap>& gid_map) {
  write_map(pid, "uid_map", uid_map);
  write_map(pid, "gid_map", gid_map);
}

}  // namespace tsc
