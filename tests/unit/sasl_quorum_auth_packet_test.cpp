#include <gtest/gtest.h>

#include <variant>

#include "sasl/quorum_auth_packet.h"
#include "sasl/sasl_client.h"

namespace zk::sasl {
namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// The bytes ZooKeeper's BinaryOutputArchive writes for QuorumAuthPacket(magic, status, token):
// the magic is Java's -0xa0dbcafecafe1234L, which wraps to a positive long.
TEST(QuorumAuthPacket, EncodesAsZooKeeperDoes) {
  EXPECT_EQ(kQuorumAuthMagic, 0x5f2435013501edccLL);
  EXPECT_EQ(hex(encodeQuorumAuthPacket(QuorumAuthStatus::InProgress, "")),
            "5f2435013501edcc"
            "00000000"
            "00000000");
  EXPECT_EQ(hex(encodeQuorumAuthPacket(QuorumAuthStatus::Success, std::nullopt)),
            "5f2435013501edcc"
            "00000001"
            "ffffffff");
  EXPECT_EQ(hex(encodeQuorumAuthPacket(QuorumAuthStatus::Error, "ab")),
            "5f2435013501edcc"
            "ffffffff"
            "00000002"
            "6162");
}

TEST(QuorumAuthPacket, DecodesFromTheFrontOfAStream) {
  std::string bytes = encodeQuorumAuthPacket(QuorumAuthStatus::InProgress, "token") + "rest";
  for (std::size_t cut = 0; cut < bytes.size() - 4; ++cut) {
    EXPECT_TRUE(std::holds_alternative<QuorumAuthNeedMore>(
        decodeQuorumAuthPacket(std::string_view(bytes).substr(0, cut), 100)))
        << cut;
  }
  auto decoded = std::get<QuorumAuthDecoded>(decodeQuorumAuthPacket(bytes, 100));
  EXPECT_EQ(decoded.size, bytes.size() - 4);
  EXPECT_EQ(decoded.packet.status, 0);
  EXPECT_EQ(decoded.packet.token, "token");
  auto null = std::get<QuorumAuthDecoded>(
      decodeQuorumAuthPacket(encodeQuorumAuthPacket(QuorumAuthStatus::Success, std::nullopt), 0));
  EXPECT_EQ(null.packet.token, std::nullopt);
  EXPECT_EQ(null.packet.status, 1);
}

TEST(QuorumAuthPacket, RefusesWhatIsNotOne) {
  auto malformed = [](std::string_view bytes, std::size_t max) {
    auto r = decodeQuorumAuthPacket(bytes, max);
    return std::holds_alternative<QuorumAuthMalformed>(r);
  };
  std::string good = encodeQuorumAuthPacket(QuorumAuthStatus::InProgress, "abc");
  std::string wrongMagic = good;
  wrongMagic[0] ^= 1;
  EXPECT_TRUE(malformed(wrongMagic, 100));
  EXPECT_TRUE(malformed(good, 2));  // a token over the limit, refused before it arrives
  std::string negative = good.substr(0, 12) + std::string("\xff\xff\xff\xfe", 4);
  EXPECT_TRUE(malformed(negative, 100));
}

TEST(QuorumAuthPacket, PeeksAtTheMagic) {
  std::string packet = encodeQuorumAuthPacket(QuorumAuthStatus::InProgress, "");
  EXPECT_EQ(startsWithQuorumAuth(packet.substr(0, 7)), std::nullopt);
  EXPECT_EQ(startsWithQuorumAuth(packet.substr(0, 8)), true);
  // A learner's FOLLOWERINFO (type 11, then the zxid) is not one.
  EXPECT_EQ(startsWithQuorumAuth(std::string("\0\0\0\x0b\0\0\0\0", 8)), false);
}

TEST(QuorumLearnerJaas, TakesTheDigestOrTheKerberosLogin) {
  auto config = jaas::parse(R"(QuorumLearner {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="learner" password="secret";
  };
  Krb {
    com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true
    keyTab="/k" principal="learner/host@REALM";
  };)");
  ClientSettings s = clientSettingsFrom(config, "QuorumLearner");
  EXPECT_EQ(s.username, "learner");
  EXPECT_EQ(s.password, "secret");
  ClientSettings krb = clientSettingsFrom(config, "Krb");
  EXPECT_EQ(krb.mechanism, "GSSAPI");
  EXPECT_EQ(krb.principal, "learner/host@REALM");
  EXPECT_EQ(krb.keytab, "/k");
  EXPECT_THROW(clientSettingsFrom(config, "Missing"), Error);
  EXPECT_FALSE(krb.ticketCache.has_value());
}

// Krb5LoginModule's own rules for useTicketCache, ticketCache and useKeyTab.
TEST(QuorumLearnerSettings, KerberosFromATicketCacheFollowsKrb5LoginModulesRules) {
  auto settings = [](std::string_view options) {
    return clientSettingsFrom(
        jaas::parse("L { com.sun.security.auth.module.Krb5LoginModule required " +
                    std::string(options) + "; };"),
        "L");
  };
  ClientSettings cacheOnly = settings(R"(useTicketCache=true ticketCache="/tmp/cc")");
  EXPECT_EQ(cacheOnly.mechanism, "GSSAPI");
  EXPECT_EQ(cacheOnly.ticketCache, "/tmp/cc");
  EXPECT_EQ(cacheOnly.principal, "");
  EXPECT_EQ(cacheOnly.keytab, "");
  ClientSettings defaultCache = settings(R"(useTicketCache=true principal="l/h@R")");
  EXPECT_EQ(defaultCache.ticketCache, "");
  EXPECT_EQ(defaultCache.principal, "l/h@R");
  ClientSettings both = settings(R"(useTicketCache=true useKeyTab=true keyTab="/k" principal="p")");
  EXPECT_EQ(both.ticketCache, "");
  EXPECT_EQ(both.keytab, "/k");
  // A keyTab without useKeyTab=true is not used, as Krb5LoginModule ignores it.
  EXPECT_EQ(settings(R"(useTicketCache=true keyTab="/k" principal="p")").keytab, "");

  auto refusal = [&](std::string_view options) {
    try {
      settings(options);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal(R"(ticketCache="/tmp/cc" useKeyTab=true keyTab="/k" principal="p")")
                .find("ticketCache is set but useTicketCache is not true"),
            std::string::npos);
  EXPECT_NE(refusal(R"(useKeyTab=true principal="p")").find("needs keyTab and principal"),
            std::string::npos);
  EXPECT_NE(refusal(R"(principal="p")").find("or useTicketCache=true"), std::string::npos);
}

// As ZooKeeper's SecurityUtils.getServerPrincipal: only "name/_HOST" exactly is substituted.
TEST(QuorumServicePrincipal, HostPatternBecomesThePeersHostLowerCased) {
  EXPECT_EQ(quorumServicePrincipal("zkquorum/_HOST", "ZK-1.Example.COM"),
            "zkquorum/zk-1.example.com");
  EXPECT_EQ(quorumServicePrincipal("zkquorum/localhost", "zk-1"), "zkquorum/localhost");
  EXPECT_EQ(quorumServicePrincipal("zkquorum/_HOST@REALM", "zk-1"), "zkquorum/_HOST@REALM");
  EXPECT_EQ(quorumServicePrincipal("zkquorum", "zk-1"), "zkquorum");
}

std::span<const std::uint8_t> asBytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A quorum member's DIGEST-MD5 side, with ZooKeeper's protocol and server name.
Settings quorumDigestServer() {
  Settings server;
  server.mechanism = "DIGEST-MD5";
  server.service = "zookeeper-quorum";
  server.serverName = "zk-quorum-sasl-md5";
  server.users["learner"] = "secret";
  server.users["other"] = "secret";
  server.authorizeAsQuorumMember = true;
  return server;
}

ClientSettings digestLogin(const std::string& password, const std::string& authorizationId = {}) {
  ClientSettings login;
  login.service = "zookeeper-quorum";
  login.serverName = "zk-quorum-sasl-md5";
  login.username = "learner";
  login.password = password;
  login.authorizationId = authorizationId;
  return login;
}

// The two Cyrus sides talk DIGEST-MD5 to each other as members do, and a wrong password fails
// at the server.
TEST(QuorumDigest, LearnerAndServerAuthenticate) {
  Authority authority(quorumDigestServer());
  for (std::string password : {"secret", "wrong"}) {
    ClientExchange client(digestLogin(password));
    auto exchange = authority.begin();
    auto first = client.start();
    auto challenge = exchange->evaluate(asBytes(first.token));
    ASSERT_FALSE(challenge.complete);
    auto response = client.evaluate(asBytes(challenge.token));
    if (password == "wrong") {
      EXPECT_THROW(exchange->evaluate(asBytes(response.token)), Error);
      continue;
    }
    auto done = exchange->evaluate(asBytes(response.token));
    ASSERT_TRUE(done.complete);
    EXPECT_EQ(done.authorizedId, "learner");
    EXPECT_TRUE(client.evaluate(asBytes(done.token)).complete);
  }
}

// As ZooKeeper's SaslQuorumServerCallbackHandler: a learner that authenticates as one user but
// asks to act as another is refused, though its password is right.
TEST(QuorumDigest, AnAuthorizationIdOtherThanTheUserIsRefused) {
  Authority authority(quorumDigestServer());
  for (std::string asked : {"other", "learner"}) {
    ClientExchange client(digestLogin("secret", asked));
    auto exchange = authority.begin();
    auto challenge = exchange->evaluate(asBytes(client.start().token));
    auto response = client.evaluate(asBytes(challenge.token));
    if (asked == "learner") {
      EXPECT_EQ(exchange->evaluate(asBytes(response.token)).authorizedId, "learner");
      continue;
    }
    try {
      exchange->evaluate(asBytes(response.token));
      ADD_FAILURE() << "learner let in as other";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("learner asked to act as other"), std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace zk::sasl
