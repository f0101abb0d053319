// starnn convert: CSV <-> FITS (by extension), the numeric columns or those named.
#include <cstdio>
#include <sstream>

#include "cli.h"
#include "nn/catalog.h"

namespace starnn {

int convert_command(int argc, char** argv) {
  const Arguments args(argc, argv, 2, {"hdu", "columns"}, {});
  args.expect_positionals(2, "starnn convert IN OUT");
  const std::string in = args.positionals()[0], out = args.positionals()[1];
  std::vector<std::string> columns;  // --columns a,b,c: only these, in this order
  std::stringstream list(args.get("columns").value_or(""));
  for (std::string name; std::getline(list, name, ',');)
    if (!name.empty()) columns.push_back(name);
  nn::convert_catalog(in, out, {args.get("hdu").value_or(""), columns});
  std::printf("wrote %s\n", out.c_str());
  return 0;
}

}  // namespace starnn
