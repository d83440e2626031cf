#include "backends/kube/srvr_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>
#include <cerrno>
#include <cstdlib>

namespace zk::op::kube {
namespace {

using Clock = std::chrono::steady_clock;

// One non-blocking connection: connect, send a four-letter word, read until the member closes.
struct Probe {
  int fd = -1;
  bool sent = false;
  bool done = false;
  std::string answer;

  Probe() = default;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
  Probe(Probe&& o) noexcept : fd(o.fd), sent(o.sent), done(o.done), answer(std::move(o.answer)) {
    o.fd = -1;
  }
  ~Probe() {
    if (fd >= 0) ::close(fd);
  }
};

int connectTo(const SrvrTarget& t) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(t.host.c_str(), std::to_string(t.port).c_str(), &hints, &res) != 0) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  return fd;
}

void step(Probe& p, std::string_view word, short revents) {
  if (revents & POLLOUT && !p.sent) {
    p.sent =
        ::send(p.fd, word.data(), word.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(word.size());
    if (!p.sent) p.done = true;
    return;
  }
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    char buf[4096];
    ssize_t n = ::recv(p.fd, buf, sizeof buf, 0);
    if (n > 0) {
      p.answer.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EAGAIN) {
      p.done = true;
    }
  }
}

}  // namespace

std::optional<SrvrAnswer> parseSrvrAnswer(std::string_view text) {
  std::optional<SrvrAnswer> out;
  std::int64_t zxid = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.starts_with("Mode: ")) {
      std::string_view mode = line.substr(6);
      while (!mode.empty() && (mode.back() == '\r' || mode.back() == ' ')) mode.remove_suffix(1);
      out = SrvrAnswer{parseRole(mode), 0};
    } else if (line.starts_with("Zxid: ")) {
      zxid = std::strtoll(std::string(line.substr(6)).c_str(), nullptr, 0);
    }
  }
  if (out) out->zxid = zxid;
  return out;
}

std::vector<std::optional<std::string>> askFourLetterWord(const std::vector<SrvrTarget>& targets,
                                                          std::string_view word,
                                                          std::chrono::milliseconds timeout) {
  std::vector<Probe> probes(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    probes[i].fd = connectTo(targets[i]);
    probes[i].done = probes[i].fd < 0;
  }
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::vector<pollfd> fds;
    std::vector<size_t> which;
    for (size_t i = 0; i < probes.size(); ++i) {
      if (probes[i].done) continue;
      fds.push_back({probes[i].fd, static_cast<short>(probes[i].sent ? POLLIN : POLLOUT), 0});
      which.push_back(i);
    }
    if (fds.empty()) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(left.count(), 1))) <= 0) {
      continue;
    }
    for (size_t k = 0; k < fds.size(); ++k) step(probes[which[k]], word, fds[k].revents);
  }
  std::vector<std::optional<std::string>> out;
  for (const Probe& p : probes) {
    // Only a complete answer counts: the member closes the connection after it.
    out.push_back(p.done && p.sent ? std::optional(p.answer) : std::nullopt);
  }
  return out;
}

std::vector<std::optional<SrvrAnswer>> askSrvr(const std::vector<SrvrTarget>& targets,
                                               std::chrono::milliseconds timeout) {
  std::vector<std::optional<SrvrAnswer>> out;
  for (const auto& answer : askFourLetterWord(targets, "srvr", timeout)) {
    out.push_back(answer ? parseSrvrAnswer(*answer) : std::nullopt);
  }
  return out;
}

}  // namespace zk::op::kube
