#pragma once
// What the staged quorum migrations (quorum_tls_migration.h, quorum_sasl_migration.h) share: four
// stages from off (rank 0) to on (rank 3), walked one adjacent stage per roll, in either
// direction, and the step's text for status and Events.

#include <string>

namespace zk::op {

inline constexpr int kLastMigrationStage = 3;

// The stage one step from `from` towards `goal` (`from` itself once there).
template <typename Stage>
Stage stageTowards(Stage from, Stage goal) {
  int f = static_cast<int>(from), g = static_cast<int>(goal);
  return f == g ? from : static_cast<Stage>(f + (g > f ? 1 : -1));
}

// "enabling, step 2 of 3: <what>" for reaching the stage of rank `rank`: enabling reaches rank k
// at step k, disabling at step 3 - k.
inline std::string migrationStepText(int rank, bool enabling, const std::string& what) {
  int step = enabling ? rank : kLastMigrationStage - rank;
  return std::string(enabling ? "enabling" : "disabling") + ", step " + std::to_string(step) +
         " of " + std::to_string(kLastMigrationStage) + ": " + what;
}

}  // namespace zk::op
