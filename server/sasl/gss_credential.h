#pragma once
// A Kerberos credential for Cyrus SASL's GSSAPI mechanism, acquired through MIT's GSS-API from a
// keytab named in a JAAS section (keyTab=), and handed to a SASL connection as SASL_GSS_CREDS.
// Naming the keytab per credential (rather than through KRB5_KTNAME / KRB5_CLIENT_KTNAME) lets a
// member use one keytab for its client port and others for the quorum, and names the exact
// principal its JAAS section does. Initiator credentials keep their tickets in a memory cache of
// their own, so the KDC is asked once per ticket lifetime, not once per connection.

#include <memory>
#include <string>

#include "sasl/sasl_server.h"

namespace zk::sasl {

class GssCredential {
 public:
  // The learner's: logs in as `principal` ("name[/host][@REALM]") from `keytab` when a ticket is
  // first needed. Throws Error when the keytab cannot serve that principal.
  static std::shared_ptr<GssCredential> initiator(const std::string& principal,
                                                  const std::string& keytab);
  // The learner's, from the tickets someone else obtained (kinit), as Krb5LoginModule's
  // useTicketCache: `cache` empty is GSS-API's default one (KRB5CCNAME); `principal` empty is
  // whoever the cache holds. The tickets are not renewed here. Throws Error when the cache has
  // no ticket-granting ticket for the principal.
  static std::shared_ptr<GssCredential> fromTicketCache(const std::string& principal,
                                                        const std::string& cache);
  // The acceptor's: the key of service/host from `keytab`. Throws Error when it has none.
  static std::shared_ptr<GssCredential> acceptor(const std::string& service,
                                                 const std::string& host,
                                                 const std::string& keytab);
  ~GssCredential();
  GssCredential(const GssCredential&) = delete;
  GssCredential& operator=(const GssCredential&) = delete;

  // The gss_cred_id_t, for sasl_setprop(SASL_GSS_CREDS). MIT locks it internally, so exchanges
  // on several threads may share it.
  const void* handle() const { return handle_; }
  // The principal it stands for, with its realm ("zkquorum/host@REALM").
  const std::string& name() const { return name_; }

  struct Acquired;  // what the acquisition gives; defined where the GSS-API types are known
  explicit GssCredential(const Acquired& acquired);

 private:
  void* handle_ = nullptr;
  std::string name_;
};

}  // namespace zk::sasl
