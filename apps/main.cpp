// starnn: train dense residual nets on stellar catalogues, predict, evaluate, convert, map.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli.h"
#include "nn/error.h"

namespace {

const char* const kUsage =
    "usage: starnn <command> [options]\n"
    "\n"
    "commands:\n"
    "  train NET.json [--catalog FILE] [--out DIR] [--epochs N] [--device auto|cpu|cuda]\n"
    "                 [--seed S] [--resume DIR]\n"
    "      train the net a network file describes; writes DIR/best.safetensors,\n"
    "      DIR/last.safetensors, DIR/history.csv and DIR/metrics.json (default DIR: runs/<NET>)\n"
    "  predict --model M --catalog IN --out OUT [--chunk ROWS] [--device auto|cpu|cuda]\n"
    "      add one column per output to a FITS or CSV catalogue, streaming it in chunks\n"
    "  evaluate --model M --catalog FILE [--split all|train|validation|test] [--report DIR]\n"
    "      print n, bias, sigma_gauss, sigma_mad and rmse per target as JSON; --report also\n"
    "      draws PNGs in DIR: the loss history, predicted vs true and residuals per target,\n"
    "      and a classifier's confusion matrix\n"
    "  convert IN OUT [--hdu H] [--columns a,b,...]\n"
    "      convert a catalogue between CSV and FITS (by extension)\n"
    "  show --model M\n"
    "      print the network file a model was trained from (train can run it again)\n"
    "  map --catalog PREDICTED --out DIR [--feh COLUMN] [--relation ivezic2008|quadratic]\n"
    "      [--extinction AR_COLUMN] [--r R] [--g-i GI] [--g-r GR] [--ra RA] [--dec DEC]\n"
    "      [--no-cuts] [--bin KPC] [--min-stars N]\n"
    "      photometric distances and Galactocentric positions of predicted stars; writes\n"
    "      DIR/stars, DIR/map (FITS or CSV as the input) and DIR/map.png, [Fe/H] in (R, |Z|)\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  try {
    if (command == "train") return starnn::train_command(argc, argv);
    if (command == "predict") return starnn::predict_command(argc, argv);
    if (command == "evaluate") return starnn::evaluate_command(argc, argv);
    if (command == "convert") return starnn::convert_command(argc, argv);
    if (command == "show") return starnn::show_command(argc, argv);
    if (command == "map") return starnn::map_command(argc, argv);
    std::fprintf(stderr, "starnn: unknown command '%s'\n\n%s", command.c_str(), kUsage);
    return 2;
  } catch (const nn::Error& e) {
    std::fprintf(stderr, "starnn %s: error: %s\n", command.c_str(), e.message().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "starnn %s: error: %s\n", command.c_str(), e.what());
  }
  return 1;
}
