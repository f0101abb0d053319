// Writes the seed corpora of the fuzz targets from the project's own files, into SEEDS/<target>:
// the network files of data/nets and tests/data/nets; a model trained for one epoch from
// tests/data/nets/tiny.json; the first rows of the shipped SEGUE sample as CSV, as FITS and as
// gzip-compressed FITS.
//   make_fuzz_seeds SOURCE_DIR SEEDS
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "nn/catalog.h"
#include "nn/error.h"
#include "nn/network_file.h"
#include "nn/training_run.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_fuzz_seeds SOURCE_DIR SEEDS\n");
    return 2;
  }
  const fs::path source = argv[1], seeds = argv[2];
  try {
    fs::remove_all(seeds);
    for (const char* target : {"fuzz_network_file", "fuzz_model_file", "fuzz_csv_catalog", "fuzz_fits_catalog"})
      fs::create_directories(seeds / target);
    for (const fs::path folder : {source / "data" / "nets", source / "tests" / "data" / "nets"})
      for (const auto& entry : fs::directory_iterator(folder))
        if (entry.path().extension() == ".json")
          fs::copy_file(entry.path(), seeds / "fuzz_network_file" / entry.path().filename());

    nn::NetworkFile tiny = nn::read_network_file(source / "tests" / "data" / "nets" / "tiny.json");
    tiny.training.epochs = 1;
    const fs::path run = seeds / "run";
    {
      nn::TrainingRun training(tiny, run);
      training.train();
    }
    fs::copy_file(run / "best.safetensors", seeds / "fuzz_model_file" / "tiny_best.safetensors");
    fs::copy_file(run / "last.safetensors", seeds / "fuzz_model_file" / "tiny_last.safetensors");
    fs::remove_all(run);

    const nn::Catalog segue = nn::read_catalog(source / "data" / "sdss_segue_feh.fits");
    nn::Catalog head(segue.source(), 12);
    for (const std::string& name : segue.names()) {
      const std::vector<double>& column = segue.column(name);
      head.add_column(name, std::vector<double>(column.begin(), column.begin() + 12));
    }
    nn::write_catalog(seeds / "fuzz_csv_catalog" / "segue_head.csv", head);
    nn::write_catalog(seeds / "fuzz_fits_catalog" / "segue_head.fits", head);
    std::ifstream fits(seeds / "fuzz_fits_catalog" / "segue_head.fits", std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(fits), {}};
    const fs::path gzip = seeds / "fuzz_fits_catalog" / "segue_head.fits.gz";
    gzFile compressed = gzopen(gzip.c_str(), "wb");
    if (!compressed || gzwrite(compressed, bytes.data(), unsigned(bytes.size())) != int(bytes.size()) ||
        gzclose(compressed) != Z_OK)
      throw nn::Error("cannot write " + gzip.string());
  } catch (const nn::Error& e) {
    std::fprintf(stderr, "make_fuzz_seeds: %s\n", e.message().c_str());
    return 1;
  }
  return 0;
}
