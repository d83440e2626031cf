#include <gtest/gtest.h>

#include "sasl/jaas.h"
#include "sasl/sasl_server.h"

namespace zk {
namespace {

constexpr const char* kDigestJaas = R"(
/* ZooKeeper's documented example, with both comment styles */
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"   // the super user
       user_bob="bob\"secret";
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username=bob
       password="bobsecret";
};
)";

TEST(Jaas, ParsesSectionsModulesAndOptions) {
  jaas::Configuration config = jaas::parse(kDigestJaas);
  ASSERT_EQ(config.size(), 2u);
  const auto& server = config.at("Server");
  ASSERT_EQ(server.size(), 1u);
  EXPECT_EQ(server[0].className, "org.apache.zookeeper.server.auth.DigestLoginModule");
  EXPECT_EQ(server[0].flag, "required");
  EXPECT_EQ(server[0].options.at("user_super"), "adminsecret");
  EXPECT_EQ(server[0].options.at("user_bob"), "bob\"secret");
  EXPECT_EQ(config.at("Client")[0].options.at("username"), "bob");
}

TEST(Jaas, RefusesWhatIsNotJaasNamingTheLine) {
  for (const char* bad : {
           "Server { M required a=\"b\" };",                   // module without ';'
           "Server { M mandatory; };",                         // unknown flag
           "Server { M required a=\"b; };",                    // unterminated quote
           "Server { M required a; };",                        // option without value
           "Server { M required; }",                           // section without ';'
           "Server { M required; }; Server { M required; };",  // twice
           "/* never closed",
       }) {
    EXPECT_THROW(jaas::parse(bad), jaas::ParseError) << bad;
  }
  try {
    jaas::parse("Server {\n  M required\n  a=\n};");
    FAIL();
  } catch (const jaas::ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("line 4"), std::string::npos) << e.what();
  }
}

TEST(SaslSettings, DigestUsersOrAKerberosPrincipalDecideTheMechanism) {
  sasl::Settings digest = sasl::settingsFrom(jaas::parse(kDigestJaas), "Server");
  EXPECT_EQ(digest.mechanism, "DIGEST-MD5");
  EXPECT_EQ(digest.serverName, "zk-sasl-md5");
  EXPECT_EQ(digest.users.at("super"), "adminsecret");

  sasl::Settings krb = sasl::settingsFrom(jaas::parse(R"(Server {
      com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true
      keyTab="/etc/zk.keytab" storeKey=true principal="zookeeper/zk-0.example@EXAMPLE.COM"; };)"),
                                          "Server");
  EXPECT_EQ(krb.mechanism, "GSSAPI");
  EXPECT_EQ(krb.service, "zookeeper");
  EXPECT_EQ(krb.serverName, "zk-0.example");
  EXPECT_EQ(krb.realm, "EXAMPLE.COM");
  EXPECT_EQ(krb.keytab, "/etc/zk.keytab");

  EXPECT_THROW(sasl::settingsFrom(jaas::parse(kDigestJaas), "QuorumServer"), sasl::Error);
  EXPECT_EQ(sasl::settingsFrom(jaas::parse("Server { M required a=b; };"), "Server").mechanism,
            "DIGEST-MD5");
  EXPECT_THROW(sasl::settingsFrom(jaas::parse("Server { x.Krb5LoginModule required "
                                              "principal=\"zookeeper@R\"; };"),
                                  "Server"),
               sasl::Error);
}

TEST(SaslSettings, AuthorizedIdDropsHostAndRealmOnlyWhenAsked) {
  EXPECT_EQ(sasl::authorizedId("bob", false, false), "bob");
  EXPECT_EQ(sasl::authorizedId("client@R", false, false), "client@R");
  EXPECT_EQ(sasl::authorizedId("client@R", false, true), "client");
  EXPECT_EQ(sasl::authorizedId("zk/host@R", false, false), "zk/host@R");
  EXPECT_EQ(sasl::authorizedId("zk/host@R", true, false), "zk@R");
  EXPECT_EQ(sasl::authorizedId("zk/host@R", true, true), "zk");
}

TEST(SaslExchange, DigestChallengesInZooKeepersRealmAndFailsOnGarbage) {
  sasl::Authority authority(sasl::settingsFrom(jaas::parse(kDigestJaas), "Server"));
  auto exchange = authority.begin();
  auto first = exchange->evaluate({});
  EXPECT_FALSE(first.complete);
  EXPECT_NE(first.token.find("realm=\"zk-sasl-md5\""), std::string::npos) << first.token;
  const std::uint8_t garbage[] = {'x', '=', '"', 0xff, 0x00, ','};
  EXPECT_THROW(exchange->evaluate(garbage), sasl::Error);
}

TEST(SaslExchange, DigestRefusesARepeatedDirective) {
  sasl::Authority authority(sasl::settingsFrom(jaas::parse(kDigestJaas), "Server"));
  auto exchange = authority.begin();
  exchange->evaluate({});
  std::string_view response =
      R"(username="bob",nonce="x",cnonce="y",nc=00000001,nonce="x, \"z",qop=auth)";
  try {
    exchange->evaluate(
        std::span(reinterpret_cast<const std::uint8_t*>(response.data()), response.size()));
    FAIL();
  } catch (const sasl::Error& e) {
    EXPECT_NE(std::string(e.what()).find("more than one nonce"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace zk
