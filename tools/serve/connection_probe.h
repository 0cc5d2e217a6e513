// Tells whether the client of a request has closed its connection while the
// server is still working on the reply. cpp-httplib 0.11 does not expose the
// socket of a request, so the probe finds it once by its addresses (the
// socket whose local and peer ports are the request's) and then peeks at it:
// a socket that reads end-of-file has been closed by the client.
#pragma once
#include <string>

namespace dllm::serve {

class ConnectionProbe {
 public:
  ConnectionProbe(const std::string& remote_addr, int remote_port, int local_port);
  // True once the peer closed the connection (false when unknown).
  bool closed() const;

 private:
  int fd_ = -1;
};

}  // namespace dllm::serve
