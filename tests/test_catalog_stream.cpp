// Streaming: chunked reading, conversion, the augmented copy, and atomic writes.
#include <cmath>

#include "catalog_testing.h"

namespace {

using namespace catalog_testing;

CATALOG_FIXTURE(CatalogStream);
CATALOG_FIXTURE(CatalogAugment);
CATALOG_FIXTURE(CatalogWrite);

// Reads `path` chunk by chunk and joins the chunks.
nn::Catalog read_in_chunks(const fs::path& path, nn::Index rows_per_chunk, const nn::CatalogOptions& options = {}) {
  nn::CatalogReader reader(path, options);
  std::vector<std::vector<double>> columns(reader.names().size());
  nn::Catalog chunk;
  nn::Index chunks = 0;
  while (reader.next(rows_per_chunk, chunk)) {
    EXPECT_LE(chunk.rows(), rows_per_chunk);
    EXPECT_EQ(chunk.names(), reader.names());
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::vector<double>& part = chunk.column(reader.names()[c]);
      columns[c].insert(columns[c].end(), part.begin(), part.end());
    }
    ++chunks;
  }
  EXPECT_EQ(chunks, (reader.total_rows() + rows_per_chunk - 1) / rows_per_chunk);
  EXPECT_FALSE(reader.next(rows_per_chunk, chunk));
  nn::Catalog joined(path.string());
  for (std::size_t c = 0; c < columns.size(); ++c) joined.add_column(reader.names()[c], columns[c]);
  return joined;
}

void expect_same(const nn::Catalog& a, const nn::Catalog& b) {
  ASSERT_EQ(a.names(), b.names());
  ASSERT_EQ(a.rows(), b.rows());
  for (const std::string& name : a.names()) EXPECT_TRUE(same_bits(a.column(name), b.column(name))) << name;
}

TEST(CatalogStreamReal, FitsChunksEqualWholeRead) {
  const fs::path fits = real_sample("gd1_ps1_photometry.fits");
  CATALOG_REQUIRE_SAMPLE(fits);
  const nn::Catalog whole = nn::read_catalog(fits);
  for (const nn::Index rows : {1000, 7, 5000}) expect_same(read_in_chunks(fits, rows), whole);
  expect_same(read_in_chunks(fits, 333, {.columns = {"i_mean_psf_mag"}}),
              nn::read_catalog(fits, {.columns = {"i_mean_psf_mag"}}));
}

TEST(CatalogStreamReal, CsvChunksEqualWholeRead) {
  const fs::path csv = real_sample("sdss_s82_calibstars.csv");
  CATALOG_REQUIRE_SAMPLE(csv);
  const nn::Catalog whole = nn::read_catalog(csv);
  for (const nn::Index rows : {1000, 13}) expect_same(read_in_chunks(csv, rows), whole);
  EXPECT_EQ(nn::CatalogReader(csv, {.columns = {"umag"}}).total_rows(), 3981);
}

TEST_F(CatalogStream, CsvTotalRowsCountsRecordsNotLines) {
  const fs::path csv = write_text("t.csv", "a,b\n1,\"x\ny\"\n\n2,z\n3,w\n");
  nn::CatalogReader reader(csv, {.columns = {"a"}});
  EXPECT_EQ(reader.total_rows(), 3);
  EXPECT_EQ(read_in_chunks(csv, 2, {.columns = {"a"}}).column("a"), (std::vector<double>{1, 2, 3}));
  nn::Catalog chunk;
  EXPECT_THROW(reader.next(0, chunk), nn::Error);
}

TEST_F(CatalogStream, RealCsvFitsCsvRoundTripIsBitExact) {
  const fs::path csv = real_sample("sdss_s82_calibstars.csv");
  CATALOG_REQUIRE_SAMPLE(csv);
  nn::write_catalog(path("first.csv"), nn::read_catalog(csv));
  nn::convert_catalog(path("first.csv"), path("table.fits"));
  nn::convert_catalog(path("table.fits"), path("second.csv"));
  EXPECT_EQ(read_text(path("first.csv")), read_text(path("second.csv")));
  expect_same(nn::read_catalog(path("table.fits")), nn::read_catalog(csv));
}

TEST_F(CatalogStream, RoundTripKeepsAwkwardDoublesAndNames) {
  const double nan = std::nan("");
  nn::Catalog catalog("memory");
  catalog.add_column("x", {0.1, 1.0 / 3.0, -0.0, 5e-324, 1.7976931348623157e308, nan, 637987125186749568.0});
  catalog.add_column("g, r", {1, 2, 3, 4, 5, 6, 7});
  catalog.add_column("say \"hi\"", {-1e-300, 2.5, 98.999999999999986, nan, 0, 1e22, -HUGE_VAL});
  nn::write_catalog(path("a.csv"), catalog);
  nn::convert_catalog(path("a.csv"), path("a.fits"));
  nn::convert_catalog(path("a.fits"), path("b.csv"));
  expect_same(nn::read_catalog(path("a.csv")), catalog);
  expect_same(nn::read_catalog(path("a.fits")), catalog);
  EXPECT_EQ(read_text(path("a.csv")), read_text(path("b.csv")));
  EXPECT_EQ(lines_of(read_text(path("a.csv")))[0], "x,\"g, r\",\"say \"\"hi\"\"\"");
  EXPECT_EQ(lines_of(read_text(path("a.csv")))[4], "5e-324,4,nan");
  EXPECT_EQ(lines_of(read_text(path("a.csv")))[7], "637987125186749568,7,-inf");
}

// Converting a file into itself would write less data over it: refused under every spelling of
// the same file, and the input is left as it was.
TEST_F(CatalogStream, ConvertRefusesItsOwnInput) {
  const fs::path in = write_text("in.csv", "a,b\n1,2\n3,4\n");
  const std::string before = read_text(in);
  fs::create_symlink(in, path("link.csv"));
  fs::create_hard_link(in, path("hard.csv"));
  for (const fs::path& out : {in, dir_ / "." / "in.csv", path("link.csv"), path("hard.csv")}) {
    EXPECT_TRUE(contains(message_of([&] { nn::convert_catalog(in, out, {.columns = {"a"}}); }), "is that very file"))
        << out;
    EXPECT_EQ(read_text(in), before) << out;
  }
  EXPECT_TRUE(contains(message_of([&] { nn::convert_catalog(path("link.csv"), in); }), "into itself"));
  EXPECT_EQ(read_text(in), before);
}

// Adds two columns chunk by chunk: the first input column minus the second, and the row number.
void augment(const fs::path& in, const fs::path& out, nn::Index rows_per_chunk, const nn::CatalogOptions& options) {
  nn::CatalogAugmenter augmenter(in, out, {"colour", "row"}, options);
  nn::Catalog inputs;
  double row = 0;
  while (augmenter.next(rows_per_chunk, inputs)) {
    std::vector<std::vector<double>> values(2);
    values[0] = nn::evaluate_column(inputs, inputs.names()[0] + "-" + inputs.names()[1]);
    for (nn::Index i = 0; i < inputs.rows(); ++i) values[1].push_back(row++);
    augmenter.write(values);
  }
  augmenter.commit();
}

TEST_F(CatalogAugment, RealFitsCopyKeepsEveryColumnVerbatim) {
  const fs::path fits = real_sample("gd1_ps1_photometry.fits");
  CATALOG_REQUIRE_SAMPLE(fits);
  const fs::path out = path("augmented.fits");
  augment(fits, out, 1000, {.columns = {"g_mean_psf_mag", "i_mean_psf_mag"}});

  const std::vector<FitsHdu> before = parse_fits(fits), after = parse_fits(out);
  ASSERT_EQ(after.size(), before.size());
  const FitsHdu& original = before[1];
  const FitsHdu& copy = after[1];
  EXPECT_EQ(copy.keys.at("TFORM1"), "K");
  EXPECT_EQ(copy.keys.at("TUNIT3"), "mag");
  EXPECT_EQ(copy.keys.at("TTYPE4"), "colour");
  EXPECT_EQ(copy.keys.at("TFORM5"), "1D");
  ASSERT_EQ(copy.number("NAXIS2"), 3724);
  EXPECT_EQ(copy.cell<std::int64_t>("source_id", 0), 635860218726658176);
  for (std::size_t row = 0; row < 3724; ++row) {
    ASSERT_EQ(copy.cell<std::int64_t>("source_id", row), original.cell<std::int64_t>("source_id", row)) << row;
    ASSERT_EQ(copy.cell<double>("g_mean_psf_mag", row), original.cell<double>("g_mean_psf_mag", row)) << row;
    ASSERT_EQ(copy.cell<double>("i_mean_psf_mag", row), original.cell<double>("i_mean_psf_mag", row)) << row;
    ASSERT_EQ(copy.cell<double>("colour", row),
              original.cell<double>("g_mean_psf_mag", row) - original.cell<double>("i_mean_psf_mag", row));
    ASSERT_EQ(copy.cell<double>("row", row), static_cast<double>(row));
  }
}

TEST_F(CatalogAugment, FitsCopyKeepsOtherHdus) {
  FitsFileBuilder(10)
      .image_extension("PIX", 16)
      .table("FIRST", {{"a", "1D", {big_endian(1.0), big_endian(2.0)}}})
      .table("SECOND", {{"id", "1K", {big_endian<std::int64_t>(637987125186749568), big_endian<std::int64_t>(-1)}},
                        {"p", "1D", {big_endian(3.0), big_endian(4.0)}},
                        {"q", "1E", {big_endian(0.5f), big_endian(0.25f)}}})
      .save(path("in.fits"));
  augment(path("in.fits"), path("out.fits"), 1, {.hdu = "SECOND", .columns = {"p", "q"}});
  const std::vector<FitsHdu> before = parse_fits(path("in.fits")), after = parse_fits(path("out.fits"));
  ASSERT_EQ(after.size(), 4u);
  for (std::size_t h = 0; h < 3; ++h) EXPECT_EQ(after[h].data, before[h].data) << "HDU " << h;
  EXPECT_EQ(after[3].cell<std::int64_t>("id", 0), 637987125186749568);
  EXPECT_EQ(after[3].cell<std::int64_t>("id", 1), -1);
  EXPECT_EQ(after[3].cell<double>("colour", 0), 2.5);
  EXPECT_EQ(after[3].cell<double>("row", 1), 1.0);
  const nn::Catalog back = nn::read_catalog(path("out.fits"), {.hdu = "SECOND"});
  EXPECT_EQ(back.names(), (std::vector<std::string>{"id", "p", "q", "colour", "row"}));
  EXPECT_EQ(back.column("colour"), (std::vector<double>{2.5, 3.75}));
}

TEST_F(CatalogAugment, CsvCopyKeepsEveryLineVerbatim) {
  const std::string header = "name,\"g\",r,note";
  const std::vector<std::string> rows = {"\"Star, A\",18.5,18.0,nan", "B,99,17.25,\"two\nlines\"", "C , 17,16.5 ,x"};
  write_text("in.csv", header + "\r\n" + rows[0] + "\n" + rows[1] + "\r\n\n" + rows[2]);
  augment(path("in.csv"), path("out.csv"), 2, {.columns = {"g", "r"}});
  const std::string text = read_text(path("out.csv"));
  EXPECT_EQ(text, header + ",colour,row\n" + rows[0] + ",0.5,0\n" + rows[1] + ",nan,1\n" + rows[2] + ",0.5,2\n");
}

TEST_F(CatalogAugment, RealCsvCopyOfPristineAddsColumns) {
  const fs::path csv = real_sample("pristine_cahk_aguado19.csv");
  CATALOG_REQUIRE_SAMPLE(csv);
  const fs::path out = path("augmented.csv");
  augment(csv, out, 100, {.columns = {"V", "CaHK_0"}});
  const std::vector<std::string> before = lines_of(read_text(csv)), after = lines_of(read_text(out));
  const nn::Catalog back = nn::read_catalog(out, {.columns = {"colour", "row", "FeH_FERRE"}});
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after[0], before[0] + ",colour,row");
  for (std::size_t i = 1; i < before.size(); ++i) {
    ASSERT_EQ(after[i].substr(0, before[i].size()), before[i]) << i;
  }
  ASSERT_EQ(back.rows(), 1007);
  EXPECT_EQ(back.column("colour")[0], 16.411 - 16.911);
  EXPECT_EQ(back.column("row")[1006], 1006);
  EXPECT_EQ(back.column("FeH_FERRE")[0], -2.08);
}

TEST_F(CatalogAugment, MisuseIsReportedAndLeavesNoOutput) {
  write_text("in.csv", "g,r\n1,2\n3,4\n");
  EXPECT_TRUE(
      contains(message_of([&] { nn::CatalogAugmenter(path("in.csv"), path("out.fits"), {"x"}); }), "starnn convert"));
  EXPECT_TRUE(contains(message_of([&] {
                         nn::CatalogAugmenter(path("in.csv"), path("out.csv"), {"x", "r"});
                       }),
                       "already has a column 'r'"));
  EXPECT_TRUE(contains(message_of([&] { nn::CatalogAugmenter(path("in.csv"), path("in.csv"), {"x"}); }), "in place"));
  {
    nn::CatalogAugmenter augmenter(path("in.csv"), path("out.csv"), {"x"});
    nn::Catalog inputs;
    EXPECT_THROW(augmenter.write({{1.0}}), nn::Error);  // no chunk yet
    ASSERT_TRUE(augmenter.next(1, inputs));
    EXPECT_THROW(augmenter.next(1, inputs), nn::Error);  // previous chunk not written
    EXPECT_TRUE(contains(message_of([&] { augmenter.write({{1.0, 2.0}}); }), "has 2 values for a chunk of 1 rows"));
    augmenter.write({{1.0}});
    EXPECT_TRUE(contains(message_of([&] { augmenter.commit(); }), "before every row"));
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"in.csv"});
}

TEST_F(CatalogWrite, FailedWriteLeavesNoFileAndKeepsTheOldOne) {
  nn::Catalog catalog("memory");
  catalog.add_column(std::string(69, 'n'), {1.0});
  write_text("out.fits", "old");
  EXPECT_TRUE(contains(message_of([&] { nn::write_catalog(path("out.fits"), catalog); }), "not a FITS column name"));
  EXPECT_EQ(read_text(path("out.fits")), "old");
  EXPECT_EQ(entries(), std::vector<std::string>{"out.fits"});

  EXPECT_TRUE(contains(message_of([&] { nn::write_catalog(path("no/such/dir/out.csv"), catalog); }), "does not exist"));
  nn::write_catalog(path("out.csv"), catalog);
  EXPECT_EQ(read_text(path("out.csv")), std::string(69, 'n') + "\n1\n");
  EXPECT_EQ(entries().size(), 2u);
}

TEST_F(CatalogWrite, ConvertFailureLeavesNoFile) {
  write_text("in.csv", "a\n1\nx\n");
  EXPECT_TRUE(contains(message_of([&] { nn::convert_catalog(path("in.csv"), path("out.fits"), {.columns = {"a"}}); }),
                       "line 3"));
  EXPECT_EQ(entries(), std::vector<std::string>{"in.csv"});
}

}  // namespace
