#pragma once
// spec.tls in local mode: the operator's CA and each member's keystore as files, so a TLS
// ensemble runs on one machine. Only `issuer: operator` applies here (there is no cert-manager; a
// caSecretRef is read from <state-dir>/secrets/<name>/tls.crt and tls.key); the CA lives in
// <state-dir>/tls and is rotated as Kubernetes mode rotates its CA Secret
// (render/ca_rotation.h), with the same files under the same names but two:
//   ca.crt, ca.key        the CA that issues (the CA Secret's tls.crt, tls.key)
//   next.crt, next.key    mid-rotation: trusted, issuing from the next step on
//   previous.crt          mid-rotation: still trusted until the last step
//   rotation-since        when the rotation's current step began (Unix seconds)
//   rotation-request      the zookube.dev/rotate-ca annotation value last answered
//   trusted.crt           what the operator, its clients and every member trust (the bundle)
//   operator.crt, .key    the operator's client certificate, from the issuing CA

#include <cstdint>
#include <filesystem>
#include <optional>

#include "backends/members/secret_refs.h"
#include "model/zk_cluster.h"
#include "render/ca_rotation.h"
#include "render/certificates.h"
#include "render/render.h"

namespace zk::op::local {

std::int64_t unixSeconds();

// The CA state in `caDir`, as last written; nullopt before the first.
std::optional<CaBundle> readLocalCa(const std::filesystem::path& caDir);

// Makes the CA on first use and moves a rotation on (updateOperatorCa; with spec.tls.caSecretRef,
// `user`: followUserCa), writing what changed, trusted.crt, and the operator's client certificate
// when it no longer chains to the issuing CA or is due. The returned step names the Event to
// report (empty reason: nothing happened).
CaRotationStep ensureLocalCa(const ZkCluster& c, const std::filesystem::path& caDir,
                             const std::optional<UserCa>& user, std::int64_t now);

// Writes <memberTlsDir>/<member>.pem (key, then certificate) issued from `ca`'s issuing CA, and
// ca.crt (every CA `ca` trusts). A certificate inside its renewal window or from another CA is
// issued again: the member reloads the files on its next handshake, no restart. Throws
// std::runtime_error when the spec asks for a source local mode cannot offer.
void ensureLocalTls(const ZkCluster& c, const Member& m, const CaBundle& ca,
                    const std::filesystem::path& memberTlsDir, std::int64_t now);

// The error ensureLocalTls throws for a source other than the operator; empty when none.
std::string localTlsProblem(const ZkCluster& c);

}  // namespace zk::op::local
