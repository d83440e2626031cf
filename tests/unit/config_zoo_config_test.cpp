#include "config/zoo_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "config/four_letter_words.h"

namespace zk {
namespace {

namespace fs = std::filesystem;

class ZooConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "zkcfgXXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    data_ = dir_ / "data";
    fs::create_directories(data_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path file = dir_ / name;
    std::ofstream(file) << text;
    return file;
  }
  // A minimal valid standalone file followed by `extra`.
  ServerConfig load(const std::string& extra) {
    return loadConfig(write("zoo.cfg", base() + extra));
  }
  std::string base() const { return "dataDir=" + data_.string() + "\nclientPort=2181\n"; }
  // The message of the ConfigError that loading `text` throws.
  std::string errorOf(const std::string& text) {
    try {
      loadConfig(write("zoo.cfg", text));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }
  std::string file() const { return (dir_ / "zoo.cfg").string(); }

  fs::path dir_, data_;
};

TEST_F(ZooConfigTest, DefaultsFollowZooKeeper) {
  ServerConfig c = load("");
  EXPECT_EQ(c.tickTime, 3000);
  EXPECT_EQ(c.minSessionTimeout, 6000);
  EXPECT_EQ(c.maxSessionTimeout, 60000);
  EXPECT_EQ(c.dataLogDir, c.dataDir);
  EXPECT_EQ(c.clientPort, 2181);
  EXPECT_EQ(c.maxClientCnxns, 60);
  EXPECT_EQ(c.maxCnxns, 0);
  EXPECT_EQ(c.snapCount, 100000);
  EXPECT_EQ(c.snapSizeLimitInKb, 4194304);
  EXPECT_EQ(c.txnLogSizeLimitInKb, -1);
  EXPECT_EQ(c.preAllocSizeKb, 65536);
  EXPECT_TRUE(c.forceSync);
  EXPECT_EQ(c.snapRetainCount, 3);
  EXPECT_EQ(c.purgeIntervalHours, 0);
  EXPECT_EQ(c.juteMaxBuffer, 0xfffff);
  EXPECT_EQ(c.juteMaxBufferExtraSize, 0xfffff);
  EXPECT_EQ(c.globalOutstandingLimit, 1000);
  EXPECT_EQ(c.fsyncWarningThresholdMs, 1000);
  EXPECT_EQ(c.containerCheckIntervalMs, 60000);
  EXPECT_EQ(c.containerMaxPerMinute, 10000);
  EXPECT_EQ(c.metricsHttpPort, 7000);
  EXPECT_EQ(c.metricsHttpHost, "0.0.0.0");
  EXPECT_FALSE(c.metricsEnabled);
  EXPECT_TRUE(c.standaloneEnabled);
  EXPECT_FALSE(c.reconfigEnabled);
  EXPECT_FALSE(c.extendedTypesEnabled);
  EXPECT_FALSE(c.skipAcl);
  EXPECT_EQ(c.fourLetterWhitelist, (std::set<std::string, std::less<>>{"srvr"}));
  EXPECT_FALSE(c.distributed());
  EXPECT_EQ(c.serverId, -1);
  EXPECT_TRUE(c.warnings.empty());
}

TEST_F(ZooConfigTest, SessionTimeoutsDeriveFromTickTime) {
  ServerConfig c = load("tickTime=2000\n");
  EXPECT_EQ(c.minSessionTimeout, 4000);
  EXPECT_EQ(c.maxSessionTimeout, 40000);
  c = load("tickTime=2000\nminSessionTimeout=-1\nmaxSessionTimeout=100000\n");
  EXPECT_EQ(c.minSessionTimeout, 4000);
  EXPECT_EQ(c.maxSessionTimeout, 100000);
  EXPECT_EQ(errorOf(base() + "minSessionTimeout=50000\nmaxSessionTimeout=40000\n"),
            file() + ": minSessionTimeout must not be larger than maxSessionTimeout");
}

TEST_F(ZooConfigTest, EveryKeyIsTyped) {
  ServerConfig c = load(
      "tickTime=1000\ninitLimit=7\nsyncLimit=3\nconnectToLearnerMasterLimit=9\n"
      "dataLogDir=/tmp/log\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nmaxCnxns=500\n"
      "snapCount=5000\nsnapSizeLimitInKb=-1\ntxnLogSizeLimitInKb=1024\npreAllocSize=1024\n"
      "forceSync=no\nautopurge.snapRetainCount=5\nautopurge.purgeInterval=24\n"
      "jute.maxbuffer=4194304\nzookeeper.jute.maxbuffer.extrasize=1024\n"
      "extendedTypesEnabled=true\nreconfigEnabled=TRUE\nstandaloneEnabled=true\n"
      "readonlymode.enabled=true\nlocalSessionsEnabled=true\nglobalOutstandingLimit=10\n"
      "fsync.warningthresholdms=50\nznode.container.checkIntervalMs=100\n"
      "znode.container.maxPerMinute=7\nskipACL=yes\nleaderServes=no\n"
      "zookeeper.DigestAuthenticationProvider.superDigest=super:abc=\n"
      "electionAlg=3\nquorumListenOnAllIPs=true\nsyncEnabled=false\nclientPortListenBacklog=50\n"
      "metricsProvider.exportJvmInfo=false\nadmin.serverPort=9090\n");
  EXPECT_EQ(c.tickTime, 1000);
  EXPECT_EQ(c.initLimit, 7);
  EXPECT_EQ(c.syncLimit, 3);
  EXPECT_EQ(c.connectToLearnerMasterLimit, 9);
  EXPECT_EQ(c.dataLogDir, "/tmp/log");
  EXPECT_EQ(c.clientPortAddress, "127.0.0.1");
  EXPECT_EQ(c.maxClientCnxns, 0);
  EXPECT_EQ(c.maxCnxns, 500);
  EXPECT_EQ(c.snapCount, 5000);
  EXPECT_EQ(c.snapSizeLimitInKb, -1);
  EXPECT_EQ(c.txnLogSizeLimitInKb, 1024);
  EXPECT_EQ(c.preAllocSizeKb, 1024);
  EXPECT_FALSE(c.forceSync);
  EXPECT_EQ(c.snapRetainCount, 5);
  EXPECT_EQ(c.purgeIntervalHours, 24);
  EXPECT_EQ(c.juteMaxBuffer, 4194304);
  EXPECT_EQ(c.juteMaxBufferExtraSize, 1024);
  EXPECT_TRUE(c.extendedTypesEnabled);
  EXPECT_TRUE(c.reconfigEnabled);
  EXPECT_TRUE(c.readOnlyModeEnabled);
  EXPECT_TRUE(c.localSessionsEnabled);
  EXPECT_EQ(c.globalOutstandingLimit, 10);
  EXPECT_EQ(c.fsyncWarningThresholdMs, 50);
  EXPECT_EQ(c.containerCheckIntervalMs, 100);
  EXPECT_EQ(c.containerMaxPerMinute, 7);
  EXPECT_TRUE(c.skipAcl);
  EXPECT_FALSE(c.leaderServes);
  EXPECT_EQ(c.superDigest, "super:abc=");
  EXPECT_TRUE(c.quorumListenOnAllIPs);
  EXPECT_FALSE(c.syncEnabled);
  EXPECT_EQ(c.clientPortListenBacklog, 50);
  EXPECT_FALSE(c.metricsExportJvmInfo);
  EXPECT_EQ(c.admin.port, 9090);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
}

TEST_F(ZooConfigTest, AdminServerKeysAndZooKeepersDefaults) {
  ServerConfig defaults = load("");
  EXPECT_TRUE(defaults.admin.enabled);
  EXPECT_EQ(defaults.admin.address, "0.0.0.0");
  EXPECT_EQ(defaults.admin.port, 8080);
  EXPECT_EQ(defaults.admin.commandUrl, "/commands");
  EXPECT_EQ(defaults.admin.idleTimeoutMs, 30000);
  ServerConfig c = load(
      "admin.enableServer=false\nadmin.serverAddress=127.0.0.1\nadmin.serverPort=18080\n"
      "admin.commandURL=/admin/\nadmin.idleTimeout=500\n");
  EXPECT_FALSE(c.admin.enabled);
  EXPECT_EQ(c.admin.address, "127.0.0.1");
  EXPECT_EQ(c.admin.port, 18080);
  EXPECT_EQ(c.admin.commandUrl, "/admin");
  EXPECT_EQ(c.admin.idleTimeoutMs, 500);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  EXPECT_THROW(load("admin.commandURL=commands\n"), ConfigValueError);
  EXPECT_THROW(load("admin.idleTimeout=0\n"), ConfigValueError);
}

TEST_F(ZooConfigTest, DerivedDefaultsFollowTheirSource) {
  ServerConfig c = load("initLimit=12\njute.maxbuffer=2000000\n");
  EXPECT_EQ(c.connectToLearnerMasterLimit, 12);
  EXPECT_EQ(c.juteMaxBufferExtraSize, 2000000);
}

TEST_F(ZooConfigTest, SnapRetainCountBelowThreeIsRaisedWithAWarning) {
  ServerConfig c = load("autopurge.snapRetainCount=1\n");
  EXPECT_EQ(c.snapRetainCount, 3);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0], file() + ":3: autopurge.snapRetainCount: below the minimum 3, using 3");
}

// ZooKeeper's setters: a bad threshold turns the budget off, a bad size keeps the default.
TEST_F(ZooConfigTest, LargeRequestLimitsTakeBadValuesWithAWarning) {
  ServerConfig good = load("largeRequestThreshold=1000\nlargeRequestMaxBytes=4000\n");
  EXPECT_EQ(good.largeRequestThreshold, 1000);
  EXPECT_EQ(good.largeRequestMaxBytes, 4000);
  EXPECT_TRUE(good.warnings.empty());
  ServerConfig bad = load("largeRequestThreshold=0\nlargeRequestMaxBytes=-5\n");
  EXPECT_EQ(bad.largeRequestThreshold, -1);
  EXPECT_EQ(bad.largeRequestMaxBytes, 100 * 1024 * 1024);
  EXPECT_EQ(bad.warnings.size(), 2u);
}

TEST_F(ZooConfigTest, MalformedValuesNameFileLineAndKey) {
  EXPECT_EQ(errorOf(base() + "tickTime=abc\n"), file() + ":3: tickTime: 'abc' is not a number");
  EXPECT_EQ(errorOf(base() + "\n# c\nmaxClientCnxns=-1\n"),
            file() + ":5: maxClientCnxns: -1 is out of range 0..2147483647");
  EXPECT_EQ(errorOf(base() + "tickTime=0\n"),
            file() + ":3: tickTime: 0 is out of range 1..2147483647");
  EXPECT_EQ(errorOf("clientPort=70000\n"),
            file() + ":1: clientPort: 70000 is out of range 0..65535");
  EXPECT_EQ(errorOf(base() + "peerType=leader\n"),
            file() + ":3: peerType: unknown peer type 'leader' (expected participant or observer)");
  EXPECT_EQ(errorOf(base() + "standaloneEnabled=yes\n"),
            file() + ":3: standaloneEnabled: 'yes' is not true or false");
  EXPECT_EQ(errorOf(base() + "forceSync=maybe\n"),
            file() + ":3: forceSync: 'maybe' is not yes or no");
  EXPECT_EQ(errorOf(base() + "electionAlg=1\n"), file() + ":3: electionAlg: only 3 is supported");
  EXPECT_EQ(errorOf(base() + "snapCount=99999999999\n"),
            file() + ":3: snapCount: 99999999999 is out of range 2..2147483647");
  EXPECT_EQ(
      errorOf(base() + "DigestAuthenticationProvider.superDigest=nocolon\n"),
      file() + ":3: DigestAuthenticationProvider.superDigest: expected super:<base64 digest>");
}

TEST_F(ZooConfigTest, MissingRequiredKeysNameTheFile) {
  EXPECT_EQ(errorOf("clientPort=2181\n"), file() + ": dataDir is not set");
  EXPECT_EQ(errorOf("dataDir=/x\n"), file() + ": clientPort is not set");
  EXPECT_EQ(errorOf("dataDir=/x\nclientPortAddress=127.0.0.1\n"),
            file() + ": clientPortAddress is set but clientPort is not set");
  try {
    loadConfig(dir_ / "absent.cfg");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), (dir_ / "absent.cfg").string() + ": cannot be read");
  }
}

TEST_F(ZooConfigTest, UnknownKeysBecomeWarnings) {
  ServerConfig c = load("noSuchKey=1\noraclePath=/o\nmetricsProvider.other=3\n");
  ASSERT_EQ(c.warnings.size(), 3u);
  EXPECT_EQ(c.warnings[0], file() + ":3: noSuchKey: unknown key, ignored");
  EXPECT_EQ(c.warnings[1], file() + ":4: oraclePath: not supported by zookube, ignored");
  EXPECT_EQ(c.warnings[2],
            file() + ":5: metricsProvider.other: option of another metrics provider, ignored");
}

TEST_F(ZooConfigTest, LastOccurrenceOfAKeyWins) {
  EXPECT_EQ(load("tickTime=100\ntickTime=200\n").tickTime, 200);
}

TEST_F(ZooConfigTest, WhitelistParsing) {
  using Set = std::set<std::string, std::less<>>;
  EXPECT_EQ(load("4lw.commands.whitelist=stat, ruok ,conf\n").fourLetterWhitelist,
            (Set{"stat", "ruok", "conf", "srvr"}));
  EXPECT_EQ(load("4lw.commands.whitelist=\n").fourLetterWhitelist, (Set{"srvr"}));
  ServerConfig all = load("4lw.commands.whitelist=*\n");
  EXPECT_EQ(all.fourLetterWhitelist, Set(kFourLetterWords.begin(), kFourLetterWords.end()));
  EXPECT_TRUE(all.fourLetterEnabled("mntr"));
  ServerConfig ro = load("readonlymode.enabled=true\n4lw.commands.whitelist=mntr\n");
  EXPECT_EQ(ro.fourLetterWhitelist, (Set{"mntr", "srvr", "isro"}));
  ServerConfig typo = load("4lw.commands.whitelist=mntr,mtnr\n");
  ASSERT_EQ(typo.warnings.size(), 1u);
  EXPECT_EQ(typo.warnings[0],
            file() + ":3: 4lw.commands.whitelist: 'mtnr' is not a four-letter word");
}

TEST_F(ZooConfigTest, MetricsEnabledByClassNameOrPort) {
  EXPECT_TRUE(load("metricsProvider.className=org.apache.zookeeper.metrics.prometheus."
                   "PrometheusMetricsProvider\n")
                  .metricsEnabled);
  ServerConfig byPort = load("metricsProvider.httpPort=7001\nmetricsProvider.httpHost=127.0.0.1\n");
  EXPECT_TRUE(byPort.metricsEnabled);
  EXPECT_EQ(byPort.metricsHttpPort, 7001);
  EXPECT_EQ(byPort.metricsHttpHost, "127.0.0.1");
}

TEST(ServerEntryTest, Variants) {
  ServerEntry e = parseServerEntry(1, "zk1:2888:3888");
  EXPECT_EQ(e, (ServerEntry{1, "zk1", 2888, 3888, PeerRole::kParticipant, "", 0}));
  e = parseServerEntry(2, "zk2:2888:3888:observer;2181");
  EXPECT_EQ(e, (ServerEntry{2, "zk2", 2888, 3888, PeerRole::kObserver, "0.0.0.0", 2181}));
  e = parseServerEntry(3, " zk3:2888:3888:Participant;10.0.0.3:2182 ");
  EXPECT_EQ(e, (ServerEntry{3, "zk3", 2888, 3888, PeerRole::kParticipant, "10.0.0.3", 2182}));
  e = parseServerEntry(4, "[::1]:2888:3888;[::1]:2181");
  EXPECT_EQ(e, (ServerEntry{4, "::1", 2888, 3888, PeerRole::kParticipant, "::1", 2181}));
  EXPECT_EQ(formatServerEntry(e), "[::1]:2888:3888:participant;[::1]:2181");
  EXPECT_EQ(formatServerEntry(parseServerEntry(5, "h:1:2")), "h:1:2:participant");
}

TEST(ServerEntryTest, Rejections) {
  auto reason = [](std::string_view v) -> std::string {
    try {
      parseServerEntry(1, v);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(reason("h:2888:3888|h2:2888:3888"), "multiple addresses ('|') are not supported");
  EXPECT_EQ(reason("h:2888:2888"), "quorum and election port must be different");
  EXPECT_EQ(reason("h:2888:3888:leader"),
            "unknown role 'leader' (expected participant or observer)");
  EXPECT_EQ(reason("h:x:3888"), "quorum port 'x' is not a number");
  EXPECT_EQ(reason("h:2888:0"), "election port 0 is out of range 1..65535");
  EXPECT_NE(reason("h:2888"), "accepted");
  EXPECT_NE(reason("h:2888:3888;2181;x"), "accepted");
  EXPECT_NE(reason("h:2888:3888;a:b:2181"), "accepted");
}

class QuorumConfigTest : public ZooConfigTest {
 protected:
  std::string quorum() const {
    return base() + "initLimit=10\nsyncLimit=5\n" +
           "server.1=zk1:2888:3888;2181\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888:observer\n";
  }
};

TEST_F(QuorumConfigTest, ServerLinesAndMyId) {
  std::ofstream(data_ / "myid") << "1\n";
  ServerConfig c = loadConfig(write("zoo.cfg", quorum()));
  EXPECT_TRUE(c.distributed());
  EXPECT_EQ(c.serverId, 1);
  ASSERT_EQ(c.servers.size(), 3u);
  EXPECT_EQ(c.servers.at(3).role, PeerRole::kObserver);
  EXPECT_EQ(c.votingMembers(), 2);
  EXPECT_EQ(c.clientPort, 2181);
}

TEST_F(QuorumConfigTest, ClientPortConflictWithServerLine) {
  std::ofstream(data_ / "myid") << "1";
  std::string text = quorum();
  text.replace(text.find("2181"), 4, "2190");
  EXPECT_EQ(errorOf(text), file() + ": clientPort 2190 differs from server.1's client port 2181");
}

TEST_F(QuorumConfigTest, MissingMyIdAndLimits) {
  EXPECT_EQ(errorOf(quorum()), (data_ / "myid").string() + ": missing");
  std::ofstream(data_ / "myid") << "2";
  std::string noInit = quorum();
  noInit.erase(noInit.find("initLimit=10\n"), 13);
  EXPECT_EQ(errorOf(noInit), file() + ": initLimit is not set");
}

TEST_F(QuorumConfigTest, BadServerLineNamesLine) {
  EXPECT_EQ(errorOf(base() + "server.1=zk1:2888\n"),
            file() +
                ":3: server.1: expected "
                "host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]");
  EXPECT_EQ(errorOf(base() + "server.x=zk1:2888:3888\n"),
            file() + ":3: server.x: expected a numeric id after '.'");
}

TEST_F(QuorumConfigTest, PeerTypeFollowsServerLine) {
  std::ofstream(data_ / "myid") << "3";
  ServerConfig c = loadConfig(write("zoo.cfg", quorum()));
  EXPECT_EQ(c.peerType, PeerRole::kObserver);
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(c.warnings[0], file() + ": peerType differs from server.3, using the server line");
}

TEST_F(QuorumConfigTest, SingleServerRunsStandalone) {
  ServerConfig c = load("server.1=zk1:2888:3888\n");
  EXPECT_FALSE(c.distributed());
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_EQ(errorOf(base() + "server.1=zk1:2888:3888:observer\n"),
            file() + ": observers without participants");
}

TEST_F(QuorumConfigTest, GroupsAndWeights) {
  std::ofstream(data_ / "myid") << "1";
  ServerConfig c =
      loadConfig(write("zoo.cfg", quorum() + "group.1=1:2\ngroup.2=3\nweight.1=2\nweight.2=0\n"));
  EXPECT_EQ(c.groups.at(1), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(c.weights.at(1), 2);
  EXPECT_EQ(c.weights.at(2), 0);
  EXPECT_EQ(errorOf(quorum() + "group.1=1\n"), file() + ": server 2 is not in a group");
  EXPECT_EQ(errorOf(quorum() + "group.1=1:2\ngroup.2=2\n"),
            file() + ": server 2 is in multiple groups");
  EXPECT_EQ(errorOf(quorum() + "group.1=1:b\n"),
            file() + ":8: group.1: expected sid:sid:..., got '1:b'");
}

TEST_F(QuorumConfigTest, DynamicConfigFile) {
  std::ofstream(data_ / "myid") << "2";
  fs::path dyn = write("zoo.cfg.dynamic.100000000",
                       "server.1=zk1:2888:3888:participant;0.0.0.0:2181\n"
                       "server.2=zk2:2888:3888:participant;0.0.0.0:2182\nversion=100000000\n");
  ServerConfig c = loadConfig(
      write("zoo.cfg", "dataDir=" + data_.string() +
                           "\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=" + dyn.string() + "\n"));
  EXPECT_EQ(c.servers.size(), 2u);
  EXPECT_EQ(c.configVersion, 0x100000000);
  EXPECT_EQ(c.clientPort, 2182);
  // A version line inside: ZooKeeper refuses it, zookube (which wrote it once) warns.
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("version: ZooKeeper refuses"), std::string::npos) << c.warnings[0];

  // ZooKeeper's own form: the version is the name's hex suffix, 0 without one.
  auto versionOf = [&](const std::string& name, const std::string& lines) {
    fs::path file = write(name, lines);
    return loadConfig(write("zoo.cfg", "dataDir=" + data_.string() +
                                           "\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=" +
                                           file.string() + "\n"))
        .configVersion;
  };
  const std::string servers =
      "server.1=zk1:2888:3888:participant;0.0.0.0:2181\n"
      "server.2=zk2:2888:3888:participant;0.0.0.0:2182\n";
  EXPECT_EQ(versionOf("zoo.cfg.dynamic.2000000a0", servers), 0x2000000a0);
  EXPECT_EQ(versionOf("zoo.cfg.dynamic", servers), 0);
  write("zoo.cfg.dynamic.300000000", servers + "version=100000000\n");
  EXPECT_NE(
      errorOf(base() + "dynamicConfigFile=" + (dir_ / "zoo.cfg.dynamic.300000000").string() + "\n")
          .find(":3: version: differs from the version in the file's name (0x300000000)"),
      std::string::npos);
  EXPECT_EQ(errorOf(quorum() + "dynamicConfigFile=" + dyn.string() + "\n"),
            file() + ":5: server.1: must be in the dynamic config file " + dyn.string());
  write("bad.dynamic", "tickTime=5\n");
  EXPECT_EQ(errorOf(base() + "dynamicConfigFile=" + (dir_ / "bad.dynamic").string() + "\n"),
            (dir_ / "bad.dynamic").string() +
                ":1: tickTime: unrecognised parameter in a dynamic config file");
}

TEST_F(ZooConfigTest, ReadMyIdRules) {
  std::ofstream(data_ / "myid") << "  7 \nignored\n";
  EXPECT_EQ(readMyId(data_), 7);
  const std::string myid = (data_ / "myid").string();
  std::ofstream(data_ / "myid") << "seven\n";
  try {
    readMyId(data_);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), myid + ": 'seven' is not a number");
  }
  std::ofstream(data_ / "myid") << "256";
  try {
    readMyId(data_);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), myid + ": server id 256 is out of range 1..255");
  }
  fs::remove(data_ / "myid");
  EXPECT_THROW(readMyId(data_), ConfigError);
}

TEST_F(ZooConfigTest, RenderStandaloneLikeZooKeeperConf) {
  ServerConfig c = load("tickTime=2000\n");
  std::string d = fs::absolute(data_ / "version-2").string();
  EXPECT_EQ(renderConfig(c, {457, 12}),
            "clientPort=2181\nsecureClientPort=-1\ndataDir=" + d +
                "\ndataDirSize=457\ndataLogDir=" + d +
                "\ndataLogSize=12\ntickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\n"
                "maxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n");
}

TEST_F(QuorumConfigTest, RenderQuorumAppendsMembership) {
  std::ofstream(data_ / "myid") << "2";
  std::string out = renderConfig(loadConfig(write("zoo.cfg", quorum())));
  const std::string tail =
      "serverId=2\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\nquorumPort=2888\n"
      "peerType=0\nmembership: \nserver.1=zk1:2888:3888:participant;0.0.0.0:2181\n"
      "server.2=zk2:2888:3888:participant\nserver.3=zk3:2888:3888:observer\nversion=0";
  ASSERT_GE(out.size(), tail.size());
  EXPECT_EQ(out.substr(out.size() - tail.size()), tail);
}

TEST_F(ZooConfigTest, TlsKeysAsZooKeeperReadsThem) {
  ServerConfig c = load(
      "secureClientPort=2281\nssl.keyStore.location=/k/server.P12\nssl.trustStore.location=/k/"
      "ca.pem\nssl.clientAuth=WANT\nssl.enabledProtocols=TLSv1.2, TLSv1.3\nclient."
      "portUnification=true\nX509AuthenticationProvider.superUser=CN=admin\nauthProvider.x509="
      "org.apache.zookeeper.server.auth.X509AuthenticationProvider\n");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.secureClientPort, 2281);
  EXPECT_TRUE(c.clientPortUnification);
  EXPECT_EQ(c.tls.keyStoreType, "PKCS12");  // from the extension, as KeyStoreFileType
  EXPECT_EQ(c.tls.trustStoreType, "PEM");
  EXPECT_EQ(c.tls.clientAuth, ClientAuth::kWant);
  EXPECT_EQ(c.tls.enabledProtocols, (std::vector<std::string>{"TLSv1.2", "TLSv1.3"}));
  EXPECT_EQ(c.tls.x509SuperUser, "CN=admin");
  EXPECT_EQ(c.tls.handshakeDetectionTimeoutMs, 5000);
  EXPECT_EQ(load("").tls.clientAuth, ClientAuth::kNeed);  // ZooKeeper's default
}

TEST_F(ZooConfigTest, BadTlsValuesAreOneLineErrors) {
  std::string head = base() + "secureClientPort=2281\n";
  EXPECT_EQ(errorOf(head + "ssl.keyStore.location=/k/ks.jks\n"),
            file() +
                ":4: ssl.keyStore.location: JKS stores are not supported; convert it to PKCS12 "
                "(keytool -importkeystore -deststoretype PKCS12) or PEM (openssl pkcs12 -nodes)");
  EXPECT_EQ(errorOf(head + "ssl.keyStore.location=/k/ks\nssl.trustStore.type=JKS\n"),
            file() +
                ":5: ssl.trustStore.type: JKS stores are not supported; convert it to PKCS12 "
                "(keytool -importkeystore -deststoretype PKCS12) or PEM (openssl pkcs12 -nodes)");
  EXPECT_EQ(errorOf(head + "ssl.keyStore.location=/k/ks.pem\nssl.clientAuth=maybe\n"),
            file() + ":5: ssl.clientAuth: 'maybe' is not none, want or need");
  EXPECT_EQ(errorOf(head + "ssl.keyStore.location=/k/ks.pem\nssl.protocol=SSLv3\n"),
            file() +
                ":5: ssl.protocol: unknown protocol 'SSLv3' (expected TLSv1.2, TLSv1.3, "
                "TLSv1.1 or TLSv1)");
  EXPECT_EQ(errorOf(head), file() + ": secureClientPort needs ssl.keyStore.location");
  EXPECT_EQ(errorOf(head + "ssl.keyStore.location=/k/ks\n"),
            file() +
                ":4: ssl.keyStore.location: cannot tell the store type from the file name; set "
                "ssl.keyStore.type to PEM or PKCS12");
}

TEST_F(ZooConfigTest, QuorumTlsKeysAreTheClientKeysUnderSslQuorum) {
  ServerConfig c = load(
      "sslQuorum=true\nportUnification=true\nsslQuorumReloadCertFiles=true\n"
      "ssl.quorum.keyStore.location=/k/member.p12\nssl.quorum.keyStore.password=pw\n"
      "ssl.quorum.trustStore.location=/k/ca\nssl.quorum.trustStore.type=pem\n"
      "zookeeper.ssl.quorum.hostnameVerification=false\nssl.quorum.clientAuth=want\n"
      "ssl.quorum.enabledProtocols=TLSv1.3\nssl.quorum.handshakeDetectionTimeoutMillis=700\n"
      "ssl.keyStore.location=/k/client.pem\n");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_TRUE(c.sslQuorum);
  EXPECT_TRUE(c.quorumPortUnification);
  EXPECT_TRUE(c.sslQuorumReloadCertFiles);
  EXPECT_EQ(c.quorumTls.keyStoreLocation, "/k/member.p12");
  EXPECT_EQ(c.quorumTls.keyStoreType, "PKCS12");
  EXPECT_EQ(c.quorumTls.keyStorePassword, "pw");
  EXPECT_EQ(c.quorumTls.trustStoreType, "PEM");
  EXPECT_FALSE(c.quorumTls.hostnameVerification);
  EXPECT_EQ(c.quorumTls.clientAuth, ClientAuth::kWant);
  EXPECT_EQ(c.quorumTls.enabledProtocols, (std::vector<std::string>{"TLSv1.3"}));
  EXPECT_EQ(c.quorumTls.handshakeDetectionTimeoutMs, 700);
  EXPECT_EQ(c.quorumTls.keyPrefix, "ssl.quorum.");
  // The client port's settings are apart.
  EXPECT_EQ(c.tls.keyStoreLocation, "/k/client.pem");
  EXPECT_EQ(c.tls.clientAuth, ClientAuth::kNeed);
  EXPECT_TRUE(c.tls.hostnameVerification);
  ServerConfig plain = load("");
  EXPECT_FALSE(plain.sslQuorum || plain.quorumPortUnification || plain.sslQuorumReloadCertFiles);
  EXPECT_EQ(plain.quorumTls.clientAuth, ClientAuth::kNeed);
}

TEST_F(ZooConfigTest, BadQuorumTlsValuesAreOneLineErrors) {
  EXPECT_EQ(errorOf(base() + "sslQuorum=true\n"),
            file() + ": sslQuorum needs ssl.quorum.keyStore.location");
  EXPECT_EQ(errorOf(base() + "portUnification=true\n"),
            file() + ": portUnification needs ssl.quorum.keyStore.location");
  EXPECT_EQ(errorOf(base() + "sslQuorum=true\nssl.quorum.keyStore.location=/k/m.jks\n"),
            file() +
                ":4: ssl.quorum.keyStore.location: JKS stores are not supported; convert it to "
                "PKCS12 (keytool -importkeystore -deststoretype PKCS12) or PEM (openssl pkcs12 "
                "-nodes)");
  EXPECT_EQ(errorOf(base() + "sslQuorum=yes\n"),
            file() + ":3: sslQuorum: 'yes' is not true or false");
  EXPECT_EQ(errorOf(base() + "ssl.quorum.clientAuth=maybe\n"),
            file() + ":3: ssl.quorum.clientAuth: 'maybe' is not none, want or need");
}

// QuorumPeerConfig's rules: requiring SASL needs it enabled, and requiring it of learners needs
// this member to authenticate as one too.
TEST_F(ZooConfigTest, QuorumSaslKeys) {
  EXPECT_EQ(
      errorOf(base() + "quorum.auth.serverRequireSasl=true\nquorum.auth.learnerRequireSasl=true\n"),
      file() +
          ": quorum.auth.enableSasl is disabled, so cannot enable "
          "quorum.auth.serverRequireSasl");
  EXPECT_EQ(errorOf(base() + "quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n"),
            file() +
                ": quorum.auth.learnerRequireSasl is disabled, so cannot enable "
                "quorum.auth.serverRequireSasl");
  ServerConfig c = load(
      "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n"
      "quorum.auth.serverRequireSasl=TRUE\nquorum.auth.learner.saslLoginContext=L\n"
      "quorum.cnxn.threads.size=20\n");
  EXPECT_TRUE(c.quorumEnableSasl && c.quorumLearnerRequireSasl && c.quorumServerRequireSasl);
  EXPECT_EQ(c.quorumLearnerLoginContext, "L");
  EXPECT_EQ(c.quorumServerLoginContext, "QuorumServer");
  EXPECT_TRUE(c.warnings.empty());
}

}  // namespace
}  // namespace zk
