#include "tests/difftest/dataset.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "tests/difftest/rng.h"

namespace trackhouse::difftest {
namespace {

constexpr int64_t kDay = 86400;
// 2024-01-01 00:00:00 UTC and the days covered by createdAt (to 2024-06-30).
constexpr int64_t kStart = 1704067200;
constexpr int64_t kSpanDays = 182;
constexpr int kEntities = 200;

// The text of s between `quote` characters, with the escapes JSON and ClickHouse SQL share
// (control characters other than tab and newline are not generated).
std::string Quote(const std::string& s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + quote;
}

std::string JsonString(const std::string& s) { return Quote(s, '"'); }

// An odd multiple of 1/1024 in about [lo, hi], printed exactly.
double OddFraction(Rng& rng, int lo, int hi) {
  int64_t k = rng.Range(int64_t{lo} * 512, int64_t{hi} * 512) * 2 + 1;
  return static_cast<double>(k) / 1024.0;
}

std::string FloatText(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.10f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// Collects up to `limit` distinct SQL literals per column from the generated rows.
class Samples {
 public:
  void Add(const std::string& column, const std::string& literal) {
    auto& v = values_[column];
    if (v.size() < kLimit && std::find(v.begin(), v.end(), literal) == v.end()) {
      v.push_back(literal);
    }
  }
  std::vector<std::string> Take(const std::string& column) { return values_[column]; }

 private:
  static constexpr size_t kLimit = 40;
  std::map<std::string, std::vector<std::string>> values_;
};

const std::vector<std::string> kEntityTypes = {"Model", "Image", "Post", "Article", "Collection"};
const std::vector<int> kEntityTypeWeights = {40, 25, 15, 12, 8};
const std::vector<std::string> kMetricTypes = {"View", "Download", "Like", "Comment", "Share"};
const std::vector<int> kMetricTypeWeights = {55, 15, 15, 10, 5};
const std::vector<std::string> kPathSuffixes = {
    "",           "",       "",         "",      "/edit",
    "/Café",      "/naïve", "/50%_off", "/it's", "/back\\slash",
    "/tab\there", "/UPPER", "/x_y"};
const std::vector<std::string> kCategories = {"Checkpoint", "LoRA", "Embedding", "Workflow"};

std::string Metadata(Rng& rng) {
  if (rng.Chance(0.08)) return "{}";
  static const std::vector<std::string> kSources = {"web", "app", "api", "email"};
  static const std::vector<std::string> kPlans = {"free", "pro", "team"};
  std::vector<std::string> fields;
  fields.push_back("\"source\":\"" + rng.Pick(kSources) + "\"");
  if (rng.Chance(0.7)) fields.push_back("\"plan\":\"" + rng.Pick(kPlans) + "\"");
  if (rng.Chance(0.6)) fields.push_back("\"n\":" + std::to_string(rng.Range(-5, 500)));
  if (rng.Chance(0.4))
    fields.push_back(std::string("\"ok\":") + (rng.Chance(0.5) ? "true" : "false"));
  if (rng.Chance(0.2)) fields.push_back("\"tags\":[\"a\",\"b\"]");
  if (rng.Chance(0.3)) std::swap(fields.front(), fields.back());
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + fields[i];
  return out + "}";
}

}  // namespace

std::string SqlString(const std::string& s) { return Quote(s, '\''); }

std::string FormatDate(int64_t days) {
  // Civil-from-days (proleptic Gregorian), as in Howard Hinnant's date algorithms.
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m),
                static_cast<int>(d));
  return buf;
}

std::string FormatDateTime(int64_t secs) {
  int64_t days = secs / kDay;
  int64_t rem = secs % kDay;
  char buf[16];
  std::snprintf(buf, sizeof(buf), " %02d:%02d:%02d", static_cast<int>(rem / 3600),
                static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return FormatDate(days) + buf;
}

Dataset MakeDataset(uint64_t seed, int event_rows) {
  Rng rng(seed ^ 0x2545F4914F6CDD1Dull);
  Dataset data;
  data.setup.push_back(
      {"CREATE TABLE entityMetricEvents (eventId UInt64, entityType LowCardinality(String), "
       "entityId Int32, userId Int32, metricType LowCardinality(String), metricValue Int32, "
       "createdAt DateTime, eventDate Date, weight Float64, rating Nullable(Int32), "
       "metadata String, path String) ENGINE = MergeTree() PARTITION BY toYYYYMM(createdAt) "
       "ORDER BY (entityType, entityId, createdAt)",
       ""});
  data.setup.push_back(
      {"CREATE TABLE entities (entityId Int32, version UInt32, category LowCardinality(String), "
       "title String, updatedAt DateTime, score Float64) ENGINE = ReplacingMergeTree(version) "
       "ORDER BY entityId",
       ""});

  // The target of the generated INSERT ... SELECT statements.
  data.setup.push_back(
      {"CREATE TABLE scratch (k String, n Int64, f Float64, d Date) ENGINE = MergeTree() "
       "ORDER BY k",
       ""});

  Samples samples;
  // entityMetricEvents, inserted in three batches (several parts on both sides).
  const int batches = 3;
  std::vector<std::string> bodies(batches);
  for (int i = 0; i < event_rows; ++i) {
    uint64_t event_id = 4000000000ull + static_cast<uint64_t>(i) * 16 + rng.Below(16);
    const std::string& entity_type = kEntityTypes[rng.Weighted(kEntityTypeWeights)];
    double u = rng.Unit();
    int entity_id = 1 + static_cast<int>(u * u * kEntities);
    int user_id = static_cast<int>(rng.Range(1, 400));
    const std::string& metric_type = kMetricTypes[rng.Weighted(kMetricTypeWeights)];
    int metric_value = metric_type == "Like"      ? (rng.Chance(0.8) ? 1 : -1)
                       : metric_type == "Comment" ? static_cast<int>(rng.Range(0, 50))
                       : metric_type == "Share"   ? static_cast<int>(rng.Range(1, 5))
                                                  : 1;
    int64_t created = kStart + static_cast<int64_t>(rng.Below(kSpanDays * kDay));
    double boundary = rng.Unit();
    if (boundary < 0.03) {
      created -= created % kDay;  // midnight
    } else if (boundary < 0.08) {
      created -= created % 60;  // a whole minute
    } else if (boundary < 0.10) {
      created = kStart + 59 * kDay + static_cast<int64_t>(rng.Below(kDay));  // 2024-02-29
    }
    int64_t event_day = kStart / kDay - 17 + static_cast<int64_t>(rng.Below(220));
    double weight = OddFraction(rng, -20, 100);
    bool null_rating = rng.Chance(0.3);
    int rating = static_cast<int>(rng.Range(1, 5));
    std::string metadata = Metadata(rng);
    std::string lower_type = entity_type;
    for (char& c : lower_type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string path = "/" + lower_type + "/" + std::to_string(entity_id) + rng.Pick(kPathSuffixes);

    std::string row =
        "{\"eventId\":" + std::to_string(event_id) + ",\"entityType\":" + JsonString(entity_type) +
        ",\"entityId\":" + std::to_string(entity_id) + ",\"userId\":" + std::to_string(user_id) +
        ",\"metricType\":" + JsonString(metric_type) +
        ",\"metricValue\":" + std::to_string(metric_value) + ",\"createdAt\":\"" +
        FormatDateTime(created) + "\"" + ",\"eventDate\":\"" + FormatDate(event_day) + "\"" +
        ",\"weight\":" + FloatText(weight) +
        ",\"rating\":" + (null_rating ? "null" : std::to_string(rating)) +
        ",\"metadata\":" + JsonString(metadata) + ",\"path\":" + JsonString(path) + "}\n";
    bodies[static_cast<size_t>(i % batches)] += row;

    samples.Add("eventId", std::to_string(event_id));
    samples.Add("entityType", SqlString(entity_type));
    samples.Add("entityId", std::to_string(entity_id));
    samples.Add("userId", std::to_string(user_id));
    samples.Add("metricType", SqlString(metric_type));
    samples.Add("metricValue", std::to_string(metric_value));
    samples.Add("createdAt", SqlString(FormatDateTime(created)));
    samples.Add("eventDate", SqlString(FormatDate(event_day)));
    samples.Add("weight", FloatText(weight));
    if (!null_rating) samples.Add("rating", std::to_string(rating));
    samples.Add("metadata", SqlString(metadata));
    samples.Add("path", SqlString(path));
  }
  for (auto& body : bodies) {
    data.setup.push_back({"INSERT INTO entityMetricEvents FORMAT JSONEachRow", std::move(body)});
  }

  // entities: every id once, then a second insert with newer versions of some of them. Each
  // key's versions differ, so FINAL has one answer.
  std::string first, second;
  for (int id = 1; id <= kEntities; ++id) {
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 1 && !rng.Chance(0.3)) break;
      uint32_t version = static_cast<uint32_t>(pass * 10 + rng.Range(1, 9));
      std::string category = rng.Pick(kCategories);
      std::string title =
          "Entity " + std::to_string(id) + (rng.Chance(0.2) ? " Café" : "") + (pass ? " v2" : "");
      int64_t updated = kStart + static_cast<int64_t>(rng.Below(kSpanDays * kDay));
      double score = OddFraction(rng, 0, 10);
      std::string row = "{\"entityId\":" + std::to_string(id) +
                        ",\"version\":" + std::to_string(version) +
                        ",\"category\":" + JsonString(category) +
                        ",\"title\":" + JsonString(title) + ",\"updatedAt\":\"" +
                        FormatDateTime(updated) + "\",\"score\":" + FloatText(score) + "}\n";
      (pass ? second : first) += row;
      samples.Add("version", std::to_string(version));
      samples.Add("category", SqlString(category));
      samples.Add("title", SqlString(title));
      samples.Add("updatedAt", SqlString(FormatDateTime(updated)));
      samples.Add("score", FloatText(score));
    }
  }
  data.setup.push_back({"INSERT INTO entities FORMAT JSONEachRow", first});
  data.setup.push_back({"INSERT INTO entities FORMAT JSONEachRow", second});

  auto column = [&](const std::string& name, Kind kind, bool unique = false,
                    bool tie_free = false) {
    bool low_cardinality = name == "entityType" || name == "metricType" || name == "category";
    return ColumnInfo{name, kind, unique, tie_free, low_cardinality, samples.Take(name)};
  };
  data.tables.push_back(
      TableInfo{"entityMetricEvents",
                {column("eventId", Kind::kUInt, true), column("entityType", Kind::kString),
                 column("entityId", Kind::kInt), column("userId", Kind::kInt),
                 column("metricType", Kind::kString), column("metricValue", Kind::kInt),
                 column("createdAt", Kind::kDateTime), column("eventDate", Kind::kDate),
                 column("weight", Kind::kFloat, false, true), column("rating", Kind::kNullableInt),
                 column("metadata", Kind::kString), column("path", Kind::kString)},
                false});
  data.tables.push_back(
      TableInfo{"entities",
                {column("entityId", Kind::kInt, true), column("version", Kind::kUInt),
                 column("category", Kind::kString), column("title", Kind::kString),
                 column("updatedAt", Kind::kDateTime), column("score", Kind::kFloat, false, true)},
                true});
  data.final_rows = {static_cast<uint64_t>(event_rows), kEntities};
  return data;
}

}  // namespace trackhouse::difftest
