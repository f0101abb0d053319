#include "array_catalog.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

#include "nn/error.h"

namespace py = pybind11;

namespace starnn_python {
namespace {

// Values [0, n) of a strided column of T as doubles, the missing-value rule applied. Swapped:
// the column's bytes are in the other order (FITS tables are big-endian, and astropy keeps them).
template <class T, bool swapped>
void convert(const char* p, py::ssize_t stride, double* out, std::size_t n) {
  for (std::size_t r = 0; r < n; ++r, p += stride) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, p, sizeof(T));  // the fields of a structured array need not be aligned
    if constexpr (swapped) std::reverse(bytes, bytes + sizeof(T));
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    out[r] = nn::missing_to_nan(double(value));
  }
}

using Converter = void (*)(const char*, py::ssize_t, double*, std::size_t);

template <class T>
Converter converter_of(bool swapped) {
  return swapped ? convert<T, true> : convert<T, false>;
}

// The converter of a numeric numpy dtype, nullptr for any other.
Converter converter(const py::dtype& dtype) {
  const char order = dtype.attr("byteorder").cast<std::string>().at(0);
  const bool swapped = order == (std::endian::native == std::endian::little ? '>' : '<');
  switch (dtype.kind()) {
    case 'f':
      return dtype.itemsize() == 4   ? converter_of<float>(swapped)
             : dtype.itemsize() == 8 ? converter_of<double>(swapped)
                                     : nullptr;
    case 'b':
      return converter_of<bool>(false);
    case 'i':
      switch (dtype.itemsize()) {
        case 1:
          return converter_of<std::int8_t>(false);
        case 2:
          return converter_of<std::int16_t>(swapped);
        case 4:
          return converter_of<std::int32_t>(swapped);
        case 8:
          return converter_of<std::int64_t>(swapped);
        default:
          return nullptr;
      }
    case 'u':
      switch (dtype.itemsize()) {
        case 1:
          return converter_of<std::uint8_t>(false);
        case 2:
          return converter_of<std::uint16_t>(swapped);
        case 4:
          return converter_of<std::uint32_t>(swapped);
        case 8:
          return converter_of<std::uint64_t>(swapped);
        default:
          return nullptr;
      }
    default:
      return nullptr;
  }
}

}  // namespace

ArrayCatalog::ArrayCatalog(std::string source, const py::dict& columns, std::vector<std::string> table_names)
    : source_(std::move(source)), table_names_(std::move(table_names)) {
  bool first = true;
  for (const auto& [key, value] : columns) {
    const std::string name = py::str(key);
    if (!py::isinstance<py::array>(value))
      throw nn::Error(nn::str(source_, ": column '", name, "' is not a numpy array"));
    const py::array array = py::reinterpret_borrow<py::array>(value);
    const py::dtype dtype = array.dtype();
    const Converter to_double = converter(dtype);
    if (!to_double)
      throw nn::Error(nn::str(source_, ": column '", name, "' holds ", dtype.attr("name").cast<std::string>(),
                              ", not numbers (float32/64, integers or booleans)"));
    if (array.ndim() != 1)
      throw nn::Error(
          nn::str(source_, ": column '", name, "' has ", array.ndim(), " dimensions; expected one value per row"));
    if (first) rows_ = array.shape(0), first = false;
    if (array.shape(0) != rows_)
      throw nn::Error(nn::str(source_, ": column '", name, "' has ", array.shape(0), " rows, the others ", rows_));
    names_.push_back(name);
    columns_.push_back({array, static_cast<const char*>(array.data()), array.strides(0), to_double});
  }
}

const ArrayCatalog::Column& ArrayCatalog::column(const std::string& name) const {
  for (std::size_t k = 0; k < names_.size(); ++k)
    if (names_[k] == name) return columns_[k];
  throw nn::Error(nn::missing_column_message(source_, name, table_names_));
}

void ArrayCatalog::require(const std::vector<std::string>& names) const {
  for (const std::string& name : names) column(name);
}

nn::Catalog ArrayCatalog::chunk(nn::Index begin, nn::Index end, const std::vector<std::string>& names) const {
  require(names);
  nn::Catalog catalog(source_, end - begin);
  for (const std::string& name : names) {
    const Column& c = column(name);
    std::vector<double> values(std::size_t(end - begin));
    c.to_double(c.data + begin * c.stride, c.stride, values.data(), values.size());
    catalog.add_column(name, std::move(values));
  }
  return catalog;
}

}  // namespace starnn_python
