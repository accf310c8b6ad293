// track_events: tracks a few entity metrics (the metrics guide's entityMetricEvents) into a
// trackhouse server and waits until the server has them.
//
//   track_events URL [KEY]      e.g. track_events http://127.0.0.1:8124
//
// Exit status 0 once every event is acknowledged; 1 otherwise, with the reason on stderr.
#include <cstdio>
#include <string>

#include "trackhouse/tracker.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s URL [KEY]\n", argv[0]);
    return 2;
  }
  trackhouse::TrackerOptions options;
  options.endpoint = argv[1];
  if (argc > 2) options.key = argv[2];
  options.error_callback = [](const trackhouse::BatchError& e) {
    std::fprintf(stderr, "batch for %s not stored: %s\n", e.table.c_str(),
                 e.status.ToString().c_str());
  };
  auto tracker = trackhouse::Tracker::Open(options);
  if (!tracker.ok()) {
    std::fprintf(stderr, "cannot open tracker: %s\n", tracker.status().ToString().c_str());
    return 1;
  }

  const char* kMetrics[] = {"View", "View", "Download", "Like", "View"};
  int32_t model_id = 1;
  for (const char* metric : kMetrics) {
    trackhouse::EntityMetricEvent event;
    event.entity_type = "Model";
    event.entity_id = model_id++;
    event.metric_type = metric;
    event.user_id = 42;
    trackhouse::client::Status st = (*tracker)->EntityMetric(event);
    if (!st.ok()) {
      std::fprintf(stderr, "cannot track: %s\n", st.ToString().c_str());
      return 1;
    }
  }

  trackhouse::client::Status st = (*tracker)->Flush(std::chrono::seconds(10));
  trackhouse::TrackerStats stats = (*tracker)->stats();
  std::printf("tracked %llu, acknowledged %llu, rejected %llu\n",
              static_cast<unsigned long long>(stats.tracked),
              static_cast<unsigned long long>(stats.acknowledged),
              static_cast<unsigned long long>(stats.rejected));
  if (!st.ok() || stats.acknowledged != stats.tracked) {
    std::fprintf(stderr, "not every event was stored: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
