# Query settings (ClickHouse setting names, value parsing, `param_<name>`): a library of its
# own so that the HTTP interface can validate URL settings without the executor. Included by
# src/query/CMakeLists.txt and by src/server/CMakeLists.txt (whichever comes first).
include_guard(GLOBAL)
add_library(th_query_settings ${CMAKE_CURRENT_LIST_DIR}/settings.cc)
target_link_libraries(th_query_settings PUBLIC th_sql th_common)

trackhouse_test(settings_test ${CMAKE_CURRENT_LIST_DIR}/settings_test.cc LIBS th_query_settings)
