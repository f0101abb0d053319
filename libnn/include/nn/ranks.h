#pragma once
// The processes of one run. Launched by an MPI launcher (mpirun, mpiexec, srun) in a build with
// MPI (STARNN_MPI), they are MPI's world communicator, initialised at the first call of
// Ranks::world(); otherwise, and always in a build without MPI, there is one rank. starnn uses the
// cluster's own MPI as astronomy codes do, with no engine of its own. Ending every rank after an
// error is the program's business (apps/main.cpp calls MPI_Abort); the library only throws.
#include <string>
#include <vector>

#include "nn/export.h"
#include "nn/shards.h"

namespace nn {

// The ranks are also the shards of a data-parallel batch (nn/shards.h): rank k holds shard k, and
// the sums and gathers are MPI_Allreduce and MPI_Allgatherv over MPI_COMM_WORLD.
class NN_API Ranks final : public BatchShards {
 public:
  // The run's ranks: MPI_COMM_WORLD where launched by an MPI launcher, else one. MPI is finalised
  // at exit.
  static Ranks& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  // This rank's place among the ranks on its node (MPI_COMM_TYPE_SHARED): which GPU it takes.
  int local_rank() const { return local_rank_; }
  bool root() const { return rank_ == 0; }

  // Waits until every rank has come here.
  void barrier() const;
  // Every rank's values, concatenated in rank order, at rank 0; the other ranks get none.
  std::vector<double> gather(const std::vector<double>& mine) const;
  int count() const override { return size_; }
  int index() const override { return rank_; }
  void sum(float* values, Index n) const override;
  void sum(double* values, Index n) const override;
  void gather_rows(float* rows, Index batch_rows, Index cols) const override;
  void gather_rows(double* rows, Index batch_rows, Index cols) const override;
  // For --version: "MPI: Open MPI v4.1.4, 2 ranks", "MPI: not launched by mpirun or srun", ...
  std::string description() const;

 private:
  Ranks();
  template <class T>
  void sum_values(T* values, Index n) const;
  template <class T>
  void gather_shard_rows(T* rows, Index batch_rows, Index cols) const;
  int rank_ = 0, size_ = 1, local_rank_ = 0;
  bool mpi_ = false;
};

// Whether this build has MPI.
NN_API bool built_with_mpi();

}  // namespace nn
