# The keyword sweep (sweep_spec.lua) runs in ~10 s under ASan: a hang in any
# function it drives must fail the suite long before the default 900 s.
if(TEST lua_sweep)
  set_tests_properties(lua_sweep PROPERTIES TIMEOUT 240)
endif()
