#include "bench/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tile::bench {

std::string xml_escape(const std::string& text) {
  std::string s;
  for (char c : text) {
    switch (c) {
      case '&': s += "&amp;"; break;
      case '<': s += "&lt;"; break;
      case '>': s += "&gt;"; break;
      case '"': s += "&quot;"; break;
      case '\'': s += "&apos;"; break;
      default: s += c;
    }
  }
  return s;
}

double nice_axis_max(double max_value) {
  if (!(max_value > 0) || !std::isfinite(max_value)) return 1.0;
  double p = std::pow(10.0, std::floor(std::log10(max_value)));
  for (double m : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0})
    if (m * p >= max_value * (1 - 1e-12)) return m * p;
  return 10 * p;
}

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// "4096", "64k", "1M" for tick labels of sequence lengths.
std::string short_count(double v) {
  char buf[32];
  if (v >= 1048576 && std::fmod(v, 1048576) == 0) std::snprintf(buf, sizeof buf, "%.0fM", v / 1048576);
  else if (v >= 16384 && std::fmod(v, 1024) == 0) std::snprintf(buf, sizeof buf, "%.0fk", v / 1024);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

std::string svg_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series) {
  const double left = 70, right = 190, top = 50, bottom = 60;
  const double pw = spec.width - left - right, ph = spec.height - top - bottom;

  double lo = INFINITY, hi = -INFINITY, ymax = 0;
  for (const ChartSeries& s : series)
    for (const ChartPoint& p : s.points) {
      if (!(p.x > 0) || !std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      lo = std::min(lo, std::log2(p.x));
      hi = std::max(hi, std::log2(p.x));
      ymax = std::max(ymax, p.y);
    }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  lo = std::floor(lo), hi = std::ceil(hi);
  if (hi - lo < 1) lo -= 0.5, hi += 0.5;
  const double ytop = nice_axis_max(ymax);
  auto X = [&](double x) { return left + (std::log2(x) - lo) / (hi - lo) * pw; };
  auto Y = [&](double y) { return top + ph - y / ytop * ph; };

  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(spec.width) + "\" height=\"" +
       std::to_string(spec.height) + "\" viewBox=\"0 0 " + std::to_string(spec.width) + " " +
       std::to_string(spec.height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + num(left + pw / 2) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"15\">" +
       xml_escape(spec.title) + "</text>\n";

  // Grid and ticks: y in five steps, x at every power of two.
  for (int i = 0; i <= 5; ++i) {
    double v = ytop * i / 5, y = Y(v);
    s += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + pw) + "\" y2=\"" + num(y) +
         "\" stroke=\"#ddd\"/>\n";
    char label[32];
    std::snprintf(label, sizeof label, "%g", v);
    s += "<text x=\"" + num(left - 8) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" + label + "</text>\n";
  }
  for (double e = lo; e <= hi + 1e-9; e += 1) {
    double x = X(std::exp2(e));
    s += "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(top + ph) +
         "\" stroke=\"#eee\"/>\n";
    s += "<text x=\"" + num(x) + "\" y=\"" + num(top + ph + 18) + "\" text-anchor=\"middle\">" +
         short_count(std::exp2(e)) + "</text>\n";
  }
  s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" fill=\"none\" stroke=\"#333\"/>\n";
  s += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(spec.height - 15.0) + "\" text-anchor=\"middle\">" +
       xml_escape(spec.x_label) + "</text>\n";
  s += "<text transform=\"translate(20," + num(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       xml_escape(spec.y_label) + "</text>\n";

  // Series: a polyline, then markers and their labels.
  for (size_t i = 0; i < series.size(); ++i) {
    const ChartSeries& c = series[i];
    const std::string color = xml_escape(c.color);
    std::string pts;
    for (const ChartPoint& p : c.points)
      if (p.x > 0 && std::isfinite(p.x) && std::isfinite(p.y)) pts += num(X(p.x)) + "," + num(Y(p.y)) + " ";
    s += "<g class=\"series\" data-name=\"" + xml_escape(c.name) + "\">\n";
    if (c.connect && !pts.empty())
      s += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\" points=\"" + pts.substr(0, pts.size() - 1) +
           "\"/>\n";
    for (const ChartPoint& p : c.points) {
      if (!(p.x > 0) || !std::isfinite(p.x) || !std::isfinite(p.y)) continue;
      s += "<circle cx=\"" + num(X(p.x)) + "\" cy=\"" + num(Y(p.y)) + "\" r=\"4\" fill=\"" + color + "\"/>\n";
      if (!p.label.empty())
        s += "<text x=\"" + num(X(p.x) + 7) + "\" y=\"" + num(Y(p.y) + 4) + "\" font-size=\"10\" fill=\"" + color +
             "\">" + xml_escape(p.label) + "</text>\n";
    }
    s += "</g>\n";
    // Legend entry.
    double ly = top + 10 + 20.0 * double(i), lx = left + pw + 15;
    s += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(lx + 20) + "\" y2=\"" + num(ly) +
         "\" stroke=\"" + color + "\" stroke-width=\"2\"" + (c.connect ? "" : " stroke-dasharray=\"2,3\"") + "/>\n";
    s += "<text x=\"" + num(lx + 26) + "\" y=\"" + num(ly + 4) + "\">" + xml_escape(c.name) + "</text>\n";
  }
  s += "</svg>\n";
  return s;
}

}  // namespace tile::bench
