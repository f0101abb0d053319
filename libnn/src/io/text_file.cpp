#include <fstream>

#include "nn/error.h"
#include "nn/io.h"
#include "temporary_file.h"

namespace nn {

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  TemporaryFile temp(path);
  {
    std::ofstream out(temp.path(), std::ios::binary);
    out << text;
    out.flush();
    if (!out) throw Error(str("cannot write '", path.string(), "'"));
  }
  temp.commit();
}

}  // namespace nn
