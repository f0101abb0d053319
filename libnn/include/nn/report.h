#pragma once
// The figures of an evaluation (`starnn evaluate --report`): how training went, and how the
// predictions compare with the truth. Part of libstarnn_report (target starnn::report).
#include <filesystem>
#include <vector>

#include "nn/evaluation.h"
#include "nn/export.h"

namespace nn {

struct ReportFiles {
  std::vector<std::filesystem::path> written;  // in the order drawn
  bool history_skipped = false;                // no history file was found
};

// Writes into dir (made if missing), each PNG atomically:
//   history.png                     training and validation loss per epoch from history_csv
//                                   (training_run.h), the best epoch marked; skipped when there
//                                   is no such file
//   <target>_predicted_vs_true.png  predicted against true (binned counts beyond 1000 stars)
//   <target>_residuals.png          the residual histogram sigma_gauss is fitted to, with the fit
//                                   and the bias (metrics.bias, the mean residual)
//   <target>_calibration.png        for targets with a calibration (the model predicts their
//                                   uncertainty): the reliability diagram, observed against
//                                   expected coverage of |z|, beside the residuals' sigma_gauss
//                                   and sigma_mad per bin of predicted sigma against the bin's
//                                   mean sigma, with coverage_68, coverage_95 and z_sigma_mad
//   confusion.png                   a classifier's confusion matrix
// Axes name the quantity and its unit where the target's column name says it ([Fe/H] in dex
// for feh or FEH_ADOP, T_eff in K for TEFF*, log g in dex for LOGG*).
// report holds the metrics of values (evaluate_values). Target names are made safe for file
// names (characters other than letters, digits, '_', '-', '.' become '_').
NN_API ReportFiles write_report(const EvaluatedValues& values, const EvaluationReport& report,
                                const std::filesystem::path& history_csv, const std::filesystem::path& dir);

}  // namespace nn
