# End-to-end tests on a real Slurm: tests/slurm/<name>.lua -> ctest "slurm_<name>"
# (label slurm), each run by the spy shell through run.sh.  run.sh uses the
# Slurm that SLURM_CONF names (scripts/test starts one with scripts/local-slurm)
# or a local one it brings up itself (fixture slurm_up / slurm_down, which stop
# only what they started), and exits 77 -- skipped, not failed -- when no Slurm
# can be had.  The tests share one Slurm: RESOURCE_LOCK runs them one at a time.
set(SPY_SLURM_RUN ${CMAKE_CURRENT_LIST_DIR}/run.sh)
# A temporary storage of their own: tests that count a shared SPYTMPDIR's
# entries (c_container_cleanup) must not see these sessions' files.
set(SPY_SLURM_ENV "${SPY_TEST_ENV};${SPY_C_ENV};SPY_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
    "SPY_SLURM_MARKER=${CMAKE_BINARY_DIR}/slurm-fixture-started"
    "SPYTMPDIR=${CMAKE_BINARY_DIR}/test-home/slurm-tmp")
add_test(NAME slurm_up COMMAND bash ${SPY_SLURM_RUN} --up)
add_test(NAME slurm_down COMMAND bash ${SPY_SLURM_RUN} --down)
set_tests_properties(slurm_up PROPERTIES FIXTURES_SETUP slurm ENVIRONMENT "${SPY_SLURM_ENV}"
                     LABELS slurm TIMEOUT 120 RESOURCE_LOCK slurm)
set_tests_properties(slurm_down PROPERTIES FIXTURES_CLEANUP slurm ENVIRONMENT "${SPY_SLURM_ENV}"
                     LABELS slurm TIMEOUT 120 RESOURCE_LOCK slurm)
file(GLOB SPY_SLURM_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.lua)
list(FILTER SPY_SLURM_TESTS EXCLUDE REGEX "/helpers\\.lua$")
foreach(t ${SPY_SLURM_TESTS})
  get_filename_component(name ${t} NAME_WE)
  add_test(NAME slurm_${name} COMMAND bash ${SPY_SLURM_RUN} ${t})
  set_tests_properties(slurm_${name} PROPERTIES
    ENVIRONMENT "${SPY_SLURM_ENV}" LABELS slurm TIMEOUT 420 SKIP_RETURN_CODE 77
    FIXTURES_REQUIRED slurm RESOURCE_LOCK slurm)
endforeach()
