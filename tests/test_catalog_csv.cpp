// CSV catalogues: missing spellings, quoting, the repeated-name rule, errors with line numbers,
// and the real survey samples.
#include <cmath>

#include "catalog_testing.h"

namespace {

using namespace catalog_testing;

CATALOG_FIXTURE(CatalogCsv);

bool all_missing(const std::vector<double>& values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

TEST_F(CatalogCsv, EveryMissingSpellingIsNaN) {
  const fs::path csv = write_text("missing.csv",
                                  "id,mag\n"
                                  "1,nan\n2,NaN\n3,\"nan\"\n4,\n5,99\n6,99.0\n7,-99.000\n8,+99\n9, 99 \n10,-99\n"
                                  "11,9.9e1\n12,98.99\n13,-0.5\n14,+1.25\n15,\"\"\n");
  const nn::Catalog catalog = nn::read_catalog(csv);
  ASSERT_EQ(catalog.rows(), 15);
  const std::vector<double>& mag = catalog.column("mag");
  for (int i = 0; i < 11; ++i) EXPECT_TRUE(std::isnan(mag[i])) << "row " << i;
  EXPECT_EQ(mag[11], 98.99);
  EXPECT_EQ(mag[12], -0.5);
  EXPECT_EQ(mag[13], 1.25);
  EXPECT_TRUE(std::isnan(mag[14]));
  EXPECT_EQ(catalog.column("id")[14], 15);
}

TEST_F(CatalogCsv, QuotedFieldsMayHoldCommasQuotesAndLineBreaks) {
  const fs::path csv = write_text("quoted.csv",
                                  "id,\"label, long\",\"g, r\",x\r\n"
                                  "1,\"a, b\",\"0.5\",2.5\r\n"
                                  "2,\"say \"\"hi\"\"\", 0.25 ,3\r\n"
                                  "3,\"two\nlines\",0.125,4\r\n"
                                  "\r\n"
                                  "4,plain,1,oops\r\n");
  const nn::Catalog catalog = nn::read_catalog(csv, {.columns = {"g, r", "id"}});
  EXPECT_EQ(catalog.names(), (std::vector<std::string>{"g, r", "id"}));
  EXPECT_EQ(catalog.column("g, r"), (std::vector<double>{0.5, 0.25, 0.125, 1}));
  // The record with a line break spans lines 4-5 and a blank line follows, so "oops" is on line 7.
  const std::string message = message_of([&] { nn::read_catalog(csv, {.columns = {"x"}}); });
  EXPECT_TRUE(contains(message, "quoted.csv' line 7, column 'x': 'oops' is not a number"));
}

TEST_F(CatalogCsv, TextColumnsAreSkippedWhenReadingAll) {
  const fs::path csv = write_text("mixed.csv", "name,ra,flag,note\nA,1.5,nan,\nB,2.5,LAMOST,\n");
  const nn::Catalog catalog = nn::read_catalog(csv);
  EXPECT_EQ(catalog.names(), (std::vector<std::string>{"ra", "note"}));
  EXPECT_EQ(catalog.column("ra"), (std::vector<double>{1.5, 2.5}));
  EXPECT_TRUE(all_missing(catalog.column("note")));
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(csv, {.columns = {"flag"}}); }),
                       "line 3, column 'flag': 'LAMOST' is not a number"));
}

TEST_F(CatalogCsv, RowsWithTheWrongFieldCountAreErrors) {
  const fs::path csv = write_text("short.csv", "a,b\n1,2\n3\n");
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(csv, {.columns = {"a"}}); }),
                       "short.csv' line 3 has 1 fields but its header has 2"));
}

TEST_F(CatalogCsv, HduOptionIsAnError) {
  const fs::path csv = write_text("a.csv", "a\n1\n");
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(csv, {.hdu = "1"}); }), "has no HDUs"));
}

TEST(CatalogCsvReal, RepeatedSurveyColumnOfSplus82) {
  const fs::path csv = real_sample("splus82_segue_train.csv");
  CATALOG_REQUIRE_SAMPLE(csv);
  const nn::Catalog catalog = nn::read_catalog(csv, {.columns = {"FEH_ADOP", "g_cor", "TEFFA"}});
  ASSERT_EQ(catalog.rows(), 5446);
  // First data row: 3142-54735-0233,SEGUE,SEGUE,...,5986 (TEFFA),44,-1.598 (FEH_ADOP),...
  EXPECT_EQ(catalog.column("FEH_ADOP")[0], -1.598);
  EXPECT_EQ(catalog.column("g_cor")[0], 19.308658855950178);
  EXPECT_EQ(catalog.column("TEFFA")[0], 5986);

  const std::string requested = message_of([&] { nn::read_catalog(csv, {.columns = {"g_cor", "SURVEY"}}); });
  EXPECT_TRUE(contains(requested, "splus82_segue_train.csv' repeats the column name 'SURVEY'"));
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(csv); }), "'SURVEY'"));
}

TEST(CatalogCsvReal, PristineNanStringsAndTextColumns) {
  const fs::path csv = real_sample("pristine_cahk_aguado19.csv");
  CATALOG_REQUIRE_SAMPLE(csv);
  const nn::Catalog catalog = nn::read_catalog(csv);
  ASSERT_EQ(catalog.rows(), 1007);
  for (const char* text : {"name", "q_flag", "prev_obs"}) EXPECT_FALSE(catalog.has(text)) << text;
  EXPECT_EQ(catalog.column("FeH_FERRE")[0], -2.08);
  EXPECT_EQ(catalog.column("CaHK_0")[1], 15.372);
  // prev_obs is "nan" on line 2 and "LAMOST" on line 3.
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(csv, {.columns = {"prev_obs"}}); }),
                       "line 3, column 'prev_obs': 'LAMOST' is not a number"));
}

TEST(CatalogCsvReal, CalibStarsPlaceholdersAreMissing) {
  const fs::path csv = real_sample("sdss_s82_calibstars.csv");
  CATALOG_REQUIRE_SAMPLE(csv);
  const nn::Catalog catalog = nn::read_catalog(csv);
  ASSERT_EQ(catalog.rows(), 3981);
  EXPECT_FALSE(catalog.has("CALIBSTARS"));
  for (const char* placeholder : {"Mr", "FeH", "MrEst", "MrEstUnc", "FeHEst"}) {
    EXPECT_TRUE(all_missing(catalog.column(placeholder))) << placeholder;
  }
  EXPECT_EQ(catalog.column("umag")[0], 19.544);
  EXPECT_EQ(catalog.column("ug")[0], 1.586000000000002);
  EXPECT_EQ(catalog.column("ra")[3980], 46.350679);
}

TEST(CatalogCsvReal, CrlfLineEndsOfSegueColours) {
  const fs::path csv = real_sample("sdss_segue_colors_feh.csv");
  CATALOG_REQUIRE_SAMPLE(csv);
  const nn::Catalog catalog = nn::read_catalog(csv);
  ASSERT_EQ(catalog.rows(), 18000);
  EXPECT_EQ(catalog.names(), (std::vector<std::string>{"ug", "gr", "ri", "iz", "feh"}));
  EXPECT_EQ(catalog.column("ug")[0], 1.125586);
  EXPECT_EQ(catalog.column("feh")[0], -0.6978852);
  EXPECT_EQ(catalog.column("feh")[17999], -0.7290242);
}

}  // namespace
