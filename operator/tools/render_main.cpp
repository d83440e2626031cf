// zookube-render: print what the operator would create for a ZkCluster manifest.
//   zookube-render FILE            the Kubernetes objects, as a JSON array
//   zookube-render --local DIR FILE  each local member's zoo.cfg, as a JSON object by member
//   zookube-render --status FILE     the ZkCluster with the status a first reconcile writes
//   zookube-render --spec FILE       the spec as the operator reads it, defaults filled in
//   zookube-render --quorum-jaas PASSWORD FILE  the JAAS sections spec.auth.quorum adds to every
//                                    member's file (DIGEST-MD5), PASSWORD as its Secret's value;
//                                    nothing when the spec renders no quorum DIGEST-MD5
// An invalid manifest prints one error per line (with its field path) and exits 2.
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "model/zk_cluster.h"
#include "plan/plan.h"
#include "render/render.h"

namespace {

int usage() {
  std::cerr << "usage: zookube-render [--local STATE_DIR | --status | --spec | --quorum-jaas "
               "PASSWORD] ZKCLUSTER.yaml\n";
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  std::string file, localDir;
  std::optional<std::string> quorumPassword;
  bool local = false, status = false, spec = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--local" && i + 1 < argc) {
      local = true;
      localDir = argv[++i];
    } else if (arg == "--quorum-jaas" && i + 1 < argc) {
      quorumPassword = argv[++i];
    } else if (arg == "--status") {
      status = true;
    } else if (arg == "--spec") {
      spec = true;
    } else if (!arg.starts_with("-") && file.empty()) {
      file = arg;
    } else {
      return usage();
    }
  }
  if (file.empty()) return usage();
  std::ifstream in(file);
  if (!in) {
    std::cerr << "zookube-render: cannot read " << file << "\n";
    return 66;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    zk::op::ZkCluster c = zk::op::parseZkClusterYaml(text.str());
    if (c.meta.uid.empty()) c.meta.uid = "00000000-0000-0000-0000-000000000000";
    zk::op::Membership m = zk::op::desiredMembership(c);
    if (spec) {
      std::cout << zk::op::toJson(c.spec).serialize() << "\n";
      return 0;
    }
    if (quorumPassword) {
      if (zk::op::rendersQuorumDigest(c)) {
        std::cout << zk::op::renderQuorumDigestJaas(*quorumPassword);
      }
      return 0;
    }
    if (status) {
      zk::op::Plan p =
          zk::op::plan(c, zk::op::rolloutHash(c, zk::op::Addressing::kubernetes()), {});
      web::json::value out = zk::op::yamlToJson(text.str());
      out["status"] = zk::op::toJson(p.status);
      std::cout << out.serialize() << "\n";
      return 0;
    }
    if (local) {
      web::json::value out = web::json::value::object();
      zk::op::Addressing a = zk::op::Addressing::local(localDir);
      for (const zk::op::Member& member : zk::op::members(c, m)) {
        out[member.name] = web::json::value::string(zk::op::renderZooCfg(c, member, m, a));
      }
      std::cout << out.serialize() << "\n";
      return 0;
    }
    web::json::value out = web::json::value::array();
    size_t i = 0;
    for (web::json::value& o : zk::op::renderObjects(c, m)) out[i++] = std::move(o);
    std::cout << out.serialize() << "\n";
  } catch (const zk::op::SpecError& e) {
    for (const std::string& err : e.errors()) std::cerr << err << "\n";
    return 2;
  }
  return 0;
}
