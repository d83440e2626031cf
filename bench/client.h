// One libzookeeper-mt session with a blocking wait for the connected state.
#pragma once

#include <zookeeper/zookeeper.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace zk::bench {

using Clock = std::chrono::steady_clock;

inline int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Starts connecting on construction; closes the session (and joins the client's threads) on
// destruction. Not movable: the client library keeps a pointer to it as the watcher context.
class Session {
 public:
  Session(const std::string& hosts, int timeout_ms);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // True once connected; false if the deadline passes or the session expires first.
  bool waitConnected(Clock::time_point deadline);
  bool connected();
  zhandle_t* handle() const { return zh_; }

 private:
  static void onEvent(zhandle_t* zh, int type, int state, const char* path, void* ctx);

  std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false;
  bool dead_ = false;
  zhandle_t* zh_ = nullptr;
};

// The ACL every benchmark znode gets (world:anyone, all permissions).
const ACL_vector* openAcl();

}  // namespace zk::bench
