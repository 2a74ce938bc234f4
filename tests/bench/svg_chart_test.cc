// The hand-written SVG chart: well-formed, one polyline per connected series, one marker per
// point at the right place, text escaped; the sweep's chart has the fwd and fwd+bwd series.
#include <catch2/catch.hpp>

#include <regex>
#include <vector>

#include "bench/svg_chart.h"
#include "bench/sweep_chart.h"

using namespace tile::bench;

namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = s.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

// Tags balance (a light well-formedness check: no attribute may contain '<' or '>').
bool tags_balance(const std::string& svg) {
  std::vector<std::string> stack;
  std::regex tag("<(/?)([a-zA-Z]+)[^<>]*?(/?)>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), tag); it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    if (m[3] == "/") continue;
    if (m[1] == "/") {
      if (stack.empty() || stack.back() != m[2]) return false;
      stack.pop_back();
    } else {
      stack.push_back(m[2]);
    }
  }
  return stack.empty();
}

CaseResult result(int b, int s, bool fwd_only, double ms) {
  CaseResult r;
  r.c.batch_size = b;
  r.c.seq_len = s;
  r.c.causal = true;
  r.c.fwd_only = fwd_only;
  r.median_ms = ms;
  return r;
}

}  // namespace

TEST_CASE("nice axis tops", "[bench][svg]") {
  CHECK(nice_axis_max(0) == 1);
  CHECK(nice_axis_max(1) == 1);
  CHECK(nice_axis_max(1.2) == Approx(1.2));
  CHECK(nice_axis_max(1.3) == Approx(1.5));
  CHECK(nice_axis_max(237) == Approx(250));
  CHECK(nice_axis_max(258) == Approx(300));
  CHECK(nice_axis_max(600) == Approx(600));
  CHECK(nice_axis_max(850) == Approx(1000));
  CHECK(nice_axis_max(0.035) == Approx(0.04));
}

TEST_CASE("xml escaping", "[bench][svg]") {
  CHECK(xml_escape("fwd+bwd <B=8> & \"x\" 'y'") == "fwd+bwd &lt;B=8&gt; &amp; &quot;x&quot; &apos;y&apos;");
}

TEST_CASE("a chart is a well-formed SVG document with one marker per point", "[bench][svg]") {
  ChartSpec spec;
  spec.title = "TFLOPS <vs> seq_len";
  ChartSeries line{"fwd", "#1f77b4", {{4096, 100, ""}, {8192, 200, ""}, {16384, 300, ""}}, true};
  ChartSeries dots{"other & more", "#ff0000", {{4096, 250, "B=8"}, {-1, 5, "skipped"}}, false};
  std::string svg = svg_line_chart(spec, {line, dots});
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  CHECK(tags_balance(svg));
  CHECK(count(svg, "<polyline") == 1);
  CHECK(count(svg, "<circle") == 4);  // the x <= 0 point is skipped on the log axis
  CHECK(svg.find("TFLOPS &lt;vs&gt; seq_len") != std::string::npos);
  CHECK(svg.find("other &amp; more") != std::string::npos);
  CHECK(svg.find(">B=8</text>") != std::string::npos);
  CHECK(svg.find(">skipped<") == std::string::npos);
  // y axis 0..300 (nice top at 300); x ticks at 4096, 8192, 16k.
  CHECK(svg.find(">300</text>") != std::string::npos);
  CHECK(svg.find(">4096</text>") != std::string::npos);
  CHECK(svg.find(">16k</text>") != std::string::npos);
  // The line rises: the three polyline points have decreasing y.
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, std::regex("points=\"([0-9.]+),([0-9.]+) ([0-9.]+),([0-9.]+) ([0-9.]+),([0-9.]+)\"")));
  CHECK(std::stod(m[1]) < std::stod(m[3]));
  CHECK(std::stod(m[3]) < std::stod(m[5]));
  CHECK(std::stod(m[2]) > std::stod(m[4]));
  CHECK(std::stod(m[4]) > std::stod(m[6]));
}

TEST_CASE("the sweep chart: fwd and fwd+bwd lines over B=2, other batches as markers", "[bench][svg]") {
  std::vector<CaseResult> rs;
  for (bool fwd : {true, false}) {
    rs.push_back(result(2, 4096, fwd, 1.0));
    rs.push_back(result(8, 4096, fwd, 3.0));
    rs.push_back(result(2, 8192, fwd, 3.5));
    rs.push_back(result(2, 16384, fwd, 13.0));
  }
  std::string svg = sweep_chart_svg(rs, "seed sweep");
  CHECK(tags_balance(svg));
  CHECK(count(svg, "<polyline") == 2);
  CHECK(count(svg, "<circle") == 8);
  CHECK(svg.find("fwd (B=2)") != std::string::npos);
  CHECK(svg.find("fwd+bwd (B=2)") != std::string::npos);
  CHECK(svg.find("fwd+bwd (other B)") != std::string::npos);
  CHECK(svg.find(">B=8</text>") != std::string::npos);
}
