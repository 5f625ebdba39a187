#include "helper/device_cgroup.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/setup_error.h"

namespace tsc {

namespace {

constexpr int kAny = -1;

struct DeviceRule {
  int type;  // BPF_DEVCG_DEV_CHAR or BPF_DEVCG_DEV_BLOCK; kAny for "a"
  int major, minor;  // kAny for "*"
  unsigned access;   // BPF_DEVCG_ACC_* bits
};

int parse_number(const std::string& text, const std::string& rule) {
  if (text == "*") return kAny;
  char* end = nullptr;
  long value = strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 0 || value > 0xfffff) {
    throw SetupError{"device cgroup rule \"" + rule + "\"", EINVAL};
  }
  return static_cast<int>(value);
}

DeviceRule parse_rule(const std::string& rule) {
  DeviceRule parsed{kAny, kAny, kAny, 0};
  size_t first = rule.find(' '), second = rule.find(' ', first + 1), colon = rule.find(':');
  if (first != 1 || second == std::string::npos || colon == std::string::npos || colon > second) {
    throw SetupError{"device cgroup rule \"" + rule + "\"", EINVAL};
  }
  switch (rule[0]) {
    case 'c': parsed.type = BPF_DEVCG_DEV_CHAR; break;
    case 'b': parsed.type = BPF_DEVCG_DEV_BLOCK; break;
    case 'a': parsed.type = kAny; break;
    default: throw SetupError{"device cgroup rule \"" + rule + "\"", EINVAL};
  }
  parsed.major = parse_number(rule.substr(first + 1, colon - first - 1), rule);
  parsed.minor = parse_number(rule.substr(colon + 1, second - colon - 1), rule);
  for (char c : rule.substr(second + 1)) {
    if (c == 'r') parsed.access |= BPF_DEVCG_ACC_READ;
    else if (c == 'w') parsed.access |= BPF_DEVCG_ACC_WRITE;
    else if (c == 'm') parsed.access |= BPF_DEVCG_ACC_MKNOD;
    else throw SetupError{"device cgroup rule \"" + rule + "\"", EINVAL};
  }
  return parsed;
}

// The few instruction forms the program needs.
bpf_insn instruction(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn;
  memset(&insn, 0, sizeof insn);
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}
bpf_insn load_word(uint8_t dst, uint8_t src, int16_t off) { return instruction(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0); }
bpf_insn move_register(uint8_t dst, uint8_t src) { return instruction(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn move_value(uint8_t dst, int32_t imm) { return instruction(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
bpf_insn and_value(uint8_t dst, int32_t imm) { return instruction(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm); }
bpf_insn shift_right(uint8_t dst, int32_t imm) { return instruction(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm); }
bpf_insn jump_if_not_equal(uint8_t dst, int32_t imm, int16_t off) { return instruction(BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm); }
bpf_insn exit_program() { return instruction(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Registers: r1 the context (struct bpf_cgroup_dev_ctx); r2 the device type,
// r3 the access asked for, r4 the major, r5 the minor; r6 scratch.
std::vector<bpf_insn> compile(const std::vector<DeviceRule>& rules) {
  std::vector<bpf_insn> program = {
      load_word(2, 1, offsetof(bpf_cgroup_dev_ctx, access_type)),
      move_register(3, 2),
      and_value(2, 0xffff),
      shift_right(3, 16),
      load_word(4, 1, offsetof(bpf_cgroup_dev_ctx, major)),
      load_word(5, 1, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (const auto& rule : rules) {
    // Each test jumps past the rest of this rule's block when it does not match.
    std::vector<bpf_insn> block;
    std::vector<size_t> skips;
    if (rule.type != kAny) {
      skips.push_back(block.size());
      block.push_back(jump_if_not_equal(2, rule.type, 0));
    }
    // Allowed only if every access asked for is one the rule gives.
    block.push_back(move_register(6, 3));
    block.push_back(and_value(6, static_cast<int32_t>(~rule.access & 0xffff)));
    skips.push_back(block.size());
    block.push_back(jump_if_not_equal(6, 0, 0));
    if (rule.major != kAny) {
      skips.push_back(block.size());
      block.push_back(jump_if_not_equal(4, rule.major, 0));
    }
    if (rule.minor != kAny) {
      skips.push_back(block.size());
      block.push_back(jump_if_not_equal(5, rule.minor, 0));
    }
    block.push_back(move_value(0, 1));
    block.push_back(exit_program());
    for (size_t at : skips) block[at].off = static_cast<int16_t>(block.size() - at - 1);
    program.insert(program.end(), block.begin(), block.end());
  }
  program.push_back(move_value(0, 0));
  program.push_back(exit_program());
  return program;
}

long bpf(int command, bpf_attr* attr) { return syscall(SYS_bpf, command, attr, sizeof *attr); }

// Whether a device program is attached to this very cgroup already: a detached
// container restarted by its monitor is started again in the same cgroup, and
// the kernel takes only so many programs per cgroup.
bool has_device_program(int cgroup_fd, const std::string& step) {
  bpf_attr query;
  memset(&query, 0, sizeof query);
  query.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  query.query.attach_type = BPF_CGROUP_DEVICE;
  check(bpf(BPF_PROG_QUERY, &query), step);
  return query.query.prog_cnt > 0;
}

}  // namespace

void attach_device_program(const std::string& cgroup_dir, const std::vector<std::string>& rules) {
  if (rules.empty()) return;
  std::vector<DeviceRule> parsed;
  for (const auto& rule : rules) parsed.push_back(parse_rule(rule));
  std::vector<bpf_insn> program = compile(parsed);

  // The cgroup as a directory fd (an O_PATH fd is refused by bpf()).
  std::string step = "attach the device cgroup program to " + cgroup_dir;
  int cgroup_fd = static_cast<int>(check(open(cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), step));
  int program_fd = -1;
  try {
    if (has_device_program(cgroup_fd, step)) {
      close(cgroup_fd);
      return;
    }
    bpf_attr load;
    memset(&load, 0, sizeof load);
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insns = reinterpret_cast<uint64_t>(program.data());
    load.insn_cnt = static_cast<uint32_t>(program.size());
    load.license = reinterpret_cast<uint64_t>("Apache-2.0");
    program_fd = static_cast<int>(check(bpf(BPF_PROG_LOAD, &load), "load the device cgroup program"));
  } catch (...) {
    close(cgroup_fd);
    throw;
  }
  bpf_attr attach;
  memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(program_fd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  // Programs above (systemd's, a caller's) keep applying too: a device must pass them all.
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  long rc = bpf(BPF_PROG_ATTACH, &attach);
  int saved = errno;
  // The attachment holds the program; it goes when the cgroup is removed.
  close(cgroup_fd);
  close(program_fd);
  if (rc < 0) throw SetupError{step, saved};
}

}  // namespace tsc
