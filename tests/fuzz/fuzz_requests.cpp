// libFuzzer target: arbitrary bytes as a client's stream of frames, through the connect
// decoder, the request decoders, write preparation and reads. The pipeline must answer or
// close, never crash, and a txn it logs must always be one the tree can apply.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "jute/reader.h"
#include "pipeline/request_processor.h"

namespace {

class NullChannel : public zk::ClientChannel {
 public:
  void send(std::string) override {}
  void close(std::string_view) override { closed = true; }
  void sessionEstablished(std::int64_t id, std::int32_t) override { sessionId = id; }
  std::string remoteAddress() const override { return "127.0.0.1"; }
  bool closed = false;
  std::int64_t sessionId = 0;
};

class CountingSink : public zk::TxnSink {
 public:
  std::optional<std::int64_t> nextZxid() const override { return last + 1; }
  void append(const zk::Txn& txn) override {
    // Every logged txn must survive the log's own encoding round trip.
    if (zk::decodeTxn(zk::encodeTxn(txn)) != txn) __builtin_trap();
    last = txn.header.zxid;
  }
  std::int64_t last = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  zk::DataTree tree;
  CountingSink sink;
  std::int64_t now = 1'700'000'000'000;
  zk::ProcessorConfig config;
  config.extendedTypesEnabled = (size & 1) != 0;
  zk::RequestProcessor processor(config, tree, sink, [&] { return now; });
  auto channel = std::make_shared<NullChannel>();
  zk::ConnectRequest connect;
  connect.timeOut = 30000;
  processor.connect(channel, connect);
  processor.onDurable(sink.last);

  // Frames: 2-byte length, then a request header and body.
  std::span<const std::uint8_t> rest(data, size);
  while (rest.size() >= 2 && !channel->closed) {
    std::size_t len = (std::size_t{rest[0]} << 8 | rest[1]) % 4096;
    rest = rest.subspan(2);
    len = std::min(len, rest.size());
    auto frame = rest.first(len);
    rest = rest.subspan(len);
    if (frame.size() < 8) continue;
    zk::jute::Reader in(frame);
    auto header = zk::RequestHeader::read(in);
    processor.request(channel, channel->sessionId, header, frame.subspan(8));
    if ((header.xid & 3) == 0) processor.onDurable(sink.last);
    now += 50;
    processor.tick();
  }
  processor.onDurable(sink.last);
  return 0;
}
