#include <fstream>

#include "catalog_format.h"
#include "nn/io.h"

namespace nn {

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  catalog_detail::TempFile temp(path);
  {
    std::ofstream out(temp.path(), std::ios::binary);
    out << text;
    out.flush();
    if (!out) throw Error(str("cannot write '", path.string(), "'"));
  }
  temp.commit();
}

}  // namespace nn
