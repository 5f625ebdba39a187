// Keeps the helper startable on glibc 2.35 (Ubuntu 22.04), though it is built on 2.36.
//
// The helper links GCC 12's libstdc++ statically. Any std::runtime_error brings in its string
// code, which brings in std::random_device, whose "arc4random" source calls glibc 2.36's
// arc4random: that one reference would make the dynamic loader refuse the whole helper on an
// older glibc. The helper never makes a random_device; this definition, from getrandom(2) as
// glibc's own is, satisfies the reference inside the executable instead.
#include <sys/random.h>

#include <cerrno>
#include <cstdint>

extern "C" uint32_t arc4random(void) noexcept {
  uint32_t value = 0;
  for (;;) {
    ssize_t n = getrandom(&value, sizeof value, 0);
    if (n == static_cast<ssize_t>(sizeof value)) return value;
    if (n < 0 && errno != EINTR) return value;  // getrandom cannot fail for 4 bytes on Linux >= 3.17
  }
}
