// The CUDA backend's op table has every slot filled (no GPU needed to look).
#include <gtest/gtest.h>

#include "cuda_backend.h"

namespace nn::test {
namespace {

TEST(CudaOpTable, FillsEverySlot) {
  // gtest prints the names of the empty slots.
  const std::vector<std::string> none;
  EXPECT_EQ(missing_ops(cuda::op_table<float>()), none);
  EXPECT_EQ(missing_ops(cuda::op_table<double>()), none);
}

}  // namespace
}  // namespace nn::test
