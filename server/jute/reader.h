#pragma once
// Decoding of ZooKeeper's jute binary encoding: big-endian ints and longs, one-byte booleans,
// length-prefixed strings and buffers (-1 = null), count-prefixed vectors.
// Every read is bounds-checked against the frame; a short or lying frame raises DecodeError
// naming the field and the offset, never reads past the end.

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace zk::jute {

class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The bytes end before the record does (a length or count may be honest): a stream decoder
// waits for more, where any other DecodeError means the stream is malformed.
class TruncatedError : public DecodeError {
 public:
  using DecodeError::DecodeError;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  // Bytes that start `origin` bytes into a larger stream: errors name offsets in that stream.
  Reader(std::span<const std::uint8_t> bytes, std::uint64_t origin)
      : bytes_(bytes), origin_(origin) {}
  explicit Reader(std::string_view bytes)
      : bytes_(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()) {}

  std::int32_t readInt(std::string_view field);
  std::int64_t readLong(std::string_view field);
  bool readBool(std::string_view field);
  std::uint8_t readByte(std::string_view field);
  // A null string or buffer (length -1) reads as empty; ZooKeeper clients treat both alike.
  std::string readString(std::string_view field) { return std::string(readStringView(field)); }
  std::string readBuffer(std::string_view field) { return readString(field); }
  // A buffer whose null ZooKeeper keeps apart from empty (znode data): nullopt for length -1.
  std::optional<std::string> readNullableBuffer(std::string_view field);
  std::optional<std::string_view> readNullableView(std::string_view field);
  // The same bytes without a copy: valid as long as the input is.
  std::string_view readStringView(std::string_view field);
  // Vector count; -1 (null) reads as 0. Rejects counts that cannot fit in what is left.
  std::int32_t readCount(std::string_view field, std::size_t minItemSize = 1);

  std::size_t offset() const { return offset_; }
  std::size_t remaining() const { return bytes_.size() - offset_; }
  bool atEnd() const { return offset_ == bytes_.size(); }
  std::span<const std::uint8_t> rest() const { return bytes_.subspan(offset_); }
  void skip(std::size_t n, std::string_view field);

 private:
  void need(std::size_t n, std::string_view field) const;
  std::string at(std::size_t offset) const;  // " at offset N", N in the whole stream
  std::span<const std::uint8_t> bytes_;
  std::uint64_t origin_ = 0;
  std::size_t offset_ = 0;
};

template <typename T>
std::vector<T> readVector(Reader& in, std::string_view field) {
  std::int32_t count = in.readCount(field);
  std::vector<T> items;
  items.reserve(static_cast<std::size_t>(count));
  for (std::int32_t i = 0; i < count; ++i) items.push_back(T::read(in));
  return items;
}

std::vector<std::string> readStringVector(Reader& in, std::string_view field);

}  // namespace zk::jute
