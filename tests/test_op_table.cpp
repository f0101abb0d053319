// The CPU backend's op table has every slot filled, and the check that says so finds an empty one.
#include <gtest/gtest.h>

#include "nn/op_table.h"

namespace nn::test {
namespace {

TEST(OpTable, CpuBackendFillsEverySlot) {
  // gtest prints the names of the empty slots.
  const std::vector<std::string> none;
  EXPECT_EQ(missing_ops(cpu::op_table<float>()), none);
  EXPECT_EQ(missing_ops(cpu::op_table<double>()), none);
}

TEST(OpTable, AnEmptySlotIsNamed) {
  OpTable<float> table = cpu::op_table<float>();
  table.batchnorm_relu_backward = nullptr;
  EXPECT_EQ(missing_ops(table), std::vector<std::string>{"batchnorm_relu_backward"});
  EXPECT_EQ(missing_ops(OpTable<double>{}).size(), op_slot_count<double>);
}

TEST(OpTable, EntryPointsDispatchThroughTheTable) {
  // nn::ops and the CPU table compute the same product.
  std::vector<double> x{1, 2, 3, 4}, w{0.5, -1, 2, 0.25}, b{0.125, -0.5}, y_ops(4), y_table(4);
  const ConstView<double> xv(x.data(), 2, 2), wv(w.data(), 2, 2), bv(b.data(), 1, 2);
  ops::linear_forward<double>(xv, wv, bv, View<double>(y_ops.data(), 2, 2));
  cpu::op_table<double>().linear_forward(xv, wv, bv, View<double>(y_table.data(), 2, 2));
  EXPECT_EQ(y_ops, y_table);
  // Row 0: (1, 2) . (0.5, -1) + 0.125 and (1, 2) . (2, 0.25) - 0.5.
  EXPECT_DOUBLE_EQ(y_ops[0], -1.375);
  EXPECT_DOUBLE_EQ(y_ops[1], 2.0);
}

}  // namespace
}  // namespace nn::test
