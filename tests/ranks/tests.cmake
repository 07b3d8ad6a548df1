# In-allocation runs on one machine: `spy --ranks N script.lua` (rank 0 runs
# the script, the other ranks are its workers; see src/cluster/ranks.h).
# The Slurm version (`srun -n 3` in an sbatch job) is tests/slurm/ranks.lua.
add_test(NAME ranks_local COMMAND $<TARGET_FILE:spy> --ranks 3 ${CMAKE_CURRENT_LIST_DIR}/ranks.lua)
set_tests_properties(ranks_local PROPERTIES
  ENVIRONMENT "${SPY_TEST_ENV};${SPY_C_ENV};HOME=${CMAKE_BINARY_DIR}/test-home/ranks_local;SPYLOGLEVEL=WARNING"
  LABELS ranks TIMEOUT 300)
# The second-wave analyses on ranks, a rank killed during coh, every rank lost.
add_test(NAME ranks_wave2 COMMAND $<TARGET_FILE:spy> --ranks 3 ${CMAKE_CURRENT_LIST_DIR}/wave2.lua)
set_tests_properties(ranks_wave2 PROPERTIES
  ENVIRONMENT "${SPY_TEST_ENV};${SPY_C_ENV};HOME=${CMAKE_BINARY_DIR}/test-home/ranks_wave2;SPYLOGLEVEL=WARNING"
  LABELS ranks TIMEOUT 300)
# SIGTERM to an in-allocation run outside Slurm runs no scancel.
add_test(NAME ranks_sigterm COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/sigterm.sh $<TARGET_FILE:spy>)
set_tests_properties(ranks_sigterm PROPERTIES
  ENVIRONMENT "${SPY_TEST_ENV};${SPY_C_ENV};HOME=${CMAKE_BINARY_DIR}/test-home/ranks_sigterm;SPYLOGLEVEL=WARNING"
  LABELS ranks TIMEOUT 120)
