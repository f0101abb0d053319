#include <gtest/gtest.h>
#include "nn/tensor.h"
TEST(Tensor, ResizeKeepsAllocationWhenSmaller) {
  nn::Tensor<float> t(4, 4);
  float* p = t.data();
  t.resize(2, 3);
  EXPECT_EQ(t.data(), p);
  EXPECT_EQ(t.size(), 6);
}
