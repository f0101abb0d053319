#pragma once
// A backend's op table, built once from the fill functions of its op families: the one piece
// of code both backends' op_table.cpp use, so they differ only in their list of families.
#include <initializer_list>

#include "nn/op_table.h"

namespace nn {

template <class T>
using FillOps = void (*)(OpTable<T>&);

template <class T>
OpTable<T> filled_op_table(std::initializer_list<FillOps<T>> families) {
  OpTable<T> table;
  for (const FillOps<T> fill : families) fill(table);
  return table;
}

}  // namespace nn
