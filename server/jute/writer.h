#pragma once
// Encoding into ZooKeeper's jute binary format. Appends to a growable byte string so a
// whole reply (length prefix included) is built in one buffer and written with one send.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zk::jute {

class Writer {
 public:
  Writer() = default;
  explicit Writer(std::string& out) : out_(&out) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void writeInt(std::int32_t v);
  void writeLong(std::int64_t v);
  void writeBool(bool v) { out_->push_back(v ? 1 : 0); }
  void writeByte(std::uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void writeString(std::string_view s);
  void writeBuffer(std::string_view s) { writeString(s); }
  void writeNullBuffer() { writeInt(-1); }
  void writeNullableBuffer(std::optional<std::string_view> b) {
    b ? writeBuffer(*b) : writeNullBuffer();
  }
  void writeRaw(std::string_view s) { out_->append(s); }

  // Reserves 4 bytes for a big-endian length prefix; finishFrame fills it with what follows.
  std::size_t beginFrame();
  void finishFrame(std::size_t frameStart);

  std::size_t size() const { return out_->size(); }
  std::string& bytes() { return *out_; }
  std::string take() { return std::move(*out_); }

 private:
  std::string own_;
  std::string* out_ = &own_;
};

template <typename T>
void writeVector(Writer& out, const std::vector<T>& items) {
  out.writeInt(static_cast<std::int32_t>(items.size()));
  for (const auto& item : items) item.write(out);
}

void writeStringVector(Writer& out, const std::vector<std::string>& items);

// Big-endian helpers shared by framing code outside of records.
inline std::uint32_t loadBigEndian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace zk::jute
