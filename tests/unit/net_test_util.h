#pragma once
// An Introspection whose figures a test sets: the four-letter words' and the AdminServer's tests
// read the same fake server.

#include <map>
#include <string>
#include <vector>

#include "net/introspection.h"

namespace zk {

class FakeServer : public Introspection {
 public:
  ServerStats stats(StatsExtras extras) const override {
    asked_.push_back(extras);
    return stats_;
  }
  std::vector<ConnectionStats> connections() const override { return connections_; }
  SessionDump sessions() const override { return sessions_; }
  std::map<std::int64_t, std::vector<std::string>> watchesBySession() const override {
    return bySession_;
  }
  std::map<std::string, std::vector<std::int64_t>> watchesByPath() const override {
    return byPath_;
  }
  void resetStats() override { ++statsResets_; }
  void resetConnectionStats() override { ++connectionResets_; }
  bool readOnly() const override { return readOnly_; }
  bool serving() const override { return serving_; }

  ServerStats stats_;
  std::vector<ConnectionStats> connections_;
  SessionDump sessions_;
  std::map<std::int64_t, std::vector<std::string>> bySession_;
  std::map<std::string, std::vector<std::int64_t>> byPath_;
  mutable std::vector<StatsExtras> asked_;  // what each stats() call asked for beyond the loop
  int statsResets_ = 0;
  int connectionResets_ = 0;
  bool readOnly_ = false;
  bool serving_ = true;
};

}  // namespace zk
