#pragma once
// Model files in the safetensors format: an 8-byte little-endian header length, a JSON
// header naming every tensor (dtype, shape, byte range) plus a string-to-string
// "__metadata__" map, then the raw little-endian tensor bytes. The layout is the one the
// Python `safetensors` package reads, so trained models open outside starnn.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nn/export.h"

namespace nn {

// The element types a model file holds; the file spells them "F32", "F64" and "I64".
enum class DType { f32, f64, i64 };
NN_API const char* to_string(DType dtype);
NN_API std::size_t dtype_size(DType dtype);

// One tensor as it lies in the file: bytes holds element_count() * dtype_size(dtype)
// little-endian bytes in row-major order. An empty shape is a scalar (one element).
struct NN_API NamedTensor {
  std::string name;
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> bytes;

  std::int64_t element_count() const;
  // The elements as T, which must match dtype (float: f32, double: f64, std::int64_t: i64).
  // The second form also checks the shape, so a model file from another network is
  // rejected by name instead of being read into the wrong layer.
  template <class T>
  std::vector<T> values() const;
  template <class T>
  std::vector<T> values(const std::vector<std::int64_t>& expected_shape) const;
};

extern template NN_API std::vector<float> NamedTensor::values<float>() const;
extern template NN_API std::vector<double> NamedTensor::values<double>() const;
extern template NN_API std::vector<std::int64_t> NamedTensor::values<std::int64_t>() const;
extern template NN_API std::vector<float> NamedTensor::values<float>(const std::vector<std::int64_t>&) const;
extern template NN_API std::vector<double> NamedTensor::values<double>(const std::vector<std::int64_t>&) const;
extern template NN_API std::vector<std::int64_t> NamedTensor::values<std::int64_t>(
    const std::vector<std::int64_t>&) const;

// Copies values into a new tensor; throws nn::Error when the shape does not hold exactly
// values.size() elements.
NN_API NamedTensor make_tensor(std::string name, std::vector<std::int64_t> shape, std::span<const float> values);
NN_API NamedTensor make_tensor(std::string name, std::vector<std::int64_t> shape, std::span<const double> values);
NN_API NamedTensor make_tensor(std::string name, std::vector<std::int64_t> shape, std::span<const std::int64_t> values);

struct NN_API SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<NamedTensor> tensors;  // in file order
  std::filesystem::path source;      // set by read_safetensors, so lookups can name the file

  // nullptr when absent.
  const NamedTensor* find(std::string_view name) const;
  // Throw nn::Error naming the file and the missing tensor or metadata key.
  const NamedTensor& tensor(std::string_view name) const;
  const std::string& metadata_value(const std::string& key) const;
};

// Writes a temporary next to path, flushes it to disk and renames it over path, so path
// holds either its old content or the complete new file. On failure the temporary
// is removed and nn::Error names path. Tensors are written in the given order and the
// metadata in key order, so equal inputs give byte-identical files.
NN_API void write_safetensors(const std::filesystem::path& path, const SafetensorsFile& file);

// Reads and validates the whole file; nn::Error names the file and the problem.
NN_API SafetensorsFile read_safetensors(const std::filesystem::path& path);

}  // namespace nn

namespace nn {

// Writes text to path atomically (a temporary in the same folder, renamed on success): the
// file holds its old content or the new one, never a part.
NN_API void write_text_atomically(const std::filesystem::path& path, const std::string& text);

// Every file the library writes is written to a hidden temporary next to it and renamed into
// place. A process ended by a signal would leave its temporaries behind; this installs handlers
// for SIGINT, SIGTERM and SIGHUP that remove the temporaries of every write in flight, then end
// the process as the signal would have (exit status 128 + signal). A temporary left by a process
// that died without a chance (SIGKILL, power loss) is removed by the next write to the same
// file on the same host.
NN_API void remove_temporaries_on_signals();
// The handler itself, for a program whose own handler of one of these signals falls back on it.
extern "C" NN_API void remove_temporaries_and_reraise(int signal);

}  // namespace nn
