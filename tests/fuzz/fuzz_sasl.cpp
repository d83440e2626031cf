// libFuzzer target: the SASL paths a client or a config file can reach. The input is read as
// a JAAS file (the parser must answer or throw ParseError), then as a client's sasl requests:
// each 4-byte big-endian length and that many bytes of GetSASLRequest body, decoded as the
// connection decodes it and fed to a Cyrus DIGEST-MD5 exchange until it fails or completes;
// and as a stream of the QuorumAuthPackets members exchange, decoded in chunks as they arrive.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "fuzz_chunks.h"
#include "jute/reader.h"
#include "jute/writer.h"
#include "sasl/jaas.h"
#include "sasl/quorum_auth_packet.h"
#include "sasl/sasl_server.h"

namespace {

constexpr const char* kJaas = R"(Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="bobsecret";
};)";

const zk::sasl::Authority& authority() {
  static const zk::sasl::Authority instance(
      zk::sasl::settingsFrom(zk::jaas::parse(kJaas), "Server"));
  return instance;
}

void parseAsJaas(std::string_view text) {
  try {
    auto config = zk::jaas::parse(text);
    zk::sasl::settingsFrom(config, "Server");
  } catch (const zk::jaas::ParseError&) {
  } catch (const zk::sasl::Error&) {
  }
}

void exchange(std::span<const std::uint8_t> bytes) {
  auto session = authority().begin();
  while (bytes.size() >= 4) {
    std::uint32_t length = zk::jute::loadBigEndian32(bytes.data());
    bytes = bytes.subspan(4);
    if (length > bytes.size()) return;
    try {
      std::string token = zk::sasl::tokenOf(bytes.first(length));
      auto step = session->evaluate(
          std::span(reinterpret_cast<const std::uint8_t*>(token.data()), token.size()));
      if (step.complete) return;
    } catch (const zk::jute::DecodeError&) {
      return;
    } catch (const zk::sasl::Error&) {
      return;
    }
    bytes = bytes.subspan(length);
  }
}

// As a quorum link reads them: whatever arrived is decoded from the front; the same packets
// must come out however the bytes are split.
void quorumAuthPackets(std::string_view bytes) {
  std::string buffered;
  zk::fuzz::feedInChunks(bytes, [&](std::string_view chunk) {
    buffered.append(chunk);
    for (;;) {
      auto decoded = zk::sasl::decodeQuorumAuthPacket(buffered, 4096);
      if (std::holds_alternative<zk::sasl::QuorumAuthMalformed>(decoded)) return false;
      if (std::holds_alternative<zk::sasl::QuorumAuthNeedMore>(decoded)) return true;
      buffered.erase(0, std::get<zk::sasl::QuorumAuthDecoded>(decoded).size);
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  parseAsJaas(zk::fuzz::asChars(data, size));
  exchange(std::span(data, size));
  quorumAuthPackets(zk::fuzz::asChars(data, size));
  return 0;
}
