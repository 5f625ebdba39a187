// A small in-tree test harness for the native unit tests (ts-container-native-tests):
// TEST(name) { ... } registers a test; EXPECT_* records a failure and goes on;
// EXPECT_THROWS_SETUP_ERROR checks that a statement throws a SetupError.
// main() (harness.cc) runs every test and exits non-zero when any expectation failed.
#pragma once

#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace tsc_test {

struct TestCase {
  const char* name;
  std::function<void()> body;
};

std::vector<TestCase>& registry();
// Counts a failed expectation of the running test and prints where it was.
void fail(const char* file, int line, const std::string& what);

struct Registrar {
  Registrar(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

template <typename T>
std::string show(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace tsc_test

#define TSC_TEST_CONCAT2(a, b) a##b
#define TSC_TEST_CONCAT(a, b) TSC_TEST_CONCAT2(a, b)

#define TEST(name)                                                                           \
  static void TSC_TEST_CONCAT(test_, name)();                                                \
  static ::tsc_test::Registrar TSC_TEST_CONCAT(registrar_, name)(#name, TSC_TEST_CONCAT(test_, name)); \
  static void TSC_TEST_CONCAT(test_, name)()

#define EXPECT_TRUE(condition)                                                   \
  do {                                                                           \
    if (!(condition)) ::tsc_test::fail(__FILE__, __LINE__, "expected " #condition); \
  } while (0)

#define EXPECT_EQ(actual, expected)                                                                      \
  do {                                                                                                   \
    const auto& tsc_actual = (actual);                                                                   \
    const auto& tsc_expected = (expected);                                                               \
    if (!(tsc_actual == tsc_expected))                                                                   \
      ::tsc_test::fail(__FILE__, __LINE__,                                                               \
                       #actual " == " #expected ": got " + ::tsc_test::show(tsc_actual) + ", expected " + \
                           ::tsc_test::show(tsc_expected));                                              \
  } while (0)

// statement must throw tsc::SetupError whose step starts with step_prefix and whose errno is err.
#define EXPECT_THROWS_SETUP_ERROR(statement, step_prefix, expected_err)                                 \
  do {                                                                                                  \
    bool tsc_thrown = false;                                                                            \
    try {                                                                                               \
      statement;                                                                                        \
    } catch (const ::tsc::SetupError& e) {                                                              \
      tsc_thrown = true;                                                                                \
      if (e.step.rfind(step_prefix, 0) != 0 || e.err != (expected_err))                                 \
        ::tsc_test::fail(__FILE__, __LINE__, "wrong SetupError: " + e.step + " errno " + std::to_string(e.err)); \
    }                                                                                                   \
    if (!tsc_thrown) ::tsc_test::fail(__FILE__, __LINE__, "expected a SetupError from " #statement);    \
  } while (0)
