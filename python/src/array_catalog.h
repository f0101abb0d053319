#pragma once
// A table of numpy columns seen as a starnn catalogue, chunk by chunk: prediction and evaluation
// read the caller's arrays in place (any numeric dtype, any stride, e.g. a field of a structured
// array) and hold only one chunk as doubles at a time.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <vector>

#include "nn/catalog.h"

namespace starnn_python {

class ArrayCatalog {
 public:
  // `columns` maps names to 1-D arrays of one length, the ones a model reads of the table;
  // `source` names the table in messages ("the DataFrame"), `table_names` lists all its columns
  // for them. Holds references to the arrays, so call it with the GIL held.
  ArrayCatalog(std::string source, const pybind11::dict& columns, std::vector<std::string> table_names);

  nn::Index rows() const { return rows_; }
  // Every column of the table, including those not passed.
  const std::vector<std::string>& names() const { return table_names_; }
  // Throws the readers' nn::Error for the first of `names` the table lacks.
  void require(const std::vector<std::string>& names) const;
  const std::string& source() const { return source_; }

  // Rows [begin, end) of the columns `names`, converted to double with the readers' missing-value
  // rule (catalog.h), as a catalogue named like the table. Reads the arrays' memory only, so it
  // runs with the GIL released.
  nn::Catalog chunk(nn::Index begin, nn::Index end, const std::vector<std::string>& names) const;
  // Every row of the columns `names`.
  nn::Catalog all(const std::vector<std::string>& names) const { return chunk(0, rows_, names); }

 private:
  struct Column {
    pybind11::array array;  // keeps the memory alive
    const char* data = nullptr;
    pybind11::ssize_t stride = 0;  // bytes
    // Copies n values from data (stride apart) to doubles, the missing-value rule applied.
    void (*to_double)(const char* data, pybind11::ssize_t stride, double* out, std::size_t n) = nullptr;
  };
  const Column& column(const std::string& name) const;

  std::string source_;
  nn::Index rows_ = 0;
  std::vector<std::string> table_names_;
  std::vector<std::string> names_;  // of columns_
  std::vector<Column> columns_;
};

}  // namespace starnn_python
