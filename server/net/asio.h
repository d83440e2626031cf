#pragma once
// Boost 1.74's Asio uses std::exchange without including <utility>; include it first.
#include <utility>

#include <boost/asio.hpp>

namespace zk {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
}  // namespace zk
