# libFuzzer targets (tests/fuzz/fuzz_<name>.c), built with clang by run.sh
# and run for a bounded time on tests/fuzz/corpus/<name>.  The project
# compiler stays gcc; without clang these tests are not registered.
find_program(SPY_CLANG clang)
if(SPY_CLANG)
  set(SPY_FUZZ_SECONDS 30 CACHE STRING "Seconds each fuzz target runs under ctest")
  foreach(target fuzz_info fuzz_load fuzz_h5 fuzz_formats fuzz_nwb)
    add_test(NAME ${target}
             COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/run.sh ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}
                     ${target} ${SPY_FUZZ_SECONDS})
    set_tests_properties(${target} PROPERTIES
      ENVIRONMENT "SPY_TEST_DATA=${SPY_TEST_DATA};HOME=${CMAKE_BINARY_DIR}/test-home"
      LABELS fuzz TIMEOUT 600)
  endforeach()
endif()
