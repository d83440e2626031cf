#pragma once
// A ZkCluster named zk in namespace prod, from the YAML lines under `spec:` (indented two spaces).

#include <string>

#include "model/zk_cluster.h"

namespace zk::op {

inline ZkCluster clusterWithSpec(const std::string& spec) {
  return parseZkClusterYaml(
      "apiVersion: zookube.dev/v1alpha1\nkind: ZkCluster\nmetadata: {name: zk, namespace: prod, "
      "uid: u-1}\nspec:\n" +
      spec);
}

}  // namespace zk::op
