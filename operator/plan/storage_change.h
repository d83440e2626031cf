#pragma once
// A change of spec.storage against the volumes that exist: what Kubernetes can do (grow a claim
// whose class allows it) and what it cannot (shrink one, move it to another class). Pure.

#include <optional>
#include <string>
#include <string_view>

#include "model/zk_cluster.h"

namespace zk::op {

// The volumes as the live StatefulSets' claim templates describe them.
struct AppliedStorage {
  std::string size;
  std::optional<std::string> storageClassName;
  bool operator==(const AppliedStorage&) const = default;
};

// A Kubernetes resource quantity ("10Gi", "500M", "1.5Ti", "1e9") in bytes; nullopt for text
// that is not one.
std::optional<long double> quantityBytes(std::string_view quantity);

enum class StorageChange { kNone, kGrow, kRefused };

struct StorageDecision {
  StorageChange change = StorageChange::kNone;
  std::string message;  // kGrow: what grows; kRefused: which field, from what to what, and why
};

StorageDecision decideStorage(const Storage& wanted, const AppliedStorage& applied);

}  // namespace zk::op
