#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <source_location>
#include <system_error>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "json_reader.h"
#include "nn/error.h"
#include "nn/io.h"
#include "temporary_file.h"

namespace nn {

// Tensor bytes are copied as they lie in memory, which is the file's byte order only on
// little-endian hosts.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

// Ordered so that a header is written, and read back, in the order its tensors were given.
using Json = nlohmann::ordered_json;

constexpr std::size_t kLengthBytes = 8;
// The reference implementation refuses larger headers too; the limit keeps a corrupt
// length from allocating gigabytes.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kMetadataKey = "__metadata__";

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) {
    return DType::f32;
  } else if constexpr (std::is_same_v<T, double>) {
    return DType::f64;
  } else {
    static_assert(std::is_same_v<T, std::int64_t>, "model files hold float, double or std::int64_t");
    return DType::i64;
  }
}

std::optional<DType> parse_dtype(const std::string& text) {
  for (const DType dtype : {DType::f32, DType::f64, DType::i64}) {
    if (text == to_string(dtype)) return dtype;
  }
  return std::nullopt;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += str(i ? ", " : "", shape[i]);
  return text + "]";
}

// Elements in shape, or nullopt when a dimension is negative or the product overflows.
std::optional<std::uint64_t> checked_element_count(const std::vector<std::int64_t>& shape) {
  if (std::ranges::any_of(shape, [](std::int64_t d) { return d < 0; })) return std::nullopt;
  if (std::ranges::find(shape, 0) != shape.end()) return 0;
  std::uint64_t count = 1;
  for (const std::int64_t d : shape) {
    if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(d), &count)) return std::nullopt;
  }
  if (count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  return count;
}

// Bytes the tensor's shape and dtype call for, or nullopt when that does not fit in 64 bits.
std::optional<std::uint64_t> expected_bytes(const std::vector<std::int64_t>& shape, DType dtype) {
  const auto count = checked_element_count(shape);
  std::uint64_t bytes = 0;
  if (!count || __builtin_mul_overflow(*count, dtype_size(dtype), &bytes)) return std::nullopt;
  return bytes;
}

template <class T>
NamedTensor make_tensor_of(std::string name, std::vector<std::int64_t> shape, std::span<const T> values) {
  const auto count = checked_element_count(shape);
  if (!count || *count != values.size()) {
    throw Error(str("tensor '", name, "': shape ", shape_text(shape), " does not hold ", values.size(), " values"));
  }
  NamedTensor tensor{std::move(name), dtype_of<T>(), std::move(shape), {}};
  const auto raw = std::as_bytes(values);
  tensor.bytes.assign(raw.begin(), raw.end());
  return tensor;
}

std::string os_error() { return std::generic_category().message(errno); }

// nlohmann's message without its "[json.exception.parse_error.101] " prefix, which means
// nothing to the person whose file it is.
// Closes a POSIX file descriptor on every way out of a scope, exceptions included.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Hands the descriptor over, for callers that must see close() fail.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// ---- Writing ----------------------------------------------------------------------------

[[noreturn]] void fail_write(const std::filesystem::path& path, const std::string& problem,
                             std::source_location where = std::source_location::current()) {
  throw Error(str("cannot write safetensors file ", path, ": ", problem), where);
}

void check_writable(const std::filesystem::path& path, const SafetensorsFile& file) {
  std::set<std::string_view> names;
  for (const NamedTensor& tensor : file.tensors) {
    if (tensor.name == kMetadataKey) {
      fail_write(path, str("'", kMetadataKey, "' is reserved for the metadata"));
    }
    if (!names.insert(tensor.name).second) fail_write(path, str("tensor '", tensor.name, "' appears twice"));
    const auto needed = expected_bytes(tensor.shape, tensor.dtype);
    if (!needed) {
      fail_write(path, str("tensor '", tensor.name, "' has invalid shape ", shape_text(tensor.shape)));
    }
    if (*needed != tensor.bytes.size()) {
      fail_write(path, str("tensor '", tensor.name, "' has ", tensor.bytes.size(), " bytes but shape ",
                           shape_text(tensor.shape), " of ", to_string(tensor.dtype), " needs ", *needed));
    }
  }
}

// The JSON header, padded with spaces so the data starts 8-byte aligned (as the reference
// implementation writes it).
std::string header_text(const std::filesystem::path& path, const SafetensorsFile& file) {
  Json header = Json::object();
  if (!file.metadata.empty()) header[kMetadataKey] = file.metadata;
  std::uint64_t offset = 0;
  for (const NamedTensor& tensor : file.tensors) {
    const std::uint64_t end = offset + tensor.bytes.size();
    header[tensor.name] = {
        {"dtype", to_string(tensor.dtype)}, {"shape", tensor.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::type_error& e) {
    fail_write(path, str("a tensor name or metadata entry is not valid UTF-8 (", json_reason(e), ")"));
  }
  text.append((kLengthBytes - text.size() % kLengthBytes) % kLengthBytes, ' ');
  return text;
}

std::array<std::byte, kLengthBytes> little_endian(std::uint64_t value) {
  std::array<std::byte, kLengthBytes> bytes{};
  for (std::size_t i = 0; i < kLengthBytes; ++i) bytes[i] = static_cast<std::byte>(value >> (8 * i));
  return bytes;
}

// Writes all of `data`, resuming after short writes and interruptions.
void write_all(const Descriptor& out, std::span<const std::byte> data, const std::filesystem::path& path,
               const std::filesystem::path& temporary) {
  while (!data.empty()) {
    const ssize_t written = ::write(out.get(), data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) fail_write(path, str("writing ", temporary, " failed: ", os_error()));
    data = data.subspan(static_cast<std::size_t>(written));
  }
}

// ---- Reading ----------------------------------------------------------------------------

struct Entry {
  NamedTensor tensor;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

class Reader {
 public:
  explicit Reader(std::filesystem::path path) : path_(std::move(path)) {}

  SafetensorsFile read() const {
    const std::vector<std::byte> content = read_all();
    const std::uint64_t header_bytes = header_length(content);
    const std::string_view text(reinterpret_cast<const char*>(content.data()) + kLengthBytes, header_bytes);
    const std::span<const std::byte> data = std::span(content).subspan(kLengthBytes + header_bytes);
    const Json header = parse_header(text);

    SafetensorsFile file;
    file.source = path_;
    std::vector<Entry> entries;
    for (const auto& [key, value] : header.items()) {
      if (key == kMetadataKey) {
        file.metadata = parse_metadata(value);
      } else {
        entries.push_back(parse_entry(key, value, data.size()));
      }
    }
    check_layout(entries, data.size());
    for (Entry& entry : entries) {
      const auto bytes = data.subspan(entry.begin, entry.end - entry.begin);
      entry.tensor.bytes.assign(bytes.begin(), bytes.end());
      file.tensors.push_back(std::move(entry.tensor));
    }
    return file;
  }

 private:
  [[noreturn]] void fail(const std::string& problem,
                         std::source_location where = std::source_location::current()) const {
    throw Error(str("safetensors file ", path_, ": ", problem), where);
  }

  std::vector<std::byte> read_all() const {
    const Descriptor file(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.valid()) fail(str("cannot open: ", os_error()));
    std::vector<std::byte> content;
    std::array<std::byte, 1 << 16> chunk{};
    for (;;) {
      const ssize_t got = ::read(file.get(), chunk.data(), chunk.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail(str("reading failed: ", os_error()));
      if (got == 0) return content;
      content.insert(content.end(), chunk.begin(), chunk.begin() + got);
    }
  }

  std::uint64_t header_length(const std::vector<std::byte>& content) const {
    if (content.size() < kLengthBytes) {
      fail(str("truncated: ", content.size(), " bytes, too short for the 8-byte header length"));
    }
    std::uint64_t length = 0;
    for (std::size_t i = 0; i < kLengthBytes; ++i) {
      length |= std::to_integer<std::uint64_t>(content[i]) << (8 * i);
    }
    const std::uint64_t available = content.size() - kLengthBytes;
    if (length > available) {
      fail(str("header length ", length, " is larger than the ", available,
               " bytes that follow it (truncated, or not a safetensors file)"));
    }
    if (length > kMaxHeaderBytes) {
      fail(str("header length ", length, " exceeds the limit of ", kMaxHeaderBytes));
    }
    return length;
  }

  // nlohmann keeps the last of two equal keys; a callback sees every key, so duplicates
  // are caught instead of silently dropping a tensor.
  Json parse_header(std::string_view text) const {
    std::vector<std::set<std::string>> open_objects;
    std::string duplicate;
    const auto watch = [&](int, Json::parse_event_t event, Json& parsed) {
      if (event == Json::parse_event_t::object_start) {
        open_objects.emplace_back();
      } else if (event == Json::parse_event_t::object_end) {
        open_objects.pop_back();
      } else if (event == Json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second &&
                 duplicate.empty()) {
        duplicate = parsed.get<std::string>();
      }
      return true;
    };
    Json header;
    try {
      header = parse_json<Json>(text, watch);
    } catch (const JsonSyntaxError& e) {
      fail(str("header is not valid JSON: ", e.what()));
    }
    if (!duplicate.empty()) fail(str("header has the key '", duplicate, "' twice"));
    if (!header.is_object()) fail(str("header must be a JSON object, not ", header.type_name()));
    return header;
  }

  std::map<std::string, std::string> parse_metadata(const Json& value) const {
    if (!value.is_object()) fail(str("'", kMetadataKey, "' must be an object, not ", value.type_name()));
    std::map<std::string, std::string> metadata;
    for (const auto& [key, entry] : value.items()) {
      if (!entry.is_string()) fail(str("metadata '", key, "' must be a string, not ", entry.type_name()));
      metadata.emplace(key, entry.get<std::string>());
    }
    return metadata;
  }

  // A JSON array of non-negative integers that fit in an int64_t.
  std::vector<std::int64_t> parse_integers(const std::string& name, const char* field, const Json& value) const {
    if (!value.is_array()) fail(str("tensor '", name, "': '", field, "' is not an array"));
    std::vector<std::int64_t> numbers;
    for (const Json& number : value) {
      if (!number.is_number_unsigned() ||
          number.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        fail(str("tensor '", name, "': '", field, "' holds ", number.dump(), ", not a non-negative integer"));
      }
      numbers.push_back(number.get<std::int64_t>());
    }
    return numbers;
  }

  Entry parse_entry(const std::string& name, const Json& info, std::uint64_t data_bytes) const {
    if (!info.is_object()) fail(str("tensor '", name, "' must be an object, not ", info.type_name()));
    for (const auto& [key, value] : info.items()) {
      if (key != "dtype" && key != "shape" && key != "data_offsets") {
        fail(str("tensor '", name, "': unknown key '", key, "'"));
      }
    }
    for (const char* key : {"dtype", "shape", "data_offsets"}) {
      if (!info.contains(key)) fail(str("tensor '", name, "' has no '", key, "'"));
    }
    const Json& dtype_json = info["dtype"];
    const auto dtype = dtype_json.is_string() ? parse_dtype(dtype_json.get<std::string>()) : std::nullopt;
    if (!dtype) {
      fail(str("tensor '", name, "' has dtype ", dtype_json.dump(), "; starnn reads F32, F64 and I64"));
    }

    Entry entry{{name, *dtype, parse_integers(name, "shape", info["shape"]), {}}};
    const auto offsets = parse_integers(name, "data_offsets", info["data_offsets"]);
    if (offsets.size() != 2) {
      fail(str("tensor '", name, "': 'data_offsets' needs 2 numbers, not ", offsets.size()));
    }
    entry.begin = static_cast<std::uint64_t>(offsets[0]);
    entry.end = static_cast<std::uint64_t>(offsets[1]);
    const std::string range = str("data_offsets [", entry.begin, ", ", entry.end, "]");
    if (entry.begin > entry.end) fail(str("tensor '", name, "': ", range, " end before they begin"));
    if (entry.end > data_bytes) {
      fail(str("tensor '", name, "': ", range, " run past the ", data_bytes, " bytes of tensor data"));
    }
    const auto needed = expected_bytes(entry.tensor.shape, *dtype);
    if (!needed || *needed != entry.end - entry.begin) {
      fail(str("tensor '", name, "': shape ", shape_text(entry.tensor.shape), " of ", to_string(*dtype),
               " does not fit ", range, " (", entry.end - entry.begin, " bytes)"));
    }
    return entry;
  }

  // Tensors must tile the data exactly, as the reference implementation demands: a gap
  // or an overlap means the header and the data disagree.
  void check_layout(std::vector<Entry>& entries, std::uint64_t data_bytes) const {
    std::ranges::stable_sort(
        entries, [](const Entry& a, const Entry& b) { return std::pair(a.begin, a.end) < std::pair(b.begin, b.end); });
    std::uint64_t position = 0;
    const std::string* previous = nullptr;
    for (const Entry& entry : entries) {
      if (entry.begin < position) {
        fail(str("tensor '", entry.tensor.name, "' overlaps tensor '", *previous, "' (bytes ", entry.begin, " to ",
                 position, ")"));
      }
      if (entry.begin > position) {
        fail(str("bytes ", position, " to ", entry.begin, " of the tensor data belong to no tensor"));
      }
      position = entry.end;
      previous = &entry.tensor.name;
    }
    if (position != data_bytes) {
      fail(str(data_bytes - position, " bytes of tensor data after the last tensor belong to no tensor"));
    }
  }

  std::filesystem::path path_;
};

std::string source_text(const SafetensorsFile& file) {
  return file.source.empty() ? std::string("the model") : str("safetensors file ", file.source);
}

}  // namespace

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::i64:
      return "I64";
  }
  throw Error(str("invalid DType ", static_cast<int>(dtype)));
}

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::i64:
      return 8;
  }
  throw Error(str("invalid DType ", static_cast<int>(dtype)));
}

std::int64_t NamedTensor::element_count() const {
  const auto count = checked_element_count(shape);
  if (!count) throw Error(str("tensor '", name, "' has invalid shape ", shape_text(shape)));
  return static_cast<std::int64_t>(*count);
}

template <class T>
std::vector<T> NamedTensor::values() const {
  if (dtype != dtype_of<T>()) {
    throw Error(str("tensor '", name, "' holds ", to_string(dtype), " values, not ", to_string(dtype_of<T>())));
  }
  const auto count = static_cast<std::size_t>(element_count());
  if (bytes.size() != count * sizeof(T)) {
    throw Error(str("tensor '", name, "' has ", bytes.size(), " bytes but shape ", shape_text(shape), " of ",
                    to_string(dtype), " needs ", count * sizeof(T)));
  }
  std::vector<T> out(count);
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

template <class T>
std::vector<T> NamedTensor::values(const std::vector<std::int64_t>& expected_shape) const {
  if (shape != expected_shape) {
    throw Error(str("tensor '", name, "' has shape ", shape_text(shape), ", expected ", shape_text(expected_shape)));
  }
  return values<T>();
}

template std::vector<float> NamedTensor::values<float>() const;
template std::vector<double> NamedTensor::values<double>() const;
template std::vector<std::int64_t> NamedTensor::values<std::int64_t>() const;
template std::vector<float> NamedTensor::values<float>(const std::vector<std::int64_t>&) const;
template std::vector<double> NamedTensor::values<double>(const std::vector<std::int64_t>&) const;
template std::vector<std::int64_t> NamedTensor::values<std::int64_t>(const std::vector<std::int64_t>&) const;

NamedTensor make_tensor(std::string name, std::vector<std::int64_t> shape, std::span<const float> values) {
  return make_tensor_of(std::move(name), std::move(shape), values);
}

NamedTensor make_tensor(std::string name, std::vector<std::int64_t> shape, std::span<const double> values) {
  return make_tensor_of(std::move(name), std::move(shape), values);
}

NamedTensor make_tensor(std::string name, std::vector<std::int64_t> shape, std::span<const std::int64_t> values) {
  return make_tensor_of(std::move(name), std::move(shape), values);
}

const NamedTensor* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::ranges::find(tensors, name, &NamedTensor::name);
  return it == tensors.end() ? nullptr : &*it;
}

const NamedTensor& SafetensorsFile::tensor(std::string_view name) const {
  const NamedTensor* found = find(name);
  if (!found) throw Error(str(source_text(*this), " has no tensor '", name, "'"));
  return *found;
}

const std::string& SafetensorsFile::metadata_value(const std::string& key) const {
  const auto it = metadata.find(key);
  if (it == metadata.end()) throw Error(str(source_text(*this), " has no metadata '", key, "'"));
  return it->second;
}

void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file) {
  check_writable(path, file);
  const std::string header = header_text(path, file);
  TemporaryFile temporary(path, str("safetensors file ", path));
  const std::filesystem::path& written = temporary.path();
  {
    Descriptor out(::open(written.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    if (!out.valid()) fail_write(path, str("cannot create ", written, ": ", os_error()));
    const auto put = [&](std::span<const std::byte> data) { write_all(out, data, path, written); };
    put(little_endian(header.size()));
    put(std::as_bytes(std::span(header)));
    for (const NamedTensor& tensor : file.tensors) put(tensor.bytes);
    // Some file systems (NFS) report a failed write only when the file is closed.
    if (::close(out.release()) != 0) fail_write(path, str("closing ", written, " failed: ", os_error()));
  }
  temporary.commit();
}

SafetensorsFile read_safetensors(const std::filesystem::path& path) { return Reader(path).read(); }

}  // namespace nn
