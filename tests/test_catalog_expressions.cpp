// Comparison expressions ("LOGG_ADOP < 3.5"), the 0/1 labels of classifier nets.
#include <cmath>

#include "catalog_testing.h"

namespace {

using namespace catalog_testing;

const double nan = std::nan("");

nn::Catalog spectra() {
  nn::Catalog catalog("spectra.csv");
  catalog.add_column("logg", {2.0, 3.5, 4.5, nan});
  catalog.add_column("g", {18.0, 17.0, 16.0, 15.0});
  catalog.add_column("r", {17.75, 16.0, 15.75, nan});
  catalog.add_column("logg < 3.5", {7.0, 8.0, 9.0, 10.0});  // deliberately not the comparison
  return catalog;
}

// The values as 0, 1 and -1 for NaN, so that whole columns compare with EXPECT_EQ.
std::vector<int> flags(const std::vector<double>& values) {
  std::vector<int> out;
  for (double v : values) out.push_back(std::isnan(v) ? -1 : int(v));
  return out;
}

TEST(CatalogComparison, EveryOperatorIncludingTheBoundary) {
  const nn::Catalog catalog = spectra();
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "logg<3.5")), (std::vector<int>{1, 0, 0, -1}));
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "logg<=3.5")), (std::vector<int>{1, 1, 0, -1}));
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "logg>3.5")), (std::vector<int>{0, 0, 1, -1}));
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "logg>=3.5")), (std::vector<int>{0, 1, 1, -1}));
}

TEST(CatalogComparison, SpacesAndNumberSpellings) {
  const nn::Catalog catalog = spectra();
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "  logg   >=  3.5  ")), (std::vector<int>{0, 1, 1, -1}));
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "logg < 35e-1")), (std::vector<int>{1, 0, 0, -1}));
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "logg > -1")), (std::vector<int>{1, 1, 1, -1}));
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "logg > 4")), (std::vector<int>{0, 0, 1, -1}));
}

TEST(CatalogComparison, MissingValuesStayMissing) {
  const nn::Catalog catalog = spectra();
  // r is missing in row 3, so the colour and its comparison are too.
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "g - r > 0.5")), (std::vector<int>{0, 1, 0, -1}));
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "r <= 16")), (std::vector<int>{0, 1, 1, -1}));
}

TEST(CatalogComparison, ColumnNamedLikeTheExpressionWins) {
  const nn::Catalog catalog = spectra();
  EXPECT_EQ(nn::evaluate_column(catalog, "logg < 3.5"), (std::vector<double>{7.0, 8.0, 9.0, 10.0}));
  // Spelled differently, it is the comparison again.
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "logg <3.5")), (std::vector<int>{1, 0, 0, -1}));
}

TEST(CatalogComparison, OperandMayHoldAnOperator) {
  nn::Catalog catalog("odd.csv");
  catalog.add_column("a<b", {1.0, 3.0});
  EXPECT_EQ(flags(nn::evaluate_column(catalog, "a<b < 2")), (std::vector<int>{1, 0}));
}

TEST(CatalogComparison, BadNumberIsAClearError) {
  const nn::Catalog catalog = spectra();
  for (const char* expression :
       {"logg < abc", "logg < 3.5.1", "logg <", "logg < 3 4", "logg < nan", "logg < inf", "logg = 3"}) {
    const std::string text = expression;
    // "logg = 3" has no operator and so names a missing column; the rest name the number.
    const std::string message = message_of([&] { nn::evaluate_column(catalog, text); });
    EXPECT_TRUE(contains(message, text == "logg = 3" ? "no column 'logg = 3'" : "expected a number after"))
        << expression << ": " << message;
  }
  const std::string message = message_of([&] { nn::evaluate_column(catalog, "logg >= 3,5"); });
  EXPECT_TRUE(contains(message, "expression 'logg >= 3,5'")) << message;
  EXPECT_TRUE(contains(message, "after '>=', got '3,5'")) << message;
  EXPECT_THROW(nn::expression_columns({"logg < x"}, {"logg"}), nn::Error);
}

TEST(CatalogComparison, MissingOperandIsNamed) {
  const nn::Catalog catalog = spectra();
  EXPECT_TRUE(contains(message_of([&] { nn::evaluate_column(catalog, "< 3"); }), "no column before '<'"));
  const std::string message = message_of([&] { nn::evaluate_column(catalog, "LOGG < 3"); });
  EXPECT_TRUE(contains(message, "no column 'LOGG'")) << message;
  EXPECT_TRUE(contains(message, "did you mean 'logg'")) << message;
}

TEST(CatalogComparison, ExpressionColumnsReadsTheOperand) {
  const std::vector<std::string> available = {"g", "r", "logg", "feh < 0"};
  EXPECT_EQ(nn::expression_columns({"logg < 3.5", "g-r >= 0.2", "feh < 0", "teff > 5000", "logg"}, available),
            (std::vector<std::string>{"logg", "g", "r", "feh < 0", "teff"}));
}

}  // namespace
