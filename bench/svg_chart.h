// A small line chart as hand-written SVG text (no libraries): x on a log2 axis (sequence
// lengths double from point to point), y linear from 0, markers with optional labels, a legend.
#pragma once

#include <string>
#include <vector>

namespace tile::bench {

struct ChartPoint {
  double x = 0, y = 0;
  std::string label;  // drawn beside the marker when not empty (e.g. "B=8")
};

struct ChartSeries {
  std::string name;   // legend text
  std::string color;  // any SVG colour, e.g. "#1f77b4"
  std::vector<ChartPoint> points;
  bool connect = true;  // draw a line through the points in order
};

struct ChartSpec {
  std::string title, x_label, y_label;
  int width = 820, height = 480;
};

// The whole <svg> document. Points with non-finite or non-positive x are skipped (log axis).
std::string svg_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series);

// The axis top for data up to `max_value`: the first of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a
// power of ten that is at least max_value (so the data fills most of the plot).
double nice_axis_max(double max_value);

// Escapes &, <, >, " and ' for SVG text and attributes.
std::string xml_escape(const std::string& text);

}  // namespace tile::bench
