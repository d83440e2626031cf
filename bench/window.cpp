#include <chrono>
#include <stdexcept>
#include <thread>

#include "workloads.h"

namespace zk::bench {

double runWindow(const Options& o, Window& w) {
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup_s));
  auto start = Clock::now();
  w.recording = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s));
  w.recording = false;
  auto end = Clock::now();
  w.stopping = true;
  return std::chrono::duration<double>(end - start).count();
}

std::vector<std::unique_ptr<Session>> connectAll(const Options& o, int n) {
  std::vector<std::unique_ptr<Session>> sessions;
  sessions.reserve(n);
  for (int i = 0; i < n; ++i) {
    sessions.push_back(std::make_unique<Session>(o.hosts, o.session_timeout_ms));
  }
  auto deadline = Clock::now() + kConnectTimeout;
  for (auto& s : sessions) {
    if (!s->waitConnected(deadline)) throw std::runtime_error("session did not connect in time");
  }
  return sessions;
}

void ensureNode(zhandle_t* zh, const std::string& path, const std::string& data) {
  int rc = zoo_create(zh, path.c_str(), data.data(), static_cast<int>(data.size()), openAcl(), 0,
                      nullptr, 0);
  if (rc != ZOK && rc != ZNODEEXISTS) {
    throw std::runtime_error("create " + path + ": " + zerror(rc));
  }
}

}  // namespace zk::bench
