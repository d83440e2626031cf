#pragma once
// ZooKeeper's QuorumAuthPacket (jute record: long magic, int status, buffer token), the frame
// of the SASL exchange between ensemble members. It is not length-prefixed: a reader takes it
// from the front of what the peer sent, and whatever follows belongs to the protocol after it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace zk::sasl {

// Java's -0xa0dbcafecafe1234L: the negation wraps, so the value on the wire is positive.
inline constexpr std::int64_t kQuorumAuthMagic =
    static_cast<std::int64_t>(0ULL - 0xa0dbcafecafe1234ULL);

enum class QuorumAuthStatus : std::int32_t { InProgress = 0, Success = 1, Error = -1 };

struct QuorumAuthPacket {
  std::int32_t status = 0;           // a QuorumAuthStatus; anything else ZooKeeper reads as ERROR
  std::optional<std::string> token;  // a null buffer is nullopt
};

std::string encodeQuorumAuthPacket(QuorumAuthStatus status, std::optional<std::string_view> token);

// Whether a connection's next bytes are a QuorumAuthPacket (ZooKeeper peeks at the first long);
// nullopt until 8 bytes are there.
std::optional<bool> startsWithQuorumAuth(std::string_view buffered);

struct QuorumAuthNeedMore {};
struct QuorumAuthMalformed {
  std::string reason;
};
struct QuorumAuthDecoded {
  QuorumAuthPacket packet;
  std::size_t size = 0;  // bytes of `buffered` it took
};
// The packet at the front of `buffered`. A wrong magic, a negative length other than -1 or a
// token over maxToken bytes is malformed.
std::variant<QuorumAuthNeedMore, QuorumAuthDecoded, QuorumAuthMalformed> decodeQuorumAuthPacket(
    std::string_view buffered, std::size_t maxToken);

}  // namespace zk::sasl
