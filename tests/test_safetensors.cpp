#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "nn/error.h"
#include "nn/io.h"
#include "scratch_dir.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::byte> file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto bytes = std::as_bytes(std::span(text));
  return {bytes.begin(), bytes.end()};
}

void write_raw(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

// A file laid out by hand: the 8-byte length, the header as given, then data_bytes bytes.
std::string raw_file(const std::string& header, std::size_t data_bytes) {
  std::string content;
  for (int i = 0; i < 8; ++i) content += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return content + header + std::string(data_bytes, '\x01');
}

class SafetensorsTest : public ScratchDir {
 protected:
  // Every kind of tensor the format holds, including a scalar and empty ones.
  static nn::SafetensorsFile sample() {
    nn::SafetensorsFile file;
    file.metadata["network"] =
        R"({"format": "starnn-net/1", "model": {"type": "mlp", "note": "a \"quoted\" \\ word"}})";
    file.metadata["targets"] = "T_eff [K], σ";
    file.metadata["empty"] = "";
    const std::vector<float> weight = {0.5F, -1.0F, 2.0F, 3.25F, 1e-30F, -4.0F};
    const std::vector<double> bias = {0.125, -0.25, 1e300};
    const std::vector<std::int64_t> step = {INT64_MIN};
    const std::vector<std::int64_t> labels = {-3, 7, INT64_MAX, 0};
    file.tensors.push_back(nn::make_tensor("dense.weight", {2, 3}, weight));
    file.tensors.push_back(nn::make_tensor("dense.bias", {3}, bias));
    file.tensors.push_back(nn::make_tensor("nothing", {0}, std::vector<float>{}));
    file.tensors.push_back(nn::make_tensor("step", {}, step));
    file.tensors.push_back(nn::make_tensor("also nothing", {2, 0}, std::vector<double>{}));
    file.tensors.push_back(nn::make_tensor("labels", {4}, labels));
    return file;
  }
};

TEST_F(SafetensorsTest, RoundTripKeepsValuesShapesOrderAndMetadata) {
  const nn::SafetensorsFile written = sample();
  nn::write_safetensors(dir_ / "m.safetensors", written);
  const nn::SafetensorsFile read = nn::read_safetensors(dir_ / "m.safetensors");

  EXPECT_EQ(read.metadata, written.metadata);
  EXPECT_EQ(read.source, dir_ / "m.safetensors");
  ASSERT_EQ(read.tensors.size(), written.tensors.size());
  for (std::size_t i = 0; i < read.tensors.size(); ++i) {
    EXPECT_EQ(read.tensors[i].name, written.tensors[i].name);
    EXPECT_EQ(read.tensors[i].dtype, written.tensors[i].dtype);
    EXPECT_EQ(read.tensors[i].shape, written.tensors[i].shape);
    EXPECT_EQ(read.tensors[i].bytes, written.tensors[i].bytes);
  }
  EXPECT_EQ(read.tensor("dense.weight").values<float>({2, 3}),
            (std::vector<float>{0.5F, -1.0F, 2.0F, 3.25F, 1e-30F, -4.0F}));
  EXPECT_EQ(read.tensor("dense.bias").values<double>(), (std::vector<double>{0.125, -0.25, 1e300}));
  EXPECT_EQ(read.tensor("step").values<std::int64_t>({}), std::vector<std::int64_t>{INT64_MIN});
  EXPECT_EQ(read.tensor("step").element_count(), 1);
  EXPECT_TRUE(read.tensor("nothing").values<float>({0}).empty());
  EXPECT_TRUE(read.tensor("also nothing").values<double>({2, 0}).empty());
  EXPECT_EQ(read.tensor("labels").values<std::int64_t>(), (std::vector<std::int64_t>{-3, 7, INT64_MAX, 0}));
}

TEST_F(SafetensorsTest, EmptyFileRoundTrips) {
  nn::write_safetensors(dir_ / "e.safetensors", {});
  const nn::SafetensorsFile read = nn::read_safetensors(dir_ / "e.safetensors");
  EXPECT_TRUE(read.metadata.empty());
  EXPECT_TRUE(read.tensors.empty());
  EXPECT_EQ(file_bytes(dir_ / "e.safetensors").size(), 16U);  // length, "{}" and six spaces of padding
}

TEST_F(SafetensorsTest, LayoutMatchesHandWrittenBytes) {
  nn::SafetensorsFile file;
  file.metadata["k"] = "v";
  file.tensors.push_back(nn::make_tensor("a", {2}, std::vector<float>{1.0F, -2.0F}));
  file.tensors.push_back(nn::make_tensor("b", {}, std::vector<std::int64_t>{258}));
  nn::write_safetensors(dir_ / "tiny.safetensors", file);

  // The metadata first, then the tensors in the order given, each entry's keys in the
  // reference order; the header is padded with spaces to a multiple of 8 bytes.
  const std::string header = R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}    )";
  ASSERT_EQ(header.size(), 136U);
  std::string expected("\x88\0\0\0\0\0\0\0", 8);
  expected += header;
  expected += std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);  // 1.0F, -2.0F
  expected += std::string("\x02\x01\0\0\0\0\0\0", 8);              // 258
  const auto bytes = std::as_bytes(std::span(expected));
  EXPECT_EQ(file_bytes(dir_ / "tiny.safetensors"), std::vector<std::byte>(bytes.begin(), bytes.end()));
}

TEST_F(SafetensorsTest, EqualInputsGiveIdenticalFiles) {
  nn::write_safetensors(dir_ / "one.safetensors", sample());
  nn::write_safetensors(dir_ / "two.safetensors", sample());
  EXPECT_EQ(file_bytes(dir_ / "one.safetensors"), file_bytes(dir_ / "two.safetensors"));
  EXPECT_EQ(file_bytes(dir_ / "one.safetensors").size() % 8, 0U);
}

TEST_F(SafetensorsTest, ValuesRejectWrongDtypeAndShape) {
  const nn::NamedTensor tensor = nn::make_tensor("w", {2, 2}, std::vector<float>{1, 2, 3, 4});
  EXPECT_THROW((void)tensor.values<double>(), nn::Error);
  EXPECT_THROW((void)tensor.values<std::int64_t>(), nn::Error);
  try {
    (void)tensor.values<float>({4});
    FAIL() << "a shape mismatch was accepted";
  } catch (const nn::Error& e) {
    EXPECT_EQ(e.message(), "tensor 'w' has shape [2, 2], expected [4]");
  }
  EXPECT_THROW(nn::make_tensor("w", {3}, std::vector<float>{1, 2}), nn::Error);
  EXPECT_THROW(nn::make_tensor("w", {-1}, std::vector<float>{}), nn::Error);
}

TEST_F(SafetensorsTest, MissingTensorAndMetadataNameTheFile) {
  nn::write_safetensors(dir_ / "m.safetensors", sample());
  const nn::SafetensorsFile read = nn::read_safetensors(dir_ / "m.safetensors");
  EXPECT_EQ(read.find("absent"), nullptr);
  ASSERT_NE(read.find("labels"), nullptr);
  EXPECT_EQ(read.metadata_value("targets"), "T_eff [K], σ");
  for (const auto& lookup : {+[](const nn::SafetensorsFile& f) { (void)f.tensor("absent"); },
                             +[](const nn::SafetensorsFile& f) { (void)f.metadata_value("absent"); }}) {
    try {
      lookup(read);
      FAIL() << "a missing entry was found";
    } catch (const nn::Error& e) {
      EXPECT_NE(e.message().find("m.safetensors"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("'absent'"), std::string::npos) << e.message();
    }
  }
}

TEST_F(SafetensorsTest, WriteRejectsInconsistentTensorsWithoutTouchingTheTarget) {
  const fs::path path = dir_ / "bad.safetensors";
  nn::SafetensorsFile wrong_size;
  wrong_size.tensors.push_back(nn::make_tensor("w", {2}, std::vector<float>{1, 2}));
  wrong_size.tensors[0].shape = {3};
  nn::SafetensorsFile duplicate = sample();
  duplicate.tensors.push_back(duplicate.tensors[0]);
  nn::SafetensorsFile reserved;
  reserved.tensors.push_back(nn::make_tensor("__metadata__", {1}, std::vector<float>{1}));
  nn::SafetensorsFile bad_utf8;
  bad_utf8.metadata["k"] = "\xff";

  for (const nn::SafetensorsFile& file : {wrong_size, duplicate, reserved, bad_utf8}) {
    try {
      nn::write_safetensors(path, file);
      FAIL() << "an inconsistent file was written";
    } catch (const nn::Error& e) {
      EXPECT_NE(e.message().find("bad.safetensors"), std::string::npos) << e.message();
    }
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(SafetensorsTest, WriteLeavesNoTemporaryAndReplacesTheOldFile) {
  write_raw(dir_ / "m.safetensors", "old content");
  nn::write_safetensors(dir_ / "m.safetensors", sample());
  EXPECT_EQ(entries(), std::vector<std::string>{"m.safetensors"});
  EXPECT_EQ(nn::read_safetensors(dir_ / "m.safetensors").tensors.size(), sample().tensors.size());
}

TEST_F(SafetensorsTest, WriteIntoMissingDirectoryFailsNamingThePath) {
  const fs::path path = dir_ / "absent" / "m.safetensors";
  try {
    nn::write_safetensors(path, sample());
    FAIL() << "wrote into a missing directory";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find(path.string()), std::string::npos) << e.message();
  }
  EXPECT_TRUE(entries().empty());
}

TEST_F(SafetensorsTest, FailedRenameRemovesTheTemporary) {
  // A non-empty directory cannot be renamed over, so the failure comes after the
  // temporary was complete.
  const fs::path target = dir_ / "m.safetensors";
  fs::create_directories(target / "inside");
  EXPECT_THROW(nn::write_safetensors(target, sample()), nn::Error);
  EXPECT_EQ(entries(), std::vector<std::string>{"m.safetensors"});
  EXPECT_TRUE(fs::is_directory(target / "inside"));
}

// Caps the size of files this process may write, so a write fails halfway as on a full disk.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_limit_);
    rlimit limit = old_limit_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_limit_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_limit_{};
  void (*old_handler_)(int) = nullptr;
};

TEST_F(SafetensorsTest, FailedWriteKeepsTheOldFile) {
  const fs::path path = dir_ / "m.safetensors";
  write_raw(path, "old content");
  nn::SafetensorsFile big;
  big.tensors.push_back(nn::make_tensor("w", {4096}, std::vector<float>(4096, 1.0F)));
  {
    const FileSizeLimit limit(1024);
    EXPECT_THROW(nn::write_safetensors(path, big), nn::Error);
  }
  EXPECT_EQ(entries(), std::vector<std::string>{"m.safetensors"});
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "old content");
}

TEST_F(SafetensorsTest, ReadingAMissingFileNamesIt) {
  try {
    (void)nn::read_safetensors(dir_ / "absent.safetensors");
    FAIL() << "read a missing file";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find("absent.safetensors"), std::string::npos) << e.message();
  }
}

struct Corruption {
  std::string name;
  std::string content;  // the whole file
  std::string problem;  // a phrase the message must contain
};

void PrintTo(const Corruption& corruption, std::ostream* out) { *out << corruption.name; }

class SafetensorsCorrupt : public SafetensorsTest, public testing::WithParamInterface<Corruption> {};

TEST_P(SafetensorsCorrupt, IsRejectedWithAnErrorNamingFileAndProblem) {
  const fs::path path = dir_ / "corrupt.safetensors";
  write_raw(path, GetParam().content);
  try {
    (void)nn::read_safetensors(path);
    FAIL() << "a corrupt file was accepted";
  } catch (const nn::Error& e) {
    EXPECT_NE(e.message().find(path.string()), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(GetParam().problem), std::string::npos) << e.message();
  }
}

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return nn::str('"', name, R"(":{"dtype":")", dtype, R"(","shape":)", shape, R"(,"data_offsets":)", offsets, "}");
}

const std::string kF32x2 = entry("a", "F32", "[2]", "[0,8]");

INSTANTIATE_TEST_SUITE_P(
    Safetensors, SafetensorsCorrupt,
    testing::Values(
        Corruption{"Empty", "", "truncated"},
        Corruption{"ShorterThanTheLength", std::string("\x10\0\0", 3), "truncated"},
        Corruption{"HeaderLongerThanFile", raw_file("{}", 0).replace(0, 1, "\x40"), "larger than the 2 bytes"},
        Corruption{"HugeHeaderLength", std::string(8, '\xff') + "{}", "larger than"},
        Corruption{"InvalidJson", raw_file("{\"a\":", 0), "not valid JSON"},
        Corruption{"TrailingGarbage", raw_file("{} x", 0), "not valid JSON"},
        Corruption{"InvalidUtf8", raw_file("{\"\xff\":1}", 0), "not valid JSON"},
        Corruption{"NotAnObject", raw_file("[1,2]", 0), "must be a JSON object, not array"},
        Corruption{"UnknownDtype", raw_file("{" + entry("a", "BF16", "[2]", "[0,4]") + "}", 4), "\"BF16\""},
        Corruption{"DtypeNotAString", raw_file(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8), "dtype 4"},
        Corruption{"OffsetsPastTheData", raw_file("{" + kF32x2 + "}", 4), "run past the 4 bytes"},
        Corruption{"OffsetsReversed", raw_file("{" + entry("a", "F32", "[0]", "[8,0]") + "}", 8), "end before"},
        Corruption{"OffsetsNotAPair", raw_file("{" + entry("a", "F32", "[2]", "[0,8,8]") + "}", 8), "needs 2"},
        Corruption{"NegativeOffset", raw_file("{" + entry("a", "F32", "[2]", "[-8,0]") + "}", 8), "-8"},
        Corruption{"Overlap", raw_file("{" + kF32x2 + "," + entry("b", "F32", "[2]", "[4,12]") + "}", 12), "overlaps"},
        Corruption{"Gap", raw_file("{" + entry("a", "F32", "[2]", "[4,12]") + "}", 12), "belong to no tensor"},
        Corruption{"TrailingData", raw_file("{" + kF32x2 + "}", 12), "after the last tensor"},
        Corruption{"ShapeDoesNotFitBytes", raw_file("{" + entry("a", "F32", "[3]", "[0,8]") + "}", 8), "[3]"},
        Corruption{"ShapeOverflows", raw_file("{" + entry("a", "F64", "[4611686018427387904,4]", "[0,8]") + "}", 8),
                   "does not fit"},
        Corruption{"NegativeDimension", raw_file("{" + entry("a", "F32", "[-2]", "[0,8]") + "}", 8), "-2"},
        Corruption{"FractionalDimension", raw_file("{" + entry("a", "F32", "[2.0]", "[0,8]") + "}", 8), "2.0"},
        Corruption{"MissingOffsets", raw_file(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "'data_offsets'"},
        Corruption{"UnknownKey", raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", 8), "'x'"},
        Corruption{"EntryNotAnObject", raw_file(R"({"a":[1]})", 0), "must be an object"},
        Corruption{"MetadataNotAString", raw_file(R"({"__metadata__":{"epochs":3}})", 0), "'epochs'"},
        Corruption{"MetadataNotAnObject", raw_file(R"({"__metadata__":"x"})", 0), "__metadata__"},
        Corruption{"DuplicateTensor", raw_file("{" + kF32x2 + "," + kF32x2 + "}", 8), "'a' twice"},
        Corruption{"DuplicateMetadataKey", raw_file(R"({"__metadata__":{"k":"1","k":"2"}})", 0), "'k' twice"}),
    [](const testing::TestParamInfo<Corruption>& info) { return info.param.name; });

}  // namespace
