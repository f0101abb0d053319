// starnn show: the network file a model was trained from, every default written out, with
// the catalogue's path made absolute so that `starnn train` can run it again from anywhere.
#include <cstdio>
#include <filesystem>

#include "cli.h"
#include "nn/model.h"

namespace starnn {

int show_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model"}, {});
  args.expect_positionals(0, "starnn show --model M");
  const nn::Model model = nn::Model::load(args.require("model"));
  nn::NetworkFile file = model.file();
  file.data.catalog = std::filesystem::absolute(file.catalog_path()).lexically_normal().string();
  std::printf("%s\n", nn::to_json(file).c_str());
  return 0;
}

}  // namespace starnn
