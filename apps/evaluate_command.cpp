// starnn evaluate: the precision of a model on a labelled catalogue, as one JSON object.
#include <cstdio>

#include "cli.h"
#include "nn/evaluation.h"

namespace starnn {

int evaluate_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"model", "catalog", "split", "hdu"}, {});
  if (!args.positionals().empty()) throw nn::Error(nn::str("evaluate takes no positional argument ('", args.positionals()[0], "')"));
  nn::Model model = nn::Model::load(args.require("model"));
  const std::string path = args.require("catalog");
  const nn::SplitChoice split = nn::parse_split_choice(args.get("split").value_or("all"));
  nn::DataSpec data = model.file().data;
  data.hdu = args.get("hdu").value_or(data.hdu);
  const nn::Catalog catalog =
      nn::read_catalog(path, {data.hdu, nn::data_columns(data, nn::catalog_columns(path, {data.hdu, {}}))});
  std::printf("%s\n", nn::to_json(nn::evaluate_model(model, catalog, split)).c_str());
  return 0;
}

}  // namespace starnn
