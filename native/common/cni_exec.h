// The CNI exec protocol, implemented once: a container's attachment record
// (protocol/network-attachment.ts) names the plugin chain; ADD runs it in order,
// each plugin's config with the previous result spliced in as prevResult; DEL runs
// it in reverse with the stored result; CHECK in order. Used by the addon (from a
// worker thread, for containers Node owns) and by the monitor (detached containers).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tsc {

struct CniAttachment {
  std::string network;
  std::string container;
  std::string ifname;
  std::string cni_path;
  std::vector<std::string> binaries;
  // (binary name, exact stdin JSON without prevResult), in ADD order.
  std::vector<std::pair<std::string, std::string>> plugins;
};

// What a run did. ok: every plugin succeeded (for DEL: every one was run and none
// failed). Otherwise `plugin` failed: exit_code is its status (-1: it could not be
// run, e.g. missing), `output` its stdout (the CNI error JSON) and `diagnostics`
// its stderr or the reason it could not run.
struct CniOutcome {
  bool ok = true;
  std::string result;
  std::string plugin;
  int exit_code = 0;
  std::string output;
  std::string diagnostics;
};

// Parses the record's NUL-separated "key=value" entries; false with `error` set.
bool parse_attachment(const std::string& text, CniAttachment* out, std::string* error);

// Runs `command` ("ADD", "DEL", "CHECK") for the record at `record_path` in the
// network namespace `netns` (a path; empty for a DEL whose namespace is gone).
// ADD stores its result beside the record (kAttachmentFileResult); DEL and CHECK
// read it as prevResult, and a DEL that succeeded removes it.
// `cni_args` is CNI_ARGS ("IgnoreUnknown=1;IP=10.89.0.5" asks host-local for that address).
CniOutcome cni_run(const std::string& record_path, const std::string& command, const std::string& netns,
                   const std::string& cni_args = "");

// The first IP address ("10.89.0.5", without its prefix) of the record's stored result; "" when none.
std::string stored_address(const std::string& record_path);

}  // namespace tsc
