#include "client.h"

#include <stdexcept>

namespace zk::bench {

Session::Session(const std::string& hosts, int timeout_ms) {
  zh_ = zookeeper_init(hosts.c_str(), &Session::onEvent, timeout_ms, nullptr, this, 0);
  if (zh_ == nullptr) throw std::runtime_error("zookeeper_init failed for " + hosts);
  // By default the C client resolves the host list (getaddrinfo: a netlink socket, files read)
  // on every turn of its I/O loop, which cost more CPU than the requests themselves. The
  // hosts are fixed for a run; the client still resolves after a connection loss.
  zoo_set_servers_resolution_delay(zh_, -1);
}

Session::~Session() {
  if (zh_ != nullptr) zookeeper_close(zh_);
}

void Session::onEvent(zhandle_t*, int type, int state, const char*, void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* self = static_cast<Session*>(ctx);
  std::lock_guard lock(self->mu_);
  self->connected_ = state == ZOO_CONNECTED_STATE;
  if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) self->dead_ = true;
  self->cv_.notify_all();
}

bool Session::waitConnected(Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return connected_ || dead_; }) && connected_;
}

bool Session::connected() {
  std::lock_guard lock(mu_);
  return connected_;
}

const ACL_vector* openAcl() {
  return &ZOO_OPEN_ACL_UNSAFE;
}

}  // namespace zk::bench
