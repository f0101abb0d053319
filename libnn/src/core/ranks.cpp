// The run's ranks over MPI, or one (nn/ranks.h).
#include "nn/ranks.h"

#include <cstdlib>
#include <limits>
#include <type_traits>

#include "nn/error.h"

#if STARNN_WITH_MPI
#include <mpi.h>
#endif

namespace nn {
namespace {

// Whether an MPI launcher started this process: each sets its own variables. Checked before
// MPI_Init, because a singleton MPI_Init outside a launcher costs Open MPI a second and may warn.
bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(name)) return true;
  return false;
}

}  // namespace

bool built_with_mpi() { return STARNN_WITH_MPI; }

Ranks::Ranks() {
#if STARNN_WITH_MPI
  if (!launched_by_mpi()) return;
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    // One thread calls MPI; the library's OpenMP threads never do.
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw Error("MPI_Init_thread failed");
    std::atexit([] {
      int finalised = 0;
      MPI_Finalized(&finalised);
      if (!finalised) MPI_Finalize();
    });
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node) != MPI_SUCCESS)
    throw Error("MPI_Comm_split_type failed");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_free(&node);
  mpi_ = true;
#endif
}

Ranks& Ranks::world() {
  static Ranks ranks;
  return ranks;
}

void Ranks::barrier() const {
#if STARNN_WITH_MPI
  if (mpi_ && MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) throw Error("MPI_Barrier failed");
#endif
}

std::vector<double> Ranks::gather(const std::vector<double>& mine) const {
#if STARNN_WITH_MPI
  if (mpi_ && size_ > 1) {
    const long long count = static_cast<long long>(mine.size());
    // Every rank learns every count, so that all refuse a gather too large for MPI's int counts
    // together rather than leave rank 0 waiting in MPI_Gatherv.
    std::vector<long long> counts(std::size_t(size_), 0);
    if (MPI_Allgather(&count, 1, MPI_LONG_LONG, counts.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD) != MPI_SUCCESS)
      throw Error("MPI_Allgather failed");
    long long total = 0;
    for (long long c : counts) total += c;
    if (total > std::numeric_limits<int>::max())
      throw Error(str("gathering ", total, " values at rank 0, more than one MPI message holds (2^31 - 1)"));
    std::vector<int> sizes, offsets;
    for (long long c : counts) {
      offsets.push_back(sizes.empty() ? 0 : offsets.back() + sizes.back());
      sizes.push_back(int(c));
    }
    std::vector<double> all(root() ? std::size_t(total) : 0);
    if (MPI_Gatherv(mine.data(), int(count), MPI_DOUBLE, all.data(), sizes.data(), offsets.data(), MPI_DOUBLE, 0,
                    MPI_COMM_WORLD) != MPI_SUCCESS)
      throw Error("MPI_Gatherv failed");
    return all;
  }
#endif
  return mine;
}

#if STARNN_WITH_MPI
namespace {
template <class T>
MPI_Datatype mpi_type() {
  return std::is_same_v<T, float> ? MPI_FLOAT : MPI_DOUBLE;
}

// MPI counts are ints.
int mpi_count(Index n, const char* what) {
  if (n > std::numeric_limits<int>::max()) throw Error(str(what, ": ", n, " values, more than one MPI message holds"));
  return int(n);
}
}  // namespace
#endif

template <class T>
void Ranks::sum_values(T* values, Index n) const {
#if STARNN_WITH_MPI
  if (mpi_ && size_ > 1 &&
      MPI_Allreduce(MPI_IN_PLACE, values, mpi_count(n, "MPI_Allreduce"), mpi_type<T>(), MPI_SUM, MPI_COMM_WORLD) !=
          MPI_SUCCESS)
    throw Error("MPI_Allreduce failed");
#else
  (void)values, (void)n;
#endif
}

template <class T>
void Ranks::gather_shard_rows(T* rows, Index batch_rows, Index cols) const {
#if STARNN_WITH_MPI
  if (!mpi_ || size_ == 1) return;
  mpi_count(batch_rows * cols, "MPI_Allgatherv");
  std::vector<int> counts, offsets;
  for (int k = 0; k < size_; ++k) {
    offsets.push_back(int(first_row(batch_rows, k, size_) * cols));
    counts.push_back(int(first_row(batch_rows, k + 1, size_) * cols) - offsets.back());
  }
  if (MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, rows, counts.data(), offsets.data(), mpi_type<T>(),
                     MPI_COMM_WORLD) != MPI_SUCCESS)
    throw Error("MPI_Allgatherv failed");
#else
  (void)rows, (void)batch_rows, (void)cols;
#endif
}

void Ranks::sum(float* values, Index n) const { sum_values(values, n); }
void Ranks::sum(double* values, Index n) const { sum_values(values, n); }
void Ranks::gather_rows(float* rows, Index batch_rows, Index cols) const { gather_shard_rows(rows, batch_rows, cols); }
void Ranks::gather_rows(double* rows, Index batch_rows, Index cols) const { gather_shard_rows(rows, batch_rows, cols); }

std::string Ranks::description() const {
#if STARNN_WITH_MPI
  if (!mpi_) return "MPI: built in; one rank (not launched by mpirun, mpiexec or srun)";
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string name(version, std::size_t(length));
  if (const auto comma = name.find(','); comma != std::string::npos) name.resize(comma);
  return str("MPI: ", name, ", ", size_, size_ == 1 ? " rank" : " ranks");
#else
  return "MPI: not in this build (STARNN_MPI=OFF or no libopenmpi-dev)";
#endif
}

}  // namespace nn
