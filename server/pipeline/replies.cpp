#include "pipeline/replies.h"

#include "jute/writer.h"
#include "protocol/opcodes.h"

namespace zk {

std::string replyFrame(std::int32_t xid, std::int64_t zxid, Err err, std::string_view body) {
  jute::Writer out;
  std::size_t frame = out.beginFrame();
  ReplyHeader{xid, zxid, static_cast<std::int32_t>(err)}.write(out);
  out.writeRaw(body);
  out.finishFrame(frame);
  return out.take();
}

namespace {
constexpr std::size_t kZxidOffset = 4 + 4;  // after the frame length and the xid
constexpr std::size_t kErrOffset = kZxidOffset + 8;
}  // namespace

void setReplyZxid(std::string& frame, std::int64_t zxid) {
  if (frame.size() < kErrOffset) return;
  for (std::size_t i = 0; i < 8; ++i)
    frame[kZxidOffset + i] = static_cast<char>(static_cast<std::uint64_t>(zxid) >> (56 - 8 * i));
}

std::int32_t replyError(std::string_view frame) {
  if (frame.size() < kErrOffset + 4) return 0;
  return static_cast<std::int32_t>(
      jute::loadBigEndian32(reinterpret_cast<const std::uint8_t*>(frame.data()) + kErrOffset));
}

std::string notificationFrame(const WatcherEvent& event) {
  jute::Writer out;
  std::size_t frame = out.beginFrame();
  ReplyHeader{xid::kNotification, -1, 0}.write(out);
  event.write(out);
  out.finishFrame(frame);
  return out.take();
}

std::string connectFrame(const ConnectResponse& response) {
  jute::Writer out;
  std::size_t frame = out.beginFrame();
  response.write(out);
  out.finishFrame(frame);
  return out.take();
}

std::string expiredSessionFrame(bool withReadOnlyByte) {
  ConnectResponse response;
  response.passwd = std::string(16, '\0');
  response.withReadOnlyByte = withReadOnlyByte;
  return connectFrame(response);
}

namespace {

void writeOpResult(std::int32_t type, const std::string& path, const Stat& stat,
                   jute::Writer& out) {
  switch (static_cast<OpCode>(type)) {
    case OpCode::kCreate:
      out.writeString(path);
      break;
    case OpCode::kCreate2:
    case OpCode::kCreateTTL:
    case OpCode::kCreateContainer:
      out.writeString(path);
      stat.write(out);
      break;
    case OpCode::kSetData:
    case OpCode::kSetACL:
      stat.write(out);
      break;
    default:  // delete, check, closeSession: no body
      break;
  }
}

}  // namespace

std::string writeResponseBody(std::int32_t op, const ApplyResult& result) {
  jute::Writer out;
  if (op != static_cast<int>(OpCode::kMulti)) {
    if (op == static_cast<int>(OpCode::kCheck)) {
      result.stat.write(out);
    } else {
      writeOpResult(op, result.path, result.stat, out);
    }
    return out.take();
  }
  for (const auto& sub : result.multi) {
    if (sub.err != Err::kOk || sub.type == static_cast<int>(OpCode::kError)) {
      auto err = static_cast<std::int32_t>(sub.err);
      MultiHeader{static_cast<int>(OpCode::kError), false, err}.write(out);
      out.writeInt(err);
      continue;
    }
    // ZooKeeper reports a create with a stat (container, TTL) as a create2.
    bool withStat = sub.type == static_cast<int>(OpCode::kCreateContainer) ||
                    sub.type == static_cast<int>(OpCode::kCreateTTL);
    MultiHeader{withStat ? static_cast<int>(OpCode::kCreate2) : sub.type, false, 0}.write(out);
    writeOpResult(sub.type, sub.path, sub.stat, out);
  }
  MultiHeader{-1, true, -1}.write(out);
  return out.take();
}

}  // namespace zk
