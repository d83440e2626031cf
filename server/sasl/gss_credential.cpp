#include "sasl/gss_credential.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include <array>
#include <optional>
#include <span>
#include <vector>

namespace zk::sasl {

struct GssCredential::Acquired {
  gss_cred_id_t handle = GSS_C_NO_CREDENTIAL;
  std::string name;
};

namespace {

// GSS-API's own words for a failure: the routine's, then the mechanism's (Kerberos) reason.
std::string statusText(OM_uint32 major, OM_uint32 minor) {
  std::string text;
  for (auto [code, type] : {std::pair{major, GSS_C_GSS_CODE}, std::pair{minor, GSS_C_MECH_CODE}}) {
    if (code == 0) continue;
    OM_uint32 context = 0;
    do {
      OM_uint32 ignored = 0;
      gss_buffer_desc message = GSS_C_EMPTY_BUFFER;
      if (gss_display_status(&ignored, code, type, GSS_C_NO_OID, &context, &message) != 0) break;
      if (!text.empty()) text += ": ";
      text.append(static_cast<const char*>(message.value), message.length);
      gss_release_buffer(&ignored, &message);
    } while (context != 0);
  }
  return text;
}

class Name {
 public:
  Name(const std::string& text, gss_OID type) {
    gss_buffer_desc buffer{text.size(), const_cast<char*>(text.data())};
    OM_uint32 minor = 0;
    OM_uint32 major = gss_import_name(&minor, &buffer, type, &name_);
    if (GSS_ERROR(major)) throw Error("Kerberos name '" + text + "': " + statusText(major, minor));
  }
  ~Name() {
    OM_uint32 ignored = 0;
    if (name_ != GSS_C_NO_NAME) gss_release_name(&ignored, &name_);
  }
  Name(const Name&) = delete;
  Name& operator=(const Name&) = delete;
  gss_name_t get() const { return name_; }

 private:
  gss_name_t name_ = GSS_C_NO_NAME;
};

std::string displayName(gss_cred_id_t handle) {
  OM_uint32 minor = 0;
  gss_name_t name = GSS_C_NO_NAME;
  if (GSS_ERROR(gss_inquire_cred(&minor, handle, &name, nullptr, nullptr, nullptr))) return {};
  gss_buffer_desc text = GSS_C_EMPTY_BUFFER;
  std::string result;
  if (!GSS_ERROR(gss_display_name(&minor, name, &text, nullptr)))
    result.assign(static_cast<const char*>(text.value), text.length);
  gss_release_buffer(&minor, &text);
  gss_release_name(&minor, &name);
  return result;
}

// `name` GSS_C_NO_NAME: whoever the store's credentials belong to (a ticket cache's principal).
std::shared_ptr<GssCredential> acquire(gss_name_t name, gss_cred_usage_t usage,
                                       std::span<gss_key_value_element_desc> store,
                                       const std::string& what) {
  gss_OID_set_desc kerberos{1, gss_mech_krb5};
  gss_key_value_set_desc from{static_cast<OM_uint32>(store.size()), store.data()};
  GssCredential::Acquired acquired;
  OM_uint32 minor = 0;
  OM_uint32 major = gss_acquire_cred_from(&minor, name, GSS_C_INDEFINITE, &kerberos, usage,
                                          store.empty() ? GSS_C_NO_CRED_STORE : &from,
                                          &acquired.handle, nullptr, nullptr);
  if (GSS_ERROR(major)) throw Error(what + ": " + statusText(major, minor));
  acquired.name = displayName(acquired.handle);
  return std::make_shared<GssCredential>(acquired);
}

}  // namespace

GssCredential::GssCredential(const Acquired& acquired)
    : handle_(acquired.handle), name_(acquired.name) {}

GssCredential::~GssCredential() {
  OM_uint32 ignored = 0;
  auto handle = static_cast<gss_cred_id_t>(handle_);
  if (handle != GSS_C_NO_CREDENTIAL) gss_release_cred(&ignored, &handle);
}

std::shared_ptr<GssCredential> GssCredential::initiator(const std::string& principal,
                                                        const std::string& keytab) {
  // One memory cache per principal: the TGT and service tickets outlive a single exchange.
  std::string cache = "MEMORY:zookube-" + principal;
  std::array store{gss_key_value_element_desc{"ccache", cache.c_str()},
                   gss_key_value_element_desc{"client_keytab", keytab.c_str()}};
  return acquire(Name(principal, GSS_KRB5_NT_PRINCIPAL_NAME).get(), GSS_C_INITIATE, store,
                 "cannot log in as " + principal + " from keytab " + keytab);
}

std::shared_ptr<GssCredential> GssCredential::fromTicketCache(const std::string& principal,
                                                              const std::string& cache) {
  std::optional<Name> name;
  if (!principal.empty()) name.emplace(principal, GSS_KRB5_NT_PRINCIPAL_NAME);
  std::vector<gss_key_value_element_desc> store;
  if (!cache.empty()) store.push_back({"ccache", cache.c_str()});
  std::string whose = principal.empty() ? "" : " as " + principal;
  std::string where = cache.empty() ? "the default ticket cache" : "ticket cache " + cache;
  return acquire(name ? name->get() : GSS_C_NO_NAME, GSS_C_INITIATE, store,
                 "cannot log in" + whose + " from " + where);
}

std::shared_ptr<GssCredential> GssCredential::acceptor(const std::string& service,
                                                       const std::string& host,
                                                       const std::string& keytab) {
  std::array store{gss_key_value_element_desc{"keytab", keytab.c_str()}};
  return acquire(Name(service + "@" + host, GSS_C_NT_HOSTBASED_SERVICE).get(), GSS_C_ACCEPT, store,
                 "no key for " + service + "/" + host + " in keytab " + keytab);
}

}  // namespace zk::sasl
