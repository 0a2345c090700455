# gtest_watchdog_discover_tests(<target> ...): like CMake's
# gtest_discover_tests — same arguments, same test names — and every CTest
# test gets a TIMEOUT safely above the longest the watchdog lets that test's
# run last, so CTest never kills a test before the watchdog's report is out.
#
#   gtest_watchdog_discover_tests(<target>
#     [EXTRA_ARGS arg...] [WORKING_DIRECTORY dir] [TEST_PREFIX prefix]
#     [TEST_SUFFIX suffix] [TEST_FILTER expr] [NO_PRETTY_TYPES]
#     [NO_PRETTY_VALUES] [PROPERTIES name value...] [TEST_LIST var]
#     [DISCOVERY_TIMEOUT seconds] [XML_OUTPUT_DIR dir]
#     [DISCOVERY_MODE POST_BUILD|PRE_TEST] [TIMEOUT_MARGIN seconds])
#
# The tests and their limits come from `<target>
# --gtest_watchdog_list_timeouts=tsv` run with EXTRA_ARGS and with the
# ENVIRONMENT given in PROPERTIES. TIMEOUT = the test's run bound (every
# phase a run of that test goes through, at its limit, or the whole-run
# limit) + TIMEOUT_MARGIN (default 60 s; the report itself is bounded at
# 30 s by the dead-man timer). A larger TIMEOUT given in PROPERTIES is kept;
# a test the watchdog does not limit gets no TIMEOUT from us.
#
# Each test's command also gets --gtest_watchdog_outer_timeout=<TIMEOUT>s:
# the watchdog then ends the whole run a margin before CTest would kill it,
# with its report, even where the listing could not foresee the limit (a
# ScopedTimeout, valgrind under `ctest -T memcheck`).
#
# DISCOVERY_MODE defaults to CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE, else
# PRE_TEST: the listing runs each time ctest runs, so GTEST_WATCHDOG_*
# variables in ctest's environment count, as they will for the tests.
# POST_BUILD lists once, after each build. Several TEST_FILTERs: any.
#
# See docs/ci.md.

# Where the script half lives, for every directory that calls the function
# (add_subdirectory users call it from outside this directory).
set_property(GLOBAL PROPERTY GTEST_WATCHDOG_ADD_TESTS_SCRIPT
  "${CMAKE_CURRENT_LIST_DIR}/GtestWatchdogAddTests.cmake")

# set(var [==[v1]==] [==[v2]==] ...) for a settings file: every element kept
# exactly, whatever characters it holds.
function(_gtest_watchdog_set_line out var)
  set(line "set(${var}")
  foreach(value IN LISTS ARGN)
    set(eq "=")
    while(value MATCHES "\\]${eq}\\]")
      string(APPEND eq "=")
    endwhile()
    string(APPEND line " [${eq}[${value}]${eq}]")
  endforeach()
  set(${out} "${line})\n" PARENT_SCOPE)
endfunction()

function(gtest_watchdog_discover_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 arg
    "NO_PRETTY_TYPES;NO_PRETTY_VALUES"
    "TEST_PREFIX;TEST_SUFFIX;WORKING_DIRECTORY;TEST_LIST;DISCOVERY_TIMEOUT;XML_OUTPUT_DIR;DISCOVERY_MODE;TIMEOUT_MARGIN"
    "EXTRA_ARGS;PROPERTIES;TEST_FILTER")
  set(where "gtest_watchdog_discover_tests(${target})")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "${where}: '${target}' is not a target; "
      "call it after add_executable(${target} ...)")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "${where}: unknown argument(s): ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_WORKING_DIRECTORY)
    set(arg_WORKING_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  if(NOT arg_TEST_LIST)
    set(arg_TEST_LIST ${target}_TESTS)
  endif()
  if(NOT DEFINED arg_DISCOVERY_TIMEOUT)
    set(arg_DISCOVERY_TIMEOUT 5)
  endif()
  if(NOT arg_DISCOVERY_TIMEOUT MATCHES "^[0-9]*\\.?[0-9]+$" OR
     arg_DISCOVERY_TIMEOUT MATCHES "^[0.]+$")
    message(FATAL_ERROR "${where}: DISCOVERY_TIMEOUT '${arg_DISCOVERY_TIMEOUT}' "
      "is not a number of seconds > 0")
  endif()
  # Several filters (as gtest_discover_tests allows): any of them.
  list(JOIN arg_TEST_FILTER ":" arg_TEST_FILTER)
  if(NOT DEFINED arg_TIMEOUT_MARGIN)
    set(arg_TIMEOUT_MARGIN 60)
  endif()
  if(NOT arg_TIMEOUT_MARGIN MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${where}: TIMEOUT_MARGIN '${arg_TIMEOUT_MARGIN}' "
      "is not a whole number of seconds")
  endif()
  if(NOT arg_DISCOVERY_MODE)
    # The project's choice for gtest_discover_tests, else PRE_TEST (see top).
    if(CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE)
      set(arg_DISCOVERY_MODE ${CMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE})
    else()
      set(arg_DISCOVERY_MODE PRE_TEST)
    endif()
  endif()
  if(NOT arg_DISCOVERY_MODE MATCHES "^(POST_BUILD|PRE_TEST)$")
    message(FATAL_ERROR "${where}: DISCOVERY_MODE '${arg_DISCOVERY_MODE}': "
      "expected POST_BUILD or PRE_TEST")
  endif()
  get_property(script GLOBAL PROPERTY GTEST_WATCHDOG_ADD_TESTS_SCRIPT)

  # Several calls for one target each get their own files.
  get_property(count TARGET ${target} PROPERTY GTEST_WATCHDOG_DISCOVER_COUNT)
  if(NOT count)
    set(count 0)
  endif()
  math(EXPR count "${count} + 1")
  set_property(TARGET ${target} PROPERTY GTEST_WATCHDOG_DISCOVER_COUNT ${count})
  set(base "${CMAKE_CURRENT_BINARY_DIR}/${target}_watchdog_${count}")

  # One settings file (and one list of tests) per configuration.
  get_property(multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
  if(multi_config)
    set(config_at_test_time "\${CTEST_CONFIGURATION_TYPE}")
  else()
    set(config_at_test_time "${CMAKE_BUILD_TYPE}")
  endif()
  set(settings "")
  foreach(pair
      "GW_TARGET;${target}"
      "GW_CMAKE_COMMAND;${CMAKE_COMMAND}"
      "GW_EXECUTABLE;$<TARGET_FILE:${target}>"
      "GW_WORKING_DIRECTORY;${arg_WORKING_DIRECTORY}"
      "GW_PREFIX;${arg_TEST_PREFIX}"
      "GW_SUFFIX;${arg_TEST_SUFFIX}"
      "GW_FILTER;${arg_TEST_FILTER}"
      "GW_NO_PRETTY_TYPES;${arg_NO_PRETTY_TYPES}"
      "GW_NO_PRETTY_VALUES;${arg_NO_PRETTY_VALUES}"
      "GW_TEST_LIST;${arg_TEST_LIST}"
      "GW_DISCOVERY_TIMEOUT;${arg_DISCOVERY_TIMEOUT}"
      "GW_XML_OUTPUT_DIR;${arg_XML_OUTPUT_DIR}"
      "GW_TIMEOUT_MARGIN;${arg_TIMEOUT_MARGIN}"
      "GW_CTEST_FILE;${base}_tests_$<CONFIG>.cmake")
    list(GET pair 0 name)
    list(SUBLIST pair 1 -1 value)
    # Element by element: set() joins them back into the very same string.
    _gtest_watchdog_set_line(line ${name} ${value})
    string(APPEND settings "${line}")
  endforeach()
  _gtest_watchdog_set_line(line GW_EMULATOR
    "$<TARGET_PROPERTY:${target},CROSSCOMPILING_EMULATOR>")
  string(APPEND settings "${line}")
  _gtest_watchdog_set_line(line GW_EXTRA_ARGS ${arg_EXTRA_ARGS})
  string(APPEND settings "${line}")
  _gtest_watchdog_set_line(line GW_PROPERTIES ${arg_PROPERTIES})
  string(APPEND settings "${line}")
  file(GENERATE OUTPUT "${base}_settings_$<CONFIG>.cmake" CONTENT "${settings}")

  set(settings_at_test_time "${base}_settings_${config_at_test_time}.cmake")
  set(tests_at_test_time "${base}_tests_${config_at_test_time}.cmake")
  set(not_built
    "add_test([=[${target}_NOT_BUILT]=] [=[${target}_NOT_BUILT]=])\n")
  if(arg_DISCOVERY_MODE STREQUAL "POST_BUILD")
    add_custom_command(TARGET ${target} POST_BUILD
      BYPRODUCTS "${base}_tests_$<CONFIG>.cmake"
      COMMAND "${CMAKE_COMMAND}" -D "GW_SETTINGS=${base}_settings_$<CONFIG>.cmake"
              -P "${script}"
      VERBATIM)
    file(WRITE "${base}_include.cmake"
      "if(EXISTS \"${tests_at_test_time}\")\n"
      "  include(\"${tests_at_test_time}\")\n"
      "else()\n  ${not_built}endif()\n")
  else()
    file(WRITE "${base}_include.cmake"
      "include(\"${settings_at_test_time}\")\n"
      "if(EXISTS \"\${GW_EXECUTABLE}\")\n"
      "  include(\"${script}\")\n"
      "  include(\"${tests_at_test_time}\")\n"
      "else()\n  ${not_built}endif()\n")
  endif()
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${base}_include.cmake")
endfunction()
