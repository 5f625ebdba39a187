#include "tests/harness.h"

namespace tsc_test {

namespace {
int failures_in_test = 0;
}

std::vector<TestCase>& registry() {
  static std::vector<TestCase> tests;
  return tests;
}

void fail(const char* file, int line, const std::string& what) {
  failures_in_test++;
  std::cerr << "  " << file << ":" << line << ": " << what << "\n";
}

}  // namespace tsc_test

int main() {
  int failed = 0;
  for (const auto& test : tsc_test::registry()) {
    tsc_test::failures_in_test = 0;
    try {
      test.body();
    } catch (const std::exception& e) {
      tsc_test::fail(test.name, 0, std::string("unexpected exception: ") + e.what());
    } catch (...) {
      tsc_test::fail(test.name, 0, "unexpected exception");
    }
    bool ok = tsc_test::failures_in_test == 0;
    std::cout << (ok ? "ok   " : "FAIL ") << test.name << "\n";
    if (!ok) failed++;
  }
  std::cout << tsc_test::registry().size() - failed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
