// FITS catalogues: the real GD-1 table, every numeric column type with its nulls in a file
// built by hand, HDU selection, compressed input, and written tables.
#include <cmath>
#include <limits>

#include "catalog_testing.h"

namespace {

using namespace catalog_testing;

CATALOG_FIXTURE(CatalogFits);

// Values of the real GD-1 table, read without CFITSIO: its two header blocks end at byte
// 5760 and rows are 24 bytes (K, D, D), so e.g.
//   od --endian=big -A d -j 5760 -N 48 -t d8 gd1_ps1_photometry.fits
// prints the first two rows with the doubles as their 64-bit patterns.
constexpr std::int64_t gd1_first_source_id = 635860218726658176;
constexpr std::uint64_t gd1_first_g_bits = 4625731000645713909;   // 17.8978004455566...
constexpr std::uint64_t gd1_first_i_bits = 4625623927647895538;   // 17.5174007415771...
constexpr std::uint64_t gd1_second_g_bits = 4626122110031364101;  // 19.2873001098633...
constexpr std::int64_t gd1_last_source_id = 612256418500423168;
constexpr std::uint64_t gd1_last_i_bits = 4626311796188250104;  // 19.9612007141113...

TEST(CatalogFitsReal, Gd1TableValues) {
  const fs::path fits = real_sample("gd1_ps1_photometry.fits");
  CATALOG_REQUIRE_SAMPLE(fits);
  const nn::Catalog catalog = nn::read_catalog(fits);
  ASSERT_EQ(catalog.rows(), 3724);
  EXPECT_EQ(catalog.names(), (std::vector<std::string>{"source_id", "g_mean_psf_mag", "i_mean_psf_mag"}));
  EXPECT_EQ(catalog.column("g_mean_psf_mag")[0], std::bit_cast<double>(gd1_first_g_bits));
  EXPECT_EQ(catalog.column("i_mean_psf_mag")[0], std::bit_cast<double>(gd1_first_i_bits));
  EXPECT_EQ(catalog.column("g_mean_psf_mag")[1], std::bit_cast<double>(gd1_second_g_bits));
  EXPECT_EQ(catalog.column("i_mean_psf_mag")[3723], std::bit_cast<double>(gd1_last_i_bits));
  // int64 ids above 2^53 arrive rounded to the nearest double.
  EXPECT_EQ(catalog.column("source_id")[0], static_cast<double>(gd1_first_source_id));
  EXPECT_EQ(catalog.column("source_id")[3723], static_cast<double>(gd1_last_source_id));
  EXPECT_EQ(nn::catalog_columns(fits), catalog.names());
}

TEST(CatalogFitsReal, Gd1MissingColumnSuggests) {
  const fs::path fits = real_sample("gd1_ps1_photometry.fits");
  CATALOG_REQUIRE_SAMPLE(fits);
  const std::string message = message_of([&] { nn::read_catalog(fits, {.columns = {"g_mean_psf"}}); });
  EXPECT_TRUE(contains(message, "gd1_ps1_photometry.fits' has no column 'g_mean_psf'"));
  EXPECT_TRUE(contains(message, "did you mean 'g_mean_psf_mag'"));
}

// `gzip -c from > to`; false where gzip is not available.
bool gzip_copy(const fs::path& from, const fs::path& to) {
  const std::string command = "gzip -c '" + from.string() + "' > '" + to.string() + "' 2>/dev/null";
  return std::system(command.c_str()) == 0;
}

TEST_F(CatalogFits, GzipIsReadOnly) {
  const fs::path fits = real_sample("gd1_ps1_photometry.fits");
  CATALOG_REQUIRE_SAMPLE(fits);
  const fs::path gz = path("gd1.fits.gz");
  if (!gzip_copy(fits, gz)) GTEST_SKIP() << "gzip is not available";
  const nn::Catalog catalog = nn::read_catalog(gz);
  ASSERT_EQ(catalog.rows(), 3724);
  EXPECT_EQ(catalog.column("i_mean_psf_mag")[0], std::bit_cast<double>(gd1_first_i_bits));
  EXPECT_TRUE(contains(message_of([&] { nn::write_catalog(path("out.fits.gz"), catalog); }), "read-only"));
  EXPECT_FALSE(fs::exists(path("out.fits.gz")));
}

std::vector<std::string> cells(std::initializer_list<std::string> rows) { return rows; }

// Three rows of every column type; row 1 holds the nulls (TNULL compares the stored integer,
// before scaling), and 99/-99 appear elsewhere.
void write_every_type(const fs::path& path) {
  const float nan_f = std::numeric_limits<float>::quiet_NaN();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  using std::int16_t, std::int32_t, std::int64_t;
  FitsFileBuilder()
      .table("TYPES",
             {{"b", "1B", cells({"\x07", "\xff", "c"}), {{"TNULL", "255"}}},  // 'c' is 99
              {"i",
               "1I",
               cells({big_endian<int16_t>(1000), big_endian<int16_t>(-32768), big_endian<int16_t>(-5)}),
               {{"TNULL", "-32768"}}},
              {"u16",
               "1I",
               cells({big_endian<int16_t>(32767), big_endian<int16_t>(-32768), big_endian<int16_t>(7232)}),
               {{"TZERO", "32768"}}},
              {"j",
               "1J",
               cells({big_endian<int32_t>(123456789), big_endian<int32_t>(-1), big_endian<int32_t>(-99)}),
               {{"TNULL", "-1"}}},
              {"k",
               "1K",
               cells({big_endian<int64_t>(637987125186749568), big_endian<int64_t>(0), big_endian<int64_t>(-42)}),
               {{"TNULL", "0"}}},
              {"e", "1E", cells({big_endian(1.5f), big_endian(nan_f), big_endian(99.0f)})},
              {"d", "1D", cells({big_endian(0.1), big_endian(nan), big_endian(-99.0)})},
              {"scaled",
               "1J",
               cells({big_endian<int32_t>(1500), big_endian<int32_t>(0), big_endian<int32_t>(-2000)}),
               {{"TSCAL", "0.001"}, {"TZERO", "10"}, {"TNULL", "0"}}},
              {"flag", "1L", cells({"T", std::string(1, '\0'), "F"})},
              {"name", "8A", cells({"alpha   ", "beta    ", "gamma   "})},
              {"vec", "2D",
               cells({big_endian(1.0) + big_endian(2.0), big_endian(3.0) + big_endian(4.0),
                      big_endian(5.0) + big_endian(6.0)})},
              {"bits", "8X", cells({"\x01", "\x02", "\x03"})}})
      .save(path);
}

TEST_F(CatalogFits, EveryNumericTypeWithNulls) {
  write_every_type(path("types.fits"));
  const nn::Catalog catalog = nn::read_catalog(path("types.fits"));
  ASSERT_EQ(catalog.rows(), 3);
  EXPECT_EQ(catalog.names(), (std::vector<std::string>{"b", "i", "u16", "j", "k", "e", "d", "scaled", "flag"}));
  const auto expect = [&](const std::string& name, double first, double third) {
    const std::vector<double>& column = catalog.column(name);
    EXPECT_EQ(column[0], first) << name;
    EXPECT_TRUE(std::isnan(column[1])) << name << " row 1 is null";
    if (std::isnan(third)) {
      EXPECT_TRUE(std::isnan(column[2])) << name << " row 2 is 99 or -99";
    } else {
      EXPECT_EQ(column[2], third) << name;
    }
  };
  const double missing = std::nan("");
  expect("b", 7, missing);
  expect("i", 1000, -5);
  expect("j", 123456789, missing);
  expect("k", 637987125186749568.0, -42);
  expect("e", 1.5, missing);
  expect("d", 0.1, missing);
  expect("scaled", 11.5, 8);
  expect("flag", 1, 0);
  // TZERO 32768 makes I unsigned: no TNULL here, so row 1 is plain 0.
  EXPECT_EQ(catalog.column("u16"), (std::vector<double>{65535, 0, 40000}));
}

TEST_F(CatalogFits, UnreadableColumnsAreNamedWhenRequested) {
  write_every_type(path("types.fits"));
  const auto request = [&](const std::string& name) {
    return message_of([&] { nn::read_catalog(path("types.fits"), {.columns = {name}}); });
  };
  EXPECT_TRUE(contains(request("name"), "column 'name' of catalogue '" + path("types.fits").string() +
                                            "' is not numeric: it holds text"));
  EXPECT_TRUE(contains(request("vec"), "column 'vec'"));
  EXPECT_TRUE(contains(request("vec"), "holds 2 values per row"));
  EXPECT_TRUE(contains(request("bits"), "holds bits"));
  EXPECT_EQ(nn::read_catalog(path("types.fits"), {.columns = {"flag", "k"}}).names(),
            (std::vector<std::string>{"flag", "k"}));
}

void write_several_hdus(const fs::path& path) {
  FitsFileBuilder(10)
      .image_extension("PIX", 16)
      .table("FIRST", {{"a", "1D", cells({big_endian(1.0), big_endian(2.0)})}})
      .table("SECOND", {{"a", "1D", cells({big_endian(3.0), big_endian(4.0), big_endian(5.0)})},
                        {"z", "1E", cells({big_endian(0.5f), big_endian(0.25f), big_endian(0.125f)})}})
      .save(path);
}

TEST_F(CatalogFits, HduByNameOrNumber) {
  const fs::path fits = path("hdus.fits");
  write_several_hdus(fits);
  const auto column_a = [&](const std::string& hdu) { return nn::read_catalog(fits, {.hdu = hdu}).column("a"); };
  EXPECT_EQ(column_a(""), (std::vector<double>{1, 2}));  // the first table, past both images
  EXPECT_EQ(column_a("FIRST"), (std::vector<double>{1, 2}));
  EXPECT_EQ(column_a("2"), (std::vector<double>{1, 2}));
  EXPECT_EQ(column_a("second"), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(column_a("3"), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(nn::catalog_columns(fits, {.hdu = "SECOND"}), (std::vector<std::string>{"a", "z"}));

  EXPECT_TRUE(contains(message_of([&] { column_a("1"); }),
                       "HDU '1' of FITS file '" + fits.string() + "' is an image, not a table"));
  EXPECT_TRUE(contains(message_of([&] { column_a("0"); }), "is an image"));
  const std::string unknown = message_of([&] { column_a("THIRD"); });
  EXPECT_TRUE(contains(unknown, "has no HDU 'THIRD'"));
  EXPECT_TRUE(contains(unknown, "1 'PIX' (image), 2 'FIRST' (binary table), 3 'SECOND' (binary table)"));
  EXPECT_TRUE(contains(message_of([&] { column_a("9"); }), "has no HDU '9'"));
}

TEST_F(CatalogFits, AsciiTableWithTextNulls) {
  FitsFileBuilder()
      .ascii_table("TEXT", {{"x", "F8.3", 1}, {"n", "I4", 9, "-999"}, {"name", "A5", 13}},
                   {"   1.500  12alpha", "  -2.250-999beta ", "  99.000   7gamma"})
      .save(path("ascii.fits"));
  const nn::Catalog catalog = nn::read_catalog(path("ascii.fits"));
  EXPECT_EQ(catalog.names(), (std::vector<std::string>{"x", "n"}));
  EXPECT_EQ(catalog.column("x")[0], 1.5);
  EXPECT_EQ(catalog.column("x")[1], -2.25);
  EXPECT_TRUE(std::isnan(catalog.column("x")[2]));  // 99
  EXPECT_EQ(catalog.column("n")[0], 12);
  EXPECT_TRUE(std::isnan(catalog.column("n")[1]));  // TNULL '-999'
  EXPECT_EQ(catalog.column("n")[2], 7);
  EXPECT_TRUE(
      contains(message_of([&] { nn::CatalogAugmenter(path("ascii.fits"), path("out.fits"), {"y"}); }), "ASCII table"));
}

TEST_F(CatalogFits, FileWithoutTableIsAnError) {
  FitsFileBuilder(8).save(path("image.fits"));
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(path("image.fits")); }), "has no table HDU"));
}

TEST_F(CatalogFits, WrittenTableHoldsDoubleColumnsBitExact) {
  const double nan = std::nan("");
  nn::Catalog catalog("memory");
  catalog.add_column("x", {0.1, -0.0, 5e-324, 1.7976931348623157e308, nan});
  catalog.add_column("source_id", {637987125186749568.0, 1, 2, 3, 4});
  nn::write_catalog(path("out.fits"), catalog);

  const nn::Catalog back = nn::read_catalog(path("out.fits"));
  EXPECT_EQ(back.names(), catalog.names());
  EXPECT_TRUE(same_bits(back.column("x"), catalog.column("x")));
  EXPECT_TRUE(same_bits(back.column("source_id"), catalog.column("source_id")));

  // The same values, read by the hand parser: a D column of big-endian IEEE doubles.
  const std::vector<FitsHdu> hdus = parse_fits(path("out.fits"));
  ASSERT_EQ(hdus.size(), 2u);
  EXPECT_EQ(hdus[1].keys.at("XTENSION"), "BINTABLE");
  EXPECT_EQ(hdus[1].keys.at("TFORM1"), "1D");
  EXPECT_EQ(hdus[1].number("NAXIS2"), 5);
  EXPECT_EQ(hdus[1].cell<double>("x", 0), 0.1);
  EXPECT_TRUE(std::isnan(hdus[1].cell<double>("x", 4)));
  EXPECT_EQ(hdus[1].cell<double>("source_id", 0), 637987125186749568.0);
}

// Columns with a unit and integer ones (ColumnInfo): TUNITn where a unit is given (an empty one
// too), K with TNULL for integers, NaN read back as missing, and a value that is not a whole number
// within 2^53 refused by the column's name, leaving no file.
TEST_F(CatalogFits, WrittenTableKeepsUnitsAndIntegers) {
  const double nan = std::nan("");
  nn::Catalog catalog("memory");
  catalog.add_column("R", {8.1, 9.5, 10.25}, {"kpc"});
  catalog.add_column("id", {1237650000002.0, -7, nan}, {"", true});
  catalog.add_column("plain", {1, 2, 3});
  nn::write_catalog(path("out.fits"), catalog);
  const std::vector<FitsHdu> hdus = parse_fits(path("out.fits"));
  ASSERT_EQ(hdus.size(), 2u);
  EXPECT_EQ(hdus[1].keys.at("TUNIT1"), "kpc");
  EXPECT_EQ(hdus[1].keys.at("TUNIT2"), "");
  EXPECT_EQ(hdus[1].keys.count("TUNIT3"), 0u);
  EXPECT_EQ(hdus[1].keys.at("TFORM2"), "1K");
  EXPECT_EQ(hdus[1].keys.at("TFORM3"), "1D");
  EXPECT_EQ(hdus[1].cell<std::int64_t>("id", 0), 1237650000002);
  EXPECT_EQ(hdus[1].cell<std::int64_t>("id", 1), -7);
  const nn::Catalog back = nn::read_catalog(path("out.fits"));
  EXPECT_EQ(back.column("id")[0], 1237650000002.0);
  EXPECT_TRUE(std::isnan(back.column("id")[2]));  // the TNULL value reads as missing

  nn::Catalog bad("memory");
  bad.add_column("count", {1, 2.5}, {"", true});
  EXPECT_TRUE(contains(message_of([&] { nn::write_catalog(path("bad.fits"), bad); }),
                       "integer column 'count' holds 2.5, not a whole number within 2^53"));
  EXPECT_FALSE(fs::exists(path("bad.fits")));
}

// convert carries numbers as doubles: a column it would round (64-bit integers such as object
// ids) or drop (text, vectors, bits) is refused by name, and --columns leaves it out.
TEST_F(CatalogFits, ConvertRefusesColumnsItCannotCarryExactly) {
  write_every_type(path("every.fits"));
  EXPECT_TRUE(contains(message_of([&] { nn::convert_catalog(path("every.fits"), path("out.csv")); }),
                       "column 'k' holds 64-bit integers beyond 2^53 (row 1: 637987125186749568)"));
  EXPECT_FALSE(fs::exists(path("out.csv")));
  EXPECT_TRUE(contains(message_of([&] {
                         nn::convert_catalog(path("every.fits"), path("out.csv"), {.columns = {"d", "name"}});
                       }),
                       "name"));
  nn::convert_catalog(path("every.fits"), path("out.csv"), {.columns = {"b", "i", "j", "e", "d", "flag"}});
  EXPECT_EQ(nn::read_catalog(path("out.csv")).names(), (std::vector<std::string>{"b", "i", "j", "e", "d", "flag"}));
}

TEST_F(CatalogFits, ConvertRefusesCsvIdentifiersADoubleCannotHold) {
  write_text("ids.csv", "objid,g\n1237663542601367552,17.5\n1237663542601367553,18.25\n");
  const std::string message = message_of([&] { nn::convert_catalog(path("ids.csv"), path("ids.fits")); });
  // ...552 is a multiple of 256, which doubles hold exactly at that size; ...553 is not.
  EXPECT_TRUE(contains(message, "line 3, column 'objid': 1237663542601367553 is an integer a double cannot hold"));
  EXPECT_FALSE(fs::exists(path("ids.fits")));
  write_text("names.csv", "name,g\nalpha,17.5\nbeta,18.25\n");
  EXPECT_TRUE(contains(message_of([&] { nn::convert_catalog(path("names.csv"), path("names.fits")); }),
                       "column 'name' holds text"));
  nn::convert_catalog(path("ids.csv"), path("ids.fits"), {.columns = {"g"}});
  EXPECT_EQ(nn::read_catalog(path("ids.fits")).column("g"), (std::vector<double>{17.5, 18.25}));
  // Integers a double holds exactly pass, however long their spelling.
  write_text("small.csv", "n\n0009007199254740992\n-12\n");
  nn::convert_catalog(path("small.csv"), path("small.fits"));
  EXPECT_EQ(nn::read_catalog(path("small.fits")).column("n"), (std::vector<double>{9007199254740992.0, -12}));
}

const fs::path fits_regressions = fs::path(STARNN_SOURCE_DIR) / "tests" / "fuzz" / "regressions" / "fuzz_fits_catalog";

// A header card of bytes above 0x7E overflows a buffer inside CFITSIO, which glibc answers by
// aborting; such a file is refused before CFITSIO reads it (an input the FITS fuzzer found),
// compressed or not.
TEST_F(CatalogFits, HeadersThatAreNotAsciiAreRefusedBeforeCfitsioReadsThem) {
  const fs::path damaged = fits_regressions / "non_ascii_header_overflows_cfitsio.fits";
  const std::string account =
      "the header in block 2 has a card with byte 129 at column 10, which is not printable ASCII";
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(damaged); }), account));
  if (!gzip_copy(damaged, path("damaged.fits.gz"))) GTEST_SKIP() << "gzip is not available";
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(path("damaged.fits.gz")); }), "damaged.fits.gz': " + account));
}

// CFITSIO allocates at once the uncompressed size a gzip trailer states: 15 bytes stating
// 2.3 GB exhausted the FITS fuzzer's memory. A stated size that deflate cannot reach from the
// file's length is refused, as is a damaged stream.
TEST_F(CatalogFits, GzipFilesStatingImpossibleSizesOrCutShortAreRefused) {
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(fits_regressions / "gzip_too_short_stating_2_gib.fits"); }),
                       "is 15 bytes long, too short for a gzip file"));
  const fs::path fits = real_sample("gd1_ps1_photometry.fits");
  CATALOG_REQUIRE_SAMPLE(fits);
  if (!gzip_copy(fits, path("gd1.fits.gz"))) GTEST_SKIP() << "gzip is not available";
  std::string bytes = read_text(path("gd1.fits.gz"));
  const std::size_t length = bytes.size();
  ASSERT_LT(length * 1032, 0xFFFFFFFFu);
  bytes.replace(length - 4, 4, "\xff\xff\xff\xff");
  write_text("stating.fits.gz", bytes);
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(path("stating.fits.gz")); }),
                       "its gzip trailer states an uncompressed size of 4294967295 bytes, more than deflate can "
                       "expand its " +
                           std::to_string(length) + " bytes to"));
  // Cut short, the stream's last bytes state no size its length can hold ...
  write_text("cut.fits.gz", read_text(path("gd1.fits.gz")).substr(0, length / 2));
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(path("cut.fits.gz")); }), "the file is damaged"));
  // ... and a damaged stream with a sound trailer is zlib's to find.
  bytes = read_text(path("gd1.fits.gz"));
  bytes[length / 2] = char(~bytes[length / 2]);
  write_text("flipped.fits.gz", bytes);
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(path("flipped.fits.gz")); }),
                       "flipped.fits.gz': its gzip compression is damaged (zlib: "));
}

// CFITSIO opens zip, bzip2, pack, compress and LZH files by their first two bytes too, and takes
// a zip file's size from it unchecked; those are refused.
TEST_F(CatalogFits, CompressionsOtherThanGzipAreRefused) {
  write_text("table.fits", std::string("PK\x03\x04") + std::string(60, '\xff'));
  EXPECT_TRUE(
      contains(message_of([&] { nn::read_catalog(path("table.fits")); }),
               "table.fits' is compressed with zip, which is not read; decompress it, or compress it with gzip"));
  write_text("table.fits", "BZh91AY&SY" + std::string(60, 'x'));
  EXPECT_TRUE(contains(message_of([&] { nn::read_catalog(path("table.fits")); }), "is compressed with bzip2"));
}

}  // namespace
