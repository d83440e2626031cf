// spec.auth: the CRD's rules as the model applies them, and what the render makes of them.
#include <gtest/gtest.h>

#include <algorithm>

#include <cpprest/asyncrt_utils.h>

#include "model/zk_cluster.h"
#include "operator_spec_test_util.h"
#include "render/render.h"
#include "sasl/jaas.h"
#include "sasl/sasl_server.h"

namespace zk::op {
namespace {

ZkCluster parse(const std::string& spec) {
  return clusterWithSpec(spec);
}

std::vector<std::string> errorsOf(const std::string& spec) {
  try {
    parse(spec);
  } catch (const SpecError& e) {
    return e.errors();
  }
  return {};
}

bool hasError(const std::string& spec, const std::string& text) {
  auto errors = errorsOf(spec);
  return std::find(errors.begin(), errors.end(), text) != errors.end();
}

const char* kAliceEnforced =
    "  auth:\n    enforce: true\n    sasl:\n      users:\n"
    "      - {name: alice, passwordSecretRef: {name: zk-alice}}\n"
    "      - {name: bob, passwordSecretRef: {name: zk-bob, key: pw}}\n";

TEST(OperatorAuth, UsersAndEnforceAreReadWithTheKeyDefaulted) {
  ZkCluster c = parse(kAliceEnforced);
  ASSERT_TRUE(c.spec.auth.sasl);
  EXPECT_TRUE(c.spec.auth.enforce);
  ASSERT_EQ(c.spec.auth.users.size(), 2u);
  EXPECT_EQ(c.spec.auth.users[0].name, "alice");
  EXPECT_EQ(c.spec.auth.users[0].passwordSecretRef.name, "zk-alice");
  EXPECT_EQ(c.spec.auth.users[0].passwordSecretRef.key, "password");
  EXPECT_EQ(c.spec.auth.users[1].passwordSecretRef.key, "pw");
  // The spec survives a round trip through JSON (local mode's stored spec).
  web::json::value object = web::json::value::object();
  object["apiVersion"] = web::json::value::string("zookube.dev/v1alpha1");
  object["kind"] = web::json::value::string("ZkCluster");
  object["metadata"]["name"] = web::json::value::string("zk");
  object["spec"] = toJson(c.spec);
  ZkCluster again = parseZkCluster(object);
  EXPECT_EQ(again.spec.auth.users, c.spec.auth.users);
  EXPECT_TRUE(again.spec.auth.enforce);
}

TEST(OperatorAuth, TheCrdRulesAreTheModels) {
  EXPECT_TRUE(hasError("  auth: {enforce: true}\n",
                       "spec.auth.enforce: needs auth.sasl (the operator logs in with DIGEST-MD5 "
                       "as its own user; it has no Kerberos login)"));
  EXPECT_TRUE(hasError(
      "  auth: {sasl: {users: [{name: zookube-operator, passwordSecretRef: {name: s}}]}}\n",
      "spec.auth.sasl.users[0].name: \"zookube-operator\" is the operator's own user"));
  EXPECT_TRUE(hasError("  auth: {sasl: {users: [{name: alice}]}}\n",
                       "spec.auth.sasl.users[0].passwordSecretRef: is required"));
  EXPECT_TRUE(
      hasError("  auth: {sasl: {users: [{name: a, passwordSecretRef: {name: s}}, {name: a, "
               "passwordSecretRef: {name: t}}]}}\n",
               "spec.auth.sasl.users[1].name: names a user twice"));
  EXPECT_TRUE(
      hasError("  auth: {sasl: {users: [{name: 'x y', passwordSecretRef: {name: s}}]}}\n",
               "spec.auth.sasl.users[0].name: must be 1-64 letters, digits, '.', '_', '@' or "
               "'-', got \"x y\""));
  EXPECT_TRUE(hasError("  auth: {sasl: {}, enforce: true}\n  config: {enforce.auth.schemes: ip}\n",
                       "spec.config.enforce.auth.schemes: is set by spec.auth.enforce"));
  EXPECT_TRUE(hasError("  config: {java.security.auth.login.config: /x}\n",
                       "spec.config.java.security.auth.login.config: is set by the operator and "
                       "cannot be overridden"));
  EXPECT_TRUE(errorsOf("  auth: {sasl: {}}\n").empty());
}

TEST(OperatorAuth, ZooCfgNamesTheJaasFileAndEnforcesSasl) {
  ZkCluster c = parse(kAliceEnforced);
  Member m = voterMember(c, 0);
  std::string k8s = renderZooCfg(c, m, {3, 0}, Addressing::kubernetes());
  EXPECT_NE(k8s.find("java.security.auth.login.config=/etc/zookube-super/jaas.conf\n"),
            std::string::npos);
  EXPECT_NE(k8s.find("authProvider.sasl=org.apache.zookeeper.server.auth."
                     "SASLAuthenticationProvider\n"),
            std::string::npos);
  EXPECT_NE(k8s.find("enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n"), std::string::npos);
  std::string local = renderZooCfg(c, m, {3, 0}, Addressing::local("/state/members"));
  EXPECT_NE(local.find("java.security.auth.login.config=/state/members/zk-0/jaas.conf\n"),
            std::string::npos);
  ZkCluster plain = parse("  {}\n");
  std::string none = renderZooCfg(plain, voterMember(plain, 0), {3, 0}, Addressing::kubernetes());
  EXPECT_EQ(none.find("jaas"), std::string::npos);
  EXPECT_EQ(none.find("enforce.auth"), std::string::npos);
  // Turning enforcement on is a zoo.cfg change: it rolls the members.
  ZkCluster open = parse(
      "  auth:\n    sasl:\n      users:\n      - {name: alice, passwordSecretRef: {name: a}}\n"
      "      - {name: bob, passwordSecretRef: {name: zk-bob, key: pw}}\n");
  EXPECT_NE(rolloutHash(open, Addressing::kubernetes()), rolloutHash(c, Addressing::kubernetes()));
}

TEST(OperatorAuth, JaasQuotesPasswordsAndAChangedOneRollsTheMembers) {
  std::string jaas = renderJaas({{"zookube-operator", "op"}, {"alice", "a\"b\\c"}});
  EXPECT_NE(jaas.find("Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n"
                      "  user_zookube-operator=\"op\"\n  user_alice=\"a\\\"b\\\\c\";\n};\n"),
            std::string::npos)
      << jaas;
  ZkCluster c = parse(kAliceEnforced);
  auto hash = [&](const std::string& password) {
    std::string j = renderJaas({{"alice", password}});
    return rolloutHash(c, Addressing::kubernetes(), memberSecretsFingerprint("super:x", j));
  };
  EXPECT_NE(hash("one"), hash("two"));
  // Without JAAS the fingerprint is the digest alone: no roll on upgrading the operator.
  EXPECT_EQ(memberSecretsFingerprint("super:x", ""), "super:x");
}

TEST(OperatorAuth, TheJaasFileIsInTheMembersSecretNeverInTheConfigMap) {
  ZkCluster c = parse(kAliceEnforced);
  std::string jaas = renderJaas({{"alice", "s3cret-pw"}});
  web::json::value secret = superDigestSecret(c, "super:x", jaas);
  auto stored = utility::conversions::from_base64(secret.at("data").at("jaas.conf").as_string());
  EXPECT_EQ(std::string(stored.begin(), stored.end()), jaas);
  for (const web::json::value& o : renderObjects(c, {3, 0}, Addressing::kubernetes(),
                                                 memberSecretsFingerprint("super:x", jaas))) {
    EXPECT_EQ(o.serialize().find("s3cret-pw"), std::string::npos) << o.at("kind").as_string();
  }
  EXPECT_FALSE(superDigestSecret(c, "super:x").at("data").has_field("jaas.conf"));
}

}  // namespace
}  // namespace zk::op

namespace zk::op {
namespace {

const char* kKerberos =
    "  auth:\n    kerberos:\n      keytabSecretRef: {name: zk-keytab}\n"
    "      principal: 'zookeeper/{host}@EXAMPLE.COM'\n";

TEST(OperatorKerberos, TheCrdRulesAreTheModels) {
  ZkCluster c = parse(kKerberos);
  ASSERT_TRUE(c.spec.auth.kerberos.has_value());
  EXPECT_EQ(c.spec.auth.kerberos->keytabSecretRef, (SecretKeyRef{"zk-keytab", "keytab"}));
  EXPECT_TRUE(c.spec.auth.kerberos->removeHostFromPrincipal);
  EXPECT_TRUE(c.spec.auth.kerberos->removeRealmFromPrincipal);
  web::json::value auth = toJson(c.spec).at("auth");
  EXPECT_FALSE(auth.has_field("sasl"));
  EXPECT_EQ(auth.at("kerberos").at("principal").as_string(), "zookeeper/{host}@EXAMPLE.COM");
  EXPECT_EQ(auth.at("kerberos").at("keytabSecretRef").at("key").as_string(), "keytab");
  EXPECT_TRUE(hasError(std::string(kKerberos) + "    sasl: {}\n",
                       "spec.auth.kerberos: cannot be combined with auth.sasl (a JAAS Server "
                       "section has one mechanism)"));
  EXPECT_TRUE(hasError(
      "  auth: {kerberos: {keytabSecretRef: {name: k}, principal: zookeeper/zk-0@EXAMPLE.COM}}\n",
      "spec.auth.kerberos.principal: must be service/{host}@REALM, got "
      "\"zookeeper/zk-0@EXAMPLE.COM\""));
  EXPECT_TRUE(hasError("  auth: {kerberos: {principal: 'z/{host}@R'}}\n",
                       "spec.auth.kerberos.keytabSecretRef: is required"));
}

// What ZooKeeper reads: the SASL provider, kerberos.removeHost/RealmFromPrincipal, and a JAAS
// Server section with Krb5LoginModule; checked here by the server's own JAAS reading.
TEST(OperatorKerberos, EachMemberGetsItsPrincipalInAKrb5ServerSection) {
  ZkCluster c = parse(std::string(kKerberos) + "      removeRealmFromPrincipal: false\n");
  Member m = voterMember(c, 1);
  Addressing k8s = Addressing::kubernetes();
  std::string cfg = renderZooCfg(c, m, {3, 0}, k8s);
  for (const char* line :
       {"authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n",
        "kerberos.removeHostFromPrincipal=true\n", "kerberos.removeRealmFromPrincipal=false\n",
        "java.security.auth.login.config=/etc/zookube-super/zk-1.jaas.conf\n"}) {
    EXPECT_NE(cfg.find(line), std::string::npos) << line << cfg;
  }
  EXPECT_EQ(cfg.find("enforce.auth"), std::string::npos);
  sasl::Settings s = sasl::settingsFrom(jaas::parse(renderKerberosJaas(c, m, k8s)), "Server");
  EXPECT_EQ(s.mechanism, "GSSAPI");
  EXPECT_EQ(s.service, "zookeeper");
  EXPECT_EQ(s.serverName, endpointOf(c, m, k8s).host);
  EXPECT_NE(s.serverName.find("zk-1."), std::string::npos);
  EXPECT_EQ(s.realm, "EXAMPLE.COM");
  EXPECT_EQ(s.keytab, "/etc/zookube-keytab/keytab");
  Addressing local = Addressing::local("/state/members");
  sasl::Settings l = sasl::settingsFrom(jaas::parse(renderKerberosJaas(c, m, local)), "Server");
  EXPECT_EQ(l.keytab, "/state/members/zk-1/krb5.keytab");
  EXPECT_EQ(l.serverName, endpointOf(c, m, local).host);
}

// The Kubernetes objects for pods on loopback (the kubelet stand-in's): every path a member's
// files name is the one its container sees, under <dir>/<pod>/root, so the stand-in checks the
// pod spec's mounts against the files; the local backend's layout is not theirs.
TEST(OperatorKerberos, LoopbackPodsNameTheContainersPathsUnderTheirRoot) {
  ZkCluster c = parse(kKerberos);
  Member m = voterMember(c, 1);
  Addressing pods = Addressing::loopbackPods("/state");
  std::string cfg = renderZooCfg(c, m, {3, 0}, pods);
  for (const char* line :
       {"dataDir=/state/zk-1/root/data\n",
        "java.security.auth.login.config=/state/zk-1/root/etc/zookube-super/zk-1.jaas.conf\n",
        "metricsProvider.httpHost=127.0.0.1\n", "clientPortAddress=127.0.0.1\n"}) {
    EXPECT_NE(cfg.find(line), std::string::npos) << line << cfg;
  }
  sasl::Settings s = sasl::settingsFrom(jaas::parse(renderKerberosJaas(c, m, pods)), "Server");
  EXPECT_EQ(s.keytab, "/state/zk-1/root/etc/zookube-keytab/keytab");
  EXPECT_EQ(s.serverName, "127.0.0.1");
  EXPECT_EQ(tlsDirOf(c, m, pods), "/state/zk-1/root/etc/zookube/tls");
  std::string local = renderZooCfg(c, m, {3, 0}, Addressing::local("/state"));
  EXPECT_NE(local.find("dataDir=/state/zk-1/data\n"), std::string::npos) << local;
  EXPECT_EQ(local.find("metricsProvider.httpHost"), std::string::npos) << local;
}

// Kubernetes: the pods mount the keytab Secret's one key read-only where each member's JAAS file
// (in the members' Secret, one per member of the membership) says; a new keytab rolls them.
TEST(OperatorKerberos, PodsMountTheKeytabAndTheMembersSecretHoldsEachJaas) {
  ZkCluster c = parse(kKerberos);
  Addressing k8s = Addressing::kubernetes();
  web::json::value secret = superDigestSecret(c, "super:x", "", {3, 1}, k8s);
  for (const Member& m : members(c, {3, 1})) {
    auto bytes =
        utility::conversions::from_base64(secret.at("data").at(m.name + ".jaas.conf").as_string());
    EXPECT_EQ(std::string(bytes.begin(), bytes.end()), renderKerberosJaas(c, m, k8s)) << m.name;
  }
  EXPECT_FALSE(secret.at("data").has_field("zk-3.jaas.conf"));
  EXPECT_FALSE(secret.at("data").has_field("jaas.conf"));
  int sets = 0;
  for (const web::json::value& o : renderObjects(c, {3, 1}, k8s)) {
    if (o.at("kind").as_string() != "StatefulSet") continue;
    ++sets;
    const web::json::value& pod = o.at("spec").at("template").at("spec");
    web::json::value volume = pod.at("volumes").as_array().at(2);
    EXPECT_EQ(volume.at("name").as_string(), "keytab");
    EXPECT_EQ(volume.at("secret").at("secretName").as_string(), "zk-keytab");
    EXPECT_EQ(volume.at("secret").at("defaultMode").as_integer(), 0440);
    EXPECT_EQ(volume.at("secret").at("items").at(0).at("key").as_string(), "keytab");
    web::json::value mount = pod.at("containers").at(0).at("volumeMounts").as_array().at(3);
    EXPECT_EQ(mount.at("name").as_string(), "keytab");
    EXPECT_EQ(mount.at("mountPath").as_string(), kKeytabMountDir);
    EXPECT_TRUE(mount.at("readOnly").as_bool());
    // The replay cache on the data volume: /var/tmp is on the read-only root filesystem.
    const web::json::value& container = pod.at("containers").at(0);
    EXPECT_TRUE(container.at("securityContext").at("readOnlyRootFilesystem").as_bool());
    web::json::value rcache = container.at("env").at(1);
    EXPECT_EQ(rcache.at("name").as_string(), "KRB5RCACHEDIR");
    EXPECT_EQ(rcache.at("value").as_string(), "/data");
    EXPECT_EQ(container.at("volumeMounts").at(0).at("mountPath").as_string(), "/data");
  }
  EXPECT_EQ(sets, 2);
  auto hash = [&](const ZkCluster& cluster, const std::string& keytab) {
    return rolloutHash(cluster, k8s, memberSecretsFingerprint("super:x", "", keytab));
  };
  EXPECT_NE(hash(c, "keytab one"), hash(c, "keytab two"));
  // Only the keytab's hash, never its bytes.
  EXPECT_EQ(memberSecretsFingerprint("super:x", "", "RAW-KEY").find("RAW-KEY"), std::string::npos);
  ZkCluster other =
      parse(std::string(kKerberos).replace(std::string(kKerberos).find("EXAMPLE"), 7, "OTHER.EX"));
  EXPECT_NE(hash(c, "k"), hash(other, "k"));  // a new principal rolls the members too
}

// kerberos.krb5ConfigRef: the ConfigMap's key mounted read-only and named by KRB5_CONFIG (a stock
// image has no krb5.conf); its content's hash rolls the members, the key's name is checked.
TEST(OperatorKerberos, Krb5ConfigRefIsMountedNamedByKrb5ConfigAndRollsTheMembers) {
  ZkCluster plain = parse(kKerberos);
  EXPECT_FALSE(plain.spec.auth.kerberos->krb5ConfigRef.has_value());
  ZkCluster c = parse(std::string(kKerberos) + "      krb5ConfigRef: {name: zk-krb5}\n");
  ASSERT_TRUE(c.spec.auth.kerberos->krb5ConfigRef.has_value());
  EXPECT_EQ(*c.spec.auth.kerberos->krb5ConfigRef, (ConfigMapKeyRef{"zk-krb5", "krb5.conf"}));
  EXPECT_EQ(toJson(c.spec).at("auth").at("kerberos").at("krb5ConfigRef").at("key").as_string(),
            "krb5.conf");
  EXPECT_TRUE(
      hasError(std::string(kKerberos) + "      krb5ConfigRef: {name: m, key: 'a/b'}\n",
               "spec.auth.kerberos.krb5ConfigRef.key: must be a ConfigMap key, got \"a/b\""));
  Addressing k8s = Addressing::kubernetes();
  for (const web::json::value& o : renderObjects(c, {3, 0}, k8s)) {
    if (o.at("kind").as_string() != "StatefulSet") continue;
    const web::json::value& pod = o.at("spec").at("template").at("spec");
    const web::json::value& volume = pod.at("volumes").at(pod.at("volumes").size() - 1);
    EXPECT_EQ(volume.at("name").as_string(), "krb5-config");
    EXPECT_EQ(volume.at("configMap").at("name").as_string(), "zk-krb5");
    EXPECT_EQ(volume.at("configMap").at("items").at(0).at("key").as_string(), "krb5.conf");
    const web::json::value& container = pod.at("containers").at(0);
    const web::json::value& mount =
        container.at("volumeMounts").at(container.at("volumeMounts").size() - 1);
    EXPECT_EQ(mount.at("name").as_string(), "krb5-config");
    EXPECT_EQ(mount.at("mountPath").as_string(), kKrb5ConfigMountDir);
    EXPECT_TRUE(mount.at("readOnly").as_bool());
    const web::json::value& env = container.at("env").at(2);
    EXPECT_EQ(env.at("name").as_string(), "KRB5_CONFIG");
    EXPECT_EQ(env.at("value").as_string(), "/etc/zookube-krb5/krb5.conf");
  }
  for (const web::json::value& o : renderObjects(plain, {3, 0}, k8s)) {
    if (o.at("kind").as_string() != "StatefulSet") continue;
    const web::json::value& container =
        o.at("spec").at("template").at("spec").at("containers").at(0);
    EXPECT_EQ(container.at("env").size(), 2u);  // POD_NAME, KRB5RCACHEDIR: no KRB5_CONFIG
  }
  Member m = voterMember(c, 1);
  EXPECT_EQ(krb5ConfigFileOf(c, m, Addressing::local("/state/members")),
            "/state/members/zk-1/krb5.conf");
  EXPECT_EQ(krb5ConfigFileOf(plain, m, Addressing::local("/state/members")), "");
  auto hash = [&](const ZkCluster& cluster, const std::string& conf) {
    return rolloutHash(cluster, k8s, memberSecretsFingerprint("super:x", "", "keytab", conf));
  };
  EXPECT_NE(hash(c, "[libdefaults]\n default_realm = A\n"),
            hash(c, "[libdefaults]\n default_realm = B\n"));
  EXPECT_NE(hash(c, "x"), hash(plain, "x"));  // naming a ConfigMap changes the pod template
}

}  // namespace
}  // namespace zk::op
