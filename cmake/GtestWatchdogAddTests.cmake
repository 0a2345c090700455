# The script half of gtest_watchdog_discover_tests: lists the target's tests
# with their limits and writes the CTest file that adds them. Runs after the
# build (POST_BUILD, `cmake -D GW_SETTINGS=... -P`) or inside ctest
# (PRE_TEST, included with the settings already read).
# Run by `cmake -P` and inside ctest: neither sets policies for us (empty
# list elements must be kept: a test's parameters are often empty).
cmake_policy(PUSH)
cmake_policy(VERSION 3.25)
if(GW_SETTINGS)
  include("${GW_SETTINGS}")
endif()

# Placeholders keep ';', '[' and ']' out of CMake's list splitting: every
# value below is held encoded, and only _gw_command, which writes each one
# as a bracket argument, puts the characters back.
set(_gw_semicolon "@GW_SEMICOLON@")
set(_gw_open "@GW_OPEN@")
set(_gw_close "@GW_CLOSE@")

# Encodes '[' and ']' in a list (its ';' stay separators) or, with
# ALL, ';' too (one value).
function(_gw_encode out text)
  if(ARGN STREQUAL "ALL")
    string(REPLACE ";" "${_gw_semicolon}" text "${text}")
  endif()
  string(REPLACE "[" "${_gw_open}" text "${text}")
  string(REPLACE "]" "${_gw_close}" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(_gw_restore out text)
  string(REPLACE "${_gw_semicolon}" ";" text "${text}")
  string(REPLACE "${_gw_open}" "[" text "${text}")
  string(REPLACE "${_gw_close}" "]" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# `command(arg...)` appended to `script`, every (encoded) argument restored
# and written as a bracket argument, so it reaches CTest exactly.
function(_gw_command command)
  set(line "${command}(")
  foreach(arg IN LISTS ARGN)
    _gw_restore(arg "${arg}")
    set(eq "=")
    while(arg MATCHES "\\]${eq}\\]")
      string(APPEND eq "=")
    endwhile()
    string(APPEND line " [${eq}[${arg}]${eq}]")
  endforeach()
  set(script "${script}${line})\n" PARENT_SCOPE)
endfunction()

# Seconds as printed by the listing ("90", "6.25") rounded up to whole ones.
function(_gw_ceil_seconds out text)
  if(NOT text MATCHES "^([0-9]+)(\\.([0-9]*))?$")
    message(FATAL_ERROR "gtest_watchdog_discover_tests(${GW_TARGET}): "
      "unexpected run bound '${text}' in the listing of ${GW_EXECUTABLE}")
  endif()
  set(whole "${CMAKE_MATCH_1}")
  if("${CMAKE_MATCH_3}" MATCHES "[1-9]")
    math(EXPR whole "${whole} + 1")
  endif()
  set(${out} "${whole}" PARENT_SCOPE)
endfunction()

# The environment the tests will get, for the listing too, and the TIMEOUT
# the user gave.
set(_gw_env "")
set(_gw_user_timeout "")
list(LENGTH GW_PROPERTIES _gw_count)
set(_gw_i 0)
while(_gw_i LESS _gw_count)
  list(GET GW_PROPERTIES ${_gw_i} _gw_key)
  math(EXPR _gw_next "${_gw_i} + 1")
  if(_gw_next LESS _gw_count)
    list(GET GW_PROPERTIES ${_gw_next} _gw_value)
    if(_gw_key STREQUAL "ENVIRONMENT")
      list(APPEND _gw_env "${_gw_value}")
    elseif(_gw_key STREQUAL "TIMEOUT")
      set(_gw_user_timeout "${_gw_value}")
    endif()
  endif()
  math(EXPR _gw_i "${_gw_i} + 2")
endwhile()

set(_gw_filter "")
if(NOT GW_FILTER STREQUAL "")
  set(_gw_filter "--gtest_filter=${GW_FILTER}")
endif()
execute_process(
  COMMAND "${GW_CMAKE_COMMAND}" -E env ${_gw_env}
          ${GW_EMULATOR} "${GW_EXECUTABLE}" --gtest_watchdog_list_timeouts=tsv
          ${_gw_filter} ${GW_EXTRA_ARGS}
  WORKING_DIRECTORY "${GW_WORKING_DIRECTORY}"
  TIMEOUT ${GW_DISCOVERY_TIMEOUT}
  OUTPUT_VARIABLE _gw_output
  ERROR_VARIABLE _gw_errors
  RESULT_VARIABLE _gw_result)
if(NOT _gw_result EQUAL 0)
  message(FATAL_ERROR "gtest_watchdog_discover_tests(${GW_TARGET}): "
    "listing the tests failed (${_gw_result}):\n"
    "  ${GW_EXECUTABLE} --gtest_watchdog_list_timeouts=tsv ${_gw_filter} ${GW_EXTRA_ARGS}\n"
    "${_gw_errors}${_gw_output}")
endif()
if(NOT _gw_output MATCHES "^# suite\tname\tlimit_s\trun_bound_s\t")
  message(FATAL_ERROR "gtest_watchdog_discover_tests(${GW_TARGET}): "
    "${GW_EXECUTABLE} did not list its tests' limits; is it linked with "
    "gtest_watchdog::gtest_watchdog_main, or does its main() call "
    "gtest_watchdog::InitGoogleTest?\n${_gw_output}")
endif()

# From here on every value is encoded (see _gw_encode).
_gw_encode(_gw_output "${_gw_output}" ALL)
string(REPLACE "\n" ";" _gw_lines "${_gw_output}")
_gw_encode(_gw_emulator "${GW_EMULATOR}")
_gw_encode(_gw_extra_args "${GW_EXTRA_ARGS}")
_gw_encode(_gw_properties "${GW_PROPERTIES}")
foreach(_gw_var EXECUTABLE WORKING_DIRECTORY PREFIX SUFFIX XML_OUTPUT_DIR)
  _gw_encode(_gw_${_gw_var} "${GW_${_gw_var}}" ALL)
endforeach()

set(script "")
set(_gw_names "")
foreach(_gw_line IN LISTS _gw_lines)
  if(_gw_line STREQUAL "" OR _gw_line MATCHES "^#")
    continue()
  endif()
  string(REPLACE "\t" ";" _gw_fields "${_gw_line}")
  list(LENGTH _gw_fields _gw_n)
  if(NOT _gw_n EQUAL 7)
    _gw_restore(_gw_line "${_gw_line}")
    message(FATAL_ERROR "gtest_watchdog_discover_tests(${GW_TARGET}): "
      "unexpected line in the listing of ${GW_EXECUTABLE}: ${_gw_line}")
  endif()
  list(GET _gw_fields 0 _gw_suite)
  list(GET _gw_fields 1 _gw_name)
  list(GET _gw_fields 3 _gw_bound)
  list(GET _gw_fields 4 _gw_type)
  list(GET _gw_fields 5 _gw_value)

  # The names gtest_discover_tests gives: a typed test is
  # "Suite.Name<type>" (or "<index>" with NO_PRETTY_TYPES), a
  # value-parameterised one "Inst/Suite.Name/<value>" (or "/<index>").
  set(_gw_pretty_suite "${_gw_suite}")
  set(_gw_pretty_name "${_gw_name}")
  set(_gw_type_suffix "")
  if(NOT _gw_type STREQUAL "")
    string(REGEX REPLACE "/.*" "" _gw_pretty_suite "${_gw_suite}")
    if(GW_NO_PRETTY_TYPES)
      string(REGEX REPLACE ".*/" "" _gw_type "${_gw_suite}")
    endif()
    set(_gw_type_suffix "<${_gw_type}>")
  endif()
  if(NOT _gw_value STREQUAL "" AND NOT GW_NO_PRETTY_VALUES AND
     _gw_name MATCHES "^(.*)/[0-9]+$")
    set(_gw_pretty_name "${CMAKE_MATCH_1}/${_gw_value}")
  endif()
  string(REGEX REPLACE "^DISABLED_" "" _gw_pretty_suite "${_gw_pretty_suite}")
  string(REGEX REPLACE "^DISABLED_" "" _gw_pretty_name "${_gw_pretty_name}")
  set(_gw_test
    "${_gw_PREFIX}${_gw_pretty_suite}.${_gw_pretty_name}${_gw_type_suffix}${_gw_SUFFIX}")
  set(_gw_gtest_name "${_gw_suite}.${_gw_name}")

  # TIMEOUT: the watchdog's bound plus the margin, unless the user asked for
  # more (or for none: 0). The test is told, so that the watchdog ends the
  # run with its report a margin before CTest would kill it.
  set(_gw_timeout "")
  if(NOT _gw_bound STREQUAL "0")
    _gw_ceil_seconds(_gw_timeout "${_gw_bound}")
    math(EXPR _gw_timeout "${_gw_timeout} + ${GW_TIMEOUT_MARGIN}")
  endif()
  set(_gw_set_timeout "${_gw_timeout}")
  if(NOT _gw_user_timeout STREQUAL "" AND
     (_gw_timeout STREQUAL "" OR _gw_user_timeout EQUAL 0 OR
      _gw_user_timeout GREATER_EQUAL _gw_timeout))
    set(_gw_set_timeout "")  # the user's stands
    set(_gw_timeout "${_gw_user_timeout}")
  endif()
  set(_gw_outer "")
  if(NOT _gw_timeout STREQUAL "" AND NOT _gw_timeout EQUAL 0)
    set(_gw_outer "--gtest_watchdog_outer_timeout=${_gw_timeout}s")
  endif()

  set(_gw_xml "")
  if(NOT _gw_XML_OUTPUT_DIR STREQUAL "")
    set(_gw_xml
      "--gtest_output=xml:${_gw_XML_OUTPUT_DIR}/${_gw_PREFIX}${_gw_gtest_name}${_gw_SUFFIX}.xml")
  endif()
  _gw_command(add_test "${_gw_test}" ${_gw_emulator} "${_gw_EXECUTABLE}"
    "--gtest_filter=${_gw_gtest_name}" --gtest_also_run_disabled_tests
    ${_gw_xml} ${_gw_outer} ${_gw_extra_args})
  # Disabled as GoogleTest decides it: "DISABLED_*" or "*/DISABLED_*",
  # on the suite or the test.
  if(_gw_gtest_name MATCHES "(^|[./])DISABLED_")
    _gw_command(set_tests_properties "${_gw_test}" PROPERTIES DISABLED TRUE)
  endif()
  _gw_command(set_tests_properties "${_gw_test}" PROPERTIES
    WORKING_DIRECTORY "${_gw_WORKING_DIRECTORY}"
    SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]"
    ${_gw_properties})
  if(NOT _gw_set_timeout STREQUAL "")
    _gw_command(set_tests_properties "${_gw_test}" PROPERTIES
      TIMEOUT "${_gw_set_timeout}")
  endif()
  # As gtest_discover_tests: a name with brackets is left out of the list
  # (the test itself is added); a ';' in a name is escaped.
  if(NOT _gw_test MATCHES "${_gw_open}|${_gw_close}")
    string(REPLACE "${_gw_semicolon}" "\\${_gw_semicolon}" _gw_test "${_gw_test}")
    list(APPEND _gw_names "${_gw_test}")
  endif()
endforeach()

_gw_command(set ${GW_TEST_LIST} ${_gw_names})
file(WRITE "${GW_CTEST_FILE}" "${script}")
cmake_policy(POP)
