// A running SHA-256 (OpenSSL's, as Node links it) and its lowercase hex digest: the stream
// hash and the layer inflater both name content by it.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>

namespace tsc {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { ready_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1; }

  bool ready() const { return ready_; }
  bool Update(const void* data, size_t length) { return EVP_DigestUpdate(ctx_.get(), data, length) == 1; }

  // Ends the hash; false when OpenSSL fails.
  bool FinishHex(std::string& out) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), md, &length) != 1) return false;
    static const char hex[] = "0123456789abcdef";
    out.clear();
    out.reserve(length * 2);
    for (unsigned int i = 0; i < length; i++) {
      out.push_back(hex[md[i] >> 4]);
      out.push_back(hex[md[i] & 15]);
    }
    return true;
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
  bool ready_ = false;
};

}  // namespace tsc
