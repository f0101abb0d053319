// The in-memory catalogue, column expressions, and the messages for missing files and columns.
#include <cmath>

#include "catalog_testing.h"

namespace {

using namespace catalog_testing;

CATALOG_FIXTURE(CatalogFiles);

nn::Catalog photometry() {
  const double nan = std::nan("");
  nn::Catalog catalog("photometry.csv");
  catalog.add_column("u", {19.5, 18.0, nan});
  catalog.add_column("g", {18.25, 17.5, 16.0});
  catalog.add_column("r", {17.75, 17.0, 15.5});
  catalog.add_column("g-r", {0.125, 0.25, 0.375});  // deliberately not g minus r
  return catalog;
}

TEST(Catalog, AddColumnChecksLengthAndUniqueness) {
  nn::Catalog catalog("t.csv");
  catalog.add_column("a", {1, 2, 3});
  EXPECT_EQ(catalog.rows(), 3);
  EXPECT_TRUE(contains(message_of([&] { catalog.add_column("b", {1, 2}); }), "'b' has 2 values"));
  EXPECT_TRUE(contains(message_of([&] { catalog.add_column("a", {4, 5, 6}); }), "already has a column 'a'"));
  EXPECT_EQ(catalog.names(), std::vector<std::string>{"a"});
  EXPECT_TRUE(catalog.has("a"));
  EXPECT_FALSE(catalog.has("A"));

  nn::Catalog sized("s.csv", 2);
  EXPECT_THROW(sized.add_column("x", {1, 2, 3}), nn::Error);
  sized.add_column("x", {1, 2});
  EXPECT_EQ(sized.column("x")[1], 2);
}

TEST(Catalog, MissingColumnNamesSourceAndSuggests) {
  const nn::Catalog catalog = photometry();
  const std::string message = message_of([&] { catalog.column("G"); });
  EXPECT_TRUE(contains(message, "photometry.csv"));
  EXPECT_TRUE(contains(message, "no column 'G'"));
  EXPECT_TRUE(contains(message, "did you mean 'g'"));
  EXPECT_TRUE(contains(message, "'u', 'g', 'r', 'g-r'"));
}

TEST(Catalog, ColourIsDifferenceOfColumns) {
  const nn::Catalog catalog = photometry();
  const std::vector<double> ug = nn::evaluate_column(catalog, "u-g");
  EXPECT_EQ(ug[0], 19.5 - 18.25);
  EXPECT_EQ(ug[1], 0.5);
  EXPECT_TRUE(std::isnan(ug[2]));  // u is missing in row 2
  EXPECT_EQ(nn::evaluate_column(catalog, " u - r ")[1], 1.0);
  EXPECT_EQ(nn::evaluate_column(catalog, "r"), catalog.column("r"));
}

TEST(Catalog, ColumnNamedLikeAColourWins) {
  const nn::Catalog catalog = photometry();
  EXPECT_EQ(nn::evaluate_column(catalog, "g-r"), (std::vector<double>{0.125, 0.25, 0.375}));
}

TEST(Catalog, UnknownColourSideIsNamed) {
  const std::string message = message_of([&] { nn::evaluate_column(photometry(), "u-x"); });
  EXPECT_TRUE(contains(message, "photometry.csv"));
  EXPECT_TRUE(contains(message, "no column 'u-x'"));
  EXPECT_TRUE(contains(message, "lacks column 'x'"));
}

TEST(Catalog, AmbiguousColourIsAnError) {
  nn::Catalog catalog("a.csv");
  for (const char* name : {"a", "b-c", "a-b", "c"}) catalog.add_column(name, {1.0});
  EXPECT_TRUE(contains(message_of([&] { nn::evaluate_column(catalog, "a-b-c"); }), "ambiguous"));
}

TEST(Catalog, ExpressionColumnsListsPlainColumnsOnce) {
  const std::vector<std::string> available = {"u", "g", "r", "g-r", "feh"};
  EXPECT_EQ(nn::expression_columns({"u-g", "g-r", "u - r", "feh", "nope"}, available),
            (std::vector<std::string>{"u", "g", "g-r", "r", "feh", "nope"}));
}

TEST_F(CatalogFiles, MissingFileIsNamed) {
  const fs::path missing = path("absent.fits");
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(missing); }), missing.string()));
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(path("absent.csv")); }), "absent.csv"));
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(path("table.txt")); }), "unknown catalogue format"));
}

TEST_F(CatalogFiles, MissingRequestedColumnIsNamedWithFile) {
  const fs::path csv = write_text("stars.csv", "g_mag,r_mag\n1,2\n");
  const std::string message = message_of([&] { nn::read_catalog(csv, {.columns = {"gmag"}}); });
  EXPECT_TRUE(contains(message, "stars.csv"));
  EXPECT_TRUE(contains(message, "no column 'gmag'"));
  EXPECT_TRUE(contains(message, "did you mean 'g_mag'"));
  const nn::Catalog catalog = nn::read_catalog(csv);
  EXPECT_TRUE(contains(message_of([&] { catalog.column("i_mag"); }), "stars.csv"));
}

}  // namespace
