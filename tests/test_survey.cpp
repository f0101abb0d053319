// The pieces of whole-survey prediction that need no model (nn/survey.h): which --catalog
// arguments name many files, the files a glob or a list names, the manifest's checksum and its
// reader's errors. tests/cli/test_survey.sh runs whole surveys, with one and two ranks.
#include <gtest/gtest.h>

#include "nn/error.h"
#include "nn/survey.h"
#include "scratch_dir.h"

namespace nn::test {
namespace {

using SurveyFiles = ScratchDir;

TEST(Survey, GlobsAndListsNameManyFiles) {
  EXPECT_TRUE(names_many_files("tiles/*.fits"));
  EXPECT_TRUE(names_many_files("tile?.csv"));
  EXPECT_TRUE(names_many_files("tile[0-3].csv"));
  EXPECT_TRUE(names_many_files("@tiles.txt"));
  EXPECT_FALSE(names_many_files("data/sdss_segue_feh.fits"));
}

// FNV-1a 64, the published test vectors.
TEST_F(SurveyFiles, ChecksumIsFnv1a64) {
  EXPECT_EQ(file_checksum(write_text("empty", "")), "cbf29ce484222325");
  EXPECT_EQ(file_checksum(write_text("a", "a")), "af63dc4c8601ec8c");
  EXPECT_EQ(file_checksum(write_text("foobar", "foobar")), "85944171f73967e8");
  try {
    file_checksum(path("missing"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("missing"), std::string::npos) << e.message();
  }
}

TEST_F(SurveyFiles, AGlobIsSortedAndAListIsRelativeToItsFolder) {
  std::filesystem::create_directories(path("tiles"));
  for (const char* name : {"tiles/b.csv", "tiles/a.csv", "tiles/c.fits"}) write_text(name, "x\n");
  const std::vector<std::filesystem::path> globbed = survey_files((path("tiles") / "*.csv").string());
  ASSERT_EQ(globbed.size(), 2u);
  EXPECT_EQ(globbed[0], path("tiles") / "a.csv");
  EXPECT_EQ(globbed[1], path("tiles") / "b.csv");
  write_text("tiles/list.txt", "# two tiles\nc.fits\n\n  b.csv  \n/abs/olute.fits\n");
  const std::vector<std::filesystem::path> listed = survey_files("@" + path("tiles/list.txt").string());
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0], path("tiles") / "c.fits");
  EXPECT_EQ(listed[1], path("tiles") / "b.csv");
  EXPECT_EQ(listed[2], std::filesystem::path("/abs/olute.fits"));
  for (const std::string& argument : {(path("tiles") / "*.txt.gz").string(), "@" + path("none.txt").string()}) {
    try {
      survey_files(argument);
      FAIL() << argument;
    } catch (const Error& e) {
      EXPECT_NE(e.message().find(argument), std::string::npos) << e.message();
    }
  }
}

TEST_F(SurveyFiles, ADamagedManifestIsNamedWithItsPath) {
  EXPECT_TRUE(read_survey_manifest(path("")).empty());
  write_text("manifest.json",
             R"({"format": "starnn-survey/1", "model": "m", "model_checksum": "0", "checksum": "FNV-1a",
                 "parts": [{"input": "a.csv", "output": "a.csv", "rows": -3}]})");
  try {
    read_survey_manifest(path(""));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("manifest.json"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("$.parts[0].rows"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace nn::test
