#pragma once
// The four-letter words ZooKeeper 3.8 knows (FourLetterCommands); "*" in the whitelist means
// all of them. Kept here so that the configuration can check a whitelist without the network
// layer, which maps the 32-bit codes to these names.

#include <array>
#include <string_view>

namespace zk {

inline constexpr std::array<std::string_view, 18> kFourLetterWords{
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk",
    "srst", "srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash"};

}  // namespace zk
