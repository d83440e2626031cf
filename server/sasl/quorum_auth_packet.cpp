#include "sasl/quorum_auth_packet.h"

#include "jute/reader.h"
#include "jute/writer.h"

namespace zk::sasl {
namespace {
constexpr std::size_t kHeaderSize = 8 + 4 + 4;  // magic, status, token length
}

std::string encodeQuorumAuthPacket(QuorumAuthStatus status, std::optional<std::string_view> token) {
  std::string out;
  jute::Writer w(out);
  w.writeLong(kQuorumAuthMagic);
  w.writeInt(static_cast<std::int32_t>(status));
  w.writeNullableBuffer(token);
  return out;
}

std::optional<bool> startsWithQuorumAuth(std::string_view buffered) {
  if (buffered.size() < 8) return std::nullopt;
  return jute::Reader(buffered.substr(0, 8)).readLong("magic") == kQuorumAuthMagic;
}

std::variant<QuorumAuthNeedMore, QuorumAuthDecoded, QuorumAuthMalformed> decodeQuorumAuthPacket(
    std::string_view buffered, std::size_t maxToken) {
  if (buffered.size() < kHeaderSize) return QuorumAuthNeedMore{};
  jute::Reader in(buffered.substr(0, kHeaderSize));
  std::int64_t magic = in.readLong("magic");
  if (magic != kQuorumAuthMagic) return QuorumAuthMalformed{"not a quorum auth packet"};
  QuorumAuthDecoded out;
  out.packet.status = in.readInt("status");
  std::int32_t length = in.readInt("token length");
  out.size = kHeaderSize;
  if (length == -1) return out;
  if (length < 0) return QuorumAuthMalformed{"negative token length"};
  auto size = static_cast<std::size_t>(length);
  if (size > maxToken)
    return QuorumAuthMalformed{"a token of " + std::to_string(size) + " bytes (at most " +
                               std::to_string(maxToken) + ")"};
  if (buffered.size() < kHeaderSize + size) return QuorumAuthNeedMore{};
  out.packet.token = std::string(buffered.substr(kHeaderSize, size));
  out.size += size;
  return out;
}

}  // namespace zk::sasl
