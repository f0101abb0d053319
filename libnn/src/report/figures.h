#pragma once
// The figures write_report draws, one file each; every one writes its PNG through
// plot::PngFigure, whole or not at all.
#include <filesystem>
#include <string>
#include <vector>

#include "nn/calibration.h"
#include "nn/evaluation.h"
#include "nn/metrics.h"
#include "nn/training_run.h"

namespace nn {

// rows holds at least one epoch.
void draw_history(const std::vector<HistoryRow>& rows, const std::filesystem::path& png);
void draw_predicted_vs_true(const TargetValues& t, SplitChoice split, const std::filesystem::path& png);
void draw_residuals(const TargetValues& t, const RegressionMetrics& m, const std::filesystem::path& png);
// c is the calibration of the target called name (the model predicts its uncertainty).
void draw_calibration(const std::string& name, const CalibrationMetrics& c, SplitChoice split,
                      const std::filesystem::path& png);
void draw_confusion(const std::string& label, const BinaryMetrics& c, const std::filesystem::path& png);

}  // namespace nn
