# Timing programs (not tests): tests/bench/<name>.c -> executable bench_<name>.
file(GLOB SPY_BENCH_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.c)
foreach(src ${SPY_BENCH_SRC})
  get_filename_component(name ${src} NAME_WE)
  add_executable(bench_${name} ${src})
  target_include_directories(bench_${name} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/../c)
  target_link_libraries(bench_${name} PRIVATE spy_engine ${SPY_LAZY_LIBS})
endforeach()
