# REPL transcripts: tests/repl/<name>.t -> ctest "repl_<name>".  ptyrun
# drives the real `spy` binary through a pseudo-terminal and checks what a
# person sees (format: the comment at the top of ptyrun.c).
add_executable(ptyrun ${CMAKE_CURRENT_LIST_DIR}/ptyrun.c)
target_link_libraries(ptyrun PRIVATE util)

# A test-only keyword spec, loaded with `spy -l repltest` (see repltest.c).
add_library(repltest MODULE ${CMAKE_CURRENT_LIST_DIR}/repltest.c)
target_include_directories(repltest PRIVATE ${CMAKE_SOURCE_DIR}/src ${LUA_INCLUDE_DIRS})
set_target_properties(repltest PROPERTIES PREFIX "")

set(SPY_REPL_ENV
  "LUA_CPATH=$<TARGET_FILE_DIR:repltest>/?.so\;$<TARGET_FILE_DIR:spy_module>/?.so\;\;")
if(SPY_SANITIZE)
  list(APPEND SPY_REPL_ENV "SPY_LUA_PRELOAD=${ASAN_LIB}:${UBSAN_LIB}")
endif()

file(GLOB SPY_REPL_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.t)
foreach(t ${SPY_REPL_TESTS})
  get_filename_component(name ${t} NAME_WE)
  add_test(NAME repl_${name} COMMAND ptyrun ${t})
  set_tests_properties(repl_${name} PROPERTIES
    ENVIRONMENT "${SPY_TEST_ENV};${SPY_C_ENV};${SPY_REPL_ENV}"
    LABELS repl TIMEOUT 600)
endforeach()

# The README's tour, typed into a session line by line (tour.lua).
add_test(NAME repl_tour
         COMMAND ${LUA54} ${CMAKE_CURRENT_LIST_DIR}/tour.lua ${CMAKE_SOURCE_DIR}/README.md
                 $<TARGET_FILE:ptyrun>)
set_tests_properties(repl_tour PROPERTIES
  ENVIRONMENT "${SPY_TEST_ENV};${SPY_C_ENV};${SPY_REPL_ENV}"
  LABELS repl TIMEOUT 600)
