// zoo.cfg keys -> ServerConfig. Each key has a setter in one table; what depends on several keys
// (derived defaults, membership, myid) is settled afterwards in finish().

#include "config/zoo_config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "config/four_letter_words.h"
#include "config/properties.h"
#include "util/log.h"

namespace zk {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(file.string() + ": read error");
  return text.str();
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Java's Long.parseLong: optional sign, decimal digits, nothing else.
std::optional<std::int64_t> parseLong(std::string_view s) {
  if (s.starts_with('+')) s.remove_prefix(1);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> commaList(std::string_view text) {
  std::vector<std::string> out;
  std::string_view rest = text;
  for (std::size_t at = 0; at != std::string_view::npos; rest.remove_prefix(at + 1)) {
    at = rest.find(',');
    std::string item(rest.substr(0, at));
    std::erase_if(item, [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    if (!item.empty()) out.push_back(std::move(item));
    if (at == std::string_view::npos) break;
  }
  return out;
}

class Parser {
 public:
  explicit Parser(fs::path source) { cfg_.source = std::move(source); }

  ServerConfig run(std::string_view text);

  [[noreturn]] void fail(const Property& p, std::string_view reason) const {
    throw ConfigValueError(where(p), p.key, std::string(reason));
  }
  void warn(const Property& p, std::string_view why) {
    cfg_.warnings.push_back(where(p) + p.key + ": " + std::string(why));
  }

  std::int64_t integer(const Property& p, std::int64_t min, std::int64_t max) const;
  std::int32_t i32(const Property& p, std::int64_t min = INT32_MIN) const {
    return static_cast<std::int32_t>(integer(p, min, INT32_MAX));
  }
  std::uint16_t port(const Property& p, std::int64_t min = 1) const {
    return static_cast<std::uint16_t>(integer(p, min, 65535));
  }
  bool boolean(const Property& p) const;  // true|false, any case (QuorumPeerConfig.parseBoolean)
  bool yesNo(const Property& p) const;    // yes|no, also true|false (system-property switches)
  // PEM or PKCS12 (any case), "" for unset; JKS and BCFKS are refused with how to convert.
  std::string storeType(const Property& p, std::string_view type) const;
  std::vector<std::string> tlsProtocols(const Property& p) const;  // at least one

  ServerConfig cfg_;
  std::optional<std::int32_t> minTimeout_, maxTimeout_, learnerMasterLimit_, extraSize_;
  bool dataLogDirSet_ = false, metricsPortSet_ = false, clientPortSet_ = false;
  std::vector<Property> membership_;  // server.N / group.N / weight.N, checked in finish()
  std::optional<Property> whitelist_;
  std::optional<Property> keyStore_, trustStore_;  // their types may follow; checked in finish()
  std::optional<Property> quorumKeyStore_, quorumTrustStore_;

  // The settings an ssl.* or ssl.quorum.* key is for.
  static bool isQuorumTlsKey(std::string_view key) { return key.starts_with("ssl.quorum."); }
  TlsSettings& tlsOf(const Property& p) {
    return isQuorumTlsKey(p.key) ? cfg_.quorumTls : cfg_.tls;
  }
  std::optional<Property>& keyStoreOf(const Property& p) {
    return isQuorumTlsKey(p.key) ? quorumKeyStore_ : keyStore_;
  }
  std::optional<Property>& trustStoreOf(const Property& p) {
    return isQuorumTlsKey(p.key) ? quorumTrustStore_ : trustStore_;
  }

 private:
  std::string where(const Property& p) const {
    return cfg_.source.string() + ":" + std::to_string(p.line) + ": ";
  }
  void applyMembership(const Property& p, bool dynamicFile);
  void loadDynamicFile();
  void applyWhitelist();
  void checkMembership();
  void settleMyId();
  void checkTls();
  void settleStoreTypes(TlsSettings& tls, const std::optional<Property>& keyStore,
                        const std::optional<Property>& trustStore);
  void finish();
};

std::int64_t Parser::integer(const Property& p, std::int64_t min, std::int64_t max) const {
  auto v = parseLong(p.value);
  if (!v) fail(p, "'" + p.value + "' is not a number");
  if (*v < min || *v > max) {
    fail(p, std::to_string(*v) + " is out of range " + std::to_string(min) + ".." +
                std::to_string(max));
  }
  return *v;
}

bool Parser::boolean(const Property& p) const {
  std::string v = lowercase(p.value);
  if (v == "true") return true;
  if (v == "false") return false;
  fail(p, "'" + p.value + "' is not true or false");
}

bool Parser::yesNo(const Property& p) const {
  std::string v = lowercase(p.value);
  if (v == "yes" || v == "true") return true;
  if (v == "no" || v == "false") return false;
  fail(p, "'" + p.value + "' is not yes or no");
}

std::string Parser::storeType(const Property& p, std::string_view type) const {
  std::string v = lowercase(type);
  if (v.empty()) return "";
  if (v == "pem") return "PEM";
  if (v == "pkcs12") return "PKCS12";
  if (v == "jks" || v == "bcfks") {
    fail(p, v == "jks" ? "JKS stores are not supported; convert it to PKCS12 (keytool "
                         "-importkeystore -deststoretype PKCS12) or PEM (openssl pkcs12 -nodes)"
                       : "BCFKS stores are not supported; convert it to PKCS12 or PEM");
  }
  fail(p, "unknown store type '" + std::string(type) + "' (expected PEM or PKCS12)");
}

std::vector<std::string> Parser::tlsProtocols(const Property& p) const {
  std::vector<std::string> out = commaList(p.value);
  if (out.empty()) fail(p, "no protocol given");
  for (const std::string& name : out) {
    if (name != "TLSv1.3" && name != "TLSv1.2" && name != "TLSv1.1" && name != "TLSv1" &&
        name != "TLS") {
      fail(p, "unknown protocol '" + name + "' (expected TLSv1.2, TLSv1.3, TLSv1.1 or TLSv1)");
    }
  }
  return out;
}

using Setter = void (*)(Parser&, ServerConfig&, const Property&);

void warnUnsupported(Parser& ps, ServerConfig&, const Property& p) {
  ps.warn(p, "not supported by zookube, ignored");
}
void setQuorumSaslContext(Parser& ps, ServerConfig& c, const Property& p) {
  if (p.value.empty()) ps.fail(p, "empty JAAS section name");
  (p.key == "quorum.auth.learner.saslLoginContext" ? c.quorumLearnerLoginContext
                                                   : c.quorumServerLoginContext) = p.value;
}
void ignoredJvm(Parser& ps, ServerConfig&, const Property& p) {
  ps.warn(p, "JVM setting, ignored");
}
// As ZooKeeper's SnapStream.StreamMode.fromString: case does not matter, and a name it does
// not know means plain snapshots.
void setSnapshotCompression(Parser& ps, ServerConfig& c, const Property& p) {
  std::string method = lowercase(p.value);
  if (method != "" && method != "gz" && method != "snappy") {
    ps.warn(p, "not a compression method (gz, snappy); snapshots are written uncompressed");
    method.clear();
  }
  c.snapshotCompressionMethod = method;
}

void setX509SuperUser(Parser&, ServerConfig& c, const Property& p) {
  c.tls.x509SuperUser = p.value;
}

// ZooKeeper's QuorumX509Util reads the client port's ssl.* settings under ssl.quorum.; the
// zookeeper. prefix of their system-property form is accepted too.
std::optional<std::string> clientTlsKeyOfQuorumKey(std::string_view key) {
  if (key.starts_with("zookeeper.")) key.remove_prefix(10);
  if (!key.starts_with("ssl.quorum.")) return std::nullopt;
  std::string_view rest = key.substr(11);
  for (std::string_view known :
       {"keyStore.location", "keyStore.password", "keyStore.type", "trustStore.location",
        "trustStore.password", "trustStore.type", "clientAuth", "protocol", "enabledProtocols",
        "ciphersuites", "hostnameVerification", "handshakeDetectionTimeoutMillis"}) {
    if (rest == known) return "ssl." + std::string(rest);
  }
  return std::nullopt;
}

void setHandshakeLimit(Parser& ps, ServerConfig& c, const Property& p) {
  c.tls.outstandingHandshakeLimit = ps.i32(p);
}

// As ZooKeeper's ClientAuth.fromPropertyValue: empty means need; otherwise none|want|need.
void setClientAuth(Parser& ps, ServerConfig&, const Property& p) {
  std::string v = lowercase(p.value);
  ClientAuth& auth = ps.tlsOf(p).clientAuth;
  if (v.empty() || v == "need") {
    auth = ClientAuth::kNeed;
  } else if (v == "want") {
    auth = ClientAuth::kWant;
  } else if (v == "none") {
    auth = ClientAuth::kNone;
  } else {
    ps.fail(p, "'" + p.value + "' is not none, want or need");
  }
}

void setSuperDigest(Parser& ps, ServerConfig& c, const Property& p) {
  if (p.value.find(':') == std::string::npos) ps.fail(p, "expected super:<base64 digest>");
  c.superDigest = p.value;
}

// Jetty serves the commands under "<commandURL>/*": the URL is a path, kept without a trailing /.
void setAdminCommandUrl(Parser& ps, ServerConfig& c, const Property& p) {
  if (p.value.empty() || p.value.front() != '/') ps.fail(p, "expected a path starting with /");
  std::string url = p.value;
  while (url.size() > 1 && url.back() == '/') url.pop_back();
  c.admin.commandUrl = url;
}

// System-property switches, read as Java's Boolean.parseBoolean reads them: "true" in any case.
bool javaTrue(const Property& p) {
  return lowercase(p.value) == "true";
}
void setJaasSection(Parser& ps, ServerConfig& c, const Property& p) {
  if (p.value.empty()) ps.fail(p, "empty JAAS section name");
  c.jaasServerSection = p.value;
}
void setRemoveHost(Parser&, ServerConfig& c, const Property& p) {
  c.kerberosRemoveHostFromPrincipal = p.value == "true";  // as ZooKeeper: exactly "true"
}
void setRemoveRealm(Parser&, ServerConfig& c, const Property& p) {
  c.kerberosRemoveRealmFromPrincipal = p.value == "true";
}
void setRequireSasl(Parser&, ServerConfig& c, const Property& p) {
  c.sessionRequireClientSaslAuth = javaTrue(p);
}
void setAllowSaslFailed(Parser&, ServerConfig& c, const Property& p) {
  c.allowSaslFailedClients = javaTrue(p);
}
void setEnforceAuth(Parser&, ServerConfig& c, const Property& p) {
  c.enforceAuthEnabled = javaTrue(p);
}
// As ZooKeeper's AuthenticationHelper: every scheme needs a provider the server has.
void setEnforceSchemes(Parser& ps, ServerConfig& c, const Property& p) {
  c.enforceAuthSchemes = commaList(p.value);
  for (const std::string& scheme : c.enforceAuthSchemes) {
    if (scheme != "sasl" && scheme != "digest" && scheme != "x509" && scheme != "ip")
      ps.fail(p, "authentication scheme " + scheme + " is not available");
  }
}

const std::unordered_map<std::string_view, Setter>& setters() {
  using C = ServerConfig;
  using P = Parser;
  using Pr = Property;
  static const std::unordered_map<std::string_view, Setter> table{
      {"tickTime", [](P& ps, C& c, const Pr& p) { c.tickTime = ps.i32(p, 1); }},
      {"initLimit", [](P& ps, C& c, const Pr& p) { c.initLimit = ps.i32(p, 0); }},
      {"syncLimit", [](P& ps, C& c, const Pr& p) { c.syncLimit = ps.i32(p, 0); }},
      {"connectToLearnerMasterLimit",
       [](P& ps, C&, const Pr& p) { ps.learnerMasterLimit_ = ps.i32(p, 0); }},
      {"minSessionTimeout", [](P& ps, C&, const Pr& p) { ps.minTimeout_ = ps.i32(p, -1); }},
      {"maxSessionTimeout", [](P& ps, C&, const Pr& p) { ps.maxTimeout_ = ps.i32(p, -1); }},
      {"dataDir",
       [](P& ps, C& c, const Pr& p) {
         if (p.value.empty()) ps.fail(p, "empty path");
         c.dataDir = p.value;
       }},
      {"dataLogDir",
       [](P& ps, C& c, const Pr& p) {
         if (p.value.empty()) ps.fail(p, "empty path");
         c.dataLogDir = p.value;
         ps.dataLogDirSet_ = true;
       }},
      {"snapCount", [](P& ps, C& c, const Pr& p) { c.snapCount = ps.integer(p, 2, INT32_MAX); }},
      {"snapSizeLimitInKb",
       [](P& ps, C& c, const Pr& p) { c.snapSizeLimitInKb = ps.integer(p, INT64_MIN, INT64_MAX); }},
      {"txnLogSizeLimitInKb",
       [](P& ps, C& c, const Pr& p) {
         c.txnLogSizeLimitInKb = ps.integer(p, INT64_MIN, INT64_MAX);
       }},
      {"preAllocSize",
       [](P& ps, C& c, const Pr& p) { c.preAllocSizeKb = ps.integer(p, 1, INT64_MAX / 1024); }},
      {"forceSync", [](P& ps, C& c, const Pr& p) { c.forceSync = ps.yesNo(p); }},
      {"fsync.warningthresholdms",
       [](P& ps, C& c, const Pr& p) { c.fsyncWarningThresholdMs = ps.integer(p, 0, INT64_MAX); }},
      {"autopurge.snapRetainCount",
       [](P& ps, C& c, const Pr& p) {
         c.snapRetainCount = ps.i32(p);
         if (c.snapRetainCount < 3) {
           ps.warn(p, "below the minimum 3, using 3");
           c.snapRetainCount = 3;
         }
       }},
      {"autopurge.purgeInterval",
       [](P& ps, C& c, const Pr& p) { c.purgeIntervalHours = std::max(0, ps.i32(p)); }},
      {"clientPort",
       [](P& ps, C& c, const Pr& p) {
         c.clientPort = ps.port(p, 0);
         ps.clientPortSet_ = c.clientPort != 0;
       }},
      {"clientPortAddress", [](P&, C& c, const Pr& p) { c.clientPortAddress = p.value; }},
      {"clientPortListenBacklog",
       [](P& ps, C& c, const Pr& p) { c.clientPortListenBacklog = ps.i32(p); }},
      {"secureClientPort", [](P& ps, C& c, const Pr& p) { c.secureClientPort = ps.port(p, 0); }},
      {"secureClientPortAddress",
       [](P&, C& c, const Pr& p) { c.secureClientPortAddress = p.value; }},
      {"client.portUnification",
       [](P& ps, C& c, const Pr& p) { c.clientPortUnification = ps.boolean(p); }},
      // These ssl.* setters serve the ssl.quorum.* keys too (tlsOf picks the settings).
      {"ssl.keyStore.location",
       [](P& ps, C&, const Pr& p) {
         ps.tlsOf(p).keyStoreLocation = p.value;
         ps.keyStoreOf(p) = p;
       }},
      {"ssl.keyStore.password",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).keyStorePassword = p.value; }},
      {"ssl.keyStore.type",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).keyStoreType = ps.storeType(p, p.value); }},
      {"ssl.trustStore.location",
       [](P& ps, C&, const Pr& p) {
         ps.tlsOf(p).trustStoreLocation = p.value;
         ps.trustStoreOf(p) = p;
       }},
      {"ssl.trustStore.password",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).trustStorePassword = p.value; }},
      {"ssl.trustStore.type",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).trustStoreType = ps.storeType(p, p.value); }},
      {"ssl.clientAuth", setClientAuth},
      {"ssl.protocol",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).protocol = ps.tlsProtocols(p).front(); }},
      {"ssl.enabledProtocols",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).enabledProtocols = ps.tlsProtocols(p); }},
      {"ssl.ciphersuites",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).cipherSuites = commaList(p.value); }},
      {"ssl.hostnameVerification",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).hostnameVerification = ps.boolean(p); }},
      {"ssl.handshakeDetectionTimeoutMillis",
       [](P& ps, C&, const Pr& p) { ps.tlsOf(p).handshakeDetectionTimeoutMs = ps.i32(p, 1); }},
      {"ssl.authProvider",
       [](P& ps, C& c, const Pr& p) {
         if (p.value != "x509") ps.fail(p, "only the built-in x509 provider is supported");
         c.tls.authProvider = p.value;
       }},
      {"netty.server.outstandingHandshake.limit", setHandshakeLimit},
      {"zookeeper.netty.server.outstandingHandshake.limit", setHandshakeLimit},
      {"X509AuthenticationProvider.superUser", setX509SuperUser},
      {"zookeeper.X509AuthenticationProvider.superUser", setX509SuperUser},
      {"maxClientCnxns", [](P& ps, C& c, const Pr& p) { c.maxClientCnxns = ps.i32(p, 0); }},
      {"maxCnxns", [](P& ps, C& c, const Pr& p) { c.maxCnxns = ps.i32(p, 0); }},
      {"globalOutstandingLimit",
       [](P& ps, C& c, const Pr& p) { c.globalOutstandingLimit = ps.i32(p, 1); }},
      {"jute.maxbuffer", [](P& ps, C& c, const Pr& p) { c.juteMaxBuffer = ps.i32(p, 1); }},
      // ZooKeeper takes a bad value with a warning: the threshold falls back to -1 (off), the
      // budget keeps its default.
      // ZooKeeper reads it as the system property zookeeper.enforceQuota, which a zoo.cfg key
      // it does not know sets.
      {"enforceQuota", [](P& ps, C& c, const Pr& p) { c.enforceQuota = ps.boolean(p); }},
      {"snapshot.compression.method", setSnapshotCompression},
      {"zookeeper.snapshot.compression.method", setSnapshotCompression},
      {"largeRequestThreshold",
       [](P& ps, C& c, const Pr& p) {
         c.largeRequestThreshold = ps.i32(p);
         if (c.largeRequestThreshold == 0 || c.largeRequestThreshold < -1) {
           ps.warn(p, "should be -1 or positive; using -1 (no large request budget)");
           c.largeRequestThreshold = -1;
         }
       }},
      {"largeRequestMaxBytes",
       [](P& ps, C& c, const Pr& p) {
         std::int32_t bytes = ps.i32(p);
         if (bytes <= 0)
           ps.warn(p, "should be positive; keeping " + std::to_string(c.largeRequestMaxBytes));
         else
           c.largeRequestMaxBytes = bytes;
       }},
      {"zookeeper.jute.maxbuffer.extrasize",
       [](P& ps, C&, const Pr& p) { ps.extraSize_ = ps.i32(p, 0); }},
      {"4lw.commands.whitelist", [](P& ps, C&, const Pr& p) { ps.whitelist_ = p; }},
      {"extendedTypesEnabled",
       [](P& ps, C& c, const Pr& p) { c.extendedTypesEnabled = ps.boolean(p); }},
      {"reconfigEnabled", [](P& ps, C& c, const Pr& p) { c.reconfigEnabled = ps.boolean(p); }},
      {"standaloneEnabled", [](P& ps, C& c, const Pr& p) { c.standaloneEnabled = ps.boolean(p); }},
      {"readonlymode.enabled",
       [](P& ps, C& c, const Pr& p) { c.readOnlyModeEnabled = ps.boolean(p); }},
      {"localSessionsEnabled",
       [](P& ps, C& c, const Pr& p) { c.localSessionsEnabled = ps.boolean(p); }},
      {"localSessionsUpgradingEnabled",
       [](P& ps, C& c, const Pr& p) { c.localSessionsUpgradingEnabled = ps.boolean(p); }},
      {"skipACL", [](P& ps, C& c, const Pr& p) { c.skipAcl = ps.yesNo(p); }},
      {"java.security.auth.login.config",
       [](P&, C& c, const Pr& p) { c.jaasConfigFile = p.value; }},
      {"sasl.serverconfig", setJaasSection},
      {"zookeeper.sasl.serverconfig", setJaasSection},
      {"kerberos.removeHostFromPrincipal", setRemoveHost},
      {"zookeeper.kerberos.removeHostFromPrincipal", setRemoveHost},
      {"kerberos.removeRealmFromPrincipal", setRemoveRealm},
      {"zookeeper.kerberos.removeRealmFromPrincipal", setRemoveRealm},
      {"sessionRequireClientSASLAuth", setRequireSasl},
      {"zookeeper.sessionRequireClientSASLAuth", setRequireSasl},
      {"allowSaslFailedClients", setAllowSaslFailed},
      {"zookeeper.allowSaslFailedClients", setAllowSaslFailed},
      {"enforce.auth.enabled", setEnforceAuth},
      {"zookeeper.enforce.auth.enabled", setEnforceAuth},
      {"enforce.auth.schemes", setEnforceSchemes},
      {"zookeeper.enforce.auth.schemes", setEnforceSchemes},
      {"DigestAuthenticationProvider.superDigest", setSuperDigest},
      {"zookeeper.DigestAuthenticationProvider.superDigest", setSuperDigest},
      {"znode.container.checkIntervalMs",
       [](P& ps, C& c, const Pr& p) { c.containerCheckIntervalMs = ps.i32(p, 1); }},
      {"znode.container.maxPerMinute",
       [](P& ps, C& c, const Pr& p) { c.containerMaxPerMinute = ps.i32(p, 1); }},
      {"metricsProvider.className",
       [](P&, C& c, const Pr& p) { c.metricsProviderClass = p.value; }},
      {"metricsProvider.httpHost", [](P&, C& c, const Pr& p) { c.metricsHttpHost = p.value; }},
      {"metricsProvider.httpPort",
       [](P& ps, C& c, const Pr& p) {
         c.metricsHttpPort = ps.port(p);
         ps.metricsPortSet_ = true;
       }},
      {"metricsProvider.exportJvmInfo",
       [](P& ps, C& c, const Pr& p) { c.metricsExportJvmInfo = ps.boolean(p); }},
      {"admin.enableServer", [](P& ps, C& c, const Pr& p) { c.admin.enabled = ps.boolean(p); }},
      {"admin.serverAddress", [](P&, C& c, const Pr& p) { c.admin.address = p.value; }},
      {"admin.serverPort", [](P& ps, C& c, const Pr& p) { c.admin.port = ps.port(p); }},
      {"admin.commandURL", setAdminCommandUrl},
      {"admin.idleTimeout", [](P& ps, C& c, const Pr& p) { c.admin.idleTimeoutMs = ps.i32(p, 1); }},
      {"electionAlg",
       [](P& ps, C& c, const Pr& p) {
         c.electionAlg = ps.i32(p);
         if (c.electionAlg != 3) ps.fail(p, "only 3 is supported");
       }},
      {"quorumListenOnAllIPs",
       [](P& ps, C& c, const Pr& p) { c.quorumListenOnAllIPs = ps.boolean(p); }},
      {"syncEnabled", [](P& ps, C& c, const Pr& p) { c.syncEnabled = ps.boolean(p); }},
      {"leaderServes", [](P& ps, C& c, const Pr& p) { c.leaderServes = ps.yesNo(p); }},
      {"observerMasterPort",
       [](P& ps, C& c, const Pr& p) { c.observerMasterPort = ps.port(p, 0); }},
      {"peerType",
       [](P& ps, C& c, const Pr& p) {
         std::string v = lowercase(p.value);
         if (v == "observer") {
           c.peerType = PeerRole::kObserver;
         } else if (v == "participant") {
           c.peerType = PeerRole::kParticipant;
         } else {
           ps.fail(p, "unknown peer type '" + p.value + "' (expected participant or observer)");
         }
       }},
      {"dynamicConfigFile",
       [](P& ps, C& c, const Pr& p) {
         if (p.value.empty()) ps.fail(p, "empty path");
         c.dynamicConfigFile = p.value;
       }},
      {"secureClientPort.tls", warnUnsupported},
      {"sslQuorum", [](P& ps, C& c, const Pr& p) { c.sslQuorum = ps.boolean(p); }},
      {"portUnification",
       [](P& ps, C& c, const Pr& p) { c.quorumPortUnification = ps.boolean(p); }},
      {"sslQuorumReloadCertFiles",
       [](P& ps, C& c, const Pr& p) { c.sslQuorumReloadCertFiles = ps.boolean(p); }},
      {"quorum.auth.enableSasl",
       [](P& ps, C& c, const Pr& p) { c.quorumEnableSasl = ps.boolean(p); }},
      {"quorum.auth.serverRequireSasl",
       [](P& ps, C& c, const Pr& p) { c.quorumServerRequireSasl = ps.boolean(p); }},
      {"quorum.auth.learnerRequireSasl",
       [](P& ps, C& c, const Pr& p) { c.quorumLearnerRequireSasl = ps.boolean(p); }},
      {"quorum.auth.learner.saslLoginContext", setQuorumSaslContext},
      {"quorum.auth.server.saslLoginContext", setQuorumSaslContext},
      {"quorum.auth.kerberos.servicePrincipal",
       [](P&, C& c, const Pr& p) { c.quorumServicePrincipal = p.value; }},
      // ZooKeeper's threads for the exchange; zookube runs it on the I/O thread.
      {"quorum.cnxn.threads.size", [](P&, C&, const Pr&) {}},
      {"multiAddress.enabled", warnUnsupported},
      {"multiAddress.reachabilityCheckTimeoutMs", warnUnsupported},
      {"multiAddress.reachabilityCheckEnabled", warnUnsupported},
      {"oraclePath", warnUnsupported},
      {"serverCnxnFactory", ignoredJvm},
      {"jvm.pause.info-threshold.ms", ignoredJvm},
      {"jvm.pause.warn-threshold.ms", ignoredJvm},
      {"jvm.pause.sleep.time.ms", ignoredJvm},
      {"jvm.pause.monitor", ignoredJvm},
  };
  return table;
}

// ZooKeeper's isSaslSuperUser reads every system property zookeeper.superUser or
// zookeeper.superUser.<suffix>; a zoo.cfg key without "zookeeper." becomes one.
bool isSaslSuperUserKey(std::string_view key) {
  if (key.starts_with("zookeeper.")) key.remove_prefix(10);
  return key == "superUser" || key.starts_with("superUser.");
}

bool isMembershipKey(std::string_view key) {
  return key.starts_with("server.") || key.starts_with("group") || key.starts_with("weight");
}

}  // namespace

std::vector<std::string> ServerConfig::enforcedAuthSchemes() const {
  if (sessionRequireClientSaslAuth) return {"sasl"};
  return enforceAuthEnabled ? enforceAuthSchemes : std::vector<std::string>{};
}

bool ServerConfig::distributed() const {
  return !standaloneEnabled ? !servers.empty() : votingMembers() > 1;
}

std::int64_t ServerConfig::votingMembers() const {
  return std::count_if(servers.begin(), servers.end(),
                       [](const auto& s) { return s.second.role == PeerRole::kParticipant; });
}

ServerConfig Parser::run(std::string_view text) {
  for (const Property& p : parseProperties(text)) {
    if (isMembershipKey(p.key)) {
      membership_.push_back(p);
    } else if (auto it = setters().find(p.key); it != setters().end()) {
      it->second(*this, cfg_, p);
    } else if (auto clientKey = clientTlsKeyOfQuorumKey(p.key)) {
      Property quorumKey = p;
      quorumKey.key = "ssl.quorum." + clientKey->substr(4);  // without "zookeeper."
      setters().at (*clientKey)(*this, cfg_, quorumKey);
    } else if (isSaslSuperUserKey(p.key)) {
      cfg_.saslSuperUsers.push_back(p.value);
    } else if (p.key.starts_with("authProvider.")) {
      // ZooKeeper needs the x509 provider named to serve TLS clients; zookube always has it.
      if (!p.value.ends_with(".X509AuthenticationProvider") &&
          !p.value.ends_with(".SASLAuthenticationProvider")) {
        warn(p, "authentication provider not supported by zookube, ignored");
      }
    } else if (p.key.starts_with("metricsProvider.")) {
      warn(p, "option of another metrics provider, ignored");
    } else {
      warn(p, "unknown key, ignored");
    }
  }
  finish();
  return std::move(cfg_);
}

void Parser::applyMembership(const Property& p, bool dynamicFile) {
  std::string_view key = p.key;
  std::size_t dot = key.find('.');
  auto id = dot == std::string_view::npos ? std::nullopt : parseLong(key.substr(dot + 1));
  if (!id) fail(p, "expected a numeric id after '.'");
  std::string_view kind = key.substr(0, dot);
  if (kind == "server") {
    try {
      cfg_.servers[*id] = parseServerEntry(*id, p.value);
    } catch (const std::invalid_argument& e) {
      fail(p, e.what());
    }
  } else if (kind == "group") {
    std::vector<std::int64_t> members;
    std::string_view rest = p.value;
    for (std::size_t at = 0; at != std::string_view::npos; rest.remove_prefix(at + 1)) {
      at = rest.find(':');
      auto sid = parseLong(rest.substr(0, at));
      if (!sid) fail(p, "expected sid:sid:..., got '" + p.value + "'");
      members.push_back(*sid);
      if (at == std::string_view::npos) break;
    }
    cfg_.groups[*id] = std::move(members);
  } else if (kind == "weight") {
    cfg_.weights[*id] = integer(p, 0, INT64_MAX);
  } else if (dynamicFile) {
    fail(p, "unrecognised parameter in a dynamic config file");
  } else {
    warn(p, "unknown key, ignored");
  }
}

std::optional<std::int64_t> hexNumber(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// What follows the last '.' of a dynamic config file's name, as a hex number, if it is one.
std::optional<std::int64_t> hexSuffix(std::string_view name) {
  std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  return hexNumber(name.substr(dot + 1));
}

void Parser::loadDynamicFile() {
  const fs::path mainFile = cfg_.source;
  for (const Property& p : membership_) {
    fail(p, "must be in the dynamic config file " + cfg_.dynamicConfigFile.string());
  }
  cfg_.source = cfg_.dynamicConfigFile;
  // As ZooKeeper: the version is the file name's hex suffix ("zoo.cfg.dynamic.100000000"), 0
  // without one.
  std::optional<std::int64_t> named = hexSuffix(cfg_.dynamicConfigFile.filename().string());
  cfg_.configVersion = named.value_or(0);
  for (const Property& p : parseProperties(readFile(cfg_.dynamicConfigFile))) {
    if (p.key == "version") {
      // ZooKeeper refuses this line; zookube wrote it before, so a file it wrote stays valid
      // while the line agrees with the name.
      std::optional<std::int64_t> inside = hexNumber(p.value);
      if (!inside) fail(p, "not hexadecimal");
      if (named && *named != *inside)
        fail(p, "differs from the version in the file's name (" + hex(*named) + ")");
      warn(p,
           "ZooKeeper refuses a version inside a dynamic config file (it reads the file's "
           "name); remove the line");
      cfg_.configVersion = *inside;
    } else if (isMembershipKey(p.key)) {
      applyMembership(p, true);
    } else {
      fail(p, "unrecognised parameter in a dynamic config file");
    }
  }
  cfg_.source = mainFile;
}

// As QuorumPeerConfig: requiring SASL needs it enabled, and a member that requires it of its
// learners must itself authenticate as one (or it could not join).
void checkQuorumSasl(const ServerConfig& c) {
  auto refuse = [&](std::string_view key, std::string_view needs) {
    throw ConfigError(c.source.string() + ": " + std::string(needs) +
                      " is disabled, so cannot enable " + std::string(key));
  };
  if (!c.quorumEnableSasl && c.quorumServerRequireSasl)
    refuse("quorum.auth.serverRequireSasl", "quorum.auth.enableSasl");
  if (!c.quorumEnableSasl && c.quorumLearnerRequireSasl)
    refuse("quorum.auth.learnerRequireSasl", "quorum.auth.enableSasl");
  if (!c.quorumLearnerRequireSasl && c.quorumServerRequireSasl)
    refuse("quorum.auth.serverRequireSasl", "quorum.auth.learnerRequireSasl");
}

void Parser::applyWhitelist() {
  checkQuorumSasl(cfg_);
  if (cfg_.enforceAuthEnabled && !cfg_.sessionRequireClientSaslAuth &&
      cfg_.enforceAuthSchemes.empty())
    throw ConfigError(cfg_.source.string() +
                      ": enforce.auth.enabled is true, so enforce.auth.schemes must be configured");
  if (whitelist_) {
    for (const std::string& name : commaList(whitelist_->value)) {
      if (name == "*") {
        cfg_.fourLetterWhitelist.insert(kFourLetterWords.begin(), kFourLetterWords.end());
      } else {
        if (!std::ranges::count(kFourLetterWords, name)) {
          warn(*whitelist_, "'" + name + "' is not a four-letter word");
        }
        cfg_.fourLetterWhitelist.insert(name);
      }
    }
  }
  // zkServer.sh status needs srvr; read-only clients probe with isro.
  cfg_.fourLetterWhitelist.insert("srvr");
  if (cfg_.readOnlyModeEnabled) cfg_.fourLetterWhitelist.insert("isro");
}

void Parser::checkMembership() {
  const std::string file = cfg_.source.string() + ": ";
  std::int64_t voters = cfg_.votingMembers();
  std::int64_t observers = static_cast<std::int64_t>(cfg_.servers.size()) - voters;
  if (voters == 0 && !cfg_.standaloneEnabled) {
    throw ConfigError(file + "standaloneEnabled=false needs at least one participant server.N");
  }
  if (voters == 0 && observers > 0) throw ConfigError(file + "observers without participants");
  if (voters == 1 && cfg_.standaloneEnabled) {
    if (observers > 0) throw ConfigError(file + "observers without a quorum");
    cfg_.warnings.push_back(file + "only one server.N given: running standalone");
  }
  if (cfg_.groups.empty()) return;
  std::map<std::int64_t, std::int64_t> groupOf;
  for (const auto& [gid, sids] : cfg_.groups) {
    for (std::int64_t sid : sids) {
      if (!groupOf.emplace(sid, gid).second) {
        throw ConfigError(file + "server " + std::to_string(sid) + " is in multiple groups");
      }
    }
  }
  for (const auto& [sid, entry] : cfg_.servers) {
    if (entry.role == PeerRole::kParticipant && !groupOf.contains(sid)) {
      throw ConfigError(file + "server " + std::to_string(sid) + " is not in a group");
    }
  }
}

void Parser::settleMyId() {
  const std::string file = cfg_.source.string() + ": ";
  if (fs::is_regular_file(cfg_.dataDir / "myid")) cfg_.serverId = readMyId(cfg_.dataDir);
  if (cfg_.distributed()) {
    if (cfg_.initLimit == 0) throw ConfigError(file + "initLimit is not set");
    if (cfg_.syncLimit == 0) throw ConfigError(file + "syncLimit is not set");
    if (cfg_.serverId < 0) throw ConfigError((cfg_.dataDir / "myid").string() + ": missing");
  }
  auto me = cfg_.servers.find(cfg_.serverId);
  if (me == cfg_.servers.end()) return;
  ServerEntry& entry = me->second;
  if (entry.clientPort != 0) {
    if (clientPortSet_ && cfg_.clientPort != entry.clientPort) {
      throw ConfigError(file + "clientPort " + std::to_string(cfg_.clientPort) +
                        " differs from server." + std::to_string(entry.id) + "'s client port " +
                        std::to_string(entry.clientPort));
    }
    cfg_.clientPort = entry.clientPort;
    if (entry.clientHost != "0.0.0.0") cfg_.clientPortAddress = entry.clientHost;
  }
  if (entry.role != cfg_.peerType) {
    cfg_.warnings.push_back(file + "peerType differs from server." + std::to_string(entry.id) +
                            ", using the server line");
    cfg_.peerType = entry.role;
  }
}

void Parser::finish() {
  const std::string file = cfg_.source.string() + ": ";
  if (cfg_.dataDir.empty()) throw ConfigError(file + "dataDir is not set");
  if (!dataLogDirSet_) cfg_.dataLogDir = cfg_.dataDir;
  cfg_.minSessionTimeout = minTimeout_.value_or(-1) == -1 ? 2 * cfg_.tickTime : *minTimeout_;
  cfg_.maxSessionTimeout = maxTimeout_.value_or(-1) == -1 ? 20 * cfg_.tickTime : *maxTimeout_;
  if (cfg_.minSessionTimeout > cfg_.maxSessionTimeout) {
    throw ConfigError(file + "minSessionTimeout must not be larger than maxSessionTimeout");
  }
  cfg_.connectToLearnerMasterLimit = learnerMasterLimit_.value_or(cfg_.initLimit);
  // As BinaryInputArchive: the extra size defaults to jute.maxbuffer and is never below 1024.
  cfg_.juteMaxBufferExtraSize = std::max(extraSize_.value_or(cfg_.juteMaxBuffer), 1024);
  if (!cfg_.clientPortAddress.empty() && cfg_.clientPort == 0 && membership_.empty()) {
    throw ConfigError(file + "clientPortAddress is set but clientPort is not set");
  }
  cfg_.metricsEnabled = cfg_.metricsProviderClass == kPrometheusProviderClass || metricsPortSet_;
  applyWhitelist();
  if (!cfg_.dynamicConfigFile.empty()) {
    loadDynamicFile();
  } else {
    for (const Property& p : membership_) applyMembership(p, false);
  }
  checkMembership();
  settleMyId();
  if (cfg_.clientPort == 0 && cfg_.secureClientPort == 0 && !cfg_.distributed()) {
    throw ConfigError(file + "clientPort is not set");
  }
  checkTls();
}

// A store's type defaults to what its file name says, as ZooKeeper's KeyStoreFileType does.
void Parser::settleStoreTypes(TlsSettings& tls, const std::optional<Property>& keyStore,
                              const std::optional<Property>& trustStore) {
  for (auto [store, type] :
       {std::pair{&keyStore, &tls.keyStoreType}, std::pair{&trustStore, &tls.trustStoreType}}) {
    if (!*store || !type->empty() || (*store)->value.empty()) continue;
    std::string name = lowercase((*store)->value);
    std::string_view ext = name.ends_with(".jks")     ? "jks"
                           : name.ends_with(".bcfks") ? "bcfks"
                           : name.ends_with(".p12")   ? "pkcs12"
                           : name.ends_with(".pfx")   ? "pkcs12"
                           : name.ends_with(".pem")   ? "pem"
                                                      : "";
    if (ext.empty()) {
      fail(**store, "cannot tell the store type from the file name; set " +
                        (*store)->key.substr(0, (*store)->key.rfind('.')) +
                        ".type to PEM or PKCS12");
    }
    *type = storeType(**store, ext);
  }
}

void Parser::checkTls() {
  settleStoreTypes(cfg_.tls, keyStore_, trustStore_);
  settleStoreTypes(cfg_.quorumTls, quorumKeyStore_, quorumTrustStore_);
  bool tlsServed = cfg_.secureClientPort != 0 || cfg_.clientPortUnification;
  if (tlsServed && cfg_.tls.keyStoreLocation.empty()) {
    throw ConfigError(cfg_.source.string() + ": " +
                      (cfg_.secureClientPort != 0 ? "secureClientPort" : "client.portUnification") +
                      " needs ssl.keyStore.location");
  }
  if (cfg_.quorumTlsServed() && cfg_.quorumTls.keyStoreLocation.empty()) {
    throw ConfigError(cfg_.source.string() + ": " +
                      (cfg_.sslQuorum ? "sslQuorum" : "portUnification") +
                      " needs ssl.quorum.keyStore.location");
  }
}

ServerConfig parseConfig(std::string_view text, const fs::path& source) {
  return Parser(source).run(text);
}

ServerConfig loadConfig(const fs::path& file) {
  std::string text = readFile(file);
  ServerConfig config = parseConfig(text, file);
  config.initialConfig = std::move(text);
  return config;
}

std::int64_t readMyId(const fs::path& dataDir) {
  const fs::path file = dataDir / "myid";
  std::string text = readFile(file);
  std::string_view first(text);
  first = first.substr(0, first.find('\n'));
  while (!first.empty() && std::isspace(static_cast<unsigned char>(first.back()))) {
    first.remove_suffix(1);
  }
  while (!first.empty() && std::isspace(static_cast<unsigned char>(first.front()))) {
    first.remove_prefix(1);
  }
  auto id = parseLong(first);
  if (!id) throw ConfigError(file.string() + ": '" + std::string(first) + "' is not a number");
  if (*id < 1 || *id > 255) {
    throw ConfigError(file.string() + ": server id " + std::to_string(*id) +
                      " is out of range 1..255");
  }
  return *id;
}

}  // namespace zk
