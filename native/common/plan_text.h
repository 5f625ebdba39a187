// How the plan spells its scalar values (protocol/plan-fields.ts): the generated
// plan_keys.h checks and decodes values with these.
#pragma once

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

namespace tsc {

// Unsigned decimal, digits only (strtoull alone would take "-1" and " 5").
inline bool parse_plan_uint64(const std::string& text, unsigned long long* out) {
  if (text.empty() || text.size() > 20) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long value = strtoull(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = value;
  return true;
}

inline bool parse_plan_uint(const std::string& text, unsigned* out) {
  unsigned long long value;
  if (!parse_plan_uint64(text, &value) || value > UINT_MAX) return false;
  *out = static_cast<unsigned>(value);
  return true;
}

inline bool parse_plan_int64(const std::string& text, long long* out) {
  size_t digits = !text.empty() && text[0] == '-' ? 1 : 0;
  if (text.size() == digits) return false;
  for (size_t i = digits; i < text.size(); i++)
    if (text[i] < '0' || text[i] > '9') return false;
  char* end = nullptr;
  errno = 0;
  long long value = strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = value;
  return true;
}

// Lower-case hex bytes: the plan's entries are NUL-separated, so binary travels as hex.
inline bool plan_hex_valid(const std::string& text) {
  if (text.size() % 2 != 0) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The words of a structured value ("name soft hard"): single spaces between them.
inline std::vector<std::string> split_plan_words(const std::string& text) {
  std::vector<std::string> words;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(' ', start);
    words.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  for (const auto& word : words)
    if (word.empty()) return {};
  return words;
}

}  // namespace tsc
