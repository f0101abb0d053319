// starnn: train dense residual nets on stellar catalogues, predict, evaluate, convert, map.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli.h"
#if STARNN_WITH_MPI
#include <mpi.h>
#endif
#include "nn/error.h"
#include "nn/io.h"
#include "nn/ranks.h"
#include "nn/version.h"

namespace {

struct Command {
  const char* name;
  // The synopsis after "starnn ", then what the command does, each line indented by 6.
  const char* usage;
  int (*run)(int, char**);
};

const Command kCommands[] = {
    {"train",
     "train NET.json [--catalog FILE] [--out DIR] [--epochs N] [--device auto|cpu|cuda]\n"
     "                 [--seed S] [--resume DIR] [--overwrite]\n"
     "      train the net a network file describes; writes DIR/best.safetensors,\n"
     "      DIR/last.safetensors, DIR/history.csv and DIR/metrics.json (default DIR: runs/<NET>);\n"
     "      --resume DIR continues the run DIR/last.safetensors holds (--epochs may lengthen it);\n"
     "      a folder that holds a run is refused unless --overwrite; one run writes a folder at a time\n",
     starnn::train_command},
    {"predict",
     "predict --model M --catalog IN --out OUT [--chunk ROWS] [--hdu H] [--device auto|cpu|cuda]\n"
     "                [--mc-samples K] [--precision fp32|bf16]\n"
     "      add <target>_pred (and <target>_err, 1 sigma, where the model predicts an uncertainty),\n"
     "      a classifier's logit and starnn_flags to a FITS or CSV catalogue, streaming it in chunks;\n"
     "      --mc-samples K combines K passes with dropout on (MC dropout) into the mean and sigma;\n"
     "      --precision bf16 runs the products in BF16 with float sums (CPUs with AVX512_BF16 or AMX);\n"
     "      IN a glob ('tiles/*.fits', quoted) or @LIST (a file of paths): one output of the same name\n"
     "      per input in the folder OUT, with OUT/manifest.json of the finished ones, so that running\n"
     "      it again does only what is missing or changed; under mpirun the files are shared among ranks\n",
     starnn::predict_command},
    {"evaluate",
     "evaluate --model M --catalog FILE [--split all|train|validation|test] [--hdu H]\n"
     "                 [--report DIR] [--mc-samples K] [--precision fp32|bf16]\n"
     "      print n, bias, sigma_gauss, sigma_mad and rmse per target as JSON, and for models\n"
     "      that predict an uncertainty its calibration (coverage_68, coverage_95, z_sigma_mad,\n"
     "      residuals per bin of predicted sigma); the split defaults to test on the model's own\n"
     "      training catalogue and to all rows elsewhere; --report also draws PNGs in DIR: the loss\n"
     "      history, predicted vs true, residuals and calibration per target, and a classifier's\n"
     "      confusion matrix\n",
     starnn::evaluate_command},
    {"convert",
     "convert IN OUT [--hdu H] [--columns a,b,...]\n"
     "      convert a catalogue between CSV and FITS (by extension)\n",
     starnn::convert_command},
    {"show",
     "show --model M\n"
     "      print the network file a model was trained from (train can run it again)\n",
     starnn::show_command},
    {"map",
     "map --catalog PREDICTED --out DIR [--feh COLUMN] [--relation ivezic2008|quadratic]\n"
     "      [--extinction AR_COLUMN] [--r R] [--g-i GI] [--g-r GR] [--ra RA] [--dec DEC]\n"
     "      [--no-cuts] [--bin KPC] [--min-stars N] [--hdu H] [--range LO,HI] [--id COLUMN]\n"
     "      photometric distances and Galactocentric positions of predicted stars; writes\n"
     "      DIR/stars (with the input's id column: --id, default its first integer column),\n"
     "      DIR/map (FITS or CSV as the input) and DIR/map.png, the median [Fe/H] in (R, |Z|)\n"
     "      on the colour range LO..HI dex (default -2,0)\n"
     "  map --healpix NSIDE --catalog PREDICTED --out DIR [--feh COLUMN] [--err COLUMN] [--ra RA]\n"
     "      [--dec DEC] [--min-stars N] [--range LO,HI] [--hdu H]\n"
     "      a sky map: per HEALPix pixel (RING, Galactic) the count, mean and median of the\n"
     "      column and of its uncertainty (default <target>_err) over one catalogue, a glob or\n"
     "      @LIST; writes DIR/healpix.fits (a HEALPix map healpy reads) and DIR/sky.png (Mollweide)\n",
     starnn::map_command},
};

bool asks_for_help(const char* arg) { return !std::strcmp(arg, "--help") || !std::strcmp(arg, "-h"); }

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: starnn <command> [options]    (starnn <command> --help: one command's usage)\n"
      "       starnn --version\n\ncommands:\n",
      out);
  for (const Command& c : kCommands) std::fprintf(out, "  %s", c.usage);
}

void print_version() {
  std::printf("starnn %s\n", nn::version());
  for (const std::string& line : nn::backend_descriptions()) std::printf("  %s\n", line.c_str());
  std::printf("  %s\n", nn::Ranks::world().description().c_str());
}

// Under mpirun one rank's error ends every rank (MPI_Abort) with its message, so that no rank
// waits for it at the next barrier; the others' writes in flight leave no partial files (their
// temporaries go with the signal mpirun sends them). With one rank, or when setting up MPI was
// the error, it returns and the error is reported as any other.
void end_every_rank(const std::string& command, const std::string& message) {
#if STARNN_WITH_MPI
  try {
    const nn::Ranks& ranks = nn::Ranks::world();
    if (ranks.size() <= 1) return;
    std::fprintf(stderr, "starnn %s: error on rank %d: %s\n", command.c_str(), ranks.rank(), message.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  } catch (const nn::Error&) {
  }
#else
  (void)command, (void)message;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  // A signal ends the program without leaving the hidden temporary of a file being written.
  nn::remove_temporaries_on_signals();
  if (argc < 2 || asks_for_help(argv[1]) || !std::strcmp(argv[1], "help")) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  try {
    if (name == "--version") {
      print_version();
      return 0;
    }
    for (const Command& command : kCommands) {
      if (name != command.name) continue;
      // --help or -h anywhere after the command: its usage, and nothing run.
      for (int i = 2; i < argc; ++i)
        if (asks_for_help(argv[i])) {
          std::printf("usage: starnn %s", command.usage);
          return 0;
        }
      return command.run(argc, argv);
    }
    std::fprintf(stderr, "starnn: unknown command '%s'\n\n", name.c_str());
    print_usage(stderr);
    return 2;
  } catch (const nn::Error& e) {
    end_every_rank(name, e.message());
    std::fprintf(stderr, "starnn %s: error: %s\n", name.c_str(), e.message().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "starnn %s: error: %s\n", name.c_str(), e.what());
  }
  return 1;
}
