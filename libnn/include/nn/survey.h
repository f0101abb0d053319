#pragma once
// Whole-survey prediction: a model over many catalogue files (a survey's tiles; Gaia DR3's 3,386
// files of HEALPix ranges), one output per input in a folder, and a manifest of the finished
// parts, so that a run ended anywhere (a crash, a kill, a lost node) is finished by running it
// again, which does only what is missing. Under MPI (nn/ranks.h) the files are shared among the
// ranks, largest first, and a file too large for one rank's share is split among them by rows;
// without it the same call runs them one after another.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "nn/model.h"
#include "nn/ranks.h"

namespace nn {

// What predicting one catalogue gave.
struct FilePrediction {
  Index rows = 0, predicted = 0, outside_range = 0, with_missing = 0;
};

// Writes `out`, a copy of catalogue `in` (every original column kept) with the model's
// predictions (Predictions' columns), streamed `chunk_rows` rows at a time, reading from HDU `hdu`
// (empty: the model's). Atomic: after an error there is no new `out`, and an earlier one is as it
// was. progress(rows done, rows in all) after each chunk.
NN_API FilePrediction predict_file(Model& model, const std::filesystem::path& in, const std::filesystem::path& out,
                                   const PredictOptions& options, Index chunk_rows, const std::string& hdu,
                                   const std::function<void(Index, Index)>& progress = {});

// predict_file by every rank of `ranks` together, each predicting its own chunks of chunk_rows
// rows (rank k of R chunks [kC/R, (k+1)C/R) of C: the very chunks one process predicts, so the
// output has the same bytes); rank 0 gathers the predictions (all of them: 16 bytes a new column
// and row in its memory, at most 2^31 - 1 values a rank) and writes the copy. Each rank reads the
// file up to its last chunk. Returns the counts at rank 0, zeros elsewhere.
NN_API FilePrediction predict_file_on_ranks(Model& model, const std::filesystem::path& in,
                                            const std::filesystem::path& out, const PredictOptions& options,
                                            Index chunk_rows, const std::string& hdu, const Ranks& ranks);

// Whether a --catalog argument names a set of files: a glob pattern (*, ? or [) or @LIST.
NN_API bool names_many_files(const std::string& argument);
// The files a --catalog argument names: a glob ("tiles/*.fits", matched as the shell matches it,
// sorted), or "@list.txt" (one path a line, relative to the list's folder; blank lines and lines
// starting with # skipped). An nn::Error naming the argument where it names no file.
NN_API std::vector<std::filesystem::path> survey_files(const std::string& argument);

// This rank's share of `files`: largest first, each to the rank with the fewest bytes so far
// (the lowest on a tie), so that every rank computes the same shares from the same list.
NN_API std::vector<std::filesystem::path> rank_share(const std::vector<std::filesystem::path>& files,
                                                     const Ranks& ranks);

// The FNV-1a 64-bit hash of a file's bytes, as 16 hex digits: the manifest's checksums.
NN_API std::string file_checksum(const std::filesystem::path& path);

// A finished part, as OUTDIR/manifest.json records it.
struct SurveyPart {
  std::string input;   // the input file, as named
  std::string output;  // the output's name in OUTDIR (the input's own name)
  std::uintmax_t input_bytes = 0, output_bytes = 0;
  std::int64_t input_modified_ns = 0;  // the input's modification time, ns since the epoch
  std::string input_checksum, output_checksum, model_checksum;
  Index rows = 0, predicted = 0;
};

struct SurveyOptions {
  PredictOptions predict;
  Index chunk_rows = 100000;
  std::string hdu;  // empty: the model's
};

struct SurveySummary {
  Index files = 0, done_before = 0, done_now = 0;  // done_now: by this rank
  Index rows = 0, predicted = 0;                   // of the parts this rank did
};

// Predicts every file of `inputs` into out_dir (created if missing) that the manifest does not
// already hold, finished, for the same input (size and modification time) and the same model
// (its checksum). A file larger than a rank's fair share of what is left (its bytes over the
// number of ranks) is predicted by all ranks together (predict_file_on_ranks), first; each rank
// takes its share of the others, largest files first. Each part's output is written
// atomically, then its record (out_dir/.parts/<name>.json); rank 0 writes out_dir/manifest.json
// from every record when all ranks are done. An nn::Error before anything is written for two
// inputs of one name, or an input that is its own output.
// report(line) tells of each part started and finished.
NN_API SurveySummary predict_survey(Model& model, const std::filesystem::path& model_path,
                                    const std::vector<std::filesystem::path>& inputs,
                                    const std::filesystem::path& out_dir, const SurveyOptions& options,
                                    const Ranks& ranks, const std::function<void(const std::string&)>& report = {});

// The manifest's parts (empty where there is none); an nn::Error naming the file if it is damaged.
NN_API std::vector<SurveyPart> read_survey_manifest(const std::filesystem::path& out_dir);

}  // namespace nn
