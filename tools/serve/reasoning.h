// Splits generated text into reasoning (<think>...</think>) and content, one
// delta at a time, so that streamed deltas concatenate to exactly the
// non-streamed message. A partial tag at the end waits for the next delta.
#pragma once
#include <string>

namespace dllm::serve {

class ReasoningSplitter {
 public:
  // in_reasoning: the prompt already opened a <think> block (Qwen3.5's generation prompt does).
  explicit ReasoningSplitter(bool in_reasoning) : in_reasoning_(in_reasoning), strip_(in_reasoning) {}

  void push(const std::string& text, std::string* reasoning, std::string* content) {
    buf_ += text;
    run(false, reasoning, content);
  }
  void flush(std::string* reasoning, std::string* content) { run(true, reasoning, content); }

 private:
  static constexpr const char* kOpen = "<think>";
  static constexpr const char* kClose = "</think>";

  // Length of the longest suffix of buf_ that is a proper prefix of tag.
  size_t partial(const std::string& tag) const {
    for (size_t n = std::min(buf_.size(), tag.size() - 1); n > 0; --n)
      if (buf_.compare(buf_.size() - n, n, tag, 0, n) == 0) return n;
    return 0;
  }
  // Leading newlines after a tag belong to the markup, not the text.
  void strip_newlines() {
    if (!strip_) return;
    size_t i = 0;
    while (i < buf_.size() && (buf_[i] == '\n' || buf_[i] == '\r')) ++i;
    buf_.erase(0, i);
    if (!buf_.empty()) strip_ = false;
  }

  void run(bool final, std::string* reasoning, std::string* content) {
    for (;;) {
      strip_newlines();
      if (buf_.empty()) return;
      if (in_reasoning_) {
        const size_t at = buf_.find(kClose);
        if (at != std::string::npos) {
          *reasoning += buf_.substr(0, at);
          buf_.erase(0, at + std::string(kClose).size());
          in_reasoning_ = false;
          strip_ = true;
          seen_content_ = true;
          continue;
        }
        const size_t keep = final ? 0 : partial(kClose);
        *reasoning += buf_.substr(0, buf_.size() - keep);
        buf_.erase(0, buf_.size() - keep);
        return;
      }
      if (!seen_content_) {
        // A reply may open with <think> itself (after blank space).
        const size_t first = buf_.find_first_not_of(" \t\r\n");
        if (first == std::string::npos && !final) return;
        if (first != std::string::npos) {
          const std::string rest = buf_.substr(first);
          if (rest.compare(0, 7, kOpen) == 0) {
            buf_.erase(0, first + 7);
            in_reasoning_ = true;
            strip_ = true;
            seen_content_ = true;
            continue;
          }
          if (!final && rest.size() < 7 && std::string(kOpen).compare(0, rest.size(), rest) == 0) return;
        }
        seen_content_ = true;
      }
      *content += buf_;
      buf_.clear();
      return;
    }
  }

  std::string buf_;
  bool in_reasoning_;
  bool strip_;
  bool seen_content_ = false;
};

}  // namespace dllm::serve
