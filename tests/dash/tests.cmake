# The dashboard in a real browser: Debian's chromium, headless, loads
# /status while computations run and the DOM after the page's script ran
# must show the workers, the progress and the task stream.  Skipped (77)
# with a message where chromium is not installed.
find_program(SPY_CHROMIUM NAMES chromium chromium-browser google-chrome)
add_test(NAME dash_browser COMMAND spy ${CMAKE_CURRENT_LIST_DIR}/browser.lua)
set_tests_properties(dash_browser PROPERTIES
  ENVIRONMENT "${SPY_TEST_ENV};${SPY_C_ENV};HOME=${CMAKE_BINARY_DIR}/test-home/dash_browser;SPY_CHROMIUM=${SPY_CHROMIUM}"
  SKIP_RETURN_CODE 77 LABELS dash TIMEOUT 300)
