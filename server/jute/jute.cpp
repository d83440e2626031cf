#include "jute/reader.h"
#include "jute/writer.h"

#include <cstring>
#include <limits>

namespace zk::jute {

std::string Reader::at(std::size_t offset) const {
  return " at offset " + std::to_string(origin_ + offset);
}

void Reader::need(std::size_t n, std::string_view field) const {
  if (remaining() < n) {
    throw TruncatedError("truncated record: field '" + std::string(field) + "' needs " +
                         std::to_string(n) + " bytes" + at(offset_) + ", only " +
                         std::to_string(remaining()) + " left");
  }
}

void Reader::skip(std::size_t n, std::string_view field) {
  need(n, field);
  offset_ += n;
}

std::uint8_t Reader::readByte(std::string_view field) {
  need(1, field);
  return bytes_[offset_++];
}

bool Reader::readBool(std::string_view field) {
  return readByte(field) != 0;
}

std::int32_t Reader::readInt(std::string_view field) {
  need(4, field);
  std::uint32_t v = loadBigEndian32(bytes_.data() + offset_);
  offset_ += 4;
  return static_cast<std::int32_t>(v);
}

std::int64_t Reader::readLong(std::string_view field) {
  need(8, field);
  std::uint64_t hi = loadBigEndian32(bytes_.data() + offset_);
  std::uint64_t lo = loadBigEndian32(bytes_.data() + offset_ + 4);
  offset_ += 8;
  return static_cast<std::int64_t>((hi << 32) | lo);
}

std::string_view Reader::readStringView(std::string_view field) {
  std::int32_t len = readInt(field);
  if (len == -1) return {};
  if (len < 0) {
    throw DecodeError("bad length " + std::to_string(len) + " for field '" + std::string(field) +
                      "'" + at(offset_ - 4));
  }
  need(static_cast<std::size_t>(len), field);
  std::string_view s(reinterpret_cast<const char*>(bytes_.data() + offset_),
                     static_cast<std::size_t>(len));
  offset_ += static_cast<std::size_t>(len);
  return s;
}

std::optional<std::string> Reader::readNullableBuffer(std::string_view field) {
  auto view = readNullableView(field);
  if (!view) return std::nullopt;
  return std::string(*view);
}

std::optional<std::string_view> Reader::readNullableView(std::string_view field) {
  std::size_t start = offset_;
  if (readInt(field) == -1) return std::nullopt;
  offset_ = start;
  return readStringView(field);
}

std::int32_t Reader::readCount(std::string_view field, std::size_t minItemSize) {
  std::int32_t count = readInt(field);
  if (count == -1) return 0;
  if (count < 0 || static_cast<std::size_t>(count) * minItemSize > remaining()) {
    std::string what = "bad element count " + std::to_string(count) + " for vector '" +
                       std::string(field) + "'" + at(offset_ - 4) + " with " +
                       std::to_string(remaining()) + " bytes left";
    if (count < 0) throw DecodeError(what);
    throw TruncatedError(what);
  }
  return count;
}

std::vector<std::string> readStringVector(Reader& in, std::string_view field) {
  std::int32_t count = in.readCount(field, 4);
  std::vector<std::string> items;
  items.reserve(static_cast<std::size_t>(count));
  for (std::int32_t i = 0; i < count; ++i) items.push_back(in.readString(field));
  return items;
}

void Writer::writeInt(std::int32_t v) {
  auto u = static_cast<std::uint32_t>(v);
  char b[4] = {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
               static_cast<char>(u)};
  out_->append(b, 4);
}

void Writer::writeLong(std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  writeInt(static_cast<std::int32_t>(u >> 32));
  writeInt(static_cast<std::int32_t>(u & 0xffffffffu));
}

void Writer::writeString(std::string_view s) {
  writeInt(static_cast<std::int32_t>(s.size()));
  out_->append(s);
}

std::size_t Writer::beginFrame() {
  std::size_t start = out_->size();
  writeInt(0);
  return start;
}

void Writer::finishFrame(std::size_t frameStart) {
  auto len = static_cast<std::uint32_t>(out_->size() - frameStart - 4);
  (*out_)[frameStart] = static_cast<char>(len >> 24);
  (*out_)[frameStart + 1] = static_cast<char>(len >> 16);
  (*out_)[frameStart + 2] = static_cast<char>(len >> 8);
  (*out_)[frameStart + 3] = static_cast<char>(len);
}

void writeStringVector(Writer& out, const std::vector<std::string>& items) {
  out.writeInt(static_cast<std::int32_t>(items.size()));
  for (const auto& s : items) out.writeString(s);
}

}  // namespace zk::jute
