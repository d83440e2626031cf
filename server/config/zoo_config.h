#pragma once
// The server's configuration as read from zoo.cfg (and myid, and an optional dynamic membership
// file), typed and defaulted the way ZooKeeper 3.8 does it. Keys that ZooKeeper only takes as
// JVM system properties (snapCount, jute.maxbuffer, skipACL, ...) are accepted in zoo.cfg too.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace zk {

// One line: "<file>:<line>: <key>: <reason>" for a bad value, "<file>: <reason>" otherwise.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A bad value for one key; key() and reason() let another front end (the operator checking a
// ZkCluster's config) report it in its own terms.
class ConfigValueError : public ConfigError {
 public:
  ConfigValueError(const std::string& where, std::string key, std::string reason)
      : ConfigError(where + key + ": " + reason),
        key_(std::move(key)),
        reason_(std::move(reason)) {}
  const std::string& key() const { return key_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string key_;
  std::string reason_;
};

enum class PeerRole { kParticipant = 0, kObserver = 1 };  // numbered as ZooKeeper's LearnerType

// server.<id>=host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]
struct ServerEntry {
  std::int64_t id = 0;
  std::string host;
  std::uint16_t quorumPort = 0;
  std::uint16_t electionPort = 0;
  PeerRole role = PeerRole::kParticipant;
  std::string clientHost;        // "0.0.0.0" when only a port follows ';', empty without ';'
  std::uint16_t clientPort = 0;  // 0: not given on this line

  bool operator==(const ServerEntry&) const = default;
};

// What ServerEntry's line means, or the reason it is malformed (std::invalid_argument).
ServerEntry parseServerEntry(std::int64_t id, std::string_view value);
// The form ZooKeeper prints in `conf`'s membership: "host:q:e:participant[;host:port]".
std::string formatServerEntry(const ServerEntry& entry);

// The client port's TLS (ZooKeeper's ssl.* keys as ClientX509Util reads them). Store types are
// "PEM" or "PKCS12"; an empty type is taken from the file's extension when the server starts.
enum class ClientAuth { kNone, kWant, kNeed };

struct TlsSettings {
  std::string keyPrefix = "ssl.";  // how its zoo.cfg keys start: "ssl." or "ssl.quorum."
  std::string keyStoreLocation;
  std::string keyStorePassword;
  std::string keyStoreType;
  std::string trustStoreLocation;
  std::string trustStorePassword;
  std::string trustStoreType;
  ClientAuth clientAuth = ClientAuth::kNeed;
  std::string protocol = "TLSv1.2";
  std::vector<std::string> enabledProtocols;  // empty: just `protocol`
  std::vector<std::string> cipherSuites;      // IANA names as Java spells them; empty: OpenSSL's
  bool hostnameVerification = true;  // as ZooKeeper: never applied to clients' certificates
  std::int32_t handshakeDetectionTimeoutMs = 5000;
  std::string authProvider = "x509";
  std::string x509SuperUser;  // the subject DN that gets "super"
  // TLS handshakes in progress at once; more are closed at once (<= 0: no limit).
  std::int32_t outstandingHandshakeLimit = -1;
};

// ZooKeeper's defaults for the ssl.quorum.* keys are the client port's.
inline TlsSettings quorumTlsDefaults() {
  TlsSettings settings;
  settings.keyPrefix = "ssl.quorum.";
  return settings;
}

inline constexpr std::string_view kPrometheusProviderClass =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
inline constexpr std::string_view kDefaultProviderClass =
    "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";

// ZooKeeper's AdminServer (admin.* keys): JSON commands over HTTP.
struct AdminServerSettings {
  bool enabled = true;  // as ZooKeeper 3.8
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string commandUrl = "/commands";
  std::int32_t idleTimeoutMs = 30000;
};

struct ServerConfig {
  std::filesystem::path source;  // the zoo.cfg this came from

  // Time and quorum limits (limits are in ticks).
  std::int32_t tickTime = 3000;
  std::int32_t initLimit = 0;
  std::int32_t syncLimit = 0;
  std::int32_t connectToLearnerMasterLimit = 0;  // effective value: initLimit when unset
  std::int32_t minSessionTimeout = 0;            // effective: 2 * tickTime when unset
  std::int32_t maxSessionTimeout = 0;            // effective: 20 * tickTime when unset

  // Storage.
  std::filesystem::path dataDir;
  std::filesystem::path dataLogDir;  // = dataDir when unset
  std::int64_t snapCount = 100000;
  std::int64_t snapSizeLimitInKb = 4194304;  // <= 0 disables the size trigger
  std::int64_t txnLogSizeLimitInKb = -1;     // <= 0: no limit
  std::int64_t preAllocSizeKb = 65536;
  bool forceSync = true;
  std::int64_t fsyncWarningThresholdMs = 1000;
  std::int32_t snapRetainCount = 3;     // raised to 3 when lower, as ZooKeeper does
  std::int32_t purgeIntervalHours = 0;  // 0: autopurge off
  // zookeeper.snapshot.compression.method: "" (plain), "gz" or "snappy", lower case.
  std::string snapshotCompressionMethod;

  // Client port.
  std::uint16_t clientPort = 0;   // 0: no client port (only valid in a quorum line)
  std::string clientPortAddress;  // empty: all interfaces
  std::int32_t clientPortListenBacklog = -1;
  std::uint16_t secureClientPort = 0;  // 0: none; TLS only
  std::string secureClientPortAddress;
  bool clientPortUnification = false;  // clientPort also takes TLS (told from the first byte)
  TlsSettings tls;
  std::int32_t maxClientCnxns = 60;  // per client IP, 0 = unlimited
  std::int32_t maxCnxns = 0;         // total, 0 = unlimited
  std::int32_t globalOutstandingLimit = 1000;
  std::int32_t juteMaxBuffer = 0xfffff;
  std::int32_t juteMaxBufferExtraSize = 0xfffff;  // = juteMaxBuffer when unset
  // Server-wide budget for requests longer than the threshold (-1: none), as ZooKeeper's.
  std::int32_t largeRequestThreshold = -1;
  std::int32_t largeRequestMaxBytes = 100 * 1024 * 1024;
  bool enforceQuota = false;  // zookeeper.enforceQuota: hard quota limits refuse writes

  // Features.
  std::set<std::string, std::less<>> fourLetterWhitelist{"srvr"};  // effective set
  bool extendedTypesEnabled = false;
  bool reconfigEnabled = false;
  bool standaloneEnabled = true;
  bool readOnlyModeEnabled = false;
  bool localSessionsEnabled = false;
  bool localSessionsUpgradingEnabled = false;
  bool skipAcl = false;
  std::string superDigest;  // "super:<base64 sha1>", empty: no super user
  std::int32_t containerCheckIntervalMs = 60000;
  std::int32_t containerMaxPerMinute = 10000;

  // SASL on the client port. ZooKeeper reads these as system properties; zookube takes them as
  // zoo.cfg keys (with or without "zookeeper.") and the JAAS file also from SERVER_JVMFLAGS.
  std::filesystem::path jaasConfigFile;      // java.security.auth.login.config; empty: no SASL
  std::string jaasServerSection = "Server";  // zookeeper.sasl.serverconfig
  bool kerberosRemoveHostFromPrincipal = false;
  bool kerberosRemoveRealmFromPrincipal = false;
  bool sessionRequireClientSaslAuth = false;
  // zookeeper.allowSaslFailedClients: a failed SASL exchange leaves the connection open and
  // unauthenticated, unless SASL is required.
  bool allowSaslFailedClients = false;
  std::vector<std::string> saslSuperUsers;  // zookeeper.superUser[.<any>]: sasl ids made super
  bool enforceAuthEnabled = false;
  std::vector<std::string> enforceAuthSchemes;
  // Quorum SASL (quorum.auth.*), from the same JAAS file.
  bool quorumEnableSasl = false;
  bool quorumLearnerRequireSasl = false;
  bool quorumServerRequireSasl = false;
  std::string quorumLearnerLoginContext = "QuorumLearner";
  std::string quorumServerLoginContext = "QuorumServer";
  std::string quorumServicePrincipal = "zkquorum/localhost";  // GSSAPI: _HOST is the peer's host
  // The schemes a session must hold one of before any request is served; empty: none.
  std::vector<std::string> enforcedAuthSchemes() const;

  // Metrics and admin.
  std::string metricsProviderClass{kDefaultProviderClass};
  std::string metricsHttpHost = "0.0.0.0";
  std::uint16_t metricsHttpPort = 7000;
  bool metricsExportJvmInfo = true;
  bool metricsEnabled = false;  // see zoo_config.cpp: Prometheus class named or httpPort set
  AdminServerSettings admin;

  // Quorum.
  std::int32_t electionAlg = 3;
  // TLS between members (ZooKeeper's sslQuorum, portUnification and ssl.quorum.* keys).
  bool sslQuorum = false;                 // this member dials its peers over TLS
  bool quorumPortUnification = false;     // its quorum and election ports take TLS and plaintext
  bool sslQuorumReloadCertFiles = false;  // changed store files serve new handshakes
  TlsSettings quorumTls = quorumTlsDefaults();
  bool quorumTlsServed() const { return sslQuorum || quorumPortUnification; }
  bool quorumListenOnAllIPs = false;
  bool syncEnabled = true;
  bool leaderServes = true;
  std::uint16_t observerMasterPort = 0;
  PeerRole peerType = PeerRole::kParticipant;
  std::filesystem::path dynamicConfigFile;
  std::map<std::int64_t, ServerEntry> servers;
  std::map<std::int64_t, std::vector<std::int64_t>> groups;  // group.N=sid:sid:...
  std::map<std::int64_t, std::int64_t> weights;              // weight.<sid>=w
  std::int64_t configVersion = 0;                            // "version=<hex>" of dynamic file
  std::int64_t serverId = -1;                                // from myid; -1: none

  // zoo.cfg as read at start: the AdminServer's initial_configuration.
  std::string initialConfig;

  // Unknown or unsupported keys, each "<file>:<line>: <key>: <why>"; the server logs them.
  std::vector<std::string> warnings;

  // A quorum member rather than a standalone server (ZooKeeper's isDistributed()).
  bool distributed() const;
  std::int64_t votingMembers() const;
  bool fourLetterEnabled(std::string_view cmd) const { return fourLetterWhitelist.contains(cmd); }
};

ServerConfig loadConfig(const std::filesystem::path& file);
// The same from text already read; `source` names it in messages and resolves relative paths.
ServerConfig parseConfig(std::string_view text, const std::filesystem::path& source);

// Reads <dataDir>/myid: one decimal id on the first line, 1..255 (the id is the top byte of
// session ids). Throws ConfigError naming the file.
std::int64_t readMyId(const std::filesystem::path& dataDir);

// Sizes the `conf` command reports next to the directories.
struct DirSizes {
  std::int64_t dataDir = 0;
  std::int64_t dataLog = 0;
};

// The effective configuration the way ZooKeeper's `conf` command prints it ("clientPort=2181\n
// ..."); in quorum mode it ends with the membership and "version=<hex>" without a newline.
std::string renderConfig(const ServerConfig& config, DirSizes sizes = {});

}  // namespace zk
