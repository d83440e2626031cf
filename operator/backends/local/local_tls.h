#pragma once
// spec.tls in local mode: the operator's CA and each member's keystore as files, so a TLS
// ensemble runs on one machine. Only `issuer: operator` applies here (there is no cert-manager
// nor Secret); the CA lives in <state-dir>/tls.

#include <cstdint>
#include <filesystem>

#include "model/zk_cluster.h"
#include "render/certificates.h"
#include "render/render.h"

namespace zk::op::local {

// The CA in `caDir` (ca.crt, ca.key), issued on first use or when inside the last third of its
// lifetime, with the operator's client certificate (operator.crt, operator.key) beside it.
KeyPair ensureLocalCa(const ZkCluster& c, const std::filesystem::path& caDir, std::int64_t now);

std::int64_t unixSeconds();

// Writes <memberTlsDir>/<member>.pem (key, then certificate) and ca.crt, issuing from the CA in
// `caDir` (made on first use, with the operator's client certificate operator.crt/operator.key
// beside it). A certificate inside its renewal window is issued again: the member reloads the
// files on its next handshake, no restart. Throws std::runtime_error when the spec asks for a
// source local mode cannot offer.
void ensureLocalTls(const ZkCluster& c, const Member& m, const std::filesystem::path& caDir,
                    const std::filesystem::path& memberTlsDir, std::int64_t now);

}  // namespace zk::op::local
