// libFuzzer target: arbitrary bytes as what arrives on the election port: the initial message,
// then framed notifications, decoded and handed to a looking zab::Peer as votes from members
// and from a stranger. A bad frame may be dropped, never crash the member.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_chunks.h"
#include "zab/peer.h"

namespace {

using namespace zk::zab;

PeerConfig threeMembers() {
  PeerConfig config;
  config.mySid = 1;
  config.members = {{1, Role::Participant}, {2, Role::Participant}, {3, Role::Observer}};
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  PersistedState state;
  state.acceptedEpoch = state.currentEpoch = 1;
  Peer peer(threeMembers(), state, 0);
  peer.takeActions();
  ElectionStreamDecoder decoder;
  std::int64_t now = 0;
  std::int64_t frames = 0;
  zk::fuzz::feedInChunks(zk::fuzz::asChars(data, size), [&](std::string_view chunk) {
    decoder.feed(chunk);
    for (;;) {
      auto next = decoder.next();
      if (std::holds_alternative<NeedMore>(next)) return true;
      if (std::holds_alternative<Malformed>(next)) return false;
      if (std::holds_alternative<InitialMessage>(next)) continue;
      auto vote = decodeNotification(std::get<std::string>(next));
      if (auto* n = std::get_if<Notification>(&vote)) {
        // Members 2 and 3, and 4 which the configuration does not know.
        peer.onVote(2 + frames++ % 3, *n);
      }
      now += 150;
      peer.tick(now);
      peer.takeActions();
    }
  });
  return 0;
}
