// `deltallm chat` driven through a pseudo-terminal like a person would: two
// turns (the second evaluates only its new tokens, told by the counter on
// stderr), /reset, Ctrl-C during a long answer, /exit.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>

#include "support/test_support.h"
#include "support/tiny_models.h"

namespace {

class PtyProcess {
 public:
  explicit PtyProcess(const std::vector<std::string>& argv) {
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~PtyProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return pid_ > 0; }
  void send(const std::string& s) { ASSERT_EQ(write(fd_, s.data(), s.size()), ssize_t(s.size())); }
  // Reads until `re` matches the output after `from`, or the timeout. Returns the match.
  std::smatch wait_for(const std::string& re, double timeout_s = 60) {
    const std::regex rx(re);
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      std::smatch m;
      const std::string tail = out_.substr(from_);
      if (std::regex_search(tail, m, rx)) {
        matched_ = tail;  // keep the string alive for the match
        std::smatch m2;
        std::regex_search(matched_, m2, rx);
        from_ += size_t(m2.position(0) + m2.length(0));
        return m2;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= end) {
        ADD_FAILURE() << "timed out waiting for /" << re << "/; output so far:\n" << out_;
        return {};
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[4096];
        const ssize_t n = read(fd_, buf, sizeof buf);
        if (n <= 0) {
          ADD_FAILURE() << "the program ended while waiting for /" << re << "/; output:\n" << out_;
          return {};
        }
        out_.append(buf, size_t(n));
      }
    }
  }
  int wait_exit(double timeout_s = 30) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    char buf[4096];
    while (std::chrono::steady_clock::now() < end) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) > 0 && read(fd_, buf, sizeof buf) > 0) continue;
    }
    return -1;
  }
  const std::string& output() const { return out_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string out_, matched_;
  size_t from_ = 0;
};

std::string chat_model() {
  dllm::gen::GenOptions o;
  o.arch = "qwen35";
  o.preset = "tiny";
  o.seed = 3;
  return dllm::test::generated_model(o);
}

TEST(ChatPty, TurnsEvaluateOnlyNewTokensAndResetWorks) {
  PtyProcess p({dllm::test::deltallm_bin(), "chat", "-m", chat_model(), "-n", "12", "--seed", "7", "-t", "2"});
  ASSERT_TRUE(p.ok());
  p.wait_for("> ");
  p.send("hello there\n");
  auto m1 = p.wait_for(R"(\[evaluated (\d+) new tokens, (\d+) in context\])");
  const int first_new = std::stoi(m1[1]), first_ctx = std::stoi(m1[2]);
  EXPECT_EQ(first_new, first_ctx);
  auto g1 = p.wait_for(R"(\[(\d+) tokens generated)");
  const int generated = std::stoi(g1[1]);
  p.wait_for("> ");
  p.send("and how are you\n");
  auto m2 = p.wait_for(R"(\[evaluated (\d+) new tokens, (\d+) in context\])");
  const int second_new = std::stoi(m2[1]), second_ctx = std::stoi(m2[2]);
  // Only the new text was evaluated: what was in context stays.
  EXPECT_EQ(second_ctx - second_new, first_ctx + generated);
  EXPECT_LT(second_new, second_ctx);
  p.wait_for(R"(tokens generated)");
  p.wait_for("> ");
  p.send("/reset\n");
  p.wait_for(R"(\[conversation reset\])");
  p.wait_for("> ");
  p.send("hello there\n");
  auto m3 = p.wait_for(R"(\[evaluated (\d+) new tokens, (\d+) in context\])");
  EXPECT_EQ(std::stoi(m3[1]), first_new);
  EXPECT_EQ(std::stoi(m3[2]), first_ctx);
  p.wait_for(R"(tokens generated)");
  p.wait_for("> ");
  p.send("/exit\n");
  EXPECT_EQ(p.wait_exit(), 0);
}

TEST(ChatPty, CtrlCStopsALongAnswerAndKeepsTheProgram) {
  PtyProcess p({dllm::test::deltallm_bin(), "chat", "-m", chat_model(), "-n", "100000", "--seed", "7", "-t", "2",
                "--temp", "0"});
  ASSERT_TRUE(p.ok());
  p.wait_for("> ");
  p.send("tell me a long story\n");
  p.wait_for(R"(\[evaluated \d+ new tokens, \d+ in context\]\s*\S)");  // the first streamed bytes
  p.send("\x03");                                                      // Ctrl-C through the terminal
  auto m = p.wait_for(R"(\[interrupted: (\d+) tokens generated)");
  EXPECT_LT(std::stoi(m[1]), 4000);
  p.wait_for("> ");
  p.send("still there?\n");
  p.wait_for(R"(\[evaluated \d+ new tokens, \d+ in context\])");
  p.send("\x03");
  p.wait_for("> ");
  p.send("/exit\n");
  EXPECT_EQ(p.wait_exit(), 0);
}

}  // namespace
