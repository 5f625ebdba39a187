#include "common/fd_passing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tsc {

int send_message_with_fds(int socket_fd, const std::string& bytes, const std::vector<int>& fds) {
  if (fds.size() > kMostPassedFds) return -EINVAL;
  struct iovec iov;
  iov.iov_base = const_cast<char*>(bytes.data());
  iov.iov_len = bytes.size();
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMostPassedFds)];
  if (!fds.empty()) {
    memset(control, 0, sizeof control);
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t n = sendmsg(socket_fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

long receive_message_with_fds(int socket_fd, std::string* bytes, std::vector<int>* fds, pid_t* sender, int flags) {
  fds->clear();
  if (sender) *sender = -1;
  // A plan carries the program's arguments and environment (up to a few MiB): the message's
  // size is asked first (MSG_TRUNC gives a seqpacket's real length), with a bound above.
  constexpr size_t kMostBytes = 64u << 20;
  ssize_t size;
  do {
    size = recv(socket_fd, nullptr, 0, MSG_PEEK | MSG_TRUNC | flags);
  } while (size < 0 && errno == EINTR);
  if (size < 0) return -errno;
  std::vector<char> buffer(std::min<size_t>(std::max<size_t>(static_cast<size_t>(size), 1), kMostBytes));
  struct iovec iov;
  iov.iov_base = buffer.data();
  iov.iov_len = buffer.size();
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMostPassedFds) + CMSG_SPACE(sizeof(struct ucred))];
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do {
    n = recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC | flags);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET) continue;
    if (cmsg->cmsg_type == SCM_RIGHTS) {
      size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int fd;
        memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
        fds->push_back(fd);
      }
    } else if (cmsg->cmsg_type == SCM_CREDENTIALS && sender) {
      struct ucred cred;
      memcpy(&cred, CMSG_DATA(cmsg), sizeof cred);
      *sender = cred.pid;
    }
  }
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    for (int fd : *fds) close(fd);
    fds->clear();
    // With room for more fds than any message carries, cut control data means the kernel
    // could not install them: this process is out of fds.
    return (msg.msg_flags & MSG_TRUNC) ? -EMSGSIZE : -EMFILE;
  }
  bytes->assign(buffer.data(), static_cast<size_t>(n));
  return n;
}

}  // namespace tsc
