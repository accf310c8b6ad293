# Aggregate functions (count, sum, uniq, quantile, groupArray, the -If combinator, ...): a
# library of their own, included by src/query/CMakeLists.txt.
include_guard(GLOBAL)
add_library(th_query_aggregates
  ${CMAKE_CURRENT_LIST_DIR}/aggregate.cc
  ${CMAKE_CURRENT_LIST_DIR}/aggregate_basic.cc
  ${CMAKE_CURRENT_LIST_DIR}/aggregate_uniq.cc
  ${CMAKE_CURRENT_LIST_DIR}/aggregate_quantile.cc
  ${CMAKE_CURRENT_LIST_DIR}/aggregate_group_array.cc)
target_link_libraries(th_query_aggregates PUBLIC th_types PRIVATE PkgConfig::XXHASH)

trackhouse_test(aggregate_test ${CMAKE_CURRENT_LIST_DIR}/aggregate_test.cc
                LIBS th_query_aggregates)
